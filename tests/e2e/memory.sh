#!/usr/bin/env bash
# The guest sees the RAM it was given, including above the hole below 4 GiB.
. "$(dirname "$0")/lib.sh"
require_kvm

# Small, and split around the 3-4 GiB hole (RAM above 4 GiB too).
for mib in 128 3584; do
	guest_run "$TMP/out" 'grep MemTotal /proc/meminfo' --memory "${mib}M"
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "--memory ${mib}M: hostel exited $status"; }
	kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB.*/\1/p' "$TMP/out" | head -1)
	[ -n "$kb" ] || fail "--memory ${mib}M: no MemTotal line"
	# MemTotal is RAM minus what the kernel keeps for itself (its image,
	# about 50 MiB for Debian's, page structs and other tables growing with
	# RAM, about 4%): at most 64 MiB + 4% below what was given, never above.
	given=$((mib * 1024))
	least=$((given - 65536 - given / 25))
	[ "$kb" -le "$given" ] && [ "$kb" -ge "$least" ] ||
		fail "--memory ${mib}M: guest MemTotal ${kb} kB is not within [${least}, ${given}] kB"
	pass "--memory ${mib}M: MemTotal ${kb} kB"
done
