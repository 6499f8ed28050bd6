// SPDX-License-Identifier: MIT
/*
 * Boot protocol loader: bzImage validation on synthetic headers (one per
 * reject case), the real Debian kernel's header, and boot_load into fake
 * guest RAM (a calloc'd buffer registered with gmem).
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "boot/boot.h"

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* ---- synthetic images ---------------------------------------------------- */

struct img {
	uint8_t *buf;
	size_t len;
};

struct img_opts {
	uint8_t setup_sects;	 /* as stored in the header */
	unsigned int real_sects; /* sectors of setup actually in the file (0: as the header) */
	size_t kernel_len;	 /* bytes after the setup */
	uint16_t version;
	uint8_t hdr_len;  /* byte at 0x201: header ends at 0x202 + this */
	uint32_t syssize; /* 0: kernel_len / 16 rounded up */
	uint8_t loadflags;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint32_t kernel_alignment;
	uint8_t relocatable;
	uint64_t pref_address;
	uint32_t init_size;
	uint16_t kernel_version; /* 0: none; else string at this + 0x200 */
	const char *version_str;
	uint64_t setup_data;
};

static struct img_opts default_opts(void)
{
	return (struct img_opts){
		.setup_sects = 4,
		.kernel_len = 8192,
		.version = 0x020f,
		.hdr_len = 0x6a,
		.loadflags = LOADED_HIGH,
		.initrd_addr_max = 0x7fffffff,
		.cmdline_size = 2047,
		.kernel_alignment = 0x200000,
		.relocatable = 1,
		.pref_address = 0x200000,
		.init_size = 2 * MIB,
		.kernel_version = 0x200, /* file offset 0x400 */
		.version_str = "6.9.9-synthetic (test@hostel) #1",
	};
}

/* A bzImage-shaped buffer: header fields as given, kernel bytes a pattern. */
static struct img make_img(const struct img_opts *o)
{
	unsigned int sects = o->real_sects ? o->real_sects : (o->setup_sects ? o->setup_sects : 4);
	size_t setup = (size_t)(sects + 1) * 512;
	struct img im = {.len = setup + o->kernel_len};
	struct setup_header h;

	im.buf = calloc(1, im.len);
	assert_non_null(im.buf);
	memset(&h, 0, sizeof(h));
	h.setup_sects = o->setup_sects;
	h.syssize = o->syssize ? o->syssize : (uint32_t)((o->kernel_len + 15) / 16);
	h.boot_flag = 0xaa55;
	h.jump = (uint16_t)(0xeb | (o->hdr_len << 8));
	memcpy(&h.header, "HdrS", 4);
	h.version = o->version;
	h.kernel_version = o->kernel_version;
	h.loadflags = o->loadflags;
	h.code32_start = 0x100000;
	h.initrd_addr_max = o->initrd_addr_max;
	h.kernel_alignment = o->kernel_alignment;
	h.relocatable_kernel = o->relocatable;
	h.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	h.cmdline_size = o->cmdline_size;
	h.pref_address = o->pref_address;
	h.init_size = o->init_size;
	h.setup_data = o->setup_data;
	memcpy(im.buf + 0x1f1, &h, sizeof(h));
	if (o->kernel_version && o->version_str && o->kernel_version + 0x200u < setup)
		memcpy(im.buf + o->kernel_version + 0x200, o->version_str,
		       strnlen(o->version_str, setup - o->kernel_version - 0x200u));
	for (size_t i = setup; i < im.len; i++)
		im.buf[i] = (uint8_t)(i * 7 + 3);
	return im;
}

static void expect_reject(const struct img *im, int err, const char *msg)
{
	struct bzimage_info info;
	const char *why = NULL;
	int ret = bzimage_parse(im->buf, im->len, &info, &why);

	assert_int_equal(ret, err);
	assert_non_null(why);
	if (!strstr(why, msg))
		fail_msg("reason \"%s\" does not contain \"%s\"", why, msg);
	assert_null(strchr(why, '\n'));
}

/* ---- fake guest RAM ------------------------------------------------------ */

struct vm {
	struct gmem gm;
	uint8_t *ram;
	uint64_t size;
	struct e820_entry e820[BOOT_E820_MAX];
	unsigned int nr_e820;
};

static void vm_init(struct vm *vm, uint64_t size)
{
	memset(vm, 0, sizeof(*vm));
	vm->size = size;
	vm->ram = calloc(1, size);
	assert_non_null(vm->ram);
	assert_int_equal(gmem_add(&vm->gm, 0, size, vm->ram), 0);
	vm->nr_e820 = boot_e820_build(size, 0, vm->e820, BOOT_E820_MAX);
}

static void vm_fini(struct vm *vm)
{
	free(vm->ram);
}

static struct boot_config vm_cfg(const struct vm *vm, const struct img *k)
{
	return (struct boot_config){
		.kernel = k->buf,
		.kernel_len = k->len,
		.cmdline = "console=ttyS0",
		.e820 = vm->e820,
		.nr_e820 = vm->nr_e820,
	};
}

