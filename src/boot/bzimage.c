// SPDX-License-Identifier: MIT
/*
 * Linux x86 boot protocol loader.
 *
 * Spec: Documentation/arch/x86/boot.rst ("The Linux/x86 Boot Protocol"), in
 * particular "The real-mode kernel header", "Details of header fields",
 * "Loading the rest of the kernel" and "32-bit boot protocol"; the zero page
 * is struct boot_params from the kernel's UAPI <asm/bootparam.h>
 * (Documentation/arch/x86/zero-page.rst).
 *
 * Trust: the kernel and initrd are host files named by the user. They are not
 * malicious by assumption, but they may be the wrong file, truncated or
 * corrupt, so every size and offset read from the image is checked before it
 * is used, and every guest write goes through gmem with a whole-range check.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "boot/boot.h"
#include "boot/vmlinux.h"

/* The zero page and the setup header are little-endian structs copied raw. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the boot loader copies little-endian boot_params raw; port it first"
#endif

#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* boot.rst, "The real-mode kernel header": file offsets of what we validate. */
#define SETUP_HDR_OFF	 0x1f1
#define SETUP_JUMP_OFF	 0x200 /* 2-byte short jump; its displacement ends the header */
#define SETUP_HDR_MIN	 (SETUP_HDR_OFF + sizeof(struct setup_header))
#define HDR_OFF(f)	 (SETUP_HDR_OFF + offsetof(struct setup_header, f))
#define HDR_END(f)	 (HDR_OFF(f) + sizeof(((struct setup_header *)0)->f))
#define BOOT_FLAG_MAGIC	 0xaa55
#define HDRS_MAGIC	 0x53726448 /* "HdrS" */
#define SECTOR_SIZE	 512
#define DEFAULT_SECTS	 4	/* "If this field is 0, the real value is 4." */
#define KVER_BIAS	 0x200	/* kernel_version points to the string "less 0x200" */
#define LOADER_UNDEFINED 0xff	/* type_of_loader: "undefined" boot loader */
#define VID_MODE_NORMAL	 0xffff /* vid_mode: "normal" */
#define HEAP_END_PTR	 0xfe00
#define PAGE_SIZE	 4096ULL

/* The zero page holds the header from 0x1f1 up to edd_mbr_sig_buffer. */
#define ZP_HDR_AREA_END offsetof(struct boot_params, edd_mbr_sig_buffer)

