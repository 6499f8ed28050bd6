/* SPDX-License-Identifier: MIT */
/*
 * The user-mode network backend (--net user): libslirp, the stack QEMU's
 * "-nic user" uses, behind include/hostel/netbe.h. The guest's network is
 * 10.0.2.0/24 (and fec0::/64): DHCP hands out 10.0.2.15 and up, 10.0.2.2
 * is the host (its loopback included), 10.0.2.3 the DNS forwarder; TCP and
 * UDP are NATed to the host's sockets, ICMP echo where the host allows
 * unprivileged ping sockets. restrict=on keeps the guest from reaching
 * anything but the forwards. No privileges needed.
 *
 * Threads: the backend has its own thread, which polls libslirp's sockets
 * and runs its timers; send() (the device's worker) feeds libslirp under
 * the same lock. While the device's receive queue is full, the sockets are
 * not read for input (TCP's own flow control holds the sender back) until
 * the device says rx_resume.
 */
#ifndef HOSTEL_NET_USER_H
#define HOSTEL_NET_USER_H

#include <stddef.h>
#include "hostel/compiler.h"
#include "hostel/netbe.h"
#include "net/netopts.h"

/*
 * A user-mode backend for @o (its forwards listening when this returns),
 * not started. NULL with one line in @why (e.g. a forward's host port in
 * use, or hostel built without libslirp).
 */
struct netbe *net_user_create(const struct net_opts *o, char *why, size_t whylen) __must_check;

#endif
