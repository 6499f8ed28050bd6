// SPDX-License-Identifier: MIT
/*
 * The SDL front end (src/ui/sdl.c) in a real X server: tests/unit/xvfb-test
 * starts Xvfb and sets DISPLAY. The UI runs on the main thread, as in
 * hostel; a driver thread plays guest (sets modes and pixels on the
 * display) and user (xdotool: keys, pointer, resizes; Xlib: the window
 * manager's close request, reading the window's pixels back). Every wait is
 * for a condition, bounded; a failed check stops the UI and fails the test.
 */
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "hostel/display.h"
#include "ui/sdl.h"

#define WAIT_MS 5000

/* --- What reached the display's sinks and hooks ------------------------- */

struct absev {
	uint32_t x, y, buttons;
};

static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	uint8_t keys[4096];
	size_t nkeys;
	struct absev abs[4096];
	size_t nabs;
	int64_t rel_dx, rel_dy, rel_wheel;
	uint32_t rel_buttons;
	size_t nrel;
	uint32_t resize_w, resize_h;
	unsigned nresize;
	unsigned closes;
} rec = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

static struct sdl_ui *ui;
static struct display *disp;

static void rec_key(void *opaque, const uint8_t *set2, size_t len)
{
	(void)opaque;
	pthread_mutex_lock(&rec.mu);
	for (size_t i = 0; i < len && rec.nkeys < sizeof(rec.keys); i++)
		rec.keys[rec.nkeys++] = set2[i];
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.mu);
}

static void rec_abs(void *opaque, uint32_t x, uint32_t y, uint32_t buttons)
{
	(void)opaque;
	pthread_mutex_lock(&rec.mu);
	if (rec.nabs < sizeof(rec.abs) / sizeof(rec.abs[0]))
		rec.abs[rec.nabs++] = (struct absev){x, y, buttons};
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.mu);
}

static void rec_rel(void *opaque, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons)
{
	(void)opaque;
	pthread_mutex_lock(&rec.mu);
	rec.rel_dx += dx;
	rec.rel_dy += dy;
	rec.rel_wheel += wheel;
	rec.rel_buttons = buttons;
	rec.nrel++;
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.mu);
}

static void rec_resize(void *opaque, uint32_t w, uint32_t h)
{
	(void)opaque;
	pthread_mutex_lock(&rec.mu);
	rec.resize_w = w;
	rec.resize_h = h;
	rec.nresize++;
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.mu);
}

/* As the VMM will: the first close is a request (power button), the
 * second a stop. */
static void rec_close(void *opaque, unsigned count)
{
	(void)opaque;
	pthread_mutex_lock(&rec.mu);
	rec.closes = count;
	pthread_cond_broadcast(&rec.cond);
	pthread_mutex_unlock(&rec.mu);
	if (count >= 2)
		sdl_ui_quit(ui);
}

static const struct display_input_ops rec_ops = {
	.key = rec_key,
	.abs = rec_abs,
	.rel = rec_rel,
};

/* Wait (bounded) until @pred holds over rec, under rec.mu. */
static bool rec_wait(bool (*pred)(void *), void *arg)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&rec.mu);
	bool ok;
	while (!(ok = pred(arg)))
		if (pthread_cond_timedwait(&rec.cond, &rec.mu, &dl) == ETIMEDOUT) {
			ok = pred(arg);
			break;
		}
	pthread_mutex_unlock(&rec.mu);
	return ok;
}

/* --- The driver thread -------------------------------------------------- */

static char failure[512];
static char title[64];
static unsigned long wid;
static Display *xd;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			if (failure[0])                                                            \
				return false; /* a helper's own, more precise */                   \
			int n_ = snprintf(failure, sizeof(failure), "line %d: ", __LINE__);        \
			snprintf(failure + n_, sizeof(failure) - (size_t)n_, __VA_ARGS__);         \
			return false;                                                              \
		}                                                                                  \
	} while (0)

/* Run a shell command (xdotool), bounded by timeout(1); its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	va_start(ap, fmt);
	int n = snprintf(cmd, sizeof(cmd), "timeout 10 ");
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* The first line of a command's output. */
static bool sh_out(char *out, size_t cap, const char *cmd)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return false;
	bool ok = fgets(out, (int)cap, p) != NULL;
	if (pclose(p) != 0)
		ok = false;
	if (ok)
		out[strcspn(out, "\n")] = 0;
	return ok;
}

