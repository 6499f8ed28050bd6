/* SPDX-License-Identifier: MIT */
/*
 * Driver-side split-virtqueue harness over fake guest RAM, for the unit tests
 * and fuzz targets of devices built on devices/virtio/queue (virtq, blk, net).
 *
 * It plays the guest driver: lays out a descriptor table, available and used
 * ring in one calloc'd RAM region, hands out data buffers, builds descriptor
 * chains (direct, indirect, or direct followed by one indirect descriptor),
 * publishes their heads in the avail ring and reads completions back from the
 * used ring, with the barriers a driver uses. Raw writers let tests build the
 * malformed rings a hostile guest would.
 *
 *	struct ring_harness h;
 *	rh_init(&h, 8, RH_DEFAULT_RAM);			// queue size 8
 *	struct virtq_config cfg = rh_config(&h);	// hand to virtq_init()
 *	uint64_t req = rh_alloc(&h, 16), st = rh_alloc(&h, 1);
 *	struct rh_buf b[] = {{req, 16, false}, {st, 1, true}};
 *	uint16_t head = rh_submit(&h, b, 2);		// build + publish
 *	...device pops and pushes...
 *	uint32_t id, len;
 *	while (rh_get_used(&h, &id, &len)) ...
 *	rh_fini(&h);
 *
 * Header-only (static inline), so each test or fuzz target just includes it.
 * Descriptors are taken round-robin from the table; the harness does not
 * track which are free (tests keep fewer than size chains in flight).
 * Errors in the harness's own use (out of buffer space, bad arguments) make
 * it return 0 / RH_NO_HEAD rather than abort, so fuzz targets can use it with
 * arbitrary parameters.
 */
#ifndef RING_HARNESS_H
#define RING_HARNESS_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_ring.h>

#include "hostel/gmem.h"
#include "virtio/queue/virtq.h"

#define RH_RAM_GPA     0x100000ULL /* gpa 0 is outside RAM: handy for "outside RAM" tests */
#define RH_DEFAULT_RAM 0x100000ULL
#define RH_NO_HEAD     0xffff

/* One buffer of a chain, as the driver describes it. */
struct rh_buf {
	uint64_t addr;
	uint32_t len;
	bool write; /* device-writable */
};

struct ring_harness {
	struct gmem gm; /* the fake guest's RAM; tests may gmem_add() more regions */
	uint8_t *ram;
	uint64_t ram_gpa, ram_size;
	uint16_t size;
	bool event_idx, indirect; /* features rh_config() reports; set before it */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint64_t data_gpa, data_next; /* bump allocator for buffers and indirect tables */
	uint16_t next_desc;	      /* round-robin descriptor cursor */
	uint16_t avail_idx;	      /* driver's shadow of avail->idx */
	uint16_t last_used;	      /* driver's consumer index on the used ring */
};

static inline uint64_t rh_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* Host pointer for [gpa, gpa+len) in the harness RAM region only, or NULL. */
static inline void *rh_host(struct ring_harness *h, uint64_t gpa, uint64_t len)
{
	if (gpa < h->ram_gpa || gpa - h->ram_gpa > h->ram_size ||
	    len > h->ram_size - (gpa - h->ram_gpa))
		return NULL;
	return h->ram + (gpa - h->ram_gpa);
}

static inline void rh_w16(struct ring_harness *h, uint64_t gpa, uint16_t v)
{
	uint16_t *p = (uint16_t *)rh_host(h, gpa, 2);
	if (p)
		__atomic_store_n(p, htole16(v), __ATOMIC_RELAXED);
}

static inline uint16_t rh_r16(struct ring_harness *h, uint64_t gpa)
{
	uint16_t *p = (uint16_t *)rh_host(h, gpa, 2);
	return p ? le16toh(__atomic_load_n(p, __ATOMIC_RELAXED)) : 0;
}

static inline uint32_t rh_r32(struct ring_harness *h, uint64_t gpa)
{
	uint32_t *p = (uint32_t *)rh_host(h, gpa, 4);
	return p ? le32toh(__atomic_load_n(p, __ATOMIC_RELAXED)) : 0;
}

/*
 * Queue of @size entries (not validated: tests may pass bad sizes to
 * virtq_init through rh_config) in @ram_size bytes of zeroed RAM at
 * RH_RAM_GPA. Rings at the start, naturally aligned; buffers after them.
 * 0 or -1 (out of memory, RAM too small).
 */
static inline int rh_init(struct ring_harness *h, uint16_t size, uint64_t ram_size)
{
	memset(h, 0, sizeof(*h));
	h->size = size;
	h->ram_gpa = RH_RAM_GPA;
	h->ram_size = ram_size;
	h->desc_gpa = RH_RAM_GPA;
	h->avail_gpa = h->desc_gpa + 16ULL * size;
	h->used_gpa = rh_align(h->avail_gpa + 6 + 2ULL * size, 16);
	h->data_gpa = rh_align(h->used_gpa + 6 + 8ULL * size, 4096);
	h->data_next = h->data_gpa;
	if (h->data_gpa - RH_RAM_GPA > ram_size)
		return -1;
	h->ram = (uint8_t *)aligned_alloc(4096, rh_align(ram_size, 4096));
	if (!h->ram)
		return -1;
	memset(h->ram, 0, ram_size);
	if (gmem_add(&h->gm, h->ram_gpa, ram_size, h->ram)) {
		free(h->ram);
		h->ram = NULL;
		return -1;
	}
	return 0;
}

