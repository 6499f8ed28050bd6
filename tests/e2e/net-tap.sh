#!/usr/bin/env bash
# virtio-net on the tap backend (--net tap), in a network namespace of its
# own: hostel runs inside it with two NICs,
#   eth0 on tap hn0, which hostel creates (it does not exist before), and
#   eth1 on tap hn1, a persistent tap the test makes first (attached to).
# The guest pings the namespace over both, fetches a random file from an
# HTTP server in the namespace over eth0 and serves one of its own with
# busybox httpd, which the namespace fetches; both SHA-256s compared; the
# control socket's stats show checksum and TSO offloads negotiated and
# large segments carried both ways. Then
# the test deletes hn1 under the running VM: hostel says so in one line,
# keeps running, and the guest finishes and powers off normally. hn0 goes
# away with hostel (it made it; nothing persistent is left behind).
#
# Needs root (a namespace, taps) and /dev/net/tun: the test bed has both.
. "$(dirname "$0")/lib.sh"
require_kvm
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root for a network namespace and taps"; exit 77; }
command -v ip >/dev/null || fail "no ip command (iproute2; scripts/setup installs it)"
[ -c /dev/net/tun ] || modprobe tun 2>/dev/null
[ -c /dev/net/tun ] || fail "no /dev/net/tun (the tun driver is not loaded)"

