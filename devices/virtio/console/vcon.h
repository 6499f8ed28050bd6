/* SPDX-License-Identifier: MIT */
/*
 * virtio-console device model (virtio 1.x, "Console Device", device id 3),
 * transport-neutral, output only. One port, no control queues: the device
 * offers none of VIRTIO_CONSOLE_F_SIZE, _MULTIPORT or _EMERG_WRITE, so it has
 * exactly two virtqueues, receiveq (0, host -> guest) and transmitq (1,
 * guest -> host); Linux's virtio_console makes it /dev/hvcN.
 *
 * transmitq: a worker thread pops chains, copies the bytes of their
 * device-readable buffers to the output (a file descriptor or a callback)
 * and puts each chain on the used ring (with length 0: the device writes
 * nothing into a transmit buffer) only once all of its bytes were handed
 * over. Linux's hvc put_chars() spins until its buffer comes back, so a
 * guest write() returns only after hostel wrote the bytes: output is ordered
 * end to end, and a guest that wrote its exit status last has had all its
 * output delivered by then. A chain with device-writable buffers is a bad
 * chain (virtio 1.x, transmitq buffers are driver-written only): none of its
 * bytes are delivered, it completes with length 0 and is counted.
 *
 * receiveq: input is NOT implemented. The queue is accepted and started so
 * that a driver that fills it (Linux does) works, but its buffers are never
 * consumed and its kicks are ignored.
 *
 * Output to a file descriptor never blocks the worker in a system call it
 * cannot leave: when the output is full it waits in poll() together with
 * its stop eventfd, so vcon_stop()/vcon_destroy() return even when nobody
 * reads the other end. Blocking and non-blocking descriptors both work, and
 * vcon never changes the caller's file status flags:
 *  - sockets are written with send(MSG_DONTWAIT | MSG_NOSIGNAL);
 *  - a descriptor that is already O_NONBLOCK is written as it is (the
 *    caller must keep it non-blocking while the vcon exists);
 *  - a blocking regular file or block device is written as it is (it never
 *    waits for a reader);
 *  - a blocking FIFO or character device (pipe, terminal) is reopened
 *    through /proc/self/fd with O_NONBLOCK: a private open file description
 *    of the same pipe or terminal (neither has a file offset to share).
 *    While the vcon exists it is one more writer of the pipe, so the reader
 *    sees EOF only after vcon_destroy() too;
 *  - a blocking FIFO or terminal that cannot be reopened (no /proc, or no
 *    reader yet) is written in pieces of at most PIPE_BUF bytes, each after
 *    poll() reported it writable: a pipe takes that much without blocking
 *    (a terminal whose buffer is nearly full might not).
 * A write error (EPIPE when the reader is gone, EIO, ENOSPC...) drops the
 * rest of that chain's bytes, is counted and logged (rate-limited), and the
 * device goes on consuming: the guest never hangs on a dead output. All
 * signals are blocked in the worker, SIGPIPE included (hostel ignores it
 * anyway), so a gone reader only makes the write fail with EPIPE.
 *
 * Threads: vcon_start/vcon_stop/vcon_set_features/vcon_destroy from one
 * thread at a time (the transport's, under its lock); the output callback
 * and the queue callbacks run on the worker thread.
 */
#ifndef HOSTEL_VCON_H
#define HOSTEL_VCON_H

#include <stddef.h>
#include <stdint.h>
#include "hostel/compiler.h"
#include "virtio/queue/virtq.h"

#define VCON_RX_QUEUE  0 /* receiveq: host -> guest (not consumed) */
#define VCON_TX_QUEUE  1 /* transmitq: guest -> host */
#define VCON_NR_QUEUES 2

/*
 * Where guest output goes: exactly one of the two. fd >= 0 (and @fn NULL):
 * written to @fd, which must stay open until vcon_destroy (vcon never
 * closes it). fd < 0: @fn(@opaque, buf, len) is called on the worker thread
 * with each piece, in order; @buf is a host copy (the guest cannot change
 * it during the call) valid only for the call; @fn must not call back into
 * this vcon, and must not block indefinitely (vcon_stop waits for it to
 * return). (Both set is refused: a designated initialiser naming only .fn
 * leaves fd 0, stdin, which is never what was meant.)
 */
struct vcon_out {
	int fd;
	void (*fn)(void *opaque, const uint8_t *buf, size_t len);
	void *opaque;
};

