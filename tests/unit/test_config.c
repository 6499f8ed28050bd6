// SPDX-License-Identifier: MIT
/*
 * Unit tests for configuration files (src/config.c) and their merge with
 * the command line (src/cli.c): every key, every reject (bad JSON, unknown
 * and duplicate keys, wrong types, out-of-range values, NUL bytes, invalid
 * UTF-8, too-large files), relative paths, command-line options over the
 * file's keys wherever they stand, and --print-config's JSON read back as
 * a config file giving the same machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "cli.h"
#include "config.h"
#include "jsonutil.h"

static char tmpdir[] = "/tmp/hostel-test-config.XXXXXX";

static int setup_dir(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct hostel_opts *new_opts(void)
{
	struct hostel_opts *o = malloc(sizeof(*o));
	assert_non_null(o);
	cli_defaults(o);
	return o;
}

/* Parse @json (as file "vm.json" in /cfg) onto defaults; returns the result. */
static int parse_json(struct hostel_opts *o, const char *json, char *err)
{
	cli_defaults(o);
	err[0] = 0;
	return config_parse(json, strlen(json), "vm.json", "/cfg", o, err, 256);
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int parse_argv(struct hostel_opts *o, char *err, ...)
{
	char *argv[48];
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	argv[argc++] = (char *)"hostel";
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = 0;
	return cli_parse_args(argc, argv, o, err, 256);
}

static void test_every_key(void **state)
{
	struct hostel_opts *o = new_opts();
	char err[256];
	const char *json =
		"{\n"
		"  \"kernel\": \"vmlinuz\",\n"
		"  \"initrd\": \"/boot/initrd.img\",\n"
		"  \"cmdline\": \"quiet root=/dev/vda\",\n"
		"  \"auto_cmdline\": false,\n"
		"  \"memory\": \"2G\",\n"
		"  \"cpus\": 4,\n"
		"  \"console\": \"file:logs/boot.log\",\n"
		"  \"display\": \"sdl\",\n"
		"  \"disks\": [\n"
		"    {\"path\": \"root.img\", \"readonly\": true, \"cache\": \"none\"},\n"
		"    {\"path\": \"/data/scratch.img\", \"snapshot\": true, \"readonly\": false},\n"
		"    {\"path\": \"c.img\", \"cache\": \"writeback\", \"aio\": \"uring\"}\n"
		"  ],\n"
		"  \"reboot\": false,\n"
		"  \"debug_exit\": \"0xf4\",\n"
		"  \"shutdown_grace\": 5,\n"
		"  \"kernel_unpack\": false\n"
		"}\n";
	assert_int_equal(parse_json(o, json, err), 0);
	assert_string_equal(o->kernel, "/cfg/vmlinuz");
	assert_string_equal(o->initrd, "/boot/initrd.img");
	assert_string_equal(o->cmdline, "quiet root=/dev/vda");
	assert_false(o->auto_cmdline);
	assert_true(o->memory == 2ULL << 30);
	assert_int_equal(o->cpus, 4);
	assert_int_equal(o->console, CON_FILE);
	assert_string_equal(o->console_path, "/cfg/logs/boot.log");
	assert_int_equal(o->display, DISP_SDL);
	assert_int_equal(o->nr_disks, 3);
	assert_string_equal(o->disks[0].path, "/cfg/root.img");
	assert_true(o->disks[0].readonly);
	assert_false(o->disks[0].snapshot);
	assert_int_equal(o->disks[0].cache, DISK_CACHE_NONE);
	assert_string_equal(o->disks[1].path, "/data/scratch.img");
	assert_false(o->disks[1].readonly);
	assert_true(o->disks[1].snapshot);
	assert_int_equal(o->disks[1].cache, DISK_CACHE_WRITEBACK);
	assert_string_equal(o->disks[2].path, "/cfg/c.img");
	assert_int_equal(o->disks[2].cache, DISK_CACHE_WRITEBACK);
	assert_int_equal(o->disks[0].aio, DISK_AIO_THREAD); /* the default */
	assert_int_equal(o->disks[2].aio, DISK_AIO_URING);
	assert_true(o->no_reboot);
	assert_int_equal(o->debug_exit, 0xf4);
	assert_int_equal(o->grace_s, 5);
	assert_true(o->no_unpack);

	/* An empty object leaves every default. */
	assert_int_equal(parse_json(o, "{}", err), 0);
	assert_null(o->kernel);
	assert_null(o->initrd);
	assert_null(o->cmdline);
	assert_true(o->auto_cmdline);
	assert_true(o->memory == 512ULL << 20);
	assert_int_equal(o->cpus, 1);
	assert_int_equal(o->console, CON_STDIO);
	assert_int_equal(o->display, DISP_AUTO);
	assert_int_equal(o->nr_disks, 0);
	assert_false(o->no_reboot);
	assert_int_equal(o->debug_exit, 0);
	assert_int_equal(o->grace_s, 30);
	assert_false(o->no_unpack);

	/* The other spellings of each value. */
	assert_int_equal(parse_json(o,
				    "{\"memory\": 1536, \"debug_exit\": true, \"console\": "
				    "\"none\", \"reboot\": true, \"kernel_unpack\": true, "
				    "\"disks\": [], \"cmdline\": \"\"}",
				    err),
			 0);
	assert_true(o->memory == 1536ULL << 20);
	assert_int_equal(o->debug_exit, 0x501);
	assert_int_equal(o->console, CON_NONE);
	assert_false(o->no_reboot);
	assert_false(o->no_unpack);
	assert_int_equal(o->nr_disks, 0);
	assert_string_equal(o->cmdline, "");
	assert_int_equal(parse_json(o, "{\"memory\": \"64MiB\", \"debug_exit\": 1280}", err), 0);
	assert_true(o->memory == 64ULL << 20);
	assert_int_equal(o->debug_exit, 0x500);
	assert_int_equal(
		parse_json(o, "{\"memory\": 16, \"cpus\": 255, \"debug_exit\": false}", err), 0);
	assert_true(o->memory == 16ULL << 20);
	assert_int_equal(o->cpus, 255);
	assert_int_equal(o->debug_exit, 0);
	assert_int_equal(parse_json(o, "{\"memory\": \"1T\", \"shutdown_grace\": 0}", err), 0);
	assert_true(o->memory == 1ULL << 40);
	assert_int_equal(o->grace_s, 0);
	/* A whole number written as a float is still a whole number. */
	assert_int_equal(parse_json(o, "{\"cpus\": 2.0, \"shutdown_grace\": 3600}", err), 0);
	assert_int_equal(o->cpus, 2);
	assert_int_equal(o->grace_s, 3600);
	free(o);
}

/* The keys of a scripted run: timeout, ready, serial_log, report, api_socket. */
static void test_run_keys(void **state)
{
	struct hostel_opts *o = new_opts();
	char err[256];
	assert_int_equal(parse_json(o,
				    "{\"timeout\": \"90s\", \"ready\": \"^login: \", "
				    "\"serial_log\": \"logs/serial.log\", \"report\": "
				    "\"/out/r.xml\", \"report_format\": \"junit\", "
				    "\"api_socket\": \"vm.sock\"}",
				    err),
			 0);
	assert_true(o->timeout_ms == 90000);
	assert_string_equal(o->ready_re, "^login: ");
	assert_string_equal(o->serial_log, "/cfg/logs/serial.log");
	assert_string_equal(o->report, "/out/r.xml");
	assert_true(o->report_junit);
	assert_string_equal(o->api_socket, "/cfg/vm.sock");
	/* Other spellings: seconds as a number, milliseconds, no timeout. */
	assert_int_equal(parse_json(o, "{\"timeout\": 5, \"report_format\": \"json\"}", err), 0);
	assert_true(o->timeout_ms == 5000);
	assert_false(o->report_junit);
	assert_int_equal(parse_json(o, "{\"timeout\": \"250ms\"}", err), 0);
	assert_true(o->timeout_ms == 250);
	assert_int_equal(parse_json(o, "{\"timeout\": false}", err), 0);
	assert_true(o->timeout_ms == 0);
	/* doctor_after: 30 s by default; a duration, seconds, 0 or false (off). */
	assert_int_equal(parse_json(o, "{}", err), 0);
	assert_true(o->doctor_after_ms == 30000);
	assert_int_equal(parse_json(o, "{\"doctor_after\": \"2m\"}", err), 0);
	assert_true(o->doctor_after_ms == 120000);
	assert_int_equal(parse_json(o, "{\"doctor_after\": 45}", err), 0);
	assert_true(o->doctor_after_ms == 45000);
	assert_int_equal(parse_json(o, "{\"doctor_after\": \"1500ms\"}", err), 0);
	assert_true(o->doctor_after_ms == 1500);
	assert_int_equal(parse_json(o, "{\"doctor_after\": 0}", err), 0);
	assert_true(o->doctor_after_ms == 0);
	assert_int_equal(parse_json(o, "{\"doctor_after\": false}", err), 0);
	assert_true(o->doctor_after_ms == 0);
	assert_null(o->ready_re);
	assert_null(o->report);
	free(o);
}

static void expect_reject(const char *json, const char *want)
{
	struct hostel_opts *o = new_opts();
	char err[256];
	assert_int_equal(parse_json(o, json, err), -EINVAL);
	if (!strstr(err, want))
		fail_msg("config %s: error '%s' does not mention '%s'", json, err, want);
	if (strncmp(err, "config 'vm.json': ", 18))
		fail_msg("error '%s' does not name the file", err);
	assert_null(strchr(err, '\n')); /* one line */
	free(o);
}

static void test_rejects_json(void **state)
{
	expect_reject("", "no JSON value");
	expect_reject("  \n\t", "no JSON value");
	expect_reject("{", "invalid JSON at line 1, column 2");
	expect_reject("{\"cpus\": 2,}", "invalid JSON at line 1, column 13");
	expect_reject("{\n  \"cpus\": 2,\n  \"memory\": 512M\n}",
		      "invalid JSON at line 3, column 16");
	expect_reject("{\"cpus\": 2} {\"cpus\": 3}", "invalid JSON at line 1, column 13");
	expect_reject("{\"cpus\": 2} x", "invalid JSON");
	expect_reject("{'cpus': 2}", "invalid JSON");
	expect_reject("{\"cpus\": NaN}", "invalid JSON");
	expect_reject("{\"cpus\": 0x2}", "invalid JSON");
	expect_reject("// comment\n{}", "invalid JSON at line 1, column 1");
	expect_reject("[]", "expected a JSON object ({...}) at the top, got an array");
	expect_reject("\"vm\"", "got a string");
	expect_reject("null", "got null");
	expect_reject("{\"kernel\": \"\\ud800\"}", "invalid JSON"); /* a lone surrogate */
	/* What cJSON would let through. */
	expect_reject("{\"kernel\": \"a\\u0000b\"}", "a \\u0000 escape at line 1, column 14");
	expect_reject("{\"kernel\": \"caf\xc3\"}", "invalid UTF-8 at line 1, column 16");
	expect_reject("{\"kernel\": \"\xc0\xaf\"}", "invalid UTF-8");	      /* overlong '/' */
	expect_reject("{\"kernel\": \"\xed\xa0\x80\"}", "invalid UTF-8");     /* a surrogate */
	expect_reject("{\"kernel\": \"\xf4\x90\x80\x80\"}", "invalid UTF-8"); /* > U+10FFFF */
	/* A \\u0000 written with an escaped backslash is plain text, and fine. */
	struct hostel_opts *o = new_opts();
	char err[256];
	assert_int_equal(parse_json(o, "{\"cmdline\": \"a\\\\u0000b \xc3\xa9\"}", err), 0);
	assert_string_equal(o->cmdline, "a\\u0000b \xc3\xa9");
	/* A NUL byte in the text itself. */
	static const char nul[] = "{\"cpus\": 2}\0{\"cpus\": 3}";
	cli_defaults(o);
	assert_int_equal(config_parse(nul, sizeof(nul) - 1, "vm.json", NULL, o, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "a NUL byte at line 1, column 12"));
	free(o);
}

static void test_rejects_keys(void **state)
{
	expect_reject("{\"cpu\": 2}", "unknown key \"cpu\"");
	expect_reject("{\"Kernel\": \"a\"}", "unknown key \"Kernel\"");
	expect_reject("{\"\": 1}", "unknown key \"\"");
	expect_reject("{\"cpus\": 1, \"cpus\": 2}", "key \"cpus\" given more than once");
	expect_reject("{\"disks\": [{\"path\": \"a\", \"ro\": true}]}",
		      "unknown key \"disks[0].ro\"");
	expect_reject("{\"disks\": [{\"path\": \"a\"}, {\"path\": \"b\", \"path\": \"c\"}]}",
		      "key \"disks[1].path\" given more than once");
	expect_reject("{\"disks\": [{\"readonly\": true}]}", "key \"disks[0]\": needs a \"path\"");
	/* A very long unknown key is quoted short, still on one line. */
	char json[600];
	snprintf(json, sizeof(json), "{\"%0500d\": 1}", 7);
	expect_reject(json, "unknown key \"0000");
	expect_reject(json, "000...\"");
	/* Control characters in quoted text are escaped: still one line. */
	expect_reject("{\"cpus\n\": 1}", "unknown key \"cpus\\u000a\"");
	expect_reject("{\"console\": \"a\\nb\\\"c\"}", "\"a\\u000ab\\\"c\" is not one of");
	expect_reject("{\"disks\": [{\"path\": \"/x\\ty\"}, {\"path\": \"/x\\ty\"}]}",
		      "disk \"/x\\u0009y\" given more than once");
}

static void test_rejects_types(void **state)
{
	expect_reject("{\"kernel\": 1}", "key \"kernel\": expected a string, got a number");
	expect_reject("{\"initrd\": null}", "key \"initrd\": expected a string, got null");
	expect_reject("{\"cmdline\": [\"quiet\"]}",
		      "key \"cmdline\": expected a string, got an array");
	expect_reject("{\"auto_cmdline\": \"no\"}",
		      "key \"auto_cmdline\": expected true or false, got a string");
	expect_reject("{\"memory\": true}", "key \"memory\": expected a size");
	expect_reject("{\"cpus\": \"2\"}", "key \"cpus\": expected a number, got a string");
	expect_reject("{\"console\": 1}", "key \"console\": expected a string, got a number");
	expect_reject("{\"disks\": {\"path\": \"a\"}}",
		      "key \"disks\": expected an array, got an object");
	expect_reject("{\"disks\": [\"a.img\"]}",
		      "key \"disks[0]\": expected an object, got a string");
	expect_reject("{\"disks\": [{\"path\": 1}]}", "key \"disks[0].path\": expected a string");
	expect_reject("{\"disks\": [{\"path\": \"a\"}, {\"path\": \"b\", \"readonly\": 1}]}",
		      "key \"disks[1].readonly\": expected true or false, got a number");
	expect_reject("{\"disks\": [{\"path\": \"a\", \"snapshot\": \"yes\"}]}",
		      "key \"disks[0].snapshot\": expected true or false");
	expect_reject("{\"disks\": [{\"path\": \"a\", \"cache\": false}]}",
		      "key \"disks[0].cache\": expected a string, got false");
	expect_reject("{\"reboot\": 0}", "key \"reboot\": expected true or false, got a number");
	expect_reject("{\"debug_exit\": {}}",
		      "key \"debug_exit\": expected true, false or an I/O port");
	expect_reject("{\"shutdown_grace\": \"30\"}", "key \"shutdown_grace\": expected a number");
	expect_reject("{\"kernel_unpack\": null}", "key \"kernel_unpack\": expected true or false");
	expect_reject("{\"timeout\": true}", "key \"timeout\": expected a duration");
	expect_reject("{\"doctor_after\": true}", "key \"doctor_after\": expected a duration");
	expect_reject("{\"doctor_after\": -1}", "key \"doctor_after\": -1 is not a whole number");
	expect_reject("{\"doctor_after\": \"soon\"}", "\"soon\" is not a duration");
	expect_reject("{\"doctor_after\": \"8d\"}", "\"8d\" is not a duration");
	expect_reject("{\"ready\": 1}", "key \"ready\": expected a string, got a number");
	expect_reject("{\"serial_log\": false}", "key \"serial_log\": expected a string");
	expect_reject("{\"report\": []}", "key \"report\": expected a string, got an array");
	expect_reject("{\"report_format\": null}", "key \"report_format\": expected a string");
	expect_reject("{\"api_socket\": {}}", "key \"api_socket\": expected a string");
}

static void test_rejects_values(void **state)
{
	expect_reject("{\"cpus\": 0}", "key \"cpus\": 0 is not from 1 to 255");
	expect_reject("{\"cpus\": 256}", "key \"cpus\": 256 is not from 1 to 255");
	expect_reject("{\"cpus\": -1}", "key \"cpus\": -1 is not from 1 to 255");
	expect_reject("{\"cpus\": 2.5}", "key \"cpus\": expected a whole number, got 2.5");
	expect_reject("{\"cpus\": 1e400}", "key \"cpus\": expected a whole number, got inf");
	expect_reject("{\"cpus\": 1e300}", "key \"cpus\": 1e+300 is not from 1 to 255");
	expect_reject("{\"memory\": 8}", "key \"memory\": 8 MiB is not from 16M to 1T");
	expect_reject("{\"memory\": 1048577}", "key \"memory\": 1.04858e+06 MiB is not from");
	expect_reject("{\"memory\": 0.5}", "key \"memory\": expected a whole number of MiB");
	expect_reject("{\"memory\": \"8M\"}",
		      "key \"memory\": \"8M\" is not a size from 16M to 1T in whole MiB");
	expect_reject("{\"memory\": \"16385K\"}",
		      "key \"memory\": \"16385K\" is not a size from 16M to 1T in whole MiB");
	expect_reject("{\"memory\": \"2T\"}", "\"2T\" is not a size");
	expect_reject("{\"memory\": \"12Q\"}", "\"12Q\" is not a size");
	expect_reject("{\"memory\": \"\"}", "\"\" is not a size");
	expect_reject("{\"memory\": \"99999999999999999999G\"}", "is not a size");
	expect_reject("{\"shutdown_grace\": 3601}",
		      "key \"shutdown_grace\": 3601 is not from 0 to 3600");
	expect_reject("{\"shutdown_grace\": -1}", "is not from 0 to 3600");
	expect_reject("{\"debug_exit\": 0}", "key \"debug_exit\": 0 is not from 1 to 65532");
	expect_reject("{\"debug_exit\": 65533}",
		      "key \"debug_exit\": 65533 is not from 1 to 65532");
	expect_reject("{\"debug_exit\": \"0x10000\"}", "\"0x10000\" is not an I/O port");
	expect_reject("{\"debug_exit\": \"zero\"}", "\"zero\" is not an I/O port");
	expect_reject("{\"debug_exit\": \" 0x10\"}", "\" 0x10\" is not an I/O port");
	expect_reject("{\"debug_exit\": \"-1\"}", "\"-1\" is not an I/O port");
	expect_reject("{\"debug_exit\": \"\"}", "\"\" is not an I/O port");
	expect_reject("{\"console\": \"tty\"}",
		      "key \"console\": \"tty\" is not one of \"stdio\", \"file:PATH\", \"none\"");
	expect_reject("{\"console\": \"file:\"}", "\"file:\" is not one of");
	expect_reject("{\"display\": \"gtk\"}",
		      "key \"display\": \"gtk\" is not one of \"sdl\", \"none\"");
	expect_reject("{\"display\": true}", "key \"display\": expected a string, got");
	expect_reject("{\"kernel\": \"\"}", "key \"kernel\": the path is empty");
	expect_reject("{\"disks\": [{\"path\": \"\"}]}",
		      "key \"disks[0].path\": the path is empty");
	expect_reject("{\"disks\": [{\"path\": \"a\", \"cache\": \"unsafe\"}]}",
		      "key \"disks[0].cache\": \"unsafe\" is not \"writeback\" or \"none\"");
	expect_reject("{\"disks\": [{\"path\": \"a\", \"aio\": \"native\"}]}",
		      "key \"disks[0].aio\": \"native\" is not \"uring\" or \"thread\"");
	expect_reject("{\"disks\": [{\"path\": \"a\", \"aio\": 1}]}",
		      "key \"disks[0].aio\": expected a string, got");
	expect_reject("{\"disks\": [{\"path\": \"a.img\"}, {\"path\": \"/cfg/a.img\"}]}",
		      "key \"disks[1].path\": disk \"/cfg/a.img\" given more than once");
	expect_reject("{\"disks\": [{\"path\": \"1\"}, {\"path\": \"2\"}, {\"path\": \"3\"}, "
		      "{\"path\": \"4\"}, {\"path\": \"5\"}, {\"path\": \"6\"}, {\"path\": \"7\"}, "
		      "{\"path\": \"8\"}, {\"path\": \"9\"}]}",
		      "key \"disks\": 9 disks, at most 8");
	expect_reject("{\"timeout\": 0}", "key \"timeout\": 0 is not a whole number of seconds");
	expect_reject("{\"timeout\": 1.5}", "key \"timeout\": 1.5 is not a whole number");
	expect_reject("{\"timeout\": 604801}", "604801 is not a whole number of seconds");
	expect_reject("{\"timeout\": \"soon\"}", "key \"timeout\": \"soon\" is not a duration");
	expect_reject("{\"timeout\": \"0s\"}", "\"0s\" is not a duration");
	expect_reject("{\"ready\": \"(\"}",
		      "key \"ready\": \"(\" is not an extended regular expression");
	expect_reject("{\"ready\": \"\"}", "key \"ready\": \"\" is not an extended");
	expect_reject("{\"report\": \"\"}", "key \"report\": the path is empty");
	expect_reject("{\"serial_log\": \"\"}", "key \"serial_log\": the path is empty");
	expect_reject("{\"api_socket\": \"\"}", "key \"api_socket\": the path is empty");
	expect_reject("{\"report_format\": \"xml\"}",
		      "key \"report_format\": \"xml\" is not \"json\" or \"junit\"");

	/* Lengths: a path that fits, one that does not (with and without the directory). */
	size_t n = CLI_MAX_PATH + 64;
	char *json = malloc(n), *name = malloc(CLI_MAX_PATH);
	struct hostel_opts *o = new_opts();
	char err[256];
	memset(name, 'k', CLI_MAX_PATH - 1);
	name[CLI_MAX_PATH - 1] = 0;
	snprintf(json, n, "{\"kernel\": \"%s\"}", name);
	expect_reject(json, "key \"kernel\": the path is longer than 4095 bytes");
	snprintf(json, n, "{\"cmdline\": \"%s\"}", name);
	assert_int_equal(parse_json(o, json, err), 0); /* 4095 bytes fit */
	assert_int_equal(strlen(o->cmdline), CLI_MAX_PATH - 1);
	snprintf(json, n, "{\"cmdline\": \"%sk\"}", name);
	expect_reject(json, "key \"cmdline\": longer than 4095 bytes");
	name[CLI_MAX_PATH - 1 - 5] = 0; /* "/cfg/" + 4090 bytes = 4095 */
	snprintf(json, n, "{\"kernel\": \"%s\"}", name);
	assert_int_equal(parse_json(o, json, err), 0);
	assert_int_equal(strlen(o->kernel), CLI_MAX_PATH - 1);
	snprintf(json, n, "{\"kernel\": \"%sk\"}", name);
	expect_reject(json, "the path is longer than 4095 bytes");
	free(json);
	free(name);
	free(o);
}

static void test_relative_paths(void **state)
{
	struct hostel_opts *o = new_opts();
	char err[256];
	const char *json = "{\"kernel\": \"k/vmlinuz\", \"initrd\": \"../i.img\", "
			   "\"console\": \"file:log\", \"disks\": [{\"path\": \"d.img\"}, "
			   "{\"path\": \"/abs/e.img\"}], \"cmdline\": \"root=x\"}";
	assert_int_equal(config_parse(json, strlen(json), "a.json", "/srv/vm", o, err, 256), 0);
	assert_string_equal(o->kernel, "/srv/vm/k/vmlinuz");
	assert_string_equal(o->initrd, "/srv/vm/../i.img");
	assert_string_equal(o->console_path, "/srv/vm/log");
	assert_string_equal(o->disks[0].path, "/srv/vm/d.img");
	assert_string_equal(o->disks[1].path, "/abs/e.img");
	assert_string_equal(o->cmdline, "root=x"); /* not a path */
	/* A file in /, in a relative directory, and with no directory. */
	cli_defaults(o);
	assert_int_equal(config_parse(json, strlen(json), "a.json", "/", o, err, 256), 0);
	assert_string_equal(o->kernel, "/k/vmlinuz");
	cli_defaults(o);
	assert_int_equal(config_parse(json, strlen(json), "a.json", "vms", o, err, 256), 0);
	assert_string_equal(o->kernel, "vms/k/vmlinuz");
	assert_string_equal(o->disks[0].path, "vms/d.img");
	cli_defaults(o);
	assert_int_equal(config_parse(json, strlen(json), "a.json", NULL, o, err, 256), 0);
	assert_string_equal(o->kernel, "k/vmlinuz");
	assert_string_equal(o->initrd, "../i.img");
	free(o);
}

static void test_load_files(void **state)
{
	struct hostel_opts *o = new_opts();
	char err[256], path[600], sub[512];

	/* Relative paths follow the file's directory, not the working one. */
	snprintf(sub, sizeof(sub), "%s/sub", tmpdir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(path, sizeof(path), "%s/vm.json", sub);
	const char *json = "{\"kernel\": \"vmlinuz\", \"disks\": [{\"path\": \"disk.img\"}]}";
	write_file(path, json, strlen(json));
	assert_int_equal(config_load(path, o, err, sizeof(err)), 0);
	char want[700];
	snprintf(want, sizeof(want), "%s/vmlinuz", sub);
	assert_string_equal(o->kernel, want);
	snprintf(want, sizeof(want), "%s/disk.img", sub);
	assert_string_equal(o->disks[0].path, want);

	/* A file named without a directory: paths stay relative to the working one. */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(sub), 0);
	cli_defaults(o);
	assert_int_equal(config_load("vm.json", o, err, sizeof(err)), 0);
	assert_string_equal(o->kernel, "vmlinuz");
	assert_int_equal(chdir(cwd), 0);

	/* Missing, a directory, unreadable kinds. */
	snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
	assert_int_equal(config_load(path, o, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "config '%s': No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(config_load(sub, o, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "config '%s': is a directory", sub);
	assert_string_equal(err, want);

	/* The size cap: exactly 1 MiB is read, one byte more is refused unread. */
	char *big = malloc(CONFIG_MAX_BYTES + 1);
	memset(big, ' ', CONFIG_MAX_BYTES + 1);
	memcpy(big, "{\"cpus\": 3}", 11);
	snprintf(path, sizeof(path), "%s/big.json", tmpdir);
	write_file(path, big, CONFIG_MAX_BYTES);
	cli_defaults(o);
	assert_int_equal(config_load(path, o, err, sizeof(err)), 0);
	assert_int_equal(o->cpus, 3);
	write_file(path, big, CONFIG_MAX_BYTES + 1);
	assert_int_equal(config_load(path, o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "big.json': larger than the 1024 KiB limit"));
	assert_int_equal(config_parse(big, CONFIG_MAX_BYTES + 1, "b", NULL, o, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "larger than the 1024 KiB limit"));
	free(big);
	/* A device that never ends is cut at the cap, not read forever. */
	assert_int_equal(config_load("/dev/zero", o, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "config '/dev/zero': larger than the 1024 KiB limit");
	/* An empty file. */
	snprintf(path, sizeof(path), "%s/empty.json", tmpdir);
	write_file(path, "", 0);
	assert_int_equal(config_load(path, o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "no JSON value"));
	free(o);
}

/* The same machine: every field the VMM reads. */
static void assert_same_machine(const struct hostel_opts *a, const struct hostel_opts *b)
{
#define SAME_STR(f)                                                                                \
	do {                                                                                       \
		if (!a->f || !b->f)                                                                \
			assert_true(a->f == b->f);                                                 \
		else                                                                               \
			assert_string_equal(a->f, b->f);                                           \
	} while (0)
	SAME_STR(kernel);
	SAME_STR(initrd);
	SAME_STR(cmdline);
	assert_int_equal(a->auto_cmdline, b->auto_cmdline);
	assert_true(a->memory == b->memory);
	assert_int_equal(a->cpus, b->cpus);
	assert_int_equal(a->console, b->console);
	assert_int_equal(a->display, b->display);
	if (a->console == CON_FILE)
		SAME_STR(console_path);
	assert_int_equal(a->no_unpack, b->no_unpack);
	assert_int_equal(a->no_reboot, b->no_reboot);
	assert_int_equal(a->debug_exit, b->debug_exit);
	assert_int_equal(a->grace_s, b->grace_s);
	assert_true(a->timeout_ms == b->timeout_ms);
	assert_true(a->doctor_after_ms == b->doctor_after_ms);
	SAME_STR(ready_re);
	SAME_STR(serial_log);
	SAME_STR(report);
	assert_int_equal(a->report_junit, b->report_junit);
	SAME_STR(api_socket);
	assert_int_equal(a->nr_disks, b->nr_disks);
	for (unsigned int i = 0; i < a->nr_disks; i++) {
		assert_string_equal(a->disks[i].path, b->disks[i].path);
		assert_int_equal(a->disks[i].readonly, b->disks[i].readonly);
		assert_int_equal(a->disks[i].snapshot, b->disks[i].snapshot);
		assert_int_equal(a->disks[i].cache, b->disks[i].cache);
		assert_int_equal(a->disks[i].aio, b->disks[i].aio);
	}
#undef SAME_STR
}

static void test_merge_with_command_line(void **state)
{
	struct hostel_opts *o = new_opts(), *want = new_opts();
	char err[256], path[512];

	snprintf(path, sizeof(path), "%s/m.json", tmpdir);
	const char *json = "{\"kernel\": \"/k\", \"cpus\": 2, \"memory\": \"1G\", "
			   "\"cmdline\": \"quiet\", \"console\": \"none\", \"reboot\": true, "
			   "\"shutdown_grace\": 7, \"debug_exit\": 1280, "
			   "\"disks\": [{\"path\": \"/a.img\"}, {\"path\": \"/b.img\"}]}";
	write_file(path, json, strlen(json));

	/* The file alone. */
	assert_int_equal(parse_argv(o, err, "run", "--config", path, NULL), 0);
	assert_string_equal(o->config, path);
	assert_string_equal(o->kernel, "/k");
	assert_int_equal(o->cpus, 2);
	assert_true(o->memory == 1ULL << 30);
	assert_int_equal(o->console, CON_NONE);
	assert_int_equal(o->nr_disks, 2);
	assert_int_equal(o->grace_s, 7);

	/* Options win over the file whether they come before or after --config. */
	assert_int_equal(parse_argv(o, err, "run", "--cpus", "4", "--config", path, "--memory",
				    "2G", "-v", "--no-reboot", "--console", "stdio", NULL),
			 0);
	assert_int_equal(o->cpus, 4);
	assert_true(o->memory == 2ULL << 30);
	assert_int_equal(o->console, CON_STDIO);
	assert_true(o->no_reboot);
	assert_int_equal(o->verbose, 1);
	assert_string_equal(o->kernel, "/k");	  /* untouched keys stay the file's */
	assert_string_equal(o->cmdline, "quiet"); /* ... all of them */
	assert_int_equal(o->grace_s, 7);
	assert_int_equal(o->debug_exit, 0x500);
	assert_int_equal(o->nr_disks, 2);

	/* --disk replaces the file's whole list. */
	assert_int_equal(parse_argv(o, err, "run", "--disk", "/c.img,readonly", "--config", path,
				    "--kernel", "/k2", "--cmdline", "", "--debug-exit=0x10",
				    "--shutdown-grace", "0", "--no-kernel-unpack",
				    "--no-auto-cmdline", NULL),
			 0);
	assert_int_equal(o->nr_disks, 1);
	assert_string_equal(o->disks[0].path, "/c.img");
	assert_true(o->disks[0].readonly);
	assert_string_equal(o->kernel, "/k2");
	assert_string_equal(o->cmdline, "");
	assert_int_equal(o->debug_exit, 0x10);
	assert_int_equal(o->grace_s, 0);
	assert_true(o->no_unpack);
	assert_false(o->auto_cmdline);
	assert_int_equal(o->cpus, 2);

	/* The run keys of a file stand, unless their option is given. */
	const char *runjson = "{\"timeout\": \"90s\", \"doctor_after\": \"10s\", "
			      "\"ready\": \"^up$\", \"serial_log\": \"/s.log\", "
			      "\"report\": \"/r.json\", \"report_format\": \"junit\", "
			      "\"api_socket\": \"/a.sock\"}";
	write_file(path, runjson, strlen(runjson));
	assert_int_equal(parse_argv(o, err, "run", "--config", path, NULL), 0);
	assert_true(o->timeout_ms == 90000);
	assert_true(o->doctor_after_ms == 10000);
	assert_string_equal(o->ready_re, "^up$");
	assert_string_equal(o->serial_log, "/s.log");
	assert_string_equal(o->report, "/r.json");
	assert_true(o->report_junit);
	assert_string_equal(o->api_socket, "/a.sock");
	assert_int_equal(parse_argv(o, err, "run", "--config", path, "--timeout", "5s",
				    "--doctor-after", "0", "--report-format", "json", NULL),
			 0);
	assert_true(o->timeout_ms == 5000);
	assert_true(o->doctor_after_ms == 0);
	assert_false(o->report_junit);
	assert_string_equal(o->ready_re, "^up$");
	write_file(path, json, strlen(json));

	/* A file and the equivalent command line give the same machine. */
	assert_int_equal(parse_argv(want, err, "run", "--kernel", "/k", "--cpus", "2", "--memory",
				    "1024", "--cmdline", "quiet", "--console", "none",
				    "--shutdown-grace", "7", "--debug-exit=0x500", "--disk",
				    "/a.img", "--disk", "/b.img", NULL),
			 0);
	assert_int_equal(parse_argv(o, err, "run", "--config", path, NULL), 0);
	assert_same_machine(o, want);

	/* Errors: the file's, and options about the file. */
	assert_int_equal(parse_argv(o, err, "run", "--config", path, "--config", path, NULL),
			 -EINVAL);
	assert_string_equal(err, "option --config given more than once");
	assert_int_equal(parse_argv(o, err, "run", "--config", "", NULL), -EINVAL);
	assert_string_equal(err, "--config needs a file name");
	assert_int_equal(parse_argv(o, err, "run", "--config", NULL), -EINVAL);
	assert_string_equal(err, "option --config needs a value");
	snprintf(path, sizeof(path), "%s/bad.json", tmpdir);
	write_file(path, "{\"cpus\": \"many\"}", 16);
	assert_int_equal(parse_argv(o, err, "run", "--cpus", "2", "--config", path, NULL), -EINVAL);
	char want_err[600];
	snprintf(want_err, sizeof(want_err),
		 "config '%s': key \"cpus\": expected a number, got a string", path);
	assert_string_equal(err, want_err);
	/* A bad command-line value is reported even with a good file. */
	snprintf(path, sizeof(path), "%s/m.json", tmpdir);
	assert_int_equal(parse_argv(o, err, "run", "--config", path, "--cpus", "0", NULL), -EINVAL);
	assert_non_null(strstr(err, "--cpus '0'"));
	/* --help needs no readable config. */
	assert_int_equal(parse_argv(o, err, "run", "--config", "/nonexistent.json", "--help", NULL),
			 0);
	assert_true(o->help_run);
	/* --print-config is parsed (cli_parse would print and exit). */
	assert_int_equal(parse_argv(o, err, "run", "--print-config", "--config", path, NULL), 0);
	assert_true(o->print_config);
	assert_int_equal(o->cpus, 2);
	free(o);
	free(want);
}

/* config_to_json(o) read back as a config file gives the same machine. */
static void round_trip(const struct hostel_opts *o)
{
	struct hostel_opts *back = new_opts();
	char err[256];
	char *text = config_to_json(o);
	assert_non_null(text);
	assert_int_equal(text[strlen(text) - 1], '\n');
	if (config_parse(text, strlen(text), "printed", NULL, back, err, sizeof(err)))
		fail_msg("%s does not read back: %s", text, err);
	assert_same_machine(o, back);
	free(text);
	free(back);
}

static void test_print_config(void **state)
{
	struct hostel_opts *o = new_opts();
	char err[256];

	/* The defaults: every key but the ones that default to nothing. */
	char *text = config_to_json(o);
	assert_non_null(text);
	cJSON *j = cJSON_Parse(text);
	assert_non_null(j);
	assert_null(cJSON_GetObjectItem(j, "kernel"));
	assert_null(cJSON_GetObjectItem(j, "initrd"));
	assert_null(cJSON_GetObjectItem(j, "cmdline"));
	assert_string_equal(cJSON_GetObjectItem(j, "memory")->valuestring, "512M");
	assert_int_equal(cJSON_GetObjectItem(j, "cpus")->valueint, 1);
	assert_string_equal(cJSON_GetObjectItem(j, "console")->valuestring, "stdio");
	assert_null(cJSON_GetObjectItem(j, "display")); /* auto: follows the environment */
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(j, "disks")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "reboot")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "debug_exit")));
	assert_int_equal(cJSON_GetObjectItem(j, "shutdown_grace")->valueint, 30);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "kernel_unpack")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "auto_cmdline")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "timeout")));
	assert_string_equal(cJSON_GetObjectItem(j, "doctor_after")->valuestring, "30s");
	assert_string_equal(cJSON_GetObjectItem(j, "report_format")->valuestring, "json");
	assert_null(cJSON_GetObjectItem(j, "ready"));
	assert_null(cJSON_GetObjectItem(j, "report"));
	cJSON_Delete(j);
	free(text);
	round_trip(o);

	/* Everything set, with text that needs escaping. */
	assert_int_equal(parse_argv(o, err, "run", "--kernel", "/k \"quoted\"\\", "--initrd", "i",
				    "--cmdline", "a=\"b\"\tc\xc3\xa9", "--memory", "1536M",
				    "--cpus", "3", "--console", "file:/tmp/log", "--disk",
				    "/a,readonly,cache=none", "--disk", "/b,snapshot,aio=uring",
				    "--no-reboot", "--debug-exit", "--shutdown-grace", "9",
				    "--no-kernel-unpack", "--no-auto-cmdline", "--timeout",
				    "1500ms", "--ready", "^ok \"$", "--serial-log", "/s.log",
				    "--report", "/r.json", "--report-format", "junit",
				    "--api-socket", "/a.sock", "--doctor-after", "1m", NULL),
			 0);
	round_trip(o);
	o->timeout_ms = 120000;
	round_trip(o);
	o->doctor_after_ms = 0; /* no doctor: false */
	round_trip(o);
	o->doctor_after_ms = 2500;
	round_trip(o);
	o->display = DISP_SDL;
	round_trip(o);
	o->display = DISP_NONE;
	round_trip(o);
	text = config_to_json(o);
	assert_non_null(strstr(text, "\"doctor_after\": \"2500ms\""));
	free(text);
	text = config_to_json(o);
	assert_non_null(strstr(text, "\"memory\": \"1536M\""));
	assert_non_null(strstr(text, "\"debug_exit\": \"0x501\""));
	assert_non_null(strstr(text, "\"console\": \"file:/tmp/log\""));
	free(text);
	/* Sizes in the largest exact unit. */
	const struct {
		uint64_t bytes;
		const char *text;
	} sizes[] = {
		{2ULL << 30, "\"2G\""},
		{1ULL << 40, "\"1T\""},
		{(1ULL << 30) + (1ULL << 20), "\"1025M\""},
	};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cli_defaults(o);
		o->memory = sizes[i].bytes;
		text = config_to_json(o);
		assert_non_null(strstr(text, sizes[i].text));
		free(text);
		round_trip(o);
	}
	free(o);
}

