/* SPDX-License-Identifier: MIT */
/*
 * Intel 8254 PIT: ports 0x40-0x43 (window of 4) and port 0x61 (system
 * control port B: channel 2 gate, speaker enable, refresh toggle, OUT2).
 * Input clock 1.193182 MHz. Counts are a pure function of clock_now().
 * Channel 0 drives IRQ 0 through @irq0; periodic modes use the one-shot
 * @timer, re-armed from its callback, never more than one pending expiry.
 */
#ifndef HOSTEL_PIT_H
#define HOSTEL_PIT_H

#include "hostel/clock.h"
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "hostel/irq.h"

#define PIT_FREQ_HZ 1193182ULL

struct pit;

struct pit *pit_create(struct irq_line *irq0, struct clock *clk, struct timer *timer) __must_check;
void pit_destroy(struct pit *p);
struct dev *pit_dev(struct pit *p);	   /* 0x40-0x43 */
struct dev *pit_port61_dev(struct pit *p); /* 0x61, window of 1 */

#endif
