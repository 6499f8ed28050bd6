// SPDX-License-Identifier: MIT
/*
 * Unit tests for the virtio-input tablet (devices/virtio/input/input.c):
 * the configuration space for every selector, the byte encoding of events
 * in guest buffers, the host queue (buffering while the driver has posted
 * nothing, coalescing, whole-report drops on overflow), hostile buffers on
 * both queues, broken rings, reset, and the display sinks.
 *
 * Queues are real virtqueues over fake guest RAM driven by the ring
 * harness (one harness per queue). Delivery is checked after
 * vinput_process() (what the worker does on a kick), so the results do not
 * depend on the worker's timing; one test goes through a real kick and
 * waits on the interrupt eventfd, with a bound.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
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
#include <linux/input.h>
#include <linux/virtio_input.h>

#include "fake_irq.h"
#include "hostel/display.h"
#include "hostel/log.h"
#include "i8042/i8042.h"
#include "ring_harness.h"
#include "virtio/input/input.h"

#define EVQ_SIZE 256
#define STQ_SIZE 16

struct fx {
	struct ring_harness ev, st;
	struct virtq evq, stq;
	int ev_kick, st_kick, irq;
	unsigned int resets;
	struct vinput *v;
	uint64_t buf_gpa[EVQ_SIZE]; /* eventq buffer of each head */
};

static FILE *devnull;

/* Harness RAM that must exist. */
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
	uint64_t one = 1;

	if (write(f->irq, &one, 8) != 8)
		abort();
}

static void on_needs_reset(void *opaque)
{
	struct fx *f = opaque;

	__atomic_fetch_add(&f->resets, 1, __ATOMIC_SEQ_CST);
}

static void fx_queues(struct fx *f)
{
	struct virtq_config c;

	assert_int_equal(rh_init(&f->ev, EVQ_SIZE, RH_DEFAULT_RAM), 0);
	assert_int_equal(rh_init(&f->st, STQ_SIZE, RH_DEFAULT_RAM), 0);
	f->ev.event_idx = f->st.event_idx = true;
	c = rh_config(&f->ev);
	assert_int_equal(virtq_init(&f->evq, &f->ev.gm, &c), 0);
	c = rh_config(&f->st);
	assert_int_equal(virtq_init(&f->stq, &f->st.gm, &c), 0);
}

