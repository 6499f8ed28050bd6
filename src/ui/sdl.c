/* SPDX-License-Identifier: MIT */
/*
 * The SDL2 front end: see sdl.h.
 *
 * The loop: SDL_WaitEventTimeout until the next frame tick, handle what
 * came, and at each tick take the display's damage. Nothing damaged and
 * nothing exposed means nothing drawn: an idle guest screen costs one
 * wake-up and one uncontended mutex per tick. (struct display has no
 * "damaged" notification to wait on, so the tick is what finds changes.)
 */
#include "ui/sdl.h"

#include <SDL.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostel-config.h"
#include "hostel/display.h"
#include "hostel/log.h"
#include "ui/keymap.h"

#if HOSTEL_HAVE_X11
#include <X11/Xlib.h>
#include <X11/Xproto.h>
#endif

/* A user's window resize is passed on once the size has held this long, so
 * that dragging a border does not make the guest change mode on every step. */
#define RESIZE_SETTLE_MS 100

#define GRAB_HINT " (Ctrl+Alt+G to release)"

struct sdl_ui {
	struct display *d;
	struct sdl_ui_config cfg;
	char *title;
	pthread_t owner;
	uint32_t quit_event;
	atomic_bool quit;

	SDL_Window *win;
	SDL_Renderer *ren;
	SDL_Texture *tex;
	uint32_t tw, th;     /* the texture's (the mode's) size */
	uint64_t gen;	     /* the display generation the texture shows */
	SDL_Rect dst;	     /* where the picture is in the window */
	bool need_present;   /* exposed or resized: draw even without damage */
	bool resize_pending; /* a user resize waiting to settle */
	uint32_t resize_w, resize_h;
	uint64_t resize_at;

	uint8_t down[SDL_NUM_SCANCODES / 8]; /* keys made and not yet broken */
	uint32_t buttons;		     /* DISPLAY_BTN_* held */
	bool grabbed;
	unsigned closes;
	bool xerror_set; /* ui_xerror installed */

	pthread_mutex_t mu; /* st */
	pthread_cond_t cond;
	struct sdl_ui_stats st;
};

/* Stats: changed on the UI thread, under mu, waking sdl_ui_wait. */
#define STAT(ui, expr)                                                                             \
	do {                                                                                       \
		pthread_mutex_lock(&(ui)->mu);                                                     \
		expr;                                                                              \
		pthread_cond_broadcast(&(ui)->cond);                                               \
		pthread_mutex_unlock(&(ui)->mu);                                                   \
	} while (0)

#if HOSTEL_HAVE_X11
/*
 * SDL's X11 driver wakes its event wait by sending a ClientMessage to our
 * window from a second X connection. One sent just before the window is
 * destroyed (a close event arriving while SDL waits always sends one) can
 * reach the server after the destruction, from the other connection: a
 * BadWindow error for X_SendEvent, which Xlib's default handler makes fatal
 * (exit(1)) when SDL closes that connection. That one error is harmless;
 * every other goes on to the handler that was there before.
 */
static XErrorHandler prev_xerror;

static int ui_xerror(Display *dpy, XErrorEvent *e)
{
	if (e->error_code == BadWindow && e->request_code == X_SendEvent) {
		log_debug("sdl: ignored a late X wake-up for window 0x%lx", e->resourceid);
		return 0;
	}
	return prev_xerror ? prev_xerror(dpy, e) : 0;
}
#endif

static void set_title(struct sdl_ui *ui)
{
	const char *hint = ui->grabbed ? GRAB_HINT : ui->cfg.ungrabbed_hint;
	if (!hint || !*hint) {
		SDL_SetWindowTitle(ui->win, ui->title);
		return;
	}
	size_t n = strlen(ui->title) + strlen(hint) + 1;
	char *t = malloc(n);
	if (!t)
		return;
	snprintf(t, n, "%s%s", ui->title, hint);
	SDL_SetWindowTitle(ui->win, t);
	free(t);
}

struct sdl_ui *sdl_ui_create(struct display *d, const struct sdl_ui_config *cfg)
{
	struct sdl_ui *ui = calloc(1, sizeof(*ui));
	if (!ui)
		return NULL;
	ui->d = d;
	ui->cfg = *cfg;
	if (ui->cfg.max_fps == 0)
		ui->cfg.max_fps = 60;
	if (ui->cfg.max_fps > 1000)
		ui->cfg.max_fps = 1000;
	ui->title = strdup(cfg->title ? cfg->title : "hostel");
	if (!ui->title) {
		free(ui);
		return NULL;
	}
	ui->owner = pthread_self();
	atomic_init(&ui->quit, false);
	pthread_mutex_init(&ui->mu, NULL);
	pthread_cond_init(&ui->cond, NULL);

