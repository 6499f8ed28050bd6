// SPDX-License-Identifier: MIT
/*
 * Unit tests for devices/virtio/pci/vpci.c, the virtio 1.x PCI transport.
 *
 * The tests play Linux's virtio_pci_modern driver: find the vendor
 * capabilities by walking config space through the ECAM window, map BAR 4
 * at pci_func_bar_addr(), reset, negotiate features, program MSI-X and the
 * queues, set DRIVER_OK and kick. Transport rules (status machine, queue
 * registers, access widths, the PCI_CFG window, interrupts) run against a
 * recording fake device; end-to-end I/O runs against the real virtio-blk
 * model over an in-memory disk, waiting for completions on a condition
 * variable the fake MSI controller signals (never on sleeps).
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/pci_regs.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "fake_backend.h"
#include "fake_ioevent.h"
#include "fake_msi.h"
#include "hostel/log.h"
#include "pci/pci.h"
#include "ring_harness.h"
#include "virtio/blk/blk.h"
#include "virtio/console/vcon.h"
#include "virtio/pci/vpci.h"

#define SLOT	  3
#define MMIO_BASE 0xc0000000ull
#define DISK_SIZE (64 * 1024)
#define MSI_ADDR  0xfee00000u
#define NO_VEC	  VIRTIO_MSI_NO_VECTOR
#define QSIZE	  16

#define S_ACK	    VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRIVER    VIRTIO_CONFIG_S_DRIVER
#define S_FEAT_OK   VIRTIO_CONFIG_S_FEATURES_OK
#define S_DRIVER_OK VIRTIO_CONFIG_S_DRIVER_OK
#define S_NEEDS_RST VIRTIO_CONFIG_S_NEEDS_RESET
#define S_FAILED    VIRTIO_CONFIG_S_FAILED

#define F_V1 (1ull << VIRTIO_F_VERSION_1)

static __attribute__((returns_nonnull)) void *must(void *p)
{
	if (!p) {
		fail_msg("unexpected NULL");
		abort(); /* fail_msg does not return; tell the compiler */
	}
	return p;
}

/* Expected errors are logged: keep the test output clean while they happen. */
static FILE *devnull;

static void quiet(void)
{
	devnull = must(fopen("/dev/null", "w"));
	log_set_file(devnull);
}

static void loud(void)
{
	log_set_file(NULL);
	fclose(devnull);
	devnull = NULL;
}

/* ---- a fake device behind the transport ----------------------------------- */

#define FDEV_QUEUES 2
#define FDEV_QMAX   64
#define FDEV_CFG    12

struct fdev {
	uint64_t offer;
	uint64_t features; /* last set_features() */
	unsigned int set_features_calls;
	uint8_t cfg[FDEV_CFG];
	unsigned int cfg_writes;
	uint64_t cfg_write_off;
	unsigned int cfg_write_len;
	int start_ret;
	unsigned int starts, stops;
	struct fdev_q {
		bool started;
		struct virtq *vq;
		int kick_fd;
		void (*notify)(void *);
		void (*needs_reset)(void *);
		void *opaque;
		bool ready_at_stop; /* the rings were still known when stop() ran */
	} q[FDEV_QUEUES];
};

static uint64_t fdev_features(void *d)
{
	return ((struct fdev *)d)->offer;
}

static void fdev_set_features(void *d, uint64_t f)
{
	struct fdev *fd = d;

	fd->features = f;
	fd->set_features_calls++;
}

static unsigned int fdev_config_size(void *d)
{
	(void)d;
	return FDEV_CFG;
}

static void fdev_config_read(void *d, uint64_t off, void *data, unsigned int len)
{
	struct fdev *fd = d;

	assert_true(off < FDEV_CFG && len <= FDEV_CFG - off); /* the transport clips */
	memcpy(data, fd->cfg + off, len);
}

static void fdev_config_write(void *d, uint64_t off, const void *data, unsigned int len)
{
	struct fdev *fd = d;

	assert_true(off < FDEV_CFG && len <= FDEV_CFG - off);
	fd->cfg_writes++;
	fd->cfg_write_off = off;
	fd->cfg_write_len = len;
	memcpy(fd->cfg + off, data, len);
}

static int fdev_start(void *d, unsigned int q, struct virtq *vq, int kick_fd,
		      void (*notify)(void *), void (*needs_reset)(void *), void *opaque)
{
	struct fdev *fd = d;

	assert_true(q < FDEV_QUEUES);
	assert_true(vq->ready);
	fd->starts++;
	if (fd->start_ret)
		return fd->start_ret;
	fd->q[q] = (struct fdev_q){true, vq, kick_fd, notify, needs_reset, opaque, false};
	return 0;
}

static void fdev_stop(void *d)
{
	struct fdev *fd = d;

	fd->stops++;
	for (unsigned int i = 0; i < FDEV_QUEUES; i++) {
		if (fd->q[i].started)
			fd->q[i].ready_at_stop = fd->q[i].vq->ready;
		fd->q[i].started = false;
	}
}

static const struct vpci_dev_ops fdev_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = 0x078000,
	.nr_queues = FDEV_QUEUES,
	.queue_size_max = FDEV_QMAX,
	.features = fdev_features,
	.set_features = fdev_set_features,
	.config_size = fdev_config_size,
	.config_read = fdev_config_read,
	.config_write = fdev_config_write,
	.start = fdev_start,
	.stop = fdev_stop,
};

/* ---- an MSI controller that wakes the test -------------------------------- */

struct irqrec {
	struct fake_msi fm; /* first: fake_msi's ops cast the ctl to it */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static int irq_route(struct msi_ctl *c, unsigned int vec, uint64_t addr, uint32_t data, bool masked)
{
	struct irqrec *r = (struct irqrec *)c;
	int ret;

	pthread_mutex_lock(&r->mu);
	ret = fake_msi_route(c, vec, addr, data, masked);
	pthread_mutex_unlock(&r->mu);
	return ret;
}

static void irq_fire(struct msi_ctl *c, unsigned int vec)
{
	struct irqrec *r = (struct irqrec *)c;

	pthread_mutex_lock(&r->mu);
	fake_msi_fire(c, vec);
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static const struct msi_ops irq_ops = {.route = irq_route, .fire = irq_fire};

static unsigned int fired(struct irqrec *r, unsigned int vec)
{
	unsigned int n;

	pthread_mutex_lock(&r->mu);
	n = r->fm.fired[vec];
	pthread_mutex_unlock(&r->mu);
	return n;
}

/* Wait (event-driven, bounded) until vector @vec has fired @n times. */
static void wait_fired(struct irqrec *r, unsigned int vec, unsigned int n)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&r->mu);
	while (r->fm.fired[vec] < n) {
		if (pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&r->mu);
			fail_msg("vector %u fired %u times, want %u", vec, r->fm.fired[vec], n);
		}
	}
	pthread_mutex_unlock(&r->mu);
}

/* ---- fixture: host, RAM, transport ---------------------------------------- */

