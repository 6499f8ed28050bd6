// SPDX-License-Identifier: MIT
/*
 * virtio 1.x PCI transport, modern only (virtio 1.x, 4.1 "Virtio Over PCI
 * Bus"; 2.1 "Device Status Field"; 2.2 "Feature Bits"; 3.1 "Device
 * Initialization"; 2.4 "Device Reset"). See vpci.h for the model, the BAR
 * layout and the lock rules.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "hostel/log.h"
#include "pci/msix.h"
#include "virtio/blk/blk.h"
#include "virtio/console/vcon.h"
#include "virtio/input/input.h"
#include "virtio/pci/vpci.h"

#define VIRTIO_PCI_VENDOR   0x1af4 /* 4.1.2: PCI vendor ID of every virtio device */
#define VIRTIO_PCI_DEV_BASE 0x1040 /* 4.1.2: non-transitional device ID = 0x1040 + id */
#define VIRTIO_PCI_REVISION 1	   /* 4.1.2.1: non-transitional devices use revision >= 1 */

#define COMMON_LEN   56u /* sizeof(struct virtio_pci_common_cfg): no notify_data/queue_reset */
#define COMMON_WIN   0x100u
#define ISR_LEN	     4u
#define DEVCFG_WIN   (VPCI_NOTIFY_OFF - VPCI_DEVCFG_OFF)
#define NOTIFY_WIN   (VPCI_MSIX_OFF - VPCI_NOTIFY_OFF)
#define PCI_CFG_DATA 16u /* offsetof(struct virtio_pci_cfg_cap, pci_cfg_data) */

/* Not in every UAPI header generation: spec "Reserved Feature Bits". */
#ifndef VIRTIO_F_NOTIFICATION_DATA
#define VIRTIO_F_NOTIFICATION_DATA 38
#endif

/*
 * Transport features this transport does not implement, masked out of any
 * device's offer: no packed ring, no IOMMU translation (device DMA is to
 * guest-physical addresses), no SR-IOV, no notification data in the
 * notify write, no per-queue reset (queue_reset is not in the common
 * configuration we expose).
 */
#define TRANSPORT_DENY                                                                             \
	(1ull << VIRTIO_F_RING_PACKED | 1ull << VIRTIO_F_ACCESS_PLATFORM |                         \
	 1ull << VIRTIO_F_SR_IOV | 1ull << VIRTIO_F_NOTIFICATION_DATA |                            \
	 1ull << VIRTIO_F_RING_RESET)

/* Status bits the driver may set (2.1); NEEDS_RESET is the device's. */
#define STATUS_DRIVER_BITS                                                                         \
	(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK |        \
	 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_FAILED)

#define ISR_QUEUE 0x1 /* 4.1.4.5: bit 0 queue interrupt; bit 1 VIRTIO_PCI_ISR_CONFIG */

struct vpci_queue {
	struct vpci *v; /* the callbacks' opaque is the queue */
	unsigned int idx;
	/* Driver-programmed registers (under the lock). */
	uint16_t size;
	uint16_t vector; /* atomic: read by notify() on device threads */
	bool enabled;
	uint64_t desc, avail, used;
	/* Live state from DRIVER_OK to reset. */
	struct virtq vq; /* the device's between ops->start and ops->stop */
	int kick_fd;	 /* eventfd, the whole life of the vpci */
	bool started;
	bool ioev; /* ioeventfd registered at ioev_addr */
	uint64_t ioev_addr;
};

struct vpci {
	struct dev bar_dev;
	pthread_mutex_t lock;
	const struct vpci_dev_ops *ops;
	void *dev;
	const struct gmem *gm;
	struct msix *msix;
	struct ioevent_ctl *ioev;
	struct pci_func *func;
	unsigned int nr_queues, nr_vectors, cfg_size;
	uint64_t offered;

	/* Common configuration registers (under the lock, except as noted). */
	uint32_t dfselect, gfselect;
	uint64_t driver_features;
	uint16_t config_vector; /* atomic: read by needs_reset() on device threads */
	uint16_t queue_sel;
	uint8_t status;	    /* atomic: device threads OR in NEEDS_RESET */
	uint8_t generation; /* atomic */
	uint8_t isr;	    /* atomic: read-to-clear */
	bool live;	    /* DRIVER_OK accepted: ops->stop() owed at reset */

	struct vpci_stats stats; /* each counter updated atomically */
	struct vpci_queue q[];
};

#define STAT_INC(v, field) __atomic_fetch_add(&(v)->stats.field, 1, __ATOMIC_RELAXED)

static uint8_t status_get(struct vpci *v)
{
	return __atomic_load_n(&v->status, __ATOMIC_ACQUIRE);
}

/* ---- interrupts (any thread; no lock) ---------------------------------- */

/*
 * 4.1.5.2 / 4.1.5.4: with MSI-X enabled, the event's vector is signalled
 * (nothing for VIRTIO_MSI_NO_VECTOR); with MSI-X disabled the ISR bit is
 * set for the INTx path. hostel wires no INTx for PCI (vpci.h), so in that
 * mode the bit is only visible to a polling driver.
 */
static void raise_irq(struct vpci *v, uint16_t vec, uint8_t isr_bit)
{
	if (!msix_notify(v->msix, vec))
		__atomic_fetch_or(&v->isr, isr_bit, __ATOMIC_RELEASE);
}

static void config_irq(struct vpci *v)
{
	raise_irq(v, __atomic_load_n(&v->config_vector, __ATOMIC_ACQUIRE), VIRTIO_PCI_ISR_CONFIG);
}

/* The device's used-buffer notification for one queue. */
static void queue_notify_cb(void *opaque)
{
	struct vpci_queue *q = opaque;

	raise_irq(q->v, __atomic_load_n(&q->vector, __ATOMIC_ACQUIRE), ISR_QUEUE);
}

