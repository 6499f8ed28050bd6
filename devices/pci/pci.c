// SPDX-License-Identifier: MIT
/*
 * PCI host bridge (bus 0), configuration mechanism #1, ECAM, and the type 0
 * header / capability / BAR framework. See pci.h for the model.
 *
 * References: PCI Local Bus Specification 3.0 (PCI LB 3.0): 3.2.2.3.2
 * (configuration mechanism #1), 6.1 (configuration space organization),
 * 6.2.2 (Command), 6.2.3 (Status), 6.2.5.1 (BARs), 6.7 (capabilities
 * list); PCI Express Base Specification 4.0, 7.2.2 (ECAM).
 *
 * Every config access, whichever path it takes, ends as cfg_read() /
 * cfg_write() on one function with a register offset below 256 and an
 * access that lies within one dword: both paths check that before they
 * decode anything, so the per-register code never sees a crossing access.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>
#include "pci.h"
#include "hostel/log.h"

/* CONFIG_ADDRESS (PCI LB 3.0, 3.2.2.3.2, figure 3-2). */
#define CFG_ADDR_ENABLE 0x80000000u
#define CFG_ADDR_STORED 0x80fffffcu /* 30:24 reserved, 1:0 hardwired 0 */
#define CFG_ADDR_BUS(a) (((a) >> 16) & 0xff)
#define CFG_ADDR_DEV(a) (((a) >> 11) & 0x1f)
#define CFG_ADDR_FN(a)	(((a) >> 8) & 0x7)
#define CFG_ADDR_REG(a) ((a)&0xfc)
#define CFG_DATA_OFF	4 /* 0xCFC within the 0xCF8 window */
#define RST_CNT_OFF	1 /* 0xCF9 within the 0xCF8 window */

/* ECAM offsets (PCIe 4.0, 7.2.2, table 7-1), bus 0 only. */
#define ECAM_DEV(o) (((o) >> 15) & 0x1f)
#define ECAM_FN(o)  (((o) >> 12) & 0x7)
#define ECAM_REG(o) ((o)&0xfff)

/* Command bits hostel stores (6.2.2); the rest are hardwired 0. */
#define CMD_WRITABLE                                                                               \
	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE)

/* Base class 06h bridge, subclass 00h host bridge (PCI LB 3.0, appendix D). */
#define PCI_CLASS_HOST_BRIDGE 0x060000u

#define MAX_CAPS    ((PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF) / 4)
#define MAX_CAP_LEN (PCI_CFG_SPACE_SIZE - PCI_STD_HEADER_SIZEOF)

struct pci_bar {
	uint64_t size; /* 0: register unused, or the upper half of the BAR below */
	uint64_t addr; /* hostel's placement, 0 until assigned */
	struct dev *dev;
	uint8_t flags; /* PCI_BAR_* = the register's type bits */
	bool upper;    /* this register is the upper dword of bars[i - 1] */
	bool sizing;   /* all-ones written: the register reads the size mask */
};

struct pci_cap {
	unsigned int off, len;
	const struct pci_cap_ops *ops;
	void *opaque;
};

struct pci_func {
	struct pci_host *host;
	unsigned int slot;
	struct pci_dev_info info;
	uint8_t cfg[PCI_CFG_SPACE_SIZE];
	struct pci_bar bars[PCI_FUNC_BARS];
	struct pci_cap caps[MAX_CAPS];
	unsigned int nr_caps;
	unsigned int cap_end; /* next free capability offset */
	uint16_t command;     /* mirror of cfg[PCI_COMMAND], read lock-free */
};

struct pci_host {
	struct dev io_dev, ecam_dev;
	pthread_mutex_t lock;
	struct dev *cf9;
	bool assigned;

	/* Protected by @lock. */
	uint32_t cfg_addr;
	struct pci_func *slots[PCI_HOST_SLOTS];
	struct pci_host_stats stats;
};

