#!/usr/bin/env bash
# The desktop: hostel run --display sdl in a private Xvfb X server.
#  - keys typed into the window (xdotool) reach the guest's shell on tty1
#    (SDL -> set-2 scancodes -> i8042 -> atkbd), which runs the command: its
#    output comes back on the serial console;
#  - the control socket's screenshot shows the guest's screen (virtio-gpu ->
#    struct display -> PNG), and the typed command's output is read off it
#    with OCR (tesseract; the guest uses the kernel's 16x32 font for it);
#  - a click in the window reaches the guest's virtio tablet (an EV_KEY
#    BTN_LEFT event read from its /dev/input/eventN);
#  - closing the window presses the power button, closing it again stops
#    the guest.
. "$(dirname "$0")/lib.sh"
require_kvm
[ -x "${HOSTEL_X_CLOSE:-}" ] || {
	echo "SKIP: hostel was built without Xlib (no tests/e2e/x_close)"
	exit 77
}
for t in Xvfb xdotool tesseract; do
	command -v "$t" >/dev/null || {
		echo "SKIP: $t is not installed (scripts/setup installs it)"
		exit 77
	}
done

# ocr_find PNG WORD: WORD is in the text tesseract reads off PNG, with at
# most one character misread (OCR confuses 1/l, 0/O, 5/S in a console
# font; a random 5-digit token is not matched by chance at that distance).
ocr_find() {
	tesseract "$1" "$TMP/ocr" >/dev/null 2>&1 || return 1
	python3 - "$2" "$TMP/ocr.txt" <<'PY'
import sys
want, text = sys.argv[1], open(sys.argv[2], errors="replace").read()
n = len(want)
def near(s):  # Levenshtein distance of s and want is at most 1
    if abs(len(s) - n) > 1:
        return False
    i = 0
    while i < min(len(s), n) and s[i] == want[i]:
        i += 1
    return s[i + 1:] == want[i + 1:] or s[i:] == want[i + 1:] or s[i + 1:] == want[i:]
sys.exit(0 if any(near(text[k:k + m]) for m in (n - 1, n, n + 1)
                  for k in range(len(text) - m + 1)) else 1)
PY
}