static bool frames_past(const struct sdl_ui_stats *st, void *arg)
{
	return st->frames > *(uint64_t *)arg;
}

static bool wakeups_past(const struct sdl_ui_stats *st, void *arg)
{
	return st->wakeups > *(uint64_t *)arg;
}

/* Let the UI loop go round at least once more. */
static void next_tick(void)
{
	struct sdl_ui_stats st;
	sdl_ui_get_stats(ui, &st);
	sdl_ui_wait(ui, wakeups_past, &st.wakeups, 1000);
}

/* The window's pixels (read from the X server) equal the display's. */
static bool window_matches(uint32_t w, uint32_t h, char *why, size_t cap)
{
	XWindowAttributes wa;
	if (!XGetWindowAttributes(xd, (Window)wid, &wa) || (uint32_t)wa.width != w ||
	    (uint32_t)wa.height != h) {
		snprintf(why, cap, "window %dx%d, want %ux%u", wa.width, wa.height, w, h);
		return false;
	}
	XImage *img = XGetImage(xd, (Window)wid, 0, 0, w, h, AllPlanes, ZPixmap);
	if (!img) {
		snprintf(why, cap, "XGetImage failed");
		return false;
	}
	uint32_t dw, dh, stride;
	const uint32_t *px = display_lock(disp, &dw, &dh, &stride);
	bool ok = px && dw == w && dh == h;
	for (uint32_t y = 0; ok && y < h; y++)
		for (uint32_t x = 0; ok && x < w; x++) {
			uint32_t got = (uint32_t)XGetPixel(img, (int)x, (int)y) & 0xffffff;
			uint32_t want = px[y * (stride / 4) + x] & 0xffffff;
			if (got != want) {
				snprintf(why, cap, "pixel %u,%u: %06x, want %06x", x, y, got, want);
				ok = false;
			}
		}
	display_unlock(disp);
	XDestroyImage(img);
	return ok;
}

/* Wait, frame by frame, for the window to show the display. */
static bool wait_window(uint32_t w, uint32_t h, char *why, size_t cap)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct sdl_ui_stats st;
		sdl_ui_get_stats(ui, &st);
		if (window_matches(w, h, why, cap))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > WAIT_MS / 1000)
			return false;
		/* Look again after the next frame (or tick, for the window's
		 * size, which comes with no frame of its own). */
		if (!sdl_ui_wait(ui, frames_past, &st.frames, 200))
			next_tick();
	}
}

static void paint(uint32_t seed)
{
	uint32_t w, h, stride;
	uint32_t *px = display_lock(disp, &w, &h, &stride);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			px[y * (stride / 4) + x] = ((x * 3 + seed) & 0xff) << 16 |
						   ((y * 5) & 0xff) << 8 | ((x ^ y) & 0xff);
	display_damage(disp, 0, 0, w, h);
	display_unlock(disp);
}

struct keys_want {
	const uint8_t *b;
	size_t n;
};

static bool have_keys(void *arg)
{
	return rec.nkeys >= ((struct keys_want *)arg)->n;
}

/*
 * Type @xdokeys (an xdotool key list), then F12 as a marker, and expect
 * exactly @want followed by F12's make and break: nothing missing, nothing
 * extra, nothing after.
 */
static bool expect_keys(const char *xdokeys, const uint8_t *want, size_t n)
{
	uint8_t all[256];
	CHECK(n + 3 <= sizeof(all), "too many");
	memcpy(all, want, n);
	memcpy(all + n, (const uint8_t[]){0x07, 0xF0, 0x07}, 3);
	struct keys_want kw = {all, n + 3};

	pthread_mutex_lock(&rec.mu);
	rec.nkeys = 0;
	pthread_mutex_unlock(&rec.mu);
	CHECK(sh("xdotool %s", xdokeys) == 0, "xdotool %s failed", xdokeys);
	CHECK(sh("xdotool key F12") == 0, "xdotool key F12 failed");
	bool got = rec_wait(have_keys, &kw);
	pthread_mutex_lock(&rec.mu);
	char hex[512] = "";
	for (size_t i = 0, o = 0; i < rec.nkeys && o + 4 < sizeof(hex); i++)
		o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%02x ", rec.keys[i]);
	bool same = rec.nkeys == kw.n && memcmp(rec.keys, all, kw.n) == 0;
	pthread_mutex_unlock(&rec.mu);
	CHECK(got && same, "'%s': got %s", xdokeys, hex);
	return true;
}

