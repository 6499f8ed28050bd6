// SPDX-License-Identifier: MIT
/* Unit tests for the 16550A UART model (devices/serial/uart.c). */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/serial_reg.h>

#include "fake_irq.h"
#include "fake_sink.h"
#include "serial/uart.h"

#define IIR_FIFOS 0xc0

struct fix {
	struct fake_irq irq;
	struct fake_sink sink;
	struct uart *u;
	struct dev *d;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fake_irq_init(&f->irq);
	fake_sink_init(&f->sink);
	f->u = uart_create(&f->irq.line, &f->sink.sink);
	if (!f->u) {
		free(f);
		return -1;
	}
	f->d = uart_dev(f->u);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	f->d->ops->destroy(f->d);
	free(f);
	return 0;
}

static uint8_t rd(struct fix *f, unsigned off)
{
	uint8_t v = 0;

	f->d->ops->read(f->d, off, &v, 1);
	return v;
}

static void wr(struct fix *f, unsigned off, uint8_t v)
{
	f->d->ops->write(f->d, off, &v, 1);
}

static struct uart_state snap(struct fix *f)
{
	struct uart_state st;

	uart_snapshot(f->u, &st);
	return st;
}

static struct uart_stats stats(struct fix *f)
{
	struct uart_stats st;

	uart_get_stats(f->u, &st);
	return st;
}

static void fifo_on(struct fix *f, uint8_t trigger)
{
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | trigger);
}

/* Datasheet Table III reset values; MSR shows a connected terminal. */
static void test_reset_values(void **state)
{
	struct fix *f = *state;

	assert_int_equal(rd(f, UART_IER), 0);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(rd(f, UART_LCR), 0);
	assert_int_equal(rd(f, UART_MCR), 0);
	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	assert_false(f->irq.level);
	assert_int_equal(uart_rx_room(f->u), 1); /* 16450 mode until FCR0 = 1 */
}

