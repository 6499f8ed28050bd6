/* SPDX-License-Identifier: MIT */
/*
 * virtio-gpu device model, 2D only (virtio 1.x, "GPU Device", device id 16),
 * transport-neutral, with an adapter for the virtio PCI transport at the
 * end. Linux's virtio_gpu DRM driver (drivers/gpu/drm/virtio) drives it as
 * it is: one scanout, no 3D (no VIRTIO_GPU_F_VIRGL, num_capsets 0), no
 * blob resources; VIRTIO_GPU_F_EDID is offered.
 *
 * Queues: controlq (0) and cursorq (1), each served by its own worker
 * thread (the cursor worker never touches resources, so the two share no
 * state but the counters). A controlq chain is one command: its request in
 * the device-readable buffers, its response in the device-writable ones.
 * The response is written only when the writable part can hold all of it;
 * otherwise the command is not executed at all, the chain completes with
 * length 0 and is counted (bad_chains). Cursor commands (UPDATE_CURSOR,
 * MOVE_CURSOR) are counted and complete with length 0: Linux gives them no
 * response buffer, and no cursor is drawn.
 *
 * Commands (controlq), with the answer to each guest mistake:
 *  - a request shorter than its command's structure, or shorter than the
 *    24-byte header: ERR_UNSPEC (fence not echoed when the header itself
 *    is short); an unknown type: ERR_UNSPEC;
 *  - GET_DISPLAY_INFO: OK_DISPLAY_INFO, scanout 0 enabled at the preferred
 *    size (the front end's latest wish, display_ui_size(), else 1024x768);
 *  - GET_EDID: scanout id != 0 -> ERR_INVALID_SCANOUT_ID; else OK_EDID with
 *    a 128-byte EDID 1.4 (gpu_edid()) whose preferred detailed timing is
 *    the preferred size, so a resize wish changes the EDID too. Answered
 *    whether or not the driver negotiated VIRTIO_GPU_F_EDID;
 *  - RESOURCE_CREATE_2D: id 0 or in use -> ERR_INVALID_RESOURCE_ID; a format
 *    other than the eight 32-bit ones, width or height 0 ->
 *    ERR_INVALID_PARAMETER; width * height * 4 overflowing, more than
 *    max_resources resources or more than mem_cap bytes of host memory in
 *    all -> ERR_OUT_OF_MEMORY;
 *  - RESOURCE_UNREF: unknown id -> ERR_INVALID_RESOURCE_ID; frees the
 *    backing too; a scanned-out resource is taken off the scanout first
 *    (the display goes black);
 *  - SET_SCANOUT: scanout id != 0 -> ERR_INVALID_SCANOUT_ID; resource 0
 *    disables the scanout (display black); unknown id ->
 *    ERR_INVALID_RESOURCE_ID; an empty rectangle, one larger than
 *    DISPLAY_MAX_DIM, or one not inside the resource ->
 *    ERR_INVALID_PARAMETER. Success sets the display's mode to the
 *    rectangle's size (unless it already has it) and shows its pixels; the
 *    first success also ends the boot framebuffer (below);
 *  - RESOURCE_FLUSH: unknown id -> ERR_INVALID_RESOURCE_ID; rectangle not
 *    inside the resource -> ERR_INVALID_PARAMETER; otherwise the part of it
 *    inside the scanout rectangle (if this resource is scanned out) is
 *    converted into the display's XRGB8888 buffer and damaged;
 *  - TRANSFER_TO_HOST_2D: unknown id or no backing ->
 *    ERR_INVALID_RESOURCE_ID; rectangle not inside the resource, or the
 *    backing bytes it reads (from @offset, one resource stride per row) not
 *    inside the backing -> ERR_INVALID_PARAMETER;
 *  - RESOURCE_ATTACH_BACKING: unknown id -> ERR_INVALID_RESOURCE_ID;
 *    backing already attached -> ERR_UNSPEC; nr_entries 0 or over
 *    GPU_MAX_BACKING_ENTRIES, an entry not wholly inside guest RAM, or
 *    entries adding up to less than the resource's size ->
 *    ERR_INVALID_PARAMETER; fewer entry bytes in the request than
 *    nr_entries says -> ERR_UNSPEC; the entry table over the memory cap ->
 *    ERR_OUT_OF_MEMORY. Zero-length entries are skipped;
 *  - RESOURCE_DETACH_BACKING: unknown id -> ERR_INVALID_RESOURCE_ID; no
 *    backing -> ERR_UNSPEC.
 * Every response echoes VIRTIO_GPU_FLAG_FENCE with fence_id and ctx_id
 * when the request asked for a fence: commands are executed synchronously,
 * so the fence has signalled by the time its response is on the used ring.
 *
 * Backing pages are translated once, at attach, through gmem (every entry
 * as a whole range, overflow-checked); the host pointers are kept, as
 * virtq keeps its rings': guest RAM regions never move or shrink while
 * the machine exists. Guest bytes are copied into the resource's host copy
 * at TRANSFER_TO_HOST_2D and converted from there at RESOURCE_FLUSH, so a
 * guest rewriting its pages concurrently only changes what it sees.
 *
 * Display-change events: the device sets the display's resize hook. A
 * front-end wish (width and height 1..DISPLAY_MAX_DIM; others are
 * ignored) becomes the preferred size, VIRTIO_GPU_EVENT_DISPLAY is set in
 * events_read and the configuration-change notifier (gpu_set_config_notify;
 * vpci_config_changed for PCI) is called. Linux's driver then reads
 * events_read, sends GET_DISPLAY_INFO and writes the bit to events_clear.
 *
 * Boot framebuffer (as QEMU's virtio-vga), when gpu_opts.vram_size is set
 * and there is a display: BAR GPU_FB_BAR is a prefetchable 32-bit memory
 * BAR of video RAM (host memory, page aligned), the PCI class becomes VGA
 * (0x030000) and the boot loader describes a linear framebuffer in it
 * (gpu_fb_info() -> boot_params.screen_info, VIDEO_TYPE_VLFB), which
 * Linux's vesafb draws its console on. Linux's virtio_gpu driver, seeing a
 * VGA-class function whose BAR holds that framebuffer, removes vesafb
 * before it sets its own scanout (drm_aperture_remove_conflicting_pci_
 * framebuffers). The board maps the video RAM into the guest through a
 * memslot_ctl (no exit per pixel; gpu_fb_map()); without one, accesses
 * reach the BAR's bus device (gpu_fb_dev()), bounds-checked. Until the
 * first successful SET_SCANOUT (and again after a device reset, as
 * virtio-vga goes back to VGA) the display shows the video RAM: a refresh
 * (gpu_fb_refresh(), GPU_FB_REFRESH_NS apart on the refresh timer) copies
 * the pages KVM's dirty log names (every page when there is no log), and
 * damages only the pixels whose value changed. An idle screen costs one
 * KVM_GET_DIRTY_LOG per refresh; without a dirty log, a compare of the
 * visible pages (memcmp, ~0.6 ms at 1024x768) every 3 GPU_FB_REFRESH_NS. The top byte of each guest pixel is
 * ignored (XRGB8888).
 *
 * Threads: gpu_start/gpu_stop/gpu_reset/gpu_set_features from one thread
 * at a time (the transport's, under its lock); config reads and writes
 * from vCPU threads; the resize hook from the front end's thread. The
 * display's lock is taken only around pixel copies. gpu_destroy unsets the
 * resize hook, but the display cannot say whether a hook call is still
 * running: destroy the gpu only once the front end has stopped calling
 * display_request_resize (or destroy the display first).
 */
