// SPDX-License-Identifier: MIT
/*
 * virtio-blk I/O engines: io_uring through liburing, and a thread pool
 * doing preadv/pwritev, both reporting completions on an eventfd.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <liburing.h>

#include "hostel/log.h"
#include "virtio/blk/aio.h"

struct blk_aio {
	enum blk_aio_kind kind;
	int efd; /* completions: eventfd */

	/* uring */
	struct io_uring ring;
	struct blk_aio_req *failed; /* could not be queued: completed with an error */

	/* thread */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct blk_aio_req *head, **tail; /* queued, FIFO */
	struct blk_aio_req *done;	  /* completed, not yet reaped */
	bool stop;
	unsigned int nr_threads;
	pthread_t threads[BLK_AIO_THREADS];
};

const char *blk_aio_name(enum blk_aio_kind kind)
{
	return kind == BLK_AIO_THREAD ? "thread" : "uring";
}

int blk_aio_parse(const char *s)
{
	if (s && !strcmp(s, "uring"))
		return BLK_AIO_URING;
	if (s && !strcmp(s, "thread"))
		return BLK_AIO_THREAD;
	return -EINVAL;
}

enum blk_aio_kind blk_aio_kind(const struct blk_aio *a)
{
	return a->kind;
}

int blk_aio_event_fd(const struct blk_aio *a)
{
	return a->efd;
}

