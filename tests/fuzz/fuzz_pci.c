// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for devices/pci: random config-space accesses through
 * configuration mechanism #1 and ECAM, BAR sizing and moves, MSI-X table
 * and PBA accesses through the owning device's BAR, Message Control
 * writes, notifies, route failures and resets.
 *
 * Board: slot 0 host bridge; slot 1 a device with a 4 KiB BAR0 holding a
 * 70-vector MSI-X table at 0 and its PBA at 0x800, a 64-bit BAR2, an I/O
 * BAR4 and a vendor capability before the MSI-X one; slot 9 a device with
 * a 32-bit BAR and no capabilities; a recording RST_CNT device at 0xCF9.
 *
 * Input: a stream of operations, each an opcode byte and its operands.
 * Checked:
 *  - every read-only config byte of every present device keeps its value;
 *    Command has only its writable bits; BARs read their type bits and
 *    either hostel's placement or the size mask; placements never move;
 *    Message Control shows the table size and msix's own state;
 *  - absent devices read all-ones; mechanism #1 and ECAM read the same;
 *  - 0xCF9 sees exactly the 1-byte accesses at 0xCF9;
 *  - fire() only for a vector whose latest route() was unmasked and which
 *    is enabled and unmasked now; route() reports the entry's message and
 *    effective mask; a Pending bit only on an enabled, masked vector;
 *  - msix_notify(): disabled -> false and nothing happens; out of range ->
 *    nothing happens; masked -> pends; unmasked -> exactly one fire.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pci_regs.h>
#include "hostel/log.h"
#include "pci/msix.h"
#include "pci/pci.h"

#define NVEC	 70
#define PBA_OFF	 0x800
#define BAR0_LEN 0x1000
#define MMIO	 0xc0000000ull
#define IOB	 0xc000ull

/* The platform: checks the route/fire protocol as it happens. */
struct plat {
	struct msi_ctl ctl;
	int route_ret;
	bool route_masked[NVEC]; /* latest route() of each vector */
	uint64_t route_addr[NVEC];
	uint32_t route_data[NVEC];
	bool routed_now[NVEC]; /* routed during the current operation */
	unsigned int fired_now[NVEC];
	unsigned int fires;
};

struct owner { /* slot 1's BAR0: MSI-X table and PBA */
	struct dev dev;
	struct msix *m;
};

struct rec {
	struct dev dev;
	unsigned int reads, writes;
};

struct ctx {
	struct pci_host *h;
	struct dev *io, *ecam;
	struct plat plat;
	struct owner bar0;
	struct rec cf9, other;
	struct pci_func *f1, *f9;
	unsigned int msix_cap;
	uint8_t snap[PCI_HOST_SLOTS][PCI_CFG_SPACE_SIZE];
	uint64_t bar_addr[PCI_HOST_SLOTS][PCI_FUNC_BARS];
};

static const unsigned int present[] = {0, 1, 9};

static int plat_route(struct msi_ctl *c, unsigned int vec, uint64_t addr, uint32_t data,
		      bool masked)
{
	struct plat *p = (struct plat *)c;

	if (vec >= NVEC)
		abort();
	p->route_masked[vec] = masked;
	p->route_addr[vec] = addr;
	p->route_data[vec] = data;
	p->routed_now[vec] = true;
	return p->route_ret;
}

static void plat_fire(struct msi_ctl *c, unsigned int vec)
{
	struct plat *p = (struct plat *)c;

	/* Only after the vector was routed unmasked. */
	if (vec >= NVEC || p->route_masked[vec])
		abort();
	p->fired_now[vec]++;
	p->fires++;
}

static const struct msi_ops plat_ops = {.route = plat_route, .fire = plat_fire};

static void owner_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct owner *o = (struct owner *)d;

	if (off < msix_table_size(o->m))
		msix_table_read(o->m, off, data, len);
	else if (off >= PBA_OFF && off - PBA_OFF < msix_pba_size(o->m))
		msix_pba_read(o->m, off - PBA_OFF, data, len);
	else
		memset(data, 0xff, len);
}

