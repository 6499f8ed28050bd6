// SPDX-License-Identifier: MIT
/*
 * i8042 (8042-compatible) keyboard controller with a PS/2 keyboard and a
 * PS/2 mouse behind it.
 *
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard
 * and Auxiliary Device Controller" (status register, command byte, the
 * controller commands, output port) and "Keyboard" / "Pointing Device"
 * (the device command sets); the translation table is the AT-compatibility
 * translation of scan code set 2 to set 1 described there.
 *
 * Model:
 *  - The controller has a one-byte output buffer (OB). Behind it sit three
 *    bounded FIFOs of 16 bytes each: controller responses (which carry the
 *    source they pretend to come from, for 0xD2/0xD3), the keyboard's own
 *    buffer and the mouse's own buffer. A full FIFO drops and counts, so at
 *    most 16 bytes per source wait behind the byte in the OB. When
 *    the OB is empty it is refilled from the controller FIFO first, then
 *    from the keyboard and mouse in turn; a device whose interface is
 *    disabled in the command byte keeps its bytes (the clock line is
 *    inhibited, as on real hardware).
 *  - Translation (command byte XLATE) happens when a keyboard byte moves
 *    into the OB, so it applies to everything the keyboard sends, replies
 *    included (0xF2 answers 0xAB 0x41 when translating, 0xAB 0x83 when not),
 *    as on real controllers. Controller responses are never translated.
 *  - IRQ 1 / IRQ 12 are levels: high while the OB holds a byte from that
 *    source and its interrupt-enable bit is set. Reading port 0x60 lowers the
 *    line before the next byte is loaded, so every byte is a fresh edge for
 *    an edge-triggered PIC/IOAPIC input.
 *  - Reading port 0x60 while the OB is empty returns the last byte read
 *    (0x00 after power-on) and changes nothing.
 *  - Writes to port 0x60 with no controller command waiting for a parameter
 *    go to the keyboard.
 *  - Reset-line pulses (0xFE, any 0xF0-0xFF with bit 0 clear, 0xD1 with
 *    bit 0 clear) call the reset callback after the lock is dropped, once
 *    per command and never nested.
 *  - The A20 bit of the output port is stored and read back but gates
 *    nothing: KVM guests always see A20 enabled.
 *
 * Trust: every byte written by the guest is a command or parameter of at
 * most 8 bits; nothing here indexes host memory with a guest value except
 * the 32-byte controller RAM, whose index is masked to 5 bits.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "i8042.h"
#include "hostel/display.h"
#include "hostel/log.h"

/* Status register (port 0x64 read). */
#define STR_OBF	    0x01 /* output buffer full */
#define STR_IBF	    0x02 /* input buffer full: always 0, writes complete at once */
#define STR_SYS	    0x04 /* system flag, mirrors command byte bit 2 */
#define STR_CMDDAT  0x08 /* last write was to port 0x64 */
#define STR_KEYLOCK 0x10 /* 1 = keyboard not inhibited (no keylock) */
#define STR_AUXDATA 0x20 /* OB holds a byte from the aux device */

/* Command byte (controller RAM byte 0). */
#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS	   0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

/*
 * Power-on command byte: what a PC BIOS leaves behind after POST
 * (translation and keyboard interrupt on, mouse interface disabled, system
 * flag set). Linux reads it to decide on translated mode.
 */
#define CTR_POWER_ON (CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT)

/* Output port: bit 0 is the CPU reset line (active low), bit 1 gates A20. */
#define OUTP_RESET    0x01
#define OUTP_A20      0x02
#define OUTP_KBD_OBF  0x10
#define OUTP_AUX_OBF  0x20
#define OUTP_POWER_ON (OUTP_RESET | OUTP_A20)

/* Controller commands (port 0x64 write). */
#define CMD_READ_RAM	0x20 /* 0x20-0x3F: read RAM byte; 0x20 = command byte */
#define CMD_WRITE_RAM	0x60 /* 0x60-0x7F: write RAM byte; 0x60 = command byte */
#define CMD_AUX_DISABLE 0xA7
#define CMD_AUX_ENABLE	0xA8
#define CMD_AUX_TEST	0xA9
#define CMD_SELF_TEST	0xAA
#define CMD_KBD_TEST	0xAB
#define CMD_KBD_DISABLE 0xAD
#define CMD_KBD_ENABLE	0xAE
#define CMD_READ_INPUT	0xC0
#define CMD_READ_OUTP	0xD0
#define CMD_WRITE_OUTP	0xD1
#define CMD_KBD_LOOP	0xD2 /* next data byte appears as keyboard data */
#define CMD_AUX_LOOP	0xD3 /* next data byte appears as aux data */
#define CMD_AUX_SEND	0xD4 /* next data byte goes to the aux device */
#define CMD_PULSE	0xF0 /* 0xF0-0xFF: pulse output lines whose bit is 0 */

#define SELF_TEST_OK 0x55
#define IFACE_OK     0x00
/* Input port: bit 7 = keyboard not inhibited; the rest reads as 0. */
#define INPUT_PORT 0x80

