// SPDX-License-Identifier: MIT
/*
 * ACPI table generation for the PC board.
 *
 * Spec: ACPI 6.4, chapter 5 (tables: 5.2.5 RSDP, 5.2.6 System Description
 * Table Header, 5.2.7 RSDT, 5.2.8 XSDT, 5.2.9 FADT, 5.2.10 FACS, 5.2.11.1
 * DSDT, 5.2.12 MADT, 5.2.3.2 Generic Address Structure), chapter 4.8 (the
 * fixed PM registers the FADT points at), 7.4.2 (\_Sx objects), 6.1-6.2
 * and 6.4.3 (the PCI host bridge's objects and resource descriptors), and
 * the PCI Firmware Specification 3.x, 4.1.2 (MCFG) and 4.5 (_OSC).
 *
 * Tables are laid out in a host scratch buffer that mirrors the guest
 * region, fields are stored byte by byte in little-endian order (no packed
 * structs, so no host alignment or endianness assumptions), and the finished
 * region is copied into guest memory in one gmem_write(). Nothing is read
 * back from the guest.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "boot/acpi.h"
#include "boot/aml.h"

#define OEM_ID		 "HOSTEL"   /* 6 bytes */
#define OEM_TABLE_ID	 "HOSTELVM" /* 8 bytes */
#define OEM_REVISION	 1
#define CREATOR_ID	 "HSTL"
#define CREATOR_REVISION 1

/* 5.2.6: every table but the RSDP and FACS starts with this 36-byte header. */
#define HDR_LEN		 36
#define HDR_LENGTH_OFF	 4
#define HDR_REVISION_OFF 8
#define HDR_CHECKSUM_OFF 9

/* 5.2.5.3: RSDP, revision 2 (ACPI 2.0+). */
#define RSDP_LEN      36
#define RSDP_V1_LEN   20 /* the part the first checksum covers */
#define RSDP_REVISION 2
#define RSDP_ALIGN    16 /* 5.2.5.1: found on a 16-byte boundary */

#define RSDT_REVISION 1
#define XSDT_REVISION 1

/* 5.2.9: FADT revision 6 (ACPI 6.x; minor version 4 = 6.4), 276 bytes. */
#define FADT_LEN	    276
#define FADT_REVISION	    6
#define FADT_MINOR_VERSION  4
#define FADT_FIRMWARE_CTRL  36
#define FADT_DSDT	    40
#define FADT_PM_PROFILE	    45
#define FADT_SCI_INT	    46
#define FADT_SMI_CMD	    48
#define FADT_PM1A_EVT_BLK   56
#define FADT_PM1A_CNT_BLK   64
#define FADT_PM_TMR_BLK	    76
#define FADT_PM1_EVT_LEN    88
#define FADT_PM1_CNT_LEN    89
#define FADT_PM_TMR_LEN	    91
#define FADT_P_LVL2_LAT	    96
#define FADT_P_LVL3_LAT	    98
#define FADT_CENTURY	    108
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS	    112
#define FADT_RESET_REG	    116
#define FADT_RESET_VALUE    128
#define FADT_MINOR	    131
#define FADT_X_DSDT	    140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK   208
#define FADT_HYPERVISOR_ID  268

/* 5.2.9.1: fixed feature flags. */
#define FADT_F_WBINVD	     (1u << 0)
#define FADT_F_PROC_C1	     (1u << 2)
#define FADT_F_PWR_BUTTON    (1u << 4) /* set = no fixed power button: we leave it clear */
#define FADT_F_SLP_BUTTON    (1u << 5) /* set = no fixed sleep button */
#define FADT_F_FIX_RTC	     (1u << 6) /* set = RTC wake status not in PM1_STS */
#define FADT_F_RESET_REG_SUP (1u << 10)

/* 5.2.9.3: IA-PC boot architecture flags. */
#define FADT_BOOT_LEGACY_DEVICES (1u << 0)
#define FADT_BOOT_8042		 (1u << 1)
#define FADT_BOOT_NO_CMOS_RTC	 (1u << 5)

/* P_LVL2_LAT > 100 and P_LVL3_LAT > 1000 say C2 and C3 are not supported. */
#define FADT_NO_C2_LAT 101
#define FADT_NO_C3_LAT 1001

/* 5.2.3.2: Generic Address Structure, 12 bytes. */
#define GAS_LEN		 12
#define GAS_SPACE_IO	 1
#define GAS_ACCESS_BYTE	 1
#define GAS_ACCESS_WORD	 2
#define GAS_ACCESS_DWORD 3

/* The fixed PM block lengths (4.8.3): PM1 event 4, PM1 control 2, PM timer 4. */
#define PM1_EVT_LEN 4
#define PM1_CNT_LEN 2
#define PM_TMR_LEN  4

/* 5.2.10: FACS, 64 bytes on a 64-byte boundary. */
#define FACS_LEN	 64
#define FACS_ALIGN	 64
#define FACS_VERSION	 2
#define FACS_VERSION_OFF 32

