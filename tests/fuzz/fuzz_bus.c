// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for src/bus/bus.c: random range registrations and
 * accesses against tiny counting devices, cross-checked with a naive model.
 *
 * Every device knows its own window and aborts if it is ever handed an
 * offset or length outside it. bus_add's verdict, bus_find's answer and
 * whether an access is claimed must all match the linear-scan model.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "hostel/bus.h"
#include "hostel/log.h"
#include "fuzz_in.h"

#define MAX_DEVS 64

struct cdev {
	struct dev dev;
	uint64_t base, len;
	uint64_t hits;
};

static void cdev_check(struct dev *d, uint64_t off, unsigned len)
{
	struct cdev *c = container_of(d, struct cdev, dev);

	if (len < 1 || len > 8 || off >= c->len || len - 1 > c->len - 1 - off)
		abort();
	c->hits++;
}

static void cdev_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	cdev_check(d, off, len);
	memset(data, 0x5a, len);
}

static void cdev_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	cdev_check(d, off, len);
}

static const struct dev_ops cdev_ops = {
	.name = "count",
	.read = cdev_read,
	.write = cdev_write,
};

/* Bias addresses toward the interesting places: 0, small, the top of the space. */
static uint64_t shape_addr(uint64_t raw, uint8_t sel)
{
	switch (sel & 3) {
	case 0:
		return raw & 0xffff;
	case 1:
		return UINT64_MAX - (raw & 0xffff);
	case 2:
		return raw & 0xffffffff;
	default:
		return raw;
	}
}

static uint64_t shape_len(uint64_t raw, uint8_t sel)
{
	switch ((sel >> 2) & 3) {
	case 0:
		return raw & 0xf;
	case 1:
		return raw & 0xfff;
	case 2:
		return UINT64_MAX - (raw & 0xff);
	default:
		return raw;
	}
}

static struct cdev *model_find(struct cdev *devs, unsigned nr, uint64_t addr)
{
	for (unsigned i = 0; i < nr; i++)
		if (addr >= devs[i].base && addr - devs[i].base < devs[i].len)
			return &devs[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cdev devs[MAX_DEVS];
	struct in in = {data, size};
	struct bus bus;
	unsigned nr = 0;

	log_set_level(LOG_ERROR);
	bus_init(&bus, "fuzz");
	while (in.n) {
		uint8_t op = (uint8_t)getn(&in, 1);
		uint8_t sel = (uint8_t)getn(&in, 1);
		uint64_t a = shape_addr(getn(&in, 8), sel);

		if ((op & 3) == 0) {
			uint64_t len = shape_len(getn(&in, 8), sel);
			int expect = 0, ret;

			if (nr == MAX_DEVS)
				continue;
			if (!len || a + (len - 1) < a)
				expect = -EINVAL;
			else
				for (unsigned i = 0; i < nr; i++)
					if (a <= devs[i].base + (devs[i].len - 1) &&
					    devs[i].base <= a + (len - 1))
						expect = -EEXIST;
			devs[nr] = (struct cdev){.dev.ops = &cdev_ops, .base = a, .len = len};
			ret = bus_add(&bus, a, len, &devs[nr].dev);
			if (ret != expect && ret != -ENOMEM)
				abort();
			if (ret == 0)
				nr++;
			if (bus.nr != nr)
				abort();
			for (unsigned i = 1; i < bus.nr; i++)
				if (bus.ranges[i - 1].base + (bus.ranges[i - 1].len - 1) >=
				    bus.ranges[i].base)
					abort();
			continue;
		}

		unsigned len = (unsigned)(op >> 2) % 10; /* 0..9: includes both bad lengths */
		uint8_t buf[16];
		struct cdev *want = model_find(devs, nr, a);
		const struct bus_range *r = bus_find(&bus, a);
		bool claim, got;
		uint64_t before, unclaimed;

		if ((r ? r->dev : NULL) != (want ? &want->dev : NULL))
			abort();
		claim = want && len >= 1 && len <= 8 && a + (len - 1) >= a &&
			a + (len - 1) - want->base <= want->len - 1;
		before = want ? want->hits : 0;
		if ((op & 3) == 1) {
			unclaimed = bus.unclaimed_reads;
			memset(buf, 0, sizeof(buf));
			got = bus_read(&bus, a, buf, len);
			if (!got) {
				for (unsigned i = 0; i < len; i++)
					if (buf[i] != 0xff)
						abort();
				if (bus.unclaimed_reads != unclaimed + 1)
					abort();
			}
			if (len < sizeof(buf) && buf[len] != 0)
				abort(); /* nothing written past the access */
		} else {
			unclaimed = bus.unclaimed_writes;
			memset(buf, 0xa5, sizeof(buf));
			got = bus_write(&bus, a, buf, len);
			if (!got && bus.unclaimed_writes != unclaimed + 1)
				abort();
		}
		if (got != claim)
			abort();
		if (claim && want->hits != before + 1)
			abort();
		if (!claim && want && want->hits != before)
			abort();
	}
	bus_fini(&bus);
	return 0;
}
