// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for virtio-console output (devices/virtio/console/vcon.c)
 * over a real transmit virtqueue on 64 KiB of fake guest RAM
 * (tests/fakes/ring_harness.h). The input plays a driver that publishes
 * mostly-valid transmit chains - direct, indirect or both, with zero-length
 * buffers, with buffers sharing memory so that a chain outgrows the
 * device's 64 KiB bounce buffer - and now and then a bad one (a
 * device-writable buffer after the data, a writable buffer first, a buffer
 * crossing the end of RAM, an indirect table without the feature), plus
 * raw ring corruption and resets. The worker is played synchronously, as in
 * fuzz_vpci.c: pop, vcon_handle_chain, push with length 0, so every run is
 * deterministic.
 *
 * Checked:
 *  - every popped chain with readable buffers only is accepted and
 *    delivered whole, in order: the callback output matches the popped
 *    bytes after every chain, a regular file holds exactly the stream at
 *    the end (both compared by length and FNV-1a hash), a dead pipe counts
 *    one write error per non-empty chain and delivers nothing, /dev/null
 *    takes every byte;
 *  - a chain with a device-writable buffer is rejected and delivers
 *    nothing; the counters add up (chains, bad_chains, bytes + dropped);
 *  - while the driver has not corrupted the rings: chains come back in the
 *    order published, with length 0; the ones it built valid are accepted
 *    with exactly the bytes it wrote; the ones it built bad are rejected by
 *    the virtqueue or the console as expected; the ring never breaks.
 *
 * Input: byte 0: bits 0-2 queue size 2^(b % 7), bit 3 EVENT_IDX, bit 4
 * INDIRECT_DESC, bits 5-6 output (callback, regular file, dead pipe,
 * /dev/null). Then operations, an opcode byte each:
 *   op % 8 in 0-3: submit a chain: a shape byte (bits 0-2 buffers - 1,
 *       bit 3 indirect, bits 4-5 a bad buffer: 1 writable after the data,
 *       2 crossing the end of RAM, 3 writable first; bit 6 the first
 *       buffer of length 0, bit 7 all buffers share one region), with
 *       indirect a byte of how many buffers stay direct, then 2 bytes of
 *       length per buffer (11 bits, 14 when shared);
 *   4-5: run the worker until the ring is empty, then reap;
 *   6: write a byte (2-byte offset, value) into the ring area (corrupts);
 *   7: op >> 3: 0-7 move avail->idx ahead (corrupts), 8-15 reset the queue
 *       and start over on zeroed rings, 16-31 set avail->flags / used_event.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "hostel/log.h"
#include "ring_harness.h"
#include "virtio/console/vcon.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM	   0x10000u
#define MAX_BUFS   8
#define MAX_CHAINS 256	      /* published, not reaped: at most the queue size (64) */
#define OUT_BUDGET (8u << 20) /* no new chains once this much was delivered */
#define TAINT_CAP  (1u << 20) /* corrupted chains over this are skipped, not delivered */
#define ZONE_ALIGN 16

enum out_kind { OUT_CALLBACK, OUT_MEMFD, OUT_DEAD_PIPE, OUT_DEVNULL };

/* FNV-1a, 64-bit: the output streams are compared by length and this. */
static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

#define FNV_INIT 0xcbf29ce484222325ull

/* A chain as the driver published it. */
struct pub {
	uint16_t head;
	uint16_t ndesc;	 /* descriptors of the queue's own table it holds */
	bool pop_ok;	 /* the virtqueue must accept it */
	bool console_ok; /* ... and the console deliver it */
	bool shared;	 /* buffers share memory: no pattern check */
	uint32_t len;	 /* readable bytes */
	uint64_t seq;	 /* pattern offset of its first byte */
};

static struct {
	struct ring_harness h;
	struct virtq vq;
	struct vcon *c;
	enum out_kind kind;
	int fd;
	uint16_t qsize;
	bool event_idx, indirect;
	bool tainted; /* the driver corrupted the rings: device-side checks only */
	bool broken;
	/* Driver. */
	struct pub pubs[MAX_CHAINS];
	unsigned int pub_head, pub_tail, reap_tail; /* [tail, head): not popped yet */
	unsigned int desc_inflight;
	uint64_t zone_gpa, zone_len, zone_off; /* buffers and indirect tables */
	uint64_t seq;
	/* Device-side oracle: what the output must have received. */
	uint64_t want_len, want_hash, good, bad, nonempty;
	uint64_t got_len, got_hash; /* what the callback received */
} F;

static struct virtq_chain chain;

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 29 + (off >> 8) + 5);
}

static void out_fn(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	CHECK(len > 0);
	F.got_hash = fnv(F.got_hash, buf, len);
	F.got_len += len;
}

