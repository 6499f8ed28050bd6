// SPDX-License-Identifier: MIT
/*
 * Unpacked kernels: ELF vmlinux validation (one case per reject), payload
 * detection and decompression (xz, gzip, zstd payloads made here with the
 * same libraries), the 64-bit load into fake guest RAM, the unpacked-kernel
 * cache, and the real Debian kernel unpacked end to end.
 */
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <lzma.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>
#include "boot/boot.h"
#include "boot/kcache.h"
#include "boot/vmlinux.h"

#define MIB (1ULL << 20)

/* ---- synthetic ELF kernels ---------------------------------------------- */

struct seg {
	uint32_t type;
	uint64_t paddr, filesz, memsz;
};

struct elf {
	uint8_t *buf;
	size_t len;
};

/* An ELF64 x86-64 executable: the segments' bytes follow the headers. */
static struct elf make_elf(const struct seg *segs, unsigned int n, uint64_t entry)
{
	size_t hdrs = sizeof(Elf64_Ehdr) + n * sizeof(Elf64_Phdr), len = hdrs;
	for (unsigned int i = 0; i < n; i++)
		len += segs[i].filesz;
	struct elf e = {.buf = calloc(1, len), .len = len};
	assert_non_null(e.buf);

	Elf64_Ehdr eh = {0};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)n;
	memcpy(e.buf, &eh, sizeof(eh));
	uint64_t off = hdrs;
	for (unsigned int i = 0; i < n; i++) {
		Elf64_Phdr ph = {
			.p_type = segs[i].type,
			.p_flags = PF_R | PF_X,
			.p_offset = off,
			.p_vaddr = segs[i].paddr + KERNEL_START_MAP,
			.p_paddr = segs[i].paddr,
			.p_filesz = segs[i].filesz,
			.p_memsz = segs[i].memsz,
			.p_align = 4096,
		};
		memcpy(e.buf + sizeof(eh) + i * sizeof(ph), &ph, sizeof(ph));
		for (uint64_t j = 0; j < segs[i].filesz; j++)
			e.buf[off + j] = (uint8_t)(i * 31 + j * 7 + 1);
		off += segs[i].filesz;
	}
	return e;
}

/* The shape of a vmlinux: text+data at 16 MiB (entry there), then bss. */
static struct elf kernel_elf(void)
{
	const struct seg s[] = {
		{PT_LOAD, 0x1000000, 0x3000, 0x3000},
		{PT_NOTE, 0, 0, 0},
		{PT_LOAD, 0x1200000, 0x1000, 0x5000},
	};
	return make_elf(s, 3, KERNEL_START_MAP + 0x1000000);
}

static Elf64_Ehdr *ehdr(struct elf *e)
{
	return (Elf64_Ehdr *)(void *)e->buf; /* calloc: aligned */
}

static Elf64_Phdr *phdr(struct elf *e, unsigned int i)
{
	return (Elf64_Phdr *)(void *)(e->buf + sizeof(Elf64_Ehdr)) + i;
}

static void expect_elf_reject(const struct elf *e, const char *msg)
{
	struct vmlinux_info vi;
	const char *why = NULL;

	assert_int_equal(vmlinux_parse(e->buf, e->len, &vi, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, msg))
		fail_msg("reason \"%s\" does not contain \"%s\"", why, msg);
	assert_null(strchr(why, '\n'));
}

static void test_parse_kernel_shape(void **state)
{
	struct elf e = kernel_elf();
	struct vmlinux_info vi;
	const char *why = NULL;

	if (vmlinux_parse(e.buf, e.len, &vi, &why))
		fail_msg("rejected: %s", why);
	assert_int_equal(vi.nr_segs, 2);
	assert_int_equal(vi.entry, 0x1000000); /* virtual entry made physical */
	assert_int_equal(vi.lo, 0x1000000);
	assert_int_equal(vi.hi, 0x1205000);
	assert_int_equal(vi.segs[1].paddr, 0x1200000);
	assert_int_equal(vi.segs[1].filesz, 0x1000);
	assert_int_equal(vi.segs[1].memsz, 0x5000);
	/* A physical entry is taken as is. */
	ehdr(&e)->e_entry = 0x1000010;
	assert_int_equal(vmlinux_parse(e.buf, e.len, &vi, &why), 0);
	assert_int_equal(vi.entry, 0x1000010);
	free(e.buf);
}

