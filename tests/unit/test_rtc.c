// SPDX-License-Identifier: MIT
/* Unit tests for the MC146818 RTC/CMOS (devices/rtc). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fake_clock.h"
#include "fake_irq.h"
#include "hostel/log.h"
#include "rtc/rtc.h"

#define NS    1000000000LL
#define MONO0 (7 * NS) /* monotonic time at the start of each test */
/* 2024-02-29 13:45:56.000 UTC, a Thursday. */
#define WALL0	    1709214356LL
#define PERIOD_1024 976563ULL /* 1/1024 s, rounded up */

struct env {
	struct fake_clock clk;
	struct fake_timer tm;
	struct fake_irq irq;
	struct rtc *rtc;
	struct dev *d;
};

/* Start the fake wall clock at WALL0 + @frac_ns. */
static void env_init(struct env *e, int64_t frac_ns)
{
	fake_clock_init(&e->clk, MONO0, WALL0 * NS + frac_ns - MONO0);
	fake_timer_init(&e->tm, &e->clk);
	fake_irq_init(&e->irq);
	e->rtc = rtc_create(&e->irq.line, &e->clk.clock, &e->tm.t);
	assert_non_null(e->rtc);
	e->d = rtc_dev(e->rtc);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	env_init(e, 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	rtc_destroy(e->rtc);
	free(e);
	return 0;
}

static void outb(struct env *e, uint16_t port, uint8_t v)
{
	e->d->ops->write(e->d, port - 0x70, &v, 1);
}

static uint8_t inb(struct env *e, uint16_t port)
{
	uint8_t v = 0;
	e->d->ops->read(e->d, port - 0x70, &v, 1);
	return v;
}

static uint8_t cmos_read(struct env *e, uint8_t idx)
{
	outb(e, 0x70, idx);
	return inb(e, 0x71);
}

static void cmos_write(struct env *e, uint8_t idx, uint8_t v)
{
	outb(e, 0x70, idx);
	outb(e, 0x71, v);
}

static void advance(struct env *e, uint64_t ns)
{
	fake_clock_advance_to(&e->clk, &e->tm, e->clk.now + ns, 1000000);
}

static void expect_time(struct env *e, const uint8_t want[8])
{
	static const uint8_t regs[8] = {0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, 0x32};
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(cmos_read(e, regs[i]), want[i]);
}

static void test_time_bcd(void **state)
{
	struct env *e = *state;

	assert_int_equal(cmos_read(e, 0x0a), 0x26);
	assert_int_equal(cmos_read(e, 0x0b), 0x02);
	assert_int_equal(cmos_read(e, 0x0d), 0x80);
	/* sec min hour wday mday mon year century */
	expect_time(e, (const uint8_t[]){0x56, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20});
	advance(e, 5 * NS);
	expect_time(e, (const uint8_t[]){0x01, 0x46, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20});
	/* Leap day rolls into March. */
	advance(e, (10 * 3600 + 14 * 60) * NS);
	expect_time(e, (const uint8_t[]){0x01, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20});
}

static void test_time_binary(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x06); /* binary, 24-hour */
	expect_time(e, (const uint8_t[]){56, 45, 13, 5, 29, 2, 24, 20});
}

static void test_time_12h(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x00);		    /* BCD, 12-hour */
	assert_int_equal(cmos_read(e, 0x04), 0x81); /* 1 PM */
	cmos_write(e, 0x0b, 0x04);		    /* binary, 12-hour */
	assert_int_equal(cmos_read(e, 0x04), 0x81);

	/* Noon and midnight are 12 with and without the PM bit. */
	advance(e, (10 * 3600 + 14 * 60 + 4) * NS); /* 00:00:00 */
	assert_int_equal(cmos_read(e, 0x04), 12);
	advance(e, 12 * 3600 * NS); /* 12:00:00 */
	assert_int_equal(cmos_read(e, 0x04), 0x80 | 12);
	cmos_write(e, 0x0b, 0x00);
	assert_int_equal(cmos_read(e, 0x04), 0x92);
	advance(e, 11 * 3600 * NS); /* 23:00 */
	assert_int_equal(cmos_read(e, 0x04), 0x91);
}

