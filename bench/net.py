#!/usr/bin/env python3
"""Network benchmark: iperf3 and ping in the Debian guest, hostel vs
qemu-system-x86_64 -accel kvm with virtio-net-pci, same run.

Both VMMs boot the same kernel (images/kernel.sh), the Debian image's
initrd and disk (images/debian.sh, with iperf3 and ping; the disk in
snapshot mode, so the cache is never written), the same memory and vCPUs,
with two virtio-net NICs each:
  user  the user-mode backend (libslirp in both VMMs): hostel
        --net user,hostfwd=tcp:127.0.0.1:PORT-:5201; QEMU -netdev user with
        the same hostfwd on virtio-net-pci (what -nic user,model=virtio-net-pci
        gives). The guest gets 10.0.2.15 by DHCP (systemd-networkd).
  tap   a tap the benchmark makes on this machine (192.168.100.1/24 on the
        host side, 192.168.100.2 in the guest, set by hand after networkd is
        stopped): hostel --net tap,ifname=NAME; QEMU -netdev tap (script=no,
        vhost=off: QEMU's default, its own userspace datapath) on
        virtio-net-pci. Needs root and /dev/net/tun (the test bed has both);
        --modes user skips it.
Boots alternate between the VMMs, one guest at a time. In each boot the
guest runs `iperf3 -s`, and for each mode, from this machine:
  host->guest  iperf3 -c ADDR -t T -O 1            (Mbit/s, received)
  guest->host  iperf3 -c ADDR -t T -O 1 -R         (Mbit/s, received)
  rtt          ping -c N -i 0.2 from the guest to 10.0.2.2 (user: libslirp
               answers it itself, so it times the VMM's whole datapath and
               no host socket) or 192.168.100.1 (tap: this machine's kernel);
               the median of the N round trips (ms)
For user, ADDR is the hostfwd port on 127.0.0.1; for tap, 192.168.100.2.
Prints, per figure, the median over the boots for each VMM and the ratio
hostel/QEMU oriented so that above 1 means hostel is better (throughput:
hostel/QEMU; rtt: QEMU/hostel). Needs a usable /dev/kvm and iperf3 here: on a
machine without /dev/kvm run it in the test bed:
  tests/testbed/run --cpus 1 --rw $PWD/bench -- python3 bench/net.py [options]
Options: --runs N (boots per VMM, default 2), --time S (seconds per iperf3
run, default 10), --pings N (default 50), --modes user,tap, --memory MIB
(default 1024), --cpus N (default 1), --hostel PATH, --json FILE. Exits 1
if a guest or a measurement failed.
"""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import benchlib  # the bench/ directory is on sys.path: it holds this script

from disk import boot  # the Debian guest on a console, shared with bench/disk.py

MAC = {"user": "52:54:00:be:00:01", "tap": "52:54:00:be:00:02"}
TAP_HOST, TAP_GUEST = "192.168.100.1", "192.168.100.2"
FIGURES = [("host->guest", "Mbit/s"), ("guest->host", "Mbit/s"), ("rtt", "ms")]

# Run in the guest once its shell is up: wait for networkd's DHCP on the
# user NIC (wait-online is masked as a unit, so boot never waits for it;
# here its timeout is a hang guard), start iperf3 -s and wait until it
# listens. $1: the user NIC's MAC. Prints bench-nic-user=NAME.
SETUP = r'''
nic_of() { for d in /sys/class/net/*; do [ "$(cat "$d/address")" = "$1" ] && echo "${d##*/}"; done; }
u=$(nic_of "$1")
/lib/systemd/systemd-networkd-wait-online -4 -i "$u" --timeout=240 || echo "bench-error: no DHCP address on $u"
iperf3 -s -D -I /run/iperf3.pid
n=0; until ss -ltnH "sport = :5201" | grep -q .; do n=$((n+1)); [ $n -lt 300 ] || break; sleep 0.1; done
echo "bench-nic-user=$u listening=$(ss -ltnH 'sport = :5201' | wc -l)"
'''
# The tap NIC by hand: networkd (which asks for DHCP on every NIC, and
# none answers on the tap) is stopped first so it cannot touch the address;
# the user NIC keeps its lease. $1: the tap NIC's MAC.
TAP_SETUP = r'''
nic_of() { for d in /sys/class/net/*; do [ "$(cat "$d/address")" = "$1" ] && echo "${d##*/}"; done; }
t=$(nic_of "$1")
systemctl stop systemd-networkd.socket systemd-networkd
ip addr flush dev "$t" && ip addr add %s/24 dev "$t" && ip link set "$t" up
n=0; until ip -4 -o addr show dev "$t" | grep -q " %s/" && ping -c1 -W1 %s >/dev/null; do n=$((n+1)); [ $n -lt 60 ] || break; done
echo "bench-nic-tap=$t addr=$(ip -4 -o addr show dev "$t" | grep -c ' %s/')"
''' % (TAP_GUEST, TAP_GUEST, TAP_HOST, TAP_GUEST)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def guest_sh(g, script, args, seq, bound=300):
    """Run SCRIPT (sh, with ARGS) in the guest; its output and status."""
    b64 = base64.b64encode(script.encode()).decode()
    start = g.offset()
    g.send(f"echo {b64} | base64 -d >/tmp/b{seq}.sh; sh /tmp/b{seq}.sh {args}; "
           f"echo bench-exit-{seq}=$?")
    m = g.wait_for(re.compile(rb"bench-exit-%d=(\d+)" % seq), start, bound=bound)
    return g.buf[start:m.start()].decode(errors="replace"), int(m.group(1))


