/* SPDX-License-Identifier: MIT */
/*
 * A clock advanced by hand and a one-shot timer that fires only when the
 * test advances the clock past its deadline (fake_clock_advance).
 */
#ifndef FAKE_CLOCK_H
#define FAKE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/clock.h"

struct fake_clock {
	struct clock clock;
	uint64_t now;	 /* monotonic ns */
	int64_t wall_ns; /* realtime at now == 0 */
};

struct fake_timer {
	struct timer t;
	struct fake_clock *clk;
	bool armed;
	uint64_t deadline;
	unsigned int arms;  /* times armed */
	unsigned int fired; /* times fired */
};

static inline uint64_t fake_clock_now(struct clock *c)
{
	return ((struct fake_clock *)c)->now;
}

static inline int64_t fake_clock_realtime(struct clock *c)
{
	struct fake_clock *f = (struct fake_clock *)c;
	return f->wall_ns + (int64_t)f->now;
}

static inline void fake_clock_init(struct fake_clock *f, uint64_t start_ns, int64_t wall_ns)
{
	f->clock.now_ns = fake_clock_now;
	f->clock.realtime_ns = fake_clock_realtime;
	f->now = start_ns;
	f->wall_ns = wall_ns;
}

static inline void fake_timer_arm(struct timer *t, uint64_t deadline)
{
	struct fake_timer *ft = (struct fake_timer *)t;
	ft->armed = true;
	ft->deadline = deadline;
	ft->arms++;
}

static inline void fake_timer_cancel(struct timer *t)
{
	((struct fake_timer *)t)->armed = false;
}

static inline void fake_timer_init(struct fake_timer *ft, struct fake_clock *clk)
{
	ft->t.arm = fake_timer_arm;
	ft->t.cancel = fake_timer_cancel;
	ft->t.fn = 0;
	ft->t.opaque = 0;
	ft->clk = clk;
	ft->armed = false;
	ft->deadline = 0;
	ft->arms = 0;
	ft->fired = 0;
}

/*
 * Advance time to @now, firing @t (if given) each time its deadline is
 * reached on the way, as the event loop would. A timer re-armed from its
 * callback keeps firing; the loop stops at @max_fires to bound runaway rates.
 */
static inline void fake_clock_advance_to(struct fake_clock *c, struct fake_timer *t, uint64_t now,
					 unsigned int max_fires)
{
	while (t && t->armed && t->deadline <= now && t->fired < max_fires) {
		if (t->deadline > c->now)
			c->now = t->deadline;
		t->armed = false;
		t->fired++;
		t->t.fn(t->t.opaque);
	}
	if (now > c->now)
		c->now = now;
}

#endif