static void test_parse_rejects(void **state)
{
	struct elf e = kernel_elf();
	uint8_t save[sizeof(Elf64_Ehdr) + 3 * sizeof(Elf64_Phdr)];
	memcpy(save, e.buf, sizeof(save));
#define RESET() memcpy(e.buf, save, sizeof(save))

	struct elf shortf = {e.buf, 20};
	expect_elf_reject(&shortf, "not an ELF");
	e.buf[0] = 'M';
	expect_elf_reject(&e, "not an ELF");
	RESET();
	e.buf[EI_CLASS] = ELFCLASS32;
	expect_elf_reject(&e, "64-bit little-endian");
	RESET();
	ehdr(&e)->e_machine = EM_386;
	expect_elf_reject(&e, "not x86-64");
	RESET();
	ehdr(&e)->e_type = ET_DYN;
	expect_elf_reject(&e, "not an executable");
	RESET();
	ehdr(&e)->e_phentsize = 32;
	expect_elf_reject(&e, "program headers of 32 bytes");
	RESET();
	ehdr(&e)->e_phoff = e.len - sizeof(Elf64_Phdr);
	expect_elf_reject(&e, "past the end");
	RESET();
	ehdr(&e)->e_phoff = UINT64_MAX - 8;
	expect_elf_reject(&e, "past the end");
	RESET();
	phdr(&e, 0)->p_filesz = 0x4000;
	expect_elf_reject(&e, "file size above memory size");
	RESET();
	phdr(&e, 2)->p_offset = e.len - 10;
	expect_elf_reject(&e, "runs past the end");
	RESET();
	phdr(&e, 2)->p_offset = UINT64_MAX;
	expect_elf_reject(&e, "runs past the end");
	RESET();
	phdr(&e, 0)->p_paddr = 0x80000;
	expect_elf_reject(&e, "outside [1 MiB, 3 GiB)");
	RESET();
	phdr(&e, 2)->p_paddr = 0xbfffe000;
	expect_elf_reject(&e, "outside [1 MiB, 3 GiB)");
	RESET();
	phdr(&e, 2)->p_memsz = UINT64_MAX;
	phdr(&e, 2)->p_filesz = 0;
	expect_elf_reject(&e, "outside [1 MiB, 3 GiB)");
	RESET();
	phdr(&e, 2)->p_paddr = 0x1002000;
	expect_elf_reject(&e, "overlap");
	RESET();
	phdr(&e, 0)->p_type = PT_NOTE;
	phdr(&e, 2)->p_type = PT_NOTE;
	expect_elf_reject(&e, "no loadable segment");
	RESET();
	ehdr(&e)->e_entry = 0x1203000; /* in the bss: not loaded from the file */
	expect_elf_reject(&e, "entry point");
	RESET();
	ehdr(&e)->e_entry = 0x5000;
	expect_elf_reject(&e, "entry point");
#undef RESET
	free(e.buf);

	struct seg many[VMLINUX_MAX_SEGS + 1];
	for (unsigned int i = 0; i <= VMLINUX_MAX_SEGS; i++)
		many[i] = (struct seg){PT_LOAD, 0x1000000 + i * 0x1000, 0x10, 0x10};
	struct elf m = make_elf(many, VMLINUX_MAX_SEGS + 1, 0x1000000);
	expect_elf_reject(&m, "more than 16 loadable segments");
	free(m.buf);
}

/* ---- payloads ------------------------------------------------------------ */

