// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for devices/i8042: random port reads and writes,
 * controller and device commands, host keyboard bytes, host mouse motion
 * and resets.
 *
 * Input: a stream of operations, each an opcode byte and its operands
 * (opcodes 0xF0-0xFF: mouse motion, dx/dy/wheel/buttons bytes shifted
 * left by the low nibble; others: op % 10).
 * Checked after every operation: the status register never shows IBF,
 * timeout or parity; an IRQ line is high only while the output buffer holds
 * a byte from its source; the reset callback is never nested. At the end the
 * output buffer must drain within the bound set by the FIFOs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "fake_irq.h"
#include "hostel/log.h"
#include "i8042/i8042.h"

#define STR_OBF	    0x01
#define STR_IBF	    0x02
#define STR_AUXDATA 0x20
#define STR_BAD	    0xC0 /* timeout and parity: never set by this model */

struct ctx {
	struct i8042 *k;
	struct fake_irq irq1, irq12;
	unsigned int depth, resets;
	bool reenter;
	bool moved; /* host mouse motion may wait behind the FIFO */
};

static void wr(struct i8042 *k, bool cmd, uint8_t v)
{
	struct dev *d = cmd ? i8042_cmd_dev(k) : i8042_data_dev(k);
	d->ops->write(d, 0, &v, 1);
}

static uint8_t rd(struct i8042 *k, bool cmd)
{
	struct dev *d = cmd ? i8042_cmd_dev(k) : i8042_data_dev(k);
	uint8_t v;
	d->ops->read(d, 0, &v, 1);
	return v;
}

static void on_reset(void *opaque)
{
	struct ctx *c = opaque;

	if (++c->depth > 1)
		abort(); /* the callback must never be nested */
	c->resets++;
	if (c->reenter)
		wr(c->k, true, 0xFE); /* must be dropped, not recurse */
	c->depth--;
}

static void check(struct ctx *c)
{
	uint8_t st = rd(c->k, true);

	if (st & (STR_IBF | STR_BAD))
		abort();
	if (c->irq1.level && (!(st & STR_OBF) || (st & STR_AUXDATA)))
		abort();
	if (c->irq12.level && (!(st & STR_OBF) || !(st & STR_AUXDATA)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = {0};
	size_t i = 0;

	log_set_level(LOG_ERROR);
	fake_irq_init(&c.irq1);
	fake_irq_init(&c.irq12);
	c.k = i8042_create(&c.irq1.line, &c.irq12.line, on_reset, &c);
	if (!c.k)
		return 0;

	while (i < size) {
		uint8_t op = data[i++];
		uint8_t arg = i < size ? data[i] : 0;

		if (op >= 0xF0) { /* host mouse motion, up to huge values */
			int8_t m[4] = {0};
			for (int j = 0; j < 4 && i < size; j++)
				m[j] = (int8_t)data[i++];
			unsigned int sh = op & 0x0F;
			i8042_aux_motion(c.k, (int32_t)((uint32_t)m[0] << sh),
					 (int32_t)((uint32_t)m[1] << sh),
					 (int32_t)((uint32_t)m[2] << sh), (uint8_t)m[3]);
			c.moved = true;
			check(&c);
			continue;
		}
		switch (op % 10) {
		case 0:
			(void)rd(c.k, false);
			break;
		case 1:
			(void)rd(c.k, true);
			break;
		case 2:
			wr(c.k, false, arg);
			i++;
			break;
		case 3:
			wr(c.k, true, arg);
			i++;
			break;
		case 4: { /* host keyboard bytes */
			size_t n = arg % 40;
			if (++i > size)
				i = size;
			if (n > size - i)
				n = size - i;
			i8042_kbd_bytes(c.k, data + i, n);
			i += n;
			break;
		}
		case 5: /* mouse traffic */
			wr(c.k, true, 0xD4);
			wr(c.k, false, arg);
			i++;
			break;
		case 6: { /* odd widths and offsets, as a buggy bus might send */
			uint8_t buf[8] = {arg, arg, arg, arg, arg, arg, arg, arg};
			unsigned len = 1 + arg % 8;
			struct dev *d = (arg & 0x80) ? i8042_cmd_dev(c.k) : i8042_data_dev(c.k);
			uint64_t off = (arg >> 3) & 1;
			if (arg & 0x40)
				d->ops->read(d, off, buf, len);
			else
				d->ops->write(d, off, buf, len);
			i++;
			break;
		}
		case 7:
			i8042_data_dev(c.k)->ops->reset(i8042_data_dev(c.k));
			break;
		case 8:
			c.reenter = !c.reenter;
			break;
		case 9: { /* statistics and LEDs are readable at any time */
			struct i8042_stats st;
			i8042_get_stats(c.k, &st);
			(void)i8042_kbd_leds(c.k);
			if (st.resets < c.resets)
				abort();
			break;
		}
		}
		check(&c);
	}

	/*
	 * Drain: one byte in the OB plus at most 16 per FIFO (controller, kbd,
	 * aux); after host motion, also the packets of up to 16 waiting reports
	 * of at most 65535 counts per axis, in steps of 127 or more, 4 bytes each.
	 */
	unsigned n = 0, bound = 1 + 3 * 16 + (c.moved ? 16 * (65535 / 127 + 2) * 4 : 0);
	while (rd(c.k, true) & STR_OBF) {
		(void)rd(c.k, false);
		if (++n > bound)
			abort();
	}
	if (c.irq1.level || c.irq12.level)
		abort();
	i8042_destroy(c.k);
	return 0;
}
