/* SPDX-License-Identifier: MIT */
/*
 * virtio 1.x PCI transport, modern only (virtio 1.x, section 4.1 "Virtio
 * Over PCI Bus"). Generic over the device type: a device model gives a small
 * ops table (features, device config space, start/stop of its queues) and
 * this transport owns everything PCI- and status-related - the PCI function,
 * the capabilities, the common configuration registers, feature
 * negotiation, the device status state machine, the virtqueues' addresses,
 * notifications and interrupts.
 *
 * PCI function (4.1.2 "PCI Device Discovery"): vendor 0x1af4, device
 * 0x1040 + virtio device id, revision 1 (non-transitional), subsystem
 * 0x1af4:(0x1040 + id), the class the ops give, no INTx pin. One
 * non-prefetchable 64-bit memory BAR, VPCI_BAR (BAR 4), of VPCI_BAR_SIZE
 * bytes, laid out as
 *
 *	0x0000	common configuration	(struct virtio_pci_common_cfg, 56 bytes)
 *	0x0100	ISR status		(1 byte, in a 4-byte window)
 *	0x0200	device configuration	(ops->config_size bytes, window to 0x1000)
 *	0x1000	notifications		(queue i at 4 * i: notify_off_multiplier 4)
 *	0x2000	MSI-X table		(nr_queues + 1 vectors)
 *	0x3000	MSI-X PBA
 *
 * and described by vendor-specific capabilities (4.1.4) of cfg_type COMMON,
 * NOTIFY, ISR, DEVICE (when the device has a config space) and PCI_CFG, plus
 * the MSI-X capability. queue_notify_data, queue_reset and the packed ring
 * are not offered (VIRTIO_F_NOTIFICATION_DATA, _RING_RESET, _RING_PACKED are
 * masked out of the device's offer); VIRTIO_F_VERSION_1 is always offered.
 *
 * Guest-visible behaviour (decisions the spec leaves open, all documented
 * next to the code in vpci.c):
 *  - common configuration: only accesses that match a field exactly (width
 *    and offset; the 64-bit queue addresses also as 32-bit halves) do
 *    anything; others read 0 and are dropped (4.1.3.1 requires matching
 *    widths of the driver);
 *  - queue registers with queue_select >= num_queues read 0 and ignore
 *    writes; queue_size accepts a power of two 1..queue_size_max, other
 *    values are ignored; vectors >= nr_vectors read back as
 *    VIRTIO_MSI_NO_VECTOR; queue configuration is frozen from DRIVER_OK until
 *    the next reset (BAD-INPUTS 8);
 *  - device_status: 0 resets; otherwise bits only accumulate, and a write
 *    that would clear a bit is ignored; FEATURES_OK sticks only if the
 *    driver's features are a subset of the offer and include VERSION_1;
 *    driver features are frozen from FEATURES_OK; DRIVER_OK without
 *    FEATURES_OK is ignored (BAD-INPUTS 9);
 *  - at DRIVER_OK each enabled queue is validated (virtq_init); a queue whose
 *    rings are misaligned or outside RAM is not started and the device sets
 *    DEVICE_NEEDS_RESET and raises a configuration change interrupt, as it
 *    does when a running device reports a broken ring;
 *  - a notify write for queue index >= num_queues is ignored; otherwise the
 *    queue's kick eventfd is signalled by hand (also registered as an
 *    ioeventfd at DRIVER_OK when the platform gives one);
 *  - interrupts: MSI-X vectors; while MSI-X is disabled the ISR bits are set
 *    instead (queue bit 0, config bit 1) and read-to-clear, but no INTx is
 *    raised: hostel has no INTx wiring for PCI and Linux's virtio_pci always
 *    uses MSI-X when it is offered;
 *  - device configuration: reads past ops->config_size return 0, writes past
 *    it are ignored (BAD-INPUTS 10).
 *
 * Threads and locks. MMIO and config accesses come from vCPU threads; the
 * device's notify() and needs_reset() callbacks from its I/O threads. One
 * mutex guards the register state. The callbacks never take it: they read
 * the vectors and update status and ISR with atomics only, so ops->stop()
 * may be called with the mutex held (it waits for the I/O threads, which
 * may be inside a callback). Lock order:
 *	pci host lock (PCI_CFG window) -> vpci lock -> msix lock
 * ops->start/stop/set_features/config_* and the ioevent ops run with the
 * vpci lock held: they must not call back into this vpci's BAR.
 *
 * Trust: every register value, offset, width and ring address comes from
 * the guest. queue_select and notify indices are checked against num_queues
 * before they index anything; ring addresses are validated by virtq_init()
 * against guest RAM at DRIVER_OK and never re-read from the registers after.
 */