/*
 * 2.1.2: "The device SHOULD set DEVICE_NEEDS_RESET when it enters an error
 * state that a reset is needed. If DRIVER_OK is set, after it sets
 * DEVICE_NEEDS_RESET, the device MUST send a device configuration change
 * notification to the driver."
 */
static void set_needs_reset(struct vpci *v)
{
	STAT_INC(v, needs_reset);
	__atomic_fetch_or(&v->status, VIRTIO_CONFIG_S_NEEDS_RESET, __ATOMIC_RELEASE);
	config_irq(v);
}

static void queue_needs_reset_cb(void *opaque)
{
	struct vpci_queue *q = opaque;

	log_ratelimited(LOG_WARN, "virtio-pci: queue %u broken, device needs reset", q->idx);
	set_needs_reset(q->v);
}

void vpci_config_changed(struct vpci *v)
{
	/* 4.1.4.3.1: config_generation changes when the device config does. */
	__atomic_fetch_add(&v->generation, 1, __ATOMIC_RELEASE);
	config_irq(v);
}

/* ---- reset and activation (lock held) ---------------------------------- */

static void kick_drain(struct vpci_queue *q)
{
	uint64_t n;

	/* Non-blocking eventfd: EAGAIN when nothing was pending. */
	if (read(q->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN && errno != EINTR)
		log_ratelimited(LOG_WARN, "virtio-pci: draining queue %u kick: %s", q->idx,
				strerror(errno));
}

static void ioev_remove(struct vpci *v, struct vpci_queue *q)
{
	if (!q->ioev)
		return;
	v->ioev->ops->del(v->ioev, q->ioev_addr, 2, false, 0, q->kick_fd);
	q->ioev = false;
}

/* 4.1.4.3: queue registers at reset. */
static void queue_regs_reset(struct vpci *v, struct vpci_queue *q)
{
	q->size = v->ops->queue_size_max; /* "On reset, specifies the maximum queue size" */
	__atomic_store_n(&q->vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
	q->enabled = false; /* "The device MUST present a 0 in queue_enable on reset" */
	q->desc = q->avail = q->used = 0;
}

/*
 * Device reset (2.4, 4.1.4.3.1 "The device MUST reset when 0 is written to
 * device_status, and present a 0 in device_status once that is done").
 * Order matters (BAD-INPUTS 9): first the device stops, finishing or
 * cancelling in-flight requests, so no completion can land after the rings
 * are forgotten; only then are the rings and registers reset, so a ring the
 * driver programs next is never written by an old request.
 */
static void reset_locked(struct vpci *v)
{
	if (v->live)
		v->ops->stop(v->dev);
	for (unsigned int i = 0; i < v->nr_queues; i++) {
		struct vpci_queue *q = &v->q[i];

		ioev_remove(v, q);
		virtq_reset(&q->vq);
		kick_drain(q); /* kicks meant for the old rings */
		q->started = false;
		queue_regs_reset(v, q);
	}
	v->ops->set_features(v->dev, 0);
	v->driver_features = 0;
	v->dfselect = v->gfselect = 0;
	v->queue_sel = 0;
	__atomic_store_n(&v->config_vector, VIRTIO_MSI_NO_VECTOR, __ATOMIC_RELEASE);
	__atomic_store_n(&v->isr, 0, __ATOMIC_RELEASE);
	v->live = false;
	/* Last: a driver polling for 0 sees the reset complete. */
	__atomic_store_n(&v->status, 0, __ATOMIC_RELEASE);
}

static void ioev_install(struct vpci *v, struct vpci_queue *q)
{
	uint64_t bar = pci_func_bar_addr(v->func, VPCI_BAR);
	int r;

	if (!v->ioev || !bar)
		return;
	/*
	 * The driver writes the 16-bit queue index at the queue's notify
	 * address (4.1.4.4, no NOTIFICATION_DATA); every queue has its own
	 * address, so no datamatch. Other widths still exit to notify_write().
	 */
	q->ioev_addr = bar + VPCI_NOTIFY_OFF + (uint64_t)VPCI_NOTIFY_MULT * q->idx;
	r = v->ioev->ops->add(v->ioev, q->ioev_addr, 2, false, 0, q->kick_fd);
	if (r) {
		STAT_INC(v, ioevent_errors);
		log_ratelimited(LOG_WARN, "virtio-pci: ioeventfd for queue %u: %s", q->idx,
				strerror(-r));
		return;
	}
	q->ioev = true;
}

/*
 * DRIVER_OK (3.1.1 step 8): the configuration is final. Each enabled queue
 * is validated against guest RAM and handed to the device. Trust: the ring
 * addresses and size are the guest's; virtq_init() checks alignment, size
 * and that every ring byte is RAM before anything is dereferenced.
 */
static void activate_locked(struct vpci *v)
{
	bool event_idx = v->driver_features >> VIRTIO_RING_F_EVENT_IDX & 1;
	bool indirect = v->driver_features >> VIRTIO_RING_F_INDIRECT_DESC & 1;

	v->live = true;
	for (unsigned int i = 0; i < v->nr_queues; i++) {
		struct vpci_queue *q = &v->q[i];
		struct virtq_config cfg = {
			.size = q->size,
			.desc = q->desc,
			.avail = q->avail,
			.used = q->used,
			.event_idx = event_idx,
			.indirect = indirect,
		};
		int r;

		if (!q->enabled)
			continue;
		if (virtq_init(&q->vq, v->gm, &cfg)) {
			log_ratelimited(LOG_WARN,
					"virtio-pci: queue %u rings invalid (size %u desc %#llx "
					"avail %#llx used %#llx), device needs reset",
					i, q->size, (unsigned long long)q->desc,
					(unsigned long long)q->avail, (unsigned long long)q->used);
			set_needs_reset(v);
			continue;
		}
		kick_drain(q);
		ioev_install(v, q);
		r = v->ops->start(v->dev, i, &q->vq, q->kick_fd, queue_notify_cb,
				  queue_needs_reset_cb, q);
		if (r) {
			log_ratelimited(LOG_ERROR, "virtio-pci: starting queue %u: %s", i,
					strerror(-r));
			ioev_remove(v, q);
			virtq_reset(&q->vq);
			set_needs_reset(v);
			continue;
		}
		q->started = true;
	}
}

/* FEATURES_OK (2.2.2, 3.1.1 step 5-6): a subset of the offer, with VERSION_1. */
static bool features_acceptable(const struct vpci *v)
{
	uint64_t f = v->driver_features;

	return !(f & ~v->offered) && (f >> VIRTIO_F_VERSION_1 & 1);
}

static void status_write(struct vpci *v, uint8_t val)
{
	uint8_t cur = status_get(v), old_drv = cur & STATUS_DRIVER_BITS;
	uint8_t new_drv = val & STATUS_DRIVER_BITS, add;

	if (!val) {
		STAT_INC(v, resets);
		reset_locked(v);
		return;
	}
	/*
	 * 2.1.1: "The driver MUST NOT clear a device status bit." A write that
	 * would is ignored as a whole. NEEDS_RESET belongs to the device: the
	 * driver can neither set nor clear it (only a reset does).
	 */
	if (old_drv & ~new_drv) {
		STAT_INC(v, status_refused);
		log_ratelimited(LOG_DEBUG, "virtio-pci: status %#x -> %#x clears bits, ignored",
				cur, val);
		return;
	}
	add = new_drv & ~old_drv;
	if (add & VIRTIO_CONFIG_S_FEATURES_OK) {
		if (features_acceptable(v)) {
			v->ops->set_features(v->dev, v->driver_features);
		} else {
			/* 2.2.2: "...otherwise it MUST fail to set the FEATURES_OK bit". */
			STAT_INC(v, features_rejected);
			log_ratelimited(LOG_INFO,
					"virtio-pci: driver features %#llx not acceptable (offer "
					"%#llx)",
					(unsigned long long)v->driver_features,
					(unsigned long long)v->offered);
			add &= (uint8_t)~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	if ((add & VIRTIO_CONFIG_S_DRIVER_OK) && !((old_drv | add) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		/* 3.1.1: DRIVER_OK comes after a successful FEATURES_OK. */
		STAT_INC(v, status_refused);
		log_ratelimited(LOG_INFO, "virtio-pci: DRIVER_OK without FEATURES_OK ignored");
		add &= (uint8_t)~VIRTIO_CONFIG_S_DRIVER_OK;
	}
	/* OR, not store: a device thread may be setting NEEDS_RESET meanwhile. */
	__atomic_fetch_or(&v->status, add, __ATOMIC_RELEASE);
	if (add & VIRTIO_CONFIG_S_DRIVER_OK)
		activate_locked(v);
}

/* ---- common configuration (4.1.4.3) ------------------------------------ */

static struct vpci_queue *cur_queue(struct vpci *v)
{
	/* BAD-INPUTS 8: the guest's queue_select never indexes past nr_queues. */
	return v->queue_sel < v->nr_queues ? &v->q[v->queue_sel] : NULL;
}

/* The 64-bit queue address field at common-config offset @off (32..55). */
static uint64_t *queue_addr(struct vpci_queue *q, unsigned int off)
{
	switch ((off - VIRTIO_PCI_COMMON_Q_DESCLO) / 8) {
	case 0:
		return &q->desc;
	case 1:
		return &q->avail;
	default:
		return &q->used;
	}
}

static uint16_t vector_filter(const struct vpci *v, uint16_t vec)
{
	/* 4.1.5.1.2: a vector the device cannot use reads back as NO_VECTOR. */
	return vec < v->nr_vectors ? vec : VIRTIO_MSI_NO_VECTOR;
}

/* Does (@off, @len) name exactly a field of width @w at @field? */
static bool is_field(unsigned int off, unsigned int len, unsigned int field, unsigned int w)
{
	return off == field && len == w;
}

static bool is_addr_access(unsigned int off, unsigned int len)
{
	if (off < VIRTIO_PCI_COMMON_Q_DESCLO || off >= COMMON_LEN)
		return false;
	/* 4.1.3.1: 32-bit halves; a whole aligned 64-bit access is accepted too. */
	return (len == 4 && off % 4 == 0) || (len == 8 && off % 8 == 0);
}

static uint64_t common_read(struct vpci *v, unsigned int off, unsigned int len)
{
	struct vpci_queue *q = cur_queue(v);

	if (is_addr_access(off, len)) {
		uint64_t a;

		if (!q)
			return 0;
		a = *queue_addr(q, off);
		return len == 8 ? a : (off % 8 ? a >> 32 : (uint32_t)a);
	}
	if (is_field(off, len, VIRTIO_PCI_COMMON_DFSELECT, 4))
		return v->dfselect;
	if (is_field(off, len, VIRTIO_PCI_COMMON_DF, 4))
		/* 4.1.4.3.1: 0 for any select other than 0 or 1. */
		return v->dfselect < 2 ? (uint32_t)(v->offered >> (32 * v->dfselect)) : 0;
	if (is_field(off, len, VIRTIO_PCI_COMMON_GFSELECT, 4))
		return v->gfselect;
	if (is_field(off, len, VIRTIO_PCI_COMMON_GF, 4))
		return v->gfselect < 2 ? (uint32_t)(v->driver_features >> (32 * v->gfselect)) : 0;
	if (is_field(off, len, VIRTIO_PCI_COMMON_MSIX, 2))
		return __atomic_load_n(&v->config_vector, __ATOMIC_RELAXED);
	if (is_field(off, len, VIRTIO_PCI_COMMON_NUMQ, 2))
		return v->nr_queues;
	if (is_field(off, len, VIRTIO_PCI_COMMON_STATUS, 1))
		return status_get(v);
	if (is_field(off, len, VIRTIO_PCI_COMMON_CFGGENERATION, 1))
		return __atomic_load_n(&v->generation, __ATOMIC_ACQUIRE);
	if (is_field(off, len, VIRTIO_PCI_COMMON_Q_SELECT, 2))
		return v->queue_sel;
	if (is_field(off, len, VIRTIO_PCI_COMMON_Q_SIZE, 2))
		return q ? q->size : 0;
	if (is_field(off, len, VIRTIO_PCI_COMMON_Q_MSIX, 2))
		return q ? __atomic_load_n(&q->vector, __ATOMIC_RELAXED) : 0;
	if (is_field(off, len, VIRTIO_PCI_COMMON_Q_ENABLE, 2))
		return q ? q->enabled : 0;
	if (is_field(off, len, VIRTIO_PCI_COMMON_Q_NOFF, 2))
		/* queue_notify_off * notify_off_multiplier = 4 * index. */
		return q ? q->idx : 0;
	if (off < COMMON_LEN)
		STAT_INC(v, bad_accesses);
	return 0; /* mismatched width/offset, or past the structure */
}

/* Queue registers: frozen without a valid queue_select or after DRIVER_OK. */
static struct vpci_queue *queue_for_write(struct vpci *v)
{
	struct vpci_queue *q = cur_queue(v);

	if (!q || (status_get(v) & VIRTIO_CONFIG_S_DRIVER_OK)) {
		STAT_INC(v, ignored_writes);
		log_ratelimited(LOG_DEBUG, "virtio-pci: queue %u register write ignored%s",
				v->queue_sel, q ? " after DRIVER_OK" : "");
		return NULL;
	}
	return q;
}

static void common_write(struct vpci *v, unsigned int off, unsigned int len, uint64_t val)
{
	struct vpci_queue *q;

	if (is_addr_access(off, len)) {
		uint64_t *a;

		q = queue_for_write(v);
		if (!q)
			return;
		a = queue_addr(q, off);
		if (len == 8)
			*a = val;
		else if (off % 8)
			*a = (*a & 0xffffffffull) | val << 32;
		else
			*a = (*a & ~0xffffffffull) | (uint32_t)val;
		return;
	}
	if (is_field(off, len, VIRTIO_PCI_COMMON_DFSELECT, 4)) {
		v->dfselect = (uint32_t)val;
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_GFSELECT, 4)) {
		v->gfselect = (uint32_t)val;
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_GF, 4)) {
		/* BAD-INPUTS 9: the features are frozen once FEATURES_OK is set. */
		if ((status_get(v) & VIRTIO_CONFIG_S_FEATURES_OK) || v->gfselect > 1) {
			STAT_INC(v, ignored_writes);
			return;
		}
		unsigned int sh = 32 * v->gfselect;

		v->driver_features = (v->driver_features & ~(0xffffffffull << sh)) |
				     (uint64_t)(uint32_t)val << sh;
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_MSIX, 2)) {
		__atomic_store_n(&v->config_vector, vector_filter(v, (uint16_t)val),
				 __ATOMIC_RELEASE);
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_STATUS, 1)) {
		status_write(v, (uint8_t)val);
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_Q_SELECT, 2)) {
		v->queue_sel = (uint16_t)val; /* any value; checked on every use */
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_Q_SIZE, 2)) {
		uint16_t n = (uint16_t)val;

		q = queue_for_write(v);
		if (!q)
			return;
		/* 4.1.4.3.2: the driver may lower it, to a power of two. */
		if (!n || (n & (n - 1)) || n > v->ops->queue_size_max) {
			STAT_INC(v, ignored_writes);
			log_ratelimited(LOG_DEBUG, "virtio-pci: queue_size %u ignored", n);
			return;
		}
		q->size = n;
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_Q_MSIX, 2)) {
		q = queue_for_write(v);
		if (q)
			__atomic_store_n(&q->vector, vector_filter(v, (uint16_t)val),
					 __ATOMIC_RELEASE);
	} else if (is_field(off, len, VIRTIO_PCI_COMMON_Q_ENABLE, 2)) {
		q = queue_for_write(v);
		if (!q)
			return;
		/* 4.1.4.3.2: "The driver MUST NOT write a 0 to queue_enable". */
		if (val != 1) {
			STAT_INC(v, ignored_writes);
			return;
		}
		q->enabled = true;
	} else if (off < COMMON_LEN && (is_field(off, len, VIRTIO_PCI_COMMON_DF, 4) ||
					is_field(off, len, VIRTIO_PCI_COMMON_NUMQ, 2) ||
					is_field(off, len, VIRTIO_PCI_COMMON_CFGGENERATION, 1) ||
					is_field(off, len, VIRTIO_PCI_COMMON_Q_NOFF, 2))) {
		STAT_INC(v, ignored_writes); /* read-only fields */
	} else {
		STAT_INC(v, bad_accesses);
	}
}

