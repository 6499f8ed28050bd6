/* SPDX-License-Identifier: MIT */
/*
 * pvpanic, ISA flavour: a one-byte I/O port (0x505 by convention, announced
 * to the guest in the DSDT as device QEMU0001) through which a guest kernel
 * reports that it panicked or that a crash kernel is loaded. The ABI is
 * QEMU's (docs/specs/pvpanic.rst): reads return the events the host
 * supports, writes report events.
 *
 * The callbacks run on the writing vCPU thread; either may be NULL. The
 * device has no state and needs no lock.
 */
#ifndef HOSTEL_PVPANIC_H
#define HOSTEL_PVPANIC_H

#include <misc/pvpanic.h> /* UAPI: PVPANIC_PANICKED, PVPANIC_CRASH_LOADED */
#include "hostel/compiler.h"
#include "hostel/device.h"

#define PVPANIC_PORT 0x505
#define PVPANIC_LEN  1

struct pvpanic;

struct pvpanic *pvpanic_create(void (*panicked)(void *opaque), void (*crash_loaded)(void *opaque),
			       void *opaque) __must_check;
void pvpanic_destroy(struct pvpanic *p);
struct dev *pvpanic_dev(struct pvpanic *p);

#endif
