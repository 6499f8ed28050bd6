// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/boot/acpi.c and src/boot/aml.c.
 *
 * The tables are parsed here the way an OS finds them (scan for the RSDP,
 * follow the XSDT, the FADT's pointers), with offsets spelled out from ACPI
 * 6.4 independently of acpi.c. A second, independent parser checks them
 * too: iasl (acpica-tools) disassembles every table and must not report an
 * error; the DSDT's disassembly is then recompiled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "boot/acpi.h"
#include "boot/aml.h"
#include "hostel/gmem.h"

#define RAM_SIZE    0x100000ULL /* the first MiB, at guest address 0 */
#define REGION_BASE 0xe0000ULL
#define REGION_SIZE 0x20000ULL
#define POISON	    0xa5

/* ACPI 6.4 field offsets, spelled out here on purpose (not shared with acpi.c). */
#define FADT_FACS	 36
#define FADT_DSDT	 40
#define FADT_SCI	 46
#define FADT_SMI_CMD	 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_EVT	 56
#define FADT_PM1B_EVT	 60
#define FADT_PM1A_CNT	 64
#define FADT_PM1B_CNT	 68
#define FADT_PM2_CNT	 72
#define FADT_PM_TMR	 76
#define FADT_GPE0	 80
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN	 91
#define FADT_GPE0_LEN	 92
#define FADT_CENTURY	 108
#define FADT_BOOT_ARCH	 109
#define FADT_FLAGS	 112
#define FADT_RESET_REG	 116
#define FADT_RESET_VAL	 128
#define FADT_MINOR	 131
#define FADT_X_FACS	 132
#define FADT_X_DSDT	 140
#define FADT_X_PM1A_EVT	 148
#define FADT_X_PM1A_CNT	 172
#define FADT_X_PM_TMR	 208
#define F_WBINVD	 (1u << 0)
#define F_PWR_BUTTON	 (1u << 4)
#define F_SLP_BUTTON	 (1u << 5)
#define F_TMR_VAL_EXT	 (1u << 8)
#define F_RESET_REG_SUP	 (1u << 10)
#define F_HW_REDUCED	 (1u << 20)
#define BOOT_LEGACY	 (1u << 0)
#define BOOT_8042	 (1u << 1)
#define BOOT_NO_CMOS_RTC (1u << 5)

struct env {
	uint8_t *ram;
	struct gmem gm;
	struct acpi_config cfg;
	uint64_t rsdp;
};

static unsigned int cpus_1 = 1, cpus_2 = 2, cpus_4 = 4, cpus_64 = 64, cpus_max = ACPI_MAX_CPUS;

static void env_init(struct env *e, unsigned int nr_cpus)
{
	memset(e, 0, sizeof(*e));
	e->ram = malloc(RAM_SIZE);
	assert_non_null(e->ram);
	memset(e->ram, POISON, RAM_SIZE);
	assert_int_equal(gmem_add(&e->gm, 0, RAM_SIZE, e->ram), 0);
	acpi_config_pc_default(&e->cfg, nr_cpus);
}

static void env_build(struct env *e)
{
	assert_int_equal(acpi_build(&e->gm, REGION_BASE, REGION_SIZE, &e->cfg, &e->rsdp), 0);
}

static void env_fini(struct env *e)
{
	free(e->ram);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	return s;
}

/* Guest bytes [gpa, gpa+len), which must lie inside the ACPI region. */
static const uint8_t *at(const struct env *e, uint64_t gpa, uint64_t len)
{
	assert_true(gpa >= REGION_BASE);
	assert_true(len <= REGION_BASE + REGION_SIZE - gpa);
	return e->ram + gpa;
}

/* Check a table's header at @gpa and return its length. */
static uint32_t check_table(const struct env *e, uint64_t gpa, const char *sig, uint8_t rev)
{
	const uint8_t *h = at(e, gpa, 36);
	uint32_t len = rd32(h + 4);

	assert_memory_equal(h, sig, 4);
	assert_true(len >= 36);
	h = at(e, gpa, len);
	assert_int_equal(sum(h, len), 0);
	assert_int_equal(h[8], rev);
	assert_memory_equal(h + 10, "HOSTEL", 6);
	assert_memory_equal(h + 16, "HOSTELVM", 8);
	return len;
}

/* Like an OS without boot_params.acpi_rsdp_addr: scan 0xe0000-0xfffff. */
static uint64_t scan_rsdp(const struct env *e)
{
	for (uint64_t a = 0xe0000; a + 20 <= 0x100000; a += 16)
		if (!memcmp(e->ram + a, "RSD PTR ", 8) && sum(e->ram + a, 20) == 0)
			return a;
	return 0;
}

/* Table address of signature @sig listed in the XSDT (0 if absent); checks
 * that no signature is listed twice. */
static uint64_t xsdt_find(const struct env *e, const char *sig)
{
	uint64_t xsdt = rd64(e->ram + e->rsdp + 24);
	uint32_t len = rd32(at(e, xsdt, 36) + 4);
	uint64_t found = 0;

	for (uint32_t off = 36; off + 8 <= len; off += 8) {
		uint64_t t = rd64(e->ram + xsdt + off);
		if (!memcmp(at(e, t, 4), sig, 4)) {
			assert_int_equal(found, 0);
			found = t;
		}
	}
	return found;
}

static int contains(const uint8_t *hay, size_t n, const void *needle, size_t m)
{
	return memmem(hay, n, needle, m) != NULL;
}

static void check_rsdp(const struct env *e)
{
	const uint8_t *r = at(e, e->rsdp, 36);

	assert_int_equal(e->rsdp % 16, 0);
	assert_true(e->rsdp >= 0xe0000 && e->rsdp + 36 <= 0x100000);
	assert_int_equal(scan_rsdp(e), e->rsdp);
	assert_memory_equal(r, "RSD PTR ", 8);
	assert_int_equal(sum(r, 20), 0);
	assert_int_equal(sum(r, 36), 0);
	assert_int_equal(r[15], 2);
	assert_int_equal(rd32(r + 20), 36);
	assert_memory_equal(r + 9, "HOSTEL", 6);
}

/* XSDT and RSDT list the same tables: FADT, MADT and MCFG iff ECAM. */
static void check_root_tables(const struct env *e)
{
	const uint8_t *r = e->ram + e->rsdp;
	uint64_t xsdt = rd64(r + 24), rsdt = rd32(r + 16);
	uint32_t xlen = check_table(e, xsdt, "XSDT", 1);
	uint32_t rlen = check_table(e, rsdt, "RSDT", 1);
	unsigned int n = e->cfg.ecam_base ? 3 : 2;

	assert_int_equal(xlen, 36 + 8 * n);
	assert_int_equal(rlen, 36 + 4 * n);
	for (unsigned int i = 0; i < n; i++)
		assert_int_equal(rd64(e->ram + xsdt + 36 + 8 * i),
				 rd32(e->ram + rsdt + 36 + 4 * i));
	assert_int_not_equal(xsdt_find(e, "FACP"), 0);
	assert_int_not_equal(xsdt_find(e, "APIC"), 0);
	assert_int_equal(xsdt_find(e, "MCFG") != 0, e->cfg.ecam_base != 0);
	/* The DSDT and FACS are reached through the FADT only. */
	assert_int_equal(xsdt_find(e, "DSDT"), 0);
	assert_int_equal(xsdt_find(e, "FACS"), 0);
}

static void check_gas_io(const uint8_t *g, uint64_t port, uint8_t bits)
{
	if (!port) {
		static const uint8_t zero[12];
		assert_memory_equal(g, zero, 12);
		return;
	}
	assert_int_equal(g[0], 1); /* SystemIO */
	assert_int_equal(g[1], bits);
	assert_int_equal(g[2], 0);
	assert_in_range(g[3], 1, 4); /* a defined access size */
	assert_int_equal(rd64(g + 4), port);
}

static uint64_t check_fadt(const struct env *e)
{
	const struct acpi_config *c = &e->cfg;
	uint64_t fadt = xsdt_find(e, "FACP");
	uint32_t len = check_table(e, fadt, "FACP", 6);
	const uint8_t *f = e->ram + fadt;

	assert_int_equal(len, 276);
	assert_int_equal(f[FADT_MINOR] & 0x0f, 4);

	/* FACS: 32-bit pointer only (the spec forbids both), 64-byte aligned. */
	uint64_t facs = rd32(f + FADT_FACS);
	assert_int_equal(rd64(f + FADT_X_FACS), 0);
	assert_int_equal(facs % 64, 0);
	const uint8_t *s = at(e, facs, 64);
	assert_memory_equal(s, "FACS", 4);
	assert_int_equal(rd32(s + 4), 64);
	assert_int_equal(s[32], 2);

	/* DSDT: both pointers, the same table. */
	uint64_t dsdt = rd32(f + FADT_DSDT);
	assert_int_equal(rd64(f + FADT_X_DSDT), dsdt);
	check_table(e, dsdt, "DSDT", 2);

	assert_int_equal(rd16(f + FADT_SCI), c->sci_irq);
	assert_int_equal(rd32(f + FADT_SMI_CMD), 0);
	assert_int_equal(f[FADT_ACPI_ENABLE], 0);
	assert_int_equal(rd32(f + FADT_PM1A_EVT), c->pm1a_evt_port);
	assert_int_equal(rd32(f + FADT_PM1A_CNT), c->pm1a_cnt_port);
	assert_int_equal(rd32(f + FADT_PM_TMR), c->pm_tmr_port);
	assert_int_equal(rd32(f + FADT_PM1B_EVT), 0);
	assert_int_equal(rd32(f + FADT_PM1B_CNT), 0);
	assert_int_equal(rd32(f + FADT_PM2_CNT), 0);
	assert_int_equal(rd32(f + FADT_GPE0), 0);
	assert_int_equal(f[FADT_GPE0_LEN], 0);
	assert_int_equal(f[FADT_PM1_EVT_LEN], 4);
	assert_int_equal(f[FADT_PM1_CNT_LEN], 2);
	assert_int_equal(f[FADT_PM_TMR_LEN], c->pm_tmr_port ? 4 : 0);
	check_gas_io(f + FADT_X_PM1A_EVT, c->pm1a_evt_port, 32);
	check_gas_io(f + FADT_X_PM1A_CNT, c->pm1a_cnt_port, 16);
	check_gas_io(f + FADT_X_PM_TMR, c->pm_tmr_port, 32);

	uint32_t flags = rd32(f + FADT_FLAGS);
	assert_true(flags & F_WBINVD);
	assert_false(flags & F_PWR_BUTTON);  /* the fixed power button exists */
	assert_true(flags & F_SLP_BUTTON);   /* no fixed sleep button */
	assert_false(flags & F_TMR_VAL_EXT); /* 24-bit PM timer */
	assert_false(flags & F_HW_REDUCED);
	assert_int_equal(!!(flags & F_RESET_REG_SUP), c->reset_port != 0);
	if (c->reset_port) {
		check_gas_io(f + FADT_RESET_REG, c->reset_port, 8);
		assert_int_equal(f[FADT_RESET_REG + 3], 1); /* byte access */
		assert_int_equal(f[FADT_RESET_VAL], c->reset_value);
	}

	uint16_t boot = rd16(f + FADT_BOOT_ARCH);
	assert_true(boot & BOOT_LEGACY);
	assert_int_equal(!!(boot & BOOT_8042), c->i8042);
	assert_int_equal(!!(boot & BOOT_NO_CMOS_RTC), !c->rtc);
	assert_int_equal(f[FADT_CENTURY], c->rtc ? c->rtc_century : 0);
	return dsdt;
}

static void check_madt(const struct env *e)
{
	const struct acpi_config *c = &e->cfg;
	uint64_t madt = xsdt_find(e, "APIC");
	uint32_t len = check_table(e, madt, "APIC", 5);
	const uint8_t *m = e->ram + madt;
	unsigned char seen[256] = {0};
	unsigned int lapics = 0, ioapics = 0, nmis = 0, iso0 = 0, iso_sci = 0, isos = 0;

	assert_int_equal(rd32(m + 36), c->lapic_addr);
	assert_int_equal(rd32(m + 40) & 1, 1); /* PCAT_COMPAT */

	uint32_t off = 44;
	while (off < len) {
		const uint8_t *s = m + off;
		assert_true(off + 2 <= len);
		assert_true(s[1] >= 2 && s[1] <= len - off);
		switch (s[0]) {
		case 0: /* Processor Local APIC */
			assert_int_equal(s[1], 8);
			assert_int_equal(s[2], s[3]); /* UID = APIC ID */
			assert_true(s[3] < c->nr_cpus);
			assert_int_equal(seen[s[3]], 0);
			seen[s[3]] = 1;
			assert_int_equal(rd32(s + 4), 1); /* enabled */
			lapics++;
			break;
		case 1: /* I/O APIC */
			assert_int_equal(s[1], 12);
			assert_int_equal(s[2], c->ioapic_id);
			assert_int_equal(rd32(s + 4), c->ioapic_addr);
			assert_int_equal(rd32(s + 8), 0);
			ioapics++;
			break;
		case 2: /* Interrupt Source Override */
			assert_int_equal(s[1], 10);
			assert_int_equal(s[2], 0); /* ISA */
			isos++;
			if (s[3] == 0) {
				assert_int_equal(rd32(s + 4), 2);
				assert_int_equal(rd16(s + 8), 0); /* conforms: ISA edge, high */
				iso0++;
			} else if (s[3] == c->sci_irq) {
				assert_int_equal(rd32(s + 4), c->sci_irq);
				assert_int_equal(rd16(s + 8), 0x0d); /* level, active high */
				iso_sci++;
			}
			break;
		case 4: /* Local APIC NMI */
			assert_int_equal(s[1], 6);
			assert_int_equal(s[2], 0xff); /* all processors */
			assert_int_equal(s[5], 1);    /* LINT1 */
			nmis++;
			break;
		default:
			fail_msg("unexpected MADT entry type %u", s[0]);
		}
		off += s[1];
	}
	assert_int_equal(off, len);
	assert_int_equal(lapics, c->nr_cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(iso0, 1);
	assert_int_equal(iso_sci, 1);
	assert_int_equal(isos, 2);
	assert_int_equal(nmis, 1);
}

static void check_dsdt(const struct env *e, uint64_t dsdt)
{
	const struct acpi_config *c = &e->cfg;
	uint32_t len = rd32(e->ram + dsdt + 4);
	const uint8_t *d = e->ram + dsdt;
	/* Name (\_S5_, Package (4) {5, 0, 0, 0}): PkgLength 7, BytePrefix 5. */
	static const uint8_t s5[] = {0x08, '\\', '_',  'S',  '5',  '_',	 0x12,
				     0x07, 0x04, 0x0a, 0x05, 0x00, 0x00, 0x00};
	static const uint8_t qemu0001[] = "QEMU0001";
	char name[16];

	assert_true(contains(d, len, s5, sizeof(s5)));
	assert_int_equal(contains(d, len, "COM1", 4), c->com1);
	assert_int_equal(contains(d, len, "PS2K", 4), c->i8042);
	assert_int_equal(contains(d, len, "PS2M", 4), c->i8042 && c->ps2_mouse);
	assert_int_equal(contains(d, len, "RTC_", 4), c->rtc);
	assert_int_equal(contains(d, len, "PEVT", 4), c->pvpanic);
	assert_int_equal(contains(d, len, qemu0001, sizeof(qemu0001)), c->pvpanic);
	/* Device (PCI0) and Device (MRES): ExtOpPrefix DeviceOp PkgLength Name. */
	assert_int_equal(contains(d, len, "PCI0", 4), c->pci.enabled);
	assert_int_equal(contains(d, len, "MRES", 4), c->pci.enabled);
	assert_int_equal(contains(d, len, "_OSC", 4), c->pci.enabled);
	assert_int_equal(contains(d, len, "_PRT", 4), c->pci.enabled);
	for (unsigned int i = 0; i < c->nr_cpus; i++) {
		snprintf(name, sizeof(name), "C%03X", i & 0xfffu);
		assert_true(contains(d, len, name, 4));
	}
	snprintf(name, sizeof(name), "C%03X", c->nr_cpus & 0xfffu);
	assert_false(contains(d, len, name, 4));
}

static void check_all(struct env *e)
{
	check_rsdp(e);
	check_root_tables(e);
	uint64_t dsdt = check_fadt(e);
	check_dsdt(e, dsdt);
	check_madt(e);
}

static void test_tables(void **state)
{
	struct env e;

	env_init(&e, *(unsigned int *)*state);
	env_build(&e);
	check_all(&e);
	/* The region is fully rewritten, and nothing outside it is touched. */
	for (uint64_t a = 0; a < REGION_BASE; a++)
		assert_int_equal(e.ram[a], POISON);
	assert_int_equal(e.rsdp, REGION_BASE); /* already 16-byte aligned */
	for (uint64_t a = REGION_BASE + REGION_SIZE - 256; a < REGION_BASE + REGION_SIZE; a++)
		assert_int_equal(e.ram[a], 0);
	env_fini(&e);
}

static void test_mcfg(void **state)
{
	struct env e;

	env_init(&e, 2);
	e.cfg.ecam_base = 0xb0000000;
	e.cfg.ecam_bus_start = 0;
	e.cfg.ecam_bus_end = 255;
	env_build(&e);
	check_all(&e);

	uint64_t mcfg = xsdt_find(&e, "MCFG");
	assert_int_equal(check_table(&e, mcfg, "MCFG", 1), 60);
	const uint8_t *m = e.ram + mcfg;
	assert_int_equal(rd64(m + 44), 0xb0000000);
	assert_int_equal(rd16(m + 52), 0);
	assert_int_equal(m[54], 0);
	assert_int_equal(m[55], 255);
	env_fini(&e);
}

/* What the board sets for hostel's PC: ECAM for bus 0 at 0xe0000000, BARs
 * in 0xc0000000-0xdfffffff and ports 0xc000-0xffff. */
static void pci_board_config(struct acpi_config *c)
{
	c->pci.enabled = true;
	c->pci.mmio32_base = 0xc0000000;
	c->pci.mmio32_size = 0x20000000;
	c->pci.io_base = 0xc000;
	c->pci.io_size = 0x4000;
	c->ecam_base = 0xe0000000;
	c->ecam_bus_start = 0;
	c->ecam_bus_end = 0;
}

static void test_pci_defaults(void **state)
{
	struct acpi_config a, b;

	/* Off by default, and switching it on is the ECAM base plus the flag. */
	acpi_config_pc_default(&a, 1);
	assert_false(a.pci.enabled);
	assert_int_equal(a.ecam_base, 0);
	acpi_config_pc_default(&b, 1);
	pci_board_config(&b);
	a.pci.enabled = true;
	a.ecam_base = ACPI_PCI_ECAM_BASE_DEFAULT;
	assert_memory_equal(&a.pci, &b.pci, sizeof(a.pci));
	assert_int_equal(a.ecam_base, b.ecam_base);
	assert_int_equal(a.ecam_bus_start, 0);
	assert_int_equal(a.ecam_bus_end, 0);
	assert_int_equal(a.pci.mmio64_size, 0);

	/* The _PRT's swizzle: INTA# of slot 0 is GSI 16, each slot shifts by one. */
	assert_int_equal(acpi_pci_intx_gsi(0, 1), 16);
	assert_int_equal(acpi_pci_intx_gsi(0, 4), 19);
	assert_int_equal(acpi_pci_intx_gsi(1, 1), 17);
	assert_int_equal(acpi_pci_intx_gsi(3, 2), 16);
	assert_int_equal(acpi_pci_intx_gsi(31, 4), 18);
}

/* The MCFG as PCI Firmware 3.x, 4.1.2 lays it out and Linux reads it:
 * 8 reserved bytes, then {base, segment, start bus, end bus, 4 reserved}. */
static void check_mcfg_entry(const struct env *e, uint64_t base, uint8_t start, uint8_t end)
{
	static const uint8_t zero[8];
	uint64_t mcfg = xsdt_find(e, "MCFG");
	const uint8_t *m = e->ram + mcfg;

	assert_int_equal(check_table(e, mcfg, "MCFG", 1), 36 + 8 + 16);
	assert_memory_equal(m + 36, zero, 8);
	assert_int_equal(rd64(m + 44), base);
	assert_int_equal(rd16(m + 52), 0);
	assert_int_equal(m[54], start);
	assert_int_equal(m[55], end);
	assert_memory_equal(m + 56, zero, 4);
}

/* The whole _CRS of \_SB.PCI0 for the board's layout, encoded by hand from
 * ACPI 6.4, 6.4.3.5 (address space descriptors) and 6.4.2.5 (I/O port). */
static const uint8_t board_pci_crs[] = {
	/* WordBusNumber: tag, length 13, type 2 (bus), flags MIF|MAF (producer,
	 * positive decode), no type flags, gran 0, min 0, max 0, tra 0, len 1. */
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00,
	/* IO (Decode16, 0xcf8, 0xcf8, 1, 8) */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
	/* WordIO 0x0000-0x0cf7: type 1 (I/O), _RNG 3 (entire range), len 0xcf8. */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x00, 0xf7, 0x0c, 0x00, 0x00, 0xf8,
	0x0c,
	/* WordIO 0xc000-0xffff, len 0x4000. */
	0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0x00, 0x00, 0x00,
	0x40,
	/* DWordMemory: tag, length 23, type 0 (memory), MIF|MAF, _RW (non-cacheable),
	 * gran 0, min 0xc0000000, max 0xdfffffff, tra 0, len 0x20000000. */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xff,
	0xff, 0xff, 0xdf, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
	/* End Tag */
	0x79, 0x00};

/* Memory32Fixed (ReadWrite, 0xe0000000, 0x100000) then the End Tag (6.4.3.4). */
static const uint8_t board_mres_crs[] = {0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00,
					 0xe0, 0x00, 0x00, 0x10, 0x00, 0x79, 0x00};

/* ToUUID ("33db4d5b-1ff7-401c-9657-7441c03dd766"), the PCI host bridge's _OSC UUID. */
static const uint8_t pci_osc_uuid[] = {0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f, 0x1c, 0x40,
				       0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66};

static void test_pci_tables(void **state)
{
	struct env e;

	env_init(&e, *(unsigned int *)*state);
	pci_board_config(&e.cfg);
	env_build(&e);
	check_all(&e);
	check_mcfg_entry(&e, 0xe0000000, 0, 0);

	uint64_t dsdt = rd32(e.ram + xsdt_find(&e, "FACP") + FADT_DSDT);
	const uint8_t *d = e.ram + dsdt;
	uint32_t len = rd32(d + 4);
	assert_true(contains(d, len, board_pci_crs, sizeof(board_pci_crs)));
	assert_true(contains(d, len, board_mres_crs, sizeof(board_mres_crs)));
	assert_true(contains(d, len, pci_osc_uuid, sizeof(pci_osc_uuid)));
	/* EisaId ("PNP0A08"), ("PNP0A03"), ("PNP0C02") as DWord integers. */
	assert_true(contains(d, len, "\x0c\x41\xd0\x0a\x08", 5));
	assert_true(contains(d, len, "\x0c\x41\xd0\x0a\x03", 5));
	assert_true(contains(d, len, "\x0c\x41\xd0\x0c\x02", 5));
	/* No QWordMemory without a 64-bit window. */
	assert_false(contains(d, len, "\x8a\x2b\x00\x00\x0c", 5));
	env_fini(&e);
}

static void test_pci_mmio64(void **state)
{
	/* QWordMemory 0x800000000-0x8ffffffff: tag, length 43, memory, MIF|MAF,
	 * _RW; gran 0, min, max, tra 0, len 0x100000000 (8 bytes each). */
	static const uint8_t qword[] = {
		0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01,		/* header and flags */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* granularity */
		0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, /* minimum */
		0xff, 0xff, 0xff, 0xff, 0x08, 0x00, 0x00, 0x00, /* maximum */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* translation */
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* length */
	};
	struct env e;

	env_init(&e, 2);
	pci_board_config(&e.cfg);
	e.cfg.pci.mmio64_base = 0x800000000ULL;
	e.cfg.pci.mmio64_size = 0x100000000ULL;
	/* No I/O BAR window: only the legacy WordIO remains. */
	e.cfg.pci.io_size = 0;
	env_build(&e);
	check_all(&e);

	uint64_t dsdt = rd32(e.ram + xsdt_find(&e, "FACP") + FADT_DSDT);
	const uint8_t *d = e.ram + dsdt;
	uint32_t len = rd32(d + 4);
	assert_true(contains(d, len, qword, sizeof(qword)));
	assert_false(contains(d, len, board_pci_crs, sizeof(board_pci_crs)));
	/* The legacy WordIO is still there, the 0xc000 one is not. */
	assert_true(contains(d, len, board_pci_crs + 24, 16));
	assert_false(contains(d, len, board_pci_crs + 40, 16));
	env_fini(&e);
}

static void test_reset_reg(void **state)
{
	struct env e;

	env_init(&e, 4);
	e.cfg.reset_port = 0xcf9;
	e.cfg.reset_value = 0x06;
	env_build(&e);
	check_all(&e);
	env_fini(&e);
}

static void test_minimal_board(void **state)
{
	struct env e;

	env_init(&e, 1);
	e.cfg.com1 = e.cfg.i8042 = e.cfg.rtc = e.cfg.pvpanic = false;
	e.cfg.pm_tmr_port = 0;
	/* IRQ 4 is free without COM1. */
	e.cfg.sci_irq = 4;
	env_build(&e);
	check_all(&e);
	env_fini(&e);
}

/* A keyboard without a mouse node: a headless board's i8042. */
static void test_no_ps2_mouse(void **state)
{
	struct env e;

	env_init(&e, 1);
	e.cfg.ps2_mouse = false;
	env_build(&e);
	check_all(&e);
	env_fini(&e);
}

static void test_unaligned_base(void **state)
{
	struct env e;

	env_init(&e, 2);
	assert_int_equal(acpi_build(&e.gm, 0xe0004, 0x1000, &e.cfg, &e.rsdp), 0);
	assert_int_equal(e.rsdp, 0xe0010);
	check_rsdp(&e);
	check_fadt(&e);
	/* Bytes before the aligned RSDP are zeroed: the region is ours. */
	for (uint64_t a = 0xe0004; a < 0xe0010; a++)
		assert_int_equal(e.ram[a], 0);
	assert_int_equal(e.ram[0xe0003], POISON);
	assert_int_equal(e.ram[0xe1004], POISON);
	env_fini(&e);
}

/* Every failure leaves guest memory untouched. */
static void expect_fail(struct env *e, uint64_t base, uint64_t size, int err)
{
	uint64_t rsdp = 0x1234;

	assert_int_equal(acpi_build(&e->gm, base, size, &e->cfg, &rsdp), err);
	assert_int_equal(rsdp, 0x1234);
	for (uint64_t a = 0; a < RAM_SIZE; a++)
		if (e->ram[a] != POISON)
			fail_msg("byte at %#lx written by a failed build", (unsigned long)a);
}

static void test_bad_config(void **state)
{
	struct env e;
	struct acpi_config good;

	env_init(&e, 4);
	good = e.cfg;

#define BAD(stmt)                                                                                  \
	do {                                                                                       \
		e.cfg = good;                                                                      \
		stmt;                                                                              \
		expect_fail(&e, REGION_BASE, REGION_SIZE, -EINVAL);                                \
	} while (0)

	BAD(e.cfg.nr_cpus = 0);
	BAD(e.cfg.nr_cpus = ACPI_MAX_CPUS + 1);
	BAD(e.cfg.sci_irq = 0);
	BAD(e.cfg.sci_irq = 2);
	BAD(e.cfg.sci_irq = 16);
	BAD(e.cfg.sci_irq = 4);	 /* COM1's */
	BAD(e.cfg.sci_irq = 1);	 /* the keyboard's */
	BAD(e.cfg.sci_irq = 12); /* the mouse's */
	BAD(e.cfg.sci_irq = 8);	 /* the RTC's */
	BAD(e.cfg.pm1a_evt_port = 0);
	BAD(e.cfg.pm1a_cnt_port = 0);
	BAD(e.cfg.pm1a_evt_port = 0xfffd); /* 4 bytes would pass 0xffff */
	BAD(e.cfg.pm1a_cnt_port = 0xffff);
	BAD(e.cfg.pm_tmr_port = 0xfffe);
	BAD(e.cfg.ioapic_gsi_base = 24);
	BAD(e.cfg.lapic_addr = 0);
	BAD(e.cfg.ioapic_addr = 0);
	BAD(e.cfg.ecam_base = 0xb0001000); /* not bus-aligned */
	BAD({
		e.cfg.ecam_base = 0xb0000000;
		e.cfg.ecam_bus_start = 5;
		e.cfg.ecam_bus_end = 4;
	});
	BAD({
		e.cfg.ecam_base = 0xfffffffffff00000ULL; /* 256 buses wrap */
		e.cfg.ecam_bus_end = 255;
	});

	/* The PCI host bridge (see struct acpi_pci_host). */
	pci_board_config(&good);
	e.cfg = good;
	env_build(&e); /* the baseline is fine */
	memset(e.ram, POISON, RAM_SIZE);
	BAD(e.cfg.ecam_base = 0);			    /* PCI without MCFG */
	BAD(e.cfg.ecam_bus_start = e.cfg.ecam_bus_end = 1); /* _BBN must be 0 */
	BAD(e.cfg.ecam_base = 0x100000000ULL);		    /* Linux ignores MCFG above 4 GiB */
	BAD({
		e.cfg.ecam_base = 0xfff00000; /* 2 buses pass 4 GiB */
		e.cfg.ecam_bus_end = 1;
	});
	BAD(e.cfg.pci.mmio32_size = 0);
	BAD(e.cfg.pci.mmio32_base = 0x100000000ULL);
	BAD(e.cfg.pci.mmio32_size = 0x40000001); /* passes 4 GiB */
	BAD(e.cfg.pci.mmio32_size = 0x20100000); /* onto ECAM */
	BAD(e.cfg.pci.mmio32_base = 0xdff00000); /* onto ECAM */
	BAD({
		e.cfg.pci.mmio32_base = 0xfe000000; /* the I/O APIC's page */
		e.cfg.pci.mmio32_size = 0x00c01000;
	});
	BAD({
		e.cfg.pci.mmio32_base = 0xfee00fff; /* the LAPIC's page */
		e.cfg.pci.mmio32_size = 0x1000;
	});
	BAD({
		e.cfg.pci.mmio64_base = 0xf0000000; /* not above 4 GiB */
		e.cfg.pci.mmio64_size = 0x20000000;
	});
	BAD({
		e.cfg.pci.mmio64_base = 0xfffffffff0000000ULL; /* wraps */
		e.cfg.pci.mmio64_size = 0x10000001;
	});
	BAD(e.cfg.pci.io_base = 0xcfc);	  /* mechanism #1 */
	BAD(e.cfg.pci.io_base = 0x800);	  /* the legacy window */
	BAD(e.cfg.pci.io_base = 0x10000); /* past 64 KiB */
	BAD(e.cfg.pci.io_size = 0x4001);  /* past 64 KiB */
	BAD(e.cfg.reset_port = 0xc000);	  /* a board port inside the BAR window */
	BAD(e.cfg.pm1a_evt_port = 0xbffe);
	BAD(e.cfg.pm1a_cnt_port = 0xfffe);
	BAD(e.cfg.pm_tmr_port = 0xe000);
	BAD(e.cfg.pvpanic_port = 0xc123);
	/* Edges that are fine: a window right after 0xcff, one ending at 4 GiB,
	 * a 64-bit window ending at 2^64, no I/O window, pvpanic off. */
	struct acpi_config ok[5];
	for (int i = 0; i < 5; i++)
		ok[i] = good;
	ok[0].pci.io_base = 0xd00;
	ok[0].pci.io_size = 0x10000 - 0xd00;
	ok[1].pci.mmio32_base = 0xf0000000;
	ok[1].pci.mmio32_size = 0x0ec00000; /* up to the I/O APIC */
	ok[1].ioapic_addr = 0xfec00000;
	ok[2].pci.mmio64_base = 0xffffffff00000000ULL;
	ok[2].pci.mmio64_size = 0x100000000ULL;
	ok[3].pci.io_size = 0;
	ok[3].reset_port = 0xc000;
	ok[4].pvpanic = false;
	ok[4].pvpanic_port = 0xc123;
	for (int i = 0; i < 5; i++) {
		e.cfg = ok[i];
		if (acpi_build(&e.gm, REGION_BASE, REGION_SIZE, &e.cfg, &e.rsdp) != 0)
			fail_msg("good PCI config %d rejected", i);
	}
	memset(e.ram, POISON, RAM_SIZE);
#undef BAD
	e.cfg = good;
	assert_int_equal(acpi_build(&e.gm, REGION_BASE, REGION_SIZE, NULL, &e.rsdp), -EINVAL);
	env_fini(&e);
}

static void test_bad_region(void **state)
{
	struct env e;

	env_init(&e, 4);
	expect_fail(&e, REGION_BASE, 0, -EINVAL);
	expect_fail(&e, 0xdfff0, 0x1000, -EINVAL);     /* starts below the scan area */
	expect_fail(&e, 0xff000, 0x1010, -EINVAL);     /* ends past 1 MiB */
	expect_fail(&e, 0x100000, 0x1000, -EINVAL);    /* above the scan area */
	expect_fail(&e, 0xe0000, UINT64_MAX, -EINVAL); /* wraps */
	expect_fail(&e, 0xfffff, 1, -ENOSPC);	       /* no room for an RSDP */
	expect_fail(&e, REGION_BASE, 64, -ENOSPC);
	env_fini(&e);

	/* A region the guest has no RAM behind. */
	struct gmem gm = {0};
	uint8_t *low = calloc(1, 0xe0000);
	uint64_t rsdp = 0;
	assert_non_null(low);
	assert_int_equal(gmem_add(&gm, 0, 0xe0000, low), 0);
	struct acpi_config cfg;
	acpi_config_pc_default(&cfg, 1);
	assert_int_equal(acpi_build(&gm, REGION_BASE, REGION_SIZE, &cfg, &rsdp), -EFAULT);
	free(low);
}

/* Every size below the smallest that fits fails with -ENOSPC; that one works. */
static void test_exact_fit(void **state)
{
	struct env e;
	unsigned int n = *(unsigned int *)*state;
	uint64_t need = 0;

	env_init(&e, n);
	e.cfg.ecam_base = 0xe0000000;
	e.cfg.ecam_bus_end = 15;
	e.cfg.reset_port = 0xcf9;
	env_build(&e);
	/* The last table is the RSDT; its end is what the region needs. */
	uint64_t rsdt = rd32(e.ram + e.rsdp + 16);
	need = rsdt + rd32(e.ram + rsdt + 4) - REGION_BASE;
	assert_true(need < REGION_SIZE);
	env_fini(&e);

	env_init(&e, n);
	e.cfg.ecam_base = 0xe0000000;
	e.cfg.ecam_bus_end = 15;
	e.cfg.reset_port = 0xcf9;
	/* Below need, step so the test stays fast even for 255 vCPUs. */
	for (uint64_t s = 1; s < need; s += (need - s > 64 ? 61 : 1))
		expect_fail(&e, REGION_BASE, s, -ENOSPC);
	assert_int_equal(acpi_build(&e.gm, REGION_BASE, need, &e.cfg, &e.rsdp), 0);
	check_all(&e);
	assert_int_equal(e.ram[REGION_BASE + need], POISON);
	env_fini(&e);
}

/* ---- AML emitter ---- */

/* An independent PkgLength decoder (ACPI 6.4, 20.2.4). */
static size_t pkglen_decode(const uint8_t *p, size_t *nbytes)
{
	size_t follow = p[0] >> 6;
	size_t v;

	if (!follow) {
		*nbytes = 1;
		return p[0] & 0x3f;
	}
	assert_int_equal(p[0] & 0x30, 0); /* bits 5:4 reserved when bytes follow */
	v = p[0] & 0x0f;
	for (size_t i = 0; i < follow; i++)
		v |= (size_t)p[1 + i] << (4 + 8 * i);
	*nbytes = 1 + follow;
	return v;
}

static void test_aml_pkglen(void **state)
{
	static uint8_t buf[1 << 21];
	static const size_t sizes[] = {
		0,	 1,	  58,	   59,	    60,	     61,      62,      63,     64,
		4089,	 4090,	  4091,	   4092,    4093,    4094,    4095,    4096,   100000,
		1048570, 1048571, 1048572, 1048573, 1048574, 1048575, 1048576, 2000000};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct aml a;
		size_t n = sizes[i], nb, ib = 0;
		aml_init(&a, buf, sizeof(buf));
		aml_buffer_begin(&a);
		for (size_t k = 0; k < n; k++)
			aml_raw(&a, "x", 1);
		aml_end(&a);
		long len = aml_finish(&a);
		assert_true(len > 0);
		assert_int_equal(buf[0], 0x11); /* BufferOp */
		size_t pl = pkglen_decode(buf + 1, &nb);
		/* PkgLength covers itself through the end of the object. */
		assert_int_equal(pl, (size_t)len - 1);
		/* Then BufferSize as an integer. */
		const uint8_t *bs = buf + 1 + nb;
		uint64_t size = 0;
		switch (bs[0]) {
		case 0x00:
			size = 0, ib = 1;
			break;
		case 0x01:
			size = 1, ib = 1;
			break;
		case 0x0a:
			size = bs[1], ib = 2;
			break;
		case 0x0b:
			size = rd16(bs + 1), ib = 3;
			break;
		case 0x0c:
			size = rd32(bs + 1), ib = 5;
			break;
		default:
			fail_msg("bad BufferSize prefix %#x", bs[0]);
		}
		assert_int_equal(size, n);
		assert_int_equal(1 + nb + ib + n, (size_t)len);
		assert_int_equal(buf[len - 1], n ? 'x' : buf[len - 1]);
		/* Shortest encoding: one byte fewer would not have held it. */
		if (nb == 2)
			assert_true(pl > 63);
		if (nb == 3)
			assert_true(pl > 0xfff);
		if (nb == 4)
			assert_true(pl > 0xfffff);
	}
}

static long emit_name(const char *path, uint8_t *out, size_t cap)
{
	struct aml a;
	aml_init(&a, out, cap);
	aml_namestring(&a, path);
	return aml_finish(&a);
}

static void test_aml_names(void **state)
{
	uint8_t b[64];

	assert_int_equal(emit_name("RTC", b, sizeof(b)), 4);
	assert_memory_equal(b, "RTC_", 4);
	assert_int_equal(emit_name("\\_SB_", b, sizeof(b)), 5);
	assert_memory_equal(b, "\\_SB_", 5);
	assert_int_equal(emit_name("\\_SB.COM1", b, sizeof(b)), 10);
	assert_memory_equal(b, "\\\x2e_SB_COM1", 10);
	assert_int_equal(emit_name("\\_SB.PCI0.ISA", b, sizeof(b)), 15);
	assert_memory_equal(b, "\\\x2f\x03_SB_PCI0ISA_", 15);
	assert_int_equal(emit_name("^^C1", b, sizeof(b)), 6);
	assert_memory_equal(b, "^^C1__", 6);
	assert_int_equal(emit_name("\\", b, sizeof(b)), 2);
	assert_memory_equal(b, "\\\0", 2);
	assert_int_equal(emit_name("^", b, sizeof(b)), 2); /* the parent scope */
	assert_memory_equal(b, "^\0", 2);

	const char *bad[] = {"",     "1ABC", "ABCDE",  "abc", "A.",  ".A",    "A..B",	   "\\^A",
			     "^\\A", "A-B",  "\\_SB.", "^.A", "A B", "\\\\A", "_SB_.COM10"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (emit_name(bad[i], b, sizeof(b)) != -EINVAL)
			fail_msg("name \"%s\" accepted", bad[i]);
	assert_int_equal(emit_name("\\_SB.COM1", b, 9), -ENOSPC);
}

static void test_aml_integers(void **state)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t bytes[9];
	} cases[] = {
		{0, 1, {0x00}},
		{1, 1, {0x01}},
		{2, 2, {0x0a, 2}},
		{0xff, 2, {0x0a, 0xff}},
		{0x100, 3, {0x0b, 0x00, 0x01}},
		{0xffff, 3, {0x0b, 0xff, 0xff}},
		{0x10000, 5, {0x0c, 0x00, 0x00, 0x01, 0x00}},
		{0xfee00000, 5, {0x0c, 0x00, 0x00, 0xe0, 0xfe}},
		{0x100000000ULL, 9, {0x0e, 0, 0, 0, 0, 1, 0, 0, 0}},
		{UINT64_MAX, 9, {0x0e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	};
	uint8_t b[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aml a;
		aml_init(&a, b, sizeof(b));
		aml_integer(&a, cases[i].v);
		assert_int_equal(aml_finish(&a), cases[i].n);
		assert_memory_equal(b, cases[i].bytes, cases[i].n);
	}
}

static void test_aml_eisaid(void **state)
{
	/* Values as they appear in real firmware for these well-known IDs. */
	assert_int_equal(aml_eisaid_value("PNP0501"), 0x0105d041);
	assert_int_equal(aml_eisaid_value("PNP0303"), 0x0303d041);
	assert_int_equal(aml_eisaid_value("PNP0F13"), 0x130fd041);
	assert_int_equal(aml_eisaid_value("PNP0B00"), 0x000bd041);
	assert_int_equal(aml_eisaid_value("PNP0A03"), 0x030ad041);
	assert_int_equal(aml_eisaid_value("PNP050"), 0);
	assert_int_equal(aml_eisaid_value("PNP05011"), 0);
	assert_int_equal(aml_eisaid_value("pNP0501"), 0);
	assert_int_equal(aml_eisaid_value("PNP0g01"), 0);
	assert_int_equal(aml_eisaid_value("P1P0501"), 0);

	uint8_t b[8];
	struct aml a;
	aml_init(&a, b, sizeof(b));
	aml_eisaid(&a, "PNP0501");
	assert_int_equal(aml_finish(&a), 5);
	assert_memory_equal(b, "\x0c\x41\xd0\x05\x01", 5);
	aml_init(&a, b, sizeof(b));
	aml_eisaid(&a, "bad");
	assert_int_equal(aml_finish(&a), -EINVAL);
}

static void test_aml_device(void **state)
{
	/* Device (COM1) { Name (_HID, EisaId ("PNP0501"))
	 *                 Name (_CRS, ResourceTemplate () { IO (Decode16, 0x3F8, 0x3F8, 1, 8)
	 *                                                  IRQNoFlags () {4} }) } */
	static const uint8_t want[] = {0x5b, 0x82, 0x25, 'C',  'O',  'M',  '1',	 0x08, '_',  'H',
				       'I',  'D',  0x0c, 0x41, 0xd0, 0x05, 0x01, 0x08, '_',  'C',
				       'R',  'S',  0x11, 0x10, 0x0a, 0x0d, 0x47, 0x01, 0xf8, 0x03,
				       0xf8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00};
	uint8_t b[128];
	struct aml a;

	aml_init(&a, b, sizeof(b));
	aml_device_begin(&a, "COM1");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0501");
	aml_name(&a, "_CRS");
	aml_resource_begin(&a);
	aml_res_io(&a, 0x3f8, 8);
	aml_res_irq(&a, 4);
	aml_resource_end(&a);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));

	/* Method (_STA, 0, NotSerialized) { Return (0x0F) } */
	static const uint8_t sta[] = {0x14, 0x09, '_', 'S', 'T', 'A', 0x00, 0xa4, 0x0a, 0x0f};
	aml_init(&a, b, sizeof(b));
	aml_method_begin(&a, "_STA", 0, 0);
	aml_return(&a);
	aml_integer(&a, 0x0f);
	aml_end(&a);
	assert_int_equal(aml_finish(&a), sizeof(sta));
	assert_memory_equal(b, sta, sizeof(sta));
}

