#!/usr/bin/env bash
# virtio-net on the user-mode backend (--net user, libslirp): the default
# guest gets 10.0.2.15 from DHCP with busybox udhcpc, fetches a file from
# an HTTP server this test runs on the host's loopback (reached as
# 10.0.2.2) and checks its SHA-256; then serves a file of its own with
# busybox httpd, which the host fetches through a hostfwd port and checks
# the same way. Both files are random, so a match cannot be an accident.
# Over IPv6 too: the guest takes an address of fec0::/64 from libslirp's
# router advertisements and fetches the file again from fec0::2, the
# host's loopback (::1). Two guest-side forwards (guestfwd): the guest fetches the host's file
# again from 10.0.2.100, which hostel joins to the host server's Unix
# socket, and a token from 10.0.2.101:7, joined to a command's output.
. "$(dirname "$0")/lib.sh"
require_kvm

part() {
	local out=$TMP/console www=$TMP/www hp hp6 fp guest_sha host_sha script tok
	rm -rf "$www"
	mkdir -p "$www"
	head -c 300000 /dev/urandom >"$www/blob"
	host_sha=$(sha256sum "$www/blob" | cut -d' ' -f1)

	# The host's server, on loopback only: it says "listening" once bound.
	hp=$(free_port)
	rm -f "$TMP/www.sock"
	python3 - "$www" "$hp" "$TMP/www.sock" >"$TMP/srv.log" 2>&1 <<'PY' &
import functools, http.server, socket, socketserver, sys, threading
class H(http.server.SimpleHTTPRequestHandler):
    def address_string(self):
        return "unix" if isinstance(self.client_address, str) else super().address_string()
class U(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
h = functools.partial(H, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), h)
u = U(sys.argv[3], h)
threading.Thread(target=u.serve_forever, daemon=True).start()
class S6(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
v6 = S6(("::1", 0), h)
threading.Thread(target=v6.serve_forever, daemon=True).start()
print("port6", v6.server_address[1], flush=True)
print("listening", flush=True)
s.serve_forever()
PY
	srv=$!
	# part runs in a subshell: its own EXIT trap stops the server however it ends.
	trap 'kill "$srv" 2>/dev/null' EXIT
	await_listening "$srv" "$TMP/srv.log" "the host's HTTP server"

	hp6=$(sed -n 's/^port6 \([0-9]*\)$/\1/p' "$TMP/srv.log")
	[ -n "$hp6" ] || fail "the host's server has no IPv6 port: $(cat "$TMP/srv.log")"
	fp=$(free_port)
	# In the guest: DHCP, fetch and check the host's file, serve one of its
	# own, then wait until the host says (on the console) that it fetched
	# it. Each step prints its line whatever happened, so a failing step
	# shows which one.
	script="
echo net-step: udhcpc
udhcpc -i eth0 -q -n -t 10 -T 3 >/dev/null 2>&1 || echo net-error: udhcpc failed
echo net-ip: \$(ip -4 addr show dev eth0 | sed -n 's/.*inet \([0-9./]*\).*/\1/p')
wget -q -O /tmp/blob http://10.0.2.2:$hp/blob || echo net-error: wget failed
echo net-fetched: \$(sha256sum /tmp/blob | cut -d' ' -f1)
i=0
while [ \$i -lt 30 ] && ! ip -6 addr show dev eth0 | grep 'inet6 fec0:' | grep -qv tentative; do sleep 1; i=\$((i + 1)); done
echo net-ip6: \$(ip -6 addr show dev eth0 | sed -n 's/.*inet6 \\(fec0:[0-9a-f:]*\\).*/\\1/p')
wget -q -O /tmp/blob6 http://[fec0::2]:$hp6/blob || echo net-error: wget over IPv6 failed
echo net-fetched6: \$(sha256sum /tmp/blob6 | cut -d' ' -f1)
wget -q -O /tmp/ublob http://10.0.2.100/blob || echo net-error: wget through guestfwd unix failed
echo net-unix-fetched: \$(sha256sum /tmp/ublob | cut -d' ' -f1)
echo net-cmd-got: \$(wget -q -O - http://10.0.2.101:7/ || echo net-error: wget through guestfwd cmd failed)
mkdir -p /www
head -c 250000 /dev/urandom >/www/gblob
echo net-served: \$(sha256sum /www/gblob | cut -d' ' -f1)
httpd -p 80 -h /www || echo net-error: httpd failed
echo net-httpd-up
read -r word
echo net-done: \$word
"
	# The command forward's command: it reads the whole request first (a
	# Unix socket closed with unread data resets the connection).
	tok=token-$RANDOM$RANDOM
	printf '#!/bin/sh\nsed "/^\\r\\?$/q" >/dev/null\nprintf "HTTP/1.0 200 OK\\r\\n\\r\\n%%s" %s\n' "$tok" >"$TMP/cmd.sh"
	chmod +x "$TMP/cmd.sh"
	session_start "$out" --net "user,hostfwd=tcp:127.0.0.1:$fp-:80,guestfwd=tcp:10.0.2.100:80-unix:$TMP/www.sock,guestfwd=10.0.2.101:7-cmd:$TMP/cmd.sh" \
		--cmdline "hostel.cmd=$(b64 "$script")"
	wait_for "$out" "$READY_PAT"
	wait_for "$out" '^net-httpd-up'

	grep -q 'net-error' "$out" && { tail -n 60 "$out"; fail "in the guest: $(grep '^net-' "$out")"; }
	grep -q '^net-ip: 10\.0\.2\.15/24' "$out" || { fail "DHCP: $(grep net-ip "$out")"; }
	grep -q "^net-fetched: $host_sha" "$out" ||
		{ fail "guest fetched $(grep net-fetched "$out"), host file $host_sha"; }
	pass "net: udhcpc got 10.0.2.15; the guest fetched 300000 bytes from the host, SHA-256 matches"
	grep -q '^net-ip6: fec0:' "$out" || { fail "IPv6: no fec0::/64 address: $(grep net-ip6 "$out")"; }
	grep -q "^net-fetched6: $host_sha" "$out" ||
		{ fail "IPv6: the guest got $(grep net-fetched6 "$out"), host file $host_sha"; }
	pass "net: IPv6: $(sed -n 's/^net-ip6: //p' "$out" | tr -d '\r') from libslirp's router advertisement; the same file from fec0::2 (the host's ::1), SHA-256 matches"
	grep -q "^net-unix-fetched: $host_sha" "$out" ||
		{ fail "guestfwd unix: the guest got $(grep net-unix-fetched "$out"), host file $host_sha"; }
	pass "net: guestfwd to a host Unix socket: the same file from 10.0.2.100, SHA-256 matches"
	grep -q "^net-cmd-got: $tok" "$out" || { fail "guestfwd cmd: $(grep net-cmd-got "$out"), want $tok"; }
	pass "net: guestfwd to a command: its output reached the guest"

	# Through the forward, from the host.
	python3 - "$fp" "$TMP/gblob" <<'PY' || { fail "fetching through hostfwd failed"; }
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/gblob" % sys.argv[1], timeout=120) as r:
    open(sys.argv[2], "wb").write(r.read())
PY
	guest_sha=$(sed -n 's/^net-served: \([0-9a-f]*\).*/\1/p' "$out" | tr -d '\r')
	[ -n "$guest_sha" ] && [ "$(sha256sum "$TMP/gblob" | cut -d' ' -f1)" = "$guest_sha" ] ||
		{ fail "host fetched $(sha256sum "$TMP/gblob"), guest served $guest_sha"; }
	pass "net: the host fetched 250000 bytes from the guest's httpd through hostfwd, SHA-256 matches"

	send "fetched"
	wait_for "$out" '^net-done: fetched'
	session_end
	[ "$status" -eq 0 ] || { tail -20 "$out"; cat "$out.err"; fail "hostel exited $status"; }
	grep -q 'net-error' "$out" && fail "in the guest: $(grep net-error "$out")"
	pass "net: the guest finished and powered off (status 0)"
}
retry_part part
