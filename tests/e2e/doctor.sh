#!/usr/bin/env bash
# The boot doctor, in two boots: a kernel with no initrd and no disk for
# its root=/dev/vda panics (83), and the doctor names root= and the missing
# --disk; a guest whose console is not the serial port prints nothing, and
# the doctor says so after --doctor-after, before --timeout ends it (85).
# Both diagnoses are in the --report JSON too.
. "$(dirname "$0")/lib.sh"
require_kvm

cache=${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}
kernel=$cache/kernel/vmlinuz
[ -r "$kernel" ] || fail "no default kernel at $kernel (images/kernel.sh builds it)"

# drun OUT ARGS...: hostel run ARGS with a hang guard; sets $status.
drun() {
	local out=$1
	shift
	timeout -k 10 "$GUEST_BOUND" "$HOSTEL" run "$@" </dev/null >"$out" 2>"$out.err"
	status=$?
	[ "$status" -ne 124 ] || { cat "$out.err"; fail "hostel did not end within ${GUEST_BOUND}s"; }
}

# report_doctor FILE: the report's "doctor" field ("null" when none).
report_doctor() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["doctor"]; print("null" if d is None else d)' "$1"
}

# (a) No initrd, so no virtio_blk (a module in Debian's kernel), and no disk:
# the kernel cannot open root=/dev/vda and panics.
no_root() {
	drun "$TMP/a" --kernel "$kernel" --cmdline root=/dev/vda --report "$TMP/a.json"
	if [ "$status" -ne 83 ] && [ -n "${HOSTEL_TESTBED:-}" ] && ! grep -q 'VFS: ' "$TMP/a"; then
		echo "hostel exited $status before the kernel looked for its root device"
		exit "$FLAKE"
	fi
	[ "$status" -eq 83 ] || { tail -20 "$TMP/a"; cat "$TMP/a.err"; fail "no root device: hostel exited $status, want 83"; }
	grep -q 'Unable to mount root fs' "$TMP/a" || fail "no VFS panic on the console: $(tail -5 "$TMP/a")"
	grep -q '^hostel: doctor: .*root device.*root=/dev/vda.*no --disk' "$TMP/a.err" ||
		fail "no doctor line naming root=/dev/vda and no --disk: $(cat "$TMP/a.err")"
	grep -q '^hostel: doctor: add --disk' "$TMP/a.err" ||
		fail "the doctor does not say how to fix it: $(cat "$TMP/a.err")"
	[ "$(grep -c '^hostel: doctor: ' "$TMP/a.err")" -le 2 ] ||
		fail "the doctor said more than two lines: $(cat "$TMP/a.err")"
	# Matched in a variable: with pipefail, grep -q quitting at the first
	# line would fail the pipe when the writer still had a second one.
	[[ $(report_doctor "$TMP/a.json") == *root=/dev/vda* ]] ||
		fail "the report's doctor field: $(report_doctor "$TMP/a.json")"
	pass "no root device: exit 83, the doctor names root=/dev/vda and the missing --disk"
}
retry_part no_root

# (b) The default guest with its console on tty0 only: nothing ever reaches
# the serial port. The doctor speaks after 20 s of silence, once; the
# timeout ends the run.
silent() {
	drun "$TMP/b" --no-auto-cmdline --cmdline console=tty0 --doctor-after 20s --timeout 60s \
		--report "$TMP/b.json"
	if [ "$status" -eq 84 ] && [ -n "${HOSTEL_TESTBED:-}" ]; then
		echo "guest CPU failure in a silent boot: $(cat "$TMP/b.err")"
		exit "$FLAKE"
	fi
	[ "$status" -eq 85 ] || { cat "$TMP/b.err"; fail "silent guest: hostel exited $status, want 85 (--timeout)"; }
	[ ! -s "$TMP/b" ] || fail "the guest printed on the serial console: $(head -c 300 "$TMP/b")"
	grep -q '^hostel: doctor: the guest printed nothing on the serial console in 2[0-9] s: console=tty0' "$TMP/b.err" ||
		fail "no doctor line about the console: $(cat "$TMP/b.err")"
	grep -q '^hostel: doctor: add console=ttyS0' "$TMP/b.err" ||
		fail "the doctor does not say how to fix it: $(cat "$TMP/b.err")"
	[ "$(grep -c '^hostel: doctor: ' "$TMP/b.err")" -eq 2 ] ||
		fail "one diagnosis of two lines expected: $(cat "$TMP/b.err")"
	# The doctor came first, then the timeout.
	[[ $(grep -m1 -e '^hostel: doctor: ' -e 'timed out after 60.0 s' "$TMP/b.err") == *doctor* ]] ||
		fail "the timeout came before the doctor: $(cat "$TMP/b.err")"
	[[ $(report_doctor "$TMP/b.json") == *console=tty0* ]] ||
		fail "the report's doctor field: $(report_doctor "$TMP/b.json")"
	pass "silent console: the doctor names console=tty0 after 20 s; --timeout exits 85"
}
retry_part silent
