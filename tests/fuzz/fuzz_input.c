// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the virtio-input tablet (devices/virtio/input/input.c):
 * configuration accesses of any offset, length and value, host pointer
 * events, and both virtqueues driven by a driver (tests/fakes/ring_harness.h)
 * that posts buffers of any length and direction, outside RAM too, corrupts
 * its rings and resets the device.
 *
 * Checked:
 *  - config reads: select and subsel read back as written by byte writes,
 *    size <= 128, union bytes past size and everything past the structure
 *    read 0;
 *  - while the rings are not corrupted: every eventq completion has length
 *    0 or 8; the ones with 8 hold a well-formed event (EV_ABS X/Y with a
 *    value <= DISPLAY_ABS_MAX, EV_KEY for the three buttons with 0 or 1,
 *    EV_SYN SYN_REPORT 0); statusq completions have length 0; the ring
 *    never breaks; events delivered never exceed events queued.
 *
 * Input: byte 0: bits 0-2 eventq size 2^(b % 7), bits 3-5 statusq size,
 * bit 6 EVENT_IDX. Then operations, an opcode byte each (op % 8):
 *   0 config write: offset byte, length byte (% 5), up to 4 data bytes;
 *   1 config read: offset byte, length byte (% 17), and the checks;
 *   2 tablet event: x, y (2 bytes each, scaled up to exceed the maximum),
 *     buttons byte;
 *   3 post an eventq buffer: shape byte (bits 0-4 length, bit 5 readable,
 *     bit 6 outside RAM, bit 7 two segments);
 *   4 post a statusq buffer: same shape byte;
 *   5 process and reap both queues;
 *   6 corrupt a ring byte (2-byte offset, value);
 *   7 op >> 3 % 8 == 0: reset the device and start over on zeroed rings;
 *     otherwise serve the queues without reaping.
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
#include <linux/input.h>
#include <linux/virtio_input.h>

#include "hostel/display.h"
#include "hostel/log.h"
#include "ring_harness.h"
#include "virtio/input/input.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM 0x10000u

struct fz {
	struct ring_harness ev, st;
	struct virtq evq, stq;
	uint16_t ev_size, st_size;
	bool event_idx;
	bool tainted; /* the driver corrupted its rings: completions prove nothing */
	int kick, irq;
	struct vinput *v;
	uint8_t select, subsel; /* as last written by byte writes */
	uint64_t gpa[VIRTQ_MAX_SIZE];
};

static void on_notify(void *opaque)
{
	(void)opaque;
}

static void on_needs_reset(void *opaque)
{
	struct fz *z = opaque;

	/* Only a corrupted ring may break (may run on the worker thread). */
	CHECK(__atomic_load_n(&z->tainted, __ATOMIC_SEQ_CST));
}

static void rings_start(struct fz *z)
{
	struct virtq_config c;
	struct vinput_queue_cb cb = {
		.notify = on_notify, .needs_reset = on_needs_reset, .opaque = z};

	c = rh_config(&z->ev);
	CHECK(virtq_init(&z->evq, &z->ev.gm, &c) == 0);
	c = rh_config(&z->st);
	CHECK(virtq_init(&z->stq, &z->st.gm, &c) == 0);
	__atomic_store_n(&z->tainted, false, __ATOMIC_SEQ_CST);
	CHECK(vinput_start(z->v, VINPUT_EVENT_QUEUE, &z->evq, z->kick, &cb) == 0);
	CHECK(vinput_start(z->v, VINPUT_STATUS_QUEUE, &z->stq, z->kick, &cb) == 0);
}

/* Device reset (status 0), then the driver starts over on zeroed rings. */
static void device_reset(struct fz *z)
{
	vinput_stop(z->v);
	z->select = z->subsel = 0;
	rh_reset(&z->ev);
	rh_reset(&z->st);
	rings_start(z);
}

static void config_read(struct fz *z, struct in *in)
{
	uint8_t off = get8(in), len = get8(in) % 17, buf[16];
	struct virtio_input_config c;

	memset(buf, 0xa5, sizeof(buf));
	vinput_config_read(z->v, off, buf, len);
	vinput_config_read(z->v, 0, &c, sizeof(c));
	CHECK(c.select == z->select && c.subsel == z->subsel);
	CHECK(c.size <= sizeof(c.u));
	for (size_t i = c.size; i < sizeof(c.u); i++)
		CHECK(c.u.bitmap[i] == 0);
	for (unsigned int i = 0; i < len; i++) {
		unsigned int o = off + i;

		CHECK(buf[i] == (o < sizeof(c) ? ((const uint8_t *)&c)[o] : 0));
	}
}

static void config_write(struct fz *z, struct in *in)
{
	uint8_t off = get8(in), len = get8(in) % 5, buf[4];

	for (unsigned int i = 0; i < len; i++)
		buf[i] = get8(in);
	vinput_config_write(z->v, off, buf, len);
	if (off == 0 && len == 1) {
		z->select = buf[0];
	} else if (off == 1 && len == 1) {
		z->subsel = buf[0];
	} else if (off == 0 && len == 2) {
		z->select = buf[0];
		z->subsel = buf[1];
	}
}

