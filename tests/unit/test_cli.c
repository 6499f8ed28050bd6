// SPDX-License-Identifier: MIT
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"

static int parse(struct hostel_opts *o, char *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, err);
	argv[argc++] = (char *)"hostel";
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	/* getopt_long permutes argv: hand it a copy it may reorder. */
	return cli_parse(argc, argv, o, err, 256);
}

static void test_sizes(void **state)
{
	uint64_t b;
	assert_int_equal(cli_parse_size("512M", &b), 0);
	assert_true(b == 512ULL << 20);
	assert_int_equal(cli_parse_size("2G", &b), 0);
	assert_true(b == 2ULL << 30);
	assert_int_equal(cli_parse_size("1024", &b), 0);
	assert_true(b == 1024ULL << 20);
	assert_int_equal(cli_parse_size("64MiB", &b), 0);
	assert_true(b == 64ULL << 20);
	assert_int_equal(cli_parse_size("3584m", &b), 0);
	assert_true(b == 3584ULL << 20);
	assert_int_equal(cli_parse_size("1T", &b), 0);
	assert_true(b == 1ULL << 40);
	assert_int_not_equal(cli_parse_size("", &b), 0);
	assert_int_not_equal(cli_parse_size("-1", &b), 0);
	assert_int_not_equal(cli_parse_size("12X", &b), 0);
	assert_int_not_equal(cli_parse_size("12GG", &b), 0);
	assert_int_not_equal(cli_parse_size("G", &b), 0);
	assert_int_not_equal(cli_parse_size("99999999999999999999", &b), 0);
	assert_int_not_equal(cli_parse_size("17179869184G", &b), 0); /* 2^34 G overflows */
}

static void test_run_options(void **state)
{
	struct hostel_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, "run", "--kernel", "vmlinuz", "--initrd", "initrd.img",
			       "--cmdline", "quiet", "--memory", "1G", "--cpus", "4", "--console",
			       "file:/tmp/x", NULL),
			 0);
	assert_int_equal(o.cmd, CMD_RUN);
	assert_string_equal(o.kernel, "vmlinuz");
	assert_string_equal(o.initrd, "initrd.img");
	assert_string_equal(o.cmdline, "quiet");
	assert_true(o.memory == 1ULL << 30);
	assert_int_equal(o.cpus, 4);
	assert_int_equal(o.console, CON_FILE);
	assert_string_equal(o.console_path, "/tmp/x");
	assert_true(o.auto_cmdline);

	assert_int_equal(parse(&o, err, "run", "-k", "bz", "-m", "256", "-c", "2",
			       "--no-auto-cmdline", NULL),
			 0);
	assert_true(o.memory == 256ULL << 20);
	assert_int_equal(o.cpus, 2);
	assert_false(o.auto_cmdline);
	assert_int_equal(o.console, CON_STDIO);

	assert_int_equal(
		parse(&o, err, "run", "--no-reboot", "--debug-exit", "--shutdown-grace", "5", NULL),
		0);
	assert_true(o.no_reboot);
	assert_int_equal(o.debug_exit, 0x501);
	assert_int_equal(o.grace_s, 5);
	assert_int_equal(parse(&o, err, "run", "--debug-exit=0xf4", NULL), 0);
	assert_int_equal(o.debug_exit, 0xf4);
	/* --console stdio does not reset a grace period given before it. */
	assert_int_equal(parse(&o, err, "run", "--shutdown-grace", "5", "--console", "stdio", NULL),
			 0);
	assert_int_equal(o.grace_s, 5);

	assert_int_equal(parse(&o, err, "run", NULL), 0);
	assert_null(o.kernel);
	assert_false(o.no_reboot);
	assert_int_equal(o.debug_exit, 0);
	assert_int_equal(o.grace_s, 30);
	assert_true(o.memory == 512ULL << 20);
	assert_int_equal(o.cpus, 1);
}

static void expect_usage(const char *want, ...)
{
	struct hostel_opts o;
	char err[1024] = "";
	char *argv[32];
	int argc = 0;
	va_list ap;
	va_start(ap, want);
	argv[argc++] = (char *)"hostel";
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	assert_int_equal(cli_parse(argc, argv, &o, err, sizeof(err)), -EINVAL);
	if (!strstr(err, want))
		fail_msg("error '%s' does not mention '%s'", err, want);
	assert_null(strchr(err, '\n')); /* one line */
}

