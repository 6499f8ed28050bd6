// SPDX-License-Identifier: MIT
/*
 * Unit tests for virtio-blk (devices/virtio/blk/blk.c) and its raw-file
 * backend (backend.c): request parsing and execution on hand-built chains
 * over an in-memory backend with fault injection (BAD-INPUTS 5, 7, 13-16),
 * the file backend on real temporary files (rejects, OFD locks, snapshot,
 * discard, short writes, sticky flush; BAD-INPUTS 15-17, 28), and the worker
 * thread over a real virtqueue driven by the ring harness (BAD-INPUTS 3, 9).
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <liburing.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "fake_backend.h"
#include "ring_harness.h"
#include "virtio/blk/aio.h"
#include "virtio/blk/backend.h"
#include "virtio/blk/blk.h"

#define DISK_SIZE (64 * 1024) /* 128 sectors */
#define DISK_SECT (DISK_SIZE / 512)
#define ARENA	  (1024 * 1024) /* fake guest memory for hand-built chains */
#define FILL	  0xaa		/* arena filler: detects stray device writes */

#define S_OK	 VIRTIO_BLK_S_OK
#define S_IOERR	 VIRTIO_BLK_S_IOERR
#define S_UNSUPP VIRTIO_BLK_S_UNSUPP

/* For allocations and lookups that cannot fail in a working test. */
static __attribute__((returns_nonnull)) void *must(void *p)
{
	if (!p)
		abort();
	return p;
}

/* ---- hand-built chains over an in-memory disk ---------------------------- */

struct fix {
	struct fake_backend *fb; /* owned by b */
	struct blk *b;
	uint8_t *arena, *copy;
	size_t used;
	struct virtq_chain *ch;
	uint8_t *status; /* the status byte of the chain being built */
};

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) + 1);
}

static void fill_disk(struct fake_backend *fb)
{
	for (uint64_t i = 0; i < fb->be.size; i++)
		fb->data[i] = pat(i);
}

static void chain_reset(struct fix *f)
{
	memset(f->ch, 0, sizeof(*f->ch));
	memset(f->arena, FILL, ARENA);
	f->used = 0;
	f->status = NULL;
}

static struct fix *fix_new(const struct blk_opts *o, bool negotiate)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fb = fake_backend_create(DISK_SIZE);
	assert_non_null(f->fb);
	fill_disk(f->fb);
	f->b = blk_create(&f->fb->be, o);
	assert_non_null(f->b);
	if (negotiate)
		blk_set_features(f->b, blk_features(f->b));
	f->arena = aligned_alloc(4096, ARENA);
	f->copy = malloc(ARENA);
	f->ch = calloc(1, sizeof(*f->ch));
	assert_non_null(f->arena);
	assert_non_null(f->copy);
	assert_non_null(f->ch);
	chain_reset(f);
	return f;
}

static void fix_free(struct fix *f)
{
	blk_destroy(f->b);
	free(f->arena);
	free(f->copy);
	free(f->ch);
	free(f);
}

/* Append a segment (readable ones first); returns its host memory. */
static uint8_t *seg(struct fix *f, uint32_t len, bool write)
{
	struct virtq_seg *s;
	uint8_t *p = f->arena + f->used;

	assert_true(f->ch->nr_segs < VIRTQ_MAX_SEGS);
	assert_true(f->used + len <= ARENA);
	f->used = (f->used + len + 511) & ~(size_t)511;
	s = &f->ch->segs[f->ch->nr_segs++];
	s->host = p;
	s->gpa = 0x100000 + (uint64_t)(p - f->arena);
	s->len = len;
	s->write = write;
	if (write) {
		f->ch->write_len += len;
	} else {
		assert_int_equal(f->ch->nr_read, f->ch->nr_segs - 1);
		f->ch->nr_read++;
		f->ch->read_len += len;
	}
	return p;
}

static void put_hdr(uint8_t *p, uint32_t type, uint64_t sector)
{
	uint32_t t = htole32(type), z = 0;
	uint64_t s = htole64(sector);

	memcpy(p, &t, 4);
	memcpy(p + 4, &z, 4);
	memcpy(p + 8, &s, 8);
}

static uint8_t *hdr(struct fix *f, uint32_t type, uint64_t sector)
{
	uint8_t *p = seg(f, 16, false);

	put_hdr(p, type, sector);
	return p;
}

static void status_seg(struct fix *f)
{
	f->status = seg(f, 1, true);
}

/* Run the chain; returns blk_handle_chain's result. */
static int run(struct fix *f, uint32_t *written)
{
	memcpy(f->copy, f->arena, ARENA);
	return blk_handle_chain(f->b, f->ch, written);
}

/* Run a chain that must complete with @status and @written bytes. */
static void expect(struct fix *f, uint8_t status, uint32_t want_written)
{
	uint32_t written = 12345;

	assert_int_equal(run(f, &written), 0);
	assert_int_equal(*f->status, status);
	assert_int_equal(written, want_written);
}

/* Run a chain that must be rejected with no byte of guest memory changed. */
static void expect_reject(struct fix *f)
{
	uint32_t written = 12345;

	assert_int_equal(run(f, &written), -EINVAL);
	assert_int_equal(written, 0);
	assert_memory_equal(f->arena, f->copy, ARENA);
}

static void assert_filled(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], FILL);
}

static void assert_disk_pattern(struct fake_backend *fb)
{
	for (uint64_t i = 0; i < fb->be.size; i++)
		if (fb->data[i] != pat(i))
			fail_msg("disk byte %llu changed", (unsigned long long)i);
}

static void test_read_ok(void **state)
{
	struct fix *f = fix_new(NULL, true);
	uint8_t *d1, *d2;
	struct blk_stats st;

	(void)state;
	hdr(f, VIRTIO_BLK_T_IN, 3);
	d1 = seg(f, 512, true);
	d2 = seg(f, 1024, true);
	status_seg(f);
	expect(f, S_OK, 1537);
	for (int i = 0; i < 512; i++)
		assert_int_equal(d1[i], pat(3 * 512 + i));
	for (int i = 0; i < 1024; i++)
		assert_int_equal(d2[i], pat(4 * 512 + i));
	blk_get_stats(f->b, &st);
	assert_int_equal(st.reads, 1);
	assert_int_equal(st.read_bytes, 1536);
	assert_int_equal(st.io_errors, 0);
	fix_free(f);
}

static void test_write_ok(void **state)
{
	struct fix *f = fix_new(NULL, true);
	uint8_t *d;
	struct blk_stats st;

	(void)state;
	hdr(f, VIRTIO_BLK_T_OUT, DISK_SECT - 2);
	d = seg(f, 1024, false);
	memset(d, 0x5c, 1024);
	status_seg(f);
	expect(f, S_OK, 1);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(f->fb->data[DISK_SIZE - 1024 + i], 0x5c);
	assert_int_equal(f->fb->data[DISK_SIZE - 1025], pat(DISK_SIZE - 1025));
	/* FLUSH negotiated: writeback, no flush per write. */
	assert_int_equal(f->fb->flushes, 0);
	blk_get_stats(f->b, &st);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.write_bytes, 1024);
	fix_free(f);
}

/* virtio 1.x "Message Framing": header+data in one buffer, data+status in one. */
static void test_any_layout(void **state)
{
	struct fix *f = fix_new(NULL, true);
	uint8_t *p;

	(void)state;
	p = seg(f, 16 + 512, false);
	put_hdr(p, VIRTIO_BLK_T_OUT, 5);
	memset(p + 16, 0x77, 512);
	f->status = seg(f, 1, true);
	expect(f, S_OK, 1);
	assert_int_equal(f->fb->data[5 * 512], 0x77);
	assert_int_equal(f->fb->data[6 * 512 - 1], 0x77);

	chain_reset(f);
	p = seg(f, 8, false); /* header split in two */
	put_hdr(f->copy, VIRTIO_BLK_T_IN, 5);
	memcpy(p, f->copy, 8);
	memcpy(seg(f, 8, false), f->copy + 8, 8);
	p = seg(f, 512 + 1, true);
	f->status = p + 512;
	expect(f, S_OK, 513);
	assert_int_equal(p[0], 0x77);
	assert_int_equal(p[511], 0x77);
	fix_free(f);
}

/* BAD-INPUTS 13: sector * 512 + len > capacity, near 2^64, sector << 9 wrapping. */
static void test_out_of_range(void **state)
{
	static const struct {
		uint64_t sector;
		uint32_t len;
	} bad[] = {
		{DISK_SECT, 512},
		{DISK_SECT - 1, 1024},
		{DISK_SECT + 1, 0},
		{UINT64_MAX, 512},
		{UINT64_MAX, 0},
		{UINT64_MAX / 512 + 1, 512}, /* sector << 9 wraps to a small offset */
		{1ull << 55, 512},	     /* sector << 9 == 0 */
		{(1ull << 55) + 1, 512},     /* sector << 9 == 512: would hit sector 1 */
		{0, DISK_SIZE + 512},
		{0, 0xfffffe00},
	};
	struct fix *f = fix_new(NULL, true);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		for (int wr = 0; wr < 2; wr++) {
			uint8_t *d = NULL;
			uint32_t len = bad[i].len;
			/* Only the lengths the arena can hold are backed; bigger
			 * ones are never touched, which is the point. */
			bool backed = len <= 2 * DISK_SIZE;

			chain_reset(f);
			hdr(f, wr ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, bad[i].sector);
			if (len && wr) {
				d = backed ? seg(f, len, false) : NULL;
				if (!backed) {
					struct virtq_seg *s = &f->ch->segs[f->ch->nr_segs++];
					s->host = f->arena + ARENA -
						  4096; /* deliberately too small */
					s->len = len;
					f->ch->nr_read++;
				}
			}
			if (len && !wr) {
				if (backed) {
					d = seg(f, len, true);
				} else {
					struct virtq_seg *s = &f->ch->segs[f->ch->nr_segs++];
					s->host = f->arena + ARENA - 4096;
					s->len = len;
					s->write = true;
				}
			}
			status_seg(f);
			expect(f, S_IOERR, 1);
			if (d && !wr)
				assert_filled(d, len);
		}
	}
	assert_int_equal(f->fb->reads, 0);
	assert_int_equal(f->fb->writes, 0);
	assert_false(f->fb->oob);
	assert_disk_pattern(f->fb);

	/* The last sector and a zero-length request at the very end are fine. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_IN, DISK_SECT - 1);
	seg(f, 512, true);
	status_seg(f);
	expect(f, S_OK, 513);
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_IN, DISK_SECT);
	status_seg(f);
	expect(f, S_OK, 1);
	assert_false(f->fb->oob);
	fix_free(f);
}

/* BAD-INPUTS 14: data length not a multiple of 512. */
static void test_bad_length(void **state)
{
	static const uint32_t lens[] = {1, 100, 511, 513, 1000};
	struct fix *f = fix_new(NULL, true);
	uint8_t *d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		chain_reset(f);
		hdr(f, VIRTIO_BLK_T_IN, 0);
		d = seg(f, lens[i], true);
		status_seg(f);
		expect(f, S_IOERR, 1);
		assert_filled(d, lens[i]);

		chain_reset(f);
		hdr(f, VIRTIO_BLK_T_OUT, 0);
		seg(f, lens[i], false);
		status_seg(f);
		expect(f, S_IOERR, 1);
	}
	/* 256 + 256 is a whole sector: segments need not be sector-sized. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_IN, 1);
	d = seg(f, 256, true);
	seg(f, 256, true);
	status_seg(f);
	expect(f, S_OK, 513);
	assert_int_equal(d[0], pat(512));
	assert_int_equal(f->fb->reads, 1);
	assert_int_equal(f->fb->writes, 0);
	assert_disk_pattern(f->fb);
	fix_free(f);
}

static void test_unknown_type(void **state)
{
	/* SCSI, legacy FLUSH_OUT, GET_LIFETIME, SECURE_ERASE, zone ops, junk. */
	static const uint32_t types[] = {2,  3,	 5,	     10,	 14,
					 15, 16, 0x80000000, 0x80000001, 0xffffffff};
	struct fix *f = fix_new(NULL, true);
	struct blk_stats st;
	uint8_t *d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		chain_reset(f);
		hdr(f, types[i], 0);
		d = seg(f, 512, true);
		status_seg(f);
		expect(f, S_UNSUPP, 1);
		assert_filled(d, 512);
	}
	blk_get_stats(f->b, &st);
	assert_int_equal(st.unsupported, ARRAY_SIZE(types));
	assert_int_equal(f->fb->reads + f->fb->writes + f->fb->flushes, 0);
	fix_free(f);
}