/* ---- the BAR ------------------------------------------------------------ */

static bool in_win(uint64_t off, unsigned int len, uint64_t base, uint64_t size)
{
	return off >= base && off - base <= size && len <= size - (off - base);
}

/*
 * Device-specific configuration (4.1.4.6). Bytes past config_size read 0
 * and are never passed to the device; a write must lie entirely inside it
 * (a torn write of a field is worse than none). BAD-INPUTS 10.
 */
static void devcfg_read(struct vpci *v, uint64_t off, uint8_t *d, unsigned int len)
{
	if (off >= v->cfg_size)
		return;
	v->ops->config_read(v->dev, off, d, (unsigned int)MIN(len, v->cfg_size - off));
}

static void devcfg_write(struct vpci *v, uint64_t off, const uint8_t *d, unsigned int len)
{
	if (off >= v->cfg_size || len > v->cfg_size - off) {
		STAT_INC(v, ignored_writes);
		return;
	}
	v->ops->config_write(v->dev, off, d, len);
}

/*
 * 4.1.4.4: a write at queue_notify_off * notify_off_multiplier notifies
 * that queue. The value is not checked (it is the queue index without
 * NOTIFICATION_DATA; the address already says which queue). The device's
 * worker wakes on the eventfd exactly as with an ioeventfd.
 */
