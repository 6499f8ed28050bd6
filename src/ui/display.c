/* SPDX-License-Identifier: MIT */
/*
 * A guest screen shared by display devices, input devices and the front
 * end: see include/hostel/display.h.
 */
#include "hostel/display.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct display {
	pthread_mutex_t lock; /* recursive: display_damage nests in display_lock */
	uint32_t *pixels;
	uint32_t w, h;
	uint64_t generation;
	bool dirty;
	uint32_t dx0, dy0, dx1, dy1; /* damage bounds, [x0, x1) x [y0, y1) */

	pthread_mutex_t cb_lock; /* sinks and hooks */
	/* Sink and hook calls running now (without cb_lock held); setters
	 * wait on cb_idle until the old callbacks are done with their opaque. */
	unsigned int cb_calls;
	pthread_cond_t cb_idle;
	struct display_input_ops in;
	void *in_opaque;
	void (*resize_hook)(void *opaque, uint32_t w, uint32_t h);
	void *resize_opaque;
	bool have_ui_size;
	uint32_t ui_w, ui_h;

	struct display_stats st;
};

struct display *display_create(void)
{
	struct display *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&d->lock, &a);
	pthread_mutexattr_destroy(&a);
	pthread_mutex_init(&d->cb_lock, NULL);
	pthread_cond_init(&d->cb_idle, NULL);
	return d;
}

void display_destroy(struct display *d)
{
	if (!d)
		return;
	free(d->pixels);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->cb_lock);
	pthread_cond_destroy(&d->cb_idle);
	free(d);
}

