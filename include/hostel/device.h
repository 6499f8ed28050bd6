/* SPDX-License-Identifier: MIT */
/*
 * The device contract. Every device model in devices/ implements dev_ops and
 * is reached only through a bus. Devices include only include/hostel/ headers:
 * never <linux/kvm.h>, never the VM struct. Collaborators (interrupt lines,
 * clocks, timers, byte sinks, guest memory) are handed over at creation.
 */
#ifndef HOSTEL_DEVICE_H
#define HOSTEL_DEVICE_H

#include <stdint.h>

struct dev;

struct dev_ops {
	const char *name;
	/*
	 * Access at @off within the device's window; @len is 1, 2, 4 or 8.
	 * Cannot fail: unknown registers read as all-ones, unknown writes are
	 * dropped (and counted by the device if it cares).
	 */
	void (*read)(struct dev *d, uint64_t off, void *data, unsigned len);
	void (*write)(struct dev *d, uint64_t off, const void *data, unsigned len);
	/* Back to power-on state (optional). */
	void (*reset)(struct dev *d);
	/* Free everything the device owns, including the struct (optional). */
	void (*destroy)(struct dev *d);
};

/* Embedded as the first member (or anywhere, with container_of) of a device. */
struct dev {
	const struct dev_ops *ops;
};

/* Little-endian helpers for devices whose registers are narrower than @len. */
static inline uint64_t dev_data_get(const void *data, unsigned len)
{
	const uint8_t *p = data;
	uint64_t v = 0;
	for (unsigned i = 0; i < len && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void dev_data_put(void *data, unsigned len, uint64_t v)
{
	uint8_t *p = data;
	for (unsigned i = 0; i < len && i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