static void notify_write(struct vpci *v, uint64_t off)
{
	uint64_t qi = off / VPCI_NOTIFY_MULT, one = 1;
	struct vpci_queue *q;

	if (qi >= v->nr_queues) {
		/* BAD-INPUTS 8: QUEUE_NOTIFY index >= num_queues. */
		STAT_INC(v, bad_notifies);
		log_ratelimited(LOG_DEBUG, "virtio-pci: notify for queue %llu ignored",
				(unsigned long long)qi);
		return;
	}
	q = &v->q[qi];
	/* Before DRIVER_OK nobody listens; the kick would only be drained. */
	if (!q->started)
		return;
	/* Cannot fail short of a counter at 2^64 - 2. */
	if (write(q->kick_fd, &one, sizeof(one)) < 0)
		log_ratelimited(LOG_WARN, "virtio-pci: kicking queue %u: %s", q->idx,
				strerror(errno));
}

static bool len_ok(unsigned int len)
{
	return len == 1 || len == 2 || len == 4 || len == 8;
}

static void bar_read_impl(struct vpci *v, uint64_t off, void *data, unsigned int len)
{
	uint8_t *d = data;

	if (!len_ok(len)) {
		memset(d, 0xff, MIN(len, 8u));
		STAT_INC(v, bad_accesses);
		return;
	}
	memset(d, 0, len);
	if (in_win(off, len, VPCI_MSIX_OFF, msix_table_size(v->msix))) {
		msix_table_read(v->msix, off - VPCI_MSIX_OFF, d, len);
		return;
	}
	if (in_win(off, len, VPCI_PBA_OFF, msix_pba_size(v->msix))) {
		msix_pba_read(v->msix, off - VPCI_PBA_OFF, d, len);
		return;
	}
	if (in_win(off, len, VPCI_ISR_OFF, ISR_LEN)) {
		/* 4.1.4.5.1: "The device MUST reset ISR status when it is read." */
		if (off == VPCI_ISR_OFF)
			d[0] = __atomic_exchange_n(&v->isr, 0, __ATOMIC_ACQ_REL);
		return;
	}
	if (in_win(off, len, VPCI_NOTIFY_OFF, NOTIFY_WIN))
		return; /* write-only doorbells read 0 */
	pthread_mutex_lock(&v->lock);
	if (in_win(off, len, VPCI_COMMON_OFF, COMMON_WIN))
		dev_data_put(d, len, common_read(v, (unsigned int)off, len));
	else if (in_win(off, len, VPCI_DEVCFG_OFF, DEVCFG_WIN))
		devcfg_read(v, off - VPCI_DEVCFG_OFF, d, len);
	else {
		/* Between structures, or straddling two: the device contract's all-ones. */
		memset(d, 0xff, len);
		STAT_INC(v, bad_accesses);
	}
	pthread_mutex_unlock(&v->lock);
}

