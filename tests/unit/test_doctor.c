// SPDX-License-Identifier: MIT
/*
 * The boot doctor (src/doctor.c): real kernel messages (as a Debian 6.1
 * kernel prints them on ttyS0, with \r\n) give the right cause and the
 * right facts; a wait, a prompt or an idle guest does not raise a false
 * alarm; hostile console bytes (split, over-long, binary, escapes) are
 * handled and never reach the diagnosis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "doctor.h"

static struct doctor doc;
static char text[DOCTOR_TEXT_MAX];

static void start(const char *cmdline, unsigned int disks, bool initrd, bool exec)
{
	struct doctor_facts f = {
		.cmdline = cmdline,
		.nr_disks = disks,
		.have_initrd = initrd,
		.exec = exec,
		.memory_mib = 512,
	};
	doctor_init(&doc, &f);
	text[0] = '\0';
}

static void feed(const char *s)
{
	doctor_feed(&doc, s, strlen(s));
}

static void has(const char *want)
{
	if (!strstr(text, want))
		fail_msg("diagnosis lacks \"%s\":\n%s", want, text);
}

static void lacks(const char *unwanted)
{
	if (strstr(text, unwanted))
		fail_msg("diagnosis has \"%s\":\n%s", unwanted, text);
}

/* One or two lines, printable ASCII only, none empty. */
static void well_formed(void)
{
	size_t n = strlen(text), lines = 1;
	assert_true(n > 0 && n < DOCTOR_TEXT_MAX);
	assert_true(text[0] != '\n' && text[n - 1] != '\n');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			lines++;
			assert_true(text[i + 1] != '\n');
		} else if (c < 0x20 || c >= 0x7f) {
			fail_msg("byte 0x%02x at %zu in:\n%s", c, i, text);
		}
	}
	assert_true(lines <= 2);
}

static const char debian_no_root[] =
	"[    2.871337] Freeing initrd memory: 0K\r\n"
	"[    3.104512] VFS: Cannot open root device \"vda\" or unknown-block(0,0): error -6\r\n"
	"[    3.105233] Please append a correct \"root=\" boot option; here are the available "
	"partitions:\r\n"
	"[    3.106011] Kernel panic - not syncing: VFS: Unable to mount root fs on "
	"unknown-block(0,0)\r\n"
	"[    3.106802] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-18-amd64 #1  Debian "
	"6.1.76-1\r\n"
	"[    3.107420] Call Trace:\r\n";