static void test_dlab_divisor_latch(void **state)
{
	struct fix *f = *state;

	wr(f, UART_IER, UART_IER_RDI | UART_IER_MSI);
	wr(f, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	wr(f, UART_DLL, 0x01);
	wr(f, UART_DLM, 0x02);
	assert_int_equal(rd(f, UART_DLL), 0x01);
	assert_int_equal(rd(f, UART_DLM), 0x02);
	assert_int_equal(snap(f).divisor, 0x0201);
	/* DLL writes do not transmit, DLM writes do not touch IER. */
	assert_int_equal(f->sink.len, 0);
	assert_int_equal(snap(f).ier, UART_IER_RDI | UART_IER_MSI);
	/* Offsets 2..7 are the same with DLAB set. */
	wr(f, UART_SCR, 0x77);
	assert_int_equal(rd(f, UART_LCR), UART_LCR_DLAB | UART_LCR_WLEN8);
	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);

	wr(f, UART_LCR, UART_LCR_WLEN8);
	assert_int_equal(rd(f, UART_IER), UART_IER_RDI | UART_IER_MSI);
	wr(f, UART_TX, 'x');
	assert_int_equal(f->sink.len, 1);
	assert_int_equal(f->sink.buf[0], 'x');
	assert_int_equal(rd(f, UART_SCR), 0x77);
	/* The latch kept its value across DLAB = 0. */
	wr(f, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(rd(f, UART_DLL), 0x01);
	assert_int_equal(rd(f, UART_DLM), 0x02);
	/* IER bits 7:4 do not exist on the 16550A. */
	wr(f, UART_LCR, 0);
	wr(f, UART_IER, 0xff);
	assert_int_equal(rd(f, UART_IER), 0x0f);
	/* MCR bits 7:5 do not exist either. */
	wr(f, UART_MCR, 0xe3);
	assert_int_equal(rd(f, UART_MCR), 0x03);
}

static void test_scratch_register(void **state)
{
	struct fix *f = *state;

	for (unsigned v = 0; v < 256; v++) {
		wr(f, UART_SCR, (uint8_t)v);
		assert_int_equal(rd(f, UART_SCR), v);
	}
	wr(f, UART_LCR, UART_LCR_DLAB);
	wr(f, UART_SCR, 0xa5);
	wr(f, UART_LCR, 0);
	assert_int_equal(rd(f, UART_SCR), 0xa5);
}

static void test_fifo_fill_and_overrun(void **state)
{
	struct fix *f = *state;
	uint8_t buf[20];

	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(0x40 + i);
	fifo_on(f, UART_FCR_TRIGGER_1);
	assert_int_equal(uart_rx_room(f->u), UART_FIFO_SIZE);
	assert_int_equal(uart_receive(f->u, buf, sizeof(buf)), UART_FIFO_SIZE);
	assert_int_equal(uart_rx_room(f->u), 0);
	assert_int_equal(snap(f).rx_count, UART_FIFO_SIZE);
	assert_int_equal(stats(f).rx_bytes, 16);
	assert_int_equal(stats(f).rx_overrun, 4);
	assert_int_equal(uart_receive(f->u, buf, 1), 0);
	assert_int_equal(stats(f).rx_overrun, 5);
	/* Refused host bytes stay with the caller, so no LSR.OE (documented). */
	assert_int_equal(rd(f, UART_LSR) & (UART_LSR_DR | UART_LSR_OE), UART_LSR_DR);
	/* Degenerate calls take nothing. */
	assert_int_equal(uart_receive(f->u, NULL, 5), 0);
	assert_int_equal(uart_receive(f->u, buf, 0), 0);
	assert_int_equal(stats(f).rx_overrun, 5);
}

static void test_drain_order_and_wrap(void **state)
{
	struct fix *f = *state;
	uint8_t buf[UART_FIFO_SIZE];
	unsigned next = 0;

	fifo_on(f, UART_FCR_TRIGGER_14);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	/* Partial fills and drains move the ring's head past the end. */
	assert_int_equal(uart_receive(f->u, buf, 10), 10);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(rd(f, UART_RX), next++);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(10 + i);
	assert_int_equal(uart_rx_room(f->u), 11);
	assert_int_equal(uart_receive(f->u, buf, sizeof(buf)), 11);
	while (rd(f, UART_LSR) & UART_LSR_DR)
		assert_int_equal(rd(f, UART_RX), next++);
	assert_int_equal(next, 21);
	assert_int_equal(snap(f).rx_count, 0);
	/* Reading an empty RBR is defined (0) and changes nothing. */
	assert_int_equal(rd(f, UART_RX), 0);
	assert_int_equal(snap(f).rx_count, 0);
}

static void test_16450_mode_holds_one_byte(void **state)
{
	struct fix *f = *state;
	const uint8_t buf[3] = {1, 2, 3};

	assert_int_equal(uart_receive(f->u, buf, 3), 1);
	assert_int_equal(uart_rx_room(f->u), 0);
	assert_int_equal(rd(f, UART_IIR) & IIR_FIFOS, 0);
	assert_int_equal(rd(f, UART_RX), 1);
}

static void test_fcr_clear_and_mode_change(void **state)
{
	struct fix *f = *state;
	uint8_t buf[8] = {0};

	fifo_on(f, UART_FCR_TRIGGER_8);
	assert_int_equal(uart_receive(f->u, buf, 8), 8);
	/* Clear RX: FIFO empty, FIFOs still on, trigger kept. */
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_TRIGGER_8);
	assert_int_equal(snap(f).rx_count, 0);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, 0);
	assert_int_equal(rd(f, UART_IIR) & IIR_FIFOS, IIR_FIFOS);
	assert_int_equal(snap(f).fcr, UART_FCR_ENABLE_FIFO | UART_FCR_TRIGGER_8);
	/* Clear TX alone leaves RX alone. */
	assert_int_equal(uart_receive(f->u, buf, 3), 3);
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_XMIT | UART_FCR_TRIGGER_8);
	assert_int_equal(snap(f).rx_count, 3);
	/* Turning the FIFOs off clears them and ignores the other bits. */
	wr(f, UART_FCR, UART_FCR_TRIGGER_14);
	assert_int_equal(snap(f).rx_count, 0);
	assert_int_equal(snap(f).fcr, 0);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	/* Turning them on again clears the byte held in 16450 mode. */
	assert_int_equal(uart_receive(f->u, buf, 1), 1);
	fifo_on(f, UART_FCR_TRIGGER_1);
	assert_int_equal(snap(f).rx_count, 0);
	/* Bit 5 (TI16750 64-byte mode) does not exist: IIR bit 5 stays 0. */
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_NO_INT);
}

