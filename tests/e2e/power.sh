#!/usr/bin/env bash
# Power and lifecycle exit statuses: poweroff -> 0, panic -> 83 with the
# last console lines, debug-exit -> (V<<1)|1, SIGTERM -> ACPI power button,
# the guest shuts down cleanly, hostel exits 0.
. "$(dirname "$0")/lib.sh"
require_kvm

guest_run "$TMP/out" 'echo bye; poweroff -f'
[ "$status" -eq 0 ] || fail "poweroff: hostel exited $status, want 0"
grep -q 'reboot: Power down' "$TMP/out" || fail "poweroff: no power-down message"
pass "poweroff -> 0"

guest_run "$TMP/out" 'echo c > /proc/sysrq-trigger'
[ "$status" -eq 83 ] || { tail -20 "$TMP/out"; cat "$TMP/out.err"; fail "panic: hostel exited $status, want 83"; }
grep -q 'last console lines' "$TMP/out.err" || fail "panic: no console lines on stderr"
grep -q 'Kernel panic' "$TMP/out.err" || fail "panic: the panic message is not among the last lines"
pass "guest panic -> 83, last console lines printed"

# reboot=t: the guest kernel reboots by triple fault, which hostel reports
# as a guest CPU failure (84) with a one-line reason.
GUEST_CMDLINE=reboot=t guest_run "$TMP/out" 'reboot -f; sleep 600'
[ "$status" -eq 84 ] || { tail -20 "$TMP/out"; fail "triple fault: hostel exited $status, want 84"; }
grep -q 'guest CPU failure: .*triple fault' "$TMP/out.err" || fail "triple fault: stderr '$(cat "$TMP/out.err")'"
pass "triple fault -> 84: $(grep 'guest CPU failure' "$TMP/out.err")"

# One boot for the device's wiring at a port given on the command line
# (the default port, 0x501, is the same code with cli's default; unit tests
# cover the values, 0 included, and the option's parsing).
guest_run "$TMP/out" "printf '\\005' | dd of=/dev/port bs=1 seek=$((0xf4)) count=1 2>/dev/null; sleep 600" --debug-exit=0xf4
[ "$status" -eq 11 ] || fail "debug-exit 5 at 0xf4: hostel exited $status, want 11"
pass "debug-exit value 5 at port 0xf4 -> 11"

sigterm() {
	session_start "$TMP/out" --cmdline "hostel.cmd=$(b64 'echo waiting-for-the-button; sleep 600')"
	wait_for "$TMP/out" "$READY_PAT"
	wait_for "$TMP/out" '^waiting-for-the-button'
	kill -TERM "$(pgrep -P "$SPID" hostel)"
	session_end
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "SIGTERM: hostel exited $status, want 0"; }
	grep -q 'hostel-guest: power button' "$TMP/out" || fail "SIGTERM: the guest did not see the power button"
	grep -q 'reboot: Power down' "$TMP/out" || fail "SIGTERM: the guest did not shut down cleanly"
	pass "SIGTERM -> ACPI power button -> clean guest shutdown -> 0"
}
retry_part sigterm

# A guest that ignores the power button: a second signal stops it at once;
# SIGHUP (the terminal went away) with a short grace period stops it hard
# when the grace period ends. Both are clean stops: 0.
deaf=$(b64 'killall acpid; echo acpid-gone; sleep 600')
second_sigterm() {
	session_start "$TMP/out" --cmdline "hostel.cmd=$deaf"
	wait_for "$TMP/out" "$READY_PAT"
	wait_for "$TMP/out" '^acpid-gone'
	hpid=$(pgrep -P "$SPID" hostel)
	kill -TERM "$hpid"
	kill -TERM "$hpid"
	session_end
	[ "$status" -eq 0 ] || fail "second SIGTERM: hostel exited $status, want 0"
	grep -q 'power button pressed' "$TMP/out" && fail "second SIGTERM: the guest was not stopped hard"
	pass "a second SIGTERM stops a guest that ignores the power button -> 0"
}
retry_part second_sigterm

sighup() {
	session_start "$TMP/out" --shutdown-grace 2 -v --cmdline "hostel.cmd=$deaf"
	wait_for "$TMP/out" "$READY_PAT"
	wait_for "$TMP/out" '^acpid-gone'
	kill -HUP "$(pgrep -P "$SPID" hostel)"
	session_end
	[ "$status" -eq 0 ] || fail "SIGHUP: hostel exited $status, want 0"
	grep -q 'grace period' "$TMP/out.err" || fail "SIGHUP: no hard stop after the grace period: $(cat "$TMP/out.err")"
	pass "SIGHUP -> power button, hard stop after the grace period -> 0"
}
retry_part sighup
