/* SPDX-License-Identifier: MIT */
/*
 * PCI host bridge for hostel's PC: bus 0, 32 device slots with function 0
 * each, reached through configuration mechanism #1 (ports 0xCF8/0xCFC) and
 * through an ECAM window, plus the framework PCI device models build on:
 * a type 0 header, a capability list and BARs.
 *
 * References: PCI Local Bus Specification 3.0 (PCI LB 3.0), sections
 * 3.2.2.3.2 (configuration mechanism #1), 6.1-6.2 (configuration header),
 * 6.2.5.1 (BARs), 6.7 (capabilities list); PCI Express Base Specification
 * 4.0, 7.2.2 (ECAM).
 *
 * Model:
 *  - Slot 0 is the host bridge itself: 8086:29c0 (the Intel 82G33/Q35
 *    DRAM controller ID guests already know from QEMU's q35), class 0x060000,
 *    no BARs, no capabilities.
 *  - Two access paths reach the same config spaces:
 *     . pci_host_io_dev(): ports 0xCF8-0xCFF (PCI_HOST_IO_LEN bytes).
 *       CONFIG_ADDRESS is only a 4-byte access at 0xCF8, as on Intel
 *       chipsets; a 1-byte access at 0xCF9 goes to the reset control device
 *       given to pci_host_set_cf9() (0xCF9 lies inside CONFIG_ADDRESS's
 *       dword, so the board registers only this window and hands over the
 *       RST_CNT device). Other accesses at 0xCF8-0xCFB are unclaimed: reads
 *       are all-ones, writes are dropped. CONFIG_DATA is 0xCFC-0xCFF with
 *       1-, 2- and 4-byte accesses at the byte lane of the register. Bits
 *       30:24 of CONFIG_ADDRESS (where AMD puts extended register bits
 *       27:24) and 1:0 are reserved: they read 0 and are ignored, so
 *       mechanism #1 reaches only the first 256 bytes.
 *     . pci_host_ecam_dev(): a PCI_ECAM_BUS_SIZE (1 MiB) MMIO window for bus
 *       0 at a base the board chooses (and describes in MCFG); offset =
 *       device << 15 | function << 12 | register. 1-, 2- and 4-byte accesses
 *       that do not cross a dword; anything else reads all-ones and is
 *       dropped on write (PCIe 7.2.2 leaves it undefined).
 *  - Absent devices and functions 1-7 read all-ones; writes are dropped.
 *  - Config space is 256 bytes per function (conventional PCI). ECAM offsets
 *    0x100-0xFFF read 0 (no extended capabilities) and drop writes.
 *  - Writable registers: Command (I/O space, memory space, bus master, INTx
 *    disable; the rest hardwired 0), Cache Line Size, Interrupt Line, the
 *    BARs (see below) and capability bytes whose owner installed a write
 *    hook. Everything else - IDs, class, status, header type, capability
 *    pointer, Interrupt Pin, bytes beyond what a device defines - is read
 *    only: writes are dropped and counted. Status Interrupt Status (bit 3)
 *    is not tracked and reads 0.
 *  - BARs are placed by hostel, not by guest firmware (there is no BIOS):
 *    pci_host_assign_bars() puts every BAR naturally aligned into the
 *    windows the board gives and writes the addresses into config space.
 *    The guest may size a BAR (write all-ones, read the size mask with the
 *    type bits, write the original value back) but cannot move it: a write
 *    of any other address is ignored and counted, and the BAR keeps reading
 *    hostel's placement. Linux keeps BARs firmware assigned inside the host
 *    bridge's _CRS windows, so it never needs to move them. Memory decode
 *    is stored but does not unmap a BAR: a device model that cares checks
 *    pci_func_command().
 *  - 64-bit memory BARs are placed below 4 GiB too (the upper dword is 0).
 *
 * Threads: config accesses come from vCPU threads and are serialized by a
 * host lock. Capability hooks run with that lock held, so a hook must not
 * call back into this host, and a device must not call pci_host_* /
 * pci_func_add_* while holding a lock its hooks take. pci_func_command()
 * takes no lock and is safe from any thread. Setup (create, add, add_cap,
 * add_bar, assign_bars) happens before vCPUs run.
 *
 * Trust: every CONFIG_ADDRESS value, ECAM offset, access width and written
 * value comes from the guest; device, function and register numbers are
 * range-checked before they index anything.
 */