/* Writable bits of the header outside the BARs (6.2.2-6.2.4). */
static uint8_t hdr_wmask(unsigned int reg)
{
	switch (reg) {
	case PCI_COMMAND:
		return CMD_WRITABLE & 0xff;
	case PCI_COMMAND + 1:
		return CMD_WRITABLE >> 8;
	case PCI_CACHE_LINE_SIZE: /* Linux writes it; a plain scratch byte here */
	case PCI_INTERRUPT_LINE:  /* written by software, never used by hostel */
		return 0xff;
	default:
		return 0;
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static bool len_ok(unsigned int len)
{
	return len == 1 || len == 2 || len == 4;
}

static uint32_t len_mask(unsigned int len)
{
	return len >= 4 ? 0xffffffffu : (1u << (8 * len)) - 1;
}

/* --- BARs (PCI LB 3.0, 6.2.5.1) -------------------------------------- */

static int bar_index(unsigned int reg)
{
	if (reg < PCI_BASE_ADDRESS_0 || reg > PCI_BASE_ADDRESS_5 + 3)
		return -1;
	return (int)((reg - PCI_BASE_ADDRESS_0) / 4);
}

static uint32_t bar_addr_mask(const struct pci_bar *b)
{
	return (b->flags & PCI_BAR_IO) ? (uint32_t)PCI_BASE_ADDRESS_IO_MASK
				       : (uint32_t)PCI_BASE_ADDRESS_MEM_MASK;
}

static uint32_t bar_reg_read(const struct pci_func *f, unsigned int i)
{
	const struct pci_bar *b = &f->bars[i], *lo;

	if (b->upper) {
		lo = &f->bars[i - 1];
		return (uint32_t)((b->sizing ? ~(lo->size - 1) : lo->addr) >> 32);
	}
	if (!b->size)
		return 0; /* unimplemented BAR: reads 0, sizing too */
	if (b->sizing)
		return ((uint32_t) ~(b->size - 1) & bar_addr_mask(b)) | b->flags;
	return ((uint32_t)b->addr & bar_addr_mask(b)) | b->flags;
}

/*
 * @v is the whole register after the guest's bytes were merged in. The
 * type bits are read only. All-ones in every address bit starts sizing;
 * anything else ends it, and unless it is the placement it is refused.
 */
static void bar_reg_write(struct pci_func *f, unsigned int i, uint32_t v)
{
	struct pci_bar *b = &f->bars[i];
	uint32_t mask, cur;

	if (b->upper) {
		mask = 0xffffffffu;
		cur = (uint32_t)(f->bars[i - 1].addr >> 32);
	} else if (b->size) {
		mask = bar_addr_mask(b);
		cur = (uint32_t)b->addr & mask;
	} else {
		f->host->stats.ro_writes++;
		return;
	}
	if ((v & mask) == mask) {
		b->sizing = true;
		return;
	}
	b->sizing = false;
	if ((v & mask) != cur) {
		f->host->stats.bar_moves_refused++;
		log_ratelimited(LOG_WARN,
				"pci: %02x.0 BAR%u: refused move to 0x%08x (hostel places BARs)",
				f->slot, i, v & mask);
	}
}

/* --- Capabilities (PCI LB 3.0, 6.7) ---------------------------------- */

/* The capability [reg, reg + len) touches, or NULL. Capabilities start on
 * dwords and accesses stay within one, so at most one is touched. */
static struct pci_cap *cap_find(struct pci_func *f, unsigned int reg, unsigned int len)
{
	for (unsigned int i = 0; i < f->nr_caps; i++) {
		struct pci_cap *c = &f->caps[i];

		if (reg < c->off + c->len && reg + len > c->off)
			return c;
	}
	return NULL;
}

/* --- Config space of one function ------------------------------------ */

/* @reg + @len lies within one dword below PCI_CFG_SPACE_SIZE. */
static uint32_t cfg_read(struct pci_func *f, unsigned int reg, unsigned int len)
{
	unsigned int dw = reg & ~3u, lo = reg & 3u;
	int bar = bar_index(reg);
	uint32_t v;

	if (bar >= 0) {
		v = bar_reg_read(f, (unsigned int)bar);
	} else {
		struct pci_cap *c = cap_find(f, reg, len);

		if (c && c->ops && c->ops->read) {
			unsigned int s = MAX(reg, c->off), e = MIN(reg + len, c->off + c->len);

			c->ops->read(c->opaque, &f->cfg[c->off], c->len, s - c->off, e - s);
		}
		v = (uint32_t)f->cfg[dw] | (uint32_t)f->cfg[dw + 1] << 8 |
		    (uint32_t)f->cfg[dw + 2] << 16 | (uint32_t)f->cfg[dw + 3] << 24;
	}
	return (v >> (8 * lo)) & len_mask(len);
}

static void cfg_write(struct pci_func *f, unsigned int reg, uint32_t val, unsigned int len)
{
	struct pci_host *h = f->host;
	int bar = bar_index(reg);

	if (bar >= 0) {
		unsigned int sh = 8 * (reg & 3u);
		uint32_t m = len_mask(len) << sh;
		uint32_t v = bar_reg_read(f, (unsigned int)bar);

		bar_reg_write(f, (unsigned int)bar, (v & ~m) | ((val << sh) & m));
		return;
	}
	if (reg < PCI_STD_HEADER_SIZEOF) {
		bool any = false;

		for (unsigned int i = 0; i < len; i++) {
			uint8_t wm = hdr_wmask(reg + i), b = (uint8_t)(val >> (8 * i));

			if (!wm)
				continue;
			any = true;
			f->cfg[reg + i] = (uint8_t)((f->cfg[reg + i] & ~wm) | (b & wm));
		}
		if (!any)
			h->stats.ro_writes++;
		__atomic_store_n(&f->command,
				 (uint16_t)(f->cfg[PCI_COMMAND] | f->cfg[PCI_COMMAND + 1] << 8),
				 __ATOMIC_RELAXED);
		return;
	}

	struct pci_cap *c = cap_find(f, reg, len);

	if (!c || !c->ops || !c->ops->write) {
		h->stats.ro_writes++;
		return;
	}
	unsigned int s = MAX(reg, c->off), e = MIN(reg + len, c->off + c->len);
	uint8_t bytes[4];
	uint8_t *cap = &f->cfg[c->off];
	uint8_t id = cap[PCI_CAP_LIST_ID], next = cap[PCI_CAP_LIST_NEXT];

	for (unsigned int i = s; i < e; i++)
		bytes[i - s] = (uint8_t)(val >> (8 * (i - reg)));
	c->ops->write(c->opaque, cap, c->len, s - c->off, bytes, e - s);
	cap[PCI_CAP_LIST_ID] = id;
	cap[PCI_CAP_LIST_NEXT] = next;
}

/* The function at bus 0 @dev.@fn, or NULL (all-ones, writes dropped). */
static struct pci_func *host_func(struct pci_host *h, unsigned int bus, unsigned int dev,
				  unsigned int fn)
{
	if (bus != 0 || fn != 0 || dev >= PCI_HOST_SLOTS)
		return NULL;
	return h->slots[dev];
}

/* Shared by both paths; @reg may be up to 0xfff (ECAM), the access within a dword. */
static uint32_t host_cfg_read(struct pci_host *h, unsigned int bus, unsigned int dev,
			      unsigned int fn, unsigned int reg, unsigned int len)
{
	struct pci_func *f;
	uint32_t v;

	pthread_mutex_lock(&h->lock);
	f = host_func(h, bus, dev, fn);
	if (!f) {
		h->stats.absent_accesses++;
		v = len_mask(len);
	} else if (reg >= PCI_CFG_SPACE_SIZE) {
		v = 0; /* no extended capabilities: the header at 0x100 reads 0 */
	} else {
		v = cfg_read(f, reg, len);
	}
	pthread_mutex_unlock(&h->lock);
	return v;
}

static void host_cfg_write(struct pci_host *h, unsigned int bus, unsigned int dev, unsigned int fn,
			   unsigned int reg, uint32_t val, unsigned int len)
{
	struct pci_func *f;

	pthread_mutex_lock(&h->lock);
	f = host_func(h, bus, dev, fn);
	if (!f)
		h->stats.absent_accesses++;
	else if (reg >= PCI_CFG_SPACE_SIZE)
		h->stats.ro_writes++;
	else
		cfg_write(f, reg, val, len);
	pthread_mutex_unlock(&h->lock);
}

/* --- Configuration mechanism #1: ports 0xCF8-0xCFF -------------------- */

/* A CONFIG_DATA access: within 0xCFC-0xCFF, so within one dword. */
static bool io_is_data(uint64_t off, unsigned int len)
{
	return len_ok(len) && off >= CFG_DATA_OFF && off + len <= PCI_HOST_IO_LEN;
}

static void io_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct pci_host *h = container_of(d, struct pci_host, io_dev);
	uint32_t a;

	if (off == 0 && len == 4) {
		pthread_mutex_lock(&h->lock);
		a = h->cfg_addr;
		pthread_mutex_unlock(&h->lock);
		dev_data_put(data, 4, a);
		return;
	}
	if (off == RST_CNT_OFF && len == 1 && h->cf9 && h->cf9->ops->read) {
		/* Without the lock: the reset device's callback may reset us. */
		h->cf9->ops->read(h->cf9, 0, data, 1);
		return;
	}
	if (!io_is_data(off, len)) {
		pthread_mutex_lock(&h->lock);
		h->stats.bad_accesses++;
		pthread_mutex_unlock(&h->lock);
		dev_data_put(data, len, ~0ull);
		return;
	}
	pthread_mutex_lock(&h->lock);
	a = h->cfg_addr;
	pthread_mutex_unlock(&h->lock);
	if (!(a & CFG_ADDR_ENABLE)) {
		/* Not a config cycle: an ordinary I/O read nobody claims. */
		dev_data_put(data, len, ~0ull);
		return;
	}
	/*
	 * The address may change between here and the access on another vCPU;
	 * guests serialize CONFIG_ADDRESS/CONFIG_DATA pairs themselves, and
	 * either value is a valid, range-checked address.
	 */
	dev_data_put(data, len,
		     host_cfg_read(h, CFG_ADDR_BUS(a), CFG_ADDR_DEV(a), CFG_ADDR_FN(a),
				   CFG_ADDR_REG(a) + (unsigned int)(off - CFG_DATA_OFF), len));
}

static void io_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct pci_host *h = container_of(d, struct pci_host, io_dev);
	uint32_t a;

	if (off == 0 && len == 4) {
		pthread_mutex_lock(&h->lock);
		h->cfg_addr = (uint32_t)dev_data_get(data, 4) & CFG_ADDR_STORED;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	if (off == RST_CNT_OFF && len == 1 && h->cf9 && h->cf9->ops->write) {
		h->cf9->ops->write(h->cf9, 0, data, 1);
		return;
	}
	if (!io_is_data(off, len)) {
		pthread_mutex_lock(&h->lock);
		h->stats.bad_accesses++;
		pthread_mutex_unlock(&h->lock);
		log_ratelimited(LOG_DEBUG, "pci: dropped %u-byte write at port 0x%x", len,
				(unsigned int)(PCI_HOST_IO_BASE + (off & 7)));
		return;
	}
	pthread_mutex_lock(&h->lock);
	a = h->cfg_addr;
	pthread_mutex_unlock(&h->lock);
	if (!(a & CFG_ADDR_ENABLE))
		return;
	host_cfg_write(h, CFG_ADDR_BUS(a), CFG_ADDR_DEV(a), CFG_ADDR_FN(a),
		       CFG_ADDR_REG(a) + (unsigned int)(off - CFG_DATA_OFF),
		       (uint32_t)dev_data_get(data, len), len);
}

/* --- ECAM (PCIe 4.0, 7.2.2) ------------------------------------------ */

static bool ecam_ok(uint64_t off, unsigned int len)
{
	return len_ok(len) && off < PCI_ECAM_BUS_SIZE && (off & 3) + len <= 4;
}

static void ecam_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct pci_host *h = container_of(d, struct pci_host, ecam_dev);

	if (!ecam_ok(off, len)) {
		pthread_mutex_lock(&h->lock);
		h->stats.bad_accesses++;
		pthread_mutex_unlock(&h->lock);
		dev_data_put(data, len, ~0ull);
		return;
	}
	dev_data_put(data, len,
		     host_cfg_read(h, 0, ECAM_DEV(off), ECAM_FN(off), ECAM_REG(off), len));
}