static void signal_efd(struct blk_aio *a)
{
	uint64_t one = 1;

	/* Cannot overflow (one per completion); EAGAIN would mean it is readable anyway. */
	if (write(a->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_ratelimited(LOG_WARN, "virtio-blk: completion eventfd: %s", strerror(errno));
}

static void clear_efd(struct blk_aio *a)
{
	uint64_t v;

	if (read(a->efd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
		log_ratelimited(LOG_WARN, "virtio-blk: completion eventfd: %s", strerror(errno));
}

/* ---- thread pool ----------------------------------------------------------- */

static ssize_t do_io(const struct blk_aio_req *r)
{
	ssize_t n;

	/* More than IOV_MAX pieces (never with hostel's seg_max): the caller finishes it. */
	if (r->iovcnt > IOV_MAX)
		return 0;
	do {
		n = r->wr ? pwritev(r->fd, r->iov, r->iovcnt, (off_t)r->off)
			  : preadv(r->fd, r->iov, r->iovcnt, (off_t)r->off);
	} while (n < 0 && errno == EINTR);
	/* A short count is returned as is: the caller finishes the rest. */
	return n < 0 ? -errno : n;
}

static void *pool_main(void *arg)
{
	struct blk_aio *a = arg;

	pthread_mutex_lock(&a->mu);
	for (;;) {
		struct blk_aio_req *r;

		while (!a->head && !a->stop)
			pthread_cond_wait(&a->cv, &a->mu);
		if (!a->head)
			break; /* stop, and nothing left to do */
		r = a->head;
		a->head = r->next;
		if (!a->head)
			a->tail = &a->head;
		pthread_mutex_unlock(&a->mu);
		r->res = do_io(r);
		pthread_mutex_lock(&a->mu);
		r->next = a->done;
		a->done = r;
		signal_efd(a);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

static int pool_init(struct blk_aio *a)
{
	sigset_t all, old;
	int r = 0;

	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->tail = &a->head;
	/* Signals belong to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned int i = 0; i < BLK_AIO_THREADS; i++) {
		r = pthread_create(&a->threads[i], NULL, pool_main, a);
		if (r)
			break;
		pthread_setname_np(a->threads[i], "blk-io");
		a->nr_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* At least one thread: fewer only run fewer requests at once. */
	return a->nr_threads ? 0 : -r;
}

static void pool_fini(struct blk_aio *a)
{
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
	for (unsigned int i = 0; i < a->nr_threads; i++)
		pthread_join(a->threads[i], NULL);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
}

/* ---- io_uring ---------------------------------------------------------------- */

static int uring_init(struct blk_aio *a, unsigned int depth)
{
	int r = io_uring_queue_init(depth, &a->ring, 0);

	if (r < 0)
		return r;
	r = io_uring_register_eventfd(&a->ring, a->efd);
	if (r < 0) {
		io_uring_queue_exit(&a->ring);
		return r;
	}
	return 0;
}

static void uring_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&a->ring);

	if (!sqe) {
		/* The ring is full: start what it holds, then there is room. */
		blk_aio_kick(a);
		sqe = io_uring_get_sqe(&a->ring);
	}
	if (!sqe) {
		r->res = -EAGAIN; /* the caller finishes it by itself */
		r->next = a->failed;
		a->failed = r;
		signal_efd(a);
		return;
	}
	if (r->wr)
		io_uring_prep_writev(sqe, r->fd, r->iov, (unsigned)r->iovcnt, r->off);
	else
		io_uring_prep_readv(sqe, r->fd, r->iov, (unsigned)r->iovcnt, r->off);
	io_uring_sqe_set_data(sqe, r);
}

/* ---- common ------------------------------------------------------------------- */

struct blk_aio *blk_aio_create(enum blk_aio_kind kind, unsigned int depth, const char *what)
{
	struct blk_aio *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return NULL;
	a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (a->efd < 0) {
		free(a);
		return NULL;
	}
	a->kind = kind;
	if (kind == BLK_AIO_URING) {
		r = uring_init(a, depth ? depth : 1);
		if (r == 0)
			return a;
		log_warn("%s: io_uring unavailable (%s): using the thread engine", what,
			 strerror(-r));
		a->kind = BLK_AIO_THREAD;
	}
	if (pool_init(a) < 0) {
		close(a->efd);
		free(a);
		return NULL;
	}
	return a;
}

void blk_aio_destroy(struct blk_aio *a)
{
	if (!a)
		return;
	if (a->kind == BLK_AIO_URING)
		io_uring_queue_exit(
			&a->ring); /* the kernel finishes or cancels what is in flight */
	else
		pool_fini(a);
	close(a->efd);
	free(a);
}

void blk_aio_submit(struct blk_aio *a, struct blk_aio_req *r)
{
	r->next = NULL;
	if (a->kind == BLK_AIO_URING) {
		uring_submit(a, r);
		return;
	}
	pthread_mutex_lock(&a->mu);
	*a->tail = r;
	a->tail = &r->next;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

void blk_aio_kick(struct blk_aio *a)
{
	int r;

	if (a->kind != BLK_AIO_URING)
		return; /* the pool starts each request as it is queued */
	do {
		r = io_uring_submit(&a->ring);
	} while (r == -EINTR);
	/*
	 * -EAGAIN/-EBUSY (no kernel memory, full completion queue) leave the
	 * entries queued: the next kick, after reaping, submits them.
	 */
	if (r < 0)
		log_ratelimited(LOG_WARN, "virtio-blk: io_uring submit: %s", strerror(-r));
}

struct blk_aio_req *blk_aio_reap(struct blk_aio *a)
{
	struct blk_aio_req *list;

	clear_efd(a);
	if (a->kind != BLK_AIO_URING) {
		pthread_mutex_lock(&a->mu);
		list = a->done;
		a->done = NULL;
		pthread_mutex_unlock(&a->mu);
		return list;
	}
	list = a->failed;
	a->failed = NULL;
	for (;;) {
		struct io_uring_cqe *cqe;
		struct blk_aio_req *r;

		if (io_uring_peek_cqe(&a->ring, &cqe) < 0 || !cqe)
			break;
		r = io_uring_cqe_get_data(cqe);
		if (r) {
			r->res = cqe->res;
			r->next = list;
			list = r;
		}
		io_uring_cqe_seen(&a->ring, cqe);
	}
	/* Entries a failed submit left queued go now that completions made room. */
	if (io_uring_sq_ready(&a->ring))
		blk_aio_kick(a);
	return list;
}
