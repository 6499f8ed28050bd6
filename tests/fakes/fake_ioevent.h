/* SPDX-License-Identifier: MIT */
/*
 * A recording ioevent_ctl for unit tests and fuzz targets: keeps the set of
 * registered doorbells (as KVM would) and counts add()/del() calls. add()
 * returns @add_ret (0: registered). fake_ioevent_write() plays a guest
 * write that KVM would turn into an eventfd signal: true if a registration
 * matched and the fd was signalled.
 *
 * Header-only (static inline). Not thread-safe: the transport calls it with
 * its lock held, tests read it from the same thread.
 */
#ifndef FAKE_IOEVENT_H
#define FAKE_IOEVENT_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "hostel/ioevent.h"

#define FAKE_IOEV_MAX 64

struct fake_ioevent_reg {
	uint64_t addr, match;
	unsigned int len;
	bool use_match;
	int fd;
};

struct fake_ioevent {
	struct ioevent_ctl ctl;
	int add_ret;
	unsigned int adds, dels;
	unsigned int bad_dels; /* del() of something not registered */
	unsigned int nr;
	struct fake_ioevent_reg reg[FAKE_IOEV_MAX];
};

static inline bool fake_ioevent_same(const struct fake_ioevent_reg *r, uint64_t addr,
				     unsigned int len, bool use_match, uint64_t match, int fd)
{
	return r->addr == addr && r->len == len && r->use_match == use_match &&
	       (!use_match || r->match == match) && r->fd == fd;
}

static inline int fake_ioevent_add(struct ioevent_ctl *c, uint64_t addr, unsigned int len,
				   bool use_match, uint64_t match, int fd)
{
	struct fake_ioevent *f = (struct fake_ioevent *)c;

	f->adds++;
	if (f->add_ret)
		return f->add_ret;
	if (f->nr == FAKE_IOEV_MAX)
		return -ENOSPC;
	for (unsigned int i = 0; i < f->nr; i++)
		if (f->reg[i].addr == addr && f->reg[i].len == len)
			return -EEXIST; /* as KVM: one doorbell per address and length */
	f->reg[f->nr++] = (struct fake_ioevent_reg){addr, match, len, use_match, fd};
	return 0;
}

static inline void fake_ioevent_del(struct ioevent_ctl *c, uint64_t addr, unsigned int len,
				    bool use_match, uint64_t match, int fd)
{
	struct fake_ioevent *f = (struct fake_ioevent *)c;

	f->dels++;
	for (unsigned int i = 0; i < f->nr; i++) {
		if (fake_ioevent_same(&f->reg[i], addr, len, use_match, match, fd)) {
			f->reg[i] = f->reg[--f->nr];
			return;
		}
	}
	f->bad_dels++;
}

static const struct ioevent_ops fake_ioevent_ops = {
	.add = fake_ioevent_add,
	.del = fake_ioevent_del,
};

static inline void fake_ioevent_init(struct fake_ioevent *f)
{
	memset(f, 0, sizeof(*f));
	f->ctl.ops = &fake_ioevent_ops;
}

/* The registration at @addr (any length), or NULL. */
static inline const struct fake_ioevent_reg *fake_ioevent_find(const struct fake_ioevent *f,
							       uint64_t addr)
{
	for (unsigned int i = 0; i < f->nr; i++)
		if (f->reg[i].addr == addr)
			return &f->reg[i];
	return NULL;
}

/* A guest write of @len bytes of @val at @addr, as KVM matches it. */
static inline bool fake_ioevent_write(struct fake_ioevent *f, uint64_t addr, unsigned int len,
				      uint64_t val)
{
	for (unsigned int i = 0; i < f->nr; i++) {
		const struct fake_ioevent_reg *r = &f->reg[i];
		uint64_t one = 1;

		if (r->addr != addr || r->len != len || (r->use_match && r->match != val))
			continue;
		return write(r->fd, &one, sizeof(one)) == sizeof(one);
	}
	return false;
}

#endif