/* PS/2 device replies. */
#define PS2_ACK	   0xFA
#define PS2_RESEND 0xFE
#define PS2_BAT_OK 0xAA
#define PS2_ECHO   0xEE

/* Keyboard commands (PS/2 Hardware Interface Technical Reference, "Keyboard"). */
#define KBD_SET_LEDS	  0xED
#define KBD_ECHO	  0xEE
#define KBD_SCANCODE_SET  0xF0
#define KBD_GET_ID	  0xF2
#define KBD_TYPEMATIC	  0xF3
#define KBD_ENABLE	  0xF4
#define KBD_DISABLE	  0xF5
#define KBD_SET_DEFAULT	  0xF6
#define KBD_RESEND	  0xFE
#define KBD_RESET	  0xFF
#define KBD_ID0		  0xAB /* MF2 keyboard */
#define KBD_ID1		  0x83
#define KBD_TYPEMATIC_DEF 0x2B /* 10.9 characters/s, 500 ms delay */

/* Mouse commands (same reference, "Pointing Device"). */
#define AUX_SCALING_11	0xE6
#define AUX_SCALING_21	0xE7
#define AUX_SET_RES	0xE8
#define AUX_STATUS	0xE9
#define AUX_STREAM	0xEA
#define AUX_READ_DATA	0xEB
#define AUX_RESET_WRAP	0xEC
#define AUX_SET_WRAP	0xEE
#define AUX_REMOTE	0xF0
#define AUX_GET_ID	0xF2
#define AUX_SET_RATE	0xF3
#define AUX_ENABLE	0xF4
#define AUX_DISABLE	0xF5
#define AUX_SET_DEFAULT 0xF6
#define AUX_RESEND	0xFE
#define AUX_RESET	0xFF
#define AUX_ID		0x00 /* standard PS/2 mouse */
#define AUX_PACKET_SYNC 0x08 /* bit 3 of the first packet byte is always 1 */
#define AUX_RATE_DEF	100
#define AUX_RES_DEF	2    /* 4 counts/mm */
#define AUX_RES_MAX	3    /* 8 counts/mm: host motion is counted at this resolution */
#define AUX_ID_IMPS	0x03 /* IntelliMouse: 4-byte packets with a wheel byte */

/* First packet byte: buttons in bits 0-2, then sync, sign and overflow bits. */
#define AUX_PKT_XSIGN 0x10
#define AUX_PKT_YSIGN 0x20
#define AUX_PKT_XOVF  0x40
#define AUX_PKT_YOVF  0x80
#define AUX_BUTTONS   0x07 /* left, right, middle */

#define FIFO_SIZE 16
/*
 * Motion packets fill the mouse FIFO only up to here, so that a command's
 * whole reply (at most 4 bytes: 0xE9's ACK and three status bytes) always
 * fits behind them.
 */
#define AUX_PACKET_ROOM (FIFO_SIZE - 4)
/* Host reports waiting for room in the mouse FIFO (see aux_fill). */
#define AUX_REPORTS 16
/* Motion a report or the remote counters hold at most, per axis; wheel steps. */
#define AUX_ACC_MAX   65535
#define AUX_WHEEL_MAX 255

/* A bounded FIFO; entries carry a byte and, for the controller FIFO, a source. */
struct fifo {
	uint16_t buf[FIFO_SIZE];
	unsigned int head, count;
};

struct ps2_kbd {
	struct fifo q;
	uint8_t pending; /* command waiting for its argument, or 0 */
	uint8_t last;	 /* last byte sent, for 0xFE */
	uint8_t leds;
	uint8_t typematic;
	uint8_t set; /* scan code set the guest selected: 1 or 2 */
	bool scanning;
	bool brk; /* set-1 conversion state when set 1 is selected */
};

/* Host motion waiting to become stream packets: counts, packet axes (y up, z down). */
struct aux_report {
	int32_t dx, dy, dz;
	uint8_t buttons;
};

struct ps2_mouse {
	struct fifo q;
	uint8_t pending;
	uint8_t last;
	uint8_t rate;
	uint8_t resolution;
	bool scaling21;
	bool reporting;
	bool remote;
	bool wrap;
	uint8_t id;		/* AUX_ID, or AUX_ID_IMPS after the 200/100/80 knock */
	uint8_t rates[3];	/* the last three sample rates set, oldest first */
	uint8_t buttons;	/* the host's buttons now */
	uint8_t sent_buttons;	/* buttons of the last stream packet queued */
	int32_t frac_x, frac_y; /* host motion below one count at the current resolution */
	/* Stream mode: reports in order, each emitted as one or more packets. */
	struct aux_report rq[AUX_REPORTS];
	unsigned int rq_head, rq_count;
	/* Remote mode: movement counters, read (and cleared) by 0xEB. */
	int32_t rx, ry, rz;
};

struct i8042 {
	struct dev data_dev; /* port 0x60 */
	struct dev cmd_dev;  /* port 0x64 */
	pthread_mutex_t lock;
	struct irq_line *kbd_irq, *aux_irq;
	void (*reset_cb)(void *opaque);
	void *opaque;
	bool in_reset; /* accessed atomically: the callback is running */