static void test_index_masking_and_nvram(void **state)
{
	struct env *e = *state;

	outb(e, 0x70, 0x80); /* NMI mask bit + seconds */
	assert_int_equal(inb(e, 0x71), 0x56);
	cmos_write(e, 0x8e, 0xa5); /* lands on 0x0e */
	assert_int_equal(cmos_read(e, 0x0e), 0xa5);
	cmos_write(e, 0x7f, 0x5a);
	assert_int_equal(cmos_read(e, 0xff), 0x5a);
	assert_int_equal(inb(e, 0x70), 0xff); /* index port is write-only */

	rtc_cmos_set(e->rtc, 0x34, 0x12);
	rtc_cmos_set(e->rtc, 0xb5, 0x34); /* masked to 0x35 */
	assert_int_equal(cmos_read(e, 0x34), 0x12);
	assert_int_equal(cmos_read(e, 0x35), 0x34);
	rtc_cmos_set(e->rtc, 0x0b, 0xff); /* the RTC's own: ignored */
	rtc_cmos_set(e->rtc, 0x32, 0x19);
	assert_int_equal(cmos_read(e, 0x0b), 0x02);
	assert_int_equal(cmos_read(e, 0x32), 0x20);

	/* Wide accesses use the low byte; other bytes read 0xff. */
	uint32_t w = 0xffffff00;
	e->d->ops->write(e->d, 0, &w, 4);
	w = 0;
	e->d->ops->read(e->d, 1, &w, 4);
	assert_int_equal(w, 0xffffff56);
	uint8_t b = 0;
	e->d->ops->read(e->d, 2, &b, 1); /* outside the window */
	assert_int_equal(b, 0xff);
}

static void test_reg_c_cleared_on_read_lowers_irq(void **state)
{
	struct env *e = *state;

	assert_int_equal(cmos_read(e, 0x0c), 0x00);
	cmos_write(e, 0x0b, 0x42); /* PIE */
	assert_true(e->tm.armed);
	advance(e, PERIOD_1024 - 1000);
	assert_false(e->irq.level);
	advance(e, 1000);
	assert_true(e->irq.level);
	assert_int_equal(e->irq.raises, 1);
	assert_int_equal(cmos_read(e, 0x0c), 0xc0); /* IRQF | PF */
	assert_false(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0c), 0x00);

	/* Flags are set even with the interrupt disabled, and IRQF follows
	 * the enable: enabling with PF pending raises at once. */
	cmos_write(e, 0x0b, 0x02);
	advance(e, 10 * PERIOD_1024);
	assert_false(e->irq.level);
	cmos_write(e, 0x0b, 0x42);
	assert_true(e->irq.level);
	cmos_write(e, 0x0b, 0x02); /* disabling drops IRQF and the line */
	assert_false(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0c), 0x40);
}

static void test_readonly_registers(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0d, 0x00);
	assert_int_equal(cmos_read(e, 0x0d), 0x80);
	cmos_write(e, 0x0c, 0xff);
	assert_int_equal(cmos_read(e, 0x0c), 0x00);
	assert_false(e->irq.level);
	/* The UIP bit of register A is read-only. */
	cmos_write(e, 0x0a, 0xa6);
	assert_int_equal(cmos_read(e, 0x0a), 0x26);
	cmos_write(e, 0x0a, 0x2f);
	assert_int_equal(cmos_read(e, 0x0a), 0x2f);
}

