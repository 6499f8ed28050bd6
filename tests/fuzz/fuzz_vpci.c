// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for devices/virtio/pci (the virtio 1.x PCI transport)
 * in front of a virtio-blk disk over an in-memory backend.
 *
 * Board: a PCI host with the transport at slot 2, its BAR placed at
 * MMIO_BASE; 64 KiB of guest RAM; a recording MSI controller; optionally
 * a recording ioeventfd platform. The blk model is driven synchronously:
 * the device ops wrap the real blk (features, config space, request
 * execution with blk_handle_chain) but start() only records the queue, and
 * a "process" operation plays the worker thread - it wakes only if the
 * queue's kick eventfd was signalled (or is forced, like the worker's
 * initial pass) - so every run is deterministic.
 *
 * Input: byte 0 sets up the run (bit 0 ioeventfd platform, bit 1 read-only
 * disk); then a stream of operations, an opcode byte and its operands:
 * raw BAR and config-space accesses (any width and offset), register-aware
 * common-config writes, status writes, a whole driver bring-up, a driver
 * that builds and publishes blk requests on the rings it programmed, raw
 * RAM writes into the ring and buffer zones, notifies (through the
 * ioeventfd when registered), worker steps, config changes, platform
 * resets and backend faults.
 *
 * Checked after every operation:
 *  - RAM: nothing changes except the used ring of the live queue and the
 *    device-writable buffers of chains popped in this step; while the
 *    device is not live, nothing changes at all;
 *  - status: only the defined bits; bits never disappear except through a
 *    reset (which reads back 0); DRIVER_OK implies FEATURES_OK; NEEDS_RESET
 *    implies DRIVER_OK; FEATURES_OK implies the driver's features are a
 *    subset of the device's and include VERSION_1, and they no longer
 *    change; queue 0's registers do not change while DRIVER_OK is set;
 *  - the device is started exactly while DRIVER_OK is set (and on a ready
 *    queue), and a reset always stops it first;
 *  - MSI-X fires only valid vectors; the disk backend is never accessed
 *    out of range.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "fake_backend.h"
#include "fake_ioevent.h"
#include "fake_msi.h"
#include "hostel/log.h"
#include "pci/pci.h"
#include "virtio/blk/blk.h"
#include "virtio/pci/vpci.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOT	    2
#define MMIO_BASE   0xc0000000ull
#define RAM_GPA	    0x100000ull
#define RAM_SIZE    0x10000u
#define RING_ZONE   0x1000u /* rings: [0x1000, 0x5000) of RAM */
#define RING_ZLEN   0x4000u
#define BUF_ZONE    0x5000u /* buffers and indirect tables: [0x5000, 0x10000) */
#define BUF_ZLEN    0xb000u
#define DISK	    (64 * 1024)
#define MAX_OPS	    512
#define PROCESS_MAX 600 /* pops per worker step; a queue has at most 256 */

#define S_DRV_BITS                                                                                 \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |        \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_FAILED)

/* ---- the synchronous blk device ------------------------------------------ */

struct sdev {
	struct blk *b;
	struct fake_backend *fb;
	bool started, broken;
	int start_ret;
	unsigned int starts, stops;
	struct virtq *vq;
	int kick_fd;
	void (*notify)(void *);
	void (*needs_reset)(void *);
	void *opaque;
};

static struct virtq_chain chain;
static uint8_t ram[RAM_SIZE] __attribute__((aligned(4096)));
static uint8_t snap[RAM_SIZE];
static uint8_t allowed[RAM_SIZE]; /* bytes the device may have written in this step */

static uint64_t sd_features(void *d)
{
	return blk_features(((struct sdev *)d)->b);
}

static void sd_set_features(void *d, uint64_t f)
{
	blk_set_features(((struct sdev *)d)->b, f);
}

static unsigned int sd_config_size(void *d)
{
	(void)d;
	return blk_config_size();
}

