#!/usr/bin/env bash
# The boot framebuffer and the EDID, with a screen (--display sdl in a
# private Xvfb):
#  - boot 1, the default guest's first initramfs given alone as --initrd,
#    so virtio_gpu is not there (its module is in the display's archive,
#    which hostel adds only for the default guest): the guest says so in
#    one line, and vesafb binds to the framebuffer that screen_info
#    describes in the gpu's BAR 0, the console is drawn on it, and a
#    screenshot of hostel's display is not black: the boot messages reach
#    the window with no virtio-gpu driver;
#  - boot 2, the default guest as it comes (both archives): virtio_gpu
#    finds a VGA-class function and takes the framebuffer over from vesafb
#    (its fbdev becomes fb0, vesafb's);
#    a window resize changes the EDID and the connector's preferred mode
#    (the first line of /sys/class/drm/card0-Virtual-1/modes).
. "$(dirname "$0")/lib.sh"
require_kvm
for t in Xvfb xdotool; do
	command -v "$t" >/dev/null || {
		echo "SKIP: $t is not installed (scripts/setup installs it)"
		exit 77
	}
done

start_xvfb 1600x1200x24

out=$TMP/out sock=$TMP/sock
initrd="${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}/initramfs.cpio.gz"
session_start "$out" -v --display sdl --api-socket "$sock" --initrd "$initrd"
wait_for "$out" "$READY_PAT"
grep -q "hostel-guest: a display but no display modules: boot with initramfs-display.cpio.gz too" "$out" ||
	fail "the guest did not say its display modules are missing"
grep -q "hostel-guest: modules not loaded" "$out" && fail "a module failed to load: $(grep 'not loaded' "$out")"
pass "without the display's archive the guest says so in one line and loads the other modules"
send 'dmesg | grep -E "vesafb|VESA VGA|virtio-vga" | sed "s/^/k: /"; echo dm-done-$((1+1))'
wait_for "$out" "dm-done-2"
grep "k: " "$out" | grep -v dmesg
grep -q "k: .*vesafb: mode is 1024x768x32" "$out" || fail "vesafb did not take the boot framebuffer"
grep -q "k: .*fb0: VESA VGA frame buffer device" "$out" || fail "no fb0 on vesafb"
grep -q "k: .*virtio-vga" "$out" && fail "virtio_gpu loaded without its module"
pass "vesafb draws on the gpu's boot framebuffer (screen_info, BAR 0)"
# The console text is on the screen: some pixel is not black. A hang
# guard of 60 shots, one a second: the refresh runs on hostel's timer.
# nonblack PNG: some pixel of PNG is not black.
nonblack() {
	python3 -c 'import sys,zlib,struct
d=open(sys.argv[1],"rb").read(); i=8; idat=b""
while i<len(d):
    l=struct.unpack(">I",d[i:i+4])[0]; t=d[i+4:i+8]
    if t==b"IDAT": idat+=d[i+8:i+8+l]
    i+=12+l
raw=zlib.decompress(idat)
sys.exit(0 if any(b not in (0,) for b in raw[1:]) and raw.count(0)<len(raw) else 1)' "$1"
}
found=0
shot_until "$sock" "$TMP/s.png" 60 nonblack "$TMP/s.png" && found=1
cp "$TMP/s.png" "${HOSTEL_BUILD_ROOT:-/tmp}/bootfb-vesa.png" 2>/dev/null
[ "$found" -eq 1 ] || fail "the screenshot of the boot framebuffer is black"
grep -q '"width":1024' "$TMP/s.png.json" || fail "screenshot is not 1024 wide: $(cat "$TMP/s.png.json")"
pass "the screen shows the boot framebuffer's console (non-black 1024x768 screenshot)"
send 'poweroff -f'
session_end

session_start "$out" -v --display sdl --api-socket "$sock"
wait_for "$out" "$READY_PAT"
grep -q "hostel-guest: .*display modules\|hostel-guest: modules not loaded" "$out" &&
	fail "the default guest with a display lacks a module: $(grep 'hostel-guest: .*modules' "$out")"
send 'dmesg | grep -E "vesafb|VESA VGA|virtio-vga|virtio_gpu" | sed "s/^/k: /"; echo dm-done-$((2+2))'
wait_for "$out" "dm-done-4"
grep "k: " "$out" | grep -v dmesg
grep -q "k: .*virtio-vga detected" "$out" || fail "virtio_gpu did not see a VGA-class function"
# vesafb was fb0; the DRM driver's fbdev gets fb0 only if vesafb was removed.
grep -q "k: .*fb0: virtio_gpudrmfb frame buffer device" "$out" || fail "virtio_gpu did not take over fb0 from vesafb"
pass "virtio_gpu removed vesafb and took the screen over"
wid=$(timeout 60 xdotool search --sync --name 'hostel') || fail "no hostel window"
send 'for i in $(seq 600); do [ -e /sys/class/drm/card0-Virtual-1/modes ] && break; sleep 0.1; done; echo "m1=$(head -1 /sys/class/drm/card0-Virtual-1/modes)"'
wait_for "$out" "m1=[0-9]"
# Smaller than the first mode: the guest's only DRM client here is the
# kernel's fbdev emulation, which keeps only modes that fit the
# framebuffer it allocated at the first mode (1024x768); a compositor
# would take larger ones too.
xdotool windowsize --sync "$wid" 800 600 || fail "xdotool windowsize"
# The guest sees the hotplug and re-reads the modes; a hang guard of 600 tries.
send 'for i in $(seq 600); do m=$(head -1 /sys/class/drm/card0-Virtual-1/modes); [ "$m" = 800x600 ] && break; sleep 0.2; done; echo "m2=$m"'
wait_for "$out" "m2=[0-9]"
grep -q "m2=800x600" "$out" || { grep "m[12]=" "$out"; fail "the preferred mode did not follow the window"; }
send 'cat /sys/class/drm/card0-Virtual-1/edid | od -An -tx1 | head -1 | sed "s/^/edid: /"'
wait_for "$out" "edid: "
pass "a window resize changed the guest's preferred mode (EDID and display info)"
# The fbdev client sets the new mode (SET_SCANOUT), and hostel's screen
# follows: a screenshot of 800x600. A hang guard of 60 shots, one a second.
shot_until "$sock" "$TMP/s2.png" 60 grep -q '"width":800,"height":600' "$TMP/s2.png.json" ||
	fail "the guest did not switch to 800x600: $(cat "$TMP/s2.png.json")"
pass "the guest switched its console to the window's size (800x600)"
send 'poweroff -f'
session_end