#ifndef HOSTEL_PCI_H
#define HOSTEL_PCI_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/device.h"

#define PCI_HOST_IO_BASE       0xcf8 /* CONFIG_ADDRESS; CONFIG_DATA at +4 */
#define PCI_HOST_IO_LEN	       8
#define PCI_ECAM_BUS_SIZE      (1u << 20) /* one bus: 32 devices x 8 functions x 4 KiB */
#define PCI_HOST_SLOTS	       32
#define PCI_FUNC_BARS	       6
#define PCI_HOST_BRIDGE_VENDOR 0x8086
#define PCI_HOST_BRIDGE_DEVICE 0x29c0

/* BAR kinds for pci_func_add_bar(): the type bits of the BAR register
 * (PCI LB 3.0, 6.2.5.1). PCI_BAR_PREFETCH may be or-ed into a memory BAR. */
enum {
	PCI_BAR_MEM32 = 0x0,
	PCI_BAR_IO = 0x1,
	PCI_BAR_MEM64 = 0x4,
	PCI_BAR_PREFETCH = 0x8,
};

/* Largest BARs hostel places (the memory window lies below 4 GiB). */
#define PCI_BAR_MEM_MIN 16
#define PCI_BAR_MEM_MAX (1ull << 31)
#define PCI_BAR_IO_MIN	4
#define PCI_BAR_IO_MAX	256 /* PCI LB 3.0, 6.2.5.1: I/O BARs claim at most 256 bytes */

struct pci_host;
struct pci_func;

struct pci_dev_info {
	uint16_t vendor, device; /* vendor 0 and 0xffff are invalid */
	uint16_t subsys_vendor, subsys_id;
	uint8_t revision;
	uint32_t class;	  /* base class << 16 | subclass << 8 | programming interface */
	uint8_t irq_pin;  /* 0 = no INTx, 1..4 = INTA#..INTD# */
	uint8_t irq_line; /* Interrupt Line as firmware leaves it (the GSI), reset value */
};

/*
 * Hooks that let a capability react to config accesses. @cap points at the
 * capability's bytes in config space (@cap_len of them); @off and @len give
 * the part of the access inside the capability (an access never spans two
 * capabilities). All run with the host lock held (see above).
 */
struct pci_cap_ops {
	/* A guest write of @data[0..len) at @off. The hook stores what it
	 * accepts into @cap; bytes 0-1 (ID and next pointer) are restored
	 * afterwards whatever it does. NULL: the capability is read only. */
	void (*write)(void *opaque, uint8_t *cap, unsigned int cap_len, unsigned int off,
		      const uint8_t *data, unsigned int len);
	/* Before a guest read of [off, off+len): refresh @cap (optional). */
	void (*read)(void *opaque, uint8_t *cap, unsigned int cap_len, unsigned int off,
		     unsigned int len);
	/* pci_host_reset() (optional). */
	void (*reset)(void *opaque, uint8_t *cap, unsigned int cap_len);
};

/* One BAR placed by pci_host_assign_bars(): bus_add(@dev at @base, @size)
 * on the MMIO bus, or the PIO bus if @io. */
struct pci_bar_placement {
	unsigned int slot, bar;
	bool io;
	uint64_t base, size;
	struct dev *dev;
};

struct pci_placements {
	unsigned int nr;
	struct pci_bar_placement p[PCI_HOST_SLOTS * PCI_FUNC_BARS];
};

struct pci_host_stats {
	uint64_t absent_accesses;   /* config accesses to absent bus/device/function */
	uint64_t bad_accesses;	    /* widths/alignments the paths do not support */
	uint64_t ro_writes;	    /* writes that hit only read-only bytes */
	uint64_t bar_moves_refused; /* BAR writes of an address other than the placement */
};

struct pci_host *pci_host_create(void) __must_check;
/* Frees the host and its functions; not the BAR devices, not hook owners. */
void pci_host_destroy(struct pci_host *h);

