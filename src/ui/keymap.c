/* SPDX-License-Identifier: MIT */
/*
 * SDL scancodes (USB HID usage IDs) to PS/2 scancode set 2, after the
 * usage-to-set-2 columns of Microsoft's "Keyboard Scan Code Specification"
 * (rev. 1.3a), which is what AT keyboards and Linux's atkbd agree on.
 *
 * A plain key's make is its code, its break 0xF0 then the code; an extended
 * key puts 0xE0 in front of both. PrintScreen and Pause are sequences of
 * their own (see below).
 */
#include "ui/keymap.h"

#include <string.h>

#include "hostel/compiler.h"

#define E0  0x100u /* extended: 0xE0 prefix */
#define PRT 0x200u /* PrintScreen */
#define PAU 0x400u /* Pause */

/* HID keyboard page, 0x04 (A) .. 0xE7 (right GUI). 0: no key. */
static const uint16_t hid_to_set2[232] = {
	[4] = 0x1C,	   /* A */
	[5] = 0x32,	   /* B */
	[6] = 0x21,	   /* C */
	[7] = 0x23,	   /* D */
	[8] = 0x24,	   /* E */
	[9] = 0x2B,	   /* F */
	[10] = 0x34,	   /* G */
	[11] = 0x33,	   /* H */
	[12] = 0x43,	   /* I */
	[13] = 0x3B,	   /* J */
	[14] = 0x42,	   /* K */
	[15] = 0x4B,	   /* L */
	[16] = 0x3A,	   /* M */
	[17] = 0x31,	   /* N */
	[18] = 0x44,	   /* O */
	[19] = 0x4D,	   /* P */
	[20] = 0x15,	   /* Q */
	[21] = 0x2D,	   /* R */
	[22] = 0x1B,	   /* S */
	[23] = 0x2C,	   /* T */
	[24] = 0x3C,	   /* U */
	[25] = 0x2A,	   /* V */
	[26] = 0x1D,	   /* W */
	[27] = 0x22,	   /* X */
	[28] = 0x35,	   /* Y */
	[29] = 0x1A,	   /* Z */
	[30] = 0x16,	   /* 1 */
	[31] = 0x1E,	   /* 2 */
	[32] = 0x26,	   /* 3 */
	[33] = 0x25,	   /* 4 */
	[34] = 0x2E,	   /* 5 */
	[35] = 0x36,	   /* 6 */
	[36] = 0x3D,	   /* 7 */
	[37] = 0x3E,	   /* 8 */
	[38] = 0x46,	   /* 9 */
	[39] = 0x45,	   /* 0 */
	[40] = 0x5A,	   /* Return */
	[41] = 0x76,	   /* Escape */
	[42] = 0x66,	   /* Backspace */
	[43] = 0x0D,	   /* Tab */
	[44] = 0x29,	   /* Space */
	[45] = 0x4E,	   /* - */
	[46] = 0x55,	   /* = */
	[47] = 0x54,	   /* [ */
	[48] = 0x5B,	   /* ] */
	[49] = 0x5D,	   /* backslash (US) */
	[50] = 0x5D,	   /* # (ISO, left of Return): the same key position */
	[51] = 0x4C,	   /* ; */
	[52] = 0x52,	   /* ' */
	[53] = 0x0E,	   /* ` */
	[54] = 0x41,	   /* , */
	[55] = 0x49,	   /* . */
	[56] = 0x4A,	   /* / */
	[57] = 0x58,	   /* Caps Lock */
	[58] = 0x05,	   /* F1 */
	[59] = 0x06,	   /* F2 */
	[60] = 0x04,	   /* F3 */
	[61] = 0x0C,	   /* F4 */
	[62] = 0x03,	   /* F5 */
	[63] = 0x0B,	   /* F6 */
	[64] = 0x83,	   /* F7 */
	[65] = 0x0A,	   /* F8 */
	[66] = 0x01,	   /* F9 */
	[67] = 0x09,	   /* F10 */
	[68] = 0x78,	   /* F11 */
	[69] = 0x07,	   /* F12 */
	[70] = PRT,	   /* Print Screen */
	[71] = 0x7E,	   /* Scroll Lock */
	[72] = PAU,	   /* Pause */
	[73] = E0 | 0x70,  /* Insert */
	[74] = E0 | 0x6C,  /* Home */
	[75] = E0 | 0x7D,  /* Page Up */
	[76] = E0 | 0x71,  /* Delete */
	[77] = E0 | 0x69,  /* End */
	[78] = E0 | 0x7A,  /* Page Down */
	[79] = E0 | 0x74,  /* Right */
	[80] = E0 | 0x6B,  /* Left */
	[81] = E0 | 0x72,  /* Down */
	[82] = E0 | 0x75,  /* Up */
	[83] = 0x77,	   /* Num Lock */
	[84] = E0 | 0x4A,  /* keypad / */
	[85] = 0x7C,	   /* keypad * */
	[86] = 0x7B,	   /* keypad - */
	[87] = 0x79,	   /* keypad + */
	[88] = E0 | 0x5A,  /* keypad Enter */
	[89] = 0x69,	   /* keypad 1 */
	[90] = 0x72,	   /* keypad 2 */
	[91] = 0x7A,	   /* keypad 3 */
	[92] = 0x6B,	   /* keypad 4 */
	[93] = 0x73,	   /* keypad 5 */
	[94] = 0x74,	   /* keypad 6 */
	[95] = 0x6C,	   /* keypad 7 */
	[96] = 0x75,	   /* keypad 8 */
	[97] = 0x7D,	   /* keypad 9 */
	[98] = 0x70,	   /* keypad 0 */
	[99] = 0x71,	   /* keypad . */
	[100] = 0x61,	   /* ISO \ (left of Z): the 105th key */
	[101] = E0 | 0x2F, /* Application (menu) */
	[102] = E0 | 0x37, /* Power */
	[103] = 0x0F,	   /* keypad = */
	[104] = 0x08,	   /* F13 */
	[105] = 0x10,	   /* F14 */
	[106] = 0x18,	   /* F15 */
	[107] = 0x20,	   /* F16 */
	[108] = 0x28,	   /* F17 */
	[109] = 0x30,	   /* F18 */
	[110] = 0x38,	   /* F19 */
	[111] = 0x40,	   /* F20 */
	[112] = 0x48,	   /* F21 */
	[113] = 0x50,	   /* F22 */
	[114] = 0x57,	   /* F23 */
	[115] = 0x5F,	   /* F24 */
	[127] = E0 | 0x23, /* Mute */
	[128] = E0 | 0x32, /* Volume Up */
	[129] = E0 | 0x21, /* Volume Down */
	[133] = 0x6D,	   /* keypad , (Brazilian) */
	[135] = 0x51,	   /* International1: Ro (JIS) */
	[136] = 0x13,	   /* International2: Katakana/Hiragana */
	[137] = 0x6A,	   /* International3: Yen */
	[138] = 0x64,	   /* International4: Henkan */
	[139] = 0x67,	   /* International5: Muhenkan */
	[154] = 0x84,	   /* SysRq (Alt+Print Screen on an AT keyboard) */
	[224] = 0x14,	   /* left Ctrl */
	[225] = 0x12,	   /* left Shift */
	[226] = 0x11,	   /* left Alt */
	[227] = E0 | 0x1F, /* left GUI */
	[228] = E0 | 0x14, /* right Ctrl */
	[229] = 0x59,	   /* right Shift */
	[230] = E0 | 0x11, /* right Alt (AltGr) */
	[231] = E0 | 0x27, /* right GUI */
};

