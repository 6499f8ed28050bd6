#!/usr/bin/env bash
# The guest kernel: Debian's stock x86-64 kernel, the package that the
# meta-package linux-image-amd64 depends on, fetched with `apt-get download`
# and unpacked with `dpkg -x` (no install, no root needed for the unpack).
#
#   images/kernel.sh [--quiet] [--update]
#
# Writes $CACHE/kernel/ (CACHE: $HOSTEL_CACHE, else $XDG_CACHE_HOME/hostel,
# else ~/.cache/hostel):
#   vmlinuz                 the bzImage
#   lib/modules/REL/        the modules, with a modules.dep made by depmod
#   config, System.map      from the package, for reference
#   VERSION                 package, version, kernel release, sha256s
# The package and version resolved by the first fetch are pinned in VERSION:
# later runs reuse the cache and do nothing. --update resolves again and
# refetches when linux-image-amd64 now points at another kernel. --quiet
# prints nothing when there is nothing to do.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

quiet=0 update=0
for a in "$@"; do
	case $a in
	--quiet) quiet=1 ;;
	--update) update=1 ;;
	-h | --help)
		sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown option $a (see --help)" ;;
	esac
done

root=$(hostel_cache)
out=$root/kernel

complete() {
	[ -f "$out/VERSION" ] && [ -f "$out/vmlinuz" ] || return 1
	local rel
	rel=$(sed -n 's/^kernel_release=//p' "$out/VERSION")
	[ -n "$rel" ] && [ -f "$out/lib/modules/$rel/modules.dep" ]
}
field() { sed -n "s/^$1=//p" "$out/VERSION"; }

if [ "$update" -eq 0 ] && complete; then
	[ "$quiet" -eq 1 ] || say "kernel $(field package) $(field version) is cached in $out"
	exit 0
fi

lock_cache kernel
# Another run may have finished while this one waited for the lock.
if [ "$update" -eq 0 ] && complete; then
	[ "$quiet" -eq 1 ] || say "kernel $(field package) $(field version) is cached in $out"
	exit 0
fi

need_pkgs dpkg apt kmod

# resolve: print "PACKAGE VERSION" of the kernel linux-image-amd64 depends on.
resolve() {
	local cand dep
	cand=$(apt-cache policy linux-image-amd64 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$cand" ] && [ "$cand" != "(none)" ] || return 1
	dep=$(apt-cache show "linux-image-amd64=$cand" 2>/dev/null | sed -n 's/^Depends: //p' | head -1)
	# e.g. "linux-image-6.1.0-56-amd64 (= 6.1.192-2)"
	printf '%s\n' "$dep" | tr ',' '\n' |
		sed -n 's/^ *\(linux-image-[0-9][^ ]*\) *(= *\([^)]*\)).*/\1 \2/p' | head -1
}

pkg="" ver=""
if [ "$update" -eq 0 ] && [ -f "$out/VERSION" ]; then
	# Pinned by an earlier fetch: fetch that same kernel again.
	pkg=$(field package)
	ver=$(field version)
fi
if [ -z "$pkg" ]; then
	r=$(resolve || true)
	if [ -z "$r" ]; then
		apt_update_once || die "apt-get update failed"
		r=$(resolve || true)
	fi
	[ -n "$r" ] || die "cannot resolve the kernel package linux-image-amd64 depends on"
	read -r pkg ver <<<"$r"
fi
if [ "$update" -eq 1 ] && complete && [ "$(field package)" = "$pkg" ] &&
	[ "$(field version)" = "$ver" ]; then
	[ "$quiet" -eq 1 ] || say "kernel $pkg $ver is current, cached in $out"
	exit 0
fi

tmp=$(mktemp -d "$root/kernel.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

say "fetching $pkg $ver"
# As root, apt drops to its sandbox user, which cannot write into a cache
# under a private home: download as root instead (dpkg -x runs unprivileged
# work only: it unpacks, runs no maintainer script).
sandbox=()
[ "$(id -u)" -ne 0 ] || sandbox=(-o APT::Sandbox::User=root)
fetch() { (cd "$tmp" && apt-get download -q "${sandbox[@]}" "$pkg=$ver" >&2); }
if ! fetch; then
	# Stale package lists point at files the mirror no longer has.
	apt_update_once || die "apt-get update failed"
	fetch || die "apt-get download $pkg=$ver failed (to pin another kernel: $0 --update)"
fi
deb=$(ls "$tmp"/*.deb)

say "unpacking $(basename "$deb")"
mkdir -p "$tmp/x"
dpkg -x "$deb" "$tmp/x"
rel=$(ls "$tmp/x/lib/modules" 2>/dev/null | head -1)
[ -n "$rel" ] && [ -f "$tmp/x/boot/vmlinuz-$rel" ] || die "$pkg has no vmlinuz/modules where expected"

mkdir -p "$tmp/k/lib/modules"
mv "$tmp/x/boot/vmlinuz-$rel" "$tmp/k/vmlinuz"
mv "$tmp/x/lib/modules/$rel" "$tmp/k/lib/modules/$rel"
[ -f "$tmp/x/boot/config-$rel" ] && mv "$tmp/x/boot/config-$rel" "$tmp/k/config"
[ -f "$tmp/x/boot/System.map-$rel" ] && mv "$tmp/x/boot/System.map-$rel" "$tmp/k/System.map"

say "generating modules.dep for $rel"
depmod -b "$tmp/k" "$rel" || die "depmod failed"

cat >"$tmp/k/VERSION" <<EOF
package=$pkg
version=$ver
kernel_release=$rel
vmlinuz_sha256=$(sha256_of "$tmp/k/vmlinuz")
deb=$(basename "$deb")
deb_sha256=$(sha256_of "$deb")
fetched=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF

# Swap the new tree in as a whole: readers never see a half-written kernel.
if [ -e "$out" ]; then
	mv "$out" "$tmp/old"
fi
mv "$tmp/k" "$out"
say "kernel $pkg $ver ready in $out"
