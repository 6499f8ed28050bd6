// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/virtio/queue/virtq.c, driven through the ring
 * harness the way a guest driver would. BAD-INPUTS cases 1-6, 8, 11 and 12
 * each have tests below (named in the comments).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "hostel/log.h"
#include "ring_harness.h"
#include "virtio/queue/virtq.h"

#define RAM_END (RH_RAM_GPA + RH_DEFAULT_RAM)

/* One test's world: a fake guest driver and the device's queue. */
static struct ring_harness h;
static struct virtq vq;
static struct virtq_chain ch;
static uint8_t *snap;

static void start(uint16_t size, bool event_idx, bool indirect)
{
	struct virtq_config cfg;

	assert_int_equal(rh_init(&h, size, RH_DEFAULT_RAM), 0);
	h.event_idx = event_idx;
	h.indirect = indirect;
	cfg = rh_config(&h);
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
	assert_true(vq.ready);
}

static int teardown(void **state)
{
	(void)state;
	rh_fini(&h);
	free(snap);
	snap = NULL;
	return 0;
}

static void snapshot(void)
{
	free(snap);
	snap = malloc(h.ram_size);
	assert_non_null(snap);
	memcpy(snap, h.ram, h.ram_size);
}

static void assert_ram_unchanged(void)
{
	assert_non_null(snap);
	assert_memory_equal(snap, h.ram, h.ram_size);
}

/* A buffer in RAM of @len bytes filled with @fill. */
static struct rh_buf buf(uint32_t len, bool write, uint8_t fill)
{
	struct rh_buf b = {rh_alloc(&h, len), len, write};

	assert_true(b.addr != 0);
	memset(rh_host(&h, b.addr, len), fill, len);
	return b;
}

/*
 * The chain at @head (already published) must be rejected: -EINVAL with the
 * head and no segments, not one byte of guest memory written, the queue not
 * broken; completing it with 0 bytes works and a good chain still pops.
 */
static void expect_bad_chain(uint16_t head)
{
	uint64_t bad = vq.stats_bad_chains;
	uint32_t id, len;

	while (rh_get_used(&h, &id, &len)) /* reap earlier completions */
		;
	snapshot();
	assert_int_equal(virtq_pop(&vq, &ch), -EINVAL);
	assert_ram_unchanged();
	assert_int_equal(ch.head, head);
	assert_int_equal(ch.nr_segs, 0);
	assert_int_equal(ch.read_len + ch.write_len, 0);
	assert_int_equal(vq.stats_bad_chains, bad + 1);
	assert_false(vq.broken);

	virtq_push(&vq, head, 0);
	assert_true(rh_get_used(&h, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 0);

	struct rh_buf ok = buf(8, false, 0x5a);
	uint16_t good = rh_submit(&h, &ok, 1);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, good);
	virtq_push(&vq, good, 0);
	assert_true(rh_get_used(&h, &id, &len));
}

/* The ring is broken: -EIO now and on every later pop, nothing written. */
static void expect_broken(void)
{
	snapshot();
	assert_int_equal(virtq_pop(&vq, &ch), -EIO);
	assert_true(vq.broken);
	assert_int_equal(virtq_pop(&vq, &ch), -EIO);
	assert_false(virtq_has_avail(&vq));
	assert_ram_unchanged();
}

/* ---- virtq_init (BAD-INPUTS 8) ---- */

static void test_init_sizes(void **state)
{
	static const uint16_t good[] = {1, 2, 4, 256, 1024};
	static const uint16_t bad[] = {0, 3, 6, 1000, 1023, 2048, 0x8000, 0xffff};
	struct virtq_config cfg;

	(void)state;
	assert_int_equal(rh_init(&h, 1024, RH_DEFAULT_RAM), 0);
	cfg = rh_config(&h);
	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		cfg.size = good[i];
		assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
		assert_true(vq.ready);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		cfg.size = bad[i];
		assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
		assert_false(vq.ready);
	}
	cfg.size = 8;
	assert_int_equal(virtq_init(&vq, NULL, &cfg), -EINVAL);
}

static void test_init_alignment(void **state)
{
	struct virtq_config cfg;

	(void)state;
	assert_int_equal(rh_init(&h, 8, RH_DEFAULT_RAM), 0);
	cfg = rh_config(&h);
	cfg.desc += 8;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	cfg = rh_config(&h);
	cfg.avail += 1;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	cfg = rh_config(&h);
	cfg.used += 2;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	/* The minimum alignments are enough. */
	cfg = rh_config(&h);
	cfg.desc = RH_RAM_GPA + 0x8010;
	cfg.avail = RH_RAM_GPA + 0x9002;
	cfg.used = RH_RAM_GPA + 0xa004;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
}

static void test_init_rings_outside_ram(void **state)
{
	const uint16_t n = 8;
	struct virtq_config cfg;

	(void)state;
	assert_int_equal(rh_init(&h, n, RH_DEFAULT_RAM), 0);

	/* Descriptor table: exactly at the end of RAM, then one entry past it. */
	cfg = rh_config(&h);
	cfg.desc = RAM_END - 16 * n;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
	cfg.desc += 16;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	assert_false(vq.ready);

	/* Avail ring: used_event (its last 2 bytes) must be in RAM too. */
	cfg = rh_config(&h);
	cfg.avail = RAM_END - (6 + 2 * n);
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
	cfg.avail += 2;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);

	/* Used ring: avail_event (its last 2 bytes) must be in RAM too. */
	cfg = rh_config(&h);
	cfg.used = RAM_END - (6 + 8 * n) - 2; /* 4-aligned, fits with 2 spare */
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
	cfg.used += 4; /* 4-aligned, avail_event 2 bytes past the end */
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);

	/* Below RAM, far above it, wrapping 2^64. */
	cfg = rh_config(&h);
	cfg.desc = 0;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	cfg = rh_config(&h);
	cfg.used = 0x100000000ULL;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	cfg = rh_config(&h);
	cfg.desc = UINT64_MAX & ~15ULL;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	cfg = rh_config(&h);
	cfg.avail = UINT64_MAX - 1;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
}