struct fx {
	struct pci_host *h;
	struct dev *ecam;
	struct ring_harness rh;
	struct irqrec irq;
	struct fake_ioevent ioev;
	struct fdev fd;
	struct fake_backend *fb;
	struct blk *b;
	struct vcon *con;
	struct vpci *v;
	struct dev *bar;
	uint64_t bar_gpa;
	/* What the driver found in the capabilities (BAR offsets). */
	uint32_t common, notify, isr, devcfg, devcfg_len, notify_mult;
	unsigned int pcicfg, msix_cap;
	/* Blocking backend for the in-flight reset test. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool block, entered, release;
};

static uint32_t cfg_rd(struct fx *f, unsigned int reg, unsigned int len)
{
	uint8_t b[4] = {0};

	f->ecam->ops->read(f->ecam, (uint64_t)SLOT << 15 | reg, b, len);
	return (uint32_t)dev_data_get(b, len);
}

static void cfg_wr(struct fx *f, unsigned int reg, uint32_t v, unsigned int len)
{
	uint8_t b[4];

	dev_data_put(b, len, v);
	f->ecam->ops->write(f->ecam, (uint64_t)SLOT << 15 | reg, b, len);
}

static uint64_t bar_rd(struct fx *f, uint64_t off, unsigned int len)
{
	uint8_t b[8];

	memset(b, 0xcc, sizeof(b));
	f->bar->ops->read(f->bar, off, b, len);
	return dev_data_get(b, len);
}

static void bar_wr(struct fx *f, uint64_t off, uint64_t v, unsigned int len)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	f->bar->ops->write(f->bar, off, b, len);
}

/* A guest MMIO write: ioeventfds catch their writes as KVM does, the rest exits. */
static void mmio_wr(struct fx *f, uint64_t gpa, uint64_t v, unsigned int len)
{
	assert_true(gpa >= f->bar_gpa && gpa - f->bar_gpa < VPCI_BAR_SIZE);
	if (fake_ioevent_write(&f->ioev, gpa, len, v))
		return;
	bar_wr(f, gpa - f->bar_gpa, v, len);
}

static uint64_t com_rd(struct fx *f, unsigned int off, unsigned int len)
{
	return bar_rd(f, f->common + off, len);
}

static void com_wr(struct fx *f, unsigned int off, uint64_t v, unsigned int len)
{
	bar_wr(f, f->common + off, v, len);
}

static uint8_t status(struct fx *f)
{
	return (uint8_t)com_rd(f, VIRTIO_PCI_COMMON_STATUS, 1);
}

static void set_status(struct fx *f, uint8_t s)
{
	com_wr(f, VIRTIO_PCI_COMMON_STATUS, s, 1);
}

static void on_io(struct fake_backend *fb, enum fake_op op)
{
	struct fx *f = fb->opaque;

	(void)op;
	pthread_mutex_lock(&f->mu);
	if (f->block) {
		f->entered = true;
		pthread_cond_broadcast(&f->cv);
		while (!f->release)
			pthread_cond_wait(&f->cv, &f->mu);
	}
	pthread_mutex_unlock(&f->mu);
}

/*
 * Linux's vp_modern_probe(): walk the capability list, keep the first
 * vendor capability of each cfg_type that points at a BAR. Checks the
 * layout the transport documents.
 */
static void find_caps(struct fx *f)
{
	unsigned int pos = cfg_rd(f, PCI_CAPABILITY_LIST, 1), guard = 0;

	assert_true(cfg_rd(f, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	f->common = f->notify = f->isr = f->devcfg = UINT32_MAX;
	f->pcicfg = f->msix_cap = 0;
	while (pos && guard++ < 48) {
		unsigned int id = cfg_rd(f, pos, 1);

		assert_true(pos >= 0x40 && pos % 4 == 0);
		if (id == PCI_CAP_ID_MSIX) {
			f->msix_cap = pos;
		} else if (id == PCI_CAP_ID_VNDR) {
			unsigned int type = cfg_rd(f, pos + VIRTIO_PCI_CAP_CFG_TYPE, 1);
			unsigned int bar = cfg_rd(f, pos + VIRTIO_PCI_CAP_BAR, 1);
			uint32_t off = cfg_rd(f, pos + VIRTIO_PCI_CAP_OFFSET, 4);
			uint32_t len = cfg_rd(f, pos + VIRTIO_PCI_CAP_LENGTH, 4);

			if (type == VIRTIO_PCI_CAP_PCI_CFG) {
				assert_int_equal(cfg_rd(f, pos + VIRTIO_PCI_CAP_LEN, 1),
						 sizeof(struct virtio_pci_cfg_cap));
				f->pcicfg = pos;
			} else {
				assert_int_equal(bar, VPCI_BAR);
				assert_true(off % 4 == 0 && off + len <= VPCI_BAR_SIZE);
			}
			if (type == VIRTIO_PCI_CAP_COMMON_CFG && f->common == UINT32_MAX) {
				assert_true(len >= sizeof(struct virtio_pci_common_cfg));
				f->common = off;
			} else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && f->notify == UINT32_MAX) {
				assert_int_equal(cfg_rd(f, pos + VIRTIO_PCI_CAP_LEN, 1),
						 sizeof(struct virtio_pci_notify_cap));
				f->notify = off;
				f->notify_mult = cfg_rd(f, pos + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
				assert_true(len >= 2);
			} else if (type == VIRTIO_PCI_CAP_ISR_CFG && f->isr == UINT32_MAX) {
				assert_true(len >= 1);
				f->isr = off;
			} else if (type == VIRTIO_PCI_CAP_DEVICE_CFG && f->devcfg == UINT32_MAX) {
				f->devcfg = off;
				f->devcfg_len = len;
			}
		}
		pos = cfg_rd(f, pos + PCI_CAP_LIST_NEXT, 1);
	}
	assert_int_not_equal(f->common, UINT32_MAX);
	assert_int_not_equal(f->notify, UINT32_MAX);
	assert_int_not_equal(f->isr, UINT32_MAX);
	assert_int_not_equal(f->devcfg, UINT32_MAX);
	assert_int_not_equal(f->pcicfg, 0);
	assert_int_not_equal(f->msix_cap, 0);
}

/* The transport in front of a blk disk, the fake device, or @con when given. */
static struct fx *fx_new_dev(bool blk, struct vcon *con, bool ioev)
{
	struct fx *f = must(calloc(1, sizeof(*f)));
	struct pci_placements *pl = must(calloc(1, sizeof(*pl)));

	log_set_level(LOG_ERROR);
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	fake_msi_init(&f->irq.fm);
	f->irq.fm.ctl.ops = &irq_ops;
	pthread_mutex_init(&f->irq.mu, NULL);
	pthread_cond_init(&f->irq.cv, NULL);
	fake_ioevent_init(&f->ioev);
	assert_int_equal(rh_init(&f->rh, QSIZE, 2 * RH_DEFAULT_RAM), 0);
	f->h = must(pci_host_create());
	f->ecam = pci_host_ecam_dev(f->h);
	if (con) {
		f->con = con;
		f->v = vpci_create_console(f->h, SLOT, con, &f->rh.gm, &f->irq.fm.ctl,
					   ioev ? &f->ioev.ctl : NULL);
	} else if (blk) {
		struct blk_opts o = {.serial = "vpci-test"};

		f->fb = must(fake_backend_create(DISK_SIZE));
		for (unsigned int i = 0; i < DISK_SIZE; i++)
			f->fb->data[i] = (uint8_t)(i * 7 + i / 512);
		f->fb->on_io = on_io;
		f->fb->opaque = f;
		f->b = must(blk_create(&f->fb->be, &o));
		f->v = vpci_create_blk(f->h, SLOT, f->b, &f->rh.gm, &f->irq.fm.ctl,
				       ioev ? &f->ioev.ctl : NULL);
	} else {
		f->fd.offer = F_V1 | 1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << 0 | 1ull << 3 |
			      1ull << VIRTIO_F_RING_PACKED | 1ull << VIRTIO_F_RING_RESET;
		for (unsigned int i = 0; i < FDEV_CFG; i++)
			f->fd.cfg[i] = (uint8_t)(0x10 + i);
		f->v = vpci_create(f->h, SLOT, &fdev_ops, &f->fd, &f->rh.gm, &f->irq.fm.ctl,
				   ioev ? &f->ioev.ctl : NULL);
	}
	assert_non_null(f->v);
	assert_int_equal(pci_host_assign_bars(f->h, MMIO_BASE, 0x10000000, 0xc000, 0x1000, pl), 0);
	/* Map the BAR where hostel placed it, as the board does. */
	f->bar_gpa = pci_func_bar_addr(vpci_func(f->v), VPCI_BAR);
	assert_true(f->bar_gpa >= MMIO_BASE && f->bar_gpa % VPCI_BAR_SIZE == 0);
	f->bar = NULL;
	for (unsigned int i = 0; i < pl->nr; i++) {
		if (pl->p[i].slot == SLOT && pl->p[i].bar == VPCI_BAR) {
			assert_false(pl->p[i].io);
			assert_int_equal(pl->p[i].base, f->bar_gpa);
			assert_int_equal(pl->p[i].size, VPCI_BAR_SIZE);
			f->bar = pl->p[i].dev;
		}
	}
	assert_ptr_equal(must(f->bar), vpci_bar_dev(f->v));
	free(pl);
	find_caps(f);
	return f;
}

static struct fx *fx_new(bool blk, bool ioev)
{
	return fx_new_dev(blk, NULL, ioev);
}

static void fx_free(struct fx *f)
{
	vpci_destroy(f->v);
	blk_destroy(f->b);
	vcon_destroy(f->con);
	pci_host_destroy(f->h);
	rh_fini(&f->rh);
	pthread_mutex_destroy(&f->irq.mu);
	pthread_cond_destroy(&f->irq.cv);
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

/* ---- the driver's steps ---------------------------------------------------- */

static uint64_t dev_features(struct fx *f)
{
	uint64_t lo, hi;

	com_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	lo = com_rd(f, VIRTIO_PCI_COMMON_DF, 4);
	com_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	hi = com_rd(f, VIRTIO_PCI_COMMON_DF, 4);
	return hi << 32 | lo;
}

static void drv_features(struct fx *f, uint64_t feat)
{
	com_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	com_wr(f, VIRTIO_PCI_COMMON_GF, (uint32_t)feat, 4);
	com_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	com_wr(f, VIRTIO_PCI_COMMON_GF, feat >> 32, 4);
}

static uint64_t drv_features_read(struct fx *f)
{
	uint64_t lo, hi;

	com_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	lo = com_rd(f, VIRTIO_PCI_COMMON_GF, 4);
	com_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	hi = com_rd(f, VIRTIO_PCI_COMMON_GF, 4);
	return hi << 32 | lo;
}

/* virtio_dev_probe(): reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK; the status read back. */
static uint8_t drv_negotiate(struct fx *f, uint64_t feat)
{
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	set_status(f, S_ACK);
	set_status(f, S_ACK | S_DRIVER);
	drv_features(f, feat);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK);
	return status(f);
}

/* MSI-X entry @vec unmasked with a message that names it; MSI-X enabled. */
static void drv_msix(struct fx *f, unsigned int nvec)
{
	uint32_t table = cfg_rd(f, f->msix_cap + PCI_MSIX_TABLE, 4);

	assert_int_equal(table & PCI_MSIX_TABLE_BIR, VPCI_BAR);
	table &= PCI_MSIX_TABLE_OFFSET;
	for (unsigned int i = 0; i < nvec; i++) {
		bar_wr(f, table + 16 * i + PCI_MSIX_ENTRY_LOWER_ADDR, MSI_ADDR, 4);
		bar_wr(f, table + 16 * i + PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
		bar_wr(f, table + 16 * i + PCI_MSIX_ENTRY_DATA, 0x40 + i, 4);
		bar_wr(f, table + 16 * i + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	}
	cfg_wr(f, f->msix_cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
}

struct qcfg {
	uint16_t size, vector;
	uint64_t desc, avail, used;
};

static struct qcfg rh_qcfg(const struct ring_harness *h, uint16_t vector)
{
	return (struct qcfg){h->size, vector, h->desc_gpa, h->avail_gpa, h->used_gpa};
}

/* vp_modern setup_vq(): select, size, addresses, vector (read back), enable. */
static void drv_queue(struct fx *f, unsigned int q, const struct qcfg *c)
{
	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	com_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, c->size, 2);
	com_wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)c->desc, 4);
	com_wr(f, VIRTIO_PCI_COMMON_Q_DESCHI, c->desc >> 32, 4);
	com_wr(f, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)c->avail, 4);
	com_wr(f, VIRTIO_PCI_COMMON_Q_AVAILHI, c->avail >> 32, 4);
	com_wr(f, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)c->used, 4);
	com_wr(f, VIRTIO_PCI_COMMON_Q_USEDHI, c->used >> 32, 4);
	com_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, c->vector, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), c->vector);
	com_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static uint64_t notify_gpa(struct fx *f, unsigned int q)
{
	uint64_t noff;

	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	noff = com_rd(f, VIRTIO_PCI_COMMON_Q_NOFF, 2);
	return f->bar_gpa + f->notify + noff * f->notify_mult;
}

