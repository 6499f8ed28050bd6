#!/usr/bin/env bash
# The default guest's initramfs: Debian's static busybox, the virtio
# modules of the kernel from images/kernel.sh (with their dependencies, in
# load order), images/guest-init as /init and images/udhcpc.script as
# udhcpc's event script; cpio newc, gzip'd. The modules only a display
# needs (virtio-gpu with the DRM core, psmouse: half of the archive's
# bytes) go into a second archive, which hostel loads after the first only
# for a guest with a display: every headless boot unpacks less.
#
#   images/initramfs.sh [--quiet] [--force]
#
# Writes $CACHE/initramfs.cpio.gz, $CACHE/initramfs-display.cpio.gz and
# next to them initramfs.stamp, a hash of every input (this recipe, lib.sh,
# guest-init, the busybox binary, the kernel's VERSION). It rebuilds only
# when that hash changes, or with --force. --quiet prints nothing when
# there is nothing to do.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

recipe_args "$@"

# The modules the default guest loads (those this kernel lacks are skipped):
# virtio devices; pvpanic-mmio, so a guest panic reaches hostel's pvpanic
# port (QEMU0001 in the DSDT); button and evdev, so the ACPI power button
# arrives as an input event for busybox acpid; psmouse, for the window's
# grabbed mouse (--display sdl: relative motion goes to the PS/2 mouse).
modules=(virtio_pci virtio_blk virtio_net virtio_console virtio_input virtio-gpu pvpanic-mmio button evdev psmouse)

root=$(hostel_cache)
out=$root/initramfs.cpio.gz
outd=$root/initramfs-display.cpio.gz
stampf=$root/initramfs.stamp

kernel_load
# The up-to-date check runs before any package query: it is on the path of
# every `hostel run` and test-bed boot.
[ -x /bin/busybox ] || need_pkgs busybox-static
stamp=$(inputs_hash "$here/initramfs.sh" "$here/lib.sh" "$here/guest-init" "$here/udhcpc.script" /bin/busybox "$KDIR/VERSION")

fresh() { [ "$force" -eq 0 ] && [ -f "$out" ] && [ -f "$outd" ] && [ "$(cat "$stampf" 2>/dev/null)" = "$stamp" ]; }
if fresh; then
	[ "$quiet" -eq 1 ] || say "initramfs is up to date: $out"
	exit 0
fi
lock_cache initramfs
if fresh; then
	[ "$quiet" -eq 1 ] || say "initramfs is up to date: $out"
	exit 0
fi

need_pkgs busybox-static cpio gzip kmod
# Installing busybox-static may have replaced a dynamic /bin/busybox.
stamp=$(inputs_hash "$here/initramfs.sh" "$here/lib.sh" "$here/guest-init" "$here/udhcpc.script" /bin/busybox "$KDIR/VERSION")
say "building the initramfs for $KREL"
tmp=$(mktemp -d "$root/initramfs.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
r=$tmp/root
mkdir -p "$r"/{dev,proc,sys,tmp,root,etc}
install_busybox "$r"
copy_modules "$KDIR/lib/modules/$KREL" "$r" "${modules[@]}"
# /init loads them with one busybox modprobe: a modules.dep for the copies
# (kmod's format, which busybox reads) orders their dependencies.
m=$r/lib/modules/$KREL
cp "$KDIR/lib/modules/$KREL"/modules.{builtin,builtin.modinfo} "$m/" 2>/dev/null || :
: >"$m/modules.order" # the kernel's (160 KiB) would only sort modules.dep
depmod -b "$r" "$KREL" || die "depmod failed for the initramfs's modules"
# The names /init asks for. virtio-gpu's modules (the DRM core: two thirds
# of the modules' bytes) load only with a virtio GPU, psmouse only with a
# PS/2 aux port (hostel has one only with a display): a headless guest
# skips both.
for o in "${modules[@]}"; do
	case $o in virtio-gpu | psmouse) ;; *) echo "$o" ;; esac
