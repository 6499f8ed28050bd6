/* SPDX-License-Identifier: MIT */
/*
 * The unpacked vmlinux of a bzImage, decompressed once on the host and kept
 * in a cache directory, so that later boots of the same kernel skip both
 * the guest's decompressor and the host's.
 *
 * Entries are named after a hash of the compressed payload and its length
 * (vmlinux-<hash>-<length>), written to a temporary name and renamed, and
 * validated as an ELF kernel on every use: a damaged entry is replaced.
 */
#ifndef HOSTEL_KCACHE_H
#define HOSTEL_KCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "boot/vmlinux.h"
#include "hostel/compiler.h"

struct kimage {
	const uint8_t *data; /* the ELF vmlinux */
	size_t len;
	enum kcomp comp; /* the payload's compression */
	bool from_cache; /* read from the cache directory */
	bool stored;	 /* written to the cache directory by this call */
	int fd;		 /* >= 0: @data maps this file; read segments from it */
	/* private */
	void *map;
	size_t map_len;
};

/*
 * The vmlinux inside the bzImage @img. @dir is the cache directory (created
 * if missing; NULL: no cache). A cache that cannot be read or written is not
 * an error: the kernel is unpacked in memory. Returns 0, or -ENOTSUP when
 * the image has no payload hostel can unpack (the caller boots the bzImage
 * as is), or another negative errno with *why for a corrupt payload.
 */
int kcache_get(const char *dir, const void *img, size_t len, struct kimage *out,
	       const char **why) __must_check;
void kcache_put(struct kimage *k);
/* An empty kimage, safe to kcache_put(). */
#define KIMAGE_INIT                                                                                \
	{                                                                                          \
		.fd = -1                                                                           \
	}

#endif