#define DSDT_REVISION 2 /* 2+: AML integers are 64 bits (5.2.11.1) */

/* 5.2.12: MADT. Revision 5 is ACPI 6.3+. */
#define MADT_REVISION	    5
#define MADT_PCAT_COMPAT    (1u << 0)
#define MADT_LAPIC	    0 /* 5.2.12.2 */
#define MADT_LAPIC_LEN	    8
#define MADT_LAPIC_ENABLED  (1u << 0)
#define MADT_IOAPIC	    1 /* 5.2.12.3 */
#define MADT_IOAPIC_LEN	    12
#define MADT_ISO	    2 /* 5.2.12.5 */
#define MADT_ISO_LEN	    10
#define MADT_LAPIC_NMI	    4 /* 5.2.12.7 */
#define MADT_LAPIC_NMI_LEN  6
#define MADT_ALL_PROCESSORS 0xff
/* 5.2.12.5 MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2. */
#define MPS_INTI_CONFORMS    0x0
#define MPS_INTI_ACTIVE_HIGH 0x1
#define MPS_INTI_LEVEL	     (0x3 << 2)

#define ISA_BUS		0
#define PIT_IRQ		0
#define PIT_GSI		2 /* the I/O APIC's pin 0 is the 8259's INTR; the PIT is on pin 2 */
#define ISA_CASCADE_IRQ 2
#define ISA_IRQS	16
#define LAPIC_NMI_LINT	1

/* PCI Firmware Spec 3.x, 4.1.2: MCFG, 8 reserved bytes then 16-byte entries. */
#define MCFG_REVISION  1
#define MCFG_RESERVED  8
#define MCFG_ENTRY_LEN 16
#define ECAM_BUS_SIZE  (1ULL << 20) /* 32 devices x 8 functions x 4 KiB */

#define TABLE_ALIGN 8

/* LAPIC and I/O APIC register pages, which no PCI window may cover. */
#define APIC_PAGE 0x1000ULL

/* PCI Firmware 3.x, 4.5: the PCI host bridge _OSC UUID and its DWORDs. */
#define PCI_OSC_UUID		"33db4d5b-1ff7-401c-9657-7441c03dd766"
#define PCI_OSC_REVISION	1
#define OSC_STATUS_BAD_UUID	(1u << 2) /* ACPI 6.4, 6.2.11 "Unrecognized UUID" */
#define OSC_STATUS_BAD_REVISION (1u << 3)
#define OSC_STATUS_MASKED	(1u << 4) /* "Capabilities Masked" */
#define OSC_CONTROL_BYTE_OFFSET 8	  /* DWORD 3, the Control Field */

/* Mechanism #1's CONFIG_ADDRESS and CONFIG_DATA (PCI LB 3.0, 3.2.2.3.2). */
#define PCI_HOST_CFG_PORT 0xcf8
#define PCI_HOST_CFG_LEN  8

#define PCI_SLOTS     32
#define PCI_INTX_PINS 4

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* The byte that makes @len bytes at @p sum to zero (mod 256). */
static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)(0x100 - sum);
}

static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + HDR_LENGTH_OFF, len);
	t[HDR_REVISION_OFF] = rev;
	t[HDR_CHECKSUM_OFF] = 0;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t + 32, CREATOR_REVISION);
}

/* Call last, once the table's contents are final. */
static void seal(uint8_t *t, uint32_t len)
{
	t[HDR_CHECKSUM_OFF] = checksum(t, len);
}

static void gas_io(uint8_t *p, uint16_t port, uint8_t bits, uint8_t access)
{
	p[0] = GAS_SPACE_IO;
	p[1] = bits;
	p[2] = 0; /* bit offset */
	p[3] = access;
	put64(p + 4, port);
}

/* A bump allocator over the region, aligning guest addresses. */
struct layout {
	uint64_t base; /* guest address of offset 0 */
	size_t size;
	size_t cur;
};

/* Offset of @len bytes aligned to @align in the guest, or -ENOSPC. */
static long place(struct layout *l, size_t len, size_t align)
{
	uint64_t addr = l->base + l->cur;
	size_t pad = (size_t)((align - (addr % align)) % align);

	if (pad > l->size - l->cur || len > l->size - l->cur - pad)
		return -ENOSPC;
	size_t off = l->cur + pad;
	l->cur = off + len;
	return (long)off;
}

static int port_block_ok(uint16_t port, unsigned int len)
{
	return port != 0 && (uint32_t)port + len <= 0x10000;
}

/* Inclusive ranges [a, a_last] and [b, b_last] share an address. */
static bool overlaps(uint64_t a, uint64_t a_last, uint64_t b, uint64_t b_last)
{
	return a <= b_last && b <= a_last;
}

