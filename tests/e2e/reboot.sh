#!/usr/bin/env bash
# Guest reboot: the VM restarts from scratch in the same process (a second
# boot), then powers off -> 0. With --no-reboot a reboot ends hostel with 82.
# 20 reboots in one process keep hostel's fd and thread counts constant.
# The guest counts its boots in the first byte of a small disk, which
# (unlike RAM) survives a reboot; no typing on the console is needed.
. "$(dirname "$0")/lib.sh"
require_kvm

# reboots N [WAIT]: the guest's script for "reboot until the counter passes
# N"; with WAIT=1 it waits, after each boot, for a line typed by the host.
# The counter is decimal text at the start of the disk.
reboots() {
	local script='
		n=$(head -c 8 /dev/vda | tr -dc 0-9)
		n=$((${n:-0} + 1))
		echo "boot-number=$n"
		echo "$n" | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null
		if [ WAIT = 1 ]; then
			# Hold still until the host has counted (it types a line).
			echo "waiting-for-host"
			read -r _
		fi
		if [ "$n" -le LIMIT ]; then reboot -f; fi
		poweroff -f'
	script=${script/LIMIT/$1}
	printf '%s' "${script/WAIT/${2:-0}}"
}

truncate -s 1M "$TMP/count.img"
guest_run "$TMP/out" "$(reboots 1)" --disk "$TMP/count.img"
[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status, want 0"; }
[ "$(grep -c "$READY_PAT" "$TMP/out")" -eq 2 ] || fail "the guest did not boot twice"
grep -q '^boot-number=2' "$TMP/out" || fail "no second boot"
pass "reboot: the guest booted twice in one process, then powered off -> 0"

guest_run "$TMP/out2" 'reboot -f' --no-reboot
[ "$status" -eq 82 ] || { tail -20 "$TMP/out2"; fail "--no-reboot: hostel exited $status, want 82"; }
pass "--no-reboot: guest reboot -> 82"

# 20 reboots: resources measured at each ready line must not grow.
twenty() {
	truncate -s 0 "$TMP/count.img"
	truncate -s 1M "$TMP/count.img"
	# 21 boots in one process: the hang guard is per boot (wait_for), the
	# whole session's only a backstop.
	GUEST_BOUND=$((GUEST_BOUND * 10)) session_start "$TMP/out3" --memory 256M --disk "$TMP/count.img" --cmdline "hostel.cmd=$(b64 "$(reboots 20 1)")"
	fds=() threads=()
	for i in $(seq 1 21); do
		wait_for "$TMP/out3" "$READY_PAT" "$i"
		# Count while the guest waits for us: not while hostel is tearing
		# one boot down or setting the next up.
		wait_for "$TMP/out3" '^waiting-for-host' "$i"
		hp=$(pgrep -P "$SPID" hostel) || fail "hostel is gone after $i boots"
		fds+=("$(ls /proc/"$hp"/fd | wc -l)")
		threads+=("$(ls /proc/"$hp"/task | wc -l)")
		send go
	done
	session_end
	[ "$status" -eq 0 ] || fail "20 reboots: hostel exited $status"
	[ "$(grep -c "$READY_PAT" "$TMP/out3")" -eq 21 ] || fail "20 reboots: not 21 boots"
	for i in $(seq 1 20); do
		[ "${fds[$i]}" -eq "${fds[0]}" ] || fail "fd count changed across reboots: ${fds[*]}"
		[ "${threads[$i]}" -eq "${threads[0]}" ] || fail "thread count changed across reboots: ${threads[*]}"
	done
	pass "20 reboots: fds ${fds[0]} and threads ${threads[0]} constant"
}
retry_part twenty
