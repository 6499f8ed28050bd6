// SPDX-License-Identifier: MIT
/*
 * Unit tests for the tap backend (src/net/tap.c) on a stand-in tap: one end
 * of a SOCK_SEQPACKET socketpair, which keeps frame boundaries as a tap
 * does. The test holds the other end, as the host's side of the tap:
 * what the guest sends must arrive there behind a 12-byte virtio-net
 * header (zeros, or the offload header the device gave); what the host
 * writes must reach the device with its header split off (offloads are
 * the device's to check); frames too short to hold a header and an
 * Ethernet header are dropped and counted; the backend stops reading while the
 * device has no room and starts again on rx_resume; and a tap that goes
 * away fails the backend once, without taking anything else down.
 *
 * Waits are on events (a semaphore the device's stand-in posts) with a
 * hang guard, never on time.
 */
#include <errno.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/virtio_net.h>

#include "hostel/log.h"
#include "net/tap.h"

#define HDR	   12
#define GUARD_S	   10 /* hang guard of every wait */
#define MAX_FRAMES 16

/* The device's side, as virtio-net would connect it. */
struct peer {
	sem_t got;   /* posted per frame received */
	sem_t asked; /* posted per can_rx call */
	bool can;    /* atomic: what can_rx answers */
	unsigned int n;
	size_t len[MAX_FRAMES];
	struct netbe_hdr hdr[MAX_FRAMES];
	uint8_t frame[MAX_FRAMES][2048];
};

struct fx {
	int host;    /* the test's end: the host side of the tap */
	int tap_end; /* the backend's end */
	struct netbe *be;
	struct peer peer;
};

static FILE *devnull;

static void peer_rx(void *opaque, const struct netbe_hdr *hdr, const void *frame, size_t len)
{
	struct peer *p = opaque;

	/* A tap always has a header: a frame without one is not recorded (the test fails). */
	if (hdr && p->n < MAX_FRAMES && len <= sizeof(p->frame[0])) {
		memcpy(p->frame[p->n], frame, len);
		p->len[p->n] = len;
		p->hdr[p->n] = *hdr;
	}
	p->n++;
	sem_post(&p->got);
}

static bool peer_can_rx(void *opaque)
{
	struct peer *p = opaque;
	bool can = __atomic_load_n(&p->can, __ATOMIC_SEQ_CST);

	sem_post(&p->asked);
	return can;
}

