// SPDX-License-Identifier: MIT
/*
 * Unit tests for the virtio-net device (devices/virtio/net/net.c): the
 * transmit path with good frames and checksum completion, every virtio-net
 * case of BAD-INPUTS.md (18: frames shorter than the header, empty,
 * oversized, scattered over hundreds of descriptors; 19: no receive
 * buffers while the host floods, too small buffers), receive with and
 * without merged buffers, waiting for more merged buffers, the
 * configuration space, the MAC derivation and reset; with a backend that
 * has offloads (as a tap), the offload features, TSO and partial checksums
 * passed through both ways, and the headers the negotiated features do
 * not allow refused or fixed.
 *
 * Queues are real virtqueues over fake guest RAM driven by the ring
 * harness (one harness per queue), the backend a recorder
 * (tests/fakes/fake_netbe.h). Results are checked after vnet_process()
 * (what the worker does on a kick), so they do not depend on the worker's
 * timing.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "fake_netbe.h"
#include "hostel/log.h"
#include "ring_harness.h"
#include "virtio/net/net.h"

#define RXQ_SIZE 256
#define TXQ_SIZE 256
#define TX_RAM	 (4u << 20)

struct fx {
	struct ring_harness rx, tx;
	struct virtq rxq, txq;
	int rx_kick, tx_kick;
	unsigned int irqs, resets;
	struct fake_netbe *be;
	struct vnet *n;
};

static FILE *devnull;
static const uint8_t test_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};

static __attribute__((returns_nonnull)) uint8_t *host(struct ring_harness *h, uint64_t gpa,
						      uint64_t len)
{
	uint8_t *p = rh_host(h, gpa, len);

	if (!p) {
		fail_msg("gpa %#llx outside the harness RAM", (unsigned long long)gpa);
		abort();
	}
	return p;
}

static void on_notify(void *opaque)
{
	struct fx *f = opaque;

	__atomic_fetch_add(&f->irqs, 1, __ATOMIC_SEQ_CST);
}

static void on_needs_reset(void *opaque)
{
	struct fx *f = opaque;

	__atomic_fetch_add(&f->resets, 1, __ATOMIC_SEQ_CST);
}

static void fx_start(struct fx *f, uint64_t features)
{
	struct vnet_queue_cb cb = {.notify = on_notify, .needs_reset = on_needs_reset, .opaque = f};
	struct virtq_config c;

	assert_int_equal(rh_init(&f->rx, RXQ_SIZE, RH_DEFAULT_RAM), 0);
	assert_int_equal(rh_init(&f->tx, TXQ_SIZE, TX_RAM), 0);
	f->rx.event_idx = f->tx.event_idx = true;
	f->tx.indirect = true;
	c = rh_config(&f->rx);
	assert_int_equal(virtq_init(&f->rxq, &f->rx.gm, &c), 0);
	c = rh_config(&f->tx);
	assert_int_equal(virtq_init(&f->txq, &f->tx.gm, &c), 0);
	vnet_set_features(f->n, features);
	assert_int_equal(vnet_start(f->n, VNET_RX_QUEUE, &f->rxq, f->rx_kick, &cb), 0);
	assert_int_equal(vnet_start(f->n, VNET_TX_QUEUE, &f->txq, f->tx_kick, &cb), 0);
}

static int setup_with(void **state, bool offloads)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	devnull = fopen("/dev/null", "w");
	log_set_file(devnull); /* dropped frames are logged */
	f->be = calloc(1, sizeof(*f->be));
	if (!f->be)
		return -1;
	if (offloads)
		fnb_init_offloads(f->be);
	else
		fnb_init(f->be);
	f->rx_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->tx_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->n = vnet_create(&f->be->be, test_mac);
	if (f->rx_kick < 0 || f->tx_kick < 0 || !f->n)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, false);
}

/* A backend with offloads, as a tap. */
static int setup_offloads(void **state)
{
	return setup_with(state, true);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vnet_destroy(f->n);
	rh_fini(&f->rx);
	rh_fini(&f->tx);
	close(f->rx_kick);
	close(f->tx_kick);
	free(f->be);
	free(f);
	log_set_file(NULL);
	fclose(devnull);
	return 0;
}

static uint64_t all_features(struct fx *f)
{
	return vnet_features(f->n);
}

static uint64_t features_without(struct fx *f, unsigned int bit)
{
	return vnet_features(f->n) & ~(1ull << bit);
}

static struct vnet_stats stats(struct fx *f)
{
	struct vnet_stats st;

	vnet_get_stats(f->n, &st);
	return st;
}

/* ---- transmit ------------------------------------------------------------------ */