static void test_get_id(void **state)
{
	struct blk_opts o = {.serial = "hostel-disk-1"};
	struct blk_opts o20 = {.serial = "0123456789abcdefghijKLMN"};
	struct fix *f = fix_new(&o, true);
	uint8_t want[20] = "hostel-disk-1", *d, *d2;

	(void)state;
	hdr(f, VIRTIO_BLK_T_GET_ID, 0);
	d = seg(f, 20, true);
	status_seg(f);
	expect(f, S_OK, 21);
	assert_memory_equal(d, want, 20); /* NUL-padded */

	/* Split over two buffers, bigger than 20: only 20 bytes written. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_GET_ID, 0);
	d = seg(f, 7, true);
	d2 = seg(f, 100, true);
	status_seg(f);
	expect(f, S_OK, 21);
	assert_memory_equal(d, want, 7);
	assert_memory_equal(d2, want + 7, 13);
	assert_filled(d2 + 13, 100 - 13);

	/* BAD-INPUTS 14: under 20 bytes -> IOERR, buffer untouched. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_GET_ID, 0);
	d = seg(f, 19, true);
	status_seg(f);
	expect(f, S_IOERR, 1);
	assert_filled(d, 19);
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_GET_ID, 0);
	status_seg(f);
	expect(f, S_IOERR, 1);
	fix_free(f);

	/* A 24-character serial is cut to 20 (no NUL terminator, per spec). */
	f = fix_new(&o20, true);
	hdr(f, VIRTIO_BLK_T_GET_ID, 0);
	d = seg(f, 20, true);
	status_seg(f);
	expect(f, S_OK, 21);
	assert_memory_equal(d, "0123456789abcdefghij", 20);
	fix_free(f);
}

static void test_flush(void **state)
{
	struct fix *f = fix_new(NULL, true);

	(void)state;
	hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	status_seg(f);
	expect(f, S_OK, 1);
	assert_int_equal(f->fb->flushes, 1);
	f->fb->flush_err = EIO;
	expect(f, S_IOERR, 1);
	assert_int_equal(f->fb->flushes, 2);
	fix_free(f);
}

/* Without VIRTIO_BLK_F_FLUSH negotiated the cache is writethrough. */
static void test_writethrough(void **state)
{
	struct fix *f = fix_new(NULL, false);

	(void)state;
	blk_set_features(f->b, 1ull << VIRTIO_F_VERSION_1);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 512, false);
	status_seg(f);
	expect(f, S_OK, 1);
	assert_int_equal(f->fb->writes, 1);
	assert_int_equal(f->fb->flushes, 1);
	/* The write reached the disk but could not be made stable: IOERR. */
	f->fb->flush_err = EIO;
	expect(f, S_IOERR, 1);
	assert_int_equal(f->fb->flushes, 2);

	blk_set_features(f->b, blk_features(f->b));
	expect(f, S_OK, 1);
	assert_int_equal(f->fb->flushes, 2);
	fix_free(f);
}

static void put_range(uint8_t *p, uint64_t sector, uint32_t num, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes r = {
		.sector = htole64(sector),
		.num_sectors = htole32(num),
		.flags = htole32(flags),
	};

	memcpy(p, &r, sizeof(r));
}

static void dwz_req(struct fix *f, uint32_t type, unsigned n, uint64_t sector, uint32_t num,
		    uint32_t flags)
{
	uint8_t *p;

	chain_reset(f);
	hdr(f, type, 0);
	p = seg(f, 16 * n, false);
	for (unsigned i = 0; i < n; i++)
		put_range(p + 16 * i, sector + i, num, flags);
	status_seg(f);
}

static void test_discard_write_zeroes(void **state)
{
	struct blk_opts o = {.discard = true, .write_zeroes = true};
	struct fix *f = fix_new(&o, false);
	uint8_t *p;

	(void)state;
	/* Offered but not negotiated -> UNSUPP, nothing done. */
	blk_set_features(f->b, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH);
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, 0, 8, 0);
	expect(f, S_UNSUPP, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 8, 0);
	expect(f, S_UNSUPP, 1);
	assert_int_equal(f->fb->discards + f->fb->wzs, 0);

	blk_set_features(f->b, blk_features(f->b));
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 4, 2, 0);
	expect(f, S_OK, 1);
	assert_int_equal(f->fb->wzs, 1);
	assert_int_equal(f->fb->last_off, 4 * 512);
	assert_int_equal(f->fb->last_len, 1024);
	assert_false(f->fb->last_unmap);
	assert_int_equal(f->fb->data[4 * 512], 0);
	assert_int_equal(f->fb->data[6 * 512 - 1], 0);
	assert_int_equal(f->fb->data[6 * 512], pat(6 * 512));
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 4, 2, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	expect(f, S_OK, 1);
	assert_true(f->fb->last_unmap);

	/* Several ranges, up to max_discard_seg. */
	dwz_req(f, VIRTIO_BLK_T_DISCARD, BLK_DWZ_SEG_MAX, 0, 1, 0);
	expect(f, S_OK, 1);
	assert_int_equal(f->fb->discards, BLK_DWZ_SEG_MAX);
	assert_false(f->fb->oob);

	/* BAD-INPUTS 14: too many segments, empty or ragged list. */
	dwz_req(f, VIRTIO_BLK_T_DISCARD, BLK_DWZ_SEG_MAX + 1, 0, 1, 0);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, BLK_DWZ_SEG_MAX + 1, 0, 1, 0);
	expect(f, S_IOERR, 1);
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_DISCARD, 0);
	status_seg(f);
	expect(f, S_IOERR, 1);
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_DISCARD, 0);
	p = seg(f, 24, false);
	put_range(p, 0, 1, 0);
	status_seg(f);
	expect(f, S_IOERR, 1);

	/* BAD-INPUTS 13 for ranges. */
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, DISK_SECT - 1, 2, 0);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, UINT64_MAX, 1, 0);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 1ull << 55, 1, 0);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, BLK_DWZ_SECTORS_MAX + 1, 0);
	expect(f, S_IOERR, 1);
	/* One bad range fails the whole request before anything is done. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	p = seg(f, 32, false);
	put_range(p, 0, 1, 0);
	put_range(p + 16, DISK_SECT, 1, 0);
	status_seg(f);
	expect(f, S_IOERR, 1);

	/* virtio 1.x 5.2.6.2: unmap on a discard, or unknown flags -> UNSUPP. */
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, 0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	expect(f, S_UNSUPP, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 1, 2);
	expect(f, S_UNSUPP, 1);
	/* ... even when another range is out of range. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_WRITE_ZEROES, 0);
	p = seg(f, 32, false);
	put_range(p, DISK_SECT, 1, 0);
	put_range(p + 16, 0, 1, 0x80000000);
	status_seg(f);
	expect(f, S_UNSUPP, 1);

	assert_int_equal(f->fb->wzs, 2);
	assert_int_equal(f->fb->discards, BLK_DWZ_SEG_MAX);
	assert_false(f->fb->oob);

	/* Host failure: IOERR. */
	f->fb->discard_err = EIO;
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, 0, 1, 0);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, 0, 1, 0);
	expect(f, S_OK, 1);
	fix_free(f);

	/* Not offered at all -> UNSUPP even if the "driver" claims it. */
	f = fix_new(NULL, false);
	blk_set_features(f->b, ~0ull);
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, 0, 1, 0);
	expect(f, S_UNSUPP, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 1, 0);
	expect(f, S_UNSUPP, 1);
	fix_free(f);
}

/* BAD-INPUTS 15: a read-only disk: IOERR and no byte of the image changes. */
static void test_readonly(void **state)
{
	struct blk_opts o = {.readonly = true, .discard = true, .write_zeroes = true};
	struct fix *f = fix_new(&o, true);
	uint8_t *d;

	(void)state;
	assert_true(blk_features(f->b) & (1ull << VIRTIO_BLK_F_RO));
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	memset(seg(f, 4096, false), 0, 4096);
	status_seg(f);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 8, 0);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, 0, 8, 0);
	expect(f, S_IOERR, 1);
	assert_int_equal(f->fb->writes + f->fb->wzs + f->fb->discards, 0);
	assert_disk_pattern(f->fb);
	/* Reads, flushes and GET_ID still work. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_IN, 0);
	d = seg(f, 512, true);
	status_seg(f);
	expect(f, S_OK, 513);
	assert_int_equal(d[1], pat(1));
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	status_seg(f);
	expect(f, S_OK, 1);
	fix_free(f);

	/* A read-only backend makes the device read-only whatever the options. */
	f = fix_new(NULL, true);
	assert_false(blk_features(f->b) & (1ull << VIRTIO_BLK_F_RO));
	fix_free(f);
	{
		struct fake_backend *fb = must(fake_backend_create(DISK_SIZE));
		struct blk *b;

		fb->be.readonly = true;
		b = blk_create(&fb->be, NULL);
		assert_non_null(b);
		assert_true(blk_features(b) & (1ull << VIRTIO_BLK_F_RO));
		blk_destroy(b);
	}
}

