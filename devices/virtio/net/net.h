/* SPDX-License-Identifier: MIT */
/*
 * virtio-net device model (virtio 1.x, "Network Device", device id 1),
 * transport-neutral, over a network backend (include/hostel/netbe.h).
 * Two queues, receiveq1 (0, host -> guest) and transmitq1 (1, guest ->
 * host); no control queue, no multiqueue.
 *
 * Features offered: VERSION_1, EVENT_IDX, INDIRECT_DESC, and
 *  - MAC: the config space holds the address given at create;
 *  - STATUS: the config space says LINK_UP;
 *  - MRG_RXBUF: a received frame may span several receive buffers;
 *  - CSUM: the guest may leave a TX checksum partial (NEEDS_CSUM); the
 *    device completes it before handing the frame on, because backends
 *    want complete frames (libslirp parses and re-terminates TCP/UDP and
 *    would drop a bad checksum). Offering it is what lets Linux use
 *    scatter-gather TX (it ties NETIF_F_SG to a checksum offload), and one
 *    pass over a frame the device copies anyway costs little.
 * With a backend that takes virtio-net headers (netbe.h "Offloads": the
 * tap), also what it honours of GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN,
 * HOST_TSO4/6 and HOST_ECN: the guest's partial checksums and TCP
 * segments up to 64 KiB go to the backend as they are, with their header,
 * for the host kernel to finish; frames from it may come with partial
 * checksums or as large TCP segments, as the guest negotiated (the
 * backend is told, set_rx_offloads). An offload whose prerequisite was not
 * negotiated (TSO without the matching checksum offload, ECN without TSO)
 * counts as not negotiated. Without such a backend none of these are
 * offered (libslirp wants whole, checksummed frames). Never offered: UFO,
 * MTU, CTRL_VQ, MQ.
 *
 * Header: struct virtio_net_hdr_v1 (12 bytes: with VERSION_1 num_buffers
 * is always present).
 *
 * transmitq: each chain is one frame: the 12-byte header and the frame,
 * readable buffers only. Dropped and counted (tx_malformed), the chain
 * completed with length 0 and the queue going on: a chain with writable
 * buffers, shorter than the header or with an empty frame (a frame shorter
 * than an Ethernet header), longer than VNET_TX_MAX (header + 65550), of
 * more than VNET_TX_MAX_SEGS buffers, a GSO frame the negotiated features
 * do not allow or that is malformed (not TCP, no segment size, no partial
 * checksum, hdr_len past the frame), or a NEEDS_CSUM whose start/offset
 * fall outside the frame or without CSUM negotiated. Chains the virtqueue rejects are
 * completed with 0 too (tx_bad_chains). The frame is copied once into a
 * host buffer before anything is checked in it.
 *
 * receiveq: frames from the backend wait in a host queue of at most
 * VNET_RXQ_FRAMES frames and VNET_RXQ_BYTES bytes; when it is full a new
 * frame is dropped and counted (rx_dropped_full): a guest that posts no
 * buffers holds a bounded amount of host memory, and reception resumes as
 * soon as it posts some. Frames larger than VNET_RX_MAX are dropped
 * (rx_dropped_oversize). Without MRG_RXBUF a frame goes into one chain of
 * writable buffers of at least 12 + its length; with it, into as many
 * chains as it needs (each of at least 12 bytes, num_buffers in the first
 * header), waiting for more buffers when the ring runs out midway (the
 * chains taken are put back). A buffer that breaks these rules (readable
 * parts, too small, rejected by the virtqueue) is completed with length 0
 * and counted (rx_bad_buffers), and the frame it was meant for is dropped.
 * A frame whose backend header the guest's features do not allow is
 * fixed when it can be (a partial checksum completed here) and dropped
 * and counted (rx_dropped_offload) when not (a TCP segment over the MTU).
 *
 * Threads: one worker thread per started device serves both queues and
 * moves frames from the host queue; the backend's rx callback only queues
 * (under a separate small lock) and wakes the worker, so it never waits
 * for the guest. vnet_start/vnet_stop/vnet_set_features come from the
 * transport, one call at a time.
 */
#ifndef HOSTEL_VNET_H
#define HOSTEL_VNET_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/netbe.h"
#include "virtio/queue/virtq.h"

#define VNET_RX_QUEUE  0
#define VNET_TX_QUEUE  1
#define VNET_NR_QUEUES 2

