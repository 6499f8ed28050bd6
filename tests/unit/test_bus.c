// SPDX-License-Identifier: MIT
/* Unit tests for src/bus/bus.c: range registration, lookup, dispatch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "hostel/bus.h"

/* A device that records its last access and answers reads with a pattern. */
struct rec_dev {
	struct dev dev;
	unsigned int reads, writes;
	uint64_t last_off;
	unsigned last_len;
	uint8_t last_data[8];
};

static void rec_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct rec_dev *r = container_of(d, struct rec_dev, dev);
	r->reads++;
	r->last_off = off;
	r->last_len = len;
	for (unsigned i = 0; i < len; i++)
		((uint8_t *)data)[i] = (uint8_t)(0xA0 + i);
}

static void rec_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct rec_dev *r = container_of(d, struct rec_dev, dev);
	r->writes++;
	r->last_off = off;
	r->last_len = len;
	memcpy(r->last_data, data, len > 8 ? 8 : len);
}

static const struct dev_ops rec_ops = {
	.name = "rec",
	.read = rec_read,
	.write = rec_write,
};

static void rec_init(struct rec_dev *r)
{
	memset(r, 0, sizeof(*r));
	r->dev.ops = &rec_ops;
}

static void test_add_rejects_bad_ranges(void **state)
{
	struct bus bus;
	struct rec_dev a;

	(void)state;
	rec_init(&a);
	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, 0x100, 0, &a.dev), -EINVAL);
	assert_int_equal(bus_add(&bus, 0x100, 1, NULL), -EINVAL);
	/* base + len - 1 wraps past 2^64. */
	assert_int_equal(bus_add(&bus, UINT64_MAX, 2, &a.dev), -EINVAL);
	assert_int_equal(bus_add(&bus, 2, UINT64_MAX, &a.dev), -EINVAL);
	assert_int_equal(bus_add(&bus, 0x8000000000000000ULL, 0x8000000000000001ULL, &a.dev),
			 -EINVAL);
	assert_int_equal(bus.nr, 0);
	bus_fini(&bus);
}

static void test_add_top_of_space(void **state)
{
	struct bus bus;
	struct rec_dev a, b;
	uint8_t v[2];

	(void)state;
	rec_init(&a);
	rec_init(&b);
	bus_init(&bus, "mmio");
	/* A range ending exactly at 2^64 is legal (base + len == 2^64). */
	assert_int_equal(bus_add(&bus, UINT64_MAX - 0xfff, 0x1000, &a.dev), 0);
	/* The whole last byte on its own would overlap it. */
	assert_int_equal(bus_add(&bus, UINT64_MAX, 1, &b.dev), -EEXIST);
	assert_ptr_equal(bus_find(&bus, UINT64_MAX)->dev, &a.dev);
	assert_ptr_equal(bus_find(&bus, UINT64_MAX - 0xfff)->dev, &a.dev);
	assert_null(bus_find(&bus, UINT64_MAX - 0x1000));

	/* The last byte is reachable; a 2-byte access there would wrap. */
	assert_true(bus_read(&bus, UINT64_MAX, v, 1));
	assert_int_equal(a.last_off, 0xfff);
	assert_false(bus_read(&bus, UINT64_MAX, v, 2));
	assert_int_equal(v[0], 0xff);
	assert_int_equal(v[1], 0xff);
	assert_int_equal(bus.unclaimed_reads, 1);
	bus_fini(&bus);

	/* The whole 64-bit space except byte 0 as one range. */
	bus_init(&bus, "mmio");
	assert_int_equal(bus_add(&bus, 1, UINT64_MAX, &a.dev), 0);
	assert_null(bus_find(&bus, 0));
	assert_non_null(bus_find(&bus, UINT64_MAX));
	assert_int_equal(bus_add(&bus, 0, 1, &b.dev), 0);
	assert_ptr_equal(bus_find(&bus, 0)->dev, &b.dev);
	bus_fini(&bus);
}