/* vp_notify(): the queue index, 16 bits, at the queue's notify address. */
static void kick(struct fx *f, unsigned int q)
{
	mmio_wr(f, notify_gpa(f, q), q, 2);
}

static bool fd_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1; /* immediate: no waiting */
}

static uint64_t fd_take(int fd)
{
	uint64_t n = 0;

	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	return n;
}

/* Rings for another queue, carved from the harness's buffer space. */
static struct qcfg rings_in(struct ring_harness *h, uint16_t size, uint16_t vector)
{
	struct qcfg c = {.size = size, .vector = vector};

	c.desc = rh_alloc(h, 16ull * size);
	c.avail = rh_alloc(h, 6 + 2ull * size);
	c.used = rh_alloc(h, 6 + 8ull * size);
	assert_true(c.desc && c.avail && c.used);
	return c;
}

/* ---- discovery ---------------------------------------------------------- */

static void test_discovery(void **state)
{
	struct fx *f = fx_new(false, false);
	uint64_t df;

	(void)state;
	/* 4.1.2: IDs of a non-transitional device. */
	assert_int_equal(cfg_rd(f, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_rd(f, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_CONSOLE);
	assert_int_equal(cfg_rd(f, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg_rd(f, PCI_CLASS_REVISION, 4) >> 8, 0x078000);
	assert_int_equal(cfg_rd(f, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_true(cfg_rd(f, PCI_SUBSYSTEM_ID, 2) >= 0x40);
	assert_int_equal(cfg_rd(f, PCI_INTERRUPT_PIN, 1), 0);
	/* BAR 4: 64-bit memory, hostel's placement, below 4 GiB. */
	assert_int_equal(cfg_rd(f, PCI_BASE_ADDRESS_4, 4),
			 (uint32_t)f->bar_gpa | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(cfg_rd(f, PCI_BASE_ADDRESS_5, 4), 0);
	assert_int_equal(pci_func_bar_size(vpci_func(f->v), VPCI_BAR), VPCI_BAR_SIZE);
	/* The layout vpci.h documents. */
	assert_int_equal(f->common, VPCI_COMMON_OFF);
	assert_int_equal(f->isr, VPCI_ISR_OFF);
	assert_int_equal(f->devcfg, VPCI_DEVCFG_OFF);
	assert_int_equal(f->devcfg_len, FDEV_CFG);
	assert_int_equal(f->notify, VPCI_NOTIFY_OFF);
	assert_int_equal(f->notify_mult, 4);
	/* MSI-X: config vector + one per queue; table and PBA in BAR 4. */
	assert_int_equal((cfg_rd(f, f->msix_cap + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1,
			 FDEV_QUEUES + 1);
	assert_int_equal(cfg_rd(f, f->msix_cap + PCI_MSIX_TABLE, 4), VPCI_MSIX_OFF | VPCI_BAR);
	assert_int_equal(cfg_rd(f, f->msix_cap + PCI_MSIX_PBA, 4), VPCI_PBA_OFF | VPCI_BAR);

	/* Common configuration after power-on. */
	assert_int_equal(status(f), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), FDEV_QUEUES);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_MSIX, 2), NO_VEC);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
	for (unsigned int q = 0; q < FDEV_QUEUES; q++) {
		com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), FDEV_QMAX);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), NO_VEC);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_NOFF, 2), q);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
	}
	/* Features: the device's, VERSION_1 added, transport-only bits masked. */
	df = dev_features(f);
	assert_int_equal(df, F_V1 | 1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << 0 | 1ull << 3);
	com_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_DF, 4), 0);
	com_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 0xffffffff, 4);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_DFSELECT, 4), 0xffffffff);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_DF, 4), 0);
	fx_free(f);
}

/* ---- feature negotiation, BAD-INPUTS 9 ------------------------------------ */

static void test_features(void **state)
{
	struct fx *f = fx_new(false, false);
	uint64_t ok = F_V1 | 1ull << 3;
	struct vpci_stats st;

	(void)state;
	/* A bit the device did not offer: FEATURES_OK reads back clear. */
	assert_int_equal(drv_negotiate(f, ok | 1ull << 5), S_ACK | S_DRIVER);
	/* The transport-only bits it masked out count as not offered. */
	assert_int_equal(drv_negotiate(f, ok | 1ull << VIRTIO_F_RING_PACKED), S_ACK | S_DRIVER);
	/* No VERSION_1: a legacy driver, refused. */
	assert_int_equal(drv_negotiate(f, 1ull << 3), S_ACK | S_DRIVER);
	assert_int_equal(f->fd.set_features_calls, 3); /* only the 0s of the resets */
	assert_int_equal(f->fd.features, 0);
	vpci_get_stats(f->v, &st);
	assert_int_equal(st.features_rejected, 3);

	/* A refused FEATURES_OK can be retried with other features without a reset. */
	drv_features(f, ok);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEAT_OK);
	assert_int_equal(f->fd.features, ok);
	assert_int_equal(drv_features_read(f), ok);

	/* Frozen after FEATURES_OK: both halves, whatever the select. */
	drv_features(f, F_V1 | 1ull << 0 | 1ull << VIRTIO_RING_F_EVENT_IDX);
	assert_int_equal(drv_features_read(f), ok);
	assert_int_equal(f->fd.features, ok);
	assert_int_equal(f->fd.set_features_calls, 4);
	/* Re-writing FEATURES_OK changes nothing. */
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK);
	assert_int_equal(f->fd.set_features_calls, 4);

	/* driver_feature_select beyond 1: reads 0, writes dropped. */
	com_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 7, 4);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_GF, 4), 0);

	/* Reset forgets them, on both sides. */
	set_status(f, 0);
	assert_int_equal(drv_features_read(f), 0);
	assert_int_equal(f->fd.features, 0);
	com_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 2, 4);
	com_wr(f, VIRTIO_PCI_COMMON_GF, 0xffffffff, 4);
	assert_int_equal(drv_features_read(f), 0);
	/* Re-negotiating the same set succeeds again (2.2.2). */
	assert_int_equal(drv_negotiate(f, ok), S_ACK | S_DRIVER | S_FEAT_OK);
	fx_free(f);
}

/* ---- status state machine, BAD-INPUTS 9 ----------------------------------- */

static void test_status_machine(void **state)
{
	struct fx *f = fx_new(false, false);
	struct qcfg c = rh_qcfg(&f->rh, 1);
	struct vpci_stats st;

	(void)state;
	set_status(f, S_ACK);
	assert_int_equal(status(f), S_ACK);
	set_status(f, S_ACK | S_DRIVER);
	assert_int_equal(status(f), S_ACK | S_DRIVER);
	/* Clearing a bit other than by writing 0: ignored. */
	set_status(f, S_DRIVER);
	assert_int_equal(status(f), S_ACK | S_DRIVER);
	/* NEEDS_RESET is the device's: the driver cannot set it. */
	set_status(f, S_ACK | S_DRIVER | S_NEEDS_RST);
	assert_int_equal(status(f), S_ACK | S_DRIVER);

	/* DRIVER_OK without FEATURES_OK: ignored, nothing started. */
	drv_features(f, F_V1);
	drv_queue(f, 0, &c);
	set_status(f, S_ACK | S_DRIVER | S_DRIVER_OK);
	assert_int_equal(status(f), S_ACK | S_DRIVER);
	assert_int_equal(f->fd.starts, 0);
	/* ... and the queue can still be configured. */
	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	com_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);

	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(f->fd.starts, 1); /* queue 1 was never enabled */
	assert_true(f->fd.q[0].started);
	assert_int_equal(f->fd.q[0].vq->cfg.size, QSIZE);
	assert_int_equal(f->fd.q[0].vq->cfg.desc, f->rh.desc_gpa);
	/* The device sees the negotiated ring features. */
	assert_false(f->fd.q[0].vq->cfg.event_idx);
	/* Writing DRIVER_OK again does not restart anything. */
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(f->fd.starts, 1);
	/* FAILED accumulates. */
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK | S_FAILED);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK | S_FAILED);

	/* Reset: stop first, with the rings still known; then everything to power-on. */
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->fd.stops, 1);
	assert_true(f->fd.q[0].ready_at_stop);
	assert_false(f->fd.q[0].vq->ready);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_MSIX, 2), NO_VEC);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), FDEV_QMAX);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), NO_VEC);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_USEDLO, 4), 0);
	/* A reset of a device that never ran does not stop it again. */
	set_status(f, 0);
	assert_int_equal(f->fd.stops, 1);
	/* The board's reset (dev op) is the same. */
	assert_int_equal(drv_negotiate(f, F_V1), S_ACK | S_DRIVER | S_FEAT_OK);
	drv_queue(f, 0, &c);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(f->fd.starts, 2);
	f->bar->ops->reset(f->bar);
	assert_int_equal(status(f), 0);
	assert_int_equal(f->fd.stops, 2);
	vpci_get_stats(f->v, &st);
	assert_int_equal(st.status_refused, 2);
	fx_free(f);
}