static void ecam_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct pci_host *h = container_of(d, struct pci_host, ecam_dev);

	if (!ecam_ok(off, len)) {
		pthread_mutex_lock(&h->lock);
		h->stats.bad_accesses++;
		pthread_mutex_unlock(&h->lock);
		log_ratelimited(LOG_DEBUG, "pci: dropped %u-byte ECAM write at 0x%llx", len,
				(unsigned long long)off);
		return;
	}
	host_cfg_write(h, 0, ECAM_DEV(off), ECAM_FN(off), ECAM_REG(off),
		       (uint32_t)dev_data_get(data, len), len);
}

static void io_dev_reset(struct dev *d)
{
	pci_host_reset(container_of(d, struct pci_host, io_dev));
}

static void ecam_dev_reset(struct dev *d)
{
	pci_host_reset(container_of(d, struct pci_host, ecam_dev));
}

static const struct dev_ops io_ops = {
	.name = "pci-cf8",
	.read = io_read,
	.write = io_write,
	.reset = io_dev_reset,
};

static const struct dev_ops ecam_ops = {
	.name = "pci-ecam",
	.read = ecam_read,
	.write = ecam_write,
	.reset = ecam_dev_reset,
};

/* --- Setup ----------------------------------------------------------- */

static void func_reset_locked(struct pci_func *f)
{
	f->cfg[PCI_COMMAND] = 0;
	f->cfg[PCI_COMMAND + 1] = 0;
	__atomic_store_n(&f->command, 0, __ATOMIC_RELAXED);
	f->cfg[PCI_CACHE_LINE_SIZE] = 0;
	f->cfg[PCI_INTERRUPT_LINE] = f->info.irq_line;
	for (unsigned int i = 0; i < PCI_FUNC_BARS; i++)
		f->bars[i].sizing = false;
	for (unsigned int i = 0; i < f->nr_caps; i++) {
		struct pci_cap *c = &f->caps[i];

		if (c->ops && c->ops->reset)
			c->ops->reset(c->opaque, &f->cfg[c->off], c->len);
	}
}

