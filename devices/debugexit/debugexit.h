/* SPDX-License-Identifier: MIT */
/*
 * debug-exit: a test hook with QEMU's isa-debug-exit semantics. A window of
 * 1 to 4 bytes at an I/O port chosen by the user (--debug-exit); a write of
 * value V (1, 2 or 4 bytes, as wide as the access) calls @exit(opaque, V),
 * and the board makes hostel exit with status (V << 1) | 1 so that no
 * guest-chosen value can look like a clean 0. Reads return all-ones, as an
 * unclaimed port would: the device has nothing to report.
 */
#ifndef HOSTEL_DEBUGEXIT_H
#define HOSTEL_DEBUGEXIT_H

#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/device.h"

#define DEBUGEXIT_MAX_LEN 4

struct debugexit;

/*
 * @len: window size in bytes, 1..DEBUGEXIT_MAX_LEN (the board registers the
 * same length on the bus); NULL for any other value. @exit runs on the
 * writing vCPU thread, once per accepted write; it may be NULL, and it may
 * not return.
 */
struct debugexit *debugexit_create(unsigned len, void (*exit)(void *opaque, uint32_t value),
				   void *opaque) __must_check;
void debugexit_destroy(struct debugexit *de);
struct dev *debugexit_dev(struct debugexit *de);

#endif
