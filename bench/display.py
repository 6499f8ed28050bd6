#!/usr/bin/env python3
"""Host CPU of the guest's screen: hostel --display sdl vs QEMU -display sdl.

Both VMMs boot the default guest (kernel and initramfs of images/) with
512 MiB, 1 vCPU, a virtio-gpu (QEMU: virtio-vga, the VGA-class virtio-gpu
with a boot framebuffer, as hostel's) and a virtio tablet, showing the
guest's screen in an SDL window on a private Xvfb. The guest's command
(hostel.cmd, on its serial console) marks two phases:
  idle    the screen does not change for IDLE seconds (guest `sleep`);
  scroll  the guest writes lines to its framebuffer console (tty1) as fast
          as it can for SCROLL seconds.
For each phase the host CPU time of the VMM process (all threads: vCPU,
I/O, display) and of the X server is read from /proc at the phase's
markers on the serial console and divided by the phase's wall time (1.0
= one core busy). The guest's own work runs on the vCPU thread and counts
too: it is the same guest on both. Lines scrolled per second is printed
beside (the guest scrolls faster when its display costs it less).
Runs alternate; medians are printed with their ratio. Needs a usable
/dev/kvm, Xvfb and QEMU's SDL module (package qemu-system-gui): run it in
the test bed on a machine without KVM:
  tests/testbed/run --rw "$PWD/bench" -- python3 bench/display.py --json bench/display-results.json
Usage: bench/display.py [--runs N] [--idle S] [--scroll S] [--bound S]
                        [--qemu-gpu DEVICE] [--hostel PATH] [--json FILE]
"""
import argparse
import base64
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import benchlib  # the bench/ directory is on sys.path: it holds this script

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def guest_script(idle, scroll):
    # The markers go to the serial console (the guest's /dev/console);
    # the scrolled lines to tty1, the framebuffer console.
    return f"""
sleep 5
echo bench-idle-start
sleep {idle}
echo bench-scroll-start
timeout {scroll} sh -c 'i=0; trap "echo \\$i >/tmp/lines; exit 0" TERM
  while :; do echo "scrolling line $i: the quick brown fox jumps over the lazy dog"; i=$((i+1)); done' >/dev/tty1
echo bench-scroll-end lines=$(cat /tmp/lines 2>/dev/null || echo 0)
"""


def start_xvfb(tmp):
    r, w = os.pipe()
    x = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x1024x24",
                          "-nolisten", "tcp", "-noreset"], pass_fds=(w,),
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "xvfb.log"), "w"))
    os.close(w)
    ready, _, _ = select.select([r], [], [], 60)
    num = os.read(r, 64).decode().strip() if ready else ""
    os.close(r)
    if not num:
        x.kill()
        sys.exit("bench: Xvfb did not start")
    return x, ":" + num


