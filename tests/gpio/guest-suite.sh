#!/bin/sh
# Payload entry (/payload/run.sh) of tests/gpio/run.sh, run inside the
# Linux 6.1 guest as root. Steps:
#   shell-check   gpio-sim through the uAPI and sysfs, seccomp feature probe
#   gohello       a static Go binary (CGO_ENABLED=0) runs and reads the chip
#   fgacd doctor  the 6.1 feature probes
#   gpio bench    a line request brokered by the real fgacd against a native
#                 one, and an unrelated open under fgacd against a native one
#                 (bench/c/tracee.c); prints figures, asserts no time
#   example: blink under fgac-run --gpio
#                 examples/gpio-app/blink.c, a plain GPIO program, run
#                 unmodified by a static fgac-run as uid 65534 against the
#                 real fgacd: lines 1 and 2 granted (values checked in
#                 gpio-sim's sysfs while it holds them), lines 1 2 3 refused
#                 with EPERM and left free
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
		echo "$out" | grep -q 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV *5.19 *yes' &&
		echo "$out" | grep -q 'GPIO character device (gpiochip) *4.8 *yes' &&
		echo "$out" | grep -q "GPIO chip gpiochip0: label \"$FGACD_GPIO_LABEL\", 8 lines"
}
if [ -x ./fgacd ]; then
	step "fgacd doctor (6.1 lacks SYNC_WAKE_UP and PIDFD_THREAD)" doctor_check
fi

# fgacd check on the device knows the chips: a gpio_line rule naming a
# line the chip labelled fgacd-sim (8 lines) does not have is an error.
check_lines() {
	d=$(mktemp -d)
	for l in 7 40; do
		cat >"$d/p$l.toml" <<EOF
version = 1
[[profile]]
name = "p"
  [profile.match]
  uid = [1000]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["$FGACD_GPIO_LABEL"]
    lines = [1, $l]
EOF
	done
	./fgacd check "$d/p7.toml" || return 1
	out=$(./fgacd check "$d/p40.toml" 2>&1) && return 1
	echo "$out" | grep -q ": ok" && return 1
	echo "$out"
	echo "$out" | grep -q 'line 40 is beyond chip'
}
if [ -x ./fgacd ]; then
	step "fgacd check: lines beyond the chip" check_lines
fi

# gpio bench: the real fgacd binary (not the Go test harness, which shares a
# process with the test and logs at debug) and the C tracee, in this guest.
# The tracee times GPIO_V2_GET_LINE_IOCTL for lines 1 and 2 as outputs +
# close of the line fd, on a chip fd opened once: natively as root, then as
# uid 65534 under its own filter (opens and the line-request ioctls go to
# fgacd), where fgacd hands out a handle for the chip (no gpio_open rule),
# decides the request, makes it and installs the line fd. For context it
# also times openat+close of /etc/passwd as uid 65534, natively and under
# the same filter (fgacd reads the path and answers CONTINUE). Medians of
# -b batches; the guest runs under TCG, about 30x slower than the host, so
# the counts are small and only the ratio means anything. Passes when no
# run saw an unexpected result; no time is asserted.
GPIO_BENCH_CALLS=${FGACD_GPIO_BENCH_CALLS:-300}
OPEN_BENCH_CALLS=${FGACD_GPIO_BENCH_OPEN_CALLS:-3000}
# bench_tracee LABEL ARGS...: runs the tracee, prints its line, sets med
# (ns per call); fails unless the run was clean.
bench_tracee() {
	label=$1
	shift
	med=
	line=$(./fgacd-bench-tracee "$@")
	trc=$?
	echo "gpio-bench: $label: $line"
	case $line in
	*" unexpected=0") ;;
	*) return 1 ;;
	esac
	[ "$trc" -eq 0 ] || return 1
	med=$(echo "$line" | sed -n 's/.*median=\([0-9]*\).*/\1/p')
	[ -n "$med" ]
}
us() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1000 }'; }
gpio_bench() {
	d=/tmp/fgacd-bench
	sock=/tmp/fgacd-bench.sock
	rm -rf "$d" "$sock"
	mkdir -p "$d/policy"
	cat >"$d/policy/bench.toml" <<'TOML'
version = 1
[[profile]]
name = "gpio-bench"
  [profile.match]
  uid = [65534]
  [[profile.rule]]
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["fgacd-sim"]
    lines = [1, 2]
TOML
	ok=0
	gargs="-G $FGACD_GPIO_CHIP -n $GPIO_BENCH_CALLS -b 3 -w 30"
	oargs="-O /etc/passwd -n $OPEN_BENCH_CALLS -b 3 -w 100 -u 65534"
	# shellcheck disable=SC2086 # $gargs and $oargs are words on purpose
	bench_tracee "native line request, root" -N $gargs && gn=$med &&
		bench_tracee "native open, uid 65534" -N $oargs && on=$med || ok=1
	./fgacd run -config /dev/null -socket "$sock" -policy-dir "$d/policy" -admin off \
		-metrics off -log-level warn 2>"$d/fgacd.log" &
	fpid=$!
	i=0
	while [ ! -S "$sock" ]; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$fpid" 2>/dev/null; then
			echo "gpio-bench: fgacd did not create $sock"
			ok=1
			break
		fi
		sleep 0.1
	done
	if [ -S "$sock" ]; then
		# shellcheck disable=SC2086
		bench_tracee "brokered line request, uid 65534" -s "$sock" -u 65534 $gargs && gf=$med &&
			bench_tracee "open under fgacd, uid 65534" -s "$sock" $oargs && of=$med || ok=1
	fi
	kill "$fpid" 2>/dev/null
	wait "$fpid"
	if [ -s "$d/fgacd.log" ]; then
		echo "gpio-bench: fgacd log:"
		cat "$d/fgacd.log"
	fi
	[ "$ok" -eq 0 ] || return 1
	echo "gpio-bench: line request (2 lines) + close: native $(us "$gn") µs, brokered $(us "$gf") µs, ratio $(awk -v b="$gf" -v n="$gn" 'BEGIN { printf "%.1f", b / n }')"
	echo "gpio-bench: unrelated open+close: native $(us "$on") µs, under fgacd $(us "$of") µs"
}
if [ -x ./fgacd ] && [ -x ./fgacd-bench-tracee ]; then
	step "gpio bench" gpio_bench