static void test_uip_window(void **state)
{
	struct env *e = *state;

	/* .000: clear; up to 244 us before the second: clear; then set. */
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0);
	advance(e, NS - 244001);
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0);
	assert_int_equal(cmos_read(e, 0x00), 0x56);
	advance(e, 1);
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0x80);
	assert_int_equal(cmos_read(e, 0x00), 0x56);
	advance(e, 243999);
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0x80);
	advance(e, 1); /* the update: never stuck */
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0);
	assert_int_equal(cmos_read(e, 0x00), 0x57);

	/* SET clears UIP. */
	advance(e, NS - 100000);
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0x80);
	cmos_write(e, 0x0b, 0x82);
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0);
}

static void test_periodic_rate(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x42);
	/* The guest acknowledges each interrupt: 1024 per second. */
	for (unsigned i = 0; i < 1024; i++) {
		while (!e->irq.level)
			advance(e, e->tm.deadline - e->clk.now);
		assert_int_equal(cmos_read(e, 0x0c) & 0xc0, 0xc0);
	}
	assert_int_equal(e->irq.raises, 1024);
	assert_int_equal(e->tm.fired, 1024);
	assert_true(e->clk.now - MONO0 <= (uint64_t)NS);
	assert_true(e->clk.now - MONO0 > (uint64_t)NS - PERIOD_1024);

	/* 2 Hz (RS = 15). */
	cmos_write(e, 0x0a, 0x2f);
	(void)cmos_read(e, 0x0c);
	unsigned before = e->irq.raises;
	for (unsigned i = 0; i < 4; i++) {
		advance(e, NS / 2);
		assert_int_equal(cmos_read(e, 0x0c) & 0xc0, 0xc0);
	}
	assert_int_equal(e->irq.raises - before, 4);
}

static void test_periodic_coalescing(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x42);
	advance(e, PERIOD_1024);
	assert_int_equal(e->irq.raises, 1);
	/* While IRQ 8 is high the timer is idle: nothing can queue up. */
	assert_false(e->tm.armed);
	unsigned fired = e->tm.fired;
	advance(e, 10 * NS);
	assert_int_equal(e->tm.fired, fired);
	assert_int_equal(e->irq.raises, 1);
	assert_true(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0c), 0xd0); /* IRQF | PF | UF, once */
	assert_false(e->irq.level);
	assert_true(e->tm.armed);
	assert_true(e->tm.deadline > e->clk.now);
	assert_true(e->tm.deadline <= e->clk.now + PERIOD_1024);

	/* A host that runs the timer late still delivers one interrupt. */
	e->clk.now += 5 * NS;
	advance(e, 0);
	assert_int_equal(e->irq.raises, 2);
	assert_int_equal(e->tm.fired, fired + 1);
	assert_false(e->tm.armed);
}

static void test_fastest_rate_clamped(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0a, 0x23); /* 8192 Hz */
	cmos_write(e, 0x0b, 0x42);
	assert_true(e->tm.deadline - e->clk.now >= RTC_MIN_IRQ_PERIOD_NS);
	uint64_t end = e->clk.now + NS / 100;
	while (e->clk.now < end) {
		advance(e, e->tm.deadline - e->clk.now);
		assert_int_equal(cmos_read(e, 0x0c), 0xc0);
		assert_true(e->tm.deadline - e->clk.now >= RTC_MIN_IRQ_PERIOD_NS);
	}
	/* 10 ms at 8192 Hz would be 81 interrupts; clamped to ~41. */
	assert_true(e->irq.raises <= NS / 100 / RTC_MIN_IRQ_PERIOD_NS + 1);
	assert_true(e->irq.raises >= NS / 100 / RTC_MIN_IRQ_PERIOD_NS - 1);
}

