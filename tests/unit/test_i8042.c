// SPDX-License-Identifier: MIT
/* Unit tests for devices/i8042: the controller, keyboard, mouse and translation. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "fake_irq.h"
#include "hostel/bus.h"
#include "hostel/display.h"
#include "i8042/i8042.h"

#define STR_OBF	    0x01
#define STR_IBF	    0x02
#define STR_SYS	    0x04
#define STR_CMDDAT  0x08
#define STR_KEYLOCK 0x10
#define STR_AUXDATA 0x20

#define CTR_KBDINT 0x01
#define CTR_AUXINT 0x02
#define CTR_SYS	   0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40

struct fx {
	struct i8042 *k;
	struct fake_irq irq1, irq12;
	unsigned int resets;
	bool reenter; /* the reset callback writes 0xFE again */
};

static void on_reset(void *opaque)
{
	struct fx *f = opaque;
	f->resets++;
	if (f->reenter) {
		uint8_t v = 0xFE;
		i8042_cmd_dev(f->k)->ops->write(i8042_cmd_dev(f->k), 0, &v, 1);
	}
}

static int setup(void **state)
{
	static struct fx f;

	memset(&f, 0, sizeof(f));
	fake_irq_init(&f.irq1);
	fake_irq_init(&f.irq12);
	f.k = i8042_create(&f.irq1.line, &f.irq12.line, on_reset, &f);
	if (!f.k)
		return -1;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	i8042_destroy(f->k);
	return 0;
}

static uint8_t in(struct fx *f, unsigned port)
{
	struct dev *d = port == 0x60 ? i8042_data_dev(f->k) : i8042_cmd_dev(f->k);
	uint8_t v;
	d->ops->read(d, 0, &v, 1);
	return v;
}

static void out(struct fx *f, unsigned port, uint8_t v)
{
	struct dev *d = port == 0x60 ? i8042_data_dev(f->k) : i8042_cmd_dev(f->k);
	d->ops->write(d, 0, &v, 1);
}

static uint8_t status(struct fx *f)
{
	return in(f, 0x64);
}

/* Read one byte that must be waiting, from the given source. */
static uint8_t read_byte(struct fx *f, bool aux)
{
	uint8_t st = status(f);
	assert_true(st & STR_OBF);
	assert_int_equal(!!(st & STR_AUXDATA), aux);
	assert_false(st & STR_IBF);
	return in(f, 0x60);
}

static void expect_more(struct fx *f, bool aux, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(read_byte(f, aux), bytes[i]);
}

static void expect(struct fx *f, bool aux, const uint8_t *bytes, size_t n)
{
	expect_more(f, aux, bytes, n);
	assert_false(status(f) & STR_OBF);
}

#define EXPECT_KBD(f, ...)                                                                         \
	do {                                                                                       \
		const uint8_t e_[] = {__VA_ARGS__};                                                \
		expect(f, false, e_, sizeof(e_));                                                  \
	} while (0)
/* The bytes, with more to come after them. */
#define EXPECT_AUX_MORE(f, ...)                                                                    \
	do {                                                                                       \
		const uint8_t e_[] = {__VA_ARGS__};                                                \
		expect_more(f, true, e_, sizeof(e_));                                              \
	} while (0)
#define EXPECT_AUX(f, ...)                                                                         \
	do {                                                                                       \
		const uint8_t e_[] = {__VA_ARGS__};                                                \
		expect(f, true, e_, sizeof(e_));                                                   \
	} while (0)

static uint8_t read_ctr(struct fx *f)
{
	out(f, 0x64, 0x20);
	return read_byte(f, false);
}

static void write_ctr(struct fx *f, uint8_t v)
{
	out(f, 0x64, 0x60);
	out(f, 0x60, v);
}

static void flush(struct fx *f)
{
	for (int i = 0; i < 64 && (status(f) & STR_OBF); i++)
		(void)in(f, 0x60);
	assert_false(status(f) & STR_OBF);
}

static struct i8042_stats stats(struct fx *f)
{
	struct i8042_stats st;
	i8042_get_stats(f->k, &st);
	return st;
}

/* The sequence drivers/input/serio/i8042.c and atkbd.c run at boot (Linux 6.1). */
static void test_linux_probe(void **state)
{
	struct fx *f = *state;
	uint8_t ctr;

	/* i8042_controller_check: the flush terminates (no stuck OBF). */
	flush(f);
	/* i8042_controller_selftest. */
	out(f, 0x64, 0xAA);
	EXPECT_KBD(f, 0x55);
	assert_true(status(f) & STR_SYS);
	/* i8042_controller_init: read the command byte until two reads agree. */
	ctr = read_ctr(f);
	assert_int_equal(read_ctr(f), ctr);
	assert_true(ctr & CTR_XLATE);	      /* Linux will use translated mode */
	assert_true(status(f) & STR_KEYLOCK); /* no "Keylock active" warning */
	ctr = (uint8_t)((ctr | CTR_KBDDIS) & ~CTR_KBDINT);
	write_ctr(f, ctr);
	assert_int_equal(read_ctr(f), ctr);
	flush(f);

	/* i8042_check_aux: loopback, then the bit assignment test. */
	out(f, 0x64, 0xD3);
	out(f, 0x60, 0x5a);
	EXPECT_AUX(f, 0x5a);
	out(f, 0x64, 0xA7);
	assert_true(read_ctr(f) & CTR_AUXDIS);
	out(f, 0x64, 0xA8);
	assert_false(read_ctr(f) & CTR_AUXDIS);
	/* AUX IRQ delivery test: enable the aux port with its interrupt and loop 0xa5. */
	ctr = (uint8_t)((read_ctr(f) & ~CTR_AUXDIS) | CTR_AUXINT);
	write_ctr(f, ctr);
	out(f, 0x64, 0xD3);
	out(f, 0x60, 0xa5);
	assert_true(f->irq12.level);
	assert_false(f->irq1.level);
	EXPECT_AUX(f, 0xa5);
	assert_false(f->irq12.level);

	/* Interface tests. */
	out(f, 0x64, 0xA9);
	EXPECT_KBD(f, 0x00);
	out(f, 0x64, 0xAB);
	EXPECT_KBD(f, 0x00);

	/* i8042_enable_kbd_port. */
	ctr = (uint8_t)((read_ctr(f) & ~CTR_KBDDIS) | CTR_KBDINT);
	write_ctr(f, ctr);

	/* atkbd_probe: GETID answers AB 83, translated to AB 41. */
	out(f, 0x60, 0xF2);
	assert_true(f->irq1.level);
	EXPECT_KBD(f, 0xFA, 0xAB, 0x41);
	assert_false(f->irq1.level);
	out(f, 0x60, 0xF5); /* atkbd_deactivate */
	EXPECT_KBD(f, 0xFA);
	/* atkbd_set_leds: ED + argument, each acknowledged. */
	out(f, 0x60, 0xED);
	EXPECT_KBD(f, 0xFA);
	out(f, 0x60, 0x02);
	EXPECT_KBD(f, 0xFA);
	assert_int_equal(i8042_kbd_leds(f->k), 0x02);
	/* Typematic rate, then activate. */
	out(f, 0x60, 0xF3);
	out(f, 0x60, 0x00);
	EXPECT_KBD(f, 0xFA, 0xFA);
	out(f, 0x60, 0xF4);
	EXPECT_KBD(f, 0xFA);
	/* A reset: ACK then BAT passed. */
	out(f, 0x60, 0xFF);
	EXPECT_KBD(f, 0xFA, 0xAA);
	/* Echo. */
	out(f, 0x60, 0xEE);
	EXPECT_KBD(f, 0xEE);

	struct i8042_stats st = stats(f);
	assert_int_equal(st.unknown_cmds, 0);
	assert_int_equal(st.unknown_kbd_cmds, 0);
	assert_int_equal(f->resets, 0);
}