static void append_size(uint8_t *p, size_t *n, size_t size)
{
	for (int i = 0; i < 4; i++)
		p[(*n)++] = (uint8_t)(size >> (8 * i));
}

/* @data compressed as the kernel build does it: stream, then the size. */
static uint8_t *compress_as(enum kcomp c, const uint8_t *data, size_t len, size_t *out_len)
{
	size_t cap = len + len / 2 + 4096, n = 0;
	uint8_t *o = malloc(cap);
	assert_non_null(o);
	if (c == KCOMP_XZ) {
		lzma_filter f[] = {{LZMA_FILTER_X86, NULL},
				   {LZMA_FILTER_LZMA2, NULL},
				   {LZMA_VLI_UNKNOWN, NULL}};
		lzma_options_lzma opt;
		assert_false(lzma_lzma_preset(&opt, 6));
		f[1].options = &opt;
		assert_int_equal(
			lzma_stream_buffer_encode(f, LZMA_CHECK_CRC32, NULL, data, len, o, &n, cap),
			LZMA_OK);
	} else if (c == KCOMP_GZIP) {
		z_stream s = {0};
		assert_int_equal(
			deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			Z_OK);
		s.next_in = (Bytef *)(uintptr_t)data;
		s.avail_in = (uInt)len;
		s.next_out = o;
		s.avail_out = (uInt)cap;
		assert_int_equal(deflate(&s, Z_FINISH), Z_STREAM_END);
		n = s.total_out;
		deflateEnd(&s);
	} else {
		/* With a content checksum, as the zstd command the kernel uses. */
		ZSTD_CCtx *z = ZSTD_createCCtx();
		assert_non_null(z);
		assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 19)));
		assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1)));
		n = ZSTD_compress2(z, o, cap, data, len);
		assert_false(ZSTD_isError(n));
		ZSTD_freeCCtx(z);
	}
	append_size(o, &n, len);
	*out_len = n;
	return o;
}

static void test_detect(void **state)
{
	static const uint8_t gz[] = {0x1f, 0x8b, 8}, xz[] = {0xfd, '7', 'z', 'X', 'Z', 0},
			     zs[] = {0x28, 0xb5, 0x2f, 0xfd}, bz[] = {'B', 'Z', 'h'},
			     elf[] = {0x7f, 'E', 'L', 'F'};
	assert_int_equal(kcomp_detect(gz, sizeof(gz)), KCOMP_GZIP);
	assert_int_equal(kcomp_detect(xz, sizeof(xz)), KCOMP_XZ);
	assert_int_equal(kcomp_detect(zs, sizeof(zs)), KCOMP_ZSTD);
	assert_int_equal(kcomp_detect(bz, sizeof(bz)), KCOMP_OTHER);
	assert_int_equal(kcomp_detect(elf, sizeof(elf)), KCOMP_NONE);
	assert_int_equal(kcomp_detect(xz, 3), KCOMP_OTHER);
	assert_int_equal(kcomp_detect(NULL, 0), KCOMP_OTHER);
	assert_string_equal(kcomp_name(KCOMP_XZ), "xz");
}

static void roundtrip(enum kcomp c)
{
	struct elf e = kernel_elf();
	size_t plen, olen;
	uint8_t *p = compress_as(c, e.buf, e.len, &plen), *o;
	const char *why = NULL;

	assert_int_equal(kcomp_detect(p, plen), c);
	if (vmlinux_unpack(p, plen, &o, &olen, &why))
		fail_msg("%s: %s", kcomp_name(c), why);
	assert_int_equal(olen, e.len);
	assert_memory_equal(o, e.buf, e.len);
	vmlinux_free(o, olen);

	/* A corrupted stream or a wrong size is caught, never half-used. */
	p[plen / 2] ^= 0x55;
	assert_int_equal(vmlinux_unpack(p, plen, &o, &olen, &why), -EINVAL);
	assert_null(o);
	p[plen / 2] ^= 0x55;
	p[plen - 4]++;
	assert_int_equal(vmlinux_unpack(p, plen, &o, &olen, &why), -EINVAL);
	assert_non_null(strstr(why, "corrupt"));
	p[plen - 4] -= 2;
	assert_int_equal(vmlinux_unpack(p, plen, &o, &olen, &why), -EINVAL);
	free(p);
	free(e.buf);
}

