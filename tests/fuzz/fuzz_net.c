// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the virtio-net device (devices/virtio/net/net.c):
 * a driver (tests/fakes/ring_harness.h) that posts transmit chains with
 * any header, length, segment count and direction (outside RAM too),
 * receive buffers of any size and direction, a backend that injects
 * frames of any length (with any virtio-net header when the backend has
 * offloads, as a tap), ring corruption and device resets, with and
 * without MRG_RXBUF, CSUM and the offload features.
 *
 * Checked:
 *  - every frame the backend gets is 14..65550 bytes long; with offloads,
 *    its header is one the device may pass on: TCP segmentation only
 *    with a segment size and a partial checksum, a partial checksum
 *    inside the frame, no flag but NEEDS_CSUM;
 *  - transmit completions have length 0; receive completions at most
 *    12 + 65550 bytes;
 *  - the host queue never holds more than VNET_RXQ_FRAMES frames;
 *  - while the rings are not corrupted, the device never asks for a reset.
 *
 * Input: byte 0: bit 0 MRG_RXBUF, bit 1 CSUM, bit 2 EVENT_IDX, bit 3 a
 * backend with offloads, bit 4 no GUEST_CSUM, bit 5 no HOST_TSO4/6, bit 6
 * no GUEST_TSO4/6, bit 7 no ECN either way. Then
 * operations, an opcode byte each (op % 6):
 *   0 transmit chain: shape byte (bits 0-1 segments - 1, bit 2 a writable
 *     segment, bit 3 outside RAM, bit 4 one indirect table of 200 tiny
 *     segments), header flags, gso_type, csum_start, csum_offset,
 *     gso_size, hdr_len (one byte each), length (2 bytes, scaled by 2 up
 *     to 131070);
 *   1 receive buffer: length byte (x 16), bit 7 of a second byte: readable;
 *   2 inject a frame: length (2 bytes, scaled by 2), fill byte; with
 *     offloads a header too: flags, gso_type, csum_start, gso_size;
 *   3 serve and reap both queues, with the checks;
 *   4 corrupt a ring byte (queue bit, 2-byte offset, value);
 *   5 reset the device and start over on zeroed rings.
 */
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_net.h>

#include "hostel/log.h"
#include "hostel/netbe.h"
#include "ring_harness.h"
#include "virtio/net/net.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QSIZE  64
#define RX_RAM 0x40000u
#define TX_RAM 0x80000u

static int be_send(struct netbe *be, const void *frame, size_t len)
{
	(void)be;
	(void)frame;
	CHECK(len >= VNET_ETH_HLEN && len <= VNET_FRAME_MAX);
	return 0;
}

static void be_destroy(struct netbe *be)
{
	(void)be;
}