static void bar_write_impl(struct vpci *v, uint64_t off, const void *data, unsigned int len)
{
	if (!len_ok(len)) {
		STAT_INC(v, bad_accesses);
		return;
	}
	if (in_win(off, len, VPCI_MSIX_OFF, msix_table_size(v->msix))) {
		msix_table_write(v->msix, off - VPCI_MSIX_OFF, data, len);
		return;
	}
	if (in_win(off, len, VPCI_PBA_OFF, msix_pba_size(v->msix))) {
		msix_pba_write(v->msix, off - VPCI_PBA_OFF, data, len);
		return;
	}
	pthread_mutex_lock(&v->lock);
	if (in_win(off, len, VPCI_COMMON_OFF, COMMON_WIN))
		common_write(v, (unsigned int)off, len, dev_data_get(data, len));
	else if (in_win(off, len, VPCI_NOTIFY_OFF, NOTIFY_WIN))
		notify_write(v, off - VPCI_NOTIFY_OFF);
	else if (in_win(off, len, VPCI_DEVCFG_OFF, DEVCFG_WIN))
		devcfg_write(v, off - VPCI_DEVCFG_OFF, data, len);
	else if (in_win(off, len, VPCI_ISR_OFF, ISR_LEN))
		STAT_INC(v, ignored_writes); /* ISR is read only */
	else
		STAT_INC(v, bad_accesses);
	pthread_mutex_unlock(&v->lock);
}

static void bar_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	bar_read_impl(container_of(d, struct vpci, bar_dev), off, data, len);
}

static void bar_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	bar_write_impl(container_of(d, struct vpci, bar_dev), off, data, len);
}

static void bar_reset(struct dev *d)
{
	vpci_reset(container_of(d, struct vpci, bar_dev));
}

static const struct dev_ops vpci_bar_ops = {
	.name = "virtio-pci",
	.read = bar_read,
	.write = bar_write,
	.reset = bar_reset,
};

/* ---- PCI configuration access capability (4.1.4.9) --------------------- */

/*
 * The window's target, or false when the driver's cap.bar / cap.offset /
 * cap.length are not a valid access (4.1.4.9.2: length 1, 2 or 4, offset a
 * multiple of it, inside the BAR); then the access does nothing.
 */
