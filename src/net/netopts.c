// SPDX-License-Identifier: MIT
/* Parsing and printing of network options (netopts.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/netopts.h"

static int parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;

	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/* "[ADDR]:PORT" in @s[0..len). */
static int parse_endpoint(const char *s, size_t len, uint32_t *addr, uint16_t *port)
{
	const char *colon = memchr(s, ':', len);
	char a[INET_ADDRSTRLEN];
	struct in_addr ia;
	size_t alen;

	if (!colon)
		return -EINVAL;
	alen = (size_t)(colon - s);
	*addr = 0;
	if (alen) {
		if (alen >= sizeof(a))
			return -EINVAL;
		memcpy(a, s, alen);
		a[alen] = '\0';
		if (inet_pton(AF_INET, a, &ia) != 1)
			return -EINVAL;
		*addr = ia.s_addr;
	}
	return parse_port(colon + 1, len - alen - 1, port);
}

int net_parse_fwd(const char *s, struct net_fwd *f, char *err, size_t errlen)
{
	const char *p = s, *dash;

	memset(f, 0, sizeof(*f));
	if (!strncmp(p, "tcp:", 4)) {
		p += 4;
	} else if (!strncmp(p, "udp:", 4)) {
		f->udp = true;
		p += 4;
	} else if (p[0] != ':') {
		goto bad;
	} else {
		p++; /* ":HOSTADDR:..." with the protocol left out: tcp */
	}
	dash = strchr(p, '-');
	if (!dash || parse_endpoint(p, (size_t)(dash - p), &f->host_addr, &f->host_port) ||
	    parse_endpoint(dash + 1, strlen(dash + 1), &f->guest_addr, &f->guest_port))
		goto bad;
	return 0;
bad:
	snprintf(err, errlen,
		 "hostfwd '%s': expected [tcp|udp]:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT "
		 "(IPv4 addresses, ports 1-65535)",
		 s);
	return -EINVAL;
}

/* 10.0.2.0/24 as libslirp is set up (user.c): host .2, DNS .3, DHCP .15-.30. */
static bool gfwd_addr_ok(uint32_t be_addr)
{
	uint32_t a = ntohl(be_addr), host = a & 0xff;

	return (a & 0xffffff00u) == 0x0a000200u && host != 0 && host != 255 && host != 2 &&
	       host != 3 && (host < 15 || host > 30);
}

int net_parse_gfwd(const char *s, struct net_gfwd *g, char *err, size_t errlen)
{
	const char *p = s, *dash, *t;
	size_t tlen;

	memset(g, 0, sizeof(*g));
	if (!strncmp(p, "tcp:", 4))
		p += 4;
	dash = strchr(p, '-');
	if (!dash || parse_endpoint(p, (size_t)(dash - p), &g->guest_addr, &g->guest_port))
		goto bad;
	if (!g->guest_addr || !gfwd_addr_ok(g->guest_addr)) {
		snprintf(err, errlen,
			 "guestfwd '%s': the guest address must be a free address of 10.0.2.0/24 "
			 "(not .0, .2, .3, .15-.30 or .255)",
			 s);
		return -EINVAL;
	}
	t = dash + 1;
	if (!strncmp(t, "unix:", 5)) {
		t += 5;
		tlen = strlen(t);
		/* sockaddr_un's sun_path: 108 bytes with the NUL. */
		if (t[0] != '/' || tlen >= 108) {
			snprintf(err, errlen,
				 "guestfwd '%s': unix: needs an absolute socket path shorter than "
				 "108 bytes",
				 s);
			return -EINVAL;
		}
	} else if (!strncmp(t, "cmd:", 4)) {
		t += 4;
		tlen = strlen(t);
		g->cmd = true;
		if (tlen == 0 || tlen >= NET_GFWD_MAX || *t == ' ') {
			snprintf(err, errlen, "guestfwd '%s': cmd: needs a command of 1-%d bytes",
				 s, NET_GFWD_MAX - 1);
			return -EINVAL;
		}
	} else {
		goto bad;
	}
	memcpy(g->target, t, tlen + 1);
	return 0;
bad:
	snprintf(err, errlen,
		 "guestfwd '%s': expected [tcp:]GUESTADDR:GUESTPORT-unix:PATH or "
		 "[tcp:]GUESTADDR:GUESTPORT-cmd:COMMAND",
		 s);
	return -EINVAL;
}

int net_check_gfwds(const struct net_opts *n, char *err, size_t errlen)
{
	for (unsigned int i = 0; i < n->nr_gfwds && i < NET_MAX_GFWDS; i++) {
		for (unsigned int j = 0; j < i; j++) {
			char a[INET_ADDRSTRLEN] = "";
			struct in_addr ia = {.s_addr = n->gfwds[i].guest_addr};

			if (n->gfwds[i].guest_addr != n->gfwds[j].guest_addr ||
			    n->gfwds[i].guest_port != n->gfwds[j].guest_port)
				continue;
			inet_ntop(AF_INET, &ia, a, sizeof(a));
			snprintf(err, errlen, "guestfwd: %s:%u is forwarded twice", a,
				 n->gfwds[i].guest_port);
			return -EINVAL;
		}
	}
	return 0;
}

int net_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
				      &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	/* A multicast (group) address cannot be a NIC's own. */
	if (mac[0] & 1)
		return -EINVAL;
	return 0;
}

int net_check_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= NET_IFNAME_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ':')
			return -EINVAL;
	}
	return 0;
}

