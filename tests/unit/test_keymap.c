// SPDX-License-Identifier: MIT
/*
 * Unit tests for src/ui/keymap.c: every key's set-2 make and break bytes,
 * with SDL's own scancode names (SDL_scancode.h is only a header: the module
 * itself needs no SDL), and nothing for keys not in the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <SDL_scancode.h>
#include "ui/keymap.h"

/* Plain key: make c, break F0 c. Extended: E0 c, E0 F0 c. */
struct key {
	int sc;
	const char *name;
	uint8_t code;
	bool ext;
};

#define K(n, c)                                                                                    \
	{                                                                                          \
		SDL_SCANCODE_##n, #n, c, false                                                     \
	}
#define KE(n, c)                                                                                   \
	{                                                                                          \
		SDL_SCANCODE_##n, #n, c, true                                                      \
	}

static const struct key keys[] = {
	/* Letters. */
	K(A, 0x1C),
	K(B, 0x32),
	K(C, 0x21),
	K(D, 0x23),
	K(E, 0x24),
	K(F, 0x2B),
	K(G, 0x34),
	K(H, 0x33),
	K(I, 0x43),
	K(J, 0x3B),
	K(K, 0x42),
	K(L, 0x4B),
	K(M, 0x3A),
	K(N, 0x31),
	K(O, 0x44),
	K(P, 0x4D),
	K(Q, 0x15),
	K(R, 0x2D),
	K(S, 0x1B),
	K(T, 0x2C),
	K(U, 0x3C),
	K(V, 0x2A),
	K(W, 0x1D),
	K(X, 0x22),
	K(Y, 0x35),
	K(Z, 0x1A),
	/* Digits. */
	K(1, 0x16),
	K(2, 0x1E),
	K(3, 0x26),
	K(4, 0x25),
	K(5, 0x2E),
	K(6, 0x36),
	K(7, 0x3D),
	K(8, 0x3E),
	K(9, 0x46),
	K(0, 0x45),
	/* The rest of the main block. */
	K(RETURN, 0x5A),
	K(ESCAPE, 0x76),
	K(BACKSPACE, 0x66),
	K(TAB, 0x0D),
	K(SPACE, 0x29),
	K(MINUS, 0x4E),
	K(EQUALS, 0x55),
	K(LEFTBRACKET, 0x54),
	K(RIGHTBRACKET, 0x5B),
	K(BACKSLASH, 0x5D),
	K(NONUSHASH, 0x5D),
	K(SEMICOLON, 0x4C),
	K(APOSTROPHE, 0x52),
	K(GRAVE, 0x0E),
	K(COMMA, 0x41),
	K(PERIOD, 0x49),
	K(SLASH, 0x4A),
	K(CAPSLOCK, 0x58),
	K(NONUSBACKSLASH, 0x61),
	KE(APPLICATION, 0x2F),
	/* Function keys. */
	K(F1, 0x05),
	K(F2, 0x06),
	K(F3, 0x04),
	K(F4, 0x0C),
	K(F5, 0x03),
	K(F6, 0x0B),
	K(F7, 0x83),
	K(F8, 0x0A),
	K(F9, 0x01),
	K(F10, 0x09),
	K(F11, 0x78),
	K(F12, 0x07),
	K(F13, 0x08),
	K(F14, 0x10),
	K(F15, 0x18),
	K(F16, 0x20),
	K(F17, 0x28),
	K(F18, 0x30),
	K(F19, 0x38),
	K(F20, 0x40),
	K(F21, 0x48),
	K(F22, 0x50),
	K(F23, 0x57),
	K(F24, 0x5F),
	K(SCROLLLOCK, 0x7E),
	K(SYSREQ, 0x84),
	/* Modifiers, left and right. */
	K(LCTRL, 0x14),
	K(LSHIFT, 0x12),
	K(LALT, 0x11),
	KE(LGUI, 0x1F),
	KE(RCTRL, 0x14),
	K(RSHIFT, 0x59),
	KE(RALT, 0x11),
	KE(RGUI, 0x27),
	/* Navigation block and arrows. */
	KE(INSERT, 0x70),
	KE(HOME, 0x6C),
	KE(PAGEUP, 0x7D),
	KE(DELETE, 0x71),
	KE(END, 0x69),
	KE(PAGEDOWN, 0x7A),
	KE(RIGHT, 0x74),
	KE(LEFT, 0x6B),
	KE(DOWN, 0x72),
	KE(UP, 0x75),
	/* Keypad. */
	K(NUMLOCKCLEAR, 0x77),
	KE(KP_DIVIDE, 0x4A),
	K(KP_MULTIPLY, 0x7C),
	K(KP_MINUS, 0x7B),
	K(KP_PLUS, 0x79),
	KE(KP_ENTER, 0x5A),
	K(KP_1, 0x69),
	K(KP_2, 0x72),
	K(KP_3, 0x7A),
	K(KP_4, 0x6B),
	K(KP_5, 0x73),
	K(KP_6, 0x74),
	K(KP_7, 0x6C),
	K(KP_8, 0x75),
	K(KP_9, 0x7D),
	K(KP_0, 0x70),
	K(KP_PERIOD, 0x71),
	K(KP_EQUALS, 0x0F),
	K(KP_COMMA, 0x6D),
	/* Japanese keys. */
	K(INTERNATIONAL1, 0x51),
	K(INTERNATIONAL2, 0x13),
	K(INTERNATIONAL3, 0x6A),
	K(INTERNATIONAL4, 0x64),
	K(INTERNATIONAL5, 0x67),
	/* Extras: power, media and browser keys. */
	KE(POWER, 0x37),
	KE(SLEEP, 0x3F),
	KE(MUTE, 0x23),
	KE(VOLUMEUP, 0x32),
	KE(VOLUMEDOWN, 0x21),
	KE(AUDIONEXT, 0x4D),
	KE(AUDIOPREV, 0x15),
	KE(AUDIOSTOP, 0x3B),
	KE(AUDIOPLAY, 0x34),
	KE(AUDIOMUTE, 0x23),
	KE(MEDIASELECT, 0x50),
	KE(WWW, 0x3A),
	KE(MAIL, 0x48),
	KE(CALCULATOR, 0x2B),
	KE(COMPUTER, 0x40),
	KE(AC_SEARCH, 0x10),
	KE(AC_HOME, 0x3A),
	KE(AC_BACK, 0x38),
	KE(AC_FORWARD, 0x30),
	KE(AC_STOP, 0x28),
	KE(AC_REFRESH, 0x20),
	KE(AC_BOOKMARKS, 0x18),
};