static void test_update_ended_interrupt(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0a, 0x20); /* no periodic rate */
	advance(e, NS / 4);
	cmos_write(e, 0x0b, 0x12); /* UIE */
	advance(e, NS * 3 / 4 - 1);
	assert_false(e->irq.level);
	advance(e, 1);
	assert_true(e->irq.level);
	assert_int_equal(cmos_read(e, 0x00), 0x57);
	assert_int_equal(cmos_read(e, 0x0c), 0x90); /* IRQF | UF */
	for (unsigned i = 0; i < 5; i++) {
		advance(e, NS);
		assert_int_equal(cmos_read(e, 0x0c), 0x90);
	}
	assert_int_equal(e->irq.raises, 6);

	/* PF is reported alongside when a rate is set (PIE off). */
	cmos_write(e, 0x0a, 0x26);
	advance(e, NS);
	assert_int_equal(cmos_read(e, 0x0c), 0xd0);
}

static void test_alarm(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0a, 0x20);
	cmos_write(e, 0x01, 0x00); /* 13:46:00 */
	cmos_write(e, 0x03, 0x46);
	cmos_write(e, 0x05, 0x13);
	cmos_write(e, 0x0b, 0x22); /* AIE */
	/* The timer sleeps until the alarm time, not once a second. */
	assert_int_equal(e->tm.deadline - e->clk.now, 4 * NS);
	advance(e, 3 * NS);
	assert_int_equal(e->tm.fired, 0);
	assert_false(e->irq.level);
	advance(e, NS); /* 13:46:00 */
	assert_true(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0c), 0xb0); /* IRQF | AF | UF */
	advance(e, 60 * NS);
	assert_false(e->irq.level);

	/* Don't-care seconds and minutes (0xc0-0xff): every second. */
	cmos_write(e, 0x01, 0xc0);
	cmos_write(e, 0x03, 0xff);
	(void)cmos_read(e, 0x0c);
	advance(e, NS);
	assert_int_equal(cmos_read(e, 0x0c), 0xb0);
	advance(e, NS);
	assert_int_equal(cmos_read(e, 0x0c), 0xb0);
	/* Wrong hour: no alarm. */
	cmos_write(e, 0x05, 0x14);
	advance(e, NS);
	assert_int_equal(cmos_read(e, 0x0c), 0x10);

	/* Matched while nobody looked: AF found on the next read. */
	cmos_write(e, 0x0b, 0x02);
	cmos_write(e, 0x01, 0x30);
	cmos_write(e, 0x03, 0x00);
	cmos_write(e, 0x05, 0x02); /* 02:00:30 tomorrow */
	advance(e, 20 * 3600 * NS);
	assert_int_equal(cmos_read(e, 0x0c), 0x30);

	/* 12-hour mode: the hour alarm carries the PM bit. */
	cmos_write(e, 0x0b, 0x20); /* AIE, BCD, 12-hour */
	cmos_write(e, 0x01, 0xc0);
	cmos_write(e, 0x03, 0xc0);
	cmos_write(e, 0x05, 0x89); /* 9 PM */
	(void)cmos_read(e, 0x0c);
	advance(e, 12 * 3600 * NS); /* 21:47 */
	assert_true(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0c), 0xb0);

	/* An alarm no time can match (0x60 s) never arms the timer. */
	cmos_write(e, 0x01, 0x60);
	assert_false(e->tm.armed);
	advance(e, 2 * 86400 * NS);
	assert_int_equal(cmos_read(e, 0x0c), 0x10);
}