/*
 * Zeroed rings and a fresh driver state on the same RAM and config (a
 * driver starting over after a device reset); data buffers are reused
 * from the start.
 */
static inline void rh_reset(struct ring_harness *h)
{
	memset(h->ram, 0, h->data_gpa - h->ram_gpa);
	h->next_desc = h->avail_idx = h->last_used = 0;
	h->data_next = h->data_gpa;
}

static inline void rh_fini(struct ring_harness *h)
{
	free(h->ram);
	h->ram = NULL;
}

/* The configuration a driver would program into the transport. */
static inline struct virtq_config rh_config(const struct ring_harness *h)
{
	struct virtq_config c = {
		.size = h->size,
		.desc = h->desc_gpa,
		.avail = h->avail_gpa,
		.used = h->used_gpa,
		.event_idx = h->event_idx,
		.indirect = h->indirect,
	};
	return c;
}

/* @len bytes of buffer space, 16-byte aligned and zeroed; its gpa, or 0 when out of space. */
static inline uint64_t rh_alloc(struct ring_harness *h, uint64_t len)
{
	uint64_t gpa = h->data_next;
	void *p = rh_host(h, gpa, len);

	if (!p || !len)
		return 0;
	memset(p, 0, len);
	h->data_next = rh_align(gpa + len, 16);
	return gpa;
}

/*
 * Rings for a second queue of @size entries (a device with several
 * queues), carved from the buffer space, zeroed and aligned; the harness's
 * own helpers keep driving the first queue. .size is 0 when out of space.
 */
static inline struct virtq_config rh_extra_rings(struct ring_harness *h, uint16_t size)
{
	struct virtq_config c = {.size = size, .event_idx = h->event_idx, .indirect = h->indirect};

	c.desc = rh_alloc(h, 16ULL * size);
	c.avail = rh_alloc(h, 6 + 2ULL * size);
	c.used = rh_alloc(h, 6 + 8ULL * size);
	if (!c.desc || !c.avail || !c.used)
		c.size = 0;
	return c;
}

/* Raw descriptor writers: entry @i of the queue's table, or of a table at @table_gpa. */
static inline void rh_write_desc_at(struct ring_harness *h, uint64_t table_gpa, uint16_t i,
				    uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr),
		.len = htole32(len),
		.flags = htole16(flags),
		.next = htole16(next),
	};
	void *p = rh_host(h, table_gpa + 16ULL * i, 16);

	if (p)
		memcpy(p, &d, sizeof(d));
}

static inline void rh_write_desc(struct ring_harness *h, uint16_t i, uint64_t addr, uint32_t len,
				 uint16_t flags, uint16_t next)
{
	if (i < h->size)
		rh_write_desc_at(h, h->desc_gpa, i, addr, len, flags, next);
}

/* Read back entry @i of a descriptor table (for tests checking nothing was written). */
static inline struct vring_desc rh_read_desc_at(struct ring_harness *h, uint64_t table_gpa,
						uint16_t i)
{
	struct vring_desc d = {0};
	void *p = rh_host(h, table_gpa + 16ULL * i, 16);

	if (p)
		memcpy(&d, p, sizeof(d));
	return d;
}

static inline uint16_t rh_take_desc(struct ring_harness *h)
{
	uint16_t i = h->next_desc;

	h->next_desc = (uint16_t)((h->next_desc + 1) % h->size);
	return i;
}

/*
 * Build a chain: @nd direct descriptors for @direct[], then, if @ni > 0, one
 * INDIRECT descriptor whose freshly allocated table holds @indirect[] (the
 * spec's "zero or more normal descriptors followed by a single indirect
 * one"). Not published. Returns the head, or RH_NO_HEAD if it does not fit.
 */
