// SPDX-License-Identifier: MIT
/*
 * Intel 8254 Programmable Interval Timer and PC/AT system control port B
 * (port 0x61).
 *
 * References: Intel 8254 Programmable Interval Timer datasheet (order number
 * 231164): "Control Word Format", "Write Operations", "Read Operations"
 * (counter latch command, read-back command, status byte), "Mode
 * Definitions" (modes 0-5) and "Gate Pin Operations Summary".
 *
 * Model:
 *  - Time is counted in input-clock ticks (PIT_FREQ_HZ) derived from
 *    clock_now(). Every count and OUT level is a pure function of the number
 *    of ticks elapsed since the count was loaded into the counting element,
 *    so nothing is "clocked" in software and tests need no sleeps.
 *  - The one CLK pulse the 8254 spends moving the count register into the
 *    counting element (838 ns) is not modelled: the count is loaded at the
 *    write (or gate trigger) itself.
 *  - Channel 0 drives IRQ 0 with one pulse per OUT rising edge, through a
 *    single one-shot timer: never more than one pending expiry. A late host
 *    gets one interrupt and the timer is re-armed for the next future edge
 *    (coalescing, no backlog). In modes 2 and 3 the timer period is clamped
 *    to PIT_MIN_IRQ_TICKS so a tiny count cannot make a timer storm; reads
 *    still return the exact count.
 *  - Channels 0 and 1 have their gate tied high; channel 2's gate is bit 0 of
 *    port 0x61.
 *
 * Trust: every byte written by the guest is decoded into fields that are
 * range-checked by construction (2-bit channel select, 3-bit mode, ...);
 * nothing the guest writes is used as an array index without masking.
 *
 * Locking: one mutex per PIT. It is taken by the port handlers (vCPU
 * threads) and by the timer callback (event-loop thread). irq_pulse() and
 * timer_arm()/timer_cancel() are called with the mutex held: the IRQ line and
 * the timer provider must not call back into the PIT, and the timer provider
 * must not hold a lock of its own while it runs the callback.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include "hostel/log.h"
#include "pit.h"

#define NSEC_PER_SEC 1000000000ULL
#define TICK_NONE    UINT64_MAX

/* Control word (port 0x43), datasheet "Control Word Format". */
#define CW_SC_SHIFT    6
#define CW_SC_READBACK 3
#define CW_RW_SHIFT    4
#define CW_RW_MASK     3
#define CW_RW_LATCH    0
#define CW_RW_LSB      1
#define CW_RW_MSB      2
#define CW_RW_LSB_MSB  3
#define CW_MODE_SHIFT  1
#define CW_MODE_MASK   7
#define CW_BCD	       0x01
/* Read-back command: bits are active low. */
#define RB_NOT_COUNT  0x20
#define RB_NOT_STATUS 0x10
#define RB_CNT_SHIFT  1 /* bits 1..3 select counters 0..2 */
/* Status byte, datasheet "Status Byte". */
#define ST_OUT	      0x80
#define ST_NULL_COUNT 0x40

/* Port 0x61 (PC/AT system control port B). */
#define P61_GATE2     0x01
#define P61_SPKR_DATA 0x02
#define P61_WRITABLE  (P61_GATE2 | P61_SPKR_DATA)
#define P61_REFRESH   0x10
#define P61_OUT2      0x20
/* The refresh request bit toggles once per DRAM refresh cycle (15.085 us). */
#define REFRESH_PERIOD_NS 15085ULL

/* Offsets within the 0x40-0x43 window. */
#define PIT_OFF_CONTROL 3

/* Port 0x43 is write-only (the 8254 tri-states on A1A0=11 reads): the
 * undriven ISA bus reads as all ones. Bytes beyond the first of a wider
 * access read the same way. */
#define PIT_OPEN_BUS 0xff

enum ch_state {
	CH_IDLE,	 /* control word written, no count loaded yet */
	CH_WAIT_TRIGGER, /* modes 1/5: count written, waiting for a gate edge */
	CH_COUNTING,	 /* the counting element holds a count */
};

struct pit_channel {
	/* Programmed by the control word. */
	uint8_t mode_bits; /* M2..M0 exactly as written (status byte) */
	uint8_t mode;	   /* effective mode 0-5 (6, 7 alias 2, 3) */
	uint8_t rw;	   /* CW_RW_LSB, CW_RW_MSB or CW_RW_LSB_MSB */
	bool bcd;

