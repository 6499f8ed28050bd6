/* SPDX-License-Identifier: MIT */
/*
 * Host key -> PS/2 keyboard bytes: an SDL scancode (a USB HID keyboard-page
 * usage ID, as SDL numbers them; SDL's own media keys from 257 up) to the
 * scancode set 2 bytes a real AT keyboard sends for that key's make or
 * break, 0xE0 and 0xF0 prefixes included. Pure C: no SDL needed.
 */
#ifndef HOSTEL_UI_KEYMAP_H
#define HOSTEL_UI_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest sequence: Pause's make (E1 14 77 E1 F0 14 F0 77). */
#define KEYMAP_MAX_SEQ 8

/*
 * The set-2 bytes for @scancode going down (@down) or up, written to
 * @out[KEYMAP_MAX_SEQ]. Returns their number: 0 for a key hostel does not
 * know, and for Pause's release (Pause has no break code).
 */
size_t keymap_set2(int scancode, bool down, uint8_t out[KEYMAP_MAX_SEQ]);

/* Whether @scancode maps to anything at all. */
bool keymap_known(int scancode);

#endif
