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
	assert_int_equal(contains(d, len, "PS2M", 4), c->i8042);
	assert_int_equal(contains(d, len, "RTC_", 4), c->rtc);
	assert_int_equal(contains(d, len, "PEVT", 4), c->pvpanic);
	assert_int_equal(contains(d, len, qemu0001, sizeof(qemu0001)), c->pvpanic);
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

/* Path of iasl from $PATH, or NULL. */
static char *find_iasl(void)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL;
	static char found[4096];

	if (!path)
		path = "/usr/bin:/bin";
	copy = strdup(path);
	assert_non_null(copy);
	for (dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(found, sizeof(found), "%s/iasl", *dir ? dir : ".");
		if (access(found, X_OK) == 0) {
			free(copy);
			return found;
		}
	}
	free(copy);
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

/* Run iasl with @args (NULL-terminated) in tmpdir; returns its output (caller frees). */
static char *run_iasl(const char *iasl, const char *const *args)
{
	char log[512];
	const char *argv[8] = {"iasl"};
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
		if (fd < 0 || chdir(tmpdir) != 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(iasl, (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	char *out = read_file("iasl.log");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("iasl %s failed (status %#x):\n%s", args[0], status, out);
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
	char *iasl = find_iasl();
	struct {
		const char *sig, *file;
		uint64_t addr;
	} t[] = {
		/* Not the RSDP: this iasl cannot disassemble one from a binary file. */
		{"XSDT", "xsdt.dat", 0}, {"RSDT", "rsdt.dat", 0}, {"FACP", "facp.dat", 0},
		{"FACS", "facs.dat", 0}, {"DSDT", "dsdt.dat", 0}, {"APIC", "apic.dat", 0},
		{"MCFG", "mcfg.dat", 0},
	};

	if (!iasl)
		fail_msg("iasl not found in PATH: install acpica-tools (apt-get install "
			 "acpica-tools)");

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
		char *out = run_iasl(iasl, dis);
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
		}
		free(text);
	}

	/* The DSDT's disassembly compiles back without errors or warnings. */
	const char *comp[] = {"-p", "dsdt2", "dsdt.dsl", NULL};
	char *out = run_iasl(iasl, comp);
	if (!strstr(out, " 0 Errors, 0 Warnings"))
		fail_msg("recompiling the DSDT:\n%s", out);
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
		cmocka_unit_test(test_reset_reg),
		cmocka_unit_test(test_minimal_board),
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