static void test_add_overlap_and_adjacent(void **state)
{
	struct bus bus;
	struct rec_dev a, b;

	(void)state;
	rec_init(&a);
	rec_init(&b);
	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, 0x60, 1, &a.dev), 0);
	assert_int_equal(bus_add(&bus, 0x64, 1, &a.dev), 0);
	/* Adjacent on both sides of 0x60 is fine. */
	assert_int_equal(bus_add(&bus, 0x61, 3, &b.dev), 0);
	assert_int_equal(bus_add(&bus, 0x40, 0x20, &b.dev), 0);
	/* Exact duplicate, overlap at either end, containment both ways. */
	assert_int_equal(bus_add(&bus, 0x60, 1, &b.dev), -EEXIST);
	assert_int_equal(bus_add(&bus, 0x5f, 2, &b.dev), -EEXIST);
	assert_int_equal(bus_add(&bus, 0x64, 0x10, &b.dev), -EEXIST);
	assert_int_equal(bus_add(&bus, 0x30, 0x100, &b.dev), -EEXIST);
	assert_int_equal(bus_add(&bus, 0x45, 1, &b.dev), -EEXIST);
	assert_int_equal(bus_add(&bus, 0x3f, 2, &b.dev), -EEXIST);
	assert_int_equal(bus.nr, 4);
	/* Sorted after out-of-order adds. */
	for (unsigned int i = 1; i < bus.nr; i++)
		assert_true(bus.ranges[i - 1].base < bus.ranges[i].base);
	assert_int_equal(bus.ranges[0].base, 0x40);
	assert_int_equal(bus.ranges[3].base, 0x64);
	bus_fini(&bus);
}

/* Many ranges, added in a scrambled order, with gaps: check every boundary. */
static void test_find_many_ranges(void **state)
{
	enum { N = 1000 };
	static struct rec_dev devs[N];
	struct bus bus;

	(void)state;
	bus_init(&bus, "mmio");
	/* Range i is [i*0x100 + 0x10, i*0x100 + 0x10 + (i % 7 + 1) * 8). */
	for (unsigned int j = 0; j < N; j++) {
		unsigned int i = (j * 389) % N; /* 389 is coprime with 1000 */
		rec_init(&devs[i]);
		assert_int_equal(
			bus_add(&bus, i * 0x100ULL + 0x10, (i % 7 + 1) * 8ULL, &devs[i].dev), 0);
	}
	assert_int_equal(bus.nr, N);
	assert_true(bus.cap >= N);
	for (unsigned int i = 0; i < N; i++) {
		uint64_t base = i * 0x100ULL + 0x10, len = (i % 7 + 1) * 8ULL;
		const struct bus_range *r;

		assert_null(bus_find(&bus, base - 1));
		r = bus_find(&bus, base);
		assert_non_null(r);
		assert_ptr_equal(r->dev, &devs[i].dev);
		assert_ptr_equal(bus_find(&bus, base + len - 1)->dev, &devs[i].dev);
		assert_null(bus_find(&bus, base + len));
	}
	assert_null(bus_find(&bus, 0));
	assert_null(bus_find(&bus, UINT64_MAX));
	bus_fini(&bus);
	assert_null(bus.ranges);
	assert_int_equal(bus.nr, 0);
}

static void test_dispatch_offsets(void **state)
{
	struct bus bus;
	struct rec_dev a;
	uint8_t buf[8];
	const uint8_t w[4] = {1, 2, 3, 4};

	(void)state;
	rec_init(&a);
	bus_init(&bus, "mmio");
	assert_int_equal(bus_add(&bus, 0xfee00000, 0x1000, &a.dev), 0);

	assert_true(bus_read(&bus, 0xfee00020, buf, 4));
	assert_int_equal(a.reads, 1);
	assert_int_equal(a.last_off, 0x20);
	assert_int_equal(a.last_len, 4);
	assert_int_equal(buf[0], 0xA0);
	assert_int_equal(buf[3], 0xA3);

	assert_true(bus_write(&bus, 0xfee00ffc, w, 4));
	assert_int_equal(a.writes, 1);
	assert_int_equal(a.last_off, 0xffc);
	assert_memory_equal(a.last_data, w, 4);

	/* 8 bytes ending on the last byte reach the device. */
	assert_true(bus_read(&bus, 0xfee00ff8, buf, 8));
	assert_int_equal(a.last_off, 0xff8);
	assert_int_equal(a.last_len, 8);
	assert_int_equal(bus.unclaimed_reads, 0);
	assert_int_equal(bus.unclaimed_writes, 0);
	/* Per-range counters: what was served, not what went unclaimed. */
	assert_false(bus_read(&bus, 0xfef00000, buf, 4));
	assert_int_equal(bus_find(&bus, 0xfee00000)->reads, 2);
	assert_int_equal(bus_find(&bus, 0xfee00000)->writes, 1);
	bus_fini(&bus);
}

