// SPDX-License-Identifier: MIT
#include <time.h>
#include "hostel/clock.h"

static uint64_t host_now_ns(struct clock *c)
{
	struct timespec ts;
	(void)c;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int64_t host_realtime_ns(struct clock *c)
{
	struct timespec ts;
	(void)c;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct clock host_clock = {
	.now_ns = host_now_ns,
	.realtime_ns = host_realtime_ns,
};

struct clock *clock_host(void)
{
	return &host_clock;
}
