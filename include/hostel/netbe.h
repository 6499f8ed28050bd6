/* SPDX-License-Identifier: MIT */
/*
 * A network backend as a network device sees it: something that takes
 * whole Ethernet frames from the guest and hands whole frames back.
 * Production: the user-mode stack (src/net/user.c, libslirp); tests: a
 * recorder (tests/fakes/fake_netbe.h).
 *
 * By default frames carry no virtio-net header and are complete: checksums
 * filled in, no segmentation offload (the device finishes partial
 * checksums before send and offers no TSO, so nothing larger than the MTU
 * arrives).
 *
 * Offloads: a backend whose kernel side takes virtio-net headers (a tap)
 * names the virtio-net feature bits it honours in ops->offloads
 * (NETBE_OFFLOADS at most) and has send_hdr(); the device then offers
 * those features, sends each frame with its header (a partial checksum
 * or a TSO frame as the guest left it, for the host kernel to finish),
 * and tells the backend with set_rx_offloads() which GUEST_* offloads the
 * guest took, so it may deliver frames with headers to match
 * (netbe_deliver_hdr). The device checks every header against what was
 * negotiated either way: headers are data, never trusted.
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

/*
 * A frame's virtio-net header (struct virtio_net_hdr_v1's layout, little
 * endian): flags NEEDS_CSUM (1) / DATA_VALID (2), gso_type NONE (0) /
 * TCPV4 (1) / TCPV6 (4), | ECN (0x80).
 */
struct netbe_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/* Virtio-net feature bits a backend may honour (virtio 1.x numbering). */
#define NETBE_F_GUEST_CSUM (1ull << 1)
#define NETBE_F_GUEST_TSO4 (1ull << 7)
#define NETBE_F_GUEST_TSO6 (1ull << 8)
#define NETBE_F_GUEST_ECN  (1ull << 9)
#define NETBE_F_HOST_TSO4  (1ull << 11)
#define NETBE_F_HOST_TSO6  (1ull << 12)
#define NETBE_F_HOST_ECN   (1ull << 13)
#define NETBE_F_GUEST_ALL                                                                          \
	(NETBE_F_GUEST_CSUM | NETBE_F_GUEST_TSO4 | NETBE_F_GUEST_TSO6 | NETBE_F_GUEST_ECN)
#define NETBE_OFFLOADS                                                                             \
	(NETBE_F_GUEST_ALL | NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6 | NETBE_F_HOST_ECN)

struct netbe_peer {
	/* @hdr: NULL for a complete frame (netbe_deliver). */
	void (*rx)(void *opaque, const struct netbe_hdr *hdr, const void *frame, size_t len);
	bool (*can_rx)(void *opaque);
	void *opaque;
};

struct netbe_ops {
	const char *name;
	/* Start delivering (spawn the backend's thread). 0 or -errno. */
	int (*start)(struct netbe *be);
	/* One frame to the network: 0, or -errno when it was dropped. */
	int (*send)(struct netbe *be, const void *frame, size_t len);
	/* Offloads (above): the feature bits honoured; 0 without send_hdr. */
	uint64_t offloads;
	/* One frame and its header, as send(). NULL: no offloads. */
	int (*send_hdr)(struct netbe *be, const struct netbe_hdr *hdr, const void *frame,
			size_t len);
	/*
	 * The guest takes these GUEST_* offloads from now on (its negotiated
	 * features; any thread, one call at a time). 0 or -errno (the
	 * backend then delivers complete frames). May be NULL.
	 */
	int (*set_rx_offloads)(struct netbe *be, uint64_t guest_features);
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

static inline bool netbe_has_offloads(const struct netbe *be)
{
	return be->ops->send_hdr && (be->ops->offloads & NETBE_OFFLOADS);
}

static inline int netbe_set_rx_offloads(struct netbe *be, uint64_t guest_features)
{
	return be->ops->set_rx_offloads
		       ? be->ops->set_rx_offloads(be, guest_features & NETBE_F_GUEST_ALL)
		       : 0;
}

/* Deliver a frame to the peer (backends call this). Dropped without a peer. */
static inline void netbe_deliver(struct netbe *be, const void *frame, size_t len)
{
	if (be->peer.rx)
		be->peer.rx(be->peer.opaque, NULL, frame, len);
}

/* The same with its virtio-net header (a backend with offloads). */
static inline void netbe_deliver_hdr(struct netbe *be, const struct netbe_hdr *hdr,
				     const void *frame, size_t len)
{
	if (be->peer.rx)
		be->peer.rx(be->peer.opaque, hdr, frame, len);
}

static inline bool netbe_peer_can_rx(struct netbe *be)
{
	return !be->peer.can_rx || be->peer.can_rx(be->peer.opaque);
}

#endif
