// SPDX-License-Identifier: MIT
/*
 * virtio-gpu device model, 2D (virtio 1.x, section "GPU Device"): the
 * controlq command set over host copies of guest resources, the scanout
 * on a struct display, display-change events, the cursor queue (counted
 * only), the worker threads and the virtio-pci adapter. See gpu.h for the
 * guest-visible behaviour.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>

#include "hostel/clock.h"
#include "hostel/device.h"
#include "hostel/log.h"
#include "hostel/memslot.h"
#include "virtio/gpu/gpu.h"
#include "virtio/pci/vpci.h"

#define HDR_SIZE     ((uint32_t)sizeof(struct virtio_gpu_ctrl_hdr))   /* 24 */
#define CONFIG_SIZE  ((unsigned int)sizeof(struct virtio_gpu_config)) /* 16 */
#define BPP	     4u
#define NOTIFY_BATCH 32
/* The largest request read into the command buffer (ATTACH_BACKING has entries after it). */
#define CMD_MAX 64u

_Static_assert(sizeof(struct virtio_gpu_transfer_to_host_2d) <= CMD_MAX &&
		       sizeof(struct virtio_gpu_set_scanout) <= CMD_MAX &&
		       sizeof(struct virtio_gpu_cmd_get_edid) <= CMD_MAX,
	       "command buffer too small");

#ifndef VIRTIO_ID_GPU
#define VIRTIO_ID_GPU 16
#endif

struct backing_ent {
	uint8_t *host;
	uint64_t start; /* offset of this entry in the backing */
	uint64_t len;
};

struct resource {
	uint32_t id; /* 0: free slot */
	uint32_t format;
	uint32_t width, height;
	uint64_t size;	 /* width * height * 4 */
	uint8_t *pixels; /* host copy, guest format, stride width * 4 */
	struct backing_ent *ents;
	uint32_t nr_ents;
	uint64_t backing_len;
	uint64_t ents_mem; /* host bytes of ents, counted in mem_used */
};

struct worker {
	struct gpu *g;
	unsigned int q;
	pthread_t thread;
	bool running;
	bool stop; /* atomic */
	bool broken;
	int stop_fd;
	int kick_fd;
	struct virtq *vq;
	struct gpu_queue_cb cb;
	unsigned int unsignalled;
	struct virtq_chain chain;
};

struct gpu {
	const struct gmem *gm;
	struct display *d;
	uint32_t max_resources;
	uint64_t mem_cap, mem_used;
	uint64_t offered, negotiated;

	/* Controlq state: only the controlq worker (or a test) touches it. */
	struct resource *res; /* max_resources slots */
	uint32_t nr_res;
	struct {
		struct resource *res; /* NULL: disabled */
		struct virtio_gpu_rect r;
	} scanout;

	/* Config and preferred size: from vCPUs, the front end, the worker. */
	pthread_mutex_t cfg_lock;
	uint32_t events_read;
	uint32_t pref_w, pref_h;
	void (*cfg_notify)(void *opaque);
	void *cfg_opaque;

	struct worker w[GPU_NR_QUEUES];
	struct gpu_stats stats;

	/* Boot framebuffer (gpu.h); vram NULL without one. */
	struct {
		uint8_t *vram; /* vram_size bytes, mmap'd (page aligned for a memslot) */
		uint64_t size;
		uint32_t w, h; /* the mode screen_info describes; stride w * 4 */
		struct pci_func *func;
		struct memslot_ctl *ms;
		int slot; /* memslot handle, -1: not mapped */
		struct timer *timer;
		struct clock *clock;
		bool active;	/* atomic: the display shows the video RAM */
		bool need_full; /* atomic: next refresh compares every page */
		uint64_t *bitmap;
		struct dev dev;
	} fb;
};

#define STAT_ADD(g, field, n) __atomic_fetch_add(&(g)->stats.field, (n), __ATOMIC_RELAXED)
#define STAT_SET(g, field, v) __atomic_store_n(&(g)->stats.field, (v), __ATOMIC_RELAXED)

/* ---- config space, features ---------------------------------------------- */

unsigned int gpu_config_size(void)
{
	return CONFIG_SIZE;
}

void gpu_config_read(struct gpu *g, uint64_t off, void *data, unsigned int len)
{
	struct virtio_gpu_config c;
	uint8_t *d = data, *s = (uint8_t *)&c;

	memset(&c, 0, sizeof(c));
	pthread_mutex_lock(&g->cfg_lock);
	c.events_read = htole32(g->events_read);
	pthread_mutex_unlock(&g->cfg_lock);
	c.events_clear = 0;
	c.num_scanouts = htole32(1);
	c.num_capsets = 0;
	for (unsigned int i = 0; i < len; i++)
		d[i] = (off < CONFIG_SIZE && i < CONFIG_SIZE - off) ? s[off + i] : 0;
}

void gpu_config_write(struct gpu *g, uint64_t off, const void *data, unsigned int len)
{
	const size_t clr = offsetof(struct virtio_gpu_config, events_clear);
	const uint8_t *d = data;
	uint32_t mask = 0;
	bool any = false;

	/* Only events_clear is writable; each byte written lands in its place. */
	for (unsigned int i = 0; i < len; i++) {
		if (off >= clr + 4 || i >= clr + 4 - off || off + i < clr)
			continue;
		mask |= (uint32_t)d[i] << (8 * (off + i - clr));
		any = true;
	}
	if (!any) {
		log_ratelimited(LOG_DEBUG, "virtio-gpu: config write at %#llx ignored",
				(unsigned long long)off);
		return;
	}
	pthread_mutex_lock(&g->cfg_lock);
	g->events_read &= ~mask;
	pthread_mutex_unlock(&g->cfg_lock);
}

uint64_t gpu_features(const struct gpu *g)
{
	return g->offered;
}

void gpu_set_features(struct gpu *g, uint64_t negotiated)
{
	__atomic_store_n(&g->negotiated, negotiated & g->offered, __ATOMIC_RELAXED);
}

void gpu_set_config_notify(struct gpu *g, void (*fn)(void *opaque), void *opaque)
{
	pthread_mutex_lock(&g->cfg_lock);
	g->cfg_notify = fn;
	g->cfg_opaque = opaque;
	pthread_mutex_unlock(&g->cfg_lock);
}