#ifndef HOSTEL_GPU_H
#define HOSTEL_GPU_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "hostel/display.h"
#include "hostel/gmem.h"
#include "virtio/queue/virtq.h"

#define GPU_CONTROLQ  0
#define GPU_CURSORQ   1
#define GPU_NR_QUEUES 2

#define GPU_MAX_RESOURCES_DEFAULT 64
#define GPU_MEM_CAP_DEFAULT	  (256ull << 20) /* host bytes: resources + backing tables */
/*
 * Entries of one ATTACH_BACKING: 64 MiB of backing even if every page is
 * its own entry (Linux merges contiguous pages), a 4K framebuffer is 32 MiB.
 */
#define GPU_MAX_BACKING_ENTRIES 16384u
#define GPU_DEFAULT_WIDTH	1024u
#define GPU_DEFAULT_HEIGHT	768u

/* Boot framebuffer. */
#define GPU_FB_BAR	      0
#define GPU_VRAM_SIZE_DEFAULT (16ull << 20)
#define GPU_VRAM_SIZE_MIN     (4ull << 20) /* holds the 1024x768 fallback mode */
#define GPU_VRAM_SIZE_MAX     (256ull << 20)
#define GPU_FB_REFRESH_NS     (1000000000ull / 30) /* 30 refreshes a second at most */

/* EDID base block. */
#define GPU_EDID_SIZE 128

struct gpu;
struct memslot_ctl;
struct timer;
struct clock;
struct dev;