static void test_thre_interrupt(void **state)
{
	struct fix *f = *state;
	unsigned raises;

	wr(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_DTR | UART_MCR_RTS);
	fifo_on(f, UART_FCR_TRIGGER_1);
	assert_false(f->irq.level);
	/* Enabling IER.THRI with THR empty raises THRE at once. */
	wr(f, UART_IER, UART_IER_THRI);
	assert_true(f->irq.level);
	assert_int_equal(snap(f).iir, IIR_FIFOS | UART_IIR_THRI);
	/* Reading IIR while THRE is the reported source clears it. */
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_THRI);
	assert_false(f->irq.level);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_NO_INT);
	/* Rewriting IER with THRI already set is not a new enable. */
	wr(f, UART_IER, UART_IER_THRI);
	assert_false(f->irq.level);
	/* Disable and enable again re-raises it (Linux's UART_BUG_THRE probe). */
	wr(f, UART_IER, 0);
	wr(f, UART_IER, UART_IER_THRI);
	assert_true(f->irq.level);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_THRI);
	assert_false(f->irq.level);
	/*
	 * A THR write clears THRE; the instant drain sets it again, and the line
	 * drops and rises so an edge-triggered PIC sees a new interrupt.
	 */
	raises = f->irq.raises;
	wr(f, UART_TX, 'a');
	assert_int_equal(f->irq.raises, raises + 1);
	assert_true(f->irq.level);
	raises = f->irq.raises;
	wr(f, UART_TX, 'b');
	assert_int_equal(f->irq.raises, raises + 1);
	assert_true(f->irq.level);
	assert_int_equal(f->sink.len, 2);
	assert_memory_equal(f->sink.buf, "ab", 2);
	assert_int_equal(stats(f).tx_bytes, 2);
	/* LSR says the host drained everything. */
	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	/* Disabling THRI drops the line. */
	wr(f, UART_IER, 0);
	assert_false(f->irq.level);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_NO_INT);
}

/* The THRE interrupt is not reported and not cleared while a higher one wins. */
static void test_iir_read_keeps_thre_when_not_reported(void **state)
{
	struct fix *f = *state;
	const uint8_t b = 'z';

	wr(f, UART_MCR, UART_MCR_OUT2);
	wr(f, UART_IER, UART_IER_THRI | UART_IER_RDI);
	assert_int_equal(uart_receive(f->u, &b, 1), 1);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RDI);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RDI);
	assert_int_equal(rd(f, UART_RX), 'z');
	assert_true(f->irq.level);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_THRI);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	assert_false(f->irq.level);
}

static void test_rx_data_interrupt(void **state)
{
	struct fix *f = *state;
	const uint8_t buf[4] = {'a', 'b', 'c', 'd'};

	wr(f, UART_MCR, UART_MCR_OUT2);
	fifo_on(f, UART_FCR_TRIGGER_4);
	wr(f, UART_IER, UART_IER_RDI);
	assert_false(f->irq.level);
	/* Below the trigger level: character timeout indication (simplified). */
	assert_int_equal(uart_receive(f->u, buf, 1), 1);
	assert_true(f->irq.level);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_RX_TIMEOUT);
	/* At the trigger level: received data available. */
	assert_int_equal(uart_receive(f->u, buf + 1, 3), 3);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_RDI);
	/* IIR reads do not clear RX sources. */
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_RDI);
	assert_int_equal(rd(f, UART_RX), 'a');
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_RX_TIMEOUT);
	assert_true(f->irq.level);
	assert_int_equal(rd(f, UART_RX), 'b');
	assert_int_equal(rd(f, UART_RX), 'c');
	assert_int_equal(rd(f, UART_RX), 'd');
	assert_false(f->irq.level);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_NO_INT);
	/* RDI disabled: data waits silently. */
	wr(f, UART_IER, 0);
	assert_int_equal(uart_receive(f->u, buf, 4), 4);
	assert_false(f->irq.level);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_NO_INT);
	/* 16450 mode: any byte is "data available", never a timeout. */
	wr(f, UART_FCR, 0);
	wr(f, UART_IER, UART_IER_RDI);
	assert_int_equal(uart_receive(f->u, buf, 1), 1);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_RDI);
	assert_true(f->irq.level);
}

/*
 * Datasheet Table IV priority: line status > RX data > THRE > modem status.
 * An overrun comes from loopback writes into a full FIFO.
 */