void gpu_get_stats(const struct gpu *g, struct gpu_stats *st)
{
	const uint64_t *src = (const uint64_t *)(const void *)&g->stats;
	uint64_t *dst = (uint64_t *)(void *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- display-change events ------------------------------------------------ */

void gpu_resize_request(struct gpu *g, uint32_t w, uint32_t h)
{
	void (*fn)(void *);
	void *opaque;

	if (w == 0 || h == 0 || w > DISPLAY_MAX_DIM || h > DISPLAY_MAX_DIM) {
		log_ratelimited(LOG_DEBUG, "virtio-gpu: resize to %ux%u ignored", w, h);
		return;
	}
	pthread_mutex_lock(&g->cfg_lock);
	g->pref_w = w;
	g->pref_h = h;
	g->events_read |= VIRTIO_GPU_EVENT_DISPLAY;
	fn = g->cfg_notify;
	opaque = g->cfg_opaque;
	pthread_mutex_unlock(&g->cfg_lock);
	STAT_ADD(g, display_events, 1);
	log_debug("virtio-gpu: the window wishes %ux%u: display event raised%s", w, h,
		  fn ? "" : " (no transport yet)");
	if (fn)
		fn(opaque);
}

static void resize_hook(void *opaque, uint32_t w, uint32_t h)
{
	gpu_resize_request(opaque, w, h);
}

/* ---- boot framebuffer --------------------------------------------------------- */

static void fb_tick(void *opaque);

/* The bus path to the video RAM, when it is not mapped as a memory slot. */
static void fb_bar_read(struct dev *dv, uint64_t off, void *data, unsigned len)
{
	struct gpu *g = container_of(dv, struct gpu, fb.dev);

	if (len > 8 || off >= g->fb.size || len > g->fb.size - off) {
		STAT_ADD(g, fb_bad_accesses, 1);
		memset(data, 0xff, len);
		return;
	}
	memcpy(data, g->fb.vram + off, len);
}

static void fb_bar_write(struct dev *dv, uint64_t off, const void *data, unsigned len)
{
	struct gpu *g = container_of(dv, struct gpu, fb.dev);

	if (len > 8 || off >= g->fb.size || len > g->fb.size - off) {
		STAT_ADD(g, fb_bad_accesses, 1);
		log_ratelimited(LOG_DEBUG, "virtio-gpu: video RAM write at %#llx+%u dropped",
				(unsigned long long)off, len);
		return;
	}
	memcpy(g->fb.vram + off, data, len);
}

static const struct dev_ops fb_bar_ops = {
	.name = "virtio-gpu-vram",
	.read = fb_bar_read,
	.write = fb_bar_write,
};

static uint64_t fb_pages(const struct gpu *g)
{
	return g->fb.size / MEMSLOT_PAGE;
}

static int fb_init(struct gpu *g, const struct gpu_opts *o)
{
	uint64_t size = o->vram_size;
	uint32_t w = GPU_DEFAULT_WIDTH, h = GPU_DEFAULT_HEIGHT;
	void *p;

	if (!g->d || size < GPU_VRAM_SIZE_MIN || size > GPU_VRAM_SIZE_MAX || (size & (size - 1)) ||
	    (o->refresh_timer && !o->clock)) {
		log_error("virtio-gpu: boot framebuffer: bad video RAM size %llu or no display",
			  (unsigned long long)size);
		return -EINVAL;
	}
	/* The front end's size if it fits the video RAM, else 1024x768. */
	pthread_mutex_lock(&g->cfg_lock);
	if ((uint64_t)g->pref_w * g->pref_h * BPP <= size) {
		w = g->pref_w;
		h = g->pref_h;
	}
	pthread_mutex_unlock(&g->cfg_lock);
	if ((uint64_t)w * h * BPP > size)
		return -EINVAL;
	/* One inaccessible page after the video RAM: a read past it faults, never leaks. */
	p = mmap(NULL, (size_t)size + MEMSLOT_PAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_error("virtio-gpu: video RAM: %s", strerror(errno));
		return -ENOMEM;
	}
	if (mprotect((uint8_t *)p + size, MEMSLOT_PAGE, PROT_NONE) < 0) {
		log_error("virtio-gpu: video RAM guard page: %s", strerror(errno));
		munmap(p, (size_t)size + MEMSLOT_PAGE);
		return -ENOMEM;
	}
	g->fb.vram = p;
	g->fb.size = size;
	g->fb.bitmap = calloc((fb_pages(g) + 63) / 64, sizeof(uint64_t));
	if (!g->fb.bitmap)
		return -ENOMEM;
	g->fb.w = w;
	g->fb.h = h;
	g->fb.ms = o->memslot;
	g->fb.timer = o->refresh_timer;
	g->fb.clock = o->clock;
	g->fb.dev.ops = &fb_bar_ops;
	if (g->fb.timer) {
		g->fb.timer->fn = fb_tick;
		g->fb.timer->opaque = g;
	}
	g->fb.active = true;
	g->fb.need_full = true;
	return 0;
}

static void fb_arm(struct gpu *g)
{
	/* Without a dirty log each refresh compares every page (~0.6 ms at
	 * 1024x768): a third of the rate keeps an idle screen near free. */
	uint64_t period = g->fb.slot >= 0 ? GPU_FB_REFRESH_NS : 3 * GPU_FB_REFRESH_NS;

	if (g->fb.timer)
		timer_arm(g->fb.timer, clock_now(g->fb.clock) + period);
}

static void fb_tick(void *opaque)
{
	struct gpu *g = opaque;

	gpu_fb_refresh(g);
	/* Once the driver's scanout took over, the timer rests until a reset. */
	if (gpu_fb_active(g))
		fb_arm(g);
}

/* The driver set a scanout: the display is the scanout's from now on. */
static void fb_end(struct gpu *g)
{
	if (g->fb.vram)
		__atomic_store_n(&g->fb.active, false, __ATOMIC_RELEASE);
}

/* Device reset: back to the boot framebuffer, compared whole. */
static void fb_restart(struct gpu *g)
{
	if (!g->fb.vram || __atomic_load_n(&g->fb.active, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&g->fb.need_full, true, __ATOMIC_RELEASE);
	__atomic_store_n(&g->fb.active, true, __ATOMIC_RELEASE);
	if (g->fb.func && pci_func_bar_addr(g->fb.func, GPU_FB_BAR))
		fb_arm(g);
}

bool gpu_fb_active(const struct gpu *g)
{
	return g->fb.vram && __atomic_load_n(&g->fb.active, __ATOMIC_ACQUIRE);
}

struct dev *gpu_fb_dev(struct gpu *g)
{
	return g->fb.vram ? &g->fb.dev : NULL;
}

uint8_t *gpu_fb_vram(struct gpu *g)
{
	return g->fb.vram;
}

bool gpu_fb_info(const struct gpu *g, struct gpu_fb_info *fb)
{
	uint64_t base;

	if (!g->fb.vram || !g->fb.func)
		return false;
	base = pci_func_bar_addr(g->fb.func, GPU_FB_BAR);
	if (!base)
		return false;
	*fb = (struct gpu_fb_info){
		.base = base,
		.size = g->fb.size,
		.width = g->fb.w,
		.height = g->fb.h,
		.stride = g->fb.w * BPP,
	};
	return true;
}

int gpu_fb_map(struct gpu *g)
{
	uint64_t base;
	int r;

	if (!g->fb.vram || !g->fb.func)
		return -ENODEV;
	base = pci_func_bar_addr(g->fb.func, GPU_FB_BAR);
	if (!base)
		return -EINVAL;
	if (g->fb.ms && g->fb.slot < 0) {
		r = g->fb.ms->ops->map(g->fb.ms, base, g->fb.size, g->fb.vram, true);
		if (r < 0)
			log_warn("virtio-gpu: cannot map the video RAM (%s): every pixel write "
				 "exits",
				 strerror(-r));
		else
			g->fb.slot = r;
	}
	__atomic_store_n(&g->fb.need_full, true, __ATOMIC_RELEASE);
	if (gpu_fb_active(g))
		fb_arm(g);
	return 0;
}

/*
 * Pixels [i0, i1) of the linear framebuffer (stride = width * 4) into the
 * display @dst: from the first to the last pixel whose colour differs
 * (found from both ends), copied with the top byte cleared. Returns the
 * pixels copied, their first and last index in *first and *last. The
 * guest may write meanwhile: whatever is copied is a value it wrote, and
 * the page is dirty again for the next refresh (the log was read first).
 */
static uint64_t fb_copy_span(const uint32_t *src, uint32_t *dst, uint64_t i0, uint64_t i1,
			     uint64_t *first, uint64_t *last)
{
	uint64_t a = i0, b = i1;

	/* Fast path for an unchanged page (a guest writing X bytes != 0 takes the scan). */
	if (!memcmp(src + i0, dst + i0, (size_t)(i1 - i0) * 4))
		return 0;
	while (a < b && !((src[a] ^ dst[a]) & 0xffffffu))
		a++;
	while (b > a && !((src[b - 1] ^ dst[b - 1]) & 0xffffffu))
		b--;
	if (a == b)
		return 0;
	for (uint64_t i = a; i < b; i++)
		dst[i] = src[i] & 0xffffffu;
	*first = a;
	*last = b - 1;
	return b - a;
}

/* Damage linear pixels [first, last] of a w-wide framebuffer. */
static void fb_damage(struct gpu *g, uint32_t w, uint64_t first, uint64_t last)
{
	uint32_t y0 = (uint32_t)(first / w), y1 = (uint32_t)(last / w);

	if (y0 == y1)
		display_damage(g->d, (uint32_t)(first % w), y0, (uint32_t)(last - first + 1), 1);
	else
		display_damage(g->d, 0, y0, w, y1 - y0 + 1);
}

bool gpu_fb_refresh(struct gpu *g)
{
	uint32_t dw, dh, stride, fw = g->fb.w, fh = g->fb.h;
	uint64_t gen, npix = (uint64_t)fw * fh, pages, words, changed = 0;
	uint64_t run_first = 0, run_last = 0, first = 0, last = 0;
	bool full, in_run = false, damaged = false;
	uint32_t *px;

	if (!gpu_fb_active(g))
		return false;
	STAT_ADD(g, fb_refreshes, 1);
	pages = fb_pages(g);
	words = (pages + 63) / 64;
	full = __atomic_exchange_n(&g->fb.need_full, false, __ATOMIC_ACQ_REL);
	/* The dirty log is read (and so cleared) even when everything is compared. */
	if (g->fb.slot < 0 || g->fb.ms->ops->get_dirty(g->fb.ms, g->fb.slot, g->fb.bitmap) < 0) {
		if (g->fb.slot >= 0)
			STAT_ADD(g, fb_dirty_errors, 1);
		full = true;
	}
	if (full)
		memset(g->fb.bitmap, 0xff, (size_t)words * sizeof(uint64_t));

	display_mode(g->d, &dw, &dh, &gen);
	if ((dw != fw || dh != fh) && display_set_mode(g->d, fw, fh) < 0) {
		STAT_ADD(g, mode_failures, 1);
		__atomic_store_n(&g->fb.need_full, true, __ATOMIC_RELEASE);
		return false;
	}
	px = display_lock(g->d, &dw, &dh, &stride);
	/*
	 * Checked under the display's lock: the controlq worker clears
	 * active before it takes this lock to show its scanout, so once it
	 * has, no stale boot-framebuffer pixel lands after its own.
	 */
	if (!px || dw != fw || dh != fh || stride != fw * BPP || !gpu_fb_active(g)) {
		display_unlock(g->d);
		__atomic_store_n(&g->fb.need_full, true, __ATOMIC_RELEASE);
		return false;
	}
	/* Only the pages holding the visible w x h pixels: npix * 4 <= size. */
	for (uint64_t p = 0; p < pages && p * (MEMSLOT_PAGE / 4) < npix; p++) {
		uint64_t i0 = p * (MEMSLOT_PAGE / 4), i1 = MIN(i0 + MEMSLOT_PAGE / 4, npix), n = 0;

		if (g->fb.bitmap[p / 64] & (1ull << (p % 64)))
			n = fb_copy_span((const uint32_t *)(const void *)g->fb.vram, px, i0, i1,
					 &first, &last);
		if (!n) {
			if (in_run)
				fb_damage(g, fw, run_first, run_last);
			in_run = false;
			continue;
		}
		changed += n;
		if (!in_run)
			run_first = first;
		run_last = last;
		in_run = damaged = true;
	}
	if (in_run)
		fb_damage(g, fw, run_first, run_last);
	display_unlock(g->d);
	STAT_ADD(g, fb_pixels, changed);
	return damaged;
}

/* ---- create / destroy ----------------------------------------------------- */

static void worker_init(struct worker *w, struct gpu *g, unsigned int q)
{
	w->g = g;
	w->q = q;
	w->kick_fd = -1;
	w->stop_fd = -1;
}

struct gpu *gpu_create(const struct gmem *gm, struct display *d, const struct gpu_opts *o)
{
	struct gpu *g;
	uint32_t w, h;

	if (!gm)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->gm = gm;
	g->d = d;
	g->max_resources = o && o->max_resources ? o->max_resources : GPU_MAX_RESOURCES_DEFAULT;
	g->mem_cap = o && o->mem_cap ? o->mem_cap : GPU_MEM_CAP_DEFAULT;
	g->res = calloc(g->max_resources, sizeof(*g->res));
	if (!g->res) {
		free(g);
		return NULL;
	}
	pthread_mutex_init(&g->cfg_lock, NULL);
	g->pref_w = GPU_DEFAULT_WIDTH;
	g->pref_h = GPU_DEFAULT_HEIGHT;
	if (d && display_ui_size(d, &w, &h) && w && h && w <= DISPLAY_MAX_DIM &&
	    h <= DISPLAY_MAX_DIM) {
		g->pref_w = w;
		g->pref_h = h;
	}
	for (unsigned int q = 0; q < GPU_NR_QUEUES; q++) {
		worker_init(&g->w[q], g, q);
		g->w[q].stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (g->w[q].stop_fd < 0) {
			log_error("virtio-gpu: eventfd: %s", strerror(errno));
			for (unsigned int k = 0; k < q; k++)
				close(g->w[k].stop_fd);
			pthread_mutex_destroy(&g->cfg_lock);
			free(g->res);
			free(g);
			return NULL;
		}
	}
	/* EDID only: no VIRGL, RESOURCE_UUID, RESOURCE_BLOB, CONTEXT_INIT. */
	g->offered = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_RING_F_EVENT_IDX |
		     1ull << VIRTIO_RING_F_INDIRECT_DESC | 1ull << VIRTIO_GPU_F_EDID;
	g->fb.slot = -1;
	if (o && o->vram_size && fb_init(g, o) < 0) {
		gpu_destroy(g);
		return NULL;
	}
	if (d)
		display_set_resize_hook(d, resize_hook, g);
	return g;
}

void gpu_destroy(struct gpu *g)
{
	if (!g)
		return;
	if (g->d)
		display_set_resize_hook(g->d, NULL, NULL);
	/* Not active: gpu_reset below must not re-arm the timer. */
	__atomic_store_n(&g->fb.active, false, __ATOMIC_RELEASE);
	if (g->fb.timer)
		timer_cancel(g->fb.timer);
	g->fb.timer = NULL;
	gpu_reset(g);
	if (g->fb.slot >= 0)
		g->fb.ms->ops->unmap(g->fb.ms, g->fb.slot);
	if (g->fb.vram)
		munmap(g->fb.vram, (size_t)g->fb.size + MEMSLOT_PAGE);
	free(g->fb.bitmap);
	for (unsigned int q = 0; q < GPU_NR_QUEUES; q++)
		close(g->w[q].stop_fd);
	pthread_mutex_destroy(&g->cfg_lock);
	free(g->res);
	free(g);
}

/* ---- resources ------------------------------------------------------------- */

static struct resource *res_find(struct gpu *g, uint32_t id)
{
	if (id == 0)
		return NULL;
	for (uint32_t i = 0; i < g->max_resources; i++)
		if (g->res[i].id == id)
			return &g->res[i];
	return NULL;
}

static bool mem_take(struct gpu *g, uint64_t n)
{
	if (n > g->mem_cap - g->mem_used)
		return false;
	g->mem_used += n;
	STAT_SET(g, mem_used, g->mem_used);
	return true;
}

static void mem_give(struct gpu *g, uint64_t n)
{
	g->mem_used -= n;
	STAT_SET(g, mem_used, g->mem_used);
}

static void backing_free(struct gpu *g, struct resource *r)
{
	free(r->ents);
	mem_give(g, r->ents_mem);
	r->ents = NULL;
	r->nr_ents = 0;
	r->backing_len = 0;
	r->ents_mem = 0;
}

/* Fill the whole display black (scanout disabled) and damage it. */
static void display_blank(struct gpu *g)
{
	uint32_t w, h, stride;
	uint32_t *px;

	if (!g->d)
		return;
	px = display_lock(g->d, &w, &h, &stride);
	if (px) {
		for (uint32_t y = 0; y < h; y++)
			memset(px + (size_t)y * (stride / 4), 0, (size_t)w * 4);
	}
	display_unlock(g->d);
	if (px)
		display_damage(g->d, 0, 0, w, h);
}

static void scanout_disable(struct gpu *g, bool blank)
{
	bool was = g->scanout.res != NULL;

	g->scanout.res = NULL;
	memset(&g->scanout.r, 0, sizeof(g->scanout.r));
	if (was && blank)
		display_blank(g);
}

static void res_free(struct gpu *g, struct resource *r)
{
	if (g->scanout.res == r)
		scanout_disable(g, true);
	backing_free(g, r);
	free(r->pixels);
	mem_give(g, r->size);
	memset(r, 0, sizeof(*r));
	g->nr_res--;
	STAT_SET(g, resources, g->nr_res);
}

/* ---- pixel conversion -------------------------------------------------------- */

/* Byte offsets of red, green and blue in one pixel of a format, in memory order. */
struct fmt {
	uint32_t format;
	uint8_t r, g, b;
};

/*
 * virtio-gpu format names list the components in memory order, lowest
 * address first (Linux maps DRM_FORMAT_XRGB8888, which is B, G, R, X in
 * memory on a little-endian guest, to B8G8R8X8_UNORM).
 */
static const struct fmt formats[] = {
	{VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 2, 1, 0}, {VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 2, 1, 0},
	{VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, 1, 2, 3}, {VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 1, 2, 3},
	{VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 0, 1, 2}, {VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, 3, 2, 1},
	{VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, 3, 2, 1}, {VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 0, 1, 2},
};

static const struct fmt *fmt_find(uint32_t format)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].format == format)
			return &formats[i];
	return NULL;
}