/* BAD-INPUTS 7: rejected, nothing written to guest memory. */
static void test_reject_direction(void **state)
{
	struct fix *f = fix_new(NULL, true);
	struct virtq_seg *s;
	struct blk_stats st;

	(void)state;
	/* Header marked device-writable. */
	put_hdr(seg(f, 16, true), VIRTIO_BLK_T_IN, 0);
	seg(f, 512, true);
	status_seg(f);
	expect_reject(f);

	/* Header only 8 readable bytes, the rest writable. */
	chain_reset(f);
	seg(f, 8, false);
	seg(f, 8, true);
	status_seg(f);
	expect_reject(f);

	/* Status read-only (no writable segment at all). */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 512, false);
	seg(f, 1, false);
	expect_reject(f);

	/* Status of length 0 (after writable data). */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_IN, 0);
	seg(f, 512, true);
	seg(f, 0, true);
	expect_reject(f);

	/* Missing status: header only; and an empty chain. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	expect_reject(f);
	chain_reset(f);
	expect_reject(f);

	/* A writable descriptor before a readable one (malformed description). */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 512, false);
	status_seg(f);
	f->ch->segs[0].write = true;
	expect_reject(f);
	f->ch->segs[0].write = false;
	f->ch->nr_read = 3; /* claims the status is readable */
	expect_reject(f);
	f->ch->nr_read = 4; /* more readable than segments */
	expect_reject(f);
	f->ch->nr_read = 2;
	f->ch->nr_segs = VIRTQ_MAX_SEGS + 1;
	expect_reject(f);

	/* A segment with bytes but no memory. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	s = &f->ch->segs[f->ch->nr_segs++];
	s->host = NULL;
	s->len = 512;
	f->ch->nr_read++;
	status_seg(f);
	expect_reject(f);

	assert_int_equal(blk_handle_chain(f->b, NULL, &(uint32_t){0}), -EINVAL);
	blk_get_stats(f->b, &st);
	assert_int_equal(st.rejected, 12);
	assert_int_equal(f->fb->reads + f->fb->writes + f->fb->flushes, 0);
	fix_free(f);
}

/* Data in the wrong direction: IOERR with the status written, no host I/O. */
static void test_data_direction(void **state)
{
	struct fix *f = fix_new(NULL, true);
	uint8_t *d;

	(void)state;
	/* A read with device-readable data. */
	hdr(f, VIRTIO_BLK_T_IN, 0);
	seg(f, 512, false);
	d = seg(f, 512, true);
	status_seg(f);
	expect(f, S_IOERR, 1);
	assert_filled(d, 512);

	/* A write with device-writable data before the status. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 512, false);
	d = seg(f, 512, true);
	status_seg(f);
	expect(f, S_IOERR, 1);
	assert_filled(d, 512);

	/* A write whose data is all device-writable. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	d = seg(f, 512, true);
	status_seg(f);
	expect(f, S_IOERR, 1);
	assert_filled(d, 512);

	/* A status segment of more than 1 byte: its last byte is the status. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 512, false);
	d = seg(f, 4, true);
	f->status = d + 3;
	expect(f, S_IOERR, 1);
	assert_filled(d, 3);

	assert_int_equal(f->fb->reads + f->fb->writes, 0);
	assert_disk_pattern(f->fb);
	fix_free(f);
}

/* BAD-INPUTS 5: more data segments than seg_max; zero-length and huge segments. */
static void test_seg_max_and_lengths(void **state)
{
	struct blk_opts o = {.seg_max = 4};
	struct fix *f = fix_new(&o, true);
	uint8_t cfg[4];

	(void)state;
	blk_config_read(f->b, offsetof(struct virtio_blk_config, seg_max), cfg, 4);
	assert_int_equal(cfg[0], 4);
	for (int wr = 0; wr < 2; wr++) {
		for (int n = 4; n <= 5; n++) {
			chain_reset(f);
			hdr(f, wr ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, 0);
			for (int i = 0; i < n; i++)
				seg(f, 512, !wr);
			status_seg(f);
			expect(f, n == 4 ? S_OK : S_IOERR, n == 4 && !wr ? 4 * 512 + 1 : 1);
		}
	}
	assert_int_equal(f->fb->reads, 1);
	assert_int_equal(f->fb->writes, 1);

	/* Zero-length segments carry no data and do not count. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_IN, 0);
	for (int i = 0; i < 4; i++) {
		seg(f, 512, true);
		seg(f, 0, true);
	}
	status_seg(f);
	expect(f, S_OK, 4 * 512 + 1);
	fix_free(f);

	/* Default seg_max, and a segment of 0xFFFFFFFF bytes (never touched). */
	f = fix_new(NULL, true);
	blk_config_read(f->b, offsetof(struct virtio_blk_config, seg_max), cfg, 4);
	assert_int_equal(cfg[0] | cfg[1] << 8, BLK_SEG_MAX_DEFAULT);
	hdr(f, VIRTIO_BLK_T_IN, 0);
	{
		struct virtq_seg *s = &f->ch->segs[f->ch->nr_segs++];

		s->host = f->arena + ARENA - 4096;
		s->len = 0xffffffff;
		s->write = true;
	}
	status_seg(f);
	expect(f, S_IOERR, 1);
	assert_int_equal(f->fb->reads, 0);
	fix_free(f);
}

/* BAD-INPUTS 16: host errors fail that request only; short writes never succeed. */
static void test_host_errors(void **state)
{
	struct fix *f = fix_new(NULL, true);
	struct blk_stats st;
	uint8_t *d;

	(void)state;
	hdr(f, VIRTIO_BLK_T_IN, 0);
	d = seg(f, 512, true);
	status_seg(f);
	f->fb->read_err = EIO;
	expect(f, S_IOERR, 1);
	expect(f, S_OK, 513);
	assert_int_equal(d[5], pat(5));

	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	memset(seg(f, 1024, false), 0x11, 1024);
	status_seg(f);
	f->fb->write_err = ENOSPC;
	expect(f, S_IOERR, 1);
	assert_int_equal(f->fb->data[0], pat(0));
	expect(f, S_OK, 1);
	assert_int_equal(f->fb->data[0], 0x11);

	f->fb->short_write = true;
	expect(f, S_IOERR, 1);
	expect(f, S_OK, 1);

	f->fb->write_err = EIO;
	expect(f, S_IOERR, 1);

	blk_get_stats(f->b, &st);
	assert_int_equal(st.host_errors, 4);
	assert_int_equal(st.io_errors, 4);
	fix_free(f);
}

static void test_config_and_features(void **state)
{
	struct blk_opts o = {.discard = true, .write_zeroes = true, .size_max = 0x20000};
	struct fix *f = fix_new(&o, false);
	struct virtio_blk_config c;
	uint8_t buf[16], before[sizeof(c)];
	uint64_t feat = blk_features(f->b);

	(void)state;
	assert_int_equal(blk_config_size(), sizeof(c));
	blk_config_read(f->b, 0, &c, sizeof(c));
	assert_int_equal(le64toh(c.capacity), DISK_SECT);
	assert_int_equal(blk_capacity(f->b), DISK_SECT);
	assert_int_equal(le32toh(c.size_max), 0x20000);
	assert_int_equal(le32toh(c.blk_size), 512);
	assert_int_equal(le32toh(c.max_discard_seg), BLK_DWZ_SEG_MAX);
	assert_int_equal(le32toh(c.max_discard_sectors), BLK_DWZ_SECTORS_MAX);
	assert_int_equal(le32toh(c.max_write_zeroes_seg), BLK_DWZ_SEG_MAX);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
	assert_int_equal(c.wce, 0);

	/* Unaligned and odd-sized reads: byte-exact. */
	blk_config_read(f->b, 0, buf, 3);
	assert_int_equal(buf[0], DISK_SECT & 0xff);
	assert_int_equal(buf[1], 0);
	blk_config_read(f->b, offsetof(struct virtio_blk_config, blk_size) + 1, buf, 3);
	assert_int_equal(buf[0], 512 >> 8);
	assert_int_equal(buf[1], 0);

	/* BAD-INPUTS 10: reads past the end read 0, writes are ignored. */
	memset(buf, 0xff, sizeof(buf));
	blk_config_read(f->b, sizeof(c) - 2, buf, 8);
	assert_int_equal(buf[2], 0);
	assert_int_equal(buf[7], 0);
	memset(buf, 0xff, sizeof(buf));
	blk_config_read(f->b, UINT64_MAX, buf, 8);
	blk_config_read(f->b, UINT64_MAX - 3, buf + 8, 8);
	for (int i = 0; i < 16; i++)
		assert_int_equal(buf[i], 0);
	blk_config_read(f->b, 0, before, sizeof(before));
	memset(buf, 0x5a, sizeof(buf));
	for (uint64_t off = 0; off < sizeof(c) + 8; off++)
		blk_config_write(f->b, off, buf, 8);
	blk_config_write(f->b, UINT64_MAX, buf, 8);
	blk_config_read(f->b, 0, &c, sizeof(c));
	assert_memory_equal(&c, before, sizeof(c));

	assert_true(feat & (1ull << VIRTIO_F_VERSION_1));
	assert_true(feat & (1ull << VIRTIO_RING_F_EVENT_IDX));
	assert_true(feat & (1ull << VIRTIO_RING_F_INDIRECT_DESC));
	assert_true(feat & (1ull << VIRTIO_BLK_F_SEG_MAX));
	assert_true(feat & (1ull << VIRTIO_BLK_F_SIZE_MAX));
	assert_true(feat & (1ull << VIRTIO_BLK_F_BLK_SIZE));
	assert_true(feat & (1ull << VIRTIO_BLK_F_FLUSH));
	assert_true(feat & (1ull << VIRTIO_BLK_F_DISCARD));
	assert_true(feat & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_false(feat & (1ull << VIRTIO_BLK_F_RO));
	assert_false(feat & (1ull << VIRTIO_BLK_F_CONFIG_WCE));
	assert_false(feat & (1ull << VIRTIO_BLK_F_MQ));
	fix_free(f);

	f = fix_new(NULL, false);
	feat = blk_features(f->b);
	assert_false(feat & (1ull << VIRTIO_BLK_F_DISCARD));
	assert_false(feat & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	blk_config_read(f->b, 0, &c, sizeof(c));
	assert_int_equal(le32toh(c.max_discard_seg), 0);
	assert_int_equal(le32toh(c.size_max), BLK_SIZE_MAX_DEFAULT);
	fix_free(f);
}

static void test_create_rejects(void **state)
{
	struct fake_backend *fb = must(fake_backend_create(1000));

	(void)state;
	assert_null(blk_create(&fb->be, NULL)); /* not a multiple of 512 */
	fb->be.size = 0;
	assert_null(blk_create(&fb->be, NULL));
	assert_null(blk_create(NULL, NULL));
	fake_backend_close(&fb->be);
}

/* ---- the file backend on real temporary files ----------------------------- */

static char tmpdir[PATH_MAX];

static int files_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/hostel-blk-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int files_teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[PATH_MAX + 256];

	(void)state;
	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (d)
		closedir(d);
	return rmdir(tmpdir);
}

static void tpath(char *buf, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name) >= PATH_MAX)
		fail_msg("path too long");
}

/* A file of @size bytes of pat(); returns its path in @path. */
static void make_image(char *path, const char *name, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);
	int fd;

	assert_non_null(buf);
	for (size_t i = 0; i < size; i++)
		buf[i] = pat(i);
	tpath(path, name);
	fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

static uint8_t *slurp(const char *path, size_t size)
{
	uint8_t *buf = malloc(size);
	int fd = open(path, O_RDONLY);

	assert_non_null(buf);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, size, 0), (ssize_t)size);
	close(fd);
	return buf;
}