/* The device's start() fails: DEVICE_NEEDS_RESET, nothing left half-running. */
static void test_start_failure(void **state)
{
	struct fx *f = fx_new(false, false);
	struct qcfg c = rh_qcfg(&f->rh, 1);

	(void)state;
	quiet(); /* the failure is logged as an error */
	f->fd.start_ret = -EAGAIN;
	drv_msix(f, FDEV_QUEUES + 1);
	assert_int_equal(drv_negotiate(f, F_V1), S_ACK | S_DRIVER | S_FEAT_OK);
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	drv_queue(f, 0, &c);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK | S_NEEDS_RST);
	assert_int_equal(fired(&f->irq, 0), 1);
	/* The queue is not live: a notify is not signalled. */
	kick(f, 0);
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	loud();
	fx_free(f);
}

/* ---- queue configuration abuse, BAD-INPUTS 8 ------------------------------- */

static void test_queue_config(void **state)
{
	struct fx *f = fx_new(false, false);
	struct qcfg c0 = rh_qcfg(&f->rh, 1);
	uint16_t bad_sizes[] = {0, 3, 48, FDEV_QMAX + 1, 2 * FDEV_QMAX, 0x8000, 0xffff};
	uint16_t bad_sel[] = {FDEV_QUEUES, 100, 0xffff};
	struct vpci_stats st;

	(void)state;
	drv_msix(f, FDEV_QUEUES + 1);
	assert_int_equal(drv_negotiate(f, F_V1), S_ACK | S_DRIVER | S_FEAT_OK);

	/* queue_size: 0, not a power of two, above the maximum - ignored. */
	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		com_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, bad_sizes[i], 2);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), FDEV_QMAX);
	}
	com_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 1, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 1);
	com_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, FDEV_QMAX, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), FDEV_QMAX);

	/* Vectors the device cannot map read back as NO_VECTOR (4.1.5.1.2). */
	com_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, FDEV_QUEUES + 1, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), NO_VEC);
	com_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 0x1234, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), NO_VEC);
	com_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, FDEV_QUEUES, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), FDEV_QUEUES);
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, 3, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_MSIX, 2), NO_VEC);
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	/* queue_enable takes only 1. */
	com_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);

	/* queue_select >= num_queues: every queue register reads 0, writes vanish. */
	for (unsigned int i = 0; i < ARRAY_SIZE(bad_sel); i++) {
		com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, bad_sel[i], 2);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SELECT, 2), bad_sel[i]);
		com_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
		com_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
		com_wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 0x1000, 4);
		com_wr(f, VIRTIO_PCI_COMMON_Q_USEDHI, 0x1, 4);
		bar_wr(f, VIRTIO_PCI_COMMON_Q_AVAILLO, 0x2000, 8);
		com_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_NOFF, 2), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_USEDHI, 4), 0);
		assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_AVAILLO, 8), 0);
	}
	for (unsigned int q = 0; q < FDEV_QUEUES; q++) {
		com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), FDEV_QMAX);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_USEDHI, 4), 0);
	}

	/* Activate queue 0 only. */
	drv_queue(f, 0, &c0);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(f->fd.starts, 1);

	/* After DRIVER_OK, queue configuration is frozen - for both queues. */
	for (unsigned int q = 0; q < FDEV_QUEUES; q++) {
		com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		com_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, 4, 2);
		com_wr(f, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
		com_wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 0x3000, 4);
		com_wr(f, VIRTIO_PCI_COMMON_Q_AVAILHI, 0x5, 4);
		bar_wr(f, VIRTIO_PCI_COMMON_Q_USEDLO, 0x9000, 8);
		com_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	}
	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), QSIZE);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8), f->rh.desc_gpa);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_AVAILLO, 8), f->rh.avail_gpa);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_USEDLO, 8), f->rh.used_gpa);
	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), FDEV_QMAX);
	assert_int_equal(f->fd.q[0].vq->cfg.size, QSIZE);
	assert_int_equal(f->fd.q[0].vq->cfg.desc, f->rh.desc_gpa);
	assert_int_equal(f->fd.starts, 1);
	/* msix_config stays writable. */
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, 2, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_MSIX, 2), 2);

	/* Notify: the live queue's eventfd; a queue not started, and indices >= num_queues, nothing. */
	kick(f, 0);
	assert_true(fd_readable(f->fd.q[0].kick_fd));
	assert_int_equal(fd_take(f->fd.q[0].kick_fd), 1);
	bar_wr(f, f->notify + 4, 1, 2); /* queue 1: configured never */
	bar_wr(f, f->notify + 4 * FDEV_QUEUES, FDEV_QUEUES, 2);
	bar_wr(f, f->notify + 4 * 500, 500, 2);
	bar_wr(f, f->notify + 0xffe, 0xffff, 2);
	assert_false(fd_readable(f->fd.q[0].kick_fd));
	vpci_get_stats(f->v, &st);
	assert_int_equal(st.bad_notifies, 3);
	/* Other widths at the doorbell still kick (no ioeventfd here). */
	bar_wr(f, f->notify, 0, 4);
	bar_wr(f, f->notify + 1, 0, 1);
	assert_int_equal(fd_take(f->fd.q[0].kick_fd), 2);
	fx_free(f);
}

/* Rings misaligned or outside RAM: DRIVER_OK leaves the queue stopped and asks for a reset. */
static void test_bad_rings(void **state)
{
	struct fx *f = fx_new(false, false);
	uint64_t ram_end = f->rh.ram_gpa + f->rh.ram_size;
	struct qcfg good = rings_in(&f->rh, 8, 2);
	struct qcfg bad[] = {
		{QSIZE, 1, f->rh.desc_gpa + 8, f->rh.avail_gpa, f->rh.used_gpa}, /* desc % 16 */
		{QSIZE, 1, f->rh.desc_gpa, f->rh.avail_gpa + 1, f->rh.used_gpa}, /* avail % 2 */
		{QSIZE, 1, f->rh.desc_gpa, f->rh.avail_gpa, f->rh.used_gpa + 2}, /* used % 4 */
		{QSIZE, 1, 0, f->rh.avail_gpa, f->rh.used_gpa},			 /* below RAM */
		{QSIZE, 1, f->rh.desc_gpa, f->rh.avail_gpa, ram_end - 64},	 /* straddles end */
		{QSIZE, 1, f->rh.desc_gpa, ram_end, f->rh.used_gpa},		 /* past RAM */
		{QSIZE, 1, 0xfffffffffffffff0ull, f->rh.avail_gpa, f->rh.used_gpa}, /* wraps */
		{QSIZE, 1, MMIO_BASE, f->rh.avail_gpa, f->rh.used_gpa}, /* our own BAR */
	};

	uint8_t *snap = must(malloc(f->rh.ram_size));
	uint64_t good_used = good.used - f->rh.ram_gpa;

	(void)state;
	/* Guest RAM full of a pattern: virtq_init of a bad ring must not write any of it. */
	memset(f->rh.ram, 0xee, f->rh.ram_size);
	memcpy(snap, f->rh.ram, f->rh.ram_size);
	memset(snap + good_used, 0, 4); /* the good queue's used->flags and used->idx */
	drv_msix(f, FDEV_QUEUES + 1);
	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		unsigned int cfg_irqs = fired(&f->irq, 0), starts = f->fd.starts;

		assert_int_equal(drv_negotiate(f, F_V1), S_ACK | S_DRIVER | S_FEAT_OK);
		com_wr(f, VIRTIO_PCI_COMMON_MSIX, 0, 2);
		drv_queue(f, 0, &bad[i]);
		drv_queue(f, 1, &good);
		set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
		/* 2.1.2: NEEDS_RESET, and a config change notification after DRIVER_OK. */
		assert_int_equal(status(f),
				 S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK | S_NEEDS_RST);
		assert_int_equal(fired(&f->irq, 0), cfg_irqs + 1);
		/* Only the good queue runs; the bad one is never kicked. */
		assert_int_equal(f->fd.starts, starts + 1);
		assert_false(f->fd.q[0].started);
		assert_true(f->fd.q[1].started);
		kick(f, 0);
		/* The driver's way out: reset, which also clears NEEDS_RESET. */
		set_status(f, 0);
		assert_int_equal(status(f), 0);
	}
	/* Only the good queue's used ring header was written (zeroed by virtq_init). */
	assert_int_equal(memcmp(snap, f->rh.ram, f->rh.ram_size), 0);
	free(snap);

	/* MSI-X off: the config change shows in ISR bit 1, read-to-clear. */
	cfg_wr(f, f->msix_cap + PCI_MSIX_FLAGS, 0, 2);
	assert_int_equal(drv_negotiate(f, F_V1), S_ACK | S_DRIVER | S_FEAT_OK);
	drv_queue(f, 0, &bad[0]);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_true(status(f) & S_NEEDS_RST);
	assert_int_equal(bar_rd(f, f->isr, 1), VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(bar_rd(f, f->isr, 1), 0);
	fx_free(f);
}

