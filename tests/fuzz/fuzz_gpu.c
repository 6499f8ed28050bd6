// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for virtio-gpu (devices/virtio/gpu/gpu.c) over 256 KiB
 * of fake guest RAM, a real struct display and a small memory cap (4 MiB,
 * 8 resources), so that big resources are refused quickly instead of
 * allocated. The input plays a hostile driver:
 *
 *   op % 8 = 0: a raw command: 2 bytes of request length (up to 1 KiB),
 *       that many bytes verbatim, a response length byte (x 2), a split
 *       point (request in one or two readable segments), all written into
 *       RAM and handed to gpu_handle_chain() as a hand-built chain;
 *   1-3: a structured command: a type from the 2D set (or any value), small
 *       ids, dimensions, rectangles, offsets and backing entries drawn from
 *       the input (addresses near and across the end of RAM), so that
 *       resources get created, backed, scanned out, transferred, flushed;
 *   4: a cursor-queue command (raw bytes);
 *   5: ring contents: descriptors and avail entries of a real controlq
 *       (size 8) written from the input, then the queue drained as the
 *       worker does (virtq_pop, gpu_handle_chain, virtq_push); a broken
 *       ring is reset;
 *   6: a front-end resize wish, config space reads and writes, or guest
 *      writes to the boot framebuffer's video RAM through its BAR device
 *      (offsets near and past its end) followed by a refresh;
 *   7: scribble over RAM (guest pages change under the device), or a reset.
 *
 * Checked after every command: the response fits its buffer and is 24,
 * 408 (display info) or 1056 (EDID, checksummed, size 128) bytes with a
 * known type; the device's host memory stays under the
 * cap and its resource count under the limit; after a reset both are 0.
 * ASan and UBSan check every guest-driven copy.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_gpu.h>

#include "hostel/device.h"
#include "hostel/display.h"
#include "hostel/log.h"
#include "ring_harness.h"
#include "virtio/gpu/gpu.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM	  0x40000u
#define QSIZE	  8
#define MEM_CAP	  (4u << 20)
#define MAX_RES	  8
#define SCRATCH	  0x8000u /* request/response area, after the rings */
#define SCRATCH_N 0x4000u
#define MAX_OPS	  256

static struct {
	struct ring_harness h;
	struct virtq vq;
	struct gpu *g;
	struct display *d;
} F;

static struct virtq_chain chain;
static uint8_t cmdbuf[2048];

/* The first @len bytes of the chain's writable part. */
static bool resp_read(const struct virtq_chain *ch, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	for (unsigned int i = ch->nr_read; i < ch->nr_segs && len; i++) {
		uint32_t n = ch->segs[i].len < len ? ch->segs[i].len : len;

		memcpy(d, ch->segs[i].host, n);
		d += n;
		len -= n;
	}
	return len == 0;
}

static void check_response(uint32_t written, const struct virtq_chain *ch, int r)
{
	struct virtio_gpu_ctrl_hdr resp;
	struct gpu_stats st;
	uint32_t t;

	gpu_get_stats(F.g, &st);
	CHECK(st.mem_used <= MEM_CAP);
	CHECK(st.resources <= MAX_RES);
	if (r < 0) {
		CHECK(written == 0);
		return;
	}
	CHECK(written == 0 || written == 24 ||
	      written == sizeof(struct virtio_gpu_resp_display_info) ||
	      written == sizeof(struct virtio_gpu_resp_edid));
	if (!written)
		return;
	CHECK(written <= ch->write_len);
	CHECK(resp_read(ch, &resp, sizeof(resp)));
	t = le32toh(resp.type);
	CHECK(t == VIRTIO_GPU_RESP_OK_NODATA || t == VIRTIO_GPU_RESP_OK_DISPLAY_INFO ||
	      t == VIRTIO_GPU_RESP_OK_EDID ||
	      (t >= VIRTIO_GPU_RESP_ERR_UNSPEC && t <= VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER));
	CHECK((t == VIRTIO_GPU_RESP_OK_DISPLAY_INFO) ==
	      (written == sizeof(struct virtio_gpu_resp_display_info)));
	CHECK((t == VIRTIO_GPU_RESP_OK_EDID) == (written == sizeof(struct virtio_gpu_resp_edid)));
	if (t == VIRTIO_GPU_RESP_OK_EDID) {
		static struct virtio_gpu_resp_edid e;
		uint8_t sum = 0;

		CHECK(resp_read(ch, &e, sizeof(e)));
		CHECK(le32toh(e.size) == GPU_EDID_SIZE);
		for (unsigned int i = 0; i < GPU_EDID_SIZE; i++)
			sum += e.edid[i];
		CHECK(sum == 0);
		CHECK(e.edid[0] == 0 && e.edid[1] == 0xff && e.edid[7] == 0);
	}
}

