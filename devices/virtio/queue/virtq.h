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
 *  - a broken ring (avail index too far ahead or backwards, head index >=
 *    size, a head that is already in flight): the queue is marked broken and
 *    virtq_pop() returns -EIO from then on; the transport sets
 *    DEVICE_NEEDS_RESET.
 *
 * Threads: one thread uses a virtq at a time (the device's I/O thread); there
 * is no locking inside. The guest driver runs concurrently on other CPUs; the
 * barriers in virtq.c pair with the driver's (each is commented).
 *
 * Typical device loop (closes the race between "ring empty" and re-enabling
 * notifications):
 *
 *	for (;;) {
 *		virtq_set_notify(vq, false);	// optional: no kicks while busy
 *		while ((r = virtq_pop(vq, &ch)) != 0) {
 *			if (r == -EIO)
 *				return needs_reset();
 *			len = (r == 1) ? handle(&ch) : 0;	// -EINVAL: bad chain
 *			virtq_push(vq, ch.head, len);
 *		}
 *		virtq_set_notify(vq, true);	// includes a full barrier
 *		if (!virtq_has_avail(vq))	// re-check after re-enabling
 *			break;
 *	}
 *	if (virtq_should_notify(vq))
 *		raise_interrupt();
 *
 * A device that never disables notifications may simply pop until 0: while
 * notifications are enabled, a pop that finds the ring empty publishes the
 * kick point (avail_event) and re-checks after a full barrier itself.
 *
 * Header changes from the first declaration: virtq_has_avail(),
 * virtq_chain_read()/virtq_chain_write() helpers, host ring pointers and
 * an in-flight bitmap kept in struct virtq, signalled_valid dropped
 * (signalled_used starts at 0 with used_idx, so the first check is exact).
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
	uint32_t len; /* never 0: zero-length descriptors are skipped */
	bool write;   /* device-writable */
};

/*
 * A popped chain. Readable segments come first, then writable ones. Every
 * field is a host-side copy: the guest rewriting its descriptors after the
 * pop changes nothing here (the bytes behind seg.host are still guest
 * memory, of course, and may change under the device).
 */
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
	uint16_t signalled_used; /* used_idx at the last virtq_should_notify() */
	bool notify_off;	 /* virtq_set_notify(false) in force */
	uint16_t avail_event;	 /* last value written to avail_event (EVENT_IDX) */
	/*
	 * Host pointers to the three ring areas, translated and checked once by
	 * virtq_init(): guest RAM regions never move or shrink while a queue is
	 * live, and the transport refuses ring changes after DRIVER_OK.
	 */
	uint8_t *desc_host, *avail_host, *used_host;
	uint64_t inflight[VIRTQ_MAX_SIZE / 64]; /* heads popped and not yet pushed */
	uint64_t stats_bad_chains;		/* chains rejected with -EINVAL */
	uint64_t stats_popped;			/* avail entries consumed (good and bad chains) */
};

/*
 * Validate @cfg against guest RAM (sizes, alignment, whole ring areas inside
 * RAM, including used_event and avail_event) and reset the indices; writes
 * used->flags, used->idx (and avail_event) to 0. 0, or -EINVAL and the queue
 * stays not ready (every other call is then a no-op; pop returns 0).
 */
int virtq_init(struct virtq *vq, const struct gmem *gm,
	       const struct virtq_config *cfg) __must_check;

/* Forget the rings (device reset): not ready, not broken, nothing in flight. */
void virtq_reset(struct virtq *vq);

/*
 * Pop the next available chain. 1: a chain in *ch; 0: nothing available;
 * -EINVAL: the chain at ch->head is bad, ch has no segments (complete it with
 * virtq_push(vq, ch->head, 0) and continue); -EIO: the ring is broken (stop,
 * request a device reset). Each call consumes at most one avail entry and
 * reads avail->idx once (twice when it re-checks an empty ring after
 * publishing avail_event), so never more than cfg.size pops succeed per
 * avail->idx value the driver publishes (BAD-INPUTS 3). Nothing is written to
 * guest memory except avail_event on an empty ring (see virtq_set_notify).
 */
int virtq_pop(struct virtq *vq, struct virtq_chain *ch) __must_check;

/*
 * Give back the chain virtq_pop() returned last (1), unused, so the next pop
 * returns it again: for a device that took buffers for a frame and found
 * too few (virtio-net's merged receive buffers). Call in reverse pop order,
 * with no push in between; @head must be in flight (else counted as a
 * device bug and ignored). The driver cannot have reused the avail slot:
 * the chain is still its outstanding buffer.
 */
void virtq_unpop(struct virtq *vq, uint16_t head);

/*
 * Put @head on the used ring with @len bytes written, and publish used->idx.
 * @head must come from virtq_pop() (1 or -EINVAL) and be pushed once; other
 * heads are dropped and counted as a device bug.
 */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/*
 * After pushes: does the driver want an interrupt? With EVENT_IDX, the
 * vring_need_event() rule against used_event, since the used index of the
 * previous call; otherwise, unless VIRTQ_AVAIL_F_NO_INTERRUPT is set. False
 * when nothing was pushed since the previous call.
 */
bool virtq_should_notify(struct virtq *vq);

/*
 * Suppress (false) or allow (true) available-buffer notifications (kicks):
 * without EVENT_IDX through VIRTQ_USED_F_NO_NOTIFY in used->flags; with it,
 * re-enabling writes avail_event = last_avail (disabling writes nothing: the
 * driver stops kicking once its idx has passed avail_event). Enabling ends
 * with a full barrier; the caller must then re-check with virtq_has_avail()
 * or virtq_pop(), because buffers published before the driver could see the
 * change arrive without a kick.
 */
void virtq_set_notify(struct virtq *vq, bool enable);

/* Has the driver published entries not yet popped? False if broken/not ready. */
bool virtq_has_avail(struct virtq *vq);

/*
 * Copy helpers over a popped chain: read from the readable segments, or write
 * into the writable ones, starting @off bytes into that part of the chain.
 * Return the bytes copied (less than @len at the end of the buffers).
 */
uint64_t virtq_chain_read(const struct virtq_chain *ch, uint64_t off, void *dst, uint64_t len);
uint64_t virtq_chain_write(const struct virtq_chain *ch, uint64_t off, const void *src,
			   uint64_t len);

#endif
