/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk device model (virtio 1.x, "Block Device"), transport-neutral.
 * One request queue. The transport (virtio-pci) owns the common registers,
 * feature negotiation and the virtqueue configuration; this model gives it
 * the offered features, the device config space and a worker thread that
 * consumes the queue off the vCPU threads.
 *
 * Requests are parsed from a popped chain with any layout (virtio 1.x,
 * "Message Framing"): the 16-byte header is the first 16 device-readable
 * bytes, the status is the last byte of the last device-writable segment and
 * the data is whatever lies between.
 */
#ifndef HOSTEL_BLK_H
#define HOSTEL_BLK_H

#include <stdbool.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "virtio/blk/aio.h"
#include "virtio/blk/backend.h"
#include "virtio/queue/virtq.h"

#define BLK_SEG_MAX_DEFAULT  126	/* data segments per request */
#define BLK_SIZE_MAX_DEFAULT 0x10000	/* bytes per segment (advertised only) */
#define BLK_DWZ_SEG_MAX	     32		/* ranges per discard / write-zeroes request */
#define BLK_DWZ_SECTORS_MAX  (1u << 22) /* sectors per range (2 GiB) */
#define BLK_INFLIGHT	     64		/* requests in flight in the I/O engine per disk */

struct blk;

struct blk_opts {
	bool readonly;	    /* offer VIRTIO_BLK_F_RO; forced when the backend is read-only */
	const char *serial; /* GET_ID string, at most 20 bytes used; NULL: empty */
	uint32_t seg_max;   /* 0: BLK_SEG_MAX_DEFAULT; clamped to 1..VIRTQ_MAX_SEGS-2 */
	uint32_t size_max;  /* 0: BLK_SIZE_MAX_DEFAULT */
	bool discard;	    /* offer VIRTIO_BLK_F_DISCARD */
	bool write_zeroes;  /* offer VIRTIO_BLK_F_WRITE_ZEROES */
	/*
	 * The I/O engine for reads and writes (aio.h), used when the backend
	 * hands out fds (async_fd); io_uring falls back to threads with one
	 * log line when the kernel refuses it.
	 */
	enum blk_aio_kind aio;
};

/* Counters; each is updated atomically, a snapshot is not one instant. */
struct blk_stats {
	uint64_t reads, writes, flushes, get_ids, discards, write_zeroes;
	uint64_t unsupported; /* completed with VIRTIO_BLK_S_UNSUPP */
	uint64_t io_errors;   /* completed with VIRTIO_BLK_S_IOERR (any cause) */
	uint64_t host_errors; /* ... of which the backend failed */
	uint64_t rejected;    /* chains completed with len 0 and no status */
	uint64_t read_bytes, write_bytes;
};

/*
 * A disk over @be (which it takes over on success: blk_destroy closes it).
 * NULL on bad options (a backend size that is 0 or not a multiple of 512) or
 * no memory.
 */
struct blk *blk_create(struct blk_backend *be, const struct blk_opts *o) __must_check;
/* The engine in use: "uring", "thread", or "none" (everything on the worker). */
const char *blk_aio_engine(const struct blk *b);
/* Stops the worker, closes the backend, frees. */
void blk_destroy(struct blk *b);

/* Features offered (VIRTIO_F_VERSION_1, ring features and VIRTIO_BLK_F_*). */
uint64_t blk_features(const struct blk *b);
/* The features the driver accepted (at FEATURES_OK; masked with the offer). */
void blk_set_features(struct blk *b, uint64_t negotiated);
/* Device reset: stops the worker (see blk_stop) and forgets the features. */
void blk_reset(struct blk *b);

/*
 * struct virtio_blk_config, little-endian. Any offset and length: bytes past
 * the structure read as 0, and every write is ignored (no CONFIG_WCE).
 * Constant after blk_create, so safe from any thread.
 */
uint32_t blk_config_size(void);
void blk_config_read(const struct blk *b, uint64_t off, void *data, unsigned len);
void blk_config_write(struct blk *b, uint64_t off, const void *data, unsigned len);

uint64_t blk_capacity(const struct blk *b); /* 512-byte sectors */
void blk_get_stats(const struct blk *b, struct blk_stats *st);

/*
 * Execute one request. 0: the status byte was written (OK, IOERR or UNSUPP)
 * and *written is the number of bytes the device wrote into the chain's
 * writable buffers (read data + 1 status byte); the caller pushes that.
 * -EINVAL: rejected (no status byte can be written: none writable, status
 * segment of length 0, header not entirely device-readable, or a malformed
 * chain description); nothing was written to guest memory, *written is 0 and
 * the caller pushes the chain with len 0 (BAD-INPUTS 7).
 *
 * Trust: the chain's host pointers are valid for their lengths (the virtqueue
 * translated them), but everything they point to is guest-writable at any
 * time, so the header and discard ranges are copied once before use.
 * Not reentrant: one caller at a time per disk (the worker, or a test).
 */
int blk_handle_chain(struct blk *b, const struct virtq_chain *ch, uint32_t *written) __must_check;

struct blk_queue_cb {
	/* Raise the used-buffer interrupt (called from the worker thread). */
	void (*notify)(void *opaque);
	/*
	 * The ring is broken (virtq_pop() said -EIO): set DEVICE_NEEDS_RESET.
	 * The worker stops consuming the queue until blk_stop().
	 */
	void (*needs_reset)(void *opaque);
	void *opaque;
};

/*
 * Start the worker thread on an initialised @vq (at DRIVER_OK). It waits on
 * @kick_fd (an eventfd the transport signals on QUEUE_NOTIFY, via ioeventfd
 * or by hand), pops chains, and executes them itself or hands reads and
 * writes to the I/O engine (up to BLK_INFLIGHT at once, completing in any
 * order), pushes them and notifies as the driver asks (EVENT_IDX). Between
 * blk_start() and blk_stop() only the worker touches @vq.
 * 0, -EBUSY (already started), -EINVAL, or -errno from thread creation.
 */
int blk_start(struct blk *b, struct virtq *vq, int kick_fd,
	      const struct blk_queue_cb *cb) __must_check;
/*
 * Stop the worker: the requests being executed or in flight in the engine
 * finish (their completions are pushed), requests not yet started stay in
 * the ring untouched, and the
 * thread has exited when this returns; nothing is written to the ring after
 * it (BAD-INPUTS 9). Idempotent. Call before virtq_reset() and before the
 * guest can re-program the rings.
 */
void blk_stop(struct blk *b);

#endif
