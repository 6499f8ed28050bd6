// SPDX-License-Identifier: MIT
/*
 * virtio-console device model (virtio 1.x, section "Console Device"),
 * output only: the transmit queue's worker thread, the output paths to a
 * file descriptor or a callback, and the (all-zero) device configuration
 * space. See vcon.h for the guest-visible behaviour and the fd rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ring.h>

#include "hostel/log.h"
#include "virtio/console/vcon.h"

/* Bounce buffer: guest bytes are copied here once, then written out. */
#define CHUNK (64 * 1024)
/* Pushes between two interrupt checks while draining a busy queue. */
#define NOTIFY_BATCH 32
/* struct virtio_console_config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
#define CONFIG_SIZE 12u

/* How the output descriptor is written (chosen once, at create; vcon.h). */
enum out_mode {
	OUT_FN,	      /* the callback */
	OUT_SOCK,     /* send(MSG_DONTWAIT | MSG_NOSIGNAL): never blocks */
	OUT_NONBLOCK, /* a non-blocking description: write, poll on EAGAIN */
	OUT_FILE,     /* a regular file or block device: never waits for a reader */
	OUT_PIECES,   /* a blocking pipe or terminal not reopened: poll, then <= PIPE_BUF */
};

struct vcon {
	struct vcon_out out;
	enum out_mode mode;
	int wfd;      /* the descriptor written: out.fd or our reopened one */
	bool own_wfd; /* wfd is our reopened description: close it */
	uint64_t offered;
	uint64_t negotiated; /* atomic: written by the transport, read by nobody yet */

	/* Transmit worker. */
	pthread_t thread;
	bool running; /* owned by the vcon_start/vcon_stop caller */
	bool stop;    /* atomic: vcon_stop asked the worker to exit */
	bool broken;  /* the worker saw a broken ring and stopped consuming */
	int stop_fd;  /* eventfd that wakes the worker to exit */
	int tx_kick;  /* the transport's eventfd (not ours) */
	struct virtq *txq;
	struct vcon_queue_cb cb;
	unsigned int unsignalled; /* pushes since the last interrupt check */

	/* Receive queue: recorded, never consumed (input is not implemented). */
	struct virtq *rxq;
	int rx_kick;

	struct virtq_chain chain; /* the worker's popped chain */
	uint8_t buf[CHUNK];

	struct vcon_stats stats;
};

#define STAT_ADD(c, field, n) __atomic_fetch_add(&(c)->stats.field, (n), __ATOMIC_RELAXED)

/* ---- config space, features ---------------------------------------------- */

unsigned int vcon_config_size(void)
{
	return CONFIG_SIZE;
}

void vcon_config_read(const struct vcon *c, uint64_t off, void *data, unsigned int len)
{
	/*
	 * cols/rows (F_SIZE), max_nr_ports (F_MULTIPORT) and emerg_wr
	 * (F_EMERG_WRITE) mean nothing without their features, none of which
	 * is offered: every byte reads 0, and so does anything past them.
	 */
	(void)c;
	(void)off;
	memset(data, 0, len);
}

void vcon_config_write(struct vcon *c, uint64_t off, const void *data, unsigned int len)
{
	/* emerg_wr is the only writable field, and only with F_EMERG_WRITE. */
	(void)c;
	(void)data;
	(void)len;
	log_ratelimited(LOG_DEBUG, "virtio-console: config write at %#llx ignored",
			(unsigned long long)off);
}

uint64_t vcon_features(const struct vcon *c)
{
	return c->offered;
}

void vcon_set_features(struct vcon *c, uint64_t negotiated)
{
	__atomic_store_n(&c->negotiated, negotiated & c->offered, __ATOMIC_RELAXED);
}