	bool gate;
	enum ch_state state;
	bool null_count;

	uint32_t cr;	     /* last complete initial count, 1..65536 */
	uint32_t n;	     /* count being run by the counting element */
	bool running;	     /* being clocked (gate permits counting) */
	uint64_t start;	     /* tick at which the count was loaded, if running */
	uint64_t held_e;     /* elapsed ticks, frozen while !running */
	uint32_t held_count; /* counting element value outside CH_COUNTING */
	bool pending;	     /* modes 2/3: new count waiting for the period end */
	uint32_t pending_n;
	uint64_t pending_tick;

	/* Byte sequencing for two-byte counts; reads and writes are separate. */
	bool write_msb_next;
	uint8_t write_lsb;
	bool read_msb_next;
	bool count_latched;
	uint16_t latch_value;
	bool status_latched;
	uint8_t status_latch;
};

struct pit {
	struct dev dev;	  /* 0x40-0x43 */
	struct dev dev61; /* 0x61 */
	pthread_mutex_t lock;
	struct irq_line *irq0;
	struct clock *clk;
	struct timer *timer;
	struct pit_channel ch[3];
	uint8_t port61;	   /* P61_WRITABLE bits as last written */
	uint64_t irq_next; /* tick of channel 0's next IRQ edge, or TICK_NONE */
};

/* ---- time base ---------------------------------------------------------- */

static uint64_t ns_to_tick(uint64_t ns)
{
	return (uint64_t)((unsigned __int128)ns * PIT_FREQ_HZ / NSEC_PER_SEC);
}

