// SPDX-License-Identifier: MIT
/* Unit tests for devices/sysctl: reset control (0xCF9) and System Control Port A (0x92). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "hostel/bus.h"
#include "sysctl/sysctl.h"

#define SYS_RST	 0x02
#define RST_CPU	 0x04
#define FULL_RST 0x08
#define ALT_RST	 0x01
#define ALT_A20	 0x02

struct fx {
	struct sysctl *s;
	unsigned int resets;
	bool reset_devices; /* the callback resets the device, as a board would */
};

static void on_reset(void *opaque)
{
	struct fx *f = opaque;

	f->resets++;
	if (f->reset_devices)
		sysctl_reset(f->s); /* must not deadlock: called without the lock */
}

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	f.s = sysctl_create(on_reset, &f);
	if (!f.s)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sysctl_destroy(f->s);
	return 0;
}

static uint8_t rd(struct dev *d)
{
	uint8_t v = 0x5a;

	d->ops->read(d, 0, &v, 1);
	return v;
}

static void wr(struct dev *d, uint8_t v)
{
	d->ops->write(d, 0, &v, 1);
}

static void test_power_on(void **state)
{
	struct fx *f = *state;

	assert_int_equal(rd(sysctl_rst_cnt_dev(f->s)), 0);
	assert_int_equal(rd(sysctl_port_a_dev(f->s)), ALT_A20);
	assert_int_equal(sysctl_resets(f->s), 0);
}

static void test_cf9_rst_cpu_resets(void **state)
{
	struct fx *f = *state;
	struct dev *d = sysctl_rst_cnt_dev(f->s);

	wr(d, RST_CPU);
	assert_int_equal(f->resets, 1);
	/* Linux reboot=pci: write SYS_RST first (no reset), then SYS_RST | RST_CPU. */
	wr(d, SYS_RST);
	assert_int_equal(f->resets, 1);
	assert_int_equal(rd(d), SYS_RST);
	wr(d, SYS_RST | RST_CPU);
	assert_int_equal(f->resets, 2);
	/* Full reset (power cycle) is treated the same. */
	wr(d, FULL_RST | SYS_RST | RST_CPU);
	assert_int_equal(f->resets, 3);
	assert_int_equal(sysctl_resets(f->s), 3);
	/* RST_CPU never reads back; SYS_RST and FULL_RST do. */
	assert_int_equal(rd(d), FULL_RST | SYS_RST);
}

static void test_cf9_non_triggers(void **state)
{
	struct fx *f = *state;
	struct dev *d = sysctl_rst_cnt_dev(f->s);

	static const uint8_t vals[] = {0x00, SYS_RST, FULL_RST, SYS_RST | FULL_RST,
				       0x01, 0xF0,    0xFB};
	for (size_t i = 0; i < sizeof(vals); i++)
		wr(d, vals[i]);
	assert_int_equal(f->resets, 0);
	/* Reserved bits are not stored. */
	wr(d, 0xFB);
	assert_int_equal(rd(d), SYS_RST | FULL_RST);
	wr(d, 0x00);
	assert_int_equal(rd(d), 0);
}

static void test_port92_fast_reset_edge(void **state)
{
	struct fx *f = *state;
	struct dev *d = sysctl_port_a_dev(f->s);

	wr(d, ALT_A20 | ALT_RST);
	assert_int_equal(f->resets, 1);
	/* Still 1: no transition, no reset. */
	wr(d, ALT_A20 | ALT_RST);
	wr(d, ALT_RST);
	assert_int_equal(f->resets, 1);
	assert_int_equal(rd(d), ALT_RST);
	/* 1 -> 0 -> 1 is a new edge. */
	wr(d, 0);
	assert_int_equal(f->resets, 1);
	wr(d, ALT_RST);
	assert_int_equal(f->resets, 2);
}

static void test_port92_reset_clears_bit(void **state)
{
	struct fx *f = *state;
	struct dev *d = sysctl_port_a_dev(f->s);

	/* A board that resets its devices on reset: each write of 1 is a new edge. */
	f->reset_devices = true;
	wr(d, ALT_RST | ALT_A20);
	assert_int_equal(f->resets, 1);
	assert_int_equal(rd(d), ALT_A20);
	wr(d, ALT_RST | ALT_A20);
	assert_int_equal(f->resets, 2);
}