void vcon_get_stats(const struct vcon *c, struct vcon_stats *st)
{
	const uint64_t *src = (const uint64_t *)(const void *)&c->stats;
	uint64_t *dst = (uint64_t *)(void *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- create / destroy ------------------------------------------------------- */

/*
 * A private non-blocking open file description of the pipe or terminal
 * behind @fd (vcon.h), or -1. The same object is checked by device and
 * inode, in case /proc is not what it should be.
 */
static int reopen_nonblock(int fd, const struct stat *st)
{
	char path[64];
	struct stat st2;
	int nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (nfd < 0) {
		/* ENXIO: a FIFO without a reader; EACCES, ENOENT: no usable /proc. */
		log_debug("virtio-console: cannot reopen fd %d non-blocking: %s", fd,
			  strerror(errno));
		return -1;
	}
	if (fstat(nfd, &st2) < 0 || st2.st_dev != st->st_dev || st2.st_ino != st->st_ino ||
	    st2.st_rdev != st->st_rdev) {
		close(nfd);
		return -1;
	}
	return nfd;
}

static int out_setup(struct vcon *c, int fd)
{
	struct stat st;
	int fl, nfd;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fstat(fd, &st) < 0)
		return -errno;
	if ((fl & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	c->wfd = fd;
	if (S_ISSOCK(st.st_mode)) {
		c->mode = OUT_SOCK;
	} else if (fl & O_NONBLOCK) {
		/* Already non-blocking: the caller keeps it so (vcon.h). */
		c->mode = OUT_NONBLOCK;
	} else if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		c->mode = OUT_FILE;
	} else if ((S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) &&
		   (nfd = reopen_nonblock(fd, &st)) >= 0) {
		c->wfd = nfd;
		c->own_wfd = true;
		c->mode = OUT_NONBLOCK;
	} else {
		c->mode = OUT_PIECES;
	}
	return 0;
}

struct vcon *vcon_create(const struct vcon_out *out)
{
	struct vcon *c;
	int r;

	if (!out || (out->fd >= 0) == (out->fn != NULL)) {
		log_error("virtio-console: the output must be one descriptor or one callback");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->out = *out;
	c->wfd = -1;
	c->tx_kick = c->rx_kick = -1;
	if (out->fd >= 0) {
		r = out_setup(c, out->fd);
		if (r < 0) {
			log_error("virtio-console: output fd %d: %s", out->fd, strerror(-r));
			free(c);
			return NULL;
		}
	} else {
		c->mode = OUT_FN;
	}
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0) {
		log_error("virtio-console: eventfd: %s", strerror(errno));
		if (c->own_wfd)
			close(c->wfd);
		free(c);
		return NULL;
	}
	/* No device features: F_SIZE, F_MULTIPORT and F_EMERG_WRITE are not offered. */
	c->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC;
	return c;
}

void vcon_destroy(struct vcon *c)
{
	if (!c)
		return;
	vcon_stop(c);
	close(c->stop_fd);
	if (c->own_wfd)
		close(c->wfd);
	free(c);
}

/* ---- output ------------------------------------------------------------------ */

static bool stop_requested(struct vcon *c)
{
	return __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
}

static void maybe_notify(struct vcon *c)
{
	if (!c->txq || !c->unsignalled)
		return;
	c->unsignalled = 0;
	if (virtq_should_notify(c->txq) && c->cb.notify)
		c->cb.notify(c->cb.opaque);
}

/*
 * Wait until the output takes bytes, or vcon_stop. 0: writable; 1: the
 * descriptor reports an error or hang-up (the write says which); -ECANCELED:
 * stop was asked and the output cannot take bytes right now; -EIO: poll
 * itself failed. Once stop is asked this never waits.
 */
static int wait_writable(struct vcon *c)
{
	struct pollfd p[2] = {
		{.fd = c->wfd, .events = POLLOUT},
		{.fd = c->stop_fd, .events = POLLIN},
	};
	int timeout = 0;

	for (;;) {
		bool stopping = stop_requested(c);

		if (poll(p, stopping ? 1 : 2, stopping ? 0 : timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_ratelimited(LOG_WARN, "virtio-console: poll on the output: %s",
					strerror(errno));
			return -EIO;
		}
		if (p[0].revents & POLLOUT)
			return 0;
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return 1;
		if (stopping)
			return -ECANCELED;
		if (timeout == 0) {
			/*
			 * The output is full: interrupts owed for chains already
			 * pushed go out now, not after the reader catches up.
			 */
			STAT_ADD(c, stalls, 1);
			maybe_notify(c);
			timeout = -1;
		}
		/* Otherwise the stop eventfd fired: loop to the non-waiting path. */
	}
}

/*
 * Hand @len bytes to the output; *done is how many were delivered. 0, or
 * -EIO (a write error: the rest is dropped) or -ECANCELED (vcon_stop while
 * the output was full).
 */
static int deliver(struct vcon *c, const uint8_t *p, size_t len, size_t *done)
{
	bool wait = c->mode == OUT_PIECES;
	bool hup = false, polled = false;
	unsigned int futile = 0; /* EAGAIN right after poll() said writable */
	size_t off = 0;
	int r;

	*done = 0;
	if (c->mode == OUT_FN) {
		c->out.fn(c->out.opaque, p, len);
		STAT_ADD(c, bytes, len);
		*done = len;
		return 0;
	}
	while (off < len) {
		size_t n = len - off;
		ssize_t w;

		if (wait) {
			r = wait_writable(c);
			if (r < 0) {
				*done = off;
				return r == -ECANCELED ? r : -EIO;
			}
			hup = r == 1;
			polled = true;
		}
		/* POLLOUT guarantees a free pipe page: PIPE_BUF bytes fit without blocking. */
		if (c->mode == OUT_PIECES && n > PIPE_BUF)
			n = PIPE_BUF;
		if (c->mode == OUT_SOCK)
			w = send(c->wfd, p + off, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			w = write(c->wfd, p + off, n);
		if (w > 0) {
			off += (size_t)w;
			STAT_ADD(c, bytes, (uint64_t)w);
			wait = c->mode == OUT_PIECES;
			futile = 0;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		/*
		 * Would block: wait. Another writer of the same pipe can take the
		 * room between poll() and write(), but an output that keeps saying
		 * "writable" and takes nothing would make this loop spin.
		 */
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !hup &&
		    (!polled || ++futile < 1000)) {
			wait = true;
			continue;
		}
		/* write() returning 0 for a non-zero count would spin: an error too. */
		STAT_ADD(c, write_errors, 1);
		log_ratelimited(LOG_WARN,
				"virtio-console: output write failed: %s; dropping %zu bytes",
				w < 0 ? strerror(errno) : "no progress", len - off);
		*done = off;
		return -EIO;
	}
	*done = off;
	return 0;
}

/*
 * Readable segments only, each with host memory for its length. A chain
 * from virtq_pop() always passes the structural checks; they are here for
 * hand-built chains (tests, fuzzing) and as a defence.
 */
static bool chain_ok(const struct virtq_chain *ch, uint64_t *total)
{
	*total = 0;
	if (ch->nr_segs > VIRTQ_MAX_SEGS || ch->nr_read > ch->nr_segs)
		return false;
	/* virtio 1.x: transmitq buffers are driver-written only. */
	if (ch->nr_read != ch->nr_segs)
		return false;
	for (unsigned int i = 0; i < ch->nr_segs; i++) {
		const struct virtq_seg *s = &ch->segs[i];

		if (s->write || (s->len && !s->host))
			return false;
		*total += s->len;
	}
	return true;
}

/* Deliver the first @len bytes of the bounce buffer, piece number *pieces of a chain. */
static int deliver_piece(struct vcon *c, size_t len, uint64_t *sent, unsigned int *pieces)
{
	size_t done = 0;
	int r;

	if ((*pieces)++ && stop_requested(c))
		return -ECANCELED;
	r = deliver(c, c->buf, len, &done);
	*sent += done;
	return r;
}

int vcon_handle_chain(struct vcon *c, const struct virtq_chain *ch)
{
	uint64_t total, sent = 0;
	unsigned int pieces = 0;
	size_t fill = 0;
	int r = 0;

	if (!ch || !chain_ok(ch, &total)) {
		STAT_ADD(c, bad_chains, 1);
		log_ratelimited(LOG_DEBUG, "virtio-console: transmit chain %u rejected (%s)",
				ch ? ch->head : 0, "device-writable or malformed buffers");
		return -EINVAL;
	}
	/*
	 * Copy once into the host buffer (the guest may rewrite its buffers),
	 * then write. A chain can name up to VIRTQ_MAX_SEGS buffers of any size
	 * in RAM, so even an output that never waits could hold a reset for
	 * long: once stop is asked, no piece after the first is started.
	 */
	for (unsigned int i = 0; i < ch->nr_segs && !r; i++) {
		const uint8_t *src = ch->segs[i].host;
		uint64_t left = ch->segs[i].len;

		while (left && !r) {
			size_t n = (size_t)MIN(left, (uint64_t)(CHUNK - fill));

			memcpy(c->buf + fill, src, n);
			fill += n;
			src += n;
			left -= n;
			if (fill == CHUNK) {
				r = deliver_piece(c, fill, &sent, &pieces);
				fill = 0;
			}
		}
	}
	if (!r && fill)
		r = deliver_piece(c, fill, &sent, &pieces);
	STAT_ADD(c, chains, 1);
	if (sent < total)
		STAT_ADD(c, dropped, total - sent);
	if (r == -ECANCELED) {
		STAT_ADD(c, cancelled, 1);
		log_ratelimited(
			LOG_INFO,
			"virtio-console: reset while writing a transmit buffer: %llu bytes dropped",
			(unsigned long long)(total - sent));
		return r;
	}
	return 0;
}

/* ---- worker ------------------------------------------------------------------ */

/* Complete one virtq_pop() result. false: the ring is broken, stop consuming. */
static bool complete(struct vcon *c, int popped)
{
	if (popped == -EINVAL) {
		/* A bad chain (virtq.h): nothing to deliver; len 0 and go on. */
		STAT_ADD(c, bad_chains, 1);
	} else if (popped == 1) {
		/* Good, dropped or cancelled: the device wrote nothing into it. */
		vcon_handle_chain(c, &c->chain);
	} else {
		/* -EIO or anything unexpected: the ring state cannot be trusted. */
		c->broken = true;
		log_ratelimited(LOG_WARN, "virtio-console: transmit queue broken, needs reset");
		maybe_notify(c);
		if (c->cb.needs_reset)
			c->cb.needs_reset(c->cb.opaque);
		return false;
	}
	/* Only now, with the bytes delivered: the guest's write() may return. */
	virtq_push(c->txq, c->chain.head, 0);
	if (++c->unsignalled >= NOTIFY_BATCH)
		maybe_notify(c);
	return true;
}

static void process_queue(struct vcon *c)
{
	int r;

	for (;;) {
		/* Suppress kicks while draining: we are going to look anyway. */
		virtq_set_notify(c->txq, false);
		while (!stop_requested(c) && (r = virtq_pop(c->txq, &c->chain)) != 0) {
			if (!complete(c, r))
				return;
		}
		maybe_notify(c);
		if (stop_requested(c))
			return;
		/*
		 * Re-enabling ends with a full barrier (virtq.c) that pairs with
		 * the driver's between publishing avail->idx and reading
		 * used->flags / avail_event: either the re-check below sees its
		 * new buffer, or the driver sees kicks enabled and kicks.
		 */
		virtq_set_notify(c->txq, true);
		if (!virtq_has_avail(c->txq))
			return;
	}
}

static void *worker_main(void *arg)
{
	struct vcon *c = arg;
	struct pollfd p[2] = {
		{.fd = c->stop_fd, .events = POLLIN},
		{.fd = c->tx_kick, .events = POLLIN},
	};
	uint64_t v;

	/* Buffers made available before the worker started get served too. */
	if (!stop_requested(c))
		process_queue(c);
	while (!stop_requested(c)) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("virtio-console: worker poll failed: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & (POLLERR | POLLNVAL)) {
			/* A dead kick fd: wait for vcon_stop only (poll skips fd -1). */
			log_error("virtio-console: queue notify fd failed; queue stalled");
			p[1].fd = -1;
			continue;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		/* The worker is the only reader of the kick eventfd: this cannot block. */
		if (read(c->tx_kick, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
			log_ratelimited(LOG_WARN, "virtio-console: reading queue notify: %s",
					strerror(errno));
		if (!c->broken)
			process_queue(c);
	}
	return NULL;
}

int vcon_start(struct vcon *c, unsigned int q, struct virtq *vq, int kick_fd,
	       const struct vcon_queue_cb *cb)
{
	sigset_t all, old;
	int r;

	if (!vq || kick_fd < 0 || q >= VCON_NR_QUEUES)
		return -EINVAL;
	if (q == VCON_RX_QUEUE) {
		/* Input is not implemented: keep the queue, never touch it. */
		if (c->rxq)
			return -EBUSY;
		c->rxq = vq;
		c->rx_kick = kick_fd;
		return 0;
	}
	if (c->running)
		return -EBUSY;
	c->txq = vq;
	c->tx_kick = kick_fd;
	c->cb = cb ? *cb : (struct vcon_queue_cb){0};
	c->broken = false;
	c->unsignalled = 0;
	__atomic_store_n(&c->stop, false, __ATOMIC_RELEASE);
	/*
	 * Signals (SIGTERM, SIGINT...) belong to the main thread, not to the
	 * worker; a SIGPIPE from writing to a gone reader stays pending here,
	 * harmless, and the write fails with EPIPE.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&c->thread, NULL, worker_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		c->txq = NULL;
		c->tx_kick = -1;
		return -r;
	}
	pthread_setname_np(c->thread, "vcon-tx");
	c->running = true;
	return 0;
}

void vcon_stop(struct vcon *c)
{
	uint64_t one = 1;

	c->rxq = NULL;
	c->rx_kick = -1;
	if (!c->running)
		return;
	__atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
	/* The eventfd counter cannot overflow here (one write per stop), so this cannot fail. */
	if (write(c->stop_fd, &one, sizeof(one)) < 0)
		log_error("virtio-console: waking the worker: %s", strerror(errno));
	/* The worker never waits once stop is set (wait_writable), so this returns. */
	pthread_join(c->thread, NULL);
	/* Reset the eventfd counter for the next start (non-blocking fd). */
	if (read(c->stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("virtio-console: draining stop eventfd: %s", strerror(errno));
	/* Stopped, not stopping: a vcon_handle_chain caller may wait for the output again. */
	__atomic_store_n(&c->stop, false, __ATOMIC_RELEASE);
	c->running = false;
	c->txq = NULL;
	c->tx_kick = -1;
}