static void assert_open_fails(const char *path, bool ro, const char *needle)
{
	struct blk_backend *be = (struct blk_backend *)0x1;
	char why[512] = "";
	int r = blk_file_open(path, ro, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why));

	assert_true(r < 0);
	assert_null(be);
	if (!strstr(why, path) || !strstr(why, needle))
		fail_msg("message '%s' lacks '%s' or the path", why, needle);
	assert_null(strchr(why, '\n')); /* one line */
}

static void test_file_rejects(void **state)
{
	char p[PATH_MAX];
	int fd;

	(void)state;
	tpath(p, "missing.img");
	assert_open_fails(p, false, "No such file");
	assert_open_fails(p, true, "No such file");
	assert_open_fails(tmpdir, false, "is a directory");
	assert_open_fails(tmpdir, true, "is a directory");
	make_image(p, "empty.img", 0);
	assert_open_fails(p, false, "empty (0 bytes)");
	make_image(p, "odd.img", 1000);
	assert_open_fails(p, true, "not a multiple of 512");
	assert_open_fails("/dev/null", true, "not a regular file or block device");
	tpath(p, "fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_open_fails(p, true, "not a regular file or block device"); /* and no hang */
	assert_open_fails("", true, "");

	make_image(p, "unreadable.img", 4096);
	assert_int_equal(chmod(p, 0), 0);
	/* Root bypasses file permissions, so this sub-check only runs as a user. */
	if (geteuid() != 0) {
		assert_open_fails(p, true, "Permission denied");
		assert_open_fails(p, false, "Permission denied");
	}
	/* A read-only file opened read-write (only as a user, same reason). */
	make_image(p, "ro.img", 4096);
	assert_int_equal(chmod(p, 0444), 0);
	if (geteuid() != 0)
		assert_open_fails(p, false, "read-write");
	/* Rejected files are never modified. */
	fd = open(p, O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(blk_cache_parse("writeback"), BLK_CACHE_WRITEBACK);
	assert_int_equal(blk_cache_parse("none"), BLK_CACHE_NONE);
	assert_int_equal(blk_cache_parse("unsafe"), -EINVAL);
	assert_int_equal(blk_cache_parse(NULL), -EINVAL);
}

static void test_file_rw_flush_discard(void **state)
{
	const size_t size = 1024 * 1024;
	struct blk_backend *be;
	char p[PATH_MAX], why[256];
	uint8_t a[1024], b[512], c[512], *img;
	struct iovec v[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
	struct stat st1, st2;

	(void)state;
	make_image(p, "rw.img", size);
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why)),
			 0);
	assert_int_equal(be->size, size);
	assert_false(be->readonly);
	assert_int_equal(be->ops->preadv(be, v, 2, 4096), 1536);
	assert_int_equal(a[0], pat(4096));
	assert_int_equal(b[511], pat(4096 + 1535));
	memset(a, 0x42, sizeof(a));
	memset(b, 0x43, sizeof(b));
	assert_int_equal(be->ops->pwritev(be, v, 2, 8192), 1536);
	assert_int_equal(be->ops->flush(be), 0);
	/* Outside the disk: refused by the backend too. */
	assert_true(be->ops->pwritev(be, v, 2, size - 512) < 0);
	assert_true(be->ops->preadv(be, v, 2, UINT64_MAX - 100) < 0);
	assert_true(be->ops->discard(be, size, 512) < 0);

	/* Discard punches a hole: fewer blocks, zeroes read back. */
	assert_int_equal(fstatat(AT_FDCWD, p, &st1, 0), 0);
	assert_int_equal(be->ops->discard(be, 256 * 1024, 512 * 1024), 0);
	assert_int_equal(fstatat(AT_FDCWD, p, &st2, 0), 0);
	assert_true(st2.st_blocks < st1.st_blocks);
	assert_int_equal(st2.st_size, size);
	v[0].iov_len = 512;
	assert_int_equal(be->ops->preadv(be, v, 1, 300 * 1024), 512);
	memset(c, 0, sizeof(c));
	assert_memory_equal(a, c, 512);

	/* Write zeroes, with and without unmap. */
	assert_int_equal(be->ops->write_zeroes(be, 0, 1024, false), 0);
	assert_int_equal(be->ops->write_zeroes(be, 2048, 512, true), 0);
	be->ops->close(be);

	img = slurp(p, size);
	for (size_t i = 0; i < 1024; i++)
		assert_int_equal(img[i], 0);
	assert_int_equal(img[1024], pat(1024));
	assert_int_equal(img[2048], 0);
	assert_int_equal(img[2560], pat(2560));
	assert_int_equal(img[8192], 0x42);
	assert_int_equal(img[8192 + 1024], 0x43);
	assert_int_equal(img[8192 + 1536], pat(8192 + 1536));
	assert_int_equal(img[256 * 1024], 0);
	assert_int_equal(img[256 * 1024 + 512 * 1024 - 1], 0);
	assert_int_equal(img[256 * 1024 + 512 * 1024], pat(256 * 1024 + 512 * 1024));
	free(img);
}

/* BAD-INPUTS 17: two users of one image. */
static void test_file_lock(void **state)
{
	struct blk_backend *rw, *rw2, *ro1, *ro2, *snap;
	char p[PATH_MAX], why[512], want[PATH_MAX + 64];

	(void)state;
	make_image(p, "lock.img", 8192);
	snprintf(want, sizeof(want), "disk '%s' is in use by another process (locked)", p);
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &rw, why, sizeof(why)),
			 0);
	assert_int_equal(
		blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &rw2, why, sizeof(why)),
		-EBUSY);
	assert_string_equal(why, want);
	assert_null(rw2);
	/* A reader cannot share with a writer either. */
	assert_int_equal(blk_file_open(p, true, false, BLK_CACHE_WRITEBACK, &ro1, why, sizeof(why)),
			 -EBUSY);
	assert_int_equal(
		blk_file_open(p, false, true, BLK_CACHE_WRITEBACK, &snap, why, sizeof(why)),
		-EBUSY);
	rw->ops->close(rw);

	/* Readers share; a snapshot is a reader; a writer is then refused. */
	assert_int_equal(blk_file_open(p, true, false, BLK_CACHE_WRITEBACK, &ro1, why, sizeof(why)),
			 0);
	assert_int_equal(blk_file_open(p, true, false, BLK_CACHE_WRITEBACK, &ro2, why, sizeof(why)),
			 0);
	assert_int_equal(
		blk_file_open(p, false, true, BLK_CACHE_WRITEBACK, &snap, why, sizeof(why)), 0);
	assert_true(ro1->readonly);
	assert_false(snap->readonly);
	assert_int_equal(
		blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &rw2, why, sizeof(why)),
		-EBUSY);
	assert_string_equal(why, want);
	ro1->ops->close(ro1);
	ro2->ops->close(ro2);
	snap->ops->close(snap);
	/* All closed: the lock went with them. */
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &rw, why, sizeof(why)),
			 0);
	rw->ops->close(rw);
}

static void test_file_snapshot(void **state)
{
	const size_t size = 64 * 1024 + 512; /* last snapshot block is short */
	struct blk_backend *be;
	char p[PATH_MAX], why[256];
	uint8_t *orig, *after, *buf = malloc(size), w[4096];
	struct iovec v;

	(void)state;
	assert_non_null(buf);
	make_image(p, "snap.img", size);
	orig = slurp(p, size);
	assert_int_equal(blk_file_open(p, false, true, BLK_CACHE_NONE, &be, why, sizeof(why)), 0);

	/* 512 bytes inside a 4 KiB block, a write spanning three blocks, the short tail. */
	memset(w, 0x61, sizeof(w));
	v = (struct iovec){w, 512};
	assert_int_equal(be->ops->pwritev(be, &v, 1, 4096 + 1024), 512);
	v = (struct iovec){w, 4096};
	memset(w, 0x62, sizeof(w));
	assert_int_equal(be->ops->pwritev(be, &v, 1, 3 * 4096 + 2048), 4096);
	memset(w, 0x63, 512);
	v = (struct iovec){w, 512};
	assert_int_equal(be->ops->pwritev(be, &v, 1, size - 512), 512);
	assert_int_equal(be->ops->write_zeroes(be, 8 * 4096 + 512, 1024, false), 0);
	assert_int_equal(be->ops->discard(be, 0, 4096), 0);
	assert_int_equal(be->ops->flush(be), 0);

	/* The guest sees its writes and, around them, the image. */
	v = (struct iovec){buf, size};
	assert_int_equal(be->ops->preadv(be, &v, 1, 0), (ssize_t)size);
	for (size_t i = 0; i < size; i++) {
		uint8_t want = orig[i];

		if (i >= 4096 + 1024 && i < 4096 + 1536)
			want = 0x61;
		else if (i >= 3 * 4096 + 2048 && i < 4 * 4096 + 2048)
			want = 0x62;
		else if (i >= size - 512)
			want = 0x63;
		else if (i >= 8 * 4096 + 512 && i < 8 * 4096 + 1536)
			want = 0;
		if (buf[i] != want)
			fail_msg("snapshot byte %zu is %#x, want %#x", i, buf[i], want);
	}
	/* A read that starts mid-run in a dirty block and crosses clean ones. */
	v = (struct iovec){w, 4096};
	assert_int_equal(be->ops->preadv(be, &v, 1, 4096 + 1024), 4096);
	assert_memory_equal(w, buf + 4096 + 1024, 4096);
	be->ops->close(be);

	after = slurp(p, size);
	assert_memory_equal(orig, after, size);
	free(orig);
	free(after);
	free(buf);
}

/* BAD-INPUTS 15 with a real file: a read-only disk leaves the image unchanged. */
static void test_file_readonly_blk(void **state)
{
	struct blk_opts o = {.discard = true, .write_zeroes = true};
	struct blk_backend *be;
	struct fix *f;
	char p[PATH_MAX], why[256];
	uint8_t *orig, *after;

	(void)state;
	make_image(p, "ro-blk.img", DISK_SIZE);
	orig = slurp(p, DISK_SIZE);
	assert_int_equal(blk_file_open(p, true, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why)),
			 0);
	f = fix_new(NULL, true);
	blk_destroy(f->b);
	f->b = blk_create(be, &o);
	assert_non_null(f->b);
	blk_set_features(f->b, blk_features(f->b));
	assert_true(blk_features(f->b) & (1ull << VIRTIO_BLK_F_RO));
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 4096, false);
	status_seg(f);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_WRITE_ZEROES, 1, 0, 8, 1);
	expect(f, S_IOERR, 1);
	dwz_req(f, VIRTIO_BLK_T_DISCARD, 1, 0, 8, 0);
	expect(f, S_IOERR, 1);
	/* The backend itself refuses too. */
	assert_int_equal(be->ops->discard(be, 0, 512), -EROFS);
	assert_int_equal(be->ops->write_zeroes(be, 0, 512, false), -EROFS);
	fix_free(f);
	after = slurp(p, DISK_SIZE);
	assert_memory_equal(orig, after, DISK_SIZE);
	free(orig);
	free(after);
}

/*
 * BAD-INPUTS 16: a short pwritev is resumed, and the error it then hits is
 * returned: never a partial success. RLIMIT_FSIZE makes the kernel write
 * only up to the limit (short), then fail with EFBIG.
 */
