/* SPDX-License-Identifier: MIT */
/*
 * Uncompressed kernels: the ELF vmlinux inside a bzImage, unpacked on the
 * host, and loaded straight into guest memory so that the guest's own
 * decompressor never runs. The kernel is entered at its 64-bit entry
 * (startup_64) in long mode with an identity map, %rsi = zero page.
 *
 * Trust: as for the bzImage, the kernel file is the user's; every offset
 * and size in the ELF is checked before use.
 */
#ifndef HOSTEL_VMLINUX_H
#define HOSTEL_VMLINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"

#define VMLINUX_MAX_SEGS 16
#define VMLINUX_MAX_SIZE (1ULL << 30) /* decompressed kernels larger than this are refused */
#define KERNEL_START_MAP 0xffffffff80000000ULL /* __START_KERNEL_map */

struct vmlinux_seg {
	uint64_t paddr;	 /* guest physical load address (p_paddr) */
	uint64_t offset; /* file offset of the bytes */
	uint64_t filesz; /* bytes copied from the file */
	uint64_t memsz;	 /* bytes the segment occupies; the rest is zero */
};

struct vmlinux_info {
	uint64_t entry; /* physical address of the 64-bit entry point */
	uint64_t lo;	/* lowest and one past the highest loaded physical address */
	uint64_t hi;
	unsigned int nr_segs;
	struct vmlinux_seg segs[VMLINUX_MAX_SEGS];
};

/* True if @data starts like an ELF file (the magic only). */
bool vmlinux_is_elf(const void *data, size_t len);

/*
 * Validate an x86-64 ELF executable kernel: class, endianness, machine,
 * program headers inside the file, PT_LOAD segments inside the file, above
 * 1 MiB and below 4 GiB, non-overlapping, the entry point inside a loaded
 * segment (a virtual entry in the kernel map is translated to physical).
 * -EINVAL with a sentence in *why (valid until the next call on the thread).
 */
int vmlinux_parse(const void *elf, size_t len, struct vmlinux_info *out,
		  const char **why) __must_check;

/* Compression of a bzImage's payload, from its magic bytes. */
enum kcomp {
	KCOMP_NONE, /* an ELF, stored as is */
	KCOMP_GZIP,
	KCOMP_XZ,
	KCOMP_ZSTD,
	KCOMP_OTHER, /* bzip2, lzma, lzo, lz4 or unknown: left to the guest */
};

const char *kcomp_name(enum kcomp c);
enum kcomp kcomp_detect(const uint8_t *p, size_t len);

/*
 * Decompress a bzImage payload (payload_offset/payload_length of the setup
 * header) into a new buffer (free with vmlinux_free()). The payload ends with
 * the 4-byte little-endian size of the decompressed data, which is checked.
 * Errors: -ENOTSUP (format hostel does not unpack, or was built without),
 * -EINVAL (corrupt data: *why says how), -E2BIG (output larger than
 * VMLINUX_MAX_SIZE), -ENOMEM.
 */
int vmlinux_unpack(const uint8_t *payload, size_t len, uint8_t **out, size_t *out_len,
		   const char **why) __must_check;
void vmlinux_free(uint8_t *buf, size_t len);

/* 64-bit hash of @len bytes, for naming cache entries (not cryptographic). */
uint64_t vmlinux_hash(const void *data, size_t len);

#endif