static void test_init_ring_straddles_hole(void **state)
{
	static uint8_t hi[0x1000] __attribute__((aligned(16)));
	const uint16_t n = 8;
	struct virtq_config cfg;

	(void)state;
	assert_int_equal(rh_init(&h, n, RH_DEFAULT_RAM), 0);
	assert_int_equal(gmem_add(&h.gm, RAM_END + 0x1000, sizeof(hi), hi), 0);
	cfg = rh_config(&h);
	cfg.desc = RAM_END - 16 * 4; /* half below the hole, half in it */
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	/* Wholly in the second region is fine. */
	cfg.desc = RAM_END + 0x1000;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
}

static void test_not_ready_is_inert(void **state)
{
	struct virtq_config cfg;

	(void)state;
	assert_int_equal(rh_init(&h, 8, RH_DEFAULT_RAM), 0);
	cfg = rh_config(&h);
	cfg.size = 3;
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), -EINVAL);
	struct rh_buf b = buf(4, false, 1);
	rh_submit(&h, &b, 1);
	snapshot();
	assert_int_equal(virtq_pop(&vq, &ch), 0);
	virtq_push(&vq, 0, 4);
	virtq_set_notify(&vq, false);
	assert_false(virtq_should_notify(&vq));
	assert_false(virtq_has_avail(&vq));
	assert_ram_unchanged();
}

/* ---- good chains of every shape ---- */

static void test_empty(void **state)
{
	(void)state;
	start(8, false, false);
	assert_int_equal(virtq_pop(&vq, &ch), 0);
	assert_false(virtq_has_avail(&vq));
	assert_int_equal(vq.stats_popped, 0);
}

static void test_single(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(100, false, 0xab);
	uint16_t head = rh_submit(&h, &b, 1);
	uint8_t out[100], want[100];

	assert_true(virtq_has_avail(&vq));
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, head);
	assert_int_equal(ch.nr_segs, 1);
	assert_int_equal(ch.nr_read, 1);
	assert_int_equal(ch.read_len, 100);
	assert_int_equal(ch.write_len, 0);
	assert_int_equal(ch.segs[0].gpa, b.addr);
	assert_int_equal(ch.segs[0].len, 100);
	assert_false(ch.segs[0].write);
	assert_ptr_equal(ch.segs[0].host, rh_host(&h, b.addr, 100));
	memset(want, 0xab, sizeof(want));
	assert_int_equal(virtq_chain_read(&ch, 0, out, sizeof(out)), 100);
	assert_memory_equal(out, want, sizeof(out));
	/* Nothing writable to write into. */
	assert_int_equal(virtq_chain_write(&ch, 0, out, 1), 0);
	assert_int_equal(virtq_pop(&vq, &ch), 0);
	assert_int_equal(vq.stats_popped, 1);
}

static void test_multi_read_write(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b[] = {buf(3, false, 1), buf(5, false, 2), buf(4, true, 0), buf(6, true, 0)};
	uint16_t head = rh_submit(&h, b, 4);
	uint8_t in[8], data[10];

	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, head);
	assert_int_equal(ch.nr_segs, 4);
	assert_int_equal(ch.nr_read, 2);
	assert_int_equal(ch.read_len, 8);
	assert_int_equal(ch.write_len, 10);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(ch.segs[i].gpa, b[i].addr);
		assert_int_equal(ch.segs[i].len, b[i].len);
		assert_int_equal(ch.segs[i].write, b[i].write);
	}
	/* Reads and writes cross segment boundaries, with offsets. */
	assert_int_equal(virtq_chain_read(&ch, 0, in, sizeof(in)), 8);
	assert_memory_equal(in, "\1\1\1\2\2\2\2\2", 8);
	assert_int_equal(virtq_chain_read(&ch, 2, in, 3), 3);
	assert_memory_equal(in, "\1\2\2", 3);
	assert_int_equal(virtq_chain_read(&ch, 7, in, 8), 1);
	assert_int_equal(virtq_chain_read(&ch, 8, in, 8), 0);
	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(0x10 + i);
	assert_int_equal(virtq_chain_write(&ch, 0, data, sizeof(data)), 10);
	assert_memory_equal(rh_host(&h, b[2].addr, 4), data, 4);
	assert_memory_equal(rh_host(&h, b[3].addr, 6), data + 4, 6);
	assert_int_equal(virtq_chain_write(&ch, 3, data, 100), 7);
	assert_memory_equal(rh_host(&h, b[2].addr + 3, 1), data, 1);
	assert_memory_equal(rh_host(&h, b[3].addr, 6), data + 1, 6);
}

static void test_full_length_direct_chain(void **state)
{
	struct rh_buf b[16];

	(void)state;
	start(16, false, false);
	/* A chain may use every descriptor of the table: exactly size, no more. */
	for (unsigned i = 0; i < 16; i++)
		b[i] = buf(1, i >= 8, (uint8_t)i);
	rh_submit(&h, b, 16);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.nr_segs, 16);
	assert_int_equal(ch.nr_read, 8);
}

static void test_indirect(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf b[] = {buf(16, false, 7), buf(512, true, 0), buf(1, true, 0)};
	uint16_t head = rh_submit_indirect(&h, b, 3);

	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, head);
	assert_int_equal(ch.nr_segs, 3);
	assert_int_equal(ch.nr_read, 1);
	assert_int_equal(ch.read_len, 16);
	assert_int_equal(ch.write_len, 513);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(ch.segs[i].gpa, b[i].addr);
		assert_int_equal(ch.segs[i].write, b[i].write);
	}
}

static void test_mixed_direct_then_indirect(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf d[] = {buf(16, false, 1), buf(8, false, 2)};
	struct rh_buf in[] = {buf(32, false, 3), buf(64, true, 0), buf(1, true, 0)};
	uint16_t head = rh_add(&h, d, 2, in, 3);

	rh_publish(&h, head);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, head);
	assert_int_equal(ch.nr_segs, 5);
	assert_int_equal(ch.nr_read, 3);
	assert_int_equal(ch.read_len, 56);
	assert_int_equal(ch.write_len, 65);
	assert_int_equal(ch.segs[0].gpa, d[0].addr);
	assert_int_equal(ch.segs[1].gpa, d[1].addr);
	assert_int_equal(ch.segs[2].gpa, in[0].addr);
	assert_int_equal(ch.segs[4].gpa, in[2].addr);
}

