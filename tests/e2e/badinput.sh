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

# The window's module (hostel-sdl.so, loaded only to open a window): a
# hostel binary with none beside it, and none installed, says which file
# it looked for, before any KVM work.
if [ -f "$(dirname "$HOSTEL")/hostel-sdl.so" ]; then
	mkdir "$TMP/bin"
	cp "$HOSTEL" "$TMP/bin/hostel"
	HOSTEL=$TMP/bin/hostel DISPLAY=:77 expect 80 \
		"window's module hostel-sdl.so is neither next to hostel nor in /" \
		run --display sdl --kernel "$kernel"
fi

# Config files: every reject is a usage error (2) in one line naming the
# file and the key.
cfg() { printf '%s' "$2" >"$TMP/$1"; }
cfg bad-syntax.json '{"cpus": 2,}'
cfg unknown.json '{"cpu": 2}'
cfg dup.json '{"cpus": 1, "cpus": 2}'
cfg type.json '{"cpus": "2"}'
cfg range.json '{"memory": "8M"}'
cfg disk.json '{"disks": [{"path": "a.img", "cache": "unsafe"}]}'
cfg array.json '[1, 2]'
cfg nulesc.json '{"kernel": "a\u0000b"}'
printf '{"cpus": 2}\0' >"$TMP/nul.json"
printf '{"kernel": "caf\303"}' >"$TMP/utf8.json"
{ printf '{}'; head -c 1048576 /dev/zero | tr '\0' ' '; } >"$TMP/big.json"
expect 2 "config '$TMP/missing.json': No such file or directory" run --config "$TMP/missing.json"
expect 2 "config '$TMP/dir': is a directory" run --config "$TMP/dir"
expect 2 "config '$TMP/empty': no JSON value" run --config "$TMP/empty"
expect 2 "config '$TMP/bad-syntax.json': invalid JSON at line 1, column" run --config "$TMP/bad-syntax.json"
expect 2 "config '$TMP/unknown.json': unknown key \"cpu\"" run --config "$TMP/unknown.json"
expect 2 "config '$TMP/dup.json': key \"cpus\" given more than once" run --config "$TMP/dup.json"
expect 2 "config '$TMP/type.json': key \"cpus\": expected a number, got a string" run --config "$TMP/type.json"
expect 2 "key \"memory\": \"8M\" is not a size from 16M to 1T in whole MiB" run --config "$TMP/range.json"
expect 2 "key \"disks\[0\].cache\": \"unsafe\"" run --config "$TMP/disk.json"
expect 2 "expected a JSON object" run --config "$TMP/array.json"
expect 2 "u0000 escape" run --config "$TMP/nulesc.json"
expect 2 "a NUL byte at line 1, column 12" run --config "$TMP/nul.json"
expect 2 "invalid UTF-8" run --config "$TMP/utf8.json"
expect 2 "larger than the 1024 KiB limit" run --config "$TMP/big.json"
expect 2 "larger than the 1024 KiB limit" run --config /dev/zero
expect 2 "option --config given more than once" run --config "$TMP/type.json" --config "$TMP/dup.json"
# A bad file is reported even when the command line sets the same key.
expect 2 "key \"cpus\": expected a number" run --cpus 2 --config "$TMP/type.json"