	/* Everything below is protected by @lock. */
	uint8_t ram[32]; /* ram[0] is the command byte */
	uint8_t outp;
	uint8_t pending; /* controller command waiting for a data byte, or 0 */
	bool last_write_cmd;
	bool ob_full;
	bool ob_aux;
	uint8_t ob;
	uint8_t last_read;
	bool xlate_brk;	 /* translation saw 0xF0 */
	bool prefer_aux; /* whose turn it is when both devices have data */
	bool kbd_level, aux_level;
	struct fifo ctl;
	struct ps2_kbd kbd;
	struct ps2_mouse mouse;
	struct i8042_stats st;
};

/*
 * Scan code set 2 to set 1, bytes 0x00-0x7F, as the 8042 translates them.
 * Rows are 16 set-2 codes each. Besides the real keys, unused set-2 codes map
 * to the otherwise unused set-1 codes the controller assigns them, so the
 * translation stays one-to-one.
 */
static const uint8_t set2_to_set1_lo[128] = {
	/* 0x00 */ 0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58,
	/* 0x08 */ 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
	/* 0x10 */ 0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a,
	/* 0x18 */ 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
	/* 0x20 */ 0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c,
	/* 0x28 */ 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
	/* 0x30 */ 0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e,
	/* 0x38 */ 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
	/* 0x40 */ 0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60,
	/* 0x48 */ 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
	/* 0x50 */ 0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e,
	/* 0x58 */ 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
	/* 0x60 */ 0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b,
	/* 0x68 */ 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
	/* 0x70 */ 0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
	/* 0x78 */ 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

uint8_t i8042_set2_to_set1(uint8_t code)
{
	if (code < 0x80)
		return set2_to_set1_lo[code];
	/*
	 * Above 0x7F only two set-2 codes are keys: F7 (0x83) and Alt+SysRq
	 * (0x84). Everything else (0xAA BAT, 0xE0/0xE1 prefixes, 0xFA ACK,
	 * 0xFE resend...) passes through unchanged.
	 */
	if (code == 0x83)
		return 0x41;
	if (code == 0x84)
		return 0x54;
	return code;
}

bool i8042_translate(uint8_t in, bool *brk, uint8_t *out)
{
	if (in == 0xF0) {
		/* Set-2 break prefix: set 1 marks a break with bit 7 instead. */
		*brk = true;
		return false;
	}
	*out = i8042_set2_to_set1(in) | (*brk ? 0x80 : 0);
	*brk = false;
	return true;
}

static void fifo_clear(struct fifo *f)
{
	f->head = 0;
	f->count = 0;
}

static bool fifo_push(struct fifo *f, uint16_t v)
{
	if (f->count >= FIFO_SIZE)
		return false;
	f->buf[(f->head + f->count) % FIFO_SIZE] = v;
	f->count++;
	return true;
}

static bool fifo_pop(struct fifo *f, uint16_t *v)
{
	if (!f->count)
		return false;
	*v = f->buf[f->head];
	f->head = (f->head + 1) % FIFO_SIZE;
	f->count--;
	return true;
}

static uint8_t ctr(const struct i8042 *k)
{
	return k->ram[0];
}

static void update_irq(struct i8042 *k)
{
	bool kl = k->ob_full && !k->ob_aux && (ctr(k) & CTR_KBDINT);
	bool al = k->ob_full && k->ob_aux && (ctr(k) & CTR_AUXINT);

	if (kl != k->kbd_level) {
		k->kbd_level = kl;
		irq_set(k->kbd_irq, kl);
	}
	if (al != k->aux_level) {
		k->aux_level = al;
		irq_set(k->aux_irq, al);
	}
}

static void ob_load(struct i8042 *k, uint8_t v, bool aux)
{
	k->ob = v;
	k->ob_aux = aux;
	k->ob_full = true;
}

static bool pump_kbd(struct i8042 *k)
{
	uint16_t e;

	if (ctr(k) & CTR_KBDDIS)
		return false;
	while (fifo_pop(&k->kbd.q, &e)) {
		uint8_t v = (uint8_t)e;
		if (ctr(k) & CTR_XLATE) {
			if (!i8042_translate(v, &k->xlate_brk, &v))
				continue; /* 0xF0 folded into the next byte */
		}
		ob_load(k, v, false);
		return true;
	}
	return false;
}

static void aux_fill(struct i8042 *k);

static bool pump_aux(struct i8042 *k)
{
	uint16_t e;

	if (ctr(k) & CTR_AUXDIS)
		return false;
	if (!fifo_pop(&k->mouse.q, &e))
		return false;
	ob_load(k, (uint8_t)e, true);
	/* Room in the FIFO: waiting motion moves up behind the byte just taken. */
	aux_fill(k);
	return true;
}

/* Refill an empty OB. */
static void pump(struct i8042 *k)
{
	uint16_t e;

	if (k->ob_full)
		return;
	if (fifo_pop(&k->ctl, &e)) {
		ob_load(k, (uint8_t)e, e >> 8);
		return;
	}
	/* Alternate so that a stream from one device cannot starve the other. */
	if (k->prefer_aux ? pump_aux(k) || pump_kbd(k) : pump_kbd(k) || pump_aux(k))
		k->prefer_aux = !k->ob_aux;
}

static void ctl_reply(struct i8042 *k, uint8_t v, bool aux)
{
	if (!fifo_push(&k->ctl, (uint16_t)(v | (aux ? 0x100 : 0))))
		k->st.ctl_dropped++;
	pump(k);
}

/* --- keyboard ------------------------------------------------------------ */

static void kbd_send(struct i8042 *k, uint8_t v)
{
	if (!fifo_push(&k->kbd.q, v))
		k->st.kbd_dropped++;
	k->kbd.last = v;
	pump(k); /* the controller takes a byte as soon as its buffer is free */
}

static void kbd_defaults(struct ps2_kbd *kb)
{
	kb->typematic = KBD_TYPEMATIC_DEF;
}

static void kbd_power_on(struct ps2_kbd *kb)
{
	memset(kb, 0, sizeof(*kb));
	kbd_defaults(kb);
	kb->set = 2;
	kb->scanning = true;
}

/* The argument byte of a pending keyboard command. */
static void kbd_arg(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	struct ps2_kbd *kb = &k->kbd;

	switch (cmd) {
	case KBD_SET_LEDS:
		kb->leds = v & 0x07;
		kbd_send(k, PS2_ACK);
		break;
	case KBD_TYPEMATIC:
		kb->typematic = v & 0x7f;
		kbd_send(k, PS2_ACK);
		break;
	case KBD_SCANCODE_SET:
		if (v == 0) {
			kbd_send(k, PS2_ACK);
			kbd_send(k, kb->set);
		} else if (v == 1 || v == 2) {
			kb->set = v;
			kb->brk = false;
			kbd_send(k, PS2_ACK);
		} else {
			/* Set 3 is not implemented: refuse it like a keyboard without it. */
			kbd_send(k, PS2_RESEND);
		}
		break;
	}
}

static void kbd_write(struct i8042 *k, uint8_t v)
{
	struct ps2_kbd *kb = &k->kbd;

	if (kb->pending) {
		uint8_t cmd = kb->pending;
		kb->pending = 0;
		/*
		 * No valid argument reaches 0xED; a command byte instead of the
		 * argument abandons the pending command and runs on its own.
		 */
		if (v < KBD_SET_LEDS) {
			kbd_arg(k, cmd, v);
			return;
		}
	}

	switch (v) {
	case KBD_SET_LEDS:
	case KBD_TYPEMATIC:
	case KBD_SCANCODE_SET:
		kbd_send(k, PS2_ACK);
		kb->pending = v;
		break;
	case KBD_ECHO:
		kbd_send(k, PS2_ECHO);
		break;
	case KBD_GET_ID:
		kbd_send(k, PS2_ACK);
		kbd_send(k, KBD_ID0);
		kbd_send(k, KBD_ID1);
		break;
	case KBD_ENABLE:
		fifo_clear(&kb->q);
		kbd_send(k, PS2_ACK);
		kb->scanning = true;
		break;
	case KBD_DISABLE:
		fifo_clear(&kb->q);
		kbd_send(k, PS2_ACK);
		kbd_defaults(kb);
		kb->scanning = false;
		break;
	case KBD_SET_DEFAULT:
		kbd_send(k, PS2_ACK);
		kbd_defaults(kb);
		break;
	case KBD_RESEND:
		kbd_send(k, kb->last);
		break;
	case KBD_RESET:
		kbd_power_on(kb);
		kbd_send(k, PS2_ACK);
		kbd_send(k, PS2_BAT_OK);
		break;
	default:
		k->st.unknown_kbd_cmds++;
		log_ratelimited(LOG_DEBUG, "i8042: unknown keyboard command 0x%02x", v);
		kbd_send(k, PS2_RESEND);
		break;
	}
}

/* --- mouse --------------------------------------------------------------- */

static void aux_send(struct i8042 *k, uint8_t v)
{
	if (!fifo_push(&k->mouse.q, v))
		k->st.aux_dropped++;
	k->mouse.last = v;
	pump(k);
}

/* Forget motion not yet queued as bytes (the mouse resets its counters). */
static void aux_clear_motion(struct ps2_mouse *m)
{
	m->rq_head = m->rq_count = 0;
	m->rx = m->ry = m->rz = 0;
	m->frac_x = m->frac_y = 0;
}

static void aux_defaults(struct ps2_mouse *m)
{
	aux_clear_motion(m);
	m->rate = AUX_RATE_DEF;
	m->resolution = AUX_RES_DEF;
	m->scaling21 = false;
	m->reporting = false;
	m->remote = false;
}

static void aux_power_on(struct ps2_mouse *m)
{
	memset(m, 0, sizeof(*m));
	aux_defaults(m);
}

static int32_t clamp32(int64_t v, int32_t lo, int32_t hi)
{
	return v < lo ? lo : v > hi ? hi : (int32_t)v;
}

/* 2:1 scaling (stream mode only): 1, 1, 3, 6, 9 for 1..5 counts, twice as many beyond. */
static int32_t aux_scale21(int32_t v)
{
	static const int32_t small[6] = {0, 1, 1, 3, 6, 9};
	int32_t a = v < 0 ? -v : v;
	int32_t r = a < 6 ? small[a] : 2 * a;

	return v < 0 ? -r : r;
}

/*
 * Queue one packet (the caller checked the room): @x, @y in -256..255
 * unless overflowed (then clamped, overflow bit set), @z in -8..7.
 */
static void aux_packet(struct i8042 *k, int32_t x, int32_t y, int32_t z, uint8_t buttons)
{
	struct ps2_mouse *m = &k->mouse;
	uint8_t b0 = (uint8_t)(AUX_PACKET_SYNC | (buttons & AUX_BUTTONS));
	uint8_t bytes[4];
	unsigned int n = m->id == AUX_ID_IMPS ? 4 : 3;

	if (x > 255 || x < -256) {
		b0 |= AUX_PKT_XOVF;
		x = x > 0 ? 255 : -256;
	}
	if (y > 255 || y < -256) {
		b0 |= AUX_PKT_YOVF;
		y = y > 0 ? 255 : -256;
	}
	if (x < 0)
		b0 |= AUX_PKT_XSIGN;
	if (y < 0)
		b0 |= AUX_PKT_YSIGN;
	bytes[0] = b0;
	bytes[1] = (uint8_t)(x & 0xff);
	bytes[2] = (uint8_t)(y & 0xff);
	bytes[3] = (uint8_t)(clamp32(z, -8, 7) & 0xff);
	for (unsigned int i = 0; i < n; i++) {
		if (!fifo_push(&m->q, bytes[i]))
			k->st.aux_dropped++;
		m->last = bytes[i];
	}
}

/*
 * Stream mode: turn waiting reports into packets while the mouse FIFO has
 * room for whole ones. A report's motion goes out in steps of at most 255
 * counts per axis (127 with 2:1 scaling, so that the scaled value fits) and
 * 8 wheel steps, each packet carrying the report's buttons; a report that
 * changes the buttons goes out even without motion. Packets never overflow.
 */
static void aux_fill(struct i8042 *k)
{
	struct ps2_mouse *m = &k->mouse;
	unsigned int plen = m->id == AUX_ID_IMPS ? 4 : 3;
	int32_t lim = m->scaling21 ? 127 : 255;

	while (m->rq_count) {
		struct aux_report *r = &m->rq[m->rq_head];
		int32_t x, y, z;

		if (!r->dx && !r->dy && !r->dz && r->buttons == m->sent_buttons) {
			m->rq_head = (m->rq_head + 1) % AUX_REPORTS;
			m->rq_count--;
			continue;
		}
		if (m->q.count + plen > AUX_PACKET_ROOM)
			return;
		x = clamp32(r->dx, -lim, lim);
		y = clamp32(r->dy, -lim, lim);
		z = clamp32(r->dz, -8, 7);
		r->dx -= x;
		r->dy -= y;
		r->dz -= z;
		if (m->scaling21) {
			x = aux_scale21(x);
			y = aux_scale21(y);
		}
		aux_packet(k, x, y, z, r->buttons);
		m->sent_buttons = r->buttons;
		k->st.aux_packets++;
	}
}

/* 0xEB: one packet from the remote counters (no scaling), which restart at 0. */
static void aux_read_data(struct i8042 *k)
{
	struct ps2_mouse *m = &k->mouse;

	aux_packet(k, m->rx, m->ry, m->rz, m->buttons);
	m->rx = m->ry = m->rz = 0;
}

static bool aux_rate_valid(uint8_t v)
{
	static const uint8_t rates[] = {10, 20, 40, 60, 80, 100, 200};
	for (size_t i = 0; i < ARRAY_SIZE(rates); i++)
		if (rates[i] == v)
			return true;
	return false;
}

static void aux_arg(struct i8042 *k, uint8_t cmd, uint8_t v)
{
	struct ps2_mouse *m = &k->mouse;
	bool ok = false;

	if (cmd == AUX_SET_RATE && aux_rate_valid(v)) {
		m->rate = v;
		/* The IntelliMouse knock: rates 200, 100, 80 in a row enable the wheel. */
		m->rates[0] = m->rates[1];
		m->rates[1] = m->rates[2];
		m->rates[2] = v;
		if (m->rates[0] == 200 && m->rates[1] == 100 && m->rates[2] == 80)
			m->id = AUX_ID_IMPS;
		ok = true;
	} else if (cmd == AUX_SET_RES && v <= 3) {
		m->resolution = v;
		ok = true;
	}
	aux_send(k, ok ? PS2_ACK : PS2_RESEND);
}

static void aux_write(struct i8042 *k, uint8_t v)
{
	struct ps2_mouse *m = &k->mouse;

	/* Wrap (echo) mode: everything comes back except reset and reset-wrap. */
	if (m->wrap && v != AUX_RESET && v != AUX_RESET_WRAP) {
		aux_send(k, v);
		return;
	}
	if (m->pending) {
		uint8_t cmd = m->pending;
		m->pending = 0;
		/* Arguments are below 0xE6; a command byte abandons the argument. */
		if (v < AUX_SCALING_11) {
			aux_arg(k, cmd, v);
			return;
		}
	}

	switch (v) {
	case AUX_SCALING_11:
	case AUX_SCALING_21:
		aux_send(k, PS2_ACK);
		m->scaling21 = v == AUX_SCALING_21;
		break;
	case AUX_SET_RES:
	case AUX_SET_RATE:
		aux_send(k, PS2_ACK);
		m->pending = v;
		break;
	case AUX_STATUS:
		aux_send(k, PS2_ACK);
		aux_send(k, (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) |
				      (m->scaling21 ? 0x10 : 0)));
		aux_send(k, m->resolution);
		aux_send(k, m->rate);
		break;
	case AUX_STREAM:
		aux_send(k, PS2_ACK);
		m->remote = false;
		aux_clear_motion(m);
		break;
	case AUX_READ_DATA:
		aux_send(k, PS2_ACK);
		aux_read_data(k);
		break;
	case AUX_RESET_WRAP:
		aux_send(k, PS2_ACK);
		m->wrap = false;
		break;
	case AUX_SET_WRAP:
		aux_send(k, PS2_ACK);
		m->wrap = true;
		break;
	case AUX_REMOTE:
		aux_send(k, PS2_ACK);
		m->remote = true;
		aux_clear_motion(m);
		break;
	case AUX_GET_ID:
		aux_send(k, PS2_ACK);
		aux_send(k, m->id);
		break;
	case AUX_ENABLE:
		aux_send(k, PS2_ACK);
		m->reporting = true;
		aux_clear_motion(m);
		break;
	case AUX_DISABLE:
		fifo_clear(&m->q);
		aux_send(k, PS2_ACK);
		m->reporting = false;
		aux_clear_motion(m);
		break;
	case AUX_SET_DEFAULT:
		aux_send(k, PS2_ACK);
		aux_defaults(m);
		break;
	case AUX_RESEND:
		aux_send(k, m->last);
		break;
	case AUX_RESET:
		aux_power_on(m);
		aux_send(k, PS2_ACK);
		aux_send(k, PS2_BAT_OK);
		aux_send(k, AUX_ID);
		break;
	default:
		k->st.unknown_aux_cmds++;
		log_ratelimited(LOG_DEBUG, "i8042: unknown mouse command 0x%02x", v);
		aux_send(k, PS2_RESEND);
		break;
	}
}