/*
 * Convert [x, x+w) x [y, y+h) of the scanned-out resource (resource
 * coordinates, already inside the scanout rectangle) into the display,
 * clipped again to the display's mode as it is under its lock.
 */
static void show_rect(struct gpu *g, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	const struct resource *r = g->scanout.res;
	const struct fmt *f = fmt_find(r->format);
	uint32_t dw, dh, stride, dx, dy;
	uint32_t *px;

	if (!g->d || !f || !w || !h)
		return;
	dx = x - g->scanout.r.x;
	dy = y - g->scanout.r.y;
	px = display_lock(g->d, &dw, &dh, &stride);
	if (!px || dx >= dw || dy >= dh) {
		display_unlock(g->d);
		return;
	}
	w = MIN(w, dw - dx);
	h = MIN(h, dh - dy);
	for (uint32_t row = 0; row < h; row++) {
		const uint8_t *s = r->pixels + ((uint64_t)(y + row) * r->width + x) * BPP;
		uint32_t *d = px + (size_t)(dy + row) * (stride / 4) + dx;

		for (uint32_t i = 0; i < w; i++, s += BPP)
			d[i] = (uint32_t)s[f->r] << 16 | (uint32_t)s[f->g] << 8 | s[f->b];
	}
	display_unlock(g->d);
	display_damage(g->d, dx, dy, w, h);
	STAT_ADD(g, flush_pixels, (uint64_t)w * h);
}