static void test_quote(void **state)
{
	char q[JSON_QUOTE_LEN], small[8];
	assert_string_equal(json_quote("plain", q, sizeof(q)), "plain");
	assert_string_equal(json_quote("a\"b\\c\n\x7f\x01", q, sizeof(q)),
			    "a\\\"b\\\\c\\u000a\\u007f\\u0001");
	assert_string_equal(json_quote("caf\xc3\xa9", q, sizeof(q)), "caf\xc3\xa9");
	assert_string_equal(json_quote("", q, sizeof(q)), "");
	/* Cut with "..." and never inside a character or an escape. */
	assert_string_equal(json_quote("abcdefg", small, sizeof(small)), "abcdefg");
	assert_string_equal(json_quote("abcdefgh", small, sizeof(small)), "abcd...");
	assert_string_equal(json_quote("ab\xc3\xa9\xc3\xa9xy", small, sizeof(small)),
			    "ab\xc3\xa9...");
	assert_string_equal(json_quote("a\nbcdef", small, sizeof(small)), "a...");
	assert_string_equal(json_quote("\xff", small, sizeof(small)), "?");
}

static void test_net_key(void **state)
{
	struct hostel_opts *o = new_opts();
	char err[256];
	(void)state;
	assert_int_equal(parse_json(o,
				    "{\"net\": [\"user,hostfwd=tcp:127.0.0.1:8080-:80\",\n"
				    "  {\"type\": \"user\", \"hostfwd\": [\"tcp::2222-:22\", "
				    "\"udp::53-:53\"],\n"
				    "   \"restrict\": true, \"mac\": \"52:54:00:12:34:56\"},\n"
				    "  {\"type\": \"user\", \"hostfwd\": \"tcp::1-:1\",\n"
				    "   \"guestfwd\": [\"10.0.2.100:80-unix:/run/w.sock\",\n"
				    "                \"tcp:10.0.2.5:9-cmd:printf a,b\"]}]}",
				    err),
			 0);
	assert_int_equal(o->nr_nets, 3);
	assert_int_equal(o->nets[0].nr_fwds, 1);
	assert_int_equal(o->nets[0].fwds[0].host_port, 8080);
	assert_int_equal(o->nets[1].nr_fwds, 2);
	assert_true(o->nets[1].fwds[1].udp);
	assert_true(o->nets[1].restricted);
	assert_true(o->nets[1].has_mac);
	assert_int_equal(o->nets[1].mac[5], 0x56);
	assert_int_equal(o->nets[2].nr_fwds, 1);
	assert_int_equal(o->nets[2].nr_gfwds, 2);
	assert_string_equal(o->nets[2].gfwds[0].target, "/run/w.sock");
	/* A config file's command may hold the comma a --net string cannot. */
	assert_true(o->nets[2].gfwds[1].cmd);
	assert_string_equal(o->nets[2].gfwds[1].target, "printf a,b");

	/* --print-config's JSON reads back to the same NICs. */
	cJSON *j = config_to_cjson(o);
	char *text = cJSON_PrintUnformatted(j);
	struct hostel_opts *o2 = new_opts();
	assert_non_null(strstr(text, "\"net\":[{\"type\":\"user\",\"restrict\":false,"
				     "\"hostfwd\":[\"tcp:127.0.0.1:8080-:80\"],\"guestfwd\":[]}"));
	assert_int_equal(parse_json(o2, text, err), 0);
	assert_int_equal(o2->nr_nets, 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(o2->nets[i].nr_fwds, o->nets[i].nr_fwds);
		assert_int_equal(o2->nets[i].restricted, o->nets[i].restricted);
		assert_int_equal(o2->nets[i].has_mac, o->nets[i].has_mac);
		assert_memory_equal(o2->nets[i].fwds, o->nets[i].fwds,
				    o->nets[i].nr_fwds * sizeof(o->nets[i].fwds[0]));
		assert_int_equal(o2->nets[i].nr_gfwds, o->nets[i].nr_gfwds);
		assert_memory_equal(o2->nets[i].gfwds, o->nets[i].gfwds,
				    o->nets[i].nr_gfwds * sizeof(o->nets[i].gfwds[0]));
	}
	assert_memory_equal(o2->nets[1].mac, o->nets[1].mac, 6);
	cJSON_free(text);
	cJSON_Delete(j);
	free(o2);
	free(o);

	expect_reject("{\"net\": \"user\"}", "key \"net\": expected an array, got a string");
	expect_reject("{\"net\": [1]}", "key \"net[0]\": expected a string or an object");
	expect_reject("{\"net\": [\"user,x\"]}", "key \"net[0]\": --net 'user,x': unknown option");
	expect_reject("{\"net\": [{\"hostfwd\": []}]}", "key \"net[0]\": needs a \"type\"");
	expect_reject("{\"net\": [{\"type\": \"tun\"}]}",
		      "key \"net[0].type\": \"tun\" is not \"user\" or \"tap\"");
	expect_reject("{\"net\": [{\"type\": \"tap\"}]}",
		      "key \"net[0]\": a \"tap\" needs an \"ifname\"");
	expect_reject("{\"net\": [{\"type\": \"user\", \"ifname\": \"x\"}]}",
		      "key \"net[0]\": \"ifname\" is for \"tap\"");
	expect_reject("{\"net\": [{\"type\": \"tap\", \"ifname\": \"x\", \"hostfwd\": []}]}",
		      "\"hostfwd\", \"guestfwd\" and \"restrict\" are for \"user\"");
	expect_reject("{\"net\": [{\"type\": \"tap\", \"ifname\": \"x\", \"restrict\": false}]}",
		      "\"hostfwd\", \"guestfwd\" and \"restrict\" are for \"user\"");
	expect_reject("{\"net\": [{\"type\": \"tap\", \"ifname\": \"x\", \"guestfwd\": []}]}",
		      "\"hostfwd\", \"guestfwd\" and \"restrict\" are for \"user\"");
	expect_reject("{\"net\": [{\"type\": \"user\", \"guestfwd\": \"10.0.2.2:1-unix:/s\"}]}",
		      "key \"net[0].guestfwd\": guestfwd '10.0.2.2:1-unix:/s': the guest address");
	expect_reject("{\"net\": [{\"type\": \"user\", \"guestfwd\": [\"10.0.2.4:1-unix:/a\", "
		      "\"10.0.2.4:1-cmd:cat\"]}]}",
		      "key \"net[0].guestfwd\": guestfwd: 10.0.2.4:1 is forwarded twice");
	expect_reject("{\"net\": [{\"type\": \"user\", \"guestfwd\": [\"10.0.2.4:1-unix:/a\", "
		      "\"10.0.2.5:1-unix:/a\", \"10.0.2.6:1-unix:/a\", \"10.0.2.7:1-unix:/a\", "
		      "\"10.0.2.8:1-unix:/a\", \"10.0.2.9:1-unix:/a\", \"10.0.2.10:1-unix:/a\", "
		      "\"10.0.2.11:1-unix:/a\", \"10.0.2.12:1-unix:/a\"]}]}",
		      "key \"net[0].guestfwd\": at most 8 forwards");
	expect_reject("{\"net\": [{\"type\": \"tap\", \"ifname\": \"a/b\"}]}",
		      "key \"net[0].ifname\": \"a/b\" is not an interface name");
	expect_reject("{\"net\": [{\"type\": \"tap\", \"ifname\": \"0123456789abcdef\"}]}",
		      "is not an interface name");
	expect_reject("{\"net\": [{\"type\": \"tap\", \"ifname\": 1}]}",
		      "key \"net[0].ifname\": expected a string");
	expect_reject("{\"net\": [\"tap\"]}", "key \"net[0]\": --net 'tap': tap needs ifname=NAME");
	expect_reject("{\"net\": [{\"type\": \"user\", \"hostfwd\": [\"tcp::1-:1\", 2]}]}",
		      "key \"net[0].hostfwd\": expected an array of strings");
	expect_reject("{\"net\": [{\"type\": \"user\", \"hostfwd\": \"tcp:x:1-:1\"}]}",
		      "key \"net[0].hostfwd\": hostfwd 'tcp:x:1-:1'");
	expect_reject("{\"net\": [{\"type\": \"user\", \"restrict\": \"on\"}]}",
		      "key \"net[0].restrict\": expected true or false");
	expect_reject("{\"net\": [{\"type\": \"user\", \"mac\": \"ff:ff:ff:ff:ff:ff\"}]}",
		      "key \"net[0].mac\"");
	/* A value quoted in the error keeps it one line (found by fuzz_config). */
	expect_reject("{\"net\": [\"user,guestfwd=10.0.2.\\n4:80-unix:/s\"]}",
		      "guestfwd '10.0.2.?4:80-unix:/s'");
	expect_reject("{\"net\": [\"user\", \"user\", \"user\", \"user\", \"user\"]}",
		      "key \"net\": 5 NICs, at most 4");
}

