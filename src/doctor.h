/* SPDX-License-Identifier: MIT */
/*
 * The boot doctor: reads the guest's serial console as it comes and, when
 * the boot stops at a known stage (no root device, no init, init died, out
 * of memory) or goes silent, says in one or two lines what is likely wrong
 * and how to fix it. Pure: no clock, no I/O, no allocation; the caller
 * feeds bytes, tells it how long the guest has been silent, and prints.
 *
 * The console is guest-controlled: any bytes, any line length. Lines are
 * cut to DOCTOR_LINE_MAX bytes, control and non-ASCII bytes never reach the
 * diagnosis (they become '?', escape sequences are dropped).
 */
#ifndef HOSTEL_DOCTOR_H
#define HOSTEL_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DOCTOR_LINE_MAX 256 /* bytes of a console line kept */
#define DOCTOR_TEXT_MAX 768 /* a diagnosis: at most two lines, '\n' between */

/* What hostel knows about the machine it booted. */
struct doctor_facts {
	const char *cmdline;   /* the final kernel command line (NULL: none) */
	unsigned int nr_disks; /* virtio-blk disks: vda, vdb, ... */
	bool have_initrd;
	bool exec;	     /* hostel exec (init runs the command) */
	uint64_t memory_mib; /* guest RAM; 0: unknown */
};

enum doctor_stage {
	DOCTOR_NONE,
	DOCTOR_ROOT_WAIT,    /* "Waiting for root device": only a lasting one matters */
	DOCTOR_ROOT_MISSING, /* no root device: VFS panic, Debian's "ALERT! ... does not exist" */
	DOCTOR_ROOT_UNMOUNTABLE, /* a root device, but no filesystem the kernel can mount */
	DOCTOR_NO_INIT,		 /* init= failed, or no working init found */
	DOCTOR_INIT_DIED,	 /* "Attempted to kill init!" */
	DOCTOR_OOM,		 /* out of memory with nothing to kill */
};

struct doctor {
	/* From the facts, read once. */
	char root[96], init[96], rdinit[96], console_last[48];
	bool have_root, have_init, have_rdinit, have_console, serial_console, quiet;
	unsigned int nr_disks;
	bool have_initrd, exec;
	uint64_t memory_mib;

	/* The console so far. */
	uint64_t bytes;			/* bytes fed (this boot) */
	char line[DOCTOR_LINE_MAX + 1]; /* the line being assembled, sanitised */
	size_t line_len;
	int esc;			/* 0: text; 1: after ESC; 2: inside a CSI sequence */
	char last[DOCTOR_LINE_MAX + 1]; /* the last complete non-empty line */
	bool up;			/* the guest reached userspace and said so */

	enum doctor_stage stage;
	char stage_arg[64];   /* the device, init path or exit code the kernel named */
	int stage_err;	      /* error number the kernel gave (0: none) */
	char failed_init[64]; /* "Failed to execute X (error N)": X */
	int failed_err;
	bool initramfs_failed; /* "Initramfs unpacking failed" */
};

/* Start over (a new boot) with the machine's @f. */
void doctor_init(struct doctor *d, const struct doctor_facts *f);

/* Console output as it came, in pieces of any size. */
void doctor_feed(struct doctor *d, const void *buf, size_t len);

/* The guest is up (a --ready line matched): silence is no longer a boot problem. */
void doctor_mark_up(struct doctor *d);

/*
 * The guest has printed nothing for @silent_ms (of wall time). Writes a
 * diagnosis (lines without a prefix, '\n' between them) into @out and
 * returns true, or returns false when silence means nothing here (a guest
 * that is up and idle at a prompt).
 */
bool doctor_silence(const struct doctor *d, uint64_t silent_ms, char *out, size_t len);

/* The guest stopped (a panic, a timeout): the diagnosis of a known stage, if any. */
bool doctor_stopped(const struct doctor *d, char *out, size_t len);

#endif
