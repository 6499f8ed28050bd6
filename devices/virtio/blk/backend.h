/* SPDX-License-Identifier: MIT */
/*
 * Disk backends for virtio-blk. A backend is a byte-addressed store of a
 * fixed size (a multiple of 512) with vectored I/O. Offsets and lengths
 * handed to a backend are already range-checked by the device model; a
 * backend still refuses anything outside [0, size) (defence in depth).
 *
 * A backend's ops are used by one thread at a time (the disk's worker
 * thread, or a test); it has no lock of its own. Only the fd that async_fd
 * hands out is used by other threads (an I/O engine's), for plain
 * reads and writes that touch no backend state.
 */
#ifndef HOSTEL_BLK_BACKEND_H
#define HOSTEL_BLK_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "hostel/compiler.h"

struct blk_backend;

struct blk_backend_ops {
	/*
	 * Transfer all of @iov (@iovcnt entries, any count) at byte offset
	 * @off. Returns the total length, or -errno. A short transfer is
	 * retried until it completes or fails, so a partial count is never
	 * returned as success; reading past the end of the file is -EIO.
	 */
	ssize_t (*preadv)(struct blk_backend *be, const struct iovec *iov, int iovcnt,
			  uint64_t off);
	ssize_t (*pwritev)(struct blk_backend *be, const struct iovec *iov, int iovcnt,
			   uint64_t off);
	/*
	 * Make completed writes durable (fdatasync). Sticky: once it has
	 * failed, every later call returns -EIO, because the kernel reports a
	 * writeback error to an fd only once and the lost pages are gone.
	 */
	int (*flush)(struct blk_backend *be);
	/* Deallocate [off, off+len) (contents afterwards unspecified). 0 or -errno. */
	int (*discard)(struct blk_backend *be, uint64_t off, uint64_t len);
	/* Make [off, off+len) read as zeroes; may deallocate if @may_unmap. */
	int (*write_zeroes)(struct blk_backend *be, uint64_t off, uint64_t len, bool may_unmap);
	/*
	 * Optional (NULL: none). The fd on which this transfer may run as a
	 * plain preadv/pwritev of @iov at @off, from any thread and alongside
	 * other transfers (an I/O engine does it, see aio.h), or -1 when it
	 * must go through preadv/pwritev above (snapshot overlay, O_DIRECT
	 * with misaligned buffers, a write to a read-only backend).
	 */
	int (*async_fd)(struct blk_backend *be, bool wr, const struct iovec *iov, int iovcnt,
			uint64_t off);
	/* Release everything (fds, locks, overlay, memory) and free @be. */
	void (*close)(struct blk_backend *be);
};

struct blk_backend {
	const struct blk_backend_ops *ops;
	uint64_t size; /* bytes; a non-zero multiple of 512 */
	bool readonly; /* writes, discards and write-zeroes fail with -EROFS */
};

enum blk_cache_mode {
	BLK_CACHE_WRITEBACK = 0, /* host page cache; FLUSH is fdatasync (default) */
	BLK_CACHE_NONE,		 /* O_DIRECT: bypass the host page cache */
};

/* "writeback" or "none" -> the mode, or -EINVAL. */
int blk_cache_parse(const char *s);

/*
 * Open a raw disk image (a regular file or a block device).
 *
 * Rejected with -errno and one line in @why naming @path: a missing,
 * unreadable or unwritable path, a directory, anything that is not a regular
 * file or block device, a size of 0 or not a multiple of 512, and an image
 * locked by another process. cache=none on a filesystem without O_DIRECT (or
 * needing more than 512-byte alignment) is an error too, never a silent
 * fallback.
 *
 * Locking: an open file description lock (F_OFD_SETLK) over the whole file
 * (start 0, len 0, so any byte another program locks conflicts): a write
 * lock when opened read-write, a read lock when read-only or @snapshot. So
 * two read-only users may share an image, but a read-write user excludes
 * every other hostel and every other OFD-locking program (QEMU locks single
 * bytes from offset 100 up, all inside our range).
 *
 * @snapshot: the image is opened read-only and is never modified; writes go
 * to a private, unlinked, sparse overlay file (in $TMPDIR, else /var/tmp)
 * and are lost at close. Reads come from the overlay for every 4 KiB block
 * written since open. The page cache is used whatever @cache says.
 */
int blk_file_open(const char *path, bool readonly, bool snapshot, enum blk_cache_mode cache,
		  struct blk_backend **out, char *why, size_t whylen) __must_check;

#endif