part() {
	local out=$TMP/console www=$TMP/www guest_sha host_sha script n
	NS=hostel-e2e-$$-$RANDOM
	rm -rf "$www"
	mkdir -p "$www"
	head -c 300000 /dev/urandom >"$www/blob"
	host_sha=$(sha256sum "$www/blob" | cut -d' ' -f1)

	ip netns add "$NS" || fail "cannot make a network namespace"
	# part runs in a subshell: its EXIT trap cleans up however it ends.
	trap 'kill "$srv" 2>/dev/null; ip netns del "$NS" 2>/dev/null' EXIT
	ip -n "$NS" link set lo up
	ip -n "$NS" tuntap add dev hn1 mode tap || fail "cannot make the persistent tap hn1"
	ip -n "$NS" addr add 10.77.1.1/24 dev hn1
	ip -n "$NS" link set hn1 up
	ip -n "$NS" link show hn0 >/dev/null 2>&1 && fail "hn0 exists before hostel runs"

	# The namespace's HTTP server, on every address of the namespace.
	ip netns exec "$NS" python3 - "$www" >"$TMP/srv.log" 2>&1 <<'PY' &
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(("0.0.0.0", 8080), h)
print("listening", flush=True)
s.serve_forever()
PY
	srv=$!
	await_listening "$srv" "$TMP/srv.log" "the namespace's HTTP server"

	# hostel inside the namespace (session_start runs $HOSTEL).
	printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NS" "$HOSTEL" >"$TMP/hostel-ns"
	chmod +x "$TMP/hostel-ns"

	# The guest waits for the host's side to be configured (a console
	# line), then does each step, printing its line whatever happened.
	script="
read -r word
ip link set eth0 up && ip addr add 10.77.0.2/24 dev eth0 || echo net-error: eth0 setup
ip link set eth1 up && ip addr add 10.77.1.2/24 dev eth1 || echo net-error: eth1 setup
ping -c 3 -W 10 10.77.0.1 >/dev/null && echo net-ping0-ok || echo net-error: ping over eth0
ping -c 3 -W 10 10.77.1.1 >/dev/null && echo net-ping1-ok || echo net-error: ping over eth1
wget -q -O /tmp/blob http://10.77.0.1:8080/blob || echo net-error: wget failed
echo net-fetched: \$(sha256sum /tmp/blob | cut -d' ' -f1)
mkdir -p /www
head -c 250000 /dev/urandom >/www/gblob
echo net-served: \$(sha256sum /www/gblob | cut -d' ' -f1)
httpd -p 80 -h /www || echo net-error: httpd failed
echo net-httpd-up
read -r word
echo net-done: \$word
"
	HOSTEL=$TMP/hostel-ns session_start "$out" --net tap,ifname=hn0 --net tap,ifname=hn1 \
		--api-socket "$TMP/api.sock" \
		--cmdline "hostel.cmd=$(b64 "$script")"
	wait_for "$out" "$READY_PAT"
	# The board (and so hn0) exists before the guest runs.
	ip -n "$NS" link show hn0 >/dev/null || fail "hostel did not create the tap hn0"
	ip -n "$NS" addr add 10.77.0.1/24 dev hn0
	ip -n "$NS" link set hn0 up
	send "configured"
	wait_for "$out" '^net-httpd-up'

	grep -q 'net-error' "$out" && fail "in the guest: $(grep net-error "$out")"
	grep -q '^net-ping0-ok' "$out" && grep -q '^net-ping1-ok' "$out" || fail "pings: $(grep net-ping "$out")"
	grep -q "^net-fetched: $host_sha" "$out" ||
		fail "guest fetched $(grep net-fetched "$out"), the namespace's file $host_sha"
	pass "net-tap: the guest pinged the namespace over a created and a persistent tap, fetched 300000 bytes, SHA-256 matches"

	ip netns exec "$NS" python3 - "$TMP/gblob" <<'PY' || fail "fetching from the guest failed"
import sys, urllib.request
with urllib.request.urlopen("http://10.77.0.2/gblob", timeout=120) as r:
    open(sys.argv[1], "wb").write(r.read())
PY
	guest_sha=$(sed -n 's/^net-served: \([0-9a-f]*\).*/\1/p' "$out" | tr -d '\r')
	[ -n "$guest_sha" ] && [ "$(sha256sum "$TMP/gblob" | cut -d' ' -f1)" = "$guest_sha" ] ||
		fail "the namespace fetched $(sha256sum "$TMP/gblob"), the guest served $guest_sha"
	pass "net-tap: the namespace fetched 250000 bytes from the guest's httpd, SHA-256 matches"

	# Offloads: the guest took checksum and TSO offloads both ways, and
	# both transfers above used them (large TCP segments through eth0).
	stats=$("$HOSTEL" ctl "$TMP/api.sock" stats) || fail "stats failed"
	python3 - "$stats" <<'PY' || fail "offloads: $stats"
import json, sys
n = json.loads(sys.argv[1])["nics"][0]
f = int(n["features"], 16)
for bit, name in ((0, "CSUM"), (1, "GUEST_CSUM"), (7, "GUEST_TSO4"), (11, "HOST_TSO4")):
    assert f >> bit & 1, "%s not negotiated" % name
assert n["tx_gso"] > 0 and n["rx_gso"] > 0, n
assert n["tx_dropped"] == 0, n
PY
	pass "net-tap: checksum and TSO offloads negotiated and used both ways: $(python3 -c 'import json,sys; n=json.loads(sys.argv[1])["nics"][0]; print("tx_gso", n["tx_gso"], "rx_gso", n["rx_gso"])' "$stats")"

	# hn1 disappears under the running VM: one line, and the VM goes on.
	ip -n "$NS" link del hn1 || fail "cannot delete hn1"
	wait_for "$out.err" 'net tap hn1: .*this NIC is disconnected, the VM goes on'
	send "fetched"
	wait_for "$out" '^net-done: fetched'
	session_end
	[ "$status" -eq 0 ] || { tail -20 "$out"; cat "$out.err"; fail "hostel exited $status"; }
	n=$(grep -c 'net tap hn1' "$out.err")
	[ "$n" -eq 1 ] || fail "hostel said $n lines about hn1 going away, want 1: $(cat "$out.err")"
	grep -q 'net-error' "$out" && fail "in the guest: $(grep net-error "$out")"
	ip -n "$NS" link show hn0 >/dev/null 2>&1 && fail "hn0, made by hostel, outlived it"
	pass "net-tap: hn1 deleted under the VM: one error line, the guest finished and powered off (status 0)"
}
retry_part part
