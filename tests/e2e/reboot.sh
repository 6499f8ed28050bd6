#!/usr/bin/env bash
# A guest reboot (through the i8042 reset line) ends hostel with status 0.
. "$(dirname "$0")/lib.sh"
require_kvm

guest_run "$TMP/out" 'echo rebooting-now; reboot -f; sleep 600'
[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status after guest reboot"; }
grep -q rebooting-now "$TMP/out" || fail "guest command did not run"
if grep -q '^hostel-guest: exit-status=' "$TMP/out"; then
	fail "the command finished instead of rebooting"
fi
pass "guest reboot ends hostel with 0"