/* What Linux's mc146818_set_time() does. */
static void test_guest_sets_time(void **state)
{
	struct env *e = *state;

	uint8_t b = cmos_read(e, 0x0b), a = cmos_read(e, 0x0a);
	cmos_write(e, 0x0b, b | 0x80);
	cmos_write(e, 0x0a, a | 0x70);
	cmos_write(e, 0x00, 0x05); /* 2030-01-02 03:04:05 */
	cmos_write(e, 0x02, 0x04);
	cmos_write(e, 0x04, 0x03);
	cmos_write(e, 0x07, 0x02);
	cmos_write(e, 0x08, 0x01);
	cmos_write(e, 0x09, 0x30);
	cmos_write(e, 0x0b, b);
	advance(e, 3 * NS); /* divider still in reset: stopped */
	assert_int_equal(cmos_read(e, 0x00), 0x05);
	cmos_write(e, 0x0a, a);
	/* The first update comes half a second after the divider starts. */
	advance(e, NS / 2 - 1);
	assert_int_equal(cmos_read(e, 0x00), 0x05);
	advance(e, 1);
	assert_int_equal(cmos_read(e, 0x00), 0x06);
	advance(e, 5 * NS);
	/* sec min hour wday(Wednesday) mday mon year century */
	expect_time(e, (const uint8_t[]){0x11, 0x04, 0x03, 0x04, 0x02, 0x01, 0x30, 0x20});

	/* Only the guest's view moved: a second RTC still reads host time. */
	struct env e2;
	env_init(&e2, 0);
	assert_int_equal(cmos_read(&e2, 0x09), 0x24);
	rtc_destroy(e2.rtc);
}

static void test_set_bit_only_keeps_phase(void **state)
{
	struct env *e = *state;

	advance(e, NS * 3 / 10); /* .3 */
	cmos_write(e, 0x0b, 0x82);
	cmos_write(e, 0x00, 0x10);
	advance(e, 2 * NS); /* held: no updates */
	assert_int_equal(cmos_read(e, 0x00), 0x10);
	cmos_write(e, 0x0b, 0x02);
	/* The divider kept running: the next update is at the old phase. */
	advance(e, NS * 7 / 10 - 1);
	assert_int_equal(cmos_read(e, 0x00), 0x10);
	advance(e, 1);
	assert_int_equal(cmos_read(e, 0x00), 0x11);
	assert_int_equal(cmos_read(e, 0x02), 0x45);

	/* A write while running takes effect at once, phase kept. */
	cmos_write(e, 0x02, 0x59);
	assert_int_equal(cmos_read(e, 0x02), 0x59);
	advance(e, 49 * NS);
	assert_int_equal(cmos_read(e, 0x02), 0x00);
	assert_int_equal(cmos_read(e, 0x04), 0x14);
}

static void test_set_clears_uie(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x12);
	assert_int_equal(cmos_read(e, 0x0b), 0x12);
	cmos_write(e, 0x0b, 0x92);
	assert_int_equal(cmos_read(e, 0x0b), 0x82);
	/* No update-ended flags while SET holds. */
	cmos_write(e, 0x0b, 0x92); /* UIE may be set again while SET stays */
	assert_int_equal(cmos_read(e, 0x0b), 0x92);
	advance(e, 3 * NS);
	assert_false(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0c) & 0x10, 0);
}

