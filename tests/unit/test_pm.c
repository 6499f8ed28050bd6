// SPDX-License-Identifier: MIT
/* Unit tests for devices/acpi_pm: PM1 event/control registers and the PM timer. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "fake_clock.h"
#include "fake_irq.h"
#include "hostel/bus.h"
#include "acpi_pm/pm.h"

/* ACPI 6.4 Tables 4.11-4.13, spelled out independently of the device. */
#define TMR_STS	   0x0001
#define PWRBTN_STS 0x0100
#define WAK_STS	   0x8000
#define TMR_EN	   0x0001
#define GBL_EN	   0x0020
#define PWRBTN_EN  0x0100
#define SLPBTN_EN  0x0200
#define RTC_EN	   0x0400
#define PCIEXP_DIS 0x4000
#define SCI_EN	   0x0001
#define GBL_RLS	   0x0004
#define SLP_TYP(x) ((x) << 10)
#define SLP_EN	   0x2000

#define START_NS 123456789ULL

struct fx {
	struct acpi_pm *pm;
	struct fake_irq sci;
	struct fake_clock clk;
	unsigned int sleeps;
	unsigned int last_typ;
	bool wake_in_sleep; /* the sleep callback calls acpi_pm_wake() */
};

static void on_sleep(void *opaque, unsigned slp_typ)
{
	struct fx *f = opaque;

	f->sleeps++;
	f->last_typ = slp_typ;
	if (f->wake_in_sleep)
		acpi_pm_wake(f->pm); /* must not deadlock: called without the lock */
}

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	fake_irq_init(&f.sci);
	fake_clock_init(&f.clk, START_NS, 0);
	f.pm = acpi_pm_create(&f.sci.line, &f.clk.clock, on_sleep, &f);
	if (!f.pm)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	acpi_pm_destroy(f->pm);
	return 0;
}

static uint32_t rd(struct dev *d, uint64_t off, unsigned len)
{
	uint8_t b[8];

	memset(b, 0x5a, sizeof(b));
	d->ops->read(d, off, b, len);
	return (uint32_t)dev_data_get(b, len > 4 ? 4 : len);
}

static void wr(struct dev *d, uint64_t off, unsigned len, uint64_t v)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	d->ops->write(d, off, b, len);
}

static uint16_t sts(struct fx *f)
{
	return (uint16_t)rd(acpi_pm_evt_dev(f->pm), 0, 2);
}

static uint16_t en(struct fx *f)
{
	return (uint16_t)rd(acpi_pm_evt_dev(f->pm), 2, 2);
}

static uint16_t cnt(struct fx *f)
{
	return (uint16_t)rd(acpi_pm_cnt_dev(f->pm), 0, 2);
}

static uint32_t tmr(struct fx *f)
{
	return rd(acpi_pm_tmr_dev(f->pm), 0, 4);
}

static void set_en(struct fx *f, uint16_t v)
{
	wr(acpi_pm_evt_dev(f->pm), 2, 2, v);
}

static void clear_sts(struct fx *f, uint16_t v)
{
	wr(acpi_pm_evt_dev(f->pm), 0, 2, v);
}

/* The invariant every test keeps checking: SCI == (STS & EN) != 0. */
static void assert_sci_consistent(struct fx *f)
{
	assert_int_equal(f->sci.level, (sts(f) & en(f)) != 0);
}

static void test_power_on_state(void **state)
{
	struct fx *f = *state;

	assert_int_equal(sts(f), 0);
	assert_int_equal(en(f), 0);
	assert_int_equal(cnt(f), SCI_EN);
	assert_false(f->sci.level);
	assert_int_equal(f->sci.sets, 0);
	assert_int_equal(tmr(f), 0);
}

static void test_en_stores_defined_bits(void **state)
{
	struct fx *f = *state;

	set_en(f, 0xFFFF);
	assert_int_equal(en(f), TMR_EN | GBL_EN | PWRBTN_EN | SLPBTN_EN | RTC_EN | PCIEXP_DIS);
	set_en(f, PWRBTN_EN);
	assert_int_equal(en(f), PWRBTN_EN);
	set_en(f, 0);
	assert_int_equal(en(f), 0);
	/* Enables alone never raise the SCI: nothing is pending. */
	set_en(f, 0xFFFF);
	assert_false(f->sci.level);
	assert_int_equal(f->sci.raises, 0);
}