/* --- controller ---------------------------------------------------------- */

static void reset_locked(struct i8042 *k)
{
	memset(k->ram, 0, sizeof(k->ram));
	k->ram[0] = CTR_POWER_ON;
	k->outp = OUTP_POWER_ON;
	k->pending = 0;
	k->last_write_cmd = false;
	k->ob_full = false;
	k->ob_aux = false;
	k->ob = 0;
	k->last_read = 0;
	k->xlate_brk = false;
	k->prefer_aux = false;
	fifo_clear(&k->ctl);
	kbd_power_on(&k->kbd);
	aux_power_on(&k->mouse);
	update_irq(k);
}

void i8042_reset(struct i8042 *k)
{
	pthread_mutex_lock(&k->lock);
	reset_locked(k);
	pthread_mutex_unlock(&k->lock);
}

/* Called without the lock: the callback may reset the whole machine. */
static void fire_reset(struct i8042 *k)
{
	if (!k->reset_cb)
		return;
	/* Drop a request made from inside the callback, or racing with it. */
	if (__atomic_exchange_n(&k->in_reset, true, __ATOMIC_ACQ_REL))
		return;
	k->reset_cb(k->opaque);
	__atomic_store_n(&k->in_reset, false, __ATOMIC_RELEASE);
}

static uint8_t read_outp(const struct i8042 *k)
{
	uint8_t v = k->outp & (uint8_t) ~(OUTP_KBD_OBF | OUTP_AUX_OBF);
	if (k->ob_full)
		v |= k->ob_aux ? OUTP_AUX_OBF : OUTP_KBD_OBF;
	return v;
}