static void test_invalid_values_defined(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x82);
	cmos_write(e, 0x00, 0xfa); /* invalid BCD */
	cmos_write(e, 0x02, 0x00);
	cmos_write(e, 0x04, 0x12);
	cmos_write(e, 0x06, 0x7f);
	assert_int_equal(cmos_read(e, 0x00), 0xfa); /* verbatim while held */
	assert_int_equal(cmos_read(e, 0x06), 0x7f);
	cmos_write(e, 0x0b, 0x02);
	/* 0xfa decodes as 15 * 10 + 10 = 160 s: 12:02:40. */
	assert_int_equal(cmos_read(e, 0x00), 0x40);
	assert_int_equal(cmos_read(e, 0x02), 0x02);
	assert_int_equal(cmos_read(e, 0x04), 0x12);
	assert_int_equal(cmos_read(e, 0x06), 0x05); /* derived from the date */

	/* Month 13, day 0, hour 25 normalise into a real date. */
	cmos_write(e, 0x0b, 0x82);
	cmos_write(e, 0x04, 0x25);
	cmos_write(e, 0x07, 0x00);
	cmos_write(e, 0x08, 0x13);
	cmos_write(e, 0x0b, 0x02);
	/* 2024-13-00 25:02:40 = 2024-12-31 + 25 h = 2025-01-01 01:02:40 */
	expect_time(e, (const uint8_t[]){0x40, 0x02, 0x01, 0x04, 0x01, 0x01, 0x25, 0x20});

	/* Switching to binary with BCD contents: decoded as binary. */
	cmos_write(e, 0x0b, 0x86);
	cmos_write(e, 0x0b, 0x06);
	uint8_t sec = cmos_read(e, 0x00), min = cmos_read(e, 0x02);
	assert_true(sec < 60 && min < 60);
	assert_int_equal(sec, 64 % 60); /* 0x40 = 64 s */
	assert_int_equal(cmos_read(e, 0x08), 1);

	/* Every byte everywhere, in every mode: no crash, fields in range. */
	for (unsigned mode = 0; mode < 4; mode++) {
		uint8_t bm = (uint8_t)((mode & 1 ? 0x04 : 0) | (mode & 2 ? 0x02 : 0));
		for (unsigned v = 0; v < 256; v += 7) {
			cmos_write(e, 0x0b, 0x80 | bm);
			for (uint8_t idx = 0; idx <= 9; idx++)
				cmos_write(e, idx, (uint8_t)v);
			cmos_write(e, 0x32, (uint8_t)v);
			cmos_write(e, 0x0b, 0x06);
			assert_true(cmos_read(e, 0x00) < 60);
			assert_true(cmos_read(e, 0x04) < 24);
			uint8_t mon = cmos_read(e, 0x08);
			assert_true(mon >= 1 && mon <= 12);
			assert_true(cmos_read(e, 0x32) <= 99);
		}
	}
}

static void test_year_wraps(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x82);
	cmos_write(e, 0x00, 0x59);
	cmos_write(e, 0x02, 0x59);
	cmos_write(e, 0x04, 0x23);
	cmos_write(e, 0x07, 0x31);
	cmos_write(e, 0x08, 0x12);
	cmos_write(e, 0x09, 0x99);
	cmos_write(e, 0x32, 0x99);
	cmos_write(e, 0x0b, 0x02);
	expect_time(e, (const uint8_t[]){0x59, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x99});
	advance(e, NS);
	/* 0000-01-01 is a Saturday in the proleptic Gregorian calendar. */
	expect_time(e, (const uint8_t[]){0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x00});
}

static void test_reset_op(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0e, 0x77);
	cmos_write(e, 0x0b, 0x7e); /* PIE AIE UIE SQWE DM 24h */
	advance(e, NS);
	assert_true(e->irq.level);
	e->d->ops->reset(e->d);
	assert_false(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0b), 0x06);
	assert_int_equal(cmos_read(e, 0x0c), 0x00);
	assert_int_equal(cmos_read(e, 0x0e), 0x77); /* battery-backed */
	assert_false(e->tm.armed);
	assert_int_equal(cmos_read(e, 0x00), 57);
}

static void test_divider_reset_stops_periodic(void **state)
{
	struct env *e = *state;

	cmos_write(e, 0x0b, 0x42);
	cmos_write(e, 0x0a, 0x66); /* divider in reset */
	assert_false(e->tm.armed);
	advance(e, 2 * NS);
	assert_false(e->irq.level);
	assert_int_equal(cmos_read(e, 0x0c), 0x00);
	assert_int_equal(cmos_read(e, 0x00), 0x56); /* stopped */
	assert_int_equal(cmos_read(e, 0x0a) & 0x80, 0);
	cmos_write(e, 0x0a, 0x26);
	assert_true(e->tm.armed);
	advance(e, PERIOD_1024);
	assert_true(e->irq.level);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_time_bcd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_12h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_masking_and_nvram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reg_c_cleared_on_read_lowers_irq, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_readonly_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uip_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_coalescing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fastest_rate_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_ended_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_sets_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_bit_only_keeps_phase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_clears_uie, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_values_defined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_year_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_divider_reset_stops_periodic, setup, teardown),
	};
	log_set_level(LOG_ERROR); /* the ignored rtc_cmos_set() calls warn */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