/* ---- commands ------------------------------------------------------------------ */

/* A rectangle inside a w x h area; 64-bit sums cannot wrap. */
static bool rect_inside(const struct virtio_gpu_rect *rc, uint32_t w, uint32_t h)
{
	return (uint64_t)rc->x + rc->width <= w && (uint64_t)rc->y + rc->height <= h;
}

static void rect_le(struct virtio_gpu_rect *rc)
{
	rc->x = le32toh(rc->x);
	rc->y = le32toh(rc->y);
	rc->width = le32toh(rc->width);
	rc->height = le32toh(rc->height);
}

static uint32_t guest_error(struct gpu *g, uint32_t err, const char *cmd, const char *why)
{
	(void)g;
	log_ratelimited(LOG_DEBUG, "virtio-gpu: %s: %s", cmd, why);
	return err;
}

static uint32_t cmd_create_2d(struct gpu *g, const struct virtio_gpu_resource_create_2d *c)
{
	uint32_t id = le32toh(c->resource_id), format = le32toh(c->format);
	uint32_t w = le32toh(c->width), h = le32toh(c->height);
	struct resource *r = NULL;
	uint64_t size;

	STAT_ADD(g, create_2d, 1);
	if (id == 0 || res_find(g, id))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "create_2d",
				   "resource id 0 or in use");
	if (!fmt_find(format))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "create_2d",
				   "unsupported format");
	if (w == 0 || h == 0)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "create_2d",
				   "empty resource");
	if (__builtin_mul_overflow((uint64_t)w, (uint64_t)h, &size) ||
	    __builtin_mul_overflow(size, (uint64_t)BPP, &size))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "create_2d",
				   "size overflows");
	if (g->nr_res >= g->max_resources)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "create_2d",
				   "too many resources");
	for (uint32_t i = 0; i < g->max_resources && !r; i++)
		if (g->res[i].id == 0)
			r = &g->res[i];
	if (!r || !mem_take(g, size))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "create_2d",
				   "over the host memory cap");
	r->pixels = calloc(1, (size_t)size);
	if (!r->pixels) {
		mem_give(g, size);
		return guest_error(g, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "create_2d",
				   "host allocation failed");
	}
	r->id = id;
	r->format = format;
	r->width = w;
	r->height = h;
	r->size = size;
	g->nr_res++;
	STAT_SET(g, resources, g->nr_res);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_unref(struct gpu *g, const struct virtio_gpu_resource_unref *c)
{
	struct resource *r = res_find(g, le32toh(c->resource_id));

	STAT_ADD(g, unref, 1);
	if (!r)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "unref",
				   "unknown resource");
	res_free(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_set_scanout(struct gpu *g, const struct virtio_gpu_set_scanout *c)
{
	struct virtio_gpu_rect rc = c->r;
	uint32_t id = le32toh(c->resource_id);
	uint32_t dw = 0, dh = 0;
	uint64_t gen;
	struct resource *r;

	STAT_ADD(g, set_scanout, 1);
	rect_le(&rc);
	if (le32toh(c->scanout_id) != 0)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "set_scanout",
				   "no such scanout");
	if (id == 0) {
		scanout_disable(g, true);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = res_find(g, id);
	if (!r)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "set_scanout",
				   "unknown resource");
	if (rc.width == 0 || rc.height == 0 || rc.width > DISPLAY_MAX_DIM ||
	    rc.height > DISPLAY_MAX_DIM || !rect_inside(&rc, r->width, r->height))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "set_scanout",
				   "rectangle empty, too large or outside the resource");
	/* Before the display's lock is taken below (gpu_fb_refresh). */
	fb_end(g);
	if (g->d) {
		display_mode(g->d, &dw, &dh, &gen);
		/* Page flips keep the mode: no black frame between them. */
		if ((dw != rc.width || dh != rc.height) &&
		    display_set_mode(g->d, rc.width, rc.height) < 0) {
			STAT_ADD(g, mode_failures, 1);
			scanout_disable(g, false);
			return guest_error(g, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "set_scanout",
					   "display mode not set");
		}
	}
	g->scanout.res = r;
	g->scanout.r = rc;
	show_rect(g, rc.x, rc.y, rc.width, rc.height);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_flush(struct gpu *g, const struct virtio_gpu_resource_flush *c)
{
	struct virtio_gpu_rect rc = c->r;
	struct resource *r = res_find(g, le32toh(c->resource_id));
	uint64_t x0, y0, x1, y1;

	STAT_ADD(g, flush, 1);
	rect_le(&rc);
	if (!r)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "flush",
				   "unknown resource");
	if (!rect_inside(&rc, r->width, r->height))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "flush",
				   "rectangle outside the resource");
	if (g->scanout.res != r)
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* The part of the flushed rectangle inside the scanout rectangle. */
	x0 = MAX((uint64_t)rc.x, (uint64_t)g->scanout.r.x);
	y0 = MAX((uint64_t)rc.y, (uint64_t)g->scanout.r.y);
	x1 = MIN((uint64_t)rc.x + rc.width, (uint64_t)g->scanout.r.x + g->scanout.r.width);
	y1 = MIN((uint64_t)rc.y + rc.height, (uint64_t)g->scanout.r.y + g->scanout.r.height);
	if (x0 < x1 && y0 < y1)
		show_rect(g, (uint32_t)x0, (uint32_t)y0, (uint32_t)(x1 - x0), (uint32_t)(y1 - y0));
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Copy @len backing bytes from offset @off (checked inside the backing) to @dst. */
static void backing_read(const struct resource *r, uint64_t off, uint8_t *dst, uint64_t len)
{
	uint32_t lo = 0, hi = r->nr_ents;

	/* The last entry starting at or before @off. */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (r->ents[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < r->nr_ents && len; i++) {
		const struct backing_ent *e = &r->ents[i];
		uint64_t skip = off - e->start, n;

		if (skip >= e->len)
			continue;
		n = MIN(e->len - skip, len);
		memcpy(dst, e->host + skip, (size_t)n);
		dst += n;
		off += n;
		len -= n;
	}
}

static uint32_t cmd_transfer(struct gpu *g, const struct virtio_gpu_transfer_to_host_2d *c)
{
	struct virtio_gpu_rect rc = c->r;
	struct resource *r = res_find(g, le32toh(c->resource_id));
	uint64_t off = le64toh(c->offset), stride, row, need;

	STAT_ADD(g, transfer, 1);
	rect_le(&rc);
	if (!r || !r->ents)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "transfer",
				   "unknown resource or no backing");
	if (!rect_inside(&rc, r->width, r->height))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "transfer",
				   "rectangle outside the resource");
	if (!rc.width || !rc.height)
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* Row i of the rectangle is at off + i * stride in the backing (stride <= 2^34). */
	stride = (uint64_t)r->width * BPP;
	row = (uint64_t)rc.width * BPP;
	need = (uint64_t)(rc.height - 1) * stride + row; /* <= r->size */
	if (off > r->backing_len || need > r->backing_len - off)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "transfer",
				   "rows outside the backing");
	if (rc.x == 0 && rc.width == r->width) {
		backing_read(r, off, r->pixels + rc.y * stride, need);
	} else {
		for (uint32_t i = 0; i < rc.height; i++)
			backing_read(r, off + i * stride,
				     r->pixels + (rc.y + i) * stride + (uint64_t)rc.x * BPP, row);
	}
	STAT_ADD(g, transfer_bytes, (uint64_t)rc.height * row);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_attach(struct gpu *g, const struct virtq_chain *ch,
			   const struct virtio_gpu_resource_attach_backing *c)
{
	struct resource *r = res_find(g, le32toh(c->resource_id));
	uint32_t n = le32toh(c->nr_entries), kept = 0;
	struct backing_ent *ents;
	uint64_t mem, total = 0, at = sizeof(*c);
	uint32_t err = 0;

	STAT_ADD(g, attach, 1);
	if (!r)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "attach_backing",
				   "unknown resource");
	if (r->ents)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC, "attach_backing",
				   "backing already attached");
	if (n == 0 || n > GPU_MAX_BACKING_ENTRIES)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "attach_backing",
				   "nr_entries 0 or too many");
	mem = (uint64_t)n * sizeof(*ents);
	if (!mem_take(g, mem))
		return guest_error(g, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "attach_backing",
				   "over the host memory cap");
	ents = calloc(n, sizeof(*ents));
	if (!ents) {
		mem_give(g, mem);
		return guest_error(g, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "attach_backing",
				   "host allocation failed");
	}
	for (uint32_t i = 0; i < n; i++, at += sizeof(struct virtio_gpu_mem_entry)) {
		struct virtio_gpu_mem_entry e;
		uint64_t addr, len;

		/* Each entry is read once, here; the guest may rewrite the table. */
		if (virtq_chain_read(ch, at, &e, sizeof(e)) != sizeof(e)) {
			err = guest_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC, "attach_backing",
					  "entries cut short");
			break;
		}
		addr = le64toh(e.addr);
		len = le32toh(e.length);
		if (!len)
			continue;
		ents[kept].host = gmem_ptr(g->gm, addr, len);
		if (!ents[kept].host) {
			err = guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
					  "attach_backing", "entry outside guest RAM");
			break;
		}
		ents[kept].start = total;
		ents[kept].len = len;
		total += len; /* <= 16384 * 4 GiB: no wrap */
		kept++;
	}
	if (!err && total < r->size)
		err = guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "attach_backing",
				  "backing shorter than the resource");
	if (err) {
		free(ents);
		mem_give(g, mem);
		return err;
	}
	r->ents = ents;
	r->nr_ents = kept;
	r->backing_len = total;
	r->ents_mem = mem;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_detach(struct gpu *g, const struct virtio_gpu_resource_detach_backing *c)
{
	struct resource *r = res_find(g, le32toh(c->resource_id));

	STAT_ADD(g, detach, 1);
	if (!r)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "detach_backing",
				   "unknown resource");
	if (!r->ents)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC, "detach_backing",
				   "no backing attached");
	backing_free(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static void display_info(struct gpu *g, struct virtio_gpu_resp_display_info *di)
{
	pthread_mutex_lock(&g->cfg_lock);
	di->pmodes[0].r.width = htole32(g->pref_w);
	di->pmodes[0].r.height = htole32(g->pref_h);
	pthread_mutex_unlock(&g->cfg_lock);
	di->pmodes[0].enabled = htole32(1);
}

/* ---- EDID ---------------------------------------------------------------------- */

/*
 * VESA E-EDID 1.4 (Release A, Revision 2), section 3: the 128-byte base
 * block. The preferred timing (section 3.10.2) uses CVT reduced-blanking
 * porches (VESA CVT 1.2: 160 pixels of horizontal blanking, 3 lines of
 * front porch); the vertical back porch is a fixed 20 lines rather than
 * CVT's 460 us minimum, which needs no floating point and is as long or
 * longer at every size that fits a detailed timing.
 */
#define EDID_HFP     48u
#define EDID_HSYNC   32u
#define EDID_HBLANK  160u
#define EDID_VFP     3u
#define EDID_VSYNC   5u
#define EDID_VBLANK  28u
#define EDID_DTD_MAX 4095u /* 12-bit active fields */
#define EDID_DPI     96u   /* physical size reported: 96 dots per inch */

/* 10-bit CIE xy chromaticity (sRGB primaries, D65 white) in 1/1024. */
static const uint16_t edid_chroma[8] = {
	655, 338, /* red 0.640, 0.330 */
	307, 614, /* green 0.300, 0.600 */
	154, 61,  /* blue 0.150, 0.060 */
	320, 337, /* white 0.3127, 0.3290 */
};

static void edid_dtd(uint8_t *d, uint32_t w, uint32_t h)
{
	uint32_t htot = w + EDID_HBLANK, vtot = h + EDID_VBLANK;
	uint64_t clk = ((uint64_t)htot * vtot * 60 + 5000) / 10000; /* 10 kHz units at 60 Hz */
	uint32_t wmm = w * 254 / (EDID_DPI * 10), hmm = h * 254 / (EDID_DPI * 10);

	/* The 16-bit clock caps big modes' refresh rate (655.35 MHz). */
	if (clk > 0xffff)
		clk = 0xffff;
	if (clk == 0)
		clk = 1;
	d[0] = (uint8_t)clk;
	d[1] = (uint8_t)(clk >> 8);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)EDID_HBLANK;
	d[4] = (uint8_t)((w >> 8) << 4 | EDID_HBLANK >> 8);
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)EDID_VBLANK;
	d[7] = (uint8_t)((h >> 8) << 4 | EDID_VBLANK >> 8);
	d[8] = (uint8_t)EDID_HFP;
	d[9] = (uint8_t)EDID_HSYNC;
	d[10] = (uint8_t)((EDID_VFP & 0xf) << 4 | (EDID_VSYNC & 0xf));
	d[11] = (uint8_t)((EDID_HFP >> 8) << 6 | (EDID_HSYNC >> 8) << 4 | (EDID_VFP >> 4) << 2 |
			  EDID_VSYNC >> 4);
	d[12] = (uint8_t)wmm;
	d[13] = (uint8_t)hmm;
	d[14] = (uint8_t)((wmm >> 8) << 4 | (hmm >> 8));
	d[15] = 0;
	d[16] = 0;
	/* Digital separate sync, +hsync -vsync (CVT reduced blanking's polarities). */
	d[17] = 0x18 | 0x02;
}