desktop() {
	local sock=$TMP/sock out=$TMP/out wid n token
	session_start "$out" -v --display sdl --api-socket "$sock" --cmdline "fbcon=font:TER16x32"
	wait_for "$out" "$READY_PAT"
	# hostel put console=tty0 before console=ttyS0: the serial console
	# is still the guest's /dev/console (the ready line came there).
	wait_for "$out" "hostel-guest: shell on tty1"
	wait_for "$out" "Enter 'help' for a list of built-in commands"

	wid=$(timeout 60 xdotool search --sync --name '^default guest - hostel') ||
		fail "no hostel window on $DISPLAY"
	xdotool windowfocus --sync "$wid" || fail "cannot focus the window"
	# Typed slowly: the i8042's FIFO is 16 bytes and a nested guest
	# drains it late.
	token=typed$((RANDOM + 10000))
	xdotool type --delay 80 "clear; echo $token | tee /dev/ttyS0" || fail "xdotool type"
	xdotool key --delay 80 Return || fail "xdotool key Return"
	# The serial shell's prompt may stand before it on the line; the
	# typed text itself went to tty1 only.
	wait_for "$out" "$token"
	pass "keys typed into the window ran a command in the guest's tty1 shell"

	# The screen, as the control socket writes it. The guest draws its
	# console asynchronously (fbdev's deferred I/O, then the GPU's flush):
	# look again, one screenshot a second, until the text is there (a
	# hang guard of 60 shots, never a timing assertion: tesseract takes
	# seconds in a nested bed, and a failure must be reported before
	# GUEST_BOUND ends hostel).
	local shot=$TMP/screen.png found=0
	shot_until "$sock" "$shot" 60 ocr_find "$shot" "$token" && found=1
	grep -q '"width":[1-9]' "$shot.json" || fail "screenshot result: $(cat "$shot.json")"
	[ "$found" -eq 1 ] || {
		cp "$shot" "${HOSTEL_BUILD_ROOT:-/tmp}/desktop-fail.png" 2>/dev/null
		echo "OCR read:"
		cat "$TMP/ocr.txt"
		fail "'$token' is not on the screenshot"
	}
	pass "the screenshot shows the typed command's output ($token, read by OCR)"

	# A click: the guest watches its tablet for BTN_LEFT (type 1, code
	# 0x110; struct input_event is 24 bytes on x86-64, type at 16).
	send 'ev=$(sed -n "/Name=\"hostel tablet\"/,/^\$/s/^H: Handlers=.*\(event[0-9]*\).*/\1/p" /proc/bus/input/devices); echo "tablet-device=$ev"'
	wait_for "$out" "tablet-device=event[0-9]"
	# (Markers are computed, so the shell's echo of a command line never
	# matches them.)
	send '(while :; do e=$(dd if=/dev/input/$ev bs=24 count=1 2>/dev/null | od -An -tx1 -j16 -N4 | tr -d " \n"); [ "$e" = 01001001 ] && { echo tablet-click-$((2+3)); break; }; done) &'
	send 'echo tablet-watch-$((1+1))'
	wait_for "$out" "tablet-watch-2"
	xdotool mousemove --window "$wid" --sync 200 150 || fail "xdotool mousemove"
	xdotool click 1 || fail "xdotool click"
	wait_for "$out" "tablet-click-5"
	pass "a click in the window reached the guest's virtio tablet"

	# Ctrl+Alt+G grabs the mouse: motion then goes to the PS/2 mouse
	# (i8042 aux port, psmouse) as relative motion; the guest watches
	# that device for an EV_REL event (type 2 at byte 16).
	send 'ev2=$(sed -n "/Name=\"ImPS\/2 Generic Wheel Mouse\"/,/^\$/s/^H: Handlers=.*\(event[0-9]*\).*/\1/p" /proc/bus/input/devices); echo "ps2-device=$ev2"'
	wait_for "$out" "ps2-device=event[0-9]"
	send '(while :; do e=$(dd if=/dev/input/$ev2 bs=24 count=1 2>/dev/null | od -An -tx1 -j16 -N2 | tr -d " \n"); [ "$e" = 0200 ] && { echo ps2-motion-$((4+5)); break; }; done) &'
	send 'echo ps2-watch-$((2+2))'
	wait_for "$out" "ps2-watch-4"
	xdotool key ctrl+alt+g || fail "xdotool key ctrl+alt+g"
	timeout 60 xdotool search --sync --name 'Ctrl.Alt.G to release' >/dev/null ||
		fail "the title does not say the mouse is grabbed: $(xdotool getwindowname "$wid")"
	# Moved back and forth once a second until the guest saw motion (a
	# hang guard of 60 moves): SDL's relative mode warps the pointer
	# back, so xdotool cannot wait for it to arrive.
	for n in $(seq 60); do
		grep -q "ps2-motion-9" "$out" && break
		xdotool mousemove_relative -- $((n % 2 ? 20 : -20)) $((n % 2 ? 15 : -15)) ||
			fail "xdotool mousemove_relative"
		sleep 1 # the polling interval of the hang guard above
	done
	wait_for "$out" "ps2-motion-9"
	xdotool key ctrl+alt+g || fail "xdotool key ctrl+alt+g (release)"
	pass "Ctrl+Alt+G grabbed the mouse and its motion reached the guest's PS/2 mouse"

	# Closing the window: the first close presses the power button (the
	# SIGTERM way), the second stops the guest hard. acpid goes first,
	# so the guest ignores the button and only the second close ends it.
	send 'killall acpid; echo acpid-gone-$((3+4))'
	wait_for "$out" "acpid-gone-7"
	"$HOSTEL_X_CLOSE" "$wid" || fail "x_close"
	wait_for "$out.err" "the window was closed: pressing the power button"
	kill -0 "$SPID" || fail "hostel ended at the first close"
	"$HOSTEL_X_CLOSE" "$wid" || fail "x_close (again)"
	session_end
	[ "$status" -eq 0 ] || {
		tail -20 "$out"
		cat "$out.err"
		fail "hostel exited $status"
	}
	grep -q "stopped by closing the window" "$out.err" || {
		cat "$out.err"
		fail "the second close did not stop the guest"
	}
	pass "closing the window pressed the power button; closing it again stopped the guest (status 0)"
}

start_xvfb
retry_part desktop
