/* SPDX-License-Identifier: MIT */
/*
 * The control socket's commands (docs/api.md) over the running VM. The
 * socket lives for the whole session, on an event loop of its own, so it
 * stays up across guest reboots; each boot hands its VM in and takes it
 * back out (vmctl_set_vm) around the time its vCPUs run.
 */
#ifndef HOSTEL_VMCTL_H
#define HOSTEL_VMCTL_H

#include <pthread.h>
#include <stdint.h>
#include "hostel/compiler.h"

struct vm;
struct board;
struct evloop;
struct api_server;
struct display;
struct blk;

#define VMCTL_MAX_DISKS 8

struct vmctl {
	pthread_mutex_t lock; /* guards vm, board, boots */
	struct vm *vm;	      /* the running boot's; NULL between boots */
	struct board *board;
	struct display *display; /* the screen (screenshot); NULL: none */
	unsigned int boots;
	/* The session's disks: they live as long as the session (stats). */
	struct blk *disks[VMCTL_MAX_DISKS];
	const char *disk_paths[VMCTL_MAX_DISKS];
	unsigned int nr_disks;
	uint64_t t_start_ns; /* hostel's start, clock_host() */
	uint64_t t_boot_ns;  /* this boot's start */
	struct evloop *el;
	struct api_server *srv;
};

/*
 * Listen at @path and serve it. 0, or -EEXIST (something else is at @path)
 * or -EIO, with one line in @why.
 */
int vmctl_start(struct vmctl *c, const char *path, uint64_t t_start_ns, char *why,
		size_t whylen) __must_check;
/* A boot's VM comes (@vm non-NULL) or goes (NULL). */
void vmctl_set_vm(struct vmctl *c, struct vm *vm, struct board *board, unsigned int boots);
/* The session's screen comes (or, NULL, goes before it is destroyed). */
void vmctl_set_display(struct vmctl *c, struct display *d);
/* The session's disks, in --disk order (at most VMCTL_MAX_DISKS are shown). */
void vmctl_set_disks(struct vmctl *c, struct blk *const *disks, const char *const *paths,
		     unsigned int n);
/* Close the socket and remove its file; a no-op when never started. */
void vmctl_stop(struct vmctl *c);

#endif