static void fx_start(struct fx *f)
{
	struct vinput_queue_cb cb = {
		.notify = on_notify, .needs_reset = on_needs_reset, .opaque = f};

	assert_int_equal(vinput_start(f->v, VINPUT_EVENT_QUEUE, &f->evq, f->ev_kick, &cb), 0);
	assert_int_equal(vinput_start(f->v, VINPUT_STATUS_QUEUE, &f->stq, f->st_kick, &cb), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	devnull = fopen("/dev/null", "w");
	log_set_file(devnull); /* rejected buffers are logged */
	fx_queues(f);
	f->ev_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->st_kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->irq = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->v = vinput_create();
	if (f->ev_kick < 0 || f->st_kick < 0 || f->irq < 0 || !f->v)
		return -1;
	vinput_set_features(f->v, vinput_features(f->v));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vinput_destroy(f->v);
	close(f->ev_kick);
	close(f->st_kick);
	close(f->irq);
	rh_fini(&f->ev);
	rh_fini(&f->st);
	free(f);
	log_set_file(NULL);
	fclose(devnull);
	return 0;
}

static struct vinput_stats stats(struct fx *f)
{
	struct vinput_stats st;

	vinput_get_stats(f->v, &st);
	return st;
}

/* ---- config ------------------------------------------------------------------ */

static void cfg_select(struct fx *f, uint8_t sel, uint8_t sub)
{
	vinput_config_write(f->v, 0, &sel, 1);
	vinput_config_write(f->v, 1, &sub, 1);
}

/* Select, then check size and the whole union against @want (@n bytes, rest 0). */
static void cfg_expect(struct fx *f, uint8_t sel, uint8_t sub, const void *want, size_t n)
{
	struct virtio_input_config c;
	uint8_t size;

	cfg_select(f, sel, sub);
	vinput_config_read(f->v, 2, &size, 1);
	assert_int_equal(size, n);
	memset(&c, 0xa5, sizeof(c));
	vinput_config_read(f->v, 0, &c, sizeof(c));
	assert_int_equal(c.select, sel);
	assert_int_equal(c.subsel, sub);
	assert_int_equal(c.size, n);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(c.reserved[i], 0);
	if (n)
		assert_memory_equal(c.u.bitmap, want, n);
	for (size_t i = n; i < sizeof(c.u); i++)
		assert_int_equal(c.u.bitmap[i], 0);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	const uint8_t ids[] = {0x06, 0x00, 0x54, 0x48, 0x01, 0x00, 0x01, 0x00};
	const uint8_t one[] = {0x01}, abs_bits[] = {0x03};
	const uint8_t absinfo[20] = {0, 0, 0, 0, 0xff, 0x7f, 0, 0};
	uint8_t keys[BTN_MIDDLE / 8 + 1] = {0};
	uint8_t buf[16];

	assert_int_equal(vinput_config_size(), 136);
	keys[BTN_LEFT / 8] = 0x07; /* BTN_LEFT, BTN_RIGHT, BTN_MIDDLE: 0x110..0x112 */
	cfg_expect(f, VIRTIO_INPUT_CFG_ID_NAME, 0, "hostel tablet", 13);
	cfg_expect(f, VIRTIO_INPUT_CFG_ID_SERIAL, 0, "hostel-tablet-0", 15);
	cfg_expect(f, VIRTIO_INPUT_CFG_ID_DEVIDS, 0, ids, sizeof(ids));
	cfg_expect(f, VIRTIO_INPUT_CFG_PROP_BITS, 0, one, 1); /* INPUT_PROP_POINTER */
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, EV_SYN, one, 1);
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY, keys, sizeof(keys));
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, abs_bits, 1);
	cfg_expect(f, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X, absinfo, sizeof(absinfo));
	cfg_expect(f, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Y, absinfo, sizeof(absinfo));

	/* Everything else: size 0, union all zero. */
	cfg_expect(f, VIRTIO_INPUT_CFG_UNSET, 0, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_ID_NAME, 1, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_ID_DEVIDS, 7, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_PROP_BITS, 1, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, EV_REL, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, EV_LED, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, 0xff, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_ABS_INFO, ABS_Z, NULL, 0);
	cfg_expect(f, VIRTIO_INPUT_CFG_ABS_INFO, 0xff, NULL, 0);
	cfg_expect(f, 0x04, 0, NULL, 0);
	cfg_expect(f, 0x13, 0, NULL, 0);
	cfg_expect(f, 0xff, 0xff, NULL, 0);

	/* Partial and out-of-range reads. */
	cfg_select(f, VIRTIO_INPUT_CFG_ID_NAME, 0);
	memset(buf, 0xa5, sizeof(buf));
	vinput_config_read(f->v, 8 + 7, buf, 6);
	assert_memory_equal(buf, "tablet", 6);
	memset(buf, 0xa5, sizeof(buf));
	vinput_config_read(f->v, 134, buf, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(buf[i], 0);
	memset(buf, 0xa5, sizeof(buf));
	vinput_config_read(f->v, UINT64_MAX, buf, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[i], 0);

	/* One 2-byte write sets both. */
	buf[0] = VIRTIO_INPUT_CFG_EV_BITS;
	buf[1] = EV_ABS;
	vinput_config_write(f->v, 0, buf, 2);
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, abs_bits, 1);
	assert_int_equal(stats(f).config_bad, 0);

	/* Writes to read-only fields, wider writes, far offsets: ignored, counted. */
	memset(buf, 0x11, sizeof(buf));
	vinput_config_write(f->v, 2, buf, 1);	       /* size */
	vinput_config_write(f->v, 3, buf, 1);	       /* reserved */
	vinput_config_write(f->v, 8, buf, 4);	       /* union */
	vinput_config_write(f->v, 0, buf, 4);	       /* select + subsel + size */
	vinput_config_write(f->v, 1, buf, 2);	       /* subsel + size */
	vinput_config_write(f->v, 200, buf, 1);	       /* past the structure */
	vinput_config_write(f->v, UINT64_MAX, buf, 1); /* wraps */
	vinput_config_write(f->v, 0, buf, 0);	       /* empty */
	assert_int_equal(stats(f).config_bad, 8);
	cfg_expect(f, VIRTIO_INPUT_CFG_EV_BITS, EV_ABS, abs_bits, 1);
}