static void test_file_short_write(void **state)
{
	struct blk_backend *be;
	struct rlimit old, lim;
	char p[PATH_MAX], why[256];
	uint8_t w[8192];
	struct iovec v = {w, sizeof(w)};
	void (*oldsig)(int);
	struct fix *f;
	ssize_t r;

	(void)state;
	make_image(p, "short.img", DISK_SIZE);
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why)),
			 0);
	memset(w, 0x99, sizeof(w));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 32 * 1024 + 512;
	oldsig = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = be->ops->pwritev(be, &v, 1, 28 * 1024);

	/* The same through the device: IOERR, never OK. */
	f = fix_new(NULL, true);
	blk_destroy(f->b);
	f->b = blk_create(be, NULL);
	assert_non_null(f->b);
	blk_set_features(f->b, blk_features(f->b));
	hdr(f, VIRTIO_BLK_T_OUT, 60);
	seg(f, 8192, false);
	status_seg(f);
	expect(f, S_IOERR, 1);
	/* Below the limit the next write succeeds. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 8192, false);
	status_seg(f);
	expect(f, S_OK, 1);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	assert_int_equal(r, -EFBIG);
	fix_free(f);
}

/* Find the fd this process has open on @path (the backend's). */
static int fd_of(const char *path)
{
	char real[PATH_MAX], link[PATH_MAX], ent[300];
	int found = -1;
	DIR *d;
	struct dirent *e;

	assert_non_null(realpath(path, real));
	d = opendir("/proc/self/fd");
	assert_non_null(d);
	while ((e = readdir(d))) {
		ssize_t n;

		snprintf(ent, sizeof(ent), "/proc/self/fd/%s", e->d_name);
		n = readlink(ent, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, real))
			found = atoi(e->d_name);
	}
	closedir(d);
	return found;
}

/*
 * BAD-INPUTS 16: once fdatasync fails, that FLUSH and every later one fail.
 * The backend's fd is swapped for a pipe (fdatasync: EINVAL) for one flush,
 * then put back: the next flush would succeed, and must not.
 */
static void test_file_sticky_flush(void **state)
{
	struct blk_backend *be;
	char p[PATH_MAX], why[256];
	int fd, saved, pfd[2];
	struct fix *f;

	(void)state;
	make_image(p, "sticky.img", DISK_SIZE);
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why)),
			 0);
	f = fix_new(NULL, true);
	blk_destroy(f->b);
	f->b = blk_create(be, NULL);
	assert_non_null(f->b);
	blk_set_features(f->b, blk_features(f->b));
	hdr(f, VIRTIO_BLK_T_FLUSH, 0);
	status_seg(f);
	expect(f, S_OK, 1);

	fd = fd_of(p);
	assert_true(fd >= 0);
	saved = dup(fd);
	assert_true(saved >= 0);
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(dup2(pfd[0], fd), fd);
	expect(f, S_IOERR, 1);
	assert_int_equal(dup2(saved, fd), fd);
	close(saved);
	close(pfd[0]);
	close(pfd[1]);
	assert_int_equal(fdatasync(fd), 0); /* the file itself syncs fine now */
	expect(f, S_IOERR, 1);
	expect(f, S_IOERR, 1);

	/* Writes still go through; only durability is refused. */
	chain_reset(f);
	hdr(f, VIRTIO_BLK_T_OUT, 0);
	seg(f, 512, false);
	status_seg(f);
	expect(f, S_OK, 1);
	/* And in writethrough mode every write now fails. */
	blk_set_features(f->b, 1ull << VIRTIO_F_VERSION_1);
	expect(f, S_IOERR, 1);
	fix_free(f);
}

/* cache=none: O_DIRECT when the filesystem has it, else a clear error. */
static void test_file_cache_none(void **state)
{
	struct blk_backend *be;
	char p[PATH_MAX], why[512];
	uint8_t *buf = aligned_alloc(4096, 8192), *img;
	struct iovec v[2];
	int r;

	(void)state;
	assert_non_null(buf);
	make_image(p, "direct.img", DISK_SIZE);
	r = blk_file_open(p, false, false, BLK_CACHE_NONE, &be, why, sizeof(why));
	if (r < 0) {
		/* e.g. tmpfs before Linux 6.6: refused, and said so. */
		assert_non_null(strstr(why, "cache=none"));
		assert_non_null(strstr(why, p));
		free(buf);
		return;
	}
	/* Aligned buffers go straight to the file. */
	v[0] = (struct iovec){buf, 4096};
	assert_int_equal(be->ops->preadv(be, v, 1, 4096), 4096);
	assert_int_equal(buf[0], pat(4096));
	/* Misaligned guest buffers take the bounce path, both ways. */
	memset(buf, 0x3c, 8192);
	v[0] = (struct iovec){buf + 1, 300};
	v[1] = (struct iovec){buf + 2000, 724};
	assert_int_equal(be->ops->pwritev(be, v, 2, 512), 1024);
	memset(buf, 0, 8192);
	v[0] = (struct iovec){buf + 3, 1024};
	assert_int_equal(be->ops->preadv(be, v, 1, 512), 1024);
	for (int i = 0; i < 1024; i++)
		assert_int_equal(buf[3 + i], 0x3c);
	assert_int_equal(be->ops->write_zeroes(be, 4096, 4096, false), 0);
	assert_int_equal(be->ops->flush(be), 0);
	be->ops->close(be);
	img = slurp(p, DISK_SIZE);
	assert_int_equal(img[511], pat(511));
	assert_int_equal(img[512], 0x3c);
	assert_int_equal(img[1535], 0x3c);
	assert_int_equal(img[1536], pat(1536));
	assert_int_equal(img[4096], 0);
	assert_int_equal(img[8191], 0);
	assert_int_equal(img[8192], pat(8192));
	free(img);
	free(buf);
}

/* ---- the worker over a real virtqueue ---------------------------------------- */