/* psmouse's probe, through 0xD4. */
static void test_mouse_commands(void **state)
{
	struct fx *f = *state;

	out(f, 0x64, 0xA8); /* enable aux interface */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xFF);
	EXPECT_AUX(f, 0xFA, 0xAA, 0x00);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF2);
	EXPECT_AUX(f, 0xFA, 0x00);
	/* Status: stream mode, disabled, 1:1, resolution 2, 100 samples/s. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE9);
	EXPECT_AUX(f, 0xFA, 0x00, 0x02, 100);
	/* Set resolution 3, rate 40, scaling 2:1, enable: all reflected in status. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE8);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0x03);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF3);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 40);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE7);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF4);
	EXPECT_AUX(f, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE9);
	EXPECT_AUX(f, 0xFA, 0x30, 0x03, 40);
	/* Invalid rate and resolution are refused. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF3);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 7);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE8);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 4);
	EXPECT_AUX(f, 0xFA, 0xFE, 0xFA, 0xFE);
	/* Set defaults, disable; scaling back to 1:1. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF6);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE6);
	EXPECT_AUX(f, 0xFA, 0xFA);
	/* Disable discards whatever the mouse still held, then acknowledges. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xEB);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF5);
	EXPECT_AUX(f, 0xFA, 0xFA);
	/* Remote mode and a data read: an empty packet. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF0);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xEB);
	EXPECT_AUX(f, 0xFA, 0xFA, 0x08, 0x00, 0x00);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE9);
	EXPECT_AUX(f, 0xFA, 0x40, 0x02, 100);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xEA);
	EXPECT_AUX(f, 0xFA);
	/* Wrap mode echoes until reset-wrap. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xEE);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0x12);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF2);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xEC);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xF2);
	EXPECT_AUX(f, 0xFA, 0x12, 0xF2, 0xFA, 0xFA, 0x00);
	/* Unknown command: resend request, counted; resend repeats the last byte. */
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xE1);
	EXPECT_AUX(f, 0xFE);
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xFE);
	EXPECT_AUX(f, 0xFE);
	assert_int_equal(stats(f).unknown_aux_cmds, 1);
	/* Mouse replies never go through translation or onto IRQ 1. */
	assert_int_equal(f->irq1.raises, 0);
}

static void test_get_id_untranslated(void **state)
{
	struct fx *f = *state;

	write_ctr(f, CTR_KBDINT | CTR_SYS);
	out(f, 0x60, 0xF2);
	EXPECT_KBD(f, 0xFA, 0xAB, 0x83);
}

static void test_scancode_set(void **state)
{
	struct fx *f = *state;
	const uint8_t a_make_break[] = {0x1C, 0xF0, 0x1C};

	/* Untranslated: get set answers 2. */
	write_ctr(f, CTR_SYS);
	out(f, 0x60, 0xF0);
	out(f, 0x60, 0x00);
	EXPECT_KBD(f, 0xFA, 0xFA, 0x02);
	/* Translated, the answer goes through the table: 2 becomes 0x41. */
	write_ctr(f, CTR_SYS | CTR_XLATE);
	out(f, 0x60, 0xF0);
	out(f, 0x60, 0x00);
	EXPECT_KBD(f, 0xFA, 0xFA, 0x41);
	/* Set 3 is refused. */
	out(f, 0x60, 0xF0);
	out(f, 0x60, 0x03);
	EXPECT_KBD(f, 0xFA, 0xFE);
	/* Set 1 untranslated: the keyboard itself sends set-1 codes. */
	write_ctr(f, CTR_SYS);
	out(f, 0x60, 0xF0);
	out(f, 0x60, 0x01);
	EXPECT_KBD(f, 0xFA, 0xFA);
	i8042_kbd_bytes(f->k, a_make_break, sizeof(a_make_break));
	EXPECT_KBD(f, 0x1E, 0x9E);
	out(f, 0x60, 0xF0);
	out(f, 0x60, 0x00);
	EXPECT_KBD(f, 0xFA, 0xFA, 0x01);
	/* Reset goes back to set 2. */
	out(f, 0x60, 0xFF);
	EXPECT_KBD(f, 0xFA, 0xAA);
	i8042_kbd_bytes(f->k, a_make_break, sizeof(a_make_break));
	EXPECT_KBD(f, 0x1C, 0xF0, 0x1C);
}

static void test_kbd_arg_abandoned(void **state)
{
	struct fx *f = *state;

	write_ctr(f, CTR_SYS);
	out(f, 0x60, 0xED);
	out(f, 0x60, 0xF2); /* a command where the LED byte should be */
	EXPECT_KBD(f, 0xFA, 0xFA, 0xAB, 0x83);
	assert_int_equal(i8042_kbd_leds(f->k), 0);
	/* The next byte is a command again, not an LED argument. */
	out(f, 0x60, 0x05);
	EXPECT_KBD(f, 0xFE);
	assert_int_equal(stats(f).unknown_kbd_cmds, 1);
	/* Resend repeats the last byte sent. */
	out(f, 0x60, 0xFE);
	EXPECT_KBD(f, 0xFE);
	out(f, 0x60, 0xEE);
	out(f, 0x60, 0xFE);
	EXPECT_KBD(f, 0xEE, 0xEE);
}

