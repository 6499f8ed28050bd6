#!/usr/bin/env bash
# Typing into the guest's shell: input on hostel's stdin reaches the guest
# through the UART and the shell runs it. Headless, the guest has a PS/2
# keyboard port and no mouse port.
. "$(dirname "$0")/lib.sh"
require_kvm

typing() {
	session_start "$TMP/out"
	wait_for "$TMP/out" "$READY_PAT"
	# Type once the shell has started (its banner is out): input that arrives
	# while the console is still changing hands can be lost, as on a real tty.
	wait_for "$TMP/out" "Enter 'help' for a list of built-in commands"
	send 'echo typed-$((6*7))'
	wait_for "$TMP/out" 'typed-42'
	# Headless (--display none, the default here): the DSDT describes the
	# keyboard and no PS/2 mouse, so the guest's i8042 driver registers
	# its keyboard port (serio0) and never probes the aux port (serio1).
	send 'echo "serio: $(ls /sys/bus/serio/devices | tr "\n" " ")end"'
	wait_for "$TMP/out" '^serio: '
	grep -q '^serio: serio0 end' "$TMP/out" ||
		fail "headless guest's serio ports: $(grep '^serio: ' "$TMP/out"), want the keyboard's only"
	send 'poweroff -f'
	session_end
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status"; }
	pass "typed input reached the guest shell"
	pass "headless: a keyboard port and no PS/2 mouse port (no psmouse probing)"
}
retry_part typing