/* The earliest time at which ns_to_tick() reaches @tick (saturating). */
static uint64_t tick_to_ns(uint64_t tick)
{
	unsigned __int128 ns =
		((unsigned __int128)tick * NSEC_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static uint64_t pit_tick_now(struct pit *p)
{
	return ns_to_tick(clock_now(p->clk));
}

/* ---- counting element --------------------------------------------------- */

static uint32_t ch_modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* Modes 2/3: a count written while counting takes effect at the end of the
 * current period (datasheet modes 2 and 3; for mode 3 the datasheet says
 * the end of the current half-cycle, we use the period end so that OUT
 * restarts high, as a new count always does). Apply it once it is due. */
static void ch_sync(struct pit_channel *c, uint64_t t)
{
	if (c->state == CH_COUNTING && c->running && c->pending && t >= c->pending_tick) {
		c->n = c->pending_n;
		c->start = c->pending_tick;
		c->pending = false;
		c->null_count = false;
	}
}

static uint64_t ch_elapsed(const struct pit_channel *c, uint64_t t)
{
	if (!c->running)
		return c->held_e;
	return t >= c->start ? t - c->start : 0;
}

/* Counting element value (0..65536) after @e ticks of count @n. */
static uint32_t ch_value(const struct pit_channel *c, uint64_t e)
{
	uint32_t n = c->n, m = ch_modulus(c);

	switch (c->mode) {
	case 2: {
		/* Counts n, n-1, ..., 1, then reloads n. */
		uint32_t pos = (uint32_t)(e % n);
		return n - pos;
	}
	case 3: {
		/* Decrements by two; OUT is high for ceil(n/2) ticks and low
		 * for floor(n/2). An odd count loads n-1 (datasheet mode 3). */
		uint32_t pos = (uint32_t)(e % n), even = n & ~1u, high = (n + 1) / 2;
		if (pos >= high)
			pos -= high;
		return even - 2 * pos;
	}
	default:
		/* Modes 0, 1, 4, 5 keep decrementing, wrapping past zero. */
		return (uint32_t)((n + m - e % m) % m);
	}
}

static bool ch_out(const struct pit_channel *c, uint64_t t)
{
	if (c->state == CH_IDLE)
		return c->mode != 0; /* mode 0 OUT starts low, others high */
	if (c->state == CH_WAIT_TRIGGER)
		return true;
	/* Modes 2 and 3: gate low forces OUT high (Gate Pin Operations). */
	if ((c->mode == 2 || c->mode == 3) && !c->gate)
		return true;

	uint64_t e = ch_elapsed(c, t);
	switch (c->mode) {
	case 0:
	case 1:
		return e >= c->n;
	case 2:
		return c->n == 1 || e % c->n != c->n - 1;
	case 3:
		return e % c->n < (c->n + 1) / 2;
	default: /* 4, 5: one-tick low strobe when the count reaches zero */
		return e != c->n;
	}
}

static uint32_t ch_count(const struct pit_channel *c, uint64_t t)
{
	if (c->state != CH_COUNTING)
		return c->held_count;
	return ch_value(c, ch_elapsed(c, t));
}

static uint16_t to_bcd16(uint32_t v)
{
	v %= 10000;
	return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* The 16-bit value the read logic presents for the current count. */
static uint16_t ch_reg_value(const struct pit_channel *c, uint64_t t)
{
	uint32_t v = ch_count(c, t);
	return c->bcd ? to_bcd16(v) : (uint16_t)v;
}

/*
 * Initial count from the 16 bits written. Zero is the largest count:
 * 65536 in binary, 10000 in BCD. An invalid BCD digit (A-F) is taken as 9,
 * so a BCD count is always 1..10000.
 */
static uint32_t ch_decode_count(const struct pit_channel *c, uint16_t raw)
{
	if (!c->bcd)
		return raw ? raw : 65536;
	uint32_t v = 0;
	for (int shift = 12; shift >= 0; shift -= 4) {
		uint32_t d = (raw >> shift) & 0xf;
		v = v * 10 + (d > 9 ? 9 : d);
	}
	return v ? v : 10000;
}

static uint8_t ch_status(const struct pit_channel *c, uint64_t t)
{
	return (uint8_t)((ch_out(c, t) ? ST_OUT : 0) | (c->null_count ? ST_NULL_COUNT : 0) |
			 c->rw << CW_RW_SHIFT | c->mode_bits << CW_MODE_SHIFT |
			 (c->bcd ? CW_BCD : 0));
}

/* Stop the counting element where it is (control word, mode 0 first byte). */
static void ch_stop(struct pit_channel *c, uint64_t t)
{
	c->held_count = ch_count(c, t);
	c->state = CH_IDLE;
	c->running = false;
	c->pending = false;
}

/* Load @n into the counting element now. */
static void ch_load(struct pit_channel *c, uint32_t n, uint64_t t, bool run)
{
	c->n = n;
	c->state = CH_COUNTING;
	c->running = run;
	c->start = t;
	c->held_e = 0;
	c->pending = false;
	c->null_count = false;
}

static void ch_control(struct pit_channel *c, uint8_t cw, uint64_t t)
{
	ch_sync(c, t);
	ch_stop(c, t);
	c->rw = (cw >> CW_RW_SHIFT) & CW_RW_MASK;
	c->mode_bits = (cw >> CW_MODE_SHIFT) & CW_MODE_MASK;
	c->mode = c->mode_bits >= 6 ? c->mode_bits - 4 : c->mode_bits;
	c->bcd = cw & CW_BCD;
	c->null_count = true;
	c->write_msb_next = false;
	c->read_msb_next = false;
	/* Reprogramming the counter drops anything latched and unread. */
	c->count_latched = false;
	c->status_latched = false;
}

/* A complete initial count was written (datasheet "Mode Definitions"). */
static void ch_count_written(struct pit_channel *c, uint16_t raw, uint64_t t)
{
	c->cr = ch_decode_count(c, raw);
	c->null_count = true;

	switch (c->mode) {
	case 0:
	case 4:
		/* Loaded now; counting proceeds only while the gate is high. */
		ch_load(c, c->cr, t, c->gate);
		break;
	case 1:
	case 5:
		/* Armed; a gate rising edge loads the count and starts it. A
		 * one-shot in progress is not affected. */
		if (c->state == CH_IDLE) {
			c->held_count = 0;
			c->state = CH_WAIT_TRIGGER;
		}
		break;
	default: /* 2, 3 */
		if (c->state != CH_COUNTING) {
			/* First count after the control word: loaded now, and
			 * counting waits for the gate. */
			ch_load(c, c->cr, t, c->gate);
		} else if (c->running) {
			uint64_t e = ch_elapsed(c, t);
			c->pending = true;
			c->pending_n = c->cr;
			c->pending_tick = c->start + (e / c->n + 1) * c->n;
		}
		/* Counting but gate low: the next gate rising edge reloads
		 * from the count register, which now holds the new count. */
		break;
	}
}

static void ch_write_data(struct pit_channel *c, uint8_t b, uint64_t t)
{
	ch_sync(c, t);
	switch (c->rw) {
	case CW_RW_LSB:
		ch_count_written(c, b, t);
		break;
	case CW_RW_MSB:
		ch_count_written(c, (uint16_t)(b << 8), t);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = b;
			c->write_msb_next = true;
			/* Mode 0: writing the first byte stops counting and
			 * sets OUT low at once. */
			if (c->mode == 0 && c->state == CH_COUNTING)
				ch_stop(c, t);
		} else {
			c->write_msb_next = false;
			ch_count_written(c, (uint16_t)(c->write_lsb | b << 8), t);
		}
		break;
	}
}

/* Counter latch command; a second one before the count is read is ignored. */
static void ch_latch_count(struct pit_channel *c, uint64_t t)
{
	if (c->count_latched)
		return;
	c->latch_value = ch_reg_value(c, t);
	c->count_latched = true;
	/* A latched count is always read from its first byte. */
	c->read_msb_next = false;
}

static void ch_latch_status(struct pit_channel *c, uint64_t t)
{
	if (c->status_latched)
		return;
	c->status_latch = ch_status(c, t);
	c->status_latched = true;
}

static uint8_t ch_read_data(struct pit_channel *c, uint64_t t)
{
	ch_sync(c, t);
	if (c->status_latched) {
		/* Status comes first when both status and count are latched. */
		c->status_latched = false;
		return c->status_latch;
	}

	uint16_t v = c->count_latched ? c->latch_value : ch_reg_value(c, t);
	bool msb, done;
	switch (c->rw) {
	case CW_RW_LSB:
		msb = false;
		done = true;
		break;
	case CW_RW_MSB:
		msb = true;
		done = true;
		break;
	default:
		msb = c->read_msb_next;
		c->read_msb_next = !c->read_msb_next;
		done = msb;
		break;
	}
	if (done)
		c->count_latched = false;
	return msb ? (uint8_t)(v >> 8) : (uint8_t)v;
}

/* Gate Pin Operations Summary. */
static void ch_set_gate(struct pit_channel *c, bool gate, uint64_t t)
{
	if (gate == c->gate)
		return;
	ch_sync(c, t);
	c->gate = gate;

	switch (c->mode) {
	case 0:
	case 4:
		/* Low disables counting, high enables it; no reload. */
		if (c->state != CH_COUNTING)
			break;
		if (!gate && c->running) {
			c->held_e = ch_elapsed(c, t);
			c->running = false;
		} else if (gate && !c->running) {
			c->start = t >= c->held_e ? t - c->held_e : 0;
			c->running = true;
		}
		break;
	case 2:
	case 3:
		/* Low stops counting (OUT forced high); rising edge reloads. */
		if (c->state != CH_COUNTING)
			break;
		if (!gate) {
			c->held_e = ch_elapsed(c, t);
			c->running = false;
			c->pending = false;
		} else {
			ch_load(c, c->cr, t, true);
		}
		break;
	default: /* 1, 5: rising edge (re)triggers; low has no effect */
		if (gate && c->state != CH_IDLE)
			ch_load(c, c->cr, t, true);
		break;
	}
}

/* Absolute tick of channel @c's next OUT rising edge after tick @after, for
 * interrupt purposes (periodic modes clamped to PIT_MIN_IRQ_TICKS). */
static uint64_t ch_next_irq_edge(const struct pit_channel *c, uint64_t after)
{
	uint64_t edge;

	if (c->state != CH_COUNTING || !c->running)
		return TICK_NONE;
	switch (c->mode) {
	case 0:
	case 1:
		edge = c->start + c->n;
		break;
	case 4:
	case 5:
		edge = c->start + c->n + 1; /* end of the low strobe */
		break;
	default: {
		uint64_t period = MAX(c->n, PIT_MIN_IRQ_TICKS);
		uint64_t k = after < c->start ? 1 : (after - c->start) / period + 1;
		edge = c->start + k * period;
		/* The old period's end, where a pending count takes over. */
		if (c->pending && edge > c->pending_tick)
			edge = c->pending_tick;
		break;
	}
	}
	return edge > after ? edge : TICK_NONE;
}

/* ---- channel 0 interrupt ------------------------------------------------ */

/* Deliver channel 0's edge if it is due: one pulse however late we are. */
static void pit_irq_catch_up(struct pit *p, uint64_t t)
{
	if (p->irq_next != TICK_NONE && p->irq_next <= t) {
		p->irq_next = TICK_NONE;
		irq_pulse(p->irq0);
	}
}

/* Arm the timer for channel 0's first edge after @t (or cancel it). */
static void pit_irq_rearm(struct pit *p, uint64_t t)
{
	struct pit_channel *c = &p->ch[0];

	ch_sync(c, t);
	p->irq_next = ch_next_irq_edge(c, t);
	if (p->irq_next == TICK_NONE)
		timer_cancel(p->timer);
	else
		timer_arm(p->timer, tick_to_ns(p->irq_next));
}

static void pit_timer_fn(void *opaque)
{
	struct pit *p = opaque;

	pthread_mutex_lock(&p->lock);
	uint64_t t = pit_tick_now(p);
	pit_irq_catch_up(p, t);
	pit_irq_rearm(p, t);
	pthread_mutex_unlock(&p->lock);
}

/* ---- port handlers ------------------------------------------------------ */

static void pit_control_write(struct pit *p, uint8_t cw, uint64_t t)
{
	unsigned sc = cw >> CW_SC_SHIFT;

	if (sc == CW_SC_READBACK) {
		for (unsigned i = 0; i < 3; i++) {
			if (!(cw & (1u << (RB_CNT_SHIFT + i))))
				continue;
			ch_sync(&p->ch[i], t);
			if (!(cw & RB_NOT_COUNT))
				ch_latch_count(&p->ch[i], t);
			if (!(cw & RB_NOT_STATUS))
				ch_latch_status(&p->ch[i], t);
		}
		return;
	}

	struct pit_channel *c = &p->ch[sc]; /* sc is 0..2 here */
	if (((cw >> CW_RW_SHIFT) & CW_RW_MASK) == CW_RW_LATCH) {
		ch_sync(c, t);
		ch_latch_count(c, t);
		return;
	}
	if (sc == 0)
		pit_irq_catch_up(p, t); /* an edge already due still happened */
	ch_control(c, cw, t);
	if (sc == 0)
		pit_irq_rearm(p, t);
}

static uint8_t pit_read_locked(struct pit *p, uint64_t off)
{
	uint64_t t = pit_tick_now(p);

	if (off < PIT_OFF_CONTROL)
		return ch_read_data(&p->ch[off], t);
	return PIT_OPEN_BUS;
}

static void pit_write_locked(struct pit *p, uint64_t off, uint8_t b)
{
	uint64_t t = pit_tick_now(p);

	if (off == PIT_OFF_CONTROL) {
		pit_control_write(p, b, t);
	} else if (off > 0) {
		ch_write_data(&p->ch[off], b, t);
	} else {
		struct pit_channel *c = &p->ch[0];
		pit_irq_catch_up(p, t);
		ch_write_data(c, b, t);
		if (c->state == CH_COUNTING && (c->mode == 2 || c->mode == 3) &&
		    (c->pending ? c->pending_n : c->n) < PIT_MIN_IRQ_TICKS)
			log_ratelimited(LOG_DEBUG,
					"pit: channel 0 count below %u, IRQ rate clamped",
					(unsigned)PIT_MIN_IRQ_TICKS);
		pit_irq_rearm(p, t);
	}
}

/*
 * The 8254 is an 8-bit device. A wider access uses its low byte only:
 * writes take byte 0, reads return the register in byte 0 and open bus
 * (0xff) in the others.
 */
static void pit_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct pit *p = container_of(d, struct pit, dev);
	uint8_t v = PIT_OPEN_BUS;

	if (len == 0)
		return;
	pthread_mutex_lock(&p->lock);
	if (off <= PIT_OFF_CONTROL)
		v = pit_read_locked(p, off);
	pthread_mutex_unlock(&p->lock);
	dev_data_put(data, len, UINT64_MAX);
	dev_data_put(data, 1, v);
}

static void pit_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct pit *p = container_of(d, struct pit, dev);

	if (len == 0 || off > PIT_OFF_CONTROL)
		return;
	pthread_mutex_lock(&p->lock);
	pit_write_locked(p, off, (uint8_t)dev_data_get(data, 1));
	pthread_mutex_unlock(&p->lock);
}