done >"$r/etc/hostel/modules"
echo virtio-gpu >"$r/etc/hostel/modules.gpu"
echo psmouse >"$r/etc/hostel/modules.ps2aux"
# The display's archive: every module no headless one needs (modules.dep
# lists each module's dependencies in full), and the lists naming them.
# The first archive's modules.dep still names them: modprobe finds them
# once the second archive is unpacked over the first.
d=$tmp/display
mkdir -p "$d/etc/hostel"
mv "$r/etc/hostel/modules.gpu" "$r/etc/hostel/modules.ps2aux" "$d/etc/hostel/"
headless=$(awk -v want=" $(tr '\n-' ' _' <"$r/etc/hostel/modules")" '
	{ n = $1; sub(/:$/, "", n); b = n; sub(/.*\//, "", b); sub(/\.ko$/, "", b); gsub(/-/, "_", b)
	  if (index(want, " " b " ")) for (i = 1; i <= NF; i++) { f = $i; sub(/:$/, "", f); print f } }' "$m/modules.dep" | sort -u)
while read -r f; do
	grep -qxF "$f" <<<"$headless" && continue
	mkdir -p "$d/lib/modules/$KREL/$(dirname "$f")"
	mv "$m/$f" "$d/lib/modules/$KREL/$f"
done < <(cd "$m" && find kernel -name '*.ko')
find "$m/kernel" -type d -empty -delete
# The mount table /init mounts with `mount -a`: devtmpfs too, which the
# kernel mounts by itself only on a real root filesystem, never on an
# initramfs; /dev/pts and /dev/shm (noauto) after their directories.
cat >"$r/etc/fstab" <<'EOF'
proc     /proc    proc     nosuid,nodev,noexec 0 0
sysfs    /sys     sysfs    nosuid,nodev,noexec 0 0
devtmpfs /dev     devtmpfs nosuid 0 0
tmpfs    /tmp     tmpfs    nosuid,nodev,mode=1777 0 0
devpts   /dev/pts devpts   noauto,nosuid,noexec,gid=5,mode=620,ptmxmode=666 0 0
tmpfs    /dev/shm tmpfs    noauto,nosuid,nodev,mode=1777 0 0
EOF
# The ACPI power button (hostel presses it on SIGTERM): busybox acpid maps
# the KEY_POWER input event to PWRF/00000080 and runs the scripts in that
# directory, which shut the guest down cleanly.
mkdir -p "$r/etc/acpi/PWRF/00000080"
cat >"$r/etc/acpi/PWRF/00000080/poweroff" <<'EOF'
#!/bin/sh
echo "hostel-guest: power button pressed, shutting down" >/dev/console
sync
poweroff -f
EOF
chmod 0755 "$r/etc/acpi/PWRF/00000080/poweroff"
install -m 0755 "$here/guest-init" "$r/init"
# udhcpc's event script: applies a DHCP lease (virtio-net, --net user).
# Debian's busybox looks for it in /etc/udhcpc (upstream's default is
# /usr/share/udhcpc): without it udhcpc gets a lease and applies nothing.
install -D -m 0755 "$here/udhcpc.script" "$r/etc/udhcpc/default.script"
mkdir -p "$r/usr/share/udhcpc"
ln -s /etc/udhcpc/default.script "$r/usr/share/udhcpc/default.script"
echo hostel >"$r/etc/hostname"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' >"$r/etc/group"

make_cpio "$d" "$outd"
make_cpio "$r" "$out"
printf '%s\n' "$stamp" >"$stampf"
say "initramfs ready: $out ($(du -k "$out" | cut -f1) KiB, $(find "$m" -name '*.ko' | wc -l) modules)," \
	"$outd ($(du -k "$outd" | cut -f1) KiB, $(find "$d" -name '*.ko' | wc -l) modules)"