/* A frame of @len bytes with a recognisable pattern. */
static void pattern(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Post header + frame as two readable buffers; the head. */
static uint16_t tx_post(struct fx *f, const struct virtio_net_hdr_v1 *hdr, const uint8_t *frame,
			size_t len)
{
	uint64_t h = rh_alloc(&f->tx, VNET_HDR_LEN), d = len ? rh_alloc(&f->tx, len) : 0;
	struct rh_buf b[2] = {{h, VNET_HDR_LEN, false}, {d, (uint32_t)len, false}};

	assert_true(h && (d || !len));
	memcpy(host(&f->tx, h, VNET_HDR_LEN), hdr, VNET_HDR_LEN);
	if (len)
		memcpy(host(&f->tx, d, len), frame, len);
	return rh_submit(&f->tx, b, len ? 2 : 1);
}

/* Reap one used entry of @h; asserts there is one. */
static void used(struct ring_harness *h, uint32_t *id, uint32_t *len)
{
	assert_true(rh_get_used(h, id, len));
}

static void test_tx_good(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {0};
	uint8_t frame[1514];
	uint32_t id, len;
	uint16_t head;

	fx_start(f, all_features(f));
	pattern(frame, sizeof(frame), 1);
	head = tx_post(f, &hdr, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->tx, &id, &len);
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	assert_int_equal(f->be->sent, 1);
	assert_int_equal(f->be->len[0], sizeof(frame));
	assert_memory_equal(f->be->frame[0], frame, sizeof(frame));
	assert_int_equal(stats(f).tx_frames, 1);
	assert_int_equal(stats(f).tx_bytes, sizeof(frame));
	assert_true(f->irqs > 0);

	/* Header and frame in one buffer, the smallest frame accepted (an Ethernet header). */
	uint64_t g = rh_alloc(&f->tx, VNET_HDR_LEN + VNET_ETH_HLEN);
	memset(host(&f->tx, g, VNET_HDR_LEN), 0, VNET_HDR_LEN);
	memcpy(host(&f->tx, g + VNET_HDR_LEN, VNET_ETH_HLEN), frame, VNET_ETH_HLEN);
	rh_submit(&f->tx, &(struct rh_buf){g, VNET_HDR_LEN + VNET_ETH_HLEN, false}, 1);
	vnet_process(f->n);
	assert_int_equal(f->be->sent, 2);
	assert_int_equal(f->be->len[1], VNET_ETH_HLEN);
	assert_memory_equal(f->be->frame[1], frame, VNET_ETH_HLEN);
}

/* Independent reference: the one's complement sum of @p must fold to 0xffff. */
static uint16_t ref_sum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i < len; i += 2)
		s += (uint32_t)(p[i] << 8) + (i + 1 < len ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static void test_tx_csum(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					.csum_start = htole16(34),
					.csum_offset = htole16(6)};
	uint8_t frame[101];

	fx_start(f, all_features(f));
	pattern(frame, sizeof(frame), 9);
	frame[40] = 0x12; /* the guest's seed (pseudo-header sum) */
	frame[41] = 0x34;
	tx_post(f, &hdr, frame, sizeof(frame));
	vnet_process(f->n);
	assert_int_equal(f->be->sent, 1);
	/*
	 * Bytes outside the field are untouched; the range plus the
	 * pseudo-header sum (the seed) now sums to 0xffff, as a receiver
	 * checks it.
	 */
	assert_memory_equal(f->be->frame[0], frame, 40);
	assert_memory_equal(f->be->frame[0] + 42, frame + 42, sizeof(frame) - 42);
	uint32_t s = ref_sum(f->be->frame[0] + 34, sizeof(frame) - 34) + 0x1234u;
	s = (s & 0xffff) + (s >> 16);
	assert_int_equal(s, 0xffff);
	/* The field held the seed before: the checksum covers it, not zeros. */
	assert_false(f->be->frame[0][40] == frame[40] && f->be->frame[0][41] == frame[41]);
}

static void test_tx_csum_not_negotiated(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					.csum_start = htole16(34),
					.csum_offset = htole16(6)};
	uint8_t frame[100] = {0};

	fx_start(f, features_without(f, VIRTIO_NET_F_CSUM));
	tx_post(f, &hdr, frame, sizeof(frame));
	vnet_process(f->n);
	assert_int_equal(f->be->sent, 0);
	assert_int_equal(stats(f).tx_malformed, 1);
}

