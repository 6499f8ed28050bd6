// SPDX-License-Identifier: MIT
/*
 * virtio-blk device model (virtio 1.x, section "Block Device"): request
 * parsing and execution over a disk backend, the device configuration
 * space, and a worker thread per disk that consumes the request queue.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "hostel/log.h"
#include "virtio/blk/aio.h"
#include "virtio/blk/blk.h"

#define SECTOR_SHIFT 9
#define SECTOR_SIZE  (1u << SECTOR_SHIFT)
#define HDR_SIZE     16u /* struct virtio_blk_outhdr: le32 type, le32 reserved, le64 sector */
/* Pushes between two interrupt checks while draining a busy queue. */
#define NOTIFY_BATCH 32
/* Status of a request handed to the I/O engine (not a virtio status). */
#define ST_PENDING 0x100

/* Where a request's parts are, computed from the chain (never from guest memory). */
struct req {
	uint64_t rd_total; /* device-readable bytes, header included */
	uint64_t wr_total; /* device-writable bytes, status included */
	uint8_t *status;
	uint32_t type;
	uint64_t sector;
};

/* A popped request: executed at once, or in flight in the I/O engine. */
struct slot {
	struct virtq_chain chain;
	struct req rq;
	struct blk_aio_req ar;
	struct slot *next_free;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

struct blk {
	struct blk_backend *be;
	uint64_t capacity; /* sectors */
	bool readonly;
	uint32_t seg_max;
	uint64_t offered;
	uint64_t negotiated; /* atomic: written by the transport, read by the worker */
	char serial[VIRTIO_BLK_ID_BYTES];
	uint8_t config[sizeof(struct virtio_blk_config)];

	/* Request scratch (requests executed by the worker). Sized by the chain limit. */
	struct iovec iov[VIRTQ_MAX_SEGS];
	struct virtio_blk_discard_write_zeroes dwz[BLK_DWZ_SEG_MAX];

	/* Worker. */
	pthread_t thread;
	bool running; /* owned by the blk_start/blk_stop caller */
	bool stop;    /* atomic: blk_stop asked the worker to exit */
	bool broken;  /* the worker saw a broken ring and stopped consuming */
	int stop_fd;  /* eventfd that wakes the worker to exit */
	int kick_fd;  /* the transport's queue-notify eventfd (not ours) */
	struct virtq *vq;
	struct blk_queue_cb cb;
	unsigned int unsignalled; /* pushes since the last interrupt check */

	/* Requests: BLK_INFLIGHT slots with an I/O engine, else one. */
	struct blk_aio *aio; /* NULL: every request runs on the worker */
	struct slot *slots[BLK_INFLIGHT];
	unsigned int nr_slots;
	struct slot *free_slots;
	unsigned int inflight; /* slots handed to the engine */
	bool queue_full;       /* stopped popping: no free slot */