static bool cfg_window(const uint8_t *cap, uint32_t *off, unsigned int *len)
{
	uint32_t o, l;

	memcpy(&o, cap + offsetof(struct virtio_pci_cap, offset), 4);
	memcpy(&l, cap + offsetof(struct virtio_pci_cap, length), 4);
	o = le32toh(o);
	l = le32toh(l);
	if (cap[offsetof(struct virtio_pci_cap, bar)] != VPCI_BAR)
		return false;
	if ((l != 1 && l != 2 && l != 4) || o % l || o > VPCI_BAR_SIZE - l)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool touches_data(unsigned int off, unsigned int len)
{
	return off + len > PCI_CFG_DATA && off < PCI_CFG_DATA + 4;
}

/*
 * 4.1.4.9.1: on a write of pci_cfg_data, write the first cap.length bytes
 * of it to the BAR at cap.offset; before a read, fill it from the BAR. The
 * bytes land in pci_cfg_data first, so a write narrower than cap.length
 * still sends a whole cap.length access. Runs under the PCI host lock
 * (lock order in vpci.h).
 */
static void pcicfg_write(void *opaque, uint8_t *cap, unsigned int cap_len, unsigned int off,
			 const uint8_t *data, unsigned int len)
{
	struct vpci *v = opaque;
	uint32_t wo;
	unsigned int wl;

	for (unsigned int i = 0; i < len; i++) {
		unsigned int p = off + i;

		/* Writable: bar, offset, length, pci_cfg_data. The rest is read only. */
		if (p == offsetof(struct virtio_pci_cap, bar) ||
		    (p >= offsetof(struct virtio_pci_cap, offset) && p < cap_len))
			cap[p] = data[i];
	}
	if (!touches_data(off, len))
		return;
	if (!cfg_window(cap, &wo, &wl)) {
		STAT_INC(v, bad_accesses);
		return;
	}
	bar_write_impl(v, wo, cap + PCI_CFG_DATA, wl);
}

static void pcicfg_read(void *opaque, uint8_t *cap, unsigned int cap_len, unsigned int off,
			unsigned int len)
{
	struct vpci *v = opaque;
	uint32_t ro;
	unsigned int rl;

	(void)cap_len;
	if (!touches_data(off, len))
		return;
	if (!cfg_window(cap, &ro, &rl)) {
		STAT_INC(v, bad_accesses);
		return;
	}
	bar_read_impl(v, ro, cap + PCI_CFG_DATA, rl);
}

static void pcicfg_reset(void *opaque, uint8_t *cap, unsigned int cap_len)
{
	(void)opaque;
	cap[offsetof(struct virtio_pci_cap, bar)] = 0;
	memset(cap + offsetof(struct virtio_pci_cap, offset), 0,
	       cap_len - offsetof(struct virtio_pci_cap, offset));
}

static const struct pci_cap_ops pcicfg_ops = {
	.write = pcicfg_write,
	.read = pcicfg_read,
	.reset = pcicfg_reset,
};

/* ---- setup -------------------------------------------------------------- */

/* A struct virtio_pci_cap (4.1.4) in @buf, @cap_len bytes long. */
static void cap_fill(uint8_t *buf, unsigned int cap_len, uint8_t type, uint32_t off, uint32_t len)
{
	struct virtio_pci_cap c = {
		.cap_vndr = PCI_CAP_ID_VNDR,
		.cap_len = (uint8_t)cap_len,
		.cfg_type = type,
		.bar = VPCI_BAR,
		.offset = htole32(off),
		.length = htole32(len),
	};

	memset(buf, 0, cap_len);
	memcpy(buf, &c, sizeof(c));
}

static int add_caps(struct vpci *v)
{
	uint8_t buf[sizeof(struct virtio_pci_notify_cap)];
	uint32_t mult = htole32(VPCI_NOTIFY_MULT);
	int r;

	cap_fill(buf, sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_COMMON_CFG, VPCI_COMMON_OFF,
		 COMMON_LEN);
	r = pci_func_add_cap(v->func, buf, sizeof(struct virtio_pci_cap), NULL);
	if (r)
		return r;
	/* 4.1.4.4.1: cap.length >= queue_notify_off * multiplier + 2 for every queue. */
	cap_fill(buf, sizeof(buf), VIRTIO_PCI_CAP_NOTIFY_CFG, VPCI_NOTIFY_OFF,
		 VPCI_NOTIFY_MULT * v->nr_queues);
	memcpy(buf + offsetof(struct virtio_pci_notify_cap, notify_off_multiplier), &mult, 4);
	r = pci_func_add_cap(v->func, buf, sizeof(buf), NULL);
	if (r)
		return r;
	cap_fill(buf, sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_ISR_CFG, VPCI_ISR_OFF, 1);
	r = pci_func_add_cap(v->func, buf, sizeof(struct virtio_pci_cap), NULL);
	if (r)
		return r;
	if (v->cfg_size) {
		cap_fill(buf, sizeof(struct virtio_pci_cap), VIRTIO_PCI_CAP_DEVICE_CFG,
			 VPCI_DEVCFG_OFF, v->cfg_size);
		r = pci_func_add_cap(v->func, buf, sizeof(struct virtio_pci_cap), NULL);
		if (r)
			return r;
	}
	/* 4.1.4.9: the window's bar/offset/length start 0 (invalid until set). */
	cap_fill(buf, sizeof(struct virtio_pci_cfg_cap), VIRTIO_PCI_CAP_PCI_CFG, 0, 0);
	buf[offsetof(struct virtio_pci_cap, bar)] = 0;
	r = pci_func_add_cap_hooked(v->func, buf, sizeof(struct virtio_pci_cfg_cap), &pcicfg_ops, v,
				    NULL);
	if (r)
		return r;
	return msix_attach(v->msix, v->func, VPCI_BAR, VPCI_MSIX_OFF, VPCI_BAR, VPCI_PBA_OFF, NULL);
}

static bool ops_ok(const struct vpci_dev_ops *o)
{
	uint16_t n = o->queue_size_max;

	return o->features && o->set_features && o->config_size && o->config_read &&
	       o->config_write && o->start && o->stop && o->nr_queues >= 1 &&
	       o->nr_queues <= VPCI_MAX_QUEUES && n && !(n & (n - 1)) && n <= VIRTQ_MAX_SIZE &&
	       o->device_id < 0xffff - VIRTIO_PCI_DEV_BASE;
}

static void vpci_free(struct vpci *v)
{
	for (unsigned int i = 0; i < v->nr_queues; i++)
		if (v->q[i].kick_fd >= 0)
			close(v->q[i].kick_fd);
	msix_destroy(v->msix);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

struct vpci *vpci_create(struct pci_host *h, unsigned int slot, const struct vpci_dev_ops *ops,
			 void *dev, const struct gmem *gm, struct msi_ctl *msi,
			 struct ioevent_ctl *ioev)
{
	struct pci_dev_info info;
	struct vpci *v;
	int r;

	if (!h || !ops || !gm || !msi || !ops_ok(ops)) {
		log_error("virtio-pci: bad arguments for slot %u", slot);
		return NULL;
	}
	v = calloc(1, sizeof(*v) + ops->nr_queues * sizeof(v->q[0]));
	if (!v)
		return NULL;
	pthread_mutex_init(&v->lock, NULL);
	v->bar_dev.ops = &vpci_bar_ops;
	v->ops = ops;
	v->dev = dev;
	v->gm = gm;
	v->ioev = ioev;
	v->nr_queues = ops->nr_queues;
	v->nr_vectors = VPCI_NR_VECTORS(ops->nr_queues);
	v->cfg_size = ops->config_size(dev);
	v->offered = (ops->features(dev) & ~TRANSPORT_DENY) | 1ull << VIRTIO_F_VERSION_1;
	for (unsigned int i = 0; i < v->nr_queues; i++) {
		struct vpci_queue *q = &v->q[i];

		q->v = v;
		q->idx = i;
		queue_regs_reset(v, q);
		q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->kick_fd < 0) {
			log_error("virtio-pci: eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	v->config_vector = VIRTIO_MSI_NO_VECTOR;
	if (v->cfg_size > VPCI_CFG_MAX) {
		log_error("virtio-pci: device config of %u bytes does not fit", v->cfg_size);
		goto fail;
	}
	v->msix = msix_create(v->nr_vectors, msi);
	if (!v->msix)
		goto fail;

	info = (struct pci_dev_info){
		.vendor = VIRTIO_PCI_VENDOR,
		.device = (uint16_t)(VIRTIO_PCI_DEV_BASE + ops->device_id),
		.subsys_vendor = VIRTIO_PCI_VENDOR,
		/* 4.1.2.1: non-transitional devices SHOULD use a subsystem id >= 0x40. */
		.subsys_id = (uint16_t)(VIRTIO_PCI_DEV_BASE + ops->device_id),
		.revision = VIRTIO_PCI_REVISION,
		.class = ops->pci_class,
		.irq_pin = 0, /* no INTx (vpci.h) */
	};
	r = pci_host_add(h, slot, &info, &v->func);
	if (r) {
		log_error("virtio-pci: slot %u: %s", slot, strerror(-r));
		goto fail;
	}
	/* Registers with read side effects (ISR): not prefetchable. */
	r = pci_func_add_bar(v->func, VPCI_BAR, VPCI_BAR_SIZE, PCI_BAR_MEM64, &v->bar_dev);
	if (!r)
		r = add_caps(v);
	if (r) {
		log_error("virtio-pci: slot %u: BAR/capabilities: %s", slot, strerror(-r));
		goto fail;
	}
	return v;
fail:
	vpci_free(v);
	return NULL;
}

void vpci_destroy(struct vpci *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	if (v->live)
		v->ops->stop(v->dev);
	v->live = false;
	for (unsigned int i = 0; i < v->nr_queues; i++)
		ioev_remove(v, &v->q[i]);
	pthread_mutex_unlock(&v->lock);
	vpci_free(v);
}

void vpci_reset(struct vpci *v)
{
	pthread_mutex_lock(&v->lock);
	STAT_INC(v, resets);
	reset_locked(v);
	pthread_mutex_unlock(&v->lock);
}

struct dev *vpci_bar_dev(struct vpci *v)
{
	return &v->bar_dev;
}

struct pci_func *vpci_func(struct vpci *v)
{
	return v->func;
}

void vpci_get_stats(struct vpci *v, struct vpci_stats *st)
{
	const uint64_t *src = (const uint64_t *)(const void *)&v->stats;
	uint64_t *dst = (uint64_t *)(void *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- virtio-blk adapter ------------------------------------------------- */

static uint64_t vblk_features(void *dev)
{
	return blk_features(dev);
}

static void vblk_set_features(void *dev, uint64_t f)
{
	blk_set_features(dev, f);
}

static unsigned int vblk_config_size(void *dev)
{
	(void)dev;
	return blk_config_size();
}

static void vblk_config_read(void *dev, uint64_t off, void *data, unsigned int len)
{
	blk_config_read(dev, off, data, len);
}

static void vblk_config_write(void *dev, uint64_t off, const void *data, unsigned int len)
{
	blk_config_write(dev, off, data, len);
}

static int vblk_start(void *dev, unsigned int q, struct virtq *vq, int kick_fd,
		      void (*notify)(void *), void (*needs_reset)(void *), void *opaque)
{
	struct blk_queue_cb cb = {.notify = notify, .needs_reset = needs_reset, .opaque = opaque};

	if (q != 0)
		return -EINVAL;
	return blk_start(dev, vq, kick_fd, &cb);
}

static void vblk_stop(void *dev)
{
	blk_stop(dev);
}

const struct vpci_dev_ops vpci_blk_ops = {
	.device_id = VIRTIO_ID_BLOCK,
	.pci_class = 0x018000, /* mass storage controller, other */
	.nr_queues = 1,
	/* Deeper than one sequential worker can use; keeps the guest's rings small. */
	.queue_size_max = 256,
	.features = vblk_features,
	.set_features = vblk_set_features,
	.config_size = vblk_config_size,
	.config_read = vblk_config_read,
	.config_write = vblk_config_write,
	.start = vblk_start,
	.stop = vblk_stop,
};

struct vpci *vpci_create_blk(struct pci_host *h, unsigned int slot, struct blk *b,
			     const struct gmem *gm, struct msi_ctl *msi, struct ioevent_ctl *ioev)
{
	if (!b)
		return NULL;
	return vpci_create(h, slot, &vpci_blk_ops, b, gm, msi, ioev);
}

/* ---- virtio-console adapter --------------------------------------------- */

static uint64_t vcon_ops_features(void *dev)
{
	return vcon_features(dev);
}

static void vcon_ops_set_features(void *dev, uint64_t f)
{
	vcon_set_features(dev, f);
}

static unsigned int vcon_ops_config_size(void *dev)
{
	(void)dev;
	return vcon_config_size();
}

static void vcon_ops_config_read(void *dev, uint64_t off, void *data, unsigned int len)
{
	vcon_config_read(dev, off, data, len);
}

static void vcon_ops_config_write(void *dev, uint64_t off, const void *data, unsigned int len)
{
	vcon_config_write(dev, off, data, len);
}

static int vcon_ops_start(void *dev, unsigned int q, struct virtq *vq, int kick_fd,
			  void (*notify)(void *), void (*needs_reset)(void *), void *opaque)
{
	struct vcon_queue_cb cb = {.notify = notify, .needs_reset = needs_reset, .opaque = opaque};

	return vcon_start(dev, q, vq, kick_fd, &cb);
}

static void vcon_ops_stop(void *dev)
{
	vcon_stop(dev);
}

const struct vpci_dev_ops vpci_console_ops = {
	.device_id = VIRTIO_ID_CONSOLE,
	.pci_class = 0x078000,	     /* simple communication controller, other */
	.nr_queues = VCON_NR_QUEUES, /* receiveq, transmitq: no F_MULTIPORT */
	/*
	 * One chain is in flight per hvc write, and the receiveq is never
	 * consumed, but Linux fills every receiveq slot with a page at probe
	 * (fill_queue): 16 slots cost the guest 64 KiB per console, 256 cost
	 * it 1 MiB of fresh memory to allocate and zero (hostel exec has three).
	 */
	.queue_size_max = 16,
	.features = vcon_ops_features,
	.set_features = vcon_ops_set_features,
	.config_size = vcon_ops_config_size,
	.config_read = vcon_ops_config_read,
	.config_write = vcon_ops_config_write,
	.start = vcon_ops_start,
	.stop = vcon_ops_stop,
};

struct vpci *vpci_create_console(struct pci_host *h, unsigned int slot, struct vcon *c,
				 const struct gmem *gm, struct msi_ctl *msi,
				 struct ioevent_ctl *ioev)
{
	if (!c)
		return NULL;
	return vpci_create(h, slot, &vpci_console_ops, c, gm, msi, ioev);
}

/* ---- virtio-input adapter ------------------------------------------------ */

static uint64_t vinput_ops_features(void *dev)
{
	return vinput_features(dev);
}

static void vinput_ops_set_features(void *dev, uint64_t f)
{
	vinput_set_features(dev, f);
}

static unsigned int vinput_ops_config_size(void *dev)
{
	(void)dev;
	return vinput_config_size();
}

static void vinput_ops_config_read(void *dev, uint64_t off, void *data, unsigned int len)
{
	vinput_config_read(dev, off, data, len);
}

static void vinput_ops_config_write(void *dev, uint64_t off, const void *data, unsigned int len)
{
	vinput_config_write(dev, off, data, len);
}

static int vinput_ops_start(void *dev, unsigned int q, struct virtq *vq, int kick_fd,
			    void (*notify)(void *), void (*needs_reset)(void *), void *opaque)
{
	struct vinput_queue_cb cb = {
		.notify = notify, .needs_reset = needs_reset, .opaque = opaque};

	return vinput_start(dev, q, vq, kick_fd, &cb);
}

static void vinput_ops_stop(void *dev)
{
	vinput_stop(dev);
}

const struct vpci_dev_ops vpci_input_ops = {
	.device_id = VIRTIO_ID_INPUT,
	.pci_class = 0x098000,	       /* input device controller, other */
	.nr_queues = VINPUT_NR_QUEUES, /* eventq, statusq */
	/* Linux posts 64 event buffers; a few more cost nothing. */
	.queue_size_max = 256,
	.features = vinput_ops_features,
	.set_features = vinput_ops_set_features,
	.config_size = vinput_ops_config_size,
	.config_read = vinput_ops_config_read,
	.config_write = vinput_ops_config_write,
	.start = vinput_ops_start,
	.stop = vinput_ops_stop,
};

struct vpci *vpci_create_input(struct pci_host *h, unsigned int slot, struct vinput *v,
			       const struct gmem *gm, struct msi_ctl *msi, struct ioevent_ctl *ioev)
{
	if (!v)
		return NULL;
	return vpci_create(h, slot, &vpci_input_ops, v, gm, msi, ioev);
}