/* Each malformed chain is dropped and counted; a good one after them goes through. */
static void test_tx_malformed(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {0};
	static uint8_t big[VNET_TX_MAX + 1];
	uint8_t frame[64];
	uint32_t id, len;
	unsigned int expect = 0, pushed = 0;

	fx_start(f, all_features(f));
	pattern(frame, sizeof(frame), 3);

	/* Shorter than the header: 8 bytes. */
	uint64_t a = rh_alloc(&f->tx, 8);
	rh_submit(&f->tx, &(struct rh_buf){a, 8, false}, 1);
	expect++;
	/* Empty: the header alone, and a header with a frame shorter than Ethernet's header. */
	tx_post(f, &hdr, frame, 0);
	expect++;
	tx_post(f, &hdr, frame, VNET_ETH_HLEN - 1);
	expect++;
	/* Oversized: header + 65551 bytes, in one buffer. */
	uint64_t b = rh_alloc(&f->tx, sizeof(big));
	assert_true(b);
	rh_submit(&f->tx, &(struct rh_buf){b, (uint32_t)sizeof(big), false}, 1);
	expect++;
	/* Scattered over 300 two-byte descriptors (an indirect table). */
	struct rh_buf *many = calloc(300, sizeof(*many));
	assert_non_null(many);
	for (unsigned int i = 0; i < 300; i++)
		many[i] = (struct rh_buf){rh_alloc(&f->tx, 2), 2, false};
	rh_submit_indirect(&f->tx, many, 300);
	free(many);
	expect++;
	/* A device-writable buffer in a transmit chain. */
	uint64_t h = rh_alloc(&f->tx, VNET_HDR_LEN), w = rh_alloc(&f->tx, 64);
	struct rh_buf hw[2] = {{h, VNET_HDR_LEN, false}, {w, 64, true}};
	rh_submit(&f->tx, hw, 2);
	expect++;
	/* A GSO frame (no TSO offered). */
	struct virtio_net_hdr_v1 gso = {.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					.gso_size = htole16(1448)};
	tx_post(f, &gso, frame, sizeof(frame));
	expect++;
	/* NEEDS_CSUM with the field past the end, and with csum_start past the end. */
	struct virtio_net_hdr_v1 c1 = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(60),
				       .csum_offset = htole16(3)};
	tx_post(f, &c1, frame, sizeof(frame));
	expect++;
	struct virtio_net_hdr_v1 c2 = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(0xffff),
				       .csum_offset = htole16(0xffff)};
	tx_post(f, &c2, frame, sizeof(frame));
	expect++;
	/* A buffer outside RAM: the virtqueue rejects the chain. */
	rh_submit(&f->tx, &(struct rh_buf){0x10, 100, false}, 1);
	/* And then a good frame. */
	tx_post(f, &hdr, frame, sizeof(frame));

	vnet_process(f->n);
	while (rh_get_used(&f->tx, &id, &len)) {
		assert_int_equal(len, 0);
		pushed++;
	}
	assert_int_equal(pushed, expect + 2);
	assert_int_equal(stats(f).tx_malformed, expect);
	assert_int_equal(stats(f).tx_bad_chains, 1);
	assert_int_equal(f->be->sent, 1);
	assert_int_equal(f->be->len[0], sizeof(frame));
	assert_memory_equal(f->be->frame[0], frame, sizeof(frame));
	assert_int_equal(f->resets, 0);
}

static void test_tx_backend_refuses(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {0};
	uint8_t frame[60] = {0};
	uint32_t id, len;

	fx_start(f, all_features(f));
	f->be->refuse = true;
	tx_post(f, &hdr, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->tx, &id, &len);
	assert_int_equal(stats(f).tx_errors, 1);
	assert_int_equal(stats(f).tx_frames, 0);
}

/* Many frames, more than one worker budget: every one is sent, in order. */
static void test_tx_many(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {0};
	uint8_t frame[60];
	uint32_t id, len;
	unsigned int got = 0;

	fx_start(f, all_features(f));
	for (unsigned int round = 0; round < 3; round++) {
		for (unsigned int i = 0; i < 100; i++) {
			pattern(frame, sizeof(frame), (uint8_t)(round * 100 + i));
			tx_post(f, &hdr, frame, sizeof(frame));
		}
		vnet_process(f->n);
		while (rh_get_used(&f->tx, &id, &len))
			got++;
	}
	assert_int_equal(got, 300);
	assert_int_equal(stats(f).tx_frames, 300);
	for (unsigned int i = 0; i < FAKE_NETBE_FRAMES; i++)
		assert_int_equal(f->be->frame[i][0], (uint8_t)i);
}

/* ---- receive ------------------------------------------------------------------- */

static uint64_t rx_post(struct fx *f, uint32_t len)
{
	uint64_t g = rh_alloc(&f->rx, len);

	assert_true(g);
	assert_int_not_equal(rh_submit(&f->rx, &(struct rh_buf){g, len, true}, 1), RH_NO_HEAD);
	return g;
}

