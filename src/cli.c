// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "config.h"
#include "exitcode.h"

const char cli_usage[] =
	"Usage: hostel COMMAND [OPTIONS]\n"
	"       hostel --help | --version\n"
	"\n"
	"A small virtual machine monitor on Linux KVM.\n"
	"\n"
	"Commands:\n"
	"  run     boot a Linux kernel (or the default guest) on a virtual PC\n"
	"  exec    boot, run a command in the guest, exit with its status:\n"
	"          hostel exec [run options] -- CMD [ARG...]\n"
	"  ctl     send one command to a running hostel's --api-socket:\n"
	"          hostel ctl PATH COMMAND [ARGS-JSON]; prints the result as JSON\n"
	"          (status, pause, resume, power-button, stop, stats, screenshot);\n"
	"          hostel ctl PATH screenshot FILE writes the screen to FILE (PNG)\n"
	"          exit 0 on success, 1 on an error response, 80 when PATH cannot\n"
	"          be reached, 2 on a usage error\n"
	"\n"
	"Run 'hostel run --help' for the options of run.\n"
	"\n"
	"Exit status:\n"
	"   0  the guest powered off, or a clean stop (Ctrl-A x, signal)\n"
	"   2  usage error: an unknown, duplicated or malformed option or config file\n"
	"  80  hostel or host failure (no usable /dev/kvm, out of memory, I/O error)\n"
	"  81  bad input: a kernel, initrd or image that cannot be used\n"
	"  82  the guest rebooted under --no-reboot\n"
	"  83  the guest kernel panicked\n"
	"  84  guest CPU failure: triple fault, KVM internal error, failed VM entry\n"
	"  85  --timeout reached (the last console lines are printed)\n"
	"  86  exec: the guest stopped before the command reported its status\n"
	"hostel exec exits with the command's own status (0-255; 128+N when a\n"
	"signal N killed it) when the command ran to its end, else with one of the\n"
	"codes above.\n";