int net_parse(const char *s, struct net_opts *n, char *err, size_t errlen)
{
	const char *p;
	char one[512], why[384];
	bool tap;

	memset(n, 0, sizeof(*n));
	if (!strncmp(s, "user", 4) && (s[4] == '\0' || s[4] == ',')) {
		n->kind = NET_USER;
		p = s + 4;
	} else if (!strncmp(s, "tap", 3) && (s[3] == '\0' || s[3] == ',')) {
		n->kind = NET_TAP;
		p = s + 3;
	} else {
		snprintf(err, errlen,
			 "--net '%s': expected "
			 "user[,hostfwd=...][,guestfwd=...][,restrict=on|off][,mac=...] or "
			 "tap,ifname=NAME[,mac=...]",
			 s);
		return -EINVAL;
	}
	tap = n->kind == NET_TAP;
	while (*p == ',') {
		const char *opt = p + 1, *end = strchrnul(opt, ',');
		size_t len = (size_t)(end - opt);

		p = end;
		if (len >= sizeof(one)) {
			snprintf(err, errlen, "--net '%.64s...': option too long", s);
			return -EINVAL;
		}
		memcpy(one, opt, len);
		one[len] = '\0';
		if (tap && (!strncmp(one, "hostfwd=", 8) || !strncmp(one, "guestfwd=", 9) ||
			    !strncmp(one, "restrict=", 9))) {
			snprintf(err, errlen, "--net '%s': '%s' is for user networking, not tap", s,
				 one);
			return -EINVAL;
		} else if (!tap && !strncmp(one, "ifname=", 7)) {
			snprintf(err, errlen,
				 "--net '%s': 'ifname=' is for tap, not user networking", s);
			return -EINVAL;
		} else if (!strncmp(one, "ifname=", 7)) {
			if (net_check_ifname(one + 7)) {
				snprintf(err, errlen,
					 "--net '%s': ifname '%s': expected an interface name of "
					 "1-15 characters without '/', ':' or spaces",
					 s, one + 7);
				return -EINVAL;
			}
			memcpy(n->ifname, one + 7, strlen(one + 7) + 1);
		} else if (!strncmp(one, "hostfwd=", 8)) {
			if (n->nr_fwds >= NET_MAX_FWDS) {
				snprintf(err, errlen, "--net '%s': at most %d hostfwd", s,
					 NET_MAX_FWDS);
				return -EINVAL;
			}
			if (net_parse_fwd(one + 8, &n->fwds[n->nr_fwds], why, sizeof(why))) {
				snprintf(err, errlen, "--net '%s': %s", s, why);
				return -EINVAL;
			}
			n->nr_fwds++;
		} else if (!strncmp(one, "guestfwd=", 9)) {
			if (n->nr_gfwds >= NET_MAX_GFWDS) {
				snprintf(err, errlen, "--net '%s': at most %d guestfwd", s,
					 NET_MAX_GFWDS);
				return -EINVAL;
			}
			if (net_parse_gfwd(one + 9, &n->gfwds[n->nr_gfwds], why, sizeof(why))) {
				snprintf(err, errlen, "--net '%s': %s", s, why);
				return -EINVAL;
			}
			n->nr_gfwds++;
		} else if (!strcmp(one, "restrict=on") || !strcmp(one, "restrict=yes")) {
			n->restricted = true;
		} else if (!strcmp(one, "restrict=off") || !strcmp(one, "restrict=no")) {
			n->restricted = false;
		} else if (!strncmp(one, "mac=", 4)) {
			if (net_parse_mac(one + 4, n->mac)) {
				snprintf(err, errlen,
					 "--net '%s': mac '%s': expected six hex bytes "
					 "aa:bb:cc:dd:ee:ff, unicast",
					 s, one + 4);
				return -EINVAL;
			}
			n->has_mac = true;
		} else {
			snprintf(err, errlen, "--net '%s': unknown option '%s' (%s)", s, one,
				 tap ? "ifname=, mac="
				     : "hostfwd=, guestfwd=, restrict=on|off, mac=");
			return -EINVAL;
		}
	}
	if (*p) {
		snprintf(err, errlen, "--net '%s': expected %s[,OPTION...]", s,
			 tap ? "tap" : "user");
		return -EINVAL;
	}
	if (net_check_gfwds(n, why, sizeof(why))) {
		snprintf(err, errlen, "--net '%s': %s", s, why);
		return -EINVAL;
	}
	if (tap && !n->ifname[0]) {
		snprintf(err, errlen,
			 "--net '%s': tap needs ifname=NAME (the host's tap interface)", s);
		return -EINVAL;
	}
	return 0;
}

void net_format_fwd(const struct net_fwd *f, char *buf, size_t len)
{
	char h[INET_ADDRSTRLEN] = "", g[INET_ADDRSTRLEN] = "";
	struct in_addr a;

	a.s_addr = f->host_addr;
	inet_ntop(AF_INET, &a, h, sizeof(h));
	if (f->guest_addr) {
		a.s_addr = f->guest_addr;
		inet_ntop(AF_INET, &a, g, sizeof(g));
	}
	snprintf(buf, len, "%s:%s:%u-%s:%u", f->udp ? "udp" : "tcp", h, f->host_port, g,
		 f->guest_port);
}

void net_format_gfwd(const struct net_gfwd *g, char *buf, size_t len)
{
	char a[INET_ADDRSTRLEN] = "";
	struct in_addr ia = {.s_addr = g->guest_addr};

	inet_ntop(AF_INET, &ia, a, sizeof(a));
	snprintf(buf, len, "tcp:%s:%u-%s:%s", a, g->guest_port, g->cmd ? "cmd" : "unix", g->target);
}

void net_format_mac(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}
