/* SPDX-License-Identifier: MIT */
/*
 * i8042 keyboard controller: data port 0x60 and status/command port 0x64,
 * each a window of 1 (port 0x61 between them belongs to the PIT). Keyboard
 * on IRQ 1, aux (mouse) on IRQ 12. Output buffer bounded (16 bytes).
 * Command 0xFE (and other pulses of the reset line) calls @reset.
 *
 * Behind the controller sit a PS/2 keyboard and a PS/2 mouse that answer
 * the usual device commands; the mouse never moves yet.
 */
#ifndef HOSTEL_I8042_H
#define HOSTEL_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "hostel/irq.h"

struct i8042;

/*
 * @reset runs without the controller's lock held, at most once per command
 * and never nested (a reset requested from inside @reset is dropped). It may
 * be NULL.
 */
struct i8042 *i8042_create(struct irq_line *kbd_irq, struct irq_line *aux_irq,
			   void (*reset)(void *opaque), void *opaque) __must_check;
void i8042_destroy(struct i8042 *k);
struct dev *i8042_data_dev(struct i8042 *k); /* port 0x60 */
struct dev *i8042_cmd_dev(struct i8042 *k);  /* port 0x64 */

/* Back to power-on state (both dev_ops.reset hooks call this). */
void i8042_reset(struct i8042 *k);

/* Host input (later: SDL): queue keyboard scancode bytes (set 2, untranslated). */
void i8042_kbd_bytes(struct i8042 *k, const uint8_t *bytes, size_t len);

/* The keyboard LED state last set by the guest (bit 0 scroll, 1 num, 2 caps). */
uint8_t i8042_kbd_leds(struct i8042 *k);

struct i8042_stats {
	uint64_t unknown_cmds;	       /* controller commands ignored */
	uint64_t unknown_kbd_cmds;     /* keyboard commands answered with 0xFE */
	uint64_t unknown_aux_cmds;     /* mouse commands answered with 0xFE */
	uint64_t kbd_dropped;	       /* keyboard FIFO full */
	uint64_t aux_dropped;	       /* mouse FIFO full */
	uint64_t ctl_dropped;	       /* controller response queue full */
	uint64_t kbd_disabled_dropped; /* host bytes while scanning is off */
	uint64_t resets;	       /* reset-line pulses seen */
};

void i8042_get_stats(struct i8042 *k, struct i8042_stats *st);

/*
 * The 8042's scancode translation (XLATE, command byte bit 6): one set-2
 * byte in, its set-1 equivalent out. 0xF0 is not handled here.
 */
uint8_t i8042_set2_to_set1(uint8_t code);

/*
 * The translation as a byte stream: 0xF0 (break prefix) produces nothing and
 * sets *brk; the next byte comes out translated and ORed with 0x80. Returns
 * true and sets *out when a byte comes out.
 */
bool i8042_translate(uint8_t in, bool *brk, uint8_t *out);

#endif
