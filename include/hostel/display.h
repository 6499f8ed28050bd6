/* SPDX-License-Identifier: MIT */
/*
 * A guest screen: the meeting point of the display devices (virtio-gpu, a
 * boot framebuffer), the input devices and the front end (SDL, or none).
 *
 * Pixels: the display owns one host buffer, XRGB8888 (0x00RRGGBB per
 * little-endian uint32_t), width x height, stride = width * 4. Devices write
 * it under the display's lock and mark what changed (display_damage); the
 * front end takes the damage and copies out under the same lock, so it never
 * draws a torn mode change. A generation number moves on every mode change.
 *
 * Input flows the other way: the front end calls display_input_* and the
 * display hands each event to the sinks the devices registered. Events with
 * no sink are dropped (counted).
 *
 * Thread safety: every function may be called from any thread; callbacks
 * (sinks, the resize hook) run without the display's lock held. Replacing
 * the sinks or the hook (display_set_input, display_set_resize_hook) waits
 * until every callback call already under way has returned, so once it
 * returns the old opaque may be freed; never call them from a callback.
 */
#ifndef HOSTEL_DISPLAY_H
#define HOSTEL_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

/* Largest mode a device may set: 8192 x 8192 (256 MiB of pixels). */
#define DISPLAY_MAX_DIM 8192u

/* Absolute pointer coordinates are scaled to 0..DISPLAY_ABS_MAX. */
#define DISPLAY_ABS_MAX 32767u

/* Pointer buttons (bit mask). */
#define DISPLAY_BTN_LEFT   1u
#define DISPLAY_BTN_RIGHT  2u
#define DISPLAY_BTN_MIDDLE 4u

struct display;

struct display_rect {
	uint32_t x, y, w, h;
};

/* Sinks, set by devices; any may be NULL. */
struct display_input_ops {
	/* Keyboard: PS/2 set-2 bytes of one make or break (0xE0/0xF0 prefixes
	 * included), as a keyboard would send them. */
	void (*key)(void *opaque, const uint8_t *set2, size_t len);
	/* Absolute pointer: x, y in 0..DISPLAY_ABS_MAX, buttons DISPLAY_BTN_*. */
	void (*abs)(void *opaque, uint32_t x, uint32_t y, uint32_t buttons);
	/* Relative pointer (grabbed mouse): motion, wheel, buttons. */
	void (*rel)(void *opaque, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons);
};

struct display *display_create(void) __must_check;
void display_destroy(struct display *d);

/* --- Device side ---------------------------------------------------- */

/*
 * Set the mode: a w x h buffer, all black, fully damaged, generation + 1.
 * 0; -EINVAL for 0 or more than DISPLAY_MAX_DIM on a side; -ENOMEM.
 * On failure the old mode stays.
 */
int display_set_mode(struct display *d, uint32_t w, uint32_t h) __must_check;

/*
 * The pixel buffer for writing: takes the lock; returns the pixels and the
 * mode (NULL and 0s with no mode set yet). Pair with display_unlock.
 */
uint32_t *display_lock(struct display *d, uint32_t *w, uint32_t *h, uint32_t *stride);
void display_unlock(struct display *d);

/* Mark a rectangle changed; clipped to the mode, empty ones ignored.
 * Callable with or without the lock held (it nests under display_lock). */
void display_damage(struct display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h);

/* Input sinks; a later call replaces the earlier one (and waits for calls
 * of the old ones to end: see the top). */
void display_set_input(struct display *d, const struct display_input_ops *ops, void *opaque);

/*
 * The front end's wish for a new size (its window was resized): the hook a
 * device (virtio-gpu) set is called with it; the device may then change
 * the mode, or not. The latest wish stays readable (display_ui_size).
 */
void display_set_resize_hook(struct display *d, void (*hook)(void *opaque, uint32_t w, uint32_t h),
			     void *opaque);
bool display_ui_size(struct display *d, uint32_t *w, uint32_t *h);

/* --- Front-end side -------------------------------------------------- */

/*
 * Take the damage since the last call: true with its bounding rectangle,
 * the current mode and generation, false when nothing changed. The caller
 * then copies the rectangle out under display_lock.
 */
bool display_take_damage(struct display *d, struct display_rect *r, uint64_t *generation);

/* The current mode (0 x 0 with none) and generation. */
void display_mode(struct display *d, uint32_t *w, uint32_t *h, uint64_t *generation);

void display_request_resize(struct display *d, uint32_t w, uint32_t h);

void display_input_key(struct display *d, const uint8_t *set2, size_t len);
void display_input_abs(struct display *d, uint32_t x, uint32_t y, uint32_t buttons);
void display_input_rel(struct display *d, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons);

struct display_stats {
	uint64_t modes;		/* display_set_mode successes */
	uint64_t damages;	/* display_damage calls that marked something */
	uint64_t takes;		/* display_take_damage calls that returned true */
	uint64_t input_dropped; /* input events with no sink */
};
void display_get_stats(struct display *d, struct display_stats *st);

#endif
