// SPDX-License-Identifier: MIT
/*
 * MSI-X emulation. See msix.h for the model.
 *
 * References: PCI Local Bus Specification 3.0, 6.8.2 "MSI-X Capability and
 * Table Structure" (6.8.2.3 Message Control, 6.8.2.4-6.8.2.5 Table and PBA
 * offsets, 6.8.2.6-6.8.2.9 table entries and Pending Bits).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>
#include "msix.h"
#include "pci.h"
#include "hostel/log.h"

_Static_assert(MSIX_CAP_LEN == PCI_CAP_MSIX_SIZEOF, "MSI-X capability size");
_Static_assert(MSIX_ENTRY_SIZE == PCI_MSIX_ENTRY_SIZE, "MSI-X entry size");
_Static_assert(MSIX_MAX_VECTORS == PCI_MSIX_FLAGS_QSIZE + 1, "Table Size field width");
_Static_assert(MSIX_NO_VECTOR >= MSIX_MAX_VECTORS, "no-vector must be out of range");

/* One table entry (6.8.2.6-6.8.2.9). */
struct msix_entry {
	uint32_t addr_lo; /* bits 1:0 read 0 */
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl; /* only PCI_MSIX_ENTRY_CTRL_MASKBIT is implemented */
};

struct msix {
	struct dev table_dev, pba_dev;
	pthread_mutex_t lock;
	struct msi_ctl *ctl;
	unsigned int nr;

	/* Protected by @lock. */
	bool enabled, fmask;
	struct msix_entry *tab; /* nr entries */
	uint64_t *pba;		/* (nr + 63) / 64 qwords */
	struct msix_stats stats;
};

static unsigned int pba_qwords(unsigned int nr)
{
	return (nr + 63) / 64;
}

static bool masked(const struct msix *m, unsigned int v)
{
	return !m->enabled || m->fmask || (m->tab[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);
}

static bool pending(const struct msix *m, unsigned int v)
{
	return (m->pba[v / 64] >> (v % 64)) & 1;
}

static void route(struct msix *m, unsigned int v)
{
	const struct msix_entry *e = &m->tab[v];
	int ret;

	ret = m->ctl->ops->route(m->ctl, v, (uint64_t)e->addr_hi << 32 | e->addr_lo, e->data,
				 masked(m, v));
	if (ret) {
		m->stats.route_errors++;
		log_ratelimited(LOG_WARN, "msix: routing vector %u failed (%d)", v, ret);
	}
}

static void fire(struct msix *m, unsigned int v)
{
	m->stats.fired++;
	m->ctl->ops->fire(m->ctl, v);
}

/*
 * Vector @v's effective mask went from @was to its current state, or (when
 * it did not change) its message did: tell the platform, and deliver a
 * pending message once unmasked (6.8.2.9: a pending message is sent as soon
 * as the vector is unmasked).
 */
static void vector_changed(struct msix *m, unsigned int v, bool was, bool msg_changed)
{
	bool now = masked(m, v);

	if (was == now && (now || !msg_changed))
		return;
	route(m, v);
	if (!now && pending(m, v)) {
		m->pba[v / 64] &= ~(1ull << (v % 64));
		fire(m, v);
	}
}

/* --- Creation -------------------------------------------------------- */

static void table_dev_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	msix_table_read(container_of(d, struct msix, table_dev), off, data, len);
}

static void table_dev_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	msix_table_write(container_of(d, struct msix, table_dev), off, data, len);
}

static void pba_dev_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	msix_pba_read(container_of(d, struct msix, pba_dev), off, data, len);
}

static void pba_dev_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	msix_pba_write(container_of(d, struct msix, pba_dev), off, data, len);
}

/* No reset ops: pci_host_reset() resets the msix through its capability. */
static const struct dev_ops table_ops = {
	.name = "msix-table",
	.read = table_dev_read,
	.write = table_dev_write,
};

static const struct dev_ops pba_ops = {
	.name = "msix-pba",
	.read = pba_dev_read,
	.write = pba_dev_write,
};