/* A fixed I/O block of the board that the PCI I/O window must not swallow. */
static bool port_in_io_window(const struct acpi_pci_host *p, uint16_t port, unsigned int len)
{
	return port && overlaps(port, (uint64_t)port + len - 1, p->io_base,
				(uint64_t)p->io_base + p->io_size - 1);
}

/* The rules acpi.h lists under struct acpi_pci_host. Runs after the ECAM checks. */
static int validate_pci(const struct acpi_config *cfg)
{
	const struct acpi_pci_host *p = &cfg->pci;

	if (!p->enabled)
		return 0;
	/* _BBN 0 and the bus range start at 0; Linux ignores an MCFG entry
	 * above 4 GiB on a machine without a 2010+ SMBIOS BIOS date. */
	if (!cfg->ecam_base || cfg->ecam_bus_start != 0)
		return -EINVAL;
	uint64_t ecam_last = cfg->ecam_base + ((uint64_t)cfg->ecam_bus_end + 1) * ECAM_BUS_SIZE - 1;
	if (ecam_last > UINT32_MAX)
		return -EINVAL;

	if (!p->mmio32_size || p->mmio32_base > UINT32_MAX ||
	    p->mmio32_size > 0x100000000ULL - p->mmio32_base)
		return -EINVAL;
	uint64_t m32_last = p->mmio32_base + p->mmio32_size - 1;
	if (overlaps(p->mmio32_base, m32_last, cfg->ecam_base, ecam_last) ||
	    overlaps(p->mmio32_base, m32_last, cfg->lapic_addr, cfg->lapic_addr + APIC_PAGE - 1) ||
	    overlaps(p->mmio32_base, m32_last, cfg->ioapic_addr, cfg->ioapic_addr + APIC_PAGE - 1))
		return -EINVAL;

	/* Above 4 GiB, so clear of everything below it by construction. */
	if (p->mmio64_size &&
	    (p->mmio64_base < 0x100000000ULL || p->mmio64_size - 1 > UINT64_MAX - p->mmio64_base))
		return -EINVAL;

	if (p->io_size) {
		/* Clear of the legacy window [0, 0xcf7] and mechanism #1. */
		if (p->io_base < ACPI_PCI_IO_MIN || p->io_base > 0xffff ||
		    p->io_size > 0x10000 - p->io_base)
			return -EINVAL;
		if (port_in_io_window(p, cfg->pm1a_evt_port, PM1_EVT_LEN) ||
		    port_in_io_window(p, cfg->pm1a_cnt_port, PM1_CNT_LEN) ||
		    port_in_io_window(p, cfg->pm_tmr_port, PM_TMR_LEN) ||
		    port_in_io_window(p, cfg->reset_port, 1) ||
		    (cfg->pvpanic &&
		     port_in_io_window(
			     p, cfg->pvpanic_port ? cfg->pvpanic_port : ACPI_PVPANIC_PORT_DEFAULT,
			     1)))
			return -EINVAL;
	}
	return 0;
}

static int validate(const struct acpi_config *cfg)
{
	if (!cfg || cfg->nr_cpus < 1 || cfg->nr_cpus > ACPI_MAX_CPUS)
		return -EINVAL;
	if (!cfg->lapic_addr || !cfg->ioapic_addr)
		return -EINVAL;
	/* The ISA IRQs are identity-mapped to GSIs 0-15 (plus the overrides),
	 * which needs the one I/O APIC to start at GSI 0. */
	if (cfg->ioapic_gsi_base != 0)
		return -EINVAL;
	if (!port_block_ok(cfg->pm1a_evt_port, PM1_EVT_LEN) ||
	    !port_block_ok(cfg->pm1a_cnt_port, PM1_CNT_LEN))
		return -EINVAL;
	if (cfg->pm_tmr_port && !port_block_ok(cfg->pm_tmr_port, PM_TMR_LEN))
		return -EINVAL;
	/* The SCI is a level-triggered ISA IRQ of its own. */
	unsigned int sci = cfg->sci_irq;
	if (sci == PIT_IRQ || sci == ISA_CASCADE_IRQ || sci >= ISA_IRQS)
		return -EINVAL;
	if ((cfg->com1 && sci == ACPI_COM1_IRQ) || (cfg->rtc && sci == ACPI_RTC_IRQ) ||
	    (cfg->i8042 && (sci == ACPI_I8042_KBD_IRQ || sci == ACPI_I8042_AUX_IRQ)))
		return -EINVAL;
	if (cfg->ecam_base) {
		if (cfg->ecam_base % ECAM_BUS_SIZE || cfg->ecam_bus_start > cfg->ecam_bus_end)
			return -EINVAL;
		uint64_t span = ((uint64_t)cfg->ecam_bus_end + 1) * ECAM_BUS_SIZE;
		if (cfg->ecam_base + span < cfg->ecam_base)
			return -EINVAL;
	}
	return validate_pci(cfg);
}

