/* SPDX-License-Identifier: MIT */
/*
 * The run report (--report FILE): what a CI system wants to know about one
 * hostel run, as JSON (default) or JUnit XML. Filled in by main.c as the
 * run goes; written once at the end.
 */
#ifndef HOSTEL_REPORT_H
#define HOSTEL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "virtio/blk/blk.h"

enum report_format { REPORT_JSON, REPORT_JUNIT };

#define REPORT_MAX_VCPUS  255
#define REPORT_MAX_RANGES 16
#define REPORT_MAX_DISKS  8

struct report_vcpu {
	uint64_t exits, io, mmio, hlt, intr;
};

struct report_range {
	const char *bus; /* "pio" or "mmio" */
	uint64_t base, len, reads, writes;
};

struct report_disk {
	const char *path;
	struct blk_stats st; /* the whole run: a disk outlives reboots */
};

struct report {
	const char *version;
	const char *command;	  /* "run" or "exec" */
	const char *machine_json; /* the machine as --print-config prints it (may be NULL) */
	const char *exec_command; /* exec: the command, space-joined (may be NULL) */
	/* Host wall clock at the start (for the absolute time) and host
	 * monotonic times in ns; 0 means "did not happen". */
	uint64_t wall_start_ns;
	uint64_t t_start, t_first_insn, t_first_byte, t_ready, t_end;
	const char *ready_line; /* the --ready line (may be NULL) */
	unsigned int boots;
	const char *exit_reason; /* "poweroff", "panic", "timeout", ... */
	const char *exit_detail; /* hostel's one-line reason (may be NULL) */
	int exit_status;	 /* hostel's own exit status */
	int command_status;	 /* exec: the command's status, -1 if it did not end */
	unsigned int nr_vcpus;
	struct report_vcpu vcpus[REPORT_MAX_VCPUS]; /* summed over boots */
	unsigned int nr_ranges;
	struct report_range ranges[REPORT_MAX_RANGES]; /* busiest device ranges, last boot */
	uint64_t unclaimed_pio, unclaimed_mmio;
	unsigned int nr_disks;
	struct report_disk disks[REPORT_MAX_DISKS]; /* --disk order: vda, vdb, ... */
	uint64_t console_bytes_dropped;
	const char *console_tail; /* last console lines (may be NULL) */
	const char *doctor;	  /* the boot doctor's diagnosis (NULL: none) */
};

/*
 * One disk's counters as a JSON object, as the report's "disks" and the
 * control socket's stats show them: index, name (vda, ...), path, requests
 * by type, bytes, and requests that failed. NULL when out of memory.
 */
struct cJSON *report_disk_json(unsigned int index, const char *path, const struct blk_stats *st);

/* The report as text (malloc'd, NUL-terminated), or NULL when out of memory. */
char *report_render(const struct report *r, enum report_format f);

/* Render and write to @path (replaced whole); 0 or -errno, *why set. */
int report_write(const struct report *r, enum report_format f, const char *path, char *why,
		 size_t whylen) __must_check;

#endif