static struct pci_func *func_new(struct pci_host *h, unsigned int slot,
				 const struct pci_dev_info *info)
{
	struct pci_func *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->host = h;
	f->slot = slot;
	f->info = *info;
	f->cap_end = PCI_STD_HEADER_SIZEOF;
	/* Type 0 header (PCI LB 3.0, 6.1, figure 6-1). */
	put16(&f->cfg[PCI_VENDOR_ID], info->vendor);
	put16(&f->cfg[PCI_DEVICE_ID], info->device);
	f->cfg[PCI_REVISION_ID] = info->revision;
	f->cfg[PCI_CLASS_PROG] = (uint8_t)info->class;
	put16(&f->cfg[PCI_CLASS_DEVICE], (uint16_t)(info->class >> 8));
	f->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL; /* single function */
	put16(&f->cfg[PCI_SUBSYSTEM_VENDOR_ID], info->subsys_vendor);
	put16(&f->cfg[PCI_SUBSYSTEM_ID], info->subsys_id);
	f->cfg[PCI_INTERRUPT_PIN] = info->irq_pin;
	f->cfg[PCI_INTERRUPT_LINE] = info->irq_line;
	return f;
}

static bool info_ok(const struct pci_dev_info *info)
{
	return info && info->vendor != 0 && info->vendor != 0xffff && info->class <= 0xffffff &&
	       info->irq_pin <= 4;
}

