// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the boot doctor (src/doctor.c): arbitrary bytes as
 * guest console output, fed in pieces whose sizes the input also picks,
 * under a command line and machine facts taken from the input's first
 * bytes.
 *
 * Checked: every diagnosis, after a silence or a stop, is one or two
 * non-empty lines of printable ASCII that fit the buffer; a cut buffer is
 * still terminated and never overrun; the same bytes fed whole give the
 * same diagnoses as fed in pieces.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "doctor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void check_text(const char *t, size_t len)
{
	size_t n = strnlen(t, len);
	check(n < len);
	if (n == 0)
		return;
	unsigned int lines = 1;
	check(t[0] != '\n' && t[n - 1] != '\n');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t[i];
		if (c == '\n') {
			lines++;
			check(t[i + 1] != '\n');
		} else {
			check(c >= 0x20 && c < 0x7f);
		}
	}
	check(lines <= 2);
}

static void diagnose(const struct doctor *d, char out[2][DOCTOR_TEXT_MAX], bool got[2])
{
	char small[40];

	got[0] = doctor_silence(d, 30000, out[0], DOCTOR_TEXT_MAX);
	got[1] = doctor_stopped(d, out[1], DOCTOR_TEXT_MAX);
	for (int i = 0; i < 2; i++) {
		if (got[i])
			check_text(out[i], DOCTOR_TEXT_MAX);
		else if (i == 1)
			check(out[1][0] == '\0');
	}
	/* Cut: terminated, in bounds (ASan watches the rest). */
	memset(small, 'x', sizeof(small));
	if (doctor_silence(d, 30000, small, sizeof(small) - 8))
		check(strnlen(small, sizeof(small) - 8) < sizeof(small) - 8);
	check(small[sizeof(small) - 1] == 'x');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cmdlines[] = {
		"",
		"quiet",
		"console=tty0",
		"root=/dev/vda console=ttyS0",
		"root=/dev/vdb1 init=/sbin/init rdinit=/x console=ttyS0,115200 console=tty0",
		"root=UUID=1234 quiet console=uart8250,io,0x3f8",
		"root=/dev/sda1 console=hvc0 console=ttyS0",
	};
	static struct doctor whole, pieces;
	static char a[2][DOCTOR_TEXT_MAX], b[2][DOCTOR_TEXT_MAX];
	bool ga[2], gb[2];

	if (size < 2)
		return 0;
	struct doctor_facts f = {
		.cmdline = cmdlines[data[0] % (sizeof(cmdlines) / sizeof(cmdlines[0]))],
		.nr_disks = (data[1] >> 4) % 9,
		.have_initrd = data[1] & 1,
		.exec = data[1] & 2,
		.memory_mib = (data[1] & 4) ? 0 : 512,
	};
	uint8_t step = data[1] & 8 ? data[0] | 1 : 1;
	data += 2;
	size -= 2;

	doctor_init(&whole, &f);
	doctor_feed(&whole, data, size);
	diagnose(&whole, a, ga);

	doctor_init(&pieces, &f);
	for (size_t i = 0; i < size; i += step)
		doctor_feed(&pieces, data + i, size - i < step ? size - i : step);
	diagnose(&pieces, b, gb);

	for (int i = 0; i < 2; i++) {
		check(ga[i] == gb[i]);
		check(!ga[i] || !strcmp(a[i], b[i]));
	}
	return 0;
}
