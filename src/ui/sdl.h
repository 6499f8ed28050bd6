/* SPDX-License-Identifier: MIT */
/*
 * The SDL2 front end: one window showing a struct display, with the host's
 * keyboard and mouse fed back into it.
 *
 * Threads: sdl_ui_create, sdl_ui_run and sdl_ui_destroy on the main thread
 * (SDL's rule); sdl_ui_quit, sdl_ui_get_stats and sdl_ui_wait from any.
 *
 * Drawing: SDL's software renderer and one streaming texture, refreshed
 * only from the display's damage rectangles, at most max_fps times a
 * second. With nothing drawn and no input the loop sleeps in SDL's event
 * wait, waking max_fps times a second to look for damage.
 *
 * Input: keys as PS/2 set-2 bytes (src/ui/keymap.h), with breaks for every
 * key still down when the window loses focus; the pointer as absolute
 * positions over the picture, or, after Ctrl+Alt+G (the grab, shown in the
 * title), as relative motion. Mouse wheel steps go to display_input_rel
 * in both modes, positive away from the user (SDL's sign).
 */
#ifndef HOSTEL_UI_SDL_H
#define HOSTEL_UI_SDL_H

#include <stdbool.h>
#include <stdint.h>

#include "hostel/compiler.h"

struct display;
struct sdl_ui;

struct sdl_ui_config {
	/* The window title: the VM's name. */
	const char *title;
	/* Appended to the title while the mouse is not grabbed (the grab's
	 * own hint replaces it while it is); NULL: nothing. Not copied: it
	 * must outlive the window (a string literal). */
	const char *ungrabbed_hint;
	/* The user closed the window; @count is 1 the first time, 2 the
	 * second, ... The VMM decides (power button, then hard stop). Runs
	 * on the UI thread; may call sdl_ui_quit. */
	void (*on_close)(void *opaque, unsigned count);
	void *opaque;
	/* Redraw at most this often; 0: 60. */
	unsigned max_fps;
};

struct sdl_ui_stats {
	uint64_t wakeups;	  /* loop iterations */
	uint64_t frames;	  /* presents */
	uint64_t expose_frames;	  /* of which for the window system alone (exposed,
				     resized), with no damage */
	uint64_t uploads;	  /* damage rectangles copied into the texture */
	uint64_t upload_pixels;	  /* their pixels */
	uint64_t mode_changes;	  /* generations followed */
	uint64_t keys;		  /* set-2 sequences sent */
	uint64_t unknown_keys;	  /* key events with no set-2 code */
	uint64_t resize_requests; /* display_request_resize calls */
	uint64_t closes;	  /* window close requests */
	bool grabbed;
	uint32_t win_w, win_h; /* the window's size as SDL last reported it */
};

/*
 * Open the window (not yet drawing: see sdl_ui_run). NULL on failure,
 * logged (no display server, SDL error).
 */
struct sdl_ui *sdl_ui_create(struct display *d, const struct sdl_ui_config *cfg) __must_check;

/*
 * Run SDL's event loop on the calling (main) thread until sdl_ui_quit.
 * 0 when told to quit; -EINVAL when called from another thread than
 * sdl_ui_create's.
 */
int sdl_ui_run(struct sdl_ui *ui);

/* Make sdl_ui_run return soon; from any thread, before or during it. */
void sdl_ui_quit(struct sdl_ui *ui);

/* After sdl_ui_run has returned. */
void sdl_ui_destroy(struct sdl_ui *ui);

void sdl_ui_get_stats(struct sdl_ui *ui, struct sdl_ui_stats *st);

/*
 * Wait until @pred(stats, @arg) holds, or @timeout_ms passes: true if it
 * held. The stats are checked each time they change (each frame, event
 * batch, key, ...). For tests and tools; any thread but the UI's.
 */
bool sdl_ui_wait(struct sdl_ui *ui, bool (*pred)(const struct sdl_ui_stats *st, void *arg),
		 void *arg, int timeout_ms);

/*
 * The front end lives in its own module, hostel-sdl.so, which hostel
 * loads (dlopen) only to open a window: a headless run never maps SDL and
 * the forty-odd libraries it pulls in. The module resolves the core's
 * functions (the display, the keymap's users, the log) from the hostel
 * binary, which exports them.
 */
struct sdl_ui_ops {
	struct sdl_ui *(*create)(struct display *d, const struct sdl_ui_config *cfg);
	int (*run)(struct sdl_ui *ui);
	void (*quit)(struct sdl_ui *ui);
	void (*destroy)(struct sdl_ui *ui);
};

/* The module's one exported symbol. */
#define SDL_UI_OPS_SYMBOL "hostel_sdl_ui_ops"
extern const struct sdl_ui_ops hostel_sdl_ui_ops;

/* The module's file name, looked for next to the hostel binary (a build
 * tree), then in HOSTEL_UI_MODULE_DIR (where meson installs it). */
#define SDL_UI_MODULE "hostel-sdl.so"

/*
 * Load the module (once; later calls return the same ops). NULL after
 * logging one line that names what is missing or why it did not load.
 */
const struct sdl_ui_ops *sdl_ui_load(void);

#endif
