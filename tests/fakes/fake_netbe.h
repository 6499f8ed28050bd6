/* SPDX-License-Identifier: MIT */
/*
 * A network backend for tests (include/hostel/netbe.h): records the frames
 * the device sends (up to FAKE_NETBE_FRAMES, each up to FAKE_NETBE_MAX
 * bytes; more are counted only), can refuse sends, and injects received
 * frames with fnb_inject() as a backend's thread would.
 */
#ifndef FAKE_NETBE_H
#define FAKE_NETBE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hostel/netbe.h"

#define FAKE_NETBE_FRAMES 64
#define FAKE_NETBE_MAX	  70000

struct fake_netbe {
	struct netbe be;
	unsigned int sent; /* send() calls that succeeded */
	unsigned int resumes;
	bool refuse; /* send() fails with -ENOBUFS */
	size_t len[FAKE_NETBE_FRAMES];
	uint8_t frame[FAKE_NETBE_FRAMES][FAKE_NETBE_MAX];
};

static inline int fnb_send(struct netbe *be, const void *frame, size_t len)
{
	struct fake_netbe *f = (struct fake_netbe *)be;

	if (f->refuse)
		return -ENOBUFS;
	if (f->sent < FAKE_NETBE_FRAMES && len <= FAKE_NETBE_MAX) {
		memcpy(f->frame[f->sent], frame, len);
		f->len[f->sent] = len;
	}
	__atomic_fetch_add(&f->sent, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static inline void fnb_rx_resume(struct netbe *be)
{
	struct fake_netbe *f = (struct fake_netbe *)be;

	__atomic_fetch_add(&f->resumes, 1, __ATOMIC_SEQ_CST);
}

static inline void fnb_destroy(struct netbe *be)
{
	(void)be; /* owned by the test */
}

static const struct netbe_ops fake_netbe_ops = {
	.name = "fake",
	.send = fnb_send,
	.rx_resume = fnb_rx_resume,
	.destroy = fnb_destroy,
};

static inline void fnb_init(struct fake_netbe *f)
{
	memset(f, 0, sizeof(*f));
	f->be.ops = &fake_netbe_ops;
}

/* A frame from the network, as the backend's thread hands it over. */
static inline void fnb_inject(struct fake_netbe *f, const void *frame, size_t len)
{
	netbe_deliver(&f->be, frame, len);
}

#endif
