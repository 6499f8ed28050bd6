// SPDX-License-Identifier: MIT
/*
 * Motorola MC146818A real-time clock and CMOS RAM, as wired in the PC/AT:
 * index port 0x70 (bit 7 is the NMI mask, not modelled), data port 0x71,
 * IRQ 8. 128 bytes of CMOS: the 14 clock registers, then NVRAM; the PC
 * century byte lives at 0x32.
 *
 * References: MC146818A data sheet (Motorola), "Address Map", "Time,
 * Calendar and Alarm Locations" (Table 3, don't-care alarm codes
 * 0xC0-0xFF), "Register A" (UIP, DV2-DV0, RS3-RS0; Table 5 periodic rates),
 * "Register B" (SET, PIE, AIE, UIE, SQWE, DM, 24/12, DSE), "Register C"
 * (IRQF, PF, AF, UF), "Register D" (VRT), "Update Cycle" (Table 6, 244 us).
 *
 * Model:
 *  - The calendar is host wall time (clock_realtime(), UTC) plus an offset
 *    the guest sets by writing the clock registers. While SET (register B)
 *    is held, or the divider chain is in reset (DV = 11x), the calendar is
 *    stopped: the clock registers are plain RAM holding what the guest
 *    wrote. When it restarts, those bytes are decoded in the current data
 *    mode and become the new offset: the sub-second phase carries on if the
 *    divider kept running, or starts at one half second if the divider was
 *    reset ("the first update cycle begins one-half second later").
 *  - The divider phase is the fraction of the guest's second, so periodic
 *    ticks line up with second boundaries as they do on the chip. The DV
 *    bits are stored; any value but 11x runs the 32.768 kHz time base.
 *  - Register C flags are evaluated lazily from time whenever they can be
 *    observed (a register C read, a control write, the timer). The IRQ line
 *    follows IRQF (level). While it is high nothing more can be signalled,
 *    so the timer is left idle until the guest reads register C: at most
 *    one interrupt is ever pending and a slow guest or host builds no
 *    backlog. The timer is also never armed closer than
 *    RTC_MIN_IRQ_PERIOD_NS (see rtc.h), which bounds the event-loop load of
 *    the fastest periodic rate.
 *  - Values the guest writes are stored as written while the calendar is
 *    stopped and read back verbatim. Decoding never fails: a BCD byte is
 *    taken as high nibble * 10 + low nibble (so 0xFF is 165), out-of-range
 *    fields are normalised by calendar arithmetic (month 13 is January of
 *    the next year), and years wrap modulo 10000 (the span of a BCD century
 *    and year). The day of week is always derived from the date.
 *  - Writing a clock register while the calendar runs takes effect at once,
 *    as if SET had been held around the write. Changing DM or 24/12 while
 *    it runs changes how the running time reads (the chip would not convert;
 *    the guest is expected to rewrite the time, as Linux does).
 *  - DSE and the square-wave output are stored but not modelled.
 *
 * Trust: the guest controls the index (masked to 0x7f before use) and every
 * byte written; none is used as an index or size without masking, and all
 * arithmetic on guest values is bounded (decoded fields are at most 255).
 *
 * Locking: one mutex per RTC, taken by the port handlers (vCPU threads) and
 * by the timer callback (event-loop thread). irq_set(), timer_arm() and
 * timer_cancel() are called with it held: the IRQ line and the timer
 * provider must not call back into the RTC, and the provider must not hold
 * a lock of its own while it runs the callback.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "hostel/log.h"
#include "rtc.h"

#define NSEC_PER_SEC 1000000000LL
#define TIMEBASE_HZ  32768 /* the divider's input */

/* Register indexes ("Address Map"). */
#define REG_SEC	       0x00
#define REG_SEC_ALARM  0x01
#define REG_MIN	       0x02
#define REG_MIN_ALARM  0x03
#define REG_HOUR       0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY       0x06
#define REG_MDAY       0x07
#define REG_MON	       0x08
#define REG_YEAR       0x09
#define REG_A	       0x0a
#define REG_B	       0x0b
#define REG_C	       0x0c
#define REG_D	       0x0d
#define REG_CENTURY    0x32 /* PC convention; ACPI FADT "CENTURY" */
#define RTC_CMOS_SIZE  128
#define RTC_INDEX_MASK 0x7f