static void test_sts_write_one_to_clear(void **state)
{
	struct fx *f = *state;

	acpi_pm_power_button(f->pm);
	acpi_pm_wake(f->pm);
	assert_int_equal(sts(f), PWRBTN_STS | WAK_STS);

	/* Writing 0 changes nothing; writing 1 to a clear or undefined bit sets nothing. */
	clear_sts(f, 0);
	assert_int_equal(sts(f), PWRBTN_STS | WAK_STS);
	clear_sts(f, 0x7EFF);
	assert_int_equal(sts(f), PWRBTN_STS | WAK_STS);

	/* Each 1 clears exactly its own bit. */
	clear_sts(f, PWRBTN_STS);
	assert_int_equal(sts(f), WAK_STS);
	clear_sts(f, WAK_STS);
	assert_int_equal(sts(f), 0);

	/* Writing all-ones to a clear register leaves it clear. */
	clear_sts(f, 0xFFFF);
	assert_int_equal(sts(f), 0);
}

static void test_tmr_sts_not_implemented(void **state)
{
	struct fx *f = *state;

	/* Documented: no overflow event, so TMR_STS stays 0 across a wrap. */
	set_en(f, TMR_EN);
	fake_clock_advance_to(&f->clk, NULL, START_NS + 10ULL * 1000000000ULL, 0);
	assert_int_equal(sts(f) & TMR_STS, 0);
	assert_false(f->sci.level);
	assert_int_equal(en(f), TMR_EN);
}

static void test_power_button_without_en(void **state)
{
	struct fx *f = *state;

	acpi_pm_power_button(f->pm);
	assert_int_equal(sts(f), PWRBTN_STS);
	assert_false(f->sci.level);
	assert_int_equal(f->sci.raises, 0);

	/* Enabling with the status pending raises the (level) SCI at once. */
	set_en(f, PWRBTN_EN);
	assert_true(f->sci.level);
	assert_int_equal(f->sci.raises, 1);
	/* Other enables do not matter for this status bit. */
	set_en(f, 0xFFFF & ~PWRBTN_EN);
	assert_false(f->sci.level);
	set_en(f, PWRBTN_EN);
	assert_true(f->sci.level);
	assert_int_equal(f->sci.raises, 2);
	clear_sts(f, PWRBTN_STS);
	assert_false(f->sci.level);
	assert_sci_consistent(f);
}

static void test_power_button_with_en(void **state)
{
	struct fx *f = *state;

	set_en(f, PWRBTN_EN);
	assert_false(f->sci.level);
	acpi_pm_power_button(f->pm);
	assert_true(f->sci.level);
	assert_int_equal(f->sci.raises, 1);
	assert_int_equal(sts(f), PWRBTN_STS);

	/* A second press while pending: still one level, no new edge. */
	unsigned int sets = f->sci.sets;
	acpi_pm_power_button(f->pm);
	assert_true(f->sci.level);
	assert_int_equal(f->sci.raises, 1);
	assert_int_equal(f->sci.sets, sets);

	/* The OS handler clears the status: the line drops. */
	clear_sts(f, PWRBTN_STS);
	assert_false(f->sci.level);
	assert_int_equal(sts(f), 0);

	/* A later press is a new edge. */
	acpi_pm_power_button(f->pm);
	assert_true(f->sci.level);
	assert_int_equal(f->sci.raises, 2);
	assert_sci_consistent(f);
}

static void test_wak_sts_never_raises_sci(void **state)
{
	struct fx *f = *state;

	set_en(f, 0xFFFF);
	acpi_pm_wake(f->pm);
	assert_int_equal(sts(f), WAK_STS);
	assert_false(f->sci.level);
	assert_int_equal(f->sci.raises, 0);
	/* EN bit 15 is reserved and not stored. */
	assert_int_equal(en(f) & 0x8000, 0);
}

static void test_sci_en_reads_one(void **state)
{
	struct fx *f = *state;
	struct dev *d = acpi_pm_cnt_dev(f->pm);

	wr(d, 0, 2, 0);
	assert_int_equal(cnt(f), SCI_EN);
	assert_int_equal(rd(d, 0, 1), SCI_EN);
	wr(d, 0, 1, 0);
	assert_int_equal(rd(d, 0, 1) & SCI_EN, SCI_EN);
	/* Writing 1 to SCI_EN is harmless and it still reads 1. */
	wr(d, 0, 2, SCI_EN);
	assert_int_equal(cnt(f), SCI_EN);
	assert_int_equal(f->sleeps, 0);
}