/* The keys since the last reset end with a break of A (F0 1C). */
static bool have_a_break(void *arg)
{
	(void)arg;
	return rec.nkeys >= 2 && rec.keys[rec.nkeys - 2] == 0xF0 && rec.keys[rec.nkeys - 1] == 0x1C;
}

/*
 * Key repeat: A held for 1.5 s (the hold is the input itself, not a wait
 * for anything) goes to the guest as repeated makes, as a PS/2
 * keyboard's typematic repeat does, then one break. The X server repeats
 * after its autorepeat delay (660 ms in Xvfb's default).
 */
static bool expect_repeat(void)
{
	pthread_mutex_lock(&rec.mu);
	rec.nkeys = 0;
	pthread_mutex_unlock(&rec.mu);
	CHECK(sh("xdotool keydown a sleep 1.5 keyup a") == 0, "xdotool keydown a ... keyup a");
	bool got = rec_wait(have_a_break, NULL);
	pthread_mutex_lock(&rec.mu);
	size_t n = rec.nkeys, makes = 0;
	bool only_a = n >= 2;
	for (size_t i = 0; i + 2 < n; i++) {
		if (rec.keys[i] == 0x1C)
			makes++;
		else
			only_a = false;
	}
	pthread_mutex_unlock(&rec.mu);
	CHECK(got, "no break of the held key (%zu bytes)", n);
	CHECK(only_a && makes >= 3,
	      "held key: %zu makes in %zu bytes, want 3 or more and nothing else", makes, n);
	return true;
}

struct abs_want {
	size_t from;
	struct absev ev[4];
	size_t n;
};

/* The events since @from end with the wanted ones. */
static bool have_abs(void *arg)
{
	struct abs_want *a = arg;
	if (rec.nabs < a->from + a->n)
		return false;
	const struct absev *tail = &rec.abs[rec.nabs - a->n];
	for (size_t i = 0; i < a->n; i++)
		if (tail[i].x != a->ev[i].x || tail[i].y != a->ev[i].y ||
		    tail[i].buttons != a->ev[i].buttons)
			return false;
	return true;
}

static size_t abs_count(void)
{
	pthread_mutex_lock(&rec.mu);
	size_t n = rec.nabs;
	pthread_mutex_unlock(&rec.mu);
	return n;
}

static uint32_t scale(uint32_t v, uint32_t size)
{
	return (uint32_t)((uint64_t)v * DISPLAY_ABS_MAX / (size - 1));
}

static bool rel_moved(void *arg)
{
	const int64_t *want = arg;
	return rec.rel_dx == want[0] && rec.rel_dy == want[1];
}

static bool rel_buttons(void *arg)
{
	const uint32_t *want = arg;
	return rec.nrel > want[1] && rec.rel_buttons == want[0];
}

static bool resized(void *arg)
{
	return rec.nresize >= *(unsigned *)arg;
}

static bool closed(void *arg)
{
	return rec.closes >= *(unsigned *)arg;
}

static bool mode_seen(const struct sdl_ui_stats *st, void *arg)
{
	const uint32_t *want = arg;
	return st->mode_changes >= want[0] && st->win_w == want[1] && st->win_h == want[2];
}

static bool grabbed_is(const struct sdl_ui_stats *st, void *arg)
{
	return st->grabbed == *(bool *)arg;
}

static bool title_is(const char *want)
{
	char got[256] = "";
	for (int i = 0; i < 100; i++) {
		if (sh_out(got, sizeof(got), "xdotool getwindowname $HOSTEL_WID") &&
		    strcmp(got, want) == 0)
			return true;
		next_tick(); /* SDL sets the property on its own connection */
	}
	return false;
}