static void test_irq_levels(void **state)
{
	struct fx *f = *state;
	const uint8_t keys[] = {0x1C, 0x32};

	/* Power-on command byte has the keyboard interrupt enabled. */
	assert_false(f->irq1.level);
	i8042_kbd_bytes(f->k, keys, sizeof(keys));
	assert_true(f->irq1.level);
	assert_int_equal(f->irq1.raises, 1);
	/* Status reads change nothing. */
	(void)status(f);
	assert_true(f->irq1.level);
	assert_int_equal(in(f, 0x60), 0x1E);
	/* The second byte is a new edge. */
	assert_true(f->irq1.level);
	assert_int_equal(f->irq1.raises, 2);
	assert_int_equal(in(f, 0x60), 0x30);
	assert_false(f->irq1.level);
	assert_int_equal(f->irq1.raises, 2);

	/* Interrupt disabled: data waits, no IRQ; enabling it raises the line. */
	write_ctr(f, CTR_SYS | CTR_XLATE);
	i8042_kbd_bytes(f->k, keys, 1);
	assert_true(status(f) & STR_OBF);
	assert_false(f->irq1.level);
	write_ctr(f, CTR_SYS | CTR_XLATE | CTR_KBDINT);
	assert_true(f->irq1.level);
	write_ctr(f, CTR_SYS | CTR_XLATE);
	assert_false(f->irq1.level);
	assert_int_equal(in(f, 0x60), 0x1E);

	/* Aux data: IRQ 12 only with AUXINT, never IRQ 1. */
	write_ctr(f, CTR_SYS | CTR_KBDINT);
	out(f, 0x64, 0xD3);
	out(f, 0x60, 0x77);
	assert_false(f->irq12.level);
	assert_false(f->irq1.level);
	write_ctr(f, CTR_SYS | CTR_KBDINT | CTR_AUXINT);
	assert_true(f->irq12.level);
	assert_false(f->irq1.level);
	assert_int_equal(read_byte(f, true), 0x77);
	assert_false(f->irq12.level);
	/* Controller replies count as keyboard data. */
	out(f, 0x64, 0xAA);
	assert_true(f->irq1.level);
	assert_false(f->irq12.level);
	EXPECT_KBD(f, 0x55);
	assert_false(f->irq1.level);
}

static void test_output_buffer_bound(void **state)
{
	struct fx *f = *state;
	uint8_t keys[20];

	write_ctr(f, CTR_SYS | CTR_KBDINT); /* untranslated, to read bytes back as sent */
	for (unsigned i = 0; i < sizeof(keys); i++)
		keys[i] = (uint8_t)(0x10 + i);
	i8042_kbd_bytes(f->k, keys, sizeof(keys));
	/* The controller's one-byte buffer plus the keyboard's 16-byte FIFO. */
	for (unsigned i = 0; i < 17; i++)
		assert_int_equal(read_byte(f, false), keys[i]);
	assert_false(status(f) & STR_OBF);
	assert_false(f->irq1.level);
	assert_int_equal(stats(f).kbd_dropped, 3);

	/* A flood far larger than the buffer stays bounded. */
	for (unsigned i = 0; i < 1000; i++)
		i8042_kbd_bytes(f->k, keys, sizeof(keys));
	unsigned n = 0;
	while ((status(f) & STR_OBF) && n < 100) {
		(void)in(f, 0x60);
		n++;
	}
	assert_int_equal(n, 17);
	assert_int_equal(stats(f).kbd_dropped, 3 + 20 * 1000 - 17);

	/* Mouse replies are bounded too: 5 status requests would be 20 bytes. */
	out(f, 0x64, 0xA7); /* hold them in the mouse */
	for (int i = 0; i < 5; i++) {
		out(f, 0x64, 0xD4);
		out(f, 0x60, 0xE9);
	}
	assert_false(status(f) & STR_OBF);
	assert_int_equal(stats(f).aux_dropped, 4);
	out(f, 0x64, 0xA8);
	n = 0;
	while ((status(f) & STR_OBF) && n < 100) {
		assert_true(status(f) & STR_AUXDATA);
		(void)in(f, 0x60);
		n++;
	}
	assert_int_equal(n, 16);
}

static void test_read_empty(void **state)
{
	struct fx *f = *state;

	/* Power-on: nothing read yet, reads 0 and stays empty. */
	assert_false(status(f) & STR_OBF);
	assert_int_equal(in(f, 0x60), 0x00);
	assert_int_equal(in(f, 0x60), 0x00);
	assert_false(status(f) & STR_OBF);
	assert_false(f->irq1.level);
	/* Afterwards the last byte read is returned again. */
	out(f, 0x64, 0xAA);
	assert_int_equal(in(f, 0x60), 0x55);
	assert_int_equal(in(f, 0x60), 0x55);
	assert_int_equal(in(f, 0x60), 0x55);
	assert_false(status(f) & STR_OBF);
	assert_int_equal(f->irq1.raises, 1);
}

static void test_reset_command(void **state)
{
	struct fx *f = *state;

	out(f, 0x64, 0xFE);
	assert_int_equal(f->resets, 1);
	assert_int_equal(stats(f).resets, 1);
	/* A callback that pulses reset again is not re-entered. */
	f->reenter = true;
	out(f, 0x64, 0xFE);
	assert_int_equal(f->resets, 2);
	f->reenter = false;
	out(f, 0x64, 0xFE);
	assert_int_equal(f->resets, 3);
	/* The controller keeps working. */
	out(f, 0x64, 0xAA);
	EXPECT_KBD(f, 0x55);
}