/* A tap NIC in either form, and --print-config's JSON reading back to it. */
static void test_net_tap_key(void **state)
{
	struct hostel_opts *o = new_opts(), *o2 = new_opts();
	char err[256];
	(void)state;
	assert_int_equal(
		parse_json(o,
			   "{\"net\": [\"tap,ifname=hn0\", {\"type\": \"tap\", \"ifname\": "
			   "\"hn1\", \"mac\": \"02:00:00:00:00:09\"}, \"user\"]}",
			   err),
		0);
	assert_int_equal(o->nr_nets, 3);
	assert_int_equal(o->nets[0].kind, NET_TAP);
	assert_string_equal(o->nets[0].ifname, "hn0");
	assert_int_equal(o->nets[1].kind, NET_TAP);
	assert_string_equal(o->nets[1].ifname, "hn1");
	assert_true(o->nets[1].has_mac);
	assert_int_equal(o->nets[2].kind, NET_USER);

	cJSON *j = config_to_cjson(o);
	char *text = cJSON_PrintUnformatted(j);
	assert_non_null(
		strstr(text, "\"net\":[{\"type\":\"tap\",\"ifname\":\"hn0\"},"
			     "{\"type\":\"tap\",\"ifname\":\"hn1\",\"mac\":\"02:00:00:00:00:09\"},"
			     "{\"type\":\"user\""));
	assert_int_equal(parse_json(o2, text, err), 0);
	assert_int_equal(o2->nr_nets, 3);
	for (unsigned int i = 0; i < 3; i++) {
		assert_int_equal(o2->nets[i].kind, o->nets[i].kind);
		assert_string_equal(o2->nets[i].ifname, o->nets[i].ifname);
		assert_int_equal(o2->nets[i].has_mac, o->nets[i].has_mac);
	}
	cJSON_free(text);
	cJSON_Delete(j);
	free(o2);
	free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_net_key),
		cmocka_unit_test(test_net_tap_key),
		cmocka_unit_test(test_run_keys),
		cmocka_unit_test(test_rejects_json),
		cmocka_unit_test(test_rejects_keys),
		cmocka_unit_test(test_rejects_types),
		cmocka_unit_test(test_rejects_values),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_merge_with_command_line),
		cmocka_unit_test(test_print_config),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