def iperf(addr, port, t, reverse):
    """One iperf3 run from this machine; Mbit/s the receiving side got."""
    cmd = ["iperf3", "-c", addr, "-p", str(port), "-t", str(t), "-O", "1", "-J"]
    if reverse:
        cmd.append("-R")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=t * 6 + 120)
    try:
        j = json.loads(p.stdout)
    except ValueError:
        raise RuntimeError(f"iperf3 gave no JSON (status {p.returncode}): {p.stderr[-300:]}")
    if "error" in j:
        raise RuntimeError(f"iperf3: {j['error']}")
    return j["end"]["sum_received"]["bits_per_second"] / 1e6


def ping_median(g, addr, count, seq):
    out, st = guest_sh(g, f"ping -n -c {count} -i 0.2 {addr}\n", "", seq,
                       bound=count * 2 + 120)
    times = [float(x) for x in re.findall(r"icmp_seq=\d+ ttl=\d+ time=([0-9.]+) ms", out)]
    if st != 0 or len(times) < count * 0.9:
        raise RuntimeError(f"ping {addr}: status {st}, {len(times)} of {count} replies: {out[-300:]!r}")
    return statistics.median(times)


def sh(*cmd):
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--time", type=int, default=10)
    ap.add_argument("--pings", type=int, default=50)
    ap.add_argument("--modes", default="user,tap")
    ap.add_argument("--memory", type=int, default=1024)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--hostel", default=benchlib.HOSTEL)
    ap.add_argument("--json")
    a = ap.parse_args()
    modes = a.modes.split(",")
    if not modes or set(modes) - {"user", "tap"}:
        sys.exit("bench: --modes takes user, tap or user,tap")

    kernel, initrd, image = benchlib.debian_guest()
    benchlib.need_kvm("tests/testbed/run --cpus 1 --rw $PWD/bench -- python3 bench/net.py")
    if not shutil.which("iperf3"):
        sys.exit("bench: no iperf3 here (scripts/setup installs it)")

    workdir = tempfile.mkdtemp(prefix="hostel-bench-net.")
    env = dict(os.environ, TMPDIR=workdir, HOSTEL_KERNEL_CACHE=os.path.join(workdir, "vmlinux"))
    port = {"hostel": free_port(), "qemu": free_port()}
    tap = {"hostel": "hbench0", "qemu": "qbench0"}
    cmdline = "root=/dev/vda"
    vmms = {
        "hostel": [a.hostel, "run", "--kernel", kernel, "--initrd", initrd,
                   "--memory", f"{a.memory}M", "--cpus", str(a.cpus),
                   "--disk", f"{image},snapshot", "--cmdline", cmdline,
                   "--net", f"user,hostfwd=tcp:127.0.0.1:{port['hostel']}-:5201,mac={MAC['user']}"],
        "qemu": ["qemu-system-x86_64", "-accel", "kvm", "-M", "q35", "-cpu", "host",
                 "-m", f"{a.memory}M", "-smp", str(a.cpus), "-nodefaults", "-no-user-config",
                 "-display", "none", "-serial", "stdio", "-no-reboot",
                 "-kernel", kernel, "-initrd", initrd,
                 "-append", f"{cmdline} console=ttyS0 reboot=k",
                 "-drive", f"file={image},if=none,id=root,format=raw,snapshot=on",
                 "-device", "virtio-blk-pci,drive=root",
                 "-netdev", f"user,id=u0,hostfwd=tcp:127.0.0.1:{port['qemu']}-:5201",
                 "-device", f"virtio-net-pci,netdev=u0,mac={MAC['user']}"],
    }
    if "tap" in modes:
        vmms["hostel"] += ["--net", f"tap,ifname={tap['hostel']},mac={MAC['tap']}"]
        vmms["qemu"] += ["-netdev", f"tap,id=t0,ifname={tap['qemu']},script=no,downscript=no,vhost=off",
                         "-device", f"virtio-net-pci,netdev=t0,mac={MAC['tap']}"]
    results = {v: {m: {f[0]: [] for f in FIGURES} for m in modes} for v in vmms}
    guests = {}
    failed = False
    made_taps = []
    try:
        for name, cmd in vmms.items():
            print(f"{name}: {' '.join(cmd)}", flush=True)
        seq = 0
        for r in range(a.runs):
            for name in (["hostel", "qemu"] if r % 2 == 0 else ["qemu", "hostel"]):
                t0 = time.monotonic()
                if "tap" in modes:
                    # A fresh tap per boot, host side up with its address
                    # before the VMM attaches.
                    subprocess.run(["ip", "link", "del", tap[name]], stderr=subprocess.DEVNULL)
                    sh("ip", "tuntap", "add", "dev", tap[name], "mode", "tap")
                    made_taps.append(tap[name])
                    sh("ip", "addr", "add", f"{TAP_HOST}/24", "dev", tap[name])
                    sh("ip", "link", "set", tap[name], "up")
                g = guests[name] = boot(name, vmms[name], env)
                seq += 1
                out, st = guest_sh(g, SETUP, MAC["user"], seq)
                if st != 0 or "bench-error" in out or not re.search(r"bench-nic-user=\S+ listening=[1-9]", out):
                    raise RuntimeError(f"{name}: guest setup failed (status {st}): {out[-500:]!r}")
                for mode in modes:
                    if mode == "tap":
                        seq += 1
                        out, st = guest_sh(g, TAP_SETUP, MAC["tap"], seq)
                        if st != 0 or not re.search(r"bench-nic-tap=\S+ addr=1", out):
                            raise RuntimeError(f"{name}: tap setup failed (status {st}): {out[-500:]!r}")
                        addr, p, peer = TAP_GUEST, 5201, TAP_HOST
                    else:
                        addr, p, peer = "127.0.0.1", port[name], "10.0.2.2"
                    res = results[name][mode]
                    res["host->guest"].append(iperf(addr, p, a.time, False))
                    res["guest->host"].append(iperf(addr, p, a.time, True))
                    seq += 1
                    res["rtt"].append(ping_median(g, peer, a.pings, seq))
                    print(f"run {r + 1} {name:<6} {mode:<4} host->guest {res['host->guest'][-1]:8.0f} Mbit/s"
                          f"  guest->host {res['guest->host'][-1]:8.0f} Mbit/s"
                          f"  rtt {res['rtt'][-1]:.3f} ms", flush=True)
                st = g.stop()
                del guests[name]
                if st != 0:
                    raise RuntimeError(f"{name} exited {st} after poweroff")
                if "tap" in modes:
                    subprocess.run(["ip", "link", "del", tap[name]], stderr=subprocess.DEVNULL)
                print(f"run {r + 1} {name}: {time.monotonic() - t0:.0f} s from start to exit", flush=True)
    except (RuntimeError, subprocess.SubprocessError, OSError) as e:
        failed = True
        print(f"bench: FAILED: {e}", flush=True)
        for g in guests.values():
            print(f"--- {g.name} console tail ---\n{g.tail()}\n---", flush=True)
    finally:
        for g in guests.values():
            g.stop()
        for t in set(made_taps):
            subprocess.run(["ip", "link", "del", t], stderr=subprocess.DEVNULL)
        shutil.rmtree(workdir, ignore_errors=True)

    summary, ratios = {}, {}
    print()
    print(f"{'figure (median)':<28} {'hostel':>9} {'qemu':>9} {'better/worse':>13}")
    nan = float("nan")
    for mode in modes:
        for fig, unit in FIGURES:
            key = f"{mode} {fig}"
            row = {}
            for name in vmms:
                xs = results[name][mode][fig]
                row[name] = {"median": statistics.median(xs) if xs else None,
                             "min": min(xs, default=None), "max": max(xs, default=None)}
            summary[key] = row
            h, q = row["hostel"]["median"], row["qemu"]["median"]
            # Above 1: hostel better (more throughput, shorter round trip).
            ratios[key] = (q / h if fig == "rtt" else h / q) if h and q else None
            print(f"{key + ' (' + unit + ')':<28} {h or nan:>9.3f} {q or nan:>9.3f} "
                  f"{ratios[key] or nan:>13.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"commands": vmms, "runs": a.runs, "iperf3_time": a.time, "pings": a.pings,
                       "modes": modes, "results": results, "summary": summary,
                       "ratios": ratios, "failed": failed}, f, indent=2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
