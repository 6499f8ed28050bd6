// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side (virtio 1.x, section "Split Virtqueues").
 *
 * Guest memory layout (all little-endian; virtio 1.x is LE on every host):
 *   descriptor table  desc:  size x { le64 addr; le32 len; le16 flags; le16 next; }
 *   available ring    avail: le16 flags; le16 idx; le16 ring[size]; le16 used_event;
 *   used ring         used:  le16 flags; le16 idx; { le32 id; le32 len; }[size];
 *                            le16 avail_event;
 * The struct and flag names come from <linux/virtio_ring.h> (VRING_*).
 *
 * Trust: everything in those three areas, and every indirect table, is
 * written by the guest, possibly while we read it. Each descriptor is copied
 * into a local once; each index and length is checked before use; a chain's
 * buffers are translated with gmem_ptr() over their whole range.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <linux/virtio_ring.h>

#include "hostel/log.h"
#include "virtq.h"

/* Offsets inside the rings (spec: "The Virtqueue Available Ring", "The Virtqueue Used Ring"). */
#define AVAIL_FLAGS	  0
#define AVAIL_IDX	  2
#define AVAIL_RING(i)	  (4 + 2 * (uint64_t)(i))
#define USED_FLAGS	  0
#define USED_IDX	  2
#define USED_ELEM(i)	  (4 + 8 * (uint64_t)(i))
#define DESC_SIZE	  16
#define AVAIL_BYTES(size) (6 + 2 * (uint64_t)(size)) /* flags, idx, ring, used_event */
#define USED_BYTES(size)  (6 + 8 * (uint64_t)(size)) /* flags, idx, ring, avail_event */
#define USED_EVENT(size)  AVAIL_RING(size)
#define AVAIL_EVENT(size) USED_ELEM(size)

_Static_assert(sizeof(struct vring_desc) == DESC_SIZE, "descriptor is 16 bytes");
_Static_assert(sizeof(struct vring_used_elem) == 8, "used element is 8 bytes");

/*
 * Ring fields are accessed with relaxed atomics: a single load or store the
 * compiler can neither tear nor repeat (the guest may change them at any
 * time). Alignment was checked in virtq_init().
 */
static inline uint16_t *ring16(uint8_t *base, uint64_t off)
{
	return (uint16_t *)(void *)(base + off);
}

static inline uint32_t *ring32(uint8_t *base, uint64_t off)
{
	return (uint32_t *)(void *)(base + off);
}

static inline uint16_t load16(uint8_t *base, uint64_t off)
{
	return le16toh(__atomic_load_n(ring16(base, off), __ATOMIC_RELAXED));
}

static inline void store16(uint8_t *base, uint64_t off, uint16_t v)
{
	__atomic_store_n(ring16(base, off), htole16(v), __ATOMIC_RELAXED);
}

static inline void store32(uint8_t *base, uint64_t off, uint32_t v)
{
	__atomic_store_n(ring32(base, off), htole32(v), __ATOMIC_RELAXED);
}

static bool inflight_test(const struct virtq *vq, uint16_t head)
{
	return vq->inflight[head / 64] & (1ULL << (head % 64));
}

static void inflight_set(struct virtq *vq, uint16_t head, bool on)
{
	if (on)
		vq->inflight[head / 64] |= 1ULL << (head % 64);
	else
		vq->inflight[head / 64] &= ~(1ULL << (head % 64));
}

