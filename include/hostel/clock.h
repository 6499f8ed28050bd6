/* SPDX-License-Identifier: MIT */
/*
 * Time as devices see it: a clock to read and one-shot timers to arm.
 * Production: CLOCK_MONOTONIC and timerfds in the event loop. Tests: a fake
 * clock advanced by hand (tests/fakes/fake_clock.h) whose timers fire when
 * the test says so. Devices compute their state as a pure function of
 * clock_now() so tests need no sleeps.
 */
#ifndef HOSTEL_CLOCK_H
#define HOSTEL_CLOCK_H

#include <stdint.h>

struct clock {
	uint64_t (*now_ns)(struct clock *c);
	/* Wall-clock time in ns since the epoch (for the RTC). */
	int64_t (*realtime_ns)(struct clock *c);
};

static inline uint64_t clock_now(struct clock *c)
{
	return c->now_ns(c);
}

static inline int64_t clock_realtime(struct clock *c)
{
	return c->realtime_ns(c);
}

/* The production clock (CLOCK_MONOTONIC / CLOCK_REALTIME). */
struct clock *clock_host(void);

/*
 * A one-shot timer. The owner supplies @fn/@opaque; the provider (event loop
 * or fake) implements arm/cancel. @fn runs on the event-loop thread, so a
 * device whose registers are also written from vCPU threads takes its own
 * lock in @fn. Arming an armed timer moves its deadline (never two pending).
 */
struct timer {
	void (*arm)(struct timer *t, uint64_t deadline_ns); /* absolute, clock_now() base */
	void (*cancel)(struct timer *t);
	void (*fn)(void *opaque);
	void *opaque;
};

static inline void timer_arm(struct timer *t, uint64_t deadline_ns)
{
	t->arm(t, deadline_ns);
}

static inline void timer_cancel(struct timer *t)
{
	t->cancel(t);
}

#endif
