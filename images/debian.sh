#!/usr/bin/env bash
# A Debian 12 (bookworm) guest on a disk: the root filesystem debootstrap
# makes (minbase plus systemd, udev, fio, iperf3 and a few tools), the modules of
# the kernel from images/kernel.sh, hostel's configuration from
# images/debian/rootfs/, packed as a sparse 1 GiB raw ext4 image; and,
# through images/debian-initrd.sh, a small busybox initrd that loads virtio
# and ext4, mounts the disk and starts the image's systemd.
#
#   images/debian.sh [--quiet] [--force]
#
# Writes $CACHE/debian/ (CACHE: $HOSTEL_CACHE, else $XDG_CACHE_HOME/hostel,
# else ~/.cache/hostel):
#   debian.img          the disk, ext4 on the whole device (label debian-root)
#   debian.stamp        a hash of every input of the disk: this recipe,
#                       lib.sh, images/debian/rootfs/, the kernel's VERSION
#   debian-initrd.img   the initrd, and its own stamp: images/debian-initrd.sh
# It rebuilds the disk only when that hash changes, or with --force (which
# it passes on to the initrd's recipe). --quiet prints nothing when there
# is nothing to do.
#
# Needs root: debootstrap chroots into the new tree to run the packages'
# scripts, and the tree holds root-owned files mkfs.ext4 must read. Started
# as another user it runs itself again under sudo and hands the results
# back to that user. The mirror is the one apt uses on this machine
# ($HOSTEL_DEBIAN_MIRROR overrides it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

recipe_args "$@"

suite=bookworm
size=1G
# debootstrap --variant=minbase adds these (and what they depend on).
# busybox: its httpd and wget for the network e2e test (tests/e2e/net-debian.sh);
# iperf3 and iputils-ping: bench/net.py's throughput and latency figures.
packages=(systemd systemd-sysv udev kmod e2fsprogs procps util-linux fio iproute2
	busybox iperf3 iputils-ping)
# Units that only cost boot time in a throwaway test guest, or wait for
# hardware and people it will never have. getty-static starts gettys on
# tty2-6 (the image has no logind to do it on demand): the serial console
# is the terminal here.
masked=(apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer
	e2scrub_all.timer e2scrub_reap.service fstrim.timer getty-static.service
	systemd-firstboot.service systemd-networkd-wait-online.service)

root=$(hostel_cache)
outdir=$root/debian
img=$outdir/debian.img
stampf=$outdir/debian.stamp

# The kernel and the initrd first, as the calling user: they need no root
# and their cache stays theirs. (Under sudo, below, they are done.)
kernel_load
if [ -z "${HOSTEL_OWNER:-}" ]; then
	initrd_opts=()
	[ "$quiet" -eq 0 ] || initrd_opts+=(--quiet)
	[ "$force" -eq 0 ] || initrd_opts+=(--force)
	"$here/debian-initrd.sh" "${initrd_opts[@]}" || die "images/debian-initrd.sh failed"
fi

# stamp: one hash over every input of the disk, named by its path under
# images/ (the initrd's inputs are not: they have their own stamp).
stamp_of() {
	(
		cd "$here" &&
			find debian.sh lib.sh debian/rootfs -type f -print0 | LC_ALL=C sort -z |
			xargs -0 sha256sum
		sha256sum "$KDIR/VERSION" | sed 's| /.*/| |'
	) | sha256sum | cut -d' ' -f1
}
fresh() {
	[ "$force" -eq 0 ] && [ -f "$img" ] &&
		[ "$(cat "$stampf" 2>/dev/null)" = "$stamp" ]
}
up_to_date() {
	[ "$quiet" -eq 1 ] || say "Debian image is up to date: $img"
	exit 0
}

stamp=$(stamp_of)
fresh && up_to_date

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || die "building the Debian image needs root (debootstrap chroots): run as root"
	say "building the Debian image needs root (debootstrap chroots): running under sudo"
	exec sudo HOSTEL_CACHE="$root" HOSTEL_DEBIAN_MIRROR="${HOSTEL_DEBIAN_MIRROR:-}" \
		HOSTEL_OWNER="$(id -u):$(id -g)" "$0" "$@"
fi

lock_cache debian
fresh && up_to_date

need_pkgs debootstrap e2fsprogs