#define A_UIP		0x80
#define A_DV_MASK	0x70
#define A_DV_RESET	0x60 /* DV2 and DV1 set: divider chain held in reset */
#define A_RS_MASK	0x0f
#define A_DEFAULT	0x26 /* 32.768 kHz time base, 1024 Hz rate */
#define B_SET		0x80
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_SQWE		0x08
#define B_DM_BINARY	0x04
#define B_24H		0x02
#define B_DSE		0x01
#define B_DEFAULT	B_24H /* BCD, 24-hour: what Linux's rtc-cmos requires */
#define C_IRQF		0x80
#define C_PF		0x40
#define C_AF		0x20
#define C_UF		0x10
#define D_VRT		0x80
#define HOUR_PM		0x80
#define ALARM_DONT_CARE 0xc0 /* both top bits set: matches any value */

/* UIP is set this long before each update (Table 6, tBUC for 32.768 kHz). */
#define UIP_WINDOW_NS 244000LL

/* Calendar range: 0000-01-01 .. 9999-12-31 (proleptic Gregorian, UTC).
 * 10000 years are exactly 25 cycles of 146097 days, a whole number of
 * weeks, so wrapping modulo that span keeps dates and weekdays coherent. */
#define CAL_MIN_SEC  (-62167219200LL)
#define CAL_SPAN_SEC (10000LL * 146097 / 400 * 86400)

struct gtime {
	int64_t sec;
	int64_t nsec; /* 0 .. NSEC_PER_SEC - 1 */
};

struct rtc {
	struct dev dev;
	pthread_mutex_t lock;
	struct irq_line *irq;
	struct clock *clk;
	struct timer *timer;

	uint8_t cmos[RTC_CMOS_SIZE]; /* RAM, and the clock registers while stopped */
	uint8_t index;
	uint8_t flags; /* PF | AF | UF; IRQF is derived */
	bool irq_high;

	/* Guest time = host wall time + off_sec + off_nsec. */
	int64_t off_sec;
	int64_t off_nsec;   /* 0 .. NSEC_PER_SEC - 1 */
	bool div_was_reset; /* the divider was reset while the calendar stopped */
	struct gtime last;  /* guest time up to which flags are evaluated */
};

/* ---- time arithmetic ---------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static struct gtime gtime_norm(int64_t sec, int64_t nsec)
{
	return (struct gtime){sec + floor_div(nsec, NSEC_PER_SEC), floor_mod(nsec, NSEC_PER_SEC)};
}

static int gtime_cmp(struct gtime a, struct gtime b)
{
	if (a.sec != b.sec)
		return a.sec < b.sec ? -1 : 1;
	if (a.nsec != b.nsec)
		return a.nsec < b.nsec ? -1 : 1;
	return 0;
}

static struct gtime host_time(struct rtc *r)
{
	return gtime_norm(0, clock_realtime(r->clk));
}

/* The guest's time now: the calendar when it runs, and always the phase of
 * the divider chain. */
static struct gtime rtc_gtime(struct rtc *r)
{
	struct gtime h = host_time(r);
	return gtime_norm(h.sec + r->off_sec, h.nsec + r->off_nsec);
}

/* Make the guest time equal @g now. */
static void rtc_set_gtime(struct rtc *r, struct gtime g)
{
	struct gtime h = host_time(r), off = gtime_norm(g.sec - h.sec, g.nsec - h.nsec);
	r->off_sec = off.sec;
	r->off_nsec = off.nsec;
}

static bool div_reset(uint8_t a)
{
	return (a & A_DV_RESET) == A_DV_RESET;
}

static bool rtc_running(const struct rtc *r)
{
	return !(r->cmos[REG_B] & B_SET) && !div_reset(r->cmos[REG_A]);
}

/* Periodic interrupt period in time-base cycles (Table 5, 32.768 kHz
 * column), or 0 for none. Always a power of two dividing TIMEBASE_HZ. */
static uint32_t rtc_period_cycles(uint8_t a)
{
	unsigned rs = a & A_RS_MASK;

	if (rs == 0)
		return 0;
	if (rs <= 2)
		return 1u << (rs + 6); /* 256 Hz, 128 Hz */
	return 1u << (rs - 1);	       /* 8192 Hz .. 2 Hz */
}

