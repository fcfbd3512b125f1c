#!/usr/bin/env bash
# make demo: start fgacd with the shipped demo policy, run the C example app
# as nobody, and show one granted and one denied mknod. Exits non-zero if
# either result is not what the policy says.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/fgacd-demo-run.XXXXXX)
chmod 755 "$work"
daemon=
cleanup() {
	[[ -n "$daemon" ]] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -Wall -Wextra -o "$work/fgacd-mknod-app" "$root/examples/mknod-app/app.c" \
	$(pkg-config --cflags --libs libseccomp)
mkdir "$work/policies"
cp "$root/policies/demo.toml" "$work/policies/"
socket="$work/fgacd.sock"

"$root/bin/fgacd" run -config /dev/null -socket "$socket" -policy-dir "$work/policies" \
	-metrics off -admin off -log-format console 2>"$work/fgacd.log" &
daemon=$!
for _ in $(seq 100); do [[ -S "$socket" ]] && break; sleep 0.05; done
[[ -S "$socket" ]] || { cat "$work/fgacd.log"; echo "demo: fgacd did not start" >&2; exit 1; }

# The demo policy grants uid 65534 char 1:3 nodes under /tmp/fgacd-demo.
mkdir -p /tmp/fgacd-demo
chmod 1777 /tmp/fgacd-demo
rm -f /tmp/fgacd-demo/null /tmp/fgacd-demo/sda
echo "== app (uid 65534, no capabilities) asks fgacd for two nodes:"
out=$(setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all \
	"$work/fgacd-mknod-app" -s "$socket" -m demo \
	/tmp/fgacd-demo/null:c:1:3:0666 /tmp/fgacd-demo/sda:b:8:0:0660)
echo "$out"
echo "== on disk:"
ls -l /tmp/fgacd-demo/
echo "== fgacd's decision records:"
grep '"decision"\|decision' "$work/fgacd.log" | sed 's/^/  /' || true

ok=1
grep -q '/tmp/fgacd-demo/null: ok' <<<"$out" || ok=0
grep -q '/tmp/fgacd-demo/sda: Operation not permitted' <<<"$out" || ok=0
[[ -c /tmp/fgacd-demo/null && ! -e /tmp/fgacd-demo/sda ]] || ok=0
rm -f /tmp/fgacd-demo/null
if ((ok)); then
	echo "demo: PASS (one granted, one denied)"
else
	echo "demo: FAIL" >&2
	exit 1
fi