static void test_indirect_descriptor_write_flag_ignored(void **state)
{
	(void)state;
	start(8, false, true);
	/* Spec: the device ignores WRITE on the descriptor naming a table. */
	struct rh_buf in[] = {buf(8, false, 1), buf(8, true, 0)};
	uint64_t table = rh_alloc(&h, 32);
	rh_write_desc_at(&h, table, 0, in[0].addr, 8, VRING_DESC_F_NEXT, 1);
	rh_write_desc_at(&h, table, 1, in[1].addr, 8, VRING_DESC_F_WRITE, 0);
	rh_write_desc(&h, 5, table, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE, 0);
	rh_publish(&h, 5);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.nr_segs, 2);
	assert_int_equal(ch.nr_read, 1);
}

static void test_indirect_max_entries(void **state)
{
	static struct rh_buf b[VIRTQ_MAX_SEGS];

	(void)state;
	start(4, false, true);
	uint64_t data = rh_alloc(&h, VIRTQ_MAX_SEGS);
	for (unsigned i = 0; i < VIRTQ_MAX_SEGS; i++)
		b[i] = (struct rh_buf){data + i, 1, i >= VIRTQ_MAX_SEGS / 2};
	rh_submit_indirect(&h, b, VIRTQ_MAX_SEGS);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.nr_segs, VIRTQ_MAX_SEGS);
	assert_int_equal(ch.nr_read, VIRTQ_MAX_SEGS / 2);
	assert_int_equal(ch.read_len + ch.write_len, VIRTQ_MAX_SEGS);
}

/* ---- BAD-INPUTS 5: zero-length descriptors are skipped ---- */

static void test_zero_length_skipped(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf r = buf(10, false, 1), w = buf(20, true, 0);
	/* Zero-length descriptors name no bytes: even address 0 (outside RAM) is fine. */
	struct rh_buf b[] = {{0, 0, false}, r, {UINT64_MAX, 0, true}, w, {RAM_END, 0, true}};
	uint16_t head = rh_submit(&h, b, 5);

	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, head);
	assert_int_equal(ch.nr_segs, 2);
	assert_int_equal(ch.nr_read, 1);
	assert_int_equal(ch.segs[0].gpa, r.addr);
	assert_int_equal(ch.segs[1].gpa, w.addr);
	assert_int_equal(ch.read_len, 10);
	assert_int_equal(ch.write_len, 20);

	/* A chain of nothing but zero-length descriptors is a valid, empty chain. */
	struct rh_buf z[] = {{0, 0, false}, {0, 0, true}};
	rh_submit(&h, z, 2);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.nr_segs, 0);
}

/* ---- BAD-INPUTS 1: descriptor cycles ---- */

static void test_direct_self_loop(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	rh_write_desc(&h, 0, b.addr, 4, VRING_DESC_F_NEXT, 0);
	rh_publish(&h, 0);
	expect_bad_chain(0);
}

static void test_direct_two_node_loop(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	rh_write_desc(&h, 3, b.addr, 4, VRING_DESC_F_NEXT, 6);
	rh_write_desc(&h, 6, b.addr, 4, VRING_DESC_F_NEXT, 3);
	rh_publish(&h, 3);
	expect_bad_chain(3);
}

static void test_direct_long_loop(void **state)
{
	(void)state;
	start(256, false, false);
	struct rh_buf b = buf(4, true, 0);
	/* 0 -> 1 -> ... -> 255 -> 100 -> ...: a tail then a 156-node cycle. */
	for (unsigned i = 0; i < 256; i++)
		rh_write_desc(&h, (uint16_t)i, b.addr, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT,
			      (uint16_t)(i == 255 ? 100 : i + 1));
	rh_publish(&h, 0);
	expect_bad_chain(0);
}

static void test_direct_loop_of_zero_length(void **state)
{
	(void)state;
	start(8, false, false);
	/* No segments are added, but the walk is still bounded. */
	rh_write_desc(&h, 1, 0, 0, VRING_DESC_F_NEXT, 2);
	rh_write_desc(&h, 2, 0, 0, VRING_DESC_F_NEXT, 1);
	rh_publish(&h, 1);
	expect_bad_chain(1);
}

static void test_indirect_loops(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf b = buf(4, false, 0);
	uint64_t t1 = rh_alloc(&h, 16), t2 = rh_alloc(&h, 32), t3 = rh_alloc(&h, 16 * 64);

	/* Self-loop in a one-entry table. */
	rh_write_desc_at(&h, t1, 0, b.addr, 4, VRING_DESC_F_NEXT, 0);
	rh_write_desc(&h, 0, t1, 16, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 0);
	expect_bad_chain(0);

	/* Two-node loop. */
	rh_write_desc_at(&h, t2, 0, b.addr, 4, VRING_DESC_F_NEXT, 1);
	rh_write_desc_at(&h, t2, 1, b.addr, 4, VRING_DESC_F_NEXT, 0);
	rh_write_desc(&h, 1, t2, 32, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 1);
	expect_bad_chain(1);

	/* Long loop: a 64-entry table whose last entry goes back to entry 10. */
	for (unsigned i = 0; i < 64; i++)
		rh_write_desc_at(&h, t3, (uint16_t)i, b.addr, 4, VRING_DESC_F_NEXT,
				 (uint16_t)(i == 63 ? 10 : i + 1));
	rh_write_desc(&h, 2, t3, 16 * 64, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 2);
	expect_bad_chain(2);
}

/* ---- BAD-INPUTS 2: indices >= queue size ---- */

static void test_next_out_of_range(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	rh_write_desc(&h, 0, b.addr, 4, VRING_DESC_F_NEXT, 8);
	rh_publish(&h, 0);
	expect_bad_chain(0);
	rh_write_desc(&h, 1, b.addr, 4, VRING_DESC_F_NEXT, 0xffff);
	rh_publish(&h, 1);
	expect_bad_chain(1);
}

