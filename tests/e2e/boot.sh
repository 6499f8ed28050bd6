#!/usr/bin/env bash
# The default guest boots to its ready line, runs a command whose output and
# status come back, and the guest's reset ends hostel with status 0.
# The three ways a kernel is loaded all boot it: the bzImage's payload
# unpacked on the host (first into an empty cache, then from the cache), the
# bzImage as is (--no-kernel-unpack: the guest decompresses it), and a bare
# ELF vmlinux given as --kernel.
. "$(dirname "$0")/lib.sh"
require_kvm

export HOSTEL_KERNEL_CACHE=$TMP/kcache
# One part, retried whole after a nested flake: each attempt starts from an
# empty cache, so each must unpack.
first_boot() {
	rm -rf "$TMP/kcache"
	guest_run_once "$TMP/out" 'echo "hello from $(uname -s) $(uname -r)"; cat /proc/cmdline; exit 7' -v -v ||
		{ echo "FLAKE: $why"; exit "$FLAKE"; }
	[ "$status" -eq 0 ] || { tail -30 "$TMP/out"; cat "$TMP/out.err"; fail "hostel exited $status, want 0"; }
	grep -q 'hello from Linux 6\.' "$TMP/out" || fail "command output missing"
	grep -q 'console=ttyS0' "$TMP/out" || fail "hostel did not append console=ttyS0 to the command line"
	grep -q '^cryptomgr\.notests hostel\.cmd=' "$TMP/out" ||
		fail "the default guest's command line does not start with cryptomgr.notests: $(grep hostel.cmd= "$TMP/out")"
	pass "the default guest's kernel gets cryptomgr.notests first"
	[ "$(guest_status "$TMP/out")" = 7 ] || fail "guest command status $(guest_status "$TMP/out"), want 7"
	pass "default guest boots, runs a command, status 7 seen, hostel exits 0"
	grep -q 'debug: kernel: xz payload, vmlinux of .* unpacked and cached' "$TMP/out.err" ||
		fail "the kernel was not unpacked into the empty cache: $(grep kernel: "$TMP/out.err")"
	ls "$TMP"/kcache/vmlinux-* >/dev/null || fail "no unpacked kernel in the cache"
	pass "Debian's xz bzImage unpacked on the host and cached"
}
retry_part first_boot
vmlinux=$(ls "$TMP"/kcache/vmlinux-*) || fail "no unpacked kernel in the cache"

guest_run "$TMP/out" 'echo cached-ok; [ -z "$(find /lib/modules -name "drm*.ko" -o -name psmouse.ko)" ] && echo no-display-archive; [ -d /sys/module/virtio_console ] && echo console-module' -v -v
[ "$status" -eq 0 ] && grep -q '^cached-ok' "$TMP/out" || fail "boot from the cache: status $status"
grep -q 'debug: kernel: .* from the cache' "$TMP/out.err" || fail "the second boot did not use the cache"
pass "second boot loads the unpacked kernel from the cache"
grep -q '^no-display-archive' "$TMP/out" && grep -q '^console-module' "$TMP/out" ||
	fail "a headless default guest got the display's modules, or not its own: $(cat "$TMP/out")"
pass "a headless default guest boots without the display's archive, its own modules loaded"

guest_run "$TMP/out" 'echo self-decompressed' --no-kernel-unpack -v -v
[ "$status" -eq 0 ] && grep -q '^self-decompressed' "$TMP/out" ||
	fail "--no-kernel-unpack: status $status"
grep -q 'debug: kernel:' "$TMP/out.err" && fail "--no-kernel-unpack still unpacked the kernel"
pass "--no-kernel-unpack: the guest's own decompressor boots the bzImage"

initrd="${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}/initramfs.cpio.gz"
guest_run "$TMP/out" 'echo bare-elf-ok; grep -q cryptomgr /proc/cmdline || echo no-guest-params' --kernel "$vmlinux" --initrd "$initrd"
[ "$status" -eq 0 ] && grep -q '^bare-elf-ok' "$TMP/out" || { tail -20 "$TMP/out"; fail "bare vmlinux: status $status"; }
pass "an ELF vmlinux given as --kernel boots"
grep -q '^no-guest-params' "$TMP/out" || fail "a kernel given as --kernel got the default guest's parameters"
pass "a kernel given as --kernel boots without the default guest's parameters"