struct gpu_opts {
	uint32_t max_resources; /* 0: GPU_MAX_RESOURCES_DEFAULT */
	uint64_t mem_cap;	/* 0: GPU_MEM_CAP_DEFAULT */
	/*
	 * Boot framebuffer: bytes of video RAM, a power of two from
	 * GPU_VRAM_SIZE_MIN to GPU_VRAM_SIZE_MAX (others: gpu_create fails);
	 * 0: none (class 0x038000, no BAR 0). Needs a display.
	 */
	uint64_t vram_size;
	struct memslot_ctl *memslot; /* may be NULL: video RAM through the bus */
	struct timer *refresh_timer; /* may be NULL: call gpu_fb_refresh() yourself */
	struct clock *clock;	     /* the timer's clock; needed with refresh_timer */
};

/* The boot framebuffer as the boot loader describes it (XRGB8888). */
struct gpu_fb_info {
	uint64_t base;			/* guest physical address (BAR GPU_FB_BAR) */
	uint64_t size;			/* bytes of video RAM (the BAR) */
	uint32_t width, height, stride; /* stride = width * 4 */
};

/* Counters; each is updated atomically, a snapshot is not one instant. */
struct gpu_stats {
	/* Commands executed, by type (a rejected command is counted too). */
	uint64_t get_display_info, create_2d, unref, set_scanout, flush, transfer, attach, detach;
	uint64_t update_cursor, move_cursor;
	uint64_t unknown; /* controlq or cursorq types not implemented */
	/* Error responses, by kind. */
	uint64_t err_unspec, err_out_of_memory, err_scanout_id, err_resource_id, err_parameter;
	/* Chains completed with length 0: no room for the response, or malformed. */
	uint64_t bad_chains;
	uint64_t fences;	  /* responses that echoed a fence */
	uint64_t transfer_bytes;  /* guest backing -> host copies */
	uint64_t flush_pixels;	  /* pixels converted into the display */
	uint64_t display_events;  /* resize wishes turned into EVENT_DISPLAY */
	uint64_t mode_failures;	  /* display_set_mode failed at SET_SCANOUT */
	uint64_t resets;	  /* gpu_reset calls */
	uint64_t get_edid;	  /* GET_EDID commands */
	uint64_t fb_refreshes;	  /* gpu_fb_refresh scans while the boot framebuffer shows */
	uint64_t fb_pixels;	  /* boot-framebuffer pixels copied (changed) */
	uint64_t fb_dirty_errors; /* dirty-log reads that failed (whole scan instead) */
	uint64_t fb_bad_accesses; /* BAR accesses through the bus outside the video RAM */
	uint64_t resources;	  /* gauge: resources now */
	uint64_t mem_used;	  /* gauge: host bytes now */
};

/*
 * A GPU over guest RAM @gm, showing its scanout on @d (may be NULL: no
 * output; no resize events). @o may be NULL (defaults). NULL on no memory.
 */
struct gpu *gpu_create(const struct gmem *gm, struct display *d,
		       const struct gpu_opts *o) __must_check;
/* Resets (stops the workers, frees every resource), unsets the resize hook, frees. */
void gpu_destroy(struct gpu *g);

/* Called after a configuration change (EVENT_DISPLAY set); any thread. */
void gpu_set_config_notify(struct gpu *g, void (*fn)(void *opaque), void *opaque);

/* VIRTIO_F_VERSION_1, EVENT_IDX, INDIRECT_DESC; no GPU features. */
uint64_t gpu_features(const struct gpu *g);
void gpu_set_features(struct gpu *g, uint64_t negotiated);

/*
 * struct virtio_gpu_config: events_read (RO), events_clear (write 1 to
 * clear bits of events_read; reads 0), num_scanouts 1, num_capsets 0.
 * Any offset and length; bytes past it read 0, writes elsewhere are ignored.
 */
unsigned int gpu_config_size(void);
void gpu_config_read(struct gpu *g, uint64_t off, void *data, unsigned int len);
void gpu_config_write(struct gpu *g, uint64_t off, const void *data, unsigned int len);

/*
 * Execute one popped chain of queue @q (GPU_CONTROLQ or GPU_CURSORQ); what
 * the workers do between virtq_pop and virtq_push, exposed for tests and
 * fuzzing. 0: *written bytes of response were written (0 on the cursor
 * queue); -EINVAL: the chain was malformed or had no room for the response,
 * nothing was executed, *written is 0. Not reentrant per queue.
 */
int gpu_handle_chain(struct gpu *g, unsigned int q, const struct virtq_chain *ch,
		     uint32_t *written) __must_check;

