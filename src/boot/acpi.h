/* SPDX-License-Identifier: MIT */
/*
 * ACPI tables for hostel's PC board (ACPI 6.4, chapter 5 "ACPI Software
 * Programming Model"): RSDP, XSDT and RSDT, FADT (revision 6), FACS, DSDT,
 * MADT and, with an ECAM window, MCFG (PCI Firmware Specification 3.x,
 * 4.1.2).
 *
 * The platform is a full (not hardware-reduced) ACPI PC:
 *
 *  - Fixed-hardware PM1a event (4 bytes: PM1_STS, PM1_EN) and control
 *    (2 bytes: PM1_CNT) blocks in I/O space, optionally a 24-bit PM timer
 *    (TMR_VAL_EXT clear). No GPE blocks, no PM1b, no PM2.
 *  - SMI_CMD is 0: there is no SMM and no legacy mode, the machine is always
 *    in ACPI mode. The board's PM1_CNT must therefore read SCI_EN (bit 0) as
 *    1 at all times (ACPI 6.4, 5.2.9: SMI_CMD = 0 means no SMI command port).
 *  - Power button: the fixed-feature button (FADT PWR_BUTTON flag clear).
 *    Pressing it sets PWRBTN_STS (PM1_STS bit 8); if PWRBTN_EN (PM1_EN
 *    bit 8) is set the board raises the SCI.
 *  - Power-off: \_S5 is Package {ACPI_S5_SLP_TYP, 0, 0, 0}. OSPM writes
 *    SLP_TYP = ACPI_S5_SLP_TYP together with SLP_EN (bit 13) to PM1_CNT
 *    (4.8.3.2, 7.4.2); the board treats exactly that as power-off.
 *  - SCI: ISA IRQ @sci_irq, identity-mapped to the same GSI on the I/O APIC
 *    and declared level-triggered, active-high by an Interrupt Source
 *    Override (5.2.12.5) so the board can drive it as a plain level line.
 *    ISA IRQ 0 (the PIT) is routed to GSI 2, as on every PC with an I/O APIC.
 *  - A sleep button, RTC wake and the PM timer overflow are not offered.
 *
 * PCI host bridge (when acpi_config.pci.enabled; PCI Firmware Specification
 * 3.x, 4.1.2 MCFG and 4.5 _OSC; ACPI 6.4, 6.1-6.2 device objects, 6.4.3
 * resource descriptors). The DSDT gets:
 *
 *  - \_SB.PCI0: _HID PNP0A08 (PCI Express root bridge: it has ECAM), _CID
 *    PNP0A03, _SEG 0, _BBN 0, _UID 0. No _ADR: a device has either _HID or
 *    _ADR, not both (ACPI 6.4, 6.1), and the OS finds a root bridge by
 *    _HID. _CRS, in this order:
 *      . WordBusNumber [ecam_bus_start, ecam_bus_end] (= the MCFG's range,
 *        or Linux cannot match the MCFG entry to the bridge);
 *      . IO (Decode16, 0xCF8, 0xCF8, 1, 8): mechanism #1, consumed by the
 *        bridge itself;
 *      . WordIO [0x0000, 0x0CF7]: the legacy range where the board's ISA
 *        devices (PIC, PIT, i8042, RTC, COM1, pvpanic, the PM blocks) sit;
 *      . WordIO [pci.io_base, pci.io_base + pci.io_size - 1], if io_size;
 *      . DWordMemory [pci.mmio32_base, + pci.mmio32_size - 1], NonCacheable;
 *      . QWordMemory [pci.mmio64_base, + pci.mmio64_size - 1], if mmio64_size.
 *    BARs that pci_host_assign_bars() placed inside these windows are kept
 *    by Linux as firmware-assigned, so the board passes the SAME windows to
 *    both calls.
 *  - \_SB.PCI0._OSC: for the PCI host bridge UUID it grants every control
 *    bit PCI Firmware 3.x defines that Linux asks for (ACPI_PCI_OSC_GRANTED:
 *    native PCIe and SHPC hot plug, PME, AER, PCIe capability structure,
 *    LTR, DPC) - there is no firmware left running to keep any of them;
 *    other bits are cleared with "capabilities masked" set. A revision
 *    other than 1 sets "unrecognized revision", another UUID "unrecognized
 *    UUID". It returns the caller's buffer.
 *  - \_SB.PCI0._PRT: INTA#-INTD# of every slot 0-31 to GSIs 16-19, swizzled
 *    as acpi_pci_intx_gsi() says (static GSIs, so the OS programs them
 *    level-triggered, active-low; KVM's in-kernel I/O APIC ignores polarity).
 *    hostel's devices use MSI-X; this only keeps a device with an Interrupt
 *    Pin from leaving Linux "can't derive routing". A board that wires INTx
 *    must use the same GSIs (pci_dev_info.irq_line = acpi_pci_intx_gsi()).
 *  - \_SB.MRES: a PNP0C02 motherboard-resources device whose _CRS is
 *    Memory32Fixed over the MCFG's ECAM range. Linux accepts an MCFG entry
 *    only if its range is reserved: in the e820 map (checked early) or by a
 *    PNP0C01/PNP0C02 device (checked once the namespace is up).
 *
 * Tables are written to guest memory; nothing here reads guest memory.
 */