static void reset_locked(struct msix *m)
{
	for (unsigned int v = 0; v < m->nr; v++) {
		bool was = masked(m, v);

		m->tab[v] = (struct msix_entry){.ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT};
		if (!was)
			route(m, v); /* now masked */
	}
	m->enabled = false;
	m->fmask = false;
	memset(m->pba, 0, pba_qwords(m->nr) * sizeof(*m->pba));
}

struct msix *msix_create(unsigned int nr_vectors, struct msi_ctl *ctl)
{
	struct msix *m;

	if (!nr_vectors || nr_vectors > MSIX_MAX_VECTORS || !ctl || !ctl->ops || !ctl->ops->route ||
	    !ctl->ops->fire)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->tab = calloc(nr_vectors, sizeof(*m->tab));
	m->pba = calloc(pba_qwords(nr_vectors), sizeof(*m->pba));
	if (!m->tab || !m->pba || pthread_mutex_init(&m->lock, NULL))
		goto err;
	m->table_dev.ops = &table_ops;
	m->pba_dev.ops = &pba_ops;
	m->ctl = ctl;
	m->nr = nr_vectors;
	for (unsigned int v = 0; v < nr_vectors; v++)
		m->tab[v].ctrl = PCI_MSIX_ENTRY_CTRL_MASKBIT;
	return m;

err:
	free(m->tab);
	free(m->pba);
	free(m);
	return NULL;
}

void msix_destroy(struct msix *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->tab);
	free(m->pba);
	free(m);
}

unsigned int msix_nr_vectors(const struct msix *m)
{
	return m->nr;
}

uint64_t msix_table_size(const struct msix *m)
{
	return (uint64_t)m->nr * MSIX_ENTRY_SIZE;
}

uint64_t msix_pba_size(const struct msix *m)
{
	return (uint64_t)pba_qwords(m->nr) * 8;
}

/* --- Capability (6.8.2.1-6.8.2.5) ------------------------------------ */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

void msix_cap_bytes(const struct msix *m, unsigned int table_bir, uint32_t table_off,
		    unsigned int pba_bir, uint32_t pba_off, uint8_t out[MSIX_CAP_LEN])
{
	memset(out, 0, MSIX_CAP_LEN);
	out[PCI_CAP_LIST_ID] = PCI_CAP_ID_MSIX;
	put16(&out[PCI_MSIX_FLAGS], (uint16_t)(m->nr - 1));
	put32(&out[PCI_MSIX_TABLE],
	      (table_off & PCI_MSIX_TABLE_OFFSET) | (table_bir & PCI_MSIX_TABLE_BIR));
	put32(&out[PCI_MSIX_PBA], (pba_off & PCI_MSIX_PBA_OFFSET) | (pba_bir & PCI_MSIX_PBA_BIR));
}

/* Only Message Control is writable; the rest of the capability is read only. */
static void cap_write(void *opaque, uint8_t *cap, unsigned int cap_len, unsigned int off,
		      const uint8_t *data, unsigned int len)
{
	struct msix *m = opaque;
	uint8_t ctl[2];
	bool hit = false;

	put16(ctl, msix_control_read(m));
	for (unsigned int i = 0; i < len; i++) {
		unsigned int b = off + i;

		if (b == PCI_MSIX_FLAGS || b == PCI_MSIX_FLAGS + 1) {
			ctl[b - PCI_MSIX_FLAGS] = data[i];
			hit = true;
		}
	}
	if (hit)
		msix_control_write(m, (uint16_t)(ctl[0] | ctl[1] << 8));
	if (cap_len >= PCI_MSIX_FLAGS + 2)
		put16(&cap[PCI_MSIX_FLAGS], msix_control_read(m));
}

static void cap_read(void *opaque, uint8_t *cap, unsigned int cap_len, unsigned int off,
		     unsigned int len)
{
	if (cap_len >= PCI_MSIX_FLAGS + 2)
		put16(&cap[PCI_MSIX_FLAGS], msix_control_read(opaque));
}

