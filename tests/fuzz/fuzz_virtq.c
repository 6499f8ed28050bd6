// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for devices/virtio/queue: a guest driver (the ring
 * harness, over 32 KiB of fake RAM) and the device's virtq, driven by a
 * program read from the input. Chains are mostly well formed; the program
 * also corrupts ring bytes, descriptor fields and avail->idx, so every kind
 * of bad chain and broken ring is reached.
 *
 * Input: byte 0 configures the queue (size = 1 << (b & 7), bit 4 EVENT_IDX,
 * bit 5 INDIRECT_DESC), then one step per opcode byte op, kind = op & 7:
 *   0, 1  publish a chain: b1 = nd | ni << 2 | bad << 5, b2 = first writable
 *         buffer, then one length byte per buffer; bad picks a nasty address
 *         for one buffer (outside RAM, straddling the end, wrapping 2^64)
 *   2     corrupt one byte: u16 offset into the rings and tables, value
 *   3     write a nasty u16/u32/u64 into a descriptor field or ring word
 *   4, 5  pop, check, and let the device touch the buffers
 *   6     push the oldest in-flight head (b1 = length), notification calls
 *   7     op & 8: move avail->idx by a signed delta; else reset and re-init
 *
 * Checked after every pop: the result is one of 1/0/-EINVAL/-EIO, -EIO is
 * sticky until re-init, every segment lies wholly inside RAM (and is
 * touched, so ASan sees any lie), readable segments precede writable ones,
 * the totals add up, a rejected chain has no segments, pop wrote nothing to
 * guest memory but avail_event, and no more than size entries are consumed
 * per avail->idx value. After a push the used ring holds the
 * element and the index the device published.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostel/log.h"
#include "ring_harness.h"
#include "virtio/queue/virtq.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 0x8000ULL
#define RAM_END	 (RH_RAM_GPA + RAM_SIZE)

struct ctx {
	struct ring_harness h;
	struct virtq vq;
	bool broken;
	unsigned consumed; /* avail entries popped while avail->idx read seen_idx */
	uint16_t seen_idx;
	uint16_t inflight[VIRTQ_MAX_SIZE];
	unsigned nr_inflight, first_inflight;
	uint8_t snap[RAM_SIZE];
};

static struct virtq_chain ch;
static uint8_t scratch[4096];

static void init_queue(struct ctx *c)
{
	struct virtq_config cfg = rh_config(&c->h);

	CHECK(virtq_init(&c->vq, &c->h.gm, &cfg) == 0);
	c->broken = false;
	c->nr_inflight = c->first_inflight = 0;
	c->consumed = 0;
}

static uint64_t alloc(struct ring_harness *h, uint32_t len)
{
	uint64_t gpa = rh_alloc(h, len);

	if (!gpa) {
		/* Out of space: start over at the beginning of the data area. */
		h->data_next = h->data_gpa;
		gpa = rh_alloc(h, len);
	}
	return gpa;
}

static uint64_t nasty_addr(uint8_t sel, uint32_t len)
{
	switch (sel & 7) {
	case 0:
		return 0;
	case 1:
		return RAM_END - len / 2;
	case 2:
		return UINT64_MAX - len / 2;
	case 3:
		return RAM_END;
	case 4:
		return RH_RAM_GPA - 1;
	case 5:
		return RH_RAM_GPA; /* the descriptor table itself: legal, if odd */
	case 6:
		return 0xfee00000; /* an MMIO window, not RAM */
	default:
		return RAM_END - len; /* exactly the last bytes: fine */
	}
}

