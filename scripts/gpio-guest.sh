#!/usr/bin/env bash
# Build and run the Linux 6.1 test guest for fgacd's GPIO tests.
#
# This machine's kernel has no GPIO support, so GPIO tests run in a Linux 6.1
# guest under QEMU (software emulation, -accel tcg) with gpio-sim, built out
# of tree from Debian's linux-source-6.1 against the matching headers. The
# guest is Debian's own 6.1 kernel, a busybox initramfs, and a payload
# directory whose run.sh runs as PID 1's child; its output and exit code come
# back over the serial console. See tests/gpio/README.md.
#
# Usage:
#   scripts/gpio-guest.sh build              build the guest into the cache (no-op when cached)
#   scripts/gpio-guest.sh run PAYLOAD_DIR    run PAYLOAD_DIR/run.sh in the guest (builds if needed);
#                                            prints its output, exits with its exit code
#   scripts/gpio-guest.sh shell-check        built-in payload: proves gpio-sim works, probes seccomp
#   scripts/gpio-guest.sh helpers DIR        compile the static C helpers (tests/gpio/c) into DIR
#   scripts/gpio-guest.sh info               print what the cache holds
#   scripts/gpio-guest.sh clean              remove the cache
#
# Environment:
#   FGACD_GPIO_CACHE    cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/fgacd/gpio-guest)
#   FGACD_GPIO_KERNEL   pin the guest kernel ABI, e.g. 6.1.0-56-amd64 (default: the one
#                       Debian's linux-image-amd64 points at, looked up at build time)
#   FGACD_GPIO_REFRESH  1: look the current kernel ABI up again even when one is cached
#   FGACD_GPIO_TIMEOUT  seconds before the guest is killed (default 300)
#   FGACD_GPIO_MEM      guest memory (default 512M)
#   FGACD_GPIO_SMP      guest CPUs (default 2)
#   FGACD_GPIO_APPEND   extra kernel command line
#   FGACD_GPIO_VERBOSE  1: stream the whole console (boot messages included)
#
# Exit codes of run/shell-check: the payload's; 124 when the guest timed out;
# 125 when the guest never ran the payload to its end (setup failure, crash).
# The payload must not print the marker lines "=== FGACD-GUEST ... ===".
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${FGACD_GPIO_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/cache}/.cache}/fgacd/gpio-guest}
TIMEOUT=${FGACD_GPIO_TIMEOUT:-300}
MEM=${FGACD_GPIO_MEM:-512M}
SMP=${FGACD_GPIO_SMP:-2}
INIT_SRC=$REPO/tests/gpio/guest/init
# Host packages installed system-wide when missing: QEMU runs the guest, gcc
# builds the module and the static C helpers (the kernel's build wants
# gcc-12 by name), xz-utils unpacks the kernel, libelf1/libssl3 are what
# the prebuilt kbuild tools (objtool, modpost) link against.
HOST_PKGS=(qemu-system-x86 gcc gcc-12 libc6-dev make xz-utils libelf1 libssl3)

