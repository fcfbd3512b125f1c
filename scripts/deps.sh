#!/usr/bin/env bash
# Install the Debian packages fgacd's build and tests need, only when missing.
#
# Usage: scripts/deps.sh [EXTRA_PACKAGE ...]
#   e.g. scripts/deps.sh runc crun
#
# Idempotent: when everything is installed it only prints "deps: all present".
# Needs root to install; when not root it uses "sudo -n" if available.
set -euo pipefail

# util-linux gives setpriv (the demo runs its app as nobody).
base_pkgs=(gcc libc6-dev make pkg-config libseccomp-dev util-linux curl runc crun busybox-static)

# Go itself comes with the machine (/usr/local/go); Debian 12's golang is
# too old for go.mod. Say so clearly instead of failing later.
if ! command -v go >/dev/null 2>&1 && [[ ! -x /usr/local/go/bin/go ]]; then
	echo "deps: no Go toolchain found (need Go >= 1.24 in PATH or /usr/local/go)" >&2
	exit 1
fi
pkgs=("${base_pkgs[@]}" "$@")

is_installed() {
	local status
	status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
	[[ "$status" == "install ok installed" ]]
}

missing=()
for p in "${pkgs[@]}"; do
	[[ -n "$p" ]] || continue
	# skip duplicates
	for m in "${missing[@]+"${missing[@]}"}"; do
		[[ "$m" == "$p" ]] && continue 2
	done
	is_installed "$p" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps: all present"
	exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: apt-get/dpkg-query not found; install manually: ${missing[*]}" >&2
	exit 1
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		as_root=(sudo -n)
	else
		echo "deps: not root and sudo not available; run as root to install: ${missing[*]}" >&2
		exit 1
	fi
fi

export DEBIAN_FRONTEND=noninteractive
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null >&2; then
	echo "deps: apt-get update failed (need root or passwordless sudo?)" >&2
	exit 1
fi
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >&2; then
	echo "deps: apt-get install failed for: ${missing[*]}" >&2
	exit 1
fi

# Verify.
still=()
for p in "${missing[@]}"; do is_installed "$p" || still+=("$p"); done
if ((${#still[@]} > 0)); then
	echo "deps: still missing after install: ${still[*]}" >&2
	exit 1
fi
echo "deps: installed ${missing[*]}"
