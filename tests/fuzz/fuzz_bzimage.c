// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as a kernel image: bzimage_parse() must refuse or accept
 * without reading outside the input, and an accepted image is loaded with
 * boot_load() into a small fake guest RAM. The last input byte sizes the
 * initrd so placement is exercised too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "boot/boot.h"

#define RAM_SIZE   (32u << 20)
#define INITRD_MAX 8192

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
	static uint8_t initrd[INITRD_MAX];
	struct bzimage_info info;
	struct boot_entry ent;
	const char *why = NULL;

	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		if (!ram || gmem_add(&gm, 0, RAM_SIZE, ram))
			abort();
		nr_e820 = boot_e820_build(RAM_SIZE, 0, e820, BOOT_E820_MAX);
		memset(initrd, 0x5a, sizeof(initrd));
	}

	if (bzimage_parse(data, size, &info, &why)) {
		check(why && *why && !strchr(why, '\n'));
		return 0;
	}
	check(info.setup_size + (size_t)info.kernel_size == size);
	check(info.kernel_size > 0 && info.protocol >= BOOT_MIN_PROTOCOL);
	check(memchr(info.version, '\0', sizeof(info.version)) != NULL);

	struct boot_config cfg = {
		.kernel = data,
		.kernel_len = size,
		.initrd = initrd,
		.initrd_len = 1 + (size_t)data[size - 1] * (INITRD_MAX / 256),
		.cmdline = "console=ttyS0 panic=1",
		.e820 = e820,
		.nr_e820 = nr_e820,
		.rsdp_addr = 0xe0000,
	};
	why = NULL;
	if (boot_load(&gm, &cfg, &ent, &why)) {
		check(why && *why && !strchr(why, '\n'));
		return 0;
	}
	check(ent.entry_eip == BOOT_KERNEL_ADDR && ent.esi == BOOT_ZERO_PAGE_ADDR);
	check(ent.initrd_addr % 4096 == 0 &&
	      ent.initrd_addr >= BOOT_KERNEL_ADDR + info.kernel_size);
	check(ent.initrd_addr + cfg.initrd_len <= RAM_SIZE);
	check(!memcmp(ram + BOOT_KERNEL_ADDR, data + info.kernel_offset, info.kernel_size));
	check(!memcmp(ram + ent.initrd_addr, initrd, cfg.initrd_len));
	return 0;
}