/* ---- events ------------------------------------------------------------------ */

/* Post @n event buffers of @len bytes each (device-writable). */
static void post(struct fx *f, unsigned int n, uint32_t len)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = rh_alloc(&f->ev, len);
		struct rh_buf b = {gpa, len, true};
		uint16_t head;

		assert_true(gpa != 0);
		head = rh_submit(&f->ev, &b, 1);
		assert_true(head != RH_NO_HEAD);
		f->buf_gpa[head] = gpa;
	}
}

struct ev {
	uint16_t type, code;
	uint32_t value;
};

/* The next completed buffer must hold @want, byte for byte (little-endian). */
static void expect_event(struct fx *f, uint16_t type, uint16_t code, uint32_t value)
{
	uint8_t want[8] = {(uint8_t)type,	   (uint8_t)(type >> 8),  (uint8_t)code,
			   (uint8_t)(code >> 8),   (uint8_t)value,	  (uint8_t)(value >> 8),
			   (uint8_t)(value >> 16), (uint8_t)(value >> 24)};
	uint32_t id = 0, len = 0;

	assert_true(rh_get_used(&f->ev, &id, &len));
	assert_true(id < EVQ_SIZE);
	assert_int_equal(len, 8);
	assert_memory_equal(host(&f->ev, f->buf_gpa[id], 8), want, 8);
}

static void expect_rejected(struct fx *f)
{
	uint32_t id = 0, len = 0;

	assert_true(rh_get_used(&f->ev, &id, &len));
	assert_int_equal(len, 0);
}

static void expect_none(struct fx *f)
{
	uint32_t id = 0, len = 0;

	assert_false(rh_get_used(&f->ev, &id, &len));
}

static bool irq_pending(struct fx *f)
{
	uint64_t v;

	return read(f->irq, &v, sizeof(v)) == sizeof(v);
}

static void test_event_encoding(void **state)
{
	struct fx *f = *state;
	const uint8_t first[8] = {0x03, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00};

	fx_start(f);
	post(f, 32, 8);
	vinput_process(f->v);
	expect_none(f);
	(void)irq_pending(f);

	vinput_tablet_event(f->v, 100, 0x12345, DISPLAY_BTN_LEFT);
	/* Delivered at once (buffers were there), with an interrupt. */
	assert_true(irq_pending(f));
	expect_event(f, EV_ABS, ABS_X, 100);
	assert_memory_equal(host(&f->ev, f->buf_gpa[0], 8), first, 8);
	expect_event(f, EV_ABS, ABS_Y, DISPLAY_ABS_MAX); /* clamped */
	expect_event(f, EV_KEY, BTN_LEFT, 1);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	expect_none(f);

	/* Same state again: no report. */
	vinput_tablet_event(f->v, 100, 40000, DISPLAY_BTN_LEFT | 0x100);
	expect_none(f);
	/* Release left, press right and middle: keys in code order. */
	vinput_tablet_event(f->v, 7, 8, DISPLAY_BTN_RIGHT | DISPLAY_BTN_MIDDLE);
	expect_event(f, EV_ABS, ABS_X, 7);
	expect_event(f, EV_ABS, ABS_Y, 8);
	expect_event(f, EV_KEY, BTN_LEFT, 0);
	expect_event(f, EV_KEY, BTN_RIGHT, 1);
	expect_event(f, EV_KEY, BTN_MIDDLE, 1);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	/* Motion only. */
	vinput_tablet_event(f->v, 32767, 0, DISPLAY_BTN_RIGHT | DISPLAY_BTN_MIDDLE);
	expect_event(f, EV_ABS, ABS_X, 32767);
	expect_event(f, EV_ABS, ABS_Y, 0);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	expect_none(f);
	assert_int_equal(stats(f).reports, 3);
	assert_int_equal(stats(f).events, 13);
}

