/* SPDX-License-Identifier: MIT */
/*
 * An in-memory virtio-blk backend with fault injection, for unit tests and
 * fuzz targets. Every access is checked against the disk size and recorded:
 * an out-of-range access sets @oob (the device model must never make one).
 *
 *	struct fake_backend *fb = fake_backend_create(64 * 1024);
 *	fb->read_err = EIO;		// the next preadv fails with -EIO
 *	struct blk *b = blk_create(&fb->be, &opts);	// blk_destroy frees fb
 *
 * Header-only (static inline).
 */
#ifndef FAKE_BACKEND_H
#define FAKE_BACKEND_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "hostel/compiler.h"
#include "virtio/blk/backend.h"

enum fake_op { FAKE_READ, FAKE_WRITE, FAKE_FLUSH, FAKE_DISCARD, FAKE_WZ };

struct fake_backend {
	struct blk_backend be;
	uint8_t *data;
	/*
	 * One-shot faults: a non-zero errno makes the next call of that kind
	 * fail with -errno (then it is cleared). short_write makes the next
	 * pwritev write half and return that count, breaking the backend
	 * contract, to prove the device never reports it as success.
	 */
	int read_err, write_err, flush_err, discard_err, wz_err;
	bool short_write;
	/* Called at the start of every operation (tests block here). */
	void (*on_io)(struct fake_backend *fb, enum fake_op op);
	void *opaque;
	/* What happened. */
	unsigned int reads, writes, flushes, discards, wzs;
	uint64_t last_off, last_len;
	bool last_unmap;
	bool oob;
};

static inline struct fake_backend *fake_backend_of(struct blk_backend *be)
{
	return container_of(be, struct fake_backend, be);
}

static inline bool fake_backend_range(struct fake_backend *fb, uint64_t off, uint64_t len)
{
	if (off > fb->be.size || len > fb->be.size - off) {
		fb->oob = true;
		return false;
	}
	fb->last_off = off;
	fb->last_len = len;
	return true;
}

static inline int fake_backend_take(int *err)
{
	int e = *err;

	*err = 0;
	return -e;
}

static inline ssize_t fake_backend_rw(struct blk_backend *be, const struct iovec *iov, int cnt,
				      uint64_t off, bool wr)
{
	struct fake_backend *fb = fake_backend_of(be);
	uint64_t len = 0, pos = off;

	if (fb->on_io)
		fb->on_io(fb, wr ? FAKE_WRITE : FAKE_READ);
	if (wr)
		fb->writes++;
	else
		fb->reads++;
	for (int i = 0; i < cnt; i++)
		len += iov[i].iov_len;
	if (!fake_backend_range(fb, off, len))
		return -EINVAL;
	if (wr && fb->write_err)
		return fake_backend_take(&fb->write_err);
	if (!wr && fb->read_err)
		return fake_backend_take(&fb->read_err);
	if (wr && be->readonly)
		return -EROFS;
	if (wr && fb->short_write) {
		fb->short_write = false;
		len /= 2;
	}
	for (int i = 0; i < cnt && pos < off + len; i++) {
		size_t n = MIN(iov[i].iov_len, off + len - pos);

		if (wr)
			memcpy(fb->data + pos, iov[i].iov_base, n);
		else
			memcpy(iov[i].iov_base, fb->data + pos, n);
		pos += n;
	}
	return (ssize_t)len;
}

static inline ssize_t fake_backend_preadv(struct blk_backend *be, const struct iovec *iov, int cnt,
					  uint64_t off)
{
	return fake_backend_rw(be, iov, cnt, off, false);
}

static inline ssize_t fake_backend_pwritev(struct blk_backend *be, const struct iovec *iov, int cnt,
					   uint64_t off)
{
	return fake_backend_rw(be, iov, cnt, off, true);
}

static inline int fake_backend_flush(struct blk_backend *be)
{
	struct fake_backend *fb = fake_backend_of(be);

	if (fb->on_io)
		fb->on_io(fb, FAKE_FLUSH);
	fb->flushes++;
	return fb->flush_err ? fake_backend_take(&fb->flush_err) : 0;
}

static inline int fake_backend_discard(struct blk_backend *be, uint64_t off, uint64_t len)
{
	struct fake_backend *fb = fake_backend_of(be);

	if (fb->on_io)
		fb->on_io(fb, FAKE_DISCARD);
	fb->discards++;
	if (!fake_backend_range(fb, off, len))
		return -EINVAL;
	if (fb->discard_err)
		return fake_backend_take(&fb->discard_err);
	/* Contents after a discard are unspecified: make that visible. */
	memset(fb->data + off, 0xdd, len);
	return 0;
}

static inline int fake_backend_write_zeroes(struct blk_backend *be, uint64_t off, uint64_t len,
					    bool may_unmap)
{
	struct fake_backend *fb = fake_backend_of(be);

	if (fb->on_io)
		fb->on_io(fb, FAKE_WZ);
	fb->wzs++;
	fb->last_unmap = may_unmap;
	if (!fake_backend_range(fb, off, len))
		return -EINVAL;
	if (fb->wz_err)
		return fake_backend_take(&fb->wz_err);
	memset(fb->data + off, 0, len);
	return 0;
}

static inline void fake_backend_close(struct blk_backend *be)
{
	struct fake_backend *fb = fake_backend_of(be);

	free(fb->data);
	free(fb);
}

static const struct blk_backend_ops fake_backend_ops = {
	.preadv = fake_backend_preadv,
	.pwritev = fake_backend_pwritev,
	.flush = fake_backend_flush,
	.discard = fake_backend_discard,
	.write_zeroes = fake_backend_write_zeroes,
	.close = fake_backend_close,
};

/* A zeroed disk of @size bytes, or NULL. */
static inline struct fake_backend *fake_backend_create(uint64_t size)
{
	struct fake_backend *fb = (struct fake_backend *)calloc(1, sizeof(*fb));

	if (!fb)
		return NULL;
	fb->data = (uint8_t *)calloc(1, size ? size : 1);
	if (!fb->data) {
		free(fb);
		return NULL;
	}
	fb->be.ops = &fake_backend_ops;
	fb->be.size = size;
	return fb;
}

#endif