const char cli_run_usage[] =
	"Usage: hostel run [OPTIONS]\n"
	"       hostel exec [OPTIONS] -- CMD [ARG...]\n"
	"\n"
	"Boot a Linux kernel on a virtual PC with a 16550 serial console. With no\n"
	"--kernel, boots the default guest built by images/ (built first if missing).\n"
	"\n"
	"  -k, --kernel PATH        Linux kernel to boot: a bzImage (vmlinuz) or an ELF\n"
	"                           vmlinux. A bzImage's xz/gzip/zstd payload is\n"
	"                           unpacked on the host once and cached in\n"
	"                           $HOSTEL_KERNEL_CACHE (default ~/.cache/hostel/vmlinux)\n"
	"      --no-kernel-unpack   let the kernel decompress itself in the guest\n"
	"                           (slower; keeps the kernel's own KASLR)\n"
	"  -i, --initrd PATH        initramfs or initrd image\n"
	"  -a, --cmdline STRING     kernel command line (hostel appends console=ttyS0\n"
	"                           and what its devices need, unless --no-auto-cmdline)\n"
	"      --no-auto-cmdline    pass --cmdline exactly as given\n"
	"  -m, --memory SIZE        guest RAM: 512M, 2G, or a number of MiB (default 512M)\n"
	"  -c, --cpus N             number of vCPUs (default 1)\n"
	"      --console MODE       stdio (default), file:PATH, or none\n"
	"      --display MODE       sdl: the guest's screen, keyboard and mouse in a\n"
	"                           window (virtio-gpu, virtio tablet, PS/2; the kernel\n"
	"                           gets console=tty0 too); none: no screen. Default:\n"
	"                           sdl when DISPLAY or WAYLAND_DISPLAY is set, else\n"
	"                           none; exec: none. In the window Ctrl+Alt+G grabs\n"
	"                           the mouse; closing it presses the power button,\n"
	"                           closing it again stops the guest\n"
	"      --disk PATH[,readonly][,snapshot][,cache=writeback|none][,aio=uring|thread]\n"
	"                           a raw disk image on virtio-blk (vda, vdb, ... in\n"
	"                           order; up to 8); snapshot keeps the guest's writes\n"
	"                           in a private overlay and the image unchanged; aio:\n"
	"                           the host I/O engine, a thread pool (default) or\n"
	"                           io_uring (threads when the kernel refuses it)\n"
	"      --net user[,hostfwd=[tcp|udp]:[HOSTADDR]:PORT-[GUESTADDR]:PORT][,restrict=on]\n"
	"                [,mac=aa:bb:cc:dd:ee:ff]\n"
	"                           a virtio-net NIC on user-mode networking (libslirp:\n"
	"                           DHCP 10.0.2.15, host 10.0.2.2, DNS 10.0.2.3; no root);\n"
	"                           hostfwd forwards a host port to the guest (repeatable);\n"
	"                           guestfwd=[tcp:]GUESTADDR:PORT-unix:PATH|cmd:COMMAND\n"
	"                           joins each guest connection to GUESTADDR:PORT to a\n"
	"                           new connection to host socket PATH or a new COMMAND's\n"
	"                           stdin/stdout (repeatable; GUESTADDR a free 10.0.2.x);\n"
	"                           restrict=on: no outside access; up to 4 --net\n"
	"      --net tap,ifname=NAME[,mac=aa:bb:cc:dd:ee:ff]\n"
	"                           a virtio-net NIC on the host's tap NAME (created\n"
	"                           when missing, with CAP_NET_ADMIN; the host side's\n"
	"                           addresses and link state are the host's to set)\n"
	"      --no-reboot          exit (status 82) when the guest reboots, instead of\n"
	"                           restarting it\n"
	"      --debug-exit[=PORT]  isa-debug-exit port (default 0x501): a guest write of\n"
	"                           V makes hostel exit with status (V << 1) | 1\n"
	"      --shutdown-grace S   on SIGTERM/SIGINT/SIGHUP, press the ACPI power button\n"
	"                           and stop hard after S seconds (default 30); a second\n"
	"                           signal stops at once\n"
	"      --config FILE        read the machine from a JSON file (below); the other\n"
	"                           options given, wherever they stand, override its keys\n"
	"      --print-config       print the resulting machine as JSON (itself a valid\n"
	"                           --config file) and exit without booting\n"
	"      --timeout DURATION   stop the guest after DURATION (90, 30s, 500ms, 5m,\n"
	"                           1h), print the last console lines, exit 85\n"
	"      --ready REGEX        a console line matching REGEX (extended) marks the\n"
	"                           guest ready; hostel logs when it came\n"
	"      --doctor-after DURATION\n"
	"                           the boot doctor: when the guest stops at a known\n"
	"                           stage (no root device, no init, init died, out of\n"
	"                           memory) or prints nothing for DURATION (default\n"
	"                           30s; 0 turns the doctor off), say on stderr in a\n"
	"                           line or two what is likely wrong (\"hostel: doctor:\")\n"
	"      --serial-log FILE    write the whole console transcript to FILE too\n"
	"      --report FILE        at the end, write a report of the run: version,\n"
	"                           machine, times (start, first guest instruction,\n"
	"                           first console byte, ready, end), exit reason and\n"
	"                           status, vCPU and device statistics, last console\n"
	"                           lines\n"
	"      --report-format F    json (default) or junit (JUnit XML for CI)\n"
	"      --api-socket PATH    serve the control protocol (docs/api.md) on a Unix\n"
	"                           socket at PATH, mode 0600; talk to it with\n"
	"                           'hostel ctl PATH COMMAND'\n"
	"  -v, --verbose            more log output (twice: debug)\n"
	"  -h, --help               this help\n"
	"\n"
	"On the console, Ctrl-A x quits and Ctrl-A Ctrl-A sends Ctrl-A.\n"
	"\n"
	"exec boots the guest, runs CMD there with the guest's sh, streams its stdout\n"
	"and stderr to hostel's (separately, over virtio consoles) and exits with its\n"
	"status. The console defaults to none (use --serial-log or --console). The\n"
	"command must fit in the kernel command line (about 1.4 KiB). The guest's\n"
	"init must support it: the default guest's does.\n"
	"\n"
	"Config file: one JSON object, every key optional, unknown keys and wrong types\n"
	"are errors (status 2). Relative paths are relative to the file's directory.\n"
	"  \"kernel\": \"PATH\", \"initrd\": \"PATH\", \"cmdline\": \"STRING\",\n"
	"  \"auto_cmdline\": true|false, \"memory\": \"2G\" or a number of MiB,\n"
	"  \"cpus\": N, \"console\": \"stdio\"|\"none\"|\"file:PATH\", \"display\": "
	"\"sdl\"|\"none\",\n"
	"  \"disks\": [{\"path\": \"PATH\", \"readonly\": false, \"snapshot\": false,\n"
	"             \"cache\": \"writeback\"|\"none\", \"aio\": \"uring\"|\"thread\"}, ...],\n"
	"  \"net\": [\"user,hostfwd=tcp:127.0.0.1:2222-:22\" or {\"type\": \"user\",\n"
	"          \"hostfwd\": [\"tcp::2222-:22\"], \"restrict\": false, \"mac\": \"..\"}\n"
	"          or {\"type\": \"tap\", \"ifname\": \"tap0\", \"mac\": \"..\"}, ...],\n"
	"  \"reboot\": true|false, \"debug_exit\": false|true|PORT|\"0x501\",\n"
	"  \"shutdown_grace\": S, \"kernel_unpack\": true|false,\n"
	"  \"timeout\": \"90s\"|S|false, \"doctor_after\": \"30s\"|S|false, \"ready\": \"REGEX\",\n"
	"  \"serial_log\": \"PATH\", \"report\": \"PATH\", \"report_format\": \"json\"|\"junit\",\n"
	"  \"api_socket\": \"PATH\"\n"
	"--disk on the command line replaces the file's whole \"disks\" list, --net the\n"
	"file's \"net\" list.\n";

