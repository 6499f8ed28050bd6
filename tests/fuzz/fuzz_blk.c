// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for virtio-blk request execution (blk_handle_chain) on
 * hand-built chains over an 8 KiB in-memory disk (tests/fakes/fake_backend.h).
 * The input is a mostly-valid request stream; rare corruption bytes break
 * directions, the status, the header and the chain description, and inject
 * host faults.
 *
 * Invariants checked after every request:
 *  - a well-formed chain with a writable status byte and a readable header
 *    is executed and its status byte is OK, IOERR or UNSUPP; anything else is
 *    rejected with no byte of guest memory changed;
 *  - *written is at least 1 and never more than the writable bytes;
 *  - no backend access outside the disk, ever;
 *  - OK reads return the disk's bytes, OK writes put the guest's bytes there,
 *    and neither happens beyond capacity or with a ragged length;
 *  - unknown types are UNSUPP; a read-only disk never changes.
 *
 * Encoding: byte 0 configures the disk (bit 0 read-only, 1 offer DISCARD,
 * 2 offer WRITE_ZEROES, 3 negotiate FLUSH, 4 negotiate DISCARD/WRITE_ZEROES,
 * 5 seg_max 4). Then, per request:
 *   op: bits 0-2 type (IN, OUT, FLUSH, GET_ID, DISCARD, WRITE_ZEROES, a raw
 *       le32 type that follows, IN); bit 3: a raw le64 sector follows, else
 *       one byte % 20; bits 4-6: data segments; bit 7: a corruption byte and
 *       a fault byte follow the sector.
 *   per data segment, DISCARD/WRITE_ZEROES: 2 bytes (sector selector,
 *       num_sectors | flags << 5) making one 16-byte range; others: 1 byte,
 *       bit 7 set: length (b & 0x7f) * 7, else 512 * (b & 3).
 *   corruption bits: 0 header writable, 1 status readable, 2 status length
 *       0, 3 no status, 4 data direction flipped, 5 header split in two,
 *       6 status segment of 4 bytes, 7 descriptors left unordered.
 *   fault bits: 0-1 none / read EIO / write ENOSPC / short write, 2 flush
 *       EIO, 3 discard and write-zeroes EIO.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>

#include "fake_backend.h"
#include "virtio/blk/blk.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DISK	  8192u
#define ARENA	  16384u
#define MAX_REQS  64
#define MAX_SEGS  12
#define FILL_BYTE 0xaa

struct pseg {
	uint32_t len;
	bool write;
	bool has_range; /* DISCARD/WRITE_ZEROES: one range from @range's two bytes */
	uint16_t range;
};

static struct virtq_chain chain;
static uint8_t arena[ARENA] __attribute__((aligned(4096)));
static uint8_t before[ARENA];

static uint64_t sector_of(uint8_t b)
{
	static const uint64_t edge[] = {UINT64_MAX,	  UINT64_MAX / 512 + 1, 1ull << 55,
					(1ull << 55) + 1, DISK / 512,		DISK / 512 - 1};

	return b >= 250 ? edge[b - 250] : b % 20;
}

/* Copy bytes [off, off+len) of the readable (or writable) part of the chain. */
static uint64_t gather(bool write, uint64_t off, uint8_t *dst, uint64_t len)
{
	uint64_t got = 0;

	for (unsigned i = 0; i < chain.nr_segs && got < len; i++) {
		const struct virtq_seg *s = &chain.segs[i];
		uint64_t l = s->len;

		if (s->write != write)
			continue;
		if (off >= l) {
			off -= l;
			continue;
		}
		l = l - off < len - got ? l - off : len - got;
		memcpy(dst + got, (uint8_t *)s->host + off, l);
		got += l;
		off = 0;
	}
	return got;
}

static bool is_known(uint32_t t)
{
	return t == VIRTIO_BLK_T_IN || t == VIRTIO_BLK_T_OUT || t == VIRTIO_BLK_T_FLUSH ||
	       t == VIRTIO_BLK_T_GET_ID || t == VIRTIO_BLK_T_DISCARD ||
	       t == VIRTIO_BLK_T_WRITE_ZEROES;
}

