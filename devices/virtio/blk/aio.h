/* SPDX-License-Identifier: MIT */
/*
 * Asynchronous I/O engines for virtio-blk: the disk's worker thread hands
 * plain reads and writes (an fd, guest buffers, an offset) to an engine and
 * keeps popping requests; the engine runs many of them at once on the host
 * and reports each completion, in any order, through an eventfd.
 *
 *   uring   io_uring (Debian's liburing): one submission per batch of
 *           requests, completions on a registered eventfd; reads served
 *           from the page cache complete inline, without a thread switch.
 *   thread  a pool of BLK_AIO_THREADS threads doing preadv/pwritev.
 *
 * An engine is used by one thread (the disk's worker): submit, kick and
 * reap are not reentrant. It never touches the virtqueue.
 */
#ifndef HOSTEL_BLK_AIO_H
#define HOSTEL_BLK_AIO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "hostel/compiler.h"

#define BLK_AIO_THREADS 4 /* threads of the thread engine */

enum blk_aio_kind {
	BLK_AIO_THREAD = 0, /* the default (bench/README.md, "Disk") */
	BLK_AIO_URING,
};

/* One read or write in flight. The caller owns it until it is reaped. */
struct blk_aio_req {
	int fd;
	bool wr;
	const struct iovec *iov; /* guest buffers; valid until reaped */
	int iovcnt;
	uint64_t off;
	uint64_t len; /* sum of the iov lengths */
	/*
	 * At completion: len when everything was transferred, -errno when the
	 * host failed, or a smaller count (short transfer) that the caller
	 * finishes or fails on its own.
	 */
	ssize_t res;
	struct blk_aio_req *next; /* the engine's list link */
};

struct blk_aio;

/*
 * An engine of @kind for up to @depth requests in flight. When io_uring
 * cannot be set up (an old kernel, io_uring disabled by sysctl or seccomp)
 * it logs one line naming @what and gives the thread engine instead. NULL
 * only when not even threads can be had.
 */
struct blk_aio *blk_aio_create(enum blk_aio_kind kind, unsigned int depth,
			       const char *what) __must_check;
void blk_aio_destroy(struct blk_aio *a); /* waits for requests in flight */

enum blk_aio_kind blk_aio_kind(const struct blk_aio *a);
const char *blk_aio_name(enum blk_aio_kind kind); /* "uring", "thread" */
/* "uring" or "thread" -> the kind, or -EINVAL. */
int blk_aio_parse(const char *s);

/* Readable (poll) when completions may be waiting; reap then. */
int blk_aio_event_fd(const struct blk_aio *a);
/* Queue @r; it starts at the latest at the next blk_aio_kick(). */
void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r);
/* Start everything queued since the last kick. */
void blk_aio_kick(struct blk_aio *a);
/*
 * Completed requests, without waiting, as a list linked through ->next
 * (any order), NULL when none. Clears the event fd first, so a completion
 * that races with this call leaves it readable.
 */
struct blk_aio_req *blk_aio_reap(struct blk_aio *a);

#endif