# print_config ARGS...: hostel run --print-config ARGS prints the machine as
# JSON, exits 0 and boots nothing; the JSON is left in $pc.
print_config() {
	"$HOSTEL" run --print-config "$@" </dev/null >"$TMP/pc" 2>"$TMP/pc.err"
	local st=$?
	[ "$st" -eq 0 ] || fail "hostel run --print-config $* exited $st: $(cat "$TMP/pc.err")"
	[ ! -s "$TMP/pc.err" ] || fail "hostel run --print-config $*: stderr: $(cat "$TMP/pc.err")"
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$TMP/pc" ||
		fail "hostel run --print-config $*: not JSON: $(cat "$TMP/pc")"
	pc=$(cat "$TMP/pc")
}
# A config file and the equivalent command line give the same machine.
mkdir "$TMP/vm"
cat >"$TMP/vm/vm.json" <<'EOF'
{
  "kernel": "vmlinuz",
  "initrd": "/boot/initrd.img",
  "cmdline": "root=/dev/vda quiet",
  "auto_cmdline": false,
  "memory": 1536,
  "cpus": 3,
  "console": "file:boot.log",
  "disks": [
    {"path": "root.img", "readonly": true, "cache": "none"},
    {"path": "/srv/scratch.img", "snapshot": true}
  ],
  "reboot": false,
  "debug_exit": "0xf4",
  "shutdown_grace": 7,
  "kernel_unpack": false,
  "timeout": "90s",
  "ready": "^login: ",
  "serial_log": "serial.log",
  "report": "/out/report.xml",
  "report_format": "junit",
  "api_socket": "vm.sock",
  "doctor_after": 45
}
EOF
print_config --config "$TMP/vm/vm.json"
from_file=$pc
print_config --kernel "$TMP/vm/vmlinuz" --initrd /boot/initrd.img \
	--cmdline "root=/dev/vda quiet" --no-auto-cmdline --memory 1536M --cpus 3 \
	--console "file:$TMP/vm/boot.log" --disk "$TMP/vm/root.img,readonly,cache=none" \
	--disk /srv/scratch.img,snapshot --no-reboot --debug-exit=0xf4 --shutdown-grace 7 \
	--no-kernel-unpack --timeout 90 --ready '^login: ' --serial-log "$TMP/vm/serial.log" \
	--report /out/report.xml --report-format junit --api-socket "$TMP/vm/vm.sock" \
	--doctor-after 45s
from_argv=$pc
[ "$from_file" = "$from_argv" ] ||
	fail "config file and command line differ: $(diff <(echo "$from_file") <(echo "$from_argv"))"
grep -q "\"kernel\": \"$TMP/vm/vmlinuz\"" <<<"$from_file" ||
	fail "relative kernel path not resolved against the file's directory: $from_file"
pass "a config file and the equivalent command line print the same machine"
# The printed machine is itself a config file for the same machine.
printf '%s\n' "$from_file" >"$TMP/printed.json"
print_config --config "$TMP/printed.json"
[ "$pc" = "$from_file" ] ||
	fail "--print-config output does not read back as the same machine"
pass "--print-config output reads back as the same config"
# Options override the file's keys wherever they stand.
print_config --cpus 2 --disk /x.img --config "$TMP/vm/vm.json" --memory 2G
before=$pc
print_config --config "$TMP/vm/vm.json" --memory 2G --disk /x.img --cpus 2
after=$pc
[ "$before" = "$after" ] || fail "option order changes the result: $before / $after"
grep -q '"cpus": 2,' <<<"$before" && grep -q '"memory": "2G"' <<<"$before" &&
	grep -q '"path": "/x.img"' <<<"$before" && ! grep -q root.img <<<"$before" &&
	grep -q '"shutdown_grace": 7' <<<"$before" ||
	fail "options did not override the file as documented: $before"
pass "command-line options override the config file in any order"
# The defaults, with no file.
print_config
grep -q '"memory": "512M"' <<<"$pc" && grep -q '"cpus": 1,' <<<"$pc" &&
	! grep -q '"kernel"' <<<"$pc" || fail "unexpected defaults: $pc"
pass "--print-config shows the defaults"

# Into files first: grep -q quits at its first match, and a help text
# longer than one pipe write would then die of SIGPIPE (pipefail).
"$HOSTEL" --help >"$TMP/help" || fail "--help exited $?"
"$HOSTEL" run --help >"$TMP/run-help" || fail "run --help exited $?"
"$HOSTEL" --version >"$TMP/version" || fail "--version exited $?"
grep -q "Exit status" "$TMP/help" || fail "--help has no exit-status table"
grep -q -- "--kernel" "$TMP/run-help" || fail "run --help lacks --kernel"
grep -q -- "--config FILE" "$TMP/run-help" || fail "run --help lacks --config"
grep -q '"shutdown_grace"' "$TMP/run-help" || fail "run --help lacks the config schema"
grep -q "^hostel [0-9]" "$TMP/version" || fail "--version"
pass "help and version"