/* Build a chain over scratch RAM: request [rq, rq+len) split at @split, response of @rlen. */
static void run_chain(unsigned int q, const uint8_t *req, uint32_t len, uint32_t split,
		      uint32_t rlen)
{
	uint64_t rq = F.h.ram_gpa + SCRATCH, rs = rq + ((len + 15) & ~15u);
	uint32_t written = 0;
	int r;

	if (len > SCRATCH_N / 2 || rlen > SCRATCH_N / 2)
		return;
	memcpy(F.h.ram + SCRATCH, req, len);
	memset(&chain, 0, sizeof(chain));
	if (split > len)
		split = len;
	if (split) {
		chain.segs[chain.nr_segs++] =
			(struct virtq_seg){gmem_ptr(&F.h.gm, rq, split), rq, split, false};
	}
	if (len - split) {
		chain.segs[chain.nr_segs++] = (struct virtq_seg){
			gmem_ptr(&F.h.gm, rq + split, len - split), rq + split, len - split, false};
	}
	chain.nr_read = chain.nr_segs;
	chain.read_len = len;
	if (rlen) {
		chain.segs[chain.nr_segs++] =
			(struct virtq_seg){gmem_ptr(&F.h.gm, rs, rlen), rs, rlen, true};
		chain.write_len = rlen;
	}
	r = gpu_handle_chain(F.g, q, &chain, &written);
	if (q == GPU_CURSORQ) {
		CHECK(r < 0 || written == 0);
		return;
	}
	check_response(written, &chain, r);
}

static void op_raw(struct in *in)
{
	uint32_t len = get16(in) % 1024, rlen, split;

	for (uint32_t i = 0; i < len; i++)
		cmdbuf[i] = get8(in);
	rlen = (uint32_t)get8(in) * 2;
	split = get8(in);
	run_chain(GPU_CONTROLQ, cmdbuf, len, split, rlen);
}

static const uint32_t types[] = {
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_GET_EDID,
	VIRTIO_GPU_CMD_CTX_CREATE,
	0,
};

static const uint32_t formats[] = {1, 2, 3, 4, 67, 68, 121, 134, 0, 5};

/* A small value mostly, now and then a big one. */
static uint32_t dim(struct in *in)
{
	uint8_t b = get8(in);

	if (b < 0xf0)
		return b % 80;
	return get32(in);
}

static struct virtio_gpu_rect rect(struct in *in)
{
	struct virtio_gpu_rect r;

	r.x = htole32(dim(in));
	r.y = htole32(dim(in));
	r.width = htole32(dim(in));
	r.height = htole32(dim(in));
	return r;
}