static void test_cnt_other_bits_stored(void **state)
{
	struct fx *f = *state;
	struct dev *d = acpi_pm_cnt_dev(f->pm);

	/* Everything but the write-only SLP_EN and GBL_RLS reads back. */
	wr(d, 0, 2, 0xFFFF & ~SLP_EN);
	assert_int_equal(cnt(f), 0xFFFF & ~(SLP_EN | GBL_RLS));
	wr(d, 0, 2, SLP_TYP(2) | 0x0002);
	assert_int_equal(cnt(f), SLP_TYP(2) | 0x0002 | SCI_EN);
	assert_int_equal(f->sleeps, 0);
	/* Writing one byte keeps the other. */
	wr(d, 0, 1, 0x00);
	assert_int_equal(cnt(f), SLP_TYP(2) | SCI_EN);
	wr(d, 1, 1, 0x00);
	assert_int_equal(cnt(f), SCI_EN);
}

static void test_slp_en_calls_sleep_once(void **state)
{
	struct fx *f = *state;
	struct dev *d = acpi_pm_cnt_dev(f->pm);

	for (unsigned typ = 0; typ < 8; typ++) {
		unsigned int before = f->sleeps;

		/* Linux: SLP_TYP first, then SLP_TYP | SLP_EN. */
		wr(d, 0, 2, SLP_TYP(typ) | SCI_EN);
		assert_int_equal(f->sleeps, before);
		wr(d, 0, 2, SLP_TYP(typ) | SLP_EN | SCI_EN);
		assert_int_equal(f->sleeps, before + 1);
		assert_int_equal(f->last_typ, typ);
		/* SLP_EN reads 0; SLP_TYP is kept. */
		assert_int_equal(cnt(f), SLP_TYP(typ) | SCI_EN);
	}
	struct acpi_pm_stats st;
	acpi_pm_get_stats(f->pm, &st);
	assert_int_equal(st.sleeps, 8);
}

static void test_slp_en_byte_writes(void **state)
{
	struct fx *f = *state;
	struct dev *d = acpi_pm_cnt_dev(f->pm);

	/* A byte write at +1 carries both SLP_TYP and SLP_EN. */
	wr(d, 1, 1, (SLP_TYP(5) | SLP_EN) >> 8);
	assert_int_equal(f->sleeps, 1);
	assert_int_equal(f->last_typ, 5);
	/* A byte write at +0 keeps the stored SLP_TYP and never sleeps. */
	wr(d, 0, 1, 0xFF);
	assert_int_equal(f->sleeps, 1);
	assert_int_equal(cnt(f), SLP_TYP(5) | (0xFF & ~GBL_RLS));
	/* Another byte write at +1 sleeps again, with its own SLP_TYP. */
	wr(d, 1, 1, (SLP_TYP(7) | SLP_EN) >> 8);
	assert_int_equal(f->sleeps, 2);
	assert_int_equal(f->last_typ, 7);
	/* A 4-byte access does not fit the 2-byte block: dropped. */
	wr(d, 0, 4, SLP_TYP(1) | SLP_EN);
	assert_int_equal(f->sleeps, 2);
}

static void test_sleep_callback_unlocked(void **state)
{
	struct fx *f = *state;

	f->wake_in_sleep = true;
	wr(acpi_pm_cnt_dev(f->pm), 0, 2, SLP_TYP(1) | SLP_EN);
	assert_int_equal(f->sleeps, 1);
	assert_int_equal(sts(f), WAK_STS);
}

static void test_null_sleep_callback(void **state)
{
	struct fake_clock clk;
	struct acpi_pm *pm;

	fake_clock_init(&clk, 0, 0);
	pm = acpi_pm_create(NULL, &clk.clock, NULL, NULL);
	assert_non_null(pm);
	wr(acpi_pm_cnt_dev(pm), 0, 2, SLP_TYP(5) | SLP_EN);
	acpi_pm_power_button(pm); /* no SCI line: nothing to call */
	wr(acpi_pm_evt_dev(pm), 2, 2, PWRBTN_EN);
	assert_int_equal(rd(acpi_pm_evt_dev(pm), 0, 2), PWRBTN_STS);
	acpi_pm_destroy(pm);
	acpi_pm_destroy(NULL);
	/* A clock is required. */
	assert_null(acpi_pm_create(NULL, NULL, NULL, NULL));
}

