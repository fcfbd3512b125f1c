#!/usr/bin/env bash
# The GPIO suite: builds a payload and runs it in the Linux 6.1 test guest
# (scripts/gpio-guest.sh), where gpio-sim provides a real GPIO chip.
#
# Usage: tests/gpio/run.sh [GO_PACKAGE ...]
#   e.g. tests/gpio/run.sh ./pkg/handlers
#
# The payload holds the static C helpers (tests/gpio/c), the static
# benchmark tracee (bench/c/tracee.c), fgacd itself, the GPIO example
# (examples/gpio-app/blink.c) with a static fgac-run to start it (cgo,
# linked statically against libseccomp.a), a static Go hello
# (testdata/gohello), the Go test binary testdata/guestcheck, and one
# `go test -c` binary (CGO_ENABLED=0) per GO_PACKAGE argument, each with its
# package's testdata/ beside it. In the guest, FGACD_GPIO_GUEST=1 and
# FGACD_GPIO_CHIP & co. tell tests where the simulated chip is (see
# tests/gpio/README.md). Tests run as root there.
#
# Environment: FGACD_GPIO_TEST_ARGS (default "-test.v") for the Go test
# binaries; FGACD_GPIO_SKIP=1 skips the suite (prints why); everything
# scripts/gpio-guest.sh reads (FGACD_GPIO_CACHE, FGACD_GPIO_TIMEOUT, ...).
# Exit code: the suite's (0 = all passed), 124 timeout, 125 guest failure.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
export PATH=$PATH:/usr/local/go/bin

if [[ ${FGACD_GPIO_SKIP:-0} == 1 ]]; then
	echo "gpio-suite: skipped (FGACD_GPIO_SKIP=1)"
	exit 0
fi

t0=$(date +%s)
p=$(mktemp -d "${TMPDIR:-/tmp}/fgacd-gpio-suite.XXXXXX")
trap 'rm -rf "$p"' EXIT
# The payload becomes /payload with this dir's mode: the example step runs
# ./blink as uid 65534, which must be able to reach it.
chmod 755 "$p"

# Build and cache the guest first: its apt steps also install gcc.
scripts/gpio-guest.sh build
scripts/gpio-guest.sh helpers "$p"
# The benchmark tracee, static like the helpers (the guest has no libc), for
# the suite's "gpio bench" step.
gcc -static -O2 -Wall -Wextra -Werror -o "$p/fgacd-bench-tracee" bench/c/tracee.c
# The example app of the "example: blink under fgac-run --gpio" step: a plain
# GPIO program, static for the same reason.
gcc -static -O2 -Wall -Wextra -Werror -o "$p/blink" examples/gpio-app/blink.c
cp tests/gpio/shell-check.sh "$p/shell-check.sh"
cp tests/gpio/guest-suite.sh "$p/run.sh"
printf '%s\n' "${FGACD_GPIO_TEST_ARGS:--test.v}" >"$p/go-test-args"

export CGO_ENABLED=0
go build -o "$p/gohello" ./tests/gpio/testdata/gohello
go build -o "$p/fgacd" ./cmd/fgacd
# fgac-run loads its filter with libseccomp-golang (cgo), so it cannot be
# built with CGO_ENABLED=0 like the rest; the guest has no libc and no
# libseccomp.so, so it is linked statically: the external linker with
# -static takes libseccomp.a and glibc's libc.a. osusergo and netgo are the
# pure-Go os/user and net, so the binary does not call glibc's NSS
# (getpwuid_r and co.), which a static glibc can only do by loading shared
# modules at run time; os/user then reads /etc/passwd and /etc/group itself.
seccomp_a=$(pkg-config --variable=libdir libseccomp 2>/dev/null || true)/libseccomp.a
if [[ ! -e $seccomp_a ]]; then
	echo "gpio-suite: libseccomp.a not found (${seccomp_a}): install libseccomp-dev (scripts/deps.sh)" >&2
	exit 1
fi
CGO_ENABLED=1 go build -tags osusergo,netgo -ldflags '-linkmode external -extldflags "-static"' \
	-o "$p/fgac-run" ./cmd/fgac-run
pkgs=(./tests/gpio/testdata/guestcheck "$@")
for pkg in "${pkgs[@]}"; do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	rel=${dir#"$REPO"/}
	name=$(basename "$dir")
	mkdir -p "$p/gotest/$rel"
	go test -c -o "$p/gotest/$rel/$name.test" "$pkg"
	if [[ ! -e $p/gotest/$rel/$name.test ]]; then
		echo "gpio-suite: $pkg has no tests" >&2
		exit 1
	fi
	[[ -d $dir/testdata ]] && cp -a "$dir/testdata" "$p/gotest/$rel/"
done
echo "gpio-suite: payload $(du -sh "$p" | cut -f1) built in $(($(date +%s) - t0)) s" >&2

rc=0
scripts/gpio-guest.sh run "$p" || rc=$?
echo "gpio-suite: finished in $(($(date +%s) - t0)) s, exit $rc" >&2
exit "$rc"
