// SPDX-License-Identifier: MIT
/*
 * An address space as a sorted array of non-overlapping ranges.
 *
 * Ranges are added during setup (single-threaded) and never removed, so the
 * vCPU threads only ever read the array; the two unclaimed-access counters
 * are the only shared writes and are bumped atomically.
 *
 * Range ends are always computed as base + (len - 1), the last byte, so a
 * range may end exactly at 2^64 without the arithmetic wrapping.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "hostel/bus.h"
#include "hostel/log.h"

void bus_init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name ? name : "bus";
}

void bus_fini(struct bus *bus)
{
	free(bus->ranges);
	bus->ranges = NULL;
	bus->nr = 0;
	bus->cap = 0;
}

static uint64_t range_last(const struct bus_range *r)
{
	return r->base + (r->len - 1); /* bus_add guarantees no wrap */
}

/* Index of the first range whose base is > @addr (0..nr). */
static unsigned int upper_bound(const struct bus *bus, uint64_t addr)
{
	unsigned int lo = 0, hi = bus->nr;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		if (bus->ranges[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

_Static_assert(sizeof(size_t) >= 8, "bus_grow() relies on a 64-bit size_t");

static int bus_grow(struct bus *bus)
{
	unsigned int cap = bus->cap ? bus->cap * 2 : 8;
	struct bus_range *r;

	/* cap is an unsigned int, so cap * sizeof() cannot overflow a 64-bit size_t. */
	if (cap <= bus->cap)
		return -ENOMEM;
	r = realloc(bus->ranges, cap * sizeof(*r));
	if (!r)
		return -ENOMEM;
	bus->ranges = r;
	bus->cap = cap;
	return 0;
}

int bus_add(struct bus *bus, uint64_t base, uint64_t len, struct dev *dev)
{
	uint64_t last;
	unsigned int i;

	if (!len || !dev || base + (len - 1) < base)
		return -EINVAL;
	last = base + (len - 1);

	/*
	 * i is where the new range goes: every range before it starts at or
	 * below @base, every range from it on starts above @base.
	 */
	i = upper_bound(bus, base);
	if (i > 0 && range_last(&bus->ranges[i - 1]) >= base)
		return -EEXIST;
	if (i < bus->nr && bus->ranges[i].base <= last)
		return -EEXIST;

	if (bus->nr == bus->cap) {
		int ret = bus_grow(bus);
		if (ret)
			return ret;
	}
	memmove(&bus->ranges[i + 1], &bus->ranges[i], (bus->nr - i) * sizeof(bus->ranges[0]));
	bus->ranges[i] = (struct bus_range){.base = base, .len = len, .dev = dev};
	bus->nr++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *bus, uint64_t addr)
{
	unsigned int i = upper_bound(bus, addr);

	if (i == 0)
		return NULL;
	const struct bus_range *r = &bus->ranges[i - 1];
	return addr <= range_last(r) ? r : NULL;
}

/*
 * The range that holds all of [addr, addr + len), or NULL when the access is
 * unclaimed, straddles a boundary, wraps past 2^64 or has a length outside
 * 1..8 (the widest access a vCPU exit can carry).
 */
static const struct bus_range *bus_claim(const struct bus *bus, uint64_t addr, unsigned len)
{
	const struct bus_range *r;

	if (len < 1 || len > 8)
		return NULL;
	if (addr + (len - 1) < addr)
		return NULL;
	r = bus_find(bus, addr);
	if (!r || addr + (len - 1) > range_last(r))
		return NULL;
	return r;
}

#define BUS_STATS_MAX 256

bool bus_read(struct bus *bus, uint64_t addr, void *data, unsigned len)
{
	const struct bus_range *r = bus_claim(bus, addr, len);

	if (!r) {
		/* Open bus: all-ones, as an ISA/PCI read nobody answers. */
		memset(data, 0xff, len);
		__atomic_fetch_add(&bus->unclaimed_reads, 1, __ATOMIC_RELAXED);
		log_ratelimited(LOG_DEBUG, "%s: unclaimed read at 0x%" PRIx64 " len %u", bus->name,
				addr, len);
		return false;
	}
	__atomic_fetch_add(&bus->ranges[r - bus->ranges].reads, 1, __ATOMIC_RELAXED);
	if (r->dev->ops && r->dev->ops->read)
		r->dev->ops->read(r->dev, addr - r->base, data, len);
	else
		memset(data, 0xff, len); /* a write-only device */
	return true;
}

bool bus_write(struct bus *bus, uint64_t addr, const void *data, unsigned len)
{
	const struct bus_range *r = bus_claim(bus, addr, len);

	if (!r) {
		__atomic_fetch_add(&bus->unclaimed_writes, 1, __ATOMIC_RELAXED);
		log_ratelimited(LOG_DEBUG, "%s: unclaimed write at 0x%" PRIx64 " len %u", bus->name,
				addr, len);
		return false;
	}
	__atomic_fetch_add(&bus->ranges[r - bus->ranges].writes, 1, __ATOMIC_RELAXED);
	if (r->dev->ops && r->dev->ops->write)
		r->dev->ops->write(r->dev, addr - r->base, data, len);
	return true;
}

void bus_log_stats(const struct bus *bus, unsigned int max)
{
	bool done[BUS_STATS_MAX] = {false};
	unsigned int n = MIN(bus->nr, (unsigned int)BUS_STATS_MAX);

	for (unsigned int k = 0; k < max && k < n; k++) {
		unsigned int best = n;
		uint64_t most = 0;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t c = bus->ranges[i].reads + bus->ranges[i].writes;
			if (!done[i] && c > most) {
				most = c;
				best = i;
			}
		}
		if (best == n)
			break;
		done[best] = true;
		const struct bus_range *r = &bus->ranges[best];
		log_debug("%s 0x%" PRIx64 "+0x%" PRIx64 ": %" PRIu64 " reads, %" PRIu64 " writes",
			  bus->name, r->base, r->len, r->reads, r->writes);
	}
	log_debug("%s unclaimed: %" PRIu64 " reads, %" PRIu64 " writes", bus->name,
		  bus->unclaimed_reads, bus->unclaimed_writes);
}