static const struct boot_params *zero_page(const struct vm *vm)
{
	return (const struct boot_params *)(vm->ram + BOOT_ZERO_PAGE_ADDR);
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void expect_load_fail(struct vm *vm, const struct boot_config *cfg, int err, const char *msg)
{
	struct boot_entry ent;
	const char *why = NULL;
	int ret = boot_load(&vm->gm, cfg, &ent, &why);

	assert_int_equal(ret, err);
	assert_non_null(why);
	if (!strstr(why, msg))
		fail_msg("reason \"%s\" does not contain \"%s\"", why, msg);
	assert_null(strchr(why, '\n'));
	/* Nothing is written before every check has passed. */
	assert_true(all_zero(vm->ram + BOOT_GDT_ADDR, 32));
	assert_true(all_zero(vm->ram + BOOT_ZERO_PAGE_ADDR, 4096));
	assert_true(all_zero(vm->ram + BOOT_KERNEL_ADDR, 4096));
}

/* ---- the real kernel ----------------------------------------------------- */

static struct img real_kernel(void)
{
	char path[4096];
	const char *env = getenv("HOSTEL_KERNEL");
	struct img im = {0};

	if (env && *env) {
		snprintf(path, sizeof(path), "%s", env);
	} else {
		const char *cache = getenv("XDG_CACHE_HOME");
		const char *home = getenv("HOME");
		if (cache && *cache)
			snprintf(path, sizeof(path), "%s/hostel/kernel/vmlinuz", cache);
		else
			snprintf(path, sizeof(path), "%s/.cache/hostel/kernel/vmlinuz",
				 home ? home : "");
	}
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("no kernel at %s (HOSTEL_KERNEL unset or missing): run images/kernel.sh "
			 "first",
			 path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	im.len = (size_t)n;
	im.buf = malloc(im.len);
	assert_non_null(im.buf);
	assert_int_equal(fread(im.buf, 1, im.len, f), im.len);
	fclose(f);
	return im;
}

/* ---- parse: rejects ------------------------------------------------------ */

static void test_reject_empty(void **state)
{
	struct bzimage_info info;
	const char *why = NULL;

	assert_int_equal(bzimage_parse("", 0, &info, &why), -EINVAL);
	assert_string_equal(why, "file is empty");
	why = NULL;
	assert_int_equal(bzimage_parse(NULL, 0, &info, &why), -EINVAL);
	assert_string_equal(why, "file is empty");
}

static void test_reject_too_big(void **state)
{
	/* calloc'd pages stay untouched: the size is refused before any read. */
	struct img im = {.len = BOOT_MAX_IMAGE + 1};
	im.buf = calloc(1, im.len);
	assert_non_null(im.buf);
	expect_reject(&im, -E2BIG, "kernel image is 257 MiB, larger than the 256 MiB limit");
	free(im.buf);
}

static void test_reject_short(void **state)
{
	struct img_opts o = default_opts();
	struct img im = make_img(&o);
	size_t full = im.len;

	im.len = 0x200; /* has the boot flag area but not HdrS and beyond */
	expect_reject(&im, -EINVAL, "file is 512 bytes, shorter than a bzImage setup header");
	im.len = 1;
	expect_reject(&im, -EINVAL, "file is 1 bytes, shorter than a bzImage setup header");
	im.len = full;
	free(im.buf);
}

static void test_reject_no_boot_flag(void **state)
{
	struct img_opts o = default_opts();
	struct img im = make_img(&o);

	im.buf[0x1fe] = 0x12;
	im.buf[0x1ff] = 0x34;
	expect_reject(&im, -EINVAL, "no 0xAA55 boot flag at offset 0x1fe (found 0x3412)");
	free(im.buf);
}

static void test_reject_no_hdrs(void **state)
{
	struct img_opts o = default_opts();
	struct img im = make_img(&o);

	im.buf[0x205] = 'T';
	expect_reject(&im, -EINVAL, "no 'HdrS' signature at offset 0x202: not a bzImage");
	free(im.buf);
}

static void test_reject_old_protocol(void **state)
{
	struct img_opts o = default_opts();
	o.version = 0x0204;
	struct img im = make_img(&o);

	expect_reject(&im, -EINVAL,
		      "boot protocol 2.04 is too old (need 2.06 or newer, Linux 2.6.22 on): boot a "
		      "newer kernel");
	free(im.buf);
}

static void test_reject_zimage(void **state)
{
	struct img_opts o = default_opts();
	o.loadflags = 0;
	struct img im = make_img(&o);

	expect_reject(&im, -EINVAL, "zImage (LOADED_HIGH clear in loadflags) is not supported");
	free(im.buf);
}

static void test_reject_setup_truncated(void **state)
{
	struct img_opts o = default_opts();
	o.setup_sects = 255;
	o.real_sects = 4; /* file: 2560 bytes of setup + 8192 of kernel */
	struct img im = make_img(&o);

	expect_reject(&im, -EINVAL,
		      "truncated: header says 131072 bytes of setup code (setup_sects 255), file "
		      "has 10752");
	free(im.buf);
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct img_opts o = default_opts();
	o.setup_sects = 0; /* make_img lays out 4 sectors + boot sector */
	struct img im = make_img(&o);
	struct bzimage_info info;
	const char *why = NULL;

	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	assert_int_equal(info.setup_size, 5 * 512);
	assert_int_equal(info.kernel_offset, 5 * 512);
	assert_int_equal(info.kernel_size, 8192);
	free(im.buf);

	/* ... so a zero with only 2 sectors of setup in the file is truncated. */
	o.real_sects = 1;
	o.kernel_len = 0;
	o.syssize = 0;
	im = make_img(&o);
	expect_reject(&im, -EINVAL,
		      "truncated: header says 2560 bytes of setup code (setup_sects 0), file has "
		      "1024");
	free(im.buf);
}

static void test_reject_syssize_truncated(void **state)
{
	struct img_opts o = default_opts();
	o.syssize = 8192 / 16 + 1;
	struct img im = make_img(&o);

	expect_reject(&im, -EINVAL,
		      "truncated: header says 10768 bytes (setup 2560 + kernel 8208 from syssize), "
		      "file has 10752");
	free(im.buf);

	/* syssize * 16 does not wrap in 32 bits. */
	o.syssize = 0x10000000;
	im = make_img(&o);
	expect_reject(&im, -EINVAL, "kernel 4294967296 from syssize), file has 10752");
	free(im.buf);
}

static void test_reject_no_kernel(void **state)
{
	struct img_opts o = default_opts();
	o.kernel_len = 0;
	struct img im = make_img(&o);

	expect_reject(&im, -EINVAL, "no protected-mode kernel after the 2560 bytes of setup code");
	free(im.buf);
}

static void test_reject_short_header(void **state)
{
	struct img_opts o = default_opts();
	o.hdr_len = 0x230 - 0x202; /* ends before cmdline_size */
	struct img im = make_img(&o);

	expect_reject(&im, -EINVAL,
		      "setup header ends at 0x230, too short for boot protocol 2.15 (needs 0x264)");
	free(im.buf);

	/* Ends after cmdline_size but before init_size: fine for 2.06 only. */
	o.hdr_len = 0x23c - 0x202;
	im = make_img(&o);
	expect_reject(&im, -EINVAL, "setup header ends at 0x23c, too short for boot protocol 2.15");
	free(im.buf);
	o.version = 0x0206;
	im = make_img(&o);
	struct bzimage_info info;
	const char *why = NULL;
	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	/* init_size/pref_address bytes lie past the header: setup code, ignored. */
	assert_int_equal(info.init_size, 0);
	assert_int_equal(info.pref_address, 0);
	assert_int_equal(info.xloadflags, 0);
	assert_int_equal(info.cmdline_size, 2047);
	assert_int_equal(info.header_end, 0x23c);
	free(im.buf);
}

static void test_fields_gated_by_protocol(void **state)
{
	/* A 2.09 header as long as a 2.15 one: init_size/pref_address (2.10) and
	 * xloadflags (2.12) are not fields at that protocol. */
	struct img_opts o = default_opts();
	o.version = 0x0209;
	struct img im = make_img(&o);
	struct bzimage_info info;
	const char *why = NULL;

	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	assert_int_equal(info.init_size, 0);
	assert_int_equal(info.pref_address, 0);
	assert_int_equal(info.xloadflags, 0);
	free(im.buf);
	o.version = 0x020b;
	im = make_img(&o);
	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	assert_int_equal(info.init_size, 2 * MIB);
	assert_int_equal(info.pref_address, 0x200000);
	assert_int_equal(info.xloadflags, 0);
	free(im.buf);
}

static void test_reject_bad_alignment(void **state)
{
	struct img_opts o = default_opts();
	o.kernel_alignment = 0x300000;
	struct img im = make_img(&o);

	expect_reject(&im, -EINVAL, "kernel_alignment 0x300000 is not a power of two");
	free(im.buf);
	o.kernel_alignment = 0;
	im = make_img(&o);
	expect_reject(&im, -EINVAL, "kernel_alignment 0x0 is not a power of two");
	free(im.buf);
}

/* ---- parse: accepts ------------------------------------------------------ */

static void test_parse_synthetic(void **state)
{
	struct img_opts o = default_opts();
	struct img im = make_img(&o);
	struct bzimage_info info;
	const char *why = NULL;

	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	assert_int_equal(info.protocol, 0x020f);
	assert_int_equal(info.setup_size, 2560);
	assert_int_equal(info.kernel_offset, 2560);
	assert_int_equal(info.kernel_size, 8192);
	assert_int_equal(info.initrd_addr_max, 0x7fffffff);
	assert_int_equal(info.cmdline_size, 2047);
	assert_int_equal(info.init_size, 2 * MIB);
	assert_int_equal(info.kernel_alignment, 0x200000);
	assert_int_equal(info.pref_address, 0x200000);
	assert_int_equal(info.relocatable, 1);
	assert_int_equal(info.xloadflags, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G);
	assert_int_equal(info.header_end, 0x26c);
	assert_string_equal(info.version, "6.9.9-synthetic (test@hostel) #1");
	free(im.buf);
}

static void test_version_string_bounds(void **state)
{
	struct bzimage_info info;
	const char *why = NULL;
	char longv[200];

	/* Pointer past the setup area: no string, not a read past it. */
	struct img_opts o = default_opts();
	o.kernel_version = 0x1000;
	struct img im = make_img(&o);
	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	assert_string_equal(info.version, "");
	free(im.buf);

	/* Unterminated at the very end of the setup area: cut there. */
	o = default_opts();
	o.kernel_version = 2560 - 0x200 - 5;
	o.version_str = "ABCDE";
	im = make_img(&o);
	im.buf[2560] = 'X'; /* first kernel byte must not be part of the string */
	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	assert_string_equal(info.version, "ABCDE");
	free(im.buf);

	/* Long strings are cut to 63 chars; control characters become '?'. */
	memset(longv, 'v', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	longv[1] = '\n';
	o = default_opts();
	o.version_str = longv;
	im = make_img(&o);
	assert_int_equal(bzimage_parse(im.buf, im.len, &info, &why), 0);
	assert_int_equal(strlen(info.version), 63);
	assert_int_equal(info.version[1], '?');
	free(im.buf);
}

static void test_parse_real_kernel(void **state)
{
	struct img k = real_kernel();
	struct bzimage_info info;
	const char *why = NULL;
	int ret = bzimage_parse(k.buf, k.len, &info, &why);

	if (ret)
		fail_msg("real kernel rejected: %s", why);
	assert_true(info.protocol >= 0x020c);
	assert_int_equal(info.relocatable, 1);
	assert_true(info.xloadflags & XLF_KERNEL_64);
	assert_int_equal(strncmp(info.version, "6.1", 3), 0);
	assert_int_equal(info.kernel_offset, info.setup_size);
	assert_int_equal(info.setup_size + info.kernel_size, k.len);
	assert_true(info.init_size > info.kernel_size);
	assert_true(info.cmdline_size >= 255);
	free(k.buf);
}

/* ---- e820 ---------------------------------------------------------------- */

static void expect_entry(const struct e820_entry *e, uint64_t addr, uint64_t size, uint32_t type)
{
	assert_int_equal(e->addr, addr);
	assert_int_equal(e->size, size);
	assert_int_equal(e->type, type);
}

static void test_e820_128m(void **state)
{
	struct e820_entry e[BOOT_E820_MAX];
	unsigned int n = boot_e820_build(128 * MIB, 0, e, BOOT_E820_MAX);

	assert_int_equal(n, 3);
	expect_entry(&e[0], 0, 0x9fc00, E820_RAM);
	expect_entry(&e[1], 0x9fc00, 0x100000 - 0x9fc00, E820_RESERVED);
	expect_entry(&e[2], 0x100000, 127 * MIB, E820_RAM);
}

static void test_e820_1g(void **state)
{
	struct e820_entry e[BOOT_E820_MAX];
	uint64_t lo, hi;

	boot_ram_split(GIB, &lo, &hi);
	assert_int_equal(lo, GIB);
	assert_int_equal(hi, 0);
	unsigned int n = boot_e820_build(lo, hi, e, BOOT_E820_MAX);
	assert_int_equal(n, 3);
	expect_entry(&e[0], 0, 0x9fc00, E820_RAM);
	expect_entry(&e[1], 0x9fc00, 0x60400, E820_RESERVED);
	expect_entry(&e[2], 0x100000, GIB - MIB, E820_RAM);
}

static void test_e820_split_3_5g(void **state)
{
	struct e820_entry e[BOOT_E820_MAX];
	uint64_t lo, hi;

	boot_ram_split(3 * GIB + GIB / 2, &lo, &hi);
	assert_int_equal(lo, 3 * GIB);
	assert_int_equal(hi, GIB / 2);
	unsigned int n = boot_e820_build(lo, hi, e, BOOT_E820_MAX);
	assert_int_equal(n, 4);
	expect_entry(&e[0], 0, 0x9fc00, E820_RAM);
	expect_entry(&e[1], 0x9fc00, 0x60400, E820_RESERVED);
	expect_entry(&e[2], 0x100000, 3 * GIB - MIB, E820_RAM);
	expect_entry(&e[3], 4 * GIB, GIB / 2, E820_RAM);
	/* RAM in the map adds up to what was asked for, minus the EBDA/BIOS hole. */
	assert_int_equal(e[0].size + e[2].size + e[3].size, 3 * GIB + GIB / 2 - 0x60400);
}

static void test_e820_limits(void **state)
{
	struct e820_entry e[BOOT_E820_MAX];

	/* Only @max entries are written. */
	memset(e, 0xa5, sizeof(e));
	assert_int_equal(boot_e820_build(3 * GIB, GIB, e, 2), 2);
	assert_int_equal(e[2].addr, 0xa5a5a5a5a5a5a5a5ULL);
	assert_int_equal(boot_e820_build(3 * GIB, GIB, e, 0), 0);
	/* Low RAM never reaches into the hole below 4 GiB. */
	assert_int_equal(boot_e820_build(4 * GIB, 0, e, BOOT_E820_MAX), 3);
	expect_entry(&e[2], 0x100000, 3 * GIB - MIB, E820_RAM);
	/* Tiny low RAM: only what exists is RAM. */
	assert_int_equal(boot_e820_build(0x80000, 0, e, BOOT_E820_MAX), 2);
	expect_entry(&e[0], 0, 0x80000, E820_RAM);
	expect_entry(&e[1], 0x9fc00, 0x60400, E820_RESERVED);
	/* High RAM size that would wrap is clamped. */
	assert_int_equal(boot_e820_build(GIB, UINT64_MAX, e, BOOT_E820_MAX), 4);
	assert_true(e[3].addr + e[3].size - 1 == UINT64_MAX);
}

/* ---- boot_load ----------------------------------------------------------- */

static const uint8_t gdt_expect[32] = {
	0,    0,    0, 0, 0,	0,    0,    0,	  0, 0,	   0,	 0,
	0,    0,    0, 0, 0xff, 0xff, 0,    0,	  0, 0x9b, 0xcf, 0x00, /* 0x10: flat 4 GiB code */
	0xff, 0xff, 0, 0, 0,	0x93, 0xcf, 0x00,		       /* 0x18: flat 4 GiB data */
};

static void test_load_real_kernel(void **state)
{
	struct img k = real_kernel();
	struct vm vm;
	struct bzimage_info info;
	struct boot_entry ent;
	const char *why = NULL;
	const char *cmdline = "console=ttyS0 earlyprintk=serial panic=1";
	size_t initrd_len = 3 * MIB + 123;
	uint8_t *initrd = malloc(initrd_len);

	assert_non_null(initrd);
	for (size_t i = 0; i < initrd_len; i++)
		initrd[i] = (uint8_t)(i * 13 + (i >> 12));
	assert_int_equal(bzimage_parse(k.buf, k.len, &info, &why), 0);
	vm_init(&vm, 256 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.cmdline = cmdline;
	cfg.initrd = initrd;
	cfg.initrd_len = initrd_len;
	cfg.rsdp_addr = 0xe0000;

	int ret = boot_load(&vm.gm, &cfg, &ent, &why);
	if (ret)
		fail_msg("boot_load failed: %s", why);

	/* Entry state for the 32-bit boot protocol. */
	assert_int_equal(ent.entry_eip, 0x100000);
	assert_int_equal(ent.esi, BOOT_ZERO_PAGE_ADDR);
	assert_int_equal(ent.esp, BOOT_STACK_TOP);
	assert_int_equal(ent.gdt_base, BOOT_GDT_ADDR);
	assert_int_equal(ent.gdt_limit, 31);
	assert_memory_equal(vm.ram + BOOT_GDT_ADDR, gdt_expect, sizeof(gdt_expect));

	/* Zero page. */
	const struct boot_params *bp = zero_page(&vm);
	const struct setup_header *fh = (const struct setup_header *)(k.buf + 0x1f1);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_memory_equal(&bp->hdr.header, "HdrS", 4);
	assert_int_equal(bp->hdr.version, info.protocol);
	assert_int_equal(bp->hdr.setup_sects, fh->setup_sects);
	assert_int_equal(bp->hdr.syssize, fh->syssize);
	assert_int_equal(bp->hdr.init_size, fh->init_size);
	assert_int_equal(bp->hdr.kernel_alignment, fh->kernel_alignment);
	assert_int_equal(bp->hdr.xloadflags, fh->xloadflags);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.loadflags & (LOADED_HIGH | CAN_USE_HEAP),
			 LOADED_HIGH | CAN_USE_HEAP);
	assert_int_equal(bp->hdr.heap_end_ptr, 0xfe00);
	assert_int_equal(bp->hdr.vid_mode, 0xffff);
	assert_int_equal(bp->hdr.code32_start, 0x100000);
	assert_int_equal(bp->hdr.setup_data, 0);
	assert_int_equal(bp->sentinel, 0);
	assert_int_equal(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_string_equal((const char *)vm.ram + bp->hdr.cmd_line_ptr, cmdline);
	assert_int_equal(bp->acpi_rsdp_addr, 0xe0000); /* protocol 2.15 >= 2.14 */

	/* e820 equals what boot_e820_build gives. */
	assert_int_equal(bp->e820_entries, vm.nr_e820);
	assert_memory_equal(bp->e820_table, vm.e820, vm.nr_e820 * sizeof(vm.e820[0]));

	/* Initrd: page aligned, above the kernel, as high as the limits allow. */
	uint64_t ird = bp->hdr.ramdisk_image | ((uint64_t)bp->ext_ramdisk_image << 32);
	uint64_t irs = bp->hdr.ramdisk_size | ((uint64_t)bp->ext_ramdisk_size << 32);
	uint64_t limit = 256 * MIB;
	if ((uint64_t)info.initrd_addr_max + 1 < limit)
		limit = (uint64_t)info.initrd_addr_max + 1;
	assert_int_equal(ird, ent.initrd_addr);
	assert_int_equal(irs, initrd_len);
	assert_int_equal(ird % 4096, 0);
	assert_true(ird >= BOOT_KERNEL_ADDR + info.init_size);
	assert_true(ird >= BOOT_KERNEL_ADDR + info.kernel_size);
	assert_true(ird >= info.pref_address + info.init_size); /* where it decompresses */
	assert_true(ird + irs <= limit);
	assert_true(ird + irs + 4096 > limit); /* no higher page would do */
	assert_memory_equal(vm.ram + ird, initrd, initrd_len);

	/* The protected-mode kernel at 1 MiB. */
	assert_memory_equal(vm.ram + BOOT_KERNEL_ADDR, k.buf + info.setup_size, info.kernel_size);

	vm_fini(&vm);
	free(initrd);
	free(k.buf);
}

static void test_load_no_initrd(void **state)
{
	struct img_opts o = default_opts();
	o.setup_data = 0x12345678; /* corrupt: must not reach the guest */
	struct img k = make_img(&o);
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;

	memset(k.buf + 0x26c, 0xcc, 0x290 - 0x26c); /* setup code after the header */
	vm_init(&vm, 16 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.cmdline = NULL; /* an empty command line */
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	const struct boot_params *bp = zero_page(&vm);
	assert_int_equal(ent.initrd_addr, 0);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_int_equal(bp->hdr.setup_data, 0);
	assert_int_equal(bp->acpi_rsdp_addr, 0); /* none given */
	assert_string_equal((const char *)vm.ram + BOOT_CMDLINE_ADDR, "");
	assert_memory_equal(vm.ram + BOOT_KERNEL_ADDR, k.buf + 2560, 8192);
	/* The header copy stops at 0x202 + jump: the rest of the area is zero. */
	assert_memory_equal(vm.ram + BOOT_ZERO_PAGE_ADDR + 0x1f1, k.buf + 0x1f1,
			    offsetof(struct setup_header, vid_mode));
	assert_true(all_zero(vm.ram + BOOT_ZERO_PAGE_ADDR + 0x26c, 0x290 - 0x26c));
	vm_fini(&vm);
	free(k.buf);
}

/* boot_screen_info: what Linux's sysfb and vesafb read. */
static void test_screen_info(void **state)
{
	struct boot_fb fb = {.base = 0xc0000000ull,
			     .size = 16 * MIB,
			     .width = 1024,
			     .height = 768,
			     .stride = 4096};
	struct screen_info si;

	(void)state;
	memset(&si, 0xaa, sizeof(si));
	assert_int_equal(boot_screen_info(&fb, &si), 0);
	assert_int_equal(si.orig_video_isVGA, VIDEO_TYPE_VLFB);
	assert_int_equal(si.lfb_base, 0xc0000000u);
	assert_int_equal(si.ext_lfb_base, 0);
	assert_int_equal(si.capabilities, 0);
	assert_int_equal(si.lfb_size, 256); /* 64 KiB units */
	assert_int_equal(si.lfb_width, 1024);
	assert_int_equal(si.lfb_height, 768);
	assert_int_equal(si.lfb_depth, 32);
	assert_int_equal(si.lfb_linelength, 4096);
	assert_int_equal(si.red_size, 8);
	assert_int_equal(si.red_pos, 16);
	assert_int_equal(si.green_size, 8);
	assert_int_equal(si.green_pos, 8);
	assert_int_equal(si.blue_size, 8);
	assert_int_equal(si.blue_pos, 0);
	assert_int_equal(si.rsvd_size, 8);
	assert_int_equal(si.rsvd_pos, 24);
	/* No text mode and no VESA PM interface. */
	assert_int_equal(si.orig_video_lines, 0);
	assert_int_equal(si.orig_video_cols, 0);
	assert_int_equal(si.vesapm_seg, 0);

	/* Above 4 GiB: the high half and the 64-bit capability. */
	fb.base = 0x1234560000ull;
	assert_int_equal(boot_screen_info(&fb, &si), 0);
	assert_int_equal(si.lfb_base, 0x34560000u);
	assert_int_equal(si.ext_lfb_base, 0x12);
	assert_int_equal(si.capabilities, VIDEO_CAPABILITY_64BIT_BASE);
}

static void test_screen_info_rejects(void **state)
{
	const struct boot_fb ok = {.base = 0xc0000000ull,
				   .size = 16 * MIB,
				   .width = 1024,
				   .height = 768,
				   .stride = 4096};
	struct boot_fb fb;
	struct screen_info si;

	(void)state;
	memset(&si, 0x5a, sizeof(si));
#define REJECT(field, value)                                                                       \
	do {                                                                                       \
		fb = ok;                                                                           \
		fb.field = (value);                                                                \
		assert_int_equal(boot_screen_info(&fb, &si), -EINVAL);                             \
		assert_int_equal(si.orig_video_isVGA, 0x5a); /* untouched */                       \
	} while (0)
	REJECT(width, 0);
	REJECT(height, 0);
	REJECT(width, 8193);
	REJECT(height, 8193);
	REJECT(stride, 4095);  /* below width * 4 */
	REJECT(stride, 65536); /* lfb_linelength is 16 bits */
	REJECT(size, 0);
	REJECT(size, 16 * MIB + 4096);	/* not in 64 KiB units */
	REJECT(size, 2 * MIB);		/* height * stride does not fit */
	REJECT(size, 4ull << 30);	/* vesafb's 32-bit lfb_size * 65536 would wrap */
	REJECT(base, UINT64_MAX - MIB); /* base + size wraps */
	fb = ok;
	fb.width = 8192;
	fb.stride = 32768;
	fb.height = 512; /* 16 MiB exactly */
	assert_int_equal(boot_screen_info(&fb, &si), 0);
	fb.width = 16384;
	fb.stride = 65535;
	assert_int_equal(boot_screen_info(&fb, &si), -EINVAL);
	assert_int_equal(boot_screen_info(NULL, &si), -EINVAL);
#undef REJECT
}

/* boot_load puts screen_info in the zero page only when a framebuffer is given. */
static void test_load_screen_info(void **state)
{
	struct img_opts o = default_opts();
	struct img k = make_img(&o);
	struct boot_fb fb = {.base = 0xc1000000ull,
			     .size = 16 * MIB,
			     .width = 800,
			     .height = 600,
			     .stride = 3200};
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;

	(void)state;
	vm_init(&vm, 16 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	assert_true(all_zero(vm.ram + BOOT_ZERO_PAGE_ADDR, sizeof(struct screen_info)));
	cfg.fb = &fb;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	const struct boot_params *bp = zero_page(&vm);
	assert_int_equal(bp->screen_info.orig_video_isVGA, VIDEO_TYPE_VLFB);
	assert_int_equal(bp->screen_info.lfb_base, 0xc1000000u);
	assert_int_equal(bp->screen_info.lfb_width, 800);
	assert_int_equal(bp->screen_info.lfb_linelength, 3200);
	/* A framebuffer that cannot be described fails before guest RAM is touched. */
	memset(vm.ram + BOOT_ZERO_PAGE_ADDR, 0x77, 4096);
	fb.stride = 100;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), -EINVAL);
	assert_non_null(strstr(why, "framebuffer"));
	assert_int_equal(vm.ram[BOOT_ZERO_PAGE_ADDR], 0x77);
	vm_fini(&vm);
	free(k.buf);
}

static void test_load_header_copy_bounded(void **state)
{
	/* Protocol 2.13 (no acpi_rsdp_addr) with a header claiming to be longer than the area. */
	struct img_opts o = default_opts();
	o.version = 0x020d;
	o.hdr_len = 0xff; /* header claims to run to 0x301, past the zero page's header area */
	struct img k = make_img(&o);
	memset(k.buf + 0x26c, 0xee, 0x301 - 0x26c);
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;

	vm_init(&vm, 16 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.rsdp_addr = 0xe0000;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	const struct boot_params *bp = zero_page(&vm);
	assert_int_equal(bp->acpi_rsdp_addr, 0); /* protocol < 2.14 */
	/* Copied up to 0x290, never into edd_mbr_sig_buffer or the e820 table. */
	assert_int_equal(vm.ram[BOOT_ZERO_PAGE_ADDR + 0x28f], 0xee);
	assert_true(
		all_zero((const uint8_t *)bp->edd_mbr_sig_buffer, sizeof(bp->edd_mbr_sig_buffer)));
	assert_memory_equal(bp->e820_table, vm.e820, vm.nr_e820 * sizeof(vm.e820[0]));
	vm_fini(&vm);
	free(k.buf);
}

static void test_initrd_below_initrd_addr_max(void **state)
{
	struct img_opts o = default_opts();
	o.initrd_addr_max = 0x00ffffff; /* 16 MiB - 1 */
	struct img k = make_img(&o);
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;
	size_t len = MIB;
	uint8_t *initrd = calloc(1, len);

	assert_non_null(initrd);
	initrd[0] = 0x5a;
	initrd[len - 1] = 0xa5;
	vm_init(&vm, 64 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.initrd = initrd;
	cfg.initrd_len = len;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	assert_int_equal(ent.initrd_addr, 15 * MIB);
	assert_int_equal(vm.ram[15 * MIB], 0x5a);
	assert_int_equal(vm.ram[16 * MIB - 1], 0xa5);
	vm_fini(&vm);

	/* The kernel runs in [2 MiB, 4 MiB): 12 MiB is all there is below 16 MiB. */
	void *big = calloc(1, 13 * MIB);
	assert_non_null(big);
	vm_init(&vm, 64 * MIB);
	cfg = vm_cfg(&vm, &k);
	cfg.initrd = big;
	cfg.initrd_len = 12 * MIB;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	assert_int_equal(ent.initrd_addr, 4 * MIB);
	vm_fini(&vm);

	vm_init(&vm, 64 * MIB);
	cfg = vm_cfg(&vm, &k);
	cfg.initrd = big;
	cfg.initrd_len = 12 * MIB + 1;
	expect_load_fail(&vm, &cfg, -ENOMEM,
			 "initrd of 13 MiB does not fit below initrd_addr_max (0xffffff) in 64 MiB "
			 "of RAM");
	vm_fini(&vm);
	free(big);
	free(initrd);
	free(k.buf);
}

static void test_initrd_picks_highest_region(void **state)
{
	/* RAM [1 MiB, 32 MiB) and [60 MiB, 64 MiB) with a reserved gap between. */
	struct img_opts o = default_opts();
	struct img k = make_img(&o);
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;
	void *initrd = calloc(1, 8 * MIB);

	assert_non_null(initrd);
	vm_init(&vm, 64 * MIB);
	vm.nr_e820 = 2;
	vm.e820[vm.nr_e820++] = (struct e820_entry){MIB, 31 * MIB, E820_RAM};
	vm.e820[vm.nr_e820++] = (struct e820_entry){32 * MIB, 28 * MIB, E820_RESERVED};
	vm.e820[vm.nr_e820++] = (struct e820_entry){60 * MIB, 4 * MIB, E820_RAM};
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.initrd = initrd;
	cfg.initrd_len = MIB;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	assert_int_equal(ent.initrd_addr, 63 * MIB);
	/* Too big for the top region: the lower one, never across the gap. */
	cfg.initrd_len = 8 * MIB;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	assert_int_equal(ent.initrd_addr, 24 * MIB);
	vm_fini(&vm);
	free(initrd);
	free(k.buf);
}

static void test_initrd_too_large(void **state)
{
	struct img k = real_kernel();
	struct vm vm;
	size_t len = 200 * MIB;
	void *initrd = calloc(1, len); /* never touched: refused before copying */

	assert_non_null(initrd);
	vm_init(&vm, 256 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.initrd = initrd;
	cfg.initrd_len = len;
	expect_load_fail(&vm, &cfg, -ENOMEM,
			 "initrd of 200 MiB does not fit below initrd_addr_max (0x7fffffff) in 256 "
			 "MiB of RAM");
	vm_fini(&vm);
	free(initrd);
	free(k.buf);
}

static void test_initrd_empty_rejected(void **state)
{
	struct img_opts o = default_opts();
	struct img k = make_img(&o);
	struct vm vm;

	vm_init(&vm, 16 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.initrd = "";
	cfg.initrd_len = 0;
	expect_load_fail(&vm, &cfg, -EINVAL, "initrd is empty");
	vm_fini(&vm);
	free(k.buf);
}

/*
 * Archives after the first: end to end at 4-byte boundaries, zeros in
 * between even over dirty RAM, ramdisk_size covering them all, placed as
 * one; refused without the first, empty, too many, or too big together.
 */
static void test_initrd_more_archives(void **state)
{
	struct img_opts o = default_opts();
	struct img k = make_img(&o);
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;
	uint8_t a[4097], b[6], c[1000];

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	memset(c, 0x33, sizeof(c));
	vm_init(&vm, 64 * MIB);
	memset(vm.ram + 32 * MIB, 0xee, 32 * MIB); /* as after a reboot */
	const struct boot_blob more[] = {{b, sizeof(b)}, {c, sizeof(c)}};
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.initrd = a;
	cfg.initrd_len = sizeof(a);
	cfg.initrd_more = more;
	cfg.nr_initrd_more = 2;
	if (boot_load(&vm.gm, &cfg, &ent, &why))
		fail_msg("boot_load: %s", why);
	/* a at 0, b at 4100 (4097 rounded up), c at 4108 (4106 rounded up). */
	const uint64_t total = 4108 + sizeof(c);
	const struct boot_params *bp = zero_page(&vm);
	uint64_t ird = bp->hdr.ramdisk_image | ((uint64_t)bp->ext_ramdisk_image << 32);
	assert_int_equal(ird, ent.initrd_addr);
	assert_int_equal(bp->hdr.ramdisk_size, total);
	assert_int_equal(ird % 4096, 0);
	assert_true(ird + total <= 64 * MIB);
	assert_true(ird + total + 4096 > 64 * MIB);
	const uint8_t *g = vm.ram + ird;
	assert_memory_equal(g, a, sizeof(a));
	assert_memory_equal(g + 4097, "\0\0\0", 3);
	assert_memory_equal(g + 4100, b, sizeof(b));
	assert_memory_equal(g + 4106, "\0\0", 2);
	assert_memory_equal(g + 4108, c, sizeof(c));

	/* Aligned already: no gap. */
	cfg.initrd_len = 4096;
	cfg.nr_initrd_more = 1;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	bp = zero_page(&vm);
	assert_int_equal(bp->hdr.ramdisk_size, 4096 + sizeof(b));
	assert_memory_equal(vm.ram + ent.initrd_addr + 4096, b, sizeof(b));
	vm_fini(&vm);

	vm_init(&vm, 64 * MIB); /* the refusals write nothing */
	cfg = vm_cfg(&vm, &k);
	cfg.initrd_more = more;
	cfg.nr_initrd_more = 1;
	cfg.initrd = NULL;
	cfg.initrd_len = 0;
	expect_load_fail(&vm, &cfg, -EINVAL, "more initrd archives given without the first");
	cfg.initrd = a;
	cfg.initrd_len = sizeof(a);
	cfg.initrd_more = NULL;
	expect_load_fail(&vm, &cfg, -EINVAL, "more initrd archives given without the first");
	const struct boot_blob empty[] = {{b, sizeof(b)}, {c, 0}};
	cfg.initrd_more = empty;
	cfg.nr_initrd_more = 2;
	expect_load_fail(&vm, &cfg, -EINVAL, "initrd archive 3 is empty");
	const struct boot_blob many[BOOT_MAX_INITRD_MORE + 1] = {{b, 1}, {b, 1}, {b, 1}, {b, 1}};
	cfg.initrd_more = many;
	cfg.nr_initrd_more = BOOT_MAX_INITRD_MORE + 1;
	expect_load_fail(&vm, &cfg, -E2BIG, "4 more initrd archives, at most 3");
	/* Together too big for the RAM above the kernel, though each fits. */
	void *big = calloc(1, 41 * MIB);
	assert_non_null(big);
	const struct boot_blob half[] = {{big, 20 * MIB}};
	cfg.initrd = big;
	cfg.initrd_len = 41 * MIB;
	cfg.initrd_more = half;
	cfg.nr_initrd_more = 1;
	expect_load_fail(&vm, &cfg, -ENOMEM,
			 "initrd of 61 MiB does not fit below initrd_addr_max (0x7fffffff) in 64 "
			 "MiB of RAM");
	free(big);
	vm_fini(&vm);
	free(k.buf);
}

static void test_cmdline_too_long(void **state)
{
	struct img k = real_kernel();
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;
	struct bzimage_info info;
	assert_int_equal(bzimage_parse(k.buf, k.len, &info, &why), 0);
	char *cl = malloc(info.cmdline_size + 2);

	assert_non_null(cl);
	memset(cl, 'a', info.cmdline_size + 1);
	cl[info.cmdline_size + 1] = '\0';
	vm_init(&vm, 256 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.cmdline = cl;
	char msg[128];
	snprintf(msg, sizeof(msg),
		 "command line is %u bytes, the kernel accepts at most %u (cmdline_size)",
		 info.cmdline_size + 1, info.cmdline_size);
	expect_load_fail(&vm, &cfg, -E2BIG, msg);

	/* Exactly cmdline_size is fine, NUL included in guest memory. */
	cl[info.cmdline_size] = '\0';
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	assert_int_equal(strlen((const char *)vm.ram + BOOT_CMDLINE_ADDR), info.cmdline_size);
	vm_fini(&vm);
	free(cl);
	free(k.buf);
}

static void test_cmdline_beyond_hostel_area(void **state)
{
	/* A kernel that would take 1 MiB of command line still gets at most 64 KiB - 1. */
	struct img_opts o = default_opts();
	o.cmdline_size = 0x100000;
	struct img k = make_img(&o);
	struct vm vm;
	char *cl = malloc(BOOT_CMDLINE_MAX + 1);

	assert_non_null(cl);
	memset(cl, 'b', BOOT_CMDLINE_MAX);
	cl[BOOT_CMDLINE_MAX] = '\0';
	vm_init(&vm, 16 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.cmdline = cl;
	expect_load_fail(&vm, &cfg, -E2BIG,
			 "command line is 65536 bytes, hostel has room for at most 65535");
	vm_fini(&vm);
	free(cl);
	free(k.buf);
}

static void test_ram_too_small(void **state)
{
	struct img k = real_kernel();
	struct vm vm;

	/* Debian's kernel decompresses at 16 MiB and needs ~64 MiB from there. */
	vm_init(&vm, 64 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	expect_load_fail(&vm, &cfg, -ENOMEM, "64 MiB of RAM is too small for this kernel");
	vm_fini(&vm);
	free(k.buf);

	/* Synthetic: runs at [2 MiB, 4 MiB); 3 MiB of RAM is not enough, 4 MiB is. */
	struct img_opts o = default_opts();
	k = make_img(&o);
	vm_init(&vm, 3 * MIB);
	cfg = vm_cfg(&vm, &k);
	expect_load_fail(&vm, &cfg, -ENOMEM,
			 "3 MiB of RAM is too small for this kernel: it needs contiguous RAM from "
			 "1 MiB up to 4 MiB (init_size 2 MiB at 2 MiB)");
	vm_fini(&vm);
	vm_init(&vm, 4 * MIB);
	cfg = vm_cfg(&vm, &k);
	struct boot_entry ent;
	const char *why = NULL;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	vm_fini(&vm);
	free(k.buf);
}

static void test_run_address_follows_alignment(void **state)
{
	/* 16 MiB alignment with pref_address 1 MiB: it runs at 16 MiB, not 1 MiB. */
	struct img_opts o = default_opts();
	o.kernel_alignment = 16 * MIB;
	o.pref_address = MIB;
	o.init_size = 4 * MIB;
	struct img k = make_img(&o);
	struct vm vm;

	vm_init(&vm, 19 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	expect_load_fail(&vm, &cfg, -ENOMEM, "up to 20 MiB (init_size 4 MiB at 16 MiB)");
	vm_fini(&vm);
	free(k.buf);

	/* Aligned 1 MiB is 2 MiB, but a relocatable kernel never runs below pref_address. */
	o = default_opts();
	o.pref_address = 8 * MIB;
	k = make_img(&o);
	vm_init(&vm, 9 * MIB);
	cfg = vm_cfg(&vm, &k);
	expect_load_fail(&vm, &cfg, -ENOMEM, "up to 10 MiB (init_size 2 MiB at 8 MiB)");
	vm_fini(&vm);
	free(k.buf);

	/* A non-relocatable kernel runs at pref_address. */
	o = default_opts();
	o.relocatable = 0;
	o.pref_address = 8 * MIB;
	k = make_img(&o);
	vm_init(&vm, 9 * MIB);
	cfg = vm_cfg(&vm, &k);
	expect_load_fail(&vm, &cfg, -ENOMEM, "up to 10 MiB (init_size 2 MiB at 8 MiB)");
	vm_fini(&vm);
	free(k.buf);

	/* A huge pref_address does not wrap. */
	o = default_opts();
	o.relocatable = 0;
	o.pref_address = UINT64_MAX - 4096;
	k = make_img(&o);
	vm_init(&vm, 16 * MIB);
	cfg = vm_cfg(&vm, &k);
	expect_load_fail(&vm, &cfg, -ENOMEM, "16 MiB of RAM is too small for this kernel");
	vm_fini(&vm);
	free(k.buf);
}

static void test_e820_without_backing(void **state)
{
	/* The e820 map claims 64 MiB, gmem has 16: refused, nothing written. */
	struct img_opts o = default_opts();
	struct img k = make_img(&o);
	struct vm vm;
	size_t len = 4096;
	uint8_t initrd[4096] = {1};

	vm_init(&vm, 16 * MIB);
	vm.nr_e820 = boot_e820_build(64 * MIB, 0, vm.e820, BOOT_E820_MAX);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.initrd = initrd;
	cfg.initrd_len = len;
	expect_load_fail(&vm, &cfg, -EFAULT,
			 "guest memory has no RAM at [0x3fff000, 0x4000000) for the initrd");
	vm_fini(&vm);
	free(k.buf);
}

static void test_bad_configs(void **state)
{
	struct img_opts o = default_opts();
	struct img k = make_img(&o);
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;

	vm_init(&vm, 16 * MIB);
	struct boot_config cfg = vm_cfg(&vm, &k);
	cfg.nr_e820 = 0;
	expect_load_fail(&vm, &cfg, -EINVAL, "no e820 memory map given");
	cfg = vm_cfg(&vm, &k);
	cfg.nr_e820 = BOOT_E820_MAX + 1;
	expect_load_fail(&vm, &cfg, -E2BIG,
			 "e820 map has 129 entries, the zero page holds at most 128");
	cfg = vm_cfg(&vm, &k);
	cfg.initrd_len = 5;
	expect_load_fail(&vm, &cfg, -EINVAL, "initrd length 5 given without initrd data");
	/* A bad kernel fails with the parser's reason. */
	cfg = vm_cfg(&vm, &k);
	cfg.kernel_len = 0;
	expect_load_fail(&vm, &cfg, -EINVAL, "file is empty");
	assert_int_equal(boot_load(NULL, &cfg, &ent, &why), -EINVAL);

	/* 128 entries fit exactly. */
	cfg = vm_cfg(&vm, &k);
	for (unsigned int i = vm.nr_e820; i < BOOT_E820_MAX; i++)
		vm.e820[i] = (struct e820_entry){
			.addr = 0xfec00000ULL + i * 0x1000, .size = 0x1000, .type = E820_RESERVED};
	cfg.nr_e820 = BOOT_E820_MAX;
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), 0);
	assert_int_equal(zero_page(&vm)->e820_entries, BOOT_E820_MAX);
	assert_memory_equal(zero_page(&vm)->e820_table, vm.e820,
			    sizeof(zero_page(&vm)->e820_table));
	vm_fini(&vm);
	free(k.buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reject_empty),
		cmocka_unit_test(test_reject_too_big),
		cmocka_unit_test(test_reject_short),
		cmocka_unit_test(test_reject_no_boot_flag),
		cmocka_unit_test(test_reject_no_hdrs),
		cmocka_unit_test(test_reject_old_protocol),
		cmocka_unit_test(test_reject_zimage),
		cmocka_unit_test(test_reject_setup_truncated),
		cmocka_unit_test(test_setup_sects_zero_means_four),
		cmocka_unit_test(test_reject_syssize_truncated),
		cmocka_unit_test(test_reject_no_kernel),
		cmocka_unit_test(test_reject_short_header),
		cmocka_unit_test(test_fields_gated_by_protocol),
		cmocka_unit_test(test_reject_bad_alignment),
		cmocka_unit_test(test_parse_synthetic),
		cmocka_unit_test(test_version_string_bounds),
		cmocka_unit_test(test_parse_real_kernel),
		cmocka_unit_test(test_e820_128m),
		cmocka_unit_test(test_e820_1g),
		cmocka_unit_test(test_e820_split_3_5g),
		cmocka_unit_test(test_e820_limits),
		cmocka_unit_test(test_load_real_kernel),
		cmocka_unit_test(test_load_no_initrd),
		cmocka_unit_test(test_load_header_copy_bounded),
		cmocka_unit_test(test_initrd_below_initrd_addr_max),
		cmocka_unit_test(test_initrd_picks_highest_region),
		cmocka_unit_test(test_initrd_too_large),
		cmocka_unit_test(test_initrd_empty_rejected),
		cmocka_unit_test(test_initrd_more_archives),
		cmocka_unit_test(test_cmdline_too_long),
		cmocka_unit_test(test_cmdline_beyond_hostel_area),
		cmocka_unit_test(test_ram_too_small),
		cmocka_unit_test(test_run_address_follows_alignment),
		cmocka_unit_test(test_e820_without_backing),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_screen_info),
		cmocka_unit_test(test_screen_info_rejects),
		cmocka_unit_test(test_load_screen_info),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