static void test_root_no_disk(void **state)
{
	start("root=/dev/vda console=ttyS0", 0, false, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("cannot find its root device");
	has("root=/dev/vda");
	has("no --disk");
	has("add --disk");
}

static void test_root_disks_initrd(void **state)
{
	start("root=/dev/vda1 ro console=ttyS0", 2, true, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("root=/dev/vda1");
	has("2 disks (vda, vdb)");
	has("virtio_blk");
	has("initramfs");
	lacks("no --disk");

	/* Without an initrd the advice is to boot with one. */
	start("root=/dev/vda1", 1, false, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	has("1 disk (vda)");
	has("--initrd");
}

static void test_root_wrong_name(void **state)
{
	start("root=/dev/vdc", 2, true, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	has("root=/dev/vdc");
	has("does not have");

	start("root=/dev/sda1", 1, true, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	has("root=/dev/sda1");
	has("virtio-blk");

	start("console=ttyS0", 1, false, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	has("no root=");
}

static void test_root_unmountable(void **state)
{
	start("root=/dev/vda console=ttyS0", 1, false, false);
	feed("[    2.5] No filesystem could mount root, tried: \r\n"
	     "[    2.5]  ext3\r\n"
	     "[    2.6] Kernel panic - not syncing: VFS: Unable to mount root fs on "
	     "unknown-block(254,0)\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("could not mount it");
	has("root=/dev/vda");
	has("built into the kernel");
}

/* A wait for the root device counts only when it lasts. */
static void test_root_wait(void **state)
{
	start("root=/dev/vda rootwait console=ttyS0", 0, false, false);
	feed("[    1.912000] Waiting for root device /dev/vda...\r\n");
	assert_false(doctor_stopped(&doc, text, sizeof(text)));
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	well_formed();
	has("waited 30 s for its root device /dev/vda:");
	has("root=/dev/vda");
	has("no --disk");

	/* Other messages while it waits do not end the wait... */
	feed("[    5.1] random: crng init done\r\n");
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	has("root device");
	/* ... the root filesystem does. */
	feed("[    6.0] VFS: Mounted root (ext4 filesystem) readonly on device 254:0.\r\n"
	     "[    6.1] Run /sbin/init as init process\r\n"
	     "[    6.2] systemd[1]: Hostname set to <x>.\r\n");
	assert_true(doctor_silence(&doc, 45000, text, sizeof(text)));
	well_formed();
	lacks("root device");
	has("printed nothing for 45 s");
	has("systemd[1]: Hostname set to <x>.");
}

/* Debian's initramfs waits, gives up and offers a shell: its prompt is no "up". */
static void test_initramfs_gave_up(void **state)
{
	start("root=UUID=0b1c root=/dev/vda1 console=ttyS0", 1, true, false);
	feed("Begin: Waiting for root file system ... done\r\n"
	     "Gave up waiting for root file system device.  Common problems:\r\n"
	     " - Boot args (cat /proc/cmdline)\r\n"
	     "ALERT!  /dev/vda1 does not exist.  Dropping to a shell!\r\n"
	     "\r\n"
	     "BusyBox v1.35.0 (Debian 1:1.35.0-4+b3) built-in shell (ash)\r\n"
	     "(initramfs) ");
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	well_formed();
	has("cannot find its root device");
	has("root=/dev/vda1"); /* the last root= is the one the kernel uses */
	has("1 disk (vda)");
	has("initramfs lacks virtio_pci and virtio_blk");
}

static void test_no_working_init(void **state)
{
	start("console=ttyS0", 0, true, false);
	feed("[    1.30] Run /init as init process\r\n"
	     "[    1.31] Failed to execute /init (error -2)\r\n"
	     "[    1.32] Run /sbin/init as init process\r\n"
	     "[    1.40] Kernel panic - not syncing: No working init found.  Try passing init= "
	     "option to kernel. See Linux Documentation/admin-guide/init.rst for guidance.\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("found no init to run");
	has("/init failed (error -2: no such file)");
	has("initramfs's /init");

	start("root=/dev/vda1 console=ttyS0", 1, false, false);
	feed("[    1.40] Kernel panic - not syncing: No working init found.  Try passing init= "
	     "option to kernel. See Linux Documentation/admin-guide/init.rst for guidance.\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	has("root filesystem (/dev/vda1)");
	has("init=PATH");
}

static void test_requested_init(void **state)
{
	start("root=/dev/vda init=/sbin/nope console=ttyS0", 1, false, false);
	feed("[    2.0] Run /sbin/nope as init process\r\n"
	     "[    2.1] Kernel panic - not syncing: Requested init /sbin/nope failed (error "
	     "-2).\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("init=/sbin/nope could not be run (error -2: no such file)");
	has("x86-64");
}

static void test_init_died(void **state)
{
	start("console=ttyS0", 0, true, false);
	feed("[    4.2] Kernel panic - not syncing: Attempted to kill init! "
	     "exitcode=0x00000100\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("init (PID 1) exited with status 1");
	has("must never end");

	start("console=ttyS0", 1, false, true);
	feed("[    4.2] Kernel panic - not syncing: Attempted to kill init! "
	     "exitcode=0x0000000b\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("killed by signal 11 (SIGSEGV)");
	has("hostel exec");

	/* A panic the doctor does not know: no diagnosis. */
	start("console=ttyS0", 0, true, false);
	feed("[    4.2] Kernel panic - not syncing: Fatal exception in interrupt\r\n");
	assert_false(doctor_stopped(&doc, text, sizeof(text)));
	assert_string_equal(text, "");
}

static void test_oom(void **state)
{
	start("console=ttyS0", 0, true, false);
	feed("[    0.9] Kernel panic - not syncing: System is deadlocked on memory\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	well_formed();
	has("ran out of memory");
	has("--memory is 512 MiB");
	has("--memory 1024M");
}

static void test_no_output(void **state)
{
	start("quiet", 0, true, false);
	assert_true(doctor_silence(&doc, 20000, text, sizeof(text)));
	well_formed();
	has("printed nothing on the serial console in 20 s");
	has("no console=");
	has("add console=ttyS0");

	start("console=tty0", 0, true, false);
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	well_formed();
	has("console=tty0");
	has("another device");

	start("console=ttyS0,115200 quiet", 0, true, false);
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	well_formed();
	has("although console=ttyS0 is set (and quiet");
	has("earlyprintk=serial,ttyS0");
	has("-v -v");
}

static void test_output_stopped(void **state)
{
	start("console=ttyS0", 0, true, false);
	feed("[    1.0] Linux version 6.1.0-18-amd64\r\n"
	     "[    1.5] virtio_blk virtio0: probing\r\n");
	assert_true(doctor_silence(&doc, 31000, text, sizeof(text)));
	well_formed();
	has("printed nothing for 31 s; its last line: \"[    1.5] virtio_blk virtio0: probing\"");
	has("-v -v");

	/* Kernel messages on ttyS0, but init's output on another console. */
	start("console=ttyS0 console=tty0", 0, true, false);
	feed("[    1.9] Run /init as init process\r\n");
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	well_formed();
	has("the last console= is tty0");
}

/* An idle guest that is up is no problem. */
static void test_up_and_idle(void **state)
{
	start("console=ttyS0", 0, true, false);
	feed("hostel-guest: ready uptime=0.84\r\n");
	assert_false(doctor_silence(&doc, 60000, text, sizeof(text)));

	start("console=ttyS0", 0, true, false);
	feed("[  OK  ] Reached target Multi-User System.\r\n\r\nDebian GNU/Linux 12 hostel "
	     "ttyS0\r\n\r\nhostel login: ");
	assert_false(doctor_silence(&doc, 60000, text, sizeof(text)));

	start("console=ttyS0", 0, true, false);
	feed("hostel:~# ");
	assert_false(doctor_silence(&doc, 60000, text, sizeof(text)));

	start("console=ttyS0", 0, true, false);
	feed("waiting for my service\r\n");
	assert_true(doctor_silence(&doc, 60000, text, sizeof(text)));
	doctor_mark_up(&doc); /* --ready matched */
	assert_false(doctor_silence(&doc, 60000, text, sizeof(text)));
}

/* Partial lines: the same diagnosis, however the bytes are cut. */
static void test_split_feeds(void **state)
{
	char whole[DOCTOR_TEXT_MAX];
	start("root=/dev/vda", 0, false, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, whole, sizeof(whole)));

	for (size_t step = 1; step < 40; step += 3) {
		start("root=/dev/vda", 0, false, false);
		for (size_t i = 0; i < sizeof(debian_no_root) - 1; i += step) {
			size_t n = sizeof(debian_no_root) - 1 - i;
			doctor_feed(&doc, debian_no_root + i, n < step ? n : step);
		}
		assert_true(doctor_stopped(&doc, text, sizeof(text)));
		assert_string_equal(text, whole);
	}
}

static void test_long_lines(void **state)
{
	static char big[100000];
	memset(big, 'A', sizeof(big));
	start("console=ttyS0", 0, true, false);
	doctor_feed(&doc, big, sizeof(big));
	/* A panic line hidden deep in a long line is not a panic line. */
	feed("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\r\n");
	assert_false(doctor_stopped(&doc, text, sizeof(text)));
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	well_formed();
	has("AAAA");
	assert_true(strlen(text) < 600);
	/* The next line starts afresh. */
	feed("Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	has("exited with status 1");
}

static void test_hostile_bytes(void **state)
{
	static unsigned char junk[1 << 20];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (unsigned char)(x >> 16);
	}
	start("console=ttyS0", 0, true, false);
	doctor_feed(&doc, junk, sizeof(junk));
	feed("\n\x1b[0;31mtail\x01\x7f\xc3\xa9 end\x1b[0m\r\n");
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	well_formed();
	has("its last line: \"tail???? end\"");

	/* \r inside and around a line; NUL bytes; an escape that never ends. */
	start("console=ttyS0", 0, true, false);
	feed("Kernel panic - not syncing: \rAttempted to kill init! exitcode=0x00000100\r\r\n");
	assert_true(doctor_stopped(&doc, text, sizeof(text)));
	has("exited with status 1");
	start("console=ttyS0", 0, true, false);
	doctor_feed(&doc, "a\0b\n", 4);
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	has("\"a?b\"");
	start("console=ttyS0", 0, true, false);
	feed("\x1b[");
	for (int i = 0; i < 40; i++)
		feed("1;");
	feed("after\n");
	assert_true(doctor_silence(&doc, 30000, text, sizeof(text)));
	has("after");
}

/* A small buffer: cut, terminated, never overrun. */
static void test_small_buffer(void **state)
{
	char small[24];
	memset(small, 'x', sizeof(small));
	start("root=/dev/vda", 0, false, false);
	feed(debian_no_root);
	assert_true(doctor_stopped(&doc, small, 16));
	assert_int_equal(strlen(small), 15);
	assert_int_equal(small[16], 'x');
	assert_false(doctor_stopped(&doc, small, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_no_disk),	cmocka_unit_test(test_root_disks_initrd),
		cmocka_unit_test(test_root_wrong_name), cmocka_unit_test(test_root_unmountable),
		cmocka_unit_test(test_root_wait),	cmocka_unit_test(test_initramfs_gave_up),
		cmocka_unit_test(test_no_working_init), cmocka_unit_test(test_requested_init),
		cmocka_unit_test(test_init_died),	cmocka_unit_test(test_oom),
		cmocka_unit_test(test_no_output),	cmocka_unit_test(test_output_stopped),
		cmocka_unit_test(test_up_and_idle),	cmocka_unit_test(test_split_feeds),
		cmocka_unit_test(test_long_lines),	cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