/* A display descriptor (section 3.10.3) of @tag with up to 13 text bytes. */
static void edid_text(uint8_t *d, uint8_t tag, const char *text)
{
	size_t n = strlen(text);

	memset(d, 0, 18);
	d[3] = tag;
	memset(d + 5, ' ', 13);
	memcpy(d + 5, text, MIN(n, (size_t)13));
	if (n < 13)
		d[5 + n] = '\n';
}

void gpu_edid(uint32_t w, uint32_t h, uint8_t out[GPU_EDID_SIZE])
{
	/* "HTL": three 5-bit letters, 'A' = 1, big-endian. */
	const uint16_t mfg = ('H' - '@') << 10 | ('T' - '@') << 5 | ('L' - '@');
	uint8_t sum = 0;

	w = MIN(MAX(w, 1u), EDID_DTD_MAX);
	h = MIN(MAX(h, 1u), EDID_DTD_MAX);
	memset(out, 0, GPU_EDID_SIZE);
	memcpy(out, "\x00\xff\xff\xff\xff\xff\xff\x00", 8);
	out[8] = (uint8_t)(mfg >> 8);
	out[9] = (uint8_t)mfg;
	out[10] = 0x01; /* product code 0x0001, little-endian */
	out[16] = 0;	/* week unspecified */
	out[17] = 35;	/* model year 2025 (1990 + 35) */
	out[18] = 1;	/* EDID 1.4 */
	out[19] = 4;
	out[20] = 0xa0; /* digital input, 8 bits per primary, interface not defined */
	/* Screen size in cm at EDID_DPI, 1..255. */
	out[21] = (uint8_t)MIN(MAX(w * 254 / (EDID_DPI * 100), 1u), 255u);
	out[22] = (uint8_t)MIN(MAX(h * 254 / (EDID_DPI * 100), 1u), 255u);
	out[23] = 120; /* gamma 2.2: (2.2 * 100) - 100 */
	/* RGB 4:4:4, sRGB default colour space, preferred timing is native. */
	out[24] = 0x04 | 0x02;
	out[25] = (uint8_t)((edid_chroma[0] & 3) << 6 | (edid_chroma[1] & 3) << 4 |
			    (edid_chroma[2] & 3) << 2 | (edid_chroma[3] & 3));
	out[26] = (uint8_t)((edid_chroma[4] & 3) << 6 | (edid_chroma[5] & 3) << 4 |
			    (edid_chroma[6] & 3) << 2 | (edid_chroma[7] & 3));
	for (int i = 0; i < 8; i++)
		out[27 + i] = (uint8_t)(edid_chroma[i] >> 2);
	/* 35-37: the established 640x480, 800x600 and 1024x768 at 60 Hz, as a
	 * real monitor lists beside its native mode. A client that cannot use
	 * the preferred mode still finds one: Linux's fbdev emulation keeps
	 * only modes that fit its framebuffer, allocated once at the first
	 * mode, so a window grown past it would leave it an empty list. */
	out[35] = 0x21; /* bit 5: 640x480@60, bit 0: 800x600@60 */
	out[36] = 0x08; /* bit 3: 1024x768@60 */
	/* 38-53: standard timings unused (0x01 0x01). */
	memset(out + 38, 0x01, 16);
	edid_dtd(out + 54, w, h);
	edid_text(out + 72, 0xfc, "hostel");	 /* monitor name */
	edid_text(out + 90, 0xfe, "virtio-gpu"); /* unspecified text */
	memset(out + 108, 0, 18);
	out[108 + 3] = 0x10; /* dummy descriptor */
	out[126] = 0;	     /* no extension blocks */
	for (int i = 0; i < GPU_EDID_SIZE - 1; i++)
		sum += out[i];
	out[127] = (uint8_t)(0x100 - sum);
}

