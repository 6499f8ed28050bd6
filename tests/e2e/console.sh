#!/usr/bin/env bash
# Typing into the guest's shell: input on hostel's stdin reaches the guest
# through the UART and the shell runs it.
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
	send 'poweroff -f'
	session_end
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status"; }
	pass "typed input reached the guest shell"
}
retry_part typing