# Temporary dirs removed at exit.
CLEANUP=()
cleanup() { ((${#CLEANUP[@]} == 0)) || rm -rf "${CLEANUP[@]}"; }
trap cleanup EXIT

log() { printf 'gpio-guest: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

as_root=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then as_root=(sudo -n); fi
fi
apt_opts=(-q -o Dpkg::Use-Pty=0)
# apt-get download as root into a directory _apt cannot read warns; the
# files land in our own cache, so download as ourselves.
[[ $(id -u) -eq 0 ]] && apt_opts+=(-o APT::Sandbox::User=root)

apt_updated=0
apt_update() {
	((apt_updated)) && return 0
	log "apt-get update"
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update "${apt_opts[@]}" </dev/null >&2 ||
		die "apt-get update failed (root or passwordless sudo needed)"
	apt_updated=1
}

is_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

ensure_host_pkgs() {
	local missing=() p
	for p in "${HOST_PKGS[@]}"; do
		if [[ $p == qemu-system-x86 ]] && command -v qemu-system-x86_64 >/dev/null 2>&1; then continue; fi
		is_installed "$p" || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	command -v apt-get >/dev/null 2>&1 || die "missing host packages and no apt-get: ${missing[*]}"
	local t0
	t0=$(now)
	log "installing host packages: ${missing[*]}"
	apt_update
	"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${apt_opts[@]}" "${missing[@]}" </dev/null >&2 || die "apt-get install failed: ${missing[*]}"
	log "host packages installed in $(since "$t0") s"
}

# candidate PKG: its candidate version, empty when apt knows none.
candidate() {
	apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

# candidates PKG...: their candidate versions on one line, in order, with
# one apt-cache call; an unknown package ends the line early.
candidates() {
	apt-cache policy "$@" 2>/dev/null | awk -v want="$*" '
		BEGIN { n = split(want, w, " ") }
		/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
		/^  Candidate:/ && $2 != "(none)" { v[name] = $2 }
		END { for (i = 1; i <= n && (w[i] in v); i++) printf "%s%s", (i > 1 ? " " : ""), v[w[i]]; print "" }'
}

# resolve_krel prints the kernel ABI to use, e.g. 6.1.0-56-amd64. Debian
# renames the image package with every ABI bump, so it is looked up: the
# package linux-image-amd64 points at first, else the newest 6.1 one.
resolve_krel() {
	local k
	k=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1)
	if [[ -z $k ]]; then
		k=$(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null |
			sed -n 's/^linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | sort -V | tail -n1)
	fi
	[[ -n $k && -n $(candidate "linux-image-$k") ]] && echo "$k"
}

# fetch_debs KREL DIR: the packages the guest is built from, at their
# candidate versions, into DIR; their names and versions into DIR/../packages.
# Fails (returns 1) when apt cannot download them, e.g. with stale lists.
fetch_debs() {
	local krel=$1 dir=$2 common ver hver kbver bbver sver vers
	common=linux-headers-${krel%-amd64}-common
	local pkgs=("linux-image-$krel" "$common" linux-kbuild-6.1 busybox-static)
	vers=$(candidates "${pkgs[@]}")
	if [[ $(wc -w <<<"$vers") -ne ${#pkgs[@]} ]]; then
		apt_update
		vers=$(candidates "${pkgs[@]}")
	fi
	read -r ver hver kbver bbver <<<"$vers"
	[[ -n $bbver ]] || die "apt lacks one of ${pkgs[*]}"
	# The source of exactly this kernel when apt has it.
	sver=$ver
	if ! apt-cache show "linux-source-6.1=$ver" >/dev/null 2>&1; then
		sver=$(candidates linux-source-6.1)
		[[ -n $sver ]] || die "apt knows no linux-source-6.1"
		log "warning: no linux-source-6.1 $ver; using $sver (gpio-sim rarely changes within 6.1)"
	fi
	rm -rf "$dir"
	mkdir -p "$dir"
	log "downloading linux-image-$krel $ver, headers, linux-source-6.1 $sver, busybox-static"
	(cd "$dir" && apt-get download "${apt_opts[@]}" "linux-image-$krel=$ver" "linux-headers-$krel=$ver" \
		"$common=$hver" "linux-kbuild-6.1=$kbver" "linux-source-6.1=$sver" "busybox-static=$bbver" \
		</dev/null >&2) || return 1
	printf '%s %s\n' "linux-image-$krel" "$ver" "linux-headers-$krel" "$ver" "$common" "$hver" \
		linux-kbuild-6.1 "$kbver" linux-source-6.1 "$sver" busybox-static "$bbver" >"$dir/../packages"
}

# extract_vmlinux BZIMAGE OUT: the uncompressed ELF kernel, which QEMU boots
# through its PVH entry note: the guest skips the in-guest decompression,
# which costs seconds under TCG.
extract_vmlinux() {
	local img=$1 out=$2 magic dec off
	for magic in '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08:gzip -dc'; do
		dec=${magic#*:}
		command -v "${dec%% *}" >/dev/null 2>&1 || continue
		# shellcheck disable=SC2013 # offsets are numbers
		for off in $(LC_ALL=C grep -obUaP "${magic%%:*}" "$img" 2>/dev/null | cut -d: -f1); do
			tail -c "+$((off + 1))" "$img" | $dec >"$out.tmp" 2>/dev/null || true
			if [[ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" == 7f454c46 ]]; then
				mv "$out.tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}

kdir() { echo "$CACHE/$1"; }

# build_kernel KREL: everything for one kernel ABI under $CACHE/KREL. Each
# step is skipped when its output exists, so an interrupted build resumes.
build_kernel() {
	local krel=$1 d t0 t
	d=$(kdir "$krel")
	mkdir -p "$d"
	t0=$(now)
	# A finished build whose outputs went missing starts over.
	if [[ -e $d/.ok ]] && ! [[ -s $d/kernel && -e $d/modules/gpio-sim.ko && -x $d/busybox/bin/busybox ]]; then
		rm -f "$d/.ok" "$d/.debs-ok" "$d/.unpack-ok" "$d/kernel"
	fi

	# 1. Packages: fetched into the cache, never installed (the guest
	#    kernel must not land in the host's /boot).
	if [[ ! -e $d/.debs-ok && ! -e $d/.ok ]]; then
		t=$(now)
		if ! fetch_debs "$krel" "$d/debs"; then
			log "download failed; refreshing the package lists and retrying"
			apt_update
			fetch_debs "$krel" "$d/debs" || die "apt-get download failed"
		fi
		touch "$d/.debs-ok"
		log "downloaded in $(since "$t") s"
	fi

	# 2. Unpack: the kernel, its config and configfs.ko from the image; the
	#    headers and kbuild whole (dpkg -x); busybox; three source files.
	#    The linux-source tarball (xz, single-threaded) is the long pole:
	#    it unpacks in the background while the rest goes on.
	if [[ ! -e $d/.unpack-ok && ! -e $d/.ok ]]; then
		t=$(now)
		rm -rf "$d/image" "$d/headers" "$d/src" "$d/busybox"
		mkdir -p "$d/image" "$d/headers" "$d/src" "$d/busybox"
		local srcs=(drivers/gpio/gpio-sim.c drivers/gpio/gpiolib.h kernel/irq/irq_sim.c) f srcpid
		# --occurrence stops reading once all three are out; the writers
		# upstream then die of SIGPIPE, which is expected: success is
		# judged by the files.
		(
			set +o pipefail
			dpkg-deb --fsys-tarfile "$d"/debs/linux-source-6.1_*.deb 2>/dev/null |
				tar -xO ./usr/src/linux-source-6.1.tar.xz 2>/dev/null |
				xz -dc 2>/dev/null |
				tar -x --occurrence -C "$d/src" --strip-components=1 "${srcs[@]/#/linux-source-6.1/}"
		) &
		srcpid=$!
		(
			set +o pipefail
			dpkg-deb --fsys-tarfile "$d"/debs/linux-image-"$krel"_*.deb 2>/dev/null |
				tar -x --occurrence -C "$d/image" "./boot/vmlinuz-$krel" "./boot/config-$krel" \
					"./lib/modules/$krel/kernel/fs/configfs/configfs.ko"
		)
		local deb
		for deb in "$d"/debs/linux-headers-*.deb "$d"/debs/linux-kbuild-6.1_*.deb; do
			dpkg -x "$deb" "$d/headers"
		done
		dpkg -x "$d"/debs/busybox-static_*.deb "$d/busybox"
		# The headers' Makefile includes the common one by absolute path.
		sed -i "s#^include /usr/src/#include $d/headers/usr/src/#" \
			"$d/headers/usr/src/linux-headers-$krel/Makefile"
		wait "$srcpid" || true
		for f in "${srcs[@]}"; do
			[[ -s $d/src/$f ]] || die "linux-source-6.1 did not yield $f"
		done
		for f in "boot/vmlinuz-$krel" "boot/config-$krel" "lib/modules/$krel/kernel/fs/configfs/configfs.ko"; do
			[[ -s $d/image/$f ]] || die "linux-image-$krel did not yield $f"
		done
		touch "$d/.unpack-ok"
		log "unpacked in $(since "$t") s"
	fi

	# 3. gpio-sim and irq_sim, out of tree. The Debian kernel has GPIOLIB and
	#    GPIO_CDEV built in but neither GPIO_SIM nor IRQ_SIM.
	if [[ ! -e $d/modules/gpio-sim.ko ]]; then
		t=$(now)
		grep -qx 'CONFIG_GPIO_CDEV=y' "$d/image/boot/config-$krel" || die "guest kernel lacks CONFIG_GPIO_CDEV"
		grep -qx 'CONFIG_GPIOLIB=y' "$d/image/boot/config-$krel" || die "guest kernel lacks CONFIG_GPIOLIB"
		local b=$d/build
		rm -rf "$b"
		mkdir -p "$b"
		cp "$d/src/drivers/gpio/gpio-sim.c" "$d/src/drivers/gpio/gpiolib.h" "$d/src/kernel/irq/irq_sim.c" "$b/"
		# irq_to_desc() is not exported to modules; generic_handle_irq()
		# looks the descriptor up itself and ends in the same handler.
		sed -i 's/handle_simple_irq(irq_to_desc(\([a-z_]*\)));/generic_handle_irq(\1);/' "$b/irq_sim.c"
		grep -q 'irq_to_desc' "$b/irq_sim.c" && die "irq_sim.c: the irq_to_desc fix no longer applies"
		# Built in normally, irq_sim.c has no MODULE_LICENSE: without one a
		# module may not use GPL-only symbols.
		printf '\n#include <linux/module.h>\nMODULE_LICENSE("GPL");\nMODULE_DESCRIPTION("Interrupt simulator, built out of tree for the fgacd test guest");\n' >>"$b/irq_sim.c"
		echo 'obj-m := irq_sim.o gpio-sim.o' >"$b/Kbuild"
		if ! make -C "$d/headers/usr/src/linux-headers-$krel" M="$b" -j"$(nproc)" modules >"$b/build.log" 2>&1; then
			cat "$b/build.log" >&2
			die "building gpio-sim failed"
		fi
		grep -E 'WARNING|ERROR' "$b/build.log" >&2 || true
		local m vm
		for m in irq_sim gpio-sim; do
			vm=$(strings "$b/$m.ko" | sed -n 's/^vermagic=\([^ ]*\) .*/\1/p')
			[[ $vm == "$krel" ]] || die "$m.ko has vermagic '$vm', want $krel"
		done
		mkdir -p "$d/modules.tmp"
		cp "$d/image/lib/modules/$krel/kernel/fs/configfs/configfs.ko" "$b/irq_sim.ko" "$b/gpio-sim.ko" "$d/modules.tmp/"
		rm -rf "$d/modules"
		mv "$d/modules.tmp" "$d/modules"
		log "built gpio-sim in $(since "$t") s"
	fi

	# 4. The kernel QEMU boots: the uncompressed vmlinux (PVH entry) when it
	#    can be extracted, else the bzImage.
	if [[ ! -e $d/kernel ]]; then
		t=$(now)
		if extract_vmlinux "$d/image/boot/vmlinuz-$krel" "$d/vmlinux"; then
			echo "$d/vmlinux" >"$d/kernel"
		else
			log "warning: could not extract vmlinux; booting the bzImage (slower)"
			echo "$d/image/boot/vmlinuz-$krel" >"$d/kernel"
		fi
		log "kernel ready in $(since "$t") s"
	fi

	build_base "$krel"

	if [[ ! -e $d/.ok ]]; then
		# The downloads and the headers are only needed to build; drop them.
		rm -rf "$d/debs" "$d/headers" "$d/build"
		touch "$d/.ok"
		log "guest for $krel built in $(since "$t0") s (cache: $d)"
	fi
}

# build_base KREL: the initramfs every run starts from (busybox, modules,
# init, /etc); rebuilt whenever the init script changed.
build_base() {
	local krel=$1 d r bb a
	d=$(kdir "$krel")
	if [[ -e $d/base.cpio.gz && $d/base.cpio.gz -nt $INIT_SRC && $d/base.cpio.gz -nt $d/modules/gpio-sim.ko ]]; then
		return 0
	fi
	r=$d/initramfs
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,root,etc,payload,lib/modules/"$krel"}
	bb=$d/busybox/bin/busybox
	[[ -x $bb ]] || die "no busybox in $d/busybox"
	cp "$bb" "$r/bin/busybox"
	for a in $("$bb" --list-full); do
		[[ -e $r/$a || -L $r/$a ]] || ln -s /bin/busybox "$r/$a"
	done
	cp "$d"/modules/*.ko "$r/lib/modules/$krel/"
	install -m 0755 "$INIT_SRC" "$r/init"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
	printf '127.0.0.1 localhost fgacd-guest\n::1 localhost\n' >"$r/etc/hosts"
	(cd "$r" && find . | LC_ALL=C sort | "$bb" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9 -n >"$d/base.cpio.gz.tmp"
	mv "$d/base.cpio.gz.tmp" "$d/base.cpio.gz"
	rm -rf "$r"
}

# ensure_built sets KREL to the kernel ABI to use, building the guest when
# the cache lacks it. A cached build is reused without asking apt.
ensure_built() {
	mkdir -p "$CACHE"
	local krel=""
	exec 9>"$CACHE/.lock"
	flock 9
	if [[ -n ${FGACD_GPIO_KERNEL:-} ]]; then
		krel=$FGACD_GPIO_KERNEL
	elif [[ ${FGACD_GPIO_REFRESH:-0} != 1 && -s $CACHE/current && -e $(kdir "$(cat "$CACHE/current")")/.ok ]]; then
		krel=$(cat "$CACHE/current")
	fi
	ensure_host_pkgs
	if [[ -z $krel ]]; then
		krel=$(resolve_krel || true)
		if [[ -z $krel ]]; then
			apt_update
			krel=$(resolve_krel || true)
		fi
		[[ -n $krel ]] || die "found no Debian linux-image-6.1.0-*-amd64 package (is this Debian 12?)"
	fi
	build_kernel "$krel"
	echo "$krel" >"$CACHE/current.tmp" && mv "$CACHE/current.tmp" "$CACHE/current"
	flock -u 9
	exec 9>&-
	KREL=$krel
}

# run_payload DIR: boot the guest with DIR as /payload; exit with run.sh's code.
run_payload() {
	local src=$1 d tmp kernel rc qst t0
	[[ -f $src/run.sh ]] || die "$src/run.sh missing"
	ensure_built
	d=$(kdir "$KREL")
	kernel=$(cat "$d/kernel")
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/fgacd-gpio-guest.XXXXXX")
	CLEANUP+=("$tmp")

	# The payload travels as a second, uncompressed cpio after the cached
	# base (the kernel unpacks concatenated archives in order): no
	# decompression in the guest, no re-gzip of large test binaries.
	mkdir -p "$tmp/root/payload"
	cp -a "$src/." "$tmp/root/payload/"
	cp "$d/base.cpio.gz" "$tmp/initrd"
	local pad=$(((4 - $(stat -c %s "$tmp/initrd") % 4) % 4))
	head -c "$pad" /dev/zero >>"$tmp/initrd"
	(cd "$tmp/root" && find . | LC_ALL=C sort | "$d/busybox/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) >>"$tmp/initrd"

	local qemu=(qemu-system-x86_64 -accel tcg -machine pc -nodefaults -no-user-config
		-display none -serial stdio -monitor none -no-reboot -m "$MEM" -smp "$SMP"
		-kernel "$kernel" -initrd "$tmp/initrd"
		-append "console=ttyS0 panic=-1 quiet ${FGACD_GPIO_APPEND:-}")
	log "booting $KREL ($(basename "$kernel"), $(($(stat -c %s "$tmp/initrd") / 1024)) KiB initramfs, timeout ${TIMEOUT}s)"
	t0=$(now)
	set +e
	timeout -k 5 "$TIMEOUT" "${qemu[@]}" </dev/null 2>&1 | tee "$tmp/console.log" |
		awk -v verbose="${FGACD_GPIO_VERBOSE:-0}" '
			{ sub(/\r$/, "") }
			verbose == 1 { print; fflush(); next }
			!on && /^=== FGACD-GUEST BEGIN ===$/ { on = 1; next }
			on && /^=== FGACD-GUEST EXIT -?[0-9]+ ===$/ { on = 0; next }
			on { print; fflush() }'
	qst=${PIPESTATUS[0]}
	set -e
	tr -d '\r' <"$tmp/console.log" >"$CACHE/last-console.log"
	rc=$(sed -n 's/^=== FGACD-GUEST EXIT \([0-9]*\) ===$/\1/p' "$CACHE/last-console.log" | head -n1)
	if grep -q '^=== FGACD-GUEST SETUP FAILED' "$CACHE/last-console.log"; then
		sed -n '/^=== FGACD-GUEST SETUP FAILED/,$p' "$CACHE/last-console.log" >&2
		log "guest setup failed (console: $CACHE/last-console.log)"
		exit 125
	fi
	if [[ -z $rc ]]; then
		tail -n 30 "$CACHE/last-console.log" >&2
		if [[ $qst -eq 124 || $qst -eq 137 ]]; then
			log "guest timed out after ${TIMEOUT}s (console: $CACHE/last-console.log)"
			exit 124
		fi
		log "guest ended (qemu status $qst) without finishing the payload (console: $CACHE/last-console.log)"
		exit 125
	fi
	log "guest ran in $(since "$t0") s, payload exit $rc"
	exit "$rc"
}

# shell_check: the C helpers from tests/gpio/c and tests/gpio/shell-check.sh
# as the payload.
shell_check() {
	ensure_host_pkgs
	local p
	p=$(mktemp -d "${TMPDIR:-/tmp}/fgacd-gpio-check.XXXXXX")
	CLEANUP+=("$p")
	build_c_helpers "$p"
	cp "$REPO/tests/gpio/shell-check.sh" "$p/run.sh"
	run_payload "$p"
}

# build_c_helpers DIR: each tests/gpio/c/NAME.c becomes a static DIR/NAME.
build_c_helpers() {
	local out=$1 c
	for c in "$REPO"/tests/gpio/c/*.c; do
		gcc -static -O2 -Wall -Wextra -Werror -o "$out/$(basename "$c" .c)" "$c" ||
			die "compiling $c failed"
	done
}

cmd=${1:-}
case $cmd in
build)
	ensure_built
	log "ready: $KREL in $(kdir "$KREL")"
	;;
run)
	[[ $# -eq 2 ]] || die "usage: $0 run PAYLOAD_DIR"
	run_payload "$(cd "$2" && pwd)"
	;;
shell-check)
	shell_check
	;;
helpers)
	[[ $# -eq 2 ]] || die "usage: $0 helpers OUT_DIR"
	ensure_host_pkgs
	build_c_helpers "$2"
	;;
info)
	if [[ -s $CACHE/current ]]; then
		k=$(cat "$CACHE/current")
		echo "cache:   $CACHE"
		echo "kernel:  $k ($(cat "$(kdir "$k")/kernel" 2>/dev/null || echo 'not built'))"
		[[ -e $(kdir "$k")/packages ]] && sed 's/^/package: /' "$(kdir "$k")/packages"
		du -sh "$CACHE" | awk '{ print "size:    " $1 }'
	else
		echo "cache:   $CACHE (empty)"
	fi
	;;
clean)
	rm -rf "$CACHE"
	;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
