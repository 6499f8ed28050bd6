/* SPDX-License-Identifier: MIT */
/*
 * i8042 keyboard controller: data port 0x60 and status/command port 0x64,
 * each a window of 1 (port 0x61 between them belongs to the PIT). Keyboard
 * on IRQ 1, aux (mouse) on IRQ 12. Output buffer bounded (16 bytes).
 * Command 0xFE (and other pulses of the reset line) calls @reset.
 *
 * Behind the controller sit a PS/2 keyboard and a PS/2 mouse that answer
 * the usual device commands. The mouse moves with i8042_aux_motion.
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

/*
 * Host input: relative pointer motion. @dx, @dy in screen directions (x
 * right, y down), @wheel > 0 scrolls up (away from the user), @buttons a
 * mask of DISPLAY_BTN_LEFT/RIGHT/MIDDLE (bits 0-2; others ignored).
 *
 * Host motion is counted at 8 counts/mm: at the resolution the guest set
 * (0xE8: 1, 2, 4, 8 counts/mm) it is divided accordingly, the remainder
 * kept for the next call.
 *  - Stream mode (0xEA, the default) with data reporting enabled (0xF4):
 *    packets of 3 bytes, or 4 (wheel byte, -8..7) once the guest enabled
 *    the IntelliMouse mode with sample rates 200, 100, 80 (0xF2 then
 *    answers 3). A large motion is split into several packets of at most
 *    255 counts per axis (127 under 2:1 scaling, 0xE7, which then doubles
 *    it), so the overflow bits stay clear; a button change always makes a
 *    packet, even without motion. Packets fill the mouse FIFO up to 12
 *    bytes (a command reply always fits behind them); the rest waits, in
 *    order, and moves up as the guest reads (up to 16 waiting reports;
 *    beyond that, new motion is merged into the last one).
 *  - Remote mode (0xF0): motion adds up in counters that 0xEB reads (one
 *    packet, no scaling, overflow bits set and value clamped past
 *    -256..255) and clears.
 *  - Stream mode with reporting disabled, or wrap mode: dropped (counted).
 * Mode changes, 0xF4, 0xF5, 0xF6 and 0xFF forget motion not yet sent.
 */
void i8042_aux_motion(struct i8042 *k, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons);

/*
 * Make the keyboard and mouse @d's input sinks: display_input_key feeds
 * i8042_kbd_bytes, display_input_rel feeds i8042_aux_motion; absolute
 * pointer events have no sink. Replaces sinks set before: to have the
 * virtio tablet too, use input_attach_display (virtio/input/input.h).
 */
struct display;
void i8042_attach_display(struct i8042 *k, struct display *d);

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
	uint64_t aux_packets;	       /* stream packets queued */
	uint64_t aux_idle_dropped;     /* host motion while reporting is off (or wrap mode) */
	uint64_t aux_merged;	       /* reports merged into another: waiting queue full */
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
