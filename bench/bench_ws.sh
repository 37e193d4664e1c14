#!/usr/bin/env bash
# WebSocket fan-out benchmark, phase (h) of `make bench` (issue 6
# "Performance"): a real mwraspd on loopback (api.ws_max_clients 1100), then
# bench/ws_fanout.c opens BENCH_WS_CLIENTS (1000) stream clients with the
# admin key, all subscribed to "threats", in one epoll loop. Once they are all
# subscribed, BENCH_WS_THREATS (200) new threats are made: one syslog line per
# threat (a failed SSH password on its own host, tests/integration/rules),
# posted in BENCH_WS_BATCH (10) lines per request, BENCH_WS_GAP_MS (100 ms)
# apart. Every threat reaches every client: delivery latency = receive time
# - published_ns (when the engine's writer handed the committed threat to the
# stream), p50/p90/p99/max over all clients x threats. Target p99 < 50 ms.
# Prints a Markdown table on stdout; exit 1 if a message is missing.
# Knobs: BENCH_WS_CLIENTS, BENCH_WS_THREATS, BENCH_WS_BATCH, BENCH_WS_GAP_MS,
# MW_BIN (build/bin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${MW_BIN:-$ROOT/build/bin}
CLIENTS=${BENCH_WS_CLIENTS:-1000}
THREATS=${BENCH_WS_THREATS:-200}
BATCH=${BENCH_WS_BATCH:-10}
GAP_MS=${BENCH_WS_GAP_MS:-100}
[ -x "$BIN/mwraspd" ] && [ -x "$BIN/ws_fanout" ] || { echo "bench_ws: $BIN/mwraspd or ws_fanout not built" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

W=$(mktemp -d "${TMPDIR:-/tmp}/mwrasp-bench-ws.XXXXXX")
DPID=
FPID=
cleanup() {
  if [ -n "$FPID" ] && kill -0 "$FPID" 2>/dev/null; then kill -KILL "$FPID" 2>/dev/null || true; fi
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT

HP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/mwrasp.yaml" <<YAML
listen:
  http: 127.0.0.1:$HP
  syslog_udp: ""
  syslog_tcp: ""
  json_tcp: ""
store:
  path: $W/mwrasp.db
rules:
  dir: $ROOT/tests/integration/rules
log:
  level: warn
api:
  admin_key_file: $W/admin.key
  ws_max_clients: $((CLIENTS + 100))
  rate:
    address: 100000000/min burst 100000000
    admin: 100000000/min burst 100000000
YAML
"$BIN/mwraspd" --config "$W/mwrasp.yaml" >"$W/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 1 400); do
  curl -q -fsS "http://127.0.0.1:$HP/health/ready" >/dev/null 2>&1 && break
  kill -0 "$DPID" 2>/dev/null || { cat "$W/daemon.log" >&2; exit 1; }
  sleep 0.05
done
KEY=$(cat "$W/admin.key")

mkfifo "$W/fan.out"
"$BIN/ws_fanout" --port "$HP" --key "$KEY" --clients "$CLIENTS" --expect "$THREATS" \
  --timeout 120 >"$W/fan.out" 2>"$W/fan.err" &
FPID=$!
exec 3<"$W/fan.out"
t0=$(date +%s.%N)
read -r -t 90 line <&3 || { cat "$W/fan.err" >&2; echo "bench_ws: clients not ready" >&2; exit 1; }
[ "$line" = ready ] || { echo "bench_ws: ws_fanout said: $line" >&2; exit 1; }
t_ready=$(python3 -c "print(f'{$(date +%s.%N) - $t0:.1f}')")

python3 - "$HP" "$KEY" "$THREATS" "$BATCH" "$GAP_MS" <<'PY'
import http.client, sys, time
port, key, n, batch, gap = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
c = http.client.HTTPConnection("127.0.0.1", port)
for k in range(0, n, batch):
    lines = [f"<34>Oct 11 22:14:15 fan{i:06d} sshd[412]: Failed password for root from 203.0.113.7 port 52113 ssh2"
             for i in range(k, min(n, k + batch))]
    c.request("POST", "/api/v1/events", body="\n".join(lines) + "\n",
              headers={"Content-Type": "text/plain", "Authorization": "Bearer " + key})
    r = c.getresponse(); r.read()
    if r.status // 100 != 2:
        sys.exit(f"bench_ws: POST /api/v1/events answered {r.status}")
    time.sleep(gap / 1000)
PY
result=$(cat <&3)
rc=0
wait "$FPID" || rc=$?
FPID=
[ -n "$result" ] || { cat "$W/fan.err" >&2; exit 1; }
sent=$(curl -q -fsS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$HP/metrics" |
  awk '/^mwrasp_ws_messages_sent_total /{print $2}')
python3 - "$result" "$CLIENTS" "$THREATS" "$t_ready" "$sent" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
print("| clients | threats | messages received | lost | connect + subscribe s | p50 ms | p90 ms | p99 ms | max ms |")
print("|---|---|---|---|---|---|---|---|---|")
print(f"| {r['clients']} | {sys.argv[3]} | {r['messages']} | {r['lost']} | {sys.argv[4]} | "
      f"{r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} |")
print()
print(f"Daemon: mwrasp_ws_messages_sent_total {sys.argv[5]} (threat messages, subscription acks, hellos). "
      f"Target: p99 < 50 ms ({'met' if r['p99_ms'] < 50 else 'NOT met'}).")
PY
exit "$rc"