/* Wait for one post of @s, failing the test after GUARD_S seconds. */
static void wait_sem(sem_t *s, const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += GUARD_S;
	while (sem_timedwait(s, &ts) < 0) {
		if (errno == EINTR)
			continue;
		fail_msg("waited %d s for %s", GUARD_S, what);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	f->host = sv[0];
	f->tap_end = sv[1];
	sem_init(&f->peer.got, 0, 0);
	sem_init(&f->peer.asked, 0, 0);
	f->peer.can = true;
	f->be = net_tap_create_fd(f->tap_end, "tst0");
	assert_non_null(f->be);
	netbe_connect(f->be, &(struct netbe_peer){
				     .rx = peer_rx, .can_rx = peer_can_rx, .opaque = &f->peer});
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	netbe_destroy(f->be); /* closes tap_end */
	if (f->host >= 0)
		close(f->host);
	sem_destroy(&f->peer.got);
	sem_destroy(&f->peer.asked);
	free(f);
	return 0;
}

/* A frame of @len bytes: a broadcast Ethernet header and a counting payload. */
static void make_frame(uint8_t *p, size_t len, uint8_t seed)
{
	memset(p, 0xff, 6);
	for (size_t i = 6; i < len; i++)
		p[i] = (uint8_t)(seed + i);
}

/* The host writes @hdr + @frame[0..len) into the tap. */
static void host_write(struct fx *f, const struct virtio_net_hdr_v1 *hdr, const uint8_t *frame,
		       size_t len)
{
	uint8_t buf[HDR + 2048];

	memcpy(buf, hdr, HDR);
	memcpy(buf + HDR, frame, len);
	assert_int_equal(write(f->host, buf, HDR + len), (ssize_t)(HDR + len));
}

static void test_send(void **state)
{
	struct fx *f = *state;
	uint8_t frame[1514], got[HDR + 1600];
	struct net_tap_stats st;
	static const uint8_t zero[HDR];

	make_frame(frame, sizeof(frame), 3);
	assert_int_equal(netbe_send(f->be, frame, sizeof(frame)), 0);
	make_frame(frame, 60, 9);
	assert_int_equal(netbe_send(f->be, frame, 60), 0);

	/* Each frame arrives whole, behind a header of zeros (no offloads). */
	assert_int_equal(read(f->host, got, sizeof(got)), HDR + 1514);
	assert_memory_equal(got, zero, HDR);
	make_frame(frame, sizeof(frame), 3);
	assert_memory_equal(got + HDR, frame, 1514);
	assert_int_equal(read(f->host, got, sizeof(got)), HDR + 60);
	assert_memory_equal(got, zero, HDR);
	make_frame(frame, 60, 9);
	assert_memory_equal(got + HDR, frame, 60);
	net_tap_get_stats(f->be, &st);
	assert_int_equal(st.tx_frames, 2);
	assert_int_equal(st.tx_dropped, 0);
	assert_false(st.failed);
}

static void test_receive(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {.gso_type = VIRTIO_NET_HDR_GSO_NONE};
	uint8_t frame[1514];
	struct net_tap_stats st;

	assert_int_equal(netbe_start(f->be), 0);
	make_frame(frame, sizeof(frame), 5);
	host_write(f, &hdr, frame, sizeof(frame));
	make_frame(frame, 42, 7);
	host_write(f, &hdr, frame, 42);
	wait_sem(&f->peer.got, "the first frame");
	wait_sem(&f->peer.got, "the second frame");

	/* The device gets the frames without the header, in order. */
	assert_int_equal(f->peer.n, 2);
	assert_int_equal(f->peer.len[0], 1514);
	make_frame(frame, sizeof(frame), 5);
	assert_memory_equal(f->peer.frame[0], frame, 1514);
	assert_int_equal(f->peer.len[1], 42);
	make_frame(frame, 42, 7);
	assert_memory_equal(f->peer.frame[1], frame, 42);
	net_tap_get_stats(f->be, &st);
	assert_int_equal(st.rx_frames, 2);
	assert_int_equal(st.rx_dropped, 0);
}

/*
 * Too short for a header and an Ethernet header: dropped. Offload headers
 * (a TCP segment, a partial checksum) go to the device as they came, for
 * it to check against what the guest negotiated.
 */
static void test_receive_offloads_and_short(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 good = {.gso_type = VIRTIO_NET_HDR_GSO_NONE};
	struct virtio_net_hdr_v1 gso = {.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .gso_size = 1448};
	struct virtio_net_hdr_v1 csum = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
	uint8_t frame[1514], tiny[HDR + 13] = {0};
	struct net_tap_stats st;

	assert_int_equal(netbe_start(f->be), 0);
	make_frame(frame, sizeof(frame), 1);
	assert_int_equal(write(f->host, tiny, sizeof(tiny)), sizeof(tiny)); /* no Ethernet header */
	assert_int_equal(write(f->host, tiny, 4), 4);			    /* not even a header */
	host_write(f, &gso, frame, sizeof(frame));
	host_write(f, &csum, frame, sizeof(frame));
	host_write(f, &good, frame, 100);
	for (int i = 0; i < 3; i++)
		wait_sem(&f->peer.got, "a frame");

	assert_int_equal(f->peer.n, 3);
	assert_int_equal(f->peer.hdr[0].gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	assert_int_equal(f->peer.hdr[0].gso_size, 1448);
	assert_int_equal(f->peer.len[0], 1514);
	assert_int_equal(f->peer.hdr[1].flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	assert_int_equal(f->peer.hdr[1].csum_start, 34);
	assert_int_equal(f->peer.hdr[1].csum_offset, 16);
	assert_int_equal(f->peer.len[2], 100);
	assert_int_equal(f->peer.hdr[2].flags, 0);
	net_tap_get_stats(f->be, &st);
	assert_int_equal(st.rx_frames, 3);
	assert_int_equal(st.rx_dropped, 2);
}

/* With offloads, the device's header goes to the kernel in front of the frame, unchanged. */
static void test_send_hdr(void **state)
{
	struct fx *f = *state;
	struct netbe_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
			      .gso_type = VIRTIO_NET_HDR_GSO_TCPV6,
			      .hdr_len = 74,
			      .gso_size = 1428,
			      .csum_start = 54,
			      .csum_offset = 16};
	uint8_t frame[1600], got[HDR + 1700];
	struct net_tap_stats st;

	assert_true(netbe_has_offloads(f->be));
	assert_int_equal(f->be->ops->offloads & NETBE_F_HOST_TSO6, NETBE_F_HOST_TSO6);
	make_frame(frame, sizeof(frame), 8);
	assert_int_equal(f->be->ops->send_hdr(f->be, &h, frame, sizeof(frame)), 0);
	assert_int_equal(read(f->host, got, sizeof(got)), HDR + sizeof(frame));
	assert_memory_equal(got, &h, HDR);
	assert_memory_equal(got + HDR, frame, sizeof(frame));
	net_tap_get_stats(f->be, &st);
	assert_int_equal(st.tx_frames, 1);
	/* Not a tap: the kernel's TUNSETOFFLOAD is refused, and said so. */
	assert_true(netbe_set_rx_offloads(f->be, NETBE_F_GUEST_ALL) < 0);
}

/* No room in the device: the frame stays in the tap until rx_resume finds room. */
static void test_backpressure(void **state)
{
	struct fx *f = *state;
	struct virtio_net_hdr_v1 hdr = {.gso_type = VIRTIO_NET_HDR_GSO_NONE};
	uint8_t frame[200], peek[HDR + 200];

	__atomic_store_n(&f->peer.can, false, __ATOMIC_SEQ_CST);
	assert_int_equal(netbe_start(f->be), 0);
	wait_sem(&f->peer.asked, "the first can_rx");
	make_frame(frame, sizeof(frame), 2);
	host_write(f, &hdr, frame, sizeof(frame));
	/* A resume while there is still no room: the thread asks again, reads nothing. */
	netbe_rx_resume(f->be);
	wait_sem(&f->peer.asked, "can_rx after the first resume");
	assert_int_equal(f->peer.n, 0);
	assert_int_equal(recv(f->tap_end, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT), HDR + 200);

	__atomic_store_n(&f->peer.can, true, __ATOMIC_SEQ_CST);
	netbe_rx_resume(f->be);
	wait_sem(&f->peer.got, "the frame after room was made");
	assert_int_equal(f->peer.n, 1);
	assert_memory_equal(f->peer.frame[0], frame, sizeof(frame));
}

/* The host side closes under a sender: one failure, then every frame is refused. */
static void test_gone_on_send(void **state)
{
	struct fx *f = *state;
	uint8_t frame[64];
	struct net_tap_stats st;
	char *logbuf = NULL;
	size_t loglen = 0;
	FILE *logf = open_memstream(&logbuf, &loglen);

	assert_non_null(logf);
	log_set_file(logf);
	make_frame(frame, sizeof(frame), 4);
	close(f->host);
	f->host = -1;
	assert_int_equal(netbe_send(f->be, frame, sizeof(frame)), -ENODEV);
	assert_int_equal(netbe_send(f->be, frame, sizeof(frame)), -ENODEV);
	net_tap_get_stats(f->be, &st);
	assert_true(st.failed);
	assert_int_equal(st.tx_frames, 0);
	log_set_file(devnull);
	fclose(logf);
	/* One line for the NIC, however many frames came after. */
	assert_non_null(strstr(logbuf, "net tap tst0: "));
	assert_non_null(strstr(logbuf, "this NIC is disconnected, the VM goes on"));
	assert_ptr_equal(strchr(logbuf, '\n'), logbuf + loglen - 1);
	free(logbuf);
}

/*
 * The host side goes away while the thread waits for frames: the thread
 * sees it (hang-up / end of file), fails the backend and stops; destroy
 * still works. Waited for through the stats, bounded.
 */
static void test_gone_on_read(void **state)
{
	struct fx *f = *state;
	struct net_tap_stats st = {0};
	uint8_t frame[64];

	assert_int_equal(netbe_start(f->be), 0);
	wait_sem(&f->peer.asked, "the thread's first can_rx");
	close(f->host);
	f->host = -1;
	for (int i = 0; i < GUARD_S * 1000 && !st.failed; i++) {
		net_tap_get_stats(f->be, &st);
		if (!st.failed)
			usleep(1000); /* polling a condition, bounded: not a timing assertion */
	}
	assert_true(st.failed);
	make_frame(frame, sizeof(frame), 4);
	assert_int_equal(netbe_send(f->be, frame, sizeof(frame)), -ENODEV);
}

static void test_create_bad_args(void **state)
{
	(void)state;
	assert_null(net_tap_create_fd(-1, "x"));
	assert_null(net_tap_create_fd(0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_receive_offloads_and_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_hdr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_on_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gone_on_read, setup, teardown),
		cmocka_unit_test(test_create_bad_args),
	};

	/* A write to a closed socketpair must fail with EPIPE, as hostel's main does. */
	signal(SIGPIPE, SIG_IGN);
	devnull = fopen("/dev/null", "w");
	log_set_file(devnull);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
