// SPDX-License-Identifier: MIT
/* Unit tests for the 8254 PIT and port 0x61 (devices/pit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fake_clock.h"
#include "fake_irq.h"
#include "pit/pit.h"

/* Start away from zero so no test relies on tick 0 being special. */
#define START_TICK 5000000ULL

struct env {
	struct fake_clock clk;
	struct fake_timer tm;
	struct fake_irq irq;
	struct pit *pit;
	struct dev *d, *d61;
};

static uint64_t tick_ns(uint64_t tick)
{
	return (uint64_t)(((unsigned __int128)tick * 1000000000ULL + PIT_FREQ_HZ - 1) /
			  PIT_FREQ_HZ);
}

static uint64_t now_tick(struct env *e)
{
	return (uint64_t)((unsigned __int128)e->clk.now * PIT_FREQ_HZ / 1000000000ULL);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	fake_clock_init(&e->clk, tick_ns(START_TICK), 0);
	fake_timer_init(&e->tm, &e->clk);
	fake_irq_init(&e->irq);
	e->pit = pit_create(&e->irq.line, &e->clk.clock, &e->tm.t);
	assert_non_null(e->pit);
	e->d = pit_dev(e->pit);
	e->d61 = pit_port61_dev(e->pit);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	pit_destroy(e->pit);
	free(e);
	return 0;
}

static void outb(struct env *e, uint16_t port, uint8_t v)
{
	if (port == 0x61)
		e->d61->ops->write(e->d61, 0, &v, 1);
	else
		e->d->ops->write(e->d, port - 0x40, &v, 1);
}

static uint8_t inb(struct env *e, uint16_t port)
{
	uint8_t v = 0;
	if (port == 0x61)
		e->d61->ops->read(e->d61, 0, &v, 1);
	else
		e->d->ops->read(e->d, port - 0x40, &v, 1);
	return v;
}

/* Advance the clock to @n ticks after the current tick, firing the timer. */
static void advance(struct env *e, uint64_t n)
{
	fake_clock_advance_to(&e->clk, &e->tm, tick_ns(now_tick(e) + n), 1000000);
}

static void load16(struct env *e, uint16_t port, uint16_t v)
{
	outb(e, port, (uint8_t)v);
	outb(e, port, (uint8_t)(v >> 8));
}

/* Counter latch command, then LSB and MSB. */
static uint16_t latch_read(struct env *e, unsigned ch)
{
	outb(e, 0x43, (uint8_t)(ch << 6));
	uint8_t lo = inb(e, (uint16_t)(0x40 + ch));
	uint8_t hi = inb(e, (uint16_t)(0x40 + ch));
	return (uint16_t)(lo | hi << 8);
}

/* Read-back of status only for one channel. */
static uint8_t status(struct env *e, unsigned ch)
{
	outb(e, 0x43, (uint8_t)(0xe0 | 2u << ch));
	return inb(e, (uint16_t)(0x40 + ch));
}

static void test_mode0_counts_and_fires_once(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x30);			     /* ch0, LSB then MSB, mode 0, binary */
	assert_int_equal(status(e, 0), 0x40 | 0x30); /* OUT low, null count */
	load16(e, 0x40, 1000);
	assert_int_equal(status(e, 0), 0x30); /* OUT low, count loaded */
	assert_int_equal(latch_read(e, 0), 1000);

	advance(e, 400);
	assert_int_equal(latch_read(e, 0), 600);
	assert_int_equal(e->irq.raises, 0);

	advance(e, 599);
	assert_int_equal(latch_read(e, 0), 1);
	assert_int_equal(e->irq.raises, 0);
	assert_false(status(e, 0) & 0x80);

	advance(e, 1);
	assert_int_equal(e->irq.raises, 1);
	assert_false(e->irq.level); /* pulsed */
	assert_true(status(e, 0) & 0x80);
	assert_int_equal(latch_read(e, 0), 0);

	/* The counter wraps and keeps counting; OUT stays high, no new IRQ. */
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 0xffff);
	advance(e, 200000);
	assert_int_equal(e->irq.raises, 1);
	assert_true(status(e, 0) & 0x80);
	assert_false(e->tm.armed);
}