/* Emit with @fn into a fresh buffer; returns the length or the error. */
static long emit(void (*fn)(struct aml *), uint8_t *out, size_t cap)
{
	struct aml a;
	aml_init(&a, out, cap);
	fn(&a);
	return aml_finish(&a);
}

static void emit_windows(struct aml *a)
{
	aml_res_word_bus_number(a, 0, 0xff);
	aml_res_word_io(a, 0x1000, 0x1fff);
	aml_res_dword_memory(a, 0xfe000000, 0xfebfffff);
	aml_res_qword_memory(a, 0x8000000000ULL, 0xffffffffffULL);
	aml_res_memory32_fixed(a, 0xb0000000, 0x10000000);
}

static void test_aml_resources(void **state)
{
	/* ACPI 6.4, 6.4.3.5.3 / .2 / .1 and 6.4.3.4, little-endian fields. */
	static const uint8_t want[] = {
		/* WordBusNumber (Producer, MinFixed, MaxFixed, PosDecode, 0, 0, 0xff, 0, 0x100) */
		0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00,
		0x00, 0x01,
		/* WordIO (..., EntireRange, 0, 0x1000, 0x1fff, 0, 0x1000) */
		0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00, 0x00, 0x10, 0xff, 0x1f, 0x00, 0x00,
		0x00, 0x10,
		/* DWordMemory (..., NonCacheable, ReadWrite, 0, 0xfe000000, 0xfebfffff, 0, 0xc00000) */
		0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe,
		0xff, 0xff, 0xbf, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00,
		/* QWordMemory (..., 0, 0x80_0000_0000, 0xff_ffff_ffff, 0, 0x80_0000_0000) */
		0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x80, 0x00, 0x00, 0x00,
		/* Memory32Fixed (ReadWrite, 0xb0000000, 0x10000000) */
		0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0xb0, 0x00, 0x00, 0x00, 0x10};
	uint8_t b[256];

	assert_int_equal(emit(emit_windows, b, sizeof(b)), sizeof(want));
	assert_memory_equal(b, want, sizeof(want));
	/* Every cut runs out of room cleanly. */
	for (size_t cap = 0; cap < sizeof(want); cap++) {
		memset(b, 0xee, sizeof(b));
		assert_int_equal(emit(emit_windows, b, cap), -ENOSPC);
		assert_int_equal(b[cap], 0xee);
	}

	/* Single-value windows have length 1; the widest that fits work. */
	struct aml a;
	aml_init(&a, b, sizeof(b));
	aml_res_word_io(&a, 0x0cf7, 0x0cf7);
	aml_res_word_io(&a, 1, 0xffff); /* length 0xffff */
	aml_res_dword_memory(&a, 0, 0xfffffffe);
	aml_res_qword_memory(&a, 1, UINT64_MAX);
	aml_res_memory32_fixed(&a, 0xfffff000, 0x1000);
	assert_int_equal(aml_finish(&a), 16 + 16 + 26 + 46 + 12);
	assert_int_equal(rd16(b + 14), 1);
	assert_int_equal(rd16(b + 16 + 14), 0xffff);
	assert_int_equal(rd32(b + 32 + 22), 0xffffffff);
	assert_int_equal(rd64(b + 58 + 38), UINT64_MAX);

	/* Lengths the field cannot hold, inverted ranges, empty fixed ranges. */
	static const struct {
		int kind;
		uint64_t x, y;
	} bad[] = {
		{0, 0, 0xffff},		 {0, 2, 1},	     {1, 0, 0xffff},
		{1, 0x100, 0xff},	 {2, 0, 0xffffffff}, {2, 0x2000, 0x1fff},
		{3, 0, UINT64_MAX},	 {3, 5, 4},	     {4, 0x1000, 0},
		{4, 0xfffff000, 0x1001}, {4, 0xffffffff, 2},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, b, sizeof(b));
		switch (bad[i].kind) {
		case 0:
			aml_res_word_bus_number(&a, (uint16_t)bad[i].x, (uint16_t)bad[i].y);
			break;
		case 1:
			aml_res_word_io(&a, (uint16_t)bad[i].x, (uint16_t)bad[i].y);
			break;
		case 2:
			aml_res_dword_memory(&a, (uint32_t)bad[i].x, (uint32_t)bad[i].y);
			break;
		case 3:
			aml_res_qword_memory(&a, bad[i].x, bad[i].y);
			break;
		default:
			aml_res_memory32_fixed(&a, (uint32_t)bad[i].x, (uint32_t)bad[i].y);
		}
		if (aml_finish(&a) != -EINVAL)
			fail_msg("bad descriptor %zu accepted", i);
		assert_int_equal(a.len, 0);
	}
}