/* SDL's own numbers for consumer-page keys, from 257 (SDL_SCANCODE_MODE). */
#define SDL_EXTRA_BASE 257
static const uint16_t sdl_extra_to_set2[] = {
	[258 - SDL_EXTRA_BASE] = E0 | 0x4D, /* next track */
	[259 - SDL_EXTRA_BASE] = E0 | 0x15, /* previous track */
	[260 - SDL_EXTRA_BASE] = E0 | 0x3B, /* stop */
	[261 - SDL_EXTRA_BASE] = E0 | 0x34, /* play/pause */
	[262 - SDL_EXTRA_BASE] = E0 | 0x23, /* mute */
	[263 - SDL_EXTRA_BASE] = E0 | 0x50, /* media select */
	[264 - SDL_EXTRA_BASE] = E0 | 0x3A, /* WWW home */
	[265 - SDL_EXTRA_BASE] = E0 | 0x48, /* mail */
	[266 - SDL_EXTRA_BASE] = E0 | 0x2B, /* calculator */
	[267 - SDL_EXTRA_BASE] = E0 | 0x40, /* my computer */
	[268 - SDL_EXTRA_BASE] = E0 | 0x10, /* WWW search */
	[269 - SDL_EXTRA_BASE] = E0 | 0x3A, /* WWW home */
	[270 - SDL_EXTRA_BASE] = E0 | 0x38, /* WWW back */
	[271 - SDL_EXTRA_BASE] = E0 | 0x30, /* WWW forward */
	[272 - SDL_EXTRA_BASE] = E0 | 0x28, /* WWW stop */
	[273 - SDL_EXTRA_BASE] = E0 | 0x20, /* WWW refresh */
	[274 - SDL_EXTRA_BASE] = E0 | 0x18, /* WWW favorites */
	[282 - SDL_EXTRA_BASE] = E0 | 0x3F, /* sleep */
};

static uint16_t lookup(int scancode)
{
	if (scancode >= 0 && (size_t)scancode < ARRAY_SIZE(hid_to_set2))
		return hid_to_set2[scancode];
	if (scancode >= SDL_EXTRA_BASE &&
	    (size_t)(scancode - SDL_EXTRA_BASE) < ARRAY_SIZE(sdl_extra_to_set2))
		return sdl_extra_to_set2[scancode - SDL_EXTRA_BASE];
	return 0;
}

bool keymap_known(int scancode)
{
	return lookup(scancode) != 0;
}

/*
 * Print Screen is sent as if it were fake-Shift plus an extended key:
 * make E0 12 E0 7C, break E0 F0 7C E0 F0 12 (the spec's plain form; the
 * modifier-dependent variants are left to SysRq and the guest).
 */
static const uint8_t prtsc_make[] = {0xE0, 0x12, 0xE0, 0x7C};
static const uint8_t prtsc_break[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
/* Pause sends make and break together on the press and nothing on release. */
static const uint8_t pause_make[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};

size_t keymap_set2(int scancode, bool down, uint8_t out[KEYMAP_MAX_SEQ])
{
	uint16_t c = lookup(scancode);
	size_t n = 0;

	if (c == 0)
		return 0;
	if (c == PRT) {
		const uint8_t *seq = down ? prtsc_make : prtsc_break;
		n = down ? sizeof(prtsc_make) : sizeof(prtsc_break);
		memcpy(out, seq, n);
		return n;
	}
	if (c == PAU) {
		if (!down)
			return 0;
		memcpy(out, pause_make, sizeof(pause_make));
		return sizeof(pause_make);
	}
	if (c & E0)
		out[n++] = 0xE0;
	if (!down)
		out[n++] = 0xF0;
	out[n++] = (uint8_t)c;
	return n;
}