/* Index of the periodic tick at or before @t. */
static int64_t pf_index(struct gtime t, uint32_t period)
{
	int64_t cyc = t.nsec * TIMEBASE_HZ / NSEC_PER_SEC;
	return t.sec * (TIMEBASE_HZ / period) + cyc / period;
}

/* ---- calendar encoding -------------------------------------------------- */

static uint8_t enc(const struct rtc *r, unsigned v)
{
	if (r->cmos[REG_B] & B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

/* Any byte decodes to a defined value: BCD digits above 9 just weigh more. */
static int dec(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_DM_BINARY)
		return v;
	return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h24)
{
	if (r->cmos[REG_B] & B_24H)
		return enc(r, h24);
	unsigned h12 = h24 % 12 ? h24 % 12 : 12;
	return (uint8_t)(enc(r, h12) | (h24 >= 12 ? HOUR_PM : 0));
}

static int dec_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[REG_B] & B_24H)
		return dec(r, v);
	int h = dec(r, v & ~HOUR_PM);
	return (h == 12 ? 0 : h) + (v & HOUR_PM ? 12 : 0);
}

/* Calendar seconds within the representable span. */
static int64_t cal_wrap(int64_t sec)
{
	return CAL_MIN_SEC + floor_mod(sec - CAL_MIN_SEC, CAL_SPAN_SEC);
}

/* The clock register @idx for calendar second @sec, in the current mode. */
static uint8_t cal_field(const struct rtc *r, int64_t sec, uint8_t idx)
{
	time_t t = (time_t)cal_wrap(sec);
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 0; /* cannot happen within the wrapped range */
	int year = tm.tm_year + 1900;
	switch (idx) {
	case REG_SEC:
		return enc(r, (unsigned)tm.tm_sec);
	case REG_MIN:
		return enc(r, (unsigned)tm.tm_min);
	case REG_HOUR:
		return enc_hour(r, (unsigned)tm.tm_hour);
	case REG_WDAY:
		return enc(r, (unsigned)tm.tm_wday + 1); /* 1 = Sunday */
	case REG_MDAY:
		return enc(r, (unsigned)tm.tm_mday);
	case REG_MON:
		return enc(r, (unsigned)tm.tm_mon + 1);
	case REG_YEAR:
		return enc(r, (unsigned)(year % 100));
	default: /* REG_CENTURY */
		return enc(r, (unsigned)(year / 100));
	}
}

static bool is_clock_reg(uint8_t idx)
{
	switch (idx) {
	case REG_SEC:
	case REG_MIN:
	case REG_HOUR:
	case REG_WDAY:
	case REG_MDAY:
	case REG_MON:
	case REG_YEAR:
	case REG_CENTURY:
		return true;
	default:
		return false;
	}
}

/* Stopping: the clock registers take the current time, in the current mode. */
static void cal_snapshot(struct rtc *r)
{
	static const uint8_t regs[] = {REG_SEC,	 REG_MIN, REG_HOUR, REG_WDAY,
				       REG_MDAY, REG_MON, REG_YEAR, REG_CENTURY};
	int64_t sec = rtc_gtime(r).sec;

	for (unsigned i = 0; i < ARRAY_SIZE(regs); i++)
		r->cmos[regs[i]] = cal_field(r, sec, regs[i]);
}

/* Restarting: the calendar continues from the clock registers. */
static void cal_resume(struct rtc *r)
{
	struct tm tm = {
		.tm_sec = dec(r, r->cmos[REG_SEC]),
		.tm_min = dec(r, r->cmos[REG_MIN]),
		.tm_hour = dec_hour(r, r->cmos[REG_HOUR]),
		.tm_mday = dec(r, r->cmos[REG_MDAY]),
		.tm_mon = dec(r, r->cmos[REG_MON]) - 1,
		.tm_year = dec(r, r->cmos[REG_CENTURY]) * 100 + dec(r, r->cmos[REG_YEAR]) - 1900,
	};
	/* Fields are at most 255 each, so timegm() cannot overflow; it
	 * normalises out-of-range values. */
	int64_t sec = cal_wrap((int64_t)timegm(&tm));
	int64_t frac = r->div_was_reset ? NSEC_PER_SEC / 2 : rtc_gtime(r).nsec;

	rtc_set_gtime(r, (struct gtime){sec, frac});
	r->div_was_reset = false;
}