static void test_reset_null_callback(void **state)
{
	struct fake_irq i1, i12;
	struct i8042 *k;
	uint8_t v = 0xFE;

	(void)state;
	fake_irq_init(&i1);
	fake_irq_init(&i12);
	k = i8042_create(&i1.line, &i12.line, NULL, NULL);
	assert_non_null(k);
	i8042_cmd_dev(k)->ops->write(i8042_cmd_dev(k), 0, &v, 1);
	struct i8042_stats st;
	i8042_get_stats(k, &st);
	assert_int_equal(st.resets, 1);
	i8042_destroy(k);

	/* No IRQ lines at all is harmless too. */
	k = i8042_create(NULL, NULL, NULL, NULL);
	assert_non_null(k);
	i8042_kbd_bytes(k, &v, 1);
	i8042_cmd_dev(k)->ops->write(i8042_cmd_dev(k), 0, &v, 1);
	i8042_destroy(k);
	i8042_destroy(NULL);
}

static void test_pulse_lines(void **state)
{
	struct fx *f = *state;

	/* 0xF0-0xFF: bits 0-3 that are 0 are pulsed; bit 0 is the reset line. */
	for (unsigned cmd = 0xF0; cmd <= 0xFF; cmd++) {
		unsigned before = f->resets;
		out(f, 0x64, (uint8_t)cmd);
		assert_int_equal(f->resets - before, (cmd & 1) ? 0 : 1);
	}
	assert_int_equal(f->resets, 8);
	assert_int_equal(stats(f).unknown_cmds, 0);
	assert_false(status(f) & STR_OBF);

	/* The output port: A20 and reset read back high; writing bit 0 low resets. */
	out(f, 0x64, 0xD0);
	EXPECT_KBD(f, 0x03);
	out(f, 0x64, 0xD1);
	out(f, 0x60, 0x01); /* A20 off, reset line high */
	assert_int_equal(f->resets, 8);
	out(f, 0x64, 0xD0);
	EXPECT_KBD(f, 0x01);
	out(f, 0x64, 0xD1);
	out(f, 0x60, 0x02);
	assert_int_equal(f->resets, 9);
	out(f, 0x64, 0xD0);
	EXPECT_KBD(f, 0x03);
	/* The output-buffer-full bits reflect what is waiting. */
	out(f, 0x64, 0xD3);
	out(f, 0x60, 0x11);
	out(f, 0x64, 0xD0);
	assert_int_equal(read_byte(f, true), 0x11);
	EXPECT_KBD(f, 0x23);
}

static void test_unknown_commands(void **state)
{
	struct fx *f = *state;
	const uint8_t unknown[] = {0x00, 0x10, 0x80, 0xA0, 0xB5, 0xC8, 0xE0, 0xEF};

	for (unsigned i = 0; i < sizeof(unknown); i++)
		out(f, 0x64, unknown[i]);
	assert_int_equal(stats(f).unknown_cmds, sizeof(unknown));
	assert_false(status(f) & STR_OBF);
	/* The command byte is untouched. */
	assert_int_equal(read_ctr(f), CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT);
	/* A new command abandons a missing parameter: the data goes to the keyboard. */
	out(f, 0x64, 0x60);
	out(f, 0x64, 0xAB);
	EXPECT_KBD(f, 0x00);
	out(f, 0x60, 0xEE);
	EXPECT_KBD(f, 0xEE);
	assert_int_equal(read_ctr(f), CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT);
}

static void test_data_write_goes_to_keyboard(void **state)
{
	struct fx *f = *state;

	out(f, 0x60, 0xEE);
	EXPECT_KBD(f, 0xEE);
	out(f, 0x60, 0x42);
	EXPECT_KBD(f, 0xFE);
	assert_int_equal(stats(f).unknown_kbd_cmds, 1);
	assert_int_equal(stats(f).unknown_cmds, 0);
}

static void test_status_bits(void **state)
{
	struct fx *f = *state;

	assert_int_equal(status(f), STR_KEYLOCK | STR_SYS);
	out(f, 0x64, 0xA7);
	assert_int_equal(status(f), STR_KEYLOCK | STR_SYS | STR_CMDDAT);
	out(f, 0x60, 0xF4);
	assert_int_equal(status(f), STR_KEYLOCK | STR_SYS | STR_OBF);
	(void)in(f, 0x60);
	write_ctr(f, CTR_KBDINT);
	assert_int_equal(status(f), STR_KEYLOCK);
	out(f, 0x64, 0xAA); /* self test sets the system flag */
	assert_int_equal(status(f), STR_KEYLOCK | STR_SYS | STR_CMDDAT | STR_OBF);
}

static void test_ctr_bits_and_ram(void **state)
{
	struct fx *f = *state;

	out(f, 0x64, 0xAD);
	assert_true(read_ctr(f) & CTR_KBDDIS);
	out(f, 0x64, 0xAE);
	assert_false(read_ctr(f) & CTR_KBDDIS);
	out(f, 0x64, 0xA8);
	assert_false(read_ctr(f) & CTR_AUXDIS);
	out(f, 0x64, 0xA7);
	assert_true(read_ctr(f) & CTR_AUXDIS);
	/* The other 31 RAM bytes. */
	out(f, 0x64, 0x7F);
	out(f, 0x60, 0x5A);
	out(f, 0x64, 0x61);
	out(f, 0x60, 0xA5);
	out(f, 0x64, 0x3F);
	EXPECT_KBD(f, 0x5A);
	out(f, 0x64, 0x21);
	EXPECT_KBD(f, 0xA5);
	out(f, 0x64, 0x22);
	EXPECT_KBD(f, 0x00);
	out(f, 0x64, 0xC0);
	EXPECT_KBD(f, 0x80);
}

/* A disabled keyboard interface holds its data until enabled; translation still applies. */
static void test_kbd_interface_disabled(void **state)
{
	struct fx *f = *state;
	const uint8_t keys[] = {0x76, 0xF0, 0x76};

	out(f, 0x64, 0xAD);
	i8042_kbd_bytes(f->k, keys, sizeof(keys));
	assert_false(status(f) & STR_OBF);
	assert_false(f->irq1.level);
	out(f, 0x64, 0xAE);
	assert_true(f->irq1.level);
	EXPECT_KBD(f, 0x01, 0x81);
}

/* Disabling scanning drops host input; enabling brings it back. */
static void test_scanning_disabled(void **state)
{
	struct fx *f = *state;
	const uint8_t keys[] = {0x1C, 0x1C};

	out(f, 0x60, 0xF5);
	EXPECT_KBD(f, 0xFA);
	i8042_kbd_bytes(f->k, keys, sizeof(keys));
	assert_false(status(f) & STR_OBF);
	assert_int_equal(stats(f).kbd_disabled_dropped, 2);
	out(f, 0x60, 0xF4);
	EXPECT_KBD(f, 0xFA);
	i8042_kbd_bytes(f->k, keys, 1);
	EXPECT_KBD(f, 0x1E);
}