static void emit_if_else(struct aml *a)
{
	/* If (LEqual (Arg0, 1)) { Return (Local0) } Else { Store (Arg1, Local2) } */
	aml_if_begin(a);
	aml_lequal(a);
	aml_arg(a, 0);
	aml_integer(a, 1);
	aml_return(a);
	aml_local(a, 0);
	aml_end(a);
	aml_else_begin(a);
	aml_store(a);
	aml_arg(a, 1);
	aml_local(a, 2);
	aml_end(a);
}

static void emit_fields(struct aml *a)
{
	/* CreateDWordField (Arg3, 8, CDW3)  And (CDW3, 0xbf, Local7)
	 * Or (CDW1, 0x10, CDW1)  LNot (Arg6) */
	aml_create_dword_field(a);
	aml_arg(a, 3);
	aml_integer(a, 8);
	aml_namestring(a, "CDW3");
	aml_and(a);
	aml_namestring(a, "CDW3");
	aml_integer(a, 0xbf);
	aml_local(a, 7);
	aml_or(a);
	aml_namestring(a, "CDW1");
	aml_integer(a, 0x10);
	aml_namestring(a, "CDW1");
	aml_lnot(a);
	aml_arg(a, 6);
}

static void emit_uuid(struct aml *a)
{
	aml_uuid(a, "33DB4D5B-1FF7-401C-9657-7441C03DD766");
}

