#!/usr/bin/env bash
# The Debian 12 image of images/debian.sh on virtio-blk, with systemd, in
# 3 boot/poweroff cycles (a nested systemd boot takes a minute or more:
# each cycle checks several things):
#   - it boots to multi-user.target (no failed unit) and prints the ready line;
#   - what the guest writes just before a clean poweroff (hostel exits 0) is
#     in the image (debugfs), and e2fsck -fn finds the filesystem clean
#     after each cycle;
#   - readonly (a second disk, another copy): the guest sees it read-only,
#     mounts it ro, its file and raw writes fail;
#   - snapshot (the same second disk, in the next two runs): the guest
#     writes, syncs and reads back; the next run does not see those writes;
#   - after those 3 runs that copy is byte-identical to the pristine image;
#   - hostel exec on that copy with snapshot (a 4th boot, no systemd: the
#     initrd runs the command in the image's root): the image's own shell
#     and files, status and stdout/stderr apart; the command's write does
#     not reach the file, which keeps its size, mtime and bytes.
# Everything runs on sparse copies of the cached image under $TMP: the
# cache is never written. Commands are typed into root's autologin shell
# on ttyS0 once its prompt shows.
. "$(dirname "$0")/lib.sh"
require_kvm

cache=${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}
kernel=$cache/kernel/vmlinuz
initrd=$cache/debian/debian-initrd.img
pristine=$cache/debian/debian.img
for f in "$kernel" "$initrd" "$pristine"; do
	[ -f "$f" ] || {
		echo "SKIP: no $f (build the Debian image with images/debian.sh; scripts/test does)"
		exit 77
	}
done
# Where the time goes (a nested systemd boot is slow): information for
# whoever reads the log, never a check.
note() { echo "time: $* at ${SECONDS}s"; }

for t in debugfs e2fsck cmp; do
	command -v "$t" >/dev/null || fail "no $t on this host (scripts/setup installs e2fsprogs)"
done

# boot OUT DISK [hostel options]: start hostel with DISK as the Debian
# root (vda), wait for the ready line and the shell. Fails the test if
# either does not come.
boot() {
	local out=$1 disk=$2
	shift 2
	session_start "$out" --kernel "$kernel" --initrd "$initrd" --memory 512M \
		--disk "$disk" "$@" --cmdline root=/dev/vda
	wait_for "$out" "$READY_PAT"
	note "ready line"
	wait_prompt "$out"
	note "shell prompt"
}

# run OUT WORD CMD: type CMD, then a line that prints "WORD-done" (the
# typed text itself reads WORD-'done', so the echo of the input does not
# match), and wait for it.
run() {
	send "$3"
	send "echo $2-'done'"
	wait_for "$1" "$2-done"
}

# systemd's state, in one line the test greps for: multi-user.target
# active, PID 1 systemd, and the number of failed units.
state_cmd='echo "state: mu=$(systemctl is-active multi-user.target) pid1=$(cat /proc/1/comm) failed=$(systemctl --failed --plain --no-legend | wc -l)"'

# poweroff OUT WHAT: power the guest off from its shell; hostel must exit
# 0 (ACPI S5).
poweroff() {
	send poweroff
	session_end
	note "hostel exited $status"
	[ "$status" -eq 0 ] || {
		tail -20 "$1"
		cat "$1.err"
		fail "$2: hostel exited $status after poweroff, want 0"
	}
}

ro_cmd='echo "ro: dev=$(cat /sys/block/vdb/ro)"; mkdir -p /mnt/ro
mount /dev/vdb /mnt/ro 2>/dev/null; echo "ro: mount=$(findmnt -no OPTIONS /mnt/ro | cut -d, -f1) hostname=$(cat /mnt/ro/etc/hostname)"
if touch /mnt/ro/hostel-probe 2>/dev/null; then echo "ro: file=written"; else echo "ro: file=refused"; fi
if dd if=/dev/zero of=/dev/vdb bs=4096 count=1 seek=1000 oflag=direct 2>/dev/null; then echo "ro: raw=written"; else echo "ro: raw=refused"; fi'
# Written, synced, dropped from the page cache and read back: the second
# read comes from hostel's overlay.
snap_cmd='mkdir -p /mnt/snap && mount /dev/vdb /mnt/snap && head -c 1M /dev/urandom >/mnt/snap/hostel-snap && sync &&
s1=$(md5sum </mnt/snap/hostel-snap) && echo 3 >/proc/sys/vm/drop_caches && s2=$(md5sum </mnt/snap/hostel-snap) &&
[ "$s1" = "$s2" ] && umount /mnt/snap && echo "snap: readback=same"'
snap_gone_cmd='mkdir -p /mnt/snap && mount -o ro /dev/vdb /mnt/snap && if [ -e /mnt/snap/hostel-snap ]; then echo "snap: old=kept"; else echo "snap: old=gone"; fi'