static inline uint16_t rh_add(struct ring_harness *h, const struct rh_buf *direct, unsigned nd,
			      const struct rh_buf *indirect, unsigned ni)
{
	unsigned total = nd + (ni ? 1 : 0);
	uint16_t idx[VIRTQ_MAX_SIZE];
	uint64_t table = 0;

	if (!h->size || total == 0 || total > h->size || total > VIRTQ_MAX_SIZE)
		return RH_NO_HEAD;
	if (ni) {
		table = rh_alloc(h, 16ULL * ni);
		if (!table)
			return RH_NO_HEAD;
		for (unsigned k = 0; k < ni; k++) {
			uint16_t f = (uint16_t)((indirect[k].write ? VRING_DESC_F_WRITE : 0) |
						(k + 1 < ni ? VRING_DESC_F_NEXT : 0));
			rh_write_desc_at(h, table, (uint16_t)k, indirect[k].addr, indirect[k].len,
					 f, (uint16_t)(k + 1 < ni ? k + 1 : 0));
		}
	}
	for (unsigned k = 0; k < total; k++)
		idx[k] = rh_take_desc(h);
	for (unsigned k = 0; k < nd; k++) {
		uint16_t f = (uint16_t)((direct[k].write ? VRING_DESC_F_WRITE : 0) |
					(k + 1 < total ? VRING_DESC_F_NEXT : 0));
		rh_write_desc(h, idx[k], direct[k].addr, direct[k].len, f,
			      k + 1 < total ? idx[k + 1] : 0);
	}
	if (ni)
		rh_write_desc(h, idx[nd], table, (uint32_t)(16U * ni), VRING_DESC_F_INDIRECT, 0);
	return idx[0];
}

/* Put @head in the next avail slot, then publish avail->idx (as a driver does). */
static inline void rh_publish(struct ring_harness *h, uint16_t head)
{
	if (!h->size)
		return;
	rh_w16(h, h->avail_gpa + 4 + 2ULL * (h->avail_idx % h->size), head);
	h->avail_idx++;
	/* Release: ring entry and descriptors before idx (pairs with virtq_pop's acquire). */
	__atomic_store_n((uint16_t *)rh_host(h, h->avail_gpa + 2, 2), htole16(h->avail_idx),
			 __ATOMIC_RELEASE);
}

/* Build and publish a direct chain; its head or RH_NO_HEAD. */
static inline uint16_t rh_submit(struct ring_harness *h, const struct rh_buf *b, unsigned n)
{
	uint16_t head = rh_add(h, b, n, NULL, 0);

	if (head != RH_NO_HEAD)
		rh_publish(h, head);
	return head;
}

/* Build and publish a chain that is one INDIRECT descriptor; its head or RH_NO_HEAD. */
static inline uint16_t rh_submit_indirect(struct ring_harness *h, const struct rh_buf *b,
					  unsigned n)
{
	uint16_t head = rh_add(h, NULL, 0, b, n);

	if (head != RH_NO_HEAD)
		rh_publish(h, head);
	return head;
}

/* Raw avail-ring writers, for malformed rings: one slot, and avail->idx itself. */
static inline void rh_set_avail_slot(struct ring_harness *h, uint16_t slot, uint16_t head)
{
	if (h->size)
		rh_w16(h, h->avail_gpa + 4 + 2ULL * (slot % h->size), head);
}

static inline void rh_set_avail_idx(struct ring_harness *h, uint16_t idx)
{
	h->avail_idx = idx;
	__atomic_store_n((uint16_t *)rh_host(h, h->avail_gpa + 2, 2), htole16(idx),
			 __ATOMIC_RELEASE);
}

/* Notification controls the driver owns: avail->flags and used_event. */
static inline void rh_set_avail_flags(struct ring_harness *h, uint16_t flags)
{
	rh_w16(h, h->avail_gpa, flags);
}

static inline void rh_set_used_event(struct ring_harness *h, uint16_t v)
{
	rh_w16(h, h->avail_gpa + 4 + 2ULL * h->size, v);
}

/* What the device wrote: used->flags, used->idx, avail_event. */
static inline uint16_t rh_used_flags(struct ring_harness *h)
{
	return rh_r16(h, h->used_gpa);
}

static inline uint16_t rh_used_idx(struct ring_harness *h)
{
	uint16_t *p = (uint16_t *)rh_host(h, h->used_gpa + 2, 2);
	/* Acquire: read the element after the index (pairs with virtq_push's release). */
	return p ? le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE)) : 0;
}

static inline uint16_t rh_avail_event(struct ring_harness *h)
{
	return rh_r16(h, h->used_gpa + 4 + 8ULL * h->size);
}

/* Used element in slot @slot (raw, for tests). */
static inline void rh_used_elem(struct ring_harness *h, uint16_t slot, uint32_t *id, uint32_t *len)
{
	uint64_t e = h->used_gpa + 4 + 8ULL * (slot % h->size);

	*id = rh_r32(h, e);
	*len = rh_r32(h, e + 4);
}

/* Next completion, as a driver reaps it: true with id/len, false when none is new. */
static inline bool rh_get_used(struct ring_harness *h, uint32_t *id, uint32_t *len)
{
	if (!h->size || rh_used_idx(h) == h->last_used)
		return false;
	rh_used_elem(h, h->last_used, id, len);
	h->last_used++;
	return true;
}

/*
 * Would the driver kick after publishing entries [old, avail_idx)? With
 * EVENT_IDX the vring_need_event rule against avail_event, else used->flags.
 */
static inline bool rh_kick_needed(struct ring_harness *h, uint16_t old)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* avail->idx before flags/avail_event */
	if (h->event_idx)
		return vring_need_event(rh_avail_event(h), h->avail_idx, old);
	return !(rh_used_flags(h) & VRING_USED_F_NO_NOTIFY);
}

#endif
