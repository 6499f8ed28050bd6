/* SPDX-License-Identifier: MIT */
/*
 * A recording msi_ctl for unit tests and fuzz targets: every route() call
 * is logged (the last FAKE_MSI_LOG of them) and the latest route of each
 * vector kept; fire() counts per vector. route() returns @route_ret.
 */
#ifndef FAKE_MSI_H
#define FAKE_MSI_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "hostel/msi.h"

#define FAKE_MSI_VECTORS 2048
#define FAKE_MSI_LOG	 64

struct fake_msi_route {
	unsigned int vec;
	uint64_t addr;
	uint32_t data;
	bool masked;
};

struct fake_msi {
	struct msi_ctl ctl;
	int route_ret;
	unsigned int routes;			      /* route() calls */
	unsigned int fires;			      /* fire() calls */
	struct fake_msi_route log[FAKE_MSI_LOG];      /* log[i % FAKE_MSI_LOG] = call i */
	struct fake_msi_route last[FAKE_MSI_VECTORS]; /* latest route of each vector */
	bool routed[FAKE_MSI_VECTORS];
	unsigned int fired[FAKE_MSI_VECTORS];
	unsigned int bad_vectors; /* calls with vec >= FAKE_MSI_VECTORS */
};

static inline int fake_msi_route(struct msi_ctl *c, unsigned int vec, uint64_t addr, uint32_t data,
				 bool masked)
{
	struct fake_msi *f = (struct fake_msi *)c;
	struct fake_msi_route r = {vec, addr, data, masked};

	f->log[f->routes % FAKE_MSI_LOG] = r;
	f->routes++;
	if (vec >= FAKE_MSI_VECTORS) {
		f->bad_vectors++;
		return f->route_ret;
	}
	f->last[vec] = r;
	f->routed[vec] = true;
	return f->route_ret;
}

static inline void fake_msi_fire(struct msi_ctl *c, unsigned int vec)
{
	struct fake_msi *f = (struct fake_msi *)c;

	f->fires++;
	if (vec >= FAKE_MSI_VECTORS)
		f->bad_vectors++;
	else
		f->fired[vec]++;
}

static const struct msi_ops fake_msi_ops = {
	.route = fake_msi_route,
	.fire = fake_msi_fire,
};

static inline void fake_msi_init(struct fake_msi *f)
{
	memset(f, 0, sizeof(*f));
	f->ctl.ops = &fake_msi_ops;
}

/* The @back-th most recent route() call (0 = the latest); needs routes > back. */
static inline const struct fake_msi_route *fake_msi_recent(const struct fake_msi *f,
							   unsigned int back)
{
	return &f->log[(f->routes - 1 - back) % FAKE_MSI_LOG];
}

#endif