static void sd_config_read(void *d, uint64_t off, void *data, unsigned int len)
{
	CHECK(off < blk_config_size() && len <= blk_config_size() - off);
	blk_config_read(((struct sdev *)d)->b, off, data, len);
}

static void sd_config_write(void *d, uint64_t off, const void *data, unsigned int len)
{
	CHECK(off < blk_config_size() && len <= blk_config_size() - off);
	blk_config_write(((struct sdev *)d)->b, off, data, len);
}

static int sd_start(void *d, unsigned int q, struct virtq *vq, int kick_fd, void (*notify)(void *),
		    void (*needs_reset)(void *), void *opaque)
{
	struct sdev *s = d;

	CHECK(q == 0 && !s->started && vq && vq->ready && kick_fd >= 0);
	s->starts++;
	if (s->start_ret)
		return s->start_ret;
	s->started = true;
	s->broken = false;
	s->vq = vq;
	s->kick_fd = kick_fd;
	s->notify = notify;
	s->needs_reset = needs_reset;
	s->opaque = opaque;
	return 0;
}

static void sd_stop(void *d)
{
	struct sdev *s = d;

	/* Synchronous: nothing is ever in flight here; the rings must still be known. */
	CHECK(!s->started || s->vq->ready);
	s->stops++;
	s->started = false;
	s->vq = NULL;
}

static const struct vpci_dev_ops sd_ops = {
	.device_id = 2, /* VIRTIO_ID_BLOCK */
	.pci_class = 0x018000,
	.nr_queues = 1,
	.queue_size_max = 256,
	.features = sd_features,
	.set_features = sd_set_features,
	.config_size = sd_config_size,
	.config_read = sd_config_read,
	.config_write = sd_config_write,
	.start = sd_start,
	.stop = sd_stop,
};

/* ---- the board -------------------------------------------------------------- */

struct board {
	struct pci_host *h;
	struct dev *ecam, *bar;
	struct gmem gm;
	struct fake_msi msi;
	struct fake_ioevent ioev;
	bool use_ioev;
	struct vpci *v;
	struct sdev sd;
	uint64_t bar_gpa;
	/* Shadow for the invariants. */
	uint8_t status;
	uint64_t frozen_features;
	bool q_frozen;
	uint64_t q_regs[6];
};

static void allow(uint64_t gpa, uint64_t len)
{
	if (gpa < RAM_GPA || gpa - RAM_GPA >= RAM_SIZE)
		return;
	gpa -= RAM_GPA;
	len = len < RAM_SIZE - gpa ? len : RAM_SIZE - gpa;
	memset(allowed + gpa, 1, len);
}

static uint64_t bar_rd(struct board *b, uint64_t off, unsigned int len)
{
	uint8_t d[8] = {0};

	b->bar->ops->read(b->bar, off, d, len);
	return dev_data_get(d, len < 8 ? len : 8);
}

static void bar_wr(struct board *b, uint64_t off, uint64_t v, unsigned int len)
{
	uint8_t d[8];

	dev_data_put(d, 8, v);
	b->bar->ops->write(b->bar, off, d, len);
}

/* A guest MMIO write: an ioeventfd takes it as KVM would, otherwise it exits. */
static void mmio_wr(struct board *b, uint64_t off, uint64_t v, unsigned int len)
{
	if (b->use_ioev && fake_ioevent_write(&b->ioev, b->bar_gpa + off, len, v))
		return;
	bar_wr(b, off, v, len);
}

static uint32_t cfg_rd(struct board *b, unsigned int reg, unsigned int len)
{
	uint8_t d[4] = {0};

	b->ecam->ops->read(b->ecam, (uint64_t)SLOT << 15 | reg, d, len);
	return (uint32_t)dev_data_get(d, len < 4 ? len : 4);
}

static void cfg_wr(struct board *b, unsigned int reg, uint32_t v, unsigned int len)
{
	uint8_t d[4];

	dev_data_put(d, 4, v);
	b->ecam->ops->write(b->ecam, (uint64_t)SLOT << 15 | reg, d, len);
}