int display_set_mode(struct display *d, uint32_t w, uint32_t h)
{
	if (w == 0 || h == 0 || w > DISPLAY_MAX_DIM || h > DISPLAY_MAX_DIM)
		return -EINVAL;
	uint32_t *px = calloc((size_t)w * h, sizeof(uint32_t));
	if (!px)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	free(d->pixels);
	d->pixels = px;
	d->w = w;
	d->h = h;
	d->generation++;
	d->dirty = true;
	d->dx0 = 0;
	d->dy0 = 0;
	d->dx1 = w;
	d->dy1 = h;
	d->st.modes++;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

uint32_t *display_lock(struct display *d, uint32_t *w, uint32_t *h, uint32_t *stride)
{
	pthread_mutex_lock(&d->lock);
	*w = d->w;
	*h = d->h;
	*stride = d->w * 4;
	return d->pixels;
}

void display_unlock(struct display *d)
{
	pthread_mutex_unlock(&d->lock);
}

void display_damage(struct display *d, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	pthread_mutex_lock(&d->lock);
	if (x >= d->w || y >= d->h || w == 0 || h == 0) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	/* Clip without overflow: w and h may be anything. */
	uint32_t x1 = w > d->w - x ? d->w : x + w;
	uint32_t y1 = h > d->h - y ? d->h : y + h;
	if (!d->dirty) {
		d->dirty = true;
		d->dx0 = x;
		d->dy0 = y;
		d->dx1 = x1;
		d->dy1 = y1;
	} else {
		d->dx0 = x < d->dx0 ? x : d->dx0;
		d->dy0 = y < d->dy0 ? y : d->dy0;
		d->dx1 = x1 > d->dx1 ? x1 : d->dx1;
		d->dy1 = y1 > d->dy1 ? y1 : d->dy1;
	}
	d->st.damages++;
	pthread_mutex_unlock(&d->lock);
}

/*
 * With cb_lock held: wait until no callback copied out before is running.
 * New calls see the new callbacks, so the wait ends; after it the old
 * opaque may be freed (a board's devices at a guest reboot).
 */
static void cb_quiesce(struct display *d)
{
	while (d->cb_calls)
		pthread_cond_wait(&d->cb_idle, &d->cb_lock);
}

/* A callback copied out under cb_lock has returned. */
static void cb_done(struct display *d)
{
	pthread_mutex_lock(&d->cb_lock);
	if (--d->cb_calls == 0)
		pthread_cond_broadcast(&d->cb_idle);
	pthread_mutex_unlock(&d->cb_lock);
}

void display_set_input(struct display *d, const struct display_input_ops *ops, void *opaque)
{
	pthread_mutex_lock(&d->cb_lock);
	if (ops)
		d->in = *ops;
	else
		memset(&d->in, 0, sizeof(d->in));
	d->in_opaque = opaque;
	cb_quiesce(d);
	pthread_mutex_unlock(&d->cb_lock);
}

void display_set_resize_hook(struct display *d, void (*hook)(void *opaque, uint32_t w, uint32_t h),
			     void *opaque)
{
	pthread_mutex_lock(&d->cb_lock);
	d->resize_hook = hook;
	d->resize_opaque = opaque;
	cb_quiesce(d);
	pthread_mutex_unlock(&d->cb_lock);
}

bool display_ui_size(struct display *d, uint32_t *w, uint32_t *h)
{
	pthread_mutex_lock(&d->cb_lock);
	bool have = d->have_ui_size;
	*w = d->ui_w;
	*h = d->ui_h;
	pthread_mutex_unlock(&d->cb_lock);
	return have;
}

bool display_take_damage(struct display *d, struct display_rect *r, uint64_t *generation)
{
	pthread_mutex_lock(&d->lock);
	bool dirty = d->dirty;
	if (dirty) {
		r->x = d->dx0;
		r->y = d->dy0;
		r->w = d->dx1 - d->dx0;
		r->h = d->dy1 - d->dy0;
		d->dirty = false;
		d->st.takes++;
	}
	*generation = d->generation;
	pthread_mutex_unlock(&d->lock);
	return dirty;
}

void display_mode(struct display *d, uint32_t *w, uint32_t *h, uint64_t *generation)
{
	pthread_mutex_lock(&d->lock);
	*w = d->w;
	*h = d->h;
	*generation = d->generation;
	pthread_mutex_unlock(&d->lock);
}

void display_request_resize(struct display *d, uint32_t w, uint32_t h)
{
	pthread_mutex_lock(&d->cb_lock);
	d->have_ui_size = true;
	d->ui_w = w;
	d->ui_h = h;
	void (*hook)(void *, uint32_t, uint32_t) = d->resize_hook;
	void *opaque = d->resize_opaque;
	d->cb_calls += hook != NULL;
	pthread_mutex_unlock(&d->cb_lock);
	if (hook) {
		hook(opaque, w, h);
		cb_done(d);
	}
}

/* The sinks are copied out under cb_lock and called without it. */
void display_input_key(struct display *d, const uint8_t *set2, size_t len)
{
	pthread_mutex_lock(&d->cb_lock);
	void (*key)(void *, const uint8_t *, size_t) = d->in.key;
	void *opaque = d->in_opaque;
	if (!key)
		d->st.input_dropped++;
	d->cb_calls += key != NULL;
	pthread_mutex_unlock(&d->cb_lock);
	if (key) {
		key(opaque, set2, len);
		cb_done(d);
	}
}

void display_input_abs(struct display *d, uint32_t x, uint32_t y, uint32_t buttons)
{
	pthread_mutex_lock(&d->cb_lock);
	void (*abs_fn)(void *, uint32_t, uint32_t, uint32_t) = d->in.abs;
	void *opaque = d->in_opaque;
	if (!abs_fn)
		d->st.input_dropped++;
	d->cb_calls += abs_fn != NULL;
	pthread_mutex_unlock(&d->cb_lock);
	if (abs_fn) {
		abs_fn(opaque, x > DISPLAY_ABS_MAX ? DISPLAY_ABS_MAX : x,
		       y > DISPLAY_ABS_MAX ? DISPLAY_ABS_MAX : y, buttons);
		cb_done(d);
	}
}

void display_input_rel(struct display *d, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons)
{
	pthread_mutex_lock(&d->cb_lock);
	void (*rel)(void *, int32_t, int32_t, int32_t, uint32_t) = d->in.rel;
	void *opaque = d->in_opaque;
	if (!rel)
		d->st.input_dropped++;
	d->cb_calls += rel != NULL;
	pthread_mutex_unlock(&d->cb_lock);
	if (rel) {
		rel(opaque, dx, dy, wheel, buttons);
		cb_done(d);
	}
}

void display_get_stats(struct display *d, struct display_stats *st)
{
	pthread_mutex_lock(&d->lock);
	pthread_mutex_lock(&d->cb_lock);
	*st = d->st;
	pthread_mutex_unlock(&d->cb_lock);
	pthread_mutex_unlock(&d->lock);
}
