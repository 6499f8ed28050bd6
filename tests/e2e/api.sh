#!/usr/bin/env bash
# The control socket (--api-socket, hostel ctl) on the default guest: the
# socket's mode, status, stats, pause stopping the guest's clock-driven
# output and resume restarting it, bad requests answered with the
# connection still usable, power-button -> clean shutdown -> 0, stop -> 0.
. "$(dirname "$0")/lib.sh"
require_kvm
command -v python3 >/dev/null || fail "python3 is needed for the raw-socket checks"

SOCK=$TMP/api.sock
# A counter on the console every 0.2 s of guest time, forever.
# Each tick carries the guest's uptime (its clock, kvm-clock).
TICKER=$(b64 'i=0; while :; do i=$((i+1)); read -r up _ </proc/uptime; echo tick-$i $up; sleep 0.2; done')

ctl() { "$HOSTEL" ctl "$SOCK" "$@"; }
ticks() { grep -c '^tick-' "$TMP/out"; }

# raw LINES...: send each argument as raw bytes (Python escapes allowed)
# on ONE connection, each followed by reading one response line, printed.
# "HALF:" sends without a newline and closes without reading.
raw() {
	python3 - "$SOCK" "$@" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(120)
s.connect(sys.argv[1])
f = s.makefile('rb')
for a in sys.argv[2:]:
    if a.startswith('HALF:'):
        s.sendall(a[5:].encode())
        s.close()
        sys.exit(0)
    if a.startswith('BIG:'):
        s.sendall(b'x' * int(a[4:]) + b'\n')
    else:
        s.sendall(a.encode() + b'\n')
    sys.stdout.write(f.readline().decode())
PY
}

