# Shared helpers for the shell-driven e2e tests (sourced, not run).
# Every test boots real guests with the real hostel binary ($HOSTEL).
set -uo pipefail

: "${HOSTEL:?HOSTEL must point at the hostel binary (meson sets it)}"
# Hang guards, never timing assertions: one guest run (boot, command,
# power-off) and one wait_for. Nested boots take 15-60 s (one-vCPU bed).
GUEST_BOUND=${GUEST_BOUND:-600}
WAIT_BOUND=${WAIT_BOUND:-300}
# A boot that has not printed its ready line by then has stalled.
READY_BOUND=${READY_BOUND:-150}
READY_PAT='^hostel-guest: ready uptime='

# Nested flakes. In the test bed (HOSTEL_TESTBED=1, KVM inside QEMU/TCG)
# about one boot in fifty dies or stalls before its ready line, at random
# points of the kernel's early boot (a double fault, a triple fault, a
# frozen vCPU), for reasons in the emulation, not in hostel: the same boot
# passes when run again. A boot that fails that way, and only that way, is
# retried there (at most twice), with a RETRY line in the log; natively, or
# three times in a row, it fails the test. FLAKE is the status a test part
# exits with. (tests/testbed/init also stops the outer kernel from moving
# the nested guests' memory, the likeliest trigger.)
FLAKE=75
# Under /tmp, not the build dir: in the test bed the build dir is a 9p share,
# where FIFOs and sockets cannot be made; its /tmp is a local tmpfs.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/hostel-e2e.XXXXXX")
# Unpacked kernels (hostel's --kernel cache), shared by the tests of one
# run: in the test bed the user's cache is read-only.
export HOSTEL_KERNEL_CACHE=${HOSTEL_KERNEL_CACHE:-${TMPDIR:-/tmp}/hostel-e2e-vmlinux}
trap 'rm -rf "$TMP"' EXIT

# No window unless a test asks for one (hostel opens one by default when
# a display server is reachable): tests that want one set DISPLAY
# themselves, to their own Xvfb.
unset DISPLAY WAYLAND_DISPLAY

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

require_kvm() {
	local why
	if ! why=$("${HOSTEL_SOURCE_ROOT:-$(dirname "$0")/../..}/scripts/kvm-usable"); then
		echo "SKIP: $why (run the e2e suite through tests/run-e2e, which uses the test bed)"
		exit 77
	fi
}

b64() { printf '%s' "$1" | base64 -w0; }