#ifndef HOSTEL_ACPI_H
#define HOSTEL_ACPI_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/gmem.h"

/* PM1 register bits (ACPI 6.4, 4.8.3.1 "PM1 Event Grouping", 4.8.3.2 "PM1 Control Grouping"). */
#define ACPI_PM1_STS_TMR	   (1u << 0)
#define ACPI_PM1_STS_PWRBTN	   (1u << 8)
#define ACPI_PM1_STS_WAK	   (1u << 15)
#define ACPI_PM1_EN_TMR		   (1u << 0)
#define ACPI_PM1_EN_PWRBTN	   (1u << 8)
#define ACPI_PM1_CNT_SCI_EN	   (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK  (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	   (1u << 13)

/* The SLP_TYP value \_S5 announces; PM1_CNT with this and SLP_EN means power off. */
#define ACPI_S5_SLP_TYP 5

/* Where the spec lets the OS look for the RSDP by scanning (5.2.5.1). */
#define ACPI_RSDP_SCAN_START 0xe0000ULL
#define ACPI_RSDP_SCAN_END   0x100000ULL

/* Highest vCPU count: xAPIC IDs 0..254 (0xff is the broadcast ID). */
#define ACPI_MAX_CPUS 255

/* Devices the DSDT describes at their PC-standard places. */
#define ACPI_COM1_PORT		  0x3f8
#define ACPI_COM1_IRQ		  4
#define ACPI_I8042_DATA_PORT	  0x60
#define ACPI_I8042_CMD_PORT	  0x64
#define ACPI_I8042_KBD_IRQ	  1
#define ACPI_I8042_AUX_IRQ	  12
#define ACPI_RTC_PORT		  0x70
#define ACPI_RTC_LEN		  2
#define ACPI_RTC_IRQ		  8
#define ACPI_PVPANIC_PORT_DEFAULT 0x505

/* DSDT device names, for the board's logs and the tests. */
#define ACPI_DSDT_COM1	  "COM1"
#define ACPI_DSDT_KBD	  "PS2K"
#define ACPI_DSDT_MOUSE	  "PS2M"
#define ACPI_DSDT_RTC	  "RTC_"
#define ACPI_DSDT_PVPANIC "PEVT"
#define ACPI_DSDT_PCI	  "PCI0"
#define ACPI_DSDT_MBRES	  "MRES"

/* The legacy I/O range every PCI root window set includes, and the first
 * port above mechanism #1's 0xCF8-0xCFF where the BAR window may start. */
#define ACPI_PCI_LEGACY_IO_END 0x0cf7
#define ACPI_PCI_IO_MIN	       0x0d00

/* PCI Firmware 3.x, 4.5 _OSC Control Field bits hostel grants: 0-5 and 7. */
#define ACPI_PCI_OSC_GRANTED 0xbfu

/* INTx routing the _PRT declares: pin 1..4 (INTA#..INTD#) of @slot. */
#define ACPI_PCI_INTX_GSI_BASE 16
static inline unsigned int acpi_pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return ACPI_PCI_INTX_GSI_BASE + ((slot + pin - 1) & 3);
}

/* The PC layout acpi_config_pc_default() fills in (PCI still disabled). */
#define ACPI_PCI_ECAM_BASE_DEFAULT   0xe0000000ULL /* bus 0 only: 1 MiB */
#define ACPI_PCI_MMIO32_BASE_DEFAULT 0xc0000000ULL
#define ACPI_PCI_MMIO32_SIZE_DEFAULT 0x20000000ULL /* up to the ECAM window */
#define ACPI_PCI_IO_BASE_DEFAULT     0xc000u
#define ACPI_PCI_IO_SIZE_DEFAULT     0x4000u

/*
 * The PCI host bridge's windows (see "PCI host bridge" above). With
 * @enabled the board must also set acpi_config's ecam_base (below 4 GiB,
 * 1 MiB aligned) with ecam_bus_start = 0 and ecam_bus_end = the
 * last bus its ECAM device decodes (0 for hostel's single bus), and reserve
 * the ECAM range in the e820 map. The memory windows must hold no RAM and
 * must NOT be reserved in e820: Linux (5.19 on, without an SMBIOS date of
 * 2023 or later) cuts e820-reserved ranges out of host bridge windows, and
 * BARs left outside every window get reassigned, which hostel refuses.
 * acpi_build() rejects (-EINVAL):
 *  - mmio32 empty, wrapping or ending above 4 GiB, or overlapping the ECAM
 *    range or the LAPIC/I/O APIC pages;
 *  - mmio64 (if mmio64_size) starting below 4 GiB or wrapping;
 *  - io (if io_size) outside [ACPI_PCI_IO_MIN, 0xFFFF], or holding a port
 *    of the PM blocks, pvpanic or the reset register;
 *  - ECAM at 0, above 4 GiB (Linux drops such an MCFG entry unless SMBIOS
 *    dates the BIOS 2010 or later, and hostel has no SMBIOS), or with
 *    ecam_bus_start != 0.
 */