main_session() {
	# A read-only disk: the kernel's partition scan reads it at probe.
	truncate -s 1M "$TMP/api.img"
	session_start "$TMP/out" --api-socket "$SOCK" --disk "$TMP/api.img,readonly" --cmdline "hostel.cmd=$TICKER"
	wait_for "$TMP/out" "$READY_PAT"
	wait_for "$TMP/out" '^tick-3\>'

	[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), want 600"
	[ -S "$SOCK" ] || fail "$SOCK is not a socket"
	pass "the socket is there with mode 0600"

	st=$(ctl status) || fail "status failed"
	python3 -c 'import json,sys; r=json.loads(sys.argv[1]); assert r["state"]=="running" and r["boots"]==1 and r["vcpus"]==1 and r["memory"]==512*1024*1024 and r["uptime_ms"]>0, r' "$st" ||
		fail "status: $st"
	pass "status: $st"

	stats=$(ctl stats) || fail "stats failed"
	python3 - "$stats" "$TMP/api.img" <<'PY' || fail "stats: $stats"
import json, sys
r = json.loads(sys.argv[1])
v = r["vcpus"][0]
assert v["exits"] > 0 and v["io"] > 0, v
assert any(d["bus"] == "pio" and d["base"] == "0x3f8" and d["writes"] > 0 for d in r["devices"]), r["devices"]
assert len(r["disks"]) == 1, r["disks"]
d = r["disks"][0]
assert d["name"] == "vda" and d["path"] == sys.argv[2], d
assert d["reads"] > 0 and d["read_bytes"] >= 512 * d["reads"], d
assert d["writes"] == d["io_errors"] == d["rejected"] == 0, d
PY
	pass "stats: per-vCPU exits, the UART's writes, the disk's reads"

	ctl pause >/dev/null || fail "pause failed"
	ctl pause >/dev/null || fail "a second pause is not a no-op success"
	ctl status | grep -q '"state":"paused"' || fail "status after pause: $(ctl status)"
	# Measurement windows, not synchronisation: pause has returned, so
	# every vCPU is parked; the first second lets console bytes the guest
	# wrote before it drain through hostel, the next two are the window in
	# which a running guest prints about ten ticks (0.2 s of guest time
	# each). A pause that did not stop the guest fails here.
	sleep 1
	n1=$(ticks)
	sleep 2
	n2=$(ticks)
	[ "$n1" -eq "$n2" ] || fail "paused guest printed: $n1 -> $n2 ticks"
	pass "pause: no output for 2 s (at tick $n1)"

	ctl resume >/dev/null || fail "resume failed"
	ctl resume >/dev/null || fail "a second resume is not a no-op success"
	ctl status | grep -q '"state":"running"' || fail "status after resume"
	wait_for "$TMP/out" "^tick-$((n2 + 3))\>"
	pass "resume: the counter goes on (tick-$((n2 + 3)))"
	# The guest's clock stood still while paused: between the last tick
	# before the pause and the first after it, the guest saw one 0.2 s
	# sleep and a little work, not the 3 s (and more) the pause lasted.
	up() { sed -n "s/^tick-$1 \([0-9.]*\).*/\1/p" "$TMP/out" | tr -d '\r' | head -1; }
	u1=$(up "$n2") u2=$(up $((n2 + 1)))
	[ -n "$u1" ] && [ -n "$u2" ] || fail "no uptime on ticks $n2 and $((n2 + 1))"
	awk -v a="$u1" -v b="$u2" 'BEGIN { exit !(b - a < 2.5) }' ||
		fail "the guest's clock ran on while paused: uptime $u1 -> $u2"
	pass "pause holds the guest's clock: uptime $u1 -> $u2 across a 3 s pause"

	# Bad requests on one connection, each answered, the connection usable.
	out=$(raw '{not json' '{"id":2,"command":"paws"}' 'BIG:70000' \
		'{"id":3,"command":"status","args":{"x":1}}' '{"id":4,"command":"status"}') ||
		fail "raw session failed"
	echo "$out"
	[ "$(echo "$out" | wc -l)" -eq 5 ] || fail "want 5 responses"
	echo "$out" | sed -n 1p | grep -q '"id":null,"ok":false,"error":{"code":"invalid-json"' || fail "malformed JSON"
	echo "$out" | sed -n 2p | grep -q '"id":2,"ok":false,"error":{"code":"unknown-command"' || fail "unknown command"
	echo "$out" | sed -n 3p | grep -q '"code":"line-too-long"' || fail "oversized request"
	echo "$out" | sed -n 4p | grep -q '"id":3,"ok":false,"error":{"code":"invalid-args"' || fail "bad args"
	echo "$out" | sed -n 5p | grep -q '"id":4,"ok":true,"result":{"state":"running"' || fail "status after errors"
	pass "malformed, unknown, oversized, bad-args requests answered; connection still usable"

	raw 'HALF:{"id":5,"command":"sto' || fail "half-sent request"
	ctl status | grep -q '"state":"running"' || fail "hostel after a half-sent request"
	pass "a half-sent request, then disconnect: harmless (not executed)"

	err=$(ctl screenshot '{"path":"/tmp/x.ppm"}' 2>&1 >/dev/null)
	[ $? -eq 1 ] || fail "screenshot: want exit 1"
	echo "$err" | grep -q 'unavailable: no display' || fail "screenshot: $err"
	err=$(ctl paws 2>&1)
	[ $? -eq 1 ] || fail "ctl unknown command: want exit 1"
	pass "ctl: error responses exit 1 ($err)"

	ctl power-button >/dev/null || fail "power-button failed"
	session_end
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; cat "$TMP/out.err"; fail "power-button: hostel exited $status, want 0"; }
	grep -q 'hostel-guest: power button' "$TMP/out" || fail "the guest did not see the power button"
	grep -q 'reboot: Power down' "$TMP/out" || fail "the guest did not shut down cleanly"
	[ -e "$SOCK" ] && fail "the socket file is still there after exit"
	ctl status 2>/dev/null
	[ $? -eq 80 ] || fail "ctl on a gone socket: want 80"
	pass "power-button -> clean shutdown -> 0; socket removed; ctl then exits 80"
}
retry_part main_session

stop_session() {
	# A read-only disk: the kernel's partition scan reads it at probe.
	truncate -s 1M "$TMP/api.img"
	session_start "$TMP/out" --api-socket "$SOCK" --disk "$TMP/api.img,readonly" --cmdline "hostel.cmd=$TICKER"
	wait_for "$TMP/out" "$READY_PAT"
	wait_for "$TMP/out" '^tick-1\>'
	ctl pause >/dev/null || fail "pause failed"
	ctl stop >/dev/null || fail "stop failed"
	session_end
	[ "$status" -eq 0 ] || { cat "$TMP/out.err"; fail "stop: hostel exited $status, want 0"; }
	grep -q 'reboot: Power down' "$TMP/out" && fail "stop was not a hard stop"
	pass "stop while paused -> hard stop -> 0"
}
retry_part stop_session

# Something that is not a stale socket at PATH: refused before booting.
: >"$TMP/file"
"$HOSTEL" run --api-socket "$TMP/file" </dev/null >/dev/null 2>"$TMP/err"
st=$?
[ "$st" -eq 2 ] || fail "--api-socket on a regular file: exit $st, want 2"
grep -q 'exists and is not a socket' "$TMP/err" || fail "--api-socket on a file: $(cat "$TMP/err")"
pass "--api-socket on a regular file -> 2: $(cat "$TMP/err")"
