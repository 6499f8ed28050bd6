/* SPDX-License-Identifier: MIT */
/*
 * The platform side of message-signalled interrupts, as a PCI device's
 * MSI-X emulation sees it. Production: each vector is a KVM GSI route to
 * (addr, data) plus an irqfd, so firing a vector is an eventfd write and
 * the guest gets the interrupt with no exit to user space. Tests: a recorder.
 */
#ifndef HOSTEL_MSI_H
#define HOSTEL_MSI_H

#include <stdbool.h>
#include <stdint.h>

struct msi_ctl;

struct msi_ops {
	/* (Re)program vector @vec to (addr, data); a masked vector needs no
	 * route. 0 or -errno (the device keeps working, the vector is dead). */
	int (*route)(struct msi_ctl *c, unsigned int vec, uint64_t addr, uint32_t data,
		     bool masked);
	/* Deliver vector @vec (already known unmasked). Safe from any thread. */
	void (*fire)(struct msi_ctl *c, unsigned int vec);
};

struct msi_ctl {
	const struct msi_ops *ops;
};

#endif