static void test_rx_no_mrg(void **state)
{
	struct fx *f = *state;
	uint8_t frame[1514];
	struct virtio_net_hdr_v1 hdr;
	uint64_t g;
	uint32_t id, len;

	fx_start(f, features_without(f, VIRTIO_NET_F_MRG_RXBUF));
	g = rx_post(f, VNET_HDR_LEN + 1514);
	pattern(frame, sizeof(frame), 5);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, VNET_HDR_LEN + sizeof(frame));
	memcpy(&hdr, host(&f->rx, g, VNET_HDR_LEN), VNET_HDR_LEN);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
	assert_int_equal(le16toh(hdr.num_buffers), 1);
	assert_memory_equal(host(&f->rx, g + VNET_HDR_LEN, sizeof(frame)), frame, sizeof(frame));
	assert_int_equal(stats(f).rx_frames, 1);
	assert_int_equal(stats(f).rx_queued, 0);
	assert_true(f->irqs > 0);

	/* Without MRG, a buffer too small for the frame: completed with 0, frame dropped. */
	rx_post(f, 100);
	fnb_inject(f->be, frame, 200);
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, 0);
	assert_int_equal(stats(f).rx_bad_buffers, 1);
	assert_int_equal(stats(f).rx_dropped_nobuf, 1);
	assert_int_equal(stats(f).rx_queued, 0);
	/* The next frame still arrives. */
	g = rx_post(f, 2048);
	fnb_inject(f->be, frame, 60);
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, VNET_HDR_LEN + 60);
	assert_memory_equal(host(&f->rx, g + VNET_HDR_LEN, 60), frame, 60);
}

static void test_rx_mrg(void **state)
{
	struct fx *f = *state;
	uint8_t frame[200], got[VNET_HDR_LEN + 200];
	uint64_t g[4];
	uint32_t id, len, lens[4], total = 0;
	struct virtio_net_hdr_v1 hdr;

	fx_start(f, all_features(f));
	for (int i = 0; i < 4; i++)
		g[i] = rx_post(f, 64);
	pattern(frame, sizeof(frame), 11);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	for (int i = 0; i < 4; i++) {
		used(&f->rx, &id, &len);
		lens[i] = len;
		memcpy(got + total, host(&f->rx, g[i], len), len);
		total += len;
	}
	assert_false(rh_get_used(&f->rx, &id, &len));
	assert_int_equal(lens[0], 64);
	assert_int_equal(lens[3], VNET_HDR_LEN + 200 - 3 * 64);
	assert_int_equal(total, VNET_HDR_LEN + 200);
	memcpy(&hdr, got, VNET_HDR_LEN);
	assert_int_equal(le16toh(hdr.num_buffers), 4);
	assert_memory_equal(got + VNET_HDR_LEN, frame, sizeof(frame));
	assert_int_equal(stats(f).rx_frames, 1);
}

/* MRG: too few buffers for the frame: nothing is used until the driver posts more. */
static void test_rx_mrg_waits(void **state)
{
	struct fx *f = *state;
	uint8_t frame[200];
	uint64_t g[4];
	uint32_t id, len;
	struct virtio_net_hdr_v1 hdr;

	fx_start(f, all_features(f));
	g[0] = rx_post(f, 100);
	g[1] = rx_post(f, 50);
	pattern(frame, sizeof(frame), 13);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	assert_false(rh_get_used(&f->rx, &id, &len));
	assert_int_equal(stats(f).rx_queued, 1);
	g[2] = rx_post(f, 100);
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, 100);
	memcpy(&hdr, host(&f->rx, g[0], VNET_HDR_LEN), VNET_HDR_LEN);
	assert_int_equal(le16toh(hdr.num_buffers), 3);
	assert_memory_equal(host(&f->rx, g[0] + VNET_HDR_LEN, 88), frame, 88);
	used(&f->rx, &id, &len);
	assert_int_equal(len, 50);
	assert_memory_equal(host(&f->rx, g[1], 50), frame + 88, 50);
	used(&f->rx, &id, &len);
	assert_int_equal(len, 212 - 150);
	assert_memory_equal(host(&f->rx, g[2], 62), frame + 138, 62);
	assert_int_equal(stats(f).rx_queued, 0);
	(void)g[3];
}

/* MRG: a buffer smaller than the header, and a readable one: completed with 0. */
static void test_rx_bad_buffers(void **state)
{
	struct fx *f = *state;
	uint8_t frame[60] = {1, 2, 3};
	uint32_t id, len;
	uint64_t g, r;

	fx_start(f, all_features(f));
	rx_post(f, 8);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, 0);
	r = rh_alloc(&f->rx, 2048);
	rh_submit(&f->rx, &(struct rh_buf){r, 2048, false}, 1);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, 0);
	assert_int_equal(stats(f).rx_bad_buffers, 2);
	assert_int_equal(stats(f).rx_dropped_nobuf, 2);
	/* The ring is still fine. */
	g = rx_post(f, 2048);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, VNET_HDR_LEN + sizeof(frame));
	assert_memory_equal(host(&f->rx, g + VNET_HDR_LEN, 3), frame, 3);
	assert_int_equal(f->resets, 0);
}

