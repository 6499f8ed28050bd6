/* SPDX-License-Identifier: MIT */
/*
 * A network backend as a network device sees it: something that takes
 * whole Ethernet frames from the guest and hands whole frames back.
 * Production: the user-mode stack (src/net/user.c, libslirp); tests: a
 * recorder (tests/fakes/fake_netbe.h).
 *
 * Frames carry no virtio-net header and are complete: checksums filled in,
 * no segmentation offload (the device finishes partial checksums before
 * send, and offers no TSO/UFO, so nothing larger than the MTU arrives).
 *
 * Threads and lifetime:
 *  - send() is called from the device's worker thread, one call at a
 *    time; it never blocks. @frame is a host copy valid for the call only.
 *  - the backend calls peer.rx() from its own thread (or from inside
 *    send(), as libslirp answers ARP and DHCP at once), one call at a
 *    time, with a frame valid for the call only; peer.rx() never blocks
 *    and never calls back into the backend.
 *  - peer.can_rx() says whether the device would queue a frame now; a
 *    backend that can wait (a tap: stop reading the fd) asks it first and
 *    waits for rx_resume(); one that cannot (libslirp) delivers anyway and
 *    the device drops and counts what does not fit. Either way the host
 *    memory held for the guest is bounded by the device's queue.
 *  - netbe_connect() before start(); the peer must outlive the backend's
 *    thread: destroy the backend (which joins it) before the peer.
 */
#ifndef HOSTEL_NETBE_H
#define HOSTEL_NETBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"

struct netbe;

struct netbe_peer {
	void (*rx)(void *opaque, const void *frame, size_t len);
	bool (*can_rx)(void *opaque);
	void *opaque;
};

struct netbe_ops {
	const char *name;
	/* Start delivering (spawn the backend's thread). 0 or -errno. */
	int (*start)(struct netbe *be);
	/* One frame to the network: 0, or -errno when it was dropped. */
	int (*send)(struct netbe *be, const void *frame, size_t len);
	/* The device has room again (after can_rx said no). May be NULL. */
	void (*rx_resume)(struct netbe *be);
	/* Stop the thread, free everything. */
	void (*destroy)(struct netbe *be);
};

struct netbe {
	const struct netbe_ops *ops;
	struct netbe_peer peer; /* set by netbe_connect() */
};

static inline void netbe_connect(struct netbe *be, const struct netbe_peer *peer)
{
	be->peer = *peer;
}

static inline int netbe_start(struct netbe *be)
{
	return be->ops->start ? be->ops->start(be) : 0;
}

static inline int netbe_send(struct netbe *be, const void *frame, size_t len)
{
	return be->ops->send(be, frame, len);
}

static inline void netbe_rx_resume(struct netbe *be)
{
	if (be->ops->rx_resume)
		be->ops->rx_resume(be);
}

static inline void netbe_destroy(struct netbe *be)
{
	if (be)
		be->ops->destroy(be);
}

/* Deliver a frame to the peer (backends call this). Dropped without a peer. */
static inline void netbe_deliver(struct netbe *be, const void *frame, size_t len)
{
	if (be->peer.rx)
		be->peer.rx(be->peer.opaque, frame, len);
}

static inline bool netbe_peer_can_rx(struct netbe *be)
{
	return !be->peer.can_rx || be->peer.can_rx(be->peer.opaque);
}

#endif