/* Returns true when the reset line was pulsed. */
static bool controller_cmd(struct i8042 *k, uint8_t cmd)
{
	k->pending = 0; /* a new command abandons a missing parameter */

	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
		ctl_reply(k, k->ram[cmd & 0x1f], false);
		return false;
	}
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		k->pending = cmd;
		return false;
	}
	if (cmd >= CMD_PULSE) {
		/* Low nibble: lines to pulse low are the 0 bits; bit 0 is reset. */
		if (cmd & OUTP_RESET)
			return false;
		k->st.resets++;
		return true;
	}

	switch (cmd) {
	case CMD_AUX_DISABLE:
		k->ram[0] |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ram[0] &= (uint8_t)~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		ctl_reply(k, IFACE_OK, false);
		break;
	case CMD_SELF_TEST:
		k->ram[0] |= CTR_SYS;
		ctl_reply(k, SELF_TEST_OK, false);
		break;
	case CMD_KBD_DISABLE:
		k->ram[0] |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ram[0] &= (uint8_t)~CTR_KBDDIS;
		break;
	case CMD_READ_INPUT:
		ctl_reply(k, INPUT_PORT, false);
		break;
	case CMD_READ_OUTP:
		ctl_reply(k, read_outp(k), false);
		break;
	case CMD_WRITE_OUTP:
	case CMD_KBD_LOOP:
	case CMD_AUX_LOOP:
	case CMD_AUX_SEND:
		k->pending = cmd;
		break;
	default:
		k->st.unknown_cmds++;
		log_ratelimited(LOG_INFO, "i8042: ignoring unknown controller command 0x%02x", cmd);
		break;
	}
	return false;
}

