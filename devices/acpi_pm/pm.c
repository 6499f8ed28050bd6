// SPDX-License-Identifier: MIT
/*
 * ACPI fixed-hardware PM1 event/control registers and the PM timer.
 *
 * References: ACPI Specification 6.4, chapter 4 "ACPI Hardware
 * Specification", section 4.8.4 (fixed hardware registers): 4.8.4.1.1 PM1
 * Status Registers (Table 4.11), 4.8.4.1.2 PM1 Enable Registers (Table
 * 4.12), 4.8.4.2.1 PM1 Control Registers (Table 4.13), 4.8.4.3 Power
 * Management Timer (PM_TMR). (ACPI 6.0 numbers the same sections 4.8.3.x.)
 *
 * Model:
 *  - Each block is a little-endian byte array as far as the guest is
 *    concerned: an access of 1, 2 or 4 bytes at any offset that fits inside
 *    the block touches exactly those bytes of the registers under it. Other
 *    lengths or offsets read as all-ones and are dropped on write.
 *  - PM1_STS bits are write-1-to-clear; a write touches only the bytes it
 *    covers. PM1_EN stores the defined enable bits.
 *  - The SCI is a level: high exactly while (PM1_STS & PM1_EN) has a bit set
 *    among the SCI sources, recomputed after every change under the lock.
 *  - PM1_CNT: SCI_EN always reads 1 (no SMI_CMD, the machine starts in ACPI
 *    mode); SLP_EN and GBL_RLS are write-only and read 0; the other bits are
 *    stored. A write with SLP_EN set calls the sleep callback once, after
 *    the lock is dropped.
 *  - PM_TMR is a pure function of clock_now(); writes are dropped.
 *
 * Trust: the guest supplies only offsets, lengths and register values.
 * Offsets and lengths are checked against the block size before any byte is
 * touched; register values are masked to their defined bits.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include "pm.h"
#include "hostel/log.h"

/* PM1_STS (Table 4.11). Bit 11 is reserved and must be ignored. */
#define PM1_STS_TMR	    (1u << 0)
#define PM1_STS_BM	    (1u << 4)
#define PM1_STS_GBL	    (1u << 5)
#define PM1_STS_PWRBTN	    (1u << 8)
#define PM1_STS_SLPBTN	    (1u << 9)
#define PM1_STS_RTC	    (1u << 10)
#define PM1_STS_PCIEXP_WAKE (1u << 14)
#define PM1_STS_WAK	    (1u << 15)

/* PM1_EN (Table 4.12): the enables sit at the same positions as their status bits. */
#define PM1_EN_TMR	       (1u << 0)
#define PM1_EN_GBL	       (1u << 5)
#define PM1_EN_PWRBTN	       (1u << 8)
#define PM1_EN_SLPBTN	       (1u << 9)
#define PM1_EN_RTC	       (1u << 10)
#define PM1_EN_PCIEXP_WAKE_DIS (1u << 14) /* a disable, not an SCI enable */

/* PM1_CNT (Table 4.13). */
#define PM1_CNT_SCI_EN	      (1u << 0)
#define PM1_CNT_BM_RLD	      (1u << 1)
#define PM1_CNT_GBL_RLS	      (1u << 2) /* write-only: would notify firmware; there is none */
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP	      (7u << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN	      (1u << 13) /* write-only */

/* Enable bits the guest can store. */
#define PM1_EN_MASK                                                                                \
	(PM1_EN_TMR | PM1_EN_GBL | PM1_EN_PWRBTN | PM1_EN_SLPBTN | PM1_EN_RTC |                    \
	 PM1_EN_PCIEXP_WAKE_DIS)
/* Status bits with an enable bit that routes them to the SCI (4.8.4.1). */
#define PM1_SCI_MASK (PM1_STS_TMR | PM1_STS_GBL | PM1_STS_PWRBTN | PM1_STS_SLPBTN | PM1_STS_RTC)
/* Status bits this model can set (and the guest can therefore clear). */
#define PM1_STS_IMPL (PM1_STS_PWRBTN | PM1_STS_WAK)
/* PM1_CNT bits stored as written: all but the write-only bits and SCI_EN (forced to 1). */
#define PM1_CNT_STORED ((uint16_t) ~(PM1_CNT_SLP_EN | PM1_CNT_GBL_RLS | PM1_CNT_SCI_EN))

#define NS_PER_SEC  1000000000ULL
#define PM_TMR_MASK 0xFFFFFFu /* 24-bit TMR_VAL */

struct acpi_pm {
	struct dev evt_dev, cnt_dev, tmr_dev;
	pthread_mutex_t lock;
	struct irq_line *sci;
	struct clock *clk;
	uint64_t base_ns; /* clock_now() at creation: the timer counts from here */
	void (*sleep_cb)(void *opaque, unsigned slp_typ);
	void *opaque;

	/* Protected by @lock. */
	uint16_t sts, en, cnt;
	bool sci_level;
	struct acpi_pm_stats st;
};

uint32_t acpi_pm_timer_ticks(uint64_t ns)
{
	/*
	 * floor(ns * HZ / 1e9) without overflowing 64 bits: split @ns into
	 * whole seconds and the remainder (remainder * HZ < 3.6e15).
	 */
	uint64_t secs = ns / NS_PER_SEC, rem = ns % NS_PER_SEC;
	uint64_t ticks = secs * ACPI_PM_TIMER_HZ + rem * ACPI_PM_TIMER_HZ / NS_PER_SEC;

	return (uint32_t)(ticks & PM_TMR_MASK);
}

/* Caller holds the lock. */
static void update_sci(struct acpi_pm *pm)
{
	bool level = (pm->sts & pm->en & PM1_SCI_MASK) != 0;

	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_set(pm->sci, level);
	}
}