/* BAD-INPUTS 19: no buffers while the host floods: bounded queue, drops counted, resumes. */
static void test_rx_flood_without_buffers(void **state)
{
	struct fx *f = *state;
	uint8_t frame[1514];
	uint32_t id, len;
	unsigned int got = 0, resumes;
	struct vnet_stats st;

	fx_start(f, all_features(f));
	for (unsigned int i = 0; i < 10000; i++) {
		pattern(frame, sizeof(frame), (uint8_t)i);
		fnb_inject(f->be, frame, sizeof(frame));
	}
	vnet_process(f->n);
	st = stats(f);
	assert_int_equal(st.rx_queued, VNET_RXQ_FRAMES);
	assert_int_equal(st.rx_dropped_full, 10000 - VNET_RXQ_FRAMES);
	assert_int_equal(st.rx_frames, 0);
	assert_false(f->be->be.peer.can_rx(f->be->be.peer.opaque));
	resumes = f->be->resumes;
	/* Buffers arrive: the queued frames go out in order, the backend is told to resume. */
	for (unsigned int i = 0; i < RXQ_SIZE; i++)
		rx_post(f, 2048);
	vnet_process(f->n);
	while (rh_get_used(&f->rx, &id, &len)) {
		assert_int_equal(len, VNET_HDR_LEN + sizeof(frame));
		got++;
	}
	assert_int_equal(got, VNET_RXQ_FRAMES);
	assert_int_equal(stats(f).rx_queued, 0);
	assert_int_equal(f->be->resumes, resumes + 1);
	assert_true(f->be->be.peer.can_rx(f->be->be.peer.opaque));
}

static void test_rx_idle_and_oversize(void **state)
{
	struct fx *f = *state;
	static uint8_t big[VNET_RX_MAX + 1];

	/* Before the receive queue runs: dropped, nothing held. */
	fnb_inject(f->be, big, 100);
	assert_int_equal(stats(f).rx_dropped_idle, 1);
	assert_int_equal(stats(f).rx_queued, 0);
	assert_false(f->be->be.peer.can_rx(f->be->be.peer.opaque));
	fx_start(f, all_features(f));
	fnb_inject(f->be, big, sizeof(big));
	assert_int_equal(stats(f).rx_dropped_oversize, 1);
	assert_int_equal(stats(f).rx_queued, 0);
}

/* A broken receive ring (avail index too far ahead): needs reset, no more consumed. */
static void test_rx_broken_ring(void **state)
{
	struct fx *f = *state;
	uint8_t frame[60] = {0};

	fx_start(f, all_features(f));
	rh_set_avail_idx(&f->rx, RXQ_SIZE + 5);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	assert_int_equal(f->resets, 1);
	assert_int_equal(stats(f).broken, 1);
	/* The frame stays queued (bounded), and reset empties the queue. */
	assert_int_equal(stats(f).rx_queued, 1);
	vnet_stop(f->n);
	assert_int_equal(stats(f).rx_queued, 0);
}

/* Reset, then start again on fresh rings: works as before. */
static void test_reset_restart(void **state)
{
	struct fx *f = *state;
	struct vnet_queue_cb cb = {.notify = on_notify, .needs_reset = on_needs_reset, .opaque = f};
	struct virtio_net_hdr_v1 hdr = {0};
	uint8_t frame[60];
	struct virtq_config c;
	uint32_t id, len;

	fx_start(f, all_features(f));
	pattern(frame, sizeof(frame), 21);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_stop(f->n);
	vnet_stop(f->n); /* idempotent */
	assert_int_equal(stats(f).rx_queued, 0);
	c = rh_config(&f->rx);
	assert_int_equal(virtq_init(&f->rxq, &f->rx.gm, &c), 0);
	c = rh_config(&f->tx);
	assert_int_equal(virtq_init(&f->txq, &f->tx.gm, &c), 0);
	f->rx.avail_idx = f->rx.last_used = 0;
	f->tx.avail_idx = f->tx.last_used = 0;
	rh_set_avail_idx(&f->rx, 0);
	rh_set_avail_idx(&f->tx, 0);
	assert_int_equal(vnet_start(f->n, VNET_RX_QUEUE, &f->rxq, f->rx_kick, &cb), 0);
	assert_int_equal(vnet_start(f->n, VNET_RX_QUEUE, &f->rxq, f->rx_kick, &cb), -EBUSY);
	assert_int_equal(vnet_start(f->n, VNET_TX_QUEUE, &f->txq, f->tx_kick, &cb), 0);
	tx_post(f, &hdr, frame, sizeof(frame));
	rx_post(f, 2048);
	fnb_inject(f->be, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->tx, &id, &len);
	used(&f->rx, &id, &len);
	assert_int_equal(len, VNET_HDR_LEN + sizeof(frame));
	assert_int_equal(f->be->sent, 1);
}

/* The worker serves a real kick without vnet_process. */
static void test_worker_kick(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {0};
	uint8_t frame[60] = {7};
	uint64_t one = 1;
	uint32_t id, len;

	fx_start(f, all_features(f));
	tx_post(f, &hdr, frame, sizeof(frame));
	assert_int_equal(write(f->tx_kick, &one, 8), 8);
	/* Hang guard only: the worker normally answers at once. */
	for (int i = 0; i < 10000 && !__atomic_load_n(&f->be->sent, __ATOMIC_SEQ_CST); i++)
		usleep(1000);
	assert_int_equal(__atomic_load_n(&f->be->sent, __ATOMIC_SEQ_CST), 1);
	vnet_stop(f->n); /* joins the worker: its pushes are visible */
	used(&f->tx, &id, &len);
}