int cli_parse_disk(const char *s, struct disk_opts *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	const char *comma = strchr(s, ',');
	size_t plen = comma ? (size_t)(comma - s) : strlen(s);
	if (plen == 0 || plen >= sizeof(d->path)) {
		snprintf(err, errlen,
			 "--disk '%s' needs a path (PATH[,readonly][,snapshot][,cache=...])", s);
		return -EINVAL;
	}
	memcpy(d->path, s, plen);
	d->path[plen] = 0;
	while (comma) {
		const char *opt = comma + 1;
		comma = strchr(opt, ',');
		size_t len = comma ? (size_t)(comma - opt) : strlen(opt);
		if (len == 8 && !strncmp(opt, "readonly", len)) {
			d->readonly = true;
		} else if (len == 8 && !strncmp(opt, "snapshot", len)) {
			d->snapshot = true;
		} else if (len == 15 && !strncmp(opt, "cache=writeback", len)) {
			d->cache = DISK_CACHE_WRITEBACK;
		} else if (len == 10 && !strncmp(opt, "cache=none", len)) {
			d->cache = DISK_CACHE_NONE;
		} else if (len == 9 && !strncmp(opt, "aio=uring", len)) {
			d->aio = DISK_AIO_URING;
		} else if (len == 10 && !strncmp(opt, "aio=thread", len)) {
			d->aio = DISK_AIO_THREAD;
		} else {
			snprintf(err, errlen,
				 "--disk '%s': unknown option '%.*s' (readonly, snapshot, "
				 "cache=writeback, cache=none, aio=uring, aio=thread)",
				 s, (int)len, opt);
			return -EINVAL;
		}
	}
	return 0;
}

int cli_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	uint64_t mul = 1ULL << 20; /* a bare number is MiB */

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K':
			mul = 1ULL << 10;
			break;
		case 'M':
			mul = 1ULL << 20;
			break;
		case 'G':
			mul = 1ULL << 30;
			break;
		case 'T':
			mul = 1ULL << 40;
			break;
		default:
			return -EINVAL;
		}
		end++;
		if (!strcmp(end, "iB") || !strcmp(end, "B"))
			end += strlen(end);
		if (*end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*bytes = v * mul;
	return 0;
}

bool cli_memory_ok(uint64_t bytes)
{
	/* Whole MiB: guest RAM is mapped in pages (KVM memory slots need them). */
	return bytes >= CLI_MIN_MEMORY && bytes <= CLI_MAX_MEMORY && !(bytes & ((1ULL << 20) - 1));
}

