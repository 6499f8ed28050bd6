# Shared helpers for the shell-driven e2e tests (sourced, not run).
# Every test boots real guests with the real hostel binary ($HOSTEL).
set -uo pipefail

: "${HOSTEL:?HOSTEL must point at the hostel binary (meson sets it)}"
# Bound on one guest run: a hang guard, never a timing assertion.
GUEST_BOUND=${GUEST_BOUND:-600}
TMP=$(mktemp -d "${HOSTEL_BUILD_ROOT:-/tmp}/e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }

require_kvm() {
	if ! { exec 9<>/dev/kvm; } 2>/dev/null; then
		echo "SKIP: no usable /dev/kvm (run the e2e suite through tests/run-e2e, which uses the test bed)"
		exit 77
	fi
	exec 9>&-
}

b64() { printf '%s' "$1" | base64 -w0; }

# guest_run OUT SCRIPT [hostel run options...]: boot the default guest,
# run SCRIPT (sh) in it, wait for hostel to exit. Sets $status to hostel's
# exit status; the console transcript is in OUT.
guest_run() {
	local out=$1 script=$2
	shift 2
	timeout -k 10 "$GUEST_BOUND" "$HOSTEL" run --cmdline "hostel.cmd=$(b64 "$script")" "$@" \
		</dev/null >"$out" 2>"$out.err"
	status=$?
	if [ "$status" -eq 124 ]; then
		tail -20 "$out"
		fail "hostel did not exit within ${GUEST_BOUND}s"
	fi
}

# The guest's ready line and the status its command returned.
expect_ready() { grep -q '^hostel-guest: ready uptime=' "$1" || { tail -30 "$1"; cat "$1.err"; fail "no ready line in $1"; }; }
guest_status() { sed -n 's/^hostel-guest: exit-status=\([0-9]*\).*/\1/p' "$1" | tr -d '\r' | tail -1; }
