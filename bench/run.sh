#!/usr/bin/env bash
# `make bench`: end-to-end benchmarks of mwraspd on this machine, with
# reference runs so that ratios can be reported. Writes a Markdown table to
# stdout and to bench/results/latest.md. Bounded in time: every phase has a
# timeout (BENCH_PHASE_TIMEOUT), the whole run stays under 10 minutes.
#
#   (c) references first, without the daemon:
#       - raw loopback TCP: loadgen syslog-tcp into loadgen sink-tcp
#       - bare SQLite, one row per event (the naive design the store replaced with packed segments): sqlite_ref
#       - the store module alone, through its API: bench_store (if built)
#   (a) ingest-to-store throughput, with 100 bench rules + the bundled rules:
#       - syslog over TCP (newline framing)
#       - HTTP POST /api/v1/events, NDJSON batches, each waiting for its 202
#   (b) event-to-threat latency p50/p99 at a paced 100k events/s, and again
#       at 10k events/s, from the daemon's latency histogram (estimates; see
#       bench/report.py)
#   (d) Sigma evaluation with the SigmaHQ Windows rules and its SQLite
#       baseline: bench/bench_sigma_eval.sh (about a minute; skipped without
#       the shared data, or with BENCH_SIGMA=0), appended to the report
#   (e) ML-KEM / ML-DSA operations per second and cycles, against
#       @noble/post-quantum in the same run: bench/bench_pqc.sh (BENCH_PQC=0
#       skips it; BENCH_PQC_SECONDS per operation, default 0.5)
#   (f) quantum exposure scanner: MB/s and sessions/s of `mwrasp exposure
#       scan` over the shared captures (>= BENCH_EXPOSURE_SECONDS, default 10,
#       of CPU time) against tshark on the same files: bench/bench_exposure.sh
#       (BENCH_EXPOSURE=0 skips it; skipped without the shared data)
#   (g) HTTP API: wrk against GET /api/v1/threats?limit=50 and POST
#       /api/v1/events with an admin key, plain HTTP and TLS 1.3: requests/s,
#       p50, p99: bench/bench_api.sh (BENCH_API=0 skips it; BENCH_API_SECONDS
#       per run, default 10)
#   (h) WebSocket fan-out: 1,000 stream clients subscribed to threats (one
#       epoll loop, bench/ws_fanout.c), delivery latency p50/p90/p99 of 200
#       threats: bench/bench_ws.sh (BENCH_WS=0 skips it; BENCH_WS_CLIENTS,
#       BENCH_WS_THREATS)
#
# Knobs (environment): BENCH_TCP_EVENTS (2000000), BENCH_HTTP_EVENTS (1000000),
# BENCH_LAT_RATE (100000), BENCH_LAT_SECONDS (10), BENCH_LAT_LOW_RATE (10000,
# 0 = skip), BENCH_LAT_LOW_SECONDS (5), BENCH_RULES (100),
# BENCH_HIT_RATIO (0.001), BENCH_TCP_CONNECTIONS (2), BENCH_HTTP_CONNECTIONS (4),
# BENCH_HTTP_BATCH (1000), BENCH_WORKERS (2), BENCH_SQLITE_ROWS (1000000),
# BENCH_PHASE_TIMEOUT (150 s), MW_BIN (build/bin), BENCH_OUT
# (bench/results/latest.md), TMPDIR.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${MW_BIN:-$ROOT/build/bin}
N_TCP=${BENCH_TCP_EVENTS:-2000000}
N_HTTP=${BENCH_HTTP_EVENTS:-1000000}
LAT_RATE=${BENCH_LAT_RATE:-100000}
LAT_SECONDS=${BENCH_LAT_SECONDS:-10}
LAT_LOW_RATE=${BENCH_LAT_LOW_RATE:-10000}
LAT_LOW_SECONDS=${BENCH_LAT_LOW_SECONDS:-5}
N_RULES=${BENCH_RULES:-100}
HIT=${BENCH_HIT_RATIO:-0.001}
C_TCP=${BENCH_TCP_CONNECTIONS:-2}
C_HTTP=${BENCH_HTTP_CONNECTIONS:-4}
BATCH=${BENCH_HTTP_BATCH:-1000}
WORKERS=${BENCH_WORKERS:-2}
SQL_ROWS=${BENCH_SQLITE_ROWS:-1000000}
PHASE_TIMEOUT=${BENCH_PHASE_TIMEOUT:-150}
OUT=${BENCH_OUT:-$ROOT/bench/results/latest.md}