/* ---- register C and the interrupt --------------------------------------- */

static bool rtc_irqf(const struct rtc *r)
{
	uint8_t b = r->cmos[REG_B];
	return ((r->flags & C_PF) && (b & B_PIE)) || ((r->flags & C_AF) && (b & B_AIE)) ||
	       ((r->flags & C_UF) && (b & B_UIE));
}

static void rtc_update_irq(struct rtc *r)
{
	bool level = rtc_irqf(r);

	if (level != r->irq_high) {
		r->irq_high = level;
		irq_set(r->irq, level);
	}
}

/*
 * The value an alarm byte selects in the current mode: ALARM_ANY for the
 * don't-care codes 0xc0-0xff, ALARM_NEVER for a byte no time reads as
 * (e.g. 0x60 seconds in BCD), else the value.
 */
#define ALARM_ANY   (-1)
#define ALARM_NEVER (-2)

static int alarm_value(const struct rtc *r, uint8_t alarm, unsigned limit, bool hour)
{
	if ((alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE)
		return ALARM_ANY;
	for (unsigned v = 0; v < limit; v++)
		if ((hour ? enc_hour(r, v) : enc(r, v)) == alarm)
			return (int)v;
	return ALARM_NEVER;
}

/*
 * The first calendar second after @after at which the alarm matches, or
 * INT64_MAX if it never can. Whole hours and minutes already past are
 * skipped, so this looks at no more than a few hundred candidates.
 */
static int64_t alarm_next(const struct rtc *r, int64_t after)
{
	int ah = alarm_value(r, r->cmos[REG_HOUR_ALARM], 24, true);
	int am = alarm_value(r, r->cmos[REG_MIN_ALARM], 60, false);
	int as = alarm_value(r, r->cmos[REG_SEC_ALARM], 60, false);

	if (ah == ALARM_NEVER || am == ALARM_NEVER || as == ALARM_NEVER)
		return INT64_MAX;
	int64_t day0 = after - floor_mod(after, 86400);
	/* Every time of day recurs within the next 24 hours. */
	for (int64_t day = day0; day <= day0 + 86400; day += 86400) {
		for (int h = 0; h < 24; h++) {
			int64_t hbase = day + h * 3600;
			if ((ah != ALARM_ANY && h != ah) || hbase + 3599 <= after)
				continue;
			for (int m = 0; m < 60; m++) {
				int64_t mbase = hbase + m * 60;
				if ((am != ALARM_ANY && m != am) || mbase + 59 <= after)
					continue;
				for (int sec = 0; sec < 60; sec++) {
					if ((as == ALARM_ANY || sec == as) && mbase + sec > after)
						return mbase + sec;
				}
			}
		}
	}
	return INT64_MAX;
}

/*
 * Bring the register C flags up to now: a periodic tick sets PF, a second
 * boundary sets UF (and AF on an alarm match) while the calendar runs.
 * Flags are set whether or not their interrupts are enabled.
 */
static void rtc_sync(struct rtc *r)
{
	if (div_reset(r->cmos[REG_A]))
		return; /* no time base: nothing happens */

	struct gtime cur = rtc_gtime(r);
	if (gtime_cmp(cur, r->last) > 0) {
		uint32_t period = rtc_period_cycles(r->cmos[REG_A]);
		if (period && !(r->flags & C_PF) &&
		    pf_index(cur, period) > pf_index(r->last, period))
			r->flags |= C_PF;
		if (!(r->cmos[REG_B] & B_SET) && cur.sec > r->last.sec) {
			r->flags |= C_UF;
			if (!(r->flags & C_AF) && alarm_next(r, r->last.sec) <= cur.sec)
				r->flags |= C_AF;
		}
	}
	/* A host clock stepped back just moves the reference. */
	r->last = cur;
	rtc_update_irq(r);
}

/* Arm the timer for the next event that could raise the IRQ, if any. */
static void rtc_rearm(struct rtc *r)
{
	uint8_t a = r->cmos[REG_A], b = r->cmos[REG_B];
	int64_t delta = INT64_MAX;

	if (r->irq_high || div_reset(a)) {
		/* Nothing more can be signalled until register C is read. */
		timer_cancel(r->timer);
		return;
	}
	struct gtime cur = rtc_gtime(r);
	uint32_t period = rtc_period_cycles(a);
	if ((b & B_PIE) && period) {
		int64_t cyc = cur.nsec * TIMEBASE_HZ / NSEC_PER_SEC;
		int64_t next = (cyc / period + 1) * period;
		/* Round up so the tick has happened when the timer fires. */
		int64_t at = (next * NSEC_PER_SEC + TIMEBASE_HZ - 1) / TIMEBASE_HZ;
		delta = at - cur.nsec;
	}
	if ((b & B_UIE) && !(b & B_SET))
		delta = MIN(delta, NSEC_PER_SEC - cur.nsec);
	if ((b & B_AIE) && !(b & B_SET)) {
		int64_t at = alarm_next(r, cur.sec);
		if (at != INT64_MAX)
			delta = MIN(delta, (at - cur.sec) * NSEC_PER_SEC - cur.nsec);
	}
	if (delta == INT64_MAX) {
		timer_cancel(r->timer);
		return;
	}
	delta = MAX(delta, (int64_t)RTC_MIN_IRQ_PERIOD_NS);
	uint64_t now = clock_now(r->clk);
	uint64_t deadline = now + (uint64_t)delta < now ? UINT64_MAX : now + (uint64_t)delta;
	timer_arm(r->timer, deadline);
}

static void rtc_timer_fn(void *opaque)
{
	struct rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	rtc_sync(r);
	rtc_rearm(r);
	pthread_mutex_unlock(&r->lock);
}

/* ---- registers ---------------------------------------------------------- */

/* New register A and B values, handling the calendar stopping (snapshot in
 * the old mode) and restarting (decode in the new mode). */
static void rtc_set_control(struct rtc *r, uint8_t a, uint8_t b)
{
	bool was_running = rtc_running(r);
	bool was_div_reset = div_reset(r->cmos[REG_A]);

	rtc_sync(r);
	if (was_running && ((b & B_SET) || div_reset(a)))
		cal_snapshot(r);
	if (div_reset(a))
		r->div_was_reset = true;
	/* "The SET bit going high clears the UIE bit" (Register B). */
	if ((b & B_SET) && !(r->cmos[REG_B] & B_SET))
		b &= (uint8_t)~B_UIE;
	r->cmos[REG_A] = a;
	r->cmos[REG_B] = b;
	if (!was_running && rtc_running(r))
		cal_resume(r);
	if (was_div_reset && !div_reset(a) && !rtc_running(r)) {
		/* Divider released under SET: its phase restarts here. */
		struct gtime g = rtc_gtime(r);
		rtc_set_gtime(r, (struct gtime){g.sec, NSEC_PER_SEC / 2});
		r->div_was_reset = false;
	}
	/* The time base may have jumped or restarted: no events for the jump. */
	r->last = rtc_gtime(r);
	rtc_update_irq(r);
	rtc_rearm(r);
}

static uint8_t rtc_reg_read(struct rtc *r, uint8_t idx)
{
	switch (idx) {
	case REG_A: {
		uint8_t v = r->cmos[REG_A] & (uint8_t)~A_UIP;
		if (rtc_running(r) && rtc_gtime(r).nsec >= NSEC_PER_SEC - UIP_WINDOW_NS)
			v |= A_UIP;
		return v;
	}
	case REG_C: {
		/* Read-only; reading clears every flag and releases IRQ 8. */
		rtc_sync(r);
		uint8_t v = r->flags | (rtc_irqf(r) ? C_IRQF : 0);
		r->flags = 0;
		rtc_update_irq(r);
		rtc_rearm(r);
		return v;
	}
	case REG_D:
		return D_VRT; /* battery good; bits 6-0 read as zero */
	default:
		if (is_clock_reg(idx) && rtc_running(r))
			return cal_field(r, rtc_gtime(r).sec, idx);
		return r->cmos[idx];
	}
}

static void rtc_reg_write(struct rtc *r, uint8_t idx, uint8_t v)
{
	switch (idx) {
	case REG_A:
		/* UIP is read-only. */
		rtc_set_control(r, v & (uint8_t)~A_UIP, r->cmos[REG_B]);
		break;
	case REG_B:
		rtc_set_control(r, r->cmos[REG_A], v);
		break;
	case REG_C:
	case REG_D:
		break; /* read-only */
	case REG_SEC_ALARM:
	case REG_MIN_ALARM:
	case REG_HOUR_ALARM:
		/* Seconds already past are judged against the old alarm. */
		rtc_sync(r);
		r->cmos[idx] = v;
		rtc_rearm(r);
		break;
	default:
		if (is_clock_reg(idx) && rtc_running(r)) {
			rtc_sync(r);
			cal_snapshot(r);
			r->cmos[idx] = v;
			cal_resume(r);
			r->last = rtc_gtime(r);
			rtc_rearm(r);
		} else {
			r->cmos[idx] = v;
		}
		break;
	}
}

/* ---- ports -------------------------------------------------------------- */

/*
 * Offset 0 is the index register (write-only: reads return 0xff, like an
 * undriven bus), offset 1 the data register. Wider accesses use their low
 * byte; reads fill the other bytes with 0xff.
 */
static void rtc_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct rtc *r = container_of(d, struct rtc, dev);
	uint8_t v = 0xff;

	if (len == 0)
		return;
	if (off == 1) {
		pthread_mutex_lock(&r->lock);
		v = rtc_reg_read(r, r->index);
		pthread_mutex_unlock(&r->lock);
	}
	dev_data_put(data, len, UINT64_MAX);
	dev_data_put(data, 1, v);
}