struct wfix {
	struct ring_harness h;
	struct virtq vq;
	struct fake_backend *fb;
	struct blk *b;
	int kick, irq;
	int resets; /* atomic */
	/* Blocking backend: the worker waits in a read until released. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool block, entered, release;
};

static void w_notify(void *opaque)
{
	struct wfix *w = opaque;
	uint64_t one = 1;

	assert_int_equal(write(w->irq, &one, 8), 8);
}

static void w_needs_reset(void *opaque)
{
	struct wfix *w = opaque;

	__atomic_fetch_add(&w->resets, 1, __ATOMIC_SEQ_CST);
	w_notify(opaque);
}

static void w_on_io(struct fake_backend *fb, enum fake_op op)
{
	struct wfix *w = fb->opaque;

	(void)op;
	pthread_mutex_lock(&w->mu);
	if (w->block) {
		w->entered = true;
		pthread_cond_broadcast(&w->cv);
		while (!w->release)
			pthread_cond_wait(&w->cv, &w->mu);
	}
	pthread_mutex_unlock(&w->mu);
}

static struct wfix *w_new(void)
{
	struct wfix *w = calloc(1, sizeof(*w));
	struct virtq_config cfg;
	struct blk_queue_cb cb;

	assert_non_null(w);
	assert_int_equal(rh_init(&w->h, 16, RH_DEFAULT_RAM), 0);
	cfg = rh_config(&w->h);
	assert_int_equal(virtq_init(&w->vq, &w->h.gm, &cfg), 0);
	w->fb = fake_backend_create(DISK_SIZE);
	assert_non_null(w->fb);
	fill_disk(w->fb);
	w->fb->on_io = w_on_io;
	w->fb->opaque = w;
	w->b = blk_create(&w->fb->be, NULL);
	assert_non_null(w->b);
	blk_set_features(w->b, blk_features(w->b));
	w->kick = eventfd(0, EFD_CLOEXEC);
	w->irq = eventfd(0, EFD_CLOEXEC);
	assert_true(w->kick >= 0 && w->irq >= 0);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	cb = (struct blk_queue_cb){.notify = w_notify, .needs_reset = w_needs_reset, .opaque = w};
	assert_int_equal(blk_start(w->b, &w->vq, w->kick, &cb), 0);
	assert_int_equal(blk_start(w->b, &w->vq, w->kick, &cb), -EBUSY);
	return w;
}

static void w_free(struct wfix *w)
{
	blk_destroy(w->b);
	close(w->kick);
	close(w->irq);
	rh_fini(&w->h);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}

static void w_kick(struct wfix *w)
{
	uint64_t one = 1;

	assert_int_equal(write(w->kick, &one, 8), 8);
}

/* Wait (bounded, event-driven) until the used index reaches @idx. */
static void w_wait_used(struct wfix *w, uint16_t idx)
{
	while (rh_used_idx(&w->h) != idx) {
		struct pollfd p = {.fd = w->irq, .events = POLLIN};
		uint64_t v;

		if (poll(&p, 1, 10000) != 1)
			fail_msg("no interrupt: used idx %u, want %u", rh_used_idx(&w->h), idx);
		assert_int_equal(read(w->irq, &v, 8), 8);
	}
}

/* Submit a one-sector request; returns the head; *st is the status byte's gpa. */
static uint16_t w_submit(struct wfix *w, uint32_t type, uint64_t sector, uint8_t fill,
			 uint64_t *data, uint64_t *st)
{
	uint64_t h = rh_alloc(&w->h, 16);
	bool in = type == VIRTIO_BLK_T_IN;
	struct rh_buf bufs[3];

	*data = rh_alloc(&w->h, 512);
	*st = rh_alloc(&w->h, 1);
	assert_true(h && *data && *st);
	put_hdr(must(rh_host(&w->h, h, 16)), type, sector);
	memset(must(rh_host(&w->h, *data, 512)), fill, 512);
	*(uint8_t *)must(rh_host(&w->h, *st, 1)) = 0xff;
	bufs[0] = (struct rh_buf){h, 16, false};
	bufs[1] = (struct rh_buf){*data, 512, in};
	bufs[2] = (struct rh_buf){*st, 1, true};
	return rh_submit(&w->h, bufs, 3);
}

static uint8_t w_status(struct wfix *w, uint64_t st)
{
	return *(uint8_t *)must(rh_host(&w->h, st, 1));
}

static void test_worker_requests(void **state)
{
	struct wfix *w = w_new();
	uint64_t d[4], st[4];
	uint16_t head[4];
	uint32_t id, len;

	(void)state;
	head[0] = w_submit(w, VIRTIO_BLK_T_OUT, 2, 0xab, &d[0], &st[0]);
	w_kick(w);
	w_wait_used(w, 1);
	assert_true(rh_get_used(&w->h, &id, &len));
	assert_int_equal(id, head[0]);
	assert_int_equal(len, 1);
	assert_int_equal(w_status(w, st[0]), S_OK);
	assert_int_equal(w->fb->data[2 * 512], 0xab);

	/* Several requests, one kick: a read back, a bad sector, an unknown type. */
	head[1] = w_submit(w, VIRTIO_BLK_T_IN, 2, 0, &d[1], &st[1]);
	head[2] = w_submit(w, VIRTIO_BLK_T_IN, DISK_SECT, 0, &d[2], &st[2]);
	head[3] = w_submit(w, 99, 0, 0, &d[3], &st[3]);
	w_kick(w);
	w_wait_used(w, 4);
	for (int i = 1; i < 4; i++) {
		assert_true(rh_get_used(&w->h, &id, &len));
		assert_int_equal(id, head[i]);
		assert_int_equal(len, i == 1 ? 513 : 1);
	}
	assert_int_equal(w_status(w, st[1]), S_OK);
	assert_int_equal(*(uint8_t *)must(rh_host(&w->h, d[1], 1)), 0xab);
	assert_int_equal(w_status(w, st[2]), S_IOERR);
	assert_int_equal(w_status(w, st[3]), S_UNSUPP);

	/* A chain the virtqueue rejects (buffer outside RAM) completes with len 0. */
	{
		uint64_t h = rh_alloc(&w->h, 16), s = rh_alloc(&w->h, 1);
		struct rh_buf bufs[] = {{h, 16, false}, {0x10, 512, true}, {s, 1, true}};
		uint16_t bad;

		put_hdr(must(rh_host(&w->h, h, 16)), VIRTIO_BLK_T_IN, 0);
		*(uint8_t *)must(rh_host(&w->h, s, 1)) = 0xff;
		bad = rh_submit(&w->h, bufs, 3);
		w_kick(w);
		w_wait_used(w, 5);
		assert_true(rh_get_used(&w->h, &id, &len));
		assert_int_equal(id, bad);
		assert_int_equal(len, 0);
		assert_int_equal(*(uint8_t *)must(rh_host(&w->h, s, 1)), 0xff);
	}
	assert_false(w->fb->oob);
	assert_int_equal(__atomic_load_n(&w->resets, __ATOMIC_SEQ_CST), 0);
	w_free(w);
}

/* BAD-INPUTS 9: after blk_stop returns, nothing is consumed or completed. */
static void test_worker_stop_restart(void **state)
{
	struct wfix *w = w_new();
	struct blk_queue_cb cb = {.notify = w_notify, .needs_reset = w_needs_reset, .opaque = w};
	uint64_t d, st;
	uint16_t head;
	uint32_t id, len;

	(void)state;
	blk_stop(w->b);
	blk_stop(w->b); /* idempotent */
	head = w_submit(w, VIRTIO_BLK_T_OUT, 1, 0xcd, &d, &st);
	w_kick(w);
	/* Nobody is listening: the kick stays pending in the eventfd. */
	assert_int_equal(rh_used_idx(&w->h), 0);
	assert_int_equal(w->fb->writes, 0);
	assert_int_equal(w_status(w, st), 0xff);

	/* Restarted, the worker serves what was queued meanwhile. */
	assert_int_equal(blk_start(w->b, &w->vq, w->kick, &cb), 0);
	w_wait_used(w, 1);
	assert_true(rh_get_used(&w->h, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(w_status(w, st), S_OK);
	assert_int_equal(w->fb->data[512], 0xcd);
	w_free(w);
}

struct stopper {
	struct blk *b;
	bool done; /* atomic */
};

static void *stop_thread(void *arg)
{
	struct stopper *s = arg;

	blk_stop(s->b);
	__atomic_store_n(&s->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/* BAD-INPUTS 9: a reset while a request is in flight finishes it before returning. */
static void test_worker_stop_in_flight(void **state)
{
	struct wfix *w = w_new();
	struct stopper s = {.b = w->b};
	uint64_t d, st, d2, st2;
	uint16_t head, used;
	uint32_t id, len;
	pthread_t t;

	(void)state;
	pthread_mutex_lock(&w->mu);
	w->block = true;
	pthread_mutex_unlock(&w->mu);
	head = w_submit(w, VIRTIO_BLK_T_IN, 3, 0, &d, &st);
	w_submit(w, VIRTIO_BLK_T_IN, 4, 0, &d2, &st2);
	w_kick(w);
	pthread_mutex_lock(&w->mu);
	while (!w->entered)
		pthread_cond_wait(&w->cv, &w->mu);
	pthread_mutex_unlock(&w->mu);

	/* The worker is inside the first read. Stop from another thread. */
	assert_int_equal(pthread_create(&t, NULL, stop_thread, &s), 0);
	/* blk_stop cannot have returned: the read it must wait for is blocked. */
	assert_false(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST));
	assert_int_equal(rh_used_idx(&w->h), 0);
	pthread_mutex_lock(&w->mu);
	w->release = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	assert_int_equal(pthread_join(t, NULL), 0);

	/* The in-flight request completed before blk_stop returned ... */
	used = rh_used_idx(&w->h);
	assert_true(used >= 1);
	assert_true(rh_get_used(&w->h, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 513);
	assert_int_equal(w_status(w, st), S_OK);
	assert_int_equal(*(uint8_t *)must(rh_host(&w->h, d, 1)), pat(3 * 512));
	/* ... and nothing is written after it, whatever the guest does. */
	w_kick(w);
	w_submit(w, VIRTIO_BLK_T_IN, 5, 0, &d, &st);
	w_kick(w);
	assert_int_equal(rh_used_idx(&w->h), used);
	assert_int_equal(w_status(w, st), 0xff);
	w_free(w);
}

/* BAD-INPUTS 3: a broken ring stops the queue and asks for a reset. */
static void test_worker_broken_ring(void **state)
{
	struct wfix *w = w_new();
	uint64_t d, st;

	(void)state;
	rh_set_avail_idx(&w->h, (uint16_t)(w->h.size + 5)); /* far ahead of last_avail */
	w_kick(w);
	while (!__atomic_load_n(&w->resets, __ATOMIC_SEQ_CST)) {
		struct pollfd p = {.fd = w->irq, .events = POLLIN};
		uint64_t v;

		assert_int_equal(poll(&p, 1, 10000), 1);
		assert_int_equal(read(w->irq, &v, 8), 8);
	}
	assert_int_equal(rh_used_idx(&w->h), 0);
	/* Further kicks are ignored (no more reset requests, no completions). */
	rh_set_avail_idx(&w->h, 0);
	w_submit(w, VIRTIO_BLK_T_IN, 0, 0, &d, &st);
	w_kick(w);
	blk_stop(w->b);
	assert_int_equal(__atomic_load_n(&w->resets, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(rh_used_idx(&w->h), 0);
	assert_int_equal(w->fb->reads, 0);
	w_free(w);
}

/* ---- the I/O engines (aio.c), both of them, over a real virtqueue ---------- */

#define E_QSIZE 256 /* room for E_MANY requests of 3 descriptors in one round */
#define E_MANY	80  /* more than BLK_INFLIGHT: the worker waits for free slots */
#define E_SECT	128 /* disk sectors (64 KiB) */

static const enum blk_aio_kind engine_uring = BLK_AIO_URING, engine_thread = BLK_AIO_THREAD;

/* The engine blk_create must give for @kind here: uring falls back to threads. */
static const char *expected_engine(enum blk_aio_kind kind)
{
	struct io_uring ring;

	if (kind == BLK_AIO_THREAD)
		return "thread";
	if (io_uring_queue_init(4, &ring, 0) < 0)
		return "thread"; /* this kernel refuses io_uring: the fallback */
	io_uring_queue_exit(&ring);
	return "uring";
}

struct efix {
	struct ring_harness h;
	struct virtq vq;
	struct blk *b;
	int kick, irq;
};

static void e_notify(void *opaque)
{
	struct efix *e = opaque;
	uint64_t one = 1;

	assert_int_equal(write(e->irq, &one, 8), 8);
}

/* A worker on @be with engine @kind; EVENT_IDX on the ring when @event_idx. */
static struct efix *e_new(struct blk_backend *be, enum blk_aio_kind kind, bool event_idx,
			  bool flush)
{
	struct efix *e = calloc(1, sizeof(*e));
	struct blk_opts o = {.aio = kind, .discard = true, .write_zeroes = true};
	struct blk_queue_cb cb = {.notify = e_notify, .opaque = NULL};
	struct virtq_config cfg;
	uint64_t feat;

	assert_non_null(e);
	assert_int_equal(rh_init(&e->h, E_QSIZE, RH_DEFAULT_RAM), 0);
	e->h.event_idx = event_idx;
	cfg = rh_config(&e->h);
	assert_int_equal(virtq_init(&e->vq, &e->h.gm, &cfg), 0);
	e->b = blk_create(be, &o);
	assert_non_null(e->b);
	assert_string_equal(blk_aio_engine(e->b), expected_engine(kind));
	feat = blk_features(e->b);
	if (!event_idx)
		feat &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	if (!flush)
		feat &= ~(1ull << VIRTIO_BLK_F_FLUSH);
	blk_set_features(e->b, feat);
	e->kick = eventfd(0, EFD_CLOEXEC);
	e->irq = eventfd(0, EFD_CLOEXEC);
	assert_true(e->kick >= 0 && e->irq >= 0);
	cb.opaque = e;
	assert_int_equal(blk_start(e->b, &e->vq, e->kick, &cb), 0);
	return e;
}

static void e_free(struct efix *e)
{
	blk_destroy(e->b);
	close(e->kick);
	close(e->irq);
	rh_fini(&e->h);
	free(e);
}

/* A one-sector request (status preset to 0xff); its data and status gpas. */
static uint16_t e_submit(struct efix *e, uint32_t type, uint64_t sector, uint8_t fill,
			 uint64_t *data, uint64_t *st)
{
	uint64_t h = rh_alloc(&e->h, 16);
	bool in = type == VIRTIO_BLK_T_IN;
	struct rh_buf bufs[3];
	unsigned n = 0;

	*data = type == VIRTIO_BLK_T_FLUSH ? 0 : rh_alloc(&e->h, 512);
	*st = rh_alloc(&e->h, 1);
	assert_true(h && *st && (*data || type == VIRTIO_BLK_T_FLUSH));
	put_hdr(must(rh_host(&e->h, h, 16)), type, sector);
	*(uint8_t *)must(rh_host(&e->h, *st, 1)) = 0xff;
	bufs[n++] = (struct rh_buf){h, 16, false};
	if (*data) {
		memset(must(rh_host(&e->h, *data, 512)), fill, 512);
		bufs[n++] = (struct rh_buf){*data, 512, in};
	}
	bufs[n++] = (struct rh_buf){*st, 1, true};
	return rh_submit(&e->h, bufs, n);
}

static void e_kick(struct efix *e)
{
	uint64_t one = 1;

	assert_int_equal(write(e->kick, &one, 8), 8);
}

/*
 * Wait (bounded, on the interrupt eventfd) until the used index reaches
 * @idx. With EVENT_IDX the driver asks for an interrupt at @idx only
 * (used_event = idx - 1): one must come all the same.
 */
static void e_wait_used(struct efix *e, uint16_t idx)
{
	if (e->h.event_idx)
		rh_set_used_event(&e->h, (uint16_t)(idx - 1));
	while (rh_used_idx(&e->h) != idx) {
		struct pollfd p = {.fd = e->irq, .events = POLLIN};
		uint64_t v;

		if (poll(&p, 1, 10000) != 1)
			fail_msg("no interrupt: used idx %u, want %u", rh_used_idx(&e->h), idx);
		assert_int_equal(read(e->irq, &v, 8), 8);
	}
}

static uint8_t e_status(struct efix *e, uint64_t st)
{
	return *(uint8_t *)must(rh_host(&e->h, st, 1));
}

/*
 * E_MANY writes in one kick (more than the slots: some wait for others to
 * complete), read back in one kick, a flush; completions in any order, each
 * with the right length and status; the image holds the data.
 */
static void engine_rw(enum blk_aio_kind kind, bool event_idx)
{
	uint64_t d[E_MANY], st[E_MANY], fd_, fst;
	uint16_t head[E_MANY], fh, used = 0;
	bool seen[E_QSIZE];
	struct blk_backend *be;
	struct blk_stats bs;
	char p[PATH_MAX], why[256];
	struct efix *e;
	uint32_t id, len;
	uint8_t *img;

	make_image(p, "engine.img", E_SECT * 512);
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why)),
			 0);
	e = e_new(be, kind, event_idx, true);

	for (int i = 0; i < E_MANY; i++)
		head[i] = e_submit(e, VIRTIO_BLK_T_OUT, (uint64_t)i, (uint8_t)(0x40 + i), &d[i],
				   &st[i]);
	e_kick(e);
	used += E_MANY;
	e_wait_used(e, used);
	memset(seen, 0, sizeof(seen));
	while (rh_get_used(&e->h, &id, &len)) {
		assert_true(id < E_QSIZE && !seen[id]);
		seen[id] = true;
		assert_int_equal(len, 1);
	}
	for (int i = 0; i < E_MANY; i++) {
		assert_true(seen[head[i]]);
		assert_int_equal(e_status(e, st[i]), S_OK);
	}

	for (int i = 0; i < E_MANY; i++)
		head[i] = e_submit(e, VIRTIO_BLK_T_IN, (uint64_t)i, 0, &d[i], &st[i]);
	e_kick(e);
	used += E_MANY;
	e_wait_used(e, used);
	memset(seen, 0, sizeof(seen));
	while (rh_get_used(&e->h, &id, &len)) {
		assert_true(id < E_QSIZE && !seen[id]);
		seen[id] = true;
		assert_int_equal(len, 513);
	}
	for (int i = 0; i < E_MANY; i++) {
		uint8_t *b = must(rh_host(&e->h, d[i], 512));

		assert_true(seen[head[i]]);
		assert_int_equal(e_status(e, st[i]), S_OK);
		assert_int_equal(b[0], 0x40 + i);
		assert_int_equal(b[511], 0x40 + i);
	}

	fh = e_submit(e, VIRTIO_BLK_T_FLUSH, 0, 0, &fd_, &fst);
	e_kick(e);
	e_wait_used(e, ++used);
	assert_true(rh_get_used(&e->h, &id, &len));
	assert_int_equal(id, fh);
	assert_int_equal(e_status(e, fst), S_OK);

	blk_get_stats(e->b, &bs);
	assert_int_equal(bs.writes, E_MANY);
	assert_int_equal(bs.reads, E_MANY);
	assert_int_equal(bs.write_bytes, E_MANY * 512);
	assert_int_equal(bs.read_bytes, E_MANY * 512);
	assert_int_equal(bs.io_errors, 0);
	e_free(e);

	img = slurp(p, E_SECT * 512);
	for (int i = 0; i < E_SECT; i++)
		assert_int_equal(img[i * 512 + 7], i < E_MANY ? 0x40 + i : pat(i * 512 + 7));
	free(img);
}

static void test_engine_rw(void **state)
{
	engine_rw(*(const enum blk_aio_kind *)*state, false);
}

static void test_engine_rw_event_idx(void **state)
{
	engine_rw(*(const enum blk_aio_kind *)*state, true);
}

/*
 * Host errors through the engine: the fake backend hands out an fd opened
 * read-only on a file of half the disk. Writes fail on the host (EBADF):
 * IOERR for those requests only. Reads in the file's half come from the
 * engine; reads past its end come back short (EOF), and the backend's own
 * preadv finishes them. Without FLUSH negotiated, every write that works
 * is followed by a flush (writethrough).
 */
static int e_fd = -1;

static int e_async_fd(struct blk_backend *be, bool wr, const struct iovec *iov, int cnt,
		      uint64_t off)
{
	(void)be;
	(void)wr;
	(void)iov;
	(void)cnt;
	(void)off;
	return e_fd;
}

static void test_engine_errors(void **state)
{
	enum blk_aio_kind kind = *(const enum blk_aio_kind *)*state;
	static struct blk_backend_ops ops;
	struct fake_backend *fb = must(fake_backend_create(E_SECT * 512));
	uint64_t d[8], st[8];
	uint16_t h[5];
	struct blk_stats bs;
	char p[PATH_MAX];
	struct efix *e;
	uint32_t id, len;

	assert_non_null(fb);
	fill_disk(fb);
	ops = *fb->be.ops;
	ops.async_fd = e_async_fd;
	fb->be.ops = &ops;
	make_image(p, "half.img", E_SECT * 512 / 2);
	e_fd = open(p, O_RDONLY | O_CLOEXEC);
	assert_true(e_fd >= 0);
	e = e_new(&fb->be, kind, false, false);

	h[0] = e_submit(e, VIRTIO_BLK_T_OUT, 1, 0x11, &d[0], &st[0]);	       /* EBADF */
	h[1] = e_submit(e, VIRTIO_BLK_T_IN, 2, 0, &d[1], &st[1]);	       /* the file */
	h[2] = e_submit(e, VIRTIO_BLK_T_IN, E_SECT - 1, 0, &d[2], &st[2]);     /* past its end */
	h[3] = e_submit(e, VIRTIO_BLK_T_OUT, E_SECT - 2, 0x22, &d[3], &st[3]); /* EBADF */
	h[4] = e_submit(e, VIRTIO_BLK_T_IN, 5, 0, &d[4], &st[4]);	       /* the file */
	e_kick(e);
	e_wait_used(e, 5);
	while (rh_get_used(&e->h, &id, &len))
		assert_int_equal(len, id == h[0] || id == h[3] ? 1 : 513);
	assert_int_equal(e_status(e, st[0]), S_IOERR);
	assert_int_equal(e_status(e, st[3]), S_IOERR);
	assert_int_equal(e_status(e, st[1]), S_OK);
	assert_int_equal(e_status(e, st[2]), S_OK);
	assert_int_equal(e_status(e, st[4]), S_OK);
	for (int i = 1; i <= 4; i += (i == 2 ? 2 : 1)) {
		uint64_t sect = i == 1 ? 2 : i == 2 ? E_SECT - 1 : 5;
		uint8_t *b = must(rh_host(&e->h, d[i], 512));

		for (int k = 0; k < 512; k++)
			assert_int_equal(b[k], pat(sect * 512 + (uint64_t)k));
	}
	/* Only the short read went through the backend; no write reached it. */
	assert_int_equal(fb->reads, 1);
	assert_int_equal(fb->writes, 0);
	assert_int_equal(fb->flushes, 0);
	blk_get_stats(e->b, &bs);
	assert_int_equal(bs.io_errors, 2);
	assert_int_equal(bs.host_errors, 2);

	/* The disk goes on: a write the backend takes (a writable fd) is flushed. */
	close(e_fd);
	e_fd = -1; /* async_fd: -1, the backend's pwritev does it */
	e_submit(e, VIRTIO_BLK_T_OUT, 3, 0x33, &d[5], &st[5]);
	e_kick(e);
	e_wait_used(e, 6);
	assert_int_equal(e_status(e, st[5]), S_OK);
	assert_int_equal(fb->data[3 * 512], 0x33);
	assert_int_equal(fb->flushes, 1);
	assert_false(fb->oob);
	e_free(e);
}

/*
 * Rounds of mixed requests in one kick each: multi-segment reads and
 * writes of 1-4 sectors at random places (split into 1-3 buffers),
 * flushes and discards among them. Requests in one round never overlap,
 * so their order does not matter; a shadow copy of the disk says what
 * every read must return, and the image must equal it at the end.
 */
static void test_engine_mixed(void **state)
{
	enum blk_aio_kind kind = *(const enum blk_aio_kind *)*state;
	enum { ROUNDS = 6, PER = 24, MAXS = 4 };
	uint8_t *shadow = malloc(E_SECT * 512), *img;
	struct blk_backend *be;
	char p[PATH_MAX], why[256];
	uint16_t used = 0;
	struct efix *e;
	unsigned seed = 12345;

	assert_non_null(shadow);
	for (size_t i = 0; i < E_SECT * 512; i++)
		shadow[i] = pat(i);
	make_image(p, "mixed.img", E_SECT * 512);
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why)),
			 0);
	e = e_new(be, kind, true, true);
	for (int r = 0; r < ROUNDS; r++) {
		uint32_t type[PER], nsec[PER];
		uint64_t sect[PER], st[PER], data[PER][3];
		uint32_t dlen[PER][3];
		unsigned nb[PER];
		bool busy[E_SECT] = {false};
		uint32_t id, len;

		for (int i = 0; i < PER; i++) {
			struct rh_buf bufs[5];
			uint64_t h = rh_alloc(&e->h, 16);
			unsigned n = 0, pick = rand_r(&seed) % 10;
			bool ok;
			int tries = 0;

			type[i] = pick < 4   ? VIRTIO_BLK_T_IN
				  : pick < 8 ? VIRTIO_BLK_T_OUT
				  : pick < 9 ? VIRTIO_BLK_T_FLUSH
					     : VIRTIO_BLK_T_DISCARD;
			nb[i] = 0;
			nsec[i] = 1 + rand_r(&seed) % MAXS;
			do { /* a free range: requests of one round do not overlap */
				sect[i] = rand_r(&seed) % (E_SECT - nsec[i] + 1);
				ok = true;
				for (uint32_t k = 0; k < nsec[i]; k++)
					ok = ok && !busy[sect[i] + k];
			} while (!ok && ++tries < 1000);
			if (!ok)
				type[i] = VIRTIO_BLK_T_FLUSH; /* no room left: a flush instead */
			if (type[i] == VIRTIO_BLK_T_FLUSH)
				nsec[i] = 0;
			for (uint32_t k = 0; k < nsec[i]; k++)
				busy[sect[i] + k] = true;
			bufs[n++] = (struct rh_buf){h, 16, false};
			if (type[i] == VIRTIO_BLK_T_DISCARD) {
				struct virtio_blk_discard_write_zeroes dz = {
					.sector = htole64(sect[i]),
					.num_sectors = htole32(nsec[i])};
				data[i][0] = rh_alloc(&e->h, sizeof(dz));
				memcpy(must(rh_host(&e->h, data[i][0], sizeof(dz))), &dz,
				       sizeof(dz));
				bufs[n++] = (struct rh_buf){data[i][0], sizeof(dz), false};
			} else if (nsec[i]) {
				uint32_t left = nsec[i] * 512;

				while (left) {
					uint32_t l =
						nb[i] == 2 || left == 512
							? left
							: 512 * (1 + rand_r(&seed) % (left / 512));

					if (l > left)
						l = left;
					data[i][nb[i]] = rh_alloc(&e->h, l);
					dlen[i][nb[i]] = l;
					assert_true(data[i][nb[i]] != 0);
					if (type[i] == VIRTIO_BLK_T_OUT)
						for (uint32_t k = 0; k < l; k++)
							((uint8_t *)must(rh_host(
								&e->h, data[i][nb[i]], l)))[k] =
								(uint8_t)rand_r(&seed);
					bufs[n++] = (struct rh_buf){data[i][nb[i]], l,
								    type[i] == VIRTIO_BLK_T_IN};
					nb[i]++;
					left -= l;
				}
			}
			st[i] = rh_alloc(&e->h, 1);
			assert_true(h && st[i]);
			put_hdr(must(rh_host(&e->h, h, 16)), type[i], sect[i]);
			*(uint8_t *)must(rh_host(&e->h, st[i], 1)) = 0xff;
			bufs[n++] = (struct rh_buf){st[i], 1, true};
			assert_true(rh_submit(&e->h, bufs, n) != RH_NO_HEAD);
			/* Writes land in the shadow now: nothing else in the round reads there. */
			if (type[i] == VIRTIO_BLK_T_OUT) {
				uint64_t off = sect[i] * 512;

				for (unsigned b = 0; b < nb[i]; b++) {
					memcpy(shadow + off,
					       must(rh_host(&e->h, data[i][b], dlen[i][b])),
					       dlen[i][b]);
					off += dlen[i][b];
				}
			}
		}
		e_kick(e);
		used = (uint16_t)(used + PER);
		e_wait_used(e, used);
		while (rh_get_used(&e->h, &id, &len))
			;
		for (int i = 0; i < PER; i++) {
			uint64_t off = sect[i] * 512;

			assert_int_equal(e_status(e, st[i]), S_OK);
			if (type[i] == VIRTIO_BLK_T_DISCARD) {
				/* Contents unspecified after a discard: take what the disk says. */
				int fd = open(p, O_RDONLY);

				assert_true(fd >= 0);
				assert_int_equal(pread(fd, shadow + off, nsec[i] * 512, (off_t)off),
						 (ssize_t)nsec[i] * 512);
				close(fd);
			}
			if (type[i] != VIRTIO_BLK_T_IN)
				continue;
			for (unsigned b = 0; b < nb[i]; b++) {
				assert_memory_equal(must(rh_host(&e->h, data[i][b], dlen[i][b])),
						    shadow + off, dlen[i][b]);
				off += dlen[i][b];
			}
		}
	}
	e_free(e);
	img = slurp(p, E_SECT * 512);
	assert_memory_equal(img, shadow, E_SECT * 512);
	free(img);
	free(shadow);
}

/*
 * Device reset with requests in flight: blk_stop right after the kick.
 * When it returns, every request the worker popped has been completed and
 * pushed (none is forgotten in the engine), with its data, and nothing is
 * pushed afterwards.
 */
static void test_engine_stop_in_flight(void **state)
{
	enum blk_aio_kind kind = *(const enum blk_aio_kind *)*state;
	uint64_t d[E_MANY], st[E_MANY];
	uint16_t head[E_MANY], used;
	bool seen[E_QSIZE];
	struct blk_backend *be;
	char p[PATH_MAX], why[256];
	struct efix *e;
	uint32_t id, len;

	make_image(p, "stop.img", E_SECT * 512);
	assert_int_equal(blk_file_open(p, false, false, BLK_CACHE_WRITEBACK, &be, why, sizeof(why)),
			 0);
	e = e_new(be, kind, false, true);
	for (int i = 0; i < E_MANY; i++)
		head[i] = e_submit(e, VIRTIO_BLK_T_IN, (uint64_t)i, 0, &d[i], &st[i]);
	e_kick(e);
	blk_stop(e->b);
	used = rh_used_idx(&e->h);
	assert_int_equal(used, e->vq.last_avail); /* popped == pushed */
	memset(seen, 0, sizeof(seen));
	while (rh_get_used(&e->h, &id, &len)) {
		assert_true(id < E_QSIZE);
		seen[id] = true;
		assert_int_equal(len, 513);
	}
	for (int i = 0; i < E_MANY; i++) {
		uint8_t *b = must(rh_host(&e->h, d[i], 512));

		if (!seen[head[i]]) {
			assert_int_equal(e_status(e, st[i]), 0xff); /* never started */
			continue;
		}
		assert_int_equal(e_status(e, st[i]), S_OK);
		assert_int_equal(b[9], pat((uint64_t)i * 512 + 9));
	}
	e_kick(e);
	assert_int_equal(rh_used_idx(&e->h), used);
	e_free(e);
}

/* For test_engine_stop_blocked: the flush blocks in the backend until released. */
struct hold {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool entered, release;
};

static void hold_on_io(struct fake_backend *fb, enum fake_op op)
{
	struct hold *h = fb->opaque;

	if (op != FAKE_FLUSH)
		return;
	pthread_mutex_lock(&h->mu);
	h->entered = true;
	pthread_cond_broadcast(&h->cv);
	while (!h->release)
		pthread_cond_wait(&h->cv, &h->mu);
	pthread_mutex_unlock(&h->mu);
}

/*
 * Device reset with a request stuck in the engine: a read from an eventfd
 * (blocks until the eventfd is written), then a flush that the worker runs
 * itself and that blocks until released, so the read is popped before
 * blk_stop. blk_stop must wait for the read; once the eventfd is written
 * the read completes short (8 bytes), the backend finishes it, and it is
 * pushed before blk_stop returns. The thread engine's preadv on an eventfd
 * fails at once (ESPIPE): that read completes with IOERR, pushed too.
 */
static void test_engine_stop_blocked(void **state)
{
	enum blk_aio_kind kind = *(const enum blk_aio_kind *)*state;
	bool uring = !strcmp(expected_engine(kind), "uring");
	static struct blk_backend_ops ops;
	struct fake_backend *fb = must(fake_backend_create(E_SECT * 512));
	struct hold hd = {.entered = false};
	uint64_t d[2], st[2], one = 1;
	struct stopper s;
	struct efix *e;
	uint16_t h0;
	pthread_t t;

	assert_non_null(fb);
	fill_disk(fb);
	ops = *fb->be.ops;
	ops.async_fd = e_async_fd;
	fb->be.ops = &ops;
	pthread_mutex_init(&hd.mu, NULL);
	pthread_cond_init(&hd.cv, NULL);
	fb->on_io = hold_on_io;
	fb->opaque = &hd;
	e_fd = eventfd(0, EFD_CLOEXEC); /* blocking: a read waits for a write */
	assert_true(e_fd >= 0);
	e = e_new(&fb->be, kind, false, true);
	s.b = e->b;
	s.done = false;

	h0 = e_submit(e, VIRTIO_BLK_T_IN, 3, 0, &d[0], &st[0]);
	e_submit(e, VIRTIO_BLK_T_FLUSH, 0, 0, &d[1], &st[1]);
	e_kick(e);
	pthread_mutex_lock(&hd.mu);
	while (!hd.entered)
		pthread_cond_wait(&hd.cv, &hd.mu);
	pthread_mutex_unlock(&hd.mu);
	/* The worker popped the read and is inside the flush: reset now. */
	assert_int_equal(pthread_create(&t, NULL, stop_thread, &s), 0);
	pthread_mutex_lock(&hd.mu);
	hd.release = true;
	pthread_cond_broadcast(&hd.cv);
	pthread_mutex_unlock(&hd.mu);
	if (uring) {
		/* The read waits on the eventfd, and so does blk_stop. */
		assert_false(__atomic_load_n(&s.done, __ATOMIC_SEQ_CST));
		assert_int_equal(write(e_fd, &one, 8), 8);
	}
	assert_int_equal(pthread_join(t, NULL), 0);

	assert_int_equal(rh_used_idx(&e->h), 2);
	assert_int_equal(e_status(e, st[1]), S_OK);
	if (uring) {
		uint32_t id, len;
		bool found = false;

		assert_int_equal(e_status(e, st[0]), S_OK);
		assert_int_equal(*(uint8_t *)must(rh_host(&e->h, d[0], 1)), pat(3 * 512));
		while (rh_get_used(&e->h, &id, &len))
			if (id == h0)
				found = (len == 513);
		assert_true(found);
		assert_int_equal(fb->reads, 1); /* the short read, finished by the backend */
	} else {
		assert_int_equal(e_status(e, st[0]), S_IOERR);
	}
	e_free(e);
	close(e_fd);
	e_fd = -1;
	pthread_mutex_destroy(&hd.mu);
	pthread_cond_destroy(&hd.cv);
}

int main(void)
{
	const struct CMUnitTest requests[] = {
		cmocka_unit_test(test_read_ok),	       cmocka_unit_test(test_write_ok),
		cmocka_unit_test(test_any_layout),     cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_bad_length),     cmocka_unit_test(test_unknown_type),
		cmocka_unit_test(test_get_id),	       cmocka_unit_test(test_flush),
		cmocka_unit_test(test_writethrough),   cmocka_unit_test(test_discard_write_zeroes),
		cmocka_unit_test(test_readonly),       cmocka_unit_test(test_reject_direction),
		cmocka_unit_test(test_data_direction), cmocka_unit_test(test_seg_max_and_lengths),
		cmocka_unit_test(test_host_errors),    cmocka_unit_test(test_config_and_features),
		cmocka_unit_test(test_create_rejects),
	};
	const struct CMUnitTest files[] = {
		cmocka_unit_test(test_file_rejects),
		cmocka_unit_test(test_file_rw_flush_discard),
		cmocka_unit_test(test_file_lock),
		cmocka_unit_test(test_file_snapshot),
		cmocka_unit_test(test_file_readonly_blk),
		cmocka_unit_test(test_file_short_write),
		cmocka_unit_test(test_file_sticky_flush),
		cmocka_unit_test(test_file_cache_none),
	};
	const struct CMUnitTest worker[] = {
		cmocka_unit_test(test_worker_requests),
		cmocka_unit_test(test_worker_stop_restart),
		cmocka_unit_test(test_worker_stop_in_flight),
		cmocka_unit_test(test_worker_broken_ring),
	};
#define ENGINE_TESTS(kind)                                                                         \
	cmocka_unit_test_prestate(test_engine_rw, (void *)&(kind)),                                \
		cmocka_unit_test_prestate(test_engine_rw_event_idx, (void *)&(kind)),              \
		cmocka_unit_test_prestate(test_engine_errors, (void *)&(kind)),                    \
		cmocka_unit_test_prestate(test_engine_mixed, (void *)&(kind)),                     \
		cmocka_unit_test_prestate(test_engine_stop_in_flight, (void *)&(kind)),            \
		cmocka_unit_test_prestate(test_engine_stop_blocked, (void *)&(kind))
	const struct CMUnitTest engines[] = {
		ENGINE_TESTS(engine_uring),
		ENGINE_TESTS(engine_thread),
	};
	int r = 0;

	r |= cmocka_run_group_tests_name("blk requests", requests, NULL, NULL);
	r |= cmocka_run_group_tests_name("blk file backend", files, files_setup, files_teardown);
	r |= cmocka_run_group_tests_name("blk worker", worker, NULL, NULL);
	r |= cmocka_run_group_tests_name("blk engines", engines, files_setup, files_teardown);
	return r;
}