	/* The VMM handles SIGINT and SIGTERM itself. */
	SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
	/* Software rendering: where GL would be emulated (llvmpipe in a VM,
	 * the test bed) it costs a CPU the guest needs. */
	SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
	SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0");
	/* The click that focuses the window reaches the guest too. */
	SDL_SetHint(SDL_HINT_MOUSE_FOCUS_CLICKTHROUGH, "1");
	/* A VM window is not a game: leave the compositor and screensaver be. */
	SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
	SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "1");

	if (SDL_Init(SDL_INIT_VIDEO) < 0) {
		log_error("sdl: cannot start: %s", SDL_GetError());
		goto fail_init;
	}
	ui->quit_event = SDL_RegisterEvents(1);
	if (ui->quit_event == (uint32_t)-1) {
		log_error("sdl: no user event left");
		goto fail_win;
	}
	ui->win = SDL_CreateWindow(ui->title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 640,
				   480, SDL_WINDOW_RESIZABLE | SDL_WINDOW_SHOWN);
	if (!ui->win) {
		log_error("sdl: cannot open a window: %s", SDL_GetError());
		goto fail_win;
	}
	ui->ren = SDL_CreateRenderer(ui->win, -1, SDL_RENDERER_SOFTWARE);
	if (!ui->ren) {
		log_error("sdl: no software renderer: %s", SDL_GetError());
		goto fail_ren;
	}
#if HOSTEL_HAVE_X11
	if (strcmp(SDL_GetCurrentVideoDriver(), "x11") == 0) {
		prev_xerror = XSetErrorHandler(ui_xerror);
		ui->xerror_set = true;
	}
#endif
	set_title(ui);
	/* Keys are keys: no input method, no text events. */
	SDL_StopTextInput();
	ui->st.win_w = 640;
	ui->st.win_h = 480;
	ui->need_present = true;
	return ui;

fail_ren:
	SDL_DestroyWindow(ui->win);
fail_win:
	SDL_Quit();
fail_init:
	pthread_cond_destroy(&ui->cond);
	pthread_mutex_destroy(&ui->mu);
	free(ui->title);
	free(ui);
	return NULL;
}

void sdl_ui_destroy(struct sdl_ui *ui)
{
	if (!ui)
		return;
	if (ui->grabbed)
		SDL_SetRelativeMouseMode(SDL_FALSE);
	if (ui->tex)
		SDL_DestroyTexture(ui->tex);
	SDL_DestroyRenderer(ui->ren);
	SDL_DestroyWindow(ui->win);
	SDL_Quit(); /* closes SDL's X connections: late errors arrive here */
#if HOSTEL_HAVE_X11
	if (ui->xerror_set)
		XSetErrorHandler(prev_xerror);
#endif
	pthread_cond_destroy(&ui->cond);
	pthread_mutex_destroy(&ui->mu);
	free(ui->title);
	free(ui);
}

void sdl_ui_quit(struct sdl_ui *ui)
{
	atomic_store(&ui->quit, true);
	/* Wakes SDL_WaitEventTimeout (SDL_PushEvent is thread-safe and
	 * signals the video driver's wait). If the queue is full, the loop
	 * still sees the flag at its next tick. */
	SDL_Event ev;
	memset(&ev, 0, sizeof(ev));
	ev.type = ui->quit_event;
	SDL_PushEvent(&ev);
}

void sdl_ui_get_stats(struct sdl_ui *ui, struct sdl_ui_stats *st)
{
	pthread_mutex_lock(&ui->mu);
	*st = ui->st;
	pthread_mutex_unlock(&ui->mu);
}

bool sdl_ui_wait(struct sdl_ui *ui, bool (*pred)(const struct sdl_ui_stats *st, void *arg),
		 void *arg, int timeout_ms)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ui->mu);
	bool ok;
	while (!(ok = pred(&ui->st, arg)))
		if (pthread_cond_timedwait(&ui->cond, &ui->mu, &dl) == ETIMEDOUT) {
			ok = pred(&ui->st, arg);
			break;
		}
	pthread_mutex_unlock(&ui->mu);
	return ok;
}

/* --- Drawing ----------------------------------------------------------- */