static void publish(struct ctx *c, struct in *in)
{
	struct rh_buf d[4], ind[8];
	uint8_t b1 = get8(in), b2 = get8(in);
	unsigned nd = b1 & 3, ni = (b1 >> 2) & 7, bad = b1 >> 5;
	unsigned total = nd + ni, first_write = b2 % (total + 1);
	uint16_t head;

	if (total == 0)
		nd = total = 1;
	for (unsigned k = 0; k < total; k++) {
		uint8_t lb = get8(in);
		uint32_t len = lb == 0xff ? 0xffffffff : lb == 0xfe ? 0 : (uint32_t)lb * 8 + 1;
		struct rh_buf *b = k < nd ? &d[k] : &ind[k - nd];

		b->write = k >= first_write;
		b->len = len;
		if (bad && k == (bad - 1) % total)
			b->addr = nasty_addr(b2 >> 4, len);
		else if (len == 0 || len > RAM_SIZE / 4)
			b->addr = RH_RAM_GPA + 16ULL * lb;
		else
			b->addr = alloc(&c->h, len);
	}
	head = rh_add(&c->h, d, nd, ind, ni);
	if (head == RH_NO_HEAD)
		return;
	rh_publish(&c->h, head);
}

/* Offset of the byte or word to corrupt: rings, then indirect tables and buffers. */
static uint64_t corrupt_gpa(struct ctx *c, uint16_t off, unsigned width)
{
	uint64_t span = c->h.data_next - RH_RAM_GPA;

	if (span < width)
		return RH_RAM_GPA;
	return RH_RAM_GPA + (off % (span - width + 1));
}

static void corrupt_byte(struct ctx *c, struct in *in)
{
	uint16_t off = (uint16_t)(get8(in) | get8(in) << 8);
	uint8_t *p = rh_host(&c->h, corrupt_gpa(c, off, 1), 1);

	*p = get8(in);
}

static void corrupt_word(struct ctx *c, struct in *in)
{
	static const uint64_t vals[] = {0,
					1,
					0xffff,
					0xffffffff,
					UINT64_MAX,
					VRING_DESC_F_NEXT,
					VRING_DESC_F_INDIRECT,
					VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT,
					VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
					16,
					RAM_END - 8,
					RH_RAM_GPA};
	uint8_t sel = get8(in);
	uint16_t off = (uint16_t)(get8(in) | get8(in) << 8);
	static const unsigned widths[] = {2, 2, 4, 8};
	unsigned width = widths[sel & 3];
	uint64_t v = vals[(sel >> 2) % ARRAY_SIZE(vals)];

	if (sel & 0x80)
		v = c->h.size + (sel & 0x40 ? 0 : (uint64_t)c->h.size - 1); /* index edges */
	/* Little-endian host: the low bytes of v land first, like the guest's. */
	memcpy(rh_host(&c->h, corrupt_gpa(c, off, width) & ~1ULL, width), &v, width);
}

static void check_pop(struct ctx *c, int r)
{
	const struct gmem *gm = &c->h.gm;
	uint64_t rd = 0, wr = 0;
	uint64_t ae = c->h.used_gpa + 4 + 8ULL * c->h.size - RH_RAM_GPA; /* avail_event offset */

	CHECK(r == 1 || r == 0 || r == -EINVAL || r == -EIO);
	if (c->broken)
		CHECK(r == -EIO);
	if (r == -EIO) {
		c->broken = true;
		CHECK(c->vq.broken);
	}
	/* Pop writes nothing to guest memory, except avail_event. */
	CHECK(!memcmp(c->snap, c->h.ram, ae));
	CHECK(!memcmp(c->snap + ae + 2, c->h.ram + ae + 2, RAM_SIZE - ae - 2));
	if (r != 1 && r != -EINVAL)
		return;

	c->consumed++;
	CHECK(c->consumed <= c->h.size);
	CHECK(ch.head < c->h.size);
	CHECK(c->nr_inflight < VIRTQ_MAX_SIZE);
	c->inflight[(c->first_inflight + c->nr_inflight++) % VIRTQ_MAX_SIZE] = ch.head;
	if (r == -EINVAL) {
		CHECK(ch.nr_segs == 0 && ch.read_len == 0 && ch.write_len == 0);
		return;
	}
	CHECK(ch.nr_segs <= VIRTQ_MAX_SEGS && ch.nr_read <= ch.nr_segs);
	for (unsigned i = 0; i < ch.nr_segs; i++) {
		const struct virtq_seg *s = &ch.segs[i];
		uint8_t *host = s->host;

		CHECK(s->len > 0);
		CHECK(s->write == (i >= ch.nr_read));
		CHECK(gmem_ptr(gm, s->gpa, s->len) == s->host);
		CHECK(host >= c->h.ram && s->len <= RAM_SIZE &&
		      host - c->h.ram <= (ptrdiff_t)(RAM_SIZE - s->len));
		if (s->write)
			wr += s->len;
		else
			rd += s->len;
	}
	CHECK(rd == ch.read_len && wr == ch.write_len);
}