static void test_rejects(void **state)
{
	expect_usage("no command", NULL);
	expect_usage("unknown command 'boot'", "boot", NULL);
	expect_usage("unknown option '--bogus'", "run", "--bogus", NULL);
	expect_usage("unknown option '-z'", "run", "-z", NULL);
	expect_usage("--kernel given more than once", "run", "--kernel", "a", "--kernel", "b",
		     NULL);
	expect_usage("--memory given more than once", "run", "-m", "1G", "--memory", "2G", NULL);
	expect_usage("needs a value", "run", "--kernel", NULL);
	expect_usage("--memory 'lots'", "run", "--memory", "lots", NULL);
	expect_usage("--memory '8'", "run", "--memory", "8", NULL); /* 8 MiB < 16 MiB */
	expect_usage("--memory '99999999999999999999G'", "run", "--memory", "99999999999999999999G",
		     NULL);
	expect_usage("--memory '2T'", "run", "--memory", "2T", NULL);
	/* Not whole MiB: KVM maps guest RAM in pages. */
	expect_usage("--memory '65537K' is not a size from 16M to 1T in whole MiB", "run",
		     "--memory", "65537K", NULL);
	expect_usage("--cpus '0'", "run", "--cpus", "0", NULL);
	expect_usage("--cpus '256'", "run", "--cpus", "256", NULL); /* xAPIC IDs stop at 254 */
	expect_usage("--cpus '4294967297'", "run", "--cpus", "4294967297", NULL);
	expect_usage("--cpus 'two'", "run", "--cpus", "two", NULL);
	expect_usage("--console 'serial'", "run", "--console", "serial", NULL);
	expect_usage("--console 'file:'", "run", "--console", "file:", NULL);
	expect_usage("--display 'vnc' is not one of sdl, none", "run", "--display", "vnc", NULL);
	expect_usage("--display given more than once", "run", "--display", "sdl", "--display",
		     "none", NULL);
	expect_usage("unexpected argument 'extra'", "run", "extra", NULL);
	expect_usage("--debug-exit 'zero'", "run", "--debug-exit=zero", NULL);
	expect_usage("--debug-exit '0x10000'", "run", "--debug-exit=0x10000", NULL);
	expect_usage("--shutdown-grace '-1'", "run", "--shutdown-grace", "-1", NULL);
	expect_usage("--no-reboot given more than once", "run", "--no-reboot", "--no-reboot", NULL);
}