static void test_port92_a20(void **state)
{
	struct fx *f = *state;
	struct dev *d = sysctl_port_a_dev(f->s);

	/* What Linux's boot code does: set A20, keep ALT_RST clear. */
	wr(d, (uint8_t)((rd(d) | ALT_A20) & ~ALT_RST));
	assert_int_equal(rd(d), ALT_A20);
	wr(d, 0);
	assert_int_equal(rd(d), 0);
	wr(d, ALT_A20);
	assert_int_equal(rd(d), ALT_A20);
	/* Other bits (LEDs, lock, reserved) read 0. */
	wr(d, 0xFC);
	assert_int_equal(rd(d), 0);
	assert_int_equal(f->resets, 0);
}

static void test_device_reset(void **state)
{
	struct fx *f = *state;
	struct dev *a = sysctl_port_a_dev(f->s), *c = sysctl_rst_cnt_dev(f->s);

	wr(a, ALT_RST);
	wr(c, SYS_RST);
	a->ops->reset(a);
	assert_int_equal(rd(a), ALT_A20);
	assert_int_equal(rd(c), 0);
	wr(c, FULL_RST);
	c->ops->reset(c);
	assert_int_equal(rd(c), 0);
	/* After a reset the fast-reset bit is 0 again, so 1 is an edge. */
	wr(a, ALT_RST);
	assert_int_equal(f->resets, 2);
}

static void test_bad_accesses(void **state)
{
	struct fx *f = *state;
	struct dev *devs[] = {sysctl_rst_cnt_dev(f->s), sysctl_port_a_dev(f->s)};
	uint8_t b[8];

	for (size_t i = 0; i < 2; i++) {
		struct dev *d = devs[i];

		memset(b, 0xFF, sizeof(b));
		d->ops->write(d, 0, b, 2);
		d->ops->write(d, 0, b, 4);
		d->ops->write(d, 1, b, 1);
		d->ops->write(d, 0, b, 8);
		memset(b, 0, sizeof(b));
		d->ops->read(d, 0, b, 4);
		assert_int_equal(dev_data_get(b, 4), 0xFFFFFFFF);
		memset(b, 0, sizeof(b));
		d->ops->read(d, 1, b, 1);
		assert_int_equal(b[0], 0xFF);
	}
	assert_int_equal(f->resets, 0);
	assert_int_equal(rd(devs[0]), 0);
	assert_int_equal(rd(devs[1]), ALT_A20);
}

static void test_null_callback(void **state)
{
	struct sysctl *s = sysctl_create(NULL, NULL);

	assert_non_null(s);
	wr(sysctl_rst_cnt_dev(s), RST_CPU);
	wr(sysctl_port_a_dev(s), ALT_RST);
	assert_int_equal(sysctl_resets(s), 2);
	sysctl_destroy(s);
	sysctl_destroy(NULL);
}

static void test_on_bus(void **state)
{
	struct fx *f = *state;
	struct bus bus;
	uint8_t b[2] = {RST_CPU | SYS_RST, 0};

	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, SYSCTL_PORT_A, SYSCTL_PORT_LEN, sysctl_port_a_dev(f->s)), 0);
	assert_int_equal(
		bus_add(&bus, SYSCTL_RST_CNT_PORT, SYSCTL_PORT_LEN, sysctl_rst_cnt_dev(f->s)), 0);
	assert_false(bus_write(&bus, SYSCTL_RST_CNT_PORT, b, 2));
	assert_int_equal(f->resets, 0);
	assert_true(bus_write(&bus, SYSCTL_RST_CNT_PORT, b, 1));
	assert_int_equal(f->resets, 1);
	b[0] = ALT_RST;
	assert_true(bus_write(&bus, SYSCTL_PORT_A, b, 1));
	assert_int_equal(f->resets, 2);
	bus_fini(&bus);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_power_on),
		T(test_cf9_rst_cpu_resets),
		T(test_cf9_non_triggers),
		T(test_port92_fast_reset_edge),
		T(test_port92_reset_clears_bit),
		T(test_port92_a20),
		T(test_device_reset),
		T(test_bad_accesses),
		cmocka_unit_test(test_null_callback),
		T(test_on_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
