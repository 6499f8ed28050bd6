/* SPDX-License-Identifier: MIT */
/*
 * PC system control ports that reset the machine:
 *
 *   0xCF9  Reset Control Register (Intel PCH/ICH datasheets, "Reset Control
 *          Register (RST_CNT)"): a write with RST_CPU (bit 2) set requests a
 *          reset; SYS_RST (bit 1) would select a hard reset and FULL_RST
 *          (bit 3) a power cycle, both treated the same here. One byte.
 *          0xCF9 lies inside the dword of PCI CONFIG_ADDRESS (0xCF8): on
 *          Intel chipsets only 32-bit accesses at 0xCF8 reach CONFIG_ADDRESS,
 *          so the board's PCI host must pass byte accesses at 0xCF9 here.
 *   0x92   System Control Port A ("Fast A20 and INIT"): bit 0 ALT_RST
 *          resets the machine on a 0->1 transition, bit 1 ALT_A20 is stored
 *          and read back (it gates nothing: KVM guests always see A20 on,
 *          so it reads 1 after power-on, as a BIOS would leave it). One byte.
 *
 * @reset runs on the writing vCPU thread without the device lock held, so
 * it may reset this device; it may be NULL.
 */
#ifndef HOSTEL_SYSCTL_H
#define HOSTEL_SYSCTL_H

#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/device.h"

#define SYSCTL_RST_CNT_PORT 0xcf9
#define SYSCTL_PORT_A	    0x92
#define SYSCTL_PORT_LEN	    1 /* each of the two windows */

struct sysctl;

struct sysctl *sysctl_create(void (*reset)(void *opaque), void *opaque) __must_check;
void sysctl_destroy(struct sysctl *s);
struct dev *sysctl_rst_cnt_dev(struct sysctl *s); /* port 0xCF9 */
struct dev *sysctl_port_a_dev(struct sysctl *s);  /* port 0x92 */

/* Back to power-on state (both devs' reset hooks call this). */
void sysctl_reset(struct sysctl *s);

/* Reset requests passed to @reset so far. */
uint64_t sysctl_resets(struct sysctl *s);

#endif
