"""What every benchmark here shares: where the checkout and the image
cache are, the guests' files (checked to exist), the hostel binary's
default path and the check for a usable /dev/kvm."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("HOSTEL_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hostel")
HOSTEL = os.path.join(ROOT, "build", "hostel")


def _need(files, recipe):
    for f in files:
        if not os.path.exists(f):
            sys.exit(f"bench: {f} missing: run {recipe}")
    return files


def default_guest():
    """(kernel, initramfs) of the default guest."""
    return _need((os.path.join(CACHE, "kernel", "vmlinuz"),
                  os.path.join(CACHE, "initramfs.cpio.gz")),
                 "images/kernel.sh and images/initramfs.sh")


def display_initrd(tmp):
    """The default guest's initramfs with its display archive after it, as
    one file (Linux unpacks concatenated archives in order), in tmp: what
    hostel loads for the default guest with a display."""
    _, initrd = default_guest()
    extra = _need((os.path.join(CACHE, "initramfs-display.cpio.gz"),), "images/initramfs.sh")[0]
    out = os.path.join(tmp, "initramfs-with-display.cpio.gz")
    with open(out, "wb") as f:
        for part in (initrd, extra):
            with open(part, "rb") as p:
                f.write(p.read())
    return out


def debian_guest():
    """(kernel, initrd, image) of the Debian guest on a disk."""
    return _need((os.path.join(CACHE, "kernel", "vmlinuz"),
                  os.path.join(CACHE, "debian", "debian-initrd.img"),
                  os.path.join(CACHE, "debian", "debian.img")),
                 "images/debian.sh")


def need_kvm(bed_cmd):
    """Exit with a hint unless /dev/kvm can be used; bed_cmd is how this
    benchmark runs in the test bed on a machine without one."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit(f"bench: no usable /dev/kvm (on a machine without one: {bed_cmd})")
