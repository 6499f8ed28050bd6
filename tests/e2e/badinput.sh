#!/usr/bin/env bash
# Bad input from a user: one clear line naming the problem, a documented
# non-zero status, no vCPU started and no file modified. Needs no KVM: every
# check here happens before /dev/kvm is opened.
. "$(dirname "$0")/lib.sh"

# expect STATUS PATTERN ARGS...: hostel ARGS exits STATUS, and stderr is
# exactly one line that matches PATTERN.
expect() {
	local want=$1 pat=$2
	shift 2
	"$HOSTEL" "$@" </dev/null >"$TMP/o" 2>"$TMP/e"
	local st=$?
	[ "$st" -eq "$want" ] || fail "hostel $* exited $st, want $want (stderr: $(cat "$TMP/e"))"
	[ "$(wc -l <"$TMP/e")" -eq 1 ] || fail "hostel $*: stderr is not one line: $(cat "$TMP/e")"
	grep -q -- "$pat" "$TMP/e" || fail "hostel $*: '$(cat "$TMP/e")' does not match '$pat'"
	[ ! -s "$TMP/o" ] || fail "hostel $*: wrote to stdout"
	pass "hostel $* -> $st: $(cat "$TMP/e")"
}

: >"$TMP/empty"
head -c 100000 /dev/urandom >"$TMP/random"
printf 'MZ not a kernel at all' >"$TMP/short"
mkdir "$TMP/dir"
# A bzImage header that claims boot protocol 2.01 (too old).
python3 - "$TMP/old" <<'PY'
import struct, sys
b = bytearray(64 * 1024)
b[0x1f1] = 4                                  # setup_sects
struct.pack_into('<H', b, 0x1fe, 0xaa55)      # boot_flag
b[0x202:0x206] = b'HdrS'
struct.pack_into('<H', b, 0x206, 0x0201)      # version 2.01
b[0x211] = 1                                  # LOADED_HIGH
struct.pack_into('<I', b, 0x1f4, (len(b) - 5 * 512) // 16)
open(sys.argv[1], 'wb').write(b)
PY
# An ELF that is not an x86-64 kernel (a 32-bit ARM executable header).
python3 - "$TMP/armelf" <<'PY'
import struct, sys
b = bytearray(4096)
b[0:7] = b'\x7fELF\x01\x01\x01'
struct.pack_into('<HH', b, 16, 2, 40)          # ET_EXEC, EM_ARM
open(sys.argv[1], 'wb').write(b)
PY

expect 2 "unknown option '--bogus'" run --bogus
expect 2 "unknown command" frobnicate
expect 2 "given more than once" run --kernel a --kernel b
expect 2 "memory" run --memory 12Q
expect 2 "memory" run --memory 99999999999999999999999
expect 2 "cpus" run --cpus 0
expect 2 "console" run --console tty
expect 81 "kernel '$TMP/missing': No such file" run --kernel "$TMP/missing"
expect 81 "is a directory" run --kernel "$TMP/dir"
expect 81 "empty" run --kernel "$TMP/empty"
expect 81 "kernel '$TMP/random'" run --kernel "$TMP/random"
expect 81 "kernel '$TMP/short'" run --kernel "$TMP/short"
expect 81 "too old" run --kernel "$TMP/old"
expect 81 "kernel '$TMP/armelf': ELF kernel is not 64-bit" run --kernel "$TMP/armelf"

# Without KVM the status is 80 and the line says what to do.
if [ ! -e /dev/kvm ]; then
	kernel0="${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}/kernel/vmlinuz"
	expect 80 "/dev/kvm does not exist" run --kernel "$kernel0"
fi

# A good kernel with a bad initrd is reported before anything runs.
kernel="${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}/kernel/vmlinuz"
[ -r "$kernel" ] || fail "no kernel at $kernel: run images/kernel.sh"
expect 81 "initrd '$TMP/missing'" run --kernel "$kernel" --initrd "$TMP/missing"
expect 81 "initrd '$TMP/empty'" run --kernel "$kernel" --initrd "$TMP/empty"
# Truncating a real kernel: the loader names the truncation.
head -c 2000000 "$kernel" >"$TMP/trunc"
expect 81 "truncated" run --kernel "$TMP/trunc"
sum=$(sha256sum "$kernel")
[ "$sum" = "$(sha256sum "$kernel")" ] || fail "kernel modified"

"$HOSTEL" --help | grep -q "Exit status" || fail "--help has no exit-status table"
"$HOSTEL" run --help | grep -q -- "--kernel" || fail "run --help lacks --kernel"
"$HOSTEL" --version | grep -q "^hostel [0-9]" || fail "--version"
pass "help and version"