/* ---- interrupts ----------------------------------------------------------- */

static void test_interrupts(void **state)
{
	struct fx *f = fx_new(false, false);
	struct qcfg c0 = rh_qcfg(&f->rh, 2), c1 = rings_in(&f->rh, 8, NO_VEC);
	struct fdev_q *q0, *q1;

	(void)state;
	drv_msix(f, FDEV_QUEUES + 1);
	assert_int_equal(drv_negotiate(f, F_V1), S_ACK | S_DRIVER | S_FEAT_OK);
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, 1, 2);
	drv_queue(f, 0, &c0);
	drv_queue(f, 1, &c1);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	q0 = &f->fd.q[0];
	q1 = &f->fd.q[1];
	assert_true(q0->started && q1->started);

	/* Used-buffer notification: the queue's vector; NO_VECTOR: nothing. */
	q0->notify(q0->opaque);
	assert_int_equal(fired(&f->irq, 2), 1);
	q1->notify(q1->opaque);
	assert_int_equal(f->irq.fm.fires, 1);
	assert_int_equal(bar_rd(f, f->isr, 1), 0); /* MSI-X on: ISR untouched */

	/* A masked vector pends in the PBA, fires when unmasked (msix.c). */
	bar_wr(f, VPCI_MSIX_OFF + 16 * 2 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1, 4);
	q0->notify(q0->opaque);
	assert_int_equal(fired(&f->irq, 2), 1);
	assert_int_equal(bar_rd(f, VPCI_PBA_OFF, 8), 1u << 2);
	bar_wr(f, VPCI_MSIX_OFF + 16 * 2 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	assert_int_equal(fired(&f->irq, 2), 2);

	/* Config change: generation bumps, config vector fires. */
	vpci_config_changed(f->v);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 1);
	assert_int_equal(fired(&f->irq, 1), 1);

	/* The device reports a broken ring. */
	q1->needs_reset(q1->opaque);
	assert_true(status(f) & S_NEEDS_RST);
	assert_int_equal(status(f) & S_DRIVER_OK, S_DRIVER_OK);
	assert_int_equal(fired(&f->irq, 1), 2);
	/* The driver cannot clear it by writing status back without it. */
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_true(status(f) & S_NEEDS_RST);

	/* MSI-X disabled: ISR bits instead, cleared by the read. */
	cfg_wr(f, f->msix_cap + PCI_MSIX_FLAGS, 0, 2);
	q0->notify(q0->opaque);
	q1->notify(q1->opaque);
	assert_int_equal(bar_rd(f, f->isr, 1), 1);
	assert_int_equal(bar_rd(f, f->isr, 1), 0);
	vpci_config_changed(f->v);
	q0->notify(q0->opaque);
	assert_int_equal(bar_rd(f, f->isr, 4), 1 | VIRTIO_PCI_ISR_CONFIG);
	assert_int_equal(bar_rd(f, f->isr, 4), 0);
	/* ISR is read only; bytes after it read 0. */
	q0->notify(q0->opaque);
	bar_wr(f, f->isr, 0, 1);
	assert_int_equal(bar_rd(f, f->isr + 1, 1), 0);
	assert_int_equal(bar_rd(f, f->isr, 1), 1);
	assert_int_equal(f->irq.fm.fires, 4);
	assert_int_equal(f->irq.fm.bad_vectors, 0);
	/* Reset clears a pending ISR. */
	q0->notify(q0->opaque);
	set_status(f, 0);
	assert_int_equal(bar_rd(f, f->isr, 1), 0);
	fx_free(f);
}

/* ---- access widths and config space, BAD-INPUTS 10 ----------------------- */

static void test_access_widths(void **state)
{
	struct fx *f = fx_new(false, false);
	struct vpci_stats st;
	uint8_t buf[8];

	(void)state;
	/* Common config: width and offset must match a field. */
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), FDEV_QUEUES);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_NUMQ, 1), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_NUMQ, 4), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_NUMQ + 1, 1), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_MSIX + 1, 2), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_DFSELECT, 8), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_DF + 2, 2), 0);
	/* Status only as a byte. */
	com_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK, 2);
	com_wr(f, VIRTIO_PCI_COMMON_STATUS - 2, S_ACK << 16, 4);
	assert_int_equal(status(f), 0);
	/* Read-only fields ignore writes. */
	com_wr(f, VIRTIO_PCI_COMMON_NUMQ, 9, 2);
	com_wr(f, VIRTIO_PCI_COMMON_DF, 0, 4);
	com_wr(f, VIRTIO_PCI_COMMON_CFGGENERATION, 9, 1);
	com_wr(f, VIRTIO_PCI_COMMON_Q_NOFF, 9, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), FDEV_QUEUES);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_CFGGENERATION, 1), 0);
	com_wr(f, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_DF, 4), 1); /* VERSION_1 */
	/* 64-bit queue addresses: halves, or one aligned 8-byte access. */
	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	bar_wr(f, VIRTIO_PCI_COMMON_Q_DESCLO, 0x123456789abcdef0ull, 8);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x9abcdef0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_DESCHI, 4), 0x12345678);
	com_wr(f, VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0x9abcdef0);
	bar_wr(f, VIRTIO_PCI_COMMON_Q_DESCHI, 0x1111111122222222ull, 8); /* not 8-aligned */
	com_wr(f, VIRTIO_PCI_COMMON_Q_AVAILLO + 2, 0xffff, 2);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0x9abcdef0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_AVAILLO, 8), 0);
	assert_int_equal(bar_rd(f, VIRTIO_PCI_COMMON_Q_DESCHI, 8), 0);
	/* queue_notify_data and queue_reset are not offered: they read 0. */
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_NDATA, 2), 0);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_RESET, 2), 0);
	assert_int_equal(com_rd(f, 0xfc, 4), 0);

	/* Device config: any width in range, 0 past the end, never a call past it. */
	assert_int_equal(bar_rd(f, f->devcfg, 4), 0x13121110);
	assert_int_equal(bar_rd(f, f->devcfg + 3, 2), 0x1413); /* unaligned */
	assert_int_equal(bar_rd(f, f->devcfg + 8, 8), 0x1b1a1918);
	assert_int_equal(bar_rd(f, f->devcfg + FDEV_CFG, 4), 0);
	assert_int_equal(bar_rd(f, f->devcfg + 0x100, 8), 0);
	assert_int_equal(bar_rd(f, VPCI_NOTIFY_OFF - 1, 1), 0);
	bar_wr(f, f->devcfg + 10, 0xdeadbeef, 4); /* straddles the end */
	bar_wr(f, f->devcfg + FDEV_CFG, 0xff, 1);
	bar_wr(f, VPCI_NOTIFY_OFF - 8, ~0ull, 8);
	assert_int_equal(f->fd.cfg_writes, 0);
	bar_wr(f, f->devcfg + 4, 0xa5a5, 2);
	assert_int_equal(f->fd.cfg_writes, 1);
	assert_int_equal(f->fd.cfg_write_off, 4);
	assert_int_equal(f->fd.cfg_write_len, 2);
	assert_int_equal(bar_rd(f, f->devcfg + 4, 2), 0xa5a5);

	/* Doorbells read 0; holes read all-ones; odd lengths and straddles fail safe. */
	assert_int_equal(bar_rd(f, f->notify, 2), 0);
	assert_int_equal(bar_rd(f, VPCI_ISR_OFF + 4, 4), 0xffffffff);
	assert_int_equal(bar_rd(f, VPCI_PBA_OFF + 0x100, 4), 0xffffffff);
	assert_int_equal(bar_rd(f, VPCI_COMMON_OFF + 0xfe, 4), 0xffffffff); /* common|ISR */
	memset(buf, 0, sizeof(buf));
	f->bar->ops->read(f->bar, 0, buf, 3);
	assert_int_equal(buf[0] & buf[1] & buf[2], 0xff);
	f->bar->ops->write(f->bar, VIRTIO_PCI_COMMON_STATUS, buf, 3);
	bar_wr(f, VPCI_ISR_OFF + 0x10, 1, 4);
	bar_wr(f, VPCI_BAR_SIZE - 4, 1, 4);
	assert_int_equal(status(f), 0);
	vpci_get_stats(f->v, &st);
	assert_true(st.bad_accesses >= 10);
	assert_true(st.ignored_writes >= 6);
	fx_free(f);
}

/* ---- PCI configuration access capability (4.1.4.9) ------------------------ */

static void win_set(struct fx *f, unsigned int bar, uint32_t off, uint32_t len)
{
	cfg_wr(f, f->pcicfg + VIRTIO_PCI_CAP_BAR, bar, 1);
	cfg_wr(f, f->pcicfg + VIRTIO_PCI_CAP_OFFSET, off, 4);
	cfg_wr(f, f->pcicfg + VIRTIO_PCI_CAP_LENGTH, len, 4);
}