# 3 boot/poweroff cycles on copy A, each appending a line to a file before
# poweroff; after each the file is in the image and the filesystem clean.
# Copy B rides along as vdb: readonly in cycle 1, which checks the guest
# cannot write to it; snapshot in cycles 2 and 3: cycle 2 writes to it,
# cycle 3 checks those writes did not outlive their run. At the end B must
# be byte-for-byte the pristine image: cmp with R, a third copy (stronger
# than equal sha256 sums, and faster: the cache is read once, over the
# test bed's slow 9p share, and copies between tmpfs files are quick).
a=$TMP/a.img b=$TMP/b.img ref=$TMP/ref.img
cp --sparse=always "$pristine" "$a" || fail "cannot copy $pristine to $a"
for f in "$b" "$ref"; do
	cp --sparse=always "$a" "$f" || fail "cannot copy $a to $f"
done
note "copies made"

# cycle (with $i set): one cycle, run by retry_part: a boot that dies before
# its ready line (a nested flake, see lib.sh) is run again, once. Such a
# boot has not reached the shell: it wrote nothing this test checks.
cycle() {
	local out=$TMP/out.$i want='' k
	for k in $(seq 1 "$i"); do want="${want}hostel-e2e cycle $k"$'\n'; done
	local mode=snapshot
	[ "$i" -eq 1 ] && mode=readonly
	boot "$out" "$a" --disk "$b,$mode"
	run "$out" state "$state_cmd"
	grep -q 'state: mu=active pid1=systemd failed=0' "$out" ||
		fail "cycle $i: $(grep -a -o 'state: .*' "$out" | tr -d '\r' | tail -1), want multi-user active, PID 1 systemd, no failed unit"
	[ "$i" -eq 1 ] && pass "the Debian image boots with systemd to multi-user.target, no failed unit, ready line shown"
	case $i in
	1)
		run "$out" ro "$ro_cmd"
		grep -q 'ro: dev=1' "$out" || fail "readonly: the guest does not see a read-only vdb"
		grep -q 'ro: mount=ro hostname=hostel-debian' "$out" ||
			fail "readonly: $(grep -a -o 'ro: mount=.*' "$out" | tr -d '\r'), want mounted ro and readable"
		grep -q 'ro: file=refused' "$out" || fail "readonly: the guest wrote a file"
		grep -q 'ro: raw=refused' "$out" || fail "readonly: the guest wrote to /dev/vdb"
		;;
	2)
		run "$out" snap "$snap_cmd"
		grep -q 'snap: readback=same' "$out" || fail "snapshot: the guest did not read back what it wrote"
		;;
	3)
		run "$out" snap "$snap_gone_cmd"
		grep -q 'snap: old=gone' "$out" || fail "snapshot: a write from the previous run is still there"
		;;
	esac
	# Written just before poweroff and not synced: the clean shutdown must
	# get it to the disk.
	run "$out" wrote "echo 'hostel-e2e cycle $i' >>/root/hostel-e2e.txt"
	poweroff "$out" "cycle $i"
	got=$(debugfs -R 'cat /root/hostel-e2e.txt' "$a" 2>/dev/null)
	[ "$got"$'\n' = "$want" ] || fail "cycle $i: the image holds '$got', want '$want'"
	e2fsck -fn "$a" >"$TMP/fsck" 2>&1 || {
		cat "$TMP/fsck"
		fail "cycle $i: e2fsck -fn finds errors after a clean poweroff"
	}
	case $i in
	1)
		pass "a file written in the guest just before poweroff is in the image (debugfs), hostel exited 0"
		pass "readonly (vdb): the disk is read-only, mounts ro, file and raw writes refused"
		;;
	2) pass "snapshot (vdb): the guest wrote, synced and read back 1 MiB" ;;
	3) pass "snapshot (vdb): the previous run's write is gone" ;;
	esac
}

