// SPDX-License-Identifier: MIT
/* --net tap: a host tap interface (see tap.h). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include "hostel/log.h"
#include "net/tap.h"

#define HDR_LEN	  sizeof(struct virtio_net_hdr_v1) /* 12, what TUNSETVNETHDRSZ sets */
#define ETH_HLEN_ 14u
/* The largest frame the device takes (VNET_FRAME_MAX) and its header. */
#define FRAME_MAX 65550u

_Static_assert(sizeof(struct virtio_net_hdr_v1) == 12, "virtio_net_hdr_v1 layout");

struct tap_be {
	struct netbe be;
	int fd;
	char ifname[NET_IFNAME_MAX];
	int wake_fd;
	pthread_t thread;
	bool running;
	bool stop;	       /* atomic */
	bool failed;	       /* atomic: set once, by whichever thread saw the tap go */
	pthread_mutex_t slock; /* stats */
	struct net_tap_stats st;
	uint8_t rbuf[HDR_LEN + FRAME_MAX + 1]; /* + 1: a longer read is detected */
};

static void stat_add(struct tap_be *t, uint64_t *field)
{
	pthread_mutex_lock(&t->slock);
	(*field)++;
	pthread_mutex_unlock(&t->slock);
}

static void wake(struct tap_be *t)
{
	uint64_t one = 1;

	if (write(t->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_ERROR, "net tap %s: waking the thread: %s", t->ifname,
				strerror(errno));
}

/* Errors that mean the tap is gone for good (deleted, its queue detached). */
static bool gone_errno(int e)
{
	return e == EBADFD || e == EBADF || e == ENODEV || e == ENXIO || e == EPIPE ||
	       e == ECONNRESET;
}

/* The tap went away: one line, then this NIC is disconnected. */
static void tap_fail(struct tap_be *t, const char *what)
{
	if (__atomic_exchange_n(&t->failed, true, __ATOMIC_ACQ_REL))
		return;
	pthread_mutex_lock(&t->slock);
	t->st.failed = true;
	pthread_mutex_unlock(&t->slock);
	log_error("net tap %s: %s: the tap is gone; this NIC is disconnected, the VM goes on",
		  t->ifname, what);
}

/*
 * One frame read from the tap, with its header, to the device (which
 * checks the header against what the guest negotiated).
 */
static void deliver(struct tap_be *t, size_t n)
{
	struct netbe_hdr hdr;

	if (n < HDR_LEN + ETH_HLEN_ || n > HDR_LEN + FRAME_MAX) {
		stat_add(t, &t->st.rx_dropped);
		return;
	}
	memcpy(&hdr, t->rbuf, HDR_LEN);
	/* Counted first: whoever sees the frame arrive sees it counted. */
	stat_add(t, &t->st.rx_frames);
	netbe_deliver_hdr(&t->be, &hdr, t->rbuf + HDR_LEN, n - HDR_LEN);
}

static void *thread_main(void *arg)
{
	struct tap_be *t = arg;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		/* Read only while the device can take a frame; rx_resume wakes us. */
		bool can = netbe_peer_can_rx(&t->be);
		struct pollfd p[2] = {
			{.fd = t->wake_fd, .events = POLLIN},
			{.fd = t->fd, .events = can ? POLLIN : 0},
		};
		uint64_t v;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("net tap %s: poll: %s", t->ifname, strerror(errno));
			break;
		}
		if ((p[0].revents & POLLIN) && read(t->wake_fd, &v, sizeof(v)) < 0 &&
		    errno != EAGAIN)
			log_ratelimited(LOG_WARN, "net tap %s: wake fd: %s", t->ifname,
					strerror(errno));
		if (p[1].revents & POLLIN) {
			ssize_t n = read(t->fd, t->rbuf, sizeof(t->rbuf));

			if (n > 0) {
				deliver(t, (size_t)n);
				continue;
			}
			if (n == 0) {
				tap_fail(t, "read: end of file");
				break;
			}
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (gone_errno(errno)) {
				tap_fail(t, errno == EBADFD ? "read: interface deleted"
							    : strerror(errno));
				break;
			}
			/* Anything else (EINVAL on a short buffer, ENOMEM): this frame only. */
			stat_add(t, &t->st.rx_dropped);
			log_ratelimited(LOG_WARN, "net tap %s: read: %s", t->ifname,
					strerror(errno));
			continue;
		}
		if (p[1].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			tap_fail(t, "poll: interface deleted");
			break;
		}
	}
	return NULL;
}

/* ---- netbe ops --------------------------------------------------------------------- */

