#!/usr/bin/env bash
# Tests of the test bed itself (tests/testbed/run), run on the host: they
# need QEMU, not KVM. Six outer boots (one of them lost on purpose), three in
# the background while the others run, so the whole file costs about the
# 100 s of its timeout case:
#   A  a hung command (sleep 600, --timeout 100: the bound leaves room for four
#      beds booting at once, each polling in its idle loop): status 124, the message,
#      output printed before the hang arrives while the runner still runs,
#      no QEMU and no control directory left
#   B  `false`: status 1
#   C  `exit 42` after checks inside: the caller's environment and working
#      directory (under /tmp, so re-exposed), a --rw directory, a read-only
#      root, the host's /tmp hidden, /dev/kvm present; stdout and stderr
#      both arrive
#   D  SIGTERM to the runner: status 143, no QEMU and no control directory
#      left; its bed's first boot stops before the command starts
#      (HOSTEL_TESTBED_LOSE_BOOTS=1): booted again with one line saying so,
#      the command started once
#   E  a frozen outer VM (its heartbeat stopped by the command, which then
#      idles; HOSTEL_TESTBED_STALL=20): status 125, the message, the outer
#      CPUs' registers from the monitor, no QEMU
#   G  a QEMU that aborts at once, every time (HOSTEL_TESTBED_QEMU, a
#      script; no bed boots): started twice, no more, status 125, both
#      lines name its exit 134; it was given TCG's 64 MiB translation
#      buffer; HOSTEL_TESTBED_TB_SIZE=64M: status 125, no QEMU started
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd -P)
run=$root/tests/testbed/run

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "SKIP: no qemu-system-x86_64 (install qemu-system-x86)"
	exit 77
fi