/* ---- config, MAC ---------------------------------------------------------------- */

static void test_config(void **state)
{
	struct fx *f = *state;
	uint8_t b[16];
	uint16_t v;

	assert_int_equal(vnet_config_size(), 12);
	vnet_config_read(f->n, 0, b, 6);
	assert_memory_equal(b, test_mac, 6);
	vnet_config_read(f->n, 6, &v, 2);
	assert_int_equal(le16toh(v), VIRTIO_NET_S_LINK_UP);
	/* Reads past the structure: 0, also when straddling its end. */
	memset(b, 0xaa, sizeof(b));
	vnet_config_read(f->n, 10, b, 4);
	assert_int_equal(b[0] | b[1] << 8, 1500);
	assert_int_equal(b[2], 0);
	assert_int_equal(b[3], 0);
	vnet_config_read(f->n, 0xdf0, b, 4);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
	/* Writes change nothing. */
	memset(b, 0x77, sizeof(b));
	vnet_config_write(f->n, 0, b, 4);
	vnet_config_read(f->n, 0, b, 6);
	assert_memory_equal(b, test_mac, 6);
	/* Features: what net.h promises, no TSO, no GUEST_CSUM, no CTRL_VQ. */
	uint64_t feat = vnet_features(f->n);
	assert_true(feat & 1ull << VIRTIO_F_VERSION_1);
	assert_true(feat & 1ull << VIRTIO_NET_F_MAC);
	assert_true(feat & 1ull << VIRTIO_NET_F_STATUS);
	assert_true(feat & 1ull << VIRTIO_NET_F_MRG_RXBUF);
	assert_true(feat & 1ull << VIRTIO_NET_F_CSUM);
	assert_false(feat & 1ull << VIRTIO_NET_F_GUEST_CSUM);
	assert_false(feat & 1ull << VIRTIO_NET_F_HOST_TSO4);
	assert_false(feat & 1ull << VIRTIO_NET_F_CTRL_VQ);
}

static void test_mac_from_seed(void **state)
{
	uint8_t a[6], b[6], c[6], d[6];

	(void)state;
	vnet_mac_from_seed("/path/to/vmlinuz", 0, a);
	vnet_mac_from_seed("/path/to/vmlinuz", 0, b);
	vnet_mac_from_seed("/path/to/vmlinuz", 1, c);
	vnet_mac_from_seed("/other/vmlinuz", 0, d);
	assert_memory_equal(a, b, 6);
	assert_memory_not_equal(a, c, 6);
	assert_memory_not_equal(a, d, 6);
	for (int i = 0; i < 3; i++) {
		const uint8_t *m = i == 0 ? a : i == 1 ? c : d;

		assert_int_equal(m[0] & 0x03, 0x02); /* locally administered, unicast */
	}
	vnet_mac_from_seed(NULL, 0, a);
	assert_int_equal(a[0] & 0x03, 0x02);
}

static void test_create_bad_args(void **state)
{
	struct netbe nobe = {0};

	(void)state;
	assert_null(vnet_create(NULL, test_mac));
	assert_null(vnet_create(&nobe, test_mac));
}

/* ---- offloads (a backend that takes headers) -------------------------------------------- */

static const uint64_t host_offloads = NETBE_F_HOST_TSO4 | NETBE_F_HOST_TSO6 | NETBE_F_HOST_ECN;

static void test_offload_features(void **state)
{
	struct fx *f = *state;
	struct fake_netbe plain;
	struct vnet *n;

	/* Offered only with a backend that can honour them. */
	assert_int_equal(vnet_features(f->n) & NETBE_OFFLOADS, NETBE_OFFLOADS);
	fnb_init(&plain);
	n = vnet_create(&plain.be, test_mac);
	assert_non_null(n);
	assert_int_equal(vnet_features(n) & NETBE_OFFLOADS, 0);
	vnet_destroy(n);

	/* The backend hears the GUEST_* offloads the guest took... */
	vnet_set_features(f->n, all_features(f));
	assert_int_equal(f->be->rx_offloads, NETBE_F_GUEST_ALL);
	/* ...and no TSO or ECN without the checksum offload they need. */
	vnet_set_features(f->n, all_features(f) & ~NETBE_F_GUEST_CSUM);
	assert_int_equal(f->be->rx_offloads, 0);
	vnet_set_features(f->n, all_features(f) & ~(NETBE_F_GUEST_TSO4 | NETBE_F_GUEST_TSO6));
	assert_int_equal(f->be->rx_offloads, NETBE_F_GUEST_CSUM);
	assert_int_equal(f->be->set_offloads, 3);
}