void acpi_config_pc_default(struct acpi_config *cfg, unsigned int nr_cpus)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_cpus = nr_cpus;
	cfg->lapic_addr = 0xfee00000;
	cfg->ioapic_addr = 0xfec00000;
	cfg->pm1a_evt_port = 0x600;
	cfg->pm1a_cnt_port = 0x604;
	cfg->pm_tmr_port = 0x608;
	cfg->sci_irq = 9;
	cfg->rtc_century = 0x32;
	cfg->pvpanic = true;
	cfg->pvpanic_port = ACPI_PVPANIC_PORT_DEFAULT;
	cfg->com1 = true;
	cfg->i8042 = true;
	cfg->ps2_mouse = true;
	cfg->rtc = true;
	/* Disabled, but preset so a board only has to switch it on and give
	 * the ECAM base. */
	cfg->pci.mmio32_base = ACPI_PCI_MMIO32_BASE_DEFAULT;
	cfg->pci.mmio32_size = ACPI_PCI_MMIO32_SIZE_DEFAULT;
	cfg->pci.io_base = ACPI_PCI_IO_BASE_DEFAULT;
	cfg->pci.io_size = ACPI_PCI_IO_SIZE_DEFAULT;
}

/* Method (_STA) { Return (@v) }: 6.3.7. */
static void sta_method(struct aml *a, uint64_t v)
{
	aml_method_begin(a, "_STA", 0, 0);
	aml_return(a);
	aml_integer(a, v);
	aml_end(a);
}

#define STA_PRESENT_ENABLED_SHOWN_OK 0x0f /* 6.3.7: bits 0-3 */

/* Or (@name, @bit, @name): set a status bit in a CreateDWordField field. */
static void or_bit(struct aml *a, const char *name, uint32_t bit)
{
	aml_or(a);
	aml_namestring(a, name);
	aml_integer(a, bit);
	aml_namestring(a, name);
}

/*
 * ACPI 6.4, 6.2.11 and PCI Firmware 3.x, 4.5: Arg0 UUID, Arg1 revision,
 * Arg2 DWORD count, Arg3 the capabilities buffer (DWORD 1 query flag and
 * returned status, DWORD 2 support, DWORD 3 control). The buffer is
 * changed in place and returned, as the spec's examples do:
 *
 *	CreateDWordField (Arg3, 0, CDW1)
 *	If (LEqual (Arg0, ToUUID (PCI_OSC_UUID))) {
 *		CreateDWordField (Arg3, 8, CDW3)
 *		And (CDW3, ACPI_PCI_OSC_GRANTED, Local0)
 *		If (LNot (LEqual (Arg1, 1))) { Or (CDW1, bad revision, CDW1) }
 *		If (LNot (LEqual (CDW3, Local0))) { Or (CDW1, masked, CDW1) }
 *		Store (Local0, CDW3)
 *	} Else {
 *		Or (CDW1, bad UUID, CDW1)
 *	}
 *	Return (Arg3)
 *
 * Serialized because it creates named fields (two concurrent calls would
 * collide on CDW1). Nothing is remembered between calls: what is granted
 * does not depend on earlier ones, so a query and the real request agree.
 */
static void pci_osc(struct aml *a)
{
	aml_method_begin(a, "_OSC", 4, 1);
	aml_create_dword_field(a);
	aml_arg(a, 3);
	aml_integer(a, 0);
	aml_namestring(a, "CDW1");

	aml_if_begin(a);
	aml_lequal(a);
	aml_arg(a, 0);
	aml_uuid(a, PCI_OSC_UUID);

	aml_create_dword_field(a);
	aml_arg(a, 3);
	aml_integer(a, OSC_CONTROL_BYTE_OFFSET);
	aml_namestring(a, "CDW3");
	aml_and(a);
	aml_namestring(a, "CDW3");
	aml_integer(a, ACPI_PCI_OSC_GRANTED);
	aml_local(a, 0);

	aml_if_begin(a);
	aml_lnot(a);
	aml_lequal(a);
	aml_arg(a, 1);
	aml_integer(a, PCI_OSC_REVISION);
	or_bit(a, "CDW1", OSC_STATUS_BAD_REVISION);
	aml_end(a);

	aml_if_begin(a);
	aml_lnot(a);
	aml_lequal(a);
	aml_namestring(a, "CDW3");
	aml_local(a, 0);
	or_bit(a, "CDW1", OSC_STATUS_MASKED);
	aml_end(a);

	aml_store(a);
	aml_local(a, 0);
	aml_namestring(a, "CDW3");
	aml_end(a); /* If */

	aml_else_begin(a);
	or_bit(a, "CDW1", OSC_STATUS_BAD_UUID);
	aml_end(a);

	aml_return(a);
	aml_arg(a, 3);
	aml_end(a); /* Method */
}