static void test_straddle_unclaimed(void **state)
{
	struct bus bus;
	struct rec_dev a, b;
	uint8_t buf[8];
	const uint8_t w[8] = {0};

	(void)state;
	rec_init(&a);
	rec_init(&b);
	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, 0x60, 1, &a.dev), 0);
	assert_int_equal(bus_add(&bus, 0x61, 1, &b.dev), 0);
	assert_int_equal(bus_add(&bus, 0x3f8, 8, &b.dev), 0);

	/* A word at 0x60 spans two one-byte devices: nobody gets it. */
	memset(buf, 0, sizeof(buf));
	assert_false(bus_read(&bus, 0x60, buf, 2));
	assert_int_equal(buf[0], 0xff);
	assert_int_equal(buf[1], 0xff);
	assert_int_equal(buf[2], 0x00); /* nothing past len is touched */
	assert_false(bus_write(&bus, 0x60, w, 2));
	/* Crossing the end of a device into a hole, and the start from a hole. */
	assert_false(bus_read(&bus, 0x3fe, buf, 4));
	assert_false(bus_write(&bus, 0x3f6, w, 4));
	/* A hole. */
	assert_false(bus_read(&bus, 0x80, buf, 1));
	assert_false(bus_write(&bus, 0x80, w, 1));
	assert_int_equal(a.reads + a.writes + b.reads + b.writes, 0);
	assert_int_equal(bus.unclaimed_reads, 3);
	assert_int_equal(bus.unclaimed_writes, 3);

	/* Inside is fine. */
	assert_true(bus_read(&bus, 0x3fc, buf, 4));
	assert_int_equal(b.last_off, 4);
	bus_fini(&bus);
}

static void test_bad_lengths(void **state)
{
	struct bus bus;
	struct rec_dev a;
	uint8_t buf[16];
	const uint8_t w[16] = {0};

	(void)state;
	rec_init(&a);
	bus_init(&bus, "mmio");
	assert_int_equal(bus_add(&bus, 0x1000, 0x1000, &a.dev), 0);

	memset(buf, 0x11, sizeof(buf));
	assert_false(bus_read(&bus, 0x1000, buf, 0));
	assert_int_equal(buf[0], 0x11); /* len 0 fills nothing */
	assert_false(bus_read(&bus, 0x1000, buf, 9));
	for (unsigned i = 0; i < 9; i++)
		assert_int_equal(buf[i], 0xff);
	assert_int_equal(buf[9], 0x11);
	assert_false(bus_write(&bus, 0x1000, w, 0));
	assert_false(bus_write(&bus, 0x1000, w, 9));
	assert_int_equal(a.reads + a.writes, 0);
	assert_int_equal(bus.unclaimed_reads, 2);
	assert_int_equal(bus.unclaimed_writes, 2);

	/* Every length 1..8 gets through. */
	for (unsigned len = 1; len <= 8; len++) {
		assert_true(bus_read(&bus, 0x1000, buf, len));
		assert_int_equal(a.last_len, len);
	}
	bus_fini(&bus);
}

static void test_empty_bus(void **state)
{
	struct bus bus;
	uint8_t buf[4];

	(void)state;
	bus_init(&bus, "pio");
	assert_null(bus_find(&bus, 0));
	assert_false(bus_read(&bus, 0, buf, 4));
	assert_int_equal(buf[3], 0xff);
	assert_int_equal(bus.unclaimed_reads, 1);
	bus_fini(&bus);
	bus_fini(&bus); /* idempotent */
}

/* A device without read/write hooks is claimed: reads all-ones, writes dropped. */
static void test_device_without_hooks(void **state)
{
	static const struct dev_ops none_ops = {.name = "none"};
	struct dev d = {.ops = &none_ops};
	struct bus bus;
	uint8_t buf[2] = {0, 0};

	(void)state;
	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, 0x80, 1, &d), 0);
	assert_true(bus_read(&bus, 0x80, buf, 1));
	assert_int_equal(buf[0], 0xff);
	assert_true(bus_write(&bus, 0x80, buf, 1));
	assert_int_equal(bus.unclaimed_reads + bus.unclaimed_writes, 0);
	bus_fini(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_rejects_bad_ranges),
		cmocka_unit_test(test_add_top_of_space),
		cmocka_unit_test(test_add_overlap_and_adjacent),
		cmocka_unit_test(test_find_many_ranges),
		cmocka_unit_test(test_dispatch_offsets),
		cmocka_unit_test(test_straddle_unclaimed),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_empty_bus),
		cmocka_unit_test(test_device_without_hooks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