static uint32_t cmd_get_edid(struct gpu *g, const struct virtio_gpu_cmd_get_edid *c,
			     struct virtio_gpu_resp_edid *r)
{
	uint32_t w, h;

	STAT_ADD(g, get_edid, 1);
	if (le32toh(c->scanout) != 0)
		return guest_error(g, VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID, "get_edid",
				   "no such scanout");
	pthread_mutex_lock(&g->cfg_lock);
	w = g->pref_w;
	h = g->pref_h;
	pthread_mutex_unlock(&g->cfg_lock);
	gpu_edid(w, h, r->edid);
	r->size = htole32(GPU_EDID_SIZE);
	return VIRTIO_GPU_RESP_OK_EDID;
}

/* ---- chains ----------------------------------------------------------------------- */

/* Readable segments first, each with host memory; the totals from the segments. */
static bool chain_ok(const struct virtq_chain *ch, uint64_t *rd, uint64_t *wr)
{
	*rd = *wr = 0;
	if (ch->nr_segs > VIRTQ_MAX_SEGS || ch->nr_read > ch->nr_segs)
		return false;
	for (unsigned int i = 0; i < ch->nr_segs; i++) {
		const struct virtq_seg *s = &ch->segs[i];

		if (s->write != (i >= ch->nr_read) || (s->len && !s->host))
			return false;
		if (s->write)
			*wr += s->len;
		else
			*rd += s->len;
	}
	return true;
}

/* Size of the request structure of a controlq command; 0: unknown type. */
static uint32_t cmd_size(uint32_t type)
{
	switch (type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
		return HDR_SIZE;
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
		return sizeof(struct virtio_gpu_resource_create_2d);
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
		return sizeof(struct virtio_gpu_resource_unref);
	case VIRTIO_GPU_CMD_SET_SCANOUT:
		return sizeof(struct virtio_gpu_set_scanout);
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		return sizeof(struct virtio_gpu_resource_flush);
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		return sizeof(struct virtio_gpu_transfer_to_host_2d);
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
		return sizeof(struct virtio_gpu_resource_attach_backing);
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		return sizeof(struct virtio_gpu_resource_detach_backing);
	case VIRTIO_GPU_CMD_GET_EDID:
		return sizeof(struct virtio_gpu_cmd_get_edid);
	default:
		return 0;
	}
}