static void test_mode2_periodic_irq_count(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x34); /* what Linux's i8253 clockevent writes */
	load16(e, 0x40, 1193);
	assert_true(e->tm.armed);
	for (unsigned i = 1; i <= 10; i++) {
		advance(e, 1193);
		assert_int_equal(e->irq.raises, i);
	}
	assert_int_equal(e->tm.fired, 10);
	/* Count within a period: n, n-1, ..., 1. */
	assert_int_equal(latch_read(e, 0), 1193);
	advance(e, 1192);
	assert_int_equal(latch_read(e, 0), 1);
	assert_false(status(e, 0) & 0x80); /* OUT low for the last tick */
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 1193);
	assert_true(status(e, 0) & 0x80);
	assert_int_equal(e->irq.raises, 11);

	/* 100 more periods in one go, the timer firing on time each period. */
	advance(e, 1193 * 100);
	assert_int_equal(e->irq.raises, 111);
}

static void test_mode3_square_wave(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x36); /* ch0 mode 3 */
	load16(e, 0x40, 1000);
	assert_int_equal(latch_read(e, 0), 1000);
	advance(e, 100);
	assert_int_equal(latch_read(e, 0), 800); /* decrements by two */
	assert_true(status(e, 0) & 0x80);
	advance(e, 400);
	assert_int_equal(latch_read(e, 0), 1000);
	assert_false(status(e, 0) & 0x80); /* second half: low */
	assert_int_equal(e->irq.raises, 0);
	advance(e, 500);
	assert_true(status(e, 0) & 0x80);
	assert_int_equal(e->irq.raises, 1); /* rising edge at the period end */

	/* Odd count 5: high for 3 ticks, low for 2; loads n-1. */
	outb(e, 0x43, 0x36);
	load16(e, 0x40, 5);
	static const uint16_t count[] = {4, 2, 0, 4, 2, 4, 2, 0, 4, 2};
	static const int out[] = {1, 1, 1, 0, 0, 1, 1, 1, 0, 0};
	for (unsigned i = 0; i < 10; i++) {
		assert_int_equal(latch_read(e, 0), count[i]);
		assert_int_equal(!!(status(e, 0) & 0x80), out[i]);
		advance(e, 1);
	}
}

static void test_latch_holds_value(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x30);
	load16(e, 0x40, 5000);
	advance(e, 10);
	outb(e, 0x43, 0x00); /* latch ch0 */
	advance(e, 100);
	outb(e, 0x43, 0x00); /* ignored: previous latch not read yet */
	assert_int_equal(inb(e, 0x40), (4990 & 0xff));
	advance(e, 100);
	assert_int_equal(inb(e, 0x40), 4990 >> 8);
	/* Latch consumed: live reads now. */
	assert_int_equal(inb(e, 0x40), (4790 & 0xff));
	assert_int_equal(inb(e, 0x40), 4790 >> 8);
	/* A new latch after the old one was read takes a new value. */
	assert_int_equal(latch_read(e, 0), 4790);
}

static void test_readback_count_and_status(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x34); /* ch0 mode 2 binary */
	load16(e, 0x40, 3000);
	uint64_t loaded = now_tick(e);
	outb(e, 0x43, 0x72); /* ch1 LSB then MSB, mode 1, binary */
	outb(e, 0x43, 0xb7); /* ch2 LSB then MSB, mode 3, BCD */
	load16(e, 0x42, 0x0100);
	advance(e, 20);

	/* Count and status of channels 0 and 2 at once. */
	outb(e, 0x43, 0xc0 | 0x02 | 0x08);
	advance(e, 50); /* latched values do not move */
	assert_int_equal(inb(e, 0x40), 0x80 | 0x34);
	assert_int_equal(inb(e, 0x40), (2980 & 0xff));
	assert_int_equal(inb(e, 0x40), 2980 >> 8);
	/* ch2: gate low, counting has not started; count 100 BCD. */
	assert_int_equal(inb(e, 0x42), 0x80 | 0x37);
	assert_int_equal(inb(e, 0x42), 0x00);
	assert_int_equal(inb(e, 0x42), 0x01);

	/* ch1 has no count yet: null count, OUT high (mode 1). */
	assert_int_equal(status(e, 1), 0x80 | 0x40 | 0x32);

	/* Status latched twice: second ignored, first value kept. */
	outb(e, 0x43, 0xe2);
	advance(e, 3000);
	outb(e, 0x43, 0xe2);
	assert_int_equal(inb(e, 0x40), 0x80 | 0x34);

	/* Count-only read-back, then a status-only one: status first. */
	uint64_t before = now_tick(e);
	outb(e, 0x43, 0xd2); /* count of ch0 */
	outb(e, 0x43, 0xe2); /* status of ch0 */
	assert_int_equal(inb(e, 0x40), 0x80 | 0x34);
	uint16_t c = inb(e, 0x40);
	c |= (uint16_t)(inb(e, 0x40) << 8);
	assert_int_equal(before - loaded, 3070);
	assert_int_equal(c, 3000 - 70);
}

