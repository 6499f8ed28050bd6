// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for devices/pit: random accesses to ports 0x40-0x43 and
 * 0x61 of every width, interleaved with clock advances and resets.
 *
 * Input: a stream of operations, each an opcode byte and its operands.
 * Checked after every operation: an armed timer's deadline lies in the
 * future (a due expiry never lingers), IRQ 0 is only ever pulsed (never left
 * high), and during a clock advance each timer expiry delivers exactly one
 * interrupt and expiries are no more frequent than PIT_MIN_IRQ_TICKS allows
 * (plus the one edge a pending mode 2/3 count can add).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "fake_clock.h"
#include "fake_irq.h"
#include "hostel/log.h"
#include "pit/pit.h"

struct ctx {
	struct fake_clock clk;
	struct fake_timer tm;
	struct fake_irq irq;
	struct pit *pit;
};

static void check(struct ctx *c)
{
	if (c->tm.armed && c->tm.deadline <= c->clk.now)
		abort();
	if (c->irq.level)
		abort();
}

static void advance(struct ctx *c, uint64_t ns)
{
	unsigned fired = c->tm.fired, raises = c->irq.raises;
	uint64_t ticks = ns * PIT_FREQ_HZ / 1000000000ULL + 1;

	fake_clock_advance_to(&c->clk, &c->tm, c->clk.now + ns, UINT32_MAX);
	fired = c->tm.fired - fired;
	raises = c->irq.raises - raises;
	if (fired != raises)
		abort();
	if (fired > ticks / PIT_MIN_IRQ_TICKS + 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned widths[4] = {1, 2, 4, 8};
	struct ctx c;
	size_t i = 0;

	log_set_level(LOG_ERROR);
	fake_clock_init(&c.clk, 1000000000ULL, 0);
	fake_timer_init(&c.tm, &c.clk);
	fake_irq_init(&c.irq);
	c.pit = pit_create(&c.irq.line, &c.clk.clock, &c.tm.t);
	if (!c.pit)
		return 0;
	struct dev *d = pit_dev(c.pit), *d61 = pit_port61_dev(c.pit);

	while (i < size) {
		uint8_t op = data[i++];
		uint8_t a = i < size ? data[i++] : 0;
		uint64_t buf = 0;
		unsigned len = widths[(op >> 4) & 3];

		switch (op & 7) {
		case 0: /* write a PIT port */
		case 1:
			buf = a;
			d->ops->write(d, (op >> 1) & 3, &buf, len);
			break;
		case 2: /* read a PIT port */
			d->ops->read(d, (op >> 3) & 3, &buf, len);
			break;
		case 3: /* port 0x61 */
			if (op & 8) {
				buf = a;
				d61->ops->write(d61, 0, &buf, len);
			} else {
				d61->ops->read(d61, 0, &buf, len);
			}
			break;
		case 4: /* advance the clock by a << (0..12) ns */
		case 5:
			advance(&c, (uint64_t)a << ((op >> 3) % 13));
			break;
		case 6: /* a programmed count on channel 0 or 2: CW then LSB, MSB */
			buf = (op & 8) ? 0x80 | (a & 0x3f) : (a & 0x3f);
			d->ops->write(d, 3, &buf, 1);
			buf = i < size ? data[i++] : 0;
			d->ops->write(d, (op & 8) ? 2 : 0, &buf, 1);
			buf = i < size ? data[i++] : 0;
			d->ops->write(d, (op & 8) ? 2 : 0, &buf, 1);
			break;
		default:
			if (op & 8)
				d->ops->reset(d);
			else
				d61->ops->reset(d61);
			break;
		}
		check(&c);
	}
	/* Run well past any programmed count: still bounded. */
	advance(&c, 200000000ULL);
	check(&c);
	d->ops->destroy(d);
	return 0;
}
