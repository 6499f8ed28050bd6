// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the 16550A UART: the input is a program of register
 * accesses (any offset 0..15, lengths 1/2/4/8, DLAB set and clear) and host
 * uart_receive() calls. After every step the model's invariants are checked:
 * RX FIFO bounded, IRQ level consistent with IIR/MCR, LSR consistent with the
 * FIFO, reserved bits zero, IIR/LSR reads returning what was pending.
 *
 * Program encoding, one step at a time:
 *   op = b[0]; kind = op & 7; len = 1 << ((op >> 3) & 3)
 *   kind 0-2: write b[2] to offset b[1] & 15
 *   kind 3-4: read offset b[1] & 15
 *   kind 5:   uart_receive() of (b[1] & 31) following input bytes
 *   kind 6:   device reset when op >> 5 == 7, else read IIR
 *   kind 7:   uart_rx_room(), stats and snapshot (no side effects)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/serial_reg.h>

#include "fake_irq.h"
#include "fake_sink.h"
#include "serial/uart.h"
#include "fuzz_in.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_sink sink;

static void check(struct uart *u, const struct fake_irq *irq)
{
	struct uart_state st;
	struct uart_stats stats;
	bool fifo, want;
	unsigned cap;

	uart_snapshot(u, &st);
	uart_get_stats(u, &stats);
	fifo = st.fcr & UART_FCR_ENABLE_FIFO;
	cap = fifo ? UART_FIFO_SIZE : 1;
	want = !(st.iir & UART_IIR_NO_INT) && (st.mcr & UART_MCR_OUT2) && !(st.mcr & UART_MCR_LOOP);

	CHECK(st.rx_count <= cap);
	CHECK(st.irq_level == want);
	CHECK(irq->level == want);
	CHECK((st.iir & 0xc0) == (fifo ? 0xc0 : 0));
	CHECK((st.iir & 0x30) == 0);
	CHECK((st.ier & 0xf0) == 0);
	CHECK((st.mcr & 0xe0) == 0);
	CHECK((st.lsr & (UART_LSR_THRE | UART_LSR_TEMT)) == (UART_LSR_THRE | UART_LSR_TEMT));
	CHECK(!!(st.lsr & UART_LSR_DR) == (st.rx_count > 0));
	CHECK(uart_rx_room(u) == ((st.mcr & UART_MCR_LOOP) ? 0 : cap - st.rx_count));
	CHECK(stats.tx_bytes == sink.len + sink.dropped);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake_irq irq;
	struct uart *u;
	struct dev *d;
	size_t i = 0;

	fake_irq_init(&irq);
	fake_sink_init(&sink);
	u = uart_create(&irq.line, &sink.sink);
	if (!u)
		return 0;
	d = uart_dev(u);
	check(u, &irq);

	while (i + 3 <= size) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
		unsigned kind = op & 7;
		unsigned len = 1u << ((op >> 3) & 3);
		unsigned off = a & 15;
		uint8_t io[8];
		struct uart_state before;

		i += 3;
		switch (kind) {
		case 0:
		case 1:
		case 2:
			memset(io, b, sizeof(io));
			d->ops->write(d, off, io, len);
			break;
		case 3:
		case 4:
			uart_snapshot(u, &before);
			memset(io, 0, sizeof(io));
			d->ops->read(d, off, io, len);
			if (off >= 8) {
				for (unsigned k = 0; k < len; k++)
					CHECK(io[k] == 0xff);
			} else {
				for (unsigned k = 1; k < len; k++)
					CHECK(io[k] == 0);
				if (off == UART_IIR)
					CHECK(io[0] == before.iir);
				if (off == UART_LSR)
					CHECK(io[0] == before.lsr);
			}
			break;
		case 5: {
			size_t n = MIN((size_t)(a & 31), size - i);
			size_t room = uart_rx_room(u);
			size_t got = uart_receive(u, data + i, n);

			CHECK(got == MIN(n, room));
			i += n;
			break;
		}
		case 6:
			if (op >> 5 == 7) {
				d->ops->reset(d);
			} else {
				uart_snapshot(u, &before);
				d->ops->read(d, UART_IIR, io, 1);
				CHECK(io[0] == before.iir);
			}
			break;
		default:
			break;
		}
		check(u, &irq);
	}
	d->ops->destroy(d);
	return 0;
}
