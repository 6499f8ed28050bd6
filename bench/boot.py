#!/usr/bin/env python3
"""Boot benchmark: hostel vs qemu-system-x86_64 -M microvm, same run.

For each VMM, N boots of the same kernel and initramfs (the default guest,
running `true` and powering off). Measured per boot:
  ready_s   wall time from process start to the guest's ready line
  own_kib   the VMM's own memory: peak RSS (VmHWM) minus the resident part
            of the guest-RAM mapping(s), read from /proc/PID/smaps at the
            ready line
Prints a table of medians; needs a usable /dev/kvm (run it through
tests/testbed/run on a machine without one). Usage:
  bench/boot.py [--runs N] [--memory MIB] [--hostel PATH] [--json FILE]
"""
import argparse
import shutil
import tempfile
import base64
import json
import os
import statistics
import subprocess
import time

import benchlib  # the bench/ directory is on sys.path: it holds this script

READY = b"hostel-guest: ready"


def guest_ram_rss_kib(pid, ram_kib):
    """Resident KiB of the mappings that hold guest RAM: the anonymous
    mappings whose size is the RAM size (or the low part of it) give or
    take alignment slack."""
    total = 0
    size = rss = None
    name = ""
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts[0]) > 8 and ":" not in parts[0]:
                if size is not None and is_ram(size, name, ram_kib):
                    total += rss
                size = rss = None
                name = parts[5] if len(parts) > 5 else ""
            elif parts[0] == "Size:":
                size = int(parts[1])
            elif parts[0] == "Rss:":
                rss = int(parts[1])
    if size is not None and is_ram(size, name, ram_kib):
        total += rss
    return total


def is_ram(size_kib, name, ram_kib):
    if name and not name.startswith("[anon") and name != "/memfd:pc.ram":
        return False
    return ram_kib - 1024 <= size_kib <= ram_kib + 8192


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def one_boot(cmd, ram_kib, bound=600):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    ready = None
    own = None
    buf = b""
    try:
        while True:
            chunk = p.stdout.read1(4096)
            if not chunk:
                break
            buf = (buf + chunk)[-4096:]
            if ready is None and READY in buf:
                ready = time.monotonic() - t0
                try:
                    own = vm_hwm_kib(p.pid) - guest_ram_rss_kib(p.pid, ram_kib)
                except OSError:
                    own = None
            if time.monotonic() - t0 > bound:
                break
    finally:
        try:
            p.wait(timeout=bound)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    return ready, own, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--memory", type=int, default=512)
    ap.add_argument("--hostel", default=benchlib.HOSTEL)
    ap.add_argument("--json")
    a = ap.parse_args()

    kernel, initrd = benchlib.default_guest()
    cmd64 = base64.b64encode(b"true").decode()
    append = f"hostel.cmd={cmd64} quiet"
    ram_kib = a.memory * 1024
    vmms = {
        "hostel": [a.hostel, "run", "--kernel", kernel, "--initrd", initrd,
                   "--memory", f"{a.memory}M", "--cmdline", append],
        "qemu-microvm": ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=on,isa-serial=on",
                         "-accel", "kvm", "-cpu", "host", "-m", f"{a.memory}M", "-smp", "1",
                         "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
                         "-no-reboot", "-kernel", kernel, "-initrd", initrd,
                         "-append", f"console=ttyS0 reboot=k {append}"],
    }
    # hostel unpacks the bzImage once and caches the vmlinux: the first boot
    # on a machine (cold cache) is reported on its own, the runs after it
    # are the steady state every later boot of that kernel sees.
    kcache = tempfile.mkdtemp(prefix="hostel-bench-vmlinux.")
    os.environ["HOSTEL_KERNEL_CACHE"] = kcache
    cold, _, cold_rc = one_boot(vmms["hostel"], ram_kib)
    print(f"cold hostel (unpacks into an empty cache): ready {cold if cold is None else round(cold, 3)} s, "
          f"exit {cold_rc}", flush=True)
    results = {}
    # Interleave the VMMs run by run so drift in the (nested) host hits both.
    for i in range(a.runs):
        for name, cmd in vmms.items():
            ready, own, rc = one_boot(cmd, ram_kib)
            results.setdefault(name, []).append({"ready_s": ready, "own_kib": own, "status": rc})
            print(f"run {i + 1} {name}: ready {ready if ready is None else round(ready, 3)} s, "
                  f"own memory {own} KiB, exit {rc}", flush=True)
    summary = {}
    for name, rs in results.items():
        ok = [r for r in rs if r["ready_s"] is not None]
        summary[name] = {
            "runs": len(rs),
            "ready_runs": len(ok),
            "median_ready_s": statistics.median([r["ready_s"] for r in ok]) if ok else None,
            "median_own_kib": statistics.median([r["own_kib"] for r in ok if r["own_kib"] is not None]) if ok else None,
        }
    h, q = summary.get("hostel"), summary.get("qemu-microvm")
    print()
    print(f"{'vmm':<14} {'median ready (s)':>17} {'median own memory (KiB)':>24}")
    for name, s in summary.items():
        print(f"{name:<14} {s['median_ready_s'] or float('nan'):>17.3f} {s['median_own_kib'] or float('nan'):>24.0f}")
    if h and q and h["median_ready_s"] and q["median_ready_s"]:
        print(f"ratio hostel/qemu-microvm ready time: {h['median_ready_s'] / q['median_ready_s']:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": results, "summary": summary, "hostel_cold_ready_s": cold}, f, indent=2)
    shutil.rmtree(kcache, ignore_errors=True)


if __name__ == "__main__":
    main()