static void test_buffering(void **state)
{
	struct fx *f = *state;

	fx_start(f);
	/* No buffers posted: everything waits in the host queue. */
	vinput_tablet_event(f->v, 1, 1, DISPLAY_BTN_LEFT);
	vinput_tablet_event(f->v, 2, 2, DISPLAY_BTN_LEFT);
	vinput_tablet_event(f->v, 3, 3, DISPLAY_BTN_LEFT); /* coalesced into (2, 2) */
	vinput_process(f->v);
	expect_none(f);
	assert_int_equal(stats(f).reports, 2);
	assert_int_equal(stats(f).coalesced, 1);

	/* Three buffers: the first report goes out partly, the rest waits. */
	post(f, 3, 8);
	vinput_process(f->v);
	expect_event(f, EV_ABS, ABS_X, 1);
	expect_event(f, EV_ABS, ABS_Y, 1);
	expect_event(f, EV_KEY, BTN_LEFT, 1);
	expect_none(f);
	/* The queued motion report has not started: still coalesced. */
	vinput_tablet_event(f->v, 4, 4, DISPLAY_BTN_LEFT);
	assert_int_equal(stats(f).coalesced, 2);
	post(f, 2, 8);
	vinput_process(f->v);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	expect_event(f, EV_ABS, ABS_X, 4);
	expect_none(f);
	/* Half delivered: the next motion is a report of its own. */
	vinput_tablet_event(f->v, 5, 5, DISPLAY_BTN_LEFT);
	assert_int_equal(stats(f).coalesced, 2);
	post(f, 8, 8);
	vinput_process(f->v);
	expect_event(f, EV_ABS, ABS_Y, 4);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	expect_event(f, EV_ABS, ABS_X, 5);
	expect_event(f, EV_ABS, ABS_Y, 5);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	expect_none(f);
	assert_int_equal(stats(f).dropped_reports, 0);
}

/* The worker serves a kick on its own: wait on the interrupt, bounded. */
static void test_kick(void **state)
{
	struct fx *f = *state;
	struct pollfd p = {.fd = f->irq, .events = POLLIN};
	uint64_t one = 1;

	fx_start(f);
	vinput_tablet_event(f->v, 9, 9, 0);
	post(f, 3, 8);
	assert_int_equal(write(f->ev_kick, &one, 8), 8);
	for (int i = 0; i < 100 && rh_used_idx(&f->ev) != 3; i++) {
		assert_int_equal(poll(&p, 1, 10000), 1);
		(void)irq_pending(f);
	}
	expect_event(f, EV_ABS, ABS_X, 9);
	expect_event(f, EV_ABS, ABS_Y, 9);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
}