struct pci_host *pci_host_create(void)
{
	static const struct pci_dev_info bridge = {
		.vendor = PCI_HOST_BRIDGE_VENDOR,
		.device = PCI_HOST_BRIDGE_DEVICE,
		.class = PCI_CLASS_HOST_BRIDGE,
	};
	struct pci_host *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (pthread_mutex_init(&h->lock, NULL))
		goto err_free;
	h->io_dev.ops = &io_ops;
	h->ecam_dev.ops = &ecam_ops;
	h->slots[0] = func_new(h, 0, &bridge);
	if (!h->slots[0])
		goto err_lock;
	return h;

err_lock:
	pthread_mutex_destroy(&h->lock);
err_free:
	free(h);
	return NULL;
}

void pci_host_destroy(struct pci_host *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; i < PCI_HOST_SLOTS; i++)
		free(h->slots[i]);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

struct dev *pci_host_io_dev(struct pci_host *h)
{
	return &h->io_dev;
}

struct dev *pci_host_ecam_dev(struct pci_host *h)
{
	return &h->ecam_dev;
}

void pci_host_set_cf9(struct pci_host *h, struct dev *cf9)
{
	h->cf9 = cf9;
}

void pci_host_reset(struct pci_host *h)
{
	pthread_mutex_lock(&h->lock);
	h->cfg_addr = 0;
	for (unsigned int i = 0; i < PCI_HOST_SLOTS; i++)
		if (h->slots[i])
			func_reset_locked(h->slots[i]);
	pthread_mutex_unlock(&h->lock);
}