static void test_iir_priority(void **state)
{
	struct fix *f = *state;

	fifo_on(f, UART_FCR_TRIGGER_1);
	wr(f, UART_MCR, UART_MCR_LOOP);
	for (unsigned i = 0; i < UART_FIFO_SIZE + 1; i++)
		wr(f, UART_TX, (uint8_t)i);
	assert_int_equal(stats(f).rx_overrun, 1);
	/* Leaving loopback changes CTS/DSR/DCD: modem status deltas pend. */
	wr(f, UART_MCR, UART_MCR_OUT2);
	wr(f, UART_IER, UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI);
	assert_true(f->irq.level);

	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_RLSI);
	assert_int_equal(rd(f, UART_LSR),
			 UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_OE | UART_LSR_DR);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_OE, 0);

	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_RDI);
	/* The FIFO kept the first 16 bytes; the 17th was lost. */
	for (unsigned i = 0; i < UART_FIFO_SIZE; i++)
		assert_int_equal(rd(f, UART_RX), i);

	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_THRI);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_MSI);
	assert_true(f->irq.level);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS |
						  UART_MSR_DDCD | UART_MSR_DDSR | UART_MSR_DCTS);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	assert_int_equal(rd(f, UART_IIR), IIR_FIFOS | UART_IIR_NO_INT);
	assert_false(f->irq.level);
}

static void test_irq_gated_by_out2(void **state)
{
	struct fix *f = *state;

	wr(f, UART_IER, UART_IER_THRI);
	assert_int_equal(snap(f).iir, UART_IIR_THRI);
	assert_false(f->irq.level);
	wr(f, UART_MCR, UART_MCR_OUT2);
	assert_true(f->irq.level);
	assert_true(snap(f).irq_level);
	wr(f, UART_MCR, UART_MCR_DTR);
	assert_false(f->irq.level);
	/* The source stayed pending while gated. */
	assert_int_equal(snap(f).iir, UART_IIR_THRI);
	wr(f, UART_MCR, UART_MCR_OUT2);
	assert_true(f->irq.level);
	/* Loopback forces the OUT2 pin inactive, so the PC's IRQ is off. */
	wr(f, UART_MCR, UART_MCR_OUT2 | UART_MCR_LOOP);
	assert_false(f->irq.level);
	assert_int_equal(snap(f).iir, UART_IIR_THRI);
	wr(f, UART_MCR, UART_MCR_OUT2);
	assert_true(f->irq.level);
}