static void owner_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct owner *o = (struct owner *)d;

	if (off < msix_table_size(o->m))
		msix_table_write(o->m, off, data, len);
	else if (off >= PBA_OFF && off - PBA_OFF < msix_pba_size(o->m))
		msix_pba_write(o->m, off - PBA_OFF, data, len);
}

static const struct dev_ops owner_ops = {.name = "owner", .read = owner_read, .write = owner_write};

static void rec_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	((struct rec *)d)->reads++;
	memset(data, 0, len);
}

static void rec_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	((struct rec *)d)->writes++;
}

static const struct dev_ops rec_ops = {.name = "rec", .read = rec_read, .write = rec_write};

static uint32_t ec_rd(struct ctx *c, unsigned int slot, unsigned int reg, unsigned int len)
{
	uint8_t b[8] = {0};

	c->ecam->ops->read(c->ecam, (uint64_t)slot << 15 | reg, b, len);
	return (uint32_t)dev_data_get(b, len);
}

static void ec_wr(struct ctx *c, unsigned int slot, unsigned int reg, uint32_t v, unsigned len)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	c->ecam->ops->write(c->ecam, (uint64_t)slot << 15 | reg, b, len);
}

static uint32_t io_rd(struct ctx *c, uint64_t off, unsigned int len)
{
	uint8_t b[8] = {0};

	c->io->ops->read(c->io, off, b, len);
	return (uint32_t)dev_data_get(b, len);
}

static void io_wr(struct ctx *c, uint64_t off, uint32_t v, unsigned int len)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	c->io->ops->write(c->io, off, b, len);
}

static struct pci_func *slot_func(struct ctx *c, unsigned int slot)
{
	return slot == 1 ? c->f1 : slot == 9 ? c->f9 : NULL;
}

static bool writable(struct ctx *c, unsigned int slot, unsigned int reg)
{
	if (reg == PCI_COMMAND || reg == PCI_COMMAND + 1 || reg == PCI_CACHE_LINE_SIZE ||
	    reg == PCI_INTERRUPT_LINE)
		return true;
	if (reg >= PCI_BASE_ADDRESS_0 && reg < PCI_BASE_ADDRESS_5 + 4)
		return true; /* checked on their own */
	return slot == 1 &&
	       (reg == c->msix_cap + PCI_MSIX_FLAGS || reg == c->msix_cap + PCI_MSIX_FLAGS + 1);
}

static void check_bar(struct ctx *c, unsigned int slot, unsigned int i, uint32_t v)
{
	struct pci_func *f = slot_func(c, slot);
	uint64_t size, addr;
	unsigned int flags;
	uint32_t mask;

	if (!f) {
		if (v)
			abort(); /* the host bridge has no BARs */
		return;
	}
	if (pci_func_bar_addr(f, i) != c->bar_addr[slot][i])
		abort();
	if (i > 0 && (pci_func_bar_flags(f, i - 1) & ~PCI_BAR_PREFETCH) == PCI_BAR_MEM64 &&
	    pci_func_bar_size(f, i - 1)) {
		size = pci_func_bar_size(f, i - 1);
		addr = pci_func_bar_addr(f, i - 1);
		if (v != (uint32_t)(addr >> 32) && v != (uint32_t)(~(size - 1) >> 32))
			abort();
		return;
	}
	size = pci_func_bar_size(f, i);
	if (!size) {
		if (v)
			abort();
		return;
	}
	flags = pci_func_bar_flags(f, i);
	mask = flags & PCI_BAR_IO ? ~3u : ~15u;
	if ((v & ~mask) != flags)
		abort();
	if ((v & mask) != ((uint32_t)pci_func_bar_addr(f, i) & mask) &&
	    (v & mask) != ((uint32_t) ~(size - 1) & mask))
		abort();
}

