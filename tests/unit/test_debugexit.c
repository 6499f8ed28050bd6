// SPDX-License-Identifier: MIT
/* Unit tests for devices/debugexit: isa-debug-exit semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "hostel/bus.h"
#include "debugexit/debugexit.h"

struct fx {
	unsigned int calls;
	uint32_t last;
};

static void on_exit_cb(void *opaque, uint32_t v)
{
	struct fx *f = opaque;
	f->calls++;
	f->last = v;
}

static void wr(struct dev *d, uint64_t off, unsigned len, uint64_t v)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	d->ops->write(d, off, b, len);
}

static void test_create_bounds(void **state)
{
	struct fx f = {0};

	assert_null(debugexit_create(0, on_exit_cb, &f));
	assert_null(debugexit_create(5, on_exit_cb, &f));
	assert_null(debugexit_create(8, on_exit_cb, &f));
	for (unsigned len = 1; len <= DEBUGEXIT_MAX_LEN; len++) {
		struct debugexit *de = debugexit_create(len, on_exit_cb, &f);
		assert_non_null(de);
		debugexit_destroy(de);
	}
	debugexit_destroy(NULL);
}

static void test_widths(void **state)
{
	struct fx f = {0};
	struct debugexit *de = debugexit_create(4, on_exit_cb, &f);
	struct dev *d = debugexit_dev(de);

	wr(d, 0, 1, 0x31);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.last, 0x31);
	wr(d, 0, 2, 0xBEEF);
	assert_int_equal(f.calls, 2);
	assert_int_equal(f.last, 0xBEEF);
	wr(d, 0, 4, 0xDEADBEEF);
	assert_int_equal(f.calls, 3);
	assert_int_equal(f.last, 0xDEADBEEF);
	wr(d, 0, 1, 0);
	assert_int_equal(f.calls, 4);
	assert_int_equal(f.last, 0);
	/* The value is as wide as the access: high bytes of the buffer are not read. */
	uint8_t b[4] = {0x01, 0xFF, 0xFF, 0xFF};
	d->ops->write(d, 0, b, 1);
	assert_int_equal(f.last, 0x01);
	d->ops->write(d, 0, b, 2);
	assert_int_equal(f.last, 0xFF01);
	debugexit_destroy(de);
}

static void test_offsets_inside_window(void **state)
{
	struct fx f = {0};
	struct debugexit *de = debugexit_create(4, on_exit_cb, &f);
	struct dev *d = debugexit_dev(de);

	/* The offset does not shift V. */
	wr(d, 3, 1, 0x42);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.last, 0x42);
	wr(d, 2, 2, 0x1234);
	assert_int_equal(f.calls, 2);
	assert_int_equal(f.last, 0x1234);
	wr(d, 1, 1, 7);
	assert_int_equal(f.last, 7);
	debugexit_destroy(de);
}

static void test_outside_window_dropped(void **state)
{
	struct fx f = {0};
	struct debugexit *de = debugexit_create(2, on_exit_cb, &f);
	struct dev *d = debugexit_dev(de);

	wr(d, 0, 4, 1); /* wider than the window */
	wr(d, 1, 2, 1); /* runs past the end */
	wr(d, 2, 1, 1); /* past the end */
	wr(d, 0, 8, 1); /* 8-byte access */
	wr(d, 0, 3, 1); /* not a valid width */
	wr(d, UINT64_MAX, 1, 1);
	assert_int_equal(f.calls, 0);
	wr(d, 1, 1, 9);
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.last, 9);
	debugexit_destroy(de);
}

static void test_reads_all_ones(void **state)
{
	struct fx f = {0};
	struct debugexit *de = debugexit_create(4, on_exit_cb, &f);
	struct dev *d = debugexit_dev(de);
	uint8_t b[8];

	for (unsigned len = 1; len <= 4; len <<= 1) {
		memset(b, 0, sizeof(b));
		d->ops->read(d, 0, b, len);
		assert_int_equal(dev_data_get(b, len), (1ULL << (8 * len)) - 1);
	}
	assert_int_equal(f.calls, 0);
	debugexit_destroy(de);
}

static void test_null_callback(void **state)
{
	struct debugexit *de = debugexit_create(1, NULL, NULL);

	assert_non_null(de);
	wr(debugexit_dev(de), 0, 1, 1); /* must not crash */
	debugexit_destroy(de);
}

static void test_on_bus(void **state)
{
	struct fx f = {0};
	struct debugexit *de = debugexit_create(2, on_exit_cb, &f);
	struct bus bus;
	uint8_t b[4] = {0x10, 0x00, 0x00, 0x00};

	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, 0x501, 2, debugexit_dev(de)), 0);
	assert_false(bus_write(&bus, 0x501, b, 4)); /* straddles the window */
	assert_int_equal(f.calls, 0);
	assert_true(bus_write(&bus, 0x501, b, 2));
	assert_int_equal(f.calls, 1);
	assert_int_equal(f.last, 0x10);
	assert_true(bus_write(&bus, 0x502, b, 1));
	assert_int_equal(f.calls, 2);
	bus_fini(&bus);
	debugexit_destroy(de);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_bounds),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_offsets_inside_window),
		cmocka_unit_test(test_outside_window_dropped),
		cmocka_unit_test(test_reads_all_ones),
		cmocka_unit_test(test_null_callback),
		cmocka_unit_test(test_on_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