static void post(struct fz *z, struct ring_harness *h, bool events, uint8_t shape)
{
	uint32_t len = shape & 31;
	bool readable = shape & 32, outside = shape & 64, two = shape & 128;
	struct rh_buf b[2];
	unsigned int n = two ? 2 : 1, inflight = (uint16_t)(h->avail_idx - h->last_used);
	uint16_t head;

	/*
	 * Descriptors are taken round-robin: post only while even chains of
	 * two cannot wrap onto live ones (the device keeps event buffers until
	 * it has events). Buffer space is reused once nothing is in flight.
	 */
	if (2 * inflight + n > h->size)
		return;
	if (!inflight)
		h->data_next = h->data_gpa;
	if (!len)
		len = 1;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gpa = outside ? RH_RAM_GPA + RAM - len / 2 : rh_alloc(h, len);

		if (!gpa)
			return;
		b[i] = (struct rh_buf){gpa, len, !readable};
	}
	if (events && !readable && !outside && n == 1) {
		/* A driver fills its buffers with junk first: the device must overwrite it. */
		memset(rh_host(h, b[0].addr, len), 0x5a, len);
	}
	head = rh_submit(h, b, n);
	if (head != RH_NO_HEAD && events)
		z->gpa[head] = (n == 1 && !outside) ? b[0].addr : 0;
}

static void check_event(const uint8_t *p)
{
	struct virtio_input_event e;

	memcpy(&e, p, sizeof(e));
	switch (le16toh(e.type)) {
	case EV_ABS:
		CHECK(le16toh(e.code) == ABS_X || le16toh(e.code) == ABS_Y);
		CHECK(le32toh(e.value) <= DISPLAY_ABS_MAX);
		break;
	case EV_KEY:
		CHECK(le16toh(e.code) >= BTN_LEFT && le16toh(e.code) <= BTN_MIDDLE);
		CHECK(le32toh(e.value) <= 1);
		break;
	case EV_SYN:
		CHECK(le16toh(e.code) == SYN_REPORT && e.value == 0);
		break;
	default:
		CHECK(false);
	}
}

static void process(struct fz *z)
{
	uint32_t id, len;

	vinput_process(z->v);
	while (rh_get_used(&z->ev, &id, &len)) {
		if (z->tainted)
			continue;
		CHECK(id < z->ev_size);
		CHECK(len == 0 || len == 8);
		if (len == 8 && z->gpa[id]) {
			const uint8_t *p = rh_host(&z->ev, z->gpa[id], 8);

			CHECK(p);
			check_event(p);
		}
	}
	while (rh_get_used(&z->st, &id, &len))
		CHECK(z->tainted || len == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool quiet;
	struct in in = {data, size};
	struct vinput_stats st;
	struct fz *z;
	uint8_t b0;

	if (!quiet) {
		log_set_file(fopen("/dev/null", "w"));
		quiet = true;
	}
	if (size < 1)
		return 0;
	z = calloc(1, sizeof(*z));
	if (!z)
		return 0;
	b0 = get8(&in);
	z->ev_size = (uint16_t)(1u << ((b0 & 7) % 7));
	z->st_size = (uint16_t)(1u << (((b0 >> 3) & 7) % 7));
	z->event_idx = b0 & 64;
	z->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	z->v = vinput_create();
	if (z->kick < 0 || !z->v || rh_init(&z->ev, z->ev_size, RAM) ||
	    rh_init(&z->st, z->st_size, RAM))
		goto out;
	z->ev.event_idx = z->st.event_idx = z->event_idx;
	rings_start(z);

	for (unsigned int ops = 0; in.n && ops < 4096; ops++) {
		uint8_t op = get8(&in);

		switch (op % 8) {
		case 0:
			config_write(z, &in);
			break;
		case 1:
			config_read(z, &in);
			break;
		case 2: {
			uint32_t x = (uint32_t)get8(&in) << 8 | get8(&in);
			uint32_t y = (uint32_t)get8(&in) << 8 | get8(&in);

			vinput_tablet_event(z->v, x * 3, y * 3, get8(&in));
			break;
		}
		case 3:
			post(z, &z->ev, true, get8(&in));
			break;
		case 4:
			post(z, &z->st, false, get8(&in));
			break;
		case 5:
			process(z);
			break;
		case 6: {
			uint16_t off = (uint16_t)(get8(&in) << 8 | get8(&in));
			uint8_t *p = rh_host(&z->ev,
					     RH_RAM_GPA + off % (z->ev.data_gpa - RH_RAM_GPA), 1);

			/* Tainted before the device can see the corruption. */
			__atomic_store_n(&z->tainted, true, __ATOMIC_SEQ_CST);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (p)
				*p = get8(&in);
			break;
		}
		case 7:
			/* Resets are rare (a thread each); otherwise just serve the queues. */
			if ((op >> 3) % 8 == 0)
				device_reset(z);
			else
				vinput_process(z->v);
			break;
		}
		/* Descriptors are reused round-robin: reap before wrapping onto live ones. */
		if (z->ev.avail_idx - z->ev.last_used >= z->ev_size ||
		    z->st.avail_idx - z->st.last_used >= z->st_size)
			process(z);
	}
	process(z);
	vinput_get_stats(z->v, &st);
	CHECK(st.events <= st.reports * 6);
out:
	vinput_destroy(z->v);
	rh_fini(&z->ev);
	rh_fini(&z->st);
	if (z->kick >= 0)
		close(z->kick);
	free(z);
	return 0;
}