int cli_parse_duration(const char *s, uint64_t *ms)
{
	char *end;
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	uint64_t mul;
	if (errno)
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60 * 1000;
	else if (!strcmp(end, "h"))
		mul = 3600 * 1000;
	else
		return -EINVAL;
	/* At most a week: longer is a typo, and keeps the nanoseconds in range. */
	if (v > 7ULL * 24 * 3600 * 1000 / mul)
		return -EINVAL;
	*ms = v * mul;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

enum {
	OPT_CONSOLE = 256,
	OPT_CONFIG,
	OPT_PRINT_CONFIG,
	OPT_NO_AUTO_CMDLINE,
	OPT_NO_REBOOT,
	OPT_DEBUG_EXIT,
	OPT_GRACE,
	OPT_DISK,
	OPT_NO_UNPACK,
	OPT_TIMEOUT,
	OPT_READY,
	OPT_SERIAL_LOG,
	OPT_REPORT,
	OPT_REPORT_FORMAT,
	OPT_API_SOCKET,
	OPT_DOCTOR_AFTER,
	OPT_NET,
	OPT_DISPLAY,
	OPT_MAX,
};

static const char *long_name(const struct option *opts, int val)
{
	for (; opts->name; opts++)
		if (opts->val == val)
			return opts->name;
	return "?";
}

const char *cli_vm_name(const struct hostel_opts *o)
{
	return o->config ? o->config : o->nr_disks ? o->disks[0].path : o->kernel;
}

void cli_defaults(struct hostel_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->auto_cmdline = true;
	o->memory = 512ULL << 20;
	o->cpus = 1;
	o->console = CON_STDIO;
	o->grace_s = 30;
	o->doctor_after_ms = 30000;
}

/*
 * Load the --config file under the options of the command line: @o holds
 * what argv said, @given which options it named. Returns 0 or -EINVAL.
 */
static int merge_config(struct hostel_opts *o, const unsigned char *given, char *err, size_t errlen)
{
	/* Here @o points only into argv, so a copy by value is safe. */
	struct hostel_opts *cli = malloc(sizeof(*cli));
	if (!cli) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(cli, o, sizeof(*cli));
	cli_defaults(o);
	o->cmd = cli->cmd;
	o->help_run = cli->help_run;
	o->verbose = cli->verbose;
	o->config = cli->config;
	o->print_config = cli->print_config;
	int r = config_load(cli->config, o, err, errlen);
	if (r) {
		free(cli);
		return -EINVAL;
	}
	if (given['k'])
		o->kernel = cli->kernel;
	if (given['i'])
		o->initrd = cli->initrd;
	if (given['a'])
		o->cmdline = cli->cmdline;
	if (given[OPT_NO_AUTO_CMDLINE])
		o->auto_cmdline = cli->auto_cmdline;
	if (given['m'])
		o->memory = cli->memory;
	if (given['c'])
		o->cpus = cli->cpus;
	if (given[OPT_CONSOLE]) {
		o->console = cli->console;
		o->console_path = cli->console_path;
	}
	if (given[OPT_DISPLAY])
		o->display = cli->display;
	if (given[OPT_DISK]) {
		o->nr_disks = cli->nr_disks;
		memcpy(o->disks, cli->disks, sizeof(o->disks));
	}
	if (given[OPT_NET]) {
		o->nr_nets = cli->nr_nets;
		memcpy(o->nets, cli->nets, sizeof(o->nets));
	}
	if (given[OPT_NO_REBOOT])
		o->no_reboot = cli->no_reboot;
	if (given[OPT_NO_UNPACK])
		o->no_unpack = cli->no_unpack;
	if (given[OPT_DEBUG_EXIT])
		o->debug_exit = cli->debug_exit;
	if (given[OPT_GRACE])
		o->grace_s = cli->grace_s;
	if (given[OPT_TIMEOUT])
		o->timeout_ms = cli->timeout_ms;
	if (given[OPT_DOCTOR_AFTER])
		o->doctor_after_ms = cli->doctor_after_ms;
	if (given[OPT_READY])
		o->ready_re = cli->ready_re;
	if (given[OPT_SERIAL_LOG])
		o->serial_log = cli->serial_log;
	if (given[OPT_REPORT])
		o->report = cli->report;
	if (given[OPT_REPORT_FORMAT])
		o->report_junit = cli->report_junit;
	if (given[OPT_API_SOCKET])
		o->api_socket = cli->api_socket;
	/* Not in the config file: carried over as given. */
	o->exec_argc = cli->exec_argc;
	o->exec_argv = cli->exec_argv;
	if (o->cmd == CMD_EXEC && !given[OPT_CONSOLE] && o->console == CON_STDIO)
		o->console = CON_NONE;
	if (o->cmd == CMD_EXEC && !given[OPT_DISPLAY] && o->display == DISP_AUTO)
		o->display = DISP_NONE;
	free(cli);
	return 0;
}

int cli_parse(int argc, char **argv, struct hostel_opts *o, char *err, size_t errlen)
{
	int r = cli_parse_args(argc, argv, o, err, errlen);
	if (r && errlen)
		text_one_line(err); /* an argument may hold a newline */
	if (r || !o->print_config || (o->cmd != CMD_RUN && o->cmd != CMD_EXEC) || o->help_run)
		return r;
	char *text = config_to_json(o);
	if (!text) {
		snprintf(err, errlen, "--print-config: out of memory");
		return -ENOMEM;
	}
	fputs(text, stdout);
	free(text);
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "hostel: --print-config: %s\n", strerror(errno));
		exit(HOSTEL_EXIT_HOST);
	}
	exit(HOSTEL_EXIT_OK);
}