/* After a dword write of @v to BAR register @i: all-ones in the address
 * bits reads the size mask, anything else reads the placement. */
static void check_bar_write(struct ctx *c, unsigned int slot, unsigned int i, uint32_t v)
{
	struct pci_func *f = slot_func(c, slot);
	unsigned int lo = i;
	uint32_t got = ec_rd(c, slot, PCI_BASE_ADDRESS_0 + 4 * i, 4), mask, place, sz;
	bool upper = false;

	if (!f)
		return;
	if (i > 0 && (pci_func_bar_flags(f, i - 1) & ~PCI_BAR_PREFETCH) == PCI_BAR_MEM64 &&
	    pci_func_bar_size(f, i - 1)) {
		lo = i - 1;
		upper = true;
	}
	if (!pci_func_bar_size(f, lo)) {
		if (got)
			abort();
		return;
	}
	if (upper) {
		mask = 0xffffffffu;
		place = (uint32_t)(pci_func_bar_addr(f, lo) >> 32);
		sz = (uint32_t)(~(pci_func_bar_size(f, lo) - 1) >> 32);
	} else {
		mask = pci_func_bar_flags(f, lo) & PCI_BAR_IO ? ~3u : ~15u;
		place = ((uint32_t)pci_func_bar_addr(f, lo) & mask) | pci_func_bar_flags(f, lo);
		sz = ((uint32_t) ~(pci_func_bar_size(f, lo) - 1) & mask) |
		     pci_func_bar_flags(f, lo);
	}
	if (got != ((v & mask) == mask ? sz : place))
		abort();
}

static void check_config(struct ctx *c)
{
	for (size_t k = 0; k < sizeof(present) / sizeof(present[0]); k++) {
		unsigned int s = present[k];

		for (unsigned int r = 0; r < PCI_CFG_SPACE_SIZE; r += 4) {
			uint32_t v = ec_rd(c, s, r, 4);

			for (unsigned int b = 0; b < 4; b++)
				if (!writable(c, s, r + b) &&
				    (uint8_t)(v >> (8 * b)) != c->snap[s][r + b])
					abort();
			if (r >= PCI_BASE_ADDRESS_0 && r <= PCI_BASE_ADDRESS_5)
				check_bar(c, s, (r - PCI_BASE_ADDRESS_0) / 4, v);
		}
		if (ec_rd(c, s, PCI_COMMAND, 2) & ~0x0407u)
			abort();
		if (ec_rd(c, s, 0x100, 4) != 0)
			abort();
	}
	uint16_t ctl = (uint16_t)ec_rd(c, 1, c->msix_cap + PCI_MSIX_FLAGS, 2);
	if ((ctl & 0x3fff) != NVEC - 1 || ctl != msix_control_read(c->bar0.m))
		abort();
}

/* Mechanism #1 and ECAM agree at (@slot, @reg); CONFIG_ADDRESS is restored. */
static void check_paths(struct ctx *c, unsigned int slot, unsigned int reg)
{
	uint32_t saved = io_rd(c, 0, 4), a, e;

	reg &= 0xfc;
	io_wr(c, 0, 0x80000000u | slot << 11 | reg, 4);
	a = io_rd(c, 4, 4);
	e = ec_rd(c, slot, reg, 4);
	if (!slot_func(c, slot) && slot != 0 && (a != 0xffffffff || e != 0xffffffff))
		abort();
	/* BARs and MSI-X control can only differ if they changed in between: they cannot. */
	if (a != e)
		abort();
	io_wr(c, 0, saved, 4);
	if (io_rd(c, 0, 4) != saved)
		abort();
}

struct msix_view {
	bool enabled, fmask;
	bool masked[NVEC];
	uint64_t addr[NVEC];
	uint32_t data[NVEC];
	uint64_t pba[2];
};

