#!/usr/bin/env bash
# hostel exec: the command's status, stdout and stderr come back separately
# and complete; --timeout ends a hung guest with 85 and its last console
# lines; a guest panic during exec gives 83; --serial-log keeps the
# console; --ready reports the ready line.
. "$(dirname "$0")/lib.sh"
require_kvm

# xrun OUT ARGS...: hostel exec ARGS with a hang guard; sets $status.
xrun() {
	local out=$1
	shift
	timeout -k 10 "$GUEST_BOUND" "$HOSTEL" exec "$@" </dev/null >"$out" 2>"$out.err"
	status=$?
	[ "$status" -ne 124 ] || { cat "$out.err"; fail "hostel exec did not end within ${GUEST_BOUND}s"; }
}

xrun "$TMP/o" --serial-log "$TMP/serial" --ready '^hostel-guest: ready' -v --report "$TMP/r.json" -- \
	sh -c 'echo to-stdout; echo to-stderr >&2; exit 42'
[ "$status" -eq 42 ] || { cat "$TMP/o.err"; fail "exit 42: hostel exited $status"; }
[ "$(cat "$TMP/o")" = to-stdout ] || fail "stdout is '$(cat "$TMP/o")'"
grep -qx to-stderr "$TMP/o.err" || fail "stderr lacks the command's line: $(cat "$TMP/o.err")"
grep -q to-stderr "$TMP/o" && fail "stderr leaked into stdout"
grep -q 'Linux version 6\.' "$TMP/serial" || fail "--serial-log has no boot messages"
grep -q 'ready after [0-9.]* s: hostel-guest: ready' "$TMP/o.err" || fail "--ready: $(cat "$TMP/o.err")"
pass "exec: status 42, stdout and stderr apart, serial log and ready line kept"

# The report: valid JSON, every field there, the times in order.
python3 - "$TMP/r.json" <<'PY' || fail "report: $(cat "$TMP/r.json")"
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("hostel_version", "command", "machine", "started_at", "times_s", "boots",
          "exit", "stats", "console_tail", "exec_command", "ready_line"):
    assert k in r, k
t = r["times_s"]
order = [t[k] for k in ("vmm_start", "first_guest_instruction", "first_console_byte", "ready", "end")]
assert all(isinstance(x, (int, float)) for x in order), order
assert order == sorted(order), order
assert r["command"] == "exec" and r["boots"] == 1
assert r["exit"]["status"] == 42 and r["exit"]["command_status"] == 42, r["exit"]
assert r["exit"]["reason"] == "command", r["exit"]
# No writable disk: hostel stops the guest at the status line.
assert r["exit"]["detail"] == "exec: the command reported its status", r["exit"]
assert r["machine"]["cpus"] == 1 and r["machine"]["memory"] == "512M", r["machine"]
v = r["stats"]["vcpus"][0]
assert v["exits"] >= v["io"] > 0, v
assert any(d["base"] == "0x3f8" and d["writes"] > 0 for d in r["stats"]["devices"])
assert r["ready_line"].startswith("hostel-guest: ready")
PY
pass "exec --report: valid JSON, all fields, times in order"

# With a writable disk the guest's own power-off ends the run (its sync
# makes the disk complete); with the console going nowhere the kernel gets
# quiet first (the first word of /proc/cmdline).
# The command also writes the disk's first bytes and syncs them: the report
# counts the disk's requests.
truncate -s 1M "$TMP/w.img"
xrun "$TMP/o" --disk "$TMP/w.img" --report "$TMP/w.json" -- \
	sh -c 'cat /proc/cmdline; printf hostel-disk | dd of=/dev/vda conv=fsync 2>/dev/null'