static void test_translation_table(void **state)
{
	(void)state;
	/* Set-2 make code -> set-1 make code, from the two scan code tables. */
	static const struct {
		uint8_t set2, set1;
	} keys[] = {
		{0x76, 0x01}, /* Esc */
		{0x16, 0x02}, /* 1 */
		{0x45, 0x0B}, /* 0 */
		{0x66, 0x0E}, /* Backspace */
		{0x0D, 0x0F}, /* Tab */
		{0x15, 0x10}, /* Q */
		{0x5A, 0x1C}, /* Enter */
		{0x14, 0x1D}, /* left Ctrl */
		{0x1C, 0x1E}, /* A */
		{0x12, 0x2A}, /* left Shift */
		{0x1A, 0x2C}, /* Z */
		{0x4A, 0x35}, /* / */
		{0x59, 0x36}, /* right Shift */
		{0x7C, 0x37}, /* keypad * */
		{0x11, 0x38}, /* left Alt */
		{0x29, 0x39}, /* Space */
		{0x58, 0x3A}, /* Caps Lock */
		{0x05, 0x3B}, /* F1 */
		{0x09, 0x44}, /* F10 */
		{0x77, 0x45}, /* Num Lock */
		{0x7E, 0x46}, /* Scroll Lock */
		{0x6C, 0x47}, /* keypad 7 */
		{0x71, 0x53}, /* keypad . */
		{0x61, 0x56}, /* ISO extra key */
		{0x78, 0x57}, /* F11 */
		{0x07, 0x58}, /* F12 */
		{0x83, 0x41}, /* F7, the one key above 0x7F */
		{0x84, 0x54}, /* Alt+SysRq */
		{0x00, 0xFF}, /* key detection error / overrun */
		/* Protocol bytes pass through. */
		{0xE0, 0xE0},
		{0xE1, 0xE1},
		{0xFA, 0xFA},
		{0xAA, 0xAA},
		{0xEE, 0xEE},
		{0xFE, 0xFE},
		{0xAB, 0xAB},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(keys); i++)
		assert_int_equal(i8042_set2_to_set1(keys[i].set2), keys[i].set1);

	/* Every code 0x01-0x7F has a make code below 0x80, so breaks stay distinct. */
	bool seen[0x80] = {false};
	for (unsigned c = 0x01; c < 0x80; c++) {
		uint8_t t = i8042_set2_to_set1((uint8_t)c);
		assert_true(t < 0x80);
		assert_false(seen[t]);
		seen[t] = true;
	}
}

static void xlate_stream(const uint8_t *in_, size_t n, uint8_t *out_, size_t *m)
{
	bool brk = false;
	*m = 0;
	for (size_t i = 0; i < n; i++)
		if (i8042_translate(in_[i], &brk, &out_[*m]))
			(*m)++;
}