static uint64_t zone_need(uint64_t len)
{
	return (len + ZONE_ALIGN - 1) & ~(uint64_t)(ZONE_ALIGN - 1);
}

/* Space in the buffer zone; all of it is free again after a full worker step. */
static uint64_t zone_alloc(uint64_t len)
{
	uint64_t a = zone_need(len);

	CHECK(a <= F.zone_len - F.zone_off); /* callers reserve first */
	F.zone_off += a;
	return F.zone_gpa + F.zone_off - a;
}

static void rings_start(void)
{
	struct virtq_config cfg;

	memset(F.h.ram, 0, RAM);
	F.h.next_desc = F.h.avail_idx = F.h.last_used = 0;
	cfg = rh_config(&F.h);
	CHECK(virtq_init(&F.vq, &F.h.gm, &cfg) == 0);
	F.zone_gpa = F.h.data_gpa;
	F.zone_len = RAM - (F.h.data_gpa - F.h.ram_gpa);
	F.zone_off = 0;
	F.pub_head = F.pub_tail = F.reap_tail = 0;
	F.desc_inflight = 0;
	F.tainted = F.broken = false;
}

/* ---- the worker, played synchronously ------------------------------------------- */

static void one_chain(int r)
{
	struct pub *p = NULL;

	if (!F.tainted) {
		CHECK(F.pub_tail != F.pub_head);
		p = &F.pubs[F.pub_tail++ % MAX_CHAINS];
		CHECK(chain.head == p->head);
		CHECK((r == 1) == p->pop_ok);
	}
	if (r == 1) {
		bool ok = chain.nr_read == chain.nr_segs;
		uint64_t n = 0, h = F.want_hash;
		struct vcon_stats st0, st1;

		if (F.tainted && chain.read_len > TAINT_CAP)
			return; /* huge corrupted chain: not worth the time; vcon never sees it */
		/* What the device must deliver: the readable bytes, as popped. */
		for (unsigned int i = 0; ok && i < chain.nr_segs; i++) {
			h = fnv(h, chain.segs[i].host, chain.segs[i].len);
			n += chain.segs[i].len;
		}
		if (p) {
			CHECK(ok == p->console_ok);
			if (ok) {
				CHECK(n == p->len);
				for (uint64_t k = 0, i = 0, o = 0; !p->shared && k < n; k++, o++) {
					while (o >= chain.segs[i].len) {
						o = 0;
						i++;
					}
					CHECK(((uint8_t *)chain.segs[i].host)[o] ==
					      pat(p->seq + k));
				}
			}
		}
		vcon_get_stats(F.c, &st0);
		CHECK(vcon_handle_chain(F.c, &chain) == (ok ? 0 : -EINVAL));
		vcon_get_stats(F.c, &st1);
		if (ok) {
			F.good++;
			F.nonempty += n > 0;
			F.want_len += n;
			F.want_hash = h;
			CHECK(st1.chains == st0.chains + 1);
			CHECK(st1.bytes + st1.dropped == st0.bytes + st0.dropped + n);
		} else {
			F.bad++;
			CHECK(st1.bytes == st0.bytes && st1.chains == st0.chains);
			CHECK(st1.bad_chains == st0.bad_chains + 1);
		}
		if (F.kind == OUT_CALLBACK)
			CHECK(F.got_len == F.want_len && F.got_hash == F.want_hash);
	}
}

static void step(void)
{
	unsigned int pops = 0;
	uint32_t id, len;
	int r;

	if (F.broken)
		return;
	virtq_set_notify(&F.vq, false);
	for (;;) {
		while ((r = virtq_pop(&F.vq, &chain)) != 0) {
			/* virtq.h: at most size pops per avail index published. */
			CHECK(++pops <= 2u * F.qsize + 2);
			if (r == -EIO) {
				CHECK(F.tainted);
				F.broken = true;
				return;
			}
			CHECK(r == 1 || r == -EINVAL);
			one_chain(r);
			virtq_push(&F.vq, chain.head, 0);
		}
		virtq_set_notify(&F.vq, true);
		if (!virtq_has_avail(&F.vq))
			break;
	}
	(void)virtq_should_notify(&F.vq);
	/* Reap, as the driver: in order, length 0. */
	while (rh_get_used(&F.h, &id, &len)) {
		CHECK(len == 0);
		if (!F.tainted) {
			struct pub *p = &F.pubs[F.reap_tail++ % MAX_CHAINS];

			CHECK(id == p->head);
			F.desc_inflight -= p->ndesc;
		}
	}
	if (!F.tainted) {
		CHECK(F.pub_tail == F.pub_head && F.reap_tail == F.pub_head);
		CHECK(F.desc_inflight == 0);
		F.zone_off = 0; /* every buffer is free again */
	}
}