/*
 * ACPI 6.4, 6.2.13 _PRT: Package {Address (device << 16 | 0xFFFF: any
 * function), Pin (0 = INTA#), Source (0: Source Index is a GSI), Source
 * Index}, for every pin of every slot.
 */
static void pci_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	aml_package_begin(a, PCI_SLOTS * PCI_INTX_PINS);
	for (unsigned int slot = 0; slot < PCI_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < PCI_INTX_PINS; pin++) {
			aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, acpi_pci_intx_gsi(slot, pin + 1));
			aml_end(a);
		}
	}
	aml_end(a);
}

static void pci_host(struct aml *a, const struct acpi_config *cfg)
{
	const struct acpi_pci_host *p = &cfg->pci;

	aml_device_begin(a, ACPI_DSDT_PCI);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08"); /* PCI Express root bridge */
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03"); /* PCI root bridge, for OSes that predate PNP0A08 */
	aml_name(a, "_SEG");
	aml_integer(a, 0); /* = the MCFG entry's segment group */
	aml_name(a, "_BBN");
	aml_integer(a, cfg->ecam_bus_start);
	aml_name(a, "_UID");
	aml_integer(a, 0);

	aml_name(a, "_CRS");
	aml_resource_begin(a);
	aml_res_word_bus_number(a, cfg->ecam_bus_start, cfg->ecam_bus_end);
	aml_res_io(a, PCI_HOST_CFG_PORT, PCI_HOST_CFG_LEN);
	aml_res_word_io(a, 0, ACPI_PCI_LEGACY_IO_END);
	if (p->io_size)
		aml_res_word_io(a, (uint16_t)p->io_base, (uint16_t)(p->io_base + p->io_size - 1));
	aml_res_dword_memory(a, (uint32_t)p->mmio32_base,
			     (uint32_t)(p->mmio32_base + p->mmio32_size - 1));
	if (p->mmio64_size)
		aml_res_qword_memory(a, p->mmio64_base, p->mmio64_base + p->mmio64_size - 1);
	aml_resource_end(a);

	pci_osc(a);
	pci_prt(a);
	aml_end(a);
}

/* PNP0C02 holding the MCFG's ECAM range, which validate_pci() keeps below 4 GiB. */
static void motherboard_resources(struct aml *a, const struct acpi_config *cfg)
{
	uint64_t start = cfg->ecam_base + cfg->ecam_bus_start * ECAM_BUS_SIZE;
	uint64_t len = ((uint64_t)cfg->ecam_bus_end - cfg->ecam_bus_start + 1) * ECAM_BUS_SIZE;

	aml_device_begin(a, ACPI_DSDT_MBRES);
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0C02");
	aml_name(a, "_CRS");
	aml_resource_begin(a);
	aml_res_memory32_fixed(a, (uint32_t)start, (uint32_t)len);
	aml_resource_end(a);
	aml_end(a);
}

static void dsdt_body(struct aml *a, const struct acpi_config *cfg)
{
	/* 7.4.2 \_S5: Package {SLP_TYPa, SLP_TYPb, reserved, reserved}. PM1b
	 * does not exist, so its value is unused. */
	aml_name(a, "\\_S5_");
	aml_package_begin(a, 4);
	aml_integer(a, ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_end(a);

	aml_scope_begin(a, "\\_SB_");

	/* 8.4 "Declaring Processors": one processor device per MADT entry,
	 * tied to it by _UID = the MADT's ACPI Processor UID. */
	for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
		static const char hex[] = "0123456789ABCDEF";
		char name[5] = {'C', hex[(i >> 8) & 0xf], hex[(i >> 4) & 0xf], hex[i & 0xf], 0};
		aml_device_begin(a, name);
		aml_name(a, "_HID");
		aml_string(a, "ACPI0007");
		aml_name(a, "_UID");
		aml_integer(a, i);
		aml_end(a);
	}

	if (cfg->com1) {
		aml_device_begin(a, ACPI_DSDT_COM1);
		aml_name(a, "_HID");
		aml_eisaid(a, "PNP0501"); /* 16550A-compatible COM port */
		aml_name(a, "_UID");
		aml_integer(a, 1);
		aml_name(a, "_CRS");
		aml_resource_begin(a);
		aml_res_io(a, ACPI_COM1_PORT, 8);
		aml_res_irq(a, ACPI_COM1_IRQ);
		aml_resource_end(a);
		aml_end(a);
	}

	if (cfg->i8042) {
		aml_device_begin(a, ACPI_DSDT_KBD);
		aml_name(a, "_HID");
		aml_eisaid(a, "PNP0303"); /* IBM Enhanced (101/102-key) keyboard */
		aml_name(a, "_CRS");
		aml_resource_begin(a);
		aml_res_io(a, ACPI_I8042_DATA_PORT, 1);
		aml_res_io(a, ACPI_I8042_CMD_PORT, 1);
		aml_res_irq(a, ACPI_I8042_KBD_IRQ);
		aml_resource_end(a);
		aml_end(a);
	}
	/*
	 * Without a PNP0F13 node Linux's i8042 driver leaves the aux port
	 * alone ("AUX port disabled"): no psmouse protocol probing, which
	 * costs a nested boot most of a second, for a mouse nothing moves.
	 */
	if (cfg->i8042 && cfg->ps2_mouse) {
		aml_device_begin(a, ACPI_DSDT_MOUSE);
		aml_name(a, "_HID");
		aml_eisaid(a, "PNP0F13"); /* PS/2 port mouse; ports belong to the keyboard */
		aml_name(a, "_CRS");
		aml_resource_begin(a);
		aml_res_irq(a, ACPI_I8042_AUX_IRQ);
		aml_resource_end(a);
		aml_end(a);
	}

	if (cfg->rtc) {
		aml_device_begin(a, ACPI_DSDT_RTC);
		aml_name(a, "_HID");
		aml_eisaid(a, "PNP0B00"); /* AT real-time clock */
		aml_name(a, "_CRS");
		aml_resource_begin(a);
		aml_res_io(a, ACPI_RTC_PORT, ACPI_RTC_LEN);
		aml_res_irq(a, ACPI_RTC_IRQ);
		aml_resource_end(a);
		aml_end(a);
	}

	if (cfg->pvpanic) {
		uint16_t port = cfg->pvpanic_port ? cfg->pvpanic_port : ACPI_PVPANIC_PORT_DEFAULT;
		aml_device_begin(a, ACPI_DSDT_PVPANIC);
		aml_name(a, "_HID");
		aml_string(a, "QEMU0001"); /* the ID guest pvpanic drivers bind to */
		sta_method(a, STA_PRESENT_ENABLED_SHOWN_OK);
		aml_name(a, "_CRS");
		aml_resource_begin(a);
		aml_res_io(a, port, 1);
		aml_resource_end(a);
		aml_end(a);
	}

	if (cfg->pci.enabled) {
		pci_host(a, cfg);
		motherboard_resources(a, cfg);
	}

	aml_end(a); /* \_SB */
}