static int tap_start(struct netbe *be)
{
	struct tap_be *t = (struct tap_be *)be;
	sigset_t all, old;
	int r;

	if (t->running)
		return -EBUSY;
	__atomic_store_n(&t->stop, false, __ATOMIC_RELEASE);
	/* Signals belong to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&t->thread, NULL, thread_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		return -r;
	pthread_setname_np(t->thread, "net-tap");
	t->running = true;
	return 0;
}

static int tap_send_hdr(struct netbe *be, const struct netbe_hdr *hdr, const void *frame,
			size_t len)
{
	struct tap_be *t = (struct tap_be *)be;
	struct iovec iov[2] = {
		{.iov_base = (void *)hdr, .iov_len = HDR_LEN},
		{.iov_base = (void *)frame, .iov_len = len},
	};
	ssize_t n;

	if (__atomic_load_n(&t->failed, __ATOMIC_ACQUIRE))
		return -ENODEV;
	n = writev(t->fd, iov, 2);
	if (n == (ssize_t)(HDR_LEN + len)) {
		stat_add(t, &t->st.tx_frames);
		return 0;
	}
	if (n >= 0)
		errno = EIO; /* a tap takes a frame whole or not at all */
	if (gone_errno(errno)) {
		tap_fail(t, errno == EBADFD ? "write: interface deleted" : strerror(errno));
		/* The thread may be waiting in poll with the tap not in its set. */
		wake(t);
		return -ENODEV;
	}
	/*
	 * EIO: the link is down; EAGAIN, ENOBUFS: no room; EINVAL: the kernel
	 * refused the header (a malformed offload). The frame only.
	 */
	stat_add(t, &t->st.tx_dropped);
	log_ratelimited(LOG_DEBUG, "net tap %s: frame dropped: %s", t->ifname,
			errno == EIO ? "the link is down" : strerror(errno));
	return -errno;
}

static int tap_send(struct netbe *be, const void *frame, size_t len)
{
	static const struct netbe_hdr none = {.gso_type = VIRTIO_NET_HDR_GSO_NONE};

	return tap_send_hdr(be, &none, frame, len);
}

/* TUNSETOFFLOAD: what the kernel may hand us (and so the guest) from now on. */
static int tap_set_rx_offloads(struct netbe *be, uint64_t guest)
{
	struct tap_be *t = (struct tap_be *)be;
	unsigned long flags = 0;

	if (guest & NETBE_F_GUEST_CSUM) {
		flags |= TUN_F_CSUM;
		if (guest & NETBE_F_GUEST_TSO4)
			flags |= TUN_F_TSO4;
		if (guest & NETBE_F_GUEST_TSO6)
			flags |= TUN_F_TSO6;
		if ((guest & NETBE_F_GUEST_ECN) && (flags & (TUN_F_TSO4 | TUN_F_TSO6)))
			flags |= TUN_F_TSO_ECN;
	}
	if (ioctl(t->fd, TUNSETOFFLOAD, flags) < 0)
		return -errno;
	return 0;
}

static void tap_rx_resume(struct netbe *be)
{
	wake((struct tap_be *)be);
}

static void tap_destroy(struct netbe *be)
{
	struct tap_be *t = (struct tap_be *)be;

	if (t->running) {
		__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
		wake(t);
		pthread_join(t->thread, NULL);
		t->running = false;
	}
	if (t->fd >= 0)
		close(t->fd);
	close(t->wake_fd);
	pthread_mutex_destroy(&t->slock);
	free(t);
}

static const struct netbe_ops tap_ops = {
	.name = "tap",
	.start = tap_start,
	.send = tap_send,
	.offloads = NETBE_OFFLOADS,
	.send_hdr = tap_send_hdr,
	.set_rx_offloads = tap_set_rx_offloads,
	.rx_resume = tap_rx_resume,
	.destroy = tap_destroy,
};

void net_tap_get_stats(struct netbe *be, struct net_tap_stats *st)
{
	struct tap_be *t = (struct tap_be *)be;

	pthread_mutex_lock(&t->slock);
	*st = t->st;
	pthread_mutex_unlock(&t->slock);
}

struct netbe *net_tap_create_fd(int fd, const char *ifname)
{
	struct tap_be *t;

	if (fd < 0 || !ifname)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->wake_fd < 0) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->slock, NULL);
	t->be.ops = &tap_ops;
	t->fd = fd;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	/* The thread reads only after poll says so; send never waits. */
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		log_warn("net tap %s: O_NONBLOCK: %s", ifname, strerror(errno));
	return &t->be;
}

struct netbe *net_tap_create(const struct net_opts *o, char *why, size_t whylen)
{
	struct ifreq ifr = {0};
	int fd, hdr = (int)HDR_LEN, e;
	struct netbe *be;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		e = errno;
		snprintf(why, whylen, "--net tap,ifname=%s: cannot open /dev/net/tun: %s%s",
			 o->ifname, strerror(e),
			 e == ENOENT ? " (no tun driver: modprobe tun)" : "");
		return NULL;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", o->ifname);
	/* Attaches to an existing tap, or creates it (needs CAP_NET_ADMIN). */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		snprintf(why, whylen, "--net tap,ifname=%s: %s", o->ifname,
			 e == EPERM || e == EACCES
				 ? "no permission to create or attach this tap (create it for "
				   "this user first: ip tuntap add NAME mode tap user USER)"
			 : e == EBUSY  ? "the tap is in use by another process"
			 : e == EINVAL ? "an interface of that name exists and is not a tap this "
					 "user can attach to"
				       : strerror(e));
		close(fd);
		return NULL;
	}
	/* No offloads until the guest's driver says which it takes (set_rx_offloads). */
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 || ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		snprintf(why, whylen, "--net tap,ifname=%s: setting up the virtio-net header: %s",
			 o->ifname, strerror(errno));
		close(fd);
		return NULL;
	}
	be = net_tap_create_fd(fd, ifr.ifr_name);
	if (!be) {
		snprintf(why, whylen, "--net tap,ifname=%s: out of memory", o->ifname);
		close(fd);
		return NULL;
	}
	log_debug("net tap %s: attached", ifr.ifr_name);
	return be;
}
