/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x, "Split Virtqueues"), device side, over
 * hostile guest memory. Every guest structure is read once into a local
 * copy; every [addr, addr+len) is translated as a whole range through gmem;
 * chains are bounded by the queue size (and an indirect table's length) so
 * loops end; indices are never trusted to index host arrays.
 *
 * Errors come in two kinds:
 *  - a bad chain (bad descriptor, direction error, range outside RAM): the
 *    chain is rejected, virtq_pop() returns -EINVAL with the head so the
 *    device can complete it with 0 bytes (or an error status) and go on;
 *  - a broken ring (avail index too far ahead, head index >= size): the
 *    queue is marked broken and virtq_pop() returns -EIO from then on; the
 *    transport sets DEVICE_NEEDS_RESET.
 */
#ifndef HOSTEL_VIRTQ_H
#define HOSTEL_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/gmem.h"

#define VIRTQ_MAX_SIZE 1024 /* queue_size_max offered by hostel's devices */
#define VIRTQ_MAX_SEGS 1024 /* segments in one chain (direct + indirect) */

/* What the driver configured (read by the transport from its registers). */
struct virtq_config {
	uint16_t size;	/* power of two, 1..VIRTQ_MAX_SIZE */
	uint64_t desc;	/* 16-byte aligned */
	uint64_t avail; /* 2-byte aligned */
	uint64_t used;	/* 4-byte aligned */
	bool event_idx; /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;	/* VIRTIO_F_INDIRECT_DESC negotiated */
};

/* One guest buffer of a chain, already translated (host pointer valid for len). */
struct virtq_seg {
	void *host;
	uint64_t gpa;
	uint32_t len;
	bool write; /* device-writable */
};

/* A popped chain. Readable segments come first, then writable ones. */
struct virtq_chain {
	uint16_t head;
	uint16_t nr_segs;
	uint16_t nr_read;	      /* segs[0..nr_read) readable, the rest writable */
	uint64_t read_len, write_len; /* totals (no u32 overflow: 64-bit sums) */
	struct virtq_seg segs[VIRTQ_MAX_SEGS];
};

struct virtq {
	const struct gmem *gm;
	struct virtq_config cfg;
	bool ready;  /* configured and validated */
	bool broken; /* ring inconsistent: needs a device reset */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used; /* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_valid;
	uint64_t stats_bad_chains, stats_popped;
};

/*
 * Validate @cfg against guest RAM (sizes, alignment, whole ring areas inside
 * RAM) and reset the indices. 0, or -EINVAL and the queue stays not ready.
 */
int virtq_init(struct virtq *vq, const struct gmem *gm,
	       const struct virtq_config *cfg) __must_check;
void virtq_reset(struct virtq *vq);

/*
 * Pop the next available chain. 1: a chain in *ch; 0: nothing available;
 * -EINVAL: the chain at ch->head is bad (complete it and continue);
 * -EIO: the ring is broken (stop, request a device reset).
 * Never more than cfg.size pops are possible between two avail->idx reads
 * that the device acts on (BAD-INPUTS 3).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *ch) __must_check;

/* Put @head on the used ring with @len bytes written. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/* After pushes: does the driver want an interrupt (EVENT_IDX / NO_INTERRUPT)? */
bool virtq_should_notify(struct virtq *vq);

/* Suppress or allow notifications (used->flags / avail_event) while polling. */
void virtq_set_notify(struct virtq *vq, bool enable);

#endif