static void test_lohi_interrupted_by_latch(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x30);
	load16(e, 0x40, 0x1234);
	advance(e, 0x34);		      /* count 0x1200 */
	assert_int_equal(inb(e, 0x40), 0x00); /* live LSB read */
	advance(e, 0x100);		      /* count 0x1100 */
	outb(e, 0x43, 0x00);		      /* latch between LSB and MSB */
	/* A latched count is read from its LSB. */
	assert_int_equal(inb(e, 0x40), 0x00);
	assert_int_equal(inb(e, 0x40), 0x11);

	/* A latch between the two bytes of a write leaves the write alone. */
	outb(e, 0x40, 0x78);
	outb(e, 0x43, 0x00);
	outb(e, 0x40, 0x56);
	assert_int_equal(inb(e, 0x40), 0x00); /* latched 0x1100 (stopped) */
	assert_int_equal(inb(e, 0x40), 0x11);
	assert_int_equal(latch_read(e, 0), 0x5678);

	/* A control word between the two bytes restarts the sequence. */
	outb(e, 0x40, 0x99);
	outb(e, 0x43, 0x30);
	load16(e, 0x40, 0x0102);
	assert_int_equal(latch_read(e, 0), 0x0102);

	/* ... and drops a latched but unread count. */
	outb(e, 0x43, 0x00);
	outb(e, 0x43, 0x30);
	load16(e, 0x40, 0x0304);
	assert_int_equal(latch_read(e, 0), 0x0304);
}

static void test_lsb_only_and_msb_only(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x10); /* ch0 LSB only, mode 0 */
	outb(e, 0x40, 0x80);
	assert_int_equal(inb(e, 0x40), 0x80);
	assert_int_equal(inb(e, 0x40), 0x80); /* every read is the LSB */
	advance(e, 0x80);
	assert_int_equal(e->irq.raises, 1);

	outb(e, 0x43, 0x20); /* ch0 MSB only */
	outb(e, 0x40, 0x02); /* count 0x200 */
	advance(e, 0x100);
	assert_int_equal(inb(e, 0x40), 0x01);
	outb(e, 0x43, 0x00);
	advance(e, 0x10);
	assert_int_equal(inb(e, 0x40), 0x01); /* latched MSB, then released */
	assert_int_equal(inb(e, 0x40), 0x00);
	assert_int_equal(status(e, 0) & 0x30, 0x20);
}

static void test_count_zero_is_65536(void **state)
{
	struct env *e = *state;

	/* Linux's clockevent shutdown writes exactly this. */
	outb(e, 0x43, 0x30);
	load16(e, 0x40, 0);
	assert_int_equal(latch_read(e, 0), 0);
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 0xffff);
	advance(e, 65534);
	assert_int_equal(latch_read(e, 0), 1);
	assert_int_equal(e->irq.raises, 0);
	advance(e, 1);
	assert_int_equal(e->irq.raises, 1);

	/* Mode 2 count 0: a 65536-tick period. */
	outb(e, 0x43, 0x34);
	load16(e, 0x40, 0);
	advance(e, 65535);
	assert_int_equal(e->irq.raises, 1);
	advance(e, 1);
	assert_int_equal(e->irq.raises, 2);
	advance(e, 65536);
	assert_int_equal(e->irq.raises, 3);
}