static void test_durations(void **state)
{
	uint64_t ms;
	assert_int_equal(cli_parse_duration("90", &ms), 0);
	assert_int_equal(ms, 90000);
	assert_int_equal(cli_parse_duration("30s", &ms), 0);
	assert_int_equal(ms, 30000);
	assert_int_equal(cli_parse_duration("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(cli_parse_duration("5m", &ms), 0);
	assert_int_equal(ms, 300000);
	assert_int_equal(cli_parse_duration("1h", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(cli_parse_duration("168h", &ms), 0); /* a week */
	assert_int_equal(cli_parse_duration("169h", &ms), -EINVAL);
	assert_int_equal(cli_parse_duration("99999999999999999999", &ms), -EINVAL);
	assert_int_equal(cli_parse_duration("", &ms), -EINVAL);
	assert_int_equal(cli_parse_duration("-1", &ms), -EINVAL);
	assert_int_equal(cli_parse_duration("1d", &ms), -EINVAL);
	assert_int_equal(cli_parse_duration("1.5s", &ms), -EINVAL);
	assert_int_equal(cli_parse_duration("s", &ms), -EINVAL);
}

static void test_exec_and_ci_options(void **state)
{
	struct hostel_opts o;
	char err[256];

	assert_int_equal(parse(&o, err, "exec", "--memory", "256M", "--", "uname", "-a", NULL), 0);
	assert_int_equal(o.cmd, CMD_EXEC);
	assert_int_equal(o.memory, 256ULL << 20);
	assert_int_equal(o.exec_argc, 2);
	assert_string_equal(o.exec_argv[0], "uname");
	assert_string_equal(o.exec_argv[1], "-a"); /* not taken as an option */
	assert_int_equal(o.console, CON_NONE);	   /* exec: the command's output only */
	/* Without "--", options end at the command's first word. */
	assert_int_equal(parse(&o, err, "exec", "-c", "2", "ls", "-l", NULL), 0);
	assert_int_equal(o.cpus, 2);
	assert_int_equal(o.exec_argc, 2);
	assert_string_equal(o.exec_argv[1], "-l");
	assert_int_equal(parse(&o, err, "exec", "--console", "stdio", "--", "true", NULL), 0);
	assert_int_equal(o.console, CON_STDIO);
	/* The display: run follows the environment (auto), exec has none
	 * unless asked for. */
	assert_int_equal(o.display, DISP_NONE);
	assert_int_equal(parse(&o, err, "exec", "--display", "sdl", "--", "true", NULL), 0);
	assert_int_equal(o.display, DISP_SDL);
	assert_int_equal(parse(&o, err, "run", NULL), 0);
	assert_int_equal(o.display, DISP_AUTO);
	assert_int_equal(parse(&o, err, "run", "--display", "none", NULL), 0);
	assert_int_equal(o.display, DISP_NONE);
	assert_int_equal(parse(&o, err, "run", "--display", "sdl", NULL), 0);
	assert_int_equal(o.display, DISP_SDL);
	assert_int_equal(parse(&o, err, "run", "--timeout", "2m", "--ready",
			       "^login:", "--serial-log", "s.log", "--report", "r.xml",
			       "--report-format", "junit", NULL),
			 0);
	assert_int_equal(o.cmd, CMD_RUN);
	assert_int_equal(o.timeout_ms, 120000);
	assert_string_equal(o.ready_re, "^login:");
	assert_string_equal(o.serial_log, "s.log");
	assert_string_equal(o.report, "r.xml");
	assert_true(o.report_junit);
	assert_int_equal(o.exec_argc, 0);
	assert_int_equal(o.doctor_after_ms, 30000); /* the doctor's default */
	assert_int_equal(parse(&o, err, "run", "--doctor-after", "20s", NULL), 0);
	assert_int_equal(o.doctor_after_ms, 20000);
	assert_int_equal(parse(&o, err, "exec", "--doctor-after", "0", "--", "true", NULL), 0);
	assert_int_equal(o.doctor_after_ms, 0); /* 0: no doctor */
	assert_non_null(strstr(cli_run_usage, "--doctor-after DURATION"));

	expect_usage("hostel exec needs a command", "exec", NULL);
	expect_usage("hostel exec needs a command", "exec", "--memory", "1G", "--", NULL);
	expect_usage("--timeout '0'", "run", "--timeout", "0", NULL);
	expect_usage("--timeout 'soon'", "run", "--timeout", "soon", NULL);
	expect_usage("--doctor-after 'later'", "run", "--doctor-after", "later", NULL);
	expect_usage("--doctor-after '-1'", "run", "--doctor-after", "-1", NULL);
	expect_usage("--doctor-after needs a value", "run", "--doctor-after", NULL);
	expect_usage("--ready '('", "run", "--ready", "(", NULL);
	expect_usage("--report-format 'xml'", "run", "--report-format", "xml", NULL);
	expect_usage("--timeout given more than once", "run", "--timeout", "1", "--timeout", "2",
		     NULL);
	expect_usage("unexpected argument 'extra'", "run", "extra", NULL);
}

static void test_disks(void **state)
{
	struct hostel_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, "run", "--disk", "a.img", "--disk",
			       "b.img,readonly,cache=none", "--disk",
			       "c.img,snapshot,cache=writeback,aio=uring", "--disk",
			       "d.img,aio=uring,aio=thread", NULL),
			 0);
	assert_int_equal(o.nr_disks, 4);
	assert_int_equal(o.disks[0].aio, DISK_AIO_THREAD); /* the default */
	assert_int_equal(o.disks[1].aio, DISK_AIO_THREAD);
	assert_int_equal(o.disks[2].aio, DISK_AIO_URING);
	assert_int_equal(o.disks[3].aio, DISK_AIO_THREAD); /* the last one given wins */
	assert_string_equal(o.disks[0].path, "a.img");
	assert_false(o.disks[0].readonly);
	assert_false(o.disks[0].snapshot);
	assert_int_equal(o.disks[0].cache, DISK_CACHE_WRITEBACK);
	assert_true(o.disks[1].readonly);
	assert_int_equal(o.disks[1].cache, DISK_CACHE_NONE);
	assert_true(o.disks[2].snapshot);
	expect_usage("unknown option 'rw'", "run", "--disk", "a.img,rw", NULL);
	expect_usage("needs a path", "run", "--disk", ",readonly", NULL);
	expect_usage("unknown option 'cache=unsafe'", "run", "--disk", "a.img,cache=unsafe", NULL);
	expect_usage("unknown option 'aio=native'", "run", "--disk", "a.img,aio=native", NULL);
	expect_usage("unknown option 'aio=uringx'", "run", "--disk", "a.img,aio=uringx", NULL);
	expect_usage("--disk 'a.img' given more than once", "run", "--disk", "a.img", "--disk",
		     "a.img", NULL);
	expect_usage("at most 8", "run", "--disk", "1", "--disk", "2", "--disk", "3", "--disk", "4",
		     "--disk", "5", "--disk", "6", "--disk", "7", "--disk", "8", "--disk", "9",
		     NULL);
}

static void test_help_version(void **state)
{
	struct hostel_opts o;
	char err[256];
	assert_int_equal(parse(&o, err, "--help", NULL), 0);
	assert_int_equal(o.cmd, CMD_HELP);
	assert_int_equal(parse(&o, err, "--version", NULL), 0);
	assert_int_equal(o.cmd, CMD_VERSION);
	assert_int_equal(parse(&o, err, "run", "--help", NULL), 0);
	assert_int_equal(o.cmd, CMD_RUN);
	assert_true(o.help_run);
	/* The exit-status table is part of --help. */
	assert_non_null(strstr(cli_usage, "Exit status"));
	assert_non_null(strstr(cli_usage, "84"));
}

static void test_net(void **state)
{
	struct hostel_opts o;
	char err[256];
	(void)state;
	assert_int_equal(parse(&o, err, "run", NULL), 0);
	assert_int_equal(o.nr_nets, 0); /* no NIC unless asked */
	assert_int_equal(parse(&o, err, "run", "--net", "user", "--net",
			       "user,hostfwd=tcp:127.0.0.1:2222-:22,hostfwd=udp::5353-10.0.2.16:53,"
			       "restrict=on,mac=02:aa:bb:cc:dd:0e",
			       NULL),
			 0);
	assert_int_equal(o.nr_nets, 2);
	assert_int_equal(o.nets[0].kind, NET_USER);
	assert_int_equal(o.nets[0].nr_fwds, 0);
	assert_false(o.nets[0].restricted);
	assert_false(o.nets[0].has_mac);
	const struct net_opts *n = &o.nets[1];
	assert_int_equal(n->nr_fwds, 2);
	assert_false(n->fwds[0].udp);
	assert_int_equal(n->fwds[0].host_addr, htonl(0x7f000001));
	assert_int_equal(n->fwds[0].host_port, 2222);
	assert_int_equal(n->fwds[0].guest_addr, 0);
	assert_int_equal(n->fwds[0].guest_port, 22);
	assert_true(n->fwds[1].udp);
	assert_int_equal(n->fwds[1].host_addr, 0);
	assert_int_equal(n->fwds[1].guest_addr, htonl(0x0a000210));
	assert_int_equal(n->fwds[1].guest_port, 53);
	assert_true(n->restricted);
	assert_true(n->has_mac);
	assert_int_equal(n->mac[0], 0x02);
	assert_int_equal(n->mac[5], 0x0e);
	char buf[96];
	net_format_fwd(&n->fwds[0], buf, sizeof(buf));
	assert_string_equal(buf, "tcp:127.0.0.1:2222-:22");
	net_format_fwd(&n->fwds[1], buf, sizeof(buf));
	assert_string_equal(buf, "udp:0.0.0.0:5353-10.0.2.16:53");
	assert_non_null(strstr(cli_run_usage, "--net user"));

	expect_usage("--net 'usr': expected user", "run", "--net", "usr", NULL);
	expect_usage("--net 'user,foo': unknown option 'foo'", "run", "--net", "user,foo", NULL);
	/* tap: ifname required and checked; user's options refused, and the reverse. */
	assert_int_equal(parse(&o, err, "run", "--net", "tap,ifname=hn-0.a_b,mac=02:00:00:00:00:07",
			       "--net", "tap,ifname=123456789012345", NULL),
			 0);
	assert_int_equal(o.nr_nets, 2);
	assert_int_equal(o.nets[0].kind, NET_TAP);
	assert_string_equal(o.nets[0].ifname, "hn-0.a_b");
	assert_true(o.nets[0].has_mac);
	assert_int_equal(o.nets[0].mac[5], 0x07);
	assert_int_equal(o.nets[0].nr_fwds, 0);
	assert_string_equal(o.nets[1].ifname, "123456789012345"); /* 15: the longest */
	assert_non_null(strstr(cli_run_usage, "--net tap,ifname=NAME"));
	expect_usage("tap needs ifname=NAME", "run", "--net", "tap", NULL);
	expect_usage("tap needs ifname=NAME", "run", "--net", "tap,mac=02:00:00:00:00:01", NULL);
	expect_usage("ifname '1234567890123456'", "run", "--net", "tap,ifname=1234567890123456",
		     NULL);
	expect_usage("ifname ''", "run", "--net", "tap,ifname=", NULL);
	expect_usage("ifname 'a/b'", "run", "--net", "tap,ifname=a/b", NULL);
	expect_usage("ifname 'a:b'", "run", "--net", "tap,ifname=a:b", NULL);
	expect_usage("ifname '..'", "run", "--net", "tap,ifname=..", NULL);
	expect_usage("ifname 'a b'", "run", "--net", "tap,ifname=a b", NULL);
	expect_usage("'hostfwd=tcp::1-:1' is for user networking, not tap", "run", "--net",
		     "tap,ifname=t0,hostfwd=tcp::1-:1", NULL);
	expect_usage("'restrict=on' is for user networking", "run", "--net",
		     "tap,ifname=t0,restrict=on", NULL);
	expect_usage("'ifname=' is for tap", "run", "--net", "user,ifname=t0", NULL);
	expect_usage("unknown option 'foo' (ifname=, mac=)", "run", "--net", "tap,ifname=t0,foo",
		     NULL);
	expect_usage("--net 'tapx': expected user", "run", "--net", "tapx", NULL);
	expect_usage("hostfwd 'tcp:1.2.3:22-:22'", "run", "--net", "user,hostfwd=tcp:1.2.3:22-:22",
		     NULL);
	expect_usage("hostfwd 'tcp::0-:22'", "run", "--net", "user,hostfwd=tcp::0-:22", NULL);
	expect_usage("hostfwd 'tcp::22-:65536'", "run", "--net", "user,hostfwd=tcp::22-:65536",
		     NULL);
	expect_usage("hostfwd 'sctp::22-:22'", "run", "--net", "user,hostfwd=sctp::22-:22", NULL);
	expect_usage("hostfwd 'tcp::22'", "run", "--net", "user,hostfwd=tcp::22", NULL);
	expect_usage("mac '01:00:00:00:00:01'", "run", "--net", "user,mac=01:00:00:00:00:01", NULL);
	expect_usage("mac '02:00:00:00:00'", "run", "--net", "user,mac=02:00:00:00:00", NULL);
	expect_usage("mac '02:00:00:00:00:0g'", "run", "--net", "user,mac=02:00:00:00:00:0g", NULL);
	expect_usage("--net needs a value", "run", "--net", NULL);
	expect_usage("--net 'user,x?y': unknown option 'x?y'", "run", "--net", "user,x\ny", NULL);
}

/* What names the VM (title, default MACs): config, else first disk, else kernel. */
static void test_vm_name(void **state)
{
	struct hostel_opts o;
	char err[256];
	(void)state;
	assert_int_equal(parse(&o, err, "run", NULL), 0);
	assert_null(cli_vm_name(&o));
	assert_int_equal(parse(&o, err, "run", "--kernel", "/k/vmlinuz", NULL), 0);
	assert_string_equal(cli_vm_name(&o), "/k/vmlinuz");
	assert_int_equal(parse(&o, err, "run", "--kernel", "/k/vmlinuz", "--disk", "/img/a.raw",
			       "--disk", "/img/b.raw", NULL),
			 0);
	assert_string_equal(cli_vm_name(&o), "/img/a.raw");
}

static void test_guestfwd(void **state)
{
	struct hostel_opts o;
	char err[256], buf[NET_GFWD_MAX + 40], path[200];
	(void)state;
	assert_int_equal(parse(&o, err, "run", "--net",
			       "user,guestfwd=tcp:10.0.2.100:80-unix:/run/web.sock,"
			       "guestfwd=10.0.2.4:7-cmd:echo 'hi there'",
			       NULL),
			 0);
	const struct net_opts *n = &o.nets[0];
	assert_int_equal(n->nr_gfwds, 2);
	assert_int_equal(n->gfwds[0].guest_addr, htonl(0x0a000264));
	assert_int_equal(n->gfwds[0].guest_port, 80);
	assert_false(n->gfwds[0].cmd);
	assert_string_equal(n->gfwds[0].target, "/run/web.sock");
	assert_int_equal(n->gfwds[1].guest_addr, htonl(0x0a000204));
	assert_true(n->gfwds[1].cmd);
	assert_string_equal(n->gfwds[1].target, "echo 'hi there'");
	/* The printed form parses back to the same forward. */
	net_format_gfwd(&n->gfwds[1], buf, sizeof(buf));
	assert_string_equal(buf, "tcp:10.0.2.4:7-cmd:echo 'hi there'");
	/* Addresses libslirp uses itself, or outside its network. */
	static const char *const taken[] = {"10.0.2.0",	 "10.0.2.2",   "10.0.2.3", "10.0.2.15",
					    "10.0.2.30", "10.0.2.255", "10.0.3.4", ""};
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		char arg[96], want[96];

		snprintf(arg, sizeof(arg), "user,guestfwd=%s:80-unix:/s", taken[i]);
		snprintf(want, sizeof(want), "guestfwd '%s:80-unix:/s': the guest address must be",
			 taken[i]);
		expect_usage(want, "run", "--net", arg, NULL);
	}
	assert_int_equal(parse(&o, err, "run", "--net", "user,guestfwd=10.0.2.31:1-unix:/s", NULL),
			 0);
	/* Targets. */
	expect_usage("unix: needs an absolute socket path", "run", "--net",
		     "user,guestfwd=10.0.2.4:1-unix:rel.sock", NULL);
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(buf, sizeof(buf), "user,guestfwd=10.0.2.4:1-unix:%s", path);
	expect_usage("unix: needs an absolute socket path shorter than 108", "run", "--net", buf,
		     NULL);
	expect_usage("cmd: needs a command", "run", "--net", "user,guestfwd=10.0.2.4:1-cmd:", NULL);
	expect_usage("guestfwd '10.0.2.4:1-tcp:127.0.0.1:80': expected", "run", "--net",
		     "user,guestfwd=10.0.2.4:1-tcp:127.0.0.1:80", NULL);
	expect_usage("guestfwd 'udp:10.0.2.4:1-unix:/s': expected", "run", "--net",
		     "user,guestfwd=udp:10.0.2.4:1-unix:/s", NULL);
	expect_usage("guestfwd: 10.0.2.4:1 is forwarded twice", "run", "--net",
		     "user,guestfwd=10.0.2.4:1-unix:/a,guestfwd=tcp:10.0.2.4:1-cmd:cat", NULL);
	expect_usage("'guestfwd=10.0.2.4:1-unix:/a' is for user networking, not tap", "run",
		     "--net", "tap,ifname=t0,guestfwd=10.0.2.4:1-unix:/a", NULL);
	expect_usage("at most 4 --net", "run", "--net", "user", "--net", "user", "--net", "user",
		     "--net", "user", "--net", "user", NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),	  cmocka_unit_test(test_run_options),
		cmocka_unit_test(test_rejects),	  cmocka_unit_test(test_disks),
		cmocka_unit_test(test_net),	  cmocka_unit_test(test_guestfwd),
		cmocka_unit_test(test_vm_name),	  cmocka_unit_test(test_help_version),
		cmocka_unit_test(test_durations), cmocka_unit_test(test_exec_and_ci_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
