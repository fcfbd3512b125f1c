#!/bin/sh
# Payload of `scripts/gpio-guest.sh shell-check` (copied to /payload/run.sh,
# with the static helpers built from tests/gpio/c/ beside it). Proves that
# gpio-sim works in the guest and reports the guest kernel's seccomp
# user-notification features. Exit 0 only when every check passed.
set -u
fail=0
step() {
	name=$1
	shift
	if "$@"; then
		echo "--- ok:   $name"
	else
		echo "--- FAIL: $name"
		fail=$((fail + 1))
	fi
}

echo "kernel: $(uname -r), $(nproc) CPU(s), $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)"
echo "modules: $(lsmod | awk 'NR > 1 { printf "%s ", $1 }')"

chips() {
	ls -l /dev/gpiochip* || return 1
	for c in /sys/bus/gpio/devices/gpiochip*; do
		echo "$c -> $(readlink -f "$c")"
	done
	# CONFIG_GPIO_SYSFS=y also lists each chip under /sys/class/gpio.
	for c in /sys/class/gpio/gpiochip*; do
		echo "$c: label=$(cat "$c/label") base=$(cat "$c/base") ngpio=$(cat "$c/ngpio")"
	done
	grep -qx fgacd-sim /sys/class/gpio/gpiochip*/label
}
step "/dev/gpiochip* exists, a chip is labelled fgacd-sim" chips

sim_sysfs() {
	for v in "$FGACD_GPIO_SIM_SYSFS"/sim_gpio*/value; do
		printf '%s=%s ' "${v#"$FGACD_GPIO_SIM_SYSFS"/}" "$(cat "$v")"
	done
	echo
	[ -e "$FGACD_GPIO_SIM_SYSFS/sim_gpio7/value" ]
}
step "gpio-sim sysfs at $FGACD_GPIO_SIM_SYSFS" sim_sysfs

step "gpio-check (uAPI v2 line requests against gpio-sim sysfs)" \
	./gpio-check "$FGACD_GPIO_CHIP" "$FGACD_GPIO_SIM_SYSFS" "$FGACD_GPIO_LABEL" "$FGACD_GPIO_LINES"

step "seccomp-probe (user-notification features of this kernel, as Linux 6.1 has them)" \
	./seccomp-probe --expect-6.1

echo "shell-check: $fail step(s) failed"
[ "$fail" -eq 0 ]
