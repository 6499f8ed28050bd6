// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for devices/rtc: random index/data accesses of every
 * width (any index, including the NMI bit; any value, including invalid BCD
 * and the fastest periodic rate), interleaved with clock advances of up to
 * a few days and resets.
 *
 * Input: a stream of operations, each an opcode byte and its operands.
 * Checked after every operation: an armed timer's deadline lies in the
 * future and the timer is idle while IRQ 8 is high (one pending interrupt
 * at most); during a clock advance the timer fires at most once and every
 * expiry raises the IRQ (no useless wake-ups); while the calendar runs its
 * registers hold valid values in the current mode.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "fake_clock.h"
#include "fake_irq.h"
#include "hostel/log.h"
#include "rtc/rtc.h"

struct ctx {
	struct fake_clock clk;
	struct fake_timer tm;
	struct fake_irq irq;
	struct rtc *rtc;
	struct dev *d;
	uint8_t index; /* last value written to the index port */
};

static void outb(struct ctx *c, uint64_t off, uint8_t v)
{
	c->d->ops->write(c->d, off, &v, 1);
}

static uint8_t inb(struct ctx *c, uint64_t off)
{
	uint8_t v;
	c->d->ops->read(c->d, off, &v, 1);
	return v;
}

static uint8_t reg(struct ctx *c, uint8_t idx)
{
	outb(c, 0, idx);
	return inb(c, 1);
}

static bool bcd_ok(uint8_t v, unsigned max)
{
	return (v & 0xf) <= 9 && (v >> 4) <= 9 && (v >> 4) * 10 + (v & 0xf) <= max;
}

/* A field that must read as 0..max (or lo..max) in the current mode. */
static void field_ok(uint8_t v, bool binary, unsigned lo, unsigned max)
{
	unsigned x = binary ? v : (unsigned)((v >> 4) * 10 + (v & 0xf));
	if (!binary && !bcd_ok(v, max))
		abort();
	if (x < lo || x > max)
		abort();
}

static void check(struct ctx *c)
{
	if (c->tm.armed && c->tm.deadline <= c->clk.now)
		abort();
	if (c->tm.armed && c->irq.level)
		abort();

	/* Registers A and B and the clock registers read without side
	 * effects; the index is restored afterwards. */
	uint8_t a = reg(c, 0x0a), b = reg(c, 0x0b);
	if (!(b & 0x80) && (a & 0x60) != 0x60) {
		bool bin = b & 0x04;
		field_ok(reg(c, 0x00), bin, 0, 59);
		field_ok(reg(c, 0x02), bin, 0, 59);
		uint8_t h = reg(c, 0x04);
		if (b & 0x02)
			field_ok(h, bin, 0, 23);
		else
			field_ok(h & 0x7f, bin, 1, 12);
		field_ok(reg(c, 0x06), bin, 1, 7);
		field_ok(reg(c, 0x07), bin, 1, 31);
		field_ok(reg(c, 0x08), bin, 1, 12);
		field_ok(reg(c, 0x09), bin, 0, 99);
		field_ok(reg(c, 0x32), bin, 0, 99);
	}
	if (reg(c, 0x0d) != 0x80)
		abort();
	outb(c, 0, c->index);
}

static void advance(struct ctx *c, uint64_t ns)
{
	unsigned fired = c->tm.fired, raises = c->irq.raises;

	fake_clock_advance_to(&c->clk, &c->tm, c->clk.now + ns, 1000);
	fired = c->tm.fired - fired;
	raises = c->irq.raises - raises;
	if (fired > 1 || fired != raises)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[4] = {1, 2, 4, 8};
	struct ctx c = {0};
	size_t i = 0;

	log_set_level(LOG_ERROR);
	/* Wall time from the first bytes: any ns in about +-68 years. */
	uint64_t w = 0;
	for (unsigned k = 0; k < 8 && i < size; k++)
		w = w << 8 | data[i++];
	fake_clock_init(&c.clk, 1000000000ULL, (int64_t)(w >> 2) - ((int64_t)1 << 61));
	fake_timer_init(&c.tm, &c.clk);
	fake_irq_init(&c.irq);
	c.rtc = rtc_create(&c.irq.line, &c.clk.clock, &c.tm.t);
	if (!c.rtc)
		return 0;
	c.d = rtc_dev(c.rtc);

	while (i < size) {
		uint8_t op = data[i++];
		uint8_t a = i < size ? data[i++] : 0;
		uint64_t buf = 0;

		switch (op & 7) {
		case 0:
			outb(&c, 0, a);
			c.index = a;
			break;
		case 1:
			outb(&c, 1, a);
			break;
		case 2:
			(void)inb(&c, 1);
			break;
		case 3:
			(void)inb(&c, 0);
			break;
		case 4: /* advance the clock by a << (0..41) ns: up to ~6 days */
		case 5:
			/* Keep wall time representable (under 2^61 ns of advances). */
			if (c.clk.now < (1ULL << 61))
				advance(&c, (uint64_t)a << ((op >> 3) * 4 / 3));
			break;
		case 6: /* select a register and write it */
			outb(&c, 0, a);
			c.index = a;
			outb(&c, 1, i < size ? data[i++] : 0);
			break;
		default:
			if (op & 8) {
				c.d->ops->reset(c.d);
				c.index = 0;
			} else {
				/* Any width at any offset, in or out of the window. */
				unsigned len = widths[(op >> 4) & 3];
				uint64_t off = (op >> 6) & 3;
				buf = a;
				if (op & 0x20)
					c.d->ops->write(c.d, off, &buf, len);
				else
					c.d->ops->read(c.d, off, &buf, len);
				if ((op & 0x20) && off == 0)
					c.index = a;
			}
			break;
		}
		check(&c);
	}
	advance(&c, 3ULL * 86400 * 1000000000ULL);
	check(&c);
	c.d->ops->destroy(c.d);
	return 0;
}