static void test_indirect_next_out_of_table(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf b = buf(4, false, 0);
	uint64_t t = rh_alloc(&h, 16 * 4);
	/*
	 * A 2-entry table; next = 3 is a valid queue index and entry 3 behind
	 * the table is a well-formed descriptor, but it is not in the table.
	 */
	rh_write_desc_at(&h, t, 0, b.addr, 4, VRING_DESC_F_NEXT, 3);
	rh_write_desc_at(&h, t, 3, b.addr, 4, 0, 0);
	rh_write_desc(&h, 0, t, 32, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 0);
	expect_bad_chain(0);
	/* A table at the very end of RAM, naming the entry just past it. */
	uint64_t end = RAM_END - 32;
	rh_write_desc_at(&h, end, 0, b.addr, 4, VRING_DESC_F_NEXT, 2);
	rh_write_desc(&h, 1, end, 32, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 1);
	expect_bad_chain(1);
}

static void test_head_out_of_range(void **state)
{
	struct virtq_config cfg;

	(void)state;
	start(8, false, false);
	rh_set_avail_slot(&h, 0, 8);
	rh_set_avail_idx(&h, 1);
	expect_broken();
	/* Fixing the entry does not help: broken until reset and re-init. */
	rh_set_avail_slot(&h, 0, 0);
	assert_int_equal(virtq_pop(&vq, &ch), -EIO);
	virtq_reset(&vq);
	assert_false(vq.broken);
	assert_false(vq.ready);
	assert_int_equal(virtq_pop(&vq, &ch), 0);
	cfg = rh_config(&h);
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
	rh_set_avail_idx(&h, 0);
	struct rh_buf b = buf(4, false, 0);
	rh_submit(&h, &b, 1);
	assert_int_equal(virtq_pop(&vq, &ch), 1);

	/* 0xffff as a head. */
	rh_set_avail_slot(&h, h.avail_idx, 0xffff);
	rh_set_avail_idx(&h, (uint16_t)(h.avail_idx + 1));
	expect_broken();
}

static void test_head_repeated_in_flight(void **state)
{
	uint32_t id, len;

	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	uint16_t head = rh_submit(&h, &b, 1);

	assert_int_equal(virtq_pop(&vq, &ch), 1);
	/* Completed, then re-submitted: fine (BAD-INPUTS 11, "re-submitting the same chain"). */
	virtq_push(&vq, head, 0);
	assert_true(rh_get_used(&h, &id, &len));
	for (unsigned i = 0; i < 100; i++) {
		rh_publish(&h, head);
		assert_int_equal(virtq_pop(&vq, &ch), 1);
		virtq_push(&vq, head, 0);
	}
	/* Re-submitted while still in flight: the driver reused what it does not own. */
	rh_publish(&h, head);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	rh_publish(&h, head);
	expect_broken();
}

/* ---- BAD-INPUTS 3: avail index too far ahead, or backwards ---- */

static void test_avail_idx_exactly_size_ahead(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	for (uint16_t i = 0; i < 8; i++) {
		rh_write_desc(&h, i, b.addr, 4, 0, 0);
		rh_set_avail_slot(&h, i, i);
	}
	rh_set_avail_idx(&h, 8);
	for (uint16_t i = 0; i < 8; i++) {
		assert_int_equal(virtq_pop(&vq, &ch), 1);
		assert_int_equal(ch.head, i);
	}
	assert_int_equal(virtq_pop(&vq, &ch), 0);
	assert_int_equal(vq.stats_popped, 8);
}

static void test_avail_idx_too_far_ahead(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	for (uint16_t i = 0; i < 8; i++)
		rh_write_desc(&h, i, b.addr, 4, 0, 0);
	rh_set_avail_idx(&h, 9);
	expect_broken();
	assert_int_equal(vq.stats_popped, 0);
}

static void test_avail_idx_backwards(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	uint16_t h0 = rh_submit(&h, &b, 1), h1 = rh_submit(&h, &b, 1);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	virtq_push(&vq, h0, 0);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	virtq_push(&vq, h1, 0);
	/* last_avail is 2; idx 1 is 65535 ahead in u16 arithmetic. */
	rh_set_avail_idx(&h, 1);
	expect_broken();
}

static void test_avail_idx_wraps_65535(void **state)
{
	uint32_t id, len;

	(void)state;
	start(4, false, false);
	struct rh_buf b = buf(4, false, 0);
	/* Across the u16 wrap of avail->idx, pops keep working. */
	for (unsigned i = 0; i < 65536 + 10; i++) {
		uint16_t head = rh_submit(&h, &b, 1);
		assert_int_equal(virtq_pop(&vq, &ch), 1);
		assert_int_equal(ch.head, head);
		virtq_push(&vq, head, 4);
		assert_true(rh_get_used(&h, &id, &len));
		assert_int_equal(id, head);
	}
	assert_int_equal(vq.last_avail, 10);
	assert_int_equal(rh_used_idx(&h), 10);
	assert_int_equal(virtq_pop(&vq, &ch), 0);
}

/* ---- BAD-INPUTS 4: descriptor ranges outside guest RAM ---- */

static void test_buffer_outside_ram(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf good = buf(4, false, 0);
	const struct rh_buf bad[] = {
		{0, 16, false},			     /* below RAM */
		{RAM_END, 1, false},		     /* just past the end */
		{RAM_END - 8, 16, false},	     /* straddles the end */
		{RAM_END - 8, 9, true},		     /* one byte over, writable */
		{UINT64_MAX - 7, 16, true},	     /* wraps 2^64 */
		{UINT64_MAX, 1, false},		     /* last byte of the address space */
		{RH_RAM_GPA + 16, 0xffffffff, true}, /* len 0xffffffff past the end */
		{0xfee00000, 4, true},		     /* an MMIO window (LAPIC): not RAM */
	};

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		/* Alone, after a good buffer, and in an indirect table... */
		struct rh_buf two[] = {good, bad[i]};
		uint16_t head = rh_submit(&h, &bad[i], 1);
		expect_bad_chain(head);
		head = rh_submit(&h, two, 2);
		expect_bad_chain(head);
	}
}

