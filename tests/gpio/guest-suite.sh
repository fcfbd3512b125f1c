#!/bin/sh
# Payload entry (/payload/run.sh) of tests/gpio/run.sh, run inside the
# Linux 6.1 guest as root. Steps:
#   shell-check   gpio-sim through the uAPI and sysfs, seccomp feature probe
#   gohello       a static Go binary (CGO_ENABLED=0) runs and reads the chip
#   go test ...   every gotest/<package dir>/*.test, run from its package
#                 dir (so testdata/ paths resolve) with the arguments in
#                 ./go-test-args
# Ends with "gpio-suite: N passed, N failed"; exit 0 only when none failed.
set -u
passed=0
failed=0
step() {
	name=$1
	shift
	echo "=== STEP $name"
	start=$(date +%s)
	if "$@"; then
		echo "--- ok:   $name ($(($(date +%s) - start)) s)"
		passed=$((passed + 1))
	else
		echo "--- FAIL: $name ($(($(date +%s) - start)) s)"
		failed=$((failed + 1))
	fi
}

step shell-check sh ./shell-check.sh
step gohello ./gohello

# fgacd doctor on 6.1 must see what 6.1 lacks (SYNC_WAKE_UP 6.6,
# PIDFD_THREAD 6.9) and what it has (ADDFD_FLAG_SEND 5.14,
# WAIT_KILLABLE_RECV 5.19); on the 6.18 host every line says yes
# (cmd/fgacd TestDoctor): the same probes, two kernels.
doctor_check() {
	out=$(./fgacd doctor) || true
	echo "$out"
	echo "$out" | grep -q 'SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP *6.6 *NO' &&
		echo "$out" | grep -q 'PIDFD_THREAD *6.9 *NO' &&
		echo "$out" | grep -q 'SECCOMP_ADDFD_FLAG_SEND *5.14 *yes' &&
		echo "$out" | grep -q 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV *5.19 *yes'
}
if [ -x ./fgacd ]; then
	step "fgacd doctor (6.1 lacks SYNC_WAKE_UP and PIDFD_THREAD)" doctor_check
fi

args=$(cat ./go-test-args 2>/dev/null || echo -test.v)
for t in $(find gotest -name '*.test' 2>/dev/null | sort); do
	d=${t%/*}
	# shellcheck disable=SC2086,SC2016 # args are words on purpose; $1/$@ are the inner sh's
	step "go test ./${d#gotest/}" sh -c 'cd "$1" && shift && exec "$@"' sh "$d" "./${t##*/}" $args
done

echo "gpio-suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