/* ---- the driver --------------------------------------------------------------------- */

static void submit(struct in *in)
{
	uint8_t shape = get8(in);
	unsigned int nbufs = 1 + (shape & 7), bad = (shape >> 4) & 3, total, ndesc, direct;
	bool ind = shape & 8, zero = shape & 0x40, shared = shape & 0x80;
	uint32_t lens[MAX_BUFS], maxlen = 0;
	struct rh_buf b[MAX_BUFS + 1];
	struct pub p = {.shared = shared};
	uint64_t need = 0, region = 0, table = 0;
	uint16_t idx[MAX_BUFS + 1];

	direct = ind ? get8(in) : 0;
	for (unsigned int i = 0; i < nbufs; i++) {
		uint32_t v = get8(in) | (uint32_t)get8(in) << 8;

		lens[i] = (zero && i == 0) ? 0 : v & (shared ? 0x3fffu : 0x7ffu);
		maxlen = lens[i] > maxlen ? lens[i] : maxlen;
		need += shared ? 0 : zone_need(lens[i] ? lens[i] : 1);
	}
	total = nbufs + (bad == 1 || bad == 3);
	if (shared)
		need += zone_need(maxlen ? maxlen : 1);
	need += (bad == 1 || bad == 3) ? zone_need(16) : 0;
	direct = ind ? direct % (total + 1) : total; /* buffers before the indirect one */
	need += ind && direct < total ? zone_need(16ull * (total - direct)) : 0;
	ndesc = direct + (ind && direct < total);
	if (ndesc > F.qsize)
		return;
	/* Room first (descriptors, zone), then build: nothing is freed mid-chain. */
	if (F.desc_inflight + ndesc > F.qsize || need > F.zone_len - F.zone_off) {
		step();
		if (F.tainted || F.broken || need > F.zone_len - F.zone_off)
			return;
	}
	if (shared) {
		region = zone_alloc(maxlen ? maxlen : 1);
		for (uint32_t k = 0; k < maxlen; k++)
			*(uint8_t *)rh_host(&F.h, region + k, 1) = pat(F.seq + k);
	}
	for (unsigned int i = 0; i < nbufs; i++) {
		uint64_t gpa = shared ? region : zone_alloc(lens[i] ? lens[i] : 1);

		for (uint32_t k = 0; !shared && k < lens[i]; k++)
			*(uint8_t *)rh_host(&F.h, gpa + k, 1) = pat(F.seq + p.len + k);
		b[i] = (struct rh_buf){gpa, lens[i], false};
		p.len += lens[i];
	}
	p.pop_ok = p.console_ok = true;
	if (bad == 1) {
		b[nbufs] = (struct rh_buf){zone_alloc(16), 16, true};
		p.console_ok = false;
	} else if (bad == 3) {
		/* Readable after writable: rejected even when they are empty (virtq.c). */
		memmove(b + 1, b, sizeof(b[0]) * nbufs);
		b[0] = (struct rh_buf){zone_alloc(16), 16, true};
		p.pop_ok = p.console_ok = false;
	} else if (bad == 2) {
		b[nbufs - 1] = (struct rh_buf){RH_RAM_GPA + RAM - 8, 16, false};
		p.pop_ok = p.console_ok = false;
	}
	if (ind && direct < total && !F.h.indirect)
		p.pop_ok = p.console_ok = false;

	/* Descriptors: @direct from the queue's table, the rest in an indirect table. */
	for (unsigned int k = 0; k < ndesc; k++)
		idx[k] = rh_take_desc(&F.h);
	if (ind && direct < total) {
		unsigned int ni = total - direct;

		table = zone_alloc(16ull * ni);
		for (unsigned int k = 0; k < ni; k++) {
			const struct rh_buf *e = &b[direct + k];
			uint16_t fl = (uint16_t)((e->write ? VRING_DESC_F_WRITE : 0) |
						 (k + 1 < ni ? VRING_DESC_F_NEXT : 0));

			rh_write_desc_at(&F.h, table, (uint16_t)k, e->addr, e->len, fl,
					 (uint16_t)(k + 1 < ni ? k + 1 : 0));
		}
		rh_write_desc(&F.h, idx[direct], table, 16u * ni, VRING_DESC_F_INDIRECT, 0);
	}
	for (unsigned int k = 0; k < direct; k++) {
		uint16_t fl = (uint16_t)((b[k].write ? VRING_DESC_F_WRITE : 0) |
					 (k + 1 < ndesc ? VRING_DESC_F_NEXT : 0));

		rh_write_desc(&F.h, idx[k], b[k].addr, b[k].len, fl,
			      k + 1 < ndesc ? idx[k + 1] : 0);
	}
	p.head = idx[0];
	p.ndesc = (uint16_t)ndesc;
	p.seq = F.seq;
	F.seq += p.len + 1;
	if (!p.console_ok)
		p.len = 0;
	F.pubs[F.pub_head++ % MAX_CHAINS] = p;
	F.desc_inflight += ndesc;
	rh_publish(&F.h, p.head);
}

