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

struct rtc;

struct rtc *rtc_create(struct irq_line *irq8, struct clock *clk, struct timer *timer) __must_check;
void rtc_destroy(struct rtc *r);
struct dev *rtc_dev(struct rtc *r);
/* Board-provided CMOS bytes (e.g. memory size at 0x34/0x35, 0x5b-0x5d). */
void rtc_cmos_set(struct rtc *r, uint8_t index, uint8_t val);

#endif