static void check_seq(const char *what, const uint8_t *got, size_t n, const uint8_t *want,
		      size_t wn)
{
	if (n != wn || memcmp(got, want, n) != 0) {
		print_error("%s: got %zu bytes, want %zu\n", what, n, wn);
		fail();
	}
}

static void test_every_key(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		uint8_t out[KEYMAP_MAX_SEQ];
		uint8_t mk[2], br[3];
		size_t mn = 0, bn = 0;

		if (k->ext) {
			mk[mn++] = 0xE0;
			br[bn++] = 0xE0;
		}
		mk[mn++] = k->code;
		br[bn++] = 0xF0;
		br[bn++] = k->code;

		memset(out, 0xAA, sizeof(out));
		size_t n = keymap_set2(k->sc, true, out);
		check_seq(k->name, out, n, mk, mn);
		memset(out, 0xAA, sizeof(out));
		n = keymap_set2(k->sc, false, out);
		check_seq(k->name, out, n, br, bn);
		assert_true(keymap_known(k->sc));
	}
}

static void test_specials(void **state)
{
	(void)state;
	uint8_t out[KEYMAP_MAX_SEQ];
	static const uint8_t prt_make[] = {0xE0, 0x12, 0xE0, 0x7C};
	static const uint8_t prt_break[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
	static const uint8_t pause_make[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};

	size_t n = keymap_set2(SDL_SCANCODE_PRINTSCREEN, true, out);
	check_seq("PrintScreen make", out, n, prt_make, sizeof(prt_make));
	n = keymap_set2(SDL_SCANCODE_PRINTSCREEN, false, out);
	check_seq("PrintScreen break", out, n, prt_break, sizeof(prt_break));
	n = keymap_set2(SDL_SCANCODE_PAUSE, true, out);
	check_seq("Pause make", out, n, pause_make, sizeof(pause_make));
	assert_int_equal(sizeof(pause_make), KEYMAP_MAX_SEQ);
	/* Pause has no break code. */
	assert_int_equal(keymap_set2(SDL_SCANCODE_PAUSE, false, out), 0);
	assert_true(keymap_known(SDL_SCANCODE_PRINTSCREEN));
	assert_true(keymap_known(SDL_SCANCODE_PAUSE));
}

static bool in_table(int sc)
{
	if (sc == SDL_SCANCODE_PRINTSCREEN || sc == SDL_SCANCODE_PAUSE)
		return true;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].sc == sc)
			return true;
	return false;
}

/* Everything else, up to past SDL's last scancode and negative ones, maps
 * to nothing: no stray entries, no reads outside the tables. */
static void test_unknown(void **state)
{
	(void)state;
	static const int odd[] = {-1, -256, INT32_MIN, INT32_MAX, 65536, SDL_NUM_SCANCODES};
	uint8_t out[KEYMAP_MAX_SEQ];
	unsigned known = 0;

	for (int sc = 0; sc < SDL_NUM_SCANCODES + 16; sc++) {
		if (in_table(sc)) {
			known++;
			continue;
		}
		memset(out, 0xAA, sizeof(out));
		if (keymap_set2(sc, true, out) != 0 || keymap_set2(sc, false, out) != 0) {
			print_error("scancode %d maps to something\n", sc);
			fail();
		}
		assert_int_equal(out[0], 0xAA); /* nothing written */
		assert_false(keymap_known(sc));
	}
	assert_int_equal(known, sizeof(keys) / sizeof(keys[0]) + 2);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_int_equal(keymap_set2(odd[i], true, out), 0);
		assert_int_equal(keymap_set2(odd[i], false, out), 0);
	}
	assert_int_equal(keymap_set2(SDL_SCANCODE_UNKNOWN, true, out), 0);
}

/* A full 105-key ISO layout: each key distinct where it should be. The main
 * block's 'ISO #' shares the US backslash's position and code. */
static void test_layout_distinct(void **state)
{
	(void)state;
	uint8_t a[KEYMAP_MAX_SEQ], b[KEYMAP_MAX_SEQ];
	unsigned checked = 0;

	for (int x = 4; x <= SDL_SCANCODE_RGUI; x++) {
		size_t an = keymap_set2(x, true, a);
		if (an == 0)
			continue;
		for (int y = x + 1; y <= SDL_SCANCODE_RGUI; y++) {
			size_t bn = keymap_set2(y, true, b);
			if (bn == an && memcmp(a, b, an) == 0) {
				assert_int_equal(x, SDL_SCANCODE_BACKSLASH);
				assert_int_equal(y, SDL_SCANCODE_NONUSHASH);
			}
		}
		checked++;
	}
	assert_true(checked >= 105);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_specials),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_layout_distinct),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