int pci_host_add(struct pci_host *h, unsigned int slot, const struct pci_dev_info *info,
		 struct pci_func **out)
{
	struct pci_func *f;
	int ret = 0;

	if (!h || slot == 0 || slot >= PCI_HOST_SLOTS || !info_ok(info) || !out)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->assigned) {
		ret = -EBUSY;
	} else if (h->slots[slot]) {
		ret = -EEXIST;
	} else {
		f = func_new(h, slot, info);
		if (f) {
			h->slots[slot] = f;
			*out = f;
		} else {
			ret = -ENOMEM;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int pci_func_add_cap_hooked(struct pci_func *f, const void *bytes, unsigned int len,
			    const struct pci_cap_ops *ops, void *opaque, unsigned int *offset)
{
	struct pci_host *h;
	unsigned int off;
	int ret = 0;

	if (!f || !bytes || len < 2 || len > MAX_CAP_LEN)
		return -EINVAL;
	h = f->host;
	pthread_mutex_lock(&h->lock);
	off = f->cap_end;
	if (h->assigned) {
		ret = -EBUSY;
	} else if (f->nr_caps >= MAX_CAPS || len > PCI_CFG_SPACE_SIZE - off) {
		ret = -ENOSPC;
	} else {
		uint8_t *p = &f->cfg[off];

		memcpy(p, bytes, len);
		p[PCI_CAP_LIST_NEXT] = 0; /* end of list */
		if (f->nr_caps)
			f->cfg[f->caps[f->nr_caps - 1].off + PCI_CAP_LIST_NEXT] = (uint8_t)off;
		else
			f->cfg[PCI_CAPABILITY_LIST] = (uint8_t)off;
		f->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
		f->caps[f->nr_caps++] = (struct pci_cap){off, len, ops, opaque};
		/* The next capability starts on a dword (pointers' bits 1:0 are reserved). */
		f->cap_end = (off + len + 3) & ~3u;
		if (offset)
			*offset = off;
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

int pci_func_add_cap(struct pci_func *f, const void *bytes, unsigned int len, unsigned int *offset)
{
	return pci_func_add_cap_hooked(f, bytes, len, NULL, NULL, offset);
}

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_func_add_bar(struct pci_func *f, unsigned int bar, uint64_t size, unsigned int flags,
		     struct dev *dev)
{
	struct pci_host *h;
	bool io, wide;
	int ret = 0;

	if (!f || bar >= PCI_FUNC_BARS || !dev || !is_pow2(size))
		return -EINVAL;
	io = flags == PCI_BAR_IO;
	wide = (flags & ~(unsigned int)PCI_BAR_PREFETCH) == PCI_BAR_MEM64;
	if (!io && !wide && (flags & ~(unsigned int)PCI_BAR_PREFETCH) != PCI_BAR_MEM32)
		return -EINVAL;
	if (io ? size < PCI_BAR_IO_MIN || size > PCI_BAR_IO_MAX
	       : size < PCI_BAR_MEM_MIN || size > PCI_BAR_MEM_MAX)
		return -EINVAL;
	if (wide && bar + 1 >= PCI_FUNC_BARS)
		return -EINVAL;
	h = f->host;
	pthread_mutex_lock(&h->lock);
	if (h->assigned) {
		ret = -EBUSY;
	} else if (f->bars[bar].size || f->bars[bar].upper ||
		   (wide && (f->bars[bar + 1].size || f->bars[bar + 1].upper))) {
		ret = -EEXIST;
	} else {
		f->bars[bar] = (struct pci_bar){.size = size, .dev = dev, .flags = (uint8_t)flags};
		if (wide)
			f->bars[bar + 1] = (struct pci_bar){.upper = true};
	}
	pthread_mutex_unlock(&h->lock);
	return ret;
}

/* --- BAR assignment -------------------------------------------------- */

struct cand {
	unsigned int slot, bar;
	uint64_t size, base;
	bool io;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->slot != y->slot)
		return x->slot < y->slot ? -1 : 1;
	return x->bar < y->bar ? -1 : x->bar > y->bar;
}

/*
 * Place the @io kind of @c (sorted largest first) in [base, limit).
 * Largest first with power-of-two sizes keeps every later BAR aligned
 * after the first, so the window is used without gaps.
 */
static int place(struct cand *c, unsigned int n, bool io, uint64_t base, uint64_t limit)
{
	uint64_t next = base;

	for (unsigned int i = 0; i < n; i++) {
		uint64_t a;

		if (c[i].io != io)
			continue;
		if (base == 0)
			return -EINVAL; /* a BAR at 0 reads as unassigned to guests */
		if (next > UINT64_MAX - (c[i].size - 1))
			return -ENOSPC;
		a = (next + c[i].size - 1) & ~(c[i].size - 1);
		if (a >= limit || limit - a < c[i].size)
			return -ENOSPC;
		c[i].base = a;
		next = a + c[i].size;
	}
	return 0;
}

int pci_host_assign_bars(struct pci_host *h, uint64_t mmio_base, uint64_t mmio_size,
			 uint64_t io_base, uint64_t io_size, struct pci_placements *out)
{
	static const uint64_t mem_top = 1ull << 32, io_top = 1ull << 16;
	struct cand *c;
	unsigned int n = 0;
	int ret;

	if (!h || !out || mmio_size > UINT64_MAX - mmio_base || io_size > UINT64_MAX - io_base)
		return -EINVAL;
	c = calloc(PCI_HOST_SLOTS * PCI_FUNC_BARS, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pthread_mutex_lock(&h->lock);
	if (h->assigned) {
		ret = -EBUSY;
		goto out;
	}
	for (unsigned int s = 0; s < PCI_HOST_SLOTS; s++) {
		struct pci_func *f = h->slots[s];

		for (unsigned int i = 0; f && i < PCI_FUNC_BARS; i++)
			if (f->bars[i].size)
				c[n++] = (struct cand){.slot = s,
						       .bar = i,
						       .size = f->bars[i].size,
						       .io = f->bars[i].flags == PCI_BAR_IO};
	}
	qsort(c, n, sizeof(*c), cand_cmp);
	ret = place(c, n, false, mmio_base, MIN(mmio_base + mmio_size, mem_top));
	if (!ret)
		ret = place(c, n, true, io_base, MIN(io_base + io_size, io_top));
	if (ret)
		goto out;
	out->nr = n;
	for (unsigned int i = 0; i < n; i++) {
		struct pci_bar *b = &h->slots[c[i].slot]->bars[c[i].bar];

		b->addr = c[i].base;
		b->sizing = false;
		out->p[i] = (struct pci_bar_placement){.slot = c[i].slot,
						       .bar = c[i].bar,
						       .io = c[i].io,
						       .base = c[i].base,
						       .size = c[i].size,
						       .dev = b->dev};
	}
	h->assigned = true;
out:
	pthread_mutex_unlock(&h->lock);
	free(c);
	return ret;
}

/* --- Queries --------------------------------------------------------- */

/* BAR geometry is fixed once assigned (before vCPUs run): no lock needed. */
uint64_t pci_func_bar_size(const struct pci_func *f, unsigned int bar)
{
	return bar < PCI_FUNC_BARS ? f->bars[bar].size : 0;
}

unsigned int pci_func_bar_flags(const struct pci_func *f, unsigned int bar)
{
	return bar < PCI_FUNC_BARS ? f->bars[bar].flags : 0;
}

uint64_t pci_func_bar_addr(const struct pci_func *f, unsigned int bar)
{
	return bar < PCI_FUNC_BARS ? f->bars[bar].addr : 0;
}

uint16_t pci_func_command(const struct pci_func *f)
{
	return __atomic_load_n(&f->command, __ATOMIC_RELAXED);
}

unsigned int pci_func_slot(const struct pci_func *f)
{
	return f->slot;
}

void pci_host_get_stats(struct pci_host *h, struct pci_host_stats *st)
{
	pthread_mutex_lock(&h->lock);
	*st = h->stats;
	pthread_mutex_unlock(&h->lock);
}