static void cap_reset(void *opaque, uint8_t *cap, unsigned int cap_len)
{
	msix_reset(opaque);
	if (cap_len >= PCI_MSIX_FLAGS + 2)
		put16(&cap[PCI_MSIX_FLAGS], msix_control_read(opaque));
}

static const struct pci_cap_ops msix_cap_ops = {
	.write = cap_write,
	.read = cap_read,
	.reset = cap_reset,
};

/* [off, off + size) lies within memory BAR @bir of @f, 8-byte aligned. */
static bool region_ok(const struct pci_func *f, unsigned int bir, uint64_t off, uint64_t size)
{
	uint64_t bar = pci_func_bar_size(f, bir);

	return bar && pci_func_bar_flags(f, bir) != PCI_BAR_IO && !(off & 7) && off <= bar &&
	       size <= bar - off;
}

int msix_attach(struct msix *m, struct pci_func *f, unsigned int table_bir, uint32_t table_off,
		unsigned int pba_bir, uint32_t pba_off, unsigned int *cap_off)
{
	uint8_t cap[MSIX_CAP_LEN];
	uint64_t ts, ps;

	if (!m || !f)
		return -EINVAL;
	ts = msix_table_size(m);
	ps = msix_pba_size(m);
	if (!region_ok(f, table_bir, table_off, ts) || !region_ok(f, pba_bir, pba_off, ps))
		return -EINVAL;
	if (table_bir == pba_bir && table_off < pba_off + ps && pba_off < table_off + ts)
		return -EINVAL;
	msix_cap_bytes(m, table_bir, table_off, pba_bir, pba_off, cap);
	return pci_func_add_cap_hooked(f, cap, sizeof(cap), &msix_cap_ops, m, cap_off);
}

uint16_t msix_control_read(struct msix *m)
{
	uint16_t v;

	pthread_mutex_lock(&m->lock);
	v = (uint16_t)((m->nr - 1) | (m->fmask ? PCI_MSIX_FLAGS_MASKALL : 0) |
		       (m->enabled ? PCI_MSIX_FLAGS_ENABLE : 0));
	pthread_mutex_unlock(&m->lock);
	return v;
}

void msix_control_write(struct msix *m, uint16_t value)
{
	bool en = value & PCI_MSIX_FLAGS_ENABLE, fm = value & PCI_MSIX_FLAGS_MASKALL;
	bool old_en, old_fm;

	pthread_mutex_lock(&m->lock);
	old_en = m->enabled;
	old_fm = m->fmask;
	if (en == old_en && fm == old_fm)
		goto out;
	m->enabled = en;
	m->fmask = fm;
	if (!en)
		memset(m->pba, 0, pba_qwords(m->nr) * sizeof(*m->pba));
	for (unsigned int v = 0; v < m->nr; v++) {
		bool was = !old_en || old_fm || (m->tab[v].ctrl & PCI_MSIX_ENTRY_CTRL_MASKBIT);

		vector_changed(m, v, was, false);
	}
out:
	pthread_mutex_unlock(&m->lock);
}

bool msix_enabled(struct msix *m)
{
	bool en;

	pthread_mutex_lock(&m->lock);
	en = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return en;
}

/* --- Table and PBA (6.8.2.6-6.8.2.10) -------------------------------- */

/* Aligned dword or qword inside a region of @size bytes. */
static bool access_ok(uint64_t off, unsigned int len, uint64_t size)
{
	return (len == 4 || len == 8) && !(off & (len - 1)) && off < size && len <= size - off;
}

static uint32_t *entry_dw(struct msix_entry *e, unsigned int dw)
{
	switch (dw) {
	case 0:
		return &e->addr_lo;
	case 1:
		return &e->addr_hi;
	case 2:
		return &e->data;
	default:
		return &e->ctrl;
	}
}