say() { echo "bench: $*" >&2; }
die() { echo "bench: FAILED: $*" >&2; exit 1; }

for b in mwraspd loadgen sqlite_ref; do
  [ -x "$BIN/$b" ] || die "$BIN/$b not found (run make first)"
done
command -v python3 >/dev/null || die "python3 is needed"
command -v curl >/dev/null || die "curl is needed"

W=$(mktemp -d "${TMPDIR:-/tmp}/mwrasp-bench.XXXXXX")
DPID=
SINK_PID=
cleanup() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
    kill -TERM "$DPID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$DPID" 2>/dev/null || true
  fi
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
jget() { python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print($2)" "$1"; }

# ---- the machine -------------------------------------------------------------
CPU=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
[ -n "$CPU" ] || CPU=$(uname -m)
python3 - "$W/env.json" <<PY
import json, sys
json.dump({"date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "cpu": """$CPU""", "nproc": $(nproc),
           "mem_mib": $(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo),
           "commit": "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)",
           "bench_rules": $N_RULES, "workers": $WORKERS, "hit_ratio": $HIT,
           "tcp_events": $N_TCP, "http_events": $N_HTTP, "tmp": "${TMPDIR:-/tmp}"},
          open(sys.argv[1], "w"))
PY
setenv() { # KEY VALUE(json): adds a key to env.json
  python3 -c "import json,sys; p=sys.argv[1]; d=json.load(open(p)); d[sys.argv[2]]=json.loads(sys.argv[3]); json.dump(d, open(p,'w'))" "$W/env.json" "$1" "$2"
}

# ---- (c) references, without the daemon ----------------------------------
say "reference 1/3: raw loopback TCP, $N_TCP events, $C_TCP connections"
"$BIN/loadgen" sink-tcp 0 --count "$N_TCP" --idle-timeout 10 > "$W/sink.json" 2> "$W/sink.err" &
SINK_PID=$!
for _ in $(seq 1 100); do grep -q listening "$W/sink.err" 2>/dev/null && break; sleep 0.05; done
SPORT=$(jget "$W/sink.err" "d['listening']")
"$BIN/loadgen" syslog-tcp "127.0.0.1:$SPORT" --count "$N_TCP" --connections "$C_TCP" \
  --rules-hit-ratio "$HIT" --bench-rules "$N_RULES" --timeout "$PHASE_TIMEOUT" > "$W/sink_send.json" \
  || say "raw TCP reference sender failed"
wait "$SINK_PID" || say "sink-tcp did not receive everything: $(cat "$W/sink.json")"
SINK_PID=

say "reference 2/3: bare SQLite insert, $SQL_ROWS rows"
"$BIN/sqlite_ref" "$W/ref.db" --count "$SQL_ROWS" > "$W/sqlite.json" || say "sqlite_ref failed"
rm -f "$W/ref.db" "$W/ref.db-wal" "$W/ref.db-shm"
if [ -x "$BIN/bench_store" ]; then
  say "reference 3/3: the store module alone (bench_store), $SQL_ROWS events"
  if MW_BENCH_TMP="$W" "$BIN/bench_store" "$SQL_ROWS" 4096 1 > "$W/bench_store.txt" 2>&1; then
    python3 - "$W/bench_store.txt" "$W/bench_store.json" <<'PY' || say "cannot read bench_store output"
import json, re, sys
m = re.search(r"bench_store: (\d+) events/s \(([\d.]+) s\)", open(sys.argv[1]).read())
json.dump({"events_per_s": int(m.group(1)), "seconds": float(m.group(2))}, open(sys.argv[2], "w"))
PY
  else
    say "bench_store failed: $(tail -3 "$W/bench_store.txt")"
  fi
fi

# ---- the daemon ------------------------------------------------------------
mkdir -p "$W/rules/bench" "$W/store"
cp -r rules/. "$W/rules/bundled"
# The bench rules (their indicator selections match loadgen's crafted hits).
[ -f scripts/gen-bench-rules.sh ] || die "scripts/gen-bench-rules.sh is missing"
bash scripts/gen-bench-rules.sh "$N_RULES" "$W/rules/bench" >/dev/null
HTTP_PORT=$(free_port); TCP_PORT=$(free_port); JSON_PORT=$(free_port)
URL="http://127.0.0.1:$HTTP_PORT"
cat > "$W/mwrasp.yaml" <<YAML
listen:
  http: 127.0.0.1:$HTTP_PORT
  syslog_udp: ""
  syslog_tcp: 127.0.0.1:$TCP_PORT
  json_tcp: 127.0.0.1:$JSON_PORT
store:
  path: $W/store/mwrasp.db
rules:
  dir: $W/rules
pipeline:
  workers: $WORKERS
api:
  admin_key_file: $W/admin.key    # the first-start admin key (loadgen and curl use it)
  rate:
    address: "off"                # the benchmark measures ingest, not the rate limiter
    admin: "off"
log:
  level: warn
YAML
say "starting mwraspd (store and rules under $W)"
"$BIN/mwraspd" --config "$W/mwrasp.yaml" > "$W/mwraspd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 300); do
  curl -fsS "$URL/health/ready" >/dev/null 2>&1 && break
  kill -0 "$DPID" 2>/dev/null || { cat "$W/mwraspd.log" >&2; die "mwraspd exited during start"; }
  sleep 0.1
done
curl -fsS "$URL/health/ready" >/dev/null 2>&1 || die "mwraspd not ready after 30 s"
[ -s "$W/admin.key" ] || die "mwraspd wrote no admin key to $W/admin.key"
export MWRASP_API_KEY=$(cat "$W/admin.key")   # loadgen reads it
AUTH=(-H "Authorization: Bearer $MWRASP_API_KEY")
curl -fsS "${AUTH[@]}" "$URL/api/v1/metrics" > "$W/metrics0.json"
RULES_LOADED=$(jget "$W/metrics0.json" "d['rules_loaded']")
setenv rules_loaded "$RULES_LOADED"
[ "$RULES_LOADED" -ge "$N_RULES" ] || say "warning: only $RULES_LOADED rules loaded (expected >= $N_RULES)"

# ---- (a) throughput ---------------------------------------------------------
say "throughput 1/2: syslog TCP, $N_TCP events, $C_TCP connections"
"$BIN/loadgen" syslog-tcp "127.0.0.1:$TCP_PORT" --count "$N_TCP" --connections "$C_TCP" \
  --rules-hit-ratio "$HIT" --bench-rules "$N_RULES" --seed 11 \
  --wait-metrics "$URL/api/v1/metrics" --timeout "$PHASE_TIMEOUT" > "$W/tcp.json" \
  || say "syslog TCP run incomplete: $(cat "$W/tcp.json")"

say "throughput 2/2: HTTP NDJSON, $N_HTTP events, $C_HTTP connections x $BATCH lines"
"$BIN/loadgen" http-ndjson "$URL/api/v1/events" --count "$N_HTTP" --connections "$C_HTTP" \
  --batch "$BATCH" --rules-hit-ratio "$HIT" --bench-rules "$N_RULES" --seed 12 \
  --wait-metrics "$URL/api/v1/metrics" --timeout "$PHASE_TIMEOUT" > "$W/http.json" \
  || say "HTTP NDJSON run incomplete: $(cat "$W/http.json")"

# ---- (b) latency at a paced rate -------------------------------------------
detections() { curl -fsS "${AUTH[@]}" "$URL/api/v1/metrics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["detections"])'; }
# paced_run NAME RATE SECONDS SEED: NAME.json, prom_NAME_{before,after}.txt
paced_run() {
  local n=$(($2 * $3)) d0 d1
  say "latency ($1): $n syslog TCP events paced at $2 events/s"
  curl -fsS "${AUTH[@]}" "$URL/metrics" > "$W/prom_$1_before.txt"
  d0=$(detections)
  "$BIN/loadgen" syslog-tcp "127.0.0.1:$TCP_PORT" --count "$n" --connections 1 --rate "$2" \
    --rules-hit-ratio "$HIT" --bench-rules "$N_RULES" --seed "$4" \
    --wait-metrics "$URL/api/v1/metrics" --timeout "$PHASE_TIMEOUT" > "$W/$1.json" \
    || say "latency run $1 incomplete: $(cat "$W/$1.json")"
  curl -fsS "${AUTH[@]}" "$URL/metrics" > "$W/prom_$1_after.txt"
  d1=$(detections)
  setenv "$1_detections" "$((d1 - d0))"
}
paced_run lat "$LAT_RATE" "$LAT_SECONDS" 13
# The same at a rate well below the throughput, so that the figure shows
# the pipeline's own latency rather than queueing behind a saturated stage.
[ "$LAT_LOW_RATE" -gt 0 ] && paced_run lat_low "$LAT_LOW_RATE" "$LAT_LOW_SECONDS" 14

kill -TERM "$DPID" 2>/dev/null || true
for _ in $(seq 1 300); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
DPID=

mkdir -p "$(dirname "$OUT")"
python3 bench/report.py "$W" > "$W/report.md"
cp "$W/report.md" "$OUT"
cat "$W/report.md"

# ---- (d) Sigma evaluation, after the daemon has stopped --------------------
if [ "${BENCH_SIGMA:-1}" != 0 ]; then
  say "Sigma evaluation: bench/bench_sigma_eval.sh"
  if MW_BIN="$BIN" BENCH_PHASE_TIMEOUT="$PHASE_TIMEOUT" bash bench/bench_sigma_eval.sh \
    > "$W/sigma.md"; then
    if [ -s "$W/sigma.md" ]; then { echo; cat "$W/sigma.md"; } | tee -a "$OUT"; fi
  else
    say "Sigma benchmark failed"
  fi
fi
# ---- (e) post-quantum crypto ------------------------------------------------
if [ "${BENCH_PQC:-1}" != 0 ]; then
  say "PQC: bench/bench_pqc.sh"
  if MW_BIN="$BIN" bash bench/bench_pqc.sh > "$W/pqc.md"; then
    { echo; cat "$W/pqc.md"; } | tee -a "$OUT"
  else
    say "PQC benchmark failed"
  fi
fi
# ---- (f) quantum exposure scanner --------------------------------------------
if [ "${BENCH_EXPOSURE:-1}" != 0 ]; then
  say "exposure: bench/bench_exposure.sh"
  if MW_BIN="$BIN" timeout "$PHASE_TIMEOUT" bash bench/bench_exposure.sh > "$W/exposure.md"; then
    { echo; cat "$W/exposure.md"; } | tee -a "$OUT"
  else
    say "exposure benchmark failed"
  fi
fi
# ---- (g) HTTP API with wrk ---------------------------------------------------
if [ "${BENCH_API:-1}" != 0 ]; then
  say "HTTP API: bench/bench_api.sh"
  if MW_BIN="$BIN" timeout "$PHASE_TIMEOUT" bash bench/bench_api.sh > "$W/api.md"; then
    { echo; cat "$W/api.md"; } | tee -a "$OUT"
  else
    say "HTTP API benchmark failed"
  fi
fi
# ---- (h) WebSocket fan-out ---------------------------------------------------
if [ "${BENCH_WS:-1}" != 0 ]; then
  say "WebSocket fan-out: bench/bench_ws.sh"
  if MW_BIN="$BIN" timeout "$PHASE_TIMEOUT" bash bench/bench_ws.sh > "$W/ws.md"; then
    { echo; cat "$W/ws.md"; } | tee -a "$OUT"
  else
    say "WebSocket fan-out benchmark failed"
  fi
fi
say "report written to $OUT"
