/* SPDX-License-Identifier: MIT */
/*
 * Guest physical memory: a set of RAM regions, each mapped into hostel.
 * Guest addresses are hostile: translate [gpa, gpa+len) as a whole range,
 * overflow-checked, or fail. Never a partial range; never device memory.
 */
#ifndef HOSTEL_GMEM_H
#define HOSTEL_GMEM_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"

#define GMEM_MAX_REGIONS 8

struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct gmem {
	struct gmem_region r[GMEM_MAX_REGIONS];
	unsigned int nr;
};

/* Add a region; 0, -EINVAL (overflow, overlap, zero size), -ENOSPC. */
int gmem_add(struct gmem *gm, uint64_t gpa, uint64_t size, void *host) __must_check;

/* Host pointer for all of [gpa, gpa+len), or NULL. Never a partial range. */
void *gmem_ptr(const struct gmem *gm, uint64_t gpa, uint64_t len);

/* Copy helpers; 0 or -EFAULT. */
int gmem_read(const struct gmem *gm, uint64_t gpa, void *dst, uint64_t len) __must_check;
int gmem_write(const struct gmem *gm, uint64_t gpa, const void *src, uint64_t len) __must_check;

/* Total bytes of RAM. */
uint64_t gmem_total(const struct gmem *gm);

/*
 * Guest RAM: @size bytes (a multiple of the page size) of anonymous private
 * memory, untouched (MAP_NORESERVE: what the guest never touches costs
 * nothing), starting on a GMEM_RAM_ALIGN boundary so that the host's
 * transparent huge pages line up with the guest's 2 MiB frames and KVM can
 * map them with large nested-page entries (hosts before Linux 6.7 align a
 * large mapping to a page only). Advised MADV_HUGEPAGE (huge pages also
 * where THP is "madvise") and MADV_MERGEABLE (KSM, where the host runs it).
 * An inaccessible guard page lies on each side. 0 and *out, or -errno
 * (-EINVAL for a size of 0 or not page-aligned). Freed, guards and all,
 * with gmem_unmap_ram(*out, size).
 */
#define GMEM_RAM_ALIGN (2ULL << 20)
int gmem_map_ram(uint64_t size, uint8_t **out) __must_check;
void gmem_unmap_ram(uint8_t *ram, uint64_t size);

#endif
