#!/usr/bin/env bash
# The initrd of the Debian disk image (images/debian.sh): busybox, the
# modules the stock kernel needs to reach the disk and hostel exec's
# channels, and images/debian/initrd-init as /init, which mounts the disk
# and starts the image's systemd (or runs a `hostel exec` command in it).
#
#   images/debian-initrd.sh [--quiet] [--force]
#
# Writes $CACHE/debian/ (CACHE: $HOSTEL_CACHE, else $XDG_CACHE_HOME/hostel,
# else ~/.cache/hostel):
#   debian-initrd.img     the initrd, cpio newc, gzip'd
#   debian-initrd.stamp   a hash of every input: this recipe, lib.sh,
#                         images/debian/initrd-init, the busybox binary,
#                         the kernel's VERSION
# Its own recipe and stamp, apart from the image's: a change to the initrd
# rebuilds it alone, in seconds and without root. images/debian.sh runs it.
# It rebuilds only when the hash changes, or with --force. --quiet prints
# nothing when there is nothing to do.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

recipe_args "$@"

# crc32c first (ext4 and jbd2 ask the crypto API for it by name, which
# modules.dep does not record), then the disk, ext4, and the virtio
# consoles hostel exec talks through.
initrd_modules=(crc32c_generic crc32c-intel virtio_pci virtio_blk ext4 virtio_console)

outdir=$(hostel_cache)/debian
initrd=$outdir/debian-initrd.img
stampf=$outdir/debian-initrd.stamp

kernel_load
# busybox is hashed: install it before computing the stamp, so the check
# and the build agree.
need_pkgs busybox-static cpio gzip

stamp_of() {
	(
		cd "$here" && sha256sum debian-initrd.sh lib.sh debian/initrd-init
		sha256sum /bin/busybox "$KDIR/VERSION" | sed 's| /.*/| |'
	) | sha256sum | cut -d' ' -f1
}
fresh() {
	[ "$force" -eq 0 ] && [ -f "$initrd" ] &&
		[ "$(cat "$stampf" 2>/dev/null)" = "$stamp" ]
}
stamp=$(stamp_of)
if ! fresh; then
	lock_cache debian-initrd
fi
if fresh; then
	[ "$quiet" -eq 1 ] || say "Debian initrd is up to date: $initrd"
	exit 0
fi

mkdir -p "$outdir"
tmp=$(mktemp -d "$outdir/.initrd.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say "building the Debian image's initrd"
ir=$tmp/initrd
mkdir -p "$ir"/{dev,proc,sys,newroot}
install_busybox "$ir"
copy_modules "$KDIR/lib/modules/$KREL" "$ir" "${initrd_modules[@]}"
for m in virtio_blk virtio_console; do
	grep -q "/$m\.ko\$" "$ir/etc/hostel/modules" || die "the initrd lacks $m"
done
install -m 0755 "$here/debian/initrd-init" "$ir/init"
make_cpio "$ir" "$tmp/debian-initrd.img"

# Stamp out first, back in last: a run cut short in between is redone.
rm -f "$stampf"
mv -f "$tmp/debian-initrd.img" "$initrd"
printf '%s\n' "$stamp" >"$stampf"
say "Debian initrd ready: $initrd ($(du -k "$initrd" | cut -f1) KiB)"
