/* SPDX-License-Identifier: MIT */
/*
 * MC146818 CMOS RTC: index port 0x70, data port 0x71 (window of 2), IRQ 8.
 * Time follows clock_realtime() (host time, UTC); BCD and binary, 12/24 h;
 * register C/D read-only; update-ended, alarm and periodic interrupts,
 * periodic ones coalesced (one pending at most). 128 bytes of CMOS.
 */
#ifndef HOSTEL_RTC_H
#define HOSTEL_RTC_H

#include <stdint.h>
#include "hostel/clock.h"
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "hostel/irq.h"

/*
 * Interrupt-rate clamp: the timer that raises IRQ 8 is never armed less
 * than this far ahead (1/4096 s), so the fastest periodic rate (RS = 3,
 * 8192 Hz) costs the event loop at most 4096 wake-ups a second. Register C
 * flags stay exact; only interrupt delivery is paced. IRQ 8 also stays high
 * until register C is read, so a guest gets at most one interrupt per read.
 */
#define RTC_MIN_IRQ_PERIOD_NS 244141ULL

struct rtc;

/*
 * Create an RTC reading host wall time now (registers A = 0x26, B = 0x02:
 * 32.768 kHz time base, 1024 Hz rate, BCD, 24-hour). Takes ownership of
 * @timer's fn/opaque; @irq8 may be NULL. NULL on bad arguments or no memory.
 * Reads of the index port (0x70) return 0xff; accesses wider than one byte
 * use the low byte (reads fill the other bytes with 0xff).
 */
struct rtc *rtc_create(struct irq_line *irq8, struct clock *clk, struct timer *timer) __must_check;
/* Cancels the timer and frees the RTC (NULL is a no-op); also ops->destroy. */
void rtc_destroy(struct rtc *r);
struct dev *rtc_dev(struct rtc *r);
/*
 * Board-provided CMOS bytes (e.g. memory size at 0x34/0x35, 0x5b-0x5d).
 * @index is masked to 0x7f; the clock registers 0x00-0x0d and the century
 * byte 0x32 are the RTC's own and are not changed (logged).
 */
void rtc_cmos_set(struct rtc *r, uint8_t index, uint8_t val);

#endif
