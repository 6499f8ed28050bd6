// SPDX-License-Identifier: MIT
/*
 * Raw disk image backend: a regular file or a block device, read and written
 * with preadv/pwritev straight from the guest's buffers (no bounce buffer,
 * except for O_DIRECT with buffers the kernel cannot take as they are), an
 * OFD lock against a second user, and an optional copy-on-write snapshot
 * overlay that keeps the image byte-identical.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h> /* BLKGETSIZE64 */

#include "virtio/blk/backend.h"

#define SECTOR	    512u
#define SNAP_BLOCK  4096u	 /* snapshot dirty-tracking granularity */
#define BOUNCE_SIZE (64u * 1024) /* O_DIRECT bounce buffer for misaligned guest buffers */
#define ZERO_CHUNK  (64u * 1024) /* write-zeroes fallback: bytes per write */
#define IOV_BATCH   64		 /* iovecs per preadv/pwritev call */

/* Source of zeroes for the write-zeroes fallback; aligned for O_DIRECT. */
static const uint8_t zero_buf[ZERO_CHUNK] __attribute__((aligned(4096)));

struct file_backend {
	struct blk_backend be;
	int fd;		   /* the image */
	bool direct;	   /* opened with O_DIRECT */
	bool flush_failed; /* sticky: an fdatasync has failed */
	uint8_t *bounce;   /* O_DIRECT only: BOUNCE_SIZE bytes, page aligned */
	/* Snapshot only (ovl_fd >= 0): */
	int ovl_fd;	 /* private unlinked sparse overlay, the image's size */
	uint64_t *dirty; /* one bit per SNAP_BLOCK: the overlay holds that block */
	uint8_t *cow;	 /* SNAP_BLOCK bytes for copy-up of partially written blocks */
};

static struct file_backend *to_fb(struct blk_backend *be)
{
	return container_of(be, struct file_backend, be);
}

/* ---- iovec cursor ------------------------------------------------------- */

struct iov_cur {
	const struct iovec *iov;
	int cnt;
	int i;	    /* current entry */
	size_t off; /* offset inside iov[i] */
};

static void cur_advance(struct iov_cur *c, uint64_t n)
{
	while (c->i < c->cnt) {
		size_t left = c->iov[c->i].iov_len - c->off;

		if (n < left) {
			c->off += n;
			return;
		}
		n -= left;
		c->i++;
		c->off = 0;
	}
}

static void cur_init(struct iov_cur *c, const struct iovec *iov, int cnt, uint64_t skip)
{
	c->iov = iov;
	c->cnt = cnt;
	c->i = 0;
	c->off = 0;
	cur_advance(c, skip);
}

/* Up to IOV_BATCH iovecs for the next (at most) @len bytes; returns their sum. */
static uint64_t cur_batch(const struct iov_cur *c, uint64_t len, struct iovec *b, int *n)
{
	uint64_t sum = 0;
	size_t off = c->off;

	*n = 0;
	for (int i = c->i; i < c->cnt && *n < IOV_BATCH && sum < len; i++, off = 0) {
		size_t l = c->iov[i].iov_len - off;

		if (l > len - sum)
			l = len - sum;
		if (!l)
			continue;
		b[*n].iov_base = (uint8_t *)c->iov[i].iov_base + off;
		b[*n].iov_len = l;
		(*n)++;
		sum += l;
	}
	return sum;
}

/* Copy @n bytes between the cursor's buffers and @buf, advancing the cursor. */
static void cur_copy(struct iov_cur *c, uint8_t *buf, uint64_t n, bool to_iov)
{
	while (n && c->i < c->cnt) {
		const struct iovec *v = &c->iov[c->i];
		size_t l = v->iov_len - c->off;

		if (l > n)
			l = n;
		if (to_iov)
			memcpy((uint8_t *)v->iov_base + c->off, buf, l);
		else
			memcpy(buf, (uint8_t *)v->iov_base + c->off, l);
		buf += l;
		n -= l;
		cur_advance(c, l);
	}
}