static void rtc_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct rtc *r = container_of(d, struct rtc, dev);

	if (len == 0 || off > 1)
		return;
	uint8_t v = (uint8_t)dev_data_get(data, 1);
	pthread_mutex_lock(&r->lock);
	if (off == 0)
		r->index = v & RTC_INDEX_MASK; /* bit 7: NMI mask, ignored */
	else
		rtc_reg_write(r, r->index, v);
	pthread_mutex_unlock(&r->lock);
}

/* RESET pin: clears PIE, AIE, UIE, SQWE and register C; time and RAM stay. */
static void rtc_reset_locked(struct rtc *r)
{
	r->cmos[REG_B] &= (uint8_t) ~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->flags = 0;
	r->index = 0;
	r->last = rtc_gtime(r);
	rtc_update_irq(r);
	rtc_rearm(r);
}

static void rtc_reset(struct dev *d)
{
	struct rtc *r = container_of(d, struct rtc, dev);

	pthread_mutex_lock(&r->lock);
	rtc_reset_locked(r);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_dev_destroy(struct dev *d)
{
	rtc_destroy(container_of(d, struct rtc, dev));
}

static const struct dev_ops rtc_ops = {
	.name = "rtc",
	.read = rtc_read,
	.write = rtc_write,
	.reset = rtc_reset,
	.destroy = rtc_dev_destroy,
};

struct rtc *rtc_create(struct irq_line *irq8, struct clock *clk, struct timer *timer)
{
	struct rtc *r;

	if (!clk || !timer)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL)) {
		free(r);
		return NULL;
	}
	r->dev.ops = &rtc_ops;
	r->irq = irq8;
	r->clk = clk;
	r->timer = timer;
	timer->fn = rtc_timer_fn;
	timer->opaque = r;
	r->cmos[REG_A] = A_DEFAULT;
	r->cmos[REG_B] = B_DEFAULT;
	r->last = rtc_gtime(r);
	return r;
}

void rtc_destroy(struct rtc *r)
{
	if (!r)
		return;
	timer_cancel(r->timer);
	r->timer->fn = NULL;
	r->timer->opaque = NULL;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

struct dev *rtc_dev(struct rtc *r)
{
	return &r->dev;
}

void rtc_cmos_set(struct rtc *r, uint8_t index, uint8_t val)
{
	index &= RTC_INDEX_MASK;
	/* The clock and control registers are not the board's to set. */
	if (index <= REG_D || index == REG_CENTURY) {
		log_warn("rtc: board write to clock register 0x%02x ignored", index);
		return;
	}
	pthread_mutex_lock(&r->lock);
	r->cmos[index] = val;
	pthread_mutex_unlock(&r->lock);
}