static long build_dsdt(struct layout *l, uint8_t *buf, const struct acpi_config *cfg)
{
	struct aml a;
	long off = place(l, HDR_LEN, TABLE_ALIGN);
	if (off < 0)
		return off;
	/* The AML goes right after the header, into whatever room is left. */
	aml_init(&a, buf + l->cur, l->size - l->cur);
	dsdt_body(&a, cfg);
	long body = aml_finish(&a);
	if (body < 0)
		return body;
	if ((uint64_t)body > UINT32_MAX - HDR_LEN)
		return -ENOSPC;
	l->cur += (size_t)body;
	uint32_t len = (uint32_t)(HDR_LEN + body);
	header(buf + off, "DSDT", len, DSDT_REVISION);
	seal(buf + off, len);
	return off;
}

static void build_facs(uint8_t *t)
{
	/* No checksum: the FACS has none (5.2.10). Waking vectors
	 * and the global lock stay 0: there is no S3 and no firmware to share
	 * the lock with. */
	memcpy(t, "FACS", 4);
	put32(t + 4, FACS_LEN);
	t[FACS_VERSION_OFF] = FACS_VERSION;
}

static void build_fadt(uint8_t *t, const struct acpi_config *cfg, uint64_t facs, uint64_t dsdt)
{
	uint32_t flags = FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON | FADT_F_FIX_RTC;
	uint16_t boot = FADT_BOOT_LEGACY_DEVICES;

	header(t, "FACP", FADT_LEN, FADT_REVISION);
	/* The tables live below 1 MiB, so the 32-bit FACS pointer suffices;
	 * X_FIRMWARE_CTRL stays 0 because the two must not both be set. */
	put32(t + FADT_FIRMWARE_CTRL, (uint32_t)facs);
	put32(t + FADT_DSDT, (uint32_t)dsdt);
	t[FADT_PM_PROFILE] = 0; /* unspecified */
	put16(t + FADT_SCI_INT, cfg->sci_irq);
	/* SMI_CMD = 0: no SMM; ACPI_ENABLE/ACPI_DISABLE/S4BIOS_REQ are then
	 * meaningless and stay 0, and OSPM finds SCI_EN already set. */
	put32(t + FADT_SMI_CMD, 0);
	put32(t + FADT_PM1A_EVT_BLK, cfg->pm1a_evt_port);
	put32(t + FADT_PM1A_CNT_BLK, cfg->pm1a_cnt_port);
	put32(t + FADT_PM_TMR_BLK, cfg->pm_tmr_port);
	t[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = cfg->pm_tmr_port ? PM_TMR_LEN : 0;
	/* GPE0/GPE1 blocks, PM2: none (lengths stay 0). */
	put16(t + FADT_P_LVL2_LAT, FADT_NO_C2_LAT);
	put16(t + FADT_P_LVL3_LAT, FADT_NO_C3_LAT);
	if (cfg->rtc)
		t[FADT_CENTURY] = cfg->rtc_century;

	if (cfg->i8042)
		boot |= FADT_BOOT_8042;
	if (!cfg->rtc)
		boot |= FADT_BOOT_NO_CMOS_RTC;
	put16(t + FADT_IAPC_BOOT_ARCH, boot);

	if (cfg->reset_port) {
		flags |= FADT_F_RESET_REG_SUP;
		gas_io(t + FADT_RESET_REG, cfg->reset_port, 8, GAS_ACCESS_BYTE);
		t[FADT_RESET_VALUE] = cfg->reset_value;
	}
	put32(t + FADT_FLAGS, flags);
	t[FADT_MINOR] = FADT_MINOR_VERSION;

	put64(t + FADT_X_DSDT, dsdt);
	/* X_ blocks repeat the 32-bit ones; bit widths must equal 8 x the
	 * *_LEN fields or OSPMs (ACPICA) complain and fall back. PM1_STS and
	 * PM1_EN are 16-bit registers, PM1_CNT is 16-bit, PM_TMR 32-bit. */
	gas_io(t + FADT_X_PM1A_EVT_BLK, cfg->pm1a_evt_port, PM1_EVT_LEN * 8, GAS_ACCESS_WORD);
	gas_io(t + FADT_X_PM1A_CNT_BLK, cfg->pm1a_cnt_port, PM1_CNT_LEN * 8, GAS_ACCESS_WORD);
	if (cfg->pm_tmr_port)
		gas_io(t + FADT_X_PM_TMR_BLK, cfg->pm_tmr_port, PM_TMR_LEN * 8, GAS_ACCESS_DWORD);
	memcpy(t + FADT_HYPERVISOR_ID, OEM_TABLE_ID, 8);
	seal(t, FADT_LEN);
}

static size_t madt_len(const struct acpi_config *cfg)
{
	return HDR_LEN + 8 + (size_t)cfg->nr_cpus * MADT_LAPIC_LEN + MADT_IOAPIC_LEN +
	       2 * MADT_ISO_LEN + MADT_LAPIC_NMI_LEN;
}

static uint8_t *madt_iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = MADT_ISO;
	p[1] = MADT_ISO_LEN;
	p[2] = ISA_BUS;
	p[3] = irq;
	put32(p + 4, gsi);
	put16(p + 8, flags);
	return p + MADT_ISO_LEN;
}

