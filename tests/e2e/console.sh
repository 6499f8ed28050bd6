#!/usr/bin/env bash
# Typing into the guest's shell: input on hostel's stdin reaches the guest
# through the UART and the shell runs it.
. "$(dirname "$0")/lib.sh"
require_kvm

mkfifo "$TMP/in"
timeout -k 10 "$GUEST_BOUND" "$HOSTEL" run <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/in"
# Wait (on output, not on time) for the guest to be ready before typing.
# tail --pid ends when hostel does, so a dead guest cannot hang the wait.
tail -n +1 -f --pid="$pid" "$TMP/out" | grep -m1 -q '^hostel-guest: ready'
grep -q '^hostel-guest: ready' "$TMP/out" || { exec 3>&-; wait "$pid"; tail -20 "$TMP/out"; fail "no ready line"; }
printf 'echo typed-$((6*7))\n' >&3
printf 'reboot -f\n' >&3
wait "$pid"
status=$?
exec 3>&-
[ "$status" -eq 0 ] || { tail -20 "$TMP/out"; fail "hostel exited $status"; }
grep -q 'typed-42' "$TMP/out" || { tail -20 "$TMP/out"; fail "typed command did not run"; }
pass "typed input reached the guest shell"
