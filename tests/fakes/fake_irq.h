/* SPDX-License-Identifier: MIT */
/* A recording interrupt line for unit tests. */
#ifndef FAKE_IRQ_H
#define FAKE_IRQ_H

#include <stdbool.h>
#include "hostel/irq.h"

struct fake_irq {
	struct irq_line line;
	bool level;	     /* current level */
	unsigned int raises; /* low -> high transitions */
	unsigned int sets;   /* calls to set_level */
};

static inline void fake_irq_set_level(struct irq_line *l, bool level)
{
	struct fake_irq *f = (struct fake_irq *)l;
	f->sets++;
	if (level && !f->level)
		f->raises++;
	f->level = level;
}

static inline void fake_irq_init(struct fake_irq *f)
{
	f->line.set_level = fake_irq_set_level;
	f->level = false;
	f->raises = 0;
	f->sets = 0;
}

#endif
