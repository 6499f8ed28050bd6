#!/usr/bin/env python3
"""Disk benchmark: fio in the Debian guest on a second virtio-blk disk,
hostel vs qemu-system-x86_64 -accel kvm -M q35 with virtio-blk-pci, same run.

Both VMMs boot the same kernel (images/kernel.sh) and the Debian image's
initrd (images/debian.sh), each with its own copy of the Debian disk as vda
and its own copy of one data file as vdb (1 GiB of random bytes, so reads
never hit holes; on the same filesystem), the same memory and vCPUs, cache
mode writeback (the host page cache) on both sides. Boots alternate between
the VMMs, one guest at a time, the first one moving along from run to run.
hostel runs once per I/O engine named in --aio (--disk ...,aio=ENGINE on
both disks), as "hostel-uring", "hostel-thread"; each is compared to QEMU.
In each boot, once systemd says the boot is over (systemctl
is-system-running --wait) and an untimed 3 s warm-up read has run (see
settle()), the guest runs, on
/dev/vdb with O_DIRECT and libaio, one after the other:
  seq-read    1 MiB sequential read,   iodepth 16   (MB/s)
  seq-write   1 MiB sequential write,  iodepth 16   (MB/s)
  rand-read   4 KiB random read,       iodepth 32   (IOPS)
  rand-write  4 KiB random write,      iodepth 32   (IOPS)
Commands are typed into root's autologin shell; fio's terse output is read
back from the serial console. Prints, per figure, the median over the runs
for each VMM and the ratio hostel/QEMU per engine (above 1: hostel is faster), and the
worst completion latency seen (a stall shows there). Needs a usable
/dev/kvm: on a machine without one, run it in the test bed:
  tests/testbed/run --cpus 1 --memory 8G --rw $PWD/bench -- python3 bench/disk.py [options]
Options: --runs N (boots per VMM, default 2), --runtime S (seconds per fio
job, default 10), --size MIB (vdb, default 1024), --memory MIB (default
1024), --cpus N (default 1), --hostel PATH, --aio LIST (hostel's engines,
default uring,thread), --json FILE. Exits 1 if a guest
failed (after one restart per VMM).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import benchlib  # the bench/ directory is on sys.path: it holds this script

READY = re.compile(rb"hostel-guest: ready uptime=")
PROMPT = re.compile(rb"root@hostel-debian:~# ")
# Hang guards for one wait, never part of a figure.
BOOT_BOUND = 600

# name, fio rw, block size, iodepth, figure
JOBS = [
    ("seq-read", "read", "1M", 16, "MB/s"),
    ("seq-write", "write", "1M", 16, "MB/s"),
    ("rand-read", "randread", "4k", 32, "IOPS"),
    ("rand-write", "randwrite", "4k", 32, "IOPS"),
]
# settle()'s untimed warm-up job.
WARMUP = ("warm-up", "read", "1M", 16, "MB/s")


def fio_cmd(job, runtime):
    name, rw, bs, depth, _ = job
    # --ramp_time: the first second (queue filling, fio's page faults) is
    # not counted.
    return " ".join([
        "fio", "--output-format=terse", "--terse-version=3", "--filename=/dev/vdb",
        "--direct=1", "--ioengine=libaio", "--time_based", f"--runtime={runtime}",
        "--ramp_time=1", "--norandommap", "--randrepeat=0",
        f"--name={name}", f"--rw={rw}", f"--bs={bs}", f"--iodepth={depth}"])


class Guest:
    """A VMM with the guest's serial console on its stdin/stdout. A thread
    keeps reading the console, so an idle guest never blocks on a full pipe."""

    def __init__(self, name, cmd, env):
        self.name = name
        # stderr joins the console: an error message shows in its tail.
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, env=env)
        self.buf = b""
        self.eof = False
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            chunk = self.p.stdout.read1(65536)
            with self.cv:
                if not chunk:
                    self.eof = True
                else:
                    self.buf += chunk
                self.cv.notify_all()
            if not chunk:
                return

    def wait_for(self, regex, start=0, bound=BOOT_BOUND):
        """Wait until REGEX matches the console after offset START; the match."""
        deadline = time.monotonic() + bound
        with self.cv:
            while True:
                m = regex.search(self.buf, start)
                if m:
                    return m
                if self.eof:
                    raise RuntimeError(f"{self.name} exited (status {self.p.wait()}) "
                                       f"before {regex.pattern!r}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"{regex.pattern!r} did not appear on {self.name} "
                                       f"within {bound} s")
                self.cv.wait(left)

    def offset(self):
        with self.cv:
            return len(self.buf)

    def send(self, line):
        self.p.stdin.write(line.encode() + b"\n")
        self.p.stdin.flush()

    def tail(self, n=1500):
        with self.cv:
            return self.buf[-n:].decode(errors="replace")

    def stop(self, bound=120):
        """Power the guest off; kill the VMM if it does not exit. Its status."""
        try:
            self.send("poweroff")
        except OSError:
            pass
        try:
            return self.p.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()


def boot(name, cmd, env):
    """Boot until the shell prompt. A guest that dies first is booted once
    more (the test bed's nested emulation loses about one boot in ten of
    this size, see tests/e2e/lib.sh); the retry is reported."""
    for attempt in (1, 2):
        t0 = time.monotonic()
        g = Guest(name, cmd, env)
        try:
            g.wait_for(READY)
            g.wait_for(PROMPT)
            print(f"{name}: shell after {time.monotonic() - t0:.0f} s", flush=True)
            return g
        except RuntimeError as e:
            g.p.kill()
            g.p.wait()
            print(f"{name}: boot {attempt} failed: {e}\n--- console tail ---\n"
                  f"{g.tail()}\n---", flush=True)
    raise RuntimeError(f"{name} did not boot twice in a row")


def settle(g, seq):
    """Wait until systemd has finished the boot (its start-up jobs, timers'
    first runs), then run one untimed warm-up job (WARMUP: the seq-read
    job for 3 s; it also reads fio and its libraries from vda and links
    them), so that no VMM's first timed job shares the guest with either.
    The warm-up is there for the test bed: in 2026-11-24/25's runs the
    first job after a boot had completions of 1 to 14 s that later jobs
    did not have, and a probe caught the bed's kernel in clear_page_erms,
    in the VMM's vCPU thread, for 5 s at a stretch: the bed zeroing the
    pages the guest's fresh fio buffers landed on, at QEMU/TCG's speed
    (natively 2 MiB zero in about 0.1 ms). The warm-up's buffers take
    those faults; the timed jobs' buffers reuse the same guest pages.
    Both VMMs get it alike. Returns the state (running, or degraded when a
    unit failed); never part of a figure. Kernel messages then stop going
    to the console (dmesg -n 1; dmesg still has them): one printed between
    the state and the marker once made this wait miss its answer, and one
    inside fio's result line would cost a restart."""
    start = g.offset()
    g.send(f"s=$(systemctl is-system-running --wait); {fio_cmd(WARMUP, 3)} >/dev/null; f=$?; "
           f"dmesg -n 1; echo settled-{seq}=$f-$s")
    # The typed line echoes "settled-N=$f-$s"; the output reads settled-N=<digits>-<state>.
    # (The line's end too: the console arrives in pieces.)
    m = g.wait_for(re.compile(rb"settled-%d=(\d+)-([a-z-]+)\r*\n" % seq), start, bound=BOOT_BOUND)
    if m.group(1) != b"0":
        raise RuntimeError(f"the warm-up fio exited {m.group(1).decode()} on {g.name}")
    return m.group(2).decode()