struct acpi_pci_host {
	bool enabled;			   /* describe \_SB.PCI0, its _OSC, _PRT and \_SB.MRES */
	uint64_t mmio32_base, mmio32_size; /* 32-bit memory window; BARs go here */
	uint64_t mmio64_base, mmio64_size; /* above 4 GiB; size 0 = none */
	uint32_t io_base, io_size;	   /* I/O BAR window; size 0 = none */
};

struct acpi_config {
	unsigned int nr_cpus;	  /* 1..ACPI_MAX_CPUS; local APIC IDs and ACPI UIDs 0..nr_cpus-1 */
	uint32_t lapic_addr;	  /* 0xfee00000 */
	uint32_t ioapic_addr;	  /* 0xfec00000 */
	uint32_t ioapic_gsi_base; /* 0 */
	uint8_t ioapic_id;	  /* 0: what KVM's in-kernel I/O APIC reports after reset */
	uint16_t pm1a_evt_port;	  /* PM1a event block, 4 bytes (PM1_STS, PM1_EN); required */
	uint16_t pm1a_cnt_port;	  /* PM1a control block, 2 bytes; required */
	uint16_t pm_tmr_port;	  /* PM timer, 4 bytes, 24-bit; 0 = none */
	uint8_t sci_irq;	  /* ISA IRQ 1-15 except 2, not used by a described device */
	uint64_t ecam_base;	  /* address of bus 0's config space; 0 = no MCFG */
	uint8_t ecam_bus_start, ecam_bus_end;
	uint16_t reset_port; /* FADT RESET_REG (one byte in I/O space); 0 = none */
	uint8_t reset_value;
	uint8_t rtc_century;   /* CMOS index of the century byte (FADT CENTURY); 0 = none */
	bool pvpanic;	       /* ISA pvpanic device QEMU0001 */
	uint16_t pvpanic_port; /* 0 = ACPI_PVPANIC_PORT_DEFAULT */
	bool com1;	       /* PNP0501 at 0x3f8, IRQ 4 */
	bool i8042;	       /* PNP0303 at 0x60/0x64 IRQ 1; FADT 8042 flag */
	bool ps2_mouse;	       /* with i8042: PNP0F13 on IRQ 12 (Linux probes the aux port) */
	bool rtc; /* PNP0B00 at 0x70, IRQ 8; when false FADT says "CMOS RTC Not Present" */
	struct acpi_pci_host pci; /* PCI host bridge in the DSDT; needs ecam_base */
};

/*
 * PC defaults for @nr_cpus vCPUs: LAPIC 0xfee00000, I/O APIC 0xfec00000
 * (ID 0, GSI base 0), PM1a event block 0x600, PM1a control 0x604, PM timer
 * 0x608, SCI on IRQ 9, CMOS century at 0x32, COM1, i8042, RTC and pvpanic
 * at 0x505 described; no ECAM, no reset register. PCI host bridge disabled,
 * with its windows preset to the PC layout (ACPI_PCI_*_DEFAULT: MMIO
 * 0xc0000000-0xdfffffff, I/O 0xc000-0xffff, no 64-bit window). The board
 * overrides what it wires differently; to describe PCI it sets pci.enabled,
 * ecam_base (ACPI_PCI_ECAM_BASE_DEFAULT) and ecam_bus_start/end (0/0).
 */
void acpi_config_pc_default(struct acpi_config *cfg, unsigned int nr_cpus);

/*
 * Build all tables into guest memory [@base, @base + @size), which must lie
 * inside [ACPI_RSDP_SCAN_START, ACPI_RSDP_SCAN_END) so that the RSDP, placed
 * at the first 16-byte aligned address of the region, is also found by an
 * OS that scans for it. The whole region is rewritten (unused bytes become
 * zero), so it must be reserved for ACPI in the e820 map (E820_RESERVED or
 * E820_ACPI) and backed by @gm. An ECAM window, if any, must be marked
 * reserved in the e820 map too, or Linux ignores the MCFG.
 *
 * Returns 0 and the RSDP address in *@rsdp_addr; -EINVAL for a bad config
 * or a region outside the scan area, -ENOSPC if the tables do not fit,
 * -EFAULT if the region is not guest RAM, -ENOMEM. Guest memory is not
 * touched on failure.
 */
int acpi_build(struct gmem *gm, uint64_t base, uint64_t size, const struct acpi_config *cfg,
	       uint64_t *rsdp_addr) __must_check;

#endif