/*
 * Transfer bytes [skip, skip+len) of the buffers @iov to or from @fd at
 * @foff. Short transfers are resumed where they stopped; 0 or -errno, never
 * a partial success. End of file on a read is -EIO.
 */
static int rw_full(int fd, bool wr, const struct iovec *iov, int cnt, uint64_t skip, uint64_t len,
		   uint64_t foff)
{
	struct iov_cur c;

	cur_init(&c, iov, cnt, skip);
	while (len) {
		struct iovec b[IOV_BATCH];
		ssize_t r;
		int n;

		if (!cur_batch(&c, len, b, &n))
			return -EINVAL; /* the buffers are shorter than len */
		r = wr ? pwritev(fd, b, n, (off_t)foff) : preadv(fd, b, n, (off_t)foff);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO; /* EOF on read; no progress on write */
		cur_advance(&c, (uint64_t)r);
		len -= (uint64_t)r;
		foff += (uint64_t)r;
	}
	return 0;
}

static int iov_total(const struct iovec *iov, int cnt, uint64_t *total)
{
	uint64_t t = 0;

	if (cnt < 0 || (cnt && !iov))
		return -EINVAL;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > UINT64_MAX - t)
			return -EINVAL;
		t += iov[i].iov_len;
	}
	*total = t;
	return 0;
}

/* [off, off+len) inside the disk, overflow-checked. */
static bool in_range(const struct blk_backend *be, uint64_t off, uint64_t len)
{
	return off <= be->size && len <= be->size - off;
}

/*
 * O_DIRECT wants buffer addresses and lengths aligned. Guest buffers usually
 * are (Linux aligns block I/O to 512 bytes), but the guest chooses: when any
 * piece is not, go through a fixed-size bounce buffer in BOUNCE_SIZE chunks.
 */
static bool dio_aligned(const struct iovec *iov, int cnt, uint64_t skip, uint64_t len,
			uint64_t foff)
{
	struct iov_cur c;

	if (foff % SECTOR || len % SECTOR)
		return false;
	cur_init(&c, iov, cnt, skip);
	while (len) {
		struct iovec b[IOV_BATCH];
		uint64_t got;
		int n;

		got = cur_batch(&c, len, b, &n);
		if (!got)
			return false;
		for (int i = 0; i < n; i++)
			if ((uintptr_t)b[i].iov_base % SECTOR || b[i].iov_len % SECTOR)
				return false;
		cur_advance(&c, got);
		len -= got;
	}
	return true;
}

static int dio_rw(struct file_backend *fb, bool wr, const struct iovec *iov, int cnt, uint64_t skip,
		  uint64_t len, uint64_t foff)
{
	struct iov_cur c;

	if (dio_aligned(iov, cnt, skip, len, foff))
		return rw_full(fb->fd, wr, iov, cnt, skip, len, foff);
	if (foff % SECTOR || len % SECTOR)
		return -EINVAL; /* the device model only sends whole sectors */
	cur_init(&c, iov, cnt, skip);
	while (len) {
		uint64_t n = MIN(len, (uint64_t)BOUNCE_SIZE);
		struct iovec v = {.iov_base = fb->bounce, .iov_len = n};
		int r;

		if (wr)
			cur_copy(&c, fb->bounce, n, false);
		r = rw_full(fb->fd, wr, &v, 1, 0, n, foff);
		if (r < 0)
			return r;
		if (!wr)
			cur_copy(&c, fb->bounce, n, true);
		len -= n;
		foff += n;
	}
	return 0;
}