def parse_terse(line, job):
    """One fio terse v3 line -> (figure, worst completion latency in ms).
    Fields (1-based): 3 job name, 5 error; read: 7 KiB/s, 8 IOPS, 15 clat
    max (us); write: 48 KiB/s, 49 IOPS, 56 clat max (us)."""
    f = line.split(";")
    if len(f) < 56 or f[2] != job[0]:
        raise RuntimeError(f"unexpected fio output: {line[:120]!r}")
    if int(f[4]):
        raise RuntimeError(f"fio job {job[0]} failed with error {f[4]}")
    w = 41 if job[1] in ("write", "randwrite") else 0
    kib_s, iops, clat_max_us = float(f[6 + w]), float(f[7 + w]), float(f[14 + w])
    fig = kib_s * 1024 / 1e6 if job[4] == "MB/s" else iops
    return fig, clat_max_us / 1000


def run_job(g, job, runtime, seq):
    start = g.offset()
    g.send(fio_cmd(job, runtime) + f"; echo fio-exit-{seq}=$?")
    # The typed line echoes "fio-exit-N=$?"; the output reads fio-exit-N=<digits>.
    m = g.wait_for(re.compile(rb"fio-exit-%d=(\d+)" % seq), start, bound=runtime * 10 + 120)
    out = g.buf[start:m.start()]
    if m.group(1) != b"0":
        raise RuntimeError(f"fio exited {m.group(1).decode()} on {g.name}: {out[-500:]!r}")
    t = re.search(rb"3;fio-[^;\r\n]*;[^\r\n]*", out)
    if not t:
        raise RuntimeError(f"no fio result on {g.name}: {out[-500:]!r}")
    return parse_terse(t.group(0).decode(errors="replace"), job)