struct dev *pci_host_io_dev(struct pci_host *h);   /* PCI_HOST_IO_BASE, PCI_HOST_IO_LEN */
struct dev *pci_host_ecam_dev(struct pci_host *h); /* PCI_ECAM_BUS_SIZE at the board's base */
/* Where 1-byte accesses at port 0xCF9 go (NULL: unclaimed). Set before vCPUs run. */
void pci_host_set_cf9(struct pci_host *h, struct dev *cf9);

/*
 * Back to power-on state: CONFIG_ADDRESS 0, Command 0, Cache Line Size 0,
 * Interrupt Line to its info value, BAR sizing cancelled, capability reset
 * hooks run. BAR placements stay (firmware would assign the same again).
 * Both devs' reset ops call this.
 */
void pci_host_reset(struct pci_host *h);

/*
 * Put a device at @slot (1..31; 0 is the host bridge) as function 0.
 * 0, -EINVAL (bad slot or info), -EEXIST (slot taken), -EBUSY (BARs already
 * assigned), -ENOMEM. *out stays valid until pci_host_destroy().
 */
int pci_host_add(struct pci_host *h, unsigned int slot, const struct pci_dev_info *info,
		 struct pci_func **out) __must_check;

/*
 * Append a capability (PCI LB 3.0, 6.7) of @len bytes (2..192) to @f's list:
 * it goes at the next dword-aligned offset from 0x40, bytes[0] is the
 * capability ID, bytes[1] is replaced by the next pointer, Status gets
 * CAP_LIST. Its config offset goes to *@offset (may be NULL). @ops/@opaque
 * may be NULL: then the capability is read only.
 * 0, -EINVAL, -ENOSPC (does not fit below 0x100), -EBUSY (BARs assigned).
 */
int pci_func_add_cap(struct pci_func *f, const void *bytes, unsigned int len,
		     unsigned int *offset) __must_check;
int pci_func_add_cap_hooked(struct pci_func *f, const void *bytes, unsigned int len,
			    const struct pci_cap_ops *ops, void *opaque,
			    unsigned int *offset) __must_check;

/*
 * Declare BAR @bar (0..5) of @size bytes, a power of two: 16..2 GiB for
 * memory, 4..256 for I/O. @flags: PCI_BAR_MEM32, PCI_BAR_MEM64 (also takes
 * register @bar+1, so @bar <= 4), PCI_BAR_IO, optionally | PCI_BAR_PREFETCH
 * for memory. @dev receives accesses at offsets within the BAR once the
 * board maps it. 0, -EINVAL, -EEXIST (register in use), -EBUSY.
 */
int pci_func_add_bar(struct pci_func *f, unsigned int bar, uint64_t size, unsigned int flags,
		     struct dev *dev) __must_check;

/*
 * Place every BAR of every device, naturally aligned, largest first:
 * memory BARs in [mmio_base, mmio_base + mmio_size) clipped to 4 GiB, I/O
 * BARs in [io_base, io_base + io_size) clipped to 64 KiB. Writes the
 * addresses into config space and lists them in *@out. All or nothing:
 * 0, -EINVAL (window wraps, starts at 0 while it has BARs to hold), -ENOSPC
 * (does not fit; nothing placed), -EBUSY (already assigned once).
 */
int pci_host_assign_bars(struct pci_host *h, uint64_t mmio_base, uint64_t mmio_size,
			 uint64_t io_base, uint64_t io_size,
			 struct pci_placements *out) __must_check;

/* Size of BAR @bar, 0 if none (or @bar out of range / an upper half). */
uint64_t pci_func_bar_size(const struct pci_func *f, unsigned int bar);
/* Its PCI_BAR_* flags (0 also for an unused BAR: check the size). */
unsigned int pci_func_bar_flags(const struct pci_func *f, unsigned int bar);
/* hostel's placement of BAR @bar, 0 before assignment. */
uint64_t pci_func_bar_addr(const struct pci_func *f, unsigned int bar);
/* The Command register as the guest last wrote it (lock-free). */
uint16_t pci_func_command(const struct pci_func *f);
unsigned int pci_func_slot(const struct pci_func *f);

void pci_host_get_stats(struct pci_host *h, struct pci_host_stats *st);

#endif