static int be_send_hdr(struct netbe *be, const struct netbe_hdr *h, const void *frame, size_t len)
{
	uint8_t type = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	size_t start = le16toh(h->csum_start), off = le16toh(h->csum_offset);

	CHECK((h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0);
	CHECK(h->gso_type == VIRTIO_NET_HDR_GSO_NONE || type == VIRTIO_NET_HDR_GSO_TCPV4 ||
	      type == VIRTIO_NET_HDR_GSO_TCPV6);
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		CHECK(h->gso_size && (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
		      le16toh(h->hdr_len) <= len);
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		CHECK(start < len && off + 2 <= len - start);
	return be_send(be, frame, len);
}

static const struct netbe_ops be_ops = {.name = "fuzz", .send = be_send, .destroy = be_destroy};
static const struct netbe_ops be_offload_ops = {.name = "fuzz-offloads",
						.send = be_send,
						.offloads = NETBE_OFFLOADS,
						.send_hdr = be_send_hdr,
						.destroy = be_destroy};

struct fz {
	struct netbe be;
	struct ring_harness rx, tx;
	struct virtq rxq, txq;
	bool tainted;
	int kick;
	struct vnet *n;
};

static void on_notify(void *opaque)
{
	(void)opaque;
}

static void on_needs_reset(void *opaque)
{
	struct fz *z = opaque;

	CHECK(__atomic_load_n(&z->tainted, __ATOMIC_SEQ_CST));
}

static void rings_start(struct fz *z)
{
	struct vnet_queue_cb cb = {.notify = on_notify, .needs_reset = on_needs_reset, .opaque = z};
	struct virtq_config c;

	c = rh_config(&z->rx);
	CHECK(virtq_init(&z->rxq, &z->rx.gm, &c) == 0);
	c = rh_config(&z->tx);
	CHECK(virtq_init(&z->txq, &z->tx.gm, &c) == 0);
	__atomic_store_n(&z->tainted, false, __ATOMIC_SEQ_CST);
	CHECK(vnet_start(z->n, VNET_RX_QUEUE, &z->rxq, z->kick, &cb) == 0);
	CHECK(vnet_start(z->n, VNET_TX_QUEUE, &z->txq, z->kick, &cb) == 0);
}

/* Room for a chain of up to 4 descriptors without wrapping onto live ones. */
static bool room(struct ring_harness *h)
{
	unsigned int inflight = (uint16_t)(h->avail_idx - h->last_used);

	if (!inflight)
		h->data_next = h->data_gpa;
	return 4 * inflight + 4 <= h->size;
}

static void tx_post(struct fz *z, struct in *in)
{
	uint8_t shape = get8(in);
	struct virtio_net_hdr_v1 hdr = {.flags = get8(in), .gso_type = get8(in)};
	uint32_t len;
	struct rh_buf b[4];
	unsigned int nseg = (shape & 3) + 1;
	uint64_t g;

	hdr.csum_start = htole16(get8(in));
	hdr.csum_offset = htole16(get8(in));
	hdr.gso_size = htole16(get8(in) * 8);
	hdr.hdr_len = htole16(get8(in));
	len = (uint32_t)(get8(in) | get8(in) << 8) * 2;
	if (!room(&z->tx))
		return;
	if (shape & 16) {
		struct rh_buf many[200];

		for (unsigned int i = 0; i < 200; i++) {
			many[i] = (struct rh_buf){rh_alloc(&z->tx, 4), 4, false};
			if (!many[i].addr)
				return;
		}
		rh_submit_indirect(&z->tx, many, 200);
		return;
	}
	g = rh_alloc(&z->tx, VNET_HDR_LEN);
	if (!g)
		return;
	memcpy(rh_host(&z->tx, g, VNET_HDR_LEN), &hdr, VNET_HDR_LEN);
	b[0] = (struct rh_buf){g, VNET_HDR_LEN, false};
	for (unsigned int i = 1; i < nseg; i++) {
		uint32_t l = len / (nseg - 1) + 1;

		g = (shape & 8) ? RH_RAM_GPA + TX_RAM - l / 2 : rh_alloc(&z->tx, l);
		if (!g)
			return;
		b[i] = (struct rh_buf){g, l, (shape & 4) && i == nseg - 1};
	}
	rh_submit(&z->tx, b, nseg);
}

static void rx_post(struct fz *z, struct in *in)
{
	uint32_t len = (uint32_t)get8(in) * 16 + 1;
	bool readable = get8(in) & 0x80;
	uint64_t g;

	if (!room(&z->rx))
		return;
	g = rh_alloc(&z->rx, len);
	if (g)
		rh_submit(&z->rx, &(struct rh_buf){g, len, !readable}, 1);
}

static void inject(struct fz *z, struct in *in)
{
	static uint8_t frame[2 * 65535 + 2];
	size_t len = (size_t)(get8(in) | get8(in) << 8) * 2;

	memset(frame, get8(in), len);
	if (netbe_has_offloads(&z->be)) {
		struct netbe_hdr h = {.flags = get8(in), .gso_type = get8(in)};

		h.csum_start = htole16(get8(in));
		h.csum_offset = htole16(16);
		h.gso_size = htole16(get8(in) * 8);
		netbe_deliver_hdr(&z->be, &h, frame, len);
	} else {
		netbe_deliver(&z->be, frame, len);
	}
}

static void serve(struct fz *z)
{
	struct vnet_stats st;
	uint32_t id, len;

	vnet_process(z->n);
	while (rh_get_used(&z->tx, &id, &len))
		CHECK(z->tainted || len == 0);
	while (rh_get_used(&z->rx, &id, &len))
		CHECK(z->tainted || len <= VNET_HDR_LEN + VNET_RX_MAX);
	vnet_get_stats(z->n, &st);
	CHECK(st.rx_queued <= VNET_RXQ_FRAMES);
}

static void corrupt(struct fz *z, struct in *in)
{
	struct ring_harness *h = (get8(in) & 1) ? &z->rx : &z->tx;
	uint16_t off = (uint16_t)(get8(in) | get8(in) << 8);
	uint64_t span = h->data_gpa - h->ram_gpa;

	__atomic_store_n(&z->tainted, true, __ATOMIC_SEQ_CST);
	h->ram[off % span] = get8(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz z;
	static FILE *devnull;
	struct in in = {data, size};
	uint8_t cfg = get8(&in);
	uint64_t feat;
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};

	if (!devnull) {
		devnull = fopen("/dev/null", "w");
		log_set_file(devnull);
	}
	memset(&z, 0, sizeof(z));
	z.be.ops = (cfg & 8) ? &be_offload_ops : &be_ops;
	CHECK(rh_init(&z.rx, QSIZE, RX_RAM) == 0);
	CHECK(rh_init(&z.tx, QSIZE, TX_RAM) == 0);
	z.rx.event_idx = z.tx.event_idx = cfg & 4;
	z.tx.indirect = true;
	z.kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	z.n = vnet_create(&z.be, mac);
	CHECK(z.kick >= 0 && z.n);
	feat = vnet_features(z.n);
	if (!(cfg & 1))
		feat &= ~(1ull << VIRTIO_NET_F_MRG_RXBUF);
	if (!(cfg & 2))
		feat &= ~(1ull << VIRTIO_NET_F_CSUM);
	if (cfg & 16)
		feat &= ~NETBE_F_GUEST_CSUM;
	if (cfg & 32)
		feat &= ~(NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6);
	if (cfg & 64)
		feat &= ~(NETBE_F_GUEST_TSO4 | NETBE_F_GUEST_TSO6);
	if (cfg & 128)
		feat &= ~(NETBE_F_GUEST_ECN | NETBE_F_HOST_ECN);
	vnet_set_features(z.n, feat);
	rings_start(&z);
	for (unsigned int ops = 0; in.n && ops < 512; ops++) {
		switch (get8(&in) % 6) {
		case 0:
			tx_post(&z, &in);
			break;
		case 1:
			rx_post(&z, &in);
			break;
		case 2:
			inject(&z, &in);
			break;
		case 3:
			serve(&z);
			break;
		case 4:
			corrupt(&z, &in);
			break;
		default:
			vnet_stop(z.n);
			rh_reset(&z.rx);
			rh_reset(&z.tx);
			rings_start(&z);
			break;
		}
	}
	serve(&z);
	vnet_destroy(z.n);
	close(z.kick);
	rh_fini(&z.rx);
	rh_fini(&z.tx);
	return 0;
}