static void test_buffer_outside_ram_indirect(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf b[] = {buf(4, false, 0), {RAM_END - 2, 4, true}};
	uint16_t head = rh_submit_indirect(&h, b, 2);
	expect_bad_chain(head);
}

static void test_buffer_straddles_hole(void **state)
{
	static uint8_t hi[0x1000] __attribute__((aligned(16)));

	(void)state;
	start(8, false, false);
	/* A second RAM region after a hole of 0x1000 bytes, as around a PCI hole. */
	assert_int_equal(gmem_add(&h.gm, RAM_END + 0x1000, sizeof(hi), hi), 0);
	struct rh_buf in_hi = {RAM_END + 0x1000, 0x100, true};
	uint16_t head = rh_submit(&h, &in_hi, 1);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_ptr_equal(ch.segs[0].host, hi);
	virtq_push(&vq, head, 0);

	struct rh_buf across = {RAM_END - 0x10, 0x1000 + 0x20, true};
	head = rh_submit(&h, &across, 1);
	expect_bad_chain(head);
	struct rh_buf into = {RAM_END + 0xfff, 2, false}; /* from the hole into RAM */
	head = rh_submit(&h, &into, 1);
	expect_bad_chain(head);
}

/* ---- BAD-INPUTS 5: lengths ---- */

static void test_huge_lengths_summed_in_64_bits(void **state)
{
	/* 8 GiB of address space, never touched: MAP_NORESERVE costs no RAM. */
	const uint64_t big = 8ULL << 30, big_gpa = 1ULL << 40;
	void *m;

	(void)state;
	start(8, false, false);
	m = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		 0);
	if (m == MAP_FAILED)
		skip();
	assert_int_equal(gmem_add(&h.gm, big_gpa, big, m), 0);
	struct rh_buf b[] = {{big_gpa, 0xffffffff, false},
			     {big_gpa + 0x100000000ULL, 0xffffffff, false},
			     {big_gpa, 0xffffffff, true},
			     {big_gpa + 0x100000000ULL, 0xffffffff, true},
			     {big_gpa + 0x1000, 0xffffffff, true}};
	rh_submit(&h, b, 5);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.nr_segs, 5);
	assert_int_equal(ch.read_len, 2 * 0xffffffffULL);
	assert_int_equal(ch.write_len, 3 * 0xffffffffULL);
	assert_int_equal(ch.segs[0].len, 0xffffffffU);
	/* One byte too many at the end of the mapping. */
	struct rh_buf over = {big_gpa + big - 0xfffffffe, 0xffffffff, true};
	uint16_t head = rh_submit(&h, &over, 1);
	virtq_push(&vq, ch.head, 0);
	expect_bad_chain(head);
	munmap(m, big);
}

static void test_too_many_segments(void **state)
{
	static struct rh_buf b[VIRTQ_MAX_SEGS];

	(void)state;
	start(8, false, true);
	uint64_t data = rh_alloc(&h, VIRTQ_MAX_SEGS);
	for (unsigned i = 0; i < VIRTQ_MAX_SEGS; i++)
		b[i] = (struct rh_buf){data + i, 1, true};
	/* One direct segment plus a full indirect table: 1025 segments. */
	struct rh_buf d = buf(16, false, 0);
	uint16_t head = rh_add(&h, &d, 1, b, VIRTQ_MAX_SEGS);
	rh_publish(&h, head);
	expect_bad_chain(head);
	/* A zero-length direct descriptor instead does not count: accepted. */
	struct rh_buf z = {0, 0, false};
	head = rh_add(&h, &z, 1, b, VIRTQ_MAX_SEGS);
	rh_publish(&h, head);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.nr_segs, VIRTQ_MAX_SEGS);
}

/* ---- BAD-INPUTS 6: bad indirect descriptors ---- */

static void test_indirect_not_negotiated(void **state)
{
	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	uint16_t head = rh_submit_indirect(&h, &b, 1);
	expect_bad_chain(head);
}

static void test_indirect_bad_table_length(void **state)
{
	static const uint32_t lens[] = {0, 8, 24, 17, 16 * (VIRTQ_MAX_SEGS + 1), 0xfffffff0};

	(void)state;
	start(8, false, true);
	struct rh_buf b = buf(4, false, 0);
	uint64_t t = rh_alloc(&h, 16 * (VIRTQ_MAX_SEGS + 1));
	for (unsigned i = 0; i <= VIRTQ_MAX_SEGS; i++)
		rh_write_desc_at(&h, t, (uint16_t)i, b.addr, 4, 0, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(lens); i++) {
		rh_write_desc(&h, 4, t, lens[i], VRING_DESC_F_INDIRECT, 0);
		rh_publish(&h, 4);
		expect_bad_chain(4);
	}
	rh_write_desc(&h, 4, t, 16, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 4);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
}

static void test_indirect_nested(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf b = buf(4, false, 0);
	uint64_t inner = rh_alloc(&h, 16), outer = rh_alloc(&h, 32);
	rh_write_desc_at(&h, inner, 0, b.addr, 4, 0, 0);
	rh_write_desc_at(&h, outer, 0, b.addr, 4, VRING_DESC_F_NEXT, 1);
	rh_write_desc_at(&h, outer, 1, inner, 16, VRING_DESC_F_INDIRECT, 0);
	rh_write_desc(&h, 0, outer, 32, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 0);
	expect_bad_chain(0);
	/* A table naming itself. */
	rh_write_desc_at(&h, outer, 1, outer, 32, VRING_DESC_F_INDIRECT, 0);
	rh_write_desc(&h, 3, outer, 32, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 3);
	expect_bad_chain(3);
}