/* Independent reference: floor(ns * 3579545 / 1e9) mod 2^24. */
static uint32_t ref_ticks(uint64_t ns)
{
	unsigned __int128 t = (unsigned __int128)ns * 3579545u / 1000000000u;
	return (uint32_t)(t & 0xFFFFFF);
}

static void test_timer_advances(void **state)
{
	struct fx *f = *state;

	assert_int_equal(tmr(f), 0);
	/* One tick is 279.37 ns. */
	fake_clock_advance_to(&f->clk, NULL, START_NS + 279, 0);
	assert_int_equal(tmr(f), 0);
	fake_clock_advance_to(&f->clk, NULL, START_NS + 280, 0);
	assert_int_equal(tmr(f), 1);
	/* Pure function of time: reading again without time passing is stable. */
	assert_int_equal(tmr(f), 1);
	fake_clock_advance_to(&f->clk, NULL, START_NS + 1000000000ULL, 0);
	assert_int_equal(tmr(f), 3579545);
	fake_clock_advance_to(&f->clk, NULL, START_NS + 4000000000ULL, 0);
	assert_int_equal(tmr(f), 4 * 3579545);
}

static void test_timer_wraps_at_24_bits(void **state)
{
	struct fx *f = *state;
	/* 2^24 ticks = 4.68697... s; the last ns before the wrap and the first after. */
	uint64_t wrap_ns = (((uint64_t)1 << 24) * 1000000000ULL + 3579545 - 1) / 3579545;

	fake_clock_advance_to(&f->clk, NULL, START_NS + wrap_ns - 1, 0);
	assert_int_equal(tmr(f), 0xFFFFFF);
	fake_clock_advance_to(&f->clk, NULL, START_NS + wrap_ns, 0);
	assert_int_equal(tmr(f), 0);
	fake_clock_advance_to(&f->clk, NULL, START_NS + 5000000000ULL, 0);
	assert_int_equal(tmr(f), 5 * 3579545 - (1 << 24));
	/* Bits 24-31 always read 0 (TMR_VAL_EXT = 0). */
	assert_int_equal(rd(acpi_pm_tmr_dev(f->pm), 3, 1), 0);
}

static void test_timer_function_no_overflow(void **state)
{
	static const uint64_t ns[] = {
		0,
		1,
		279,
		280,
		999999999,
		1000000000,
		/* ns * HZ no longer fits 64 bits from here on. */
		5153960755582ULL,
		5153960755583ULL,
		86400ULL * 1000000000ULL,
		0x7FFFFFFFFFFFFFFFULL,
		UINT64_MAX - 1,
		UINT64_MAX,
	};

	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		assert_int_equal(acpi_pm_timer_ticks(ns[i]), ref_ticks(ns[i]));
	for (uint64_t t = 0; t < 4000000; t += 7919)
		assert_int_equal(acpi_pm_timer_ticks(t * 1000003ULL), ref_ticks(t * 1000003ULL));
}

static void test_timer_byte_access(void **state)
{
	struct fx *f = *state;
	struct dev *d = acpi_pm_tmr_dev(f->pm);

	fake_clock_advance_to(&f->clk, NULL, START_NS + 3210987654ULL, 0);
	uint32_t v = tmr(f);
	assert_int_equal(v, ref_ticks(3210987654ULL));
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(rd(d, i, 1), (v >> (8 * i)) & 0xFF);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rd(d, i, 2), (v >> (8 * i)) & 0xFFFF);
	/* Writes are dropped and counted; the count does not change. */
	wr(d, 0, 4, 0);
	assert_int_equal(tmr(f), v);
	struct acpi_pm_stats st;
	acpi_pm_get_stats(f->pm, &st);
	assert_int_equal(st.bad_accesses, 1);
}