/* A TSO frame with a partial checksum goes to the backend as the guest left it. */
static void test_tx_tso(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					.hdr_len = htole16(66),
					.gso_size = htole16(1448),
					.csum_start = htole16(34),
					.csum_offset = htole16(16)};
	static uint8_t frame[30000];

	fx_start(f, all_features(f));
	pattern(frame, sizeof(frame), 4);
	tx_post(f, &hdr, frame, sizeof(frame));
	vnet_process(f->n);
	assert_int_equal(f->be->sent, 1);
	assert_int_equal(f->be->sent_hdr, 1);
	assert_int_equal(f->be->len[0], sizeof(frame));
	/* Unchanged, the checksum field included: the host kernel finishes it. */
	assert_memory_equal(f->be->frame[0], frame, sizeof(frame));
	assert_int_equal(f->be->hdr[0].gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16toh(f->be->hdr[0].gso_size), 1448);
	assert_int_equal(le16toh(f->be->hdr[0].hdr_len), 66);
	assert_int_equal(f->be->hdr[0].flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(le16toh(f->be->hdr[0].csum_start), 34);
	assert_int_equal(le16toh(f->be->hdr[0].csum_offset), 16);
	assert_int_equal(stats(f).tx_gso, 1);
	assert_int_equal(stats(f).tx_malformed, 0);
}

/* TSO headers the features do not allow, or malformed: dropped and counted; the queue goes on. */
static void test_tx_tso_refused(void **state)
{
	struct fx *f = *state;
	const struct virtio_net_hdr_v1 good = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					       .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
					       .hdr_len = htole16(86),
					       .gso_size = htole16(1428),
					       .csum_start = htole16(54),
					       .csum_offset = htole16(16)};
	struct virtio_net_hdr_v1 bad[6];
	static uint8_t frame[4000];
	unsigned int i;

	for (i = 0; i < 6; i++)
		bad[i] = good;
	bad[0].gso_size = 0;			     /* no segment size */
	bad[1].flags = 0;			     /* no partial checksum */
	bad[2].gso_type = VIRTIO_NET_HDR_GSO_UDP;    /* UFO: never offered */
	bad[3].gso_type |= VIRTIO_NET_HDR_GSO_ECN;   /* HOST_ECN not negotiated */
	bad[4].hdr_len = htole16(sizeof(frame) + 1); /* header past the frame */
	bad[5].gso_type = 7;			     /* no such type */
	fx_start(f, all_features(f) & ~NETBE_F_HOST_ECN);
	pattern(frame, sizeof(frame), 2);
	for (i = 0; i < 6; i++)
		tx_post(f, &bad[i], frame, sizeof(frame));
	tx_post(f, &good, frame, sizeof(frame));
	vnet_process(f->n);
	assert_int_equal(stats(f).tx_malformed, 6);
	assert_int_equal(f->be->sent, 1);
	assert_int_equal(f->be->hdr[0].gso_type, VIRTIO_NET_HDR_GSO_TCPV6);
	for (i = 0; i < 7; i++) {
		uint32_t id, len;

		used(&f->tx, &id, &len);
	}
}

/* TSO the driver did not take (or took without CSUM): a GSO frame is malformed. */
static void test_tx_tso_not_negotiated(void **state)
{
	struct fx *f = *state;
	const struct virtio_net_hdr_v1 hdr = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
					      .gso_size = htole16(1448),
					      .csum_start = htole16(34),
					      .csum_offset = htole16(16)};
	static uint8_t frame[3000];

	fx_start(f, all_features(f) & ~NETBE_F_HOST_TSO4);
	tx_post(f, &hdr, frame, sizeof(frame));
	vnet_process(f->n);
	assert_int_equal(stats(f).tx_malformed, 1);
	vnet_stop(f->n);
	rh_fini(&f->rx);
	rh_fini(&f->tx);
	fx_start(f, all_features(f) & ~(1ull << VIRTIO_NET_F_CSUM));
	tx_post(f, &hdr, frame, sizeof(frame));
	vnet_process(f->n);
	assert_int_equal(stats(f).tx_malformed, 2);
	assert_int_equal(f->be->sent, 0);
}