static void test_overflow(void **state)
{
	struct fx *f = *state;
	unsigned int n = 0, reports = 0;
	uint32_t b = 0;

	fx_start(f);
	/* Reports of 4 events (one button toggles each time): 63 of them, 252 events. */
	for (int i = 0; i < 63; i++) {
		b ^= DISPLAY_BTN_LEFT;
		vinput_tablet_event(f->v, (uint32_t)i, 0, b);
	}
	/* A motion report (3): 255 events; the next report (4) does not fit whole. */
	vinput_tablet_event(f->v, 1000, 1000, b);
	vinput_tablet_event(f->v, 1001, 1001, b ^ DISPLAY_BTN_RIGHT);
	assert_int_equal(stats(f).dropped_reports, 1);
	/* Motion still coalesces into the queued motion report. */
	vinput_tablet_event(f->v, 1002, 1002, b);
	assert_int_equal(stats(f).coalesced, 1);
	assert_int_equal(stats(f).reports, 64);

	/* Drain: 255 events, whole reports only, the last one the coalesced motion. */
	for (int round = 0; round < 2; round++) {
		post(f, 128, 8);
		vinput_process(f->v);
		while (rh_used_idx(&f->ev) != f->ev.last_used) {
			uint32_t id = 0, len = 0;
			uint16_t type;

			assert_true(rh_get_used(&f->ev, &id, &len));
			assert_int_equal(len, 8);
			memcpy(&type, host(&f->ev, f->buf_gpa[id], 2), sizeof(type));
			type = le16toh(type);
			n++;
			reports += type == EV_SYN;
		}
	}
	assert_int_equal(n, 255);
	assert_int_equal(reports, 64);
	/* The dropped button change is sent with the next report. */
	post(f, 8, 8);
	vinput_tablet_event(f->v, 5, 5, b | DISPLAY_BTN_RIGHT);
	vinput_process(f->v);
	/* 1 buffer left from the drain rounds; it takes X. */
	expect_event(f, EV_ABS, ABS_X, 5);
	expect_event(f, EV_ABS, ABS_Y, 5);
	expect_event(f, EV_KEY, BTN_RIGHT, 1);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	expect_none(f);
}

static void test_bad_buffers(void **state)
{
	struct fx *f = *state;
	uint64_t ro = rh_alloc(&f->ev, 8), small = rh_alloc(&f->ev, 4);
	uint64_t a = rh_alloc(&f->ev, 4), c = rh_alloc(&f->ev, 4), good = rh_alloc(&f->ev, 8);
	struct rh_buf mixed[] = {{ro, 8, false}, {good, 8, true}};
	struct rh_buf split[] = {{a, 4, true}, {c, 4, true}};
	uint16_t head;

	fx_start(f);
	vinput_tablet_event(f->v, 41, 42, 0);
	/* Read-only, too small, mixed, outside guest RAM, wrapping: all completed with 0. */
	rh_submit(&f->ev, &(struct rh_buf){ro, 8, false}, 1);
	rh_submit(&f->ev, &(struct rh_buf){small, 4, true}, 1);
	rh_submit(&f->ev, mixed, 2);
	rh_submit(&f->ev, &(struct rh_buf){0x1000, 8, true}, 1);
	rh_submit(&f->ev, &(struct rh_buf){UINT64_MAX - 3, 8, true}, 1);
	rh_submit(&f->ev, &(struct rh_buf){RH_RAM_GPA + RH_DEFAULT_RAM - 4, 8, true}, 1);
	vinput_process(f->v);
	for (int i = 0; i < 6; i++)
		expect_rejected(f);
	expect_none(f);
	assert_int_equal(stats(f).bad_buffers, 6);
	assert_int_equal(stats(f).events, 0);
	/* An event split over two writable buffers is fine. */
	rh_submit(&f->ev, split, 2);
	head = rh_submit(&f->ev, &(struct rh_buf){good, 8, true}, 1);
	f->buf_gpa[head] = good;
	vinput_process(f->v);
	{
		const uint8_t x_lo[4] = {0x03, 0x00, 0x00, 0x00}, x_hi[4] = {0x29, 0, 0, 0};
		uint32_t id = 0, len = 0;

		assert_true(rh_get_used(&f->ev, &id, &len));
		assert_int_equal(len, 8);
		assert_memory_equal(host(&f->ev, a, 4), x_lo, 4);
		assert_memory_equal(host(&f->ev, c, 4), x_hi, 4);
	}
	expect_event(f, EV_ABS, ABS_Y, 42);
	vinput_tablet_event(f->v, 41, 42, 0);
	assert_int_equal(stats(f).events, 2);

	/* statusq: readable buffers are consumed; writable ones are bad. */
	uint64_t s1 = rh_alloc(&f->st, 8), s2 = rh_alloc(&f->st, 8), s3 = rh_alloc(&f->st, 4);
	uint32_t id = 0, len = 0;
	uint8_t led[8] = {EV_LED, 0, LED_CAPSL, 0, 1, 0, 0, 0};

	memcpy(host(&f->st, s1, 8), led, 8);
	rh_submit(&f->st, &(struct rh_buf){s1, 8, false}, 1);
	rh_submit(&f->st, &(struct rh_buf){s2, 8, true}, 1);
	rh_submit(&f->st, &(struct rh_buf){s3, 4, false}, 1);
	rh_submit(&f->st, &(struct rh_buf){0x1000, 8, false}, 1);
	vinput_process(f->v);
	for (int i = 0; i < 4; i++) {
		assert_true(rh_get_used(&f->st, &id, &len));
		assert_int_equal(len, 0);
	}
	assert_false(rh_get_used(&f->st, &id, &len));
	assert_int_equal(stats(f).status_events, 1);
	assert_int_equal(stats(f).bad_buffers, 9);
	assert_int_equal(f->resets, 0);
}

