// SPDX-License-Identifier: MIT
/*
 * Unit tests for virtio-gpu (devices/virtio/gpu/gpu.c). Most tests play
 * Linux's virtio_gpu driver command by command: requests and responses
 * live in fake guest RAM and each command is one hand-built chain (request
 * readable, response writable) handed to gpu_handle_chain(), as the worker
 * does after virtq_pop(). Pixels are checked exactly in a real struct
 * display (src/ui/display.c). One test runs the worker threads over real
 * rings (tests/fakes/ring_harness.h), one the virtio-pci adapter and its
 * configuration-change interrupt.
 *
 * No sleeps: the worker test waits on the interrupt eventfd with poll()
 * and a bound.
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
#include <linux/virtio_gpu.h>
#include <linux/virtio_pci.h>

#include "fake_clock.h"
#include "fake_memslot.h"
#include "fake_msi.h"
#include "hostel/device.h"
#include "hostel/display.h"
#include "hostel/log.h"
#include "pci/pci.h"
#include "ring_harness.h"
#include "virtio/gpu/gpu.h"
#include "virtio/pci/vpci.h"

#define RAM_GPA	 0x100000ull
#define RAM_SIZE (8ull << 20)
#define NODATA	 VIRTIO_GPU_RESP_OK_NODATA
#define E_UNSPEC VIRTIO_GPU_RESP_ERR_UNSPEC
#define E_OOM	 VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY
#define E_SCAN	 VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID
#define E_RES	 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID
#define E_PARAM	 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER
#define XRGB	 VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM

static __attribute__((returns_nonnull)) void *must(void *p)
{
	if (!p) {
		fail_msg("unexpected NULL");
		abort();
	}
	return p;
}

/* ---- fake guest ------------------------------------------------------------ */

struct env {
	struct gmem gm;
	uint8_t *ram;
	uint64_t next; /* bump allocator in RAM */
	struct display *d;
	struct gpu *g;
	struct virtq_chain ch;
	unsigned int notified; /* config notifier calls */
	/* The last response. */
	struct virtio_gpu_ctrl_hdr resp;
	struct virtio_gpu_resp_display_info di;
	uint32_t written;
	int ret;
	uint32_t fence_flags; /* OR-ed into the next requests' flags */
};

static struct env *E;
static FILE *devnull;

static void *host(uint64_t gpa)
{
	return must(gmem_ptr(&E->gm, gpa, 1));
}

static uint64_t gpa_alloc(uint64_t len)
{
	uint64_t gpa = E->next;

	assert_true(len <= RAM_SIZE - (gpa - RAM_GPA));
	memset(host(gpa), 0, len);
	E->next = (gpa + len + 15) & ~15ull;
	return gpa;
}

static void on_config(void *opaque)
{
	((struct env *)opaque)->notified++;
}

static struct env *env_new(const struct gpu_opts *o, bool with_display)
{
	struct env *e = must(calloc(1, sizeof(*e)));

	e->ram = must(aligned_alloc(4096, RAM_SIZE));
	memset(e->ram, 0, RAM_SIZE);
	assert_int_equal(gmem_add(&e->gm, RAM_GPA, RAM_SIZE, e->ram), 0);
	e->next = RAM_GPA;
	if (with_display)
		e->d = must(display_create());
	e->g = must(gpu_create(&e->gm, e->d, o));
	gpu_set_config_notify(e->g, on_config, e);
	return e;
}

static void env_free(struct env *e)
{
	gpu_destroy(e->g);
	display_destroy(e->d);
	free(e->ram);
	free(e);
}

static int setup(void **state)
{
	(void)state;
	devnull = must(fopen("/dev/null", "w"));
	log_set_file(devnull);
	log_set_level(LOG_DEBUG); /* the rejects' debug lines run too (into /dev/null) */
	E = env_new(NULL, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	env_free(E);
	E = NULL;
	log_set_file(NULL);
	log_set_level(LOG_INFO);
	fclose(devnull);
	return 0;
}

/* Append a segment [gpa, gpa+len) to the chain. */
static void seg(struct virtq_chain *ch, uint64_t gpa, uint32_t len, bool write)
{
	struct virtq_seg *s = &ch->segs[ch->nr_segs++];

	s->host = gmem_ptr(&E->gm, gpa, len);
	s->gpa = gpa;
	s->len = len;
	s->write = write;
	if (write)
		ch->write_len += len;
	else {
		ch->read_len += len;
		ch->nr_read++;
	}
}

/*
 * Send @len bytes of request @req (and @extra bytes after it, in a second
 * readable segment), with a response buffer of @rlen bytes; the response
 * type, or 0 when the chain was rejected.
 */
static uint32_t send_ex(const void *req, uint32_t len, const void *extra, uint32_t elen,
			uint32_t rlen)
{
	uint64_t rq = gpa_alloc(len + 1), ex = 0, rs = gpa_alloc(rlen + 1);

	memcpy(host(rq), req, len);
	memset(&E->ch, 0, sizeof(E->ch));
	E->ch.head = 7;
	if (len)
		seg(&E->ch, rq, len, false);
	if (elen) {
		ex = gpa_alloc(elen);
		memcpy(host(ex), extra, elen);
		seg(&E->ch, ex, elen, false);
	}
	if (rlen)
		seg(&E->ch, rs, rlen, true);
	memset(host(rs), 0xee, rlen + 1);
	E->ret = gpu_handle_chain(E->g, GPU_CONTROLQ, &E->ch, &E->written);
	memset(&E->resp, 0, sizeof(E->resp));
	memset(&E->di, 0, sizeof(E->di));
	if (E->ret < 0) {
		assert_int_equal(E->written, 0);
		/* Nothing written into the response buffer. */
		for (uint32_t i = 0; i < rlen; i++)
			assert_int_equal(((uint8_t *)host(rs))[i], 0xee);
		return 0;
	}
	assert_true(E->written <= rlen);
	/* Never a byte past the response. */
	assert_int_equal(((uint8_t *)host(rs))[rlen], 0xee);
	memcpy(&E->resp, host(rs), MIN(E->written, (uint32_t)sizeof(E->resp)));
	memcpy(&E->di, host(rs), MIN(E->written, (uint32_t)sizeof(E->di)));
	return le32toh(E->resp.type);
}

static uint32_t send(const void *req, uint32_t len)
{
	uint32_t t = send_ex(req, len, NULL, 0, sizeof(struct virtio_gpu_ctrl_hdr));

	if (t)
		assert_int_equal(E->written, sizeof(struct virtio_gpu_ctrl_hdr));
	return t;
}

static void hdr(struct virtio_gpu_ctrl_hdr *h, uint32_t type)
{
	memset(h, 0, sizeof(*h));
	h->type = htole32(type);
	h->flags = htole32(E->fence_flags);
	h->fence_id = htole64(0x1122334455667788ull);
	h->ctx_id = htole32(0x99);
}

static struct virtio_gpu_rect rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_rect r = {htole32(x), htole32(y), htole32(w), htole32(h)};
	return r;
}