[ "$status" -eq 0 ] || { cat "$TMP/o.err"; fail "writable disk: hostel exited $status"; }
[ "$(cut -d' ' -f1 "$TMP/o")" = quiet ] || fail "console none: no quiet first: $(cat "$TMP/o")"
[ "$(head -c 11 "$TMP/w.img")" = hostel-disk ] || fail "the guest's write is not in the image"
python3 - "$TMP/w.json" "$TMP/w.img" <<'PY' || fail "writable disk: $(cat "$TMP/w.json")"
import json, sys
r = json.load(open(sys.argv[1]))
e = r["exit"]
assert e["reason"] == "command" and e["command_status"] == 0, e
assert e["detail"] == "the guest powered off", e
d = r["stats"]["disks"]
assert len(d) == 1 and d[0]["name"] == "vda" and d[0]["path"] == sys.argv[2], d
d = d[0]
assert d["writes"] > 0 and d["write_bytes"] >= 512 and d["flushes"] > 0, d
assert d["reads"] > 0 and d["io_errors"] == d["rejected"] == d["unsupported"] == 0, d
PY
pass "exec: quiet when the console goes nowhere; a writable disk waits for the power-off; the report counts its write, flush and reads"

# junit FILE ST: FILE is a JUnit report of one test that passed (ST 0) or failed.
junit() {
	python3 - "$1" "$2" <<'PY' || fail "junit report: $(cat "$1")"
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
assert s.get("tests") == "1"
assert s.get("failures") == ("0" if sys.argv[2] == "0" else "1"), s.attrib
assert (s.find("testcase/failure") is None) == (sys.argv[2] == "0")
PY
}

xrun "$TMP/o" --report "$TMP/r.xml" --report-format junit -- sh -c "exit 1"
[ "$status" -eq 1 ] || fail "exit 1: hostel exited $status"
junit "$TMP/r.xml" 1
pass "exec: status 1 passes through; JUnit report says so"

# A command killed by a signal: the shell's 128 + N, as in a terminal.
xrun "$TMP/o" -- sh -c 'kill -KILL $$'
[ "$status" -eq 137 ] || fail "killed by SIGKILL: hostel exited $status, want 137"
pass "exec: a command killed by SIGKILL -> 137"

# 10 MB on stdout and a marker on stderr, byte for byte (a raw tty: no \r).
# Status 0 and its JUnit report are checked on this run too.
xrun "$TMP/o" --report "$TMP/r0.xml" --report-format junit -- \
	sh -c 'head -c 10000000 /dev/zero | tr "\000" x; echo done >&2'
[ "$status" -eq 0 ] || fail "10 MB: hostel exited $status"
junit "$TMP/r0.xml" 0
[ "$(wc -c <"$TMP/o")" -eq 10000000 ] || fail "10 MB: stdout has $(wc -c <"$TMP/o") bytes"
[ "$(tr -d x <"$TMP/o" | wc -c)" -eq 0 ] || fail "10 MB: stdout has bytes other than x"
grep -qx done "$TMP/o.err" || fail "10 MB: stderr marker missing"
pass "exec: status 0 passes through (JUnit report says so); 10 MB of stdout arrive complete and unchanged"

# A guest that never ends: --timeout stops it with 85 and the last lines.
xrun "$TMP/o" --timeout 60s -- sh -c 'echo about-to-hang > /dev/console; sleep 100000'
[ "$status" -eq 85 ] || fail "--timeout: hostel exited $status, want 85"
grep -q 'timed out after 60.0 s' "$TMP/o.err" || fail "--timeout: $(cat "$TMP/o.err")"
grep -q 'about-to-hang' "$TMP/o.err" || fail "--timeout: the last console lines are missing"
pass "exec --timeout 60s on a hung guest -> 85 with the last console lines"

# A guest kernel panic during the command: the panic code, not a status.
xrun "$TMP/o" -- sh -c 'echo c > /proc/sysrq-trigger'
[ "$status" -eq 83 ] || fail "panic: hostel exited $status, want 83"
pass "exec: a guest panic during the command -> 83"

# Usage errors: no command.
"$HOSTEL" exec --memory 256M </dev/null >"$TMP/o" 2>"$TMP/o.err"
[ $? -eq 2 ] && grep -q 'needs a command' "$TMP/o.err" || fail "exec without a command"
pass "exec without a command: usage error 2"
