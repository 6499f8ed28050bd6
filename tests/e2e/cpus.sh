#!/usr/bin/env bash
# SMP: --cpus N gives the guest N online CPUs, each of which runs work and
# has the TSC deadline timer (KVM's local APIC emulates it; CPUID says so
# when KVM_CAP_TSC_DEADLINE_TIMER does), which Linux then uses for its
# timer; an over-large N is a clear usage error.
. "$(dirname "$0")/lib.sh"
require_kvm

host_n=$(nproc)
# Every other e2e test boots one CPU; here 2, 4 and the host's count (one
# boot each: on a 2-core machine nproc is already in the list).
for n in $(printf '%s\n' 2 4 "$host_n" | sort -nu); do
	guest_run "$TMP/out" '
		echo "nproc=$(nproc)"
		echo "online=$(cat /sys/devices/system/cpu/online)"
		echo "deadline=$(grep -c "^flags.* tsc_deadline_timer" /proc/cpuinfo)"
		echo "clockevent=$(cat /sys/devices/system/clockevents/clockevent0/current_device)"
		c=0
		while [ $c -lt $(nproc) ]; do
			# Field 39 of /proc/self/stat: the CPU the process last ran on.
			echo "ran-on=$(taskset -c $c cat /proc/self/stat | cut -d" " -f39)"
			c=$((c + 1))
		done' --cpus "$n"
	[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "--cpus $n: hostel exited $status"; }
	got=$(sed -n 's/^nproc=\([0-9]*\).*/\1/p' "$TMP/out" | tr -d '\r')
	[ "$got" = "$n" ] || fail "--cpus $n: guest nproc says $got"
	want=$(seq 0 $((n - 1)) | tr '\n' ' ')
	ran=$(sed -n 's/^ran-on=\([0-9]*\).*/\1/p' "$TMP/out" | tr -d '\r' | tr '\n' ' ')
	[ "$ran" = "$want" ] || fail "--cpus $n: work ran on CPUs '$ran', want '$want'"
	grep -q -i 'ACPI.*\(error\|warning\)' "$TMP/out" && fail "--cpus $n: ACPI errors in the boot log"
	dl=$(sed -n 's/^deadline=\([0-9]*\).*/\1/p' "$TMP/out" | tr -d '\r')
	[ "$dl" = "$n" ] || fail "--cpus $n: $dl of $n CPUs show tsc_deadline_timer"
	ce=$(sed -n 's/^clockevent=//p' "$TMP/out" | tr -d '\r')
	[ "$ce" = lapic-deadline ] || fail "--cpus $n: CPU 0's timer is '$ce', want lapic-deadline"
	pass "--cpus $n: nproc $got, work ran on every CPU, each with the TSC deadline timer"
done

"$HOSTEL" run --cpus 300 </dev/null >"$TMP/o" 2>"$TMP/e"
st=$?
[ "$st" -eq 2 ] && [ "$(wc -l <"$TMP/e")" -eq 1 ] || fail "--cpus 300: status $st, stderr $(cat "$TMP/e")"
pass "--cpus 300: usage error: $(cat "$TMP/e")"