static void pit61_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct pit *p = container_of(d, struct pit, dev61);
	uint8_t v = PIT_OPEN_BUS;

	if (len == 0)
		return;
	if (off == 0) {
		pthread_mutex_lock(&p->lock);
		uint64_t now = clock_now(p->clk);
		uint64_t t = ns_to_tick(now);
		ch_sync(&p->ch[2], t);
		v = p->port61;
		if ((now / REFRESH_PERIOD_NS) & 1)
			v |= P61_REFRESH;
		if (ch_out(&p->ch[2], t))
			v |= P61_OUT2;
		pthread_mutex_unlock(&p->lock);
	}
	dev_data_put(data, len, UINT64_MAX);
	dev_data_put(data, 1, v);
}

/* Only the gate and speaker-data bits are writable; the parity/channel check
 * enables (bits 2, 3) are not modelled and read as zero. */
static void pit61_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct pit *p = container_of(d, struct pit, dev61);

	if (len == 0 || off != 0)
		return;
	uint8_t b = (uint8_t)dev_data_get(data, 1);
	pthread_mutex_lock(&p->lock);
	p->port61 = b & P61_WRITABLE;
	ch_set_gate(&p->ch[2], b & P61_GATE2, pit_tick_now(p));
	pthread_mutex_unlock(&p->lock);
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Power-on state: every channel as if programmed with mode 0, LSB then MSB,
 * binary, and no count loaded (OUT low, null count). Gate 2 low. */