fi

# example: blink under fgac-run --gpio. examples/gpio-app/blink.c has no
# seccomp code: fgac-run drops to uid 65534, loads the filter (--gpio: opens
# and the line-request ioctls go to fgacd) and execs it. The profile grants
# lines 1 and 2 of fgacd-sim as outputs and no gpio_open, so blink's open of
# the chip gets a handle (it prints what its fd is) and its request for
# lines 1 and 2 is made by fgacd. gpio-sim shows an output's value in
# sim_gpioN/value only while the line is requested (on release the line goes
# back to its pull, pull-down unless set), so blink holds the lines (-hold)
# while the values are read, and is then stopped with SIGTERM, on which it
# releases them and exits 0. Lines 1 2 3 are refused as a whole (EPERM), and
# root can then take lines 1, 2 and 3 natively: nothing was left held.
# sim_value LINE: prints gpio-sim's value of LINE.
sim_value() { cat "$FGACD_GPIO_SIM_SYSFS/sim_gpio$1/value"; }
# expect_values WHAT V0 V1 V2 V3: checks sysfs values of lines 0-3.
expect_values() {
	what=$1
	shift
	got="$(sim_value 0) $(sim_value 1) $(sim_value 2) $(sim_value 3)"
	echo "blink-example: $what: sysfs values of lines 0-3: $got (want $*)"
	[ "$got" = "$*" ]
}
blink_example() {
	d=/tmp/fgacd-blink
	sock=$d/fgacd.sock
	rm -rf "$d"
	mkdir -p "$d/policy"
	cat >"$d/policy/blink.toml" <<TOML
version = 1
[[profile]]
name = "blink"
description = "examples/gpio-app: lines 1 and 2 of the simulated chip as outputs"
  [profile.match]
  uid = [65534]
  [[profile.rule]]
  name = "leds"
  syscall = "gpio_line"
  action = "emulate"
    [profile.rule.gpio_line]
    chip = ["$FGACD_GPIO_LABEL"]
    lines = [1, 2]
    flags = ["output"]
TOML
	./fgacd run -config /dev/null -socket "$sock" -policy-dir "$d/policy" -admin off \
		-metrics off -log-format console 2>"$d/fgacd.log" &
	fpid=$!
	# bfail, not ok: the two parts below set ok for themselves.
	bfail=0
	i=0
	while [ ! -S "$sock" ]; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$fpid" 2>/dev/null; then
			echo "blink-example: fgacd did not create $sock"
			bfail=1
			break
		fi
		sleep 0.1
	done
	if [ "$bfail" -eq 0 ]; then
		blink_granted || bfail=1
		blink_refused || bfail=1
	fi
	kill "$fpid" 2>/dev/null
	wait "$fpid"
	echo "blink-example: fgacd log:"
	sed 's/^/  /' "$d/fgacd.log"
	return "$bfail"
}
blink_granted() {
	out=$d/granted.out
	echo "blink-example: \$ fgac-run --socket $sock --user 65534 --gpio -- ./blink -n 4 -period 50 -hold 60 $FGACD_GPIO_CHIP 1 2"
	./fgac-run --socket "$sock" --user 65534 --gpio -- \
		./blink -n 4 -period 50 -hold 60 "$FGACD_GPIO_CHIP" 1 2 >"$out" 2>&1 &
	bpid=$!
	ok=0
	i=0
	until grep -q '^blink: holding' "$out"; do
		i=$((i + 1))
		if [ "$i" -gt 300 ] || ! kill -0 "$bpid" 2>/dev/null; then
			echo "blink-example: blink did not get to hold its lines"
			ok=1
			break
		fi
		sleep 0.1
	done
	if [ "$ok" -eq 0 ]; then
		expect_values "while blink holds lines 1 2 high" 0 1 1 0 || ok=1
		# blink runs as uid 65534 and holds the line fd fgacd installed,
		# and no fd of the chip (it closed the handle after the request).
		fds=$(for f in /proc/"$bpid"/fd/*; do readlink "$f"; done | tr '\n' ' ')
		echo "blink-example: blink (pid $bpid) runs as uid $(stat -c %u "/proc/$bpid"), its fds: $fds"
		[ "$(stat -c %u "/proc/$bpid")" = 65534 ] || ok=1
		case " $fds" in
		*" anon_inode:gpio-line "*) ;;
		*)
			echo "blink-example: blink holds no line fd"
			ok=1
			;;
		esac
		case "$fds" in
		*gpiochip*)
			echo "blink-example: blink holds an fd of the chip"
			ok=1
			;;
		esac
	fi
	kill -TERM "$bpid" 2>/dev/null
	wait "$bpid"
	brc=$?
	sed 's/^/  /' "$out"
	echo "blink-example: exit status $brc (want 0)"
	[ "$brc" -eq 0 ] || ok=1
	grep -q '^blink: opened .*: fd [0-9]* is /memfd:fgacd gpiochip [0-9]*:[0-9]* fgacd-sim' "$out" || {
		echo "blink-example: blink's chip fd was not fgacd's handle"
		ok=1
	}
	for want in '^blink: requested lines 1 2 as outputs' \
		'^blink: toggle 4: set lines 1 2 = 1 0, read back 1 0$' \
		'^blink: final: set lines 1 2 = 1 1, read back 1 1$' \
		'^blink: released lines 1 2$'; do
		grep -q "$want" "$out" || {
			echo "blink-example: no line matching $want in blink's output"
			ok=1
		}
	done
	expect_values "after blink released its lines" 0 0 0 0 || ok=1
	return "$ok"
}
blink_refused() {
	echo "blink-example: \$ fgac-run --socket $sock --user 65534 --gpio -- ./blink $FGACD_GPIO_CHIP 1 2 3"
	out=$(./fgac-run --socket "$sock" --user 65534 --gpio -- ./blink "$FGACD_GPIO_CHIP" 1 2 3 2>&1)
	brc=$?
	ok=0
	echo "$out" | sed 's/^/  /'
	echo "blink-example: exit status $brc (want 1)"
	[ "$brc" -eq 1 ] || ok=1
	echo "$out" | grep -q '^blink: request lines 1 2 3: Operation not permitted (EPERM)$' || {
		echo "blink-example: no EPERM for lines 1 2 3"
		ok=1
	}
	echo "$out" | grep -q '^blink: requested' && ok=1
	# Nothing stayed held: root takes the same three lines natively.
	echo "blink-example: \$ ./blink -n 0 $FGACD_GPIO_CHIP 1 2 3   (root, no fgacd)"
	out=$(./blink -n 0 "$FGACD_GPIO_CHIP" 1 2 3 2>&1)
	brc=$?
	echo "$out" | sed 's/^/  /'
	[ "$brc" -eq 0 ] || {
		echo "blink-example: lines 1 2 3 are not free after the refused request (exit $brc)"
		ok=1
	}
	return "$ok"
}
if [ -x ./fgacd ] && [ -x ./fgac-run ] && [ -x ./blink ]; then
	step "example: blink under fgac-run --gpio" blink_example
fi

args=$(cat ./go-test-args 2>/dev/null || echo -test.v)
for t in $(find gotest -name '*.test' 2>/dev/null | sort); do
	d=${t%/*}
	# shellcheck disable=SC2086,SC2016 # args are words on purpose; $1/$@ are the inner sh's
	step "go test ./${d#gotest/}" sh -c 'cd "$1" && shift && exec "$@"' sh "$d" "./${t##*/}" $args
done

echo "gpio-suite: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