static void view(struct ctx *c, struct msix_view *v)
{
	struct msix *m = c->bar0.m;
	uint16_t ctl = msix_control_read(m);
	uint8_t b[8];

	v->enabled = ctl & PCI_MSIX_FLAGS_ENABLE;
	v->fmask = ctl & PCI_MSIX_FLAGS_MASKALL;
	for (unsigned int i = 0; i < NVEC; i++) {
		msix_table_read(m, i * 16ull, b, 8);
		v->addr[i] = dev_data_get(b, 8);
		msix_table_read(m, i * 16ull + 8, b, 8);
		v->data[i] = (uint32_t)dev_data_get(b, 4);
		v->masked[i] = b[4] & 1;
		if (v->addr[i] & 3 || (dev_data_get(b, 8) >> 33))
			abort(); /* address bits 1:0 and reserved control bits read 0 */
	}
	for (unsigned int q = 0; q < 2; q++) {
		msix_pba_read(m, q * 8ull, b, 8);
		v->pba[q] = dev_data_get(b, 8);
	}
	if (v->pba[1] >> (NVEC - 64))
		abort(); /* no bits past the last vector */
}

static bool eff_masked(const struct msix_view *v, unsigned int i)
{
	return !v->enabled || v->fmask || v->masked[i];
}

static bool pend(const struct msix_view *v, unsigned int i)
{
	return (v->pba[i / 64] >> (i % 64)) & 1;
}

/* After any operation: routes and fires agree with the state it left. */
static void check_msix(struct ctx *c, const struct msix_view *v)
{
	for (unsigned int i = 0; i < NVEC; i++) {
		if (pend(v, i) && !(v->enabled && eff_masked(v, i)))
			abort();
		if (c->plat.fired_now[i] && eff_masked(v, i))
			abort();
		if (c->plat.routed_now[i] &&
		    (c->plat.route_masked[i] != eff_masked(v, i) ||
		     (!eff_masked(v, i) && (c->plat.route_addr[i] != v->addr[i] ||
					    c->plat.route_data[i] != v->data[i]))))
			abort();
		/* The platform's view of an unmasked vector is the entry's message. */
		if (!eff_masked(v, i) &&
		    (c->plat.route_masked[i] || c->plat.route_addr[i] != v->addr[i] ||
		     c->plat.route_data[i] != v->data[i]))
			abort();
	}
}

