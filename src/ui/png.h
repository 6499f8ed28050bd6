/* SPDX-License-Identifier: MIT */
/*
 * Screenshots: XRGB8888 pixels to a PNG file (libpng), written atomically:
 * the file appears whole under its name or not at all.
 */
#ifndef HOSTEL_UI_PNG_H
#define HOSTEL_UI_PNG_H

#include <stdint.h>

#include "hostel/compiler.h"

struct display;

/*
 * Write @w x @h pixels, @stride bytes apart row to row (XRGB8888: 0x00RRGGBB
 * per native uint32_t), to @path as an 8-bit RGB PNG. The data goes to a
 * temporary file beside @path, is synced, and is renamed over @path; on
 * any error the temporary file is removed and an existing @path is left
 * untouched. 0; -EINVAL for an empty image or a stride shorter than a row;
 * -ENOMEM; -EIO when libpng fails; or the -errno of the failing call.
 */
int png_write_xrgb(const char *path, const uint32_t *px, uint32_t w, uint32_t h,
		   uint32_t stride) __must_check;

/*
 * The display's current screen to @path (png_write_xrgb): copied out under
 * the display's lock, encoded without it. -ENODATA when no mode is set.
 */
int png_write_display(struct display *d, const char *path) __must_check;

#endif