static void op_structured(struct in *in)
{
	uint8_t sel = get8(in);
	uint32_t type = types[sel % 16], id = get8(in) % 10;
	struct virtio_gpu_ctrl_hdr *h = (struct virtio_gpu_ctrl_hdr *)(void *)cmdbuf;
	uint32_t len = sizeof(*h), rlen;

	if (type == 0)
		type = get32(in);
	memset(cmdbuf, 0, 128);
	h->type = htole32(type);
	h->flags = htole32(get8(in) & 3);
	h->fence_id = htole64(sel);
	switch (type) {
	case VIRTIO_GPU_CMD_GET_EDID: {
		struct virtio_gpu_cmd_get_edid *c = (void *)cmdbuf;

		c->scanout = htole32(get8(in) < 0xf0 ? get8(in) % 2 : get32(in));
		len = sizeof(*c);
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D: {
		struct virtio_gpu_resource_create_2d *c = (void *)cmdbuf;

		c->resource_id = htole32(id);
		c->format = htole32(formats[get8(in) % 10]);
		c->width = htole32(dim(in));
		c->height = htole32(dim(in));
		len = sizeof(*c);
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING: {
		struct virtio_gpu_resource_unref *c = (void *)cmdbuf;

		c->resource_id = htole32(id);
		len = sizeof(*c);
		break;
	}
	case VIRTIO_GPU_CMD_SET_SCANOUT: {
		struct virtio_gpu_set_scanout *c = (void *)cmdbuf;

		c->r = rect(in);
		c->scanout_id = htole32(get8(in) < 0xf0 ? 0 : 1);
		c->resource_id = htole32(id);
		len = sizeof(*c);
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH: {
		struct virtio_gpu_resource_flush *c = (void *)cmdbuf;

		c->r = rect(in);
		c->resource_id = htole32(id);
		len = sizeof(*c);
		break;
	}
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D: {
		struct virtio_gpu_transfer_to_host_2d *c = (void *)cmdbuf;
		uint8_t b = get8(in);

		c->r = rect(in);
		c->offset = htole64(b < 0xf0 ? (uint64_t)get16(in) * 4 : ~(uint64_t)get16(in));
		c->resource_id = htole32(id);
		len = sizeof(*c);
		break;
	}
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING: {
		struct virtio_gpu_resource_attach_backing *c = (void *)cmdbuf;
		struct virtio_gpu_mem_entry *e = (void *)(cmdbuf + sizeof(*c));
		uint32_t n = get8(in) % 9, claim = n;

		if (get8(in) >= 0xf0)
			claim = get32(in);
		c->resource_id = htole32(id);
		c->nr_entries = htole32(claim);
		for (uint32_t i = 0; i < n; i++) {
			uint8_t b = get8(in);
			uint64_t addr = F.h.ram_gpa + (uint64_t)get16(in) * 4;

			if (b >= 0xf8)
				addr = (uint64_t)get32(in) << (b & 7) * 8; /* anywhere */
			e[i].addr = htole64(addr);
			e[i].length = htole32(b & 1 ? (uint32_t)get16(in) << 2 : get32(in));
		}
		len = sizeof(*c) + n * sizeof(*e);
		break;
	}
	default:
		break;
	}
	{
		uint8_t b = get8(in);

		/* Room for any response mostly; now and then exactly display info's, or less. */
		rlen = b < 0xe0	  ? sizeof(struct virtio_gpu_resp_edid)
		       : b < 0xf0 ? sizeof(struct virtio_gpu_resp_display_info)
				  : get8(in);
	}
	run_chain(GPU_CONTROLQ, cmdbuf, len, get8(in) < 0xf0 ? len : get8(in) % (len + 1), rlen);
}

static void op_cursor(struct in *in)
{
	uint32_t len = get8(in);

	for (uint32_t i = 0; i < len; i++)
		cmdbuf[i] = get8(in);
	if (len >= 4 && (cmdbuf[0] & 1)) {
		uint32_t t = htole32(cmdbuf[1] & 1 ? VIRTIO_GPU_CMD_MOVE_CURSOR
						   : VIRTIO_GPU_CMD_UPDATE_CURSOR);

		memcpy(cmdbuf, &t, 4);
	}
	run_chain(GPU_CURSORQ, cmdbuf, len, get8(in), get8(in) & 1 ? 24 : 0);
}

static void queue_restart(void)
{
	struct virtq_config cfg = rh_config(&F.h);

	virtq_reset(&F.vq);
	memset(F.h.ram, 0, F.h.data_gpa - F.h.ram_gpa);
	F.h.avail_idx = F.h.last_used = F.h.next_desc = 0;
	CHECK(virtq_init(&F.vq, &F.h.gm, &cfg) == 0);
}

static void op_ring(struct in *in)
{
	unsigned int nd = get8(in) % (QSIZE + 1), np = get8(in) % 4;
	int r;

	/* Descriptors: address mostly inside the scratch area, sometimes anywhere. */
	for (unsigned int i = 0; i < nd; i++) {
		uint8_t b = get8(in);
		uint64_t addr = F.h.ram_gpa + SCRATCH + (uint64_t)get16(in) % SCRATCH_N;
		uint32_t len = get16(in) % 1024;

		if (b >= 0xf0)
			addr = (uint64_t)get32(in) << (b & 7) * 4;
		rh_write_desc(&F.h, get8(in) % QSIZE, addr, len, get8(in) & 7, get8(in) % QSIZE);
	}
	/* Request bytes into the scratch area. */
	{
		uint32_t off = get16(in) % SCRATCH_N, n = get8(in);

		for (uint32_t i = 0; i < n && off + i < SCRATCH_N; i++)
			F.h.ram[SCRATCH + off + i] = get8(in);
	}
	for (unsigned int i = 0; i < np; i++)
		rh_publish(&F.h, get8(in) % (QSIZE + 2));
	if (get8(in) >= 0xf8)
		rh_set_avail_idx(&F.h, get16(in));
	for (unsigned int k = 0; k < 2 * QSIZE; k++) {
		uint32_t written = 0;

		r = virtq_pop(&F.vq, &chain);
		if (r == 0)
			break;
		if (r == -EIO) {
			queue_restart();
			break;
		}
		if (r == 1) {
			int hr = gpu_handle_chain(F.g, GPU_CONTROLQ, &chain, &written);

			check_response(written, &chain, hr);
		}
		virtq_push(&F.vq, chain.head, written);
	}
	{
		uint32_t id, len;

		while (rh_get_used(&F.h, &id, &len))
			;
	}
}

static void op_misc(struct in *in)
{
	uint8_t b = get8(in);
	uint8_t buf[8];

	switch (b % 5) {
	case 0:
		display_request_resize(F.d, dim(in) * 8, dim(in) * 8);
		break;
	case 4: {
		/* Guest writes to the video RAM through the BAR, then a refresh. */
		struct dev *bar = gpu_fb_dev(F.g);
		unsigned int n = get8(in) % 8;

		CHECK(bar);
		for (unsigned int i = 0; i < n; i++) {
			uint8_t k = get8(in);
			uint64_t off = k < 0xf0 ? (uint64_t)get32(in) % (GPU_VRAM_SIZE_MIN + 64)
						: (uint64_t)get32(in) << 32 | get32(in);
			unsigned int len = 1u << (k & 3);

			for (unsigned int j = 0; j < 8; j++)
				buf[j] = get8(in);
			if (k & 4)
				bar->ops->read(bar, off, buf, len);
			else
				bar->ops->write(bar, off, buf, len);
		}
		gpu_fb_refresh(F.g);
		break;
	}
	case 1:
		gpu_config_read(F.g, get8(in) < 0xf0 ? get8(in) % 20 : get32(in), buf,
				1 + get8(in) % 8);
		break;
	case 2:
		for (unsigned int i = 0; i < sizeof(buf); i++)
			buf[i] = get8(in);
		gpu_config_write(F.g, get8(in) < 0xf0 ? get8(in) % 20 : get32(in), buf,
				 1 + get8(in) % 8);
		break;
	default: {
		uint32_t w, h, stride;

		/* The front end reads the picture while the device is running. */
		uint32_t *p = display_lock(F.d, &w, &h, &stride);

		if (p && w && h)
			CHECK(p[(size_t)(h - 1) * (stride / 4) + w - 1] <= 0xffffff);
		display_unlock(F.d);
		break;
	}
	}
}

static void op_scribble_or_reset(struct in *in)
{
	uint8_t b = get8(in);

	if (b < 0x20) {
		struct gpu_stats st;

		gpu_reset(F.g);
		gpu_get_stats(F.g, &st);
		CHECK(st.resources == 0 && st.mem_used == 0);
		return;
	}
	{
		uint32_t off = SCRATCH + get16(in) % (RAM - SCRATCH), n = get8(in);

		for (uint32_t i = 0; i < n && off + i < RAM; i++)
			F.h.ram[off + i] = get8(in);
	}
}

static void init_once(void)
{
	static bool done;
	FILE *devnull;

	if (done)
		return;
	done = true;
	devnull = fopen("/dev/null", "w");
	if (devnull)
		log_set_file(devnull);
	log_set_level(LOG_ERROR);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpu_opts o = {
		.max_resources = MAX_RES, .mem_cap = MEM_CAP, .vram_size = GPU_VRAM_SIZE_MIN};
	struct in in = {data, size};
	struct virtq_config cfg;

	init_once();
	if (rh_init(&F.h, QSIZE, RAM))
		return 0;
	cfg = rh_config(&F.h);
	CHECK(virtq_init(&F.vq, &F.h.gm, &cfg) == 0);
	F.d = display_create();
	CHECK(F.d);
	F.g = gpu_create(&F.h.gm, F.d, &o);
	CHECK(F.g);
	for (unsigned int n = 0; in.n && n < MAX_OPS; n++) {
		switch (get8(&in) % 8) {
		case 0:
			op_raw(&in);
			break;
		case 1:
		case 2:
		case 3:
			op_structured(&in);
			break;
		case 4:
			op_cursor(&in);
			break;
		case 5:
			op_ring(&in);
			break;
		case 6:
			op_misc(&in);
			break;
		default:
			op_scribble_or_reset(&in);
			break;
		}
	}
	gpu_destroy(F.g);
	display_destroy(F.d);
	virtq_reset(&F.vq);
	rh_fini(&F.h);
	return 0;
}
