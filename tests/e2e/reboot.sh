#!/usr/bin/env bash
# Guest reboot: the VM restarts from scratch in the same process, four times,
# then powers off -> 0, and hostel's fd and thread counts do not grow. With
# --no-reboot a reboot ends hostel with 82.
# The guest counts its boots in the first byte of a small disk, which
# (unlike RAM) survives a reboot; no typing on the console is needed.
. "$(dirname "$0")/lib.sh"
require_kvm

# reboots N: the guest's script for "reboot until the counter passes N".
# The counter is decimal text at the start of the disk. Before it reboots,
# each boot waits until the host has written its number into the disk's
# ninth sector (the handshake of reboot4() below); the guest drops its page
# cache before every read, so it sees the host's write.
reboots() {
	local script='
		n=$(head -c 8 /dev/vda | tr -dc 0-9)
		n=$((${n:-0} + 1))
		echo "boot-number=$n"
		echo "$n" | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null
		until [ "$(echo 1 >/proc/sys/vm/drop_caches
			dd if=/dev/vda bs=512 skip=8 count=1 2>/dev/null | tr -dc 0-9)" = "$n" ]; do :; done
		if [ "$n" -le LIMIT ]; then reboot -f; fi
		poweroff -f'
	printf '%s' "${script/LIMIT/$1}"
}

guest_run "$TMP/out2" 'reboot -f' --no-reboot
[ "$status" -eq 82 ] || { tail -20 "$TMP/out2"; fail "--no-reboot: hostel exited $status, want 82"; }
pass "--no-reboot: guest reboot -> 82"

# 4 reboots: hostel's fd and thread counts must not grow. Each boot is
# sampled while its guest waits, after its boot-number line, for the host
# to write that number into the disk: hostel is then neither tearing the
# last boot down nor loading the next one, so a sample is exact. (Sampled
# at the ready line without a handshake, a sample could land in a reboot:
# 20 16 16 16 20 20 once boots got faster. A handshake through typed
# console input hung in the test bed; the disk is a channel the guest's
# script reads anyway.) The first boot is the reference only for itself:
# it opens what stays open (the engine's threads start with the first
# I/O). From the second boot on, no sample may exceed the second's by more
# than 1, where a leak of one per boot adds 3 by the fifth.
reboot4() {
	truncate -s 0 "$TMP/count.img"
	truncate -s 1M "$TMP/count.img"
	# 5 boots in one process: the hang guard is per boot (wait_for), the
	# whole session's only a backstop.
	GUEST_BOUND=$((GUEST_BOUND * 7)) session_start "$TMP/out3" --memory 256M --disk "$TMP/count.img" --cmdline "hostel.cmd=$(b64 "$(reboots 4)")"
	local fds=() threads=() hp f t
	for i in $(seq 1 5); do
		wait_for "$TMP/out3" "$READY_PAT" "$i"
		wait_for "$TMP/out3" '^boot-number=' "$i"
		hp=$(pgrep -P "$SPID" hostel) || fail "4 reboots: hostel gone during boot $i"
		f=$(ls /proc/"$hp"/fd 2>/dev/null | wc -l)
		t=$(ls /proc/"$hp"/task 2>/dev/null | wc -l)
		[ "$f" -gt 0 ] && [ "$t" -gt 0 ] || fail "4 reboots: no fds or threads of hostel in boot $i"
		fds+=("$f")
		threads+=("$t")
		# Let the guest go on: its number into the ninth sector.
		printf '%s\n' "$i" | dd of="$TMP/count.img" bs=512 seek=8 conv=notrunc,sync 2>/dev/null
	done
	session_end
	[ "$status" -eq 0 ] || fail "4 reboots: hostel exited $status"
	[ "$(grep -c "$READY_PAT" "$TMP/out3")" -eq 5 ] || fail "4 reboots: not 5 boots"
	grep -q '^boot-number=5' "$TMP/out3" || fail "4 reboots: the disk's boot counter did not reach 5"
	[ "${#fds[@]}" -eq 5 ] || fail "4 reboots: only ${#fds[@]} samples of hostel's resources"
	local i
	for i in 2 3 4; do
		[ "${fds[i]}" -le $((fds[1] + 1)) ] || fail "fd count grew across reboots: ${fds[*]}"
		[ "${threads[i]}" -le $((threads[1] + 1)) ] || fail "thread count grew across reboots: ${threads[*]}"
	done
	pass "4 reboots in one process, then poweroff -> 0: fds ${fds[*]}; threads ${threads[*]}: no growth"
}
retry_part reboot4
