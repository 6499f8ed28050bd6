/* SPDX-License-Identifier: MIT */
/* 16550A UART (COM1: ports 0x3f8-0x3ff, IRQ 4). Window: 8 ports. */
#ifndef HOSTEL_UART_H
#define HOSTEL_UART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hostel/chardev.h"
#include "hostel/compiler.h"
#include "hostel/device.h"
#include "hostel/irq.h"

#define UART_FIFO_SIZE 16

struct uart;

struct uart_stats {
	uint64_t tx_bytes;   /* bytes the guest transmitted (to the sink) */
	uint64_t rx_bytes;   /* bytes delivered into the RX FIFO */
	uint64_t rx_overrun; /* bytes refused because the RX FIFO was full */
	uint64_t odd_access; /* accesses with len != 1 or offset >= 8 */
};

/*
 * A side-effect-free view of the registers, for tests, fuzz targets and
 * debugging (reading IIR/LSR/MSR/RBR through the bus has side effects).
 */
struct uart_state {
	uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr;
	uint16_t divisor;  /* DLM:DLL */
	unsigned rx_count; /* bytes waiting in the RX FIFO (<= UART_FIFO_SIZE) */
	bool irq_level;	   /* level last driven on the interrupt line */
};

/*
 * @irq: the UART's interrupt line (level; the UART raises and lowers it).
 * @out: where transmitted bytes go (never blocks; may be NULL).
 * Thread safety: register access (vCPU threads) and uart_receive (event loop)
 * may run concurrently; the UART serialises them with its own lock.
 */
struct uart *uart_create(struct irq_line *irq, struct byte_sink *out) __must_check;
void uart_destroy(struct uart *u);
struct dev *uart_dev(struct uart *u);

/*
 * Host -> guest. Queues up to the free RX FIFO space; returns bytes taken.
 * Bytes beyond the room are refused and counted in rx_overrun, so a caller
 * that keeps them for later should ask uart_rx_room() first. In loopback
 * mode the receiver input is disconnected (PC16550D, MCR bit 4): nothing is
 * taken and nothing is counted.
 */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/*
 * Free bytes in the RX FIFO right now: up to UART_FIFO_SIZE with the FIFOs on,
 * 1 in 16450 mode (FCR bit 0 clear, as after reset), 0 in loopback mode.
 */
size_t uart_rx_room(struct uart *u);
void uart_get_stats(struct uart *u, struct uart_stats *st);
void uart_snapshot(struct uart *u, struct uart_state *st);

#endif