static void test_bcd(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x31); /* mode 0, BCD */
	load16(e, 0x40, 0x1000);
	assert_int_equal(latch_read(e, 0), 0x1000);
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 0x0999);
	advance(e, 999);
	assert_int_equal(latch_read(e, 0), 0x0000);
	assert_int_equal(e->irq.raises, 1);
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 0x9999); /* wraps in decades */
	assert_int_equal(status(e, 0), 0x80 | 0x31);

	/* BCD zero is 10000. */
	outb(e, 0x43, 0x31);
	load16(e, 0x40, 0);
	advance(e, 9999);
	assert_int_equal(latch_read(e, 0), 0x0001);
	assert_int_equal(e->irq.raises, 1);
	advance(e, 1);
	assert_int_equal(e->irq.raises, 2);

	/* Invalid digits A-F count as 9: 0x00fa is 99. */
	outb(e, 0x43, 0x31);
	load16(e, 0x40, 0x00fa);
	assert_int_equal(latch_read(e, 0), 0x0099);
	advance(e, 99);
	assert_int_equal(e->irq.raises, 3);
}

/* arch/x86/kernel/tsc.c quick_pit_calibrate() / pit_calibrate_tsc(). */
static void test_port61_linux_calibration(void **state)
{
	struct env *e = *state;

	assert_int_equal(inb(e, 0x61) & 0x23, 0);
	outb(e, 0x61, (uint8_t)((inb(e, 0x61) & ~0x02) | 0x01)); /* gate on, speaker off */
	assert_int_equal(inb(e, 0x61) & 0x03, 0x01);
	outb(e, 0x43, 0xb0); /* ch2, LSB then MSB, mode 0, binary */
	outb(e, 0x42, 0xff);
	outb(e, 0x42, 0xff);
	assert_false(inb(e, 0x61) & 0x20);

	/* Unlatched LSB/MSB reads as Linux's pit_expect_msb() does. */
	advance(e, 0x100);
	(void)inb(e, 0x42);
	assert_int_equal(inb(e, 0x42), 0xfe);
	advance(e, 0xfeff - 1);
	assert_false(inb(e, 0x61) & 0x20);
	advance(e, 1);
	assert_true(inb(e, 0x61) & 0x20);   /* OUT2 high at terminal count */
	assert_int_equal(e->irq.raises, 0); /* channel 2 has no IRQ */
	assert_false(e->tm.armed);

	/* Gate low stops a mode 0 count; gate high resumes it. */
	outb(e, 0x43, 0xb0);
	load16(e, 0x42, 1000);
	advance(e, 100);
	outb(e, 0x61, 0x00);
	assert_int_equal(inb(e, 0x61) & 0x01, 0);
	advance(e, 5000);
	assert_int_equal(latch_read(e, 2), 900);
	assert_false(inb(e, 0x61) & 0x20);
	outb(e, 0x61, 0x01);
	advance(e, 899);
	assert_false(inb(e, 0x61) & 0x20);
	advance(e, 1);
	assert_true(inb(e, 0x61) & 0x20);
}

static void test_port61_bits(void **state)
{
	struct env *e = *state;

	outb(e, 0x61, 0xff); /* only bits 0-1 are writable */
	uint8_t v = inb(e, 0x61);
	assert_int_equal(v & 0xcf, 0x03);
	assert_int_equal(inb(e, 0x61) & 0xcc, 0);

	/* Refresh request toggles with time. */
	uint8_t r0 = inb(e, 0x61) & 0x10;
	fake_clock_advance_to(&e->clk, &e->tm, e->clk.now + 15085, 10);
	assert_int_not_equal(inb(e, 0x61) & 0x10, r0);

	/* Wide accesses use the low byte. */
	uint32_t w = 0xffffff00;
	e->d61->ops->write(e->d61, 0, &w, 4);
	assert_int_equal(inb(e, 0x61) & 0x03, 0);
	w = 0;
	e->d61->ops->read(e->d61, 0, &w, 4);
	assert_int_equal(w & 0xffffff00, 0xffffff00);
}