static void test_broken_ring(void **state)
{
	struct fx *f = *state;

	fx_start(f);
	vinput_tablet_event(f->v, 1, 1, 0);
	/* avail->idx far ahead of what the ring holds: broken, never a crash. */
	rh_set_avail_idx(&f->ev, (uint16_t)(EVQ_SIZE * 4));
	vinput_process(f->v);
	assert_int_equal(__atomic_load_n(&f->resets, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(stats(f).broken, 1);
	/* Nothing more happens on it until reset. */
	vinput_tablet_event(f->v, 2, 2, 0);
	vinput_process(f->v);
	assert_int_equal(stats(f).broken, 1);
	assert_int_equal(stats(f).events, 0);
	vinput_stop(f->v);
}

static void test_reset(void **state)
{
	struct fx *f = *state;

	/* Before DRIVER_OK: dropped. */
	vinput_tablet_event(f->v, 1, 1, DISPLAY_BTN_LEFT);
	assert_int_equal(stats(f).dropped_idle, 1);
	fx_start(f);
	assert_int_equal(vinput_start(f->v, VINPUT_EVENT_QUEUE, &f->evq, f->ev_kick, NULL), -EBUSY);
	assert_int_equal(vinput_start(f->v, 2, &f->evq, f->ev_kick, NULL), -EINVAL);
	vinput_tablet_event(f->v, 2, 2, DISPLAY_BTN_LEFT);
	cfg_select(f, VIRTIO_INPUT_CFG_ID_NAME, 0);
	vinput_stop(f->v);
	vinput_stop(f->v); /* idempotent */
	/* Stopped: dropped; the selector is back to UNSET. */
	vinput_tablet_event(f->v, 3, 3, DISPLAY_BTN_LEFT);
	assert_int_equal(stats(f).dropped_idle, 2);
	cfg_expect(f, VIRTIO_INPUT_CFG_UNSET, 0, NULL, 0);

	/* A fresh driver: nothing old arrives; buttons start released again. */
	rh_fini(&f->ev);
	rh_fini(&f->st);
	fx_queues(f);
	fx_start(f);
	post(f, 8, 8);
	vinput_process(f->v);
	expect_none(f);
	vinput_tablet_event(f->v, 4, 4, DISPLAY_BTN_LEFT);
	expect_event(f, EV_ABS, ABS_X, 4);
	expect_event(f, EV_ABS, ABS_Y, 4);
	expect_event(f, EV_KEY, BTN_LEFT, 1);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	expect_none(f);
}

/* ---- display sinks -------------------------------------------------------------- */

static uint8_t port_in(struct i8042 *k, bool data)
{
	struct dev *d = data ? i8042_data_dev(k) : i8042_cmd_dev(k);
	uint8_t v;

	d->ops->read(d, 0, &v, 1);
	return v;
}

static void port_out(struct i8042 *k, bool data, uint8_t v)
{
	struct dev *d = data ? i8042_data_dev(k) : i8042_cmd_dev(k);

	d->ops->write(d, 0, &v, 1);
}

static void test_display_sinks(void **state)
{
	struct fx *f = *state;
	struct display *d = display_create();
	struct fake_irq i1, i12;
	struct i8042 *k;
	struct display_stats ds;
	const uint8_t key[] = {0x1C};

	fake_irq_init(&i1);
	fake_irq_init(&i12);
	k = i8042_create(&i1.line, &i12.line, NULL, NULL);
	assert_non_null(d);
	assert_non_null(k);
	fx_start(f);
	post(f, 16, 8);

	/* The tablet alone: abs reaches it, keys are dropped by the display. */
	vinput_attach_display(f->v, d);
	display_input_abs(d, 10, 20, DISPLAY_BTN_LEFT);
	expect_event(f, EV_ABS, ABS_X, 10);
	expect_event(f, EV_ABS, ABS_Y, 20);
	expect_event(f, EV_KEY, BTN_LEFT, 1);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	display_input_key(d, key, 1);
	display_get_stats(d, &ds);
	assert_int_equal(ds.input_dropped, 1);

	/* Both: abs to the tablet, keys and relative motion to the i8042. */
	input_attach_display(d, f->v, k);
	display_input_abs(d, 11, 20, DISPLAY_BTN_LEFT);
	expect_event(f, EV_ABS, ABS_X, 11);
	expect_event(f, EV_ABS, ABS_Y, 20);
	expect_event(f, EV_SYN, SYN_REPORT, 0);
	display_input_key(d, key, 1);
	assert_true(i1.level);
	assert_int_equal(port_in(k, true), 0x1E); /* translated to set 1 */
	/* Enable the aux port and mouse reporting, then a relative motion. */
	port_out(k, false, 0xA8);
	port_out(k, false, 0xD4);
	port_out(k, true, 0xF4);
	assert_int_equal(port_in(k, true), 0xFA);
	display_input_rel(d, 4, 0, 0, 0); /* resolution 2: 2 counts */
	assert_int_equal(port_in(k, true), 0x08);
	assert_int_equal(port_in(k, true), 0x02);
	assert_int_equal(port_in(k, true), 0x00);
	expect_none(f);
	display_get_stats(d, &ds);
	assert_int_equal(ds.input_dropped, 1);

	/* Only the i8042 (no tablet): abs dropped by the display. */
	input_attach_display(d, NULL, k);
	display_input_abs(d, 1, 1, 0);
	display_get_stats(d, &ds);
	assert_int_equal(ds.input_dropped, 2);
	/* Only the tablet. */
	input_attach_display(d, f->v, NULL);
	display_input_rel(d, 1, 1, 0, 0);
	display_get_stats(d, &ds);
	assert_int_equal(ds.input_dropped, 3);
	display_input_abs(d, 12, 20, DISPLAY_BTN_LEFT);
	expect_event(f, EV_ABS, ABS_X, 12);
	/* Neither. */
	input_attach_display(d, NULL, NULL);
	display_input_abs(d, 1, 1, 0);
	display_get_stats(d, &ds);
	assert_int_equal(ds.input_dropped, 4);

	display_destroy(d);
	i8042_destroy(k);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_config),	     T(test_event_encoding), T(test_buffering),
		T(test_kick),	     T(test_overflow),	     T(test_bad_buffers),
		T(test_broken_ring), T(test_reset),	     T(test_display_sinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
