/* SPDX-License-Identifier: MIT */
/*
 * ACPI fixed-hardware power management registers (ACPI 6.4, chapter 4
 * "ACPI Hardware Specification", section 4.8.4 "fixed hardware registers"):
 *
 *   PM1a_EVT_BLK  4 bytes: PM1_STS (2 bytes, +0), PM1_EN (2 bytes, +2)
 *   PM1a_CNT_BLK  2 bytes: PM1_CNT
 *   PM_TMR_BLK    4 bytes: PM_TMR, 24-bit, 3.579545 MHz (FADT TMR_VAL_EXT = 0)
 *
 * The board chooses the ports, puts them in the FADT and routes the SCI
 * (level-triggered, active high). The machine is always in ACPI mode: there
 * is no SMI_CMD, SCI_EN reads 1.
 *
 * Implemented events: the power button (PWRBTN_STS/PWRBTN_EN) and WAK_STS
 * (set by acpi_pm_wake()). TMR_STS and the PM timer overflow interrupt are
 * not implemented: TMR_STS always reads 0, so TMR_EN can be set but never
 * raises the SCI. Linux uses the PM timer only as a clocksource and never
 * needs the overflow event. GBL, SLPBTN, RTC and PCIEXP_WAKE status bits
 * likewise never become set; their enable bits are stored and read back.
 *
 * Thread safety: every function may be called from any thread (registers
 * from vCPU threads, the power button from the event loop).
 */
#ifndef HOSTEL_ACPI_PM_H
#define HOSTEL_ACPI_PM_H

#include <stdint.h>
#include "hostel/clock.h"
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "hostel/irq.h"

/* Block lengths, for the board's bus_add() and FADT. */
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_LEN	 4

/* PM timer input clock (ACPI 6.4, 4.8.4.3 "Power Management Timer"). */
#define ACPI_PM_TIMER_HZ 3579545ULL

struct acpi_pm;

/*
 * @sci: the SCI line (may be NULL). @clk: time base for the PM timer.
 * @sleep: called once for every guest write to PM1_CNT with SLP_EN set,
 * with the SLP_TYP value (0-7) of that write; it runs on the writing vCPU
 * thread without the device lock held, so it may call back into acpi_pm_*.
 * The board maps the value it put in \_S5 to power-off. For a sleep state
 * the board does not model it should call acpi_pm_wake() at once so the
 * guest's wait for WAK_STS ends. @sleep may be NULL.
 */
struct acpi_pm *acpi_pm_create(struct irq_line *sci, struct clock *clk,
			       void (*sleep)(void *opaque, unsigned slp_typ),
			       void *opaque) __must_check;
void acpi_pm_destroy(struct acpi_pm *pm);

struct dev *acpi_pm_evt_dev(struct acpi_pm *pm); /* PM1a_EVT_BLK, ACPI_PM1_EVT_LEN bytes */
struct dev *acpi_pm_cnt_dev(struct acpi_pm *pm); /* PM1a_CNT_BLK, ACPI_PM1_CNT_LEN bytes */
struct dev *acpi_pm_tmr_dev(struct acpi_pm *pm); /* PM_TMR_BLK, ACPI_PM_TMR_LEN bytes */

/* Power-button press: sets PWRBTN_STS; the SCI rises if PWRBTN_EN is set. */
void acpi_pm_power_button(struct acpi_pm *pm);

/* The machine is back in the working state: sets WAK_STS (no SCI). */
void acpi_pm_wake(struct acpi_pm *pm);

/*
 * Back to power-on state: STS, EN and CNT cleared (SCI_EN still reads 1),
 * SCI low. The PM timer keeps running, as it does across a reset on real
 * chipsets. All three devs' reset hooks call this.
 */
void acpi_pm_reset(struct acpi_pm *pm);

/*
 * The 24-bit PM timer value @ns nanoseconds after the device was created
 * (a pure function; the count starts at 0 when acpi_pm_create() runs).
 */
uint32_t acpi_pm_timer_ticks(uint64_t ns);

struct acpi_pm_stats {
	uint64_t bad_accesses; /* bad length/offset, or writes to PM_TMR */
	uint64_t sleeps;       /* SLP_EN writes */
};

void acpi_pm_get_stats(struct acpi_pm *pm, struct acpi_pm_stats *st);

#endif
