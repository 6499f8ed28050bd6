/* SPDX-License-Identifier: MIT */
/*
 * The serial console's host side. Output: the UART writes into a bounded
 * ring; a writer thread drains it to stdout or a file, so a slow or stopped
 * consumer never blocks a vCPU (overflow is dropped and counted). Input:
 * stdin, in raw mode when it is a terminal (restored on every exit path), fed
 * to the UART as its FIFO has room. Ctrl-A x quits; Ctrl-A Ctrl-A sends
 * Ctrl-A; Ctrl-A h prints help.
 */
#ifndef HOSTEL_CONSOLE_H
#define HOSTEL_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/chardev.h"
#include "hostel/compiler.h"

struct evloop;
struct uart;

enum console_mode { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };

struct console;

struct console_opts {
	enum console_mode mode;
	const char *path;     /* CONSOLE_FILE: the file */
	const char *log_path; /* if set: a full transcript, whatever the mode */
	/* If set: each output line (without \r\n; over-long lines in pieces of
	 * 1024 bytes) on the console's writer thread, in order. */
	void (*line_fn)(void *opaque, const char *line);
	void *line_opaque;
	/* If set: the output bytes as they come, on the writer thread, each
	 * piece before its lines go to @line_fn (opaque: @line_opaque). */
	void (*bytes_fn)(void *opaque, const uint8_t *buf, size_t len);
};

struct console *console_create(const struct console_opts *o, char *why, size_t whylen) __must_check;
/* Host clock (clock_host()) at the guest's first output byte, 0 if none yet. */
uint64_t console_first_byte_ns(struct console *c);
/* Host clock at the guest's latest output byte, 0 if none yet. */
uint64_t console_last_byte_ns(struct console *c);
/*
 * Wait (at most @ms) until the writer thread has handed every byte written
 * so far to the line and bytes watchers. True if it has.
 */
bool console_sync(struct console *c, unsigned int ms);
/*
 * Start reading input (stdio mode) into @uart; @quit is called on Ctrl-A x.
 * The terminal goes raw at the first attach and stays so across reboots.
 */
int console_attach(struct console *c, struct evloop *el, struct uart *uart, void (*quit)(void *),
		   void *opaque) __must_check;
/* Stop feeding input (before the event loop or the UART goes away). */
void console_detach(struct console *c);
/* Copy the last @n lines of console output (NUL-terminated) into @buf. */
size_t console_tail(struct console *c, unsigned int n, char *buf, size_t len);
struct byte_sink *console_sink(struct console *c);
/* Write out what is buffered (bounded wait), restore the terminal, free. */
void console_destroy(struct console *c);
uint64_t console_dropped(struct console *c);

/* Restore the terminal; async-signal-safe, for fatal signal handlers. */
void console_restore_terminal(void);

#endif
