// SPDX-License-Identifier: MIT
/* The unpacked-kernel cache: see kcache.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "boot/boot.h"
#include "boot/kcache.h"
#include "hostel/log.h"

/* mkdir -p, best effort. */
static int make_dirs(const char *dir)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static bool cache_read(const char *path, struct kimage *out)
{
	struct vmlinux_info vi;
	struct stat st;
	const char *why;

	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > VMLINUX_MAX_SIZE) {
		close(fd);
		return false;
	}
	/* Mapped for the headers; the loader reads the segments with pread. */
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return false;
	}
	if (vmlinux_parse(m, (size_t)st.st_size, &vi, &why)) {
		log_debug("kernel cache: ignoring %s: %s", path, why);
		munmap(m, (size_t)st.st_size);
		close(fd);
		return false;
	}
	out->fd = fd;
	out->data = m;
	out->len = (size_t)st.st_size;
	out->map = m;
	out->map_len = (size_t)st.st_size;
	out->from_cache = true;
	return true;
}

/* A file block of zeros: left as a hole, which the loader skips. */
#define CACHE_BLOCK 4096

static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static bool pwrite_all(int fd, const uint8_t *p, size_t n, size_t off)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		off += (size_t)w;
		n -= (size_t)w;
	}
	return true;
}

/*
 * Written sparse: a vmlinux is about half zeros (the bss and brk of a
 * distribution kernel are in its last segment's file bytes), and a hole
 * costs neither disk nor, at load time, a copy into guest RAM.
 */
static bool cache_write(const char *dir, const char *path, const uint8_t *data, size_t len)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s/.vmlinux.XXXXXX", dir) >= (int)sizeof(tmp))
		return false;
	int fd = mkstemp(tmp);
	if (fd < 0)
		return false;
	bool ok = true;
	for (size_t off = 0; ok && off < len;) {
		size_t run = 0;
		while (off + run < len) {
			size_t n = MIN((size_t)CACHE_BLOCK, len - off - run);
			if (all_zero(data + off + run, n))
				break;
			run += n;
		}
		if (run) {
			ok = pwrite_all(fd, data + off, run, off);
			off += run;
		} else {
			off += MIN((size_t)CACHE_BLOCK, len - off);
		}
	}
	ok = ok && ftruncate(fd, (off_t)len) == 0 && fchmod(fd, 0644) == 0;
	if (close(fd) < 0)
		ok = false;
	if (ok && rename(tmp, path) == 0)
		return true;
	unlink(tmp);
	return false;
}

int kcache_get(const char *dir, const void *img, size_t len, struct kimage *out, const char **why)
{
	struct bzimage_info k;
	struct vmlinux_info vi;
	char path[PATH_MAX];
	int ret;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if (bzimage_parse(img, len, &k, why) || !k.payload_length)
		return -ENOTSUP;
	const uint8_t *payload = (const uint8_t *)img + k.kernel_offset + k.payload_offset;
	size_t plen = k.payload_length;
	out->comp = kcomp_detect(payload, plen);
	if (out->comp == KCOMP_NONE) {
		/* Stored uncompressed: the payload is the ELF itself. */
		if ((ret = vmlinux_parse(payload, plen, &vi, why)))
			return ret;
		out->data = payload;
		out->len = plen;
		return 0;
	}

	bool have_path = dir && snprintf(path, sizeof(path), "%s/vmlinux-%016llx-%zu", dir,
					 (unsigned long long)vmlinux_hash(payload, plen),
					 plen) < (int)sizeof(path);
	if (have_path && cache_read(path, out))
		return 0;

	uint8_t *buf;
	size_t blen;
	if ((ret = vmlinux_unpack(payload, plen, &buf, &blen, why)))
		return ret;
	if ((ret = vmlinux_parse(buf, blen, &vi, why))) {
		vmlinux_free(buf, blen);
		return ret;
	}
	out->data = buf;
	out->len = blen;
	out->map = buf;
	out->map_len = blen;
	if (have_path && make_dirs(dir) == 0 && cache_write(dir, path, buf, blen)) {
		/* Load from the file from now on: the unpacked bytes then never
		 * stay resident in hostel itself. */
		struct kimage c;
		memset(&c, 0, sizeof(c));
		c.fd = -1;
		if (cache_read(path, &c)) {
			kcache_put(out);
			*out = c;
			out->from_cache = false;
		}
		out->stored = true;
		out->comp = kcomp_detect(payload, plen);
	} else if (have_path) {
		log_debug("kernel cache: cannot store %s: %s", path, strerror(errno));
	}
	return 0;
}

void kcache_put(struct kimage *k)
{
	if (k->map)
		munmap(k->map, k->map_len);
	if (k->fd >= 0)
		close(k->fd);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}
