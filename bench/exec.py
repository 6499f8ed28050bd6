#!/usr/bin/env python3
"""Exec round trip: `hostel exec -- true` vs QEMU microvm, same run.

hostel: `hostel exec -- true` on the default guest (no --kernel: the kernel
and initramfs of images/), from process start to process exit, status 0
required. QEMU: qemu-system-x86_64 -M microvm with KVM, the same kernel and
initramfs, the guest's init running `true` (hostel.cmd=) and powering off;
also process start to exit. QEMU's kernel gets what hostel puts on the
default guest's command line by itself: `quiet` (exec with the console
going nowhere: no --console/--serial-log) and `cryptomgr.notests` (the
default guest's kernel): neither guest pays for boot messages nobody
reads, nor for crypto self-tests the other skips. Both 512 MiB, 1 vCPU;
runs alternate. hostel
uses a warm unpacked-kernel cache (one untimed boot fills it first).
Prints medians and their ratio; needs a usable /dev/kvm (use
tests/testbed/run elsewhere). Usage:
  bench/exec.py [--runs N] [--hostel PATH] [--json FILE]
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time

import benchlib  # the bench/ directory is on sys.path: it holds this script



def timed(cmd, bound=180):
    """Wall time and exit status; status None when the run hung past bound."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=bound)
    except subprocess.TimeoutExpired:
        return time.monotonic() - t0, None
    return time.monotonic() - t0, p.returncode


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--hostel", default=benchlib.HOSTEL)
    ap.add_argument("--json")
    a = ap.parse_args()
    kernel, initrd = benchlib.default_guest()
    kcache = tempfile.mkdtemp(prefix="hostel-bench-vmlinux.")
    os.environ["HOSTEL_KERNEL_CACHE"] = kcache
    cmd64 = base64.b64encode(b"true").decode()
    vmms = {
        # The default guest as users get it: hostel finds these same
        # kernel and initramfs files in the cache by itself.
        "hostel exec": [a.hostel, "exec", "--memory", "512M", "--", "true"],
        "qemu-microvm": ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=on,isa-serial=on",
                         "-accel", "kvm", "-cpu", "host", "-m", "512M", "-smp", "1",
                         "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
                         "-no-reboot", "-kernel", kernel, "-initrd", initrd,
                         "-append", f"console=ttyS0 reboot=k quiet cryptomgr.notests hostel.cmd={cmd64}"],
    }
    warm, rc = timed(vmms["hostel exec"])
    print(f"untimed warm-up (fills the vmlinux cache): {warm:.3f} s, exit {rc}", flush=True)
    results = {}
    for i in range(a.runs):
        for name, cmd in vmms.items():
            t, rc = timed(cmd)
            results.setdefault(name, []).append({"s": t, "status": rc})
            print(f"run {i + 1} {name}: {t:.3f} s, exit {rc}", flush=True)
    shutil.rmtree(kcache, ignore_errors=True)
    summary = {}
    for name, rs in results.items():
        # QEMU's exit status on guest power-off is 0; hostel's is true's, 0.
        ok = [r["s"] for r in rs if r["status"] == 0]
        summary[name] = {"runs": len(rs), "ok_runs": len(ok),
                         "median_s": statistics.median(ok) if ok else None}
    print()
    for name, s in summary.items():
        print(f"{name:<14} median {s['median_s'] or float('nan'):.3f} s ({s['ok_runs']}/{s['runs']} ok)")
    h, q = summary["hostel exec"]["median_s"], summary["qemu-microvm"]["median_s"]
    if h and q:
        print(f"ratio hostel exec / qemu-microvm: {h / q:.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"results": results, "summary": summary}, f, indent=2)


if __name__ == "__main__":
    main()