static void count_type(struct gpu *g, uint32_t type)
{
	switch (type) {
	case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
		STAT_ADD(g, get_display_info, 1);
		log_debug("virtio-gpu: the guest reads the display info");
		break;
	case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
		STAT_ADD(g, create_2d, 1);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_UNREF:
		STAT_ADD(g, unref, 1);
		break;
	case VIRTIO_GPU_CMD_SET_SCANOUT:
		STAT_ADD(g, set_scanout, 1);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		STAT_ADD(g, flush, 1);
		break;
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		STAT_ADD(g, transfer, 1);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
		STAT_ADD(g, attach, 1);
		break;
	case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		STAT_ADD(g, detach, 1);
		break;
	case VIRTIO_GPU_CMD_GET_EDID:
		STAT_ADD(g, get_edid, 1);
		log_debug("virtio-gpu: the guest reads the EDID");
		break;
	default:
		STAT_ADD(g, unknown, 1);
		break;
	}
}

static void count_error(struct gpu *g, uint32_t resp)
{
	switch (resp) {
	case VIRTIO_GPU_RESP_ERR_UNSPEC:
		STAT_ADD(g, err_unspec, 1);
		break;
	case VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY:
		STAT_ADD(g, err_out_of_memory, 1);
		break;
	case VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID:
		STAT_ADD(g, err_scanout_id, 1);
		break;
	case VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID:
		STAT_ADD(g, err_resource_id, 1);
		break;
	case VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER:
		STAT_ADD(g, err_parameter, 1);
		break;
	default:
		break;
	}
}

static int bad_chain(struct gpu *g, const struct virtq_chain *ch, const char *why)
{
	STAT_ADD(g, bad_chains, 1);
	log_ratelimited(LOG_DEBUG, "virtio-gpu: chain %u rejected: %s", ch ? ch->head : 0, why);
	return -EINVAL;
}

static int handle_cursor(struct gpu *g, const struct virtq_chain *ch)
{
	struct virtio_gpu_ctrl_hdr hdr;
	uint64_t rd, wr;

	if (!chain_ok(ch, &rd, &wr))
		return bad_chain(g, ch, "malformed cursor chain");
	/* Counted only: no cursor is drawn, nothing is written back. */
	if (rd < sizeof(struct virtio_gpu_update_cursor)) {
		STAT_ADD(g, unknown, 1);
		log_ratelimited(LOG_DEBUG, "virtio-gpu: cursor command too short");
		return 0;
	}
	virtq_chain_read(ch, 0, &hdr, sizeof(hdr));
	switch (le32toh(hdr.type)) {
	case VIRTIO_GPU_CMD_UPDATE_CURSOR:
		STAT_ADD(g, update_cursor, 1);
		break;
	case VIRTIO_GPU_CMD_MOVE_CURSOR:
		STAT_ADD(g, move_cursor, 1);
		break;
	default:
		STAT_ADD(g, unknown, 1);
		log_ratelimited(LOG_DEBUG, "virtio-gpu: unknown cursor command %#x",
				le32toh(hdr.type));
		break;
	}
	return 0;
}

int gpu_handle_chain(struct gpu *g, unsigned int q, const struct virtq_chain *ch, uint32_t *written)
{
	union {
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resource_create_2d create;
		struct virtio_gpu_resource_unref unref;
		struct virtio_gpu_set_scanout scanout;
		struct virtio_gpu_resource_flush flush;
		struct virtio_gpu_transfer_to_host_2d transfer;
		struct virtio_gpu_resource_attach_backing attach;
		struct virtio_gpu_resource_detach_backing detach;
		struct virtio_gpu_cmd_get_edid get_edid;
		uint8_t raw[CMD_MAX];
	} cmd;
	union {
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resp_display_info di;
		struct virtio_gpu_resp_edid edid;
	} resp;
	uint32_t type = 0, size, rtype, rlen = HDR_SIZE;
	uint64_t rd, wr;
	bool short_hdr;

	*written = 0;
	if (!ch)
		return bad_chain(g, ch, "no chain");
	if (q == GPU_CURSORQ)
		return handle_cursor(g, ch);
	if (q != GPU_CONTROLQ)
		return bad_chain(g, ch, "no such queue");
	if (!chain_ok(ch, &rd, &wr))
		return bad_chain(g, ch, "malformed chain");

	memset(&cmd, 0, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	short_hdr = rd < HDR_SIZE;
	if (!short_hdr) {
		/* The request is copied once; the guest may change it meanwhile. */
		virtq_chain_read(ch, 0, &cmd, MIN(rd, (uint64_t)sizeof(cmd)));
		type = le32toh(cmd.hdr.type);
	}
	if (type == VIRTIO_GPU_CMD_GET_DISPLAY_INFO)
		rlen = sizeof(resp.di);
	else if (type == VIRTIO_GPU_CMD_GET_EDID)
		rlen = sizeof(resp.edid);
	/* No room for the whole response: do nothing (the driver waits in vain, its bug). */
	if (wr < rlen)
		return bad_chain(g, ch, "response buffer missing or too small");

	size = short_hdr ? 0 : cmd_size(type);
	if (short_hdr) {
		STAT_ADD(g, unknown, 1);
		rtype = guest_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC, "request", "short header");
	} else if (!size) {
		count_type(g, type);
		rtype = guest_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC, "request", "unknown command");
	} else if (rd < size) {
		count_type(g, type);
		rtype = guest_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC, "request", "request too short");
	} else {
		switch (type) {
		case VIRTIO_GPU_CMD_GET_DISPLAY_INFO:
			STAT_ADD(g, get_display_info, 1);
			display_info(g, &resp.di);
			rtype = VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
			break;
		case VIRTIO_GPU_CMD_RESOURCE_CREATE_2D:
			rtype = cmd_create_2d(g, &cmd.create);
			break;
		case VIRTIO_GPU_CMD_RESOURCE_UNREF:
			rtype = cmd_unref(g, &cmd.unref);
			break;
		case VIRTIO_GPU_CMD_SET_SCANOUT:
			rtype = cmd_set_scanout(g, &cmd.scanout);
			break;
		case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
			rtype = cmd_flush(g, &cmd.flush);
			break;
		case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
			rtype = cmd_transfer(g, &cmd.transfer);
			break;
		case VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING:
			rtype = cmd_attach(g, ch, &cmd.attach);
			break;
		case VIRTIO_GPU_CMD_GET_EDID:
			rtype = cmd_get_edid(g, &cmd.get_edid, &resp.edid);
			break;
		case VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING:
		default:
			rtype = cmd_detach(g, &cmd.detach);
			break;
		}
	}
	count_error(g, rtype);
	if (rtype != VIRTIO_GPU_RESP_OK_DISPLAY_INFO && rtype != VIRTIO_GPU_RESP_OK_EDID)
		rlen = HDR_SIZE;
	resp.hdr.type = htole32(rtype);
	if (!short_hdr && (le32toh(cmd.hdr.flags) & VIRTIO_GPU_FLAG_FENCE)) {
		resp.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		resp.hdr.fence_id = cmd.hdr.fence_id;
		resp.hdr.ctx_id = cmd.hdr.ctx_id;
		STAT_ADD(g, fences, 1);
	}
	*written = (uint32_t)virtq_chain_write(ch, 0, &resp, rlen);
	return 0;
}

/* ---- workers --------------------------------------------------------------------- */

static bool stop_requested(struct worker *w)
{
	return __atomic_load_n(&w->stop, __ATOMIC_ACQUIRE);
}

static void maybe_notify(struct worker *w)
{
	if (!w->unsignalled)
		return;
	w->unsignalled = 0;
	if (virtq_should_notify(w->vq) && w->cb.notify)
		w->cb.notify(w->cb.opaque);
}