/*
 * Checks an access of @len bytes at @off against a block of @size bytes and
 * returns the byte-lane mask of the bytes it covers, shifted to @off, or 0
 * if the access is not allowed (then the caller reads all-ones / drops).
 */
static uint32_t lane_mask(uint64_t off, unsigned len, unsigned size)
{
	if (len != 1 && len != 2 && len != 4)
		return 0;
	if (off >= size || len > size - off)
		return 0;
	return (uint32_t)((((uint64_t)1 << (8 * len)) - 1) << (8 * off));
}

static void bad_access(struct acpi_pm *pm, const char *blk, bool write, uint64_t off, unsigned len)
{
	pthread_mutex_lock(&pm->lock);
	pm->st.bad_accesses++;
	pthread_mutex_unlock(&pm->lock);
	log_ratelimited(LOG_DEBUG, "acpi-pm: dropped %s of %u bytes at %s+%#llx",
			write ? "write" : "read", len, blk, (unsigned long long)off);
}

static void put_lanes(void *data, unsigned len, uint64_t off, uint32_t reg)
{
	dev_data_put(data, len, reg >> (8 * off));
}

/* ---- PM1a_EVT_BLK: PM1_STS at +0, PM1_EN at +2 ---- */

static void evt_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct acpi_pm *pm = container_of(d, struct acpi_pm, evt_dev);
	uint32_t v;

	if (!lane_mask(off, len, ACPI_PM1_EVT_LEN)) {
		dev_data_put(data, len, ~0ULL);
		bad_access(pm, "PM1_EVT", false, off, len);
		return;
	}
	pthread_mutex_lock(&pm->lock);
	v = pm->sts | (uint32_t)pm->en << 16;
	pthread_mutex_unlock(&pm->lock);
	put_lanes(data, len, off, v);
}

static void evt_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct acpi_pm *pm = container_of(d, struct acpi_pm, evt_dev);
	uint32_t mask = lane_mask(off, len, ACPI_PM1_EVT_LEN);
	uint32_t v;
	uint16_t en_lanes;

	if (!mask) {
		bad_access(pm, "PM1_EVT", true, off, len);
		return;
	}
	/* Place the written bytes at their position in the 32-bit block. */
	v = (uint32_t)(dev_data_get(data, len) << (8 * off)) & mask;
	en_lanes = (uint16_t)(mask >> 16);

	pthread_mutex_lock(&pm->lock);
	/* PM1_STS: write 1 to clear; bytes not covered were shifted in as 0. */
	pm->sts &= (uint16_t) ~(v & PM1_STS_IMPL);
	/* PM1_EN: only the covered bytes change. */
	pm->en = (uint16_t)((pm->en & ~en_lanes) | ((v >> 16) & en_lanes)) & PM1_EN_MASK;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

/* ---- PM1a_CNT_BLK ---- */

static uint16_t cnt_visible(const struct acpi_pm *pm)
{
	return pm->cnt | PM1_CNT_SCI_EN;
}

static void cnt_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct acpi_pm *pm = container_of(d, struct acpi_pm, cnt_dev);
	uint16_t v;

	if (!lane_mask(off, len, ACPI_PM1_CNT_LEN)) {
		dev_data_put(data, len, ~0ULL);
		bad_access(pm, "PM1_CNT", false, off, len);
		return;
	}
	pthread_mutex_lock(&pm->lock);
	v = cnt_visible(pm);
	pthread_mutex_unlock(&pm->lock);
	put_lanes(data, len, off, v);
}

