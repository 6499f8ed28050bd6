// SPDX-License-Identifier: MIT
/*
 * 16550A UART, modelled after the National Semiconductor PC16550D datasheet
 * ("PC16550D UART with FIFOs", section 8: Registers). COM1 on the PC: ports
 * 0x3f8-0x3ff, IRQ 4. The target driver is Linux's 8250 driver, which probes
 * the chip as a 16550A when IIR bits 7:6 read 11 with the FIFOs enabled.
 *
 * Model choices (the host side is not a real wire):
 * - Transmit is instant: a byte written to THR goes to the byte sink at once,
 *   so THR and the shift register are always empty (LSR.THRE and LSR.TEMT
 *   always read 1) and there is no TX FIFO to hold anything.
 * - There is no baud-rate timing, so the RX "character timeout" (datasheet
 *   Table IV, IIR=1100: data below the trigger level and no FIFO activity for
 *   4 character times) is simplified: it is reported whenever the FIFOs are
 *   on and data below the trigger level is waiting.
 * - Parity, framing and break errors never happen; the only line status
 *   error is overrun (LSR.OE).
 *
 * Trust: every value the guest writes is masked to the bits the 16550A
 * implements before it is stored; nothing the guest writes is used as an
 * index. The RX FIFO is a fixed 16-byte ring.
 *
 * Locking: u->lock serialises vCPU register accesses and the event loop's
 * uart_receive(). The byte sink's write() and the interrupt line's
 * set_level() are called with the lock held; neither may call back into the
 * UART (both are leaf operations: a non-blocking buffer and KVM_IRQ_LINE).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/serial_reg.h>

#include "hostel/log.h"
#include "serial/uart.h"

/* Register bits a 16550A implements; the rest read as 0 (datasheet 8.1). */
#define UART_IER_MASK (UART_IER_RDI | UART_IER_THRI | UART_IER_RLSI | UART_IER_MSI)
#define UART_MCR_MASK (UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT1 | UART_MCR_OUT2 | UART_MCR_LOOP)
/* FCR bits that are stored (the two clear bits are self-clearing). */
#define UART_FCR_KEEP (UART_FCR_ENABLE_FIFO | UART_FCR_DMA_SELECT | UART_FCR_TRIGGER_MASK)
/* IIR bits 7:6 when FCR0 = 1: "FIFOs enabled" (datasheet 8.5). */
#define UART_IIR_FIFOS 0xc0
#define UART_MSR_LINES (UART_MSR_DCD | UART_MSR_RI | UART_MSR_DSR | UART_MSR_CTS)
/* Power-on divisor: 12 = 9600 baud from 1.8432 MHz (the datasheet leaves it undefined). */
#define UART_DIVISOR_DEFAULT 12

struct uart {
	struct dev dev;
	pthread_mutex_t lock;
	struct irq_line *irq;
	struct byte_sink *out;

	uint8_t ier, fcr, lcr, mcr, msr, scr, dll, dlm;
	bool lsr_oe;	   /* LSR.OE, sticky until LSR is read */
	bool thre_pending; /* the THRE interrupt source (datasheet Table IV) */
	bool irq_level;	   /* level last driven on @irq */

	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count; /* rx_count <= UART_FIFO_SIZE */

	struct uart_stats st;
};

static bool uart_fifo_on(const struct uart *u)
{
	return u->fcr & UART_FCR_ENABLE_FIFO;
}

static bool uart_dlab(const struct uart *u)
{
	return u->lcr & UART_LCR_DLAB;
}

static bool uart_loop(const struct uart *u)
{
	return u->mcr & UART_MCR_LOOP;
}

/* In 16450 mode (FCR0 = 0) the receiver holds one byte in RBR. */
static unsigned uart_rx_cap(const struct uart *u)
{
	return uart_fifo_on(u) ? UART_FIFO_SIZE : 1;
}

/* FCR bits 7:6 select 1, 4, 8 or 14 bytes (datasheet 8.4). */
static unsigned uart_rx_trigger(const struct uart *u)
{
	static const unsigned level[4] = {1, 4, 8, 14};
	return level[UART_FCR_R_TRIG_BITS(u->fcr)];
}

static void uart_rx_clear(struct uart *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
}

/*
 * IIR as the datasheet's Table IV prioritises the sources: line status >
 * received data / character timeout > THR empty > modem status. Every source
 * is gated by its IER bit (the timeout by IER bit 0, like received data).
 * Pure: reading IIR's side effects live in uart_read_reg().
 */
