// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/ui/png.c: screenshots read back through libpng's own
 * reader match the pixels exactly; errors leave no file, and no partial one.
 */
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "hostel/display.h"
#include "ui/png.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/hostel-png-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	DIR *dp = opendir(dir);
	struct dirent *e;
	char p[512];
	while (dp && (e = readdir(dp))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (dp)
		closedir(dp);
	return rmdir(dir);
}

/* Files in the directory, temporaries included. */
static int count_files(void)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int n = 0;
	assert_non_null(dp);
	while ((e = readdir(dp)))
		if (e->d_name[0] != '.')
			n++;
	closedir(dp);
	return n;
}

static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Read @path with libpng as 8-bit RGB and compare it with the XRGB pixels. */
static void check_png(const char *path, const uint32_t *px, uint32_t w, uint32_t h, uint32_t stride)
{
	png_image img;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_file(&img, path));
	assert_int_equal(img.width, w);
	assert_int_equal(img.height, h);
	/* Written as RGB: no alpha channel from the X byte. */
	assert_int_equal(img.format & PNG_FORMAT_FLAG_ALPHA, 0);
	img.format = PNG_FORMAT_RGB;
	uint8_t *rgb = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(rgb);
	assert_true(png_image_finish_read(&img, NULL, rgb, 0, NULL));
	for (uint32_t y = 0; y < h; y++) {
		/* Strides are whole pixels here: index in uint32_t units. */
		const uint32_t *row = px + (size_t)y * (stride / 4);
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *p = rgb + ((size_t)y * w + x) * 3;
			uint32_t got = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
			if (got != (row[x] & 0xffffff)) {
				print_error("pixel %u,%u: %06x, want %06x\n", x, y, got,
					    row[x] & 0xffffff);
				fail();
			}
		}
	}
	free(rgb);
}

static void test_roundtrip(void **state)
{
	(void)state;
	/* An odd size and a padded stride; the X byte full of junk. */
	const uint32_t w = 37, h = 23, stride = 37 * 4 + 12;
	uint32_t *px = malloc((size_t)stride * h);
	uint32_t s = 0x12345678;
	char path[128];

	assert_non_null(px);
	for (size_t i = 0; i < (size_t)stride * h / 4; i++)
		px[i] = rnd(&s);
	/* The corners and the extremes of every channel. */
	px[0] = 0x00000000;
	px[1] = 0xffffffff;
	px[2] = 0x00ff0000;
	px[3] = 0xab00ff00;
	px[4] = 0x000000ff;
	snprintf(path, sizeof(path), "%s/shot.png", dir);
	assert_int_equal(png_write_xrgb(path, px, w, h, stride), 0);
	check_png(path, px, w, h, stride);
	assert_int_equal(count_files(), 1);

	/* Overwriting replaces the file whole. */
	for (size_t i = 0; i < (size_t)stride * h / 4; i++)
		px[i] = rnd(&s);
	assert_int_equal(png_write_xrgb(path, px, w, h, stride), 0);
	check_png(path, px, w, h, stride);
	assert_int_equal(count_files(), 1);

	/* One pixel. */
	assert_int_equal(png_write_xrgb(path, px, 1, 1, 4), 0);
	check_png(path, px, 1, 1, 4);
	free(px);
}

static void test_errors(void **state)
{
	(void)state;
	uint32_t px[16] = {0};
	char path[128];

	snprintf(path, sizeof(path), "%s/bad.png", dir);
	assert_int_equal(png_write_xrgb(path, px, 0, 1, 4), -EINVAL);
	assert_int_equal(png_write_xrgb(path, px, 1, 0, 4), -EINVAL);
	assert_int_equal(png_write_xrgb(path, px, 4, 4, 12), -EINVAL); /* stride < row */
	assert_int_equal(png_write_xrgb(path, NULL, 4, 4, 16), -EINVAL);
	assert_int_equal(count_files(), 0);

	snprintf(path, sizeof(path), "%s/no/such/dir.png", dir);
	assert_int_equal(png_write_xrgb(path, px, 4, 4, 16), -ENOENT);
	assert_int_equal(count_files(), 0);

	/* The target is a directory: rename fails, the temporary goes. */
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	int ret = png_write_xrgb(path, px, 4, 4, 16);
	assert_true(ret == -EISDIR || ret == -EEXIST || ret == -ENOTEMPTY);
	assert_int_equal(count_files(), 1);
	assert_int_equal(rmdir(path), 0);
}

/* A write that fails part way (the file size limit, as a full disk would):
 * the old screenshot stays as it was and no temporary is left behind. */
static void test_no_partial_file(void **state)
{
	(void)state;
	const uint32_t w = 512, h = 512;
	uint32_t *px = malloc((size_t)w * h * 4);
	uint32_t s = 99;
	char path[128];
	struct stat st0, st1;

	assert_non_null(px);
	for (size_t i = 0; i < (size_t)w * h; i++)
		px[i] = rnd(&s); /* noise: compresses badly, so well over the limit */
	snprintf(path, sizeof(path), "%s/keep.png", dir);
	assert_int_equal(png_write_xrgb(path, px, 4, 4, w * 4), 0);
	assert_int_equal(stat(path, &st0), 0);

	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	signal(SIGXFSZ, SIG_IGN); /* fail with EFBIG instead of dying */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int ret = png_write_xrgb(path, px, w, h, w * 4);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_true(ret == -EFBIG || ret == -EIO);

	assert_int_equal(stat(path, &st1), 0);
	assert_int_equal(st1.st_ino, st0.st_ino);
	assert_int_equal(st1.st_size, st0.st_size);
	check_png(path, px, 4, 4, w * 4);
	assert_int_equal(count_files(), 1);
	free(px);
}

static void test_display(void **state)
{
	(void)state;
	struct display *d = display_create();
	char path[128];
	uint32_t w, h, stride;

	snprintf(path, sizeof(path), "%s/display.png", dir);
	assert_non_null(d);
	assert_int_equal(png_write_display(d, path), -ENODATA);
	assert_int_equal(count_files(), 0);

	assert_int_equal(display_set_mode(d, 64, 48), 0);
	uint32_t *px = display_lock(d, &w, &h, &stride);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			px[y * w + x] = (x * 4) << 16 | (y * 5) << 8 | ((x + y) & 0xff);
	display_unlock(d);
	assert_int_equal(png_write_display(d, path), 0);
	px = display_lock(d, &w, &h, &stride);
	check_png(path, px, w, h, stride);
	display_unlock(d);
	display_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_partial_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
