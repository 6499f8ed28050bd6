// SPDX-License-Identifier: MIT
/* Unit tests for devices/pvpanic: the QEMU ISA pvpanic ABI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "hostel/bus.h"
#include "pvpanic/pvpanic.h"

struct fx {
	struct pvpanic *p;
	unsigned int panics, crash_loads;
	unsigned int order; /* 1 if panicked ran before crash_loaded in one write */
};

static void on_panic(void *opaque)
{
	struct fx *f = opaque;
	f->panics++;
}

static void on_crash_loaded(void *opaque)
{
	struct fx *f = opaque;
	f->crash_loads++;
	if (f->panics)
		f->order = 1;
}

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	f.p = pvpanic_create(on_panic, on_crash_loaded, &f);
	if (!f.p)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	pvpanic_destroy(f->p);
	return 0;
}

static void wr(struct dev *d, uint64_t off, unsigned len, uint64_t v)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	d->ops->write(d, off, b, len);
}

static void test_read_supported_events(void **state)
{
	struct fx *f = *state;
	struct dev *d = pvpanic_dev(f->p);
	uint8_t b = 0;

	d->ops->read(d, 0, &b, 1);
	assert_int_equal(b, PVPANIC_PANICKED | PVPANIC_CRASH_LOADED);
	assert_int_equal(b, 0x03);
	/* Reading has no side effects. */
	assert_int_equal(f->panics + f->crash_loads, 0);
}

static void test_panicked(void **state)
{
	struct fx *f = *state;

	wr(pvpanic_dev(f->p), 0, 1, PVPANIC_PANICKED);
	assert_int_equal(f->panics, 1);
	assert_int_equal(f->crash_loads, 0);
	wr(pvpanic_dev(f->p), 0, 1, PVPANIC_PANICKED);
	assert_int_equal(f->panics, 2);
}

static void test_crash_loaded(void **state)
{
	struct fx *f = *state;

	wr(pvpanic_dev(f->p), 0, 1, PVPANIC_CRASH_LOADED);
	assert_int_equal(f->panics, 0);
	assert_int_equal(f->crash_loads, 1);
}

static void test_both_and_other_bits(void **state)
{
	struct fx *f = *state;

	/* Undefined bits are ignored; defined ones act even alongside them. */
	wr(pvpanic_dev(f->p), 0, 1, 0xFC);
	wr(pvpanic_dev(f->p), 0, 1, 0x00);
	assert_int_equal(f->panics + f->crash_loads, 0);
	wr(pvpanic_dev(f->p), 0, 1, 0xFF);
	assert_int_equal(f->panics, 1);
	assert_int_equal(f->crash_loads, 1);
	assert_int_equal(f->order, 1);
	wr(pvpanic_dev(f->p), 0, 1, 0x81);
	assert_int_equal(f->panics, 2);
	assert_int_equal(f->crash_loads, 1);
}

static void test_bad_accesses(void **state)
{
	struct fx *f = *state;
	struct dev *d = pvpanic_dev(f->p);
	uint8_t b[8];

	wr(d, 0, 2, 0x0303);
	wr(d, 0, 4, 0xFFFFFFFF);
	wr(d, 1, 1, 0x03);
	wr(d, UINT64_MAX, 1, 0x03);
	assert_int_equal(f->panics + f->crash_loads, 0);

	memset(b, 0, sizeof(b));
	d->ops->read(d, 0, b, 4);
	assert_int_equal(dev_data_get(b, 4), 0xFFFFFFFF);
	memset(b, 0, sizeof(b));
	d->ops->read(d, 1, b, 1);
	assert_int_equal(b[0], 0xFF);
}

static void test_null_callbacks(void **state)
{
	struct pvpanic *p = pvpanic_create(NULL, NULL, NULL);
	uint8_t b = 0;

	assert_non_null(p);
	wr(pvpanic_dev(p), 0, 1, 0x03); /* must not crash */
	pvpanic_dev(p)->ops->read(pvpanic_dev(p), 0, &b, 1);
	assert_int_equal(b, 0x03);
	pvpanic_destroy(p);
	pvpanic_destroy(NULL);
}

static void test_on_bus(void **state)
{
	struct fx *f = *state;
	struct bus bus;
	uint8_t b[2] = {PVPANIC_PANICKED, PVPANIC_PANICKED};

	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, PVPANIC_PORT, PVPANIC_LEN, pvpanic_dev(f->p)), 0);
	/* outw to 0x505 does not fit the one-byte window: it never arrives. */
	assert_false(bus_write(&bus, PVPANIC_PORT, b, 2));
	assert_int_equal(f->panics, 0);
	assert_true(bus_write(&bus, PVPANIC_PORT, b, 1));
	assert_int_equal(f->panics, 1);
	assert_true(bus_read(&bus, PVPANIC_PORT, b, 1));
	assert_int_equal(b[0], 0x03);
	bus_fini(&bus);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_read_supported_events),
		T(test_panicked),
		T(test_crash_loaded),
		T(test_both_and_other_bits),
		T(test_bad_accesses),
		cmocka_unit_test(test_null_callbacks),
		T(test_on_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
