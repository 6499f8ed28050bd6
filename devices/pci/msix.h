/* SPDX-License-Identifier: MIT */
/*
 * MSI-X for hostel's PCI devices (PCI Local Bus Specification 3.0, 6.8.2
 * "MSI-X Capability and Table Structure"; same layout in PCI Express Base
 * Specification 4.0, 7.7.2).
 *
 * A device model owns one struct msix per function. It declares a memory
 * BAR, calls msix_attach() to add the MSI-X capability pointing at the
 * table and the PBA inside that BAR, and from its BAR handler passes
 * accesses at those offsets to msix_table_read/write() and
 * msix_pba_read/write() (or maps msix_table_dev()/msix_pba_dev() directly
 * if they are a BAR of their own). It raises interrupts with msix_notify().
 *
 * Model:
 *  - Message Control: Table Size read only; MSI-X Enable (bit 15) and
 *    Function Mask (bit 14) writable; everything else in the capability is
 *    read only. Power-on: disabled, function unmasked.
 *  - Table entries (16 bytes: address low, address high, data, vector
 *    control) take aligned 4-byte and aligned 8-byte accesses (6.8.2
 *    requires DWORD or QWORD accesses); other accesses read all-ones and
 *    are dropped. Address bits 1:0 and the reserved vector control bits
 *    read 0. Power-on: every entry masked, address and data 0.
 *  - The PBA is read only (8-byte aligned qwords, or dwords); bits past the
 *    last vector read 0.
 *  - A vector is effectively masked when MSI-X is disabled, the function
 *    is masked, or its entry's mask bit is set. Whenever that changes, and
 *    whenever the address or data of an effectively unmasked vector
 *    changes, ctl->ops->route() reprograms the platform (KVM GSI route).
 *  - msix_notify(): disabled -> false (the caller may use INTx); vector
 *    >= nr_vectors or MSIX_NO_VECTOR -> ignored (true); masked -> sets the
 *    Pending bit; otherwise ctl->ops->fire(). When a vector with its
 *    Pending bit set becomes unmasked it is routed, fired, and the bit
 *    cleared. Turning MSI-X off clears all Pending bits: the events belong
 *    to a delivery mode the guest has left.
 *
 * Threads: notify comes from device I/O threads, table and control writes
 * from vCPU threads; a mutex in struct msix serializes them. route() and
 * fire() run with that mutex held, so they must not call back into this
 * msix.
 *
 * Trust: offsets, widths and values come from the guest; offsets are
 * checked against the table/PBA size before indexing, and vector numbers
 * from the device model are checked against nr_vectors.
 */
#ifndef HOSTEL_MSIX_H
#define HOSTEL_MSIX_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "hostel/msi.h"

#define MSIX_MAX_VECTORS 2048	/* Table Size is an 11-bit N-1 */
#define MSIX_NO_VECTOR	 0xffff /* "no vector" (as virtio's VIRTIO_MSI_NO_VECTOR) */
#define MSIX_CAP_LEN	 12	/* PCI_CAP_MSIX_SIZEOF */
#define MSIX_ENTRY_SIZE	 16	/* PCI_MSIX_ENTRY_SIZE */

struct msix;
struct pci_func;

struct msix_stats {
	uint64_t fired;	       /* ctl->ops->fire() calls */
	uint64_t pended;       /* notifies that set a Pending bit */
	uint64_t route_errors; /* route() failures */
	uint64_t bad_accesses; /* table/PBA accesses of unsupported width/alignment */
};

/* 1..MSIX_MAX_VECTORS vectors delivered through @ctl. NULL on bad args or ENOMEM. */
struct msix *msix_create(unsigned int nr_vectors, struct msi_ctl *ctl) __must_check;
void msix_destroy(struct msix *m);

unsigned int msix_nr_vectors(const struct msix *m);
uint64_t msix_table_size(const struct msix *m); /* 16 * nr_vectors */
uint64_t msix_pba_size(const struct msix *m);	/* 8 * ceil(nr_vectors / 64) */

/*
 * The capability's bytes (ID, next = 0, Message Control, Table
 * Offset/BIR, PBA Offset/BIR) for a table at @table_off in BAR @table_bir
 * and a PBA at @pba_off in BAR @pba_bir. Offsets must be 8-byte aligned.
 */
void msix_cap_bytes(const struct msix *m, unsigned int table_bir, uint32_t table_off,
		    unsigned int pba_bir, uint32_t pba_off, uint8_t out[MSIX_CAP_LEN]);

/*
 * Add the MSI-X capability to @f with hooks so that Message Control writes
 * reach msix_control_write() and reads show its state, and pci_host_reset()
 * resets this msix. The BARs must already be declared (memory BARs), the
 * table and PBA 8-byte aligned, inside them and not overlapping.
 * 0 or -EINVAL, or pci_func_add_cap_hooked()'s error. *cap_off may be NULL.
 */
int msix_attach(struct msix *m, struct pci_func *f, unsigned int table_bir, uint32_t table_off,
		unsigned int pba_bir, uint32_t pba_off, unsigned int *cap_off) __must_check;

/* Accesses at @off within the table / PBA (not within the BAR). */
void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int len);
void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int len);
void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int len);
void msix_pba_write(struct msix *m, uint64_t off, const void *data, unsigned int len);

/* The same as devs of msix_table_size() / msix_pba_size() bytes. */
struct dev *msix_table_dev(struct msix *m);
struct dev *msix_pba_dev(struct msix *m);

/* Message Control as the guest sees it / a guest write of it. */
uint16_t msix_control_read(struct msix *m);
void msix_control_write(struct msix *m, uint16_t value);

bool msix_enabled(struct msix *m);

/* Signal vector @vec; see above. Safe from any thread. */
bool msix_notify(struct msix *m, unsigned int vec);

/* Power-on state; vectors that were routed unmasked are routed masked. */
void msix_reset(struct msix *m);

void msix_get_stats(struct msix *m, struct msix_stats *st);

#endif