static uint8_t uart_iir(const struct uart *u)
{
	uint8_t fifos = uart_fifo_on(u) ? UART_IIR_FIFOS : 0;

	if ((u->ier & UART_IER_RLSI) && u->lsr_oe)
		return fifos | UART_IIR_RLSI;
	if ((u->ier & UART_IER_RDI) && u->rx_count) {
		if (!uart_fifo_on(u) || u->rx_count >= uart_rx_trigger(u))
			return fifos | UART_IIR_RDI;
		/* Simplified character timeout: see the comment at the top. */
		return fifos | UART_IIR_RX_TIMEOUT;
	}
	if ((u->ier & UART_IER_THRI) && u->thre_pending)
		return fifos | UART_IIR_THRI;
	if ((u->ier & UART_IER_MSI) && (u->msr & UART_MSR_ANY_DELTA))
		return fifos | UART_IIR_MSI;
	return fifos | UART_IIR_NO_INT;
}

/*
 * On the PC the chip's INTR pin reaches the PIC only while the OUT2 output
 * pin is active; Linux sets MCR.OUT2 for that reason. In loopback mode the
 * datasheet (MCR bit 4) forces all four modem control output pins inactive,
 * so OUT2 is inactive on the pin too and the PC sees no interrupt.
 */
static bool uart_irq_wanted(const struct uart *u)
{
	if (!(u->mcr & UART_MCR_OUT2) || uart_loop(u))
		return false;
	return !(uart_iir(u) & UART_IIR_NO_INT);
}

/* Called after every state change; drives the line only when it changes. */
static void uart_update_irq(struct uart *u)
{
	bool level = uart_irq_wanted(u);

	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(u->irq, level);
	}
}

/* MSR bits 7:4: the modem inputs (datasheet 8.7). */
static uint8_t uart_modem_inputs(const struct uart *u)
{
	uint8_t v = 0;

	/* Not looped back: a connected terminal (carrier, data set ready, clear to send). */
	if (!uart_loop(u))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	/* Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (datasheet, MCR bit 4). */
	if (u->mcr & UART_MCR_DTR)
		v |= UART_MSR_DSR;
	if (u->mcr & UART_MCR_RTS)
		v |= UART_MSR_CTS;
	if (u->mcr & UART_MCR_OUT1)
		v |= UART_MSR_RI;
	if (u->mcr & UART_MCR_OUT2)
		v |= UART_MSR_DCD;
	return v;
}

/* Recompute the input lines and latch delta bits for what changed. */
static void uart_msr_update(struct uart *u)
{
	uint8_t old = u->msr & UART_MSR_LINES;
	uint8_t now = uart_modem_inputs(u);
	uint8_t chg = old ^ now;
	uint8_t delta = u->msr & UART_MSR_ANY_DELTA;

	if (chg & UART_MSR_CTS)
		delta |= UART_MSR_DCTS;
	if (chg & UART_MSR_DSR)
		delta |= UART_MSR_DDSR;
	if (chg & UART_MSR_DCD)
		delta |= UART_MSR_DDCD;
	/* TERI: only the trailing edge of RI (1 -> 0) counts. */
	if ((old & UART_MSR_RI) && !(now & UART_MSR_RI))
		delta |= UART_MSR_TERI;
	u->msr = now | delta;
}

/*
 * A byte reaching the receiver while there is no room is an overrun (LSR.OE,
 * datasheet 8.6 bit 1). In FIFO mode the new byte is lost and the FIFO kept;
 * in 16450 mode the new byte overwrites RBR.
 */
static void uart_rx_put(struct uart *u, uint8_t b)
{
	if (u->rx_count < uart_rx_cap(u)) {
		u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = b;
		u->rx_count++;
		u->st.rx_bytes++;
		return;
	}
	u->lsr_oe = true;
	u->st.rx_overrun++;
	if (!uart_fifo_on(u))
		u->rx[u->rx_head] = b;
}

static uint8_t uart_rx_pop(struct uart *u)
{
	uint8_t b;

	/* Reading an empty RBR has no defined data on the chip; return 0. */
	if (!u->rx_count)
		return 0;
	b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
	u->rx_count--;
	return b;
}

/*
 * THR write (datasheet Table IV: "writing into the THR" resets the THRE
 * interrupt). The host drains instantly, so THR is empty again at once and
 * the THRE interrupt is set again; the line is lowered in between so that an
 * edge-triggered PIC input sees a fresh rising edge for each byte. In
 * loopback the byte goes to the receiver instead of the sink; it is a plain
 * store, so continuous loopback writes never recurse.
 */