/* From the backend: a large TCP segment with a partial checksum reaches the guest as it is. */
static void test_rx_tso(void **state)
{
	struct fx *f = *state;
	const struct netbe_hdr in = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				     .hdr_len = htole16(66),
				     .gso_size = htole16(1448),
				     .csum_start = htole16(34),
				     .csum_offset = htole16(16),
				     .num_buffers = htole16(77)};
	const struct netbe_hdr valid = {.flags = VIRTIO_NET_HDR_F_DATA_VALID | 0x40,
					.gso_size = htole16(9)};
	static uint8_t frame[40000];
	struct virtio_net_hdr_v1 hdr;
	uint64_t g;
	uint32_t id, len;

	fx_start(f, all_features(f));
	pattern(frame, sizeof(frame), 6);
	g = rx_post(f, VNET_HDR_LEN + sizeof(frame));
	fnb_inject_hdr(f->be, &in, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, VNET_HDR_LEN + sizeof(frame));
	memcpy(&hdr, host(&f->rx, g, VNET_HDR_LEN), VNET_HDR_LEN);
	assert_int_equal(hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(le16toh(hdr.gso_size), 1448);
	assert_int_equal(le16toh(hdr.hdr_len), 66);
	assert_int_equal(le16toh(hdr.csum_start), 34);
	assert_int_equal(le16toh(hdr.csum_offset), 16);
	assert_int_equal(le16toh(hdr.num_buffers), 1); /* the device's, not the backend's */
	assert_memory_equal(host(&f->rx, g + VNET_HDR_LEN, sizeof(frame)), frame, sizeof(frame));
	assert_int_equal(stats(f).rx_gso, 1);

	/* DATA_VALID passes with GUEST_CSUM; unknown flags and stray fields do not. */
	g = rx_post(f, 2048);
	fnb_inject_hdr(f->be, &valid, frame, 100);
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	memcpy(&hdr, host(&f->rx, g, VNET_HDR_LEN), VNET_HDR_LEN);
	assert_int_equal(hdr.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	assert_int_equal(hdr.gso_size, 0);
}

/*
 * Offloads the guest did not (or no longer) take: a partial checksum is
 * finished by the device, DATA_VALID cleared, a TCP segment (which cannot
 * be undone here) and a partial checksum outside the frame dropped.
 */
static void test_rx_offloads_not_negotiated(void **state)
{
	struct fx *f = *state;
	const struct netbe_hdr csum = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				       .csum_start = htole16(34),
				       .csum_offset = htole16(6)};
	const struct netbe_hdr valid = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	const struct netbe_hdr gso = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				      .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				      .gso_size = htole16(1448),
				      .csum_start = htole16(34),
				      .csum_offset = htole16(16)};
	const struct netbe_hdr outside = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					  .csum_start = htole16(100),
					  .csum_offset = htole16(0)};
	struct virtio_net_hdr_v1 hdr;
	uint8_t frame[101];
	uint64_t g;
	uint32_t id, len, s;

	fx_start(f, all_features(f) & ~(NETBE_F_GUEST_CSUM | host_offloads));
	pattern(frame, sizeof(frame), 9);
	frame[40] = 0x12;
	frame[41] = 0x34;
	g = rx_post(f, 2048);
	fnb_inject_hdr(f->be, &csum, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	memcpy(&hdr, host(&f->rx, g, VNET_HDR_LEN), VNET_HDR_LEN);
	assert_int_equal(hdr.flags, 0);
	assert_int_equal(hdr.csum_start, 0);
	s = ref_sum(host(&f->rx, g + VNET_HDR_LEN + 34, sizeof(frame) - 34), sizeof(frame) - 34) +
	    0x1234u;
	s = (s & 0xffff) + (s >> 16);
	assert_int_equal(s, 0xffff);

	g = rx_post(f, 2048);
	fnb_inject_hdr(f->be, &valid, frame, sizeof(frame));
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	memcpy(&hdr, host(&f->rx, g, VNET_HDR_LEN), VNET_HDR_LEN);
	assert_int_equal(hdr.flags, 0);

	rx_post(f, 2048);
	fnb_inject_hdr(f->be, &gso, frame, sizeof(frame));
	fnb_inject_hdr(f->be, &outside, frame, sizeof(frame));
	vnet_process(f->n);
	assert_false(rh_get_used(&f->rx, &id, &len)); /* the buffer is still free */
	assert_int_equal(stats(f).rx_dropped_offload, 2);
	assert_int_equal(stats(f).rx_queued, 0);
	/* ...and the next frame takes it. */
	fnb_inject_hdr(f->be, &valid, frame, 60);
	vnet_process(f->n);
	used(&f->rx, &id, &len);
	assert_int_equal(len, VNET_HDR_LEN + 60);
	assert_int_equal(stats(f).rx_frames, 3);
}

#define T(fn)  cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TO(fn) cmocka_unit_test_setup_teardown(fn, setup_offloads, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_tx_good),
		T(test_tx_csum),
		T(test_tx_csum_not_negotiated),
		T(test_tx_malformed),
		T(test_tx_backend_refuses),
		T(test_tx_many),
		T(test_rx_no_mrg),
		T(test_rx_mrg),
		T(test_rx_mrg_waits),
		T(test_rx_bad_buffers),
		T(test_rx_flood_without_buffers),
		T(test_rx_idle_and_oversize),
		T(test_rx_broken_ring),
		T(test_reset_restart),
		T(test_worker_kick),
		T(test_config),
		TO(test_offload_features),
		TO(test_tx_tso),
		TO(test_tx_tso_refused),
		TO(test_tx_tso_not_negotiated),
		TO(test_rx_tso),
		TO(test_rx_offloads_not_negotiated),
		cmocka_unit_test(test_mac_from_seed),
		cmocka_unit_test(test_create_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