static void test_loopback(void **state)
{
	struct fix *f = *state;
	const uint8_t in = 'q';

	fifo_on(f, UART_FCR_TRIGGER_1);
	/* Linux's probe: LOOP | OUT2 | RTS must read back DCD | CTS. */
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_CTS);

	wr(f, UART_MCR, UART_MCR_LOOP);
	rd(f, UART_MSR);
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DSR | UART_MSR_DDSR);
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_CTS | UART_MSR_DCTS | UART_MSR_DDSR);
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT1);
	/* RI rising is not a TERI edge. */
	assert_int_equal(rd(f, UART_MSR), UART_MSR_RI | UART_MSR_DCTS);
	wr(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2);
	/* RI falling is. */
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCD | UART_MSR_DDCD | UART_MSR_TERI);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCD);

	/* Transmitted bytes come back through the receiver, not the sink. */
	wr(f, UART_TX, 'h');
	wr(f, UART_TX, 'i');
	assert_int_equal(f->sink.len, 0);
	assert_int_equal(rd(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
	assert_int_equal(rd(f, UART_RX), 'h');
	assert_int_equal(rd(f, UART_RX), 'i');
	assert_int_equal(stats(f).tx_bytes, 0);
	assert_int_equal(stats(f).rx_bytes, 2);

	/* The receiver input is disconnected from the host. */
	assert_int_equal(uart_rx_room(f->u), 0);
	assert_int_equal(uart_receive(f->u, &in, 1), 0);
	assert_int_equal(stats(f).rx_overrun, 0);

	/* Continuous writes stay bounded: 16 kept, the rest overrun. */
	for (unsigned i = 0; i < 1000; i++)
		wr(f, UART_TX, (uint8_t)i);
	assert_int_equal(snap(f).rx_count, UART_FIFO_SIZE);
	assert_int_equal(stats(f).rx_overrun, 1000 - UART_FIFO_SIZE);
	assert_int_equal(f->sink.len, 0);

	/* Back to normal: the host input works again. */
	wr(f, UART_MCR, UART_MCR_OUT2);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
	assert_int_equal(uart_receive(f->u, &in, 1), 1);
	assert_int_equal(rd(f, UART_RX), 'q');
	wr(f, UART_TX, '!');
	assert_int_equal(f->sink.len, 1);
}

/* In 16450 mode a loopback overrun overwrites the held byte. */
static void test_loopback_overrun_16450(void **state)
{
	struct fix *f = *state;

	wr(f, UART_MCR, UART_MCR_LOOP);
	wr(f, UART_TX, 1);
	wr(f, UART_TX, 2);
	assert_int_equal(rd(f, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
	assert_int_equal(rd(f, UART_RX), 2);
	assert_int_equal(stats(f).rx_overrun, 1);
}

static void test_unknown_offsets_and_lengths(void **state)
{
	struct fix *f = *state;
	const uint64_t offs[] = {8, 9, 0x100, UINT64_MAX};
	const unsigned lens[] = {1, 2, 4, 8};
	uint8_t buf[16];
	uint64_t odd = 0;

	wr(f, UART_SCR, 0x11);
	for (unsigned i = 0; i < 4; i++) {
		for (unsigned j = 0; j < 4; j++) {
			memset(buf, 0, sizeof(buf));
			f->d->ops->read(f->d, offs[i], buf, lens[j]);
			for (unsigned k = 0; k < lens[j]; k++)
				assert_int_equal(buf[k], 0xff);
			assert_int_equal(buf[lens[j]], 0); /* never past @len */
			memset(buf, 0x22, sizeof(buf));
			f->d->ops->write(f->d, offs[i], buf, lens[j]);
			odd += 2;
		}
	}
	assert_int_equal(rd(f, UART_SCR), 0x11);
	assert_int_equal(f->sink.len, 0);
	assert_int_equal(stats(f).odd_access, odd);

	/* Wider accesses use the first byte and read zero-extended. */
	buf[0] = 0x5a;
	buf[1] = 0x99;
	f->d->ops->write(f->d, UART_SCR, buf, 2);
	memset(buf, 0xee, sizeof(buf));
	f->d->ops->read(f->d, UART_SCR, buf, 4);
	assert_int_equal(dev_data_get(buf, 4), 0x5a);
	assert_int_equal(buf[4], 0xee);
	buf[0] = 'w';
	f->d->ops->write(f->d, UART_TX, buf, 8);
	assert_int_equal(f->sink.len, 1);
	assert_int_equal(f->sink.buf[0], 'w');
	assert_int_equal(stats(f).odd_access, odd + 3);

	/* Zero length is a no-op; lengths past the contract act as unknown. */
	f->d->ops->write(f->d, UART_SCR, buf, 0);
	f->d->ops->read(f->d, UART_SCR, buf, 0);
	memset(buf, 0, sizeof(buf));
	f->d->ops->read(f->d, UART_SCR, buf, 16);
	for (unsigned k = 0; k < 16; k++)
		assert_int_equal(buf[k], 0xff);
	f->d->ops->write(f->d, UART_SCR, buf, 16);
	assert_int_equal(rd(f, UART_SCR), 0x5a);
	/* Writes to LSR and MSR are ignored. */
	wr(f, UART_LSR, 0xff);
	wr(f, UART_MSR, 0xff);
	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
}

/* The register sequence of Linux's 8250 autoconfig() and startup(). */
static void test_linux_probe_sequence(void **state)
{
	struct fix *f = *state;
	uint8_t iir, iir1, lsr;

	wr(f, UART_IER, 0);
	assert_int_equal(rd(f, UART_IER) & 0x0f, 0);
	wr(f, UART_IER, 0x0f);
	assert_int_equal(rd(f, UART_IER) & 0x0f, 0x0f);
	wr(f, UART_IER, 0);
	wr(f, UART_MCR, UART_MCR_LOOP | 0x0a);
	assert_int_equal(rd(f, UART_MSR) & 0xf0, 0x90);
	wr(f, UART_MCR, 0);
	/* No EFR: offset 2 reads IIR (non-zero) under LCR 0xBF and DLAB. */
	wr(f, UART_LCR, UART_LCR_CONF_MODE_B);
	wr(f, UART_EFR, 0);
	wr(f, UART_LCR, 0);
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO);
	assert_int_equal(rd(f, UART_IIR) >> 6, 3); /* 16550A */
	wr(f, UART_LCR, UART_LCR_CONF_MODE_A);
	assert_int_not_equal(rd(f, UART_EFR), 0);
	wr(f, UART_LCR, UART_LCR_CONF_MODE_B);
	assert_int_not_equal(rd(f, UART_EFR), 0);
	/* Not a TI16750: IIR bit 5 stays clear with and without DLAB. */
	wr(f, UART_LCR, 0);
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	assert_int_equal(rd(f, UART_IIR) & 0xe0, 0xc0);
	wr(f, UART_LCR, UART_LCR_CONF_MODE_A);
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR7_64BYTE);
	assert_int_equal(rd(f, UART_IIR) & 0xe0, 0xc0);
	wr(f, UART_LCR, 0);
	/* Not an XScale: IER bit 6 (UUE) does not stick. */
	wr(f, UART_IER, 0x40);
	assert_int_equal(rd(f, UART_IER) & 0x40, 0);
	wr(f, UART_IER, 0);

	/* startup(): clear FIFOs, LSR safety check, then the THRE tests. */
	wr(f, UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR | UART_FCR_CLEAR_XMIT);
	assert_int_not_equal(rd(f, UART_LSR), 0xff);
	wr(f, UART_LCR, UART_LCR_WLEN8);
	wr(f, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	wr(f, UART_IER, UART_IER_THRI);
	iir1 = rd(f, UART_IIR);
	wr(f, UART_IER, 0);
	wr(f, UART_IER, UART_IER_THRI);
	iir = rd(f, UART_IIR);
	wr(f, UART_IER, 0);
	assert_int_equal(iir1 & UART_IIR_NO_INT, 0);
	assert_int_equal(iir & UART_IIR_NO_INT, 0); /* no UART_BUG_THRE */
	wr(f, UART_IER, UART_IER_THRI);
	lsr = rd(f, UART_LSR);
	iir = rd(f, UART_IIR);
	wr(f, UART_IER, 0);
	assert_true(lsr & UART_LSR_TEMT);
	assert_int_equal(iir & UART_IIR_NO_INT, 0); /* no UART_BUG_TXEN */
	assert_false(f->irq.level);
}

static void test_reset_op(void **state)
{
	struct fix *f = *state;
	const uint8_t b = 1;

	wr(f, UART_LCR, UART_LCR_DLAB);
	wr(f, UART_DLL, 3);
	wr(f, UART_LCR, UART_LCR_WLEN8);
	wr(f, UART_SCR, 0x42);
	fifo_on(f, UART_FCR_TRIGGER_4);
	wr(f, UART_MCR, UART_MCR_OUT2);
	wr(f, UART_IER, 0x0f);
	assert_int_equal(uart_receive(f->u, &b, 1), 1);
	assert_true(f->irq.level);
	f->d->ops->reset(f->d);
	assert_false(f->irq.level);
	assert_int_equal(rd(f, UART_IER), 0);
	assert_int_equal(rd(f, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(rd(f, UART_LCR), 0);
	assert_int_equal(rd(f, UART_MCR), 0);
	assert_int_equal(rd(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(rd(f, UART_MSR), UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS);
	assert_int_equal(snap(f).rx_count, 0);
	/* Not reset by the chip: scratch and divisor latch. */
	assert_int_equal(rd(f, UART_SCR), 0x42);
	assert_int_equal(snap(f).divisor, 3);
}

/* A NULL sink and a NULL interrupt line are allowed. */
static void test_null_collaborators(void **state)
{
	struct uart *u = uart_create(NULL, NULL);
	struct dev *d;
	uint8_t v = UART_IER_THRI;
	(void)state;

	assert_non_null(u);
	d = uart_dev(u);
	d->ops->write(d, UART_IER, &v, 1);
	v = 'x';
	d->ops->write(d, UART_TX, &v, 1);
	v = UART_MCR_OUT2;
	d->ops->write(d, UART_MCR, &v, 1);
	d->ops->read(d, UART_IIR, &v, 1);
	assert_int_equal(v, UART_IIR_THRI);
	uart_destroy(u);
	uart_destroy(NULL);
}

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64: deterministic, so a failure replays exactly. */
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_invariants(struct fix *f)
{
	struct uart_state st = snap(f);
	bool pending = !(st.iir & UART_IIR_NO_INT);
	bool fifo = st.fcr & UART_FCR_ENABLE_FIFO;
	bool want = pending && (st.mcr & UART_MCR_OUT2) && !(st.mcr & UART_MCR_LOOP);

	assert_true(st.rx_count <= UART_FIFO_SIZE);
	assert_true(st.rx_count <= (fifo ? UART_FIFO_SIZE : 1u));
	assert_int_equal(st.irq_level, want);
	assert_int_equal(f->irq.level, want);
	assert_int_equal(st.iir & 0xc0, fifo ? 0xc0 : 0);
	assert_int_equal(st.iir & 0x30, 0);
	assert_int_equal(st.ier & 0xf0, 0);
	assert_int_equal(st.mcr & 0xe0, 0);
	assert_int_equal(st.lsr & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(!!(st.lsr & UART_LSR_DR), st.rx_count > 0);
	if (st.mcr & UART_MCR_LOOP)
		assert_int_equal(uart_rx_room(f->u), 0);
	else
		assert_int_equal(uart_rx_room(f->u), (fifo ? UART_FIFO_SIZE : 1u) - st.rx_count);
}

static void test_random_sequence(void **state)
{
	struct fix *f = *state;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	uint8_t buf[32];
	uint64_t host_taken = 0;

	for (unsigned i = 0; i < 100000; i++) {
		uint64_t r = rng_next(&seed);
		unsigned op = r % 16;
		unsigned off = (r >> 8) % 10; /* 8 and 9 are outside the window */
		uint8_t val = (uint8_t)(r >> 16);
		unsigned len = 1u << ((r >> 24) % 4);
		uint8_t io[8];

		if (op < 6) {
			memset(io, val, sizeof(io));
			f->d->ops->write(f->d, off, io, len);
		} else if (op < 12) {
			struct uart_state before = snap(f);

			f->d->ops->read(f->d, off, io, len);
			/* An IIR read returns what the snapshot said was pending. */
			if (off == UART_IIR)
				assert_int_equal(io[0], before.iir);
			if (off == UART_LSR)
				assert_int_equal(io[0], before.lsr);
			if (off >= 8)
				assert_int_equal(io[0], 0xff);
		} else if (op < 15) {
			size_t n = (r >> 32) % sizeof(buf);
			size_t room = uart_rx_room(f->u);

			memset(buf, val, n);
			size_t got = uart_receive(f->u, buf, n);
			assert_int_equal(got, MIN(n, room));
			host_taken += got;
		} else if ((r >> 40) % 64 == 0) {
			f->d->ops->reset(f->d);
		}
		check_invariants(f);
	}
	assert_true(stats(f).rx_bytes >= host_taken);
	assert_true(stats(f).tx_bytes == f->sink.len + f->sink.dropped);
}

/* The event loop's uart_receive and a vCPU's RBR reads run concurrently. */
struct producer {
	struct uart *u;
	unsigned total;
};

static void *producer_fn(void *arg)
{
	struct producer *p = arg;
	unsigned sent = 0;

	while (sent < p->total) {
		uint8_t b = (uint8_t)sent;

		if (uart_receive(p->u, &b, 1) == 1)
			sent++;
		else
			sched_yield();
	}
	return NULL;
}

static void test_concurrent_receive_and_read(void **state)
{
	struct fix *f = *state;
	struct producer p = {.u = f->u, .total = 20000};
	pthread_t t;
	unsigned got = 0;

	fifo_on(f, UART_FCR_TRIGGER_14);
	assert_int_equal(pthread_create(&t, NULL, producer_fn, &p), 0);
	while (got < p.total) {
		if (rd(f, UART_LSR) & UART_LSR_DR)
			assert_int_equal(rd(f, UART_RX), (uint8_t)got++);
		else
			sched_yield();
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(stats(f).rx_bytes, p.total);
	assert_int_equal(snap(f).rx_count, 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_reset_values),
		T(test_dlab_divisor_latch),
		T(test_scratch_register),
		T(test_fifo_fill_and_overrun),
		T(test_drain_order_and_wrap),
		T(test_16450_mode_holds_one_byte),
		T(test_fcr_clear_and_mode_change),
		T(test_thre_interrupt),
		T(test_iir_read_keeps_thre_when_not_reported),
		T(test_rx_data_interrupt),
		T(test_iir_priority),
		T(test_irq_gated_by_out2),
		T(test_loopback),
		T(test_loopback_overrun_16450),
		T(test_unknown_offsets_and_lengths),
		T(test_linux_probe_sequence),
		T(test_reset_op),
		cmocka_unit_test(test_null_collaborators),
		T(test_random_sequence),
		T(test_concurrent_receive_and_read),
	};

	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
