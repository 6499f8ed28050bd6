/* SPDX-License-Identifier: MIT */
/*
 * i8042 keyboard controller: data port 0x60 and status/command port 0x64,
 * each a window of 1 (port 0x61 between them belongs to the PIT). Keyboard
 * on IRQ 1, aux (mouse) on IRQ 12. Output buffer bounded (16 bytes).
 * Command 0xFE (and other pulses of the reset line) calls @reset.
 */
#ifndef HOSTEL_I8042_H
#define HOSTEL_I8042_H

#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "hostel/irq.h"

struct i8042;

struct i8042 *i8042_create(struct irq_line *kbd_irq, struct irq_line *aux_irq,
			   void (*reset)(void *opaque), void *opaque) __must_check;
void i8042_destroy(struct i8042 *k);
struct dev *i8042_data_dev(struct i8042 *k); /* port 0x60 */
struct dev *i8042_cmd_dev(struct i8042 *k);  /* port 0x64 */

/* Host input (later: SDL): queue keyboard scancode bytes (set 2, untranslated). */
void i8042_kbd_bytes(struct i8042 *k, const uint8_t *bytes, size_t len);

#endif
