/* SPDX-License-Identifier: MIT */
/* 16550A UART (COM1: ports 0x3f8-0x3ff, IRQ 4). Window: 8 ports. */
#ifndef HOSTEL_UART_H
#define HOSTEL_UART_H

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

/* Host -> guest. Queues up to the free RX FIFO space; returns bytes taken. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
/* Free bytes in the RX FIFO right now. */
size_t uart_rx_room(struct uart *u);
void uart_get_stats(struct uart *u, struct uart_stats *st);

#endif
