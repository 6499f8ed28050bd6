#!/usr/bin/env bash
# The default guest boots to its ready line, runs a command whose output and
# status come back, and the guest's reset ends hostel with status 0.
. "$(dirname "$0")/lib.sh"
require_kvm

guest_run "$TMP/out" 'echo "hello from $(uname -s) $(uname -r)"; cat /proc/cmdline; exit 7'
expect_ready "$TMP/out"
[ "$status" -eq 0 ] || { tail -30 "$TMP/out"; cat "$TMP/out.err"; fail "hostel exited $status, want 0"; }
grep -q 'hello from Linux 6\.' "$TMP/out" || fail "command output missing"
grep -q 'console=ttyS0' "$TMP/out" || fail "hostel did not append console=ttyS0 to the command line"
[ "$(guest_status "$TMP/out")" = 7 ] || fail "guest command status $(guest_status "$TMP/out"), want 7"
pass "default guest boots, runs a command, status 7 seen, hostel exits 0"