def run_one(cmd, env, xpid, bound):
    """Boot, sample CPU at the markers; a dict of figures or None."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    marks = {}
    lines = None
    deadline = time.monotonic() + bound
    buf = b""
    transcript = ""
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([p.stdout], [], [], 1.0)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            transcript = (transcript + chunk.decode(errors="replace"))[-4000:]
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode(errors="replace").strip()
                for m in ("bench-idle-start", "bench-scroll-start", "bench-scroll-end"):
                    if text.startswith(m) and m not in marks:
                        marks[m] = (time.monotonic(), cpu_s(p.pid), cpu_s(xpid))
                        if m == "bench-scroll-end":
                            lines = int(text.split("lines=")[1])
            if "bench-scroll-end" in marks:
                break
    finally:
        p.kill()
        p.wait()
    if len(marks) < 3:
        print(f"  incomplete run: markers seen {sorted(marks)}; exit {p.returncode};"
              f" last output: {transcript[-600:]!r}", flush=True)
        return None
    (t0, c0, x0), (t1, c1, x1), (t2, c2, x2) = (marks["bench-idle-start"], marks["bench-scroll-start"],
                                                 marks["bench-scroll-end"])
    return {"idle_cpu": (c1 - c0) / (t1 - t0), "idle_x_cpu": (x1 - x0) / (t1 - t0),
            "scroll_cpu": (c2 - c1) / (t2 - t1), "scroll_x_cpu": (x2 - x1) / (t2 - t1),
            "lines_per_s": lines / (t2 - t1), "idle_wall_s": t1 - t0, "scroll_wall_s": t2 - t1}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--idle", type=int, default=10)
    ap.add_argument("--scroll", type=int, default=10)
    ap.add_argument("--hostel", default=benchlib.HOSTEL)
    ap.add_argument("--bound", type=int, default=1200,
                    help="hang guard per boot, s (QEMU's VGA boot is slow nested)")
    ap.add_argument("--qemu-gpu", default="virtio-vga",
                    help="QEMU's display device: virtio-vga (as hostel's) or virtio-gpu-pci")
    ap.add_argument("--json")
    a = ap.parse_args()
    kernel, _ = benchlib.default_guest()
    tmp = tempfile.mkdtemp(prefix="hostel-bench-display.")
    initrd = benchlib.display_initrd(tmp)
    os.environ["HOSTEL_KERNEL_CACHE"] = os.path.join(tmp, "vmlinux")
    x, display = start_xvfb(tmp)
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    b64 = base64.b64encode(guest_script(a.idle, a.scroll).encode()).decode()
    vmms = {
        "hostel": [a.hostel, "run", "--display", "sdl", "--kernel", kernel, "--initrd", initrd,
                   "--memory", "512M", "--no-reboot", "--cmdline", f"hostel.cmd={b64}"],
        "qemu": ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-M", "pc", "-m", "512M",
                 "-smp", "1", "-nodefaults", "-no-user-config", "-display", "sdl,gl=off",
                 "-device", a.qemu_gpu, "-device", "virtio-tablet-pci", "-serial", "stdio",
                 "-no-reboot", "-kernel", kernel, "-initrd", initrd,
                 "-append", f"console=tty0 console=ttyS0 reboot=k hostel.cmd={b64}"],
    }
    # QEMU's SDL front end picks an OpenGL renderer when it can, which here
    # is Mesa's llvmpipe on an emulated CPU; hostel's is SDL's software
    # renderer. Both get the software one, QEMU's best case here.
    env["SDL_RENDER_DRIVER"] = "software"
    bound = a.bound + a.idle + a.scroll
    results = {}
    try:
        for i in range(a.runs):
            for name, cmd in vmms.items():
                r = run_one(cmd, env, x.pid, bound)
                results.setdefault(name, []).append(r)
                if r is None:
                    print(f"run {i + 1} {name}: no complete run within {bound} s", flush=True)
                else:
                    print(f"run {i + 1} {name}: idle {r['idle_cpu']:.3f} (X {r['idle_x_cpu']:.3f}),"
                          f" scroll {r['scroll_cpu']:.3f} (X {r['scroll_x_cpu']:.3f}),"
                          f" {r['lines_per_s']:.0f} lines/s", flush=True)
    finally:
        x.kill()
        x.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    keys = ("idle_cpu", "idle_x_cpu", "scroll_cpu", "scroll_x_cpu", "lines_per_s")
    summary = {}
    for name, rs in results.items():
        ok = [r for r in rs if r]
        summary[name] = {"runs": len(rs), "ok_runs": len(ok)}
        for k in keys:
            summary[name][k] = statistics.median(r[k] for r in ok) if ok else None
    print("\nmedians (CPU in cores: 1.0 = one core busy over the phase)")
    print(f"{'':8} {'idle':>8} {'idle X':>8} {'scroll':>8} {'scroll X':>9} {'lines/s':>8}")
    for name, s in summary.items():
        if s["ok_runs"]:
            print(f"{name:8} {s['idle_cpu']:8.3f} {s['idle_x_cpu']:8.3f} {s['scroll_cpu']:8.3f}"
                  f" {s['scroll_x_cpu']:9.3f} {s['lines_per_s']:8.0f}")
    h, q = summary.get("hostel", {}), summary.get("qemu", {})
    ratios = {}
    if h.get("ok_runs") and q.get("ok_runs"):
        for k in ("idle_cpu", "scroll_cpu"):
            ratios[k] = h[k] / q[k] if q[k] else None
        print("hostel/qemu: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items() if v is not None))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"commands": vmms, "idle_s": a.idle, "scroll_s": a.scroll,
                       "results": results, "summary": summary, "ratios": ratios}, f, indent=1)


if __name__ == "__main__":
    main()