static void test_coalesce_late_host(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x34);
	load16(e, 0x40, 1193);
	uint64_t start = now_tick(e);
	/* The host does not run the timer for 1000 periods. */
	e->clk.now = tick_ns(start + 1193 * 1000 + 7);
	fake_clock_advance_to(&e->clk, &e->tm, e->clk.now, 1000000);
	assert_int_equal(e->tm.fired, 1);
	assert_int_equal(e->irq.raises, 1); /* one interrupt, no backlog */
	assert_true(e->tm.armed);
	assert_int_equal(e->tm.deadline, tick_ns(start + 1193 * 1001));
	assert_true(e->tm.deadline > e->clk.now);
	advance(e, 1193);
	assert_int_equal(e->irq.raises, 2);

	/* An edge that is due when the guest reprograms still happens once. */
	e->clk.now = tick_ns(now_tick(e) + 1193 * 5);
	outb(e, 0x43, 0x34);
	assert_int_equal(e->irq.raises, 3);
	assert_false(e->tm.armed);
	load16(e, 0x40, 1193);
	assert_int_equal(e->irq.raises, 3);
	assert_true(e->tm.armed);
}

static void test_min_period_clamp(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x34);
	load16(e, 0x40, 2);
	uint64_t start = now_tick(e);
	assert_int_equal(e->tm.deadline, tick_ns(start + PIT_MIN_IRQ_TICKS));
	/* Counts stay exact. */
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 1);
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 2);
	/* About 1 ms: at most one IRQ per clamped period. */
	fake_clock_advance_to(&e->clk, &e->tm, tick_ns(start + 1193), 1000000);
	assert_int_equal(e->irq.raises, 1193 / PIT_MIN_IRQ_TICKS);
	assert_int_equal(e->tm.fired, 1193 / PIT_MIN_IRQ_TICKS);

	/* Count 1 in mode 2 (illegal on the chip): defined, and clamped. */
	outb(e, 0x43, 0x34);
	load16(e, 0x40, 1);
	assert_int_equal(latch_read(e, 0), 1);
	assert_true(status(e, 0) & 0x80);
	unsigned before = e->irq.raises;
	advance(e, PIT_MIN_IRQ_TICKS * 10);
	assert_int_equal(e->irq.raises - before, 10);
}

static void test_modes_6_and_7_alias_2_and_3(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x3c); /* mode bits 110 */
	load16(e, 0x40, 500);
	assert_int_equal(status(e, 0), 0x80 | 0x3c); /* mode reported as written */
	advance(e, 499);
	assert_int_equal(latch_read(e, 0), 1); /* counts like mode 2 */
	advance(e, 1);
	assert_int_equal(latch_read(e, 0), 500);
	advance(e, 500 * 4);
	assert_int_equal(e->irq.raises, 5);

	outb(e, 0x43, 0x3e); /* mode bits 111 */
	load16(e, 0x40, 500);
	assert_int_equal(status(e, 0), 0x80 | 0x3e);
	advance(e, 100);
	assert_int_equal(latch_read(e, 0), 300); /* by two, like mode 3 */
	advance(e, 150);
	assert_false(status(e, 0) & 0x80);
	advance(e, 250);
	assert_int_equal(e->irq.raises, 6);
}

static void test_port43_read_and_wide_access(void **state)
{
	struct env *e = *state;

	assert_int_equal(inb(e, 0x43), 0xff);
	outb(e, 0x43, 0x34);
	assert_int_equal(inb(e, 0x43), 0xff);

	/* 2-byte write to 0x43 uses the low byte only (0x30: ch0 mode 0). */
	uint16_t cw = 0xff30;
	e->d->ops->write(e->d, 3, &cw, 2);
	assert_int_equal(status(e, 0) & 0x3f, 0x30);

	/* 4-byte write to the data port: low byte only, so LSB then MSB. */
	uint32_t v = 0xaabbcc10;
	e->d->ops->write(e->d, 0, &v, 4);
	v = 0xaabbcc20;
	e->d->ops->write(e->d, 0, &v, 4);
	outb(e, 0x43, 0x00);
	uint32_t r = 0;
	e->d->ops->read(e->d, 0, &r, 4);
	assert_int_equal(r, 0xffffff10);
	uint16_t r16 = 0;
	e->d->ops->read(e->d, 0, &r16, 2);
	assert_int_equal(r16, 0xff20);

	/* Offsets outside the window: reads all-ones, writes dropped. */
	uint8_t b = 0;
	e->d->ops->read(e->d, 4, &b, 1);
	assert_int_equal(b, 0xff);
	b = 0x34;
	e->d->ops->write(e->d, 7, &b, 1);
	assert_int_equal(status(e, 0) & 0x3f, 0x30);
	e->d61->ops->read(e->d61, 1, &b, 1);
	assert_int_equal(b, 0xff);
}