static void one_request(struct blk *b, struct fake_backend *fb, struct in *in, bool readonly)
{
	static const uint32_t types[] = {VIRTIO_BLK_T_IN,
					 VIRTIO_BLK_T_OUT,
					 VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_GET_ID,
					 VIRTIO_BLK_T_DISCARD,
					 VIRTIO_BLK_T_WRITE_ZEROES,
					 0,
					 VIRTIO_BLK_T_IN};
	struct pseg segs[MAX_SEGS];
	unsigned n = 0, ndata, used = 0;
	uint8_t op = get8(in), corrupt = 0, fault = 0, hdr[16];
	uint32_t type = types[op & 7], written = 0, le32;
	uint64_t sector, le64, rd = 0, wr = 0;
	bool dwz, data_write, ordered, well_formed;
	int r;

	if ((op & 7) == 6)
		type = (uint32_t)getn(in, 4);
	sector = (op & 8) ? getn(in, 8) : sector_of(get8(in));
	if (op & 0x80) {
		corrupt = get8(in);
		fault = get8(in);
	}
	ndata = (op >> 4) & 7;
	dwz = type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES;
	data_write = !(type == VIRTIO_BLK_T_OUT || type == VIRTIO_BLK_T_FLUSH || dwz);
	if (corrupt & 0x10)
		data_write = !data_write;

	memset(arena, FILL_BYTE, sizeof(arena));
	/* The header, possibly split in two. */
	le32 = htole32(type);
	memcpy(hdr, &le32, 4);
	memset(hdr + 4, 0, 4);
	le64 = htole64(sector);
	memcpy(hdr + 8, &le64, 8);
	if (corrupt & 0x20) {
		segs[n++] = (struct pseg){.len = 7, .write = corrupt & 1};
		segs[n++] = (struct pseg){.len = 9, .write = corrupt & 1};
	} else {
		segs[n++] = (struct pseg){.len = 16, .write = corrupt & 1};
	}
	for (unsigned i = 0; i < ndata; i++) {
		uint8_t l = get8(in);

		segs[n++] = (struct pseg){
			.len = dwz	    ? 16
			       : (l & 0x80) ? (l & 0x7fu) * 7
					    : 512u * (l & 3),
			.write = data_write,
			.has_range = dwz,
			.range = dwz ? (uint16_t)(l | get8(in) << 8) : 0,
		};
	}
	if (!(corrupt & 8))
		segs[n++] = (struct pseg){.len = (corrupt & 4)	    ? 0
						 : (corrupt & 0x40) ? 4
								    : 1,
					  .write = !(corrupt & 2)};

	/* A virtqueue hands over readable segments first; keep that unless told not to. */
	ordered = !(corrupt & 0x80);
	memset(&chain, 0, offsetof(struct virtq_chain, segs));
	for (int pass = 0; pass < (ordered ? 2 : 1); pass++) {
		for (unsigned i = 0; i < n; i++) {
			struct virtq_seg *s;

			if (ordered && segs[i].write != (pass == 1))
				continue;
			s = &chain.segs[chain.nr_segs++];
			s->host = arena + used;
			s->gpa = 0x100000 + used;
			s->len = segs[i].len;
			s->write = segs[i].write;
			used += (segs[i].len + 15) & ~15u;
			if (s->write)
				chain.write_len += s->len;
			else
				chain.read_len += s->len;
			if (segs[i].has_range) {
				uint8_t r0 = segs[i].range & 0xff, r1 = segs[i].range >> 8;
				struct virtio_blk_discard_write_zeroes d = {
					.sector = htole64(sector_of(r0)),
					.num_sectors = htole32(r1 & 0x1fu),
					/* bit 0 unmap, bit 1 a reserved flag */
					.flags = htole32((r1 >> 5) & 3u),
				};
				memcpy(s->host, &d, sizeof(d));
			} else if (!s->write && s->len) {
				for (uint32_t k = 0; k < s->len; k++)
					((uint8_t *)s->host)[k] = (uint8_t)(k * 13 + used);
			}
		}
	}
	for (unsigned i = 0; i < chain.nr_segs; i++)
		if (!chain.segs[i].write)
			chain.nr_read++;
	/* Lay the header over the first 16 readable bytes (what a driver does). */
	{
		uint64_t put = 0;

		for (unsigned i = 0; i < chain.nr_segs && put < 16; i++) {
			struct virtq_seg *s = &chain.segs[i];
			uint64_t l = s->len < 16 - put ? s->len : 16 - put;

			if (s->write)
				continue;
			memcpy(s->host, hdr + put, l);
			put += l;
		}
	}

	switch (fault & 3) {
	case 1:
		fb->read_err = EIO;
		break;
	case 2:
		fb->write_err = ENOSPC;
		break;
	case 3:
		fb->short_write = true;
		break;
	}
	if (fault & 4)
		fb->flush_err = EIO;
	if (fault & 8) {
		fb->discard_err = EIO;
		fb->wz_err = EIO;
	}

	/* The oracle: structure first. */
	well_formed = true;
	for (unsigned i = 0; i < chain.nr_segs; i++) {
		if (chain.segs[i].write != (i >= chain.nr_read))
			well_formed = false;
		if (chain.segs[i].write)
			wr += chain.segs[i].len;
		else
			rd += chain.segs[i].len;
	}
	if (chain.nr_segs == chain.nr_read || !chain.segs[chain.nr_segs - 1].len || rd < 16)
		well_formed = false;

	memcpy(before, arena, sizeof(arena));
	r = blk_handle_chain(b, &chain, &written);
	CHECK(!fb->oob);
	if (!well_formed) {
		CHECK(r == -EINVAL);
		CHECK(written == 0);
		CHECK(!memcmp(before, arena, sizeof(arena)));
	} else {
		const struct virtq_seg *last = &chain.segs[chain.nr_segs - 1];
		uint8_t st = ((uint8_t *)last->host)[last->len - 1];
		uint8_t got[16];
		uint32_t ptype;
		uint64_t psector, dlen;

		CHECK(r == 0);
		CHECK(st == VIRTIO_BLK_S_OK || st == VIRTIO_BLK_S_IOERR ||
		      st == VIRTIO_BLK_S_UNSUPP);
		CHECK(written >= 1 && written <= wr);
		/* What the device must have parsed. */
		CHECK(gather(false, 0, got, 16) == 16);
		memcpy(&ptype, got, 4);
		memcpy(&psector, got + 8, 8);
		ptype = le32toh(ptype);
		psector = le64toh(psector);
		if (!is_known(ptype))
			CHECK(st == VIRTIO_BLK_S_UNSUPP);
		if (readonly && (ptype == VIRTIO_BLK_T_OUT || ptype == VIRTIO_BLK_T_DISCARD ||
				 ptype == VIRTIO_BLK_T_WRITE_ZEROES))
			CHECK(st != VIRTIO_BLK_S_OK);
		if (st == VIRTIO_BLK_S_OK &&
		    (ptype == VIRTIO_BLK_T_IN || ptype == VIRTIO_BLK_T_OUT)) {
			static uint8_t buf[ARENA];

			dlen = ptype == VIRTIO_BLK_T_IN ? wr - 1 : rd - 16;
			CHECK(dlen % 512 == 0);
			CHECK(psector <= DISK / 512 && dlen <= DISK - psector * 512);
			CHECK(dlen <= sizeof(buf));
			if (ptype == VIRTIO_BLK_T_IN) {
				CHECK(rd == 16);
				CHECK(written == dlen + 1);
				CHECK(gather(true, 0, buf, dlen) == dlen);
			} else {
				CHECK(wr == 1);
				CHECK(gather(false, 16, buf, dlen) == dlen);
			}
			CHECK(!memcmp(buf, fb->data + psector * 512, dlen));
		}
		if (st != VIRTIO_BLK_S_OK)
			CHECK(written == 1);
	}
	/* One-shot faults that were not consumed do not leak into the next request. */
	fb->read_err = fb->write_err = fb->flush_err = fb->discard_err = fb->wz_err = 0;
	fb->short_write = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size};
	uint8_t cfg = get8(&in), *orig = NULL;
	struct blk_opts o = {
		.readonly = cfg & 1,
		.discard = cfg & 2,
		.write_zeroes = cfg & 4,
		.seg_max = (cfg & 0x20) ? 4 : 0,
		.serial = "fuzz-serial",
	};
	struct fake_backend *fb = fake_backend_create(DISK);
	uint64_t neg;
	struct blk *b;

	if (!fb)
		return 0;
	for (unsigned i = 0; i < DISK; i++)
		fb->data[i] = (uint8_t)(i * 31 + (i >> 9));
	b = blk_create(&fb->be, &o);
	CHECK(b);
	neg = 1ull << VIRTIO_F_VERSION_1;
	if (cfg & 8)
		neg |= 1ull << VIRTIO_BLK_F_FLUSH;
	if (cfg & 0x10)
		neg |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	blk_set_features(b, neg);
	if (o.readonly) {
		orig = malloc(DISK);
		CHECK(orig);
		memcpy(orig, fb->data, DISK);
	}
	for (int i = 0; i < MAX_REQS && in.n; i++)
		one_request(b, fb, &in, o.readonly);
	if (orig) {
		CHECK(!memcmp(orig, fb->data, DISK));
		CHECK(fb->writes == 0 && fb->discards == 0 && fb->wzs == 0);
		free(orig);
	}
	blk_destroy(b);
	return 0;
}