struct vcon;

/*
 * A console writing to @out. NULL (logged) when @out is NULL, names both
 * or neither of a descriptor and a callback, or its descriptor is not open
 * for writing; or on resource failure.
 */
struct vcon *vcon_create(const struct vcon_out *out) __must_check;
/* Stops the worker (vcon_stop), frees. Not the caller's fd. NULL is fine. */
void vcon_destroy(struct vcon *c);

/* Counters; each is updated atomically, a snapshot is not one instant. */
struct vcon_stats {
	uint64_t bytes;	       /* bytes delivered to the output */
	uint64_t chains;       /* good transmit chains completed */
	uint64_t bad_chains;   /* chains rejected (writable buffers, bad descriptors) */
	uint64_t write_errors; /* failed writes; each dropped the rest of its chain */
	uint64_t dropped;      /* bytes of good chains not delivered (errors, cancels) */
	uint64_t cancelled;    /* chains cut short by vcon_stop (see there) */
	uint64_t stalls;       /* times the worker waited for the output to drain */
};
void vcon_get_stats(const struct vcon *c, struct vcon_stats *st);

/* Features offered: VIRTIO_F_VERSION_1, EVENT_IDX, INDIRECT_DESC; no device features. */
uint64_t vcon_features(const struct vcon *c);
/* The features the driver accepted (at FEATURES_OK; masked with the offer). */
void vcon_set_features(struct vcon *c, uint64_t negotiated);

/*
 * struct virtio_console_config (cols, rows, max_nr_ports, emerg_wr),
 * all 0: meaningful only with features that are not offered. Any offset
 * and length: bytes past the structure read 0; every write is ignored.
 */
unsigned int vcon_config_size(void);
void vcon_config_read(const struct vcon *c, uint64_t off, void *data, unsigned int len);
void vcon_config_write(struct vcon *c, uint64_t off, const void *data, unsigned int len);

/*
 * Deliver one popped transmit chain to the output (what the worker does
 * between virtq_pop and virtq_push; exposed for tests and fuzzing). 0: the
 * chain was good and its readable bytes were delivered, or dropped after a
 * write error; -EINVAL: a bad chain (a device-writable buffer, or a
 * malformed chain description), nothing delivered; -ECANCELED: vcon_stop
 * came while it was being written (see there), the rest was dropped. The
 * chain is pushed with length 0 in every case. Not reentrant: one caller
 * at a time (the worker, or a test while the worker is stopped); without
 * a worker it waits for a full output as long as it takes.
 *
 * Trust: the chain's host pointers are valid for their lengths (the
 * virtqueue translated them); the bytes behind them are guest-writable at
 * any time and are copied once into a host buffer before they are handed on.
 */
int vcon_handle_chain(struct vcon *c, const struct virtq_chain *ch);

struct vcon_queue_cb {
	/* Raise the used-buffer interrupt (called from the worker thread). */
	void (*notify)(void *opaque);
	/* The ring is broken (virtq_pop() said -EIO): set DEVICE_NEEDS_RESET. */
	void (*needs_reset)(void *opaque);
	void *opaque;
};

/*
 * Start queue @q (VCON_RX_QUEUE or VCON_TX_QUEUE) on an initialised @vq at
 * DRIVER_OK, woken through @kick_fd. The transmit queue gets the worker
 * thread, which serves what is already available, then waits for kicks;
 * between vcon_start and vcon_stop only the worker touches @vq. The receive
 * queue is only recorded (input is not implemented). 0, -EBUSY (that queue
 * is already started), -EINVAL, or -errno from thread creation.
 */
int vcon_start(struct vcon *c, unsigned int q, struct virtq *vq, int kick_fd,
	       const struct vcon_queue_cb *cb) __must_check;
/*
 * Device reset: stop both queues. A chain being written is written on
 * only to the end of its current piece (the device copies and writes a
 * chain in pieces of up to 64 KiB), and only while the output takes it
 * without waiting; the rest is dropped and the chain counted as cancelled.
 * Either way it is pushed (length 0) before this returns. Chains not yet popped stay
 * in the ring untouched; nothing is written to the rings after this
 * returns (BAD-INPUTS 9). Never waits for the output (an output callback
 * still runs to its end). Idempotent; the queues can be started again
 * (reboot).
 */
void vcon_stop(struct vcon *c);

#endif