/* Fit the picture into the output, keeping its aspect, centred. */
static void place(struct sdl_ui *ui)
{
	int ow = 0, oh = 0;
	SDL_GetRendererOutputSize(ui->ren, &ow, &oh);
	if (ow <= 0 || oh <= 0 || ui->tw == 0 || ui->th == 0) {
		ui->dst = (SDL_Rect){0, 0, ow > 0 ? ow : 1, oh > 0 ? oh : 1};
		return;
	}
	int64_t dw = ow, dh = oh;
	if ((int64_t)ow * ui->th > (int64_t)oh * ui->tw)
		dw = (int64_t)ui->tw * oh / ui->th; /* window wider than the picture */
	else
		dh = (int64_t)ui->th * ow / ui->tw;
	if (dw < 1)
		dw = 1;
	if (dh < 1)
		dh = 1;
	ui->dst = (SDL_Rect){(int)((ow - dw) / 2), (int)((oh - dh) / 2), (int)dw, (int)dh};
}

/* The display has a new mode: a texture of its size, the window too. */
static void follow_mode(struct sdl_ui *ui)
{
	uint32_t w, h;
	uint64_t gen;

	display_mode(ui->d, &w, &h, &gen);
	ui->gen = gen;
	if (ui->tex) {
		SDL_DestroyTexture(ui->tex);
		ui->tex = NULL;
	}
	ui->tw = ui->th = 0;
	if (w == 0 || h == 0)
		return;
	/* SDL_PIXELFORMAT_RGB888 is SDL2's name for XRGB8888 in a native
	 * uint32_t: the display's own layout, so updates are plain copies. */
	ui->tex = SDL_CreateTexture(ui->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
				    (int)w, (int)h);
	if (!ui->tex) {
		log_warn("sdl: no %ux%u texture: %s", w, h, SDL_GetError());
		return;
	}
	ui->tw = w;
	ui->th = h;

	/* The window takes the mode's size, as far as the screen allows; a
	 * bigger mode is shown scaled down. */
	int ww = (int)w, wh = (int)h;
	SDL_Rect ub;
	int idx = SDL_GetWindowDisplayIndex(ui->win);
	if (idx >= 0 && SDL_GetDisplayUsableBounds(idx, &ub) == 0 && ub.w > 0 && ub.h > 0) {
		if (ww > ub.w || wh > ub.h) {
			double s = SDL_min((double)ub.w / ww, (double)ub.h / wh);
			ww = SDL_max(1, (int)(ww * s));
			wh = SDL_max(1, (int)(wh * s));
		}
	}
	/* The guest answered (or overrode) the user's wish: drop it. */
	ui->resize_pending = false;
	SDL_SetWindowSize(ui->win, ww, wh);
	STAT(ui, ui->st.mode_changes++);
}

/* Copy the damaged rectangle into the texture, under the display's lock. */
static void upload(struct sdl_ui *ui, const struct display_rect *r)
{
	uint32_t w, h, stride, mw, mh;
	uint64_t gen;
	const uint32_t *px = display_lock(ui->d, &w, &h, &stride);
	/* The lock is recursive: the mode read here is the one px belongs to. */
	display_mode(ui->d, &mw, &mh, &gen);
	if (!px || gen != ui->gen || !ui->tex || w != ui->tw || h != ui->th) {
		/* A newer mode: set_mode damaged all of it for the next tick. */
		display_unlock(ui->d);
		return;
	}
	/* display_take_damage clips to the mode; check anyway, it is cheap. */
	if (r->x >= w || r->y >= h || r->w == 0 || r->h == 0 || r->w > w - r->x ||
	    r->h > h - r->y) {
		display_unlock(ui->d);
		return;
	}
	SDL_Rect sr = {(int)r->x, (int)r->y, (int)r->w, (int)r->h};
	const uint8_t *src = (const uint8_t *)px + (size_t)r->y * stride + (size_t)r->x * 4;
	int err = SDL_UpdateTexture(ui->tex, &sr, src, (int)stride);
	display_unlock(ui->d);
	if (err < 0) {
		log_warn("sdl: texture update failed: %s", SDL_GetError());
		return;
	}
	STAT(ui, (ui->st.uploads++, ui->st.upload_pixels += (uint64_t)r->w * r->h));
}

static void refresh(struct sdl_ui *ui)
{
	struct display_rect r;
	uint64_t gen;
	bool dirty = display_take_damage(ui->d, &r, &gen);

	if (gen != ui->gen) {
		follow_mode(ui);
		/* The whole picture, whatever the damage said. */
		r = (struct display_rect){0, 0, ui->tw, ui->th};
		dirty = ui->tw > 0;
		ui->need_present = true;
	}
	if (dirty)
		upload(ui, &r);
	if (!dirty && !ui->need_present)
		return;

	ui->need_present = false;
	place(ui);
	SDL_SetRenderDrawColor(ui->ren, 0, 0, 0, 255);
	SDL_RenderClear(ui->ren);
	if (ui->tex)
		SDL_RenderCopy(ui->ren, ui->tex, NULL, &ui->dst);
	SDL_RenderPresent(ui->ren);
	STAT(ui, (ui->st.frames++, ui->st.expose_frames += !dirty));
}

