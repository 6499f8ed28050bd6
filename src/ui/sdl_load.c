// SPDX-License-Identifier: MIT
/* Loading the SDL front end's module (see sdl.h). */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "hostel-config.h"
#include "hostel/log.h"
#include "ui/sdl.h"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const struct sdl_ui_ops *loaded;

/* Next to the running binary: build/hostel and build/hostel-sdl.so. */
static bool beside_binary(char *path, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return snprintf(path, len, "%s/%s", exe, SDL_UI_MODULE) < (int)len;
}

static void load(void)
{
	char here[PATH_MAX + 32];
	const char *candidates[2];
	unsigned int n = 0;

	if (beside_binary(here, sizeof(here)))
		candidates[n++] = here;
	candidates[n++] = HOSTEL_UI_MODULE_DIR "/" SDL_UI_MODULE;
	for (unsigned int i = 0; i < n; i++) {
		if (access(candidates[i], F_OK) != 0)
			continue;
		/* Never closed: SDL keeps threads and handlers until exit. */
		void *h = dlopen(candidates[i], RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			log_error("cannot load the window's module %s: %s", candidates[i],
				  dlerror());
			return;
		}
		loaded = dlsym(h, SDL_UI_OPS_SYMBOL);
		if (!loaded)
			log_error("%s is not hostel's window module (no %s)", candidates[i],
				  SDL_UI_OPS_SYMBOL);
		else
			log_debug("window: %s", candidates[i]);
		return;
	}
	log_error("the window's module %s is neither next to hostel nor in %s "
		  "(meson install puts it there)",
		  SDL_UI_MODULE, HOSTEL_UI_MODULE_DIR);
}

const struct sdl_ui_ops *sdl_ui_load(void)
{
	pthread_once(&load_once, load);
	return loaded;
}
