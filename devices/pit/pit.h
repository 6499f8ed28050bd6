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

/*
 * Interrupt-rate clamp: in the periodic modes (2, 3) channel 0 raises IRQ 0
 * at most once every PIT_MIN_IRQ_TICKS input clocks (~100.6 us, ~9.9 kHz),
 * so a guest programming a count of 1 cannot flood the event loop. Only the
 * timer is clamped: count reads and OUT stay exact. Linux programs 1193
 * (HZ=1000) or more, far above the clamp.
 */
#define PIT_MIN_IRQ_TICKS 120U

struct pit;

/*
 * Create a PIT. It takes ownership of @timer's fn/opaque (the provider keeps
 * arm/cancel); @irq0 may be NULL. Returns NULL on bad arguments or no memory.
 * Reads of port 0x43 (write-only) return 0xff; wider than 1-byte accesses
 * use the low byte (reads fill the other bytes with 0xff).
 */
struct pit *pit_create(struct irq_line *irq0, struct clock *clk, struct timer *timer) __must_check;
/* Cancels the timer and frees the PIT and both devices (NULL is a no-op).
 * pit_dev()'s ops->destroy does the same; pit_port61_dev() has none. */
void pit_destroy(struct pit *p);
struct dev *pit_dev(struct pit *p);	   /* 0x40-0x43 */
struct dev *pit_port61_dev(struct pit *p); /* 0x61, window of 1 */

#endif