static void test_unpack_xz(void **state)
{
	roundtrip(KCOMP_XZ);
}

static void test_unpack_gzip(void **state)
{
	roundtrip(KCOMP_GZIP);
}

static void test_unpack_zstd(void **state)
{
	roundtrip(KCOMP_ZSTD);
}

static void test_unpack_rejects(void **state)
{
	uint8_t bz[64] = {'B', 'Z', 'h', '9'}, *o = (uint8_t *)1;
	size_t olen = 1;
	const char *why = NULL;

	assert_int_equal(vmlinux_unpack(bz, sizeof(bz), &o, &olen, &why), -ENOTSUP);
	assert_null(o);
	assert_non_null(strstr(why, "other"));
	uint8_t xz[16] = {0xfd, '7', 'z', 'X', 'Z', 0};
	xz[12] = xz[13] = xz[14] = 0xff;
	xz[15] = 0x7f; /* says 2 GiB */
	assert_int_equal(vmlinux_unpack(xz, sizeof(xz), &o, &olen, &why), -E2BIG);
	memset(xz + 12, 0, 4);
	assert_int_equal(vmlinux_unpack(xz, sizeof(xz), &o, &olen, &why), -EINVAL);
	assert_int_equal(vmlinux_unpack(xz, 6, &o, &olen, &why), -EINVAL);
}

/* ---- loading ------------------------------------------------------------- */

struct vm {
	struct gmem gm;
	uint8_t *ram;
	struct e820_entry e820[BOOT_E820_MAX];
	unsigned int nr_e820;
};