/* Returns true when the reset line was pulsed. */
static bool controller_data(struct i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (!cmd) {
		kbd_write(k, v);
		return false;
	}
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		k->ram[cmd & 0x1f] = v;
		return false;
	}
	switch (cmd) {
	case CMD_WRITE_OUTP:
		/* The reset line is only pulsed; it reads back high afterwards. */
		k->outp = (uint8_t)(v | OUTP_RESET);
		if (!(v & OUTP_RESET)) {
			k->st.resets++;
			return true;
		}
		break;
	case CMD_KBD_LOOP:
		ctl_reply(k, v, false);
		break;
	case CMD_AUX_LOOP:
		ctl_reply(k, v, true);
		break;
	case CMD_AUX_SEND:
		aux_write(k, v);
		break;
	}
	return false;
}

static void data_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct i8042 *k = container_of(d, struct i8042, data_dev);
	uint8_t v;

	memset(data, 0xff, len); /* bytes past the one-byte port float */
	if (off != 0 || len == 0)
		return;
	pthread_mutex_lock(&k->lock);
	if (k->ob_full) {
		v = k->ob;
		k->last_read = v;
		k->ob_full = false;
		update_irq(k); /* lower first: the next byte must be a new edge */
		pump(k);
		update_irq(k);
	} else {
		v = k->last_read;
	}
	pthread_mutex_unlock(&k->lock);
	((uint8_t *)data)[0] = v;
}