static void test_pci_cfg_window(void **state)
{
	struct fx *f = fx_new(false, false);
	unsigned int data = f->pcicfg + 16;

	(void)state;
	assert_int_equal(cfg_rd(f, f->pcicfg + VIRTIO_PCI_CAP_CFG_TYPE, 1), VIRTIO_PCI_CAP_PCI_CFG);
	/* Read num_queues through the window. */
	win_set(f, VPCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 2);
	assert_int_equal(cfg_rd(f, f->pcicfg + VIRTIO_PCI_CAP_BAR, 1), VPCI_BAR);
	assert_int_equal(cfg_rd(f, f->pcicfg + VIRTIO_PCI_CAP_OFFSET, 4), VIRTIO_PCI_COMMON_NUMQ);
	assert_int_equal(cfg_rd(f, data, 2), FDEV_QUEUES);
	/* Write device_status through it; a 4-byte data write sends cap.length = 1 byte. */
	win_set(f, VPCI_BAR, VIRTIO_PCI_COMMON_STATUS, 1);
	cfg_wr(f, data, 0xffffff00 | S_ACK, 4);
	assert_int_equal(status(f), S_ACK);
	assert_int_equal(cfg_rd(f, data, 1), S_ACK);
	/* Device config through it. */
	win_set(f, VPCI_BAR, VPCI_DEVCFG_OFF + 4, 4);
	assert_int_equal(cfg_rd(f, data, 4), 0x17161514);

	/* Invalid windows do nothing (data keeps its bytes). */
	win_set(f, VPCI_BAR, VIRTIO_PCI_COMMON_STATUS, 3);
	cfg_wr(f, data, S_ACK | S_DRIVER, 4);
	assert_int_equal(status(f), S_ACK);
	win_set(f, 0, VIRTIO_PCI_COMMON_STATUS, 1);
	cfg_wr(f, data, S_ACK | S_DRIVER, 1);
	assert_int_equal(status(f), S_ACK);
	win_set(f, VPCI_BAR, VIRTIO_PCI_COMMON_NUMQ + 1, 2); /* not aligned to its length */
	cfg_wr(f, data, 0, 4);
	assert_int_equal(cfg_rd(f, data, 2), 0);
	win_set(f, VPCI_BAR, VPCI_BAR_SIZE, 1);
	assert_int_equal(cfg_rd(f, data, 1), 0);
	win_set(f, VPCI_BAR, 0xfffffffc, 4);
	assert_int_equal(cfg_rd(f, data, 4), 0);
	win_set(f, VPCI_BAR, 0, 0);
	assert_int_equal(cfg_rd(f, data, 4), 0);
	assert_int_equal(status(f), S_ACK);

	/* Fixed fields are read only. */
	cfg_wr(f, f->pcicfg + VIRTIO_PCI_CAP_CFG_TYPE, 1, 1);
	cfg_wr(f, f->pcicfg + VIRTIO_PCI_CAP_LEN, 40, 1);
	assert_int_equal(cfg_rd(f, f->pcicfg + VIRTIO_PCI_CAP_CFG_TYPE, 1), VIRTIO_PCI_CAP_PCI_CFG);
	assert_int_equal(cfg_rd(f, f->pcicfg + VIRTIO_PCI_CAP_LEN, 1), 20);
	/* The other capabilities are read only. */
	cfg_wr(f, VIRTIO_PCI_CAP_OFFSET + 0x40, 0x1234, 4);
	find_caps(f);
	assert_int_equal(f->common, VPCI_COMMON_OFF);

	/* Platform reset clears the window. */
	win_set(f, VPCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 2);
	pci_host_reset(f->h);
	assert_int_equal(cfg_rd(f, f->pcicfg + VIRTIO_PCI_CAP_BAR, 1), 0);
	assert_int_equal(cfg_rd(f, f->pcicfg + VIRTIO_PCI_CAP_LENGTH, 4), 0);
	fx_free(f);
}

/* ---- virtio-blk end to end ------------------------------------------------ */

#define BLK_VEC_CFG 0
#define BLK_VEC_Q   1

/* Linux's probe of a virtio-blk: everything up to DRIVER_OK, on rings @c. */
static void blk_bringup(struct fx *f, const struct qcfg *c)
{
	uint64_t feat = dev_features(f);

	assert_true(feat & F_V1);
	assert_true(feat & 1ull << VIRTIO_BLK_F_FLUSH);
	f->rh.event_idx = feat >> VIRTIO_RING_F_EVENT_IDX & 1;
	assert_int_equal(drv_negotiate(f, feat), S_ACK | S_DRIVER | S_FEAT_OK);
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, BLK_VEC_CFG, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_MSIX, 2), BLK_VEC_CFG);
	com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 256);
	drv_queue(f, 0, c);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
}

static void put_hdr(uint8_t *p, uint32_t type, uint64_t sector)
{
	uint32_t t = htole32(type), z = 0;
	uint64_t s = htole64(sector);

	memcpy(p, &t, 4);
	memcpy(p + 4, &z, 4);
	memcpy(p + 8, &s, 8);
}

/* One one-sector request on @h; its head. *st is the status byte's gpa. */
static uint16_t submit(struct ring_harness *h, uint32_t type, uint64_t sector, uint8_t fill,
		       uint64_t *data, uint64_t *st)
{
	uint64_t hdr = rh_alloc(h, 16);
	bool in = type == VIRTIO_BLK_T_IN;
	struct rh_buf bufs[3];

	*data = rh_alloc(h, 512);
	*st = rh_alloc(h, 1);
	assert_true(hdr && *data && *st);
	put_hdr(must(rh_host(h, hdr, 16)), type, sector);
	memset(must(rh_host(h, *data, 512)), fill, 512);
	*(uint8_t *)must(rh_host(h, *st, 1)) = 0xff;
	bufs[0] = (struct rh_buf){hdr, 16, false};
	bufs[1] = (struct rh_buf){*data, 512, in};
	bufs[2] = (struct rh_buf){*st, 1, true};
	return rh_submit(h, bufs, 3);
}

static uint8_t byte_at(struct ring_harness *h, uint64_t gpa)
{
	return *(uint8_t *)must(rh_host(h, gpa, 1));
}

