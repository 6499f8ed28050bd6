#!/usr/bin/env bash
# virtio-net in the Debian image (images/debian.sh) on the user-mode
# backend, in one boot: udev loads virtio_net from the image's module tree,
# systemd-networkd gets 10.0.2.15 by DHCP from libslirp (no hand-run DHCP
# client: the image's own configuration, images/debian/rootfs/etc/systemd/
# network/); the guest fetches a random file from an HTTP server this test
# runs on the host's loopback (reached as 10.0.2.2) with busybox wget, and
# serves one of its own with busybox httpd, which the host fetches through
# a hostfwd port. Both SHA-256s are compared: a match cannot be an accident.
# Then the guest powers off and hostel exits 0.
#
# The image is booted with ,snapshot: the cache is never written. Commands
# are typed into root's autologin shell on ttyS0 once its prompt shows.
. "$(dirname "$0")/lib.sh"
require_kvm

cache=${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}
kernel=$cache/kernel/vmlinuz
initrd=$cache/debian/debian-initrd.img
image=$cache/debian/debian.img
for f in "$kernel" "$initrd" "$image"; do
	[ -f "$f" ] || {
		echo "SKIP: no $f (build the Debian image with images/debian.sh; scripts/test does)"
		exit 77
	}
done

# run OUT WORD CMD: type CMD, then a line that prints "WORD-done" (the
# typed text reads WORD-'done', so the echo of the input does not match),
# and wait for it.
run() {
	send "$3"
	send "echo $2-'done'"
	wait_for "$1" "$2-done"
}

# What the guest runs once its shell is up, one line of output per step
# whatever happened, so a failing step shows which one. networkd's
# wait-online (masked as a unit, so boot never waits for it) is run by hand
# here: it returns once some link is configured, or fails after its
# timeout, a hang guard. The NIC is found by its driver, whatever udev
# named it. $1: the host server's port.
guest_script='hp=$1
/lib/systemd/systemd-networkd-wait-online --any -4 --timeout=240 >/dev/null 2>&1 || echo "net-error: networkd configured no link"
nic=; for d in /sys/class/net/*; do [ "$(basename "$(readlink -f "$d/device/driver" 2>/dev/null)")" = virtio_net ] && nic=${d##*/}; done
echo "net-nic: name=${nic:-none} module=$([ -d /sys/module/virtio_net ] && echo loaded || echo missing)"
echo "net-addr: $(ip -4 -o addr show dev "${nic:-lo}" | sed -n "s/.* inet \([0-9./]*\) .*/\1/p") $(ip -4 -o addr show dev "${nic:-lo}" | grep -o -w dynamic)"
echo "net-route: $(ip -4 route show default | cut -d" " -f1-3)"
st=/run/systemd/netif/links/$(cat "/sys/class/net/${nic:-lo}/ifindex")
echo "net-networkd: $(sed -n "s/^OPER_STATE=//p" "$st") $(sed -n "s/^ADMIN_STATE=//p" "$st") lease=$([ -s "/run/systemd/netif/leases/${st##*/}" ] && echo yes || echo no)"
busybox wget -q -O /tmp/blob "http://10.0.2.2:$hp/blob" || echo "net-error: wget failed"
echo "net-fetched: $(sha256sum </tmp/blob | cut -d" " -f1)"
mkdir -p /tmp/www && head -c 250000 /dev/urandom >/tmp/www/gblob
echo "net-served: $(sha256sum </tmp/www/gblob | cut -d" " -f1)"
busybox httpd -p 80 -h /tmp/www || echo "net-error: httpd failed"
'

# bad WHAT: fail with the console's last lines, which show the guest's side.
bad() {
	tail -40 "$TMP/console" | tr -d '\r'
	fail "$@"
}

# field OUT NAME: the rest of the guest's "NAME: ..." line, without the CR.
# Not anchored at the line's start: bash's bracketed-paste switch (ESC
# [?2004l) comes before the first line a command prints.
field() { grep -a -o "$2: .*" "$1" | tail -1 | sed "s/^$2: //" | tr -d '\r'; }

