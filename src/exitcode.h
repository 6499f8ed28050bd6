/* SPDX-License-Identifier: MIT */
/*
 * hostel's exit statuses, chosen once (README "Exit status" table, and
 * `hostel --help`). They sit in 80-89 so they do not collide with what
 * commands commonly return (0-2, 126-127, 128+signal) when `hostel exec`
 * passes a guest command's status through.
 */
#ifndef HOSTEL_EXITCODE_H
#define HOSTEL_EXITCODE_H

#define HOSTEL_EXIT_OK		0  /* guest powered off, or a clean stop */
#define HOSTEL_EXIT_USAGE	2  /* bad or unknown command-line option */
#define HOSTEL_EXIT_HOST	80 /* hostel or host failure (no KVM, out of memory, I/O) */
#define HOSTEL_EXIT_BAD_INPUT	81 /* a kernel, initrd or image that cannot be used */
#define HOSTEL_EXIT_REBOOT	82 /* guest rebooted under --no-reboot */
#define HOSTEL_EXIT_PANIC	83 /* guest kernel panic */
#define HOSTEL_EXIT_CPU_FAILURE 84 /* triple fault, KVM internal error, failed VM entry */
#define HOSTEL_EXIT_TIMEOUT	85 /* --timeout reached */
#define HOSTEL_EXIT_NO_STATUS	86 /* exec: the guest stopped before the command's status came */

#endif
