/* SPDX-License-Identifier: MIT */
/*
 * Linux x86 boot protocol (Documentation/arch/x86/boot.rst): bzImage
 * validation and loading, zero page (struct boot_params) with e820 map and
 * command line, initrd placement. Entry is the 32-bit protected-mode entry
 * point (flat 4 GiB segments, paging off, %esi = zero page), as GRUB uses.
 */
#ifndef HOSTEL_BOOT_H
#define HOSTEL_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/gmem.h"

/* Guest physical layout used by the loader. */
#define BOOT_GDT_ADDR	    0x500ULL
#define BOOT_ZERO_PAGE_ADDR 0x7000ULL
#define BOOT_CMDLINE_ADDR   0x20000ULL
#define BOOT_CMDLINE_MAX    0x10000ULL /* bytes reserved at BOOT_CMDLINE_ADDR */
#define BOOT_STACK_TOP	    0x8ff0ULL
#define BOOT_KERNEL_ADDR    0x100000ULL
#define BOOT_MIN_PROTOCOL   0x0206	   /* cmdline_size, initrd_addr_max: older is refused */
#define BOOT_MAX_IMAGE	    (256ULL << 20) /* larger kernel files are refused with -E2BIG */
#define BOOT_LOW_RAM_MAX    (3ULL << 30)   /* RAM below the 32-bit PCI/MMIO hole */
#define BOOT_HIGH_RAM_ADDR  (4ULL << 30)   /* the rest of RAM starts here */
#define BOOT_GDT_ENTRIES    4		   /* null, null, 0x10 code, 0x18 data */
#define BOOT_PGTABLE_ADDR   0x9000ULL	   /* PML4, PDPT, 4 PDs: identity map of 4 GiB */
#define BOOT_PGTABLE_SIZE   0x6000ULL

#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

#define BOOT_E820_MAX 128

/* What a validated bzImage header says. */
struct bzimage_info {
	uint16_t protocol;	/* e.g. 0x020f */
	uint32_t setup_size;	/* (setup_sects + 1) * 512 */
	uint32_t kernel_offset; /* file offset of the protected-mode kernel (= setup_size) */
	uint32_t kernel_size;	/* file bytes after the setup */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size; /* max command line length, excluding NUL */
	uint32_t init_size;    /* memory the kernel needs from its load address */
	uint32_t kernel_alignment;
	uint64_t pref_address;
	uint8_t relocatable;
	uint16_t xloadflags;
	uint32_t payload_offset; /* protocol 2.08+: compressed vmlinux, from kernel_offset */
	uint32_t payload_length; /* 0 when the header does not say or it is out of bounds */
	uint32_t header_end; /* file offset just past the setup header (0x202 + byte at 0x201) */
	char version[64]; /* kernel_version string, if present, else "" (non-printables as '?') */
};

/*
 * Validate a bzImage in memory. On failure returns -EINVAL (or -E2BIG) and
 * sets *why to a sentence naming the problem ("file is empty",
 * "no 'HdrS' signature: not a bzImage", "boot protocol 2.04 is too old
 * (need 2.06 or newer)", "truncated: header says N bytes, file has M", ...).
 * Messages that carry numbers live in a thread-local buffer: *why stays
 * valid until the next bzimage_parse() or boot_load() on the same thread.
 */
/*
 * Set *why (if @why) to the formatted reason, kept in a per-thread buffer
 * shared by the boot loaders, and return @err.
 */
int boot_fail(const char **why, int err, const char *fmt, ...) __printf(3, 4);

int bzimage_parse(const void *img, size_t len, struct bzimage_info *out,
		  const char **why) __must_check;

/*
 * A linear framebuffer the boot loader describes in boot_params.screen_info
 * as a VESA linear framebuffer (VIDEO_TYPE_VLFB), XRGB8888: what Linux's
 * sysfb turns into a "vesa-framebuffer" device for vesafb (Debian's 6.1
 * has CONFIG_FB_VESA=y, CONFIG_SYSFB_SIMPLEFB off).
 */
struct boot_fb {
	uint64_t base; /* guest physical address */
	uint64_t size; /* bytes of video memory from @base (a multiple of 64 KiB) */
	uint32_t width, height, stride;
};

struct screen_info;
/*
 * Fill @si for @fb (zeroing it first): orig_video_isVGA VIDEO_TYPE_VLFB,
 * lfb_base (ext_lfb_base and VIDEO_CAPABILITY_64BIT_BASE above 4 GiB),
 * lfb_size in 64 KiB units, width, height, depth 32, linelength, the
 * x8r8g8b8 positions and sizes; no text-mode geometry, so the decompressor
 * writes no VGA text. -EINVAL (nothing written) for a width or height of 0
 * or over 8192, a stride below width * 4 or over 65535, a size not a
 * multiple of 64 KiB or over 4 GiB - 64 KiB, height * stride over size, or
 * base + size wrapping.
 */