static void test_translation_stream(void **state)
{
	uint8_t o[16];
	size_t m;

	(void)state;
	/* A make and break. */
	const uint8_t a[] = {0x1C, 0xF0, 0x1C};
	xlate_stream(a, sizeof(a), o, &m);
	assert_int_equal(m, 2);
	assert_int_equal(o[0], 0x1E);
	assert_int_equal(o[1], 0x9E);
	/* E0-prefixed: cursor up make and break, right Ctrl break. */
	const uint8_t up[] = {0xE0, 0x75, 0xE0, 0xF0, 0x75, 0xE0, 0xF0, 0x14};
	xlate_stream(up, sizeof(up), o, &m);
	assert_int_equal(m, 6);
	const uint8_t up1[] = {0xE0, 0x48, 0xE0, 0xC8, 0xE0, 0x9D};
	assert_memory_equal(o, up1, sizeof(up1));
	/* Pause: E1 14 77 E1 F0 14 F0 77 -> E1 1D 45 E1 9D C5. */
	const uint8_t pause[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
	xlate_stream(pause, sizeof(pause), o, &m);
	const uint8_t pause1[] = {0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5};
	assert_int_equal(m, sizeof(pause1));
	assert_memory_equal(o, pause1, sizeof(pause1));
	/* F7 break. */
	const uint8_t f7[] = {0xF0, 0x83};
	xlate_stream(f7, sizeof(f7), o, &m);
	assert_int_equal(m, 1);
	assert_int_equal(o[0], 0xC1);
}

/* The same streams through the controller with XLATE on. */
static void test_translation_in_controller(void **state)
{
	struct fx *f = *state;
	const uint8_t up[] = {0xE0, 0x75, 0xE0, 0xF0, 0x75};

	i8042_kbd_bytes(f->k, up, sizeof(up));
	EXPECT_KBD(f, 0xE0, 0x48, 0xE0, 0xC8);
	/* A break prefix split across two host calls still applies. */
	const uint8_t f0 = 0xF0, enter = 0x5A;
	i8042_kbd_bytes(f->k, &f0, 1);
	assert_false(status(f) & STR_OBF);
	i8042_kbd_bytes(f->k, &enter, 1);
	EXPECT_KBD(f, 0x9C);
	/* XLATE off: raw set 2. */
	write_ctr(f, CTR_SYS | CTR_KBDINT);
	i8042_kbd_bytes(f->k, up, sizeof(up));
	EXPECT_KBD(f, 0xE0, 0x75, 0xE0, 0xF0, 0x75);
}

/* Keyboard and mouse data interleave rather than one starving the other. */
static void test_kbd_aux_alternate(void **state)
{
	struct fx *f = *state;
	const uint8_t keys[] = {0x10, 0x11, 0x12};

	write_ctr(f, CTR_SYS); /* both interfaces on, untranslated, no IRQs */
	out(f, 0x64, 0xAD);
	i8042_kbd_bytes(f->k, keys, sizeof(keys));
	out(f, 0x64, 0xD4);
	out(f, 0x60, 0xFF);
	out(f, 0x64, 0xAE);
	/* Mouse reply came first (keyboard was held), then they alternate. */
	assert_int_equal(read_byte(f, true), 0xFA);
	assert_int_equal(read_byte(f, false), 0x10);
	assert_int_equal(read_byte(f, true), 0xAA);
	assert_int_equal(read_byte(f, false), 0x11);
	assert_int_equal(read_byte(f, true), 0x00);
	assert_int_equal(read_byte(f, false), 0x12);
	assert_false(status(f) & STR_OBF);
}

static void test_device_reset(void **state)
{
	struct fx *f = *state;
	const uint8_t keys[] = {0x1C};

	write_ctr(f, CTR_KBDINT | CTR_AUXINT);
	out(f, 0x60, 0xED);
	out(f, 0x60, 0x07);
	i8042_kbd_bytes(f->k, keys, 1);
	assert_true(f->irq1.level);
	i8042_data_dev(f->k)->ops->reset(i8042_data_dev(f->k));
	assert_false(f->irq1.level);
	assert_false(status(f) & STR_OBF);
	assert_int_equal(i8042_kbd_leds(f->k), 0);
	assert_int_equal(read_ctr(f), CTR_XLATE | CTR_AUXDIS | CTR_SYS | CTR_KBDINT);
	/* Resetting through the other port works the same. */
	i8042_cmd_dev(f->k)->ops->reset(i8042_cmd_dev(f->k));
	assert_int_equal(status(f), STR_KEYLOCK | STR_SYS);
}

/* Through a real bus: wider or misplaced accesses never reach the device. */
static void test_on_bus(void **state)
{
	struct fx *f = *state;
	struct bus bus;
	uint8_t v[4];

	bus_init(&bus, "pio");
	assert_int_equal(bus_add(&bus, 0x60, 1, i8042_data_dev(f->k)), 0);
	assert_int_equal(bus_add(&bus, 0x64, 1, i8042_cmd_dev(f->k)), 0);
	v[0] = 0xAA;
	assert_true(bus_write(&bus, 0x64, v, 1));
	assert_false(bus_read(&bus, 0x60, v, 2));
	assert_true(status(f) & STR_OBF); /* still there */
	assert_true(bus_read(&bus, 0x60, v, 1));
	assert_int_equal(v[0], 0x55);
	bus_fini(&bus);

	/* Direct wide accesses: one byte of data, the rest all-ones. */
	out(f, 0x64, 0xAB);
	i8042_data_dev(f->k)->ops->read(i8042_data_dev(f->k), 0, v, 4);
	assert_int_equal(v[0], 0x00);
	assert_int_equal(v[1], 0xff);
	assert_int_equal(v[3], 0xff);
	/* An offset outside the one-byte window reads all-ones and pops nothing. */
	out(f, 0x64, 0xAB);
	i8042_data_dev(f->k)->ops->read(i8042_data_dev(f->k), 1, v, 1);
	assert_int_equal(v[0], 0xff);
	assert_true(status(f) & STR_OBF);
}

struct feeder {
	struct i8042 *k;
	unsigned int n;
	bool done; /* accessed atomically */
};

static void *feed(void *opaque)
{
	struct feeder *fd = opaque;
	for (unsigned int i = 0; i < fd->n; i++) {
		uint8_t v = (uint8_t)(0x01 + i % 0x7f); /* never 0xF0 */
		i8042_kbd_bytes(fd->k, &v, 1);
	}
	__atomic_store_n(&fd->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Host input on one thread while the guest reads on another: every byte is
 * either read exactly once or counted as dropped, and the lines end low.
 */
static void test_threads(void **state)
{
	struct fx *f = *state;
	struct feeder fd = {.k = f->k, .n = 20000};
	pthread_t t;
	unsigned int got = 0;

	write_ctr(f, CTR_SYS | CTR_KBDINT);
	assert_int_equal(pthread_create(&t, NULL, feed, &fd), 0);
	for (;;) {
		bool done = __atomic_load_n(&fd.done, __ATOMIC_ACQUIRE);
		if (status(f) & STR_OBF) {
			(void)in(f, 0x60);
			got++;
		} else if (done) {
			break;
		}
	}
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(got + stats(f).kbd_dropped, fd.n);
	assert_false(status(f) & STR_OBF);
	assert_false(f->irq1.level);
}

/* --- mouse motion (i8042_aux_motion) ---------------------------------------- */

static void aux_cmd(struct fx *f, uint8_t v)
{
	out(f, 0x64, 0xD4);
	out(f, 0x60, v);
}

/* Aux interface and interrupt on, resolution 8 counts/mm (host units 1:1), reporting on. */
static void mouse_on(struct fx *f)
{
	write_ctr(f, (uint8_t)((read_ctr(f) & ~CTR_AUXDIS) | CTR_AUXINT));
	aux_cmd(f, 0xE8);
	aux_cmd(f, 0x03);
	aux_cmd(f, 0xF4);
	EXPECT_AUX(f, 0xFA, 0xFA, 0xFA);
}

static void test_motion_packets(void **state)
{
	struct fx *f = *state;
	unsigned int raises;

	mouse_on(f);
	raises = f->irq12.raises;
	/* Right 5, down 3: PS/2 y grows upwards, so y = -3 with its sign bit. */
	i8042_aux_motion(f->k, 5, 3, 0, 0);
	assert_true(f->irq12.level);
	assert_int_equal(f->irq12.raises, raises + 1);
	assert_false(f->irq1.level);
	EXPECT_AUX(f, 0x28, 0x05, 0xFD);
	assert_false(f->irq12.level);
	/* Left 1, up 2. */
	i8042_aux_motion(f->k, -1, -2, 0, 0);
	EXPECT_AUX(f, 0x18, 0xFF, 0x02);
	/* Button changes make packets without motion; no change, no packet. */
	i8042_aux_motion(f->k, 0, 0, 0, 1);
	EXPECT_AUX(f, 0x09, 0x00, 0x00);
	i8042_aux_motion(f->k, 0, 0, 0, 1);
	assert_false(status(f) & STR_OBF);
	i8042_aux_motion(f->k, 0, 0, 0, 2 | 4);
	EXPECT_AUX(f, 0x0E, 0x00, 0x00);
	i8042_aux_motion(f->k, 7, 0, 0, 2 | 4 | 0x80); /* unknown bits ignored */
	EXPECT_AUX(f, 0x0E, 0x07, 0x00);
	i8042_aux_motion(f->k, 0, 0, 0, 0);
	EXPECT_AUX(f, 0x08, 0x00, 0x00);
	/* Without a wheel (standard id) the wheel is ignored. */
	i8042_aux_motion(f->k, 0, 0, 3, 0);
	assert_false(status(f) & STR_OBF);
	assert_int_equal(stats(f).aux_packets, 6);
	assert_int_equal(stats(f).aux_dropped, 0);
}

static void test_motion_large(void **state)
{
	struct fx *f = *state;

	mouse_on(f);
	/* 600 right, 300 up: split in steps of 255, overflow bits clear. */
	i8042_aux_motion(f->k, 600, -300, 0, 0);
	EXPECT_AUX(f, 0x08, 0xFF, 0xFF, 0x08, 0xFF, 0x2D, 0x08, 0x5A, 0x00);
	/* 300 left, 256 down: -255 is 0x01 with the sign bit, -45 is 0xD3. */
	i8042_aux_motion(f->k, -300, 256, 0, 0);
	EXPECT_AUX(f, 0x38, 0x01, 0x01, 0x38, 0xD3, 0xFF);

	/* More packets than the FIFO takes: they follow as the guest reads, in order. */
	i8042_aux_motion(f->k, 255 * 10, 0, 0, 0);
	i8042_aux_motion(f->k, 0, 0, 0, 1); /* a click after the motion */
	for (int i = 0; i < 10; i++)
		EXPECT_AUX_MORE(f, 0x08, 0xFF, 0x00);
	EXPECT_AUX(f, 0x09, 0x00, 0x00);
	assert_int_equal(stats(f).aux_dropped, 0);

	/* A command in between still gets its whole reply, behind the packets. */
	i8042_aux_motion(f->k, 255 * 8, 0, 0, 1);
	aux_cmd(f, 0xE9);
	for (int i = 0; i < 4; i++)
		EXPECT_AUX_MORE(f, 0x09, 0xFF, 0x00);
	EXPECT_AUX_MORE(f, 0xFA, 0x20, 0x03, 100); /* the rest waits behind the reply */
	for (int i = 0; i < 3; i++)
		EXPECT_AUX_MORE(f, 0x09, 0xFF, 0x00);
	EXPECT_AUX(f, 0x09, 0xFF, 0x00);
	assert_int_equal(stats(f).aux_dropped, 0);
	/* Huge values are bounded, never a hang or overflow. */
	i8042_aux_motion(f->k, INT32_MIN, INT32_MAX, INT32_MIN, 0);
	aux_cmd(f, 0xF5);
	flush(f);
	assert_false(status(f) & STR_OBF);
}

static void test_motion_resolution_scaling(void **state)
{
	struct fx *f = *state;

	mouse_on(f);
	/* Resolution 2 (4 counts/mm): host units halved, the remainder kept. */
	aux_cmd(f, 0xE8);
	aux_cmd(f, 0x02);
	EXPECT_AUX(f, 0xFA, 0xFA);
	i8042_aux_motion(f->k, 3, 0, 0, 0);
	EXPECT_AUX(f, 0x08, 0x01, 0x00);
	i8042_aux_motion(f->k, 1, 0, 0, 0);
	EXPECT_AUX(f, 0x08, 0x01, 0x00);
	/* Resolution 0 (1 count/mm): an eighth. */
	aux_cmd(f, 0xE8);
	aux_cmd(f, 0x00);
	EXPECT_AUX(f, 0xFA, 0xFA);
	i8042_aux_motion(f->k, -16, 0, 0, 0);
	EXPECT_AUX(f, 0x18, 0xFE, 0x00);
	/* 2:1 scaling at 8 counts/mm: 4 -> 6, 1 -> 1, 300 -> 127+127+46 doubled. */
	aux_cmd(f, 0xE8);
	aux_cmd(f, 0x03);
	aux_cmd(f, 0xE7);
	EXPECT_AUX(f, 0xFA, 0xFA, 0xFA);
	i8042_aux_motion(f->k, 4, -1, 0, 0);
	EXPECT_AUX(f, 0x08, 0x06, 0x01);
	i8042_aux_motion(f->k, 300, 0, 0, 0);
	EXPECT_AUX(f, 0x08, 0xFE, 0x00, 0x08, 0xFE, 0x00, 0x08, 0x5C, 0x00);
	aux_cmd(f, 0xE6);
	EXPECT_AUX(f, 0xFA);
	i8042_aux_motion(f->k, 4, 0, 0, 0);
	EXPECT_AUX(f, 0x08, 0x04, 0x00);
}

static void test_motion_wheel(void **state)
{
	struct fx *f = *state;

	mouse_on(f);
	/* Not the knock (200, 200, 80 is the Explorer's): still id 0. */
	aux_cmd(f, 0xF3);
	aux_cmd(f, 200);
	aux_cmd(f, 0xF3);
	aux_cmd(f, 200);
	aux_cmd(f, 0xF3);
	aux_cmd(f, 80);
	aux_cmd(f, 0xF2);
	EXPECT_AUX(f, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x00);
	/* The IntelliMouse knock: 200, 100, 80, then the id is 3. */
	aux_cmd(f, 0xF3);
	aux_cmd(f, 200);
	aux_cmd(f, 0xF3);
	aux_cmd(f, 100);
	aux_cmd(f, 0xF3);
	aux_cmd(f, 80);
	aux_cmd(f, 0xF2);
	EXPECT_AUX(f, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03);
	/* 4-byte packets; scrolling up is z = -1. */
	i8042_aux_motion(f->k, 1, 0, 1, 0);
	EXPECT_AUX(f, 0x08, 0x01, 0x00, 0xFF);
	/* 20 steps down: 7, 7, 6. */
	i8042_aux_motion(f->k, 0, 0, -20, 1);
	EXPECT_AUX(f, 0x09, 0x00, 0x00, 0x07, 0x09, 0x00, 0x00, 0x07, 0x09, 0x00, 0x00, 0x06);
	/* 0xEB answers 4 bytes too. */
	aux_cmd(f, 0xEB);
	EXPECT_AUX(f, 0xFA, 0x09, 0x00, 0x00, 0x00);
	/* Reset: back to a standard mouse. */
	aux_cmd(f, 0xFF);
	EXPECT_AUX(f, 0xFA, 0xAA, 0x00);
	aux_cmd(f, 0xF2);
	EXPECT_AUX(f, 0xFA, 0x00);
}

static void test_motion_reporting_off(void **state)
{
	struct fx *f = *state;
	unsigned int raises;

	write_ctr(f, (uint8_t)((read_ctr(f) & ~CTR_AUXDIS) | CTR_AUXINT));
	raises = f->irq12.raises;
	/* Power-on: stream mode, reporting disabled: nothing, not even buttons. */
	i8042_aux_motion(f->k, 10, 10, 0, 1);
	assert_false(status(f) & STR_OBF);
	assert_int_equal(f->irq12.raises, raises);
	assert_int_equal(stats(f).aux_idle_dropped, 1);
	aux_cmd(f, 0xF4);
	EXPECT_AUX(f, 0xFA);
	/* Motion from before the enable is not replayed; buttons are current. */
	i8042_aux_motion(f->k, 2, 0, 0, 1); /* resolution 2: 2 host units, 1 count */
	EXPECT_AUX(f, 0x09, 0x01, 0x00);
	/* Disable: queued packets and waiting motion are gone. */
	i8042_aux_motion(f->k, 255 * 6, 0, 0, 1);
	aux_cmd(f, 0xF5);
	(void)in(f, 0x60); /* the packet byte already in the output buffer */
	EXPECT_AUX(f, 0xFA);
	i8042_aux_motion(f->k, 3, 0, 0, 0);
	assert_false(status(f) & STR_OBF);
	/* Wrap mode sends no motion either. */
	aux_cmd(f, 0xF4);
	aux_cmd(f, 0xEE);
	EXPECT_AUX(f, 0xFA, 0xFA);
	i8042_aux_motion(f->k, 3, 0, 0, 0);
	assert_false(status(f) & STR_OBF);
	aux_cmd(f, 0xEC);
	EXPECT_AUX(f, 0xFA);
	assert_int_equal(stats(f).aux_dropped, 0);
}

static void test_motion_remote(void **state)
{
	struct fx *f = *state;

	mouse_on(f);
	aux_cmd(f, 0xF0);
	EXPECT_AUX(f, 0xFA);
	/* Remote mode: nothing is sent; the counters add up until 0xEB. */
	i8042_aux_motion(f->k, 10, 5, 0, 0);
	i8042_aux_motion(f->k, 10, 5, 0, 1);
	assert_false(status(f) & STR_OBF);
	aux_cmd(f, 0xEB);
	EXPECT_AUX(f, 0xFA, 0x29, 0x14, 0xF6);
	aux_cmd(f, 0xEB);
	EXPECT_AUX(f, 0xFA, 0x09, 0x00, 0x00);
	/* Past -256..255: clamped, with the overflow bits. */
	i8042_aux_motion(f->k, 1000, 1000, 0, 0);
	aux_cmd(f, 0xEB);
	EXPECT_AUX(f, 0xFA, 0xE8, 0xFF, 0x00);
	i8042_aux_motion(f->k, -256, -255, 0, 0);
	aux_cmd(f, 0xEB);
	EXPECT_AUX(f, 0xFA, 0x18, 0x00, 0xFF);
	/* Back to stream mode: the counters are forgotten. */
	i8042_aux_motion(f->k, 7, 0, 0, 0);
	aux_cmd(f, 0xEA);
	EXPECT_AUX(f, 0xFA);
	aux_cmd(f, 0xEB);
	EXPECT_AUX(f, 0xFA, 0x08, 0x00, 0x00);
	i8042_aux_motion(f->k, 7, 0, 0, 0);
	EXPECT_AUX(f, 0x08, 0x07, 0x00);
}

/* The aux interface disabled in the command byte: bytes wait, then come. */
static void test_motion_port_disabled(void **state)
{
	struct fx *f = *state;

	mouse_on(f);
	out(f, 0x64, 0xA7);
	i8042_aux_motion(f->k, 255 * 7, 0, 0, 0);
	assert_false(status(f) & STR_OBF);
	out(f, 0x64, 0xA8);
	for (int i = 0; i < 6; i++)
		EXPECT_AUX_MORE(f, 0x08, 0xFF, 0x00);
	EXPECT_AUX(f, 0x08, 0xFF, 0x00);
	assert_int_equal(stats(f).aux_dropped, 0);
}

static void test_display_sinks(void **state)
{
	struct fx *f = *state;
	struct display *d = display_create();
	struct display_stats ds;
	const uint8_t a_make[] = {0x1C}, a_break[] = {0xF0, 0x1C};

	assert_non_null(d);
	mouse_on(f);
	write_ctr(f, (uint8_t)(read_ctr(f) | CTR_KBDINT));
	i8042_attach_display(f->k, d);
	/* Keys arrive translated to set 1 (XLATE is on). */
	display_input_key(d, a_make, sizeof(a_make));
	assert_true(f->irq1.level);
	EXPECT_KBD(f, 0x1E);
	display_input_key(d, a_break, sizeof(a_break));
	EXPECT_KBD(f, 0x9E);
	display_input_rel(d, 2, -1, 0, DISPLAY_BTN_RIGHT);
	EXPECT_AUX(f, 0x0A, 0x02, 0x01);
	/* No absolute pointer behind the i8042: the display drops it. */
	display_input_abs(d, 1, 1, 0);
	assert_false(status(f) & STR_OBF);
	display_get_stats(d, &ds);
	assert_int_equal(ds.input_dropped, 1);
	display_destroy(d);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_linux_probe),
		T(test_mouse_commands),
		T(test_get_id_untranslated),
		T(test_scancode_set),
		T(test_kbd_arg_abandoned),
		T(test_irq_levels),
		T(test_output_buffer_bound),
		T(test_read_empty),
		T(test_reset_command),
		cmocka_unit_test(test_reset_null_callback),
		T(test_pulse_lines),
		T(test_unknown_commands),
		T(test_data_write_goes_to_keyboard),
		T(test_status_bits),
		T(test_ctr_bits_and_ram),
		T(test_kbd_interface_disabled),
		T(test_scanning_disabled),
		cmocka_unit_test(test_translation_table),
		cmocka_unit_test(test_translation_stream),
		T(test_translation_in_controller),
		T(test_kbd_aux_alternate),
		T(test_device_reset),
		T(test_on_bus),
		T(test_threads),
		T(test_motion_packets),
		T(test_motion_large),
		T(test_motion_resolution_scaling),
		T(test_motion_wheel),
		T(test_motion_reporting_off),
		T(test_motion_remote),
		T(test_motion_port_disabled),
		T(test_display_sinks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
