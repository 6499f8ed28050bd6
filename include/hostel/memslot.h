/* SPDX-License-Identifier: MIT */
/*
 * Device memory the guest reaches without exits: a device asks the
 * platform to map host memory it owns (a framebuffer BAR's video RAM) at
 * a guest physical address as RAM-like memory (a KVM memory slot), and
 * may ask which pages the guest wrote since it last asked (KVM dirty
 * logging). Production: src/kvm/memslot.c over KVM_SET_USER_MEMORY_REGION
 * and KVM_GET_DIRTY_LOG. Tests: tests/fakes/fake_memslot.h. A device must
 * also work when no platform is given or a call fails: it keeps serving
 * the range through its bus device (one exit per access) and treats every
 * page as possibly written.
 *
 * Moving: hostel places BARs itself and refuses guest BAR moves
 * (devices/pci/pci.h), so a mapping stays where it was made. Should BARs
 * ever move, the owner unmaps and maps again at the new address.
 */
#ifndef HOSTEL_MEMSLOT_H
#define HOSTEL_MEMSLOT_H

#include <stdbool.h>
#include <stdint.h>

#define MEMSLOT_PAGE 4096u /* dirty-bitmap granule: one bit per page */

struct memslot_ctl;

struct memslot_ops {
	/*
	 * Map [@host, @host + @size) at guest [@gpa, @gpa + @size); @gpa,
	 * @size and @host page aligned, @size > 0. With @log_dirty the
	 * platform records the pages the guest writes. A handle >= 0, or
	 * -errno (-ENOSPC: no slot left, -EINVAL: bad alignment or overlap).
	 */
	int (*map)(struct memslot_ctl *c, uint64_t gpa, uint64_t size, void *host, bool log_dirty);
	/* Remove mapping @handle; the range exits to the bus again. */
	void (*unmap)(struct memslot_ctl *c, int handle);
	/*
	 * Fetch and clear the pages written since the last call: bit i of
	 * @bitmap (i / 64 in word i / 64, bit i % 64) for the page at offset
	 * i * MEMSLOT_PAGE. @bitmap holds DIV_ROUND_UP(size / MEMSLOT_PAGE,
	 * 64) words. 0, or -errno (then the caller treats every page as
	 * written).
	 */
	int (*get_dirty)(struct memslot_ctl *c, int handle, uint64_t *bitmap);
};

struct memslot_ctl {
	const struct memslot_ops *ops;
};

#endif