/* Linux's one-shot clockevent: mode 4 (0x38), then a delta per event. */
static void test_mode4_oneshot(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x38);
	assert_true(status(e, 0) & 0x80); /* OUT high */
	load16(e, 0x40, 100);
	advance(e, 100);
	assert_false(status(e, 0) & 0x80); /* strobe low for one tick */
	assert_int_equal(e->irq.raises, 0);
	advance(e, 1);
	assert_true(status(e, 0) & 0x80);
	assert_int_equal(e->irq.raises, 1);
	advance(e, 100000);
	assert_int_equal(e->irq.raises, 1);

	/* Next event: just write a new count (no control word). */
	load16(e, 0x40, 50);
	advance(e, 51);
	assert_int_equal(e->irq.raises, 2);

	/* Rewriting before expiry replaces the pending event. */
	load16(e, 0x40, 1000);
	advance(e, 500);
	load16(e, 0x40, 1000);
	advance(e, 999);
	assert_int_equal(e->irq.raises, 2);
	advance(e, 2);
	assert_int_equal(e->irq.raises, 3);
}

static void test_mode2_new_count_at_period_end(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x34);
	load16(e, 0x40, 1000);
	advance(e, 300);
	load16(e, 0x40, 400);		  /* no control word: current period unaffected */
	assert_true(status(e, 0) & 0x40); /* null count until reload */
	assert_int_equal(latch_read(e, 0), 700);
	advance(e, 699);
	assert_int_equal(latch_read(e, 0), 1);
	assert_int_equal(e->irq.raises, 0);
	advance(e, 1);
	assert_int_equal(e->irq.raises, 1);
	assert_int_equal(latch_read(e, 0), 400);
	assert_false(status(e, 0) & 0x40);
	advance(e, 400);
	assert_int_equal(e->irq.raises, 2);
	assert_int_equal(latch_read(e, 0), 400);
}

static void test_mode0_first_byte_stops_counting(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0x30);
	load16(e, 0x40, 1000);
	advance(e, 1000);
	assert_int_equal(e->irq.raises, 1);
	assert_true(status(e, 0) & 0x80);
	outb(e, 0x40, 0x00); /* first byte: stop, OUT low */
	assert_false(status(e, 0) & 0x80);
	uint16_t held = latch_read(e, 0);
	advance(e, 100);
	assert_int_equal(latch_read(e, 0), held);
	outb(e, 0x40, 0x02); /* 0x200 */
	assert_int_equal(latch_read(e, 0), 0x200);
	advance(e, 0x200);
	assert_int_equal(e->irq.raises, 2);
}

static void test_gate_modes_2_and_3(void **state)
{
	struct env *e = *state;

	outb(e, 0x61, 0x01);
	outb(e, 0x43, 0xb4); /* ch2 mode 2 */
	load16(e, 0x42, 100);
	advance(e, 99);
	assert_false(inb(e, 0x61) & 0x20);
	advance(e, 1);
	assert_true(inb(e, 0x61) & 0x20);
	advance(e, 98);	     /* count 2 */
	outb(e, 0x61, 0x00); /* gate low: stop, OUT high */
	advance(e, 1);
	assert_true(inb(e, 0x61) & 0x20);
	assert_int_equal(latch_read(e, 2), 2);
	advance(e, 1000);
	assert_int_equal(latch_read(e, 2), 2);
	outb(e, 0x61, 0x01); /* rising edge reloads */
	assert_int_equal(latch_read(e, 2), 100);
	advance(e, 99);
	assert_false(inb(e, 0x61) & 0x20);

	/* A count written while the gate is low is used at the next rising
	 * edge; with the gate low from the start nothing counts. */
	outb(e, 0x61, 0x00);
	outb(e, 0x43, 0xb6); /* ch2 mode 3 */
	load16(e, 0x42, 10);
	advance(e, 7);
	assert_int_equal(latch_read(e, 2), 10);
	assert_true(inb(e, 0x61) & 0x20);
	load16(e, 0x42, 20);
	outb(e, 0x61, 0x01);
	advance(e, 10);
	assert_false(inb(e, 0x61) & 0x20);
	advance(e, 10);
	assert_true(inb(e, 0x61) & 0x20);
}