static void build_madt(uint8_t *t, const struct acpi_config *cfg)
{
	uint32_t len = (uint32_t)madt_len(cfg);
	uint8_t *p = t + HDR_LEN;

	header(t, "APIC", len, MADT_REVISION);
	put32(p, cfg->lapic_addr);
	/* PCAT_COMPAT: dual 8259s are present (and must be masked by the OS). */
	put32(p + 4, MADT_PCAT_COMPAT);
	p += 8;

	for (unsigned int i = 0; i < cfg->nr_cpus; i++) {
		p[0] = MADT_LAPIC;
		p[1] = MADT_LAPIC_LEN;
		p[2] = (uint8_t)i; /* ACPI Processor UID, = the DSDT device's _UID */
		p[3] = (uint8_t)i; /* APIC ID */
		put32(p + 4, MADT_LAPIC_ENABLED);
		p += MADT_LAPIC_LEN;
	}

	p[0] = MADT_IOAPIC;
	p[1] = MADT_IOAPIC_LEN;
	p[2] = cfg->ioapic_id;
	p[3] = 0;
	put32(p + 4, cfg->ioapic_addr);
	put32(p + 8, cfg->ioapic_gsi_base);
	p += MADT_IOAPIC_LEN;

	/* The PIT: conforming flags mean ISA's own, edge-triggered, active high. */
	p = madt_iso(p, PIT_IRQ, PIT_GSI, MPS_INTI_CONFORMS);
	/* The SCI, identity-mapped but level-triggered, active high (5.2.12.5:
	 * without this entry an OS assumes ISA's edge/high for it). */
	p = madt_iso(p, cfg->sci_irq, cfg->sci_irq, MPS_INTI_ACTIVE_HIGH | MPS_INTI_LEVEL);

	/* NMI arrives on LINT1 of every local APIC, as wired on PCs. */
	p[0] = MADT_LAPIC_NMI;
	p[1] = MADT_LAPIC_NMI_LEN;
	p[2] = MADT_ALL_PROCESSORS;
	put16(p + 3, MPS_INTI_CONFORMS);
	p[5] = LAPIC_NMI_LINT;

	seal(t, len);
}

#define MCFG_LEN (HDR_LEN + MCFG_RESERVED + MCFG_ENTRY_LEN)