static void data_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct i8042 *k = container_of(d, struct i8042, data_dev);
	bool reset;

	if (off != 0 || len == 0)
		return;
	pthread_mutex_lock(&k->lock);
	k->last_write_cmd = false;
	reset = controller_data(k, ((const uint8_t *)data)[0]);
	pump(k);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		fire_reset(k);
}

static void cmd_read(struct dev *d, uint64_t off, void *data, unsigned len)
{
	struct i8042 *k = container_of(d, struct i8042, cmd_dev);
	uint8_t v = STR_KEYLOCK;

	memset(data, 0xff, len);
	if (off != 0 || len == 0)
		return;
	pthread_mutex_lock(&k->lock);
	if (k->ob_full)
		v |= STR_OBF | (k->ob_aux ? STR_AUXDATA : 0);
	if (ctr(k) & CTR_SYS)
		v |= STR_SYS;
	if (k->last_write_cmd)
		v |= STR_CMDDAT;
	pthread_mutex_unlock(&k->lock);
	((uint8_t *)data)[0] = v;
}

static void cmd_write(struct dev *d, uint64_t off, const void *data, unsigned len)
{
	struct i8042 *k = container_of(d, struct i8042, cmd_dev);
	bool reset;

	if (off != 0 || len == 0)
		return;
	pthread_mutex_lock(&k->lock);
	k->last_write_cmd = true;
	reset = controller_cmd(k, ((const uint8_t *)data)[0]);
	pump(k);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
	if (reset)
		fire_reset(k);
}

static void data_dev_reset(struct dev *d)
{
	i8042_reset(container_of(d, struct i8042, data_dev));
}

static void cmd_dev_reset(struct dev *d)
{
	i8042_reset(container_of(d, struct i8042, cmd_dev));
}

/* No destroy hooks: the two ports share one object, freed by i8042_destroy(). */
static const struct dev_ops i8042_data_ops = {
	.name = "i8042-data",
	.read = data_read,
	.write = data_write,
	.reset = data_dev_reset,
};

static const struct dev_ops i8042_cmd_ops = {
	.name = "i8042-cmd",
	.read = cmd_read,
	.write = cmd_write,
	.reset = cmd_dev_reset,
};

struct i8042 *i8042_create(struct irq_line *kbd_irq, struct irq_line *aux_irq,
			   void (*reset)(void *opaque), void *opaque)
{
	struct i8042 *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	if (pthread_mutex_init(&k->lock, NULL)) {
		free(k);
		return NULL;
	}
	k->data_dev.ops = &i8042_data_ops;
	k->cmd_dev.ops = &i8042_cmd_ops;
	k->kbd_irq = kbd_irq;
	k->aux_irq = aux_irq;
	k->reset_cb = reset;
	k->opaque = opaque;
	/* Lines start low; reset_locked() only reports changes. */
	reset_locked(k);
	return k;
}