static void test_aml_methods(void **state)
{
	/* ACPI 6.4, 20.3: IfOp 0xa0, ElseOp 0xa1, LEqualOp 0x93, Arg0 0x68,
	 * ReturnOp 0xa4, Local0 0x60, StoreOp 0x70; PkgLength counts itself. */
	static const uint8_t if_else[] = {0xa0, 0x06, 0x93, 0x68, 0x01, 0xa4,
					  0x60, 0xa1, 0x04, 0x70, 0x69, 0x62};
	/* CreateDWordFieldOp 0x8a, AndOp 0x7b, OrOp 0x7d, LNotOp 0x92, Local7 0x67, Arg6 0x6e. */
	static const uint8_t fields[] = {0x8a, 0x6b, 0x0a, 0x08, 'C',  'D',  'W',  '3',	 0x7b, 'C',
					 'D',  'W',  '3',  0x0a, 0xbf, 0x67, 0x7d, 'C',	 'D',  'W',
					 '1',  0x0a, 0x10, 'C',	 'D',  'W',  '1',  0x92, 0x6e};
	/* BufferOp, PkgLength 19, BufferSize 16, then the ToUUID byte order. */
	static const uint8_t uuid[] = {0x11, 0x13, 0x0a, 0x10, 0x5b, 0x4d, 0xdb, 0x33, 0xf7, 0x1f,
				       0x1c, 0x40, 0x96, 0x57, 0x74, 0x41, 0xc0, 0x3d, 0xd7, 0x66};
	uint8_t b[64];
	struct aml a;

	assert_int_equal(emit(emit_if_else, b, sizeof(b)), sizeof(if_else));
	assert_memory_equal(b, if_else, sizeof(if_else));
	assert_int_equal(emit(emit_fields, b, sizeof(b)), sizeof(fields));
	assert_memory_equal(b, fields, sizeof(fields));
	assert_int_equal(emit(emit_uuid, b, sizeof(b)), sizeof(uuid));
	assert_memory_equal(b, uuid, sizeof(uuid));
	/* Lower case is the same UUID. */
	aml_init(&a, b + 32, 32);
	aml_uuid(&a, "33db4d5b-1ff7-401c-9657-7441c03dd766");
	assert_int_equal(aml_finish(&a), sizeof(uuid));
	assert_memory_equal(b + 32, uuid, sizeof(uuid));

	const char *bad_uuid[] = {
		"",
		"33db4d5b-1ff7-401c-9657-7441c03dd76",	 /* short */
		"33db4d5b-1ff7-401c-9657-7441c03dd7660", /* long */
		"33db4d5b1-ff7-401c-9657-7441c03dd766",	 /* dash misplaced */
		"33db4d5b-1ff7-401c-9657x7441c03dd766",	 /* not a dash */
		"33db4d5g-1ff7-401c-9657-7441c03dd766",	 /* not hex */
		"33db4d5b-1ff7-401c-96-7-7441c03dd766",	 /* dash in a field */
	};
	for (size_t i = 0; i < sizeof(bad_uuid) / sizeof(bad_uuid[0]); i++) {
		aml_init(&a, b, sizeof(b));
		aml_uuid(&a, bad_uuid[i]);
		if (aml_finish(&a) != -EINVAL)
			fail_msg("UUID \"%s\" accepted", bad_uuid[i]);
	}

	/* Else only right after an If. */
	aml_init(&a, b, sizeof(b));
	aml_else_begin(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_if_begin(&a);
	aml_integer(&a, 1);
	aml_end(&a);
	aml_integer(&a, 2); /* something between */
	aml_else_begin(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_scope_begin(&a, "X");
	aml_end(&a);
	aml_else_begin(&a); /* after a Scope */
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_if_begin(&a);
	aml_integer(&a, 1);
	aml_else_begin(&a); /* inside the If */
	assert_int_equal(aml_finish(&a), -EINVAL);
	/* If and Else must be closed. */
	aml_init(&a, b, sizeof(b));
	aml_if_begin(&a);
	aml_integer(&a, 0);
	assert_int_equal(aml_finish(&a), -EINVAL);
	/* Arg7 and Local8 do not exist. */
	aml_init(&a, b, sizeof(b));
	aml_arg(&a, 7);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_local(&a, 8);
	assert_int_equal(aml_finish(&a), -EINVAL);
}

static void test_aml_errors(void **state)
{
	uint8_t b[64];
	struct aml a;

	/* Unbalanced. */
	aml_init(&a, b, sizeof(b));
	aml_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_scope_begin(&a, "\\_SB");
	assert_int_equal(aml_finish(&a), -EINVAL);
	/* Too deep. */
	static uint8_t big[4096];
	aml_init(&a, big, sizeof(big));
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_scope_begin(&a, "X");
	for (int i = 0; i <= AML_MAX_DEPTH; i++)
		aml_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);
	/* Bad arguments. */
	aml_init(&a, b, sizeof(b));
	aml_package_begin(&a, 0);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_package_begin(&a, 256);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_method_begin(&a, "M", 8, 0);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_resource_begin(&a);
	aml_res_irq(&a, 16);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_resource_begin(&a);
	aml_res_io(&a, 0xffff, 2);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_resource_begin(&a);
	aml_res_io(&a, 0x70, 0);
	assert_int_equal(aml_finish(&a), -EINVAL);
	aml_init(&a, b, sizeof(b));
	aml_string(&a, "caf\xc3\xa9");
	assert_int_equal(aml_finish(&a), -EINVAL);
	/* End tag outside a Buffer. */
	aml_init(&a, b, sizeof(b));
	aml_scope_begin(&a, "X");
	aml_resource_end(&a);
	assert_int_equal(aml_finish(&a), -EINVAL);

	/* Out of room, at every possible cut: always -ENOSPC, never past cap. */
	for (size_t cap = 0; cap < 39; cap++) {
		memset(b, 0xee, sizeof(b));
		aml_init(&a, b, cap);
		aml_device_begin(&a, "COM1");
		aml_name(&a, "_HID");
		aml_eisaid(&a, "PNP0501");
		aml_name(&a, "_CRS");
		aml_resource_begin(&a);
		aml_res_io(&a, 0x3f8, 8);
		aml_res_irq(&a, 4);
		aml_resource_end(&a);
		aml_end(&a);
		assert_int_equal(aml_finish(&a), -ENOSPC);
		for (size_t i = cap; i < sizeof(b); i++)
			assert_int_equal(b[i], 0xee);
	}
	/* Sticky: a later good call does not clear the error. */
	aml_init(&a, b, sizeof(b));
	aml_namestring(&a, "bad");
	aml_integer(&a, 5);
	assert_int_equal(aml_finish(&a), -EINVAL);
	assert_int_equal(a.len, 0);
}

/* ---- iasl, an independent parser ---- */

static char tmpdir[64];

static int rm_tmpdir(void **state)
{
	DIR *d;
	struct dirent *de;

	if (!tmpdir[0])
		return 0;
	d = opendir(tmpdir);
	if (d) {
		while ((de = readdir(d))) {
			char p[512];
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", tmpdir, de->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(tmpdir);
	tmpdir[0] = 0;
	return 0;
}

/* Path of @name (an acpica-tools program) from $PATH, or NULL. */
static char *find_tool(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	static char found[4096];

	if (!path)
		path = "/usr/bin:/bin";
	copy = strdup(path);
	assert_non_null(copy);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(found, sizeof(found), "%s/%s", *dir ? dir : ".", name);
		if (access(found, X_OK) == 0) {
			free(copy);
			return found;
		}
	}
	free(copy);
	fail_msg("%s not found in PATH: install acpica-tools (apt-get install acpica-tools)", name);
	return NULL;
}

static void write_file(const char *name, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* Contents of @name in tmpdir (NUL-terminated, caller frees). */
static char *read_file(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	return s;
}

/* Run @tool with @args (NULL-terminated) in tmpdir, stdin from /dev/null;
 * returns its output (caller frees). */
static char *run_tool(const char *tool, const char *const *args)
{
	char log[512];
	const char *argv[8] = {strrchr(tool, '/') ? strrchr(tool, '/') + 1 : tool};
	int status;
	pid_t pid;

	for (size_t i = 0; args[i]; i++) {
		assert_true(i + 2 < sizeof(argv) / sizeof(argv[0]));
		argv[i + 1] = args[i];
	}
	snprintf(log, sizeof(log), "%s/iasl.log", tmpdir);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int null = open("/dev/null", O_RDONLY);
		if (fd < 0 || null < 0 || chdir(tmpdir) != 0)
			_exit(126);
		dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(tool, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	char *out = read_file("iasl.log");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s %s failed (status %#x):\n%s", argv[0], args[0], status, out);
	return out;
}

/* iasl aligns its "Field : Value" columns with runs of spaces; make them one. */
static void squeeze_spaces(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++)
		if (!(*r == ' ' && w > s && w[-1] == ' '))
			*w++ = *r;
	*w = 0;
}

static void test_iasl(void **state)
{
	struct env e;
	char *iasl = find_tool("iasl");
	struct {
		const char *sig, *file;
		uint64_t addr;
	} t[] = {
		/* Not the RSDP: this iasl cannot disassemble one from a binary file. */
		{"XSDT", "xsdt.dat", 0}, {"RSDT", "rsdt.dat", 0}, {"FACP", "facp.dat", 0},
		{"FACS", "facs.dat", 0}, {"DSDT", "dsdt.dat", 0}, {"APIC", "apic.dat", 0},
		{"MCFG", "mcfg.dat", 0},
	};

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hostel-acpi-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	env_init(&e, 4);
	e.cfg.ecam_base = 0xb0000000;
	e.cfg.ecam_bus_end = 255;
	e.cfg.reset_port = 0xcf9;
	e.cfg.reset_value = 0x06;
	env_build(&e);

	const uint8_t *r = e.ram + e.rsdp;
	uint64_t fadt = xsdt_find(&e, "FACP");
	t[0].addr = rd64(r + 24);
	t[1].addr = rd32(r + 16);
	t[2].addr = fadt;
	t[3].addr = rd32(e.ram + fadt + FADT_FACS);
	t[4].addr = rd64(e.ram + fadt + FADT_X_DSDT);
	t[5].addr = xsdt_find(&e, "APIC");
	t[6].addr = xsdt_find(&e, "MCFG");

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t len = rd32(e.ram + t[i].addr + 4);
		char dsl[32];
		assert_memory_equal(e.ram + t[i].addr, t[i].sig, strlen(t[i].sig));
		write_file(t[i].file, at(&e, t[i].addr, len), len);
		const char *dis[] = {"-d", t[i].file, NULL};
		char *out = run_tool(iasl, dis);
		if (strstr(out, "Error") || strstr(out, "Warning") || strstr(out, "Incorrect"))
			fail_msg("iasl -d %s complained:\n%s", t[i].file, out);
		free(out);

		snprintf(dsl, sizeof(dsl), "%.4s", t[i].file);
		strcat(dsl, ".dsl");
		char *text = read_file(dsl);
		if (strstr(text, "Incorrect") || strstr(text, "Invalid") || strstr(text, "**** "))
			fail_msg("iasl flags %s:\n%s", t[i].file, text);
		if (!strcmp(t[i].sig, "FACP")) {
			/* FADT fields as iasl reads them. */
			static const char *fields[] = {
				"Table Length : 00000114",
				"Revision : 06",
				"PM1A Event Block Address : 00000600",
				"PM1A Control Block Address : 00000604",
				"PM Timer Block Address : 00000608",
				"SCI Interrupt : 0009",
				"SMI Command Port : 00000000",
				"Legacy Devices Supported (V2) : 1",
				"8042 Present on ports 60/64 (V2) : 1",
				"Control Method Power Button (V1) : 0",
				"Hardware Reduced (V5) : 0",
				"Reset Register Supported (V2) : 1",
				"Address : 0000000000000CF9",
			};
			squeeze_spaces(text);
			for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
				if (!strstr(text, fields[k]))
					fail_msg("\"%s\" missing from iasl's FADT", fields[k]);
		}
		if (!strcmp(t[i].sig, "DSDT")) {
			static const char *names[] = {"Name (\\_S5, Package", "Device (COM1)",
						      "EisaId (\"PNP0501\")", "Device (PS2K)",
						      "EisaId (\"PNP0303\")", "Device (PS2M)",
						      "EisaId (\"PNP0F13\")", "Device (RTC)",
						      "EisaId (\"PNP0B00\")", "Device (PEVT)",
						      "\"QEMU0001\"",	      "Method (_STA",
						      "IO (Decode16",	      "0x0505",
						      "IRQNoFlags ()",	      "Device (C000)",
						      "Device (C003)",	      "\"ACPI0007\""};
			for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
				if (!strstr(text, names[k]))
					fail_msg("\"%s\" missing from the DSDT:\n%s", names[k],
						 text);
			/* An MCFG alone does not describe a host bridge. */
			if (strstr(text, "PCI0") || strstr(text, "PNP0A0") ||
			    strstr(text, "PNP0C02") || strstr(text, "_OSC"))
				fail_msg("PCI objects without a PCI config:\n%s", text);
		}
		free(text);
	}

	/* The DSDT's disassembly compiles back without errors or warnings. */
	const char *comp[] = {"-p", "dsdt2", "dsdt.dsl", NULL};
	char *out = run_tool(iasl, comp);
	if (!strstr(out, " 0 Errors, 0 Warnings"))
		fail_msg("recompiling the DSDT:\n%s", out);
	free(out);
	env_fini(&e);
}

/* A resource descriptor as a disassembler or ACPICA printed it. */
struct res {
	char kind[48];
	uint64_t min, max, len;
};

/* Copy of line @p (up to the newline) into @buf, leading spaces removed. */
static const char *line_at(const char *p, char *buf, size_t n)
{
	size_t k = 0;
	while (*p == ' ')
		p++;
	while (p[k] && p[k] != '\n' && k + 1 < n) {
		buf[k] = p[k];
		k++;
	}
	buf[k] = 0;
	return buf;
}

static const char *next_line(const char *p)
{
	const char *nl = strchr(p, '\n');
	return nl ? nl + 1 : NULL;
}

/*
 * The descriptors of iasl's ResourceTemplate text in [from, to): each starts
 * with its macro name; the values are on lines commented "Range Minimum",
 * "Range Maximum", "Length" (or "Address Base", "Address Length").
 */
static size_t iasl_resources(const char *from, const char *to, struct res *out, size_t max)
{
	static const char *kinds[] = {"WordBusNumber (", "WordIO (",	  "DWordMemory (",
				      "QWordMemory (",	 "IO (Decode16,", "Memory32Fixed ("};
	size_t n = 0;
	char l[256];

	assert_non_null(from);
	assert_non_null(to);
	for (const char *p = from; p && p < to; p = next_line(p)) {
		line_at(p, l, sizeof(l));
		bool started = false;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			if (!strncmp(l, kinds[k], strlen(kinds[k]))) {
				assert_true(n < max);
				memset(&out[n], 0, sizeof(out[n]));
				snprintf(out[n].kind, sizeof(out[n].kind), "%.*s",
					 (int)strcspn(kinds[k], " "), kinds[k]);
				n++;
				started = true;
			}
		}
		if (started || !n)
			continue;
		uint64_t v = strtoull(l, NULL, 16);
		if (strstr(l, "// Range Minimum") || strstr(l, "// Address Base"))
			out[n - 1].min = v;
		else if (strstr(l, "// Range Maximum"))
			out[n - 1].max = v;
		else if (strstr(l, "// Length") || strstr(l, "// Address Length"))
			out[n - 1].len = v;
	}
	return n;
}

static void expect_resources(const struct res *got, size_t n, const struct res *want, size_t m,
			     const char *text)
{
	if (n != m)
		fail_msg("%zu descriptors, expected %zu:\n%s", n, m, text);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(got[i].kind, want[i].kind) || got[i].min != want[i].min ||
		    got[i].max != want[i].max || got[i].len != want[i].len)
			fail_msg("descriptor %zu is %s [%#llx-%#llx] len %#llx, expected %s "
				 "[%#llx-%#llx] len %#llx:\n%s",
				 i, got[i].kind, (unsigned long long)got[i].min,
				 (unsigned long long)got[i].max, (unsigned long long)got[i].len,
				 want[i].kind, (unsigned long long)want[i].min,
				 (unsigned long long)want[i].max, (unsigned long long)want[i].len,
				 text);
	}
}