/* Complete one virtq_pop() result. false: the ring is broken, stop consuming. */
static bool complete(struct worker *w, int popped)
{
	uint32_t written = 0;

	if (popped == -EINVAL) {
		STAT_ADD(w->g, bad_chains, 1);
	} else if (popped == 1) {
		if (gpu_handle_chain(w->g, w->q, &w->chain, &written) < 0)
			written = 0;
	} else {
		w->broken = true;
		log_ratelimited(LOG_WARN, "virtio-gpu: queue %u broken, needs reset", w->q);
		maybe_notify(w);
		if (w->cb.needs_reset)
			w->cb.needs_reset(w->cb.opaque);
		return false;
	}
	virtq_push(w->vq, w->chain.head, written);
	if (++w->unsignalled >= NOTIFY_BATCH)
		maybe_notify(w);
	return true;
}

static void process_queue(struct worker *w)
{
	int r;

	for (;;) {
		virtq_set_notify(w->vq, false);
		while (!stop_requested(w) && (r = virtq_pop(w->vq, &w->chain)) != 0) {
			if (!complete(w, r))
				return;
		}
		maybe_notify(w);
		if (stop_requested(w))
			return;
		/* Re-enable, then re-check: the barrier pairs with the driver's (virtq.h). */
		virtq_set_notify(w->vq, true);
		if (!virtq_has_avail(w->vq))
			return;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pollfd p[2] = {
		{.fd = w->stop_fd, .events = POLLIN},
		{.fd = w->kick_fd, .events = POLLIN},
	};
	uint64_t v;

	if (!stop_requested(w))
		process_queue(w);
	while (!stop_requested(w)) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("virtio-gpu: worker poll failed: %s", strerror(errno));
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents & (POLLERR | POLLNVAL)) {
			log_error("virtio-gpu: queue %u notify fd failed; queue stalled", w->q);
			p[1].fd = -1;
			continue;
		}
		if (!(p[1].revents & POLLIN))
			continue;
		if (read(w->kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN && errno != EINTR)
			log_ratelimited(LOG_WARN, "virtio-gpu: reading queue notify: %s",
					strerror(errno));
		if (!w->broken)
			process_queue(w);
	}
	return NULL;
}

int gpu_start(struct gpu *g, unsigned int q, struct virtq *vq, int kick_fd,
	      const struct gpu_queue_cb *cb)
{
	struct worker *w;
	sigset_t all, old;
	int r;

	if (q >= GPU_NR_QUEUES || !vq || kick_fd < 0)
		return -EINVAL;
	w = &g->w[q];
	if (w->running)
		return -EBUSY;
	w->vq = vq;
	w->kick_fd = kick_fd;
	w->cb = cb ? *cb : (struct gpu_queue_cb){0};
	w->broken = false;
	w->unsignalled = 0;
	__atomic_store_n(&w->stop, false, __ATOMIC_RELEASE);
	/* Signals belong to the main thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		w->vq = NULL;
		w->kick_fd = -1;
		return -r;
	}
	pthread_setname_np(w->thread, q == GPU_CONTROLQ ? "gpu-ctrl" : "gpu-cursor");
	w->running = true;
	return 0;
}

void gpu_stop(struct gpu *g)
{
	for (unsigned int q = 0; q < GPU_NR_QUEUES; q++) {
		struct worker *w = &g->w[q];
		uint64_t one = 1;

		if (!w->running)
			continue;
		__atomic_store_n(&w->stop, true, __ATOMIC_RELEASE);
		if (write(w->stop_fd, &one, sizeof(one)) < 0)
			log_error("virtio-gpu: waking the worker: %s", strerror(errno));
		pthread_join(w->thread, NULL);
		if (read(w->stop_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_error("virtio-gpu: draining stop eventfd: %s", strerror(errno));
		w->running = false;
		w->vq = NULL;
		w->kick_fd = -1;
	}
}

void gpu_reset(struct gpu *g)
{
	gpu_stop(g);
	/* The display keeps its last picture; the next driver sets a new scanout. */
	scanout_disable(g, false);
	for (uint32_t i = 0; i < g->max_resources; i++)
		if (g->res[i].id)
			res_free(g, &g->res[i]);
	pthread_mutex_lock(&g->cfg_lock);
	g->events_read = 0;
	pthread_mutex_unlock(&g->cfg_lock);
	gpu_set_features(g, 0);
	/* As virtio-vga: without a driver, the boot framebuffer shows again. */
	fb_restart(g);
	STAT_ADD(g, resets, 1);
}

/* ---- virtio-pci adapter ----------------------------------------------------------- */

static uint64_t vgpu_features(void *dev)
{
	return gpu_features(dev);
}

static void vgpu_set_features(void *dev, uint64_t f)
{
	gpu_set_features(dev, f);
}

static unsigned int vgpu_config_size(void *dev)
{
	(void)dev;
	return gpu_config_size();
}

static void vgpu_config_read(void *dev, uint64_t off, void *data, unsigned int len)
{
	gpu_config_read(dev, off, data, len);
}

static void vgpu_config_write(void *dev, uint64_t off, const void *data, unsigned int len)
{
	gpu_config_write(dev, off, data, len);
}

static int vgpu_start(void *dev, unsigned int q, struct virtq *vq, int kick_fd,
		      void (*notify)(void *), void (*needs_reset)(void *), void *opaque)
{
	struct gpu_queue_cb cb = {.notify = notify, .needs_reset = needs_reset, .opaque = opaque};

	return gpu_start(dev, q, vq, kick_fd, &cb);
}

static void vgpu_stop(void *dev)
{
	/* The transport's reset: a device reset frees every resource (gpu.h). */
	gpu_reset(dev);
}

#define VGPU_OPS(cls)                                                                              \
	{                                                                                          \
		.device_id = VIRTIO_ID_GPU, .pci_class = (cls), .nr_queues = GPU_NR_QUEUES,        \
		.queue_size_max = 256, .features = vgpu_features,                                  \
		.set_features = vgpu_set_features, .config_size = vgpu_config_size,                \
		.config_read = vgpu_config_read, .config_write = vgpu_config_write,                \
		.start = vgpu_start, .stop = vgpu_stop,                                            \
	}

/* Display controller, other: no boot framebuffer (gpu.h). */
const struct vpci_dev_ops gpu_vpci_ops = VGPU_OPS(0x038000);
/* VGA-compatible controller: with the boot framebuffer in BAR GPU_FB_BAR (gpu.h). */
const struct vpci_dev_ops gpu_vga_vpci_ops = VGPU_OPS(0x030000);

static void vgpu_config_changed(void *opaque)
{
	vpci_config_changed(opaque);
}

struct vpci *gpu_create_vpci(struct pci_host *h, unsigned int slot, struct gpu *g,
			     const struct gmem *gm, struct msi_ctl *msi, struct ioevent_ctl *ioev)
{
	struct vpci *v;

	if (!g)
		return NULL;
	v = vpci_create(h, slot, g->fb.vram ? &gpu_vga_vpci_ops : &gpu_vpci_ops, g, gm, msi, ioev);
	if (!v)
		return NULL;
	if (g->fb.vram) {
		/* Plain memory, no read side effects: prefetchable, as a VGA's VRAM. */
		int r = pci_func_add_bar(vpci_func(v), GPU_FB_BAR, g->fb.size,
					 PCI_BAR_MEM32 | PCI_BAR_PREFETCH, &g->fb.dev);

		if (r) {
			log_error("virtio-gpu: video RAM BAR: %s", strerror(-r));
			vpci_destroy(v);
			return NULL;
		}
		g->fb.func = vpci_func(v);
	}
	gpu_set_config_notify(g, vgpu_config_changed, v);
	return v;
}
