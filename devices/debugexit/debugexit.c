// SPDX-License-Identifier: MIT
/*
 * debug-exit test hook (see debugexit.h).
 *
 * Trust: the guest chooses the offset, width and value. Accesses must be
 * 1, 2 or 4 bytes wide and lie inside the window; the value is passed on
 * as an opaque number (the board, not this device, turns it into an exit
 * status and must keep that conversion free of overflow).
 */
#include <stdbool.h>
#include <stdlib.h>
#include "debugexit.h"
#include "hostel/log.h"

struct debugexit {
	struct dev dev;
	unsigned len;
	void (*exit_cb)(void *opaque, uint32_t value);
	void *opaque;
};

static bool access_ok(const struct debugexit *de, uint64_t off, unsigned len)
{
	if (len != 1 && len != 2 && len != 4)
		return false;
	return off < de->len && len <= de->len - off;
}

static void debugexit_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	dev_data_put(data, len, ~0ULL);
}

static void debugexit_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct debugexit *de = container_of(d, struct debugexit, dev);

	if (!access_ok(de, off, len)) {
		log_ratelimited(LOG_DEBUG, "debug-exit: dropped write of %u bytes at +%#llx", len,
				(unsigned long long)off);
		return;
	}
	/* V is the value as wide as the access; the offset does not shift it. */
	if (de->exit_cb)
		de->exit_cb(de->opaque, (uint32_t)dev_data_get(data, len));
}

static const struct dev_ops debugexit_ops = {
	.name = "debug-exit",
	.read = debugexit_read,
	.write = debugexit_write,
};

struct debugexit *debugexit_create(unsigned len, void (*exit_cb)(void *opaque, uint32_t value),
				   void *opaque)
{
	struct debugexit *de;

	if (len < 1 || len > DEBUGEXIT_MAX_LEN)
		return NULL;
	de = calloc(1, sizeof(*de));
	if (!de)
		return NULL;
	de->dev.ops = &debugexit_ops;
	de->len = len;
	de->exit_cb = exit_cb;
	de->opaque = opaque;
	return de;
}

void debugexit_destroy(struct debugexit *de)
{
	free(de);
}

struct dev *debugexit_dev(struct debugexit *de)
{
	return &de->dev;
}