static void cnt_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct acpi_pm *pm = container_of(d, struct acpi_pm, cnt_dev);
	uint32_t mask = lane_mask(off, len, ACPI_PM1_CNT_LEN);
	uint16_t v, merged;
	bool sleep = false;

	if (!mask) {
		bad_access(pm, "PM1_CNT", true, off, len);
		return;
	}
	v = (uint16_t)(dev_data_get(data, len) << (8 * off)) & (uint16_t)mask;

	pthread_mutex_lock(&pm->lock);
	/* The register as the guest meant it: covered bytes new, others as they read. */
	merged = (uint16_t)((cnt_visible(pm) & ~mask) | v);
	pm->cnt = merged & PM1_CNT_STORED;
	/*
	 * SLP_EN (Table 4.13): writing 1 makes the hardware enter the state
	 * selected by SLP_TYP in the same register value.
	 */
	if (v & PM1_CNT_SLP_EN) {
		sleep = true;
		pm->st.sleeps++;
	}
	pthread_mutex_unlock(&pm->lock);

	if (sleep && pm->sleep_cb)
		pm->sleep_cb(pm->opaque, (merged & PM1_CNT_SLP_TYP) >> PM1_CNT_SLP_TYP_SHIFT);
}

/* ---- PM_TMR_BLK ---- */

static void tmr_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct acpi_pm *pm = container_of(d, struct acpi_pm, tmr_dev);

	if (!lane_mask(off, len, ACPI_PM_TMR_LEN)) {
		dev_data_put(data, len, ~0ULL);
		bad_access(pm, "PM_TMR", false, off, len);
		return;
	}
	/* Bits 24-31 read 0: the FADT says TMR_VAL_EXT = 0 (24-bit timer). */
	put_lanes(data, len, off, acpi_pm_timer_ticks(clock_now(pm->clk) - pm->base_ns));
}

static void tmr_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct acpi_pm *pm = container_of(d, struct acpi_pm, tmr_dev);

	/* PM_TMR is read-only (4.8.4.3). */
	bad_access(pm, "PM_TMR", true, off, len);
}

static void dev_reset_evt(struct dev *d)
{
	acpi_pm_reset(container_of(d, struct acpi_pm, evt_dev));
}

static void dev_reset_cnt(struct dev *d)
{
	acpi_pm_reset(container_of(d, struct acpi_pm, cnt_dev));
}

static void dev_reset_tmr(struct dev *d)
{
	acpi_pm_reset(container_of(d, struct acpi_pm, tmr_dev));
}

static const struct dev_ops evt_ops = {
	.name = "acpi-pm1-evt",
	.read = evt_read,
	.write = evt_write,
	.reset = dev_reset_evt,
};

static const struct dev_ops cnt_ops = {
	.name = "acpi-pm1-cnt",
	.read = cnt_read,
	.write = cnt_write,
	.reset = dev_reset_cnt,
};

static const struct dev_ops tmr_ops = {
	.name = "acpi-pm-tmr",
	.read = tmr_read,
	.write = tmr_write,
	.reset = dev_reset_tmr,
};

struct acpi_pm *acpi_pm_create(struct irq_line *sci, struct clock *clk,
			       void (*sleep)(void *opaque, unsigned slp_typ), void *opaque)
{
	struct acpi_pm *pm;

	if (!clk)
		return NULL;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	if (pthread_mutex_init(&pm->lock, NULL)) {
		free(pm);
		return NULL;
	}
	pm->evt_dev.ops = &evt_ops;
	pm->cnt_dev.ops = &cnt_ops;
	pm->tmr_dev.ops = &tmr_ops;
	pm->sci = sci;
	pm->clk = clk;
	pm->base_ns = clock_now(clk);
	pm->sleep_cb = sleep;
	pm->opaque = opaque;
	/* All registers 0 and the SCI low: the line is assumed to start low. */
	return pm;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

struct dev *acpi_pm_evt_dev(struct acpi_pm *pm)
{
	return &pm->evt_dev;
}

struct dev *acpi_pm_cnt_dev(struct acpi_pm *pm)
{
	return &pm->cnt_dev;
}

struct dev *acpi_pm_tmr_dev(struct acpi_pm *pm)
{
	return &pm->tmr_dev;
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts |= PM1_STS_PWRBTN;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_wake(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	/* WAK_STS has no enable bit and never raises the SCI (Table 4.11). */
	pm->sts |= PM1_STS_WAK;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_reset(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = 0;
	update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_get_stats(struct acpi_pm *pm, struct acpi_pm_stats *st)
{
	pthread_mutex_lock(&pm->lock);
	*st = pm->st;
	pthread_mutex_unlock(&pm->lock);
}
