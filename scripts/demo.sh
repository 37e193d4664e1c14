#!/usr/bin/env bash
# `make demo`: starts mwraspd on the embedded default (SQLite under ./var/),
# replays a generated sample of attack events through its HTTP API, prints
# the threats found and the API URL, then keeps running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
PORT=${MWRASP_DEMO_PORT:-8080}
URL="http://127.0.0.1:$PORT"
mkdir -p var
rm -f var/demo.db var/demo.db-wal var/demo.db-shm var/demo-admin.key

python3 scripts/gen-sample.py --out var/sample.log
echo "demo: generated $(wc -l < var/sample.log) sample events in var/sample.log"

"$BIN/mwraspd" --set listen.http=127.0.0.1:$PORT --set store.path=var/demo.db \
  --set listen.syslog_udp=127.0.0.1:5514 --set listen.syslog_tcp=127.0.0.1:5514 \
  --set listen.json_tcp=127.0.0.1:5515 --set rules.dir=rules \
  --set api.admin_key_file=var/demo-admin.key > var/demo.out 2> var/demo.log &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; echo; echo "demo: mwraspd stopped (log in var/demo.log)"' EXIT
trap 'exit 0' INT TERM

for _ in $(seq 1 100); do
  if curl -fsS "$URL/health/ready" >/dev/null 2>&1; then break; fi
  if ! kill -0 $PID 2>/dev/null; then echo "demo: mwraspd failed to start:"; cat var/demo.log; exit 1; fi
  sleep 0.1
done

# The first start of a fresh store creates an admin API key (written to
# var/demo-admin.key, mode 0600); the CLI reads it from $MWRASP_API_KEY.
for _ in $(seq 1 50); do [ -s var/demo-admin.key ] && break; sleep 0.1; done
[ -s var/demo-admin.key ] || { echo "demo: mwraspd wrote no admin key:"; cat var/demo.log; exit 1; }
export MWRASP_API_KEY=$(cat var/demo-admin.key)

"$BIN/mwrasp" replay var/sample.log --url "$URL"
echo
echo "demo: threats found"
"$BIN/mwrasp" threats --url "$URL"
echo
echo "demo: the dashboard is at $URL/ ; log in with the admin API key in var/demo-admin.key:"
echo "      $MWRASP_API_KEY"
echo "demo: the API is at $URL  (try: curl -H \"Authorization: Bearer \$(cat var/demo-admin.key)\" $URL/api/v1/threats)"
echo "demo: send more events: logger -n 127.0.0.1 -P 5514 --tcp -t sshd 'Failed password for root from 10.0.0.9 port 22 ssh2'"
echo "demo: mwraspd keeps running; press Ctrl-C to stop."
wait $PID