def fill(path, mib):
    """A MIB-sized file of random bytes (1 MiB of urandom, repeated)."""
    block = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(block)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--runtime", type=int, default=10)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--memory", type=int, default=1024)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--hostel", default=benchlib.HOSTEL)
    ap.add_argument("--aio", default="uring,thread",
                    help="hostel I/O engines to measure, comma-separated (uring, thread)")
    ap.add_argument("--json")
    a = ap.parse_args()
    engines = [e for e in a.aio.split(",") if e]
    if not engines or any(e not in ("uring", "thread") for e in engines):
        sys.exit(f"bench: --aio {a.aio!r}: a list of uring, thread")
    hostels = [f"hostel-{e}" for e in engines]
    names = hostels + ["qemu"]

    kernel, initrd, image = benchlib.debian_guest()
    benchlib.need_kvm("tests/testbed/run --cpus 1 --memory 8G --rw $PWD/bench -- python3 bench/disk.py")

    workdir = tempfile.mkdtemp(prefix="hostel-bench-disk.")
    # QEMU puts temporary files in TMPDIR (else /var/tmp, read-only in the
    # test bed); hostel's --kernel cache goes there too.
    env = dict(os.environ, TMPDIR=workdir, HOSTEL_KERNEL_CACHE=os.path.join(workdir, "vmlinux"))
    p = {n: os.path.join(workdir, n) for n in
         ("root-hostel.img", "root-qemu.img", "data-hostel.img", "data-qemu.img")}
    guests, vmms = {}, {}
    restarts = {n: 0 for n in names}
    results = {n: {j[0]: [] for j in JOBS} for n in names}
    failed = False
    try:
        t0 = time.monotonic()
        subprocess.run(["cp", "--sparse=always", image, p["root-hostel.img"]], check=True)
        subprocess.run(["cp", "--sparse=always", p["root-hostel.img"], p["root-qemu.img"]], check=True)
        fill(p["data-hostel.img"], a.size)
        subprocess.run(["cp", p["data-hostel.img"], p["data-qemu.img"]], check=True)
        print(f"disks ready after {time.monotonic() - t0:.0f} s", flush=True)
        cmdline = "root=/dev/vda"
        # The hostel variants share their disks (one guest at a time).
        vmms = {
            f"hostel-{e}": [a.hostel, "run", "--kernel", kernel, "--initrd", initrd,
                            "--memory", f"{a.memory}M", "--cpus", str(a.cpus),
                            "--disk", f"{p['root-hostel.img']},aio={e}",
                            "--disk", f"{p['data-hostel.img']},aio={e}",
                            "--cmdline", cmdline]
            for e in engines
        }
        vmms.update({
            # The same kernel command line (hostel appends console=ttyS0
            # reboot=k), cache mode and I/O model defaults spelt out.
            "qemu": ["qemu-system-x86_64", "-accel", "kvm", "-M", "q35", "-cpu", "host",
                     "-m", f"{a.memory}M", "-smp", str(a.cpus), "-nodefaults", "-no-user-config",
                     "-display", "none", "-serial", "stdio", "-no-reboot",
                     "-kernel", kernel, "-initrd", initrd,
                     "-append", f"{cmdline} console=ttyS0 reboot=k",
                     "-drive", f"file={p['root-qemu.img']},if=none,id=root,format=raw,cache=writeback",
                     "-device", "virtio-blk-pci,drive=root",
                     "-drive", f"file={p['data-qemu.img']},if=none,id=data,format=raw,"
                               "cache=writeback,aio=threads",
                     "-device", "virtio-blk-pci,drive=data"],
        })
        for name, cmd in vmms.items():
            print(f"{name}: {' '.join(cmd)}", flush=True)
        print("fio: " + " | ".join(fio_cmd(j, a.runtime) for j in JOBS), flush=True)
        seq = 0
        for r in range(a.runs):
            # One guest at a time (two nested guests at once bring the test
            # bed down); the VMM that goes first changes from run to run.
            for name in names[r % len(names):] + names[:r % len(names)]:
                t0 = time.monotonic()
                g = guests[name] = boot(name, vmms[name], env)
                seq += 1
                state = settle(g, seq)
                print(f"{name}: systemd {state} after {time.monotonic() - t0:.0f} s", flush=True)
                for job in JOBS:
                    seq += 1
                    try:
                        fig, lat = run_job(g, job, a.runtime, seq)
                    except RuntimeError as e:
                        # A guest that died (the nested flake of boot()) is
                        # booted again once per VMM and the job rerun; the
                        # restart is reported and counted.
                        if g.p.poll() is None or restarts[name]:
                            raise
                        restarts[name] += 1
                        print(f"{name}: guest died during {job[0]}: {e}\n--- console tail ---\n"
                              f"{g.tail()}\n---\n{name}: booting it again", flush=True)
                        g = guests[name] = boot(name, vmms[name], env)
                        seq += 1
                        fig, lat = run_job(g, job, a.runtime, seq)
                    results[name][job[0]].append({"value": fig, "clat_max_ms": lat})
                    print(f"run {r + 1} {name:<13} {job[0]:<10} {fig:9.1f} {job[4]:<4} "
                          f"(worst completion {lat:.0f} ms)", flush=True)
                st = g.stop()
                del guests[name]
                if st != 0:
                    raise RuntimeError(f"{name} exited {st} after poweroff")
                print(f"run {r + 1} {name}: {time.monotonic() - t0:.0f} s from start to exit",
                      flush=True)
    except RuntimeError as e:
        failed = True
        print(f"bench: FAILED: {e}", flush=True)
        for g in guests.values():
            print(f"--- {g.name} console tail ---\n{g.tail()}\n---", flush=True)
    finally:
        for name, g in guests.items():
            g.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    summary, ratios = {}, {h: {} for h in hostels}
    print()
    if any(restarts.values()):
        print(f"guests booted again after dying mid-run: {restarts}")
    nan = float("nan")
    print(f"{'figure (median)':<22} " + " ".join(f"{n:>13}" for n in names) + " " +
          " ".join(f"{n + '/qemu':>18}" for n in hostels) + "   worst ms " + "/".join(names))
    for job in JOBS:
        row = {}
        for name in names:
            rs = results[name][job[0]]
            row[name] = {
                "median": statistics.median([x["value"] for x in rs]) if rs else None,
                "min": min((x["value"] for x in rs), default=None),
                "max": max((x["value"] for x in rs), default=None),
                "worst_clat_ms": max((x["clat_max_ms"] for x in rs), default=None),
            }
        summary[job[0]] = row
        q = row["qemu"]["median"]
        for h in hostels:
            hv = row[h]["median"]
            ratios[h][job[0]] = hv / q if hv and q else None
        print(f"{job[0] + ' (' + job[4] + ')':<22} " +
              " ".join(f"{row[n]['median'] or nan:>13.1f}" for n in names) + " " +
              " ".join(f"{ratios[h][job[0]] or nan:>18.2f}" for h in hostels) + "   " +
              "/".join(f"{row[n]['worst_clat_ms'] or nan:.0f}" for n in names))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"fio": [fio_cmd(j, a.runtime) for j in JOBS], "aio": engines,
                       "commands": vmms,
                       "runs": a.runs, "results": results, "summary": summary,
                       "ratios": ratios, "restarts": restarts, "failed": failed}, f, indent=2)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
