// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "evloop.h"
#include "hostel/log.h"

#define MAX_WATCHES 64

struct watch {
	int fd;
	evloop_fn fn;
	void *opaque;
	bool used;
};

struct evloop {
	int epfd;
	int wakefd;
	pthread_t thread;
	bool running;
	_Atomic int quit;
	pthread_mutex_t lock;
	struct watch w[MAX_WATCHES];
};

struct el_timer {
	struct timer t;
	struct evloop *el;
	int fd;
};

struct evloop *evloop_create(void)
{
	struct evloop *el = calloc(1, sizeof(*el));
	if (!el)
		return NULL;
	pthread_mutex_init(&el->lock, NULL);
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	el->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (el->epfd < 0 || el->wakefd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, el->wakefd, &ev) < 0)
		goto fail;
	return el;
fail:
	evloop_destroy(el);
	return NULL;
}

void evloop_destroy(struct evloop *el)
{
	if (!el)
		return;
	if (el->epfd >= 0)
		close(el->epfd);
	if (el->wakefd >= 0)
		close(el->wakefd);
	pthread_mutex_destroy(&el->lock);
	free(el);
}

int evloop_add(struct evloop *el, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	int ret = -ENOSPC;
	pthread_mutex_lock(&el->lock);
	for (int i = 0; i < MAX_WATCHES; i++) {
		if (el->w[i].used)
			continue;
		el->w[i] = (struct watch){.fd = fd, .fn = fn, .opaque = opaque, .used = true};
		struct epoll_event ev = {.events = events, .data.ptr = &el->w[i]};
		ret = epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
		if (ret)
			el->w[i].used = false;
		break;
	}
	pthread_mutex_unlock(&el->lock);
	return ret;
}

static struct watch *find_watch(struct evloop *el, int fd)
{
	for (int i = 0; i < MAX_WATCHES; i++)
		if (el->w[i].used && el->w[i].fd == fd)
			return &el->w[i];
	return NULL;
}

int evloop_mod(struct evloop *el, int fd, uint32_t events)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&el->lock);
	struct watch *w = find_watch(el, fd);
	if (w) {
		struct epoll_event ev = {.events = events, .data.ptr = w};
		ret = epoll_ctl(el->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&el->lock);
	return ret;
}

void evloop_del(struct evloop *el, int fd)
{
	pthread_mutex_lock(&el->lock);
	struct watch *w = find_watch(el, fd);
	if (w) {
		epoll_ctl(el->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->used = false;
	}
	pthread_mutex_unlock(&el->lock);
}

static void *loop_thread(void *arg)
{
	struct evloop *el = arg;
	struct epoll_event evs[16];

	pthread_setname_np(pthread_self(), "evloop");
	while (!atomic_load(&el->quit)) {
		int n = epoll_wait(el->epfd, evs, 16, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait failed: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct watch *w = evs[i].data.ptr;
			if (!w) {
				uint64_t v;
				if (read(el->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_debug("wakefd read: %s", strerror(errno));
				continue;
			}
			/* Watches are only removed on this thread or before start. */
			if (w->used)
				w->fn(w->opaque, evs[i].events);
		}
	}
	return NULL;
}

int evloop_start(struct evloop *el)
{
	int ret = pthread_create(&el->thread, NULL, loop_thread, el);
	if (ret)
		return -ret;
	el->running = true;
	return 0;
}

void evloop_stop(struct evloop *el)
{
	if (!el->running)
		return;
	atomic_store(&el->quit, 1);
	uint64_t one = 1;
	if (write(el->wakefd, &one, sizeof(one)) < 0)
		log_debug("wakefd write: %s", strerror(errno));
	pthread_join(el->thread, NULL);
	el->running = false;
}

static void timer_fired(void *opaque, uint32_t events)
{
	struct el_timer *t = opaque;
	uint64_t expirations;
	(void)events;
	/* Any number of expirations is one callback: devices coalesce. */
	if (read(t->fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	if (t->t.fn)
		t->t.fn(t->t.opaque);
}

static void el_timer_arm(struct timer *tm, uint64_t deadline_ns)
{
	struct el_timer *t = container_of(tm, struct el_timer, t);
	struct itimerspec its = {0};
	/* A deadline of 0 would disarm: a past deadline fires at once instead. */
	if (deadline_ns == 0)
		deadline_ns = 1;
	its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000ULL);
	its.it_value.tv_nsec = (long)(deadline_ns % 1000000000ULL);
	if (timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_ratelimited(LOG_WARN, "timerfd_settime: %s", strerror(errno));
}

static void el_timer_cancel(struct timer *tm)
{
	struct el_timer *t = container_of(tm, struct el_timer, t);
	struct itimerspec its = {0};
	timerfd_settime(t->fd, 0, &its, NULL);
}

struct timer *evloop_timer_create(struct evloop *el, void (*fn)(void *), void *opaque)
{
	struct el_timer *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->el = el;
	t->t.arm = el_timer_arm;
	t->t.cancel = el_timer_cancel;
	t->t.fn = fn;
	t->t.opaque = opaque;
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (t->fd < 0 || evloop_add(el, t->fd, EPOLLIN, timer_fired, t) < 0) {
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		return NULL;
	}
	return &t->t;
}

void evloop_timer_destroy(struct evloop *el, struct timer *tm)
{
	if (!tm)
		return;
	struct el_timer *t = container_of(tm, struct el_timer, t);
	evloop_del(el, t->fd);
	close(t->fd);
	free(t);
}