static uint8_t status(struct board *b)
{
	return (uint8_t)bar_rd(b, VIRTIO_PCI_COMMON_STATUS, 1);
}

/* Queue 0's registers, restoring queue_select (reads have no side effects). */
static void q_regs(struct board *b, uint64_t r[6])
{
	uint16_t sel = (uint16_t)bar_rd(b, VIRTIO_PCI_COMMON_Q_SELECT, 2);

	bar_wr(b, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	r[0] = bar_rd(b, VIRTIO_PCI_COMMON_Q_SIZE, 2);
	r[1] = bar_rd(b, VIRTIO_PCI_COMMON_Q_ENABLE, 2);
	r[2] = bar_rd(b, VIRTIO_PCI_COMMON_Q_MSIX, 2);
	r[3] = bar_rd(b, VIRTIO_PCI_COMMON_Q_DESCLO, 8);
	r[4] = bar_rd(b, VIRTIO_PCI_COMMON_Q_AVAILLO, 8);
	r[5] = bar_rd(b, VIRTIO_PCI_COMMON_Q_USEDLO, 8);
	bar_wr(b, VIRTIO_PCI_COMMON_Q_SELECT, sel, 2);
}

static uint64_t feat_rd(struct board *b, unsigned int sel_off, unsigned int val_off)
{
	uint32_t sel = (uint32_t)bar_rd(b, sel_off, 4);
	uint64_t lo, hi;

	bar_wr(b, sel_off, 0, 4);
	lo = bar_rd(b, val_off, 4);
	bar_wr(b, sel_off, 1, 4);
	hi = bar_rd(b, val_off, 4);
	bar_wr(b, sel_off, sel, 4);
	return hi << 32 | lo;
}

/* ---- the worker, one step ------------------------------------------------- */

static void process(struct board *b, bool force)
{
	struct sdev *s = &b->sd;
	uint64_t kicks = 0;
	unsigned int pops = 0;
	int r;

	if (!s->started || s->broken)
		return;
	if (read(s->kick_fd, &kicks, sizeof(kicks)) != sizeof(kicks))
		kicks = 0;
	if (!kicks && !force)
		return;
	virtq_set_notify(s->vq, false);
	for (;;) {
		while (pops < PROCESS_MAX && (r = virtq_pop(s->vq, &chain)) != 0) {
			uint32_t written = 0;

			pops++;
			if (r == -EIO) {
				s->broken = true;
				s->needs_reset(s->opaque);
				return;
			}
			CHECK(r == 1 || r == -EINVAL);
			if (r == 1) {
				for (unsigned int i = 0; i < chain.nr_segs; i++)
					if (chain.segs[i].write)
						allow(chain.segs[i].gpa, chain.segs[i].len);
				if (blk_handle_chain(s->b, &chain, &written) < 0)
					written = 0;
				CHECK(written <= chain.write_len);
			}
			virtq_push(s->vq, chain.head, written);
		}
		/* virtq.h: never more than size pops per avail index the driver publishes. */
		CHECK(pops <= PROCESS_MAX);
		virtq_set_notify(s->vq, true);
		if (pops >= PROCESS_MAX || !virtq_has_avail(s->vq))
			break;
	}
	if (virtq_should_notify(s->vq))
		s->notify(s->opaque);
}

/* ---- the driver -------------------------------------------------------------- */

static void *ram_ptr(struct board *b, uint64_t gpa, uint64_t len)
{
	return gmem_ptr(&b->gm, gpa, len);
}

static void ram_w16(struct board *b, uint64_t gpa, uint16_t v)
{
	uint16_t le = htole16(v);
	void *p = ram_ptr(b, gpa, 2);

	if (p)
		memcpy(p, &le, 2);
}

static uint16_t ram_r16(struct board *b, uint64_t gpa)
{
	uint16_t le = 0;
	void *p = ram_ptr(b, gpa, 2);

	if (p)
		memcpy(&le, p, 2);
	return le16toh(le);
}

static void desc_w(struct board *b, uint64_t table, uint16_t i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next)
{
	struct vring_desc d = {htole64(addr), htole32(len), htole16(flags), htole16(next)};
	void *p = ram_ptr(b, table + 16ull * i, 16);

	if (p)
		memcpy(p, &d, 16);
}

/* A buffer address: mostly in the buffer zone, sometimes nowhere useful. */
static uint64_t buf_addr(struct in *in, uint32_t len)
{
	static const uint64_t bad[] = {0,	  RAM_GPA - 8,	      RAM_GPA + RAM_SIZE - 8,
				       MMIO_BASE, RAM_GPA + RAM_SIZE, 0xfffffffffffffff0ull};
	uint8_t s = get8(in);
	uint64_t off;

	if (s >= 256 - ARRAY_SIZE(bad))
		return bad[s - (256 - ARRAY_SIZE(bad))];
	off = (uint64_t)s * 176 % BUF_ZLEN;
	if (len < BUF_ZLEN && off + len > BUF_ZLEN)
		off = BUF_ZLEN - len;
	return RAM_GPA + BUF_ZONE + off;
}

/*
 * Build a blk request on the rings queue 0 is programmed with, and publish
 * it: header, 0-3 data segments, status; direct or through one indirect
 * table; optionally corrupted.
 */
static void submit(struct board *b, struct in *in)
{
	static const uint32_t types[] = {VIRTIO_BLK_T_IN,
					 VIRTIO_BLK_T_OUT,
					 VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_GET_ID,
					 VIRTIO_BLK_T_IN,
					 VIRTIO_BLK_T_OUT,
					 0x7777,
					 VIRTIO_BLK_T_DISCARD};
	uint8_t op = get8(in), corrupt = (op & 0x80) ? get8(in) : 0;
	uint32_t type = types[op & 7];
	uint64_t r[6], sector = get8(in) % 140, hdr, st, table = 0;
	unsigned int ndata = (op >> 3) & 3, n = 0;
	bool indirect = op & 0x20, in_dir = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	struct {
		uint64_t addr;
		uint32_t len;
		bool write;
	} seg[6];
	uint16_t size, head, idx;
	uint8_t h[16];
	uint32_t t32 = htole32(type);
	uint64_t s64 = htole64(sector);

	q_regs(b, r);
	size = (uint16_t)r[0];
	if (!size || (size & (size - 1)))
		return;
	hdr = buf_addr(in, 16);
	memcpy(h, &t32, 4);
	memset(h + 4, 0, 4);
	memcpy(h + 8, &s64, 8);
	if (ram_ptr(b, hdr, 16))
		memcpy(ram_ptr(b, hdr, 16), h, 16);
	seg[n++] = (typeof(seg[0])){hdr, 16, (corrupt & 1) != 0};
	for (unsigned int i = 0; i < ndata; i++) {
		uint8_t l = get8(in);
		uint32_t len = (l & 0x80) ? (l & 0x7fu) * 5u : 512u * (l & 3);

		seg[n++] = (typeof(seg[0])){buf_addr(in, len), len, in_dir != !!(corrupt & 2)};
	}
	st = buf_addr(in, 1);
	if (!(corrupt & 4))
		seg[n++] = (typeof(seg[0])){st, (corrupt & 8) ? 0 : 1, !(corrupt & 0x10)};

	head = (corrupt & 0x20) ? (uint16_t)getn(in, 2) : (uint16_t)(get8(in) % size);
	if (indirect) {
		table = buf_addr(in, 16u * n);
		for (unsigned int i = 0; i < n; i++)
			desc_w(b, table, (uint16_t)i, seg[i].addr, seg[i].len,
			       (uint16_t)((seg[i].write ? VRING_DESC_F_WRITE : 0) |
					  (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			       (uint16_t)(i + 1));
		desc_w(b, r[3], (uint16_t)(head % size), table, (corrupt & 0x40) ? 15 : 16u * n,
		       VRING_DESC_F_INDIRECT, 0);
	} else {
		for (unsigned int i = 0; i < n; i++) {
			uint16_t me = (uint16_t)((head + i) % size);
			uint16_t next = (corrupt & 0x40) ? head : (uint16_t)((head + i + 1) % size);

			desc_w(b, r[3], me, seg[i].addr, seg[i].len,
			       (uint16_t)((seg[i].write ? VRING_DESC_F_WRITE : 0) |
					  (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			       next);
		}
	}
	/* Publish: ring entry, then idx (the fuzzer runs single-threaded: no barrier needed). */
	idx = ram_r16(b, r[4] + 2);
	ram_w16(b, r[4] + 4 + 2ull * (idx % size), head);
	ram_w16(b, r[4] + 2, (uint16_t)(idx + ((corrupt & 0x80) ? size + 3 : 1)));
}

/* Linux-like bring-up of queue 0, with knobs to get it wrong. */
static void bringup(struct board *b, struct in *in)
{
	static const uint16_t sizes[] = {16, 8, 256, 1, 2, 64, 0, 512};
	uint8_t k = get8(in), place = get8(in);
	uint64_t offer, feat, base;
	uint16_t size = sizes[k & 7];

	bar_wr(b, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	bar_wr(b, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	bar_wr(b, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER,
	       1);
	offer = feat_rd(b, VIRTIO_PCI_COMMON_DFSELECT, VIRTIO_PCI_COMMON_DF);
	feat = offer;
	if (k & 0x08)
		feat &= ~(1ull << VIRTIO_RING_F_EVENT_IDX);
	if (k & 0x10)
		feat &= ~(1ull << VIRTIO_RING_F_INDIRECT_DESC);
	if (k & 0x20)
		feat ^= 1ull << (get8(in) & 63); /* maybe not offered, maybe no VERSION_1 */
	bar_wr(b, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	bar_wr(b, VIRTIO_PCI_COMMON_GF, (uint32_t)feat, 4);
	bar_wr(b, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	bar_wr(b, VIRTIO_PCI_COMMON_GF, feat >> 32, 4);
	bar_wr(b, VIRTIO_PCI_COMMON_STATUS,
	       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK,
	       1);
	if (k & 0x40) {
		/* MSI-X: two vectors programmed and enabled, config on 0, queue on 1. */
		for (unsigned int i = 0; i < 2; i++) {
			bar_wr(b, VPCI_MSIX_OFF + 16 * i, 0xfee00000, 4);
			bar_wr(b, VPCI_MSIX_OFF + 16 * i + 8, 0x30 + i, 4);
			bar_wr(b, VPCI_MSIX_OFF + 16 * i + 12, 0, 4);
		}
		for (unsigned int pos = cfg_rd(b, PCI_CAPABILITY_LIST, 1), g = 0; pos && g < 16;
		     pos = cfg_rd(b, pos + 1, 1), g++)
			if (cfg_rd(b, pos, 1) == PCI_CAP_ID_MSIX)
				cfg_wr(b, pos + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
		bar_wr(b, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	}
	bar_wr(b, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	bar_wr(b, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
	size = (uint16_t)bar_rd(b, VIRTIO_PCI_COMMON_Q_SIZE, 2);
	/* Rings in the ring zone; @place picks where, and whether to misalign. */
	base = RAM_GPA + RING_ZONE + (place & 0x3) * 0x1000ull;
	{
		uint64_t desc = base, avail = desc + 16ull * size,
			 used = (avail + 6 + 2ull * size + 3) & ~3ull;

		if (place & 0x04)
			desc += 8;
		if (place & 0x08)
			avail += 1;
		if (place & 0x10)
			used += 2;
		if (place & 0x20)
			used = RAM_GPA + RAM_SIZE - 8; /* straddles the end of RAM */
		if (place & 0x40)
			desc = MMIO_BASE;
		/* The driver zeroes its ring pages (a driver write, not the device's). */
		memset(ram + (base - RAM_GPA), 0, 0x1000);
		memcpy(snap + (base - RAM_GPA), ram + (base - RAM_GPA), 0x1000);
		bar_wr(b, VIRTIO_PCI_COMMON_Q_DESCLO, desc, 8);
		bar_wr(b, VIRTIO_PCI_COMMON_Q_AVAILLO, avail, 8);
		bar_wr(b, VIRTIO_PCI_COMMON_Q_USEDLO, used, 8);
	}
	bar_wr(b, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	bar_wr(b, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	if (!(k & 0x80))
		bar_wr(b, VIRTIO_PCI_COMMON_STATUS,
		       VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK,
		       1);
}

/* ---- invariants ---------------------------------------------------------------- */

static void check(struct board *b, bool ram_written_by_driver, bool was_reset)
{
	uint8_t s = status(b);
	uint64_t offer, drv, r[6];

	if (was_reset) {
		/* The shadows of a previous life do not apply. */
		b->status = 0;
		b->q_frozen = false;
	}

	/* Only defined bits; driver bits never vanish except by reset. */
	CHECK(!(s & ~(S_DRV_BITS | VIRTIO_CONFIG_S_NEEDS_RESET)));
	if (!was_reset)
		CHECK(!(b->status & S_DRV_BITS & ~s));
	if (s & VIRTIO_CONFIG_S_DRIVER_OK)
		CHECK(s & VIRTIO_CONFIG_S_FEATURES_OK);
	if (s & VIRTIO_CONFIG_S_NEEDS_RESET)
		CHECK(s & VIRTIO_CONFIG_S_DRIVER_OK);
	if (s & VIRTIO_CONFIG_S_FEATURES_OK) {
		offer = feat_rd(b, VIRTIO_PCI_COMMON_DFSELECT, VIRTIO_PCI_COMMON_DF);
		drv = feat_rd(b, VIRTIO_PCI_COMMON_GFSELECT, VIRTIO_PCI_COMMON_GF);
		CHECK(!(drv & ~offer) && (drv >> VIRTIO_F_VERSION_1 & 1));
		if (b->status & VIRTIO_CONFIG_S_FEATURES_OK)
			CHECK(drv == b->frozen_features);
		b->frozen_features = drv;
	}
	/* Queue registers frozen while DRIVER_OK. */
	if (s & VIRTIO_CONFIG_S_DRIVER_OK) {
		q_regs(b, r);
		/*
		 * Activation in this step validates the configured rings and
		 * zeroes the used ring's header, even if the device then fails
		 * to start: that used ring is the configured one.
		 */
		if (!(b->status & VIRTIO_CONFIG_S_DRIVER_OK) && r[1])
			allow(r[5], 6 + 8 * r[0]);
		if (b->q_frozen)
			CHECK(!memcmp(r, b->q_regs, sizeof(r)));
		memcpy(b->q_regs, r, sizeof(r));
		b->q_frozen = true;
	} else {
		b->q_frozen = false;
	}
	/* The device runs exactly while DRIVER_OK is set. */
	if (b->sd.started) {
		CHECK(s & VIRTIO_CONFIG_S_DRIVER_OK);
		CHECK(b->sd.vq->ready);
		allow(b->sd.vq->cfg.used, 6 + 8ull * b->sd.vq->cfg.size);
	}
	if (!(s & VIRTIO_CONFIG_S_DRIVER_OK))
		CHECK(!b->sd.started);
	/* RAM: only the live used ring and the buffers popped in this step. */
	if (!ram_written_by_driver && memcmp(snap, ram, RAM_SIZE)) {
		for (unsigned int i = 0; i < RAM_SIZE; i++)
			CHECK(snap[i] == ram[i] || allowed[i]);
	}
	CHECK(b->msi.bad_vectors == 0);
	CHECK(!b->sd.fb->oob);
	b->status = s;
}

/* ---- the run ------------------------------------------------------------------- */

/* Interesting BAR offsets for raw accesses. */
static uint64_t bar_off(struct in *in)
{
	uint8_t s = get8(in);

	switch (s >> 5) {
	case 0:
		return s & 0x3f; /* common config, any offset */
	case 1:
		return VPCI_ISR_OFF + (s & 7);
	case 2:
		return VPCI_DEVCFG_OFF + (s & 0x1f) * 3;
	case 3:
		return VPCI_NOTIFY_OFF + (s & 0x1f);
	case 4:
		return VPCI_MSIX_OFF + (s & 0x1f);
	case 5:
		return VPCI_PBA_OFF + (s & 0xf);
	default:
		return getn(in, 2) % (VPCI_BAR_SIZE + 8);
	}
}

static unsigned int width(uint8_t s)
{
	static const unsigned int w[] = {1, 2, 4, 8, 4, 2, 3, 16};

	return w[s & 7];
}

static void run(struct board *b, struct in *in)
{
	for (unsigned int nops = 0; in->n && nops < MAX_OPS; nops++) {
		uint8_t op = get8(in);
		bool drv_ram = false, reset = false;
		uint64_t off, v;
		unsigned int w;

		memcpy(snap, ram, RAM_SIZE);
		memset(allowed, 0, RAM_SIZE);
		switch (op % 16) {
		case 0: { /* raw BAR read */
			uint8_t d[16];

			off = bar_off(in);
			w = width(get8(in));
			b->bar->ops->read(b->bar, off, d, w);
			break;
		}
		case 1: { /* raw BAR write */
			uint8_t d[16];

			off = bar_off(in);
			w = width(get8(in));
			v = getn(in, 8);
			dev_data_put(d, 8, v);
			memcpy(d + 8, d, 8);
			reset = off == VIRTIO_PCI_COMMON_STATUS && w == 1 && !(uint8_t)v;
			b->bar->ops->write(b->bar, off, d, w);
			break;
		}
		case 2: { /* register-aware common config write */
			static const uint8_t fld[][2] = {
				{VIRTIO_PCI_COMMON_DFSELECT, 4},  {VIRTIO_PCI_COMMON_GFSELECT, 4},
				{VIRTIO_PCI_COMMON_GF, 4},	  {VIRTIO_PCI_COMMON_MSIX, 2},
				{VIRTIO_PCI_COMMON_Q_SELECT, 2},  {VIRTIO_PCI_COMMON_Q_SIZE, 2},
				{VIRTIO_PCI_COMMON_Q_MSIX, 2},	  {VIRTIO_PCI_COMMON_Q_ENABLE, 2},
				{VIRTIO_PCI_COMMON_Q_DESCLO, 4},  {VIRTIO_PCI_COMMON_Q_DESCHI, 4},
				{VIRTIO_PCI_COMMON_Q_AVAILLO, 4}, {VIRTIO_PCI_COMMON_Q_AVAILHI, 4},
				{VIRTIO_PCI_COMMON_Q_USEDLO, 4},  {VIRTIO_PCI_COMMON_Q_USEDHI, 4},
				{VIRTIO_PCI_COMMON_NUMQ, 2},	  {VIRTIO_PCI_COMMON_Q_DESCLO, 8},
			};
			uint8_t f = get8(in) & 15;

			bar_wr(b, fld[f][0], getn(in, fld[f][1]), fld[f][1]);
			break;
		}
		case 3: /* status write */
			v = get8(in);
			reset = !v;
			bar_wr(b, VIRTIO_PCI_COMMON_STATUS, v, 1);
			if (reset)
				CHECK(status(b) == 0 && !b->sd.started);
			break;
		case 4: /* config space read, any register */
			cfg_rd(b, get8(in), width(get8(in)) & 7);
			break;
		case 5: { /* config space write: mostly capabilities (PCI_CFG window, MSI-X) */
			uint8_t reg = get8(in);

			w = width(get8(in)) & 7;
			v = getn(in, 4);
			cfg_wr(b, reg < 0x40 ? (unsigned int)reg + 0x40 : reg, (uint32_t)v, w);
			reset = true; /* a window write may be a status write of 0 */
			break;
		}
		case 6: /* notify queue 0 (or a bad index) */
			v = get8(in);
			w = (v & 0x80) ? 4 : 2;
			mmio_wr(b, VPCI_NOTIFY_OFF + ((v & 0x40) ? (v & 0x3f) * 4 : 0), 0, w);
			break;
		case 7:
		case 8: /* worker step */
			process(b, op & 0x80);
			break;
		case 9:
			bringup(b, in);
			reset = true;
			break;
		case 10:
		case 11:
			submit(b, in);
			drv_ram = true;
			break;
		case 12: { /* raw RAM write into the ring or buffer zone */
			uint8_t z = get8(in), len = get8(in) % 17;
			uint64_t at = (z & 1) ? RING_ZONE + getn(in, 2) % RING_ZLEN
					      : BUF_ZONE + getn(in, 2) % BUF_ZLEN;

			for (unsigned int i = 0; i < len && at + i < RAM_SIZE; i++)
				ram[at + i] = get8(in);
			drv_ram = true;
			break;
		}
		case 13: /* the device's config changed */
			vpci_config_changed(b->v);
			break;
		case 14: /* platform: board reset, or PCI host reset */
			if (op & 0x80)
				b->bar->ops->reset(b->bar);
			else
				pci_host_reset(b->h);
			reset = true;
			break;
		default: { /* faults: backend errors, start failure, route failure */
			uint8_t f = get8(in);

			b->sd.fb->read_err = (f & 1) ? EIO : 0;
			b->sd.fb->write_err = (f & 2) ? ENOSPC : 0;
			b->sd.fb->flush_err = (f & 4) ? EIO : 0;
			b->sd.start_ret = (f & 8) ? -EAGAIN : 0;
			b->msi.route_ret = (f & 16) ? -EINVAL : 0;
			b->ioev.add_ret = (f & 32) ? -ENOSPC : 0;
			break;
		}
		}
		check(b, drv_ram, reset);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct board b;
	static struct pci_placements pl;
	struct in in = {data, size};
	uint8_t setup = get8(&in);
	struct blk_opts o = {.readonly = setup & 2, .serial = "fuzz"};

	log_set_level(LOG_ERROR);
	memset(&b, 0, sizeof(b));
	memset(ram, 0, sizeof(ram));
	fake_msi_init(&b.msi);
	fake_ioevent_init(&b.ioev);
	b.use_ioev = setup & 1;
	CHECK(gmem_add(&b.gm, RAM_GPA, RAM_SIZE, ram) == 0);
	b.h = pci_host_create();
	CHECK(b.h);
	b.ecam = pci_host_ecam_dev(b.h);
	b.sd.fb = fake_backend_create(DISK);
	CHECK(b.sd.fb);
	for (unsigned int i = 0; i < DISK; i++)
		b.sd.fb->data[i] = (uint8_t)(i * 13);
	b.sd.b = blk_create(&b.sd.fb->be, &o);
	CHECK(b.sd.b);
	b.v = vpci_create(b.h, SLOT, &sd_ops, &b.sd, &b.gm, &b.msi.ctl,
			  b.use_ioev ? &b.ioev.ctl : NULL);
	CHECK(b.v);
	CHECK(pci_host_assign_bars(b.h, MMIO_BASE, 0x1000000, 0xc000, 0x1000, &pl) == 0);
	b.bar = vpci_bar_dev(b.v);
	b.bar_gpa = pci_func_bar_addr(vpci_func(b.v), VPCI_BAR);
	CHECK(b.bar_gpa == MMIO_BASE);

	run(&b, &in);

	/* Teardown stops a live device and removes every ioeventfd. */
	vpci_destroy(b.v);
	CHECK(!b.sd.started);
	CHECK(b.ioev.nr == 0 && b.ioev.bad_dels == 0);
	blk_destroy(b.sd.b);
	pci_host_destroy(b.h);
	return 0;
}