static int fallocate_retry(int fd, int mode, uint64_t off, uint64_t len)
{
	while (fallocate(fd, mode, (off_t)off, (off_t)len) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/*
 * Make [off, off+len) of @fd read as zeroes: punch a hole when allowed,
 * else ZERO_RANGE (allocated zeroes), else plain writes of zeroes in
 * ZERO_CHUNK pieces (filesystems without fallocate modes).
 */
static int zero_fd(int fd, uint64_t off, uint64_t len, bool may_unmap)
{
	int r;

	if (!len)
		return 0;
	if (may_unmap &&
	    fallocate_retry(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len) == 0)
		return 0;
	r = fallocate_retry(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, off, len);
	if (r == 0)
		return 0;
	if (r != -EOPNOTSUPP && r != -ENOSYS && r != -EINVAL)
		return r;
	while (len) {
		uint64_t n = MIN(len, (uint64_t)ZERO_CHUNK);
		struct iovec v = {.iov_base = (void *)zero_buf, .iov_len = n};

		r = rw_full(fd, true, &v, 1, 0, n, off);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

/* ---- plain image -------------------------------------------------------- */

static ssize_t file_io(struct blk_backend *be, bool wr, const struct iovec *iov, int cnt,
		       uint64_t off)
{
	struct file_backend *fb = to_fb(be);
	uint64_t len;
	int r;

	if (wr && be->readonly)
		return -EROFS;
	if (iov_total(iov, cnt, &len) < 0 || !in_range(be, off, len) || len > SSIZE_MAX)
		return -EINVAL;
	if (fb->direct)
		r = dio_rw(fb, wr, iov, cnt, 0, len, off);
	else
		r = rw_full(fb->fd, wr, iov, cnt, 0, len, off);
	return r < 0 ? r : (ssize_t)len;
}

static ssize_t file_preadv(struct blk_backend *be, const struct iovec *iov, int cnt, uint64_t off)
{
	return file_io(be, false, iov, cnt, off);
}

static ssize_t file_pwritev(struct blk_backend *be, const struct iovec *iov, int cnt, uint64_t off)
{
	return file_io(be, true, iov, cnt, off);
}

static int file_flush(struct blk_backend *be)
{
	struct file_backend *fb = to_fb(be);

	if (fb->flush_failed)
		return -EIO;
	if (fdatasync(fb->fd) < 0) {
		int e = errno;

		/*
		 * After a failed fdatasync the kernel may have dropped the dirty
		 * pages and will not report the error again: a later success
		 * would be a lie, so every later flush fails.
		 */
		fb->flush_failed = true;
		return -e;
	}
	return 0;
}

static int file_discard(struct blk_backend *be, uint64_t off, uint64_t len)
{
	struct file_backend *fb = to_fb(be);
	int r;

	if (be->readonly)
		return -EROFS;
	if (!in_range(be, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	r = fallocate_retry(fb->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	/* Discard is a hint: a filesystem that cannot punch holes just keeps the data. */
	if (r == -EOPNOTSUPP || r == -ENOSYS)
		return 0;
	return r;
}

static int file_write_zeroes(struct blk_backend *be, uint64_t off, uint64_t len, bool may_unmap)
{
	if (be->readonly)
		return -EROFS;
	if (!in_range(be, off, len))
		return -EINVAL;
	return zero_fd(to_fb(be)->fd, off, len, may_unmap);
}

static int file_async_fd(struct blk_backend *be, bool wr, const struct iovec *iov, int cnt,
			 uint64_t off)
{
	struct file_backend *fb = to_fb(be);
	uint64_t len;

	if ((wr && be->readonly) || iov_total(iov, cnt, &len) < 0 || !in_range(be, off, len) ||
	    len > SSIZE_MAX)
		return -1;
	if (fb->direct && !dio_aligned(iov, cnt, 0, len, off))
		return -1; /* the bounce buffer is the worker's alone */
	return fb->fd;
}

static void file_close(struct blk_backend *be)
{
	struct file_backend *fb;

	if (!be)
		return;
	fb = to_fb(be);
	if (fb->ovl_fd >= 0)
		close(fb->ovl_fd);
	close(fb->fd); /* drops the OFD lock */
	free(fb->bounce);
	free(fb->dirty);
	free(fb->cow);
	free(fb);
}

static const struct blk_backend_ops file_ops = {
	.preadv = file_preadv,
	.pwritev = file_pwritev,
	.flush = file_flush,
	.discard = file_discard,
	.write_zeroes = file_write_zeroes,
	.async_fd = file_async_fd,
	.close = file_close,
};

/* ---- snapshot overlay ---------------------------------------------------- */

static bool snap_is_dirty(const struct file_backend *fb, uint64_t blk)
{
	return (fb->dirty[blk / 64] >> (blk % 64)) & 1;
}

static void snap_set_dirty(struct file_backend *fb, uint64_t blk)
{
	fb->dirty[blk / 64] |= 1ull << (blk % 64);
}

/* End (exclusive) of snapshot block @blk; the last block may be short. */
static uint64_t snap_block_end(const struct file_backend *fb, uint64_t blk)
{
	return MIN((blk + 1) * SNAP_BLOCK, fb->be.size);
}

/* Copy block @blk from the image into the overlay, so a partial write keeps the rest. */
static int snap_copy_up(struct file_backend *fb, uint64_t blk)
{
	uint64_t start = blk * SNAP_BLOCK, n = snap_block_end(fb, blk) - start;
	struct iovec v = {.iov_base = fb->cow, .iov_len = n};
	int r;

	r = rw_full(fb->fd, false, &v, 1, 0, n, start);
	if (r == 0)
		r = rw_full(fb->ovl_fd, true, &v, 1, 0, n, start);
	if (r == 0)
		snap_set_dirty(fb, blk);
	return r;
}

/* Before writing [off, off+len) (len > 0): copy up the partially covered end blocks. */
static int snap_prepare(struct file_backend *fb, uint64_t off, uint64_t len)
{
	uint64_t end = off + len, first = off / SNAP_BLOCK, last = (end - 1) / SNAP_BLOCK;
	int r;

	if (!snap_is_dirty(fb, first) &&
	    (off != first * SNAP_BLOCK || end < snap_block_end(fb, first))) {
		r = snap_copy_up(fb, first);
		if (r < 0)
			return r;
	}
	if (last != first && !snap_is_dirty(fb, last) && end < snap_block_end(fb, last))
		return snap_copy_up(fb, last);
	return 0;
}

static void snap_mark(struct file_backend *fb, uint64_t off, uint64_t len)
{
	for (uint64_t b = off / SNAP_BLOCK; b <= (off + len - 1) / SNAP_BLOCK; b++)
		snap_set_dirty(fb, b);
}

static ssize_t snap_preadv(struct blk_backend *be, const struct iovec *iov, int cnt, uint64_t off)
{
	struct file_backend *fb = to_fb(be);
	uint64_t len, pos, end;

	if (iov_total(iov, cnt, &len) < 0 || !in_range(be, off, len) || len > SSIZE_MAX)
		return -EINVAL;
	/* Runs of blocks with the same dirty state, each from its own file. */
	for (pos = off, end = off + len; pos < end;) {
		bool d = snap_is_dirty(fb, pos / SNAP_BLOCK);
		uint64_t run = MIN(snap_block_end(fb, pos / SNAP_BLOCK), end);
		int r;

		while (run < end && snap_is_dirty(fb, run / SNAP_BLOCK) == d)
			run = MIN(snap_block_end(fb, run / SNAP_BLOCK), end);
		r = rw_full(d ? fb->ovl_fd : fb->fd, false, iov, cnt, pos - off, run - pos, pos);
		if (r < 0)
			return r;
		pos = run;
	}
	return (ssize_t)len;
}

static ssize_t snap_pwritev(struct blk_backend *be, const struct iovec *iov, int cnt, uint64_t off)
{
	struct file_backend *fb = to_fb(be);
	uint64_t len;
	int r;

	if (iov_total(iov, cnt, &len) < 0 || !in_range(be, off, len) || len > SSIZE_MAX)
		return -EINVAL;
	if (!len)
		return 0;
	r = snap_prepare(fb, off, len);
	if (r == 0)
		r = rw_full(fb->ovl_fd, true, iov, cnt, 0, len, off);
	if (r < 0)
		return r; /* blocks not marked dirty still read from the image */
	snap_mark(fb, off, len);
	return (ssize_t)len;
}

static int snap_flush(struct blk_backend *be)
{
	/* Nothing is meant to outlive the process; there is nothing to sync. */
	return to_fb(be)->flush_failed ? -EIO : 0;
}

static int snap_discard(struct blk_backend *be, uint64_t off, uint64_t len)
{
	/* Keeping the data is a valid discard (its contents become unspecified). */
	return in_range(be, off, len) ? 0 : -EINVAL;
}

static int snap_write_zeroes(struct blk_backend *be, uint64_t off, uint64_t len, bool may_unmap)
{
	struct file_backend *fb = to_fb(be);
	int r;

	if (!in_range(be, off, len))
		return -EINVAL;
	if (!len)
		return 0;
	r = snap_prepare(fb, off, len);
	/* The overlay is private and sparse: a hole there reads as zeroes. */
	if (r == 0)
		r = zero_fd(fb->ovl_fd, off, len, true);
	if (r < 0)
		return r;
	snap_mark(fb, off, len);
	return 0;
}

static const struct blk_backend_ops snap_ops = {
	.preadv = snap_preadv,
	.pwritev = snap_pwritev,
	.flush = snap_flush,
	.discard = snap_discard,
	.write_zeroes = snap_write_zeroes,
	.close = file_close,
};

/* ---- open ---------------------------------------------------------------- */

static int __printf(4, 5) fail(char *why, size_t whylen, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -err;
}

int blk_cache_parse(const char *s)
{
	if (s && !strcmp(s, "writeback"))
		return BLK_CACHE_WRITEBACK;
	if (s && !strcmp(s, "none"))
		return BLK_CACHE_NONE;
	return -EINVAL;
}

/* An unlinked temporary file of @size bytes (sparse), or -errno. */
static int overlay_create(uint64_t size)
{
	const char *dirs[] = {getenv("TMPDIR"), "/var/tmp", "/tmp"};
	int err = ENOENT;

	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char tmpl[PATH_MAX];
		int fd;

		if (!dirs[i] || !dirs[i][0])
			continue;
		fd = open(dirs[i], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
			/* No O_TMPFILE here: create and unlink at once. */
			if (snprintf(tmpl, sizeof(tmpl), "%s/hostel-snap-XXXXXX", dirs[i]) >=
			    (int)sizeof(tmpl)) {
				errno = ENAMETOOLONG;
			} else {
				fd = mkostemp(tmpl, O_CLOEXEC);
				if (fd >= 0)
					unlink(tmpl);
			}
		}
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (ftruncate(fd, (off_t)size) < 0) {
			err = errno;
			close(fd);
			continue;
		}
		return fd;
	}
	return -err;
}

static int disk_size(int fd, const struct stat *st, uint64_t *size)
{
	if (S_ISREG(st->st_mode)) {
		*size = (uint64_t)st->st_size;
		return 0;
	}
	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		return -errno;
	return 0;
}

int blk_file_open(const char *path, bool readonly, bool snapshot, enum blk_cache_mode cache,
		  struct blk_backend **out, char *why, size_t whylen)
{
	bool ro_open = readonly || snapshot, direct = cache == BLK_CACHE_NONE && !snapshot;
	struct flock fl = {.l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	struct file_backend *fb = NULL;
	uint64_t size = 0;
	struct stat st;
	int fd, fl_flags, r;

	*out = NULL;
	if (!path || !path[0])
		return fail(why, whylen, EINVAL, "disk path is empty");
	if (cache != BLK_CACHE_WRITEBACK && cache != BLK_CACHE_NONE)
		return fail(why, whylen, EINVAL, "disk '%s': unknown cache mode", path);

	/* O_NONBLOCK so that opening a FIFO by mistake cannot hang; cleared below. */
	fd = open(path, (ro_open ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
				(direct ? O_DIRECT : 0));
	if (fd < 0) {
		int e = errno;

		if (e == EISDIR || (stat(path, &st) == 0 && S_ISDIR(st.st_mode)))
			return fail(why, whylen, EISDIR, "disk '%s' is a directory", path);
		if (e == EINVAL && direct)
			return fail(why, whylen, e,
				    "disk '%s': cache=none needs O_DIRECT, which its filesystem "
				    "does not support",
				    path);
		return fail(why, whylen, e, "disk '%s': cannot open %s: %s", path,
			    ro_open ? "read-only" : "read-write", strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		r = fail(why, whylen, errno, "disk '%s': cannot stat: %s", path, strerror(errno));
		goto err_close;
	}
	if (S_ISDIR(st.st_mode)) {
		r = fail(why, whylen, EISDIR, "disk '%s' is a directory", path);
		goto err_close;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		r = fail(why, whylen, EINVAL, "disk '%s' is not a regular file or block device",
			 path);
		goto err_close;
	}
	fl_flags = fcntl(fd, F_GETFL);
	if (fl_flags < 0 || fcntl(fd, F_SETFL, fl_flags & ~O_NONBLOCK) < 0) {
		r = fail(why, whylen, errno, "disk '%s': fcntl: %s", path, strerror(errno));
		goto err_close;
	}
	r = disk_size(fd, &st, &size);
	if (r < 0) {
		r = fail(why, whylen, -r, "disk '%s': cannot get its size: %s", path, strerror(-r));
		goto err_close;
	}
	if (size == 0) {
		r = fail(why, whylen, EINVAL, "disk '%s' is empty (0 bytes)", path);
		goto err_close;
	}
	if (size % SECTOR) {
		r = fail(why, whylen, EINVAL, "disk '%s' size %llu is not a multiple of 512 bytes",
			 path, (unsigned long long)size);
		goto err_close;
	}

	/* Whole-file OFD lock: shared for readers, exclusive for a writer. */
	fl.l_type = ro_open ? F_RDLCK : F_WRLCK;
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			r = fail(why, whylen, EBUSY,
				 "disk '%s' is in use by another process (locked)", path);
		else
			r = fail(why, whylen, errno, "disk '%s': cannot lock: %s", path,
				 strerror(errno));
		goto err_close;
	}

	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		r = fail(why, whylen, ENOMEM, "disk '%s': out of memory", path);
		goto err_close;
	}
	fb->fd = fd;
	fb->ovl_fd = -1;
	fb->direct = direct;
	fb->be.size = size;
	fb->be.readonly = readonly;
	fb->be.ops = &file_ops;

	if (direct) {
		struct iovec v;

		if (posix_memalign((void **)&fb->bounce, 4096, BOUNCE_SIZE)) {
			r = fail(why, whylen, ENOMEM, "disk '%s': out of memory", path);
			goto err_free;
		}
		/* Probe: some filesystems accept O_DIRECT but want 4 KiB alignment. */
		v.iov_base = fb->bounce;
		v.iov_len = SECTOR;
		r = rw_full(fd, false, &v, 1, 0, SECTOR, 0);
		if (r == -EINVAL) {
			r = fail(why, whylen, EINVAL,
				 "disk '%s': cache=none needs O_DIRECT with 512-byte alignment, "
				 "which its filesystem does not support",
				 path);
			goto err_free;
		}
		if (r < 0) {
			r = fail(why, whylen, -r, "disk '%s': cannot read: %s", path, strerror(-r));
			goto err_free;
		}
	}

	if (snapshot && !readonly) {
		uint64_t blocks = (size + SNAP_BLOCK - 1) / SNAP_BLOCK;

		fb->dirty = calloc((blocks + 63) / 64, sizeof(uint64_t));
		fb->cow = malloc(SNAP_BLOCK);
		if (!fb->dirty || !fb->cow) {
			r = fail(why, whylen, ENOMEM, "disk '%s': out of memory for the snapshot",
				 path);
			goto err_free;
		}
		r = overlay_create(size);
		if (r < 0) {
			r = fail(why, whylen, -r,
				 "disk '%s': cannot create the snapshot overlay: %s", path,
				 strerror(-r));
			goto err_free;
		}
		fb->ovl_fd = r;
		fb->be.ops = &snap_ops;
	}
	*out = &fb->be;
	return 0;

err_free:
	free(fb->bounce);
	free(fb->dirty);
	free(fb->cow);
	free(fb);
err_close:
	close(fd);
	return r;
}
