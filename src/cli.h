/* SPDX-License-Identifier: MIT */
/* Command-line parsing (no KVM here, so it is unit-tested on its own). */
#ifndef HOSTEL_CLI_H
#define HOSTEL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "net/netopts.h"

enum hostel_cmd { CMD_NONE, CMD_HELP, CMD_VERSION, CMD_RUN, CMD_EXEC, CMD_CTL };
enum console_kind { CON_STDIO, CON_FILE, CON_NONE };
/* --display: AUTO is sdl when a display server is reachable, else none
 * (decided at start-up, not here: it depends on the environment). */
enum display_kind { DISP_AUTO, DISP_SDL, DISP_NONE };

#define CLI_MIN_MEMORY (16ULL << 20)
#define CLI_MAX_MEMORY (1ULL << 40)
#define CLI_MAX_CPUS   255 /* xAPIC IDs 0-254 in the MADT; 255 is broadcast */

#define CLI_MAX_DISKS 8
#define CLI_MAX_PATH  4096 /* bytes of a path, with its NUL */

enum disk_cache { DISK_CACHE_WRITEBACK, DISK_CACHE_NONE };
/* virtio-blk's I/O engine; the first is the default (bench/README.md, "Disk"). */
enum disk_aio { DISK_AIO_THREAD, DISK_AIO_URING };

struct disk_opts {
	char path[CLI_MAX_PATH];
	bool readonly;
	bool snapshot;
	enum disk_cache cache;
	enum disk_aio aio;
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
	enum display_kind display; /* --display sdl|none (exec: none by default) */
	int verbose;
	bool no_unpack;	       /* boot a bzImage as is: the guest decompresses it */
	bool no_reboot;	       /* a guest reboot ends hostel with HOSTEL_EXIT_REBOOT */
	uint16_t debug_exit;   /* isa-debug-exit port, 0 = none */
	unsigned int grace_s;  /* SIGTERM: seconds from power button to hard stop */
	unsigned int nr_disks; /* --disk, in order: vda, vdb, ... */
	struct disk_opts disks[CLI_MAX_DISKS];
	unsigned int nr_nets; /* --net, in order: eth0, eth1, ... */
	struct net_opts nets[NET_MAX_NICS];
	uint64_t timeout_ms;	  /* --timeout: stop the guest after this long; 0 = never */
	uint64_t doctor_after_ms; /* --doctor-after: silence before a diagnosis; 0 = no doctor */
	const char *ready_re;	  /* --ready REGEX: console line that marks the guest ready */
	const char *serial_log;	  /* --serial-log FILE: full console transcript */
	const char *report;	  /* --report FILE */
	bool report_junit;	  /* --report-format junit (default json) */
	const char *api_socket;	  /* --api-socket PATH: the control socket */
	const char *ctl_path;	  /* hostel ctl PATH COMMAND [ARGS-JSON] */
	const char *ctl_command;
	const char *ctl_args;
	int exec_argc; /* hostel exec -- CMD ARG...: the command's words */
	char **exec_argv;
	const char *config; /* --config FILE */
	bool print_config;  /* --print-config: print the machine as JSON and exit */
	/*
	 * Strings read from a --config file: kernel, initrd, cmdline,
	 * console_path, ready_re, serial_log, report and api_socket may point
	 * in here, so once parsed a hostel_opts is
	 * passed by pointer, never copied.
	 */
	struct {
		char kernel[CLI_MAX_PATH];
		char initrd[CLI_MAX_PATH];
		char cmdline[CLI_MAX_PATH];
		char console_path[CLI_MAX_PATH];
		char ready_re[CLI_MAX_PATH];
		char serial_log[CLI_MAX_PATH];
		char report[CLI_MAX_PATH];
		char api_socket[CLI_MAX_PATH];
	} cfg;
};

/* "30", "30s", "500ms", "2m", "1h" (a bare number is seconds) -> ms; 0 or -EINVAL. */
int cli_parse_duration(const char *s, uint64_t *ms) __must_check;

/* The defaults of 'hostel run': 512 MiB, one vCPU, console on stdio, ... */
void cli_defaults(struct hostel_opts *o);
/*
 * What names the VM: the config file, else the first disk, else the
 * kernel, as given; NULL for the default guest. The window title shows
 * its last part; the NICs' default MACs are derived from it, so two VMs
 * with different disks or configs and the same kernel differ.
 */
const char *cli_vm_name(const struct hostel_opts *o);

/*
 * Parse argv: the defaults, then the --config file if one is named, then
 * every other option given (whatever its place on the line) over the
 * file's keys. Returns 0 on success; on a usage error (a bad config file
 * included) returns -EINVAL and writes one line naming the problem into
 * @err.
 */
int cli_parse_args(int argc, char **argv, struct hostel_opts *o, char *err,
		   size_t errlen) __must_check;

/*
 * cli_parse_args(), and then carry out --print-config: print the machine as
 * JSON on stdout and exit(0) (80 if stdout fails), before any VMM start-up.
 */
int cli_parse(int argc, char **argv, struct hostel_opts *o, char *err, size_t errlen) __must_check;

/* "PATH[,readonly][,snapshot][,cache=writeback|none]"; 0 or -EINVAL with @err. */
int cli_parse_disk(const char *s, struct disk_opts *d, char *err, size_t errlen) __must_check;

/* "512M", "2G", "1024" (MiB), "1T", "64MiB"; 0 or -EINVAL/-ERANGE. */
int cli_parse_size(const char *s, uint64_t *bytes) __must_check;
/* A guest RAM size hostel takes: CLI_MIN_MEMORY..CLI_MAX_MEMORY, whole MiB. */
bool cli_memory_ok(uint64_t bytes);

extern const char cli_usage[];
extern const char cli_run_usage[];

#endif
