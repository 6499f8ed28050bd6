// SPDX-License-Identifier: MIT
/*
 * x_close WINDOW: ask an X window to close, as a window manager's close
 * button does (a WM_PROTOCOLS ClientMessage carrying WM_DELETE_WINDOW).
 * xdotool has no such command, and Xvfb in the tests runs no window
 * manager. Exit 0 once the request is sent, 1 on an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <X11/Xlib.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: x_close WINDOW-ID\n");
		return 1;
	}
	char *end;
	unsigned long w = strtoul(argv[1], &end, 0);
	if (*end || !w) {
		fprintf(stderr, "x_close: '%s' is not a window id\n", argv[1]);
		return 1;
	}
	Display *dpy = XOpenDisplay(NULL);
	if (!dpy) {
		fprintf(stderr, "x_close: cannot open the display\n");
		return 1;
	}
	XEvent ev;
	memset(&ev, 0, sizeof(ev));
	ev.xclient.type = ClientMessage;
	ev.xclient.window = (Window)w;
	ev.xclient.message_type = XInternAtom(dpy, "WM_PROTOCOLS", False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)XInternAtom(dpy, "WM_DELETE_WINDOW", False);
	ev.xclient.data.l[1] = CurrentTime;
	Status ok = XSendEvent(dpy, (Window)w, False, NoEventMask, &ev);
	XSync(dpy, False);
	XCloseDisplay(dpy);
	return ok ? 0 : 1;
}