/* Offsets the boot protocol fixes; the UAPI header must agree with them. */
_Static_assert(sizeof(struct boot_params) == 4096, "zero page is one page");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "ext_ramdisk_image");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_size) == 0x0c4, "ext_ramdisk_size");
_Static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct boot_params, hdr) == SETUP_HDR_OFF, "hdr");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table");
_Static_assert(ZP_HDR_AREA_END == 0x290, "setup header area");
_Static_assert(HDR_OFF(boot_flag) == 0x1fe, "boot_flag");
_Static_assert(HDR_OFF(jump) == SETUP_JUMP_OFF, "jump");
_Static_assert(HDR_OFF(header) == 0x202, "header");
_Static_assert(HDR_OFF(version) == 0x206, "version");
_Static_assert(HDR_OFF(kernel_version) == 0x20e, "kernel_version");
_Static_assert(HDR_OFF(loadflags) == 0x211, "loadflags");
_Static_assert(HDR_OFF(code32_start) == 0x214, "code32_start");
_Static_assert(HDR_OFF(heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(HDR_OFF(cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(HDR_OFF(initrd_addr_max) == 0x22c, "initrd_addr_max");
_Static_assert(HDR_OFF(cmdline_size) == 0x238, "cmdline_size");
_Static_assert(HDR_OFF(pref_address) == 0x258, "pref_address");
_Static_assert(HDR_OFF(init_size) == 0x260, "init_size");
_Static_assert(sizeof(struct e820_entry) == sizeof(struct boot_e820_entry), "e820 entry");
_Static_assert(BOOT_E820_MAX == E820_MAX_ENTRIES_ZEROPAGE, "e820 table size");

/* Conventional memory ends where the EBDA begins (639 KiB). */
#define EBDA_START 0x9fc00ULL

/* Reasons with numbers in them; see boot.h for the lifetime (shared with
 * vmlinux.c through boot_fail()). */
static __thread char why_buf[256];

int boot_fail(const char **why, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why_buf, sizeof(why_buf), fmt, ap);
	va_end(ap);
	if (why)
		*why = why_buf;
	return err;
}

#define fail boot_fail

static unsigned long long mib_up(uint64_t bytes)
{
	return bytes / MIB + (bytes % MIB != 0);
}

/* boot.rst writes protocol versions as major.minor with a decimal minor. */
#define PROTO_ARGS(v) (unsigned)((v) >> 8), (unsigned)((v)&0xff)

int bzimage_parse(const void *img, size_t len, struct bzimage_info *out, const char **why)
{
	const uint8_t *b = img;
	struct setup_header h;
	uint32_t setup_sects, setup_size, hdr_end, need_end;
	uint64_t sys_bytes;

	memset(out, 0, sizeof(*out));
	if (!img || len == 0)
		return fail(why, -EINVAL, "file is empty");
	if (len > BOOT_MAX_IMAGE)
		return fail(why, -E2BIG, "kernel image is %llu MiB, larger than the %llu MiB limit",
			    mib_up(len), BOOT_MAX_IMAGE / MIB);
	if (len < SETUP_HDR_MIN)
		return fail(why, -EINVAL,
			    "file is %zu bytes, shorter than a bzImage setup header (%zu bytes)",
			    len, (size_t)SETUP_HDR_MIN);

	/* A local copy: every decision below is made on it, not on the file. */
	memcpy(&h, b + SETUP_HDR_OFF, sizeof(h));
	if (h.boot_flag != BOOT_FLAG_MAGIC)
		return fail(
			why, -EINVAL,
			"no 0xAA55 boot flag at offset 0x1fe (found 0x%04x): not a Linux kernel "
			"image",
			h.boot_flag);
	if (h.header != HDRS_MAGIC)
		return fail(why, -EINVAL, "no 'HdrS' signature at offset 0x202: not a bzImage");
	if (h.version < BOOT_MIN_PROTOCOL)
		return fail(why, -EINVAL,
			    "boot protocol %u.%02u is too old (need %u.%02u or newer, Linux 2.6.22 "
			    "on): boot a newer kernel",
			    PROTO_ARGS(h.version), PROTO_ARGS(BOOT_MIN_PROTOCOL));
	/*
	 * Only a bzImage's protected-mode part runs at 1 MiB; a zImage wants
	 * 0x10000, which the 32-bit entry we use cannot serve.
	 */
	if (!(h.loadflags & LOADED_HIGH))
		return fail(why, -EINVAL,
			    "zImage (LOADED_HIGH clear in loadflags) is not supported: need a "
			    "bzImage");

	setup_sects = h.setup_sects ? h.setup_sects : DEFAULT_SECTS;
	/* The boot sector plus setup_sects sectors of setup code. */
	setup_size = (setup_sects + 1) * SECTOR_SIZE;
	if (setup_size > len)
		return fail(why, -EINVAL,
			    "truncated: header says %u bytes of setup code (setup_sects %u), file "
			    "has %zu",
			    setup_size, h.setup_sects, len);

	/*
	 * "The end of setup header can be calculated as follows: 0x0202 + byte
	 * value at offset 0x0201". setup_size >= 1024 > 0x301, so it is in the
	 * file. It must cover the fields the claimed protocol promises.
	 */
	hdr_end = 0x202 + b[SETUP_JUMP_OFF + 1];
	need_end = h.version >= 0x020a ? HDR_END(init_size) : HDR_END(cmdline_size);
	if (hdr_end < need_end)
		return fail(why, -EINVAL,
			    "setup header ends at 0x%x, too short for boot protocol "
			    "%u.%02u (needs 0x%x)",
			    hdr_end, PROTO_ARGS(h.version), need_end);
	/* Bytes past the header are setup code, not fields. */
	if (hdr_end < SETUP_HDR_MIN)
		memset((uint8_t *)&h + (hdr_end - SETUP_HDR_OFF), 0, SETUP_HDR_MIN - hdr_end);

	sys_bytes = (uint64_t)h.syssize * 16;
	if (sys_bytes > len - setup_size)
		return fail(why, -EINVAL,
			    "truncated: header says %llu bytes (setup %u + kernel %llu from "
			    "syssize), file has %zu",
			    (unsigned long long)(setup_size + sys_bytes), setup_size,
			    (unsigned long long)sys_bytes, len);
	if (len == setup_size)
		return fail(why, -EINVAL,
			    "no protected-mode kernel after the %u bytes of setup code",
			    setup_size);
	/* The decompressor aligns its run address with kernel_alignment - 1 as a mask. */
	if (h.relocatable_kernel &&
	    (h.kernel_alignment == 0 || (h.kernel_alignment & (h.kernel_alignment - 1))))
		return fail(why, -EINVAL, "kernel_alignment 0x%x is not a power of two",
			    h.kernel_alignment);

	out->protocol = h.version;
	out->setup_size = setup_size;
	out->kernel_offset = setup_size;
	out->kernel_size = (uint32_t)(len - setup_size); /* len <= BOOT_MAX_IMAGE */
	out->initrd_addr_max = h.initrd_addr_max;
	out->cmdline_size = h.cmdline_size;
	out->kernel_alignment = h.kernel_alignment;
	out->relocatable = h.relocatable_kernel;
	out->header_end = hdr_end;
	/* Fields newer than the claimed protocol are setup code: ignore them. */
	if (h.version >= 0x020a) {
		out->init_size = h.init_size;
		out->pref_address = h.pref_address;
	}
	if (h.version >= 0x020c)
		out->xloadflags = h.xloadflags;
	/* The payload, if the header places it inside the file. */
	if (h.version >= 0x0208 && h.payload_length && h.payload_offset <= out->kernel_size &&
	    h.payload_length <= out->kernel_size - h.payload_offset) {
		out->payload_offset = h.payload_offset;
		out->payload_length = h.payload_length;
	}

	/* Version string: only if it starts inside the setup code. */
	if (h.kernel_version) {
		uint32_t off = (uint32_t)h.kernel_version + KVER_BIAS;
		size_t i;
		for (i = 0; off < setup_size && i < sizeof(out->version) - 1 && b[off]; i++, off++)
			out->version[i] = (b[off] >= 0x20 && b[off] < 0x7f) ? (char)b[off] : '?';
		out->version[i] = '\0';
	}
	return 0;
}

void boot_ram_split(uint64_t ram_size, uint64_t *low_ram, uint64_t *high_ram)
{
	*low_ram = MIN(ram_size, BOOT_LOW_RAM_MAX);
	*high_ram = ram_size - *low_ram;
}

static void e820_add(struct e820_entry *e, unsigned int max, unsigned int *n, uint64_t addr,
		     uint64_t size, uint32_t type)
{
	if (*n >= max || size == 0)
		return;
	e[*n] = (struct e820_entry){.addr = addr, .size = size, .type = type};
	(*n)++;
}

unsigned int boot_e820_build(uint64_t low_ram, uint64_t high_ram, struct e820_entry *e,
			     unsigned int max)
{
	unsigned int n = 0;

	low_ram = MIN(low_ram, BOOT_LOW_RAM_MAX);
	high_ram = MIN(high_ram, UINT64_MAX - BOOT_HIGH_RAM_ADDR + 1);
	e820_add(e, max, &n, 0, MIN(low_ram, EBDA_START), E820_RAM);
	/* EBDA, VGA window and BIOS ROM: never RAM to the guest. */
	e820_add(e, max, &n, EBDA_START, BOOT_KERNEL_ADDR - EBDA_START, E820_RESERVED);
	if (low_ram > BOOT_KERNEL_ADDR)
		e820_add(e, max, &n, BOOT_KERNEL_ADDR, low_ram - BOOT_KERNEL_ADDR, E820_RAM);
	e820_add(e, max, &n, BOOT_HIGH_RAM_ADDR, high_ram, E820_RAM);
	return n;
}

/* End of the e820 RAM entry that holds all of [start, end), or 0. */
static uint64_t e820_ram_holding(const struct boot_config *cfg, uint64_t start, uint64_t end)
{
	for (unsigned int i = 0; i < cfg->nr_e820; i++) {
		const struct e820_entry *e = &cfg->e820[i];
		uint64_t e_end = e->addr + e->size;
		if (e->type != E820_RAM || e_end < e->addr)
			continue;
		if (start >= e->addr && end <= e_end)
			return e_end;
	}
	return 0;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * Where the kernel starts running after it moves itself, per boot.rst
 * ("pref_address", "relocatable_kernel", "init_size"): a relocatable kernel
 * runs at its load address rounded up to kernel_alignment, but never below
 * pref_address (LOAD_PHYSICAL_ADDR); a fixed one runs at pref_address. It
 * then needs init_size bytes from there, and the loaded image itself must
 * survive until it has been moved. Protocols before 2.10 say neither, so the
 * loaded image is all we know of.
 */
static uint64_t kernel_run_start(const struct bzimage_info *k)
{
	uint64_t start = BOOT_KERNEL_ADDR;

	if (k->protocol < 0x020a)
		return start;
	if (k->relocatable) {
		uint64_t mask = (uint64_t)k->kernel_alignment - 1; /* power of two: parse checked */
		start = (start + mask) & ~mask;
		return MAX(start, k->pref_address);
	}
	return MAX(start, k->pref_address);
}

/*
 * Highest page-aligned spot for @len bytes inside one e820 RAM entry,
 * within [lo, limit). 0 if none.
 */
static uint64_t initrd_place(const struct boot_config *cfg, uint64_t len, uint64_t lo,
			     uint64_t limit)
{
	uint64_t best = 0;

	for (unsigned int i = 0; i < cfg->nr_e820; i++) {
		const struct e820_entry *e = &cfg->e820[i];
		uint64_t e_end = e->addr + e->size;
		if (e->type != E820_RAM || e_end < e->addr)
			continue;
		uint64_t top = MIN(e_end, limit);
		uint64_t floor = MAX(e->addr, lo);
		if (top < len || top - len < floor)
			continue;
		uint64_t addr = (top - len) & ~(PAGE_SIZE - 1);
		if (addr >= floor && addr > best)
			best = addr;
	}
	return best;
}

struct load_range {
	uint64_t gpa, len;
	const char *what;
};

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/*
 * A bare vmlinux has no setup header: describe it as a current bzImage
 * would (protocol 2.15, COMMAND_LINE_SIZE 2048, initrd anywhere below 2 GiB).
 */
#define ELF_PROTOCOL	 0x020f
#define ELF_CMDLINE_SIZE 2047
static void elf_header(struct bzimage_info *k)
{
	memset(k, 0, sizeof(*k));
	k->protocol = ELF_PROTOCOL;
	k->cmdline_size = ELF_CMDLINE_SIZE;
	k->initrd_addr_max = 0x7fffffff;
	k->kernel_alignment = 2 * MIB;
}

static void elf_setup_header(struct setup_header *h)
{
	h->boot_flag = BOOT_FLAG_MAGIC;
	h->header = HDRS_MAGIC;
	h->version = ELF_PROTOCOL;
	h->loadflags = LOADED_HIGH;
	h->cmdline_size = ELF_CMDLINE_SIZE;
	h->initrd_addr_max = 0x7fffffff;
	h->kernel_alignment = 2 * MIB;
}

/*
 * Reads [off, off + len) of @fd to @dst. With @zeroed (@dst is known to be
 * zero already) the file's holes are skipped: a sparse kernel cache then
 * costs no copy, and no page of guest RAM, for its runs of zeros.
 */
static int read_file_range(int fd, uint8_t *dst, uint64_t off, uint64_t len, bool zeroed)
{
	const uint64_t end = off + len;

	for (uint64_t pos = off; pos < end;) {
		uint64_t data = pos, hole = end;
		if (zeroed) {
			off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
			if (d < 0 && errno == ENXIO)
				break; /* only a hole up to the end of the file */
			if (d >= 0) {
				data = MIN((uint64_t)d, end);
				off_t h = lseek(fd, (off_t)data, SEEK_HOLE);
				if (h >= 0)
					hole = MIN((uint64_t)h, end);
			}
			/* Any other failure (no SEEK_DATA here): read it all. */
		}
		for (pos = data; pos < hole;) {
			ssize_t r = pread(fd, dst + (pos - off), hole - pos, (off_t)pos);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -EIO;
			pos += (uint64_t)r;
		}
	}
	return 0;
}

/* Every PT_LOAD at its physical address; the part past p_filesz is zero
 * (written as zeros unless cfg->ram_zeroed says the RAM already is). */
static int load_segments(struct gmem *gm, const struct boot_config *cfg, const uint8_t *elf,
			 const struct vmlinux_info *vi)
{
	for (unsigned int i = 0; i < vi->nr_segs; i++) {
		const struct vmlinux_seg *s = &vi->segs[i];
		uint8_t *dst = gmem_ptr(gm, s->paddr, s->memsz);
		if (!dst)
			return -EFAULT;
		if (cfg->vmlinux_from_fd && !vmlinux_is_elf(cfg->kernel, cfg->kernel_len)) {
			int ret = read_file_range(cfg->vmlinux_fd, dst, s->offset, s->filesz,
						  cfg->ram_zeroed);
			if (ret)
				return ret;
		} else {
			memcpy(dst, elf + s->offset, s->filesz);
		}
		if (!cfg->ram_zeroed)
			memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}

/*
 * Page tables for the 64-bit entry (boot.rst, "64-bit boot protocol": the
 * kernel, zero page and command line must be identity mapped): PML4 ->
 * PDPT -> four page directories of 2 MiB pages covering 0-4 GiB.
 */
static int write_identity_map(struct gmem *gm)
{
	uint8_t *t = gmem_ptr(gm, BOOT_PGTABLE_ADDR, BOOT_PGTABLE_SIZE);
	const uint64_t present_rw = 0x3, huge = 0x80;

	if (!t)
		return -EFAULT;
	memset(t, 0, BOOT_PGTABLE_SIZE);
	put_le64(t, (BOOT_PGTABLE_ADDR + 0x1000) | present_rw);
	for (uint64_t pd = 0; pd < 4; pd++) {
		uint64_t pd_addr = BOOT_PGTABLE_ADDR + 0x2000 + pd * 0x1000;
		put_le64(t + 0x1000 + pd * 8, pd_addr | present_rw);
		for (uint64_t e = 0; e < 512; e++)
			put_le64(t + 0x2000 + pd * 0x1000 + e * 8,
				 (pd * GIB + e * 2 * MIB) | present_rw | huge);
	}
	return 0;
}

/* Documentation/arch/x86/boot.rst and <linux/screen_info.h>; read by
 * arch/x86/kernel/sysfb and drivers/video/fbdev/vesafb.c. */
int boot_screen_info(const struct boot_fb *fb, struct screen_info *si)
{
	const uint64_t unit = 64 * 1024; /* lfb_size unit for VLFB (vesafb: * 65536) */

	if (!fb || !si || !fb->width || !fb->height || fb->width > 8192 || fb->height > 8192 ||
	    fb->stride / 4 < fb->width || fb->stride > UINT16_MAX || !fb->size || fb->size % unit ||
	    fb->size / unit > UINT32_MAX / unit || (uint64_t)fb->height * fb->stride > fb->size ||
	    fb->base + fb->size < fb->base)
		return -EINVAL;
	memset(si, 0, sizeof(*si));
	si->orig_video_isVGA = VIDEO_TYPE_VLFB;
	si->lfb_width = (uint16_t)fb->width;
	si->lfb_height = (uint16_t)fb->height;
	si->lfb_depth = 32;
	si->lfb_linelength = (uint16_t)fb->stride;
	si->lfb_base = (uint32_t)fb->base;
	si->lfb_size = (uint32_t)(fb->size / unit);
	if (fb->base >> 32) {
		si->ext_lfb_base = (uint32_t)(fb->base >> 32);
		si->capabilities |= VIDEO_CAPABILITY_64BIT_BASE;
	}
	/* x8r8g8b8, as the display (include/hostel/display.h). */
	si->red_size = 8;
	si->red_pos = 16;
	si->green_size = 8;
	si->green_pos = 8;
	si->blue_size = 8;
	si->blue_pos = 0;
	si->rsvd_size = 8;
	si->rsvd_pos = 24;
	/* No VESA protected-mode interface (vesapm_seg 0): vesafb neither pans nor
	 * calls the BIOS. */
	return 0;
}

int boot_load(struct gmem *gm, const struct boot_config *cfg, struct boot_entry *out,
	      const char **why)
{
	struct screen_info si;
	struct bzimage_info k;
	struct boot_params bp;
	uint8_t gdt[BOOT_GDT_ENTRIES * 8];
	uint64_t run_start, kend, initrd_addr = 0, ram;
	const char *cmdline;
	size_t clen;
	int ret;

	if (!gm || !cfg || !out)
		return fail(why, -EINVAL, "boot_load: missing guest memory, config or output");
	memset(out, 0, sizeof(*out));
	/* An ELF vmlinux: given as the kernel itself, or unpacked from it. */
	bool bare_elf = vmlinux_is_elf(cfg->kernel, cfg->kernel_len);
	const void *elf = bare_elf ? cfg->kernel : cfg->vmlinux;
	size_t elf_len = bare_elf ? cfg->kernel_len : cfg->vmlinux_len;
	struct vmlinux_info vi = {0};
	if (elf) {
		ret = vmlinux_parse(elf, elf_len, &vi, why);
		if (ret)
			return ret;
	}
	if (bare_elf)
		elf_header(&k);
	else if ((ret = bzimage_parse(cfg->kernel, cfg->kernel_len, &k, why)))
		return ret;

	if (!cfg->e820 || cfg->nr_e820 == 0)
		return fail(why, -EINVAL, "no e820 memory map given");
	if (cfg->fb && boot_screen_info(cfg->fb, &si))
		return fail(why, -EINVAL,
			    "framebuffer %ux%u (stride %u, %llu bytes) is not describable",
			    cfg->fb->width, cfg->fb->height, cfg->fb->stride,
			    (unsigned long long)cfg->fb->size);
	if (cfg->nr_e820 > BOOT_E820_MAX)
		return fail(why, -E2BIG, "e820 map has %u entries, the zero page holds at most %u",
			    cfg->nr_e820, BOOT_E820_MAX);
	if (!cfg->initrd && cfg->initrd_len)
		return fail(why, -EINVAL, "initrd length %zu given without initrd data",
			    cfg->initrd_len);
	if (cfg->initrd && cfg->initrd_len == 0)
		return fail(why, -EINVAL, "initrd is empty");
	if (cfg->nr_initrd_more && (!cfg->initrd || !cfg->initrd_more))
		return fail(why, -EINVAL, "more initrd archives given without the first");
	if (cfg->nr_initrd_more > BOOT_MAX_INITRD_MORE)
		return fail(why, -E2BIG, "%u more initrd archives, at most %u", cfg->nr_initrd_more,
			    BOOT_MAX_INITRD_MORE);
	/* The archives end to end, each 4-byte aligned (cpio newc's unit). */
	uint64_t initrd_total = cfg->initrd ? cfg->initrd_len : 0;
	uint64_t more_at[BOOT_MAX_INITRD_MORE];
	for (unsigned int i = 0; i < cfg->nr_initrd_more; i++) {
		const struct boot_blob *m = &cfg->initrd_more[i];
		if (!m->data || !m->len)
			return fail(why, -EINVAL, "initrd archive %u is empty", i + 2);
		more_at[i] = sat_add(initrd_total, 3) & ~3ULL;
		initrd_total = sat_add(more_at[i], m->len);
	}
	if (initrd_total > UINT32_MAX)
		return fail(why, -E2BIG, "initrd of %llu MiB: the boot protocol takes under 4 GiB",
			    mib_up(initrd_total));

	/* cmdline_size excludes the terminating NUL (boot.rst, "cmdline_size"). */
	cmdline = cfg->cmdline ? cfg->cmdline : "";
	clen = strlen(cmdline);
	if (clen > k.cmdline_size)
		return fail(
			why, -E2BIG,
			"command line is %zu bytes, the kernel accepts at most %u (cmdline_size)",
			clen, k.cmdline_size);
	if (clen > BOOT_CMDLINE_MAX - 1)
		return fail(why, -E2BIG,
			    "command line is %zu bytes, hostel has room for at most %llu", clen,
			    BOOT_CMDLINE_MAX - 1);

	/* For messages: the guest's RAM as the user sized it (-m). */
	ram = gmem_total(gm);
	run_start = elf ? vi.lo : kernel_run_start(&k);
	kend = elf ? vi.hi : MAX(BOOT_KERNEL_ADDR + k.kernel_size, sat_add(run_start, k.init_size));
	if (elf && !e820_ram_holding(cfg, vi.lo, vi.hi))
		return fail(why, -ENOMEM,
			    "%llu MiB of RAM is too small for this kernel: it loads at %llu MiB "
			    "and needs contiguous RAM up to %llu MiB",
			    ram / MIB, (unsigned long long)(vi.lo / MIB), mib_up(vi.hi));
	if (!elf && !e820_ram_holding(cfg, BOOT_KERNEL_ADDR, kend))
		return fail(why, -ENOMEM,
			    "%llu MiB of RAM is too small for this kernel: it needs contiguous RAM "
			    "from 1 MiB up to %llu MiB (init_size %llu MiB at %llu MiB)",
			    ram / MIB, mib_up(kend), mib_up(k.init_size),
			    (unsigned long long)(run_start / MIB));

	if (cfg->initrd) {
		/*
		 * initrd_addr_max is the highest address the initrd may occupy;
		 * ramdisk_image is 32 bits, so stay below 4 GiB. Above the
		 * kernel's run area: the kernel decompresses into it before it
		 * looks at the initrd.
		 */
		uint64_t limit = MIN((uint64_t)k.initrd_addr_max + 1, 4 * GIB);
		uint64_t lo = sat_add(kend, PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
		initrd_addr = initrd_place(cfg, initrd_total, lo, limit);
		if (!initrd_addr)
			return fail(
				why, -ENOMEM,
				"initrd of %llu MiB does not fit below initrd_addr_max (0x%x) in "
				"%llu MiB of RAM",
				mib_up(initrd_total), k.initrd_addr_max, ram / MIB);
	}

	/*
	 * The e820 map is what the guest believes; gmem is what exists. Check
	 * every range before writing anything so a failure leaves RAM alone.
	 */
	const struct load_range ranges[] = {
		{BOOT_GDT_ADDR, sizeof(gdt), "GDT"},
		{BOOT_ZERO_PAGE_ADDR, sizeof(bp), "zero page"},
		{BOOT_STACK_TOP & ~(PAGE_SIZE - 1), BOOT_STACK_TOP & (PAGE_SIZE - 1), "boot stack"},
		{BOOT_CMDLINE_ADDR, clen + 1, "command line"},
		{elf ? vi.lo : BOOT_KERNEL_ADDR, kend - (elf ? vi.lo : BOOT_KERNEL_ADDR), "kernel"},
		{BOOT_PGTABLE_ADDR, elf ? BOOT_PGTABLE_SIZE : 0, "page tables"},
		{initrd_addr, initrd_total, "initrd"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++)
		if (ranges[i].len && !gmem_ptr(gm, ranges[i].gpa, ranges[i].len))
			return fail(why, -EFAULT,
				    "guest memory has no RAM at [0x%llx, 0x%llx) for the %s",
				    (unsigned long long)ranges[i].gpa,
				    (unsigned long long)(ranges[i].gpa + ranges[i].len),
				    ranges[i].what);

	/*
	 * boot.rst, "32-bit boot protocol": __BOOT_CS (0x10) and __BOOT_DS (0x18)
	 * must be flat 4 GiB segments: base 0, limit 0xfffff with G=1, D/B=1;
	 * code is execute/read (type 0xb), data read/write (type 0x3), both
	 * accessed, present, DPL 0.
	 */
	memset(gdt, 0, sizeof(gdt));
	/* The 64-bit entry wants a long-mode code segment (L=1, D=0) instead. */
	put_le64(gdt + 0x10, elf ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL);
	put_le64(gdt + 0x18, 0x00cf93000000ffffULL);

	/*
	 * boot.rst: zero the boot_params, copy the setup header from the image
	 * (0x1f1 to the end given by the jump), then fill in what a boot loader
	 * must set. The sentinel at 0x1ef stays 0: we did not copy past the header.
	 */
	memset(&bp, 0, sizeof(bp));
	if (bare_elf)
		elf_setup_header(&bp.hdr);
	else
		memcpy((uint8_t *)&bp + SETUP_HDR_OFF, (const uint8_t *)cfg->kernel + SETUP_HDR_OFF,
		       MIN(k.header_end, ZP_HDR_AREA_END) - SETUP_HDR_OFF);
	bp.hdr.vid_mode = VID_MODE_NORMAL;
	bp.hdr.type_of_loader = LOADER_UNDEFINED;
	bp.hdr.loadflags |= CAN_USE_HEAP; /* LOADED_HIGH is already set: parse checked */
	bp.hdr.heap_end_ptr = HEAP_END_PTR;
	/* We load the protected-mode part exactly at the default address. */
	bp.hdr.code32_start = (uint32_t)BOOT_KERNEL_ADDR;
	bp.hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	bp.ext_cmd_line_ptr = (uint32_t)(BOOT_CMDLINE_ADDR >> 32);
	/* We pass no setup_data list; a corrupt image must not make the kernel chase one. */
	bp.hdr.setup_data = 0;
	if (cfg->initrd) {
		bp.hdr.ramdisk_image = (uint32_t)initrd_addr;
		bp.ext_ramdisk_image = (uint32_t)(initrd_addr >> 32);
		bp.hdr.ramdisk_size = (uint32_t)initrd_total;
		bp.ext_ramdisk_size = (uint32_t)(initrd_total >> 32);
	} else {
		bp.hdr.ramdisk_image = 0;
		bp.hdr.ramdisk_size = 0;
	}
	/* acpi_rsdp_addr is read by kernels of protocol 2.14 and newer. */
	if (k.protocol >= 0x020e && cfg->rsdp_addr)
		bp.acpi_rsdp_addr = cfg->rsdp_addr;
	bp.e820_entries = (uint8_t)cfg->nr_e820;
	memcpy(bp.e820_table, cfg->e820, cfg->nr_e820 * sizeof(cfg->e820[0]));
	if (cfg->fb)
		bp.screen_info = si;

	if (gmem_write(gm, BOOT_GDT_ADDR, gdt, sizeof(gdt)) ||
	    gmem_write(gm, BOOT_ZERO_PAGE_ADDR, &bp, sizeof(bp)) ||
	    gmem_write(gm, BOOT_CMDLINE_ADDR, cmdline, clen + 1) ||
	    (elf ? load_segments(gm, cfg, elf, &vi)
		 : gmem_write(gm, BOOT_KERNEL_ADDR, (const uint8_t *)cfg->kernel + k.kernel_offset,
			      k.kernel_size)) ||
	    (elf && write_identity_map(gm)) ||
	    (cfg->initrd && gmem_write(gm, initrd_addr, cfg->initrd, cfg->initrd_len)))
		return fail(why, -EFAULT, "writing the boot images into guest memory failed");
	uint64_t at = cfg->initrd_len;
	for (unsigned int i = 0; i < cfg->nr_initrd_more; i++) {
		static const uint8_t pad[3];
		const struct boot_blob *m = &cfg->initrd_more[i];
		if (gmem_write(gm, initrd_addr + at, pad, more_at[i] - at) ||
		    gmem_write(gm, initrd_addr + more_at[i], m->data, m->len))
			return fail(why, -EFAULT,
				    "writing the boot images into guest memory failed");
		at = more_at[i] + m->len;
	}

	if (elf) {
		out->long_mode = true;
		out->rip = vi.entry;
		out->cr3 = BOOT_PGTABLE_ADDR;
	}
	out->entry_eip = (uint32_t)BOOT_KERNEL_ADDR;
	out->esi = (uint32_t)BOOT_ZERO_PAGE_ADDR;
	out->esp = (uint32_t)BOOT_STACK_TOP;
	out->gdt_base = (uint32_t)BOOT_GDT_ADDR;
	out->gdt_limit = sizeof(gdt) - 1;
	out->initrd_addr = initrd_addr;
	return 0;
}
