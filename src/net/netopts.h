/* SPDX-License-Identifier: MIT */
/*
 * Network options: "--net user[,hostfwd=...][,restrict=on|off][,mac=...]",
 * "--net tap,ifname=NAME[,mac=...]" and the config file's "net" key parse
 * into struct net_opts (no sockets, no libslirp here, so it is unit-tested
 * with the CLI).
 *
 * hostfwd=[tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT, as QEMU's:
 * an empty host address is every address (0.0.0.0), an empty guest address
 * the guest's DHCP address (10.0.2.15). Ports 1-65535; addresses IPv4
 * dotted quads.
 *
 * guestfwd=[tcp:]GUESTADDR:GUESTPORT-unix:PATH or ...-cmd:COMMAND, as
 * QEMU's: each TCP connection the guest makes to GUESTADDR:GUESTPORT is
 * joined to a new connection to the host's Unix socket PATH (absolute),
 * or to the standard input and output of a new COMMAND (split into words
 * as a shell would, quotes included, but run without one; a --net string
 * cannot hold a comma, the config file can).
 * GUESTADDR is an otherwise unused address of 10.0.2.0/24: not the
 * network or broadcast address, the host (.2), the DNS forwarder (.3) or
 * the DHCP pool (.15-.30).
 */
#ifndef HOSTEL_NETOPTS_H
#define HOSTEL_NETOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"

#define NET_MAX_NICS   4
#define NET_MAX_FWDS   16
#define NET_MAX_GFWDS  8
#define NET_GFWD_MAX   256 /* a guestfwd's target: the path or command, with the NUL */
#define NET_IFNAME_MAX 16  /* IFNAMSIZ: 15 characters and the NUL */

enum net_kind { NET_USER, NET_TAP };

struct net_fwd {
	bool udp;
	uint32_t host_addr; /* network byte order (struct in_addr's s_addr) */
	uint16_t host_port;
	uint32_t guest_addr; /* 0: the guest's DHCP address */
	uint16_t guest_port;
};

struct net_gfwd {
	uint32_t guest_addr; /* network byte order */
	uint16_t guest_port;
	bool cmd;		   /* target is a command, not a Unix socket path */
	char target[NET_GFWD_MAX]; /* cmd: 1-255 bytes; unix: an absolute path below 108 bytes */
};

struct net_opts {
	enum net_kind kind;
	char ifname[NET_IFNAME_MAX]; /* tap: the host interface (required) */
	bool restricted; /* user, restrict=on: the guest reaches only the host's forwards */
	bool has_mac;	 /* mac= given; otherwise derived from the VM (vnet_mac_from_seed) */
	uint8_t mac[6];
	unsigned int nr_fwds;
	struct net_fwd fwds[NET_MAX_FWDS];
	unsigned int nr_gfwds;
	struct net_gfwd gfwds[NET_MAX_GFWDS];
};

/* "user[,...]" or "tap,..." as above; 0, or -EINVAL with one line in @err. */
int net_parse(const char *s, struct net_opts *n, char *err, size_t errlen) __must_check;
/* One hostfwd value; 0 or -EINVAL with @err. */
int net_parse_fwd(const char *s, struct net_fwd *f, char *err, size_t errlen) __must_check;
/* One guestfwd value; 0 or -EINVAL with @err. */
int net_parse_gfwd(const char *s, struct net_gfwd *g, char *err, size_t errlen) __must_check;
/*
 * 0, or -EINVAL with @err when two of @n's guestfwds share a guest address
 * and port (libslirp would take only the first).
 */
int net_check_gfwds(const struct net_opts *n, char *err, size_t errlen) __must_check;
/*
 * A Linux interface name as the kernel takes it (dev_valid_name): 1-15
 * bytes, not "." or "..", no '/', ':' or white space. Stricter: printable
 * ASCII only. 0 or -EINVAL.
 */
int net_check_ifname(const char *s) __must_check;
/* "aa:bb:cc:dd:ee:ff", unicast only; 0 or -EINVAL. */
int net_parse_mac(const char *s, uint8_t mac[6]) __must_check;

/* The forms net_parse takes back: "tcp:127.0.0.1:2222-10.0.2.15:22", "02:..". */
void net_format_fwd(const struct net_fwd *f, char *buf, size_t len);
/* "tcp:10.0.2.100:80-unix:/run/x.sock", as net_parse_gfwd takes it back. */
void net_format_gfwd(const struct net_gfwd *g, char *buf, size_t len);
void net_format_mac(const uint8_t mac[6], char *buf, size_t len);

#endif