tmp=$(mktemp -d /tmp/hostel-testbed-test.XXXXXX)
bg=()
cleanup() {
	local p
	for p in "${bg[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# The runners' control directories go here, so the test sees what is left.
mkdir -p "$tmp/ctl"
export TMPDIR=$tmp/ctl

failures=0 passes=0
ok() {
	echo "ok: $*"
	passes=$((passes + 1))
}
bad() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
show() {
	local f
	for f in "$@"; do
		echo "--- $f"
		tail -20 "$f"
	done
}

# No process (QEMU above all) may still name PATH on its command line.
no_process_with() {
	! grep -lsaF -- "$1" /proc/[0-9]*/cmdline >/dev/null
}

# wait_output FILE PATTERN PID: wait until FILE has PATTERN or PID ends.
wait_output() {
	while kill -0 "$3" 2>/dev/null; do
		grep -q -- "$2" "$1" && return 0
		sleep 0.2
	done
	grep -q -- "$2" "$1"
}

# --- A (background): a hung command and the timeout.
mkdir -p "$tmp/rwA"
t0=$SECONDS
"$run" --timeout 100 --rw "$tmp/rwA" -- sh -c 'echo stream-early; sleep 600' \
	>"$tmp/a.out" 2>"$tmp/a.err" &
apid=$!
bg+=("$apid")
# Watched from now, in the background: the other cases run first, and on a
# slow machine A may have timed out before the check below is reached.
(wait_output "$tmp/a.out" stream-early "$apid" && kill -0 "$apid" 2>/dev/null &&
	echo "$((SECONDS - t0))" >"$tmp/a.streamed") &
awatch=$!
bg+=("$awatch")

# --- D (background): SIGTERM to the runner, after a boot lost before the
# command started.
mkdir -p "$tmp/rwD"
HOSTEL_TESTBED_LOSE_BOOTS=1 "$run" --rw "$tmp/rwD" -- sh -c 'echo d-is-up; sleep 600' >"$tmp/d.out" 2>"$tmp/d.err" &
dpid=$!
bg+=("$dpid")

# --- E (background): a frozen bed, played by stopping its heartbeat.
mkdir -p "$tmp/rwE"
# shellcheck disable=SC2016 # expanded inside the bed
HOSTEL_TESTBED_STALL=20 "$run" --timeout 600 --rw "$tmp/rwE" -- \
	sh -c 'kill -STOP "$(cat /run/hostel-testbed/heartbeat.pid)" && echo e-frozen; sleep 600' \
	>"$tmp/e.out" 2>"$tmp/e.err" &
epid=$!
bg+=("$epid")

# --- G: a QEMU that aborts at once, as QEMU 7.2 once did on an MSI-X
# assertion while the bed booted.
cat >"$tmp/qemu-abort" <<'SH'
#!/bin/sh
echo "started $*" >>"$HOSTEL_TB_QEMU_LOG"
kill -ABRT $$
SH
chmod +x "$tmp/qemu-abort"
HOSTEL_TESTBED_QEMU=$tmp/qemu-abort HOSTEL_TB_QEMU_LOG=$tmp/g.starts "$run" -- echo g-ran \
	>"$tmp/g.out" 2>"$tmp/g.err"
st=$?
if [ "$st" -eq 125 ] && [ "$(wc -l <"$tmp/g.starts")" -eq 2 ] && ! grep -q g-ran "$tmp/g.out" &&
	grep -qx "testbed: the outer VM stopped before the command started (qemu exit 134); booting it once more" "$tmp/g.err" &&
	grep -q "^testbed: the outer VM stopped without the command's status (qemu exit 134)" "$tmp/g.err"; then
	ok "a QEMU that aborts every time: started twice, no more, runner status 125"
else
	bad "aborting QEMU: runner status $st, want 125 after two starts ($(wc -l <"$tmp/g.starts" 2>/dev/null) seen)"
	show "$tmp/g.out" "$tmp/g.err"
fi
# TCG's translated-code buffer: 64 MiB by default, the environment's
# otherwise; a value that is not a number stops the runner before QEMU.
if [ "$(grep -c -- '-accel tcg,thread=multi,tb-size=64 ' "$tmp/g.starts")" -eq 2 ]; then
	ok "the outer QEMU gets TCG's 64 MiB translation buffer"
else
	bad "the outer QEMU's -accel is not tcg,thread=multi,tb-size=64: $(head -c 300 "$tmp/g.starts")"
fi
HOSTEL_TESTBED_TB_SIZE=64M HOSTEL_TESTBED_QEMU=$tmp/qemu-abort HOSTEL_TB_QEMU_LOG=$tmp/h.starts "$run" -- echo h-ran \
	>"$tmp/h.out" 2>"$tmp/h.err"
st=$?
if [ "$st" -eq 125 ] && [ ! -e "$tmp/h.starts" ] &&
	grep -qx "testbed: HOSTEL_TESTBED_TB_SIZE must be a number of MiB, not '64M'" "$tmp/h.err"; then
	ok "a translation buffer size that is not a number: status 125, one line, no QEMU"
else
	bad "HOSTEL_TESTBED_TB_SIZE=64M: runner status $st, want 125 and the line, no QEMU start"
	show "$tmp/h.out" "$tmp/h.err"
fi

# --- B: false.
"$run" -- false >"$tmp/b.out" 2>"$tmp/b.err"
st=$?
if [ "$st" -eq 1 ]; then ok "false inside: runner status 1"; else
	bad "false inside: runner status $st, want 1"
	show "$tmp/b.out" "$tmp/b.err"
fi

# --- C: exit 42 after checking what the command sees.
mkdir -p "$tmp/cwd" "$tmp/rwC"
echo "cwd-marker" >"$tmp/cwd/marker"
echo "not for the bed" >"$tmp/secret"
export HOSTEL_TB_PROBE="a b'c\"d \$e"
# shellcheck disable=SC2016 # expanded inside the bed
probe='
	r=0
	echo to-stdout; echo to-stderr >&2
	[ "$HOSTEL_TB_PROBE" = "$1" ] || { echo "env: got [$HOSTEL_TB_PROBE]"; r=11; }
	[ "$(pwd -P)" = "$2" ] || { echo "cwd: got $(pwd -P)"; r=12; }
	[ "$(cat marker 2>&1)" = cwd-marker ] || { echo "cwd not re-exposed"; r=13; }
	echo written-inside >"$3/file" || r=14
	[ ! -e "$4" ] || { echo "the host /tmp is visible"; r=15; }
	if touch /usr/hostel-testbed-probe 2>/dev/null; then echo "root is writable"; r=16; fi
	[ -c /dev/kvm ] || { echo "no /dev/kvm"; r=17; }
	[ $r -eq 0 ] && exit 42
	exit $r'
(cd "$tmp/cwd" && "$run" --rw "$tmp/rwC" -- sh -c "$probe" probe "$HOSTEL_TB_PROBE" \
	"$tmp/cwd" "$tmp/rwC" "$tmp/secret" >"$tmp/c.out" 2>"$tmp/c.err")
st=$?
if [ "$st" -eq 42 ]; then ok "checks inside passed, exit 42: runner status 42"; else
	bad "exit 42 case: runner status $st, want 42"
	show "$tmp/c.out" "$tmp/c.err"
fi
if grep -qx to-stdout "$tmp/c.out" && grep -qx to-stderr "$tmp/c.out"; then
	ok "inner stdout and stderr arrive on the runner's stdout, lines intact"
else
	bad "inner output missing or mangled"
	show "$tmp/c.out"
fi
if [ "$(cat "$tmp/rwC/file" 2>/dev/null)" = written-inside ]; then
	ok "--rw directory written inside is seen outside"
else
	bad "--rw file not written"
fi

# --- D: wait for its command to be up, then SIGTERM the runner.
if wait_output "$tmp/d.out" d-is-up "$dpid"; then
	kill -TERM "$dpid"
	wait "$dpid"
	st=$?
	if [ "$st" -eq 143 ]; then ok "SIGTERM: runner status 143"; else
		bad "SIGTERM: runner status $st, want 143"
		show "$tmp/d.out" "$tmp/d.err"
	fi
	again="^testbed: the outer VM stopped before the command started (qemu exit 0); booting it once more$"
	if [ "$(grep -c '^d-is-up' "$tmp/d.out")" -eq 1 ] && [ "$(grep -c "$again" "$tmp/d.err")" -eq 1 ]; then
		ok "a boot lost before the command started: booted again, one line says so, the command started once"
	else
		bad "lost boot: want d-is-up once and one 'booting it once more' line"
		show "$tmp/d.out" "$tmp/d.err"
	fi
	if no_process_with "$tmp/rwD"; then ok "SIGTERM: no QEMU left"; else
		bad "SIGTERM: a process still runs with $tmp/rwD"
	fi
else
	wait "$dpid"
	bad "SIGTERM case: the command never started (runner status $?)"
	show "$tmp/d.out" "$tmp/d.err"
fi

# --- A: output streams live, then the timeout.
wait "$awatch"
if [ -s "$tmp/a.streamed" ]; then
	ok "output arrives while the command still runs (streamed, $(cat "$tmp/a.streamed") s in)"
else
	bad "output did not arrive before the command ended"
fi
wait "$apid"
st=$?
if [ "$st" -eq 124 ]; then ok "hung command: runner status 124 after $((SECONDS - t0)) s"; else
	bad "hung command: runner status $st, want 124"
	show "$tmp/a.out" "$tmp/a.err"
fi
if grep -q '^testbed: timed out after 100 s$' "$tmp/a.err"; then
	ok "hung command: timeout message"
else
	bad "no 'testbed: timed out after 100 s' on stderr"
	show "$tmp/a.err"
fi
if no_process_with "$tmp/rwA"; then ok "timeout: no QEMU left"; else
	bad "timeout: a process still runs with $tmp/rwA"
fi

# --- E: the freeze is noticed by the heartbeat, long before --timeout.
wait "$epid"
st=$?
if [ "$st" -eq 125 ] && grep -q '^testbed: the outer VM froze: no heartbeat for 20 s' "$tmp/e.err" &&
	grep -qx e-frozen "$tmp/e.out" && grep -q '^testbed: outer CPUs at the freeze: RIP=' "$tmp/e.err"; then
	ok "frozen bed: runner status 125, the message and the outer CPUs' state"
else
	bad "frozen bed: runner status $st, want 125 with 'the outer VM froze'"
	show "$tmp/e.out" "$tmp/e.err"
fi
if no_process_with "$tmp/rwE"; then ok "freeze: no QEMU left"; else
	bad "freeze: a process still runs with $tmp/rwE"
fi

bg=()

left=$(ls -A "$tmp/ctl")
if [ -z "$left" ]; then ok "no control directory left behind"; else
	bad "left behind in TMPDIR: $left"
fi

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