static int setup(struct ctx *c)
{
	static const struct pci_dev_info d1 = {.vendor = 0x1af4,
					       .device = 0x1041,
					       .subsys_vendor = 0x1af4,
					       .subsys_id = 1,
					       .class = 0x020000,
					       .irq_pin = 1,
					       .irq_line = 10};
	static const struct pci_dev_info d9 = {
		.vendor = 0x8086, .device = 0x100e, .class = 0x020000};
	static const uint8_t vcap[] = {PCI_CAP_ID_VNDR, 0, 7, 0xde, 0xad, 0xbe, 0xef};
	struct pci_placements pl;

	c->plat.ctl.ops = &plat_ops;
	for (unsigned int i = 0; i < NVEC; i++)
		c->plat.route_masked[i] = true;
	c->h = pci_host_create();
	c->bar0.m = msix_create(NVEC, &c->plat.ctl);
	if (!c->h || !c->bar0.m)
		return -1;
	c->io = pci_host_io_dev(c->h);
	c->ecam = pci_host_ecam_dev(c->h);
	c->bar0.dev.ops = &owner_ops;
	c->cf9.dev.ops = &rec_ops;
	c->other.dev.ops = &rec_ops;
	pci_host_set_cf9(c->h, &c->cf9.dev);
	if (pci_host_add(c->h, 1, &d1, &c->f1) || pci_host_add(c->h, 9, &d9, &c->f9) ||
	    pci_func_add_bar(c->f1, 0, BAR0_LEN, PCI_BAR_MEM32, &c->bar0.dev) ||
	    pci_func_add_bar(c->f1, 2, 0x4000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH, &c->other.dev) ||
	    pci_func_add_bar(c->f1, 4, 0x20, PCI_BAR_IO, &c->other.dev) ||
	    pci_func_add_bar(c->f9, 1, 0x20000, PCI_BAR_MEM32, &c->other.dev) ||
	    pci_func_add_cap(c->f1, vcap, sizeof(vcap), NULL) ||
	    msix_attach(c->bar0.m, c->f1, 0, 0, 0, PBA_OFF, &c->msix_cap) ||
	    pci_host_assign_bars(c->h, MMIO, 0x100000, IOB, 0x100, &pl))
		return -1;
	for (size_t k = 0; k < sizeof(present) / sizeof(present[0]); k++) {
		unsigned int s = present[k];
		struct pci_func *f = slot_func(c, s);

		for (unsigned int r = 0; r < PCI_CFG_SPACE_SIZE; r++)
			c->snap[s][r] = (uint8_t)ec_rd(c, s, r, 1);
		for (unsigned int i = 0; f && i < PCI_FUNC_BARS; i++)
			c->bar_addr[s][i] = pci_func_bar_addr(f, i);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int lens[8] = {1, 2, 4, 8, 4, 2, 4, 3};
	static struct ctx c;
	struct msix_view before, after;
	size_t i = 0;
	unsigned int nops = 0;

	memset(&c, 0, sizeof(c));
	log_set_level(LOG_ERROR);
	if (setup(&c))
		abort();
	view(&c, &before);

	while (i < size && nops++ < 2000) {
		uint8_t op = data[i++];
		uint32_t arg = 0, val = 0;
		unsigned int len = lens[op >> 5];
		unsigned int cf9_r = c.cf9.reads, cf9_w = c.cf9.writes;
		unsigned int slot = 0, reg = 0;
		bool notified = false, ret = false;
		unsigned int nvec = 0;

		memcpy(&arg, data + i, MIN((size_t)3, size - i));
		i += MIN((size_t)3, size - i);
		memcpy(&val, data + i, MIN((size_t)4, size - i));
		memset(c.plat.routed_now, 0, sizeof(c.plat.routed_now));
		memset(c.plat.fired_now, 0, sizeof(c.plat.fired_now));

		switch (op & 15) {
		case 0: /* ECAM read anywhere in the window (and past it) */
			slot = (arg >> 15) & 31;
			reg = arg & 0xfff;
			(void)ec_rd(&c, slot, reg, len);
			break;
		case 1: /* ECAM write */
			i += MIN((size_t)4, size - i);
			slot = (arg >> 15) & 31;
			reg = arg & 0xfff;
			ec_wr(&c, slot, reg, val, len);
			if (len == 4 && !(reg & 3) && reg >= PCI_BASE_ADDRESS_0 &&
			    reg <= PCI_BASE_ADDRESS_5)
				check_bar_write(&c, slot, (reg - PCI_BASE_ADDRESS_0) / 4, val);
			break;
		case 2: /* port read 0xCF8-0xCFF */
			(void)io_rd(&c, arg & 7, len);
			break;
		case 3: /* port write */
			i += MIN((size_t)4, size - i);
			io_wr(&c, arg & 7, val, len);
			break;
		case 4: /* CONFIG_ADDRESS aimed at a present device, then a data access */
			i += MIN((size_t)4, size - i);
			slot = present[arg % 3];
			reg = (arg >> 8) & 0xff;
			/* Bits 27:24 (AMD's extended register number) must not matter. */
			io_wr(&c, 0, 0x80000000u | (val & 0xf) << 24 | slot << 11 | (reg & 0xfc),
			      4);
			if (arg & 0x800000)
				io_wr(&c, 4 + (reg & 3), val, len);
			else
				(void)io_rd(&c, 4 + (reg & 3), len);
			break;
		case 5: /* a BAR write of all-ones, the placement, or anything */
			i += MIN((size_t)4, size - i);
			slot = (arg & 1) ? 9 : 1;
			reg = PCI_BASE_ADDRESS_0 + 4 * ((arg >> 1) % 6);
			if ((arg >> 8) % 3 == 0)
				val = 0xffffffff;
			else if ((arg >> 8) % 3 == 1)
				val = (uint32_t)(c.bar_addr[slot][(reg - PCI_BASE_ADDRESS_0) / 4]);
			ec_wr(&c, slot, reg, val, 4);
			check_bar_write(&c, slot, (reg - PCI_BASE_ADDRESS_0) / 4, val);
			break;
		case 6: /* MSI-X table / PBA read through the owner's BAR */
			(void)ec_rd(&c, 1, 0, 1);
			{
				uint8_t b[8];
				c.bar0.dev.ops->read(&c.bar0.dev, arg & (BAR0_LEN - 1), b, len);
			}
			break;
		case 7: /* table write, mostly aimed at entries */
		case 8:
			i += MIN((size_t)4, size - i);
			{
				uint8_t b[8];
				uint64_t off = arg & (BAR0_LEN - 1);

				if (op & 16) /* an aligned entry field, values that matter */
					off = ((arg & 0xff) % NVEC) * 16 + ((arg >> 8) & 3) * 4;
				dev_data_put(b, 4, val);
				dev_data_put(b + 4, 4, val >> 1);
				c.bar0.dev.ops->write(&c.bar0.dev, off, b, len);
			}
			break;
		case 9: /* Message Control through config space */
		case 10:
			i += MIN((size_t)4, size - i);
			slot = 1;
			reg = c.msix_cap + PCI_MSIX_FLAGS + (arg & 1);
			ec_wr(&c, 1, reg, val, (arg & 1) ? 1 : 2);
			break;
		case 11: /* notify */
		case 12:
			nvec = (arg & 0x100) ? (arg & 0xff)
					     : (arg & 0x8000 ? MSIX_NO_VECTOR : arg % NVEC);
			notified = true;
			ret = msix_notify(c.bar0.m, nvec);
			break;
		case 13:
			c.plat.route_ret = (arg & 1) ? -28 : 0;
			break;
		case 14: {
			struct dev *d = (arg & 1) ? c.io : c.ecam;
			d->ops->reset(d);
			break;
		}
		case 15:
			slot = arg & 31;
			reg = (arg >> 5) & 0xff;
			check_paths(&c, slot, reg);
			break;
		}

		/* 0xCF9 sees the 1-byte accesses at 0xCF9, nothing else. */
		bool cf9_op = ((op & 15) == 2 || (op & 15) == 3) && (arg & 7) == 1 && len == 1;
		if (c.cf9.reads + c.cf9.writes != cf9_r + cf9_w + (cf9_op ? 1 : 0))
			abort();

		view(&c, &after);
		check_msix(&c, &after);
		if (notified) {
			unsigned int fired = 0;

			for (unsigned int k = 0; k < NVEC; k++)
				fired += c.plat.fired_now[k];
			if (!before.enabled) {
				if (ret || fired ||
				    memcmp(before.pba, after.pba, sizeof(after.pba)))
					abort();
			} else if (nvec >= NVEC) {
				if (!ret || fired ||
				    memcmp(before.pba, after.pba, sizeof(after.pba)))
					abort();
			} else if (eff_masked(&before, nvec)) {
				if (!ret || fired || !pend(&after, nvec))
					abort();
			} else if (!ret || fired != 1 || c.plat.fired_now[nvec] != 1) {
				abort();
			}
		}
		before = after;
		if ((nops & 7) == 0)
			check_config(&c);
		if (slot || reg)
			check_paths(&c, slot, reg);
	}
	check_config(&c);

	pci_host_destroy(c.h);
	msix_destroy(c.bar0.m);
	return 0;
}