/* The device uses the buffers: reads the readable part, writes the writable part. */
static void touch(struct ctx *c, uint8_t how)
{
	uint64_t off = how & 0x3f, got;

	got = virtq_chain_read(&ch, off, scratch, sizeof(scratch));
	CHECK(got == (ch.read_len > off ? MIN(ch.read_len - off, sizeof(scratch)) : 0));
	if (ch.write_len) {
		memset(scratch, how, sizeof(scratch));
		got = virtq_chain_write(&ch, off, scratch, sizeof(scratch));
		CHECK(got == (ch.write_len > off ? MIN(ch.write_len - off, sizeof(scratch)) : 0));
	}
}

static void pop(struct ctx *c, struct in *in)
{
	uint8_t how = get8(in);
	uint16_t before = c->vq.last_avail;
	int r;

	/* Count consumed entries per avail->idx value the driver shows. */
	if (rh_r16(&c->h, c->h.avail_gpa + 2) != c->seen_idx) {
		c->seen_idx = rh_r16(&c->h, c->h.avail_gpa + 2);
		c->consumed = 0;
	}
	memcpy(c->snap, c->h.ram, RAM_SIZE);
	r = virtq_pop(&c->vq, &ch);
	check_pop(c, r);
	CHECK(c->vq.last_avail == (uint16_t)(before + (r == 1 || r == -EINVAL)));
	if (r == 1)
		touch(c, how);
}

static void push(struct ctx *c, struct in *in)
{
	uint32_t len = get8(in), id, ulen;
	uint16_t head, slot;

	(void)virtq_should_notify(&c->vq);
	if (!c->nr_inflight)
		return;
	head = c->inflight[c->first_inflight];
	c->first_inflight = (c->first_inflight + 1) % VIRTQ_MAX_SIZE;
	c->nr_inflight--;
	slot = c->vq.used_idx;
	virtq_push(&c->vq, head, len);
	CHECK(c->vq.used_idx == (uint16_t)(slot + 1));
	CHECK(rh_used_idx(&c->h) == c->vq.used_idx);
	rh_used_elem(&c->h, slot, &id, &ulen);
	CHECK(id == head && ulen == len);
	(void)virtq_should_notify(&c->vq);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctx c;
	struct in in = {data, size};
	uint8_t cfg = get8(&in);
	unsigned steps = 0;

	log_set_level(LOG_ERROR);
	if (rh_init(&c.h, (uint16_t)(1u << (cfg & 7)), RAM_SIZE))
		return 0;
	c.h.event_idx = cfg & 0x10;
	c.h.indirect = cfg & 0x20;
	init_queue(&c);

	while (in.n && steps++ < 4096) {
		uint8_t op = get8(&in);

		switch (op & 7) {
		case 0:
		case 1:
			publish(&c, &in);
			break;
		case 2:
			corrupt_byte(&c, &in);
			break;
		case 3:
			corrupt_word(&c, &in);
			break;
		case 4:
		case 5:
			pop(&c, &in);
			break;
		case 6:
			push(&c, &in);
			virtq_set_notify(&c.vq, op & 8);
			(void)virtq_has_avail(&c.vq);
			break;
		default:
			if (op & 8) {
				rh_set_avail_idx(&c.h,
						 (uint16_t)(c.h.avail_idx + (int8_t)get8(&in)));
			} else {
				virtq_reset(&c.vq);
				init_queue(&c);
			}
			break;
		}
	}
	rh_fini(&c.h);
	return 0;
}
