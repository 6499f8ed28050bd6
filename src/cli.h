/* SPDX-License-Identifier: MIT */
/* Command-line parsing (no KVM here, so it is unit-tested on its own). */
#ifndef HOSTEL_CLI_H
#define HOSTEL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"

enum hostel_cmd { CMD_NONE, CMD_HELP, CMD_VERSION, CMD_RUN };
enum console_kind { CON_STDIO, CON_FILE, CON_NONE };

#define CLI_MIN_MEMORY (16ULL << 20)
#define CLI_MAX_MEMORY (1ULL << 40)
#define CLI_MAX_CPUS   255 /* xAPIC IDs 0-254 in the MADT; 255 is broadcast */

#define CLI_MAX_DISKS 8

enum disk_cache { DISK_CACHE_WRITEBACK, DISK_CACHE_NONE };

struct disk_opts {
	char path[4096];
	bool readonly;
	bool snapshot;
	enum disk_cache cache;
};

struct hostel_opts {
	enum hostel_cmd cmd;
	bool help_run; /* "hostel run --help" */
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	bool auto_cmdline; /* append console= and friends (default true) */
	uint64_t memory;   /* bytes */
	unsigned int cpus;
	enum console_kind console;
	const char *console_path;
	int verbose;
	bool no_unpack;	       /* boot a bzImage as is: the guest decompresses it */
	bool no_reboot;	       /* a guest reboot ends hostel with HOSTEL_EXIT_REBOOT */
	uint16_t debug_exit;   /* isa-debug-exit port, 0 = none */
	unsigned int grace_s;  /* SIGTERM: seconds from power button to hard stop */
	unsigned int nr_disks; /* --disk, in order: vda, vdb, ... */
	struct disk_opts disks[CLI_MAX_DISKS];
};

/*
 * Parse argv. Returns 0 on success; on a usage error returns -EINVAL and
 * writes one line naming the problem into @err.
 */
int cli_parse(int argc, char **argv, struct hostel_opts *o, char *err, size_t errlen) __must_check;

/* "PATH[,readonly][,snapshot][,cache=writeback|none]"; 0 or -EINVAL with @err. */
int cli_parse_disk(const char *s, struct disk_opts *d, char *err, size_t errlen) __must_check;

/* "512M", "2G", "1024" (MiB), "1T", "64MiB"; 0 or -EINVAL/-ERANGE. */
int cli_parse_size(const char *s, uint64_t *bytes) __must_check;

extern const char cli_usage[];
extern const char cli_run_usage[];

#endif