int boot_screen_info(const struct boot_fb *fb, struct screen_info *si) __must_check;

/* A byte range of a host file mapped for loading. */
struct boot_blob {
	const void *data;
	size_t len;
};

#define BOOT_MAX_INITRD_MORE 3

struct boot_config {
	const void *kernel;
	size_t kernel_len;
	const void *initrd; /* may be NULL */
	size_t initrd_len;
	/*
	 * More archives after @initrd (which must then be given), each at the
	 * next 4-byte boundary with zeros between: Linux unpacks concatenated
	 * cpio archives in order, a later file replacing an earlier one of the
	 * same name (what GRUB's `initrd A B` relies on). ramdisk_size covers
	 * them all. At most BOOT_MAX_INITRD_MORE, none empty.
	 */
	const struct boot_blob *initrd_more;
	unsigned int nr_initrd_more;
	const char *cmdline; /* full command line to pass */
	const struct e820_entry *e820;
	unsigned int nr_e820;
	uint64_t rsdp_addr;	  /* 0: none (boot_params.acpi_rsdp_addr, protocol 2.14+) */
	const struct boot_fb *fb; /* NULL: none (screen_info stays zero) */
	/*
	 * The unpacked ELF vmlinux of @kernel (see vmlinux.h), or NULL. With it,
	 * or when @kernel is itself an ELF vmlinux, the kernel is loaded
	 * segment by segment and entered at its 64-bit entry point.
	 */
	const void *vmlinux;
	size_t vmlinux_len;
	/* If set, segment bytes are read from this fd (the file @vmlinux maps)
	 * straight into guest RAM, so they never count in hostel's own RSS. */
	bool vmlinux_from_fd;
	int vmlinux_fd;
	/* Guest RAM from 1 MiB up is all zero (fresh from vm_create): the
	 * loader then leaves the kernel's zero ranges (the bss, a sparse
	 * cache file's holes) untouched instead of writing zeros over them. */
	bool ram_zeroed;
};

struct boot_entry {
	bool long_mode;	    /* 64-bit entry: paging on, identity map at cr3 */
	uint64_t rip;	    /* 64-bit entry point (long_mode) */
	uint64_t cr3;	    /* PML4 of the identity map of the first 4 GiB (long_mode) */
	uint32_t entry_eip; /* 32-bit entry point (!long_mode) */
	uint32_t esi;	    /* zero page */
	uint32_t esp;
	uint32_t gdt_base; /* GDT at BOOT_GDT_ADDR: 0x10 code (64-bit if long_mode), 0x18 data */
	uint16_t gdt_limit;
	uint64_t initrd_addr; /* 0 if none */
};

/*
 * Load everything into guest memory: GDT, zero page (setup header copied
 * from the image, type_of_loader 0xff, CAN_USE_HEAP, heap_end_ptr, cmd_line_ptr,
 * ramdisk_image/size, e820 table), command line, protected-mode kernel at
 * BOOT_KERNEL_ADDR, initrd as high as allowed below min(initrd_addr_max,
 * end of the RAM region holding it) and page aligned. Fails with a reason in
 * *why when anything does not fit: kernel larger than RAM, initrd too large,
 * command line longer than cmdline_size, memory below the kernel's init_size.
 * Every check happens before the first guest byte is written, so a failure
 * leaves guest memory untouched. Errors: -EINVAL (bad image or config),
 * -E2BIG (image, command line or e820 map too large), -ENOMEM (does not fit
 * in RAM), -EFAULT (a range the e820 map calls RAM is not in @gm).
 * *why as for bzimage_parse().
 */
int boot_load(struct gmem *gm, const struct boot_config *cfg, struct boot_entry *out,
	      const char **why) __must_check;

/*
 * The PC memory map for @ram_size bytes of RAM split around the hole below
 * 4 GiB: low RAM [0, 0x9fc00), reserved EBDA/BIOS areas [0x9fc00, 0x100000),
 * RAM [1 MiB, low_end), and RAM above 4 GiB for the rest. Returns the number
 * of entries written (at most @max).
 * @low_ram is low_end (RAM mapped from address 0; values above
 * BOOT_LOW_RAM_MAX are clamped to it), @high_ram the bytes mapped at
 * BOOT_HIGH_RAM_ADDR (0: none). Low RAM below 1 MiB yields only the
 * conventional-memory entries it covers.
 */
unsigned int boot_e820_build(uint64_t low_ram, uint64_t high_ram, struct e820_entry *e,
			     unsigned int max);

/*
 * Split @ram_size bytes into the part below the hole (at most
 * BOOT_LOW_RAM_MAX) and the part mapped at BOOT_HIGH_RAM_ADDR, as
 * boot_e820_build() expects them.
 */
void boot_ram_split(uint64_t ram_size, uint64_t *low_ram, uint64_t *high_ram);

#endif
