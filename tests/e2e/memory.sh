#!/usr/bin/env bash
# The guest sees the RAM it was given, including above the hole below 4 GiB.
. "$(dirname "$0")/lib.sh"
require_kvm

for mib in 128 1024 3584; do
	guest_run "$TMP/out" 'grep MemTotal /proc/meminfo' --memory "${mib}M"
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "--memory ${mib}M: hostel exited $status"; }
	kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB.*/\1/p' "$TMP/out" | head -1)
	[ -n "$kb" ] || fail "--memory ${mib}M: no MemTotal line"
	# MemTotal is RAM minus what the kernel reserves for itself: between
	# 80% and 100% of what was given.
	given=$((mib * 1024))
	[ "$kb" -le "$given" ] && [ "$kb" -ge $((given * 80 / 100)) ] ||
		fail "--memory ${mib}M: guest MemTotal ${kb} kB is not within 80-100% of ${given} kB"
	pass "--memory ${mib}M: MemTotal ${kb} kB"
done
