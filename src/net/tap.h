/* SPDX-License-Identifier: MIT */
/*
 * The tap backend (--net tap,ifname=NAME), behind include/hostel/netbe.h:
 * the guest's frames go to a host tap interface and back, so the guest is
 * on whatever the host connects the tap to (a bridge, an address of its
 * own, a network namespace).
 *
 * The tap is opened through /dev/net/tun with IFF_TAP | IFF_NO_PI |
 * IFF_VNET_HDR and a 12-byte virtio-net header (TUNSETVNETHDRSZ), so the
 * offloads pass through (netbe.h "Offloads"): the guest's partial
 * checksums and TCP segments go to the kernel with their header, and the
 * kernel hands over partial checksums and large TCP segments (TUNSETOFFLOAD)
 * once the guest negotiated them, none before. An existing tap is attached to (it must allow this
 * user: `ip tuntap add NAME mode tap user USER`); a missing one is created
 * when hostel may (CAP_NET_ADMIN), and goes away with hostel. hostel
 * configures nothing on the host side: addresses, bridging and bringing
 * the link up are the host's (a tap that is down drops what the guest
 * sends).
 *
 * Threads: the backend's thread reads the tap while the device can take
 * frames (peer.can_rx) and waits for rx_resume otherwise; the kernel's
 * queue holds the rest. send() writes from the device's worker.
 *
 * A tap that goes away under a running VM (deleted: reads and writes fail
 * with EBADFD, poll says POLLERR) fails this NIC only: one error line,
 * then the thread stops and every later frame from the guest is dropped;
 * the VM keeps running.
 */
#ifndef HOSTEL_NET_TAP_H
#define HOSTEL_NET_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/netbe.h"
#include "net/netopts.h"

/*
 * The tap @o->ifname, opened and set up, not started. NULL with one line
 * in @why (no /dev/net/tun, no permission, the name taken by another kind
 * of interface or another process's tap).
 */
struct netbe *net_tap_create(const struct net_opts *o, char *why, size_t whylen) __must_check;

/*
 * The same on an fd the caller opened (tests: one end of a socketpair or
 * pipe stands in for the tap); the backend owns @fd from here (on NULL
 * it stays the caller's). @ifname names it in messages.
 */
struct netbe *net_tap_create_fd(int fd, const char *ifname) __must_check;

struct net_tap_stats {
	uint64_t rx_frames;  /* frames read from the tap and handed to the device */
	uint64_t rx_dropped; /* read but malformed: shorter than a header and an Ethernet header */
	uint64_t tx_frames;  /* frames written to the tap */
	uint64_t tx_dropped; /* writes refused (link down, no buffer space) */
	bool failed;	     /* the tap went away; the NIC is disconnected */
};
void net_tap_get_stats(struct netbe *be, struct net_tap_stats *st);

#endif