#define VNET_HDR_LEN	 12u	/* struct virtio_net_hdr_v1 */
#define VNET_ETH_HLEN	 14u	/* shortest frame accepted on TX */
#define VNET_FRAME_MAX	 65550u /* largest frame, without the header */
#define VNET_TX_MAX	 (VNET_HDR_LEN + VNET_FRAME_MAX)
#define VNET_RX_MAX	 VNET_FRAME_MAX
#define VNET_TX_MAX_SEGS 64u /* Linux uses at most MAX_SKB_FRAGS + 2 */
#define VNET_RXQ_FRAMES	 256u
#define VNET_RXQ_BYTES	 (1u << 20)
#define VNET_QUEUE_SIZE	 256u /* queue_size_max offered */

struct vnet;
struct vpci;
struct pci_host;
struct gmem;
struct msi_ctl;
struct ioevent_ctl;

/*
 * A device with MAC address @mac on backend @be (connected to the device
 * here; the caller starts and destroys it, after the device's transport
 * and before the device: netbe.h). NULL on bad arguments or resources.
 */
struct vnet *vnet_create(struct netbe *be, const uint8_t mac[6]) __must_check;
/* Stops (vnet_stop), drops the host queue, frees. NULL is fine. */
void vnet_destroy(struct vnet *n);

/*
 * A stable locally administered unicast MAC from @seed and @index (the
 * n-th NIC of a VM): the same seed always gives the same address.
 */
void vnet_mac_from_seed(const char *seed, unsigned int index, uint8_t mac[6]);

struct vnet_stats {
	uint64_t tx_frames, tx_bytes; /* frames handed to the backend */
	uint64_t tx_malformed;	      /* chains dropped by the rules above */
	uint64_t tx_bad_chains;	      /* chains the virtqueue rejected */
	uint64_t tx_errors;	      /* the backend refused a frame */
	uint64_t tx_gso;	      /* of tx_frames, TCP segmentation offloads */
	uint64_t rx_frames, rx_bytes; /* frames delivered to the guest */
	uint64_t rx_dropped_full;     /* host queue full */
	uint64_t rx_dropped_idle;     /* frames while the receive queue was not running */
	uint64_t rx_dropped_oversize; /* frames over VNET_RX_MAX from the backend */
	uint64_t rx_dropped_nobuf;    /* frames whose buffers were unusable */
	uint64_t rx_bad_buffers;      /* receive chains completed with 0 */
	uint64_t rx_gso;	      /* of rx_frames, large TCP segments (GUEST_TSO) */
	uint64_t rx_dropped_offload;  /* backend offloads the guest did not negotiate */
	uint64_t rx_queued;	      /* frames in the host queue now */
	uint64_t broken;	      /* a ring found broken (needs reset) */
};
void vnet_get_stats(struct vnet *n, struct vnet_stats *st);

uint64_t vnet_features(const struct vnet *n);
/* The features in effect (negotiated, less offloads without their prerequisite). */
uint64_t vnet_negotiated(struct vnet *n);
void vnet_set_features(struct vnet *n, uint64_t negotiated);

/*
 * struct virtio_net_config: mac, status (LINK_UP), max_virtqueue_pairs 1,
 * mtu 1500 (the last two meaningful only with features not offered).
 * Reads past it return 0; every write is ignored (all fields read-only).
 */
unsigned int vnet_config_size(void);
void vnet_config_read(struct vnet *n, uint64_t off, void *data, unsigned int len);
void vnet_config_write(struct vnet *n, uint64_t off, const void *data, unsigned int len);

struct vnet_queue_cb {
	void (*notify)(void *opaque);	   /* used-buffer interrupt of this queue */
	void (*needs_reset)(void *opaque); /* a ring is broken */
	void *opaque;
};

/* Start queue @q on an initialised @vq (DRIVER_OK), woken by @kick_fd. 0 or -errno. */
int vnet_start(struct vnet *n, unsigned int q, struct virtq *vq, int kick_fd,
	       const struct vnet_queue_cb *cb) __must_check;
/* Reset: stop the worker, forget the queues, empty the host queue. Idempotent. */
void vnet_stop(struct vnet *n);

/* Serve both queues now, as the worker does on a kick (tests, fuzzing). */
void vnet_process(struct vnet *n);

/* The virtio-pci glue: two queues, class 0x020000 (Ethernet controller). */
extern const struct vpci_dev_ops vnet_vpci_ops;
struct vpci *vnet_create_vpci(struct pci_host *h, unsigned int slot, struct vnet *n,
			      const struct gmem *gm, struct msi_ctl *msi,
			      struct ioevent_ctl *ioev) __must_check;

#endif
