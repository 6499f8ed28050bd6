// SPDX-License-Identifier: MIT
/* Unit tests for src/ui/display.c: modes, damage, input routing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include "hostel/display.h"

static void test_modes(void **state)
{
	(void)state;
	struct display *d = display_create();
	uint32_t w, h, stride;
	uint64_t gen;

	assert_non_null(d);
	display_mode(d, &w, &h, &gen);
	assert_int_equal(w, 0);
	assert_int_equal(h, 0);
	assert_null(display_lock(d, &w, &h, &stride));
	display_unlock(d);

	assert_int_equal(display_set_mode(d, 0, 480), -EINVAL);
	assert_int_equal(display_set_mode(d, 640, 0), -EINVAL);
	assert_int_equal(display_set_mode(d, DISPLAY_MAX_DIM + 1, 480), -EINVAL);
	assert_int_equal(display_set_mode(d, 640, UINT32_MAX), -EINVAL);
	assert_int_equal(display_set_mode(d, 640, 480), 0);
	display_mode(d, &w, &h, &gen);
	assert_int_equal(w, 640);
	assert_int_equal(h, 480);
	assert_int_equal(gen, 1);

	uint32_t *px = display_lock(d, &w, &h, &stride);
	assert_non_null(px);
	assert_int_equal(stride, 640 * 4);
	assert_int_equal(px[0], 0);
	assert_int_equal(px[640 * 480 - 1], 0);
	px[5] = 0x00ff0000;
	display_unlock(d);

	/* A rejected mode keeps the old one. */
	assert_int_equal(display_set_mode(d, 9000, 10), -EINVAL);
	px = display_lock(d, &w, &h, &stride);
	assert_int_equal(w, 640);
	assert_int_equal(px[5], 0x00ff0000);
	display_unlock(d);

	assert_int_equal(display_set_mode(d, 800, 600), 0);
	display_mode(d, &w, &h, &gen);
	assert_int_equal(gen, 2);
	px = display_lock(d, &w, &h, &stride);
	assert_int_equal(px[5], 0); /* a new mode starts black */
	display_unlock(d);

	struct display_stats st;
	display_get_stats(d, &st);
	assert_int_equal(st.modes, 2);
	display_destroy(d);
}

static void test_damage(void **state)
{
	(void)state;
	struct display *d = display_create();
	struct display_rect r;
	uint64_t gen;

	assert_false(display_take_damage(d, &r, &gen));
	display_damage(d, 0, 0, 10, 10); /* no mode: ignored */
	assert_false(display_take_damage(d, &r, &gen));

	assert_int_equal(display_set_mode(d, 100, 50), 0);
	/* A new mode is wholly damaged. */
	assert_true(display_take_damage(d, &r, &gen));
	assert_int_equal(r.x, 0);
	assert_int_equal(r.w, 100);
	assert_int_equal(r.h, 50);
	assert_false(display_take_damage(d, &r, &gen));

	/* Clipped, with sizes that would overflow. */
	display_damage(d, 90, 40, UINT32_MAX, UINT32_MAX);
	assert_true(display_take_damage(d, &r, &gen));
	assert_int_equal(r.x, 90);
	assert_int_equal(r.y, 40);
	assert_int_equal(r.w, 10);
	assert_int_equal(r.h, 10);

	/* Outside or empty: nothing. */
	display_damage(d, 100, 0, 1, 1);
	display_damage(d, 0, 50, 1, 1);
	display_damage(d, UINT32_MAX, UINT32_MAX, 2, 2);
	display_damage(d, 3, 3, 0, 5);
	assert_false(display_take_damage(d, &r, &gen));

	/* Two rectangles: their bounding box. */
	display_damage(d, 10, 20, 5, 5);
	display_damage(d, 2, 30, 3, 10);
	assert_true(display_take_damage(d, &r, &gen));
	assert_int_equal(r.x, 2);
	assert_int_equal(r.y, 20);
	assert_int_equal(r.w, 13);
	assert_int_equal(r.h, 20);
	assert_int_equal(gen, 1);

	/* Damage nests inside display_lock (a device writing pixels). */
	uint32_t w, h, stride;
	uint32_t *px = display_lock(d, &w, &h, &stride);
	px[0] = 1;
	display_damage(d, 0, 0, 1, 1);
	display_unlock(d);
	assert_true(display_take_damage(d, &r, &gen));
	assert_int_equal(r.w, 1);
	display_destroy(d);
}

struct sink {
	uint8_t key[8];
	size_t key_len;
	unsigned keys, abss, rels, resizes;
	uint32_t x, y, buttons, rw, rh;
	int32_t dx, dy, wheel;
};

static void on_key(void *o, const uint8_t *b, size_t n)
{
	struct sink *s = o;
	s->keys++;
	s->key_len = n < sizeof(s->key) ? n : sizeof(s->key);
	memcpy(s->key, b, s->key_len);
}
static void on_abs(void *o, uint32_t x, uint32_t y, uint32_t b)
{
	struct sink *s = o;
	s->abss++;
	s->x = x;
	s->y = y;
	s->buttons = b;
}
static void on_rel(void *o, int32_t dx, int32_t dy, int32_t wh, uint32_t b)
{
	struct sink *s = o;
	s->rels++;
	s->dx = dx;
	s->dy = dy;
	s->wheel = wh;
	s->buttons = b;
}
static void on_resize(void *o, uint32_t w, uint32_t h)
{
	struct sink *s = o;
	s->resizes++;
	s->rw = w;
	s->rh = h;
}

