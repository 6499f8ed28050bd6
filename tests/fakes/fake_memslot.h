/* SPDX-License-Identifier: MIT */
/*
 * A recording memslot_ctl for unit tests and fuzz targets: remembers the
 * one mapping made (as KVM would), and plays KVM's dirty log: the test
 * marks pages with fake_memslot_dirty() (what a guest write would do) and
 * get_dirty() hands them out and clears them. map() returns @map_ret when
 * it is negative; get_dirty() returns @dirty_ret when it is negative.
 *
 * Header-only (static inline). Not thread-safe.
 */
#ifndef FAKE_MEMSLOT_H
#define FAKE_MEMSLOT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "hostel/memslot.h"

#define FAKE_MEMSLOT_PAGES 65536 /* 256 MiB */

struct fake_memslot {
	struct memslot_ctl ctl;
	int map_ret, dirty_ret;
	unsigned int maps, unmaps, dirty_calls;
	bool mapped, log_dirty;
	uint64_t gpa, size;
	void *host;
	uint64_t dirty[FAKE_MEMSLOT_PAGES / 64];
};

static inline int fake_memslot_map(struct memslot_ctl *c, uint64_t gpa, uint64_t size, void *host,
				   bool log_dirty)
{
	struct fake_memslot *f = (struct fake_memslot *)c;

	f->maps++;
	if (f->map_ret < 0)
		return f->map_ret;
	if (f->mapped || size / MEMSLOT_PAGE > FAKE_MEMSLOT_PAGES)
		return -ENOSPC;
	f->mapped = true;
	f->gpa = gpa;
	f->size = size;
	f->host = host;
	f->log_dirty = log_dirty;
	return 5; /* any handle */
}

static inline void fake_memslot_unmap(struct memslot_ctl *c, int handle)
{
	struct fake_memslot *f = (struct fake_memslot *)c;

	if (handle == 5 && f->mapped) {
		f->mapped = false;
		f->unmaps++;
	}
}

static inline int fake_memslot_get_dirty(struct memslot_ctl *c, int handle, uint64_t *bitmap)
{
	struct fake_memslot *f = (struct fake_memslot *)c;
	uint64_t words = (f->size / MEMSLOT_PAGE + 63) / 64;

	f->dirty_calls++;
	if (handle != 5 || !f->mapped)
		return -EINVAL;
	if (f->dirty_ret < 0)
		return f->dirty_ret;
	memcpy(bitmap, f->dirty, words * sizeof(uint64_t));
	memset(f->dirty, 0, sizeof(f->dirty));
	return 0;
}

/* A guest write to [off, off + len) of the mapping. */
static inline void fake_memslot_dirty(struct fake_memslot *f, uint64_t off, uint64_t len)
{
	for (uint64_t p = off / MEMSLOT_PAGE;
	     len && p <= (off + len - 1) / MEMSLOT_PAGE && p < FAKE_MEMSLOT_PAGES; p++)
		f->dirty[p / 64] |= 1ull << (p % 64);
}

static inline void fake_memslot_init(struct fake_memslot *f)
{
	static const struct memslot_ops ops = {
		.map = fake_memslot_map,
		.unmap = fake_memslot_unmap,
		.get_dirty = fake_memslot_get_dirty,
	};

	memset(f, 0, sizeof(*f));
	f->ctl.ops = &ops;
}

#endif
