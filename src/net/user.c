// SPDX-License-Identifier: MIT
/*
 * --net user: libslirp on its own thread (see user.h). libslirp is not
 * thread-safe: every call into it holds u->lock, and its callbacks run
 * with the lock held (send_packet hands the frame to the device's queue,
 * which never calls back).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "hostel-config.h"
#include "hostel/log.h"
#include "net/user.h"

#if HOSTEL_HAVE_SLIRP
#include <slirp/libslirp.h>

struct utimer {
	struct utimer *next;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
};

struct user_be {
	struct netbe be;
	Slirp *slirp;
	pthread_mutex_t lock; /* every libslirp call; the timers; the poll set */
	pthread_t thread;
	bool running;
	bool stop; /* atomic */
	int wake_fd;
	struct utimer *timers;
	struct pollfd *pfd;
	unsigned int npfd, cap;
	bool rx_blocked; /* the device's queue was full when the poll set was built */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void wake(struct user_be *u)
{
	uint64_t one = 1;

	if (write(u->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERROR, "net user: waking the thread: %s", strerror(errno));
}

/* ---- libslirp callbacks (u->lock held) ------------------------------------------ */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct user_be *u = opaque;

	netbe_deliver(&u->be, buf, len);
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	(void)opaque;
	log_ratelimited(LOG_DEBUG, "net user: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	(void)opaque;
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct user_be *u = opaque;
	struct utimer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = u->timers;
	u->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct user_be *u = opaque;

	for (struct utimer **pp = &u->timers; *pp; pp = &(*pp)->next) {
		if (*pp == timer) {
			*pp = ((struct utimer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct utimer *t = timer;

	if (t)
		t->expire_ms = expire_ms;
	/* Called from send() too: the thread recomputes its poll timeout. */
	wake(opaque);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	/* The poll set is rebuilt from slirp_pollfds_fill on every round. */
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct user_be *u = opaque;
	short ev = 0;

	if (u->npfd == u->cap) {
		unsigned int cap = u->cap ? 2 * u->cap : 32;
		struct pollfd *p = realloc(u->pfd, cap * sizeof(*p));

		if (!p)
			return -1;
		u->pfd = p;
		u->cap = cap;
	}
	/* Backpressure: while the guest cannot take frames, read nothing more. */
	if ((events & SLIRP_POLL_IN) && !u->rx_blocked)
		ev |= POLLIN;
	if ((events & SLIRP_POLL_PRI) && !u->rx_blocked)
		ev |= POLLPRI;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	u->pfd[u->npfd] = (struct pollfd){.fd = fd, .events = ev};
	return (int)u->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct user_be *u = opaque;
	short r;
	int ev = 0;

	if (idx < 1 || (unsigned int)idx >= u->npfd)
		return 0;
	r = u->pfd[idx].revents;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

/* Fire every expired timer; a callback may arm, add or free timers, so rescan. */
static void run_timers(struct user_be *u)
{
	int64_t now = now_ns() / 1000000;
	bool fired;

	do {
		fired = false;
		for (struct utimer *t = u->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);
				fired = true;
				break;
			}
		}
	} while (fired);
}

static void *thread_main(void *arg)
{
	struct user_be *u = arg;
	uint64_t v;

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		uint32_t timeout = UINT32_MAX;
		int64_t now = now_ns() / 1000000;
		int r;

		pthread_mutex_lock(&u->lock);
		u->npfd = 0;
		add_poll(u->wake_fd, SLIRP_POLL_IN, u); /* index 0, never blocked */
		u->pfd[0].events = POLLIN;
		u->rx_blocked = !netbe_peer_can_rx(&u->be);
		slirp_pollfds_fill(u->slirp, &timeout, add_poll, u);
		for (struct utimer *t = u->timers; t; t = t->next) {
			if (t->expire_ms < 0)
				continue;
			timeout = t->expire_ms <= now
					  ? 0
					  : (uint32_t)MIN((int64_t)timeout, t->expire_ms - now);
		}
		pthread_mutex_unlock(&u->lock);

		/* Only this thread changes pfd (under the lock, above). */
		r = poll(u->pfd, u->npfd,
			 timeout == UINT32_MAX ? -1 : (int)MIN(timeout, INT32_MAX));
		if (r < 0 && errno != EINTR) {
			log_error("net user: poll: %s", strerror(errno));
			break;
		}
		if (r > 0 && (u->pfd[0].revents & POLLIN) && read(u->wake_fd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			log_ratelimited(LOG_WARN, "net user: wake fd: %s", strerror(errno));

		pthread_mutex_lock(&u->lock);
		slirp_pollfds_poll(u->slirp, r < 0, get_revents, u);
		run_timers(u);
		pthread_mutex_unlock(&u->lock);
	}
	return NULL;
}

/* ---- netbe ops --------------------------------------------------------------------- */

static int user_start(struct netbe *be)
{
	struct user_be *u = (struct user_be *)be;
	sigset_t all, old;
	int r;

	if (u->running)
		return -EBUSY;
	__atomic_store_n(&u->stop, false, __ATOMIC_RELEASE);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&u->thread, NULL, thread_main, u);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_setname_np(u->thread, "net-user");
	u->running = true;
	return 0;
}

static int user_send(struct netbe *be, const void *frame, size_t len)
{
	struct user_be *u = (struct user_be *)be;

	if (len > INT32_MAX)
		return -EMSGSIZE;
	pthread_mutex_lock(&u->lock);
	slirp_input(u->slirp, frame, (int)len);
	pthread_mutex_unlock(&u->lock);
	/* A new connection or a queued reply: the thread must rebuild its poll set. */
	wake(u);
	return 0;
}

static void user_rx_resume(struct netbe *be)
{
	wake((struct user_be *)be);
}

static void user_destroy(struct netbe *be)
{
	struct user_be *u = (struct user_be *)be;

	if (u->running) {
		__atomic_store_n(&u->stop, true, __ATOMIC_RELEASE);
		wake(u);
		pthread_join(u->thread, NULL);
		u->running = false;
	}
	if (u->slirp)
		slirp_cleanup(u->slirp);
	while (u->timers) {
		struct utimer *t = u->timers;

		u->timers = t->next;
		free(t);
	}
	free(u->pfd);
	close(u->wake_fd);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static const struct netbe_ops user_ops = {
	.name = "user",
	.start = user_start,
	.send = user_send,
	.rx_resume = user_rx_resume,
	.destroy = user_destroy,
};

struct netbe *net_user_create(const struct net_opts *o, char *why, size_t whylen)
{
	SlirpConfig cfg = {.version = 4};
	struct user_be *u = calloc(1, sizeof(*u));

	if (!u) {
		snprintf(why, whylen, "net user: out of memory");
		return NULL;
	}
	u->be.ops = &user_ops;
	pthread_mutex_init(&u->lock, NULL);
	u->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->wake_fd < 0) {
		snprintf(why, whylen, "net user: eventfd: %s", strerror(errno));
		pthread_mutex_destroy(&u->lock);
		free(u);
		return NULL;
	}
	/* QEMU's defaults, which guests and users know. */
	cfg.restricted = o->restricted;
	cfg.in_enabled = true;
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.in6_enabled = true;
	inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
	cfg.vprefix_len = 64;
	inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
	inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
	cfg.vhostname = "hostel";
	u->slirp = slirp_new(&cfg, &slirp_cbs, u);
	if (!u->slirp) {
		snprintf(why, whylen, "net user: cannot start libslirp");
		user_destroy(&u->be);
		return NULL;
	}
	for (unsigned int i = 0; i < o->nr_fwds && i < NET_MAX_FWDS; i++) {
		const struct net_fwd *f = &o->fwds[i];
		struct in_addr h = {.s_addr = f->host_addr}, g = {.s_addr = f->guest_addr};

		if (slirp_add_hostfwd(u->slirp, f->udp, h, f->host_port, g, f->guest_port) < 0) {
			char s[96];

			net_format_fwd(f, s, sizeof(s));
			snprintf(why, whylen,
				 "--net user: hostfwd %s: cannot listen on the host address "
				 "(port in use?)",
				 s);
			user_destroy(&u->be);
			return NULL;
		}
	}
	for (unsigned int i = 0; i < o->nr_gfwds && i < NET_MAX_GFWDS; i++) {
		const struct net_gfwd *g = &o->gfwds[i];
		struct in_addr ga = {.s_addr = g->guest_addr};
		char s[NET_GFWD_MAX + 40];

		/* Each guest connection gets its own host connection or process. */
		if ((g->cmd ? slirp_add_exec(u->slirp, g->target, &ga, g->guest_port)
			    : slirp_add_unix(u->slirp, g->target, &ga, g->guest_port)) < 0) {
			net_format_gfwd(g, s, sizeof(s));
			snprintf(why, whylen, "--net user: guestfwd %s: libslirp refused it", s);
			user_destroy(&u->be);
			return NULL;
		}
	}
	return &u->be;
}

#else /* !HOSTEL_HAVE_SLIRP */

struct netbe *net_user_create(const struct net_opts *o, char *why, size_t whylen)
{
	(void)o;
	snprintf(why, whylen,
		 "--net user: this hostel was built without libslirp "
		 "(install libslirp-dev and rebuild)");
	return NULL;
}

#endif