static void test_evt_odd_widths(void **state)
{
	struct fx *f = *state;
	struct dev *d = acpi_pm_evt_dev(f->pm);

	/* Byte writes to each byte of PM1_EN. */
	wr(d, 2, 1, 0x21);
	assert_int_equal(en(f), 0x0021);
	wr(d, 3, 1, 0x07);
	assert_int_equal(en(f), 0x0721);
	wr(d, 2, 1, 0x00);
	assert_int_equal(en(f), 0x0700);
	assert_int_equal(rd(d, 3, 1), 0x07);
	assert_int_equal(rd(d, 2, 1), 0x00);

	/* A 4-byte read sees STS in the low half and EN in the high half. */
	acpi_pm_power_button(f->pm);
	assert_int_equal(rd(d, 0, 4), PWRBTN_STS | (0x0700u << 16));
	assert_true(f->sci.level);

	/* A byte write of 1s to STS's low byte does not touch PWRBTN_STS (byte 1). */
	wr(d, 0, 1, 0xFF);
	assert_int_equal(sts(f), PWRBTN_STS);
	/* A 2-byte write at +1 covers STS high byte and EN low byte. */
	wr(d, 1, 2, 0x0101); /* clears PWRBTN_STS, sets TMR_EN, clears GBL_EN */
	assert_int_equal(sts(f), 0);
	assert_int_equal(en(f), 0x0701);
	assert_false(f->sci.level);
	assert_int_equal(rd(d, 1, 2), 0x0100);

	/* A 4-byte write sets EN and clears STS at once. */
	acpi_pm_power_button(f->pm);
	assert_true(f->sci.level);
	wr(d, 0, 4, (uint32_t)PWRBTN_EN << 16 | PWRBTN_STS);
	assert_int_equal(sts(f), 0);
	assert_int_equal(en(f), PWRBTN_EN);
	assert_false(f->sci.level);

	/* 4-byte write that enables while leaving STS alone raises the SCI. */
	acpi_pm_power_button(f->pm);
	wr(d, 0, 4, 0);
	assert_false(f->sci.level);
	wr(d, 0, 4, (uint32_t)PWRBTN_EN << 16);
	assert_true(f->sci.level);
	assert_sci_consistent(f);
}

static void test_bad_accesses(void **state)
{
	struct fx *f = *state;
	struct dev *evt = acpi_pm_evt_dev(f->pm), *cn = acpi_pm_cnt_dev(f->pm),
		   *tm = acpi_pm_tmr_dev(f->pm);
	struct acpi_pm_stats st;
	uint8_t b[8];

	acpi_pm_power_button(f->pm);
	set_en(f, PWRBTN_EN);

	/* Reads that do not fit: all-ones over the whole length. */
	memset(b, 0, sizeof(b));
	evt->ops->read(evt, 0, b, 8);
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(b[i], 0xFF);
	assert_int_equal(rd(evt, 3, 2), 0xFFFF);
	assert_int_equal(rd(evt, 4, 1), 0xFF);
	assert_int_equal(rd(evt, 0, 3), 0xFFFFFF);
	assert_int_equal(rd(evt, UINT64_MAX, 1), 0xFF);
	assert_int_equal(rd(cn, 1, 2), 0xFFFF);
	assert_int_equal(rd(cn, 0, 4), 0xFFFFFFFF);
	assert_int_equal(rd(cn, 2, 1), 0xFF);
	assert_int_equal(rd(tm, 2, 4), 0xFFFFFFFF);
	assert_int_equal(rd(tm, 4, 1), 0xFF);
	assert_int_equal(rd(tm, 0, 0), 0);

	/* Writes that do not fit change nothing. */
	wr(evt, 3, 2, 0xFFFF);
	wr(evt, 0, 8, 0xFFFFFFFFFFFFFFFFULL);
	wr(evt, 0, 3, 0xFFFFFF);
	wr(evt, UINT64_MAX - 1, 2, 0xFFFF);
	wr(cn, 1, 2, 0xFFFF);
	wr(cn, 0, 8, 0xFFFF);
	assert_int_equal(sts(f), PWRBTN_STS);
	assert_int_equal(en(f), PWRBTN_EN);
	assert_int_equal(cnt(f), SCI_EN);
	assert_int_equal(f->sleeps, 0);
	assert_true(f->sci.level);

	acpi_pm_get_stats(f->pm, &st);
	assert_int_equal(st.bad_accesses, 17);
}