/* --- Input ------------------------------------------------------------- */

static bool key_is_down(struct sdl_ui *ui, int sc)
{
	return ui->down[sc / 8] & (1u << (sc % 8));
}

static void key_set(struct sdl_ui *ui, int sc, bool down)
{
	if (down)
		ui->down[sc / 8] |= (uint8_t)(1u << (sc % 8));
	else
		ui->down[sc / 8] &= (uint8_t) ~(1u << (sc % 8));
}

static void send_key(struct sdl_ui *ui, int sc, bool down)
{
	uint8_t seq[KEYMAP_MAX_SEQ];
	size_t n = keymap_set2(sc, down, seq);
	if (n == 0) {
		if (!keymap_known(sc))
			STAT(ui, ui->st.unknown_keys++);
		return; /* unknown, or Pause's release */
	}
	display_input_key(ui->d, seq, n);
	STAT(ui, ui->st.keys++);
}

/* Window coordinates to 0..DISPLAY_ABS_MAX over the picture. */
static uint32_t to_abs(int v, int origin, int size)
{
	int64_t p = (int64_t)v - origin;
	if (p < 0 || size <= 1)
		return 0;
	if (p >= size)
		p = size - 1;
	return (uint32_t)(p * DISPLAY_ABS_MAX / (size - 1));
}

static uint32_t btn_bit(uint8_t b)
{
	switch (b) {
	case SDL_BUTTON_LEFT:
		return DISPLAY_BTN_LEFT;
	case SDL_BUTTON_RIGHT:
		return DISPLAY_BTN_RIGHT;
	case SDL_BUTTON_MIDDLE:
		return DISPLAY_BTN_MIDDLE;
	default:
		return 0;
	}
}

static void send_abs(struct sdl_ui *ui, int x, int y)
{
	display_input_abs(ui->d, to_abs(x, ui->dst.x, ui->dst.w), to_abs(y, ui->dst.y, ui->dst.h),
			  ui->buttons);
}

/* Focus went elsewhere: the guest must not see keys held forever. */
static void release_all(struct sdl_ui *ui)
{
	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
		if (!key_is_down(ui, sc))
			continue;
		key_set(ui, sc, false);
		send_key(ui, sc, false);
	}
	if (ui->buttons) {
		ui->buttons = 0;
		if (ui->grabbed) {
			display_input_rel(ui->d, 0, 0, 0, 0);
		} else {
			/* Where the pointer is: only the buttons change. */
			int x, y;
			SDL_GetMouseState(&x, &y);
			send_abs(ui, x, y);
		}
	}
}

static void set_grab(struct sdl_ui *ui, bool grab)
{
	if (SDL_SetRelativeMouseMode(grab ? SDL_TRUE : SDL_FALSE) < 0) {
		log_warn("sdl: cannot %s the mouse: %s", grab ? "grab" : "release", SDL_GetError());
		return;
	}
	ui->grabbed = grab;
	set_title(ui);
	STAT(ui, ui->st.grabbed = grab);
}

static void on_key(struct sdl_ui *ui, const SDL_KeyboardEvent *ev)
{
	int sc = ev->keysym.scancode;
	bool down = ev->type == SDL_KEYDOWN;

	if (sc < 0 || sc >= SDL_NUM_SCANCODES)
		return;
	/* The grab hot key stays with the host (Ctrl and Alt, pressed
	 * first, did reach the guest, as on QEMU). */
	if (down && sc == SDL_SCANCODE_G && (ev->keysym.mod & KMOD_CTRL) &&
	    (ev->keysym.mod & KMOD_ALT)) {
		if (!ev->repeat)
			set_grab(ui, !ui->grabbed);
		return;
	}
	if (!down && !key_is_down(ui, sc))
		return; /* a break without its make (the hot key's G) */
	key_set(ui, sc, down);
	/* Auto-repeat is sent as repeated makes, as a keyboard's typematic. */
	send_key(ui, sc, down);
}