#ifndef HOSTEL_VPCI_H
#define HOSTEL_VPCI_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/gmem.h"
#include "hostel/ioevent.h"
#include "hostel/msi.h"
#include "pci/pci.h"
#include "virtio/queue/virtq.h"

#define VPCI_BAR	 4
#define VPCI_BAR_SIZE	 0x4000u
#define VPCI_MAX_QUEUES	 64	/* notify region and MSI-X table both fit their 4 KiB */
#define VPCI_CFG_MAX	 0xe00u /* device config window: 0x200..0x1000 */
#define VPCI_NOTIFY_MULT 4	/* notify_off_multiplier: queue i at 4 * i */

/* BAR offsets of the structures (see the layout above). */
#define VPCI_COMMON_OFF 0x0000u
#define VPCI_ISR_OFF	0x0100u
#define VPCI_DEVCFG_OFF 0x0200u
#define VPCI_NOTIFY_OFF 0x1000u
#define VPCI_MSIX_OFF	0x2000u
#define VPCI_PBA_OFF	0x3000u

/* MSI-X vectors of a transport with @nr_queues queues: config + one per queue. */
#define VPCI_NR_VECTORS(nr_queues) ((nr_queues) + 1)

/*
 * What a device type implements. @dev is the device's own object. Every
 * function may be called with the vpci lock held (see above).
 */
struct vpci_dev_ops {
	uint16_t device_id;	 /* virtio device id (<linux/virtio_ids.h>); PCI id 0x1040 + id */
	uint32_t pci_class;	 /* class << 16 | subclass << 8 | prog-if */
	unsigned int nr_queues;	 /* 1..VPCI_MAX_QUEUES */
	uint16_t queue_size_max; /* power of two, <= VIRTQ_MAX_SIZE */
	uint64_t (*features)(void *dev);		    /* offered feature bits */
	void (*set_features)(void *dev, uint64_t features); /* at FEATURES_OK; 0 at reset */
	unsigned int (*config_size)(void *dev);		    /* constant, <= VPCI_CFG_MAX */
	/* Device config space; @off + @len <= config_size (the transport clips). */
	void (*config_read)(void *dev, uint64_t off, void *data, unsigned int len);
	void (*config_write)(void *dev, uint64_t off, const void *data, unsigned int len);
	/*
	 * DRIVER_OK: serve queue @q on the initialised @vq, waiting on @kick_fd
	 * (an eventfd the transport signals on notify). Call @notify(@opaque)
	 * for a used-buffer interrupt and @needs_reset(@opaque) when the ring
	 * is broken; both are safe from any thread and never block on the
	 * transport. 0 or -errno (then the transport sets DEVICE_NEEDS_RESET).
	 */
	int (*start)(void *dev, unsigned int q, struct virtq *vq, int kick_fd,
		     void (*notify)(void *opaque), void (*needs_reset)(void *opaque), void *opaque);
	/*
	 * Reset: stop every queue. In-flight requests finish (their completions
	 * pushed) or are cancelled before this returns; nothing touches the
	 * rings after it (BAD-INPUTS 9). Idempotent.
	 */
	void (*stop)(void *dev);
};

