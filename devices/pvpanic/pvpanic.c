// SPDX-License-Identifier: MIT
/*
 * pvpanic ISA device. ABI (QEMU docs/specs/pvpanic.rst): one byte; a read
 * returns the supported events, a write carries events as a bit mask:
 * bit 0 "guest panicked", bit 1 "crash kernel loaded". Undefined bits are
 * ignored, so a guest that knows newer events talks to an older host safely.
 *
 * Trust: the guest supplies one byte; only the two defined bits are acted
 * on. Any other offset or length reads all-ones and is dropped on write
 * (the bus already refuses accesses that do not fit the one-byte window).
 */
#include <stdlib.h>
#include "pvpanic.h"
#include "hostel/log.h"

#define PVPANIC_EVENTS (PVPANIC_PANICKED | PVPANIC_CRASH_LOADED)

struct pvpanic {
	struct dev dev;
	void (*panicked)(void *opaque);
	void (*crash_loaded)(void *opaque);
	void *opaque;
};

static void pvpanic_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	if (off != 0 || len != 1) {
		dev_data_put(data, len, ~0ULL);
		return;
	}
	dev_data_put(data, 1, PVPANIC_EVENTS);
}

static void pvpanic_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct pvpanic *p = container_of(d, struct pvpanic, dev);
	uint8_t v;

	if (off != 0 || len != 1) {
		log_ratelimited(LOG_DEBUG, "pvpanic: dropped write of %u bytes at +%#llx", len,
				(unsigned long long)off);
		return;
	}
	v = (uint8_t)dev_data_get(data, 1);
	if ((v & PVPANIC_PANICKED) && p->panicked)
		p->panicked(p->opaque);
	if ((v & PVPANIC_CRASH_LOADED) && p->crash_loaded)
		p->crash_loaded(p->opaque);
}

static const struct dev_ops pvpanic_ops = {
	.name = "pvpanic",
	.read = pvpanic_read,
	.write = pvpanic_write,
};

struct pvpanic *pvpanic_create(void (*panicked)(void *opaque), void (*crash_loaded)(void *opaque),
			       void *opaque)
{
	struct pvpanic *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->dev.ops = &pvpanic_ops;
	p->panicked = panicked;
	p->crash_loaded = crash_loaded;
	p->opaque = opaque;
	return p;
}

void pvpanic_destroy(struct pvpanic *p)
{
	free(p);
}

struct dev *pvpanic_dev(struct pvpanic *p)
{
	return &p->dev;
}
