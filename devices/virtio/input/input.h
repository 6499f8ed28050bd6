/* SPDX-License-Identifier: MIT */
/*
 * virtio-input device model (virtio 1.x, "Input Device", device id 18),
 * transport-neutral: an absolute pointer ("hostel tablet") that Linux's
 * virtio_input driver turns into an evdev tablet, so the guest pointer
 * follows the host's without a grab.
 *
 * Configuration space (struct virtio_input_config, 136 bytes): the driver
 * writes select (offset 0) and subsel (offset 1), then reads size (offset 2)
 * and the union (offset 8). What the device answers:
 *	ID_NAME			"hostel tablet"
 *	ID_SERIAL		"hostel-tablet-0"
 *	ID_DEVIDS		bustype BUS_VIRTUAL, vendor VINPUT_VENDOR,
 *				product VINPUT_PRODUCT, version VINPUT_VERSION
 *	PROP_BITS		INPUT_PROP_POINTER (not DIRECT: no touch screen)
 *	EV_BITS / EV_SYN	SYN_REPORT
 *	EV_BITS / EV_KEY	BTN_LEFT, BTN_RIGHT, BTN_MIDDLE
 *	EV_BITS / EV_ABS	ABS_X, ABS_Y
 *	ABS_INFO / ABS_X, ABS_Y	min 0, max DISPLAY_ABS_MAX, fuzz/flat/res 0
 * Every other select/subsel (UNSET, other event types, other axes, unknown
 * selectors) has size 0 and an all-zero union. Only byte writes to select
 * and subsel (or one 2-byte write covering both) are accepted; every other
 * write (read-only fields, bad offsets or lengths) is ignored and counted.
 *
 * eventq (queue 0): the driver posts device-writable buffers; each takes
 * one struct virtio_input_event (le16 type, le16 code, le32 value) and is
 * completed with length 8. A buffer with a device-readable part or fewer
 * than 8 writable bytes, or a chain the virtqueue rejects (outside RAM...),
 * is completed with length 0 and counted; the event waits for the next one.
 *
 * Host events (vinput_tablet_event) become a report: EV_ABS ABS_X, EV_ABS
 * ABS_Y, one EV_KEY per button that changed, EV_SYN SYN_REPORT. Reports
 * wait in a bounded host queue of VINPUT_QUEUE_EVENTS events until the
 * guest posts buffers. A report that does not fit whole is dropped whole
 * (never half a report reaches the guest) and counted; the buttons it
 * would have changed are compared again in the next report, so no button
 * change is lost for good. A motion-only report that finds the previous
 * report still queued and entirely undelivered, and motion-only too,
 * replaces its coordinates instead (coalesced, counted). An event exactly
 * like the last one queued (same x, y, buttons) makes no report. Events
 * while the event queue is not running (before DRIVER_OK, after a reset)
 * are dropped and counted: the driver starts from a released state.
 *
 * statusq (queue 1): buffers the driver sends (LED state and the like) are
 * consumed, counted and completed with length 0; a tablet has no LEDs.
 *
 * Reset (vinput_stop) stops both queues, empties the host queue and forgets
 * the button and pointer state. Counters are cumulative.
 *
 * Threads: the host side (vinput_tablet_event, the display sink) may be
 * called from any thread; a worker thread, started with the first queue,
 * serves kicks. One mutex serialises both, so each virtqueue is used by one
 * thread at a time. vinput_start/vinput_stop/vinput_set_features come from
 * the transport, one call at a time.
 */
#ifndef HOSTEL_VINPUT_H
#define HOSTEL_VINPUT_H

#include <stdint.h>
#include "hostel/compiler.h"
#include "virtio/queue/virtq.h"

#define VINPUT_EVENT_QUEUE  0
#define VINPUT_STATUS_QUEUE 1
#define VINPUT_NR_QUEUES    2

#define VINPUT_QUEUE_EVENTS 256	   /* host-side event queue (events, not reports) */
#define VINPUT_VENDOR	    0x4854 /* "HT" */
#define VINPUT_PRODUCT	    0x0001
#define VINPUT_VERSION	    0x0001

struct vinput;
struct display;
struct i8042;

struct vinput *vinput_create(void) __must_check;
/* Stops (vinput_stop), frees. NULL is fine. */
void vinput_destroy(struct vinput *v);

/*
 * The host pointer: @x, @y in 0..DISPLAY_ABS_MAX (larger values are
 * clamped), @buttons a mask of DISPLAY_BTN_* (other bits ignored).
 */
void vinput_tablet_event(struct vinput *v, uint32_t x, uint32_t y, uint32_t buttons);

/*
 * Make the tablet @d's input sink: display_input_abs reaches it; keys and
 * relative motion have no sink (dropped by the display). This replaces any
 * sinks set before (display_set_input): to have the PS/2 keyboard and mouse
 * too, use input_attach_display.
 */
void vinput_attach_display(struct vinput *v, struct display *d);

/*
 * Both input devices as @d's sinks: display_input_abs to the tablet @v,
 * display_input_key and display_input_rel to the i8042 @k. Either may be
 * NULL (its events are then dropped). @v and @k must outlive the display's
 * use of them (detach with display_set_input(d, NULL, NULL)).
 */
void input_attach_display(struct display *d, struct vinput *v, struct i8042 *k);

struct vinput_stats {
	uint64_t reports;	  /* reports queued */
	uint64_t coalesced;	  /* motion reports merged into the queued one */
	uint64_t dropped_reports; /* reports dropped: host queue full */
	uint64_t dropped_idle;	  /* host events while the event queue was not running */
	uint64_t events;	  /* events delivered into guest buffers */
	uint64_t bad_buffers;	  /* eventq/statusq chains rejected */
	uint64_t status_events;	  /* statusq buffers consumed */
	uint64_t config_bad;	  /* config writes ignored */
	uint64_t broken;	  /* a queue found broken (needs reset) */
};
void vinput_get_stats(struct vinput *v, struct vinput_stats *st);

/* Features offered: VIRTIO_F_VERSION_1, EVENT_IDX, INDIRECT_DESC; no device features. */
uint64_t vinput_features(const struct vinput *v);
void vinput_set_features(struct vinput *v, uint64_t negotiated);

/* struct virtio_input_config; reads past it return 0, writes are validated (above). */
unsigned int vinput_config_size(void);
void vinput_config_read(struct vinput *v, uint64_t off, void *data, unsigned int len);
void vinput_config_write(struct vinput *v, uint64_t off, const void *data, unsigned int len);

struct vinput_queue_cb {
	void (*notify)(void *opaque);	   /* used-buffer interrupt for either queue */
	void (*needs_reset)(void *opaque); /* a ring is broken */
	void *opaque;
};

/*
 * Start queue @q on an initialised @vq (DRIVER_OK), woken by @kick_fd.
 * Queued events go out at once if the driver already posted buffers. 0,
 * -EBUSY (already started), -EINVAL, or -errno from thread creation.
 */
int vinput_start(struct vinput *v, unsigned int q, struct virtq *vq, int kick_fd,
		 const struct vinput_queue_cb *cb) __must_check;
/* Reset: stop both queues and the worker, clear the state (above). Idempotent. */
void vinput_stop(struct vinput *v);

/* Serve both queues now, as the worker does on a kick (tests, fuzzing). */
void vinput_process(struct vinput *v);

#endif
