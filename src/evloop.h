/* SPDX-License-Identifier: MIT */
/*
 * The event loop: one thread running epoll over fds (console, signals,
 * eventfds) and timerfd-backed one-shot timers for devices.
 */
#ifndef HOSTEL_EVLOOP_H
#define HOSTEL_EVLOOP_H

#include <pthread.h>
#include <stdint.h>
#include "hostel/clock.h"
#include "hostel/compiler.h"

struct evloop;

typedef void (*evloop_fn)(void *opaque, uint32_t events);

struct evloop *evloop_create(void) __must_check;
void evloop_destroy(struct evloop *el);

/* Watch @fd for @events (EPOLLIN...). 0 or -errno. */
int evloop_add(struct evloop *el, int fd, uint32_t events, evloop_fn fn, void *opaque) __must_check;
int evloop_mod(struct evloop *el, int fd, uint32_t events) __must_check;
void evloop_del(struct evloop *el, int fd);

/*
 * A device timer backed by a timerfd on CLOCK_MONOTONIC (the base of
 * clock_host()). The callback runs on the loop thread. @fn may be NULL
 * when the device that receives the timer fills in fn/opaque itself.
 */
struct timer *evloop_timer_create(struct evloop *el, void (*fn)(void *), void *opaque) __must_check;
void evloop_timer_destroy(struct evloop *el, struct timer *t);

int evloop_start(struct evloop *el) __must_check; /* spawn the loop thread */
void evloop_stop(struct evloop *el);		  /* wake, exit, join */

#endif
