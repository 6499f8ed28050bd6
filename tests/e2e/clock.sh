#!/usr/bin/env bash
# The guest's wall clock (from the CMOS RTC at boot) matches the host's.
. "$(dirname "$0")/lib.sh"
require_kvm

before=$(date +%s)
guest_run "$TMP/out" 'echo "guest-time=$(date +%s)"'
after=$(date +%s)
[ "$status" -eq 0 ] || fail "hostel exited $status"
g=$(sed -n 's/^guest-time=\([0-9]*\).*/\1/p' "$TMP/out" | head -1)
[ -n "$g" ] || fail "no guest-time line"
# The guest printed its time while hostel ran: it must fall between the
# host's clock before and after, give or take the RTC's 1 s resolution.
[ "$g" -ge $((before - 2)) ] && [ "$g" -le $((after + 2)) ] ||
	fail "guest time $g is outside the host's [$before, $after]"
pass "guest time $g within host [$before, $after]"