void i8042_destroy(struct i8042 *k)
{
	if (!k)
		return;
	pthread_mutex_destroy(&k->lock);
	free(k);
}

struct dev *i8042_data_dev(struct i8042 *k)
{
	return &k->data_dev;
}

struct dev *i8042_cmd_dev(struct i8042 *k)
{
	return &k->cmd_dev;
}

/* Host units to counts at the current resolution, remainder kept. */
static int32_t aux_counts(int32_t *frac, int32_t d, uint8_t resolution)
{
	int64_t div = 1ll << (AUX_RES_MAX - (resolution & AUX_RES_MAX));
	int64_t t = (int64_t)*frac + d;
	int64_t c = t / div;

	*frac = (int32_t)(t - c * div);
	return clamp32(c, -AUX_ACC_MAX, AUX_ACC_MAX);
}

void i8042_aux_motion(struct i8042 *k, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons)
{
	struct ps2_mouse *m = &k->mouse;
	uint8_t b = (uint8_t)(buttons & AUX_BUTTONS);
	int32_t x, y, z;

	pthread_mutex_lock(&k->lock);
	if (m->wrap || (!m->remote && !m->reporting)) {
		/* Echo mode, or stream mode with reporting off: the mouse sends nothing. */
		m->buttons = b;
		k->st.aux_idle_dropped++;
		goto out;
	}
	/* Packet axes: y grows upwards; the wheel byte grows towards the user. */
	x = aux_counts(&m->frac_x, dx, m->resolution);
	y = -aux_counts(&m->frac_y, dy, m->resolution);
	z = m->id == AUX_ID_IMPS ? -clamp32(wheel, -AUX_WHEEL_MAX, AUX_WHEEL_MAX) : 0;
	m->buttons = b;
	if (m->remote) {
		m->rx = clamp32((int64_t)m->rx + x, -AUX_ACC_MAX, AUX_ACC_MAX);
		m->ry = clamp32((int64_t)m->ry + y, -AUX_ACC_MAX, AUX_ACC_MAX);
		m->rz = clamp32((int64_t)m->rz + z, -AUX_WHEEL_MAX, AUX_WHEEL_MAX);
		goto out;
	}
	if (m->rq_count) {
		struct aux_report *t = &m->rq[(m->rq_head + m->rq_count - 1) % AUX_REPORTS];

		/*
		 * Same buttons as the last waiting report: add to it. A full
		 * queue merges too, at the cost of an intermediate button state.
		 */
		if (t->buttons == b || m->rq_count == AUX_REPORTS) {
			if (t->buttons != b)
				k->st.aux_merged++;
			t->dx = clamp32((int64_t)t->dx + x, -AUX_ACC_MAX, AUX_ACC_MAX);
			t->dy = clamp32((int64_t)t->dy + y, -AUX_ACC_MAX, AUX_ACC_MAX);
			t->dz = clamp32((int64_t)t->dz + z, -AUX_WHEEL_MAX, AUX_WHEEL_MAX);
			t->buttons = b;
			goto fill;
		}
	} else if (!x && !y && !z && b == m->sent_buttons) {
		goto out;
	}
	m->rq[(m->rq_head + m->rq_count) % AUX_REPORTS] =
		(struct aux_report){.dx = x, .dy = y, .dz = z, .buttons = b};
	m->rq_count++;
fill:
	aux_fill(k);
	pump(k);
	update_irq(k);
out:
	pthread_mutex_unlock(&k->lock);
}

static void attach_key(void *opaque, const uint8_t *set2, size_t len)
{
	i8042_kbd_bytes(opaque, set2, len);
}

static void attach_rel(void *opaque, int32_t dx, int32_t dy, int32_t wheel, uint32_t buttons)
{
	i8042_aux_motion(opaque, dx, dy, wheel, buttons);
}

void i8042_attach_display(struct i8042 *k, struct display *d)
{
	static const struct display_input_ops ops = {.key = attach_key, .rel = attach_rel};

	display_set_input(d, &ops, k);
}

void i8042_kbd_bytes(struct i8042 *k, const uint8_t *bytes, size_t len)
{
	struct ps2_kbd *kb = &k->kbd;

	pthread_mutex_lock(&k->lock);
	for (size_t i = 0; i < len; i++) {
		uint8_t v = bytes[i];
		if (!kb->scanning) {
			k->st.kbd_disabled_dropped++;
			continue;
		}
		/* A keyboard switched to set 1 converts its own codes. */
		if (kb->set == 1 && !i8042_translate(v, &kb->brk, &v))
			continue;
		kbd_send(k, v);
	}
	pump(k);
	update_irq(k);
	pthread_mutex_unlock(&k->lock);
}

uint8_t i8042_kbd_leds(struct i8042 *k)
{
	pthread_mutex_lock(&k->lock);
	uint8_t v = k->kbd.leds;
	pthread_mutex_unlock(&k->lock);
	return v;
}

void i8042_get_stats(struct i8042 *k, struct i8042_stats *st)
{
	pthread_mutex_lock(&k->lock);
	*st = k->st;
	pthread_mutex_unlock(&k->lock);
}