static void test_gate_modes_1_and_5(void **state)
{
	struct env *e = *state;

	outb(e, 0x43, 0xb2); /* ch2 mode 1 */
	load16(e, 0x42, 50);
	assert_true(inb(e, 0x61) & 0x20); /* waiting for a trigger */
	assert_true(status(e, 2) & 0x40);
	advance(e, 100);
	assert_true(inb(e, 0x61) & 0x20);
	outb(e, 0x61, 0x01); /* trigger */
	assert_false(inb(e, 0x61) & 0x20);
	assert_false(status(e, 2) & 0x40);
	advance(e, 30);
	assert_int_equal(latch_read(e, 2), 20);
	outb(e, 0x61, 0x00); /* gate low does not stop mode 1 */
	advance(e, 10);
	assert_int_equal(latch_read(e, 2), 10);
	outb(e, 0x61, 0x01); /* retrigger */
	assert_int_equal(latch_read(e, 2), 50);
	advance(e, 50);
	assert_true(inb(e, 0x61) & 0x20);

	outb(e, 0x61, 0x00);
	outb(e, 0x43, 0xba); /* ch2 mode 5 */
	load16(e, 0x42, 20);
	advance(e, 100);
	assert_true(inb(e, 0x61) & 0x20);
	outb(e, 0x61, 0x01);
	advance(e, 20);
	assert_false(inb(e, 0x61) & 0x20); /* strobe */
	advance(e, 1);
	assert_true(inb(e, 0x61) & 0x20);
}

static void test_rapid_reprogramming_one_timer(void **state)
{
	struct env *e = *state;

	for (unsigned i = 0; i < 10000; i++) {
		outb(e, 0x43, (uint8_t)(0x30 | (i % 8) << 1));
		load16(e, 0x40, (uint16_t)i);
		if (e->tm.armed)
			assert_true(e->tm.deadline > e->clk.now);
	}
	advance(e, 100000);
	/* Bounded: the last program can only fire every PIT_MIN_IRQ_TICKS. */
	assert_true(e->irq.raises <= 100000 / PIT_MIN_IRQ_TICKS + 2);
}

static void test_reset_and_destroy_through_ops(void **state)
{
	struct env *e = *state;

	outb(e, 0x61, 0x03);
	outb(e, 0x43, 0x34);
	load16(e, 0x40, 1000);
	assert_true(e->tm.armed);
	e->d->ops->reset(e->d);
	assert_false(e->tm.armed);
	assert_int_equal(inb(e, 0x61) & 0x03, 0);
	assert_int_equal(status(e, 0), 0x40 | 0x30);
	advance(e, 100000);
	assert_int_equal(e->irq.raises, 0);

	struct fake_timer t2;
	fake_timer_init(&t2, &e->clk);
	struct pit *p2 = pit_create(NULL, &e->clk.clock, &t2.t);
	assert_non_null(p2);
	struct dev *d2 = pit_dev(p2);
	uint8_t b = 0x34;
	d2->ops->write(d2, 3, &b, 1); /* no IRQ line: must not crash */
	b = 10;
	d2->ops->write(d2, 0, &b, 1);
	b = 0;
	d2->ops->write(d2, 0, &b, 1);
	fake_clock_advance_to(&e->clk, &t2, e->clk.now + 1000000, 100);
	assert_true(t2.fired > 0);
	d2->ops->destroy(d2);
	assert_null(pit_create(NULL, NULL, &t2.t));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode0_counts_and_fires_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode2_periodic_irq_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode3_square_wave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latch_holds_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readback_count_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lohi_interrupted_by_latch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsb_only_and_msb_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_count_zero_is_65536, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bcd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port61_linux_calibration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port61_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_coalesce_late_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_min_period_clamp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes_6_and_7_alias_2_and_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port43_read_and_wide_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode4_oneshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode2_new_count_at_period_end, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mode0_first_byte_stops_counting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gate_modes_2_and_3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gate_modes_1_and_5, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rapid_reprogramming_one_timer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_destroy_through_ops, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