# diagnose_hang PID: what a hung hostel is doing, for the failure log
# (the test has already failed; nothing here decides a result). Per thread:
# state, CPU time and kernel stack; KVM's exit counters, twice one second
# apart, tell a vCPU that still runs (counters move) from one that is stuck.
diagnose_hang() {
	local pid=$1 t
	echo "--- hang diagnostics for hostel (pid $pid)"
	for t in /proc/"$pid"/task/*; do
		[ -r "$t/stat" ] || continue
		echo "thread $(cat "$t/comm" 2>/dev/null): state $(cut -d' ' -f3 "$t/stat")" \
			"utime+stime $(cut -d' ' -f14,15 "$t/stat") wchan $(cat "$t/wchan" 2>/dev/null)"
		head -6 "$t/stack" 2>/dev/null | sed 's/^/    /'
	done
	local d=/sys/kernel/debug/kvm
	[ -d "$d" ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	if [ -r "$d/exits" ]; then
		# Every counter (KVM's sums over all VMs, exit kinds included),
		# twice one second apart; the ones that moved show what a stuck
		# vCPU keeps doing (pf_fixed: a nested page fault loop, ...).
		local f a b
		a=$(cd "$d" && for f in *; do [ -f "$f" ] && printf '%s %s\n' "$f" "$(cat "$f" 2>/dev/null)"; done)
		sleep 1 # a sampling interval, after the failure
		b=$(cd "$d" && for f in *; do [ -f "$f" ] && printf '%s %s\n' "$f" "$(cat "$f" 2>/dev/null)"; done)
		echo "kvm counters that moved in 1 s (name before after):"
		join --nocheck-order <(echo "$a") <(echo "$b") | awk '$2 != $3 { printf "  %s %s -> %s (+%d)\n", $1, $2, $3, $3 - $2 }'
	fi
	echo "---"
}

# guest_run_once OUT SCRIPT [options...]: one boot. 0 once hostel has
# exited after the ready line (status in $status); FLAKE if the guest died
# or stalled before it ($why says how).
guest_run_once() {
	local out=$1 script=$2
	shift 2
	"$HOSTEL" run --cmdline "hostel.cmd=$(b64 "$script")${GUEST_CMDLINE:+ $GUEST_CMDLINE}" "$@" \
		</dev/null >"$out" 2>"$out.err" &
	local pid=$!
	# The ready line, hostel's end, or READY_BOUND, whichever comes first.
	timeout "$READY_BOUND" tail -n +1 -f --pid="$pid" "$out" | grep -q -m1 -- "$READY_PAT"
	if [ "${PIPESTATUS[1]}" -ne 0 ] && ! grep -q -- "$READY_PAT" "$out"; then
		if kill -0 "$pid" 2>/dev/null; then
			diagnose_hang "$pid"
			kill -KILL "$pid" 2>/dev/null
			wait "$pid"
			status=124
			why="no ready line within ${READY_BOUND}s"
		else
			wait "$pid"
			status=$?
			why="hostel exited $status before the ready line"
		fi
		tail -20 "$out"
		cat "$out.err"
		return "$FLAKE"
	fi
	# tail --pid returns when hostel exits; timeout bounds a hung guest.
	if ! timeout "$GUEST_BOUND" tail --pid="$pid" -f /dev/null; then
		diagnose_hang "$pid"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid"
		tail -20 "$out"
		cat "$out.err"
		fail "hostel did not exit within ${GUEST_BOUND}s"
	fi
	wait "$pid"
	status=$?
	return 0
}

# guest_run OUT SCRIPT [hostel run options...]: boot the default guest
# (with $GUEST_CMDLINE added to its command line, if set),
# run SCRIPT (sh) in it, wait for hostel to exit. Sets $status to hostel's
# exit status; the console transcript is in OUT. A boot that dies before
# its ready line fails the test (retried in the test bed: FLAKE).
guest_run() {
	guest_run_once "$@" && return 0
	if [ -n "${HOSTEL_TESTBED:-}" ]; then
		local try
		for try in 2 3; do
			echo "RETRY: nested flake: $why; boot attempt $try"
			guest_run_once "$@" && return 0
		done
	fi
	fail "the guest did not reach its ready line: $why"
}

# retry_part FN: run the test part FN (a shell function) in a subshell; if
# it exits FLAKE in the test bed, run it again (at most twice). Any other
# failure ends the test.
retry_part() {
	local st
	("$1")
	st=$?
	local try
	for try in 2 3; do
		[ "$st" -eq "$FLAKE" ] && [ -n "${HOSTEL_TESTBED:-}" ] || break
		echo "RETRY: nested flake in $1; attempt $try"
		("$1")
		st=$?
	done
	[ "$st" -eq 0 ] && return 0
	[ "$st" -eq "$FLAKE" ] && echo "FAIL: $1: the guest died before its ready line"
	exit 1
}

# The guest's ready line and the status its command returned.
expect_ready() { grep -q -- "$READY_PAT" "$1" || { tail -30 "$1"; cat "$1.err"; fail "no ready line in $1"; }; }
guest_status() { sed -n 's/^hostel-guest: exit-status=\([0-9]*\).*/\1/p' "$1" | tr -d '\r' | tail -1; }

# Console sessions: hostel with its stdin on a fifo, so a test can type.
# session_start OUT [hostel run options...] -> $SPID; fd 3 writes stdin.
session_start() {
	local out=$1
	shift
	rm -f "$TMP/in"
	mkfifo "$TMP/in"
	# Empty the transcript here, not in the background job: a waiter must
	# never see a previous run's lines.
	: >"$out"
	: >"$out.err"
	timeout -k 10 "$GUEST_BOUND" "$HOSTEL" run "$@" <"$TMP/in" >>"$out" 2>>"$out.err" &
	SPID=$!
	SOUT=$out # for diagnostics: the session's console and stderr
	exec 3>"$TMP/in"
}

# wait_for OUT PATTERN [N]: wait (on output, not on time) until PATTERN has
# appeared N times in OUT. tail --pid ends when hostel does, so a dead
# guest cannot hang the wait; that case fails the test, and so does a hung
# guest after WAIT_BOUND seconds.
wait_for() {
	local out=$1 pat=$2 n=${3:-1} got hp
	# Count the matches: grep -q would stop at the first, whatever -m says.
	got=$(timeout "$WAIT_BOUND" tail -n +1 -f --pid="$SPID" "$out" | grep -m "$n" -- "$pat" | wc -l)
	[ "$got" -ge "$n" ] && return 0
	tail -20 "$out"
	cat "$out.err"
	hp=$(pgrep -P "$SPID" hostel)
	if [ -n "$hp" ]; then
		diagnose_hang "$hp"
		kill -KILL "$hp" 2>/dev/null
	fi
	# A boot that died before its ready line: a FLAKE for retry_part.
	if [ "$pat" = "$READY_PAT" ] && [ -n "${HOSTEL_TESTBED:-}" ]; then
		echo "FLAKE: boot $n of this session did not reach its ready line"
		exit "$FLAKE"
	fi
	[ -n "$hp" ] && fail "'$pat' did not appear $n time(s) within ${WAIT_BOUND}s"
	fail "'$pat' appeared $got of $n time(s) before hostel exited"
}

send() { printf '%s\n' "$1" >&3; }

# session_end: close stdin and wait for hostel; sets $status.
session_end() {
	exec 3>&-
	wait "$SPID"
	status=$?
}

# wait_prompt OUT: wait until the Debian image's root shell prompt
# (root@hostel-debian:~#) shows on the console. It
# ends with '# ' and no newline, so wait_for (grep, by lines) cannot see
# it: read the console in pieces that end at '#'. Bounded like wait_for.
wait_prompt() {
	local out=$1
	timeout "$WAIT_BOUND" tail -c +1 -f --pid="$SPID" "$out" | {
		while IFS= read -r -d '#' piece; do
			[[ $piece == *'root@hostel-debian:~' ]] && exit 0
		done
		exit 1
	}
	local st=("${PIPESTATUS[@]}")
	if [ "${st[1]}" -ne 0 ]; then
		tail -20 "$out"
		cat "$out.err"
		if [ "${st[0]}" -eq 124 ]; then
			kill -KILL "$(pgrep -P "$SPID" hostel)" 2>/dev/null
			fail "no shell prompt within ${WAIT_BOUND}s ($out)"
		fi
		fail "no shell prompt before hostel exited ($out)"
	fi
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# await_listening PID LOG WHAT: wait until the server PID has written
# "listening" to LOG, bounded like wait_for; fails naming WHAT otherwise,
# at once when the server dies first.
await_listening() {
	# Count, not grep -q: with pipefail, tail's SIGPIPE would fail the pipe.
	[ "$(timeout "$WAIT_BOUND" tail -n +1 -f --pid="$1" "$2" | grep -m1 listening | wc -l)" -eq 1 ] ||
		fail "$3 did not start: $(cat "$2")"
}

# start_xvfb [WxHxD]: a private Xvfb for this test, killed at its exit, on
# a display number Xvfb picks itself and writes once it accepts
# connections; exported as DISPLAY. A read that ends without one (Xvfb
# died) fails rather than waits.
XPID=
start_xvfb() {
	mkfifo "$TMP/xfd"
	Xvfb -displayfd 4 -screen 0 "${1:-1280x1024x24}" -nolisten tcp -noreset 4>"$TMP/xfd" \
		2>"$TMP/xvfb.log" &
	XPID=$!
	trap '[ -n "$XPID" ] && kill "$XPID" 2>/dev/null; rm -rf "$TMP"' EXIT
	local num
	if ! read -r -t 60 num <"$TMP/xfd" || [ -z "$num" ]; then
		cat "$TMP/xvfb.log"
		fail "Xvfb did not start"
	fi
	export DISPLAY=":$num"
}

# shot_until SOCK PNG TRIES CHECK...: screenshots of the guest's screen
# through the control socket SOCK into PNG, one a second, until the
# command CHECK... succeeds (it may read PNG and $PNG.json, the command's
# answer); a hang guard of TRIES shots, never a timing assertion. A
# refused screenshot fails the test; 1 when CHECK never succeeded.
shot_until() {
	local sock=$1 png=$2 tries=$3 n
	shift 3
	for n in $(seq "$tries"); do
		"$HOSTEL" ctl "$sock" screenshot "$png" >"$png.json" ||
			fail "screenshot: $(cat "$png.json"); hostel's stderr: $(tail -n 5 "${SOUT:-/dev/null}.err" 2>/dev/null); console: $(tail -n 10 "${SOUT:-/dev/null}" 2>/dev/null)"
		"$@" && return 0
		sleep 1 # the polling interval of the hang guard above
	done
	return 1
}