/*
 * The front end's wish (what the resize hook does; exposed for tests): the
 * preferred size (GET_DISPLAY_INFO, the EDID) becomes @w x @h and
 * VIRTIO_GPU_EVENT_DISPLAY is raised.
 */
void gpu_resize_request(struct gpu *g, uint32_t w, uint32_t h);

/*
 * The EDID of a monitor whose preferred (native) mode is @w x @h: EDID 1.4,
 * digital, sRGB, detailed timing 1 = @w x @h with reduced blanking at 60 Hz
 * (lower when the pixel clock would not fit), sides clamped to 4095 (the
 * most a detailed timing holds), monitor name "hostel". Checksummed.
 */
void gpu_edid(uint32_t w, uint32_t h, uint8_t out[GPU_EDID_SIZE]);

/* ---- boot framebuffer (gpu_opts.vram_size) ------------------------------ */

/*
 * After pci_host_assign_bars(): map the video RAM at its BAR through
 * gpu_opts.memslot (with dirty logging) and start the refresh timer.
 * 0; -ENODEV: no boot framebuffer or not created by gpu_create_vpci;
 * -EINVAL: BAR not placed. A memslot failure is logged and the video RAM
 * stays reachable through gpu_fb_dev() (returns 0). Call once, before
 * vCPUs run.
 */
int gpu_fb_map(struct gpu *g) __must_check;
/* What to put in boot_params.screen_info; false: no boot framebuffer or BAR not placed. */
bool gpu_fb_info(const struct gpu *g, struct gpu_fb_info *fb);
/* The BAR's bus device (accesses when the video RAM is not mapped); NULL without. */
struct dev *gpu_fb_dev(struct gpu *g);
/* The video RAM itself (tests play the guest with it); NULL without. */
uint8_t *gpu_fb_vram(struct gpu *g);
/*
 * One refresh: while the boot framebuffer shows, copy the changed pixels
 * into the display (setting its mode first if needed) and damage them.
 * true if anything was damaged. Called by the refresh timer; one caller
 * at a time.
 */
bool gpu_fb_refresh(struct gpu *g);
/* Whether the boot framebuffer is what the display shows. */
bool gpu_fb_active(const struct gpu *g);

struct gpu_queue_cb {
	void (*notify)(void *opaque);	   /* used-buffer interrupt */
	void (*needs_reset)(void *opaque); /* the ring is broken */
	void *opaque;
};

/*
 * Start the worker of queue @q on an initialised @vq, woken by @kick_fd.
 * 0, -EBUSY (already started), -EINVAL, -errno from thread creation.
 */
int gpu_start(struct gpu *g, unsigned int q, struct virtq *vq, int kick_fd,
	      const struct gpu_queue_cb *cb) __must_check;
/* Stop both workers; the command being executed completes. Idempotent. */
void gpu_stop(struct gpu *g);
/*
 * Device reset: gpu_stop, then every resource and backing is freed, the
 * scanout is disabled (the display keeps its last picture) and events_read
 * is cleared. The preferred size stays (it is the front end's).
 */
void gpu_reset(struct gpu *g);

void gpu_get_stats(const struct gpu *g, struct gpu_stats *st);

/* ---- virtio-pci --------------------------------------------------------- */

struct pci_host;
struct msi_ctl;
struct ioevent_ctl;
struct vpci;

/*
 * Class 0x038000, display controller "other", as QEMU's virtio-gpu-pci,
 * when the gpu has no boot framebuffer. With one, gpu_vga_vpci_ops: class
 * 0x030000 (VGA), as QEMU's virtio-vga, because Linux's virtio_gpu driver
 * removes firmware framebuffers only on a VGA-class function (and only
 * those inside its BARs). The legacy VGA ports and window are not
 * emulated: Linux's vgacon stays off because screen_info says VLFB. Two
 * queues of up to 256.
 */
extern const struct vpci_dev_ops gpu_vpci_ops;
extern const struct vpci_dev_ops gpu_vga_vpci_ops;
/*
 * vpci_create with gpu_vpci_ops (gpu_vga_vpci_ops and BAR GPU_FB_BAR of
 * vram_size bytes, prefetchable, with a boot framebuffer), and the config
 * notifier wired to vpci_config_changed of the new transport. NULL as vpci_create. Tear
 * down in this order: gpu_set_config_notify(g, NULL, NULL) (a resize must
 * not reach a freed transport), vpci_destroy, gpu_destroy.
 */
struct vpci *gpu_create_vpci(struct pci_host *h, unsigned int slot, struct gpu *g,
			     const struct gmem *gm, struct msi_ctl *msi,
			     struct ioevent_ctl *ioev) __must_check;

#endif