static void vm_init(struct vm *vm, uint64_t size)
{
	memset(vm, 0, sizeof(*vm));
	vm->ram = calloc(1, size);
	assert_non_null(vm->ram);
	assert_int_equal(gmem_add(&vm->gm, 0, size, vm->ram), 0);
	vm->nr_e820 = boot_e820_build(size, 0, vm->e820, BOOT_E820_MAX);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static void test_load_bare_elf(void **state)
{
	struct elf e = kernel_elf();
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;
	static uint8_t initrd[8192];

	vm_init(&vm, 64 * MIB);
	memset(vm.ram + 0x1200000, 0xaa, 0x5000); /* the bss must come out zeroed */
	struct boot_config cfg = {
		.kernel = e.buf,
		.kernel_len = e.len,
		.initrd = initrd,
		.initrd_len = sizeof(initrd),
		.cmdline = "console=ttyS0",
		.e820 = vm.e820,
		.nr_e820 = vm.nr_e820,
		.rsdp_addr = 0xe0000,
	};
	if (boot_load(&vm.gm, &cfg, &ent, &why))
		fail_msg("boot_load: %s", why);
	assert_true(ent.long_mode);
	assert_int_equal(ent.rip, 0x1000000);
	assert_int_equal(ent.cr3, BOOT_PGTABLE_ADDR);
	assert_int_equal(ent.esi, BOOT_ZERO_PAGE_ADDR);
	/* Segments at their physical addresses, the bss zeroed. */
	assert_memory_equal(vm.ram + 0x1000000, e.buf + le64((uint8_t *)&phdr(&e, 0)->p_offset),
			    0x3000);
	assert_memory_equal(vm.ram + 0x1200000, e.buf + phdr(&e, 2)->p_offset, 0x1000);
	for (size_t i = 0x1000; i < 0x5000; i++)
		assert_int_equal(vm.ram[0x1200000 + i], 0);
	/* A 64-bit code segment at 0x10, flat data at 0x18. */
	assert_int_equal(le64(vm.ram + BOOT_GDT_ADDR + 0x10), 0x00af9b000000ffffULL);
	assert_int_equal(le64(vm.ram + BOOT_GDT_ADDR + 0x18), 0x00cf93000000ffffULL);
	/* Identity map: PML4[0] -> PDPT, PDPT[i] -> PD i, 2 MiB pages. */
	const uint8_t *pt = vm.ram + BOOT_PGTABLE_ADDR;
	assert_int_equal(le64(pt) & ~0xfffULL, BOOT_PGTABLE_ADDR + 0x1000);
	assert_int_equal(le64(pt + 8), 0);
	for (unsigned int i = 0; i < 4; i++)
		assert_int_equal(le64(pt + 0x1000 + i * 8) & ~0xfffULL,
				 BOOT_PGTABLE_ADDR + 0x2000 + i * 0x1000);
	assert_int_equal(le64(pt + 0x2000), 0x83);
	assert_int_equal(le64(pt + 0x2000 + 8 * 8), 8 * 2 * MIB | 0x83);
	assert_int_equal(le64(pt + 0x5000 + 511 * 8), (4ULL << 30) - 2 * MIB + 0x83);
	/* A zero page that describes the kernel as a current bzImage would. */
	const struct boot_params *bp = (const void *)(vm.ram + BOOT_ZERO_PAGE_ADDR);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_memory_equal(&bp->hdr.header, "HdrS", 4);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR);
	assert_string_equal((const char *)vm.ram + BOOT_CMDLINE_ADDR, "console=ttyS0");
	assert_int_equal(bp->acpi_rsdp_addr, 0xe0000);
	assert_int_equal(bp->hdr.ramdisk_size, sizeof(initrd));
	assert_true(bp->hdr.ramdisk_image >= 0x1205000);
	assert_int_equal(bp->e820_entries, vm.nr_e820);
	free(vm.ram);
	free(e.buf);
}

static void test_load_elf_too_little_ram(void **state)
{
	struct elf e = kernel_elf();
	struct vm vm;
	struct boot_entry ent;
	const char *why = NULL;

	vm_init(&vm, 17 * MIB); /* the bss at 18 MiB does not fit */
	struct boot_config cfg = {
		.kernel = e.buf, .kernel_len = e.len, .e820 = vm.e820, .nr_e820 = vm.nr_e820};
	assert_int_equal(boot_load(&vm.gm, &cfg, &ent, &why), -ENOMEM);
	assert_non_null(strstr(why, "too small"));
	for (size_t i = 0; i < 17 * MIB; i++)
		if (vm.ram[i])
			fail_msg("guest RAM written at 0x%zx after a failed load", i);
	free(vm.ram);
	free(e.buf);
}

/* ---- the cache ----------------------------------------------------------- */

/* A bzImage whose payload is @payload: setup of 5 sectors, then the payload. */
static struct elf make_bzimage(const uint8_t *payload, size_t plen)
{
	size_t setup = 5 * 512;
	size_t padded = (plen + 15) & ~(size_t)15; /* syssize counts 16-byte units */
	struct elf im = {.buf = calloc(1, setup + padded), .len = setup + padded};
	struct setup_header h = {0};

	assert_non_null(im.buf);
	h.setup_sects = 4;
	h.syssize = (uint32_t)((plen + 15) / 16);
	h.boot_flag = 0xaa55;
	h.jump = (uint16_t)(0xeb | (0x6a << 8));
	memcpy(&h.header, "HdrS", 4);
	h.version = 0x020f;
	h.loadflags = LOADED_HIGH;
	h.code32_start = 0x100000;
	h.initrd_addr_max = 0x7fffffff;
	h.kernel_alignment = 0x200000;
	h.relocatable_kernel = 1;
	h.cmdline_size = 2047;
	h.pref_address = 0x1000000;
	h.init_size = 32 * MIB;
	h.payload_offset = 0;
	h.payload_length = (uint32_t)plen;
	memcpy(im.buf + 0x1f1, &h, sizeof(h));
	memcpy(im.buf + setup, payload, plen);
	return im;
}

