# Shared helpers for the image recipes and the test bed's builder (sourced,
# not run). Plain bash; no state outside the cache directory.

# The cache every recipe writes to (the VMM reads the same place, see
# cache_dir() in src/main.c).
hostel_cache() {
	printf '%s\n' "${HOSTEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hostel}"
}

say() { printf 'images: %s\n' "$*" >&2; }
die() {
	printf 'images: error: %s\n' "$*" >&2
	exit 1
}

# apt-get update runs at most once per process, and only when an install
# (or a download the current lists cannot resolve) needs it.
_apt_updated=0
apt_update_once() {
	[ "$_apt_updated" -eq 1 ] && return 0
	say "apt-get update"
	as_root apt-get update -qq >&2 || return 1
	_apt_updated=1
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

pkg_installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# need_pkgs PKG...: install the Debian packages that are missing.
need_pkgs() {
	local missing=() p
	for p in "$@"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	say "installing ${missing[*]}"
	apt_update_once || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# lock_cache NAME: run the rest of the caller under an exclusive lock, so
# two runs of one recipe started at once (parallel tests, two shells) do not
# both build. One lock per recipe: a recipe may run another one.
lock_cache() {
	local root
	root=$(hostel_cache)
	mkdir -p "$root" || die "cannot create the cache $root"
	exec 8>"$root/.lock-$1"
	flock 8 || die "cannot lock $root/.lock-$1"
}

# The kernel the recipes use: sets KREL (uname -r) and KDIR (the unpacked
# tree: KDIR/vmlinuz, KDIR/lib/modules/KREL). Builds it when missing.
kernel_load() {
	local here
	here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	KDIR="$(hostel_cache)/kernel"
	if [ ! -f "$KDIR/VERSION" ] || [ ! -f "$KDIR/vmlinuz" ]; then
		"$here/kernel.sh" || die "images/kernel.sh failed"
	fi
	KREL=$(sed -n 's/^kernel_release=//p' "$KDIR/VERSION")
	[ -n "$KREL" ] && [ -f "$KDIR/lib/modules/$KREL/modules.dep" ] ||
		die "$KDIR is incomplete: remove it and run images/kernel.sh again"
}

# module_closure MODDIR MODULE...: print the module files (relative to
# MODDIR, as modules.dep names them) needed to load every MODULE, each one
# after everything it depends on. modules.dep lists the whole dependency
# closure of a module, deepest last, so its reverse is a valid load order.
# Modules this kernel does not have are reported on stderr and skipped; a
# module built into the kernel needs nothing.
module_closure() {
	local dir=$1
	shift
	awk -v want="$*" -v builtin="$dir/modules.builtin" '
		function norm(p,   b) {
			b = p; sub(/.*\//, "", b); sub(/\.ko(\.(xz|zst|gz))?$/, "", b)
			gsub(/-/, "_", b); return b
		}
		function emit(f) { if (!(f in done)) { done[f] = 1; print f } }
		BEGIN {
			while ((getline l < builtin) > 0) isbuiltin[norm(l)] = 1
		}
		{
			f = $1; sub(/:$/, "", f); n = norm(f)
			path[n] = f; ndeps[n] = NF - 1
			for (i = 2; i <= NF; i++) dep[n, i - 1] = $i
		}
		END {
			c = split(want, w, " ")
			for (k = 1; k <= c; k++) {
				m = w[k]; gsub(/-/, "_", m)
				if (!(m in path)) {
					if (!(m in isbuiltin))
						printf "images: module %s is not in this kernel, skipped\n", w[k] > "/dev/stderr"
					continue
				}
				for (i = ndeps[m]; i >= 1; i--) emit(dep[m, i])
				emit(path[m])
			}
		}' "$dir/modules.dep"
}

# copy_modules MODDIR DEST MODULE...: copy the closure of MODULEs into
# DEST/lib/modules/KREL (uncompressed, so busybox insmod loads them on any
# kernel configuration) and write the load order, one path per line
# relative to /lib/modules/KREL, to DEST/etc/hostel/modules.
copy_modules() {
	local dir=$1 dest=$2 f out rel
	shift 2
	local krel
	krel=$(basename "$dir")
	mkdir -p "$dest/etc/hostel" "$dest/lib/modules/$krel"
	: >"$dest/etc/hostel/modules"
	while read -r f; do
		rel=${f%.xz}
		rel=${rel%.zst}
		rel=${rel%.gz}
		out="$dest/lib/modules/$krel/$rel"
		mkdir -p "$(dirname "$out")"
		case $f in
		*.xz) xz -dc "$dir/$f" >"$out" ;;
		*.zst) zstd -qdc "$dir/$f" >"$out" ;;
		*.gz) gzip -dc "$dir/$f" >"$out" ;;
		*) cp "$dir/$f" "$out" ;;
		esac || die "cannot copy module $f"
		printf '%s\n' "$rel" >>"$dest/etc/hostel/modules"
	done < <(module_closure "$dir" "$@")
}

# install_busybox DEST: Debian's static busybox as DEST/bin/busybox plus a
# link for every applet at its usual path.
install_busybox() {
	local dest=$1 a
	need_pkgs busybox-static
	mkdir -p "$dest/bin" "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin"
	cp /bin/busybox "$dest/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		[ "$a" = bin/busybox ] && continue
		[ -e "$dest/$a" ] || ln -s /bin/busybox "$dest/$a"
	done
}

# make_cpio DIR OUT: pack DIR as a gzip'd newc archive, owned by root,
# written to OUT atomically.
make_cpio() {
	local dir=$1 out=$2
	(cd "$dir" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --reproducible --quiet) | gzip -9n >"$out.tmp" ||
		die "cannot write $out"
	mv -f "$out.tmp" "$out"
}

# inputs_hash FILE...: one hash over the named files' contents and names.
inputs_hash() {
	local f
	for f in "$@"; do
		printf '%s %s\n' "$(sha256_of "$f")" "$(basename "$f")"
	done | sha256sum | cut -d' ' -f1
}

# recipe_args "$@": the options of a recipe that builds into the cache:
# --quiet, --force, --help (prints the recipe's header comment). Sets
# quiet and force.
recipe_args() {
	quiet=0 force=0
	local a
	for a in "$@"; do
		case $a in
		--quiet) quiet=1 ;;
		--force) force=1 ;;
		-h | --help)
			sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
			exit 0
			;;
		*) die "unknown option $a (see --help)" ;;
		esac
	done
}