/* Write the table at @addr to @file, disassemble it with no complaint from
 * iasl and return the text (caller frees). */
static char *disassemble(const char *iasl, const struct env *e, uint64_t addr, const char *file)
{
	size_t len = rd32(e->ram + addr + 4);
	char dsl[32];

	write_file(file, at(e, addr, len), len);
	const char *dis[] = {"-d", file, NULL};
	char *out = run_tool(iasl, dis);
	if (strstr(out, "Error") || strstr(out, "Warning") || strstr(out, "Incorrect"))
		fail_msg("iasl -d %s complained:\n%s", file, out);
	free(out);
	snprintf(dsl, sizeof(dsl), "%.4s.dsl", file);
	char *text = read_file(dsl);
	if (strstr(text, "Incorrect") || strstr(text, "Invalid") || strstr(text, "**** "))
		fail_msg("iasl flags %s:\n%s", file, text);
	return text;
}

/* The board's layout plus a 64-bit window: what iasl reads back. */
static void test_iasl_pci(void **state)
{
	static const struct res crs[] = {
		{"WordBusNumber", 0, 0, 1},
		{"IO", 0xcf8, 0xcf8, 8},
		{"WordIO", 0, 0xcf7, 0xcf8},
		{"WordIO", 0xc000, 0xffff, 0x4000},
		{"DWordMemory", 0xc0000000, 0xdfffffff, 0x20000000},
		{"QWordMemory", 0x800000000ULL, 0xfffffffffULL, 0x800000000ULL},
	};
	static const struct res mres[] = {{"Memory32Fixed", 0xe0000000, 0, 0x100000}};
	static const char *names[] = {
		"Device (PCI0)",
		"Name (_HID, EisaId (\"PNP0A08\")",
		"Name (_CID, EisaId (\"PNP0A03\")",
		"Name (_SEG, Zero)",
		"Name (_BBN, Zero)",
		"Name (_UID, Zero)",
		"Method (_OSC, 4, Serialized)",
		"ToUUID (\"33db4d5b-1ff7-401c-9657-7441c03dd766\")",
		"Name (_PRT, Package (0x80)",
		"Device (MRES)",
		"Name (_HID, EisaId (\"PNP0C02\")",
	};
	static const char *mcfg_fields[] = {
		"Table Length : 0000003C",     "Revision : 01",
		"Reserved : 0000000000000000", "Base Address : 00000000E0000000",
		"Segment Group Number : 0000", "Start Bus Number : 00",
		"End Bus Number : 00",	       "Reserved : 00000000",
	};
	char *iasl = find_tool("iasl");
	struct res got[16];
	struct env e;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hostel-acpi-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	env_init(&e, 2);
	pci_board_config(&e.cfg);
	e.cfg.pci.mmio64_base = 0x800000000ULL;
	e.cfg.pci.mmio64_size = 0x800000000ULL;
	env_build(&e);

	uint64_t dsdt = rd64(e.ram + xsdt_find(&e, "FACP") + FADT_X_DSDT);
	char *text = disassemble(iasl, &e, dsdt, "dsdt.dat");
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (!strstr(text, names[k]))
			fail_msg("\"%s\" missing from the DSDT:\n%s", names[k], text);
	/* No _ADR beside the _HID (ACPI 6.4, 6.1: one or the other). */
	assert_null(strstr(text, "_ADR"));

	const char *pci = strstr(text, "Device (PCI0)");
	size_t n = iasl_resources(pci, strstr(pci, "Method (_OSC"), got, 16);
	expect_resources(got, n, crs, sizeof(crs) / sizeof(crs[0]), text);
	/* Windows as a root bridge's: produced for children, fixed, not cacheable. */
	const char *crs_text = strstr(pci, "Name (_CRS");
	assert_non_null(crs_text);
	assert_non_null(strstr(crs_text, "WordBusNumber (ResourceProducer, MinFixed, MaxFixed, "
					 "PosDecode,"));
	assert_non_null(strstr(crs_text, "WordIO (ResourceProducer, MinFixed, MaxFixed, "
					 "PosDecode, EntireRange,"));
	assert_non_null(strstr(crs_text, "DWordMemory (ResourceProducer, PosDecode, MinFixed, "
					 "MaxFixed, NonCacheable, ReadWrite,"));
	assert_non_null(strstr(crs_text, "QWordMemory (ResourceProducer, PosDecode, MinFixed, "
					 "MaxFixed, NonCacheable, ReadWrite,"));

	const char *mb = strstr(text, "Device (MRES)");
	n = iasl_resources(mb, mb + strlen(mb), got, 16);
	expect_resources(got, n, mres, 1, text);
	assert_non_null(strstr(mb, "Memory32Fixed (ReadWrite,"));
	free(text);

	/* It compiles back without errors or warnings. */
	const char *comp[] = {"-p", "dsdt2", "dsdt.dsl", NULL};
	char *out = run_tool(iasl, comp);
	if (!strstr(out, " 0 Errors, 0 Warnings"))
		fail_msg("recompiling the DSDT:\n%s", out);
	free(out);

	/* The MCFG entry Linux matches to the bridge's bus range. */
	text = disassemble(iasl, &e, xsdt_find(&e, "MCFG"), "mcfg.dat");
	squeeze_spaces(text);
	for (size_t k = 0; k < sizeof(mcfg_fields) / sizeof(mcfg_fields[0]); k++)
		if (!strstr(text, mcfg_fields[k]))
			fail_msg("\"%s\" missing from iasl's MCFG:\n%s", mcfg_fields[k], text);
	free(text);
	env_fini(&e);
}