part() {
	local out=$TMP/console www=$TMP/www hp fp host_sha guest_sha srv
	rm -rf "$www"
	mkdir -p "$www"
	head -c 300000 /dev/urandom >"$www/blob"
	host_sha=$(sha256sum "$www/blob" | cut -d' ' -f1)

	# The host's server, on loopback only: it says "listening" once bound.
	hp=$(free_port)
	python3 - "$www" "$hp" >"$TMP/srv.log" 2>&1 <<'PY' &
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), h)
print("listening", flush=True)
s.serve_forever()
PY
	srv=$!
	# part runs in a subshell: its own EXIT trap stops the server however it ends.
	trap 'kill "$srv" 2>/dev/null' EXIT
	await_listening "$srv" "$TMP/srv.log" "the host's HTTP server"

	fp=$(free_port)
	session_start "$out" --kernel "$kernel" --initrd "$initrd" --memory 512M \
		--disk "$image,snapshot" --net "user,hostfwd=tcp:127.0.0.1:$fp-:80" \
		--cmdline root=/dev/vda
	wait_for "$out" "$READY_PAT"
	wait_prompt "$out"

	# The script goes in as base64 on one typed line: no shell quoting of
	# its own lines on the way through the console.
	run "$out" net "echo $(printf '%s' "$guest_script" | base64 -w0) | base64 -d >/tmp/net.sh && sh /tmp/net.sh $hp"

	grep -a -q 'net-error: ' "$out" && bad "in the guest: $(grep -a -o 'net-error: .*' "$out" | tr -d '\r')"
	[[ $(field "$out" net-nic) == 'name='*' module=loaded' && $(field "$out" net-nic) != 'name=none '* ]] ||
		bad "virtio_net: $(field "$out" net-nic), want a NIC bound to the loaded virtio_net driver"
	[ "$(field "$out" net-addr)" = '10.0.2.15/24 dynamic' ] ||
		bad "DHCP: the NIC has '$(field "$out" net-addr)', want 10.0.2.15/24 from DHCP (dynamic)"
	[ "$(field "$out" net-route)" = 'default via 10.0.2.2' ] ||
		bad "DHCP: default route '$(field "$out" net-route)', want via 10.0.2.2"
	# networkd's own state file for the link, and its DHCP lease file.
	[ "$(field "$out" net-networkd)" = 'routable configured lease=yes' ] ||
		bad "networkd: the link is '$(field "$out" net-networkd)', want routable configured lease=yes"
	pass "net-debian: virtio_net loaded by udev; systemd-networkd got 10.0.2.15/24 and the default route by DHCP ($(field "$out" net-nic))"

	[ "$(field "$out" net-fetched)" = "$host_sha" ] ||
		bad "the guest fetched $(field "$out" net-fetched), the host's file is $host_sha"
	pass "net-debian: the guest fetched 300000 bytes from the host (10.0.2.2) with wget, SHA-256 matches"

	# Through the forward, from the host.
	python3 - "$fp" "$TMP/gblob" <<'PY' || fail "fetching through hostfwd failed"
import sys, urllib.request
with urllib.request.urlopen("http://127.0.0.1:%s/gblob" % sys.argv[1], timeout=120) as r:
    open(sys.argv[2], "wb").write(r.read())
PY
	guest_sha=$(field "$out" net-served)
	[ -n "$guest_sha" ] && [ "$(sha256sum "$TMP/gblob" | cut -d' ' -f1)" = "$guest_sha" ] ||
		fail "the host fetched $(sha256sum "$TMP/gblob"), the guest served $guest_sha"
	pass "net-debian: the host fetched 250000 bytes from the guest's httpd through hostfwd, SHA-256 matches"

	send poweroff
	session_end
	[ "$status" -eq 0 ] || {
		tail -20 "$out"
		cat "$out.err"
		fail "hostel exited $status after poweroff, want 0"
	}
	pass "net-debian: the guest powered off, hostel exited 0"
}
retry_part part