for i in 1 2 3; do
	note "cycle $i starts"
	retry_part cycle
done
pass "e2fsck -fn clean after each of 3 boot/poweroff cycles, each of which wrote"
cmp -s "$b" "$ref" || fail "readonly/snapshot: the image changed"
note "compared"
pass "readonly, then snapshot twice: the image is byte-identical to the pristine one"

# hostel exec on the unmodified image: its initrd (images/debian/initrd-init)
# runs the command chrooted into the image's root, with the exec channels.
# What the command prints proves where it ran: the image's os-release and
# its dash as /bin/sh (the initrd has busybox only). It writes a file,
# which must stay in the snapshot overlay.
x_cmd='. /etc/os-release && echo "exec-os: $PRETTY_NAME"; echo "exec-sh: $(readlink -f /bin/sh)"
echo "exec-err: to-stderr" >&2
echo hostel >/root/hostel-marker && sync && [ -s /root/hostel-marker ] && echo "exec-marker: written"
exit 3'

# image_has IMG PATH: debugfs finds PATH in IMG (0) or says it is not there
# (1); anything else fails the test.
image_has() {
	local o
	o=$(debugfs -R "stat $2" "$1" 2>&1)
	case $o in
	*'File not found'*) return 1 ;;
	*'Inode: '*) return 0 ;;
	*) fail "debugfs cannot read $1: $o" ;;
	esac
}

# exec_part: one hostel exec, run by retry_part. The ready line (on the
# serial log) tells a boot that died early (a nested flake) from a failure.
exec_part() {
	local out=$TMP/x st
	timeout -k 10 "$GUEST_BOUND" "$HOSTEL" exec --kernel "$kernel" --initrd "$initrd" --memory 512M \
		--disk "$b,snapshot" --cmdline root=/dev/vda --serial-log "$out.serial" -- sh -c "$x_cmd" \
		</dev/null >"$out" 2>"$out.err"
	st=$?
	note "exec: hostel exited $st"
	if ! grep -q -- "$READY_PAT" "$out.serial" 2>/dev/null; then
		tail -20 "$out.serial" 2>/dev/null
		cat "$out.err"
		echo "FLAKE: the exec boot did not reach its ready line (hostel exited $st)"
		exit "$FLAKE"
	fi
	[ "$st" -eq 3 ] || {
		cat "$out" "$out.err"
		tail -20 "$out.serial"
		fail "exec: hostel exited $st, want the command's 3"
	}
	grep -qx 'exec-os: Debian GNU/Linux .*' "$out" || fail "exec: stdout has no Debian os-release: $(cat "$out")"
	grep -qx 'exec-sh: /usr/bin/dash' "$out" || fail "exec: /bin/sh is not the image's dash: $(cat "$out")"
	grep -qx 'exec-marker: written' "$out" || fail "exec: the command could not write its file: $(cat "$out.err")"
	grep -qx 'exec-err: to-stderr' "$out.err" || fail "exec: stderr lacks the command's line: $(cat "$out.err")"
	grep -q 'exec-err' "$out" && fail "exec: stderr leaked into stdout"
	grep -q 'exec-os' "$out.err" && fail "exec: stdout leaked into stderr"
	pass "exec on the Debian image: status 3, the image's os-release and dash, stdout and stderr apart"
}

before=$(stat -c '%s %y' "$b")
note "exec starts"
retry_part exec_part
[ "$(stat -c '%s %y' "$b")" = "$before" ] || fail "exec: the image's size or mtime changed: $before -> $(stat -c '%s %y' "$b")"
cmp -s "$b" "$ref" || fail "exec: the image changed"
# The check can tell: the file cycles 1-3 wrote to copy A is found.
image_has "$a" /root/hostel-e2e.txt || fail "debugfs does not find /root/hostel-e2e.txt in $a"
image_has "$b" /root/hostel-marker && fail "exec: /root/hostel-marker reached the image through snapshot"
pass "exec with snapshot: the image keeps its size, mtime and bytes; the command's file is not in it"