static void test_indirect_table_outside_ram(void **state)
{
	(void)state;
	start(8, false, true);
	rh_write_desc(&h, 0, 0, 16, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 0);
	expect_bad_chain(0);
	rh_write_desc(&h, 1, RAM_END - 16, 32, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 1);
	expect_bad_chain(1);
	rh_write_desc(&h, 2, UINT64_MAX - 15, 32, VRING_DESC_F_INDIRECT, 0);
	rh_publish(&h, 2);
	expect_bad_chain(2);
}

static void test_indirect_with_next(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf b = buf(4, true, 0);
	uint64_t t = rh_alloc(&h, 16);
	rh_write_desc_at(&h, t, 0, b.addr, 4, 0, 0);
	rh_write_desc(&h, 0, t, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	rh_write_desc(&h, 1, b.addr, 4, VRING_DESC_F_WRITE, 0);
	rh_publish(&h, 0);
	expect_bad_chain(0);
}

/* ---- BAD-INPUTS 7 (the virtqueue's part): direction errors ---- */

static void test_read_after_write(void **state)
{
	(void)state;
	start(8, false, true);
	struct rh_buf r = buf(4, false, 0), w = buf(4, true, 0);
	struct rh_buf wr[] = {w, r};
	uint16_t head = rh_submit(&h, wr, 2);
	expect_bad_chain(head);

	struct rh_buf rwr[] = {r, w, r};
	head = rh_submit_indirect(&h, rwr, 3);
	expect_bad_chain(head);

	/* Writable direct descriptor, then a table starting with a readable one. */
	head = rh_add(&h, &w, 1, &r, 1);
	rh_publish(&h, head);
	expect_bad_chain(head);

	/* The order rule holds for zero-length descriptors too. */
	struct rh_buf zw[] = {{0, 0, true}, r};
	head = rh_submit(&h, zw, 2);
	expect_bad_chain(head);
}

/* ---- used ring ---- */

static void test_used_ring_contents(void **state)
{
	uint16_t heads[3];
	uint32_t id, len;

	(void)state;
	start(4, false, false);
	struct rh_buf b = buf(64, true, 0);
	for (unsigned i = 0; i < 3; i++) {
		heads[i] = rh_submit(&h, &b, 1);
		assert_int_equal(virtq_pop(&vq, &ch), 1);
	}
	/* Completed out of order: the used ring records the push order. */
	virtq_push(&vq, heads[2], 30);
	virtq_push(&vq, heads[0], 10);
	assert_int_equal(rh_used_idx(&h), 2);
	virtq_push(&vq, heads[1], 20);
	assert_int_equal(rh_used_idx(&h), 3);
	rh_used_elem(&h, 0, &id, &len);
	assert_int_equal(id, heads[2]);
	assert_int_equal(len, 30);
	rh_used_elem(&h, 1, &id, &len);
	assert_int_equal(id, heads[0]);
	assert_int_equal(len, 10);
	rh_used_elem(&h, 2, &id, &len);
	assert_int_equal(id, heads[1]);
	assert_int_equal(len, 20);

	/* The slot wraps at size. */
	for (unsigned i = 0; i < 6; i++) {
		uint16_t hd = rh_submit(&h, &b, 1);
		assert_int_equal(virtq_pop(&vq, &ch), 1);
		virtq_push(&vq, hd, 100 + i);
		rh_used_elem(&h, (uint16_t)((3 + i) % 4), &id, &len);
		assert_int_equal(id, hd);
		assert_int_equal(len, 100 + i);
	}
	assert_int_equal(rh_used_idx(&h), 9);
}

static void test_push_not_in_flight_ignored(void **state)
{
	(void)state;
	start(4, false, false);
	snapshot();
	virtq_push(&vq, 0, 1);
	virtq_push(&vq, 4, 1);
	virtq_push(&vq, 0xffff, 1);
	assert_int_equal(vq.used_idx, 0);
	assert_ram_unchanged();
	/* A head is pushed once. */
	struct rh_buf b = buf(4, false, 0);
	uint16_t head = rh_submit(&h, &b, 1);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	virtq_push(&vq, head, 0);
	virtq_push(&vq, head, 0);
	assert_int_equal(rh_used_idx(&h), 1);
}

/* ---- notification suppression ---- */

/* Pop and push @n chains, as a device completing them, without checking notifications. */
static void cycle(unsigned n)
{
	struct rh_buf b = {h.data_gpa, 4, true};

	for (unsigned i = 0; i < n; i++) {
		uint16_t head = rh_submit(&h, &b, 1);
		assert_int_equal(virtq_pop(&vq, &ch), 1);
		virtq_push(&vq, head, 4);
	}
}

static void test_no_interrupt_flag(void **state)
{
	(void)state;
	start(8, false, false);
	assert_false(virtq_should_notify(&vq)); /* nothing pushed yet */
	cycle(1);
	assert_true(virtq_should_notify(&vq));
	assert_false(virtq_should_notify(&vq)); /* nothing new */
	rh_set_avail_flags(&h, VRING_AVAIL_F_NO_INTERRUPT);
	cycle(2);
	assert_false(virtq_should_notify(&vq));
	rh_set_avail_flags(&h, 0);
	cycle(1);
	assert_true(virtq_should_notify(&vq));
}

static void test_event_idx_basic(void **state)
{
	(void)state;
	start(8, true, false);
	/* With EVENT_IDX, avail->flags is ignored. */
	rh_set_avail_flags(&h, VRING_AVAIL_F_NO_INTERRUPT);
	rh_set_used_event(&h, 0);
	cycle(1); /* used idx 0 -> 1: entry 0 written, used_event 0 */
	assert_true(virtq_should_notify(&vq));

	rh_set_used_event(&h, 5);
	cycle(3); /* 1 -> 4 */
	assert_false(virtq_should_notify(&vq));
	cycle(1); /* 4 -> 5: entry 4 */
	assert_false(virtq_should_notify(&vq));
	cycle(2); /* 5 -> 7: entry 5 crossed in a batch */
	assert_true(virtq_should_notify(&vq));
	cycle(2); /* 7 -> 9; used_event 5 is behind */
	assert_false(virtq_should_notify(&vq));
	assert_false(virtq_should_notify(&vq));
}

/* Bring the used index to @idx with the last check done at @idx. */
static void start_used_at(uint16_t idx)
{
	start(4, true, false);
	rh_set_used_event(&h, (uint16_t)(idx - 0x8000)); /* far away while we cycle */
	for (unsigned done = 0; done < idx; done++)
		cycle(1);
	(void)virtq_should_notify(&vq);
	assert_int_equal(vq.used_idx, idx);
	assert_int_equal(rh_used_idx(&h), idx);
}

static void test_event_idx_wrap(void **state)
{
	static const uint16_t yes[] = {65534, 65535, 0};
	static const uint16_t no[] = {65533, 1, 2, 0x8000};

	(void)state;
	/* Entries 65534, 65535 and 0 are written; used idx goes 65534 -> 1. */
	for (unsigned i = 0; i < ARRAY_SIZE(yes) + ARRAY_SIZE(no); i++) {
		bool want = i < ARRAY_SIZE(yes);
		uint16_t ev = want ? yes[i] : no[i - ARRAY_SIZE(yes)];

		start_used_at(65534);
		rh_set_used_event(&h, ev);
		cycle(3);
		assert_int_equal(rh_used_idx(&h), 1);
		assert_int_equal(virtq_should_notify(&vq), want);
		rh_fini(&h);
	}
}

static void test_set_notify_flags(void **state)
{
	(void)state;
	start(8, false, false);
	assert_int_equal(rh_used_flags(&h), 0);
	assert_true(rh_kick_needed(&h, h.avail_idx));
	virtq_set_notify(&vq, false);
	assert_int_equal(rh_used_flags(&h), VRING_USED_F_NO_NOTIFY);
	assert_false(rh_kick_needed(&h, h.avail_idx));
	virtq_set_notify(&vq, true);
	assert_int_equal(rh_used_flags(&h), 0);
	assert_true(rh_kick_needed(&h, h.avail_idx));
}

static void test_set_notify_reenable_race(void **state)
{
	int r;

	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	virtq_set_notify(&vq, false);
	rh_submit(&h, &b, 1);
	while ((r = virtq_pop(&vq, &ch)) == 1)
		virtq_push(&vq, ch.head, 0);
	assert_int_equal(r, 0);
	/* The driver publishes while kicks are off: it sees NO_NOTIFY and does not kick. */
	uint16_t old = h.avail_idx;
	rh_submit(&h, &b, 1);
	assert_false(rh_kick_needed(&h, old));
	/* So the device must re-check after re-enabling, as virtq.h documents. */
	virtq_set_notify(&vq, true);
	assert_true(virtq_has_avail(&vq));
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_false(virtq_has_avail(&vq));
}

static void test_event_idx_avail_event(void **state)
{
	(void)state;
	start(8, true, false);
	struct rh_buf b = buf(4, false, 0);
	/* Initially the device wants a kick for entry 0; flags stay 0 with EVENT_IDX. */
	assert_int_equal(rh_avail_event(&h), 0);
	rh_submit(&h, &b, 1);
	rh_submit(&h, &b, 1);
	assert_true(rh_kick_needed(&h, 0));

	virtq_set_notify(&vq, false);
	assert_int_equal(rh_used_flags(&h), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(virtq_pop(&vq, &ch), 1);
		virtq_push(&vq, ch.head, 0);
	}
	snapshot();
	assert_int_equal(virtq_pop(&vq, &ch), 0); /* kicks off: nothing written */
	assert_ram_unchanged();
	assert_int_equal(rh_avail_event(&h), 0);
	rh_submit(&h, &b, 1);
	assert_false(rh_kick_needed(&h, 2)); /* 0 is behind: no kick */

	virtq_set_notify(&vq, true);
	assert_int_equal(rh_avail_event(&h), 2);
	assert_true(virtq_has_avail(&vq)); /* the entry published without a kick */
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	virtq_push(&vq, ch.head, 0);

	/* Kicks on: an empty pop publishes avail_event = last_avail itself. */
	assert_int_equal(virtq_pop(&vq, &ch), 0);
	assert_int_equal(rh_avail_event(&h), 3);
	rh_submit(&h, &b, 1);
	assert_true(rh_kick_needed(&h, 3));
	assert_int_equal(rh_used_flags(&h), 0);
}

/* ---- BAD-INPUTS 11: notification storm ---- */

static void test_storm_on_empty_queue(void **state)
{
	(void)state;
	for (int ev = 0; ev < 2; ev++) {
		start(256, ev, false);
		assert_int_equal(virtq_pop(&vq, &ch), 0);
		snapshot();
		for (unsigned i = 0; i < 1000000; i++)
			assert_int_equal(virtq_pop(&vq, &ch), 0);
		assert_ram_unchanged();
		assert_int_equal(vq.stats_popped, 0);
		assert_int_equal(vq.last_avail, 0);
		assert_false(virtq_should_notify(&vq));
		rh_fini(&h);
	}
}

static void test_pops_bounded_per_avail_idx(void **state)
{
	unsigned pops = 0;
	int r;

	(void)state;
	start(16, false, false);
	struct rh_buf b = buf(4, false, 0);
	for (unsigned i = 0; i < 16; i++)
		rh_submit(&h, &b, 1);
	/* However often the device pops, it gets what was published and no more. */
	for (unsigned i = 0; i < 1000; i++) {
		r = virtq_pop(&vq, &ch);
		assert_true(r == 0 || r == 1);
		pops += r;
	}
	assert_int_equal(pops, 16);
}

/* ---- BAD-INPUTS 12: double fetch ---- */

static void test_double_fetch(void **state)
{
	static struct virtq_chain saved;

	(void)state;
	start(8, false, true);
	struct rh_buf d = buf(16, false, 1);
	struct rh_buf in[] = {buf(32, true, 0), buf(64, true, 0)};
	uint16_t head = rh_add(&h, &d, 1, in, 2);
	rh_publish(&h, head);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	memcpy(&saved, &ch, sizeof(ch));

	/*
	 * The guest rewrites everything it described after the pop: every
	 * descriptor (now a wrapping, looping, nested mess), the indirect
	 * table and the buffers (all 0xff), and the avail entry.
	 */
	for (uint16_t i = 0; i < 8; i++)
		rh_write_desc(&h, i, UINT64_MAX - 3, 0xffffffff,
			      VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT, i);
	memset(rh_host(&h, h.data_gpa, h.data_next - h.data_gpa), 0xff, h.data_next - h.data_gpa);
	rh_set_avail_slot(&h, 0, 0xffff);

	/* The popped chain is a host-side copy: unchanged, still inside RAM. */
	assert_memory_equal(&saved, &ch, sizeof(ch));
	assert_int_equal(ch.nr_segs, 3);
	assert_int_equal(ch.read_len, 16);
	assert_int_equal(ch.write_len, 96);
	for (unsigned i = 0; i < ch.nr_segs; i++)
		assert_ptr_equal(gmem_ptr(&h.gm, ch.segs[i].gpa, ch.segs[i].len), ch.segs[i].host);
	/* And completing it still works. */
	virtq_push(&vq, ch.head, 96);
	assert_int_equal(rh_used_idx(&h), 1);
}

/* ---- reset ---- */

static void test_reset_clears_state(void **state)
{
	struct virtq_config cfg;

	(void)state;
	start(8, false, false);
	struct rh_buf b = buf(4, false, 0);
	rh_submit(&h, &b, 1);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	rh_set_avail_idx(&h, 100);
	assert_int_equal(virtq_pop(&vq, &ch), -EIO);
	virtq_reset(&vq);
	assert_false(vq.ready);
	assert_false(vq.broken);
	assert_int_equal(vq.last_avail, 0);
	assert_int_equal(vq.stats_popped, 0);

	/* The driver resets its rings too and starts over; the old head is no longer in flight. */
	memset(h.ram, 0, h.data_gpa - h.ram_gpa);
	rh_set_avail_idx(&h, 0);
	h.last_used = 0;
	cfg = rh_config(&h);
	assert_int_equal(virtq_init(&vq, &h.gm, &cfg), 0);
	uint16_t head = rh_submit(&h, &b, 1);
	assert_int_equal(virtq_pop(&vq, &ch), 1);
	assert_int_equal(ch.head, head);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_init_sizes, teardown),
		cmocka_unit_test_teardown(test_init_alignment, teardown),
		cmocka_unit_test_teardown(test_init_rings_outside_ram, teardown),
		cmocka_unit_test_teardown(test_init_ring_straddles_hole, teardown),
		cmocka_unit_test_teardown(test_not_ready_is_inert, teardown),
		cmocka_unit_test_teardown(test_empty, teardown),
		cmocka_unit_test_teardown(test_single, teardown),
		cmocka_unit_test_teardown(test_multi_read_write, teardown),
		cmocka_unit_test_teardown(test_full_length_direct_chain, teardown),
		cmocka_unit_test_teardown(test_indirect, teardown),
		cmocka_unit_test_teardown(test_mixed_direct_then_indirect, teardown),
		cmocka_unit_test_teardown(test_indirect_descriptor_write_flag_ignored, teardown),
		cmocka_unit_test_teardown(test_indirect_max_entries, teardown),
		cmocka_unit_test_teardown(test_zero_length_skipped, teardown),
		cmocka_unit_test_teardown(test_direct_self_loop, teardown),
		cmocka_unit_test_teardown(test_direct_two_node_loop, teardown),
		cmocka_unit_test_teardown(test_direct_long_loop, teardown),
		cmocka_unit_test_teardown(test_direct_loop_of_zero_length, teardown),
		cmocka_unit_test_teardown(test_indirect_loops, teardown),
		cmocka_unit_test_teardown(test_next_out_of_range, teardown),
		cmocka_unit_test_teardown(test_indirect_next_out_of_table, teardown),
		cmocka_unit_test_teardown(test_head_out_of_range, teardown),
		cmocka_unit_test_teardown(test_head_repeated_in_flight, teardown),
		cmocka_unit_test_teardown(test_avail_idx_exactly_size_ahead, teardown),
		cmocka_unit_test_teardown(test_avail_idx_too_far_ahead, teardown),
		cmocka_unit_test_teardown(test_avail_idx_backwards, teardown),
		cmocka_unit_test_teardown(test_avail_idx_wraps_65535, teardown),
		cmocka_unit_test_teardown(test_buffer_outside_ram, teardown),
		cmocka_unit_test_teardown(test_buffer_outside_ram_indirect, teardown),
		cmocka_unit_test_teardown(test_buffer_straddles_hole, teardown),
		cmocka_unit_test_teardown(test_huge_lengths_summed_in_64_bits, teardown),
		cmocka_unit_test_teardown(test_too_many_segments, teardown),
		cmocka_unit_test_teardown(test_indirect_not_negotiated, teardown),
		cmocka_unit_test_teardown(test_indirect_bad_table_length, teardown),
		cmocka_unit_test_teardown(test_indirect_nested, teardown),
		cmocka_unit_test_teardown(test_indirect_table_outside_ram, teardown),
		cmocka_unit_test_teardown(test_indirect_with_next, teardown),
		cmocka_unit_test_teardown(test_read_after_write, teardown),
		cmocka_unit_test_teardown(test_used_ring_contents, teardown),
		cmocka_unit_test_teardown(test_push_not_in_flight_ignored, teardown),
		cmocka_unit_test_teardown(test_no_interrupt_flag, teardown),
		cmocka_unit_test_teardown(test_event_idx_basic, teardown),
		cmocka_unit_test_teardown(test_event_idx_wrap, teardown),
		cmocka_unit_test_teardown(test_set_notify_flags, teardown),
		cmocka_unit_test_teardown(test_set_notify_reenable_race, teardown),
		cmocka_unit_test_teardown(test_event_idx_avail_event, teardown),
		cmocka_unit_test_teardown(test_storm_on_empty_queue, teardown),
		cmocka_unit_test_teardown(test_pops_bounded_per_avail_idx, teardown),
		cmocka_unit_test_teardown(test_double_fetch, teardown),
		cmocka_unit_test_teardown(test_reset_clears_state, teardown),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