static char cache_dir[64];

static int cache_setup(void **state)
{
	snprintf(cache_dir, sizeof(cache_dir), "/tmp/hostel-kcache.XXXXXX");
	assert_non_null(mkdtemp(cache_dir));
	return 0;
}

static int cache_teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache_dir);
	return system(cmd);
}

static unsigned int count_entries(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "exit $(ls -A '%s' 2>/dev/null | wc -l)", dir);
	return (unsigned int)WEXITSTATUS(system(cmd));
}

static void test_cache_miss_hit_repair(void **state)
{
	struct elf e = kernel_elf();
	size_t plen;
	uint8_t *p = compress_as(KCOMP_XZ, e.buf, e.len, &plen);
	struct elf bz = make_bzimage(p, plen);
	struct kimage k = KIMAGE_INIT;
	const char *why = NULL;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/a/b", cache_dir); /* created on demand */
	if (kcache_get(dir, bz.buf, bz.len, &k, &why))
		fail_msg("miss: %s", why);
	assert_true(k.stored);
	assert_false(k.from_cache);
	assert_int_equal(k.comp, KCOMP_XZ);
	assert_int_equal(k.len, e.len);
	assert_memory_equal(k.data, e.buf, e.len);
	assert_true(k.fd >= 0); /* loaded from the file just written */
	kcache_put(&k);
	assert_int_equal(count_entries(dir), 1);

	assert_int_equal(kcache_get(dir, bz.buf, bz.len, &k, &why), 0);
	assert_true(k.from_cache);
	assert_false(k.stored);
	assert_memory_equal(k.data, e.buf, e.len);
	kcache_put(&k);

	/* A damaged entry is not used: it is unpacked again and replaced. */
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "f=$(ls '%s'/vmlinux-*) && printf JUNK | dd of=\"$f\" conv=notrunc 2>/dev/null",
		 dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(kcache_get(dir, bz.buf, bz.len, &k, &why), 0);
	assert_false(k.from_cache);
	assert_true(k.stored);
	assert_memory_equal(k.data, e.buf, e.len);
	kcache_put(&k);
	assert_int_equal(kcache_get(dir, bz.buf, bz.len, &k, &why), 0);
	assert_true(k.from_cache);
	kcache_put(&k);
	assert_int_equal(count_entries(dir), 1); /* no temporary files left */

	/* A different kernel gets its own entry. */
	e.buf[e.len - 1] ^= 1;
	uint8_t *p2 = compress_as(KCOMP_XZ, e.buf, e.len, &plen);
	struct elf bz2 = make_bzimage(p2, plen);
	assert_int_equal(kcache_get(dir, bz2.buf, bz2.len, &k, &why), 0);
	assert_false(k.from_cache);
	assert_memory_equal(k.data, e.buf, e.len);
	kcache_put(&k);
	assert_int_equal(count_entries(dir), 2);
	free(p);
	free(p2);
	free(bz.buf);
	free(bz2.buf);
	free(e.buf);
}