static void pit_reset_locked(struct pit *p)
{
	timer_cancel(p->timer);
	p->irq_next = TICK_NONE;
	p->port61 = 0;
	for (unsigned i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];
		*c = (struct pit_channel){0};
		c->gate = i != 2;
		c->rw = CW_RW_LSB_MSB;
		c->null_count = true;
		c->cr = 65536;
		c->n = 65536;
	}
	irq_set(p->irq0, false);
}

static void pit_reset(struct dev *d)
{
	struct pit *p = container_of(d, struct pit, dev);

	pthread_mutex_lock(&p->lock);
	pit_reset_locked(p);
	pthread_mutex_unlock(&p->lock);
}

static void pit_dev_destroy(struct dev *d)
{
	pit_destroy(container_of(d, struct pit, dev));
}

static void pit61_reset(struct dev *d)
{
	struct pit *p = container_of(d, struct pit, dev61);

	pthread_mutex_lock(&p->lock);
	p->port61 = 0;
	ch_set_gate(&p->ch[2], false, pit_tick_now(p));
	pthread_mutex_unlock(&p->lock);
}

static const struct dev_ops pit_ops = {
	.name = "pit",
	.read = pit_read,
	.write = pit_write,
	.reset = pit_reset,
	.destroy = pit_dev_destroy,
};

/* No destroy: port 0x61 is part of the PIT object, freed with pit_dev(). */
static const struct dev_ops pit61_ops = {
	.name = "port61",
	.read = pit61_read,
	.write = pit61_write,
	.reset = pit61_reset,
};

struct pit *pit_create(struct irq_line *irq0, struct clock *clk, struct timer *timer)
{
	struct pit *p;

	if (!clk || !timer)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (pthread_mutex_init(&p->lock, NULL)) {
		free(p);
		return NULL;
	}
	p->dev.ops = &pit_ops;
	p->dev61.ops = &pit61_ops;
	p->irq0 = irq0;
	p->clk = clk;
	p->timer = timer;
	timer->fn = pit_timer_fn;
	timer->opaque = p;
	pit_reset_locked(p);
	return p;
}

void pit_destroy(struct pit *p)
{
	if (!p)
		return;
	timer_cancel(p->timer);
	p->timer->fn = NULL;
	p->timer->opaque = NULL;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

struct dev *pit_dev(struct pit *p)
{
	return &p->dev;
}

struct dev *pit_port61_dev(struct pit *p)
{
	return &p->dev61;
}
