#!/usr/bin/env bash
# make bench: fgacd against a minimal C supervisor (bench/c/super.c), on the
# same syscall, same tracee, same machine, in this one invocation. Absolute
# times move between runs and machines; the ratios are the figures.
#
#   deny round trip        policy denies mknodat without reading arguments
#   path-checked decision  the path is read (process_vm_readv) and checked;
#                          C: read 256 B + ID_VALID + prefix compare
#   tmpfs mount+umount     fgacd emulating both for uid 65534, against a
#                          native root mount+umount (C: no supervisor);
#                          also the C supervisor emulating them with the
#                          same steps and no policy (super.c -m mount): the
#                          floor of the design on this machine
#   unrelated openat       the filter traps every openat (fgacd brokers
#                          /dev/gpiochipN); openat+close of a plain file
#                          that fgacd lets through (CONTINUE after reading
#                          the path), against the C supervisor answering
#                          CONTINUE unread; native openat+close also timed
#   allocations            Go heap allocations per notification in fgacd,
#                          from go_memstats_mallocs_total around a run
#
# Env: CALLS (default 200000), ROUNDS (default 3), IDLE (listeners, default
# 1000), MODES (default "deny path mount open"; empty: only the idle
# measurement), MOUNT_CALLS (default 4000).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
calls=${CALLS:-200000}
rounds=${ROUNDS:-3}
work=$(mktemp -d /tmp/fgacd-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -Wall -Wextra -o "$work/tracee" "$root/bench/c/tracee.c"
cc -O2 -Wall -Wextra -o "$work/csuper" "$root/bench/c/super.c"
cc -O2 -Wall -Wextra -o "$work/cpuloop" "$root/bench/c/cpuloop.c"
mkdir -p "$work/deny" "$work/path"
cat >"$work/deny/bench.toml" <<'TOML'
version = 1
[[profile]]
name = "bench-deny"
  [profile.match]
  uid = [65534]
  [[profile.rule]]
  syscall = "mknod"
  action = "deny"
TOML
cat >"$work/path/bench.toml" <<'TOML'
version = 1
[[profile]]
name = "bench-path"
  [profile.match]
  uid = [65534]
  [[profile.rule]]
  syscall = "mknod"
  action = "emulate"
    [profile.rule.mknod]
    path = ["/tmp/fgacd-demo/null"]
    type = ["char"]
    major = [1]
    minor = [3]
TOML

mkdir -p "$work/mount" "$work/mnt"
cat >"$work/mount/bench.toml" <<TOML
version = 1
[[profile]]
name = "bench-mount"
  [profile.match]
  uid = [65534]
  [[profile.rule]]
  syscall = "mount"
  action = "emulate"
    [profile.rule.mount]
    fstype = ["tmpfs"]
    target = ["$work/mnt"]
    force_flags = ["nosuid", "nodev"]
      [profile.rule.mount.options]
      size = "<=1m"
  [[profile.rule]]
  syscall = "umount"
  action = "emulate"
    [profile.rule.umount]
    target = ["$work/mnt"]
TOML

# open: a plain file uid 65534 may read, outside the policy directory; its
# name does not start with "gpiochip", so fgacd answers CONTINUE.
mkdir -p "$work/open"
ofile="$work/open-target"
echo bench >"$ofile"
chmod 644 "$ofile"
cat >"$work/open/bench.toml" <<'TOML'
version = 1
[[profile]]
name = "bench-open"
  [profile.match]
  uid = [65534]
  [[profile.rule]]
  syscall = "gpio_open"
  action = "emulate"
    [profile.rule.gpio_open]
    chip = ["bench-none"]
TOML

port=$((20000 + RANDOM % 20000))
tracee() { # SOCKET [ARGS] -> "median_ns"
	local line s=$1
	shift
	line=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$work/tracee" -s "$s" -n "$calls" "$@")
	[[ "$line" == *"unexpected=0"* ]] || { echo "bench: tracee: $line" >&2; exit 1; }
	sed -E 's/.*median=([0-9]+).*/\1/' <<<"$line"
}
wait_sock() { for _ in $(seq 200); do [[ -S "$1" ]] && return 0; sleep 0.05; done; echo "bench: no socket $1" >&2; exit 1; }
mallocs() { curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1=="go_memstats_mallocs_total"{printf "%d", $2}'; }

ce_run() { # -> ns: the C supervisor emulating mount+umount as fgacd does
	local s="$work/ce.sock" p
	rm -f "$s"
	(umask 0 && exec "$work/csuper" -s "$s" -m mount -t "$work/mnt" >/dev/null 2>&1) &
	p=$!
	wait_sock "$s"
	calls=$mcalls tracee "$s" -M "$work/mnt"
	wait "$p" 2>/dev/null || true
}
c_run() { # MODE -> ns
	if [[ $1 == mount ]]; then # the baseline is a native root mount+umount
		local line
		line=$("$work/tracee" -N -M "$work/mnt" -n "$mcalls")
		[[ "$line" == *"unexpected=0"* ]] || { echo "bench: native mount: $line" >&2; exit 1; }
		sed -E 's/.*median=([0-9]+).*/\1/' <<<"$line"
		return
	fi
	local s="$work/c.sock"
	rm -f "$s"
	if [[ $1 == open ]]; then # C answers CONTINUE without reading anything
		(umask 0 && exec "$work/csuper" -s "$s" -m continue >/dev/null) &
	else
		(umask 0 && exec "$work/csuper" -s "$s" -m "$1" >/dev/null) &
	fi
	local p=$!
	wait_sock "$s"
	if [[ $1 == open ]]; then tracee "$s" -O "$ofile"; else tracee "$s"; fi
	wait "$p" 2>/dev/null || true
}
n_run() { # MODE -> ns: the timed call with no filter, as uid 65534 (open only)
	local line
	line=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$work/tracee" -N -O "$ofile" -n "$calls")
	[[ "$line" == *"unexpected=0"* ]] || { echo "bench: native $1: $line" >&2; exit 1; }
	sed -E 's/.*median=([0-9]+).*/\1/' <<<"$line"
}
g_run() { # MODE -> "ns allocs_per_call"; runs in $(...), so set -e is off here
	local s="$work/g.sock"
	rm -f "$s"
	"$root/bin/fgacd" run -config /dev/null -socket "$s" -policy-dir "$work/$1" -admin off \
		-metrics "127.0.0.1:$port" -log-level warn 2>>"$work/fgacd.log" &
	local p=$!
	pids+=("$p")
	wait_sock "$s"
	local m0 m1 ns n=$calls args=()
	case $1 in
	mount) n=$mcalls args=(-M "$work/mnt") ;;
	open) args=(-O "$ofile") ;;
	esac
	m0=$(mallocs)
	# A failed tracee must fail the run, not print an empty time; this
	# subshell's pids+= never reaches cleanup, so stop fgacd here.
	ns=$(calls=$n tracee "$s" "${args[@]}") || { kill "$p"; exit 1; }
	m1=$(mallocs)
	kill "$p"
	wait "$p" 2>/dev/null || true
	echo "$ns $(awk -v a="$m0" -v b="$m1" -v n="$((n + 1000))" 'BEGIN{printf "%.3f", (b-a)/n}')"
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }

declare -A res
modes=${MODES-deny path mount open}
mcalls=${MOUNT_CALLS:-4000}
for mode in $modes; do
	cs=() gs=() as=() na=() ce=()
	for r in $(seq "$rounds"); do
		if [[ $mode == open ]]; then na+=("$(n_run "$mode")"); fi
		if [[ $mode == mount ]]; then ce+=("$(ce_run)"); fi
		cs+=("$(c_run "$mode")")
		gr=$(g_run "$mode") || { echo "bench: fgacd $mode failed; $work/fgacd.log ends:" >&2; tail -n 3 "$work/fgacd.log" >&2; exit 1; }
		read -r g a <<<"$gr"
		gs+=("$g")
		as+=("$a")
	done
	res[$mode.c]=$(printf '%s\n' "${cs[@]}" | median)
	res[$mode.g]=$(printf '%s\n' "${gs[@]}" | median)
	res[$mode.a]=$(printf '%s\n' "${as[@]}" | median)
	if [[ $mode == open ]]; then res[$mode.n]=$(printf '%s\n' "${na[@]}" | median); fi
	if [[ $mode == mount ]]; then res[$mode.e]=$(printf '%s\n' "${ce[@]}" | median); fi
done

# The filter's cost on what fgacd does not broker, and --spec-allow on a
# CPU-bound loop: the same program bare, under fgac-run, and under
# fgac-run --spec-allow (fgacd running, no call ever trapped).
s="$work/f.sock"
rm -f "$s"
"$root/bin/fgacd" run -config /dev/null -socket "$s" -policy-dir "$work/deny" -admin off -metrics off -log-level warn 2>>"$work/fgacd.log" &
fp=$!
pids+=("$fp")
wait_sock "$s"
loop() { # MODE N [fgac-run flags...] -> picoseconds per op (median)
	local mode=$1 n=$2
	shift 2
	if [[ $# -gt 0 && $1 == bare ]]; then
		setpriv --reuid 65534 --regid 65534 --clear-groups "$work/cpuloop" "$mode" "$n"
	else
		"$root/bin/fgac-run" --socket "$s" --user 65534 "$@" -- "$work/cpuloop" "$mode" "$n"
	fi | sed -E 's/.*median=([0-9]+).*/\1/'
}
declare -A fl
for r in $(seq "$rounds"); do
	fl[sb]+="$(loop syscall 2000000 bare) " fl[sf]+="$(loop syscall 2000000) "
	fl[cb]+="$(loop cpu 200000000 bare) " fl[cf]+="$(loop cpu 200000000) " fl[ca]+="$(loop cpu 200000000 --spec-allow) "
done
kill "$fp"
med() { tr ' ' '\n' | grep . | median; }

# Idle listeners: what each costs the daemon in memory and threads.
idle=${IDLE:-1000}
s="$work/i.sock"
rm -f "$s"
"$root/bin/fgacd" run -config /dev/null -socket "$s" -policy-dir "$work/deny" -admin off \
	-metrics "127.0.0.1:$port" -log-level warn 2>>"$work/fgacd.log" &
ip=$!
pids+=("$ip")
wait_sock "$s"
rss() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
threads() { awk '/^Threads/{print $2}' "/proc/$1/status"; }
sessions() { curl -fsS "http://127.0.0.1:$port/metrics" | awk '$1=="fgacd_sessions"{printf "%d", $2}'; }
rss0=$(rss "$ip")
thr0=$(threads "$ip")
for _ in $(seq "$idle"); do
	setpriv --reuid 65534 --regid 65534 --clear-groups "$work/tracee" -s "$s" -I >/dev/null &
	pids+=("$!")
done
for _ in $(seq 600); do [[ "$(sessions)" == "$idle" ]] && break; sleep 0.1; done
[[ "$(sessions)" == "$idle" ]] || { echo "bench: only $(sessions) of $idle idle sessions" >&2; exit 1; }
sleep 1
rss1=$(rss "$ip")
thr1=$(threads "$ip")

ratio() { awk -v g="$1" -v c="$2" 'BEGIN{printf "%.2f", g/c}'; }
us() { awk -v n="$1" 'BEGIN{printf "%.1f", n/1000}'; }
echo "fgacd bench: $calls calls per run ($mcalls for mount), $rounds rounds, medians; kernel $(uname -r), $(nproc) CPUs"
[[ -n "$modes" ]] && printf '%-24s %10s %10s %8s %8s %s\n' "" "C µs" "fgacd µs" "ratio" "target" "allocs/notification"
declare -A label=([deny]="deny round trip" [path]="path-checked decision" [mount]="tmpfs mount+umount"
	[open]="unrelated openat+close")
declare -A target=([deny]="<=1.05" [path]="<=1.10" [mount]="<=3" [open]="<=1.5")
for mode in $modes; do
	printf '%-24s %10s %10s %8s %8s %s\n' "${label[$mode]}" "$(us "${res[$mode.c]}")" "$(us "${res[$mode.g]}")" \
		"$(ratio "${res[$mode.g]}" "${res[$mode.c]}")" "${target[$mode]}" "${res[$mode.a]}"
done
if [[ -n "${res[open.n]-}" ]]; then # C is the CONTINUE round trip; both against no filter
	us2() { awk -v n="$1" 'BEGIN{printf "%.2f", n/1000}'; }
	n=${res[open.n]} c=${res[open.c]} g=${res[open.g]}
	echo "unrelated openat+close: native $(us2 "$n") µs; C CONTINUE $(us2 "$c") µs (+$(us2 $((c - n))) µs);" \
		"fgacd $(us2 "$g") µs (+$(us2 $((g - n))) µs, $(ratio $((g - n)) $((c - n)))x the C overhead)"
fi
if [[ -n "${res[mount.e]-}" ]]; then # the same emulation in C: what the design costs here
	e=${res[mount.e]} c=${res[mount.c]} g=${res[mount.g]}
	echo "tmpfs mount+umount emulated by the C supervisor, same steps, no policy: $(us "$e") µs" \
		"($(ratio "$e" "$c")x native); fgacd is $(ratio "$g" "$e")x that"
fi
ssb=$(cat /sys/devices/system/cpu/vulnerabilities/spec_store_bypass 2>/dev/null || echo unknown)
echo "unbrokered syscall (getppid): bare $(med <<<"${fl[sb]}" | awk '{printf "%.1f", $1/1000}') ns," \
	"under fgac-run's filter $(med <<<"${fl[sf]}" | awk '{printf "%.1f", $1/1000}') ns" \
	"(+$(awk -v a="$(med <<<"${fl[sb]}")" -v b="$(med <<<"${fl[sf]}")" 'BEGIN{printf "%.0f", (b-a)/1000}') ns, no notification)"
echo "store/load loop: bare $(med <<<"${fl[cb]}") ps/iter, under the filter $(med <<<"${fl[cf]}") ps/iter," \
	"with --spec-allow $(med <<<"${fl[ca]}") ps/iter (kernel SSB status: $ssb)"
echo "idle listeners: $idle sessions cost $(awk -v a="$rss0" -v b="$rss1" -v n="$idle" 'BEGIN{printf "%.1f", (b-a)/n}') KiB RSS each;" \
	"daemon threads $thr0 -> $thr1"
