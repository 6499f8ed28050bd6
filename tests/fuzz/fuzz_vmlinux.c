// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as an unpacked kernel: the first byte picks the path.
 *   even: the rest is an ELF vmlinux. vmlinux_parse() must refuse it or
 *         accept it within bounds, and boot_load() then loads it into a
 *         small fake guest RAM without writing outside it.
 *   odd:  the rest is a compressed payload (xz, gzip, zstd or other) whose
 *         last 4 bytes say the size; vmlinux_unpack() must decode it exactly
 *         or refuse it. Sizes above 16 MiB are clamped to keep runs fast.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "boot/boot.h"
#include "boot/vmlinux.h"

#define RAM_SIZE (48u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct gmem gm;
	static struct e820_entry e820[BOOT_E820_MAX];
	static unsigned int nr_e820;
	const char *why = NULL;

	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		if (!ram || gmem_add(&gm, 0, RAM_SIZE, ram))
			abort();
		nr_e820 = boot_e820_build(RAM_SIZE, 0, e820, BOOT_E820_MAX);
	}
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;

	if (data[0] & 1) {
		uint8_t *buf = malloc(n ? n : 1), *o;
		size_t olen;
		if (!buf)
			abort();
		memcpy(buf, p, n);
		if (n >= 4 && buf[n - 1])
			buf[n - 1] = 0; /* at most 16 MiB */
		int ret = vmlinux_unpack(buf, n, &o, &olen, &why);
		if (ret == 0) {
			check(olen == ((size_t)buf[n - 4] | (size_t)buf[n - 3] << 8 |
				       (size_t)buf[n - 2] << 16));
			vmlinux_free(o, olen);
		} else {
			check(why && *why && (ret == -EINVAL || ret == -ENOTSUP || ret == -ENOMEM));
		}
		free(buf);
		return 0;
	}

	struct vmlinux_info vi;
	if (vmlinux_parse(p, n, &vi, &why)) {
		check(why && *why && !strchr(why, '\n'));
		return 0;
	}
	check(vi.nr_segs > 0 && vi.nr_segs <= VMLINUX_MAX_SEGS);
	check(vi.lo >= BOOT_KERNEL_ADDR && vi.lo < vi.hi && vi.hi <= BOOT_LOW_RAM_MAX);
	for (unsigned int i = 0; i < vi.nr_segs; i++)
		check(vi.segs[i].offset + vi.segs[i].filesz <= n);
	struct boot_config cfg = {
		.kernel = p,
		.kernel_len = n,
		.cmdline = "console=ttyS0",
		.e820 = e820,
		.nr_e820 = nr_e820,
	};
	struct boot_entry ent;
	if (boot_load(&gm, &cfg, &ent, &why) == 0) {
		check(ent.long_mode && ent.rip == vi.entry);
		memset(ram, 0, RAM_SIZE);
	}
	return 0;
}