	struct blk_stats stats;
};

#define STAT_ADD(b, field, n) __atomic_fetch_add(&(b)->stats.field, (n), __ATOMIC_RELAXED)

/* ---- config space, features ---------------------------------------------- */

uint32_t blk_config_size(void)
{
	return sizeof(struct virtio_blk_config);
}

static void build_config(struct blk *b, uint32_t size_max, bool discard, bool wz)
{
	struct virtio_blk_config c;

	/* virtio 1.x "Device configuration layout": little-endian, padding 0. */
	memset(&c, 0, sizeof(c));
	c.capacity = htole64(b->capacity);
	c.size_max = htole32(size_max);
	c.seg_max = htole32(b->seg_max);
	c.blk_size = htole32(SECTOR_SIZE);
	if (discard) {
		c.max_discard_sectors = htole32(BLK_DWZ_SECTORS_MAX);
		c.max_discard_seg = htole32(BLK_DWZ_SEG_MAX);
		/* 4 KiB: the host filesystem block, so punched holes free space. */
		c.discard_sector_alignment = htole32(8);
	}
	if (wz) {
		c.max_write_zeroes_sectors = htole32(BLK_DWZ_SECTORS_MAX);
		c.max_write_zeroes_seg = htole32(BLK_DWZ_SEG_MAX);
		c.write_zeroes_may_unmap = 1;
	}
	memcpy(b->config, &c, sizeof(c));
}

void blk_config_read(const struct blk *b, uint64_t off, void *data, unsigned len)
{
	uint8_t *d = data;

	for (unsigned i = 0; i < len; i++) {
		/* off + i cannot wrap into the structure: compare before adding. */
		d[i] = (off < sizeof(b->config) && i < sizeof(b->config) - off) ? b->config[off + i]
										: 0;
	}
}

void blk_config_write(struct blk *b, uint64_t off, const void *data, unsigned len)
{
	/* Every field is read-only (no VIRTIO_BLK_F_CONFIG_WCE offered). */
	(void)b;
	(void)off;
	(void)data;
	(void)len;
	log_ratelimited(LOG_DEBUG, "virtio-blk: config write at %#llx ignored",
			(unsigned long long)off);
}

uint64_t blk_features(const struct blk *b)
{
	return b->offered;
}

void blk_set_features(struct blk *b, uint64_t negotiated)
{
	__atomic_store_n(&b->negotiated, negotiated & b->offered, __ATOMIC_RELAXED);
}

static bool has_feature(const struct blk *b, unsigned bit)
{
	return (__atomic_load_n(&b->negotiated, __ATOMIC_RELAXED) >> bit) & 1;
}

uint64_t blk_capacity(const struct blk *b)
{
	return b->capacity;
}

void blk_get_stats(const struct blk *b, struct blk_stats *st)
{
	const uint64_t *src = (const uint64_t *)(const void *)&b->stats;
	uint64_t *dst = (uint64_t *)(void *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

struct blk *blk_create(struct blk_backend *be, const struct blk_opts *o)
{
	static const struct blk_opts defaults;
	struct blk *b;

	if (!o)
		o = &defaults;
	if (!be || !be->ops || !be->size || be->size % SECTOR_SIZE)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->stop_fd < 0) {
		free(b);
		return NULL;
	}
	b->be = be;
	b->capacity = be->size >> SECTOR_SHIFT;
	b->readonly = o->readonly || be->readonly;
	b->seg_max = o->seg_max ? o->seg_max : BLK_SEG_MAX_DEFAULT;
	/* A chain holds VIRTQ_MAX_SEGS segments, two of them header and status. */
	if (b->seg_max > VIRTQ_MAX_SEGS - 2)
		b->seg_max = VIRTQ_MAX_SEGS - 2;
	if (o->serial)
		memcpy(b->serial, o->serial, strnlen(o->serial, sizeof(b->serial)));
	b->kick_fd = -1;

	b->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC | 1ull << VIRTIO_BLK_F_SEG_MAX |
		     1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_BLK_F_FLUSH;
	if (b->readonly)
		b->offered |= 1ull << VIRTIO_BLK_F_RO;
	if (o->discard)
		b->offered |= 1ull << VIRTIO_BLK_F_DISCARD;
	if (o->write_zeroes)
		b->offered |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	build_config(b, o->size_max ? o->size_max : BLK_SIZE_MAX_DEFAULT, o->discard,
		     o->write_zeroes);

	/* An engine only for a backend that hands out fds (not the in-memory fakes). */
	if (be->ops->async_fd) {
		char what[48];

		snprintf(what, sizeof(what), "virtio-blk %s", b->serial[0] ? o->serial : "disk");
		b->aio = blk_aio_create(o->aio, BLK_INFLIGHT, what);
		if (!b->aio)
			goto err;
	}
	b->nr_slots = b->aio ? BLK_INFLIGHT : 1;
	for (unsigned int i = 0; i < b->nr_slots; i++) {
		b->slots[i] = malloc(sizeof(*b->slots[i]));
		if (!b->slots[i])
			goto err;
		b->slots[i]->next_free = b->free_slots;
		b->free_slots = b->slots[i];
	}
	return b;

err:
	for (unsigned int i = 0; i < b->nr_slots; i++)
		free(b->slots[i]);
	blk_aio_destroy(b->aio);
	close(b->stop_fd);
	free(b);
	return NULL;
}

const char *blk_aio_engine(const struct blk *b)
{
	return b->aio ? blk_aio_name(blk_aio_kind(b->aio)) : "none";
}

void blk_destroy(struct blk *b)
{
	if (!b)
		return;
	blk_stop(b);
	blk_aio_destroy(b->aio);
	for (unsigned int i = 0; i < b->nr_slots; i++)
		free(b->slots[i]);
	close(b->stop_fd);
	b->be->ops->close(b->be);
	free(b);
}

void blk_reset(struct blk *b)
{
	blk_stop(b);
	blk_set_features(b, 0);
}

/* ---- request parsing ----------------------------------------------------- */

/*
 * Check the chain description and find the status byte and the header.
 * A chain from virtq_pop() always passes the structural checks; they are
 * here for hand-built chains (tests, fuzzing) and as a defence.
 */
static int parse_chain(const struct virtq_chain *ch, struct req *rq)
{
	const struct virtq_seg *last;
	uint8_t hdr[HDR_SIZE];
	uint64_t got = 0;

	if (ch->nr_segs > VIRTQ_MAX_SEGS || ch->nr_read > ch->nr_segs)
		return -EINVAL;
	rq->rd_total = rq->wr_total = 0;
	for (unsigned i = 0; i < ch->nr_segs; i++) {
		const struct virtq_seg *s = &ch->segs[i];

		/* Readable first, then writable (virtio 1.x 2.7.4.2 for split rings). */
		if (s->write != (i >= ch->nr_read) || (s->len && !s->host))
			return -EINVAL;
		if (s->write)
			rq->wr_total += s->len;
		else
			rq->rd_total += s->len;
	}
	/* BAD-INPUTS 7: no writable status byte, or a header not device-readable. */
	if (ch->nr_segs == ch->nr_read)
		return -EINVAL;
	last = &ch->segs[ch->nr_segs - 1];
	if (!last->len || rq->rd_total < HDR_SIZE)
		return -EINVAL;
	rq->status = (uint8_t *)last->host + last->len - 1;

	/* Read the header once into a local copy (the guest may change it). */
	for (unsigned i = 0; i < ch->nr_read && got < HDR_SIZE; i++) {
		uint64_t n = MIN((uint64_t)ch->segs[i].len, HDR_SIZE - got);

		memcpy(hdr + got, ch->segs[i].host, n);
		got += n;
	}
	memcpy(&rq->type, hdr, sizeof(rq->type));
	memcpy(&rq->sector, hdr + 8, sizeof(rq->sector));
	rq->type = le32toh(rq->type);
	rq->sector = le64toh(rq->sector);
	return 0;
}

/*
 * iovecs for bytes [skip, skip+len) of segments [from, to) into @iov
 * (VIRTQ_MAX_SEGS entries). Zero-length pieces are left out. Returns the
 * count (<= to - from).
 */
static int build_iov(struct iovec *iov, const struct virtq_chain *ch, unsigned from, unsigned to,
		     uint64_t skip, uint64_t len)
{
	int n = 0;

	for (unsigned i = from; i < to && len; i++) {
		uint64_t l = ch->segs[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l = MIN(l - skip, len);
		iov[n].iov_base = (uint8_t *)ch->segs[i].host + skip;
		iov[n].iov_len = l;
		n++;
		len -= l;
		skip = 0;
	}
	return n;
}

/* Copy between @buf and the first @len bytes of b->iov[0..n). */
static void iov_copy(struct blk *b, int n, void *buf, size_t len, bool to_guest)
{
	uint8_t *p = buf;

	for (int i = 0; i < n && len; i++) {
		size_t l = MIN(b->iov[i].iov_len, len);

		if (to_guest)
			memcpy(b->iov[i].iov_base, p, l);
		else
			memcpy(p, b->iov[i].iov_base, l);
		p += l;
		len -= l;
	}
}

/* [sector, sector + bytes/512) inside the disk; no multiplication that can overflow. */
static bool range_ok(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	uint64_t n = bytes >> SECTOR_SHIFT;

	return sector <= b->capacity && n <= b->capacity - sector;
}

static uint8_t host_error(struct blk *b, const char *what, long err)
{
	STAT_ADD(b, host_errors, 1);
	log_ratelimited(LOG_WARN, "virtio-blk: %s failed: %s", what,
			err < 0 ? strerror((int)-err) : "short transfer");
	return VIRTIO_BLK_S_IOERR;
}

static uint8_t guest_error(const char *why, const struct req *rq)
{
	log_ratelimited(LOG_DEBUG, "virtio-blk: request type %u sector %llu: %s", rq->type,
			(unsigned long long)rq->sector, why);
	return VIRTIO_BLK_S_IOERR;
}

/* Writethrough when the driver did not negotiate FLUSH (virtio 1.x 5.2.6.2). */
static uint8_t after_write(struct blk *b)
{
	int r;

	if (has_feature(b, VIRTIO_BLK_F_FLUSH))
		return VIRTIO_BLK_S_OK;
	r = b->be->ops->flush(b->be);
	return r < 0 ? host_error(b, "writethrough flush", r) : VIRTIO_BLK_S_OK;
}

/*
 * Hand a validated read or write to the I/O engine when there is one and
 * the backend allows it: true, and the request is in flight in @s.
 */
static bool submit(struct blk *b, struct slot *s, const struct req *rq, bool wr, int n,
		   uint64_t len)
{
	uint64_t off = rq->sector << SECTOR_SHIFT;
	int fd;

	if (!s || !b->aio || !len)
		return false;
	fd = b->be->ops->async_fd(b->be, wr, s->iov, n, off);
	if (fd < 0)
		return false;
	s->rq = *rq;
	s->ar = (struct blk_aio_req){
		.fd = fd, .wr = wr, .iov = s->iov, .iovcnt = n, .off = off, .len = len};
	blk_aio_submit(b->aio, &s->ar);
	return true;
}

static int do_read(struct blk *b, const struct virtq_chain *ch, const struct req *rq,
		   struct slot *s, uint32_t *data_written)
{
	struct iovec *iov = s ? s->iov : b->iov;
	uint64_t len = rq->wr_total - 1;
	ssize_t r;
	int n;

	if (rq->rd_total != HDR_SIZE)
		return guest_error("readable data in a read", rq);
	if (len % SECTOR_SIZE || len >= UINT32_MAX)
		return guest_error("bad data length", rq);
	n = build_iov(iov, ch, ch->nr_read, ch->nr_segs, 0, len);
	if ((uint32_t)n > b->seg_max)
		return guest_error("more than seg_max segments", rq);
	if (!range_ok(b, rq->sector, len))
		return guest_error("beyond capacity", rq);
	STAT_ADD(b, reads, 1);
	if (submit(b, s, rq, false, n, len))
		return ST_PENDING;
	if (len) {
		r = b->be->ops->preadv(b->be, iov, n, rq->sector << SECTOR_SHIFT);
		if (r != (ssize_t)len)
			return host_error(b, "read", r);
	}
	STAT_ADD(b, read_bytes, len);
	*data_written = (uint32_t)len;
	return VIRTIO_BLK_S_OK;
}

static int do_write(struct blk *b, const struct virtq_chain *ch, const struct req *rq,
		    struct slot *s)
{
	struct iovec *iov = s ? s->iov : b->iov;
	uint64_t len = rq->rd_total - HDR_SIZE;
	ssize_t r;
	int n;

	/* virtio 1.x 5.2.6.2: RO offered -> IOERR and no data written. */
	if (b->readonly)
		return guest_error("write to a read-only disk", rq);
	if (rq->wr_total != 1)
		return guest_error("writable data in a write", rq);
	if (len % SECTOR_SIZE)
		return guest_error("bad data length", rq);
	n = build_iov(iov, ch, 0, ch->nr_read, HDR_SIZE, len);
	if ((uint32_t)n > b->seg_max)
		return guest_error("more than seg_max segments", rq);
	if (!range_ok(b, rq->sector, len))
		return guest_error("beyond capacity", rq);
	STAT_ADD(b, writes, 1);
	if (!len)
		return VIRTIO_BLK_S_OK;
	if (submit(b, s, rq, true, n, len))
		return ST_PENDING;
	r = b->be->ops->pwritev(b->be, iov, n, rq->sector << SECTOR_SHIFT);
	if (r != (ssize_t)len)
		return host_error(b, "write", r);
	STAT_ADD(b, write_bytes, len);
	return after_write(b);
}

static uint8_t do_get_id(struct blk *b, const struct virtq_chain *ch, const struct req *rq,
			 uint32_t *data_written)
{
	int n;

	/* The ID is 20 bytes, NUL-padded; a smaller buffer cannot hold it. */
	if (rq->wr_total - 1 < VIRTIO_BLK_ID_BYTES)
		return guest_error("GET_ID buffer under 20 bytes", rq);
	STAT_ADD(b, get_ids, 1);
	n = build_iov(b->iov, ch, ch->nr_read, ch->nr_segs, 0, VIRTIO_BLK_ID_BYTES);
	iov_copy(b, n, b->serial, VIRTIO_BLK_ID_BYTES, true);
	*data_written = VIRTIO_BLK_ID_BYTES;
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_discard_wz(struct blk *b, const struct virtq_chain *ch, const struct req *rq)
{
	bool discard = rq->type == VIRTIO_BLK_T_DISCARD;
	uint64_t len = rq->rd_total - HDR_SIZE, cnt;
	int n, r = 0;

	if (!has_feature(b, discard ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES)) {
		STAT_ADD(b, unsupported, 1);
		return VIRTIO_BLK_S_UNSUPP;
	}
	if (b->readonly)
		return guest_error("discard/write-zeroes on a read-only disk", rq);
	if (!len || len % sizeof(b->dwz[0]))
		return guest_error("bad range list length", rq);
	cnt = len / sizeof(b->dwz[0]);
	if (cnt > BLK_DWZ_SEG_MAX)
		return guest_error("more ranges than max_*_seg", rq);
	/* Copy the whole range list once, then decide on the copy. */
	n = build_iov(b->iov, ch, 0, ch->nr_read, HDR_SIZE, len);
	iov_copy(b, n, b->dwz, len, false);

	/* virtio 1.x 5.2.6.2: any unknown flag, or unmap on a discard -> UNSUPP. */
	for (uint64_t i = 0; i < cnt; i++) {
		uint32_t flags = le32toh(b->dwz[i].flags);

		if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) ||
		    (discard && (flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))) {
			STAT_ADD(b, unsupported, 1);
			return VIRTIO_BLK_S_UNSUPP;
		}
	}
	for (uint64_t i = 0; i < cnt; i++) {
		uint32_t num = le32toh(b->dwz[i].num_sectors);

		if (num > BLK_DWZ_SECTORS_MAX)
			return guest_error("range over max_*_sectors", rq);
		if (!range_ok(b, le64toh(b->dwz[i].sector), (uint64_t)num << SECTOR_SHIFT))
			return guest_error("range beyond capacity", rq);
	}
	if (discard)
		STAT_ADD(b, discards, 1);
	else
		STAT_ADD(b, write_zeroes, 1);
	for (uint64_t i = 0; i < cnt && r == 0; i++) {
		uint64_t off = le64toh(b->dwz[i].sector) << SECTOR_SHIFT;
		uint64_t bytes = (uint64_t)le32toh(b->dwz[i].num_sectors) << SECTOR_SHIFT;
		bool unmap = le32toh(b->dwz[i].flags) & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;

		if (!bytes)
			continue;
		if (discard)
			r = b->be->ops->discard(b->be, off, bytes);
		else
			r = b->be->ops->write_zeroes(b->be, off, bytes, unmap);
	}
	if (r < 0)
		return host_error(b, discard ? "discard" : "write zeroes", r);
	return after_write(b);
}

/*
 * blk_handle_chain(), or with @s (the slot holding @ch) possibly handing a
 * read or write to the engine: then 1, and nothing is written yet.
 */
static int handle(struct blk *b, const struct virtq_chain *ch, struct slot *s, uint32_t *written)
{
	uint32_t data = 0;
	struct req rq;
	int st;
	int r;

	*written = 0;
	if (!ch) {
		STAT_ADD(b, rejected, 1);
		return -EINVAL;
	}
	r = parse_chain(ch, &rq);
	if (r < 0) {
		STAT_ADD(b, rejected, 1);
		log_ratelimited(LOG_DEBUG, "virtio-blk: chain %u rejected (no status or header)",
				ch->head);
		return r;
	}
	switch (rq.type) {
	case VIRTIO_BLK_T_IN:
		st = do_read(b, ch, &rq, s, &data);
		break;
	case VIRTIO_BLK_T_OUT:
		st = do_write(b, ch, &rq, s);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Extra buffers on a flush are ignored, never touched. */
		STAT_ADD(b, flushes, 1);
		r = b->be->ops->flush(b->be);
		st = r < 0 ? host_error(b, "flush", r) : VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_GET_ID:
		st = do_get_id(b, ch, &rq, &data);
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		st = do_discard_wz(b, ch, &rq);
		break;
	default:
		STAT_ADD(b, unsupported, 1);
		log_ratelimited(LOG_DEBUG, "virtio-blk: unsupported request type %u", rq.type);
		st = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	if (st == ST_PENDING)
		return 1;
	if (st == VIRTIO_BLK_S_IOERR)
		STAT_ADD(b, io_errors, 1);
	if (st != VIRTIO_BLK_S_OK)
		data = 0; /* report only the status byte (buffers may be partly written) */
	*rq.status = (uint8_t)st;
	*written = data + 1;
	return 0;
}

int blk_handle_chain(struct blk *b, const struct virtq_chain *ch, uint32_t *written)
{
	return handle(b, ch, NULL, written);
}

/* ---- worker ---------------------------------------------------------------- */

static bool stop_requested(struct blk *b)
{
	return __atomic_load_n(&b->stop, __ATOMIC_ACQUIRE);
}

static void maybe_notify(struct blk *b)
{
	if (!b->unsignalled)
		return;
	b->unsignalled = 0;
	if (virtq_should_notify(b->vq) && b->cb.notify)
		b->cb.notify(b->cb.opaque);
}

static void put_slot(struct blk *b, struct slot *s)
{
	s->next_free = b->free_slots;
	b->free_slots = s;
}

static void pushed(struct blk *b)
{
	if (++b->unsignalled >= NOTIFY_BATCH)
		maybe_notify(b);
}

/*
 * Start one virtq_pop() result held in @s: executed at once and pushed, or
 * handed to the engine. false: the ring is broken, stop consuming.
 */
static bool start(struct blk *b, struct slot *s, int popped)
{
	uint32_t written = 0;
	int r;

	if (popped == -EINVAL) {
		/* A bad chain (virtq.h): no status can be trusted; len 0 and go on. */
		STAT_ADD(b, rejected, 1);
		virtq_push(b->vq, s->chain.head, 0);
	} else if (popped == 1) {
		r = handle(b, &s->chain, s, &written);
		if (r == 1) {
			b->inflight++;
			return true; /* the slot comes back at completion */
		}
		virtq_push(b->vq, s->chain.head, r < 0 ? 0 : written);
	} else {
		/* -EIO or anything unexpected: the ring state cannot be trusted. */
		put_slot(b, s);
		b->broken = true;
		log_ratelimited(LOG_WARN, "virtio-blk: request queue broken, needs reset");
		maybe_notify(b);
		if (b->cb.needs_reset)
			b->cb.needs_reset(b->cb.opaque);
		return false;
	}
	put_slot(b, s);
	pushed(b);
	return true;
}

/* Finish a request the engine completed: status byte, used entry. */
static void finish(struct blk *b, struct slot *s)
{
	const struct blk_aio_req *ar = &s->ar;
	ssize_t res = ar->res;
	uint32_t data = 0;
	uint8_t st;

	if (res != (ssize_t)ar->len && (res >= 0 || res == -EAGAIN || res == -EINTR)) {
		/* A short or refused transfer: the backend finishes or fails it here. */
		res = ar->wr ? b->be->ops->pwritev(b->be, ar->iov, ar->iovcnt, ar->off)
			     : b->be->ops->preadv(b->be, ar->iov, ar->iovcnt, ar->off);
	}
	if (res != (ssize_t)ar->len) {
		/* EIO, ENOSPC...: this request fails, the disk goes on. */
		st = host_error(b, ar->wr ? "write" : "read", res);
	} else if (ar->wr) {
		STAT_ADD(b, write_bytes, ar->len);
		st = after_write(b);
	} else {
		STAT_ADD(b, read_bytes, ar->len);
		st = VIRTIO_BLK_S_OK;
		data = (uint32_t)ar->len;
	}
	if (st == VIRTIO_BLK_S_IOERR)
		STAT_ADD(b, io_errors, 1);
	*s->rq.status = st;
	virtq_push(b->vq, s->chain.head, data + 1);
	b->inflight--;
	put_slot(b, s);
	pushed(b);
}

/* Finish every request the engine has completed. */
static void reap(struct blk *b)
{
	struct blk_aio_req *r = blk_aio_reap(b->aio), *next;

	for (; r; r = next) {
		next = r->next;
		finish(b, container_of(r, struct slot, ar));
	}
}

static void process_queue(struct blk *b)
{
	int r;

	for (;;) {
		struct slot *s = NULL;

		/* Suppress kicks while draining: we are going to look anyway. */
		virtq_set_notify(b->vq, false);
		b->queue_full = false;
		while (!stop_requested(b) && !b->broken) {
			s = b->free_slots;
			if (!s) {
				/* Every slot in flight: go on when one completes. */
				b->queue_full = true;
				break;
			}
			r = virtq_pop(b->vq, &s->chain);
			if (r == 0)
				break;
			b->free_slots = s->next_free;
			if (!start(b, s, r))
				break;
		}
		if (b->aio)
			blk_aio_kick(b->aio);
		maybe_notify(b);
		if (stop_requested(b) || b->broken || b->queue_full)
			return;
		/*
		 * Re-enabling ends with a full barrier (virtq.c) that pairs with
		 * the driver's between publishing avail->idx and reading
		 * used->flags / avail_event: either the re-check below sees its
		 * new buffer, or the driver sees kicks enabled and kicks.
		 */
		virtq_set_notify(b->vq, true);
		if (!virtq_has_avail(b->vq))
			return;
	}
}

/* Before exiting: every request in flight completes and is pushed. */
static void drain(struct blk *b)
{
	struct pollfd p = {.fd = b->aio ? blk_aio_event_fd(b->aio) : -1, .events = POLLIN};

	while (b->inflight) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR) {
			log_error("virtio-blk: waiting for requests in flight: %s",
				  strerror(errno));
			break;
		}
		reap(b);
	}
	maybe_notify(b);
}

static void *worker_main(void *arg)
{
	struct blk *b = arg;
	struct pollfd p[3] = {
		{.fd = b->stop_fd, .events = POLLIN},
		{.fd = b->kick_fd, .events = POLLIN},
		{.fd = b->aio ? blk_aio_event_fd(b->aio) : -1, .events = POLLIN},
	};
	uint64_t v;

	/* Buffers made available before the worker started get served too. */
	if (!stop_requested(b))
		process_queue(b);
	while (!stop_requested(b)) {
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("virtio-blk: worker poll failed: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			break;
		if (p[2].revents & POLLIN) {
			bool was_full = b->queue_full;

			reap(b);
			maybe_notify(b);
			/* Freed slots: pop what waited for one. */
			if (was_full && !b->broken)
				process_queue(b);
		}
		if (p[1].revents & (POLLERR | POLLNVAL)) {
			/* A dead kick fd: wait for blk_stop only (poll skips fd -1). */
			log_error("virtio-blk: queue notify fd failed; queue stalled");
			p[1].fd = -1;
			continue;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		/* The worker is the only reader of the kick eventfd: this cannot block. */
		if (read(b->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
			log_ratelimited(LOG_WARN, "virtio-blk: reading queue notify: %s",
					strerror(errno));
		if (!b->broken)
			process_queue(b);
	}
	drain(b);
	return NULL;
}

int blk_start(struct blk *b, struct virtq *vq, int kick_fd, const struct blk_queue_cb *cb)
{
	sigset_t all, old;
	int r;

	if (b->running)
		return -EBUSY;
	if (!vq || kick_fd < 0)
		return -EINVAL;
	b->vq = vq;
	b->kick_fd = kick_fd;
	b->cb = cb ? *cb : (struct blk_queue_cb){0};
	b->broken = false;
	b->queue_full = false;
	b->unsignalled = 0;
	__atomic_store_n(&b->stop, false, __ATOMIC_RELEASE);
	/* Signals (SIGTERM, SIGINT...) belong to the main thread, not to the worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&b->thread, NULL, worker_main, b);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		b->vq = NULL;
		return -r;
	}
	pthread_setname_np(b->thread, "blk-worker");
	b->running = true;
	return 0;
}

void blk_stop(struct blk *b)
{
	uint64_t one = 1;

	if (!b->running)
		return;
	__atomic_store_n(&b->stop, true, __ATOMIC_RELEASE);
	/* The eventfd counter cannot overflow here (one write per stop), so this cannot fail. */
	if (write(b->stop_fd, &one, sizeof(one)) < 0)
		log_error("virtio-blk: waking the worker: %s", strerror(errno));
	pthread_join(b->thread, NULL);
	/* Reset the eventfd counter for the next start (non-blocking fd). */
	if (read(b->stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_error("virtio-blk: draining stop eventfd: %s", strerror(errno));
	b->running = false;
	b->vq = NULL;
	b->kick_fd = -1;
}