# mirror: the Debian archive apt on this machine uses for $suite, from
# deb822 .sources files or one-line sources.list entries.
mirror() {
	if [ -n "${HOSTEL_DEBIAN_MIRROR:-}" ]; then
		printf '%s\n' "$HOSTEL_DEBIAN_MIRROR"
		return
	fi
	local m
	m=$(
		{
			for f in /etc/apt/sources.list.d/*.sources; do
				[ -f "$f" ] || continue
				awk -v s="$suite" '
					function flush() {
						if (deb && has && uri != "") { print uri; found = 1; exit }
						deb = has = 0; uri = ""
					}
					/^[ \t]*$/ { flush(); next }
					/^Types:/ { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
					/^URIs:/ { uri = $2 }
					/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) has = 1 }
					END { if (!found) flush() }' "$f"
			done
			cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
				awk -v s="$suite" '{
					l = $0; sub(/\[[^]]*\]/, "", l); split(l, w, " ")
					if (w[1] == "deb" && w[3] == s) print w[2] }'
		} | grep -m1 -E '^(https?|file):' || true
	)
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

mkdir -p "$outdir"
tmp=$(mktemp -d "$outdir/.build.XXXXXX")
log=$outdir/debootstrap.log

# Unmount whatever debootstrap may have left mounted in the tree (it
# mounts /proc and /sys, in a container a bind of /dev) before deleting it,
# and never cross into another filesystem while deleting.
cleanup() {
	local st=$? m
	trap - EXIT INT TERM
	if [ -d "$tmp" ]; then
		while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done < <(awk -v t="$tmp/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
		if [ "$st" -ne 0 ]; then
			[ -f "$tmp/debootstrap.log" ] && cp "$tmp/debootstrap.log" "$log" 2>/dev/null
			[ -f "$tmp/root/debootstrap/debootstrap.log" ] &&
				cat "$tmp/root/debootstrap/debootstrap.log" >>"$log" 2>/dev/null
			[ -f "$log" ] && say "build failed; debootstrap's log is in $log"
		fi
		rm -rf --one-file-system "$tmp"
	fi
	exit "$st"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SECONDS=0
r=$tmp/root
mkdir "$r"
# mkdir under mktemp's 0700 directory: this mode becomes the mode of /.
chmod 0755 "$r"
url=$(mirror)
say "debootstrap $suite from $url into $r (downloads ~200 MB, takes minutes)"
# The per-package lines go to the log only; the stage lines show progress.
include=$(
	IFS=,
	echo "${packages[*]}"
)
(
	LANG=C.UTF-8 debootstrap --variant=minbase --merged-usr --components=main \
		--include="$include" "$suite" "$r" "$url" 2>&1 ||
		echo "E: debootstrap exited with status $?" 2>/dev/null
) | tee "$tmp/debootstrap.log" |
	grep --line-buffered -v -E '^I: (Retrieving|Validating) [^ ]+ [^ ]+$|^I: (Extracting|Unpacking|Configuring) [^ ]+\.\.\.$' |
	sed -u 's/^/images: debootstrap: /' >&2 || true
grep -q '^E: ' "$tmp/debootstrap.log" && die "debootstrap failed"
grep -q '^I: Base system installed successfully' "$tmp/debootstrap.log" ||
	die "debootstrap did not finish"
[ -x "$r/usr/lib/systemd/systemd" ] || die "the tree has no systemd"
say "debootstrap done after ${SECONDS}s"

say "configuring the tree"
# hostel's files, owned by root; mode 0755 for what git marks executable.
(cd "$here/debian/rootfs" && find . -type f) | while read -r f; do
	f=${f#./}
	mode=0644
	[ -x "$here/debian/rootfs/$f" ] && mode=0755
	install -D -o 0 -g 0 -m "$mode" "$here/debian/rootfs/$f" "$r/$f"
done
# Units: enabled by the symlinks `systemctl enable` would make, without
# running the image's systemctl.
sysd=$r/etc/systemd/system
lib=/lib/systemd/system
mkdir -p "$sysd/getty.target.wants" "$sysd/multi-user.target.wants" "$sysd/sockets.target.wants"
ln -sfn "$lib/multi-user.target" "$sysd/default.target"
ln -sfn "$lib/serial-getty@.service" "$sysd/getty.target.wants/serial-getty@ttyS0.service"
ln -sfn /etc/systemd/system/hostel-ready.service "$sysd/multi-user.target.wants/hostel-ready.service"
ln -sfn "$lib/systemd-networkd.service" "$sysd/multi-user.target.wants/systemd-networkd.service"
ln -sfn "$lib/systemd-networkd.socket" "$sysd/sockets.target.wants/systemd-networkd.socket"
for u in "${masked[@]}"; do
	find "$sysd" -name "$u" -type l -delete
	ln -sfn /dev/null "$sysd/$u"
done
for u in hostel-ready.service serial-getty@.service systemd-networkd.service systemd-networkd.socket; do
	[ -f "$r$lib/$u" ] || [ -f "$sysd/$u" ] || die "the tree has no unit $u"
done

# The kernel's modules, for udev to load virtio_net and the rest at boot.
say "copying the modules of $KREL"
mkdir -p "$r/usr/lib/modules"
cp -a "$KDIR/lib/modules/$KREL" "$r/usr/lib/modules/"

# Downloaded packages and indexes: ~100 MB the guest has no use for (run
# apt-get update in the guest to install more).
rm -f "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
find "$r/var/lib/apt/lists" -maxdepth 1 -type f ! -name lock -delete

# The package scripts left /usr newer than what /etc and /var record as
# handled: systemd would run ldconfig, hwdb and catalog updates on the
# first boot. They ran in the chroot already: record them as done.
usr_s=$(stat -c %Y "$r/usr")
usr_ns=$(stat -c %y "$r/usr" | sed -n 's/^[^.]*\.\([0-9]\{9\}\).*/\1/p')
for d in etc var; do
	printf 'TIMESTAMP_NSEC=%s%s\n' "$usr_s" "${usr_ns:-000000000}" >"$r/$d/.updated"
	touch -r "$r/usr" "$r/$d/.updated"
done

say "packing the tree into a $size ext4 image"
truncate -s "$size" "$tmp/debian.img"
mkfs.ext4 -q -F -L debian-root -m 0 -d "$r" "$tmp/debian.img" ||
	die "mkfs.ext4 failed"
e2fsck -fn "$tmp/debian.img" >/dev/null 2>&1 || die "e2fsck finds errors in the new image"

# Into place: the stamp goes first and comes back last, so a run cut short
# between the two renames leaves a build the next run redoes.
rm -f "$stampf"
mv -f "$tmp/debian.img" "$img"
printf '%s\n' "$stamp" >"$tmp/debian.stamp"
mv -f "$tmp/debian.stamp" "$stampf"
rm -f "$log"
if [ -n "${HOSTEL_OWNER:-}" ]; then
	chown "$HOSTEL_OWNER" "$outdir" "$img" "$stampf"
fi
say "Debian image ready after ${SECONDS}s: $img ($(du -h --apparent-size "$img" | cut -f1) apparent, $(du -h "$img" | cut -f1) on disk)"