void msix_table_read(struct msix *m, uint64_t off, void *data, unsigned int len)
{
	uint64_t v;

	pthread_mutex_lock(&m->lock);
	if (!access_ok(off, len, msix_table_size(m))) {
		m->stats.bad_accesses++;
		pthread_mutex_unlock(&m->lock);
		dev_data_put(data, len, ~0ull);
		return;
	}
	/* Aligned, so a qword is dwords 0-1 or 2-3 of one entry. */
	struct msix_entry *e = &m->tab[off / MSIX_ENTRY_SIZE];
	unsigned int dw = (unsigned int)(off % MSIX_ENTRY_SIZE) / 4;

	v = *entry_dw(e, dw);
	if (len == 8)
		v |= (uint64_t)*entry_dw(e, dw + 1) << 32;
	pthread_mutex_unlock(&m->lock);
	dev_data_put(data, len, v);
}

void msix_table_write(struct msix *m, uint64_t off, const void *data, unsigned int len)
{
	uint64_t v = dev_data_get(data, len);

	pthread_mutex_lock(&m->lock);
	if (!access_ok(off, len, msix_table_size(m))) {
		m->stats.bad_accesses++;
		pthread_mutex_unlock(&m->lock);
		log_ratelimited(LOG_DEBUG, "msix: dropped %u-byte table write at 0x%llx", len,
				(unsigned long long)off);
		return;
	}
	unsigned int vec = (unsigned int)(off / MSIX_ENTRY_SIZE);
	unsigned int dw = (unsigned int)(off % MSIX_ENTRY_SIZE) / 4;
	struct msix_entry *e = &m->tab[vec], old = *e;
	bool was = masked(m, vec);

	for (unsigned int i = 0; i < len / 4; i++, v >>= 32)
		*entry_dw(e, dw + i) = (uint32_t)v;
	/* Address bits 1:0 and the reserved vector control bits read 0 (6.8.2.6, 6.8.2.9). */
	e->addr_lo &= ~3u;
	e->ctrl &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
	vector_changed(m, vec, was,
		       e->addr_lo != old.addr_lo || e->addr_hi != old.addr_hi ||
			       e->data != old.data);
	pthread_mutex_unlock(&m->lock);
}

void msix_pba_read(struct msix *m, uint64_t off, void *data, unsigned int len)
{
	uint64_t v;

	pthread_mutex_lock(&m->lock);
	if (!access_ok(off, len, msix_pba_size(m))) {
		m->stats.bad_accesses++;
		pthread_mutex_unlock(&m->lock);
		dev_data_put(data, len, ~0ull);
		return;
	}
	v = m->pba[off / 8] >> (8 * (off % 8));
	pthread_mutex_unlock(&m->lock);
	dev_data_put(data, len, v);
}

void msix_pba_write(struct msix *m, uint64_t off, const void *data, unsigned int len)
{
	/* 6.8.2.10: the PBA is read only; software writes are ignored. */
	pthread_mutex_lock(&m->lock);
	if (!access_ok(off, len, msix_pba_size(m)))
		m->stats.bad_accesses++;
	pthread_mutex_unlock(&m->lock);
}

struct dev *msix_table_dev(struct msix *m)
{
	return &m->table_dev;
}

struct dev *msix_pba_dev(struct msix *m)
{
	return &m->pba_dev;
}

/* --- Delivery -------------------------------------------------------- */

bool msix_notify(struct msix *m, unsigned int vec)
{
	pthread_mutex_lock(&m->lock);
	if (!m->enabled) {
		pthread_mutex_unlock(&m->lock);
		return false;
	}
	if (vec >= m->nr) {
		/* MSIX_NO_VECTOR, or a vector the device model got from the guest. */
		pthread_mutex_unlock(&m->lock);
		return true;
	}
	if (masked(m, vec)) {
		m->pba[vec / 64] |= 1ull << (vec % 64);
		m->stats.pended++;
	} else {
		fire(m, vec);
	}
	pthread_mutex_unlock(&m->lock);
	return true;
}

void msix_reset(struct msix *m)
{
	pthread_mutex_lock(&m->lock);
	reset_locked(m);
	pthread_mutex_unlock(&m->lock);
}

void msix_get_stats(struct msix *m, struct msix_stats *st)
{
	pthread_mutex_lock(&m->lock);
	*st = m->stats;
	pthread_mutex_unlock(&m->lock);
}