/* The 12 bytes of the Buffer acpiexec printed on line @p ("... 0000: 01 00 ..."). */
static void parse_osc_buffer(const char *p, uint8_t out[12])
{
	const char *h = strstr(p, "0000:");
	assert_non_null(h);
	h += 5;
	for (int i = 0; i < 12; i++) {
		char *end;
		unsigned long v = strtoul(h, &end, 16);
		assert_true(end != h && v <= 0xff);
		out[i] = (uint8_t)v;
		h = end;
	}
}

/* Value after "@key : " on one of acpiexec's "Field : Value" lines. */
static bool field(const char *line, const char *key, uint64_t *v)
{
	const char *k = strstr(line, key);
	if (!k || strncmp(k + strlen(key), " : ", 3))
		return false;
	*v = strtoull(k + strlen(key) + 3, NULL, 16);
	return true;
}

/*
 * acpiexec runs the DSDT on ACPICA, the interpreter Linux uses: _CRS is
 * decoded by the same resource manager Linux's PCI root driver calls, the
 * _PRT by the code Linux's IRQ routing uses, and _OSC runs for real.
 */
static void test_acpiexec_pci(void **state)
{
	static const struct res crs[] = {
		{"16-Bit WORD Address Space Resource", 0, 0, 1},
		{"I/O Resource", 0xcf8, 0xcf8, 8},
		{"16-Bit WORD Address Space Resource", 0, 0xcf7, 0xcf8},
		{"16-Bit WORD Address Space Resource", 0xc000, 0xffff, 0x4000},
		{"32-Bit DWORD Address Space Resource", 0xc0000000, 0xdfffffff, 0x20000000},
	};
	static const char *types[] = {"Bus Number Range", NULL, "I/O Range", "I/O Range",
				      "Memory Range"};
	char *acpiexec = find_tool("acpiexec");
	struct res got[16];
	struct env e;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hostel-acpi-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	env_init(&e, 2);
	pci_board_config(&e.cfg);
	env_build(&e);
	uint64_t dsdt = rd64(e.ram + xsdt_find(&e, "FACP") + FADT_X_DSDT);
	write_file("dsdt.dat", e.ram + dsdt, rd32(e.ram + dsdt + 4));

	/* ---- _PRT and _CRS of \_SB.PCI0 ---- */
	const char *res_args[] = {"-b", "resources \\_SB.PCI0", "dsdt.dat", NULL};
	char *out = run_tool(acpiexec, res_args);
	if (strstr(out, "ACPI Error") || strstr(out, "ACPI Warning") ||
	    strstr(out, "ACPI Exception"))
		fail_msg("acpiexec complained:\n%s", out);
	squeeze_spaces(out);
	const char *prt = strstr(out, "Evaluating _PRT");
	const char *crs_at = strstr(out, "Evaluating _CRS");
	assert_non_null(prt);
	assert_non_null(crs_at);
	assert_true(prt < crs_at);
	/* 32 slots x INTA-INTD: GSI 16 + (slot + pin) % 4, Source a null name. */
	unsigned int entries = 0, nulls = 0;
	uint64_t addr = 0, pin = 0, v;
	char l[256];
	for (const char *p = prt; p && p < crs_at; p = next_line(p)) {
		line_at(p, l, sizeof(l));
		if (strstr(l, "Source : [NULL NAMESTRING]"))
			nulls++;
		if (field(l, "Address", &v))
			addr = v;
		else if (field(l, "Pin", &v))
			pin = v;
		else if (field(l, "Source Index", &v)) {
			unsigned int slot = entries / 4;
			if (addr != ((uint64_t)slot << 16 | 0xffff) || pin != entries % 4 ||
			    v != 16 + (slot + pin) % 4)
				fail_msg("_PRT entry %u: %#llx pin %llu GSI %llu", entries,
					 (unsigned long long)addr, (unsigned long long)pin,
					 (unsigned long long)v);
			entries++;
		}
	}
	assert_int_equal(entries, 128);
	assert_int_equal(nulls, 128);

	size_t n = 0;
	const char *crs_end = strstr(crs_at, "EndTag Resource");
	assert_non_null(crs_end);
	for (const char *p = crs_at; p && p < crs_end; p = next_line(p)) {
		line_at(p, l, sizeof(l));
		if (l[0] == '[' && strstr(l, "] ") && !strstr(l, "EndTag")) {
			assert_true(n < 16);
			memset(&got[n], 0, sizeof(got[n]));
			snprintf(got[n].kind, sizeof(got[n].kind), "%s", strstr(l, "] ") + 2);
			n++;
		} else if (n && field(l, "Address Minimum", &v)) {
			got[n - 1].min = v;
		} else if (n && field(l, "Address Maximum", &v)) {
			got[n - 1].max = v;
		} else if (n && field(l, "Address Length", &v)) {
			got[n - 1].len = v;
		} else if (n && types[n - 1] && strstr(l, "Resource Type : ")) {
			if (strcmp(strstr(l, " : ") + 3, types[n - 1]))
				fail_msg("descriptor %zu: %s", n - 1, l);
		} else if (n && strstr(l, "Consumer/Producer : ")) {
			/* Every window is produced for the bus below. */
			assert_non_null(strstr(l, ": ResourceProducer"));
		}
	}
	expect_resources(got, n, crs, sizeof(crs) / sizeof(crs[0]), out);
	free(out);

	/* ---- \_SB.MRES reserves the ECAM window ---- */
	const char *mres_args[] = {"-b", "resources \\_SB.MRES", "dsdt.dat", NULL};
	out = run_tool(acpiexec, mres_args);
	squeeze_spaces(out);
	const char *fixed = strstr(out, "32-Bit Fixed Memory Range Resource");
	if (!fixed || !field(fixed, "Address", &v) || v != 0xe0000000 ||
	    !field(fixed, "Address Length", &v) || v != 0x100000 ||
	    !strstr(fixed, "Write Protect : ReadWrite"))
		fail_msg("MRES:\n%s", out);
	free(out);

	/* ---- _OSC, as Linux calls it and otherwise ---- */
#define PCI_UUID "(5b 4d db 33 f7 1f 1c 40 96 57 74 41 c0 3d d7 66)"
	static const struct {
		const char *args;
		uint8_t want[12];
	} osc[] = {
		/* Linux's query (DWORD 1 bit 0) for what it knows: all granted. */
		{PCI_UUID " 1 3 (01 00 00 00 1f 00 00 00 bf 00 00 00)",
		 {0x01, 0, 0, 0, 0x1f, 0, 0, 0, 0xbf, 0, 0, 0}},
		/* The request that follows, for a subset. */
		{PCI_UUID " 1 3 (00 00 00 00 1f 00 00 00 1d 00 00 00)",
		 {0x00, 0, 0, 0, 0x1f, 0, 0, 0, 0x1d, 0, 0, 0}},
		/* Bits hostel does not know are masked, and it says so. */
		{PCI_UUID " 1 3 (00 00 00 00 1f 00 00 00 ff 07 00 00)",
		 {0x10, 0, 0, 0, 0x1f, 0, 0, 0, 0xbf, 0, 0, 0}},
		/* An unknown revision. */
		{PCI_UUID " 2 3 (00 00 00 00 1f 00 00 00 11 00 00 00)",
		 {0x08, 0, 0, 0, 0x1f, 0, 0, 0, 0x11, 0, 0, 0}},
		/* Another UUID (the platform-wide one): untouched but for the status. */
		{"(6e b0 11 08 27 4a f9 44 8d 60 3c bb c2 2e 7b 48) 1 2 (00 00 00 00 ff ff ff ff)",
		 {0x04, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
	};
#undef PCI_UUID
	char cmds[2048] = "";
	for (size_t i = 0; i < sizeof(osc) / sizeof(osc[0]); i++) {
		if (i)
			strcat(cmds, ";");
		strcat(cmds, "execute \\_SB.PCI0._OSC ");
		strcat(cmds, osc[i].args);
	}
	const char *osc_args[] = {"-b", cmds, "dsdt.dat", NULL};
	out = run_tool(acpiexec, osc_args);
	if (strstr(out, "ACPI Error") || strstr(out, "ACPI Warning") ||
	    strstr(out, "ACPI Exception"))
		fail_msg("acpiexec complained:\n%s", out);
	const char *p = out;
	for (size_t i = 0; i < sizeof(osc) / sizeof(osc[0]); i++) {
		uint8_t buf[12] = {0};
		size_t blen = i == 4 ? 8 : 12;
		p = strstr(p, blen == 12 ? "[Buffer] Length 0C" : "[Buffer] Length 08");
		if (!p)
			fail_msg("_OSC call %zu returned no buffer:\n%s", i, out);
		if (blen == 12) {
			parse_osc_buffer(p, buf);
		} else {
			uint8_t tmp[12];
			char line[128];
			/* Pad the 8-byte answer so the 12-byte parser reads it. */
			snprintf(line, sizeof(line), "%.*s 00 00 00 00",
				 (int)strcspn(strstr(p, "0000:"), "/\n"), strstr(p, "0000:"));
			parse_osc_buffer(line, tmp);
			memcpy(buf, tmp, 8);
		}
		if (memcmp(buf, osc[i].want, blen))
			fail_msg("_OSC call %zu (%s) returned %02x %02x %02x %02x / %02x %02x "
				 "%02x %02x / %02x %02x %02x %02x:\n%s",
				 i, osc[i].args, buf[0], buf[1], buf[2], buf[3], buf[4], buf[5],
				 buf[6], buf[7], buf[8], buf[9], buf[10], buf[11], out);
		p++;
	}
	free(out);

	/* ---- Every predefined object evaluates, with the right type ---- */
	const char *pre_args[] = {"-b", "execute predefined", "dsdt.dat", NULL};
	out = run_tool(acpiexec, pre_args);
	unsigned int ok = 0;
	for (const char *q = out; q; q = next_line(q)) {
		line_at(q, l, sizeof(l));
		/* acpiexec feeds every method Integer arguments, so ACPICA's
		 * argument check warns about _OSC's two Buffers: that is the
		 * tool's call, not the table. Anything else is ours. */
		if ((strstr(l, "ACPI Warning") && !strstr(l, "_SB.PCI0._OSC: Argument #")) ||
		    strstr(l, "ACPI Error") || strstr(l, "ACPI Exception"))
			fail_msg("acpiexec: %s\n%s", l, out);
		if (strstr(l, " returned AE_")) {
			if (!strstr(l, " returned AE_OK"))
				fail_msg("acpiexec: %s", l);
			ok++;
		}
	}
	/* _HID, _CID, _SEG, _BBN, _UID, _CRS, _OSC, _PRT and MRES's _HID, _CRS. */
	if (!strstr(out, "\\_SB_.PCI0._PRT") || !strstr(out, "\\_SB_.MRES._CRS") || ok < 10)
		fail_msg("predefined objects not evaluated:\n%s", out);
	free(out);
	env_fini(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_tables, &cpus_1),
		cmocka_unit_test_prestate(test_tables, &cpus_2),
		cmocka_unit_test_prestate(test_tables, &cpus_4),
		cmocka_unit_test_prestate(test_tables, &cpus_64),
		cmocka_unit_test_prestate(test_tables, &cpus_max),
		cmocka_unit_test(test_mcfg),
		cmocka_unit_test(test_pci_defaults),
		cmocka_unit_test_prestate(test_pci_tables, &cpus_1),
		cmocka_unit_test_prestate(test_pci_tables, &cpus_max),
		cmocka_unit_test(test_pci_mmio64),
		cmocka_unit_test(test_reset_reg),
		cmocka_unit_test(test_minimal_board),
		cmocka_unit_test(test_no_ps2_mouse),
		cmocka_unit_test(test_unaligned_base),
		cmocka_unit_test(test_bad_config),
		cmocka_unit_test(test_bad_region),
		cmocka_unit_test_prestate(test_exact_fit, &cpus_1),
		cmocka_unit_test_prestate(test_exact_fit, &cpus_64),
		cmocka_unit_test_prestate(test_exact_fit, &cpus_max),
		cmocka_unit_test(test_aml_pkglen),
		cmocka_unit_test(test_aml_names),
		cmocka_unit_test(test_aml_integers),
		cmocka_unit_test(test_aml_eisaid),
		cmocka_unit_test(test_aml_device),
		cmocka_unit_test(test_aml_errors),
		cmocka_unit_test(test_aml_resources),
		cmocka_unit_test(test_aml_methods),
		cmocka_unit_test_teardown(test_iasl, rm_tmpdir),
		cmocka_unit_test_teardown(test_iasl_pci, rm_tmpdir),
		cmocka_unit_test_teardown(test_acpiexec_pci, rm_tmpdir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