static void send_close(void)
{
	XEvent e;
	memset(&e, 0, sizeof(e));
	e.xclient.type = ClientMessage;
	e.xclient.window = (Window)wid;
	e.xclient.message_type = XInternAtom(xd, "WM_PROTOCOLS", False);
	e.xclient.format = 32;
	e.xclient.data.l[0] = (long)XInternAtom(xd, "WM_DELETE_WINDOW", False);
	e.xclient.data.l[1] = CurrentTime;
	XSendEvent(xd, (Window)wid, False, NoEventMask, &e);
	XFlush(xd);
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double wall_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static bool drive(void)
{
	char why[256] = "";
	char out[64];

	/* The window, by its (unique) title. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "timeout 10 xdotool search --sync --name '^%s$'", title);
	CHECK(sh_out(out, sizeof(out), cmd), "no window titled %s", title);
	wid = strtoul(out, NULL, 10);
	CHECK(wid != 0, "bad window id %s", out);
	snprintf(out, sizeof(out), "%lu", wid);
	setenv("HOSTEL_WID", out, 1);
	xd = XOpenDisplay(NULL);
	CHECK(xd, "XOpenDisplay");

	/* 1. The guest sets a mode and draws: the window takes its size and
	 * shows its pixels, exactly (no scaling at 1:1). */
	CHECK(display_set_mode(disp, 320, 200) == 0, "set_mode");
	paint(0);
	CHECK(sdl_ui_wait(ui, mode_seen, (uint32_t[]){1, 320, 200}, WAIT_MS), "no 320x200 window");
	CHECK(wait_window(320, 200, why, sizeof(why)), "320x200: %s", why);

	/* 2. A small damage uploads just that rectangle. */
	struct sdl_ui_stats st0, st1;
	sdl_ui_get_stats(ui, &st0);
	uint32_t w, h, stride;
	uint32_t *px = display_lock(disp, &w, &h, &stride);
	for (uint32_t y = 10; y < 30; y++)
		for (uint32_t x = 40; x < 60; x++)
			px[y * w + x] = 0x00ff8000;
	display_unlock(disp);
	display_damage(disp, 40, 10, 20, 20);
	CHECK(wait_window(320, 200, why, sizeof(why)), "after damage: %s", why);
	sdl_ui_get_stats(ui, &st1);
	CHECK(st1.upload_pixels - st0.upload_pixels == 400, "uploaded %llu pixels for 400",
	      (unsigned long long)(st1.upload_pixels - st0.upload_pixels));

	/* 3. A new mode: a new window size, new pixels. */
	CHECK(display_set_mode(disp, 400, 300) == 0, "set_mode");
	paint(77);
	CHECK(sdl_ui_wait(ui, mode_seen, (uint32_t[]){2, 400, 300}, WAIT_MS), "no 400x300 window");
	CHECK(wait_window(400, 300, why, sizeof(why)), "400x300: %s", why);

	/* 4. Idle: an unchanged screen is never redrawn, and the process uses
	 * next to no CPU. The interval below is the measurement's length, not
	 * a wait for anything: the bound (5 % of wall time; measured far
	 * lower, see the output) holds however the machine schedules us. */
	sdl_ui_get_stats(ui, &st0);
	double c0 = cpu_s(), t0 = wall_s();
	struct timespec idle = {3, 0};
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &idle, &idle) == EINTR)
		;
	double c1 = cpu_s(), t1 = wall_s();
	sdl_ui_get_stats(ui, &st1);
	double share = (c1 - c0) / (t1 - t0);
	print_message("idle: %.3f s CPU in %.3f s (%.2f %%), %llu wake-ups, %llu frames, "
		      "%llu of them for exposes\n",
		      c1 - c0, t1 - t0, share * 100,
		      (unsigned long long)(st1.wakeups - st0.wakeups),
		      (unsigned long long)(st1.frames - st0.frames),
		      (unsigned long long)(st1.expose_frames - st0.expose_frames));
	/* Only the window system may ask for a redraw: the last resize's
	 * expose can still be on its way when the interval starts. */
	uint64_t exposes = st1.expose_frames - st0.expose_frames;
	CHECK(st1.frames - st0.frames == exposes && exposes <= 2,
	      "%llu frames (%llu for exposes) drawn while idle",
	      (unsigned long long)(st1.frames - st0.frames), (unsigned long long)exposes);
	CHECK(st1.uploads == st0.uploads, "uploads while idle");
	CHECK(share < 0.05, "idle CPU %.1f %% of wall time", share * 100);

	/* 5. Keys: the exact set-2 bytes, makes and breaks. (xdotool's
	 * "key a+b" releases in the order it pressed.) */
	CHECK(sh("xdotool windowfocus --sync %lu", wid) == 0, "focus");
	CHECK(expect_keys("key a", (const uint8_t[]){0x1C, 0xF0, 0x1C}, 3), "a");
	CHECK(expect_keys("type hi", (const uint8_t[]){0x33, 0xF0, 0x33, 0x43, 0xF0, 0x43}, 6),
	      "type");
	CHECK(expect_keys("key shift+1", (const uint8_t[]){0x12, 0x16, 0xF0, 0x12, 0xF0, 0x16}, 6),
	      "shift+1");
	/*
	 * Right-hand modifiers: xdotool presses a modifier keysym together
	 * with the first key of its modifier group (Control_L for Control_R,
	 * ...) around it. Both keys' own bytes are checked.
	 */
	CHECK(expect_keys("keydown Control_R key Right keyup Control_R",
			  (const uint8_t[]){0x14, 0xE0, 0x14, 0xE0, 0x74, 0xE0, 0xF0, 0x74, 0xF0,
					    0x14, 0xE0, 0xF0, 0x14},
			  13),
	      "rctrl+right");
	CHECK(expect_keys("key Alt_L", (const uint8_t[]){0x11, 0xF0, 0x11}, 3), "lalt");
	CHECK(expect_keys("key Super_L", (const uint8_t[]){0xE0, 0x1F, 0xE0, 0xF0, 0x1F}, 5),
	      "lgui");
	CHECK(expect_keys("key Alt_R",
			  (const uint8_t[]){0x11, 0xE0, 0x11, 0xF0, 0x11, 0xE0, 0xF0, 0x11}, 8),
	      "ralt");
	CHECK(expect_keys(
		      "key Super_R",
		      (const uint8_t[]){0xE0, 0x1F, 0xE0, 0x27, 0xE0, 0xF0, 0x1F, 0xE0, 0xF0, 0x27},
		      10),
	      "rgui");
	CHECK(expect_keys("key Shift_R", (const uint8_t[]){0x12, 0x59, 0xF0, 0x12, 0xF0, 0x59}, 6),
	      "rshift");
	/* (KP_End: the keypad's 1 without Num Lock, which xdotool would
	 * press for KP_1.) */
	CHECK(expect_keys("key F1 F7 Escape Return KP_Enter KP_End KP_Divide Delete Up",
			  (const uint8_t[]){0x05, 0xF0, 0x05, 0x83, 0xF0, 0x83, 0x76, 0xF0, 0x76,
					    0x5A, 0xF0, 0x5A, 0xE0, 0x5A, 0xE0, 0xF0, 0x5A, 0x69,
					    0xF0, 0x69, 0xE0, 0x4A, 0xE0, 0xF0, 0x4A, 0xE0, 0x71,
					    0xE0, 0xF0, 0x71, 0xE0, 0x75, 0xE0, 0xF0, 0x75},
			  35),
	      "misc");
	CHECK(expect_keys(
		      "key Print",
		      (const uint8_t[]){0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12},
		      10),
	      "print");
	CHECK(expect_keys("key Pause",
			  (const uint8_t[]){0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77}, 8),
	      "pause");

	CHECK(expect_repeat(), "key repeat");

	/* 6. Focus goes elsewhere with keys held: they are released. */
	Window other = XCreateSimpleWindow(xd, DefaultRootWindow(xd), 1200, 1000, 10, 10, 0, 0, 0);
	XMapWindow(xd, other);
	XSync(xd, False);
	CHECK(expect_keys("keydown Shift_L keydown b keyup b keydown c",
			  (const uint8_t[]){0x12, 0x32, 0xF0, 0x32, 0x21}, 5),
	      "held");
	pthread_mutex_lock(&rec.mu);
	rec.nkeys = 0;
	pthread_mutex_unlock(&rec.mu);
	CHECK(sh("xdotool windowfocus --sync %lu", other) == 0, "focus other");
	/* c (SDL scancode 6) and left Shift (225) broken, once each. */
	static const uint8_t brk[] = {0xF0, 0x21, 0xF0, 0x12};
	struct keys_want kw = {brk, sizeof(brk)};
	CHECK(rec_wait(have_keys, &kw), "no breaks on focus loss");
	/* Released elsewhere: nothing more for the guest. Back, and a marker
	 * shows what came since. */
	CHECK(sh("xdotool keyup c keyup Shift_L") == 0, "keyup");
	CHECK(sh("xdotool windowfocus --sync %lu", wid) == 0, "focus back");
	pthread_mutex_lock(&rec.mu);
	bool exact = rec.nkeys == sizeof(brk) && memcmp(rec.keys, brk, sizeof(brk)) == 0;
	size_t nk = rec.nkeys;
	pthread_mutex_unlock(&rec.mu);
	CHECK(exact, "focus loss sent %zu bytes", nk);
	CHECK(expect_keys("key a", (const uint8_t[]){0x1C, 0xF0, 0x1C}, 3), "a after focus");
	XDestroyWindow(xd, other);
	XSync(xd, False);

	/* 7. The pointer, absolute over the picture (400x300 at 1:1). */
	struct abs_want aw = {.from = abs_count(), .n = 1};
	aw.ev[0] = (struct absev){scale(100, 400), scale(50, 300), 0};
	CHECK(sh("xdotool mousemove --window %lu --sync 100 50", wid) == 0, "mousemove");
	CHECK(rec_wait(have_abs, &aw), "no abs event at 100,50");
	aw = (struct abs_want){.from = abs_count(), .n = 2};
	aw.ev[0] = (struct absev){scale(100, 400), scale(50, 300), DISPLAY_BTN_LEFT};
	aw.ev[1] = (struct absev){scale(100, 400), scale(50, 300), 0};
	CHECK(sh("xdotool click 1") == 0, "click");
	CHECK(rec_wait(have_abs, &aw), "no left click");
	aw = (struct abs_want){.from = abs_count(), .n = 2};
	aw.ev[0] = (struct absev){scale(100, 400), scale(50, 300), DISPLAY_BTN_RIGHT};
	aw.ev[1] = (struct absev){scale(100, 400), scale(50, 300), 0};
	CHECK(sh("xdotool click 3") == 0, "click");
	CHECK(rec_wait(have_abs, &aw), "no right click");
	aw = (struct abs_want){.from = abs_count(), .n = 1};
	aw.ev[0] = (struct absev){DISPLAY_ABS_MAX, DISPLAY_ABS_MAX, 0};
	CHECK(sh("xdotool mousemove --window %lu --sync 399 299", wid) == 0, "mousemove");
	CHECK(rec_wait(have_abs, &aw), "no abs event at the corner");
	aw = (struct abs_want){.from = abs_count(), .n = 1};
	aw.ev[0] = (struct absev){0, 0, 0};
	CHECK(sh("xdotool mousemove --window %lu --sync 0 0", wid) == 0, "mousemove");
	CHECK(rec_wait(have_abs, &aw), "no abs event at the origin");
	CHECK(sh("xdotool mousemove --window %lu --sync 200 150", wid) == 0, "mousemove");

	/* 8. Ctrl+Alt+G grabs: the title says how to release; Ctrl and Alt
	 * reach the guest, G does not; motion and buttons go relative. */
	CHECK(expect_keys("key ctrl+alt+g", (const uint8_t[]){0x14, 0x11, 0xF0, 0x14, 0xF0, 0x11},
			  6),
	      "grab keys");
	CHECK(sdl_ui_wait(ui, grabbed_is, (bool[]){true}, WAIT_MS), "not grabbed");
	char want_title[128];
	snprintf(want_title, sizeof(want_title), "%s (Ctrl+Alt+G to release)", title);
	CHECK(title_is(want_title), "title while grabbed");
	size_t nabs = abs_count();
	CHECK(sh("xdotool mousemove_relative --sync -- 15 -7") == 0 ||
		      sh("xdotool mousemove_relative -- 15 -7") == 0,
	      "mousemove_relative");
	CHECK(rec_wait(rel_moved, (int64_t[]){15, -7}), "relative motion: %lld,%lld",
	      (long long)rec.rel_dx, (long long)rec.rel_dy);
	pthread_mutex_lock(&rec.mu);
	uint32_t bw[2] = {DISPLAY_BTN_LEFT, (uint32_t)rec.nrel};
	pthread_mutex_unlock(&rec.mu);
	CHECK(sh("xdotool mousedown 1") == 0, "mousedown");
	CHECK(rec_wait(rel_buttons, bw), "no relative button");
	bw[0] = 0;
	bw[1]++;
	CHECK(sh("xdotool mouseup 1") == 0, "mouseup");
	CHECK(rec_wait(rel_buttons, bw), "no relative button release");
	CHECK(abs_count() == nabs, "absolute events while grabbed");
	CHECK(expect_keys("key ctrl+alt+g", (const uint8_t[]){0x14, 0x11, 0xF0, 0x14, 0xF0, 0x11},
			  6),
	      "release keys");
	CHECK(sdl_ui_wait(ui, grabbed_is, (bool[]){false}, WAIT_MS), "still grabbed");
	CHECK(title_is(title), "title after release");

	/* 9. The user resizes the window: the wish reaches the device's
	 * hook; the guest follows with that mode, and that is the end of it. */
	CHECK(sh("xdotool windowsize --sync %lu 640 480", wid) == 0 ||
		      sh("xdotool windowsize %lu 640 480", wid) == 0,
	      "windowsize");
	CHECK(rec_wait(resized, (unsigned[]){1}), "no resize request");
	pthread_mutex_lock(&rec.mu);
	uint32_t rw = rec.resize_w, rh = rec.resize_h;
	pthread_mutex_unlock(&rec.mu);
	CHECK(rw == 640 && rh == 480, "resize request %ux%u", rw, rh);
	CHECK(display_set_mode(disp, 640, 480) == 0, "set_mode");
	paint(5);
	CHECK(sdl_ui_wait(ui, mode_seen, (uint32_t[]){3, 640, 480}, WAIT_MS), "no 640x480");
	CHECK(wait_window(640, 480, why, sizeof(why)), "640x480: %s", why);
	sdl_ui_get_stats(ui, &st1);
	CHECK(st1.resize_requests == 1, "%llu resize requests",
	      (unsigned long long)st1.resize_requests);

	/* 10. The window manager's close (WM_DELETE_WINDOW), twice: the
	 * callback hears 1, then 2, and stops the UI. */
	send_close();
	CHECK(rec_wait(closed, (unsigned[]){1}), "no close");
	CHECK(rec.closes == 1, "closes %u", rec.closes);
	send_close();
	CHECK(rec_wait(closed, (unsigned[]){2}), "no second close");
	return true;
}

