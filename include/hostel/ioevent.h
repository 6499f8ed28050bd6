/* SPDX-License-Identifier: MIT */
/*
 * Doorbells without exits: a transport asks the platform to turn guest
 * writes at an address into eventfd signals (KVM ioeventfd). Tests, and a
 * platform without ioeventfd, deliver the write through the bus instead;
 * devices must handle both.
 */
#ifndef HOSTEL_IOEVENT_H
#define HOSTEL_IOEVENT_H

#include <stdbool.h>
#include <stdint.h>

struct ioevent_ctl;

struct ioevent_ops {
	/* Signal @fd on a @len-byte MMIO write at @addr (with value @match if
	 * @use_match). 0 or -errno. */
	int (*add)(struct ioevent_ctl *c, uint64_t addr, unsigned int len, bool use_match,
		   uint64_t match, int fd);
	void (*del)(struct ioevent_ctl *c, uint64_t addr, unsigned int len, bool use_match,
		    uint64_t match, int fd);
};

struct ioevent_ctl {
	const struct ioevent_ops *ops;
};

#endif