static void uart_tx(struct uart *u, uint8_t b)
{
	u->thre_pending = false;
	uart_update_irq(u);
	if (uart_loop(u)) {
		uart_rx_put(u, b);
	} else {
		sink_write(u->out, &b, 1);
		u->st.tx_bytes++;
	}
	u->thre_pending = true;
	uart_update_irq(u);
}

/*
 * FCR (datasheet 8.4): bit 0 must be 1 for the other bits to be programmed;
 * changing bit 0 clears both FIFOs; bits 1 and 2 clear the RX / TX FIFO and
 * self-clear. The TX side has nothing to clear (instant drain). The shift
 * register and LSR errors are untouched.
 */
static void uart_write_fcr(struct uart *u, uint8_t v)
{
	bool was_on = uart_fifo_on(u);
	bool on = v & UART_FCR_ENABLE_FIFO;

	if (was_on != on)
		uart_rx_clear(u);
	if (!on) {
		u->fcr = 0;
		return;
	}
	if (v & UART_FCR_CLEAR_RCVR)
		uart_rx_clear(u);
	u->fcr = v & UART_FCR_KEEP;
}

/*
 * IER (datasheet 8.3). Enabling the THRE interrupt while THR is empty (it
 * always is here) raises it at once; Linux's 8250 driver tests exactly this
 * at startup (and re-enables IER.THRI after console writes), and a chip that
 * did not would stall its transmit path.
 */
static void uart_write_ier(struct uart *u, uint8_t v)
{
	uint8_t old = u->ier;

	u->ier = v & UART_IER_MASK;
	if (!(old & UART_IER_THRI) && (u->ier & UART_IER_THRI))
		u->thre_pending = true;
}

static void uart_write_reg(struct uart *u, unsigned off, uint8_t v)
{
	switch (off) {
	case UART_TX: /* == UART_DLL */
		if (uart_dlab(u))
			u->dll = v;
		else
			uart_tx(u, v);
		break;
	case UART_IER: /* == UART_DLM */
		if (uart_dlab(u))
			u->dlm = v;
		else
			uart_write_ier(u, v);
		break;
	case UART_FCR: /* FCR is written regardless of DLAB on the 16550A */
		uart_write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & UART_MCR_MASK;
		uart_msr_update(u);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Factory-test writes on the real chip; ignored here. */
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break;
	}
	uart_update_irq(u);
}

static uint8_t uart_lsr(const struct uart *u)
{
	uint8_t v = UART_LSR_THRE | UART_LSR_TEMT;

	if (u->rx_count)
		v |= UART_LSR_DR;
	if (u->lsr_oe)
		v |= UART_LSR_OE;
	return v;
}

static uint8_t uart_read_reg(struct uart *u, unsigned off)
{
	uint8_t v;

	switch (off) {
	case UART_RX: /* == UART_DLL */
		if (uart_dlab(u))
			return u->dll;
		v = uart_rx_pop(u);
		break;
	case UART_IER: /* == UART_DLM */
		return uart_dlab(u) ? u->dlm : u->ier;
	case UART_IIR:
		v = uart_iir(u);
		/* Table IV: reading IIR resets THRE only when THRE is the source reported. */
		if ((v & UART_IIR_ID) == UART_IIR_THRI)
			u->thre_pending = false;
		break;
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		v = uart_lsr(u);
		/* Reading LSR clears the error bits and the line status interrupt. */
		u->lsr_oe = false;
		break;
	case UART_MSR:
		v = u->msr;
		/* Reading MSR clears the delta bits and the modem status interrupt. */
		u->msr &= (uint8_t)~UART_MSR_ANY_DELTA;
		break;
	case UART_SCR:
		return u->scr;
	default:
		return 0xff;
	}
	uart_update_irq(u);
	return v;
}

static struct uart *dev_to_uart(struct dev *d)
{
	return container_of(d, struct uart, dev);
}

/*
 * Bus accesses. The window is 8 one-byte registers. Accesses of 2, 4 or 8
 * bytes reach the register at @off with the first byte (writes) or read it
 * zero-extended; offsets >= 8 read as all-ones and drop writes. A length
 * outside 1..8 breaks the bus contract and is treated like an unknown offset.
 */