static void *driver(void *arg)
{
	(void)arg;
	if (!drive())
		sdl_ui_quit(ui);
	if (xd)
		XCloseDisplay(xd);
	return NULL;
}

static void test_live(void **state)
{
	(void)state;
	pthread_t th;

	disp = display_create();
	assert_non_null(disp);
	display_set_input(disp, &rec_ops, NULL);
	display_set_resize_hook(disp, rec_resize, NULL);
	snprintf(title, sizeof(title), "hostel-test-%d", (int)getpid());
	struct sdl_ui_config cfg = {.title = title, .on_close = rec_close};
	ui = sdl_ui_create(disp, &cfg);
	assert_non_null(ui);
	assert_int_equal(pthread_create(&th, NULL, driver, NULL), 0);
	assert_int_equal(sdl_ui_run(ui), 0);
	pthread_join(th, NULL);
	if (failure[0])
		fail_msg("%s", failure);
	assert_int_equal(rec.closes, 2);
	sdl_ui_destroy(ui);
	display_destroy(disp);
}

/* Quit before run, from another thread: run returns at once. */
static void *quitter(void *arg)
{
	sdl_ui_quit(arg);
	return NULL;
}

static void test_quit_early(void **state)
{
	(void)state;
	pthread_t th;
	struct display *d = display_create();
	struct sdl_ui_config cfg = {.title = "hostel-test-quit"};
	struct sdl_ui *u = sdl_ui_create(d, &cfg);
	assert_non_null(u);
	assert_int_equal(pthread_create(&th, NULL, quitter, u), 0);
	pthread_join(th, NULL);
	assert_int_equal(sdl_ui_run(u), 0);
	sdl_ui_destroy(u);
	display_destroy(d);
}

int main(void)
{
	/* The driver thread has its own X connection beside SDL's. */
	XInitThreads();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quit_early),
		cmocka_unit_test(test_live),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