struct vpci;
struct blk;
struct vcon;
struct vinput;

struct vpci_stats {
	uint64_t bad_accesses;	    /* widths/offsets matching no register */
	uint64_t ignored_writes;    /* read-only fields, bad values, frozen registers */
	uint64_t bad_notifies;	    /* notify writes for a queue index >= num_queues */
	uint64_t status_refused;    /* status writes clearing bits, DRIVER_OK w/o FEATURES_OK */
	uint64_t features_rejected; /* FEATURES_OK refused */
	uint64_t needs_reset;	    /* DEVICE_NEEDS_RESET raised */
	uint64_t resets;	    /* device resets (status 0) */
	uint64_t ioevent_errors;    /* ioevent add failures (the MMIO path still works) */
};

/*
 * Put a virtio device at PCI @slot of @h. @ops/@dev describe the device
 * (@dev must outlive the vpci), @gm is guest RAM for the rings, @msi
 * delivers the VPCI_NR_VECTORS(ops->nr_queues) MSI-X vectors, @ioev (may be
 * NULL) turns notify writes into eventfd signals without an exit. Call
 * before pci_host_assign_bars(). NULL on bad arguments or a setup failure
 * (logged); a failure after the function was added to @h leaves a
 * half-built slot, so the board must treat it as fatal and destroy @h.
 */
struct vpci *vpci_create(struct pci_host *h, unsigned int slot, const struct vpci_dev_ops *ops,
			 void *dev, const struct gmem *gm, struct msi_ctl *msi,
			 struct ioevent_ctl *ioev) __must_check;

/* The same for a virtio-blk disk (one queue, class 0x018000). */
struct vpci *vpci_create_blk(struct pci_host *h, unsigned int slot, struct blk *b,
			     const struct gmem *gm, struct msi_ctl *msi,
			     struct ioevent_ctl *ioev) __must_check;
extern const struct vpci_dev_ops vpci_blk_ops;

/*
 * The same for a virtio-console port (devices/virtio/console/vcon.h): two
 * queues (receiveq 0, transmitq 1), class 0x078000, queue size up to 256.
 */
struct vpci *vpci_create_console(struct pci_host *h, unsigned int slot, struct vcon *c,
				 const struct gmem *gm, struct msi_ctl *msi,
				 struct ioevent_ctl *ioev) __must_check;
extern const struct vpci_dev_ops vpci_console_ops;

/*
 * The same for a virtio-input tablet (devices/virtio/input/input.h): two
 * queues (eventq 0, statusq 1), class 0x098000, queue size up to 256.
 */
struct vpci *vpci_create_input(struct pci_host *h, unsigned int slot, struct vinput *v,
			       const struct gmem *gm, struct msi_ctl *msi,
			       struct ioevent_ctl *ioev) __must_check;
extern const struct vpci_dev_ops vpci_input_ops;

/*
 * Stops the device (ops->stop), removes the ioeventfds, closes the
 * eventfds, frees. Not the device object. Call once the vCPUs are stopped:
 * the PCI host keeps hooks into this vpci, so it must not be accessed or
 * reset afterwards (pci_host_destroy() itself is fine).
 */
void vpci_destroy(struct vpci *v);

/* The BAR's device (also reachable through pci_host_assign_bars()'s placements). */
struct dev *vpci_bar_dev(struct vpci *v);
struct pci_func *vpci_func(struct vpci *v);

/* Device reset, as a driver write of 0 to device_status. */
void vpci_reset(struct vpci *v);

/*
 * The device's configuration changed (e.g. link status): bump
 * config_generation and raise the configuration change interrupt. Safe
 * from any thread, never blocks on the transport.
 */
void vpci_config_changed(struct vpci *v);

void vpci_get_stats(struct vpci *v, struct vpci_stats *st);

#endif