/* Reap one completion as the driver's interrupt handler does, re-arming used_event. */
static void reap(struct ring_harness *h, uint16_t head, uint32_t want_len)
{
	uint32_t id, len;

	assert_true(rh_get_used(h, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, want_len);
	if (h->event_idx)
		rh_set_used_event(h, h->last_used);
}

static void test_blk_io(void **state)
{
	struct fx *f = fx_new(true, false);
	struct qcfg c = rh_qcfg(&f->rh, BLK_VEC_Q);
	uint64_t d, st, cap = 0;
	uint16_t head;
	struct vpci_stats vs;

	(void)state;
	/* Device config: struct virtio_blk_config.capacity, read as Linux does. */
	assert_int_equal(f->devcfg_len, sizeof(struct virtio_blk_config));
	cap = bar_rd(f, f->devcfg + offsetof(struct virtio_blk_config, capacity), 4) |
	      bar_rd(f, f->devcfg + offsetof(struct virtio_blk_config, capacity) + 4, 4) << 32;
	assert_int_equal(cap, DISK_SIZE / 512);
	assert_int_equal(bar_rd(f, f->devcfg, 8), DISK_SIZE / 512); /* one 8-byte access */
	/* Read-only fields: writes are dropped (BAD-INPUTS 10). */
	bar_wr(f, f->devcfg, 0xffffffff, 4);
	bar_wr(f, f->devcfg + 1, ~0ull, 8);
	assert_int_equal(bar_rd(f, f->devcfg, 8), DISK_SIZE / 512);
	assert_int_equal(bar_rd(f, f->devcfg + sizeof(struct virtio_blk_config), 4), 0);
	assert_int_equal(cfg_rd(f, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_BLOCK);
	assert_int_equal(cfg_rd(f, PCI_CLASS_REVISION, 4) >> 8, 0x018000);

	drv_msix(f, 2);
	blk_bringup(f, &c);

	/* A write, kicked through the notify register, completed by MSI-X. */
	head = submit(&f->rh, VIRTIO_BLK_T_OUT, 5, 0x5a, &d, &st);
	kick(f, 0);
	wait_fired(&f->irq, BLK_VEC_Q, 1);
	reap(&f->rh, head, 1);
	assert_int_equal(byte_at(&f->rh, st), VIRTIO_BLK_S_OK);
	assert_int_equal(f->fb->data[5 * 512], 0x5a);
	assert_int_equal(f->fb->data[6 * 512 - 1], 0x5a);

	/* Read it back. */
	head = submit(&f->rh, VIRTIO_BLK_T_IN, 5, 0, &d, &st);
	kick(f, 0);
	wait_fired(&f->irq, BLK_VEC_Q, 2);
	reap(&f->rh, head, 513);
	assert_int_equal(byte_at(&f->rh, st), VIRTIO_BLK_S_OK);
	assert_int_equal(byte_at(&f->rh, d), 0x5a);
	assert_int_equal(byte_at(&f->rh, d + 511), 0x5a);

	/* Out of range: IOERR through the same path. */
	head = submit(&f->rh, VIRTIO_BLK_T_IN, DISK_SIZE / 512, 0, &d, &st);
	kick(f, 0);
	wait_fired(&f->irq, BLK_VEC_Q, 3);
	reap(&f->rh, head, 1);
	assert_int_equal(byte_at(&f->rh, st), VIRTIO_BLK_S_IOERR);

	assert_int_equal(fired(&f->irq, BLK_VEC_CFG), 0);
	assert_false(f->fb->oob);
	vpci_get_stats(f->v, &vs);
	assert_int_equal(vs.needs_reset, 0);
	/* Orderly shutdown with the device live. */
	fx_free(f);
}

/* ioeventfd: registered at DRIVER_OK at the notify address, removed at reset and destroy. */
static void test_blk_ioevent(void **state)
{
	struct fx *f = fx_new(true, true);
	struct qcfg c = rh_qcfg(&f->rh, BLK_VEC_Q);
	const struct fake_ioevent_reg *r;
	uint64_t d, st;
	uint16_t head;
	struct vpci_stats vs;

	(void)state;
	drv_msix(f, 2);
	assert_int_equal(f->ioev.adds, 0);
	blk_bringup(f, &c);
	assert_int_equal(f->ioev.adds, 1);
	r = must((void *)(uintptr_t)fake_ioevent_find(&f->ioev, f->bar_gpa + VPCI_NOTIFY_OFF));
	assert_int_equal(r->len, 2);
	assert_false(r->use_match);
	assert_ptr_equal(fake_ioevent_find(&f->ioev, notify_gpa(f, 0)), r);

	/* The kick arrives through the eventfd alone: the BAR never sees it. */
	head = submit(&f->rh, VIRTIO_BLK_T_OUT, 1, 0x77, &d, &st);
	assert_true(fake_ioevent_write(&f->ioev, notify_gpa(f, 0), 2, 0));
	wait_fired(&f->irq, BLK_VEC_Q, 1);
	reap(&f->rh, head, 1);
	assert_int_equal(f->fb->data[512], 0x77);

	/* Reset removes it; a second bring-up registers it again. */
	set_status(f, 0);
	assert_int_equal(f->ioev.nr, 0);
	assert_int_equal(f->ioev.dels, 1);
	assert_int_equal(f->ioev.bad_dels, 0);
	/* A kick while nobody listens is not remembered for the next life. */
	bar_wr(f, f->notify, 0, 2);
	fx_free(f);

	/* A platform that refuses the ioeventfd: the MMIO path still works. */
	f = fx_new(true, true);
	c = rh_qcfg(&f->rh, BLK_VEC_Q);
	f->ioev.add_ret = -ENOSPC;
	drv_msix(f, 2);
	blk_bringup(f, &c);
	vpci_get_stats(f->v, &vs);
	assert_int_equal(vs.ioevent_errors, 1);
	head = submit(&f->rh, VIRTIO_BLK_T_OUT, 2, 0x78, &d, &st);
	kick(f, 0);
	wait_fired(&f->irq, BLK_VEC_Q, 1);
	reap(&f->rh, head, 1);
	set_status(f, 0);
	assert_int_equal(f->ioev.dels, 0);
	fx_free(f);

	/* Destroyed while live: the ioeventfd goes too. */
	f = fx_new(true, true);
	c = rh_qcfg(&f->rh, BLK_VEC_Q);
	drv_msix(f, 2);
	blk_bringup(f, &c);
	assert_int_equal(f->ioev.nr, 1);
	vpci_destroy(f->v);
	f->v = NULL;
	assert_int_equal(f->ioev.nr, 0);
	assert_int_equal(f->ioev.bad_dels, 0);
	fx_free(f);
}

struct resetter {
	struct fx *f;
	bool done; /* atomic */
};

static void *reset_thread(void *arg)
{
	struct resetter *r = arg;

	/* A vCPU writing 0 to device_status. */
	set_status(r->f, 0);
	__atomic_store_n(&r->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * BAD-INPUTS 9: a reset while block I/O is in flight. The request being
 * executed finishes before the reset completes; nothing is written to the
 * old ring after it, and no old completion lands in the ring the driver
 * programs next.
 */
static void test_blk_reset_in_flight(void **state)
{
	struct fx *f = fx_new(true, false);
	struct qcfg c1 = rh_qcfg(&f->rh, BLK_VEC_Q), c2;
	struct resetter rs = {.f = f};
	struct ring_harness *h = &f->rh;
	uint64_t da, sa, db, sb, dc, sc;
	uint16_t ha, hc, used;
	uint8_t *snap;
	uint32_t id, len;
	pthread_t t;

	(void)state;
	drv_msix(f, 2);
	blk_bringup(f, &c1);
	pthread_mutex_lock(&f->mu);
	f->block = true;
	pthread_mutex_unlock(&f->mu);
	ha = submit(h, VIRTIO_BLK_T_IN, 3, 0, &da, &sa);
	submit(h, VIRTIO_BLK_T_IN, 4, 0, &db, &sb);
	kick(f, 0);
	pthread_mutex_lock(&f->mu);
	while (!f->entered)
		pthread_cond_wait(&f->cv, &f->mu);
	pthread_mutex_unlock(&f->mu);

	/* The worker is inside request A's read. Reset from another vCPU. */
	assert_int_equal(pthread_create(&t, NULL, reset_thread, &rs), 0);
	/* The reset cannot have completed: the request it must wait for is blocked. */
	assert_false(__atomic_load_n(&rs.done, __ATOMIC_SEQ_CST));
	assert_int_equal(rh_used_idx(h), 0);
	pthread_mutex_lock(&f->mu);
	f->release = true;
	f->block = false;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(status(f), 0);

	/* A finished before the reset returned (B may have too, if it began first). */
	used = rh_used_idx(h);
	assert_true(used >= 1 && used <= 2);
	assert_true(rh_get_used(h, &id, &len));
	assert_int_equal(id, ha);
	assert_int_equal(len, 513);
	assert_int_equal(byte_at(h, sa), VIRTIO_BLK_S_OK);
	assert_int_equal(byte_at(h, da), f->fb->data[3 * 512]);

	/* From here on the old rings are frozen: snapshot all of RAM's ring area. */
	snap = must(malloc(h->data_gpa - h->ram_gpa));
	memcpy(snap, h->ram, h->data_gpa - h->ram_gpa);

	/* The driver re-initialises on fresh rings; kicks of the old queue go nowhere. */
	bar_wr(f, f->notify, 0, 2);
	c2 = rings_in(h, QSIZE, BLK_VEC_Q);
	blk_bringup(f, &c2);
	/* virtq_init zeroed the new used ring; no old completion appeared in it. */
	assert_int_equal(le16toh(*(uint16_t *)must(rh_host(h, c2.used + 2, 2))), 0);
	assert_int_equal(memcmp(snap, h->ram, h->data_gpa - h->ram_gpa), 0);
	if (used == 1)
		assert_int_equal(byte_at(h, sb), 0xff); /* B was never executed */

	/* A request on the new ring: completes there, the old ring untouched. */
	{
		struct ring_harness h2 = *h; /* same RAM, driver view of the new ring */
		unsigned int before = fired(&f->irq, BLK_VEC_Q);

		h2.desc_gpa = c2.desc;
		h2.avail_gpa = c2.avail;
		h2.used_gpa = c2.used;
		h2.next_desc = h2.avail_idx = h2.last_used = 0;
		hc = submit(&h2, VIRTIO_BLK_T_IN, 7, 0, &dc, &sc);
		kick(f, 0);
		wait_fired(&f->irq, BLK_VEC_Q, before + 1);
		reap(&h2, hc, 513);
		assert_int_equal(byte_at(&h2, sc), VIRTIO_BLK_S_OK);
		assert_int_equal(byte_at(&h2, dc), f->fb->data[7 * 512]);
		h->data_next = h2.data_next;
	}
	assert_int_equal(memcmp(snap, h->ram, h->data_gpa - h->ram_gpa), 0);
	free(snap);
	fx_free(f);
}

/* A broken ring found by the device: NEEDS_RESET and a config interrupt. */
static void test_blk_broken_ring(void **state)
{
	struct fx *f = fx_new(true, false);
	struct qcfg c = rh_qcfg(&f->rh, BLK_VEC_Q);
	uint64_t d, st;
	uint16_t head;
	unsigned int before;

	(void)state;
	drv_msix(f, 2);
	blk_bringup(f, &c);
	rh_set_avail_idx(&f->rh, QSIZE + 5); /* far ahead of last_avail (BAD-INPUTS 3) */
	kick(f, 0);
	wait_fired(&f->irq, BLK_VEC_CFG, 1);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK | S_NEEDS_RST);

	/* Reset and start over: the device works again. */
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	rh_set_avail_idx(&f->rh, 0);
	f->rh.next_desc = f->rh.last_used = 0;
	blk_bringup(f, &c);
	before = fired(&f->irq, BLK_VEC_Q);
	head = submit(&f->rh, VIRTIO_BLK_T_IN, 0, 0, &d, &st);
	kick(f, 0);
	wait_fired(&f->irq, BLK_VEC_Q, before + 1);
	reap(&f->rh, head, 513);
	assert_int_equal(byte_at(&f->rh, st), VIRTIO_BLK_S_OK);
	fx_free(f);
}

/* ---- virtio-console end to end ------------------------------------------- */

#define CON_VEC_CFG 0
#define CON_VEC_RX  1
#define CON_VEC_TX  2

/* Linux's virtio_console probe without MULTIPORT: receiveq @rx, transmitq on f->rh. */
static void con_bringup(struct fx *f, const struct qcfg *rx)
{
	struct qcfg tx = rh_qcfg(&f->rh, CON_VEC_TX);
	uint64_t feat = dev_features(f);

	f->rh.event_idx = feat >> VIRTIO_RING_F_EVENT_IDX & 1;
	assert_int_equal(drv_negotiate(f, feat), S_ACK | S_DRIVER | S_FEAT_OK);
	com_wr(f, VIRTIO_PCI_COMMON_MSIX, CON_VEC_CFG, 2);
	for (unsigned int q = 0; q < 2; q++) {
		com_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
		/* Small on purpose: Linux gives every receiveq slot a page at probe. */
		assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
	}
	drv_queue(f, VCON_RX_QUEUE, rx);
	drv_queue(f, VCON_TX_QUEUE, &tx);
	set_status(f, S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
	assert_int_equal(status(f), S_ACK | S_DRIVER | S_FEAT_OK | S_DRIVER_OK);
}

/* One transmit chain of @s in two buffers, kicked as vp_notify does; its head. */
static uint16_t con_write(struct fx *f, const char *s)
{
	uint32_t len = (uint32_t)strlen(s), half = len / 2;
	uint64_t gpa = rh_alloc(&f->rh, len);
	struct rh_buf b[2] = {{gpa, half, false}, {gpa + half, len - half, false}};
	uint16_t old = f->rh.avail_idx, head;

	assert_true(gpa && half);
	memcpy(must(rh_host(&f->rh, gpa, len)), s, len);
	head = rh_submit(&f->rh, b, 2);
	if (rh_kick_needed(&f->rh, old))
		kick(f, VCON_TX_QUEUE);
	return head;
}

/* Exactly @want from the pipe (already written: the completion came after the write). */
static void expect_pipe(int fd, const char *want)
{
	char buf[128];
	size_t n = strlen(want);

	assert_true(fd_readable(fd));
	assert_int_equal(read(fd, buf, sizeof(buf)), (ssize_t)n);
	assert_memory_equal(buf, want, n);
	assert_false(fd_readable(fd));
}

/*
 * A virtio-console on a pipe through the transport: discovery, two queues,
 * writes kicked through the ioeventfd, completions by MSI-X only after the
 * bytes are in the pipe; the receive queue is left alone; a reset (reboot)
 * stops the device and a new bring-up works.
 */
static void test_console_io(void **state)
{
	struct vcon *con;
	struct qcfg rx;
	struct fx *f;
	uint64_t rxbuf, feat;
	uint16_t head;
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	con = must(vcon_create(&(struct vcon_out){.fd = p[1]}));
	f = fx_new_dev(false, con, true);
	assert_int_equal(cfg_rd(f, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_CONSOLE);
	assert_int_equal(cfg_rd(f, PCI_SUBSYSTEM_ID, 2), 0x1040 + VIRTIO_ID_CONSOLE);
	assert_int_equal(cfg_rd(f, PCI_CLASS_REVISION, 4) >> 8, 0x078000);
	assert_int_equal(com_rd(f, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
	feat = dev_features(f);
	assert_true(feat & F_V1);
	assert_true(feat & 1ull << VIRTIO_RING_F_EVENT_IDX);
	assert_true(feat & 1ull << VIRTIO_RING_F_INDIRECT_DESC);
	assert_false(feat & (1ull << VIRTIO_CONSOLE_F_SIZE | 1ull << VIRTIO_CONSOLE_F_MULTIPORT |
			     1ull << VIRTIO_CONSOLE_F_EMERG_WRITE));
	/* struct virtio_console_config, all 0; writes (emerg_wr) dropped. */
	assert_int_equal(f->devcfg_len, sizeof(struct virtio_console_config));
	bar_wr(f, f->devcfg + offsetof(struct virtio_console_config, emerg_wr), 'x', 4);
	assert_int_equal(bar_rd(f, f->devcfg, 8), 0);
	assert_int_equal(bar_rd(f, f->devcfg + 8, 4), 0);

	drv_msix(f, 3);
	rx = rings_in(&f->rh, 16, CON_VEC_RX);
	con_bringup(f, &rx);
	assert_non_null(fake_ioevent_find(&f->ioev, notify_gpa(f, VCON_TX_QUEUE)));

	/* A receive buffer, as Linux's fill_queue() posts it: never used. */
	rxbuf = rh_alloc(&f->rh, 64);
	memset(must(rh_host(&f->rh, rxbuf, 64)), 0xee, 64);
	rh_write_desc_at(&f->rh, rx.desc, 0, rxbuf, 64, VRING_DESC_F_WRITE, 0);
	rh_w16(&f->rh, rx.avail + 4, 0);
	rh_w16(&f->rh, rx.avail + 2, 1);
	kick(f, VCON_RX_QUEUE);

	head = con_write(f, "hello from hvc0\n");
	wait_fired(&f->irq, CON_VEC_TX, 1);
	reap(&f->rh, head, 0);
	expect_pipe(p[0], "hello from hvc0\n");
	head = con_write(f, "second line\n");
	wait_fired(&f->irq, CON_VEC_TX, 2);
	reap(&f->rh, head, 0);
	expect_pipe(p[0], "second line\n");
	assert_int_equal(rh_r16(&f->rh, rx.used + 2), 0);
	assert_int_equal(byte_at(&f->rh, rxbuf), 0xee);
	assert_int_equal(fired(&f->irq, CON_VEC_RX), 0);
	assert_int_equal(fired(&f->irq, CON_VEC_CFG), 0);

	/* Reboot: reset, then the driver starts over with fresh (zeroed) rings. */
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	memset(f->rh.ram, 0, f->rh.data_gpa - f->rh.ram_gpa);
	rh_set_avail_idx(&f->rh, 0);
	f->rh.next_desc = f->rh.last_used = 0;
	rx = rings_in(&f->rh, 16, CON_VEC_RX);
	con_bringup(f, &rx);
	head = con_write(f, "after reboot\n");
	wait_fired(&f->irq, CON_VEC_TX, 3);
	reap(&f->rh, head, 0);
	expect_pipe(p[0], "after reboot\n");
	fx_free(f); /* destroys the transport, then the console */
	close(p[0]);
	close(p[1]);
}

/* ---- creation ------------------------------------------------------------- */

static void test_create_rejects(void **state)
{
	struct pci_host *h = must(pci_host_create());
	struct fake_msi msi;
	struct ring_harness rh;
	struct fdev fd = {.offer = F_V1};
	struct vpci_dev_ops o;
	struct vpci *v;

	(void)state;
	quiet(); /* the rejections are logged as errors */
	fake_msi_init(&msi);
	assert_int_equal(rh_init(&rh, 8, RH_DEFAULT_RAM), 0);
	o = fdev_ops;
	o.nr_queues = 0;
	assert_null(vpci_create(h, SLOT, &o, &fd, &rh.gm, &msi.ctl, NULL));
	o = fdev_ops;
	o.nr_queues = VPCI_MAX_QUEUES + 1;
	assert_null(vpci_create(h, SLOT, &o, &fd, &rh.gm, &msi.ctl, NULL));
	o = fdev_ops;
	o.queue_size_max = 48;
	assert_null(vpci_create(h, SLOT, &o, &fd, &rh.gm, &msi.ctl, NULL));
	o.queue_size_max = 2 * VIRTQ_MAX_SIZE;
	assert_null(vpci_create(h, SLOT, &o, &fd, &rh.gm, &msi.ctl, NULL));
	o = fdev_ops;
	o.stop = NULL;
	assert_null(vpci_create(h, SLOT, &o, &fd, &rh.gm, &msi.ctl, NULL));
	assert_null(vpci_create(h, SLOT, &fdev_ops, &fd, NULL, &msi.ctl, NULL));
	assert_null(vpci_create(h, SLOT, &fdev_ops, &fd, &rh.gm, NULL, NULL));
	assert_null(vpci_create_blk(h, SLOT, NULL, &rh.gm, &msi.ctl, NULL));
	assert_null(vpci_create_console(h, SLOT, NULL, &rh.gm, &msi.ctl, NULL));
	/* Slot 0 is the host bridge; the slot is still free after all that. */
	assert_null(vpci_create(h, 0, &fdev_ops, &fd, &rh.gm, &msi.ctl, NULL));
	v = vpci_create(h, SLOT, &fdev_ops, &fd, &rh.gm, &msi.ctl, NULL);
	assert_non_null(v);
	/* Taken now. */
	assert_null(vpci_create(h, SLOT, &fdev_ops, &fd, &rh.gm, &msi.ctl, NULL));
	vpci_destroy(v);
	vpci_destroy(NULL);
	pci_host_destroy(h);
	rh_fini(&rh);
	loud();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discovery),	cmocka_unit_test(test_features),
		cmocka_unit_test(test_status_machine),	cmocka_unit_test(test_start_failure),
		cmocka_unit_test(test_queue_config),	cmocka_unit_test(test_bad_rings),
		cmocka_unit_test(test_interrupts),	cmocka_unit_test(test_access_widths),
		cmocka_unit_test(test_pci_cfg_window),	cmocka_unit_test(test_blk_io),
		cmocka_unit_test(test_blk_ioevent),	cmocka_unit_test(test_blk_reset_in_flight),
		cmocka_unit_test(test_blk_broken_ring), cmocka_unit_test(test_console_io),
		cmocka_unit_test(test_create_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