static void on_window(struct sdl_ui *ui, const SDL_WindowEvent *ev)
{
	switch (ev->event) {
	case SDL_WINDOWEVENT_EXPOSED:
		ui->need_present = true;
		break;
	case SDL_WINDOWEVENT_SIZE_CHANGED:
		ui->need_present = true;
		STAT(ui, (ui->st.win_w = (uint32_t)ev->data1, ui->st.win_h = (uint32_t)ev->data2));
		break;
	case SDL_WINDOWEVENT_RESIZED:
		/* Resized from outside (SDL reports our own SDL_SetWindowSize
		 * as SIZE_CHANGED only): the user's wish for the guest. */
		if (ev->data1 <= 0 || ev->data2 <= 0)
			break;
		if ((uint32_t)ev->data1 == ui->tw && (uint32_t)ev->data2 == ui->th) {
			ui->resize_pending = false;
			break;
		}
		ui->resize_pending = true;
		ui->resize_w = (uint32_t)ev->data1;
		ui->resize_h = (uint32_t)ev->data2;
		ui->resize_at = SDL_GetTicks64() + RESIZE_SETTLE_MS;
		break;
	case SDL_WINDOWEVENT_FOCUS_LOST:
		release_all(ui);
		break;
	case SDL_WINDOWEVENT_CLOSE:
		ui->closes++;
		STAT(ui, ui->st.closes = ui->closes);
		if (ui->cfg.on_close)
			ui->cfg.on_close(ui->cfg.opaque, ui->closes);
		break;
	default:
		break;
	}
}

static void handle(struct sdl_ui *ui, const SDL_Event *ev)
{
	switch (ev->type) {
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		on_key(ui, &ev->key);
		break;
	case SDL_MOUSEMOTION:
		if (ui->grabbed)
			display_input_rel(ui->d, ev->motion.xrel, ev->motion.yrel, 0, ui->buttons);
		else
			send_abs(ui, ev->motion.x, ev->motion.y);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP: {
		uint32_t bit = btn_bit(ev->button.button);
		if (!bit)
			break;
		if (ev->type == SDL_MOUSEBUTTONDOWN)
			ui->buttons |= bit;
		else
			ui->buttons &= ~bit;
		if (ui->grabbed)
			display_input_rel(ui->d, 0, 0, 0, ui->buttons);
		else
			send_abs(ui, ev->button.x, ev->button.y);
		break;
	}
	case SDL_MOUSEWHEEL: {
		int32_t steps = ev->wheel.y;
		if (ev->wheel.direction == SDL_MOUSEWHEEL_FLIPPED)
			steps = -steps;
		if (steps)
			display_input_rel(ui->d, 0, 0, steps, ui->buttons);
		break;
	}
	case SDL_WINDOWEVENT:
		on_window(ui, &ev->window);
		break;
	default:
		/* SDL_QUIT follows the last window's CLOSE: counted there.
		 * The quit event only wakes the loop, which reads the flag. */
		break;
	}
}

int sdl_ui_run(struct sdl_ui *ui)
{
	if (!pthread_equal(pthread_self(), ui->owner)) {
		log_error("sdl: sdl_ui_run must run on the thread that created the window");
		return -EINVAL;
	}
	const uint64_t period = 1000 / ui->cfg.max_fps;
	uint64_t next = SDL_GetTicks64();

	while (!atomic_load(&ui->quit)) {
		uint64_t now = SDL_GetTicks64();
		uint64_t until = next;
		if (ui->resize_pending && ui->resize_at < until)
			until = ui->resize_at;
		int timeout = until > now ? (int)(until - now) : 0;

		SDL_Event ev;
		if (SDL_WaitEventTimeout(&ev, timeout)) {
			handle(ui, &ev);
			while (SDL_PollEvent(&ev))
				handle(ui, &ev);
		}
		now = SDL_GetTicks64();
		if (ui->resize_pending && now >= ui->resize_at) {
			ui->resize_pending = false;
			log_debug(
				"sdl: the window was resized to %ux%u: asking the guest to follow",
				ui->resize_w, ui->resize_h);
			display_request_resize(ui->d, ui->resize_w, ui->resize_h);
			STAT(ui, ui->st.resize_requests++);
		}
		if (now >= next) {
			refresh(ui);
			/* From now, not from the missed tick: a slow frame
			 * does not make the next ones come faster. */
			next = now + period;
		}
		STAT(ui, ui->st.wakeups++);
	}
	return 0;
}

__attribute__((visibility("default"))) const struct sdl_ui_ops hostel_sdl_ui_ops = {
	.create = sdl_ui_create,
	.run = sdl_ui_run,
	.quit = sdl_ui_quit,
	.destroy = sdl_ui_destroy,
};