static void build_mcfg(uint8_t *t, const struct acpi_config *cfg)
{
	uint8_t *e = t + HDR_LEN + MCFG_RESERVED;

	header(t, "MCFG", MCFG_LEN, MCFG_REVISION);
	/* The base address is that of bus 0 even if the range starts later. */
	put64(e, cfg->ecam_base);
	put16(e + 8, 0); /* PCI segment group */
	e[10] = cfg->ecam_bus_start;
	e[11] = cfg->ecam_bus_end;
	seal(t, MCFG_LEN);
}

static void build_sdt(uint8_t *t, const char sig[4], const uint64_t *addr, unsigned int n,
		      unsigned int entry_len)
{
	uint32_t len = HDR_LEN + n * entry_len;

	header(t, sig, len, entry_len == 8 ? XSDT_REVISION : RSDT_REVISION);
	for (unsigned int i = 0; i < n; i++) {
		if (entry_len == 8)
			put64(t + HDR_LEN + 8 * i, addr[i]);
		else
			put32(t + HDR_LEN + 4 * i, (uint32_t)addr[i]);
	}
	seal(t, len);
}

static void build_rsdp(uint8_t *t, uint64_t rsdt, uint64_t xsdt)
{
	memcpy(t, "RSD PTR ", 8);
	memcpy(t + 9, OEM_ID, 6);
	t[15] = RSDP_REVISION;
	put32(t + 16, (uint32_t)rsdt);
	put32(t + 20, RSDP_LEN);
	put64(t + 24, xsdt);
	t[8] = checksum(t, RSDP_V1_LEN);
	t[32] = checksum(t, RSDP_LEN); /* covers t[8], which is why it goes second */
}

static int layout_all(uint8_t *buf, struct layout *l, const struct acpi_config *cfg,
		      uint64_t *rsdp_addr)
{
	uint64_t tables[3];
	unsigned int nr = 0;
	long rsdp, facs, dsdt, fadt, madt, mcfg, xsdt, rsdt;

	/* The RSDP first, so it is at the region's first 16-byte boundary. */
	rsdp = place(l, RSDP_LEN, RSDP_ALIGN);
	if (rsdp < 0)
		return (int)rsdp;
	facs = place(l, FACS_LEN, FACS_ALIGN);
	if (facs < 0)
		return (int)facs;
	build_facs(buf + facs);

	dsdt = build_dsdt(l, buf, cfg);
	if (dsdt < 0)
		return (int)dsdt;

	fadt = place(l, FADT_LEN, TABLE_ALIGN);
	if (fadt < 0)
		return (int)fadt;
	build_fadt(buf + fadt, cfg, l->base + facs, l->base + dsdt);
	tables[nr++] = l->base + fadt;

	madt = place(l, madt_len(cfg), TABLE_ALIGN);
	if (madt < 0)
		return (int)madt;
	build_madt(buf + madt, cfg);
	tables[nr++] = l->base + madt;

	if (cfg->ecam_base) {
		mcfg = place(l, MCFG_LEN, TABLE_ALIGN);
		if (mcfg < 0)
			return (int)mcfg;
		build_mcfg(buf + mcfg, cfg);
		tables[nr++] = l->base + mcfg;
	}

	xsdt = place(l, HDR_LEN + 8 * nr, TABLE_ALIGN);
	if (xsdt < 0)
		return (int)xsdt;
	build_sdt(buf + xsdt, "XSDT", tables, nr, 8);
	/* An RSDT too, for OSes that predate ACPI 2.0; all addresses fit in 32 bits. */
	rsdt = place(l, HDR_LEN + 4 * nr, TABLE_ALIGN);
	if (rsdt < 0)
		return (int)rsdt;
	build_sdt(buf + rsdt, "RSDT", tables, nr, 4);

	build_rsdp(buf + rsdp, l->base + rsdt, l->base + xsdt);
	*rsdp_addr = l->base + rsdp;
	return 0;
}

int acpi_build(struct gmem *gm, uint64_t base, uint64_t size, const struct acpi_config *cfg,
	       uint64_t *rsdp_addr)
{
	struct layout l = {.base = base, .size = (size_t)size, .cur = 0};
	uint64_t rsdp = 0;
	int ret;

	ret = validate(cfg);
	if (ret)
		return ret;
	/* The whole region inside the scan area, so the RSDP is too and every
	 * table address fits the 32-bit RSDT and FADT pointers. */
	if (!size || base < ACPI_RSDP_SCAN_START || base >= ACPI_RSDP_SCAN_END ||
	    size > ACPI_RSDP_SCAN_END - base)
		return -EINVAL;
	if (!gmem_ptr(gm, base, size))
		return -EFAULT;

	uint8_t *buf = calloc(1, (size_t)size);
	if (!buf)
		return -ENOMEM;
	ret = layout_all(buf, &l, cfg, &rsdp);
	if (!ret)
		ret = gmem_write(gm, base, buf, size);
	free(buf);
	if (ret)
		return ret;
	*rsdp_addr = rsdp;
	return 0;
}
