#!/usr/bin/env bash
# `make screenshots`: regenerates docs/screenshots/*.png. Starts mwraspd on
# free loopback ports with the bundled rules and a temp store, replays the
# demo's sample events (scripts/gen-sample.py) through `mwrasp replay`,
# uploads the shared TLS captures for the exposure page when they are there,
# then runs the browser harness (tests/browser/dashboard.mjs) in screenshot mode.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$(pwd)/$BUILD ;; esac
export MW_BIN=${MW_BIN:-$BUILD/bin}
OUT=${SCREENSHOTS_OUT:-docs/screenshots}
. tests/integration/lib.sh

[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (scripts/install-deps.sh installs it)"
[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund >/dev/null)
WEB=$(cd "$MW_BIN/.." && pwd)/web
[ -f "$WEB/index.html" ] || fail "$WEB/index.html is missing: run make first"

write_config "$(pwd)/rules"
start_daemon --set "api.web_root=$WEB"
KEY=${API_KEY:-no-key-needed}
AUTH=(-H "Authorization: Bearer $KEY")

python3 scripts/gen-sample.py --out "$TMP/sample.log" --noise 1500
"$MW_BIN/mwrasp" replay "$TMP/sample.log" --url "$URL" >/dev/null || true
PCAPS=${MW_SHARED_DATA:-$(pwd)/../shared/data}/pcaps
for f in "$PCAPS/zeek/tls/ecdhe.pcap" "$PCAPS/pqc-demos/handshake_tls13_x25519mlkem768.pcapng"; do
  [ -f "$f" ] && curl -fsS "${AUTH[@]}" --data-binary @"$f" \
    -H 'Content-Type: application/vnd.tcpdump.pcap' "$URL/api/v1/exposure/pcap?name=$(basename "$f")" >/dev/null
done
# Acknowledge one threat and resolve another, so the list shows each status.
ids=$(curl -fsS "${AUTH[@]}" "$URL/api/v1/threats?limit=3" | json_get '" ".join(t["id"] for t in d["threats"])')
set -- $ids
[ $# -ge 2 ] && curl -fsS "${AUTH[@]}" -XPATCH -d '{"status":"acknowledged"}' "$URL/api/v1/threats/$1" >/dev/null
[ $# -ge 3 ] && curl -fsS "${AUTH[@]}" -XPATCH -d '{"status":"resolved"}' "$URL/api/v1/threats/$3" >/dev/null
# Keep a trickle of events going while the overview's charts sample.
( for i in $(seq 1 400); do
    printf '<34>Oct 11 22:14:%02d web-%d sshd[4%02d]: Accepted publickey for deploy from 10.0.0.%d port 22 ssh2\n' \
      $((i % 60)) $((i % 3)) "$i" "$i" | curl -s "${AUTH[@]}" -H 'Content-Type: text/plain' --data-binary @- "$URL/api/v1/events" >/dev/null
    sleep 0.25
  done ) &
TRICKLE=$!
node tests/browser/dashboard.mjs screenshots "$URL" "$KEY" "$OUT"
kill "$TRICKLE" 2>/dev/null || true
wait "$TRICKLE" 2>/dev/null || true
ls -l "$OUT"