/* Whole [gpa, gpa+len) inside RAM and the host pointer aligned to @align. */
static uint8_t *ring_area(const struct gmem *gm, uint64_t gpa, uint64_t len, uint64_t align)
{
	uint8_t *p;

	if (gpa & (align - 1))
		return NULL;
	p = gmem_ptr(gm, gpa, len);
	/* Aligned gpa, but a region mapped at an odd host offset would break atomics. */
	if (!p || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

int virtq_init(struct virtq *vq, const struct gmem *gm, const struct virtq_config *cfg)
{
	uint16_t n = cfg->size;

	virtq_reset(vq);
	/* Queue Size: a power of two (spec "Virtqueues"), at most what we offered. */
	if (!gm || n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	/* Alignment: "Virtqueue Alignment" table (16 / 2 / 4 bytes). */
	vq->desc_host = ring_area(gm, cfg->desc, DESC_SIZE * (uint64_t)n, VRING_DESC_ALIGN_SIZE);
	vq->avail_host = ring_area(gm, cfg->avail, AVAIL_BYTES(n), VRING_AVAIL_ALIGN_SIZE);
	vq->used_host = ring_area(gm, cfg->used, USED_BYTES(n), VRING_USED_ALIGN_SIZE);
	if (!vq->desc_host || !vq->avail_host || !vq->used_host) {
		virtq_reset(vq);
		return -EINVAL;
	}
	vq->gm = gm;
	vq->cfg = *cfg;
	/*
	 * Start from a known state the driver also assumes after a reset: used
	 * idx 0, notifications enabled, kick wanted for avail entry 0.
	 */
	store16(vq->used_host, USED_FLAGS, 0);
	store16(vq->used_host, USED_IDX, 0);
	if (cfg->event_idx)
		store16(vq->used_host, AVAIL_EVENT(n), 0);
	vq->ready = true;
	return 0;
}

static void mark_broken(struct virtq *vq, const char *why, unsigned v)
{
	vq->broken = true;
	log_ratelimited(LOG_WARN, "virtq: ring broken (%s %u), device needs reset", why, v);
}

/* Why a chain was rejected, for the rate-limited log. */
static int bad_chain(struct virtq *vq, struct virtq_chain *ch, const char *why)
{
	vq->stats_bad_chains++;
	ch->nr_segs = ch->nr_read = 0;
	ch->read_len = ch->write_len = 0;
	log_ratelimited(LOG_WARN, "virtq: bad chain at head %u: %s", ch->head, why);
	return -EINVAL;
}

/*
 * Walk the chain at @head into @ch. Spec "The Virtqueue Descriptor Table" and
 * "Indirect Descriptors": zero or more direct descriptors, optionally ending
 * in one INDIRECT descriptor (without NEXT) whose table holds the rest.
 *
 * Bounds: at most cfg.size descriptors are visited in the direct table and at
 * most the table's entry count in an indirect table, so any loop ends.
 *
 * Decisions the spec leaves to the device:
 *  - a zero-length descriptor names no bytes: it is skipped (no segment, its
 *    address is not translated) but still counts towards the walk bound and
 *    the readable-before-writable order;
 *  - the WRITE flag of the descriptor that points at an indirect table is
 *    ignored, as the spec requires of the device.
 */
static int walk_chain(struct virtq *vq, uint16_t head, struct virtq_chain *ch)
{
	const uint8_t *table = vq->desc_host;
	uint32_t entries = vq->cfg.size, budget = vq->cfg.size;
	bool indirect = false, seen_write = false;
	uint16_t i = head;

	ch->head = head;
	ch->nr_segs = ch->nr_read = 0;
	ch->read_len = ch->write_len = 0;
	for (;;) {
		struct vring_desc d;
		uint16_t flags;
		uint64_t addr;
		uint32_t len;

		if (budget == 0)
			return bad_chain(vq, ch,
					 indirect ? "loop in indirect table"
						  : "chain longer than the queue (loop)");
		budget--;
		/* i < entries holds here: head < size was checked, and each next below. */
		memcpy(&d, table + (uint64_t)i * DESC_SIZE, sizeof(d)); /* the one read */
		flags = le16toh(d.flags);
		addr = le64toh(d.addr);
		len = le32toh(d.len);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (!vq->cfg.indirect)
				return bad_chain(vq, ch, "INDIRECT not negotiated");
			if (indirect)
				return bad_chain(vq, ch, "nested INDIRECT");
			/* "The driver MUST NOT set both VIRTQ_DESC_F_INDIRECT and VIRTQ_DESC_F_NEXT". */
			if (flags & VRING_DESC_F_NEXT)
				return bad_chain(vq, ch, "INDIRECT with NEXT");
			if (len == 0 || len % DESC_SIZE || len / DESC_SIZE > VIRTQ_MAX_SEGS)
				return bad_chain(vq, ch, "bad indirect table length");
			table = gmem_ptr(vq->gm, addr, len);
			if (!table)
				return bad_chain(vq, ch, "indirect table outside RAM");
			indirect = true;
			entries = budget = len / DESC_SIZE;
			i = 0;
			continue;
		}

		bool write = flags & VRING_DESC_F_WRITE;
		if (!write && seen_write)
			return bad_chain(vq, ch, "readable descriptor after a writable one");
		seen_write |= write;

		if (len) {
			void *host;

			if (ch->nr_segs == VIRTQ_MAX_SEGS)
				return bad_chain(vq, ch, "too many segments");
			host = gmem_ptr(vq->gm, addr, len);
			if (!host)
				return bad_chain(vq, ch, "buffer outside RAM");
			ch->segs[ch->nr_segs] = (struct virtq_seg){
				.host = host, .gpa = addr, .len = len, .write = write};
			ch->nr_segs++;
			if (write) {
				ch->write_len += len;
			} else {
				ch->nr_read++;
				ch->read_len += len;
			}
		}

		if (!(flags & VRING_DESC_F_NEXT))
			return 1;
		i = le16toh(d.next);
		if (i >= entries)
			return bad_chain(vq, ch, "next index out of range");
	}
}

/*
 * With EVENT_IDX and notifications on, make sure avail_event names the next
 * entry we will consume. Returns true if it was (re)written, and then a full
 * barrier has been issued.
 */
static bool publish_avail_event(struct virtq *vq)
{
	if (vq->avail_event == vq->last_avail)
		return false;
	vq->avail_event = vq->last_avail;
	store16(vq->used_host, AVAIL_EVENT(vq->cfg.size), vq->last_avail);
	/*
	 * Full barrier: our avail_event store must be visible before we re-read
	 * avail->idx. Pairs with the driver's full barrier between its avail->idx
	 * store and its avail_event load when it decides whether to kick.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return true;
}

int virtq_pop(struct virtq *vq, struct virtq_chain *ch)
{
	uint16_t avail_idx, pending, head, size = vq->cfg.size;

	if (!vq->ready)
		return 0;
	if (vq->broken)
		return -EIO;

	/*
	 * Acquire: the ring entry and the descriptors it names are read after
	 * avail->idx. Pairs with the driver's write barrier between filling the
	 * descriptors and ring entry and storing avail->idx.
	 */
	avail_idx = le16toh(__atomic_load_n(ring16(vq->avail_host, AVAIL_IDX), __ATOMIC_ACQUIRE));
	if (avail_idx == vq->last_avail) {
		/*
		 * Empty. With notifications on, the driver must kick us for the
		 * next entry: publish the kick point, then look once more so an
		 * entry published just before the driver saw it is not missed.
		 */
		if (!vq->cfg.event_idx || vq->notify_off || !publish_avail_event(vq))
			return 0;
		avail_idx = le16toh(
			__atomic_load_n(ring16(vq->avail_host, AVAIL_IDX), __ATOMIC_ACQUIRE));
		if (avail_idx == vq->last_avail)
			return 0;
	}
	/* A driver can have at most size entries outstanding; more (or "backwards") is garbage. */
	pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending > size) {
		mark_broken(vq, "avail idx ahead by", pending);
		return -EIO;
	}

	head = load16(vq->avail_host, AVAIL_RING(vq->last_avail & (size - 1)));
	if (head >= size) {
		mark_broken(vq, "head index", head);
		return -EIO;
	}
	/* The driver reused a head it does not own (not yet on the used ring). */
	if (inflight_test(vq, head)) {
		mark_broken(vq, "head already in flight", head);
		return -EIO;
	}
	vq->last_avail++;
	vq->stats_popped++;
	inflight_set(vq, head, true);
	return walk_chain(vq, head, ch);
}

void virtq_unpop(struct virtq *vq, uint16_t head)
{
	if (!vq->ready || vq->broken)
		return;
	if (head >= vq->cfg.size || !inflight_test(vq, head)) {
		log_ratelimited(LOG_ERROR, "virtq: unpop of head %u that is not in flight", head);
		return;
	}
	inflight_set(vq, head, false);
	vq->last_avail--;
	vq->stats_popped--;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint16_t size = vq->cfg.size, slot;

	if (!vq->ready)
		return;
	if (head >= size || !inflight_test(vq, head)) {
		/* Device-side bug, not guest input; still never corrupt the ring. */
		log_ratelimited(LOG_ERROR, "virtq: push of head %u that is not in flight", head);
		return;
	}
	inflight_set(vq, head, false);
	slot = vq->used_idx & (size - 1);
	store32(vq->used_host, USED_ELEM(slot), head);
	store32(vq->used_host, USED_ELEM(slot) + 4, len);
	vq->used_idx++;
	/*
	 * Release: the element (and the data written into the buffers) is
	 * visible before the new used->idx. Pairs with the driver's read barrier
	 * between loading used->idx and reading the used element and buffers.
	 */
	__atomic_store_n(ring16(vq->used_host, USED_IDX), htole16(vq->used_idx), __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, now = vq->used_idx, size = vq->cfg.size;

	if (!vq->ready || old == now)
		return false;
	vq->signalled_used = now;
	/*
	 * Full barrier: used->idx is stored before used_event / avail->flags
	 * is loaded. Pairs with the driver's full barrier between storing
	 * used_event (or clearing NO_INTERRUPT) and re-reading used->idx.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->cfg.event_idx) {
		/* Spec "Used Buffer Notification Suppression": flags ignored, used_event rules. */
		uint16_t used_event = load16(vq->avail_host, USED_EVENT(size));
		return vring_need_event(used_event, now, old);
	}
	return !(load16(vq->avail_host, AVAIL_FLAGS) & VRING_AVAIL_F_NO_INTERRUPT);
}

void virtq_set_notify(struct virtq *vq, bool enable)
{
	if (!vq->ready)
		return;
	vq->notify_off = !enable;
	if (vq->cfg.event_idx) {
		/*
		 * Spec: with EVENT_IDX the device keeps used->flags at 0 and uses
		 * avail_event. Disabling writes nothing: once the driver's idx
		 * passes the old avail_event it stops kicking (an optimisation
		 * only, so one extra kick is harmless).
		 */
		if (enable && !publish_avail_event(vq))
			__atomic_thread_fence(__ATOMIC_SEQ_CST); /* as in publish_avail_event() */
		return;
	}
	store16(vq->used_host, USED_FLAGS, enable ? 0 : VRING_USED_F_NO_NOTIFY);
	if (enable) {
		/*
		 * Full barrier: flags cleared before the caller re-reads
		 * avail->idx. Pairs with the driver's full barrier between
		 * storing avail->idx and loading used->flags.
		 */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
}

bool virtq_has_avail(struct virtq *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	/* A plain look: virtq_pop() re-reads with acquire before using anything. */
	return load16(vq->avail_host, AVAIL_IDX) != vq->last_avail;
}

/* Copy between @buf and the readable (@write false) or writable part of @ch. */
static uint64_t chain_copy(const struct virtq_chain *ch, bool write, uint64_t off, void *buf,
			   uint64_t len)
{
	unsigned int first = write ? ch->nr_read : 0;
	unsigned int end = write ? ch->nr_segs : ch->nr_read;
	uint8_t *p = buf;
	uint64_t done = 0;

	for (unsigned int s = first; s < end && done < len; s++) {
		const struct virtq_seg *seg = &ch->segs[s];
		uint64_t n;

		if (off >= seg->len) {
			off -= seg->len;
			continue;
		}
		n = MIN((uint64_t)seg->len - off, len - done);
		if (write)
			memcpy((uint8_t *)seg->host + off, p + done, n);
		else
			memcpy(p + done, (uint8_t *)seg->host + off, n);
		done += n;
		off = 0;
	}
	return done;
}

uint64_t virtq_chain_read(const struct virtq_chain *ch, uint64_t off, void *dst, uint64_t len)
{
	return chain_copy(ch, false, off, dst, len);
}

uint64_t virtq_chain_write(const struct virtq_chain *ch, uint64_t off, const void *src,
			   uint64_t len)
{
	return chain_copy(ch, true, off, (void *)(uintptr_t)src, len);
}
