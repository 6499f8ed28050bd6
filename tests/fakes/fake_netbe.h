/* SPDX-License-Identifier: MIT */
/*
 * A network backend for tests (include/hostel/netbe.h): records the frames
 * the device sends (up to FAKE_NETBE_FRAMES, each up to FAKE_NETBE_MAX
 * bytes; more are counted only), can refuse sends, and injects received
 * frames with fnb_inject() as a backend's thread would. fnb_init_offloads()
 * makes it a backend with offloads, as a tap: every offload bit, the
 * header of each frame sent recorded, the last set_rx_offloads() kept, and
 * fnb_inject_hdr() for frames with a header.
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
	bool refuse;		   /* send() fails with -ENOBUFS */
	unsigned int sent_hdr;	   /* of sent, through send_hdr() */
	uint64_t rx_offloads;	   /* the last set_rx_offloads() */
	unsigned int set_offloads; /* set_rx_offloads() calls */
	struct netbe_hdr hdr[FAKE_NETBE_FRAMES];
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

static inline int fnb_send_hdr(struct netbe *be, const struct netbe_hdr *hdr, const void *frame,
			       size_t len)
{
	struct fake_netbe *f = (struct fake_netbe *)be;
	unsigned int i = f->sent;
	int r = fnb_send(be, frame, len);

	if (!r && i < FAKE_NETBE_FRAMES)
		f->hdr[i] = *hdr;
	if (!r)
		f->sent_hdr++;
	return r;
}

static inline int fnb_set_rx_offloads(struct netbe *be, uint64_t guest)
{
	struct fake_netbe *f = (struct fake_netbe *)be;

	f->rx_offloads = guest;
	f->set_offloads++;
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

static const struct netbe_ops fake_netbe_offload_ops = {
	.name = "fake-offloads",
	.send = fnb_send,
	.offloads = NETBE_OFFLOADS,
	.send_hdr = fnb_send_hdr,
	.set_rx_offloads = fnb_set_rx_offloads,
	.rx_resume = fnb_rx_resume,
	.destroy = fnb_destroy,
};

static inline void fnb_init(struct fake_netbe *f)
{
	memset(f, 0, sizeof(*f));
	f->be.ops = &fake_netbe_ops;
}

static inline void fnb_init_offloads(struct fake_netbe *f)
{
	memset(f, 0, sizeof(*f));
	f->be.ops = &fake_netbe_offload_ops;
}

/* A frame and its virtio-net header, as a backend with offloads hands it over. */
static inline void fnb_inject_hdr(struct fake_netbe *f, const struct netbe_hdr *hdr,
				  const void *frame, size_t len)
{
	netbe_deliver_hdr(&f->be, hdr, frame, len);
}

/* A frame from the network, as the backend's thread hands it over. */
static inline void fnb_inject(struct fake_netbe *f, const void *frame, size_t len)
{
	netbe_deliver(&f->be, frame, len);
}

#endif
