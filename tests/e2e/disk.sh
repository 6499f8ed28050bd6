#!/usr/bin/env bash
# virtio-blk on a raw image with the default guest: what the guest writes
# and syncs is in the image; readonly and snapshot leave the image
# byte-identical; a second hostel cannot open an image in use; a guest
# sync followed at once by SIGKILL of hostel loses nothing.
. "$(dirname "$0")/lib.sh"
require_kvm

img=$TMP/disk.img
truncate -s 64M "$img"
printf 'hello-from-the-host' | dd of="$img" conv=notrunc status=none

# Read what the host wrote, write a sector, flush.
guest_run "$TMP/out" '
	echo "size=$(cat /sys/block/vda/size)"
	echo "read=$(head -c 19 /dev/vda)"
	printf "written-by-the-guest" | dd of=/dev/vda bs=512 seek=8 conv=sync,fsync 2>/dev/null
	echo "ro=$(cat /sys/block/vda/ro)"' --disk "$img"
[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status"; }
grep -q '^size=131072' "$TMP/out" || fail "guest sees the wrong disk size"
grep -q '^read=hello-from-the-host' "$TMP/out" || fail "guest did not read the host's bytes"
[ "$(dd if="$img" bs=512 skip=8 count=1 status=none | head -c 20)" = written-by-the-guest ] ||
	fail "the guest's write is not in the image"
pass "virtio-blk: read, write and flush reach the image"

# readonly: the guest sees a read-only disk, its writes fail, no byte changes.
sum=$(sha256sum <"$img")
guest_run "$TMP/out" '
	echo "ro=$(cat /sys/block/vda/ro)"
	if printf x | dd of=/dev/vda bs=512 conv=sync,fsync 2>/dev/null; then echo write=ok; else echo write=failed; fi' \
	--disk "$img,readonly"
[ "$status" -eq 0 ] || fail "readonly: hostel exited $status"
grep -q '^ro=1' "$TMP/out" || fail "readonly: the guest does not see a read-only disk"
grep -q '^write=failed' "$TMP/out" || fail "readonly: a guest write succeeded"
[ "$(sha256sum <"$img")" = "$sum" ] || fail "readonly: the image changed"
pass "readonly: writes refused, image unchanged"

# snapshot: the guest reads back its own writes, the image stays as it was.
guest_run "$TMP/out" '
	printf "snapshot-write" | dd of=/dev/vda bs=512 seek=16 conv=sync,fsync 2>/dev/null
	echo 3 >/proc/sys/vm/drop_caches
	echo "back=$(dd if=/dev/vda bs=512 skip=16 count=1 2>/dev/null | head -c 14)"' --disk "$img,snapshot"
[ "$status" -eq 0 ] || fail "snapshot: hostel exited $status"
grep -q '^back=snapshot-write' "$TMP/out" || fail "snapshot: the guest did not read its write back"
[ "$(sha256sum <"$img")" = "$sum" ] || fail "snapshot: the image changed"
pass "snapshot: guest writes kept in the overlay, image unchanged"

# A second instance on the same image is refused while the first runs;
# then sync and SIGKILL: what the guest synced is in the image.
second_and_kill() {
	session_start "$TMP/s1" --disk "$img"
	wait_for "$TMP/s1" "$READY_PAT"
	"$HOSTEL" run --disk "$img" </dev/null >"$TMP/o2" 2>"$TMP/e2"
	st=$?
	[ "$st" -eq 81 ] || fail "second instance: exit $st, want 81 ($(cat "$TMP/e2"))"
	grep -q "disk '$img' is in use" "$TMP/e2" || fail "second instance: message '$(cat "$TMP/e2")'"
	pass "a second hostel on the same image is refused: $(cat "$TMP/e2")"

	# Type once the shell is up (see console.sh).
	wait_for "$TMP/s1" "Enter 'help' for a list of built-in commands"
	send 'printf synced-before-kill | dd of=/dev/vda bs=512 seek=24 conv=sync,fsync 2>/dev/null && echo "sync-done"'
	wait_for "$TMP/s1" '^sync-done'
	kill -KILL "$(pgrep -P "$SPID" hostel)"
	session_end
	[ "$(dd if="$img" bs=512 skip=24 count=1 status=none | head -c 18)" = synced-before-kill ] ||
		fail "data synced before SIGKILL is missing from the image"
	pass "sync then SIGKILL: nothing synced was lost"
}
retry_part second_and_kill
