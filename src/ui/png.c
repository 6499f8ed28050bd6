/* SPDX-License-Identifier: MIT */
/*
 * PNG screenshots with libpng's classic API, row by row from the XRGB
 * buffer (no second full-size copy in RGB), into a temporary file that is
 * renamed into place only once it is complete and synced.
 */
#include "ui/png.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hostel/display.h"
#include "hostel/log.h"

/* libpng's error callback: keep the message for the log, then unwind. */
static void png_err(png_structp p, png_const_charp msg)
{
	log_debug("png: %s", msg);
	png_longjmp(p, 1);
}

static void png_warn(png_structp p, png_const_charp msg)
{
	(void)p;
	log_debug("png: warning: %s", msg);
}

/*
 * Encode into @f. Returns 0 or -EIO; the locals that setjmp must not lose
 * are kept out of this function's frame (only @png and @info, both set up
 * before setjmp and never changed after it).
 */
static int encode(FILE *f, const uint32_t *px, uint32_t w, uint32_t h, uint32_t stride)
{
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_err, png_warn);
	if (!png)
		return -ENOMEM;
	png_infop info = png_create_info_struct(png);
	if (!info) {
		png_destroy_write_struct(&png, NULL);
		return -ENOMEM;
	}
	if (setjmp(png_jmpbuf(png))) {
		png_destroy_write_struct(&png, &info);
		return -EIO;
	}
	png_init_io(png, f);
	/* Screenshots are mostly flat colour and text: a fast level compresses
	 * them nearly as well as the default and much sooner. */
	png_set_compression_level(png, 3);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	/* Each pixel is one native uint32_t 0x00RRGGBB: in memory B G R X on a
	 * little-endian host, X R G B on a big-endian one. libpng strips the
	 * filler byte and swaps to RGB order as it writes. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	png_set_bgr(png);
	png_set_filler(png, 0, PNG_FILLER_AFTER);
#else
	png_set_filler(png, 0, PNG_FILLER_BEFORE);
#endif
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *row = (const uint8_t *)px + (size_t)y * stride;
		png_write_row(png, (png_const_bytep)row);
	}
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);
	return 0;
}

int png_write_xrgb(const char *path, const uint32_t *px, uint32_t w, uint32_t h, uint32_t stride)
{
	/* PNG allows up to 2^31 - 1 on a side; libpng's default limit is 1e6. */
	if (!path || !px || w == 0 || h == 0 || w > 1000000 || h > 1000000 || stride / 4 < w)
		return -EINVAL;

	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof(".XXXXXX"));
	if (!tmp)
		return -ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".XXXXXX", sizeof(".XXXXXX"));

	int ret;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		free(tmp);
		return ret;
	}
	/* mkostemp creates 0600; a screenshot is an ordinary file. */
	mode_t um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um) < 0) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	ret = encode(f, px, w, h, stride);
	/* A short write sets the stream's error flag (libpng's default write
	 * function ignores fwrite's count) and is caught here. */
	if (fflush(f) != 0 && ret == 0)
		ret = -errno;
	if (ferror(f) && ret == 0)
		ret = -EIO;
	if (ret == 0 && fsync(fileno(f)) < 0)
		ret = -errno;
	if (fclose(f) != 0 && ret == 0)
		ret = -errno;
	if (ret < 0)
		goto fail;
	if (rename(tmp, path) < 0) {
		ret = -errno;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return ret;
}

int png_write_display(struct display *d, const char *path)
{
	uint32_t w, h, stride;
	const uint32_t *px = display_lock(d, &w, &h, &stride);
	if (!px) {
		display_unlock(d);
		return -ENODATA;
	}
	/* Copy under the lock so that the devices are held up only for a
	 * memcpy, not for the compression. */
	size_t bytes = (size_t)stride * h;
	uint32_t *copy = malloc(bytes);
	if (!copy) {
		display_unlock(d);
		return -ENOMEM;
	}
	memcpy(copy, px, bytes);
	display_unlock(d);
	int ret = png_write_xrgb(path, copy, w, h, stride);
	free(copy);
	return ret;
}