static uint32_t create(uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c;

	hdr(&c.hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	c.resource_id = htole32(id);
	c.format = htole32(fmt);
	c.width = htole32(w);
	c.height = htole32(h);
	return send(&c, sizeof(c));
}

static uint32_t unref(uint32_t id)
{
	struct virtio_gpu_resource_unref c = {0};

	hdr(&c.hdr, VIRTIO_GPU_CMD_RESOURCE_UNREF);
	c.resource_id = htole32(id);
	return send(&c, sizeof(c));
}

static uint32_t scanout(uint32_t sid, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_set_scanout c;

	hdr(&c.hdr, VIRTIO_GPU_CMD_SET_SCANOUT);
	c.r = r;
	c.scanout_id = htole32(sid);
	c.resource_id = htole32(id);
	return send(&c, sizeof(c));
}

static uint32_t flush(uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_resource_flush c = {0};

	hdr(&c.hdr, VIRTIO_GPU_CMD_RESOURCE_FLUSH);
	c.r = r;
	c.resource_id = htole32(id);
	return send(&c, sizeof(c));
}

static uint32_t transfer(uint32_t id, struct virtio_gpu_rect r, uint64_t off)
{
	struct virtio_gpu_transfer_to_host_2d c = {0};

	hdr(&c.hdr, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D);
	c.r = r;
	c.offset = htole64(off);
	c.resource_id = htole32(id);
	return send(&c, sizeof(c));
}

/* ATTACH_BACKING with @n entries (@nr_entries claimed), entries in a second segment. */
static uint32_t attach_raw(uint32_t id, uint32_t nr_entries,
			   const struct virtio_gpu_mem_entry *ents, uint32_t n)
{
	struct virtio_gpu_resource_attach_backing c;

	hdr(&c.hdr, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING);
	c.resource_id = htole32(id);
	c.nr_entries = htole32(nr_entries);
	return send_ex(&c, sizeof(c), ents, n * (uint32_t)sizeof(*ents),
		       sizeof(struct virtio_gpu_ctrl_hdr));
}

static struct virtio_gpu_mem_entry ent(uint64_t addr, uint32_t len)
{
	struct virtio_gpu_mem_entry e = {htole64(addr), htole32(len), 0};
	return e;
}

/* One backing of @len bytes in RAM, attached as one entry; its gpa. */
static uint64_t attach1(uint32_t id, uint64_t len)
{
	uint64_t gpa = gpa_alloc(len);
	struct virtio_gpu_mem_entry e = ent(gpa, (uint32_t)len);

	assert_int_equal(attach_raw(id, 1, &e, 1), NODATA);
	return gpa;
}

static uint32_t detach(uint32_t id)
{
	struct virtio_gpu_resource_detach_backing c = {0};

	hdr(&c.hdr, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING);
	c.resource_id = htole32(id);
	return send(&c, sizeof(c));
}

static uint32_t display_info(void)
{
	struct virtio_gpu_ctrl_hdr c;

	hdr(&c, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	return send_ex(&c, sizeof(c), NULL, 0, sizeof(struct virtio_gpu_resp_display_info));
}

static uint32_t px(uint32_t x, uint32_t y)
{
	uint32_t w, h, stride, v;
	uint32_t *p = display_lock(E->d, &w, &h, &stride);

	if (!p || x >= w || y >= h) {
		display_unlock(E->d);
		fail_msg("pixel %u,%u outside the display (%ux%u)", x, y, w, h);
	}
	v = p[(size_t)y * (stride / 4) + x];
	display_unlock(E->d);
	return v;
}

static void mode_is(uint32_t w, uint32_t h)
{
	uint32_t dw, dh;
	uint64_t gen;

	display_mode(E->d, &dw, &dh, &gen);
	assert_int_equal(dw, w);
	assert_int_equal(dh, h);
}

static struct gpu_stats stats(void)
{
	struct gpu_stats st;

	gpu_get_stats(E->g, &st);
	return st;
}

/* The colour of pixel (x, y) in the pattern tests: 0x00RRGGBB. */
static uint32_t colour(uint32_t x, uint32_t y)
{
	return ((x * 37 + y * 11 + 5) & 0xff) << 16 | ((x * 3 + y * 71) & 0xff) << 8 |
	       ((x ^ (y * 13)) & 0xff);
}

/* Write colour @c as a pixel of @fmt at @p (memory order per the spec's names). */
static void put_pixel(uint8_t *p, uint32_t fmt, uint32_t c)
{
	uint8_t r = (uint8_t)(c >> 16), g = (uint8_t)(c >> 8), b = (uint8_t)c, a = 0x5a;

	switch (fmt) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
		p[0] = b, p[1] = g, p[2] = r, p[3] = a;
		break;
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
		p[0] = a, p[1] = r, p[2] = g, p[3] = b;
		break;
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		p[0] = r, p[1] = g, p[2] = b, p[3] = a;
		break;
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
		p[0] = a, p[1] = b, p[2] = g, p[3] = r;
		break;
	default:
		fail_msg("format %u", fmt);
	}
}

/* Fill a w x h backing at @gpa with the pattern in @fmt. */
static void fill(uint64_t gpa, uint32_t fmt, uint32_t w, uint32_t h)
{
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			put_pixel((uint8_t *)host(gpa) + ((uint64_t)y * w + x) * 4, fmt,
				  colour(x, y));
}

/* ---- happy paths ---------------------------------------------------------------- */

static void test_config_space(void **state)
{
	uint8_t b[24];
	uint32_t v;

	(void)state;
	assert_int_equal(gpu_config_size(), 16);
	memset(b, 0xcc, sizeof(b));
	gpu_config_read(E->g, 0, b, sizeof(b));
	memcpy(&v, b + 8, 4);
	assert_int_equal(le32toh(v), 1); /* num_scanouts */
	for (unsigned int i = 0; i < 24; i++)
		if (i < 8 || i >= 12)
			assert_int_equal(b[i], 0);
	/* Partial and far reads. */
	gpu_config_read(E->g, 8, b, 1);
	assert_int_equal(b[0], 1);
	memset(b, 0xcc, 4);
	gpu_config_read(E->g, UINT64_MAX - 1, b, 4);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
	/* Writes to read-only fields change nothing. */
	v = 0xffffffff;
	gpu_config_write(E->g, 8, &v, 4);
	gpu_config_write(E->g, 0, &v, 4);
	gpu_config_read(E->g, 8, &v, 4);
	assert_int_equal(le32toh(v), 1);
	/* Features: VERSION_1 and the ring features; of the GPU features EDID only. */
	assert_true(gpu_features(E->g) >> 32 & 1);
	assert_int_equal(gpu_features(E->g) & 0x1f, 1u << VIRTIO_GPU_F_EDID);
}

static void test_display_info(void **state)
{
	struct gpu_stats st;

	(void)state;
	E->fence_flags = VIRTIO_GPU_FLAG_FENCE;
	assert_int_equal(display_info(), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(E->written, sizeof(struct virtio_gpu_resp_display_info));
	assert_int_equal(le32toh(E->di.pmodes[0].enabled), 1);
	assert_int_equal(le32toh(E->di.pmodes[0].r.width), 1024);
	assert_int_equal(le32toh(E->di.pmodes[0].r.height), 768);
	assert_int_equal(le32toh(E->di.pmodes[1].enabled), 0);
	/* The fence comes back. */
	assert_int_equal(le32toh(E->di.hdr.flags), VIRTIO_GPU_FLAG_FENCE);
	assert_true(le64toh(E->di.hdr.fence_id) == 0x1122334455667788ull);
	assert_int_equal(le32toh(E->di.hdr.ctx_id), 0x99);
	st = stats();
	assert_int_equal(st.get_display_info, 1);
	assert_int_equal(st.fences, 1);
	/* Without the flag, no fence in the response. */
	E->fence_flags = 0;
	assert_int_equal(display_info(), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(E->di.hdr.flags, 0);
	assert_true(E->di.hdr.fence_id == 0);
}

static void test_display_info_front_end_size(void **state)
{
	struct env *saved = E;

	(void)state;
	/* A display whose front end already wished for a size before the gpu existed. */
	E = env_new(NULL, true);
	gpu_destroy(E->g);
	display_request_resize(E->d, 1280, 720);
	E->g = must(gpu_create(&E->gm, E->d, NULL));
	assert_int_equal(display_info(), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(le32toh(E->di.pmodes[0].r.width), 1280);
	assert_int_equal(le32toh(E->di.pmodes[0].r.height), 720);
	env_free(E);
	E = saved;
}

/*
 * The whole path for one format: create, attach (two entries, split
 * inside a row), set scanout, transfer, flush; every display pixel exact.
 */
static void happy_path(uint32_t fmt)
{
	const uint32_t w = 7, h = 5, split = 4 * 10 + 2; /* entry boundary mid-row, mid-pixel */
	uint64_t a = gpa_alloc(split), b = gpa_alloc(w * h * 4 - split + 64);
	struct virtio_gpu_mem_entry ents[2] = {ent(a, split), ent(b, w * h * 4 - split + 64)};
	uint8_t img[7 * 5 * 4];
	struct gpu_stats st0 = stats(), st;

	/* The image, then copied into the two discontiguous backing pieces. */
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			put_pixel(img + (y * w + x) * 4, fmt, colour(x, y));
	memcpy(host(a), img, split);
	memcpy(host(b), img + split, sizeof(img) - split);

	E->fence_flags = VIRTIO_GPU_FLAG_FENCE;
	assert_int_equal(create(10, fmt, w, h), NODATA);
	assert_int_equal(le32toh(E->resp.flags), VIRTIO_GPU_FLAG_FENCE);
	assert_true(le64toh(E->resp.fence_id) == 0x1122334455667788ull);
	E->fence_flags = 0;
	assert_int_equal(attach_raw(10, 2, ents, 2), NODATA);
	assert_int_equal(scanout(0, 10, rect(0, 0, w, h)), NODATA);
	mode_is(w, h);
	/* Nothing transferred yet: the host copy is black. */
	assert_int_equal(px(3, 3), 0);
	assert_int_equal(transfer(10, rect(0, 0, w, h), 0), NODATA);
	assert_int_equal(px(3, 3), 0); /* not shown before the flush */
	assert_int_equal(flush(10, rect(0, 0, w, h)), NODATA);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			assert_int_equal(px(x, y), colour(x, y));
	st = stats();
	assert_int_equal(st.create_2d - st0.create_2d, 1);
	assert_int_equal(st.transfer_bytes - st0.transfer_bytes, w * h * 4);
	assert_int_equal(st.flush_pixels - st0.flush_pixels, 2 * w * h); /* scanout + flush */
	assert_int_equal(st.err_parameter + st.err_resource_id + st.err_unspec, 0);
	assert_int_equal(unref(10), NODATA);
}

static void test_happy_path_xrgb(void **state)
{
	(void)state;
	happy_path(VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM);
}

static void test_happy_path_rgbx(void **state)
{
	(void)state;
	happy_path(VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM);
}

/* Every accepted format, with one known pixel each. */
static void test_formats(void **state)
{
	static const struct {
		uint32_t fmt;
		uint8_t mem[4];
	} cases[] = {
		/* red 0x11, green 0x22, blue 0x33, alpha/pad 0x44 */
		{VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, {0x33, 0x22, 0x11, 0x44}},
		{VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, {0x33, 0x22, 0x11, 0x44}},
		{VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, {0x44, 0x11, 0x22, 0x33}},
		{VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, {0x44, 0x11, 0x22, 0x33}},
		{VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, {0x11, 0x22, 0x33, 0x44}},
		{VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, {0x11, 0x22, 0x33, 0x44}},
		{VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, {0x44, 0x33, 0x22, 0x11}},
		{VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, {0x44, 0x33, 0x22, 0x11}},
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint32_t id = 100 + (uint32_t)i;
		uint64_t gpa;

		assert_int_equal(create(id, cases[i].fmt, 2, 1), NODATA);
		gpa = attach1(id, 8);
		memcpy(host(gpa + 4), cases[i].mem, 4);
		assert_int_equal(transfer(id, rect(0, 0, 2, 1), 0), NODATA);
		assert_int_equal(scanout(0, id, rect(0, 0, 2, 1)), NODATA);
		assert_int_equal(px(0, 0), 0);
		assert_int_equal(px(1, 0), 0x112233);
		assert_int_equal(unref(id), NODATA);
	}
	/* Anything else, e.g. a 16-bit format or 0, is refused. */
	assert_int_equal(create(200, 0, 2, 2), E_PARAM);
	assert_int_equal(create(200, 5, 2, 2), E_PARAM);
	assert_int_equal(create(200, 0xffffffff, 2, 2), E_PARAM);
	assert_int_equal(unref(200), E_RES);
}

/* Sub-rectangles: transfer with an offset, a scanout that is part of the resource. */
static void test_subrects(void **state)
{
	const uint32_t w = 16, h = 12;
	uint64_t gpa;

	(void)state;
	assert_int_equal(create(1, XRGB, w, h), NODATA);
	gpa = attach1(1, w * h * 4);
	fill(gpa, XRGB, w, h);
	/* Scanout: the 8x6 window at (4, 3). */
	assert_int_equal(scanout(0, 1, rect(4, 3, 8, 6)), NODATA);
	mode_is(8, 6);
	/* Transfer only the 3x2 rectangle at (5, 4), as Linux does: offset of its first pixel. */
	assert_int_equal(transfer(1, rect(5, 4, 3, 2), (4 * w + 5) * 4), NODATA);
	/* Flush a rectangle partly outside the scanout: clipped to it. */
	assert_int_equal(flush(1, rect(0, 0, 9, 6)), NODATA);
	for (uint32_t y = 0; y < 6; y++) {
		for (uint32_t x = 0; x < 8; x++) {
			uint32_t rx = x + 4, ry = y + 3;
			bool in = rx >= 5 && rx < 8 && ry >= 4 && ry < 6;

			assert_int_equal(px(x, y), in ? colour(rx, ry) : 0);
		}
	}
	/* A flush outside the scanout window changes nothing. */
	assert_int_equal(transfer(1, rect(0, 0, w, h), 0), NODATA);
	assert_int_equal(flush(1, rect(0, 0, 4, 3)), NODATA);
	assert_int_equal(px(0, 0), 0);
	/* The full flush shows everything. */
	assert_int_equal(flush(1, rect(0, 0, w, h)), NODATA);
	for (uint32_t y = 0; y < 6; y++)
		for (uint32_t x = 0; x < 8; x++)
			assert_int_equal(px(x, y), colour(x + 4, y + 3));
	/* Empty transfer and flush rectangles are fine and do nothing. */
	assert_int_equal(transfer(1, rect(3, 3, 0, 0), 0), NODATA);
	assert_int_equal(flush(1, rect(3, 3, 0, 0)), NODATA);
	/* A page flip to another resource of the same size keeps the mode (no set_mode). */
	{
		uint32_t dw, dh;
		uint64_t gen0, gen1;

		display_mode(E->d, &dw, &dh, &gen0);
		assert_int_equal(create(2, XRGB, 8, 6), NODATA);
		gpa = attach1(2, 8 * 6 * 4);
		fill(gpa, XRGB, 8, 6);
		assert_int_equal(transfer(2, rect(0, 0, 8, 6), 0), NODATA);
		assert_int_equal(scanout(0, 2, rect(0, 0, 8, 6)), NODATA);
		display_mode(E->d, &dw, &dh, &gen1);
		assert_true(gen0 == gen1);
		/* SET_SCANOUT shows the new resource at once. */
		assert_int_equal(px(7, 5), colour(7, 5));
		assert_int_equal(unref(2), NODATA);
	}
	assert_int_equal(unref(1), NODATA);
}

/* ---- rejects ------------------------------------------------------------------------ */

static void test_create_rejects(void **state)
{
	struct gpu_stats st;

	(void)state;
	assert_int_equal(create(0, XRGB, 4, 4), E_RES);
	assert_int_equal(create(1, XRGB, 4, 4), NODATA);
	assert_int_equal(create(1, XRGB, 4, 4), E_RES); /* double create */
	assert_int_equal(create(1, XRGB, 8, 8), E_RES);
	assert_int_equal(create(2, XRGB, 0, 4), E_PARAM);
	assert_int_equal(create(2, XRGB, 4, 0), E_PARAM);
	/* width * height * 4 overflows 64 bits. */
	assert_int_equal(create(2, XRGB, 0x80000000u, 0x80000000u), E_OOM);
	assert_int_equal(create(2, XRGB, 0xffffffffu, 0xffffffffu), E_OOM);
	/* Over the 256 MiB cap: 8192 x 8193 x 4. */
	assert_int_equal(create(2, XRGB, 8192, 8193), E_OOM);
	assert_int_equal(create(2, XRGB, 0xffffffffu, 1), E_OOM);
	st = stats();
	assert_int_equal(st.resources, 1);
	assert_int_equal(st.mem_used, 4 * 4 * 4);
	assert_int_equal(st.err_out_of_memory, 4);
	assert_int_equal(st.err_resource_id, 3);
	assert_int_equal(st.err_parameter, 2);
	assert_int_equal(st.create_2d, 10);
	assert_int_equal(unref(1), NODATA);
	assert_int_equal(stats().mem_used, 0);
}

static void test_limits(void **state)
{
	struct gpu_opts o = {.max_resources = 3, .mem_cap = 64 * 1024};
	struct env *saved = E;
	uint64_t gpa;

	(void)state;
	E = env_new(&o, false);				    /* no display: commands still work */
	assert_int_equal(create(1, XRGB, 64, 64), NODATA);  /* 16 KiB */
	assert_int_equal(create(2, XRGB, 64, 128), NODATA); /* 32 KiB */
	assert_int_equal(create(3, XRGB, 64, 65), E_OOM);   /* 16.25 KiB: over the cap */
	assert_int_equal(create(3, XRGB, 64, 63), NODATA);
	assert_int_equal(create(4, XRGB, 1, 1), E_OOM); /* fourth resource */
	/* The backing table counts too: 256 bytes left, one entry takes 24. */
	assert_int_equal(stats().mem_used, 64 * 1024 - 256);
	{
		static struct virtio_gpu_mem_entry many[16];

		gpa = gpa_alloc(64 * 64 * 4);
		for (unsigned int i = 0; i < 16; i++)
			many[i] = ent(gpa + i * 4096, 4096);
		assert_int_equal(attach_raw(1, 16, many, 16), E_OOM); /* 16 x 24 > 256 */
		assert_int_equal(attach_raw(1, 4, many, 4), NODATA);
	}
	/* No display: a scanout and flush work, showing nothing. */
	assert_int_equal(scanout(0, 1, rect(0, 0, 64, 64)), NODATA);
	assert_int_equal(transfer(1, rect(0, 0, 64, 64), 0), NODATA);
	assert_int_equal(flush(1, rect(0, 0, 64, 64)), NODATA);
	assert_int_equal(unref(1), NODATA);
	assert_int_equal(create(4, XRGB, 1, 1), NODATA);
	env_free(E);
	E = saved;
}

static void test_rect_rejects(void **state)
{
	uint64_t gpa;

	(void)state;
	assert_int_equal(create(1, XRGB, 16, 8), NODATA);
	gpa = attach1(1, 16 * 8 * 4);
	fill(gpa, XRGB, 16, 8);
	/* SET_SCANOUT: scanout id, empty, outside, x + w wrapping 32 bits. */
	assert_int_equal(scanout(1, 1, rect(0, 0, 16, 8)), E_SCAN);
	assert_int_equal(scanout(0xffffffff, 1, rect(0, 0, 16, 8)), E_SCAN);
	assert_int_equal(scanout(0, 1, rect(0, 0, 0, 8)), E_PARAM);
	assert_int_equal(scanout(0, 1, rect(0, 0, 16, 0)), E_PARAM);
	assert_int_equal(scanout(0, 1, rect(1, 0, 16, 8)), E_PARAM);
	assert_int_equal(scanout(0, 1, rect(0, 1, 16, 8)), E_PARAM);
	assert_int_equal(scanout(0, 1, rect(0xffffffff, 0, 2, 8)), E_PARAM);
	assert_int_equal(scanout(0, 1, rect(0, 0xfffffff9, 16, 8)), E_PARAM);
	assert_int_equal(scanout(0, 1, rect(0, 0, 0xffffffff, 8)), E_PARAM);
	/* TRANSFER: rectangle outside, wrapping, offset beyond the backing. */
	assert_int_equal(transfer(1, rect(0, 0, 17, 8), 0), E_PARAM);
	assert_int_equal(transfer(1, rect(0xfffffff0, 0, 0x20, 1), 0), E_PARAM);
	assert_int_equal(transfer(1, rect(0, 0xffffffff, 1, 2), 0), E_PARAM);
	assert_int_equal(transfer(1, rect(0, 0, 16, 8), 4), E_PARAM); /* one pixel past */
	assert_int_equal(transfer(1, rect(0, 7, 16, 1), 16 * 7 * 4 + 4), E_PARAM);
	assert_int_equal(transfer(1, rect(0, 0, 1, 1), UINT64_MAX), E_PARAM);
	assert_int_equal(transfer(1, rect(0, 0, 1, 1), UINT64_MAX - 2), E_PARAM);
	assert_int_equal(transfer(1, rect(0, 0, 1, 1), 16 * 8 * 4), E_PARAM);
	assert_int_equal(transfer(1, rect(0, 0, 1, 1), 16 * 8 * 4 - 4), NODATA); /* last pixel */
	/* FLUSH: outside, wrapping. */
	assert_int_equal(flush(1, rect(0, 0, 16, 9)), E_PARAM);
	assert_int_equal(flush(1, rect(0xffffffff, 0xffffffff, 2, 2)), E_PARAM);
	assert_int_equal(stats().transfer_bytes, 4);
	assert_int_equal(unref(1), NODATA);
}

static void test_backing_rejects(void **state)
{
	const uint32_t size = 8 * 8 * 4;
	uint64_t gpa = gpa_alloc(size);
	struct virtio_gpu_mem_entry e[3];
	static struct virtio_gpu_mem_entry one_each[GPU_MAX_BACKING_ENTRIES + 1];

	(void)state;
	e[0] = ent(gpa, size);
	assert_int_equal(attach_raw(1, 1, e, 1), E_RES); /* no such resource */
	assert_int_equal(create(1, XRGB, 8, 8), NODATA);
	/* Entries outside guest RAM: below it, past its end, wrapping. */
	e[0] = ent(0, size);
	assert_int_equal(attach_raw(1, 1, e, 1), E_PARAM);
	e[0] = ent(RAM_GPA + RAM_SIZE - 16, size);
	assert_int_equal(attach_raw(1, 1, e, 1), E_PARAM);
	e[0] = ent(UINT64_MAX - 8, size);
	assert_int_equal(attach_raw(1, 1, e, 1), E_PARAM);
	/* A good entry, then a bad one: refused as a whole. */
	e[0] = ent(gpa, size / 2);
	e[1] = ent(RAM_GPA + RAM_SIZE, size / 2);
	assert_int_equal(attach_raw(1, 2, e, 2), E_PARAM);
	/* Too short for the resource. */
	e[0] = ent(gpa, size - 1);
	assert_int_equal(attach_raw(1, 1, e, 1), E_PARAM);
	e[0] = ent(gpa, size / 2);
	e[1] = ent(gpa, 0); /* zero-length entries count nothing */
	assert_int_equal(attach_raw(1, 2, e, 2), E_PARAM);
	/* nr_entries 0, one over the bound, huge. */
	assert_int_equal(attach_raw(1, 0, e, 0), E_PARAM);
	assert_int_equal(attach_raw(1, GPU_MAX_BACKING_ENTRIES + 1, e, 1), E_PARAM);
	assert_int_equal(attach_raw(1, 0xffffffffu, e, 1), E_PARAM);
	/* More entries claimed than the request holds. */
	e[0] = ent(gpa, size);
	assert_int_equal(attach_raw(1, 3, e, 1), E_UNSPEC);
	/* Transfer and detach without backing. */
	assert_int_equal(transfer(1, rect(0, 0, 8, 8), 0), E_RES);
	assert_int_equal(detach(1), E_UNSPEC);
	assert_int_equal(stats().mem_used, size); /* nothing of the failures kept */
	/* The bound itself is accepted: 16384 entries of 1 byte... too short, but parsed. */
	for (uint32_t i = 0; i < GPU_MAX_BACKING_ENTRIES; i++)
		one_each[i] = ent(gpa + (i % size), 1);
	assert_int_equal(attach_raw(1, GPU_MAX_BACKING_ENTRIES, one_each, GPU_MAX_BACKING_ENTRIES),
			 NODATA); /* 16384 bytes >= 256 */
	assert_int_equal(detach(1), NODATA);
	/* Good now; a second attach is refused; detach, then attach again. */
	e[0] = ent(gpa, size / 2);
	e[1] = ent(gpa + size / 2, size / 2);
	assert_int_equal(attach_raw(1, 2, e, 2), NODATA);
	assert_int_equal(attach_raw(1, 2, e, 2), E_UNSPEC);
	assert_int_equal(detach(1), NODATA);
	assert_int_equal(detach(1), E_UNSPEC);
	assert_int_equal(attach_raw(1, 2, e, 2), NODATA);
	assert_int_equal(unref(1), NODATA);
	assert_int_equal(stats().mem_used, 0);
}

static void test_unknown_ids(void **state)
{
	struct virtio_gpu_mem_entry e = ent(gpa_alloc(64), 64);

	(void)state;
	assert_int_equal(unref(5), E_RES);
	assert_int_equal(unref(0), E_RES);
	assert_int_equal(scanout(0, 5, rect(0, 0, 1, 1)), E_RES);
	assert_int_equal(flush(5, rect(0, 0, 1, 1)), E_RES);
	assert_int_equal(transfer(5, rect(0, 0, 1, 1), 0), E_RES);
	assert_int_equal(attach_raw(5, 1, &e, 1), E_RES);
	assert_int_equal(detach(5), E_RES);
	assert_int_equal(stats().err_resource_id, 7);
	/* An id that was freed is unknown again. */
	assert_int_equal(create(5, XRGB, 1, 1), NODATA);
	assert_int_equal(unref(5), NODATA);
	assert_int_equal(unref(5), E_RES);
}

static void test_response_buffer(void **state)
{
	struct virtio_gpu_resource_create_2d c;
	struct virtio_gpu_ctrl_hdr h;
	uint64_t rq;

	(void)state;
	hdr(&c.hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	c.resource_id = htole32(3);
	c.format = htole32(XRGB);
	c.width = c.height = htole32(4);
	/* 23 bytes of response: not executed at all. */
	assert_int_equal(send_ex(&c, sizeof(c), NULL, 0, 23), 0);
	assert_int_equal(E->ret, -EINVAL);
	/* No writable buffer at all. */
	assert_int_equal(send_ex(&c, sizeof(c), NULL, 0, 0), 0);
	assert_int_equal(stats().resources, 0);
	assert_int_equal(stats().bad_chains, 2);
	/* GET_DISPLAY_INFO needs 408 bytes: 24 are not enough. */
	hdr(&h, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	assert_int_equal(send_ex(&h, sizeof(h), NULL, 0, 24), 0);
	assert_int_equal(send_ex(&h, sizeof(h), NULL, 0, 407), 0);
	/* A response larger than needed: only the response is written. */
	assert_int_equal(send_ex(&c, sizeof(c), NULL, 0, 100), NODATA);
	assert_int_equal(E->written, 24);
	assert_int_equal(stats().resources, 1);
	/* A writable segment before the readable ones: malformed, rejected. */
	rq = gpa_alloc(64);
	memset(&E->ch, 0, sizeof(E->ch));
	seg(&E->ch, rq, 24, true);
	E->ch.segs[1] = E->ch.segs[0];
	E->ch.segs[1].write = false;
	E->ch.nr_segs = 2;
	E->ch.nr_read = 1;
	assert_int_equal(gpu_handle_chain(E->g, GPU_CONTROLQ, &E->ch, &E->written), -EINVAL);
	/* A chain claiming more segments than exist. */
	E->ch.nr_segs = VIRTQ_MAX_SEGS + 1;
	assert_int_equal(gpu_handle_chain(E->g, GPU_CONTROLQ, &E->ch, &E->written), -EINVAL);
	assert_int_equal(gpu_handle_chain(E->g, GPU_CONTROLQ, NULL, &E->written), -EINVAL);
	assert_int_equal(gpu_handle_chain(E->g, 2, &E->ch, &E->written), -EINVAL);
	assert_int_equal(stats().bad_chains, 8);
	assert_int_equal(unref(3), NODATA);
}

static void test_garbled_headers(void **state)
{
	struct virtio_gpu_resource_create_2d c;
	struct virtio_gpu_ctrl_hdr h;
	uint8_t junk[24];

	(void)state;
	E->fence_flags = VIRTIO_GPU_FLAG_FENCE;
	/* Short header: ERR_UNSPEC, and no fence echoed (it was never read). */
	hdr(&h, VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	assert_int_equal(send(&h, 10), E_UNSPEC);
	assert_int_equal(E->resp.flags, 0);
	assert_int_equal(send(&h, 23), E_UNSPEC);
	/* Unknown commands, 3D ones included; the fence is honoured. */
	hdr(&h, 0x9999);
	assert_int_equal(send(&h, sizeof(h)), E_UNSPEC);
	assert_int_equal(le32toh(E->resp.flags), VIRTIO_GPU_FLAG_FENCE);
	assert_true(le64toh(E->resp.fence_id) == 0x1122334455667788ull);
	hdr(&h, VIRTIO_GPU_CMD_CTX_CREATE);
	assert_int_equal(send(&h, sizeof(h)), E_UNSPEC);
	/* GET_EDID without its scanout field: too short, not executed. */
	hdr(&h, VIRTIO_GPU_CMD_GET_EDID);
	assert_int_equal(send_ex(&h, sizeof(h), NULL, 0, sizeof(struct virtio_gpu_resp_edid)),
			 E_UNSPEC);
	hdr(&h, VIRTIO_GPU_CMD_UPDATE_CURSOR); /* a cursor command on the control queue */
	assert_int_equal(send(&h, sizeof(h)), E_UNSPEC);
	/* A known command cut short: not executed. */
	hdr(&c.hdr, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D);
	c.resource_id = htole32(4);
	c.format = htole32(XRGB);
	c.width = c.height = htole32(4);
	assert_int_equal(send(&c, sizeof(c) - 1), E_UNSPEC);
	assert_int_equal(stats().resources, 0);
	/* Random bytes. */
	for (unsigned int i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 97 + 13);
	assert_int_equal(send(junk, sizeof(junk)), E_UNSPEC);
	E->fence_flags = 0;
	assert_int_equal(stats().err_unspec, 8);
	assert_int_equal(stats().unknown, 6);
	assert_int_equal(stats().get_edid, 1);
}

static void test_unref_scanned_out(void **state)
{
	uint64_t gpa;

	(void)state;
	assert_int_equal(create(1, XRGB, 4, 4), NODATA);
	gpa = attach1(1, 64);
	fill(gpa, XRGB, 4, 4);
	assert_int_equal(transfer(1, rect(0, 0, 4, 4), 0), NODATA);
	assert_int_equal(scanout(0, 1, rect(0, 0, 4, 4)), NODATA);
	assert_int_equal(px(3, 3), colour(3, 3));
	/* Unref while scanned out: the display goes black and forgets it. */
	assert_int_equal(unref(1), NODATA);
	for (uint32_t y = 0; y < 4; y++)
		for (uint32_t x = 0; x < 4; x++)
			assert_int_equal(px(x, y), 0);
	/* A new resource with the same id is not shown until set as scanout. */
	assert_int_equal(create(1, XRGB, 4, 4), NODATA);
	gpa = attach1(1, 64);
	fill(gpa, XRGB, 4, 4);
	assert_int_equal(transfer(1, rect(0, 0, 4, 4), 0), NODATA);
	assert_int_equal(flush(1, rect(0, 0, 4, 4)), NODATA);
	assert_int_equal(px(3, 3), 0);
	/* SET_SCANOUT with resource 0 disables and blanks too. */
	assert_int_equal(scanout(0, 1, rect(0, 0, 4, 4)), NODATA);
	assert_int_equal(px(2, 1), colour(2, 1));
	assert_int_equal(scanout(0, 0, rect(0, 0, 0, 0)), NODATA);
	assert_int_equal(px(2, 1), 0);
	assert_int_equal(flush(1, rect(0, 0, 4, 4)), NODATA);
	assert_int_equal(px(2, 1), 0);
	/* Detaching the backing of a scanned-out resource keeps the host copy shown. */
	assert_int_equal(scanout(0, 1, rect(0, 0, 4, 4)), NODATA);
	assert_int_equal(detach(1), NODATA);
	assert_int_equal(flush(1, rect(0, 0, 4, 4)), NODATA);
	assert_int_equal(px(2, 1), colour(2, 1));
	assert_int_equal(unref(1), NODATA);
}

/* Someone else changed the display's mode under the scanout: flushes are clipped. */
static void test_display_mode_changed_underneath(void **state)
{
	uint64_t gpa;

	(void)state;
	assert_int_equal(create(1, XRGB, 32, 16), NODATA);
	gpa = attach1(1, 32 * 16 * 4);
	fill(gpa, XRGB, 32, 16);
	assert_int_equal(transfer(1, rect(0, 0, 32, 16), 0), NODATA);
	assert_int_equal(scanout(0, 1, rect(0, 0, 32, 16)), NODATA);
	assert_int_equal(display_set_mode(E->d, 4, 2), 0);
	assert_int_equal(flush(1, rect(0, 0, 32, 16)), NODATA);
	mode_is(4, 2);
	assert_int_equal(px(3, 1), colour(3, 1));
	assert_int_equal(unref(1), NODATA);
}

/* ---- resize events ------------------------------------------------------------------ */

static void test_resize_event(void **state)
{
	uint32_t ev, clr;

	(void)state;
	gpu_config_read(E->g, 0, &ev, 4);
	assert_int_equal(ev, 0);
	/* The front end asks through the display: event bit, notifier, new size. */
	display_request_resize(E->d, 800, 600);
	assert_int_equal(E->notified, 1);
	gpu_config_read(E->g, 0, &ev, 4);
	assert_int_equal(le32toh(ev), VIRTIO_GPU_EVENT_DISPLAY);
	assert_int_equal(display_info(), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(le32toh(E->di.pmodes[0].r.width), 800);
	assert_int_equal(le32toh(E->di.pmodes[0].r.height), 600);
	/* events_clear: writing 0 or other bits clears nothing; the bit clears it. */
	clr = htole32(2);
	gpu_config_write(E->g, 4, &clr, 4);
	gpu_config_read(E->g, 0, &ev, 4);
	assert_int_equal(le32toh(ev), VIRTIO_GPU_EVENT_DISPLAY);
	gpu_config_read(E->g, 4, &clr, 4);
	assert_int_equal(clr, 0); /* events_clear reads 0 */
	clr = htole32(VIRTIO_GPU_EVENT_DISPLAY);
	gpu_config_write(E->g, 4, &clr, 1); /* a byte write works too */
	gpu_config_read(E->g, 0, &ev, 4);
	assert_int_equal(ev, 0);
	/* Impossible sizes are ignored. */
	display_request_resize(E->d, 0, 600);
	display_request_resize(E->d, DISPLAY_MAX_DIM + 1, 600);
	assert_int_equal(E->notified, 1);
	gpu_config_read(E->g, 0, &ev, 4);
	assert_int_equal(ev, 0);
	/* Another wish; a reset clears the pending event but keeps the size. */
	display_request_resize(E->d, 1920, 1080);
	assert_int_equal(E->notified, 2);
	assert_int_equal(stats().display_events, 2);
	gpu_reset(E->g);
	gpu_config_read(E->g, 0, &ev, 4);
	assert_int_equal(ev, 0);
	assert_int_equal(display_info(), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(le32toh(E->di.pmodes[0].r.width), 1920);
	assert_int_equal(le32toh(E->di.pmodes[0].r.height), 1080);
}

/* ---- reset, cursor --------------------------------------------------------------------- */

static void test_reset_frees(void **state)
{
	struct gpu_stats st;

	(void)state;
	for (uint32_t id = 1; id <= 3; id++) {
		assert_int_equal(create(id, XRGB, 16, 16), NODATA);
		attach1(id, 16 * 16 * 4);
	}
	assert_int_equal(scanout(0, 2, rect(0, 0, 16, 16)), NODATA);
	st = stats();
	assert_int_equal(st.resources, 3);
	assert_true(st.mem_used > 3 * 16 * 16 * 4);
	gpu_reset(E->g);
	st = stats();
	assert_int_equal(st.resources, 0);
	assert_int_equal(st.mem_used, 0);
	assert_int_equal(st.resets, 1);
	/* Ids are free again, and flushes of the old scanout do nothing. */
	assert_int_equal(flush(2, rect(0, 0, 1, 1)), E_RES);
	assert_int_equal(create(2, XRGB, 16, 16), NODATA);
	assert_int_equal(flush(2, rect(0, 0, 16, 16)), NODATA);
	assert_int_equal(unref(2), NODATA);
}

static void test_cursor_queue(void **state)
{
	struct virtio_gpu_update_cursor c;
	uint64_t gpa = gpa_alloc(sizeof(c));
	uint32_t written = 1;
	struct gpu_stats st;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.hdr.type = htole32(VIRTIO_GPU_CMD_UPDATE_CURSOR);
	c.resource_id = htole32(77); /* not looked up */
	memcpy(host(gpa), &c, sizeof(c));
	memset(&E->ch, 0, sizeof(E->ch));
	seg(&E->ch, gpa, sizeof(c), false);
	assert_int_equal(gpu_handle_chain(E->g, GPU_CURSORQ, &E->ch, &written), 0);
	assert_int_equal(written, 0);
	c.hdr.type = htole32(VIRTIO_GPU_CMD_MOVE_CURSOR);
	memcpy(host(gpa), &c, sizeof(c));
	assert_int_equal(gpu_handle_chain(E->g, GPU_CURSORQ, &E->ch, &written), 0);
	assert_int_equal(gpu_handle_chain(E->g, GPU_CURSORQ, &E->ch, &written), 0);
	c.hdr.type = htole32(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	memcpy(host(gpa), &c, sizeof(c));
	assert_int_equal(gpu_handle_chain(E->g, GPU_CURSORQ, &E->ch, &written), 0);
	/* Short: counted as unknown. */
	E->ch.segs[0].len = 20;
	assert_int_equal(gpu_handle_chain(E->g, GPU_CURSORQ, &E->ch, &written), 0);
	st = stats();
	assert_int_equal(st.update_cursor, 1);
	assert_int_equal(st.move_cursor, 2);
	assert_int_equal(st.unknown, 2);
	assert_int_equal(st.resources, 0);
}

/* ---- the worker threads over real rings ------------------------------------------------ */

static void wait_irq(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t v;

	assert_int_equal(poll(&p, 1, 10000), 1);
	assert_int_equal(read(fd, &v, sizeof(v)), sizeof(v));
}

static void irq_cb(void *opaque)
{
	uint64_t one = 1;

	assert_int_equal(write(*(int *)opaque, &one, sizeof(one)), sizeof(one));
}

static void test_workers(void **state)
{
	struct ring_harness *rh = must(calloc(1, sizeof(*rh)));
	struct virtq *cq = must(calloc(1, sizeof(*cq))), *kq = must(calloc(1, sizeof(*kq)));
	struct virtq_config cfg, ccfg;
	int kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int ckick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int irq = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int cirq = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct gpu_queue_cb cb = {.notify = irq_cb, .opaque = &irq};
	struct gpu_queue_cb ccb = {.notify = irq_cb, .opaque = &cirq};
	struct gpu *g;
	struct virtio_gpu_ctrl_hdr h = {.type = htole32(VIRTIO_GPU_CMD_GET_DISPLAY_INFO)};
	struct virtio_gpu_update_cursor cur = {.hdr.type = htole32(VIRTIO_GPU_CMD_MOVE_CURSOR)};
	struct virtio_gpu_resp_display_info di;
	uint64_t req, resp, creq, one = 1;
	uint32_t id, len;
	struct gpu_stats st;

	(void)state;
	assert_true(kick >= 0 && ckick >= 0 && irq >= 0 && cirq >= 0);
	assert_int_equal(rh_init(rh, 16, RH_DEFAULT_RAM), 0);
	g = must(gpu_create(&rh->gm, NULL, NULL));
	cfg = rh_config(rh);
	ccfg = rh_extra_rings(rh, 16);
	assert_int_equal(virtq_init(cq, &rh->gm, &cfg), 0);
	assert_int_equal(virtq_init(kq, &rh->gm, &ccfg), 0);
	/* A command waiting before the worker starts is served at start. */
	req = rh_alloc(rh, sizeof(h));
	resp = rh_alloc(rh, sizeof(di));
	memcpy(rh_host(rh, req, sizeof(h)), &h, sizeof(h));
	{
		struct rh_buf b[] = {{req, sizeof(h), false}, {resp, sizeof(di), true}};

		assert_true(rh_submit(rh, b, 2) != RH_NO_HEAD);
	}
	assert_int_equal(gpu_start(g, GPU_CONTROLQ, cq, kick, &cb), 0);
	assert_int_equal(gpu_start(g, GPU_CONTROLQ, cq, kick, &cb), -EBUSY);
	assert_int_equal(gpu_start(g, 2, cq, kick, &cb), -EINVAL);
	assert_int_equal(gpu_start(g, GPU_CURSORQ, kq, ckick, &ccb), 0);
	wait_irq(irq);
	assert_true(rh_get_used(rh, &id, &len));
	assert_int_equal(len, sizeof(di));
	memcpy(&di, rh_host(rh, resp, sizeof(di)), sizeof(di));
	assert_int_equal(le32toh(di.hdr.type), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(le32toh(di.pmodes[0].r.width), 1024);
	/* A second one, kicked. */
	{
		struct rh_buf b[] = {{req, sizeof(h), false}, {resp, sizeof(di), true}};

		memset(rh_host(rh, resp, sizeof(di)), 0, sizeof(di));
		assert_true(rh_submit(rh, b, 2) != RH_NO_HEAD);
		assert_int_equal(write(kick, &one, sizeof(one)), sizeof(one));
	}
	wait_irq(irq);
	assert_true(rh_get_used(rh, &id, &len));
	assert_int_equal(len, sizeof(di));
	/* The cursor queue: a command written straight into its rings. */
	creq = rh_alloc(rh, sizeof(cur));
	memcpy(rh_host(rh, creq, sizeof(cur)), &cur, sizeof(cur));
	rh_write_desc_at(rh, ccfg.desc, 0, creq, sizeof(cur), 0, 0);
	rh_w16(rh, ccfg.avail + 4, 0);
	__atomic_store_n((uint16_t *)rh_host(rh, ccfg.avail + 2, 2), htole16(1), __ATOMIC_RELEASE);
	assert_int_equal(write(ckick, &one, sizeof(one)), sizeof(one));
	wait_irq(cirq);
	assert_int_equal(rh_r16(rh, ccfg.used + 2), 1);
	assert_int_equal(rh_r32(rh, ccfg.used + 8), 0); /* no response on the cursor queue */
	gpu_stop(g);
	st = (struct gpu_stats){0};
	gpu_get_stats(g, &st);
	assert_int_equal(st.get_display_info, 2);
	assert_int_equal(st.move_cursor, 1);
	gpu_stop(g); /* idempotent */
	gpu_destroy(g);
	virtq_reset(cq);
	virtq_reset(kq);
	rh_fini(rh);
	free(rh);
	free(cq);
	free(kq);
	close(kick);
	close(ckick);
	close(irq);
	close(cirq);
}

/* ---- the virtio-pci adapter -------------------------------------------------------------- */

static void com_wr(struct dev *bar, unsigned int off, uint64_t v, unsigned int len)
{
	uint8_t b[8];

	dev_data_put(b, len, v);
	bar->ops->write(bar, VPCI_COMMON_OFF + off, b, len);
}

static void test_vpci_config_change(void **state)
{
	struct pci_host *h = must(pci_host_create());
	struct fake_msi msi;
	struct vpci *v;
	struct dev *bar;
	uint8_t b[4];
	uint8_t gen0;

	(void)state;
	assert_int_equal(gpu_vpci_ops.device_id, 16);
	assert_int_equal(gpu_vpci_ops.pci_class, 0x038000);
	assert_int_equal(gpu_vpci_ops.nr_queues, 2);
	fake_msi_init(&msi);
	v = must(gpu_create_vpci(h, 3, E->g, &E->gm, &msi.ctl, NULL));
	bar = vpci_bar_dev(v);
	/* num_scanouts through the BAR's device config window. */
	bar->ops->read(bar, VPCI_DEVCFG_OFF + 8, b, 4);
	assert_int_equal(dev_data_get(b, 4), 1);
	bar->ops->read(bar, VPCI_COMMON_OFF + VIRTIO_PCI_COMMON_CFGGENERATION, b, 1);
	gen0 = b[0];
	/* A resize: MSI-X is off, so the config-change ISR bit, and a new generation. */
	display_request_resize(E->d, 640, 480);
	bar->ops->read(bar, VPCI_COMMON_OFF + VIRTIO_PCI_COMMON_CFGGENERATION, b, 1);
	assert_int_not_equal(b[0], gen0);
	bar->ops->read(bar, VPCI_DEVCFG_OFF, b, 4);
	assert_int_equal(dev_data_get(b, 4), VIRTIO_GPU_EVENT_DISPLAY);
	bar->ops->read(bar, VPCI_ISR_OFF, b, 1);
	assert_int_equal(b[0], VIRTIO_PCI_ISR_CONFIG);
	/* The driver clears the event through events_clear. */
	dev_data_put(b, 4, VIRTIO_GPU_EVENT_DISPLAY);
	bar->ops->write(bar, VPCI_DEVCFG_OFF + 4, b, 4);
	bar->ops->read(bar, VPCI_DEVCFG_OFF, b, 4);
	assert_int_equal(dev_data_get(b, 4), 0);
	/* Up to DRIVER_OK (no queues), then a reset through device_status frees resources. */
	com_wr(bar, VIRTIO_PCI_COMMON_STATUS, 1, 1);
	com_wr(bar, VIRTIO_PCI_COMMON_STATUS, 3, 1);
	com_wr(bar, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	com_wr(bar, VIRTIO_PCI_COMMON_GF, 1, 4); /* VERSION_1 */
	com_wr(bar, VIRTIO_PCI_COMMON_STATUS, 0xb, 1);
	com_wr(bar, VIRTIO_PCI_COMMON_STATUS, 0xf, 1);
	bar->ops->read(bar, VPCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS, b, 1);
	assert_int_equal(b[0], 0xf);
	assert_int_equal(create(9, XRGB, 2, 2), NODATA);
	com_wr(bar, VIRTIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(unref(9), E_RES);
	assert_int_equal(stats().resets, 1);
	gpu_set_config_notify(E->g, NULL, NULL); /* before the transport goes (gpu.h) */
	vpci_destroy(v);
	gpu_set_config_notify(E->g, on_config, E);
	pci_host_destroy(h);
}

/* ---- EDID ---------------------------------------------------------------------------- */

/* The detailed timing at @d: active width and height, pixel clock (10 kHz). */
static void dtd_decode(const uint8_t *d, uint32_t *w, uint32_t *h, uint32_t *clk)
{
	*clk = d[0] | (uint32_t)d[1] << 8;
	*w = d[2] | (uint32_t)(d[4] >> 4) << 8;
	*h = d[5] | (uint32_t)(d[7] >> 4) << 8;
}

static void edid_check(const uint8_t *e, uint32_t w, uint32_t h)
{
	static const uint8_t magic[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
	uint32_t dw, dh, clk, htot, vtot;
	uint8_t sum = 0;

	assert_memory_equal(e, magic, 8);
	for (int i = 0; i < GPU_EDID_SIZE; i++)
		sum += e[i];
	assert_int_equal(sum, 0);
	assert_int_equal(e[18], 1); /* EDID 1.4 */
	assert_int_equal(e[19], 4);
	assert_true(e[20] & 0x80);   /* digital */
	assert_true(e[24] & 0x02);   /* the first detailed timing is the preferred mode */
	assert_int_equal(e[126], 0); /* no extensions */
	dtd_decode(e + 54, &dw, &dh, &clk);
	assert_int_equal(dw, w);
	assert_int_equal(dh, h);
	assert_true(clk > 0);
	/* Refresh = clock / (htotal * vtotal): 60 Hz unless the clock field capped it. */
	htot = dw + (e[57] | (uint32_t)(e[58] & 0xf) << 8);
	vtot = dh + (e[60] | (uint32_t)(e[61] & 0xf) << 8);
	if (clk < 0xffff) {
		uint64_t hz100 = (uint64_t)clk * 10000 * 100 / ((uint64_t)htot * vtot);

		assert_in_range(hz100, 5990, 6010);
	}
	/* The established 640x480, 800x600 and 1024x768 (60 Hz) beside it. */
	assert_int_equal(e[35], 0x21);
	assert_int_equal(e[36], 0x08);
	assert_int_equal(e[37], 0);
	/* Monitor name descriptor. */
	assert_int_equal(e[72 + 3], 0xfc);
	assert_memory_equal(e + 72 + 5, "hostel\n", 7);
}

static void test_edid_bytes(void **state)
{
	static const uint32_t sizes[][2] = {{1024, 768}, {1920, 1080}, {640, 480},
					    {1, 1},	 {3840, 2160}, {4095, 4095}};
	uint8_t e[GPU_EDID_SIZE], e2[GPU_EDID_SIZE];
	uint32_t w, h, clk;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		gpu_edid(sizes[i][0], sizes[i][1], e);
		edid_check(e, sizes[i][0], sizes[i][1]);
	}
	/* 4095x4095 at 60 Hz needs more than 655.35 MHz: the clock is capped. */
	dtd_decode(e + 54, &w, &h, &clk);
	assert_int_equal(clk, 0xffff);
	/* Sides past what a detailed timing holds are clamped; 0 becomes 1. */
	gpu_edid(8192, 100, e);
	edid_check(e, 4095, 100);
	gpu_edid(0, 0, e);
	edid_check(e, 1, 1);
	/* Another size, other bytes. */
	gpu_edid(1024, 768, e);
	gpu_edid(1280, 800, e2);
	assert_memory_not_equal(e, e2, GPU_EDID_SIZE);
}

static uint32_t get_edid(uint32_t scanout_id, uint32_t rlen, struct virtio_gpu_resp_edid *out)
{
	struct virtio_gpu_cmd_get_edid c = {0};
	uint64_t rs;
	uint32_t t;

	hdr(&c.hdr, VIRTIO_GPU_CMD_GET_EDID);
	c.scanout = htole32(scanout_id);
	t = send_ex(&c, sizeof(c), NULL, 0, rlen);
	/* send_ex allocated the response right after the request (+1, 16-aligned). */
	rs = E->next - ((rlen + 1 + 15) & ~15ull);
	if (t && out)
		memcpy(out, host(rs), MIN(E->written, (uint32_t)sizeof(*out)));
	return t;
}

static void test_get_edid(void **state)
{
	struct virtio_gpu_resp_edid r;
	uint8_t want[GPU_EDID_SIZE];
	unsigned int n0 = E->notified;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_int_equal(get_edid(0, sizeof(r), &r), VIRTIO_GPU_RESP_OK_EDID);
	assert_int_equal(E->written, sizeof(r));
	assert_int_equal(le32toh(r.size), GPU_EDID_SIZE);
	gpu_edid(GPU_DEFAULT_WIDTH, GPU_DEFAULT_HEIGHT, want);
	assert_memory_equal(r.edid, want, GPU_EDID_SIZE);
	edid_check(r.edid, 1024, 768);
	for (size_t i = GPU_EDID_SIZE; i < sizeof(r.edid); i++)
		assert_int_equal(r.edid[i], 0);
	/* A bad scanout id: an error header only. */
	assert_int_equal(get_edid(1, sizeof(r), NULL), E_SCAN);
	assert_int_equal(E->written, sizeof(struct virtio_gpu_ctrl_hdr));
	assert_int_equal(get_edid(0xffffffff, sizeof(r), NULL), E_SCAN);
	/* No room for the whole response: not executed. */
	assert_int_equal(get_edid(0, sizeof(r) - 1, NULL), 0);
	assert_int_equal(get_edid(0, sizeof(struct virtio_gpu_ctrl_hdr), NULL), 0);
	/* A resize wish: a display event, and the EDID now prefers the new size. */
	gpu_resize_request(E->g, 1280, 800);
	assert_int_equal(E->notified, n0 + 1);
	assert_int_equal(get_edid(0, sizeof(r), &r), VIRTIO_GPU_RESP_OK_EDID);
	edid_check(r.edid, 1280, 800);
	/* A wish the EDID cannot hold still answers, clamped; display info keeps it whole. */
	gpu_resize_request(E->g, 5000, 3000);
	assert_int_equal(get_edid(0, sizeof(r), &r), VIRTIO_GPU_RESP_OK_EDID);
	edid_check(r.edid, 4095, 3000);
	assert_int_equal(stats().get_edid, 5); /* the two chains without room were not executed */
	assert_int_equal(stats().err_scanout_id, 2);
}

/* ---- boot framebuffer ------------------------------------------------------------------ */

struct fbenv {
	struct fake_memslot ms;
	struct fake_clock clk;
	struct fake_timer tm;
	struct pci_host *h;
	struct fake_msi msi;
	struct vpci *v;
	struct pci_placements pl;
};

/* Replace E's gpu and display by ones with @vram bytes of video RAM, on PCI, placed. */
static struct fbenv *fb_env(uint64_t vram, uint32_t ui_w, uint32_t ui_h, bool with_ms,
			    bool with_timer)
{
	struct fbenv *f = must(calloc(1, sizeof(*f)));
	struct gpu_opts o = {.vram_size = vram};

	gpu_destroy(E->g);
	display_destroy(E->d);
	E->d = must(display_create());
	if (ui_w)
		display_request_resize(E->d, ui_w, ui_h);
	fake_memslot_init(&f->ms);
	fake_clock_init(&f->clk, 1000, 0);
	fake_timer_init(&f->tm, &f->clk);
	if (with_ms)
		o.memslot = &f->ms.ctl;
	if (with_timer) {
		o.refresh_timer = &f->tm.t;
		o.clock = &f->clk.clock;
	}
	E->g = must(gpu_create(&E->gm, E->d, &o));
	gpu_set_config_notify(E->g, on_config, E);
	f->h = must(pci_host_create());
	fake_msi_init(&f->msi);
	f->v = must(gpu_create_vpci(f->h, 2, E->g, &E->gm, &f->msi.ctl, NULL));
	assert_int_equal(
		pci_host_assign_bars(f->h, 0xc0000000ull, 0x20000000ull, 0xc000, 0x4000, &f->pl),
		0);
	return f;
}

static void fb_env_free(struct fbenv *f)
{
	gpu_set_config_notify(E->g, NULL, NULL);
	vpci_destroy(f->v);
	gpu_destroy(E->g); /* before the PCI host: it reads the BAR address */
	E->g = must(gpu_create(&E->gm, E->d, NULL));
	pci_host_destroy(f->h);
	free(f);
}

static uint32_t cfg_rd(struct pci_host *h, unsigned int slot, unsigned int reg, unsigned int len)
{
	struct dev *ecam = pci_host_ecam_dev(h);
	uint8_t b[4];

	ecam->ops->read(ecam, (uint64_t)slot << 15 | reg, b, len);
	return (uint32_t)dev_data_get(b, len);
}

static void cfg_wr(struct pci_host *h, unsigned int slot, unsigned int reg, uint32_t v)
{
	struct dev *ecam = pci_host_ecam_dev(h);
	uint8_t b[4];

	dev_data_put(b, 4, v);
	ecam->ops->write(ecam, (uint64_t)slot << 15 | reg, b, 4);
}

static void test_fb_bar_config(void **state)
{
	struct fbenv *f;
	struct gpu_fb_info fi;
	uint32_t bar0;

	(void)state;
	/* Without video RAM: "display controller, other", no BAR 0. */
	assert_false(gpu_fb_info(E->g, &fi));
	assert_null(gpu_fb_dev(E->g));
	assert_int_equal(gpu_fb_map(E->g), -ENODEV);
	assert_int_equal(gpu_vga_vpci_ops.pci_class, 0x030000);

	f = fb_env(GPU_VRAM_SIZE_DEFAULT, 0, 0, true, false);
	assert_int_equal(cfg_rd(f->h, 2, 0x08, 4) >> 8, 0x030000); /* VGA */
	bar0 = cfg_rd(f->h, 2, 0x10, 4);
	assert_int_equal(bar0 & 0xf, PCI_BAR_PREFETCH | PCI_BAR_MEM32);
	assert_int_equal(bar0 & (GPU_VRAM_SIZE_DEFAULT - 1) & ~0xfu, 0); /* naturally aligned */
	assert_true((bar0 & ~0xfu) >= 0xc0000000u);
	/* Sizing: all-ones reads back the size mask with the type bits. */
	cfg_wr(f->h, 2, 0x10, 0xffffffff);
	assert_int_equal(cfg_rd(f->h, 2, 0x10, 4), (uint32_t) ~(GPU_VRAM_SIZE_DEFAULT - 1) | 0x8);
	cfg_wr(f->h, 2, 0x10, bar0);
	assert_int_equal(cfg_rd(f->h, 2, 0x10, 4), bar0);
	/* The virtio BAR is still there (BAR 4, 64-bit). */
	assert_int_equal(cfg_rd(f->h, 2, 0x20, 4) & 0x7, PCI_BAR_MEM64);

	/* What the boot loader gets, and the mapping. */
	assert_true(gpu_fb_info(E->g, &fi));
	assert_true(fi.base == (bar0 & ~0xfu));
	assert_true(fi.size == GPU_VRAM_SIZE_DEFAULT);
	assert_int_equal(fi.width, 1024);
	assert_int_equal(fi.height, 768);
	assert_int_equal(fi.stride, 4096);
	assert_false(f->ms.mapped);
	assert_int_equal(gpu_fb_map(E->g), 0);
	assert_true(f->ms.mapped);
	assert_true(f->ms.log_dirty);
	assert_true(f->ms.gpa == fi.base);
	assert_true(f->ms.size == GPU_VRAM_SIZE_DEFAULT);
	assert_ptr_equal(f->ms.host, gpu_fb_vram(E->g));
	fb_env_free(f);
	assert_int_equal(f == NULL, 0);
}

static void test_fb_sizes(void **state)
{
	struct display *d = must(display_create());
	struct gpu_opts o = {0};
	struct gpu_fb_info fi;
	struct fbenv *f;

	(void)state;
	/* Video RAM sizes: a power of two within the bounds, and a display. */
	o.vram_size = (16ull << 20) + 4096;
	assert_null(gpu_create(&E->gm, d, &o));
	o.vram_size = GPU_VRAM_SIZE_MIN / 2;
	assert_null(gpu_create(&E->gm, d, &o));
	o.vram_size = GPU_VRAM_SIZE_MAX * 2;
	assert_null(gpu_create(&E->gm, d, &o));
	o.vram_size = GPU_VRAM_SIZE_DEFAULT;
	assert_null(gpu_create(&E->gm, NULL, &o));
	display_destroy(d);

	/* The window's size when it fits the video RAM... */
	f = fb_env(GPU_VRAM_SIZE_DEFAULT, 1920, 1080, false, false);
	assert_true(gpu_fb_info(E->g, &fi));
	assert_int_equal(fi.width, 1920);
	assert_int_equal(fi.height, 1080);
	assert_int_equal(fi.stride, 1920 * 4);
	fb_env_free(f);
	/* ...else 1024x768: 4096 x 4096 x 4 is 64 MiB. */
	f = fb_env(GPU_VRAM_SIZE_DEFAULT, 4096, 4096, false, false);
	assert_true(gpu_fb_info(E->g, &fi));
	assert_int_equal(fi.width, 1024);
	assert_int_equal(fi.height, 768);
	fb_env_free(f);
}

static uint32_t *vram32(void)
{
	return (uint32_t *)(void *)gpu_fb_vram(E->g);
}

static bool damage(struct display_rect *r)
{
	uint64_t gen;

	return display_take_damage(E->d, r, &gen);
}

static void test_fb_refresh(void **state)
{
	struct fbenv *f = fb_env(GPU_VRAM_SIZE_DEFAULT, 0, 0, true, false);
	struct display_rect r;
	uint32_t *v;

	(void)state;
	assert_int_equal(gpu_fb_map(E->g), 0);
	v = vram32();
	/* What firmware-less boot leaves: black. The first refresh sets the mode. */
	assert_true(gpu_fb_active(E->g));
	v[5] = 0x00123456; /* before the first refresh: compared whole, dirty or not */
	assert_true(gpu_fb_refresh(E->g));
	mode_is(1024, 768);
	assert_int_equal(px(5, 0), 0x123456);
	assert_true(damage(&r)); /* the mode change damaged everything */
	assert_int_equal(r.w, 1024);
	assert_int_equal(r.h, 768);
	/* Idle: no damage, nothing copied. */
	assert_false(gpu_fb_refresh(E->g));
	assert_false(damage(&r));

	/* A guest write the dirty log reports: exactly those pixels damaged. */
	v[300 * 1024 + 10] = 0x00ff0000;
	v[300 * 1024 + 12] = 0x0000ff00;
	fake_memslot_dirty(&f->ms, (300 * 1024 + 10) * 4, 12);
	assert_true(gpu_fb_refresh(E->g));
	assert_int_equal(px(10, 300), 0xff0000);
	assert_int_equal(px(12, 300), 0x00ff00);
	assert_true(damage(&r));
	assert_int_equal(r.x, 10);
	assert_int_equal(r.y, 300);
	assert_int_equal(r.w, 3);
	assert_int_equal(r.h, 1);
	/* A dirty page whose bytes did not change: no damage. */
	fake_memslot_dirty(&f->ms, 300 * 1024 * 4, 4096);
	assert_false(gpu_fb_refresh(E->g));
	assert_false(damage(&r));
	/* The top byte is not colour: a write of it alone changes nothing. */
	v[300 * 1024 + 10] = 0xabff0000;
	fake_memslot_dirty(&f->ms, (300 * 1024 + 10) * 4, 4);
	assert_false(gpu_fb_refresh(E->g));
	assert_false(damage(&r));
	assert_int_equal(px(10, 300), 0xff0000);
	/* A write the log does not report is not looked for (the log is the source). */
	v[600 * 1024] = 0x00777777;
	assert_false(gpu_fb_refresh(E->g));
	assert_int_equal(px(0, 600), 0);
	/* Spans across rows damage whole rows; two apart runs, their bounds. */
	fake_memslot_dirty(&f->ms, 600 * 1024 * 4, 4);
	v[601 * 1024 + 1023] = 0x00010101;
	fake_memslot_dirty(&f->ms, (601 * 1024 + 1023) * 4, 4);
	assert_true(gpu_fb_refresh(E->g));
	assert_true(damage(&r));
	assert_int_equal(r.x, 0);
	assert_int_equal(r.y, 600);
	assert_int_equal(r.w, 1024);
	assert_int_equal(r.h, 2);
	/* Pages past the visible pixels (vram beyond 1024x768x4) are ignored. */
	v[1024 * 768 + 5] = 0x00ffffff;
	fake_memslot_dirty(&f->ms, (1024 * 768 + 5) * 4, 4);
	fake_memslot_dirty(&f->ms, GPU_VRAM_SIZE_DEFAULT - 4, 4);
	assert_false(gpu_fb_refresh(E->g));
	/* The dirty log failing: every page compared. */
	v[700 * 1024 + 3] = 0x00030303;
	f->ms.dirty_ret = -EIO;
	assert_true(gpu_fb_refresh(E->g));
	assert_int_equal(px(3, 700), 0x030303);
	assert_int_equal(stats().fb_dirty_errors, 1);
	/* Per page, first to last changed pixel: 1, 3 (10..12), 1, 1, 1. */
	assert_int_equal(stats().fb_pixels, 1 + 3 + 1 + 1 + 1);
	fb_env_free(f);
}

static void test_fb_whole_vram(void **state)
{
	/* A mode that fills the video RAM to its last byte, compared whole: the
	 * guard page after the video RAM would fault on any read past it. */
	struct fbenv *f = fb_env(GPU_VRAM_SIZE_MIN, 1024, 1024, false, false);
	struct gpu_fb_info fi;
	struct dev *bar = gpu_fb_dev(E->g);
	uint8_t b[8];
	uint32_t *v;

	(void)state;
	assert_true(gpu_fb_info(E->g, &fi));
	assert_int_equal((uint64_t)fi.height * fi.stride, GPU_VRAM_SIZE_MIN);
	assert_int_equal(gpu_fb_map(E->g), 0); /* no memslot: through the bus */
	v = vram32();
	for (uint32_t i = 0; i < 1024 * 1024; i++)
		v[i] = i & 0xffffff;
	assert_true(gpu_fb_refresh(E->g));
	mode_is(1024, 1024);
	assert_int_equal(px(1023, 1023), (1023u * 1024 + 1023) & 0xffffff);
	/* With no dirty log every refresh compares, and finds nothing new. */
	assert_false(gpu_fb_refresh(E->g));
	/* The bus path writes the video RAM, bounded to it. */
	dev_data_put(b, 4, 0x00abcdef);
	bar->ops->write(bar, GPU_VRAM_SIZE_MIN - 4, b, 4);
	assert_int_equal(v[1024 * 1024 - 1], 0xabcdef);
	assert_true(gpu_fb_refresh(E->g));
	assert_int_equal(px(1023, 1023), 0xabcdef);
	bar->ops->read(bar, GPU_VRAM_SIZE_MIN - 4, b, 4);
	assert_int_equal(dev_data_get(b, 4), 0xabcdef);
	bar->ops->write(bar, GPU_VRAM_SIZE_MIN - 2, b, 4); /* straddles the end */
	bar->ops->read(bar, GPU_VRAM_SIZE_MIN - 2, b, 4);
	assert_int_equal(dev_data_get(b, 4), 0xffffffff);
	bar->ops->read(bar, UINT64_MAX - 1, b, 8);
	assert_true(dev_data_get(b, 8) == UINT64_MAX);
	assert_int_equal(v[1024 * 1024 - 1], 0xabcdef);
	assert_int_equal(stats().fb_bad_accesses, 3);
	fb_env_free(f);
}

static void test_fb_takeover(void **state)
{
	struct fbenv *f = fb_env(GPU_VRAM_SIZE_DEFAULT, 0, 0, true, true);
	uint64_t a = gpa_alloc(64 * 64 * 4);
	struct virtio_gpu_mem_entry e = ent(a, 64 * 64 * 4);
	unsigned int fired;

	(void)state;
	assert_false(f->tm.armed); /* the timer starts at gpu_fb_map */
	assert_int_equal(gpu_fb_map(E->g), 0);
	assert_true(f->tm.armed);
	vram32()[0] = 0x00a0a0a0;
	fake_clock_advance_to(&f->clk, &f->tm, 1000 + GPU_FB_REFRESH_NS, 10);
	assert_int_equal(f->tm.fired, 1);
	assert_true(f->tm.armed); /* again, GPU_FB_REFRESH_NS later */
	assert_true(f->tm.deadline == 1000 + 2 * GPU_FB_REFRESH_NS);
	assert_int_equal(px(0, 0), 0xa0a0a0);
	assert_int_equal(stats().fb_refreshes, 1);

	/* The driver's scanout takes the display over. */
	fill(a, XRGB, 64, 64);
	assert_int_equal(create(3, XRGB, 64, 64), NODATA);
	assert_int_equal(attach_raw(3, 1, &e, 1), NODATA);
	assert_int_equal(transfer(3, rect(0, 0, 64, 64), 0), NODATA);
	assert_int_equal(scanout(0, 3, rect(0, 0, 64, 64)), NODATA);
	assert_false(gpu_fb_active(E->g));
	mode_is(64, 64);
	assert_int_equal(px(0, 0), colour(0, 0));
	/* Boot-framebuffer writes no longer reach the display; the timer rests. */
	vram32()[0] = 0x00ffffff;
	fake_memslot_dirty(&f->ms, 0, 4);
	fired = f->tm.fired;
	fake_clock_advance_to(&f->clk, &f->tm, 1000 + 10 * GPU_FB_REFRESH_NS, fired + 10);
	assert_int_equal(f->tm.fired, fired + 1);
	assert_false(f->tm.armed);
	assert_false(gpu_fb_refresh(E->g));
	mode_is(64, 64);
	assert_int_equal(px(0, 0), colour(0, 0));
	assert_int_equal(stats().fb_refreshes, 1);

	/* A device reset (the driver went away): the boot framebuffer again, whole. */
	gpu_reset(E->g);
	assert_true(gpu_fb_active(E->g));
	assert_true(f->tm.armed);
	fake_clock_advance_to(&f->clk, &f->tm, 1000 + 12 * GPU_FB_REFRESH_NS, f->tm.fired + 1);
	mode_is(1024, 768);
	assert_int_equal(px(0, 0), 0xffffff);
	fb_env_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_info_front_end_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_happy_path_xrgb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_happy_path_rgbx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subrects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rect_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backing_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbled_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unref_scanned_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_display_mode_changed_underneath, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resize_event, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_frees, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vpci_config_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edid_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_edid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fb_bar_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fb_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fb_refresh, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fb_whole_vram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fb_takeover, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