int cli_parse_args(int argc, char **argv, struct hostel_opts *o, char *err, size_t errlen)
{
	static const struct option run_opts[] = {
		{"kernel", required_argument, NULL, 'k'},
		{"initrd", required_argument, NULL, 'i'},
		{"cmdline", required_argument, NULL, 'a'},
		{"memory", required_argument, NULL, 'm'},
		{"cpus", required_argument, NULL, 'c'},
		{"console", required_argument, NULL, OPT_CONSOLE},
		{"display", required_argument, NULL, OPT_DISPLAY},
		{"no-auto-cmdline", no_argument, NULL, OPT_NO_AUTO_CMDLINE},
		{"no-reboot", no_argument, NULL, OPT_NO_REBOOT},
		{"debug-exit", optional_argument, NULL, OPT_DEBUG_EXIT},
		{"shutdown-grace", required_argument, NULL, OPT_GRACE},
		{"disk", required_argument, NULL, OPT_DISK},
		{"net", required_argument, NULL, OPT_NET},
		{"no-kernel-unpack", no_argument, NULL, OPT_NO_UNPACK},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"ready", required_argument, NULL, OPT_READY},
		{"serial-log", required_argument, NULL, OPT_SERIAL_LOG},
		{"report", required_argument, NULL, OPT_REPORT},
		{"report-format", required_argument, NULL, OPT_REPORT_FORMAT},
		{"api-socket", required_argument, NULL, OPT_API_SOCKET},
		{"doctor-after", required_argument, NULL, OPT_DOCTOR_AFTER},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned char seen[OPT_MAX] = {0};

	cli_defaults(o);

	if (argc < 2) {
		snprintf(err, errlen, "no command given (try 'hostel --help')");
		return -EINVAL;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		o->cmd = CMD_HELP;
		if (argc > 2 && !strcmp(cmd, "help") && !strcmp(argv[2], "run"))
			o->help_run = true;
		return 0;
	}
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "version")) {
		o->cmd = CMD_VERSION;
		return 0;
	}
	if (!strcmp(cmd, "ctl")) {
		o->cmd = CMD_CTL;
		if (argc < 4 || argc > 5 || argv[2][0] == '-') {
			snprintf(err, errlen, "usage: hostel ctl PATH COMMAND [ARGS-JSON]");
			return -EINVAL;
		}
		o->ctl_path = argv[2];
		o->ctl_command = argv[3];
		o->ctl_args = argc == 5 ? argv[4] : NULL;
		return 0;
	}
	if (strcmp(cmd, "run") && strcmp(cmd, "exec")) {
		snprintf(err, errlen, "unknown command '%s' (try 'hostel --help')", cmd);
		return -EINVAL;
	}
	o->cmd = strcmp(cmd, "run") ? CMD_EXEC : CMD_RUN;

	optind = 1; /* parse argv[1..]: argv[1] ("run") plays the program name */
	opterr = 0;
	int c, idx;
	/* "+": options end at the first non-option (exec's command). */
	while ((c = getopt_long(argc - 1, argv + 1, "+:k:i:a:m:c:vh", run_opts, &idx)) != -1) {
		const char *arg = optarg;
		if (c > 0 && c < OPT_MAX && c != 'v' && c != OPT_DISK && c != OPT_NET && c != ':' &&
		    c != '?') {
			if (seen[c]) {
				snprintf(err, errlen, "option --%s given more than once",
					 long_name(run_opts, c));
				return -EINVAL;
			}
		}
		if (c > 0 && c < OPT_MAX)
			seen[c] = 1;
		switch (c) {
		case 'k':
			o->kernel = arg;
			break;
		case 'i':
			o->initrd = arg;
			break;
		case 'a':
			o->cmdline = arg;
			break;
		case OPT_NO_AUTO_CMDLINE:
			o->auto_cmdline = false;
			break;
		case 'm': {
			int r = cli_parse_size(arg, &o->memory);
			if (r || !cli_memory_ok(o->memory)) {
				snprintf(err, errlen,
					 "--memory '%s' is not a size from 16M to 1T in whole MiB "
					 "(examples: 512M, 2G, 1024)",
					 arg);
				return -EINVAL;
			}
			break;
		}
		case 'c': {
			unsigned long n;
			if (parse_uint(arg, CLI_MAX_CPUS, &n) || n == 0) {
				snprintf(err, errlen, "--cpus '%s' is not a number from 1 to %d",
					 arg, CLI_MAX_CPUS);
				return -EINVAL;
			}
			o->cpus = (unsigned int)n;
			break;
		}
		case OPT_CONSOLE:
			if (!strcmp(arg, "stdio")) {
				o->console = CON_STDIO;
			} else if (!strcmp(arg, "none")) {
				o->console = CON_NONE;
			} else if (!strncmp(arg, "file:", 5) && arg[5]) {
				o->console = CON_FILE;
				o->console_path = arg + 5;
			} else {
				snprintf(err, errlen,
					 "--console '%s' is not one of stdio, file:PATH, none",
					 arg);
				return -EINVAL;
			}
			break;
		case OPT_DISPLAY:
			if (!strcmp(arg, "sdl")) {
				o->display = DISP_SDL;
			} else if (!strcmp(arg, "none")) {
				o->display = DISP_NONE;
			} else {
				snprintf(err, errlen, "--display '%s' is not one of sdl, none",
					 arg);
				return -EINVAL;
			}
			break;
		case OPT_DISK:
			if (o->nr_disks >= CLI_MAX_DISKS) {
				snprintf(err, errlen, "at most %d --disk options", CLI_MAX_DISKS);
				return -EINVAL;
			}
			if (cli_parse_disk(arg, &o->disks[o->nr_disks], err, errlen))
				return -EINVAL;
			for (unsigned int i = 0; i < o->nr_disks; i++) {
				if (!strcmp(o->disks[i].path, o->disks[o->nr_disks].path)) {
					snprintf(err, errlen, "--disk '%s' given more than once",
						 o->disks[i].path);
					return -EINVAL;
				}
			}
			o->nr_disks++;
			break;
		case OPT_NET:
			if (o->nr_nets >= NET_MAX_NICS) {
				snprintf(err, errlen, "at most %d --net options", NET_MAX_NICS);
				return -EINVAL;
			}
			if (net_parse(arg, &o->nets[o->nr_nets], err, errlen))
				return -EINVAL;
			o->nr_nets++;
			break;
		case OPT_NO_REBOOT:
			o->no_reboot = true;
			break;
		case OPT_NO_UNPACK:
			o->no_unpack = true;
			break;
		case OPT_DEBUG_EXIT: {
			unsigned long port = 0x501; /* QEMU's isa-debug-exit default */
			if (arg) {
				char *end;
				errno = 0;
				port = strtoul(arg, &end, 0);
				if (errno || *end || !*arg || port == 0 || port > 0xfffc) {
					snprintf(err, errlen,
						 "--debug-exit '%s' is not an I/O port from 0x1 to "
						 "0xfffc",
						 arg);
					return -EINVAL;
				}
			}
			o->debug_exit = (uint16_t)port;
			break;
		}
		case OPT_GRACE: {
			unsigned long n;
			if (parse_uint(arg, 3600, &n)) {
				snprintf(err, errlen,
					 "--shutdown-grace '%s' is not a number of seconds from 0 "
					 "to 3600",
					 arg);
				return -EINVAL;
			}
			o->grace_s = (unsigned int)n;
			break;
		}
		case OPT_CONFIG:
			if (!*arg) {
				snprintf(err, errlen, "--config needs a file name");
				return -EINVAL;
			}
			o->config = arg;
			break;
		case OPT_PRINT_CONFIG:
			o->print_config = true;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_duration(arg, &o->timeout_ms) || !o->timeout_ms) {
				snprintf(err, errlen,
					 "--timeout '%s' is not a duration from 1ms to a week "
					 "(examples: 90, 30s, 500ms, 5m, 1h)",
					 arg);
				return -EINVAL;
			}
			break;
		case OPT_DOCTOR_AFTER:
			if (cli_parse_duration(arg, &o->doctor_after_ms)) {
				snprintf(err, errlen,
					 "--doctor-after '%s' is not a duration up to a week, or 0 "
					 "for no doctor (examples: 30s, 2m, 0)",
					 arg);
				return -EINVAL;
			}
			break;
		case OPT_READY: {
			regex_t re;
			if (!*arg || regcomp(&re, arg, REG_EXTENDED | REG_NOSUB) != 0) {
				snprintf(err, errlen,
					 "--ready '%s' is not an extended regular expression", arg);
				return -EINVAL;
			}
			regfree(&re);
			o->ready_re = arg;
			break;
		}
		case OPT_SERIAL_LOG:
			if (!*arg) {
				snprintf(err, errlen, "--serial-log needs a file name");
				return -EINVAL;
			}
			o->serial_log = arg;
			break;
		case OPT_REPORT:
			if (!*arg) {
				snprintf(err, errlen, "--report needs a file name");
				return -EINVAL;
			}
			o->report = arg;
			break;
		case OPT_REPORT_FORMAT:
			if (strcmp(arg, "json") && strcmp(arg, "junit")) {
				snprintf(err, errlen, "--report-format '%s' is not json or junit",
					 arg);
				return -EINVAL;
			}
			o->report_junit = !strcmp(arg, "junit");
			break;
		case OPT_API_SOCKET:
			if (!*arg) {
				snprintf(err, errlen, "--api-socket needs a path");
				return -EINVAL;
			}
			o->api_socket = arg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			o->help_run = true;
			break;
		case ':':
			if (optopt > 0 && optopt < OPT_MAX)
				snprintf(err, errlen, "option --%s needs a value",
					 long_name(run_opts, optopt));
			else
				snprintf(err, errlen, "option %s needs a value", argv[optind]);
			return -EINVAL;
		case '?':
		default:
			if (optopt > 0 && optopt < 128)
				snprintf(err, errlen, "unknown option '-%c' for 'hostel run'",
					 optopt);
			else
				snprintf(err, errlen, "unknown option '%s' for 'hostel run'",
					 argv[optind]);
			return -EINVAL;
		}
	}
	if (o->cmd == CMD_EXEC && !o->help_run) {
		/* getopt stopped after "--" or at the first word of the command. */
		if (optind >= argc - 1) {
			snprintf(err, errlen,
				 "hostel exec needs a command: hostel exec [OPTIONS] -- CMD "
				 "[ARG...]");
			return -EINVAL;
		}
		o->exec_argc = argc - 1 - optind;
		o->exec_argv = argv + 1 + optind;
		if (!seen[OPT_CONSOLE])
			o->console = CON_NONE; /* the command's output is what exec shows */
		if (!seen[OPT_DISPLAY])
			o->display = DISP_NONE; /* a script, not a desktop */
	} else if (optind < argc - 1) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind + 1]);
		return -EINVAL;
	}
	/* Help needs no config file, and a broken one must not hide it. */
	if (o->config && !o->help_run)
		return merge_config(o, seen, err, errlen);
	return 0;
}
