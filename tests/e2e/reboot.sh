#!/usr/bin/env bash
# Guest reboot: the VM restarts from scratch in the same process (a second
# boot), then powers off -> 0. With --no-reboot a reboot ends hostel with 82.
# 20 reboots in one process keep hostel's fd count and thread count constant.
. "$(dirname "$0")/lib.sh"
require_kvm

session_start "$TMP/out"
wait_for "$TMP/out" '^hostel-guest: ready' 1
send 'echo first-boot; reboot -f'
wait_for "$TMP/out" '^hostel-guest: ready' 2
send 'echo second-boot; poweroff -f'
session_end
[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status, want 0"; }
grep -q 'first-boot' "$TMP/out" && grep -q 'second-boot' "$TMP/out" || fail "commands missing"
pass "reboot: the guest booted twice in one process, then powered off -> 0"

guest_run "$TMP/out2" 'reboot -f' --no-reboot
[ "$status" -eq 82 ] || { tail -20 "$TMP/out2"; fail "--no-reboot: hostel exited $status, want 82"; }
pass "--no-reboot: guest reboot -> 82"

# 20 reboots: resources measured at each ready line must not grow.
session_start "$TMP/out3" --memory 256M
fds=() threads=()
for i in $(seq 1 20); do
	wait_for "$TMP/out3" '^hostel-guest: ready' "$i"
	fds+=("$(ls /proc/"$(pgrep -P "$SPID" hostel || echo "$SPID")"/fd | wc -l)")
	threads+=("$(ls /proc/"$(pgrep -P "$SPID" hostel || echo "$SPID")"/task | wc -l)")
	send 'reboot -f'
done
wait_for "$TMP/out3" '^hostel-guest: ready' 21
send 'poweroff -f'
session_end
[ "$status" -eq 0 ] || fail "20 reboots: hostel exited $status"
for i in $(seq 1 19); do
	[ "${fds[$i]}" -eq "${fds[0]}" ] || fail "fd count changed across reboots: ${fds[*]}"
	[ "${threads[$i]}" -eq "${threads[0]}" ] || fail "thread count changed across reboots: ${threads[*]}"
done
pass "20 reboots: fds ${fds[0]} and threads ${threads[0]} constant"