static void uart_dev_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct uart *u = dev_to_uart(d);
	uint8_t *p = data;

	if (!len)
		return;
	pthread_mutex_lock(&u->lock);
	if (len > 8 || off >= 8) {
		memset(p, 0xff, len);
	} else {
		memset(p, 0, len);
		p[0] = uart_read_reg(u, (unsigned)off);
	}
	if (len != 1 || off >= 8) {
		u->st.odd_access++;
		log_ratelimited(LOG_DEBUG, "uart: read of %u bytes at offset %#llx", len,
				(unsigned long long)off);
	}
	pthread_mutex_unlock(&u->lock);
}

static void uart_dev_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct uart *u = dev_to_uart(d);
	const uint8_t *p = data;

	if (!len)
		return;
	pthread_mutex_lock(&u->lock);
	if (len <= 8 && off < 8)
		uart_write_reg(u, (unsigned)off, p[0]);
	if (len != 1 || off >= 8) {
		u->st.odd_access++;
		log_ratelimited(LOG_DEBUG, "uart: write of %u bytes at offset %#llx", len,
				(unsigned long long)off);
	}
	pthread_mutex_unlock(&u->lock);
}

/*
 * Master reset values (datasheet Table III): IER, FCR, LCR, MCR = 0;
 * IIR = 0x01; LSR = 0x60; MSR bits 3:0 = 0, bits 7:4 follow the inputs.
 * SCR and the divisor latch are not reset by the chip.
 */
static void uart_reset_locked(struct uart *u)
{
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr_oe = false;
	u->thre_pending = false;
	uart_rx_clear(u);
	u->msr = uart_modem_inputs(u);
	uart_update_irq(u);
}

static void uart_dev_reset(struct dev *d)
{
	struct uart *u = dev_to_uart(d);

	pthread_mutex_lock(&u->lock);
	uart_reset_locked(u);
	pthread_mutex_unlock(&u->lock);
}

static void uart_dev_destroy(struct dev *d)
{
	uart_destroy(dev_to_uart(d));
}

static const struct dev_ops uart_ops = {
	.name = "uart16550a",
	.read = uart_dev_read,
	.write = uart_dev_write,
	.reset = uart_dev_reset,
	.destroy = uart_dev_destroy,
};

struct uart *uart_create(struct irq_line *irq, struct byte_sink *out)
{
	struct uart *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	if (pthread_mutex_init(&u->lock, NULL)) {
		free(u);
		return NULL;
	}
	u->dev.ops = &uart_ops;
	u->irq = irq;
	u->out = out;
	u->dll = UART_DIVISOR_DEFAULT;
	u->dlm = 0;
	/* Drive the line low once so it starts in a known state. */
	u->irq_level = false;
	irq_set(irq, false);
	uart_reset_locked(u);
	return u;
}

void uart_destroy(struct uart *u)
{
	if (!u)
		return;
	pthread_mutex_destroy(&u->lock);
	free(u);
}

struct dev *uart_dev(struct uart *u)
{
	return &u->dev;
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	if (!buf || !len)
		return 0;
	pthread_mutex_lock(&u->lock);
	/* Loopback disconnects the receiver input (datasheet, MCR bit 4). */
	if (!uart_loop(u)) {
		size_t room = uart_rx_cap(u) - u->rx_count;

		n = MIN(len, room);
		for (size_t i = 0; i < n; i++)
			uart_rx_put(u, buf[i]);
		u->st.rx_overrun += len - n;
		uart_update_irq(u);
	}
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart_rx_room(struct uart *u)
{
	size_t room = 0;

	pthread_mutex_lock(&u->lock);
	if (!uart_loop(u))
		room = uart_rx_cap(u) - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return room;
}

void uart_get_stats(struct uart *u, struct uart_stats *st)
{
	pthread_mutex_lock(&u->lock);
	*st = u->st;
	pthread_mutex_unlock(&u->lock);
}

void uart_snapshot(struct uart *u, struct uart_state *st)
{
	pthread_mutex_lock(&u->lock);
	st->ier = u->ier;
	st->iir = uart_iir(u);
	st->fcr = u->fcr;
	st->lcr = u->lcr;
	st->mcr = u->mcr;
	st->lsr = uart_lsr(u);
	st->msr = u->msr;
	st->scr = u->scr;
	st->divisor = (uint16_t)(u->dlm << 8 | u->dll);
	st->rx_count = u->rx_count;
	st->irq_level = u->irq_level;
	pthread_mutex_unlock(&u->lock);
}
