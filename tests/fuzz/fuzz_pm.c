// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for devices/acpi_pm: random accesses of any width and
 * offset to the PM1 event, PM1 control and PM timer blocks, power-button
 * presses, wake events, clock advances and resets.
 *
 * Input: a stream of operations, each an opcode byte and its operands.
 * Checked after every operation: the SCI level equals (PM1_STS & PM1_EN)
 * != 0; PM1_CNT reads with SCI_EN set and SLP_EN clear; the sleep callback
 * runs exactly once per write that sets SLP_EN, with that write's SLP_TYP;
 * the PM timer reads the pure function of the fake clock, 24 bits wide.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "fake_clock.h"
#include "fake_irq.h"
#include "hostel/log.h"
#include "acpi_pm/pm.h"

#define SCI_EN 0x0001
#define SLP_EN 0x2000

struct ctx {
	struct acpi_pm *pm;
	struct fake_irq sci;
	struct fake_clock clk;
	uint64_t start;
	unsigned int sleeps, depth;
	unsigned int last_typ;
	bool press_in_sleep; /* the callback presses the power button (re-entry) */
};

static void on_sleep(void *opaque, unsigned slp_typ)
{
	struct ctx *c = opaque;

	if (++c->depth > 1 || slp_typ > 7)
		abort();
	c->sleeps++;
	c->last_typ = slp_typ;
	if (c->press_in_sleep)
		acpi_pm_power_button(c->pm); /* would deadlock if the lock were held */
	c->depth--;
}

static uint32_t rd(struct dev *d, uint64_t off, unsigned len)
{
	uint8_t b[8] = {0};

	d->ops->read(d, off, b, len);
	return (uint32_t)dev_data_get(b, len > 4 ? 4 : len);
}

static void check(struct ctx *c)
{
	uint32_t evt = rd(acpi_pm_evt_dev(c->pm), 0, 4);
	uint16_t sts = (uint16_t)evt, en = (uint16_t)(evt >> 16);
	uint16_t cnt = (uint16_t)rd(acpi_pm_cnt_dev(c->pm), 0, 2);
	uint32_t tmr = rd(acpi_pm_tmr_dev(c->pm), 0, 4);

	if (c->sci.level != ((sts & en) != 0))
		abort();
	if (!(cnt & SCI_EN) || (cnt & SLP_EN))
		abort();
	if (tmr != acpi_pm_timer_ticks(c->clk.now - c->start) || (tmr >> 24))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned lens[8] = {1, 2, 4, 1, 2, 4, 8, 3};
	struct ctx c;
	size_t i = 0;

	memset(&c, 0, sizeof(c));
	log_set_level(LOG_ERROR);
	fake_irq_init(&c.sci);
	c.start = 1000;
	fake_clock_init(&c.clk, c.start, 0);
	c.pm = acpi_pm_create(&c.sci.line, &c.clk.clock, on_sleep, &c);
	if (!c.pm)
		return 0;

	while (i < size) {
		uint8_t op = data[i++];
		uint8_t arg = i < size ? data[i++] : 0;
		/* Operands: offset 0-7 (past every block), one of the widths above. */
		uint64_t off = arg & 7;
		unsigned len = lens[(arg >> 3) & 7];
		uint8_t buf[8] = {0};
		size_t n = MIN((size_t)len, size - i);
		struct dev *d;

		switch (op % 10) {
		case 0: /* register reads */
		case 1:
		case 2:
			d = op % 10 == 0   ? acpi_pm_evt_dev(c.pm)
			    : op % 10 == 1 ? acpi_pm_cnt_dev(c.pm)
					   : acpi_pm_tmr_dev(c.pm);
			d->ops->read(d, off, buf, len);
			break;
		case 3: /* register writes */
		case 4:
		case 5: {
			unsigned before = c.sleeps;
			bool cnt = op % 10 == 4;

			memcpy(buf, data + i, n);
			i += n;
			d = op % 10 == 3 ? acpi_pm_evt_dev(c.pm)
			    : cnt	 ? acpi_pm_cnt_dev(c.pm)
					 : acpi_pm_tmr_dev(c.pm);
			d->ops->write(d, off, buf, len);
			/* SLP_EN is bit 5 of byte 1 of PM1_CNT. */
			bool fits = (len == 1 || len == 2) && off + len <= 2;
			bool slp = cnt && fits && off + len == 2 && (buf[1 - off] & 0x20);
			if (c.sleeps != before + (slp ? 1 : 0))
				abort();
			if (slp && c.last_typ != ((buf[1 - off] >> 2) & 7u))
				abort();
			break;
		}
		case 6:
			acpi_pm_power_button(c.pm);
			break;
		case 7: { /* advance the clock by up to ~2^(arg%48) ns */
			uint64_t step = 0;
			memcpy(&step, data + i, MIN((size_t)8, size - i));
			i += MIN((size_t)8, size - i);
			step &= ((uint64_t)1 << (arg % 48)) - 1;
			fake_clock_advance_to(&c.clk, NULL, c.clk.now + step, 0);
			break;
		}
		case 8:
			if (arg & 1)
				acpi_pm_wake(c.pm);
			else
				c.press_in_sleep = !c.press_in_sleep;
			break;
		case 9: {
			struct dev *devs[3] = {acpi_pm_evt_dev(c.pm), acpi_pm_cnt_dev(c.pm),
					       acpi_pm_tmr_dev(c.pm)};
			d = devs[arg % 3];
			d->ops->reset(d);
			break;
		}
		}
		check(&c);
	}

	struct acpi_pm_stats st;
	acpi_pm_get_stats(c.pm, &st);
	if (st.sleeps != c.sleeps)
		abort();
	acpi_pm_destroy(c.pm);
	return 0;
}