static void test_input(void **state)
{
	(void)state;
	struct display *d = display_create();
	struct sink s = {0};
	struct display_stats st;
	const uint8_t brk_a[] = {0xf0, 0x1c};

	/* No sinks: dropped and counted. */
	display_input_key(d, brk_a, 2);
	display_input_abs(d, 1, 2, 0);
	display_input_rel(d, 1, 2, 0, 0);
	display_get_stats(d, &st);
	assert_int_equal(st.input_dropped, 3);

	const struct display_input_ops ops = {.key = on_key, .abs = on_abs};
	display_set_input(d, &ops, &s);
	display_input_key(d, brk_a, 2);
	assert_int_equal(s.keys, 1);
	assert_int_equal(s.key_len, 2);
	assert_memory_equal(s.key, brk_a, 2);
	/* Absolute coordinates are clamped to the documented range. */
	display_input_abs(d, 100000, 7, DISPLAY_BTN_LEFT);
	assert_int_equal(s.x, DISPLAY_ABS_MAX);
	assert_int_equal(s.y, 7);
	assert_int_equal(s.buttons, DISPLAY_BTN_LEFT);
	display_input_rel(d, -3, 4, 1, 0); /* no rel sink */
	assert_int_equal(s.rels, 0);
	display_get_stats(d, &st);
	assert_int_equal(st.input_dropped, 4);

	const struct display_input_ops ops2 = {.rel = on_rel};
	display_set_input(d, &ops2, &s);
	display_input_rel(d, -3, 4, 1, DISPLAY_BTN_RIGHT);
	assert_int_equal(s.rels, 1);
	assert_int_equal(s.dx, -3);
	assert_int_equal(s.dy, 4);
	assert_int_equal(s.wheel, 1);
	display_input_key(d, brk_a, 2); /* replaced: no key sink now */
	assert_int_equal(s.keys, 1);

	uint32_t w, h;
	assert_false(display_ui_size(d, &w, &h));
	display_request_resize(d, 1024, 768); /* no hook yet: only kept */
	assert_true(display_ui_size(d, &w, &h));
	assert_int_equal(w, 1024);
	display_set_resize_hook(d, on_resize, &s);
	display_request_resize(d, 1280, 720);
	assert_int_equal(s.resizes, 1);
	assert_int_equal(s.rw, 1280);
	assert_int_equal(s.rh, 720);
	display_destroy(d);
}

/*
 * Detaching waits for a sink call under way: a board frees its input
 * devices right after display_set_input(d, NULL, NULL) at a guest reboot,
 * while the UI thread may be inside one of their sinks.
 */
struct slow_sink {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	bool entered, release, finished;
	struct display *d;
	bool finished_at_detach; /* the sink had returned when the detach did */
};

static void slow_abs(void *o, uint32_t x, uint32_t y, uint32_t buttons)
{
	struct slow_sink *s = o;
	pthread_mutex_lock(&s->mu);
	s->entered = true;
	pthread_cond_broadcast(&s->cond);
	while (!s->release)
		pthread_cond_wait(&s->cond, &s->mu);
	s->finished = true;
	pthread_mutex_unlock(&s->mu);
}

static void *ui_thread(void *o)
{
	struct slow_sink *s = o;
	display_input_abs(s->d, 1, 2, 0);
	return NULL;
}

static void *detach_thread(void *o)
{
	struct slow_sink *s = o;
	display_set_input(s->d, NULL, NULL);
	pthread_mutex_lock(&s->mu);
	s->finished_at_detach = s->finished;
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

static void test_detach_waits(void **state)
{
	(void)state;
	struct slow_sink s = {.d = display_create()};
	pthread_t ui, det;
	const struct display_input_ops ops = {.abs = slow_abs};

	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.cond, NULL);
	display_set_input(s.d, &ops, &s);
	assert_int_equal(pthread_create(&ui, NULL, ui_thread, &s), 0);
	pthread_mutex_lock(&s.mu);
	while (!s.entered)
		pthread_cond_wait(&s.cond, &s.mu);
	pthread_mutex_unlock(&s.mu);
	/* The sink is running: the detach must not return before it does. */
	assert_int_equal(pthread_create(&det, NULL, detach_thread, &s), 0);
	pthread_mutex_lock(&s.mu);
	s.release = true;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.mu);
	pthread_join(det, NULL);
	pthread_join(ui, NULL);
	assert_true(s.finished_at_detach);
	/* Detached: further events are dropped, not sent to the old sink. */
	display_input_abs(s.d, 1, 2, 0);
	struct display_stats st;
	display_get_stats(s.d, &st);
	assert_int_equal(st.input_dropped, 1);
	display_destroy(s.d);
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.mu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_input),
		cmocka_unit_test(test_detach_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
