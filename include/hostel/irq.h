/* SPDX-License-Identifier: MIT */
/*
 * An interrupt line as a device sees it. Production: KVM_IRQ_LINE on a GSI.
 * Tests: a recorder (tests/fakes/fake_irq.h).
 */
#ifndef HOSTEL_IRQ_H
#define HOSTEL_IRQ_H

#include <stdbool.h>

struct irq_line {
	void (*set_level)(struct irq_line *line, bool level);
};

static inline void irq_set(struct irq_line *line, bool level)
{
	if (line && line->set_level)
		line->set_level(line, level);
}

/* Edge-triggered ISA devices (PIT, RTC): raise then lower. */
static inline void irq_pulse(struct irq_line *line)
{
	irq_set(line, true);
	irq_set(line, false);
}

#endif