static void test_cache_unwritable_and_absent(void **state)
{
	struct elf e = kernel_elf();
	size_t plen;
	uint8_t *p = compress_as(KCOMP_GZIP, e.buf, e.len, &plen);
	struct elf bz = make_bzimage(p, plen);
	struct kimage k = KIMAGE_INIT;
	const char *why = NULL;
	char file[128];

	/* The cache "directory" is a file: unpacked in memory all the same. */
	snprintf(file, sizeof(file), "%s/not-a-dir", cache_dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(kcache_get(file, bz.buf, bz.len, &k, &why), 0);
	assert_false(k.stored);
	assert_false(k.from_cache);
	assert_memory_equal(k.data, e.buf, e.len);
	kcache_put(&k);
	assert_int_equal(kcache_get(NULL, bz.buf, bz.len, &k, &why), 0);
	assert_memory_equal(k.data, e.buf, e.len);
	kcache_put(&k);

	/* Not a bzImage, or a payload hostel does not unpack: -ENOTSUP. */
	assert_int_equal(kcache_get(NULL, e.buf, e.len, &k, &why), -ENOTSUP);
	memcpy(bz.buf + 5 * 512, "BZh9", 4);
	assert_int_equal(kcache_get(NULL, bz.buf, bz.len, &k, &why), -ENOTSUP);
	/* A payload that unpacks to something that is not a kernel: -EINVAL. */
	static const uint8_t junk[4096] = {1, 2, 3};
	uint8_t *pj = compress_as(KCOMP_ZSTD, junk, sizeof(junk), &plen);
	struct elf bj = make_bzimage(pj, plen);
	assert_int_equal(kcache_get(cache_dir, bj.buf, bj.len, &k, &why), -EINVAL);
	assert_non_null(strstr(why, "not an ELF"));
	free(pj);
	free(bj.buf);
	free(p);
	free(bz.buf);
	free(e.buf);
}

/*
 * The cache file is written sparse (its zero blocks are holes) and, into RAM
 * known to be zero, the loader copies only the file's data: the holes and
 * the bss are not written. Into RAM that is not known to be zero, every byte
 * of every segment is.
 */
static void test_cache_sparse_load(void **state)
{
	const struct seg segs[] = {
		{PT_LOAD, 0x1000000, 0x8000, 0x8000},
		{PT_LOAD, 0x1200000, 0x6000, 0x9000},
	};
	struct elf e = make_elf(segs, 2, KERNEL_START_MAP + 0x1000000);
	memset(e.buf + 0x2000, 0, 0x3000);	   /* three whole blocks in segment 0 */
	memset(e.buf + 0xa000, 0, e.len - 0xa000); /* segment 1's tail, the file's end */
	size_t plen;
	uint8_t *p = compress_as(KCOMP_ZSTD, e.buf, e.len, &plen);
	struct elf bz = make_bzimage(p, plen);
	struct kimage k = KIMAGE_INIT;
	const char *why = NULL;
	char dir[128];

	snprintf(dir, sizeof(dir), "%s/sparse", cache_dir);
	if (kcache_get(dir, bz.buf, bz.len, &k, &why))
		fail_msg("miss: %s", why);
	assert_true(k.stored);
	assert_true(k.fd >= 0);
	assert_memory_equal(k.data, e.buf, e.len);
	struct stat st;
	assert_int_equal(fstat(k.fd, &st), 0);
	assert_int_equal(st.st_size, e.len); /* the trailing hole is in the size */
	assert_int_equal(lseek(k.fd, 0, SEEK_HOLE), 0x2000);
	assert_int_equal(lseek(k.fd, 0x2000, SEEK_DATA), 0x5000);
	assert_int_equal(lseek(k.fd, 0x5000, SEEK_HOLE), 0xa000);
	assert_int_equal(lseek(k.fd, 0xa000, SEEK_DATA), -1);

	const uint64_t off0 = phdr(&e, 0)->p_offset, off1 = phdr(&e, 1)->p_offset;
	for (int zeroed = 1; zeroed >= 0; zeroed--) {
		struct vm vm;
		struct boot_entry ent;
		vm_init(&vm, 64 * MIB);
		/* Marks where the kernel's zeros go: in a hole of segment 0 and
		 * in segment 1's file tail and bss. */
		uint8_t *hole0 = vm.ram + 0x1000000 + (0x3000 - off0);
		uint8_t *tail1 = vm.ram + 0x1200000 + (0xb000 - off1);
		uint8_t *bss1 = vm.ram + 0x1200000 + 0x7000;
		if (!zeroed)
			memset(vm.ram + 0x1000000, 0xaa, 0x300000);
		memset(hole0, 0x5a, 0x1000);
		memset(tail1, 0x5a, 0x1000);
		memset(bss1, 0x5a, 0x1000);
		struct boot_config cfg = {
			.kernel = bz.buf,
			.kernel_len = bz.len,
			.cmdline = "console=ttyS0",
			.e820 = vm.e820,
			.nr_e820 = vm.nr_e820,
			.vmlinux = k.data,
			.vmlinux_len = k.len,
			.vmlinux_from_fd = true,
			.vmlinux_fd = k.fd,
			.ram_zeroed = zeroed,
		};
		if (boot_load(&vm.gm, &cfg, &ent, &why))
			fail_msg("boot_load: %s", why);
		assert_int_equal(ent.rip, 0x1000000);
		for (uint64_t i = 0; i < 0x8000; i++) {
			uint8_t *g = vm.ram + 0x1000000 + i;
			uint8_t want =
				zeroed && g >= hole0 && g < hole0 + 0x1000 ? 0x5a : e.buf[off0 + i];
			if (*g != want)
				fail_msg("zeroed %d: segment 0 byte 0x%llx is 0x%02x, not 0x%02x",
					 zeroed, (unsigned long long)i, *g, want);
		}
		for (uint64_t i = 0; i < 0x9000; i++) {
			uint8_t *g = vm.ram + 0x1200000 + i;
			bool marked = (g >= tail1 && g < tail1 + 0x1000) ||
				      (g >= bss1 && g < bss1 + 0x1000);
			uint8_t want = zeroed && marked ? 0x5a : i < 0x6000 ? e.buf[off1 + i] : 0;
			if (*g != want)
				fail_msg("zeroed %d: segment 1 byte 0x%llx is 0x%02x, not 0x%02x",
					 zeroed, (unsigned long long)i, *g, want);
		}
		free(vm.ram);
	}
	kcache_put(&k);
	free(p);
	free(bz.buf);
	free(e.buf);
}

/* ---- the real kernel ----------------------------------------------------- */

static void test_real_kernel_unpacks(void **state)
{
	char path[4096];
	const char *env = getenv("HOSTEL_KERNEL"), *home = getenv("HOME");
	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/.cache/hostel/kernel/vmlinuz", home ? home : "");
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("no kernel at %s: run images/kernel.sh first", path);
	struct stat st;
	assert_int_equal(fstat(fileno(f), &st), 0);
	uint8_t *buf = malloc((size_t)st.st_size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);

	struct kimage k = KIMAGE_INIT;
	struct vmlinux_info vi;
	const char *why = NULL;
	if (kcache_get(NULL, buf, (size_t)st.st_size, &k, &why))
		fail_msg("Debian's kernel did not unpack: %s", why);
	assert_int_equal(k.comp, KCOMP_XZ); /* Debian builds with CONFIG_KERNEL_XZ */
	assert_int_equal(vmlinux_parse(k.data, k.len, &vi, &why), 0);
	assert_int_equal(vi.lo, 0x1000000); /* CONFIG_PHYSICAL_START */
	assert_int_equal(vi.entry, 0x1000000);
	assert_true(vi.hi - vi.lo > 16 * MIB);
	kcache_put(&k);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_kernel_shape),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_unpack_xz),
		cmocka_unit_test(test_unpack_gzip),
		cmocka_unit_test(test_unpack_zstd),
		cmocka_unit_test(test_unpack_rejects),
		cmocka_unit_test(test_load_bare_elf),
		cmocka_unit_test(test_load_elf_too_little_ram),
		cmocka_unit_test(test_cache_miss_hit_repair),
		cmocka_unit_test(test_cache_unwritable_and_absent),
		cmocka_unit_test(test_cache_sparse_load),
		cmocka_unit_test(test_real_kernel_unpacks),
	};
	return cmocka_run_group_tests(tests, cache_setup, cache_teardown);
}