static void test_reset(void **state)
{
	struct fx *f = *state;

	set_en(f, PWRBTN_EN | TMR_EN);
	acpi_pm_power_button(f->pm);
	wr(acpi_pm_cnt_dev(f->pm), 0, 2, SLP_TYP(3) | 0x2);
	fake_clock_advance_to(&f->clk, NULL, START_NS + 1000000000ULL, 0);
	assert_true(f->sci.level);

	struct dev *d = acpi_pm_cnt_dev(f->pm);
	d->ops->reset(d);
	assert_int_equal(sts(f), 0);
	assert_int_equal(en(f), 0);
	assert_int_equal(cnt(f), SCI_EN);
	assert_false(f->sci.level);
	/* The PM timer keeps running across a reset. */
	assert_int_equal(tmr(f), 3579545);

	/* Each dev's reset hook resets the whole block set. */
	set_en(f, PWRBTN_EN);
	acpi_pm_power_button(f->pm);
	acpi_pm_evt_dev(f->pm)->ops->reset(acpi_pm_evt_dev(f->pm));
	assert_false(f->sci.level);
	set_en(f, PWRBTN_EN);
	acpi_pm_tmr_dev(f->pm)->ops->reset(acpi_pm_tmr_dev(f->pm));
	assert_int_equal(en(f), 0);
}

static void test_on_bus(void **state)
{
	struct fx *f = *state;
	struct bus bus;
	uint8_t b[4];

	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, 0x600, ACPI_PM1_EVT_LEN, acpi_pm_evt_dev(f->pm)), 0);
	assert_int_equal(bus_add(&bus, 0x604, ACPI_PM1_CNT_LEN, acpi_pm_cnt_dev(f->pm)), 0);
	assert_int_equal(bus_add(&bus, 0x608, ACPI_PM_TMR_LEN, acpi_pm_tmr_dev(f->pm)), 0);

	dev_data_put(b, 2, PWRBTN_EN);
	assert_true(bus_write(&bus, 0x602, b, 2));
	acpi_pm_power_button(f->pm);
	assert_true(f->sci.level);
	assert_true(bus_read(&bus, 0x600, b, 2));
	assert_int_equal(dev_data_get(b, 2), PWRBTN_STS);
	/* A 4-byte access straddling EVT and CNT reaches neither. */
	dev_data_put(b, 4, 0xFFFFFFFF);
	assert_false(bus_write(&bus, 0x603, b, 4));
	assert_int_equal(en(f), PWRBTN_EN);
	assert_true(bus_read(&bus, 0x604, b, 2));
	assert_int_equal(dev_data_get(b, 2), SCI_EN);
	dev_data_put(b, 2, SLP_TYP(5) | SLP_EN);
	assert_true(bus_write(&bus, 0x604, b, 2));
	assert_int_equal(f->sleeps, 1);
	assert_int_equal(f->last_typ, 5);
	fake_clock_advance_to(&f->clk, NULL, START_NS + 1000000000ULL, 0);
	assert_true(bus_read(&bus, 0x608, b, 4));
	assert_int_equal(dev_data_get(b, 4), 3579545);
	bus_fini(&bus);
}

struct presser {
	struct acpi_pm *pm;
	unsigned int n;
};

static void *press_thread(void *arg)
{
	struct presser *p = arg;

	for (unsigned int i = 0; i < p->n; i++)
		acpi_pm_power_button(p->pm);
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *f = *state;
	struct presser p = {.pm = f->pm, .n = 20000};
	pthread_t t;

	set_en(f, PWRBTN_EN);
	assert_int_equal(pthread_create(&t, NULL, press_thread, &p), 0);
	for (unsigned int i = 0; i < 20000; i++) {
		clear_sts(f, PWRBTN_STS);
		set_en(f, (i & 1) ? PWRBTN_EN : 0);
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	/* Whatever order the two threads ran in, the line matches the registers. */
	assert_sci_consistent(f);
	set_en(f, PWRBTN_EN);
	assert_sci_consistent(f);
	acpi_pm_power_button(f->pm);
	assert_true(f->sci.level);
	clear_sts(f, PWRBTN_STS);
	assert_false(f->sci.level);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_power_on_state),
		T(test_en_stores_defined_bits),
		T(test_sts_write_one_to_clear),
		T(test_tmr_sts_not_implemented),
		T(test_power_button_without_en),
		T(test_power_button_with_en),
		T(test_wak_sts_never_raises_sci),
		T(test_sci_en_reads_one),
		T(test_cnt_other_bits_stored),
		T(test_slp_en_calls_sleep_once),
		T(test_slp_en_byte_writes),
		T(test_sleep_callback_unlocked),
		cmocka_unit_test(test_null_sleep_callback),
		T(test_timer_advances),
		T(test_timer_wraps_at_24_bits),
		cmocka_unit_test(test_timer_function_no_overflow),
		T(test_timer_byte_access),
		T(test_evt_odd_widths),
		T(test_bad_accesses),
		T(test_reset),
		T(test_on_bus),
		T(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