static void corrupt(struct in *in)
{
	uint16_t off = (uint16_t)(get8(in) | get8(in) << 8);
	uint8_t v = get8(in);
	uint64_t ring_bytes = F.h.data_gpa - F.h.ram_gpa;

	F.h.ram[off % ring_bytes] = v;
	F.tainted = true;
}

static void misc(uint8_t op)
{
	unsigned int sub = op >> 3;

	if (sub < 8) {
		rh_set_avail_idx(&F.h, (uint16_t)(F.h.avail_idx + sub * (F.qsize / 2u + 1)));
		F.tainted = true;
	} else if (sub < 16) {
		virtq_reset(&F.vq);
		rings_start();
	} else {
		rh_set_avail_flags(&F.h, (uint16_t)(sub & 1));
		rh_set_used_event(&F.h, (uint16_t)(F.h.last_used + (sub >> 1) % 4));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	static uint8_t buf[65536];
	struct in in = {data, size};
	uint8_t cfg = get8(&in);
	struct vcon_out out = {.fd = -1};
	struct vcon_stats st;
	int pfd[2];

	if (!init) {
		signal(SIGPIPE, SIG_IGN);
		log_set_level(LOG_ERROR); /* bad chains are expected */
		init = true;
	}
	memset(&F, 0, sizeof(F));
	F.want_hash = F.got_hash = FNV_INIT;
	F.fd = -1;
	F.qsize = (uint16_t)(1u << ((cfg & 7) % 7));
	F.event_idx = cfg & 8;
	F.indirect = cfg & 0x10;
	F.kind = (enum out_kind)((cfg >> 5) & 3);
	switch (F.kind) {
	case OUT_CALLBACK:
		out.fn = out_fn;
		break;
	case OUT_MEMFD:
		F.fd = memfd_create("fuzz-vcon", MFD_CLOEXEC);
		break;
	case OUT_DEAD_PIPE:
		if (pipe2(pfd, O_CLOEXEC) == 0) {
			close(pfd[0]);
			F.fd = pfd[1];
		}
		break;
	case OUT_DEVNULL:
		F.fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		break;
	}
	if (F.kind != OUT_CALLBACK) {
		if (F.fd < 0)
			return 0;
		out.fd = F.fd;
	}
	if (rh_init(&F.h, F.qsize, RAM)) {
		if (F.fd >= 0)
			close(F.fd);
		return 0;
	}
	F.h.event_idx = F.event_idx;
	F.h.indirect = F.indirect;
	F.c = vcon_create(&out);
	CHECK(F.c);
	vcon_set_features(F.c, vcon_features(F.c));
	rings_start();

	while (in.n) {
		uint8_t op = get8(&in);

		switch (op % 8) {
		case 0:
		case 1:
		case 2:
		case 3:
			if (!F.tainted && !F.broken && F.want_len < OUT_BUDGET)
				submit(&in);
			break;
		case 4:
		case 5:
			step();
			break;
		case 6:
			corrupt(&in);
			break;
		default:
			misc(op);
			break;
		}
	}
	step();

	vcon_get_stats(F.c, &st);
	CHECK(st.chains == F.good);
	CHECK(st.bad_chains == F.bad);
	CHECK(st.cancelled == 0);
	CHECK(st.bytes + st.dropped == F.want_len);
	switch (F.kind) {
	case OUT_CALLBACK:
		CHECK(F.got_len == F.want_len && F.got_hash == F.want_hash);
		CHECK(st.bytes == F.want_len && st.write_errors == 0);
		break;
	case OUT_MEMFD: {
		uint64_t h = FNV_INIT, off = 0;
		ssize_t n;

		CHECK(st.bytes == F.want_len && st.write_errors == 0);
		while ((n = pread(F.fd, buf, sizeof(buf), (off_t)off)) > 0) {
			h = fnv(h, buf, (size_t)n);
			off += (uint64_t)n;
		}
		CHECK(off == F.want_len && h == F.want_hash);
		break;
	}
	case OUT_DEAD_PIPE:
		CHECK(st.bytes == 0 && st.write_errors == F.nonempty);
		break;
	case OUT_DEVNULL:
		CHECK(st.bytes == F.want_len && st.write_errors == 0);
		break;
	}
	vcon_destroy(F.c);
	if (F.fd >= 0)
		close(F.fd);
	rh_fini(&F.h);
	return 0;
}
