/* SPDX-License-Identifier: MIT */
/*
 * An address space (I/O ports or MMIO) made of non-overlapping device ranges.
 * Ranges are registered once; overlap and overflow are rejected. Lookup is a
 * binary search over a sorted array.
 */
#ifndef HOSTEL_BUS_H
#define HOSTEL_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include "compiler.h"
#include "device.h"

struct bus_range {
	uint64_t base;
	uint64_t len; /* > 0 */
	struct dev *dev;
	uint64_t reads, writes; /* accesses served (atomic, relaxed) */
};

struct bus {
	const char *name; /* "pio" or "mmio", for logs */
	struct bus_range *ranges;
	unsigned int nr, cap;
	/* Accesses that hit no device (reads return all-ones, writes dropped). */
	uint64_t unclaimed_reads, unclaimed_writes;
};

void bus_init(struct bus *bus, const char *name);
void bus_fini(struct bus *bus); /* does not destroy devices */

/* 0, -EINVAL (len 0 or base+len overflows 2^64), -EEXIST (overlap), -ENOMEM. */
int bus_add(struct bus *bus, uint64_t base, uint64_t len, struct dev *dev) __must_check;

/* The range containing @addr, or NULL. */
const struct bus_range *bus_find(const struct bus *bus, uint64_t addr);

/*
 * Dispatch one access of @len bytes (1..8) at @addr. An access must lie
 * wholly inside one device's range to reach it; otherwise (unclaimed, or
 * straddling a boundary, or @len out of range) reads fill @data with 0xff and
 * writes are dropped; both are counted and logged at debug level with a rate
 * limit. Returns true if a device handled it.
 */
bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned len);
/* Log each range's access counts at debug level, busiest first (at most @max). */
void bus_log_stats(const struct bus *bus, unsigned int max);
bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned len);

#endif
