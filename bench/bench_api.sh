#!/usr/bin/env bash
# HTTP API benchmark, phase (g) of `make bench` (issue 6 "Performance"): wrk
# against a real mwraspd on loopback, plain HTTP and TLS 1.3 (listen.https
# with a `mwrasp cert selfsigned` P-256 certificate), with the admin API key
# the daemon creates at first start:
#   - GET /api/v1/threats?limit=50 over a store holding 60 threats (each
#     answer is 50 threats of JSON);
#   - POST /api/v1/events, one small JSON event per request, each answered
#     202 only once the event is durable (bench/api_post.lua sets the method,
#     body and headers).
# The rate limits stay in the path but are raised for the run (api.rate.address
# and api.rate.admin 100,000,000/min), as the target is the server, not the
# limiter. Prints a Markdown table (requests/s, p50, p99 from wrk --latency;
# non-2xx answers must be 0) on stdout.
# Knobs: BENCH_API_SECONDS (10 per run), BENCH_API_CONNECTIONS (8: civetweb
# gives each keep-alive connection one of its api.threads (8) threads, so
# more connections than threads wait their turn and only add latency),
# BENCH_API_THREADS (2, wrk's), MW_BIN (build/bin).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${MW_BIN:-$ROOT/build/bin}
SECS=${BENCH_API_SECONDS:-10}
CONNS=${BENCH_API_CONNECTIONS:-8}
WT=${BENCH_API_THREADS:-2}
command -v wrk >/dev/null || { echo "bench_api: wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }
[ -x "$BIN/mwraspd" ] && [ -x "$BIN/mwrasp" ] || { echo "bench_api: $BIN/mwraspd not built" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/mwrasp-bench-api.XXXXXX")
DPID=
cleanup() {
  if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID" 2>/dev/null || true; fi
  rm -rf "$W"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HP=$(port)
SP=$(port)
"$BIN/mwrasp" cert selfsigned --out-cert "$W/cert.pem" --out-key "$W/key.pem" >/dev/null
cat >"$W/mwrasp.yaml" <<YAML
listen:
  http: 127.0.0.1:$HP
  https: 127.0.0.1:$SP
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
  tls_cert: $W/cert.pem
  tls_key: $W/key.pem
  rate:
    address: 100000000/min burst 100000000
    admin: 100000000/min burst 100000000
YAML
"$BIN/mwraspd" --config "$W/mwrasp.yaml" >"$W/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 1 200); do
  curl -q -fsS "http://127.0.0.1:$HP/health/ready" >/dev/null 2>&1 && break
  kill -0 "$DPID" 2>/dev/null || { cat "$W/daemon.log" >&2; exit 1; }
  sleep 0.05
done
KEY=$(cat "$W/admin.key")
export MW_BENCH_KEY=$KEY

# 60 threats: two failed SSH logins on each of 60 hosts (tests/integration/rules).
python3 - "$HP" "$KEY" <<'PY'
import http.client, json, sys
port, key = int(sys.argv[1]), sys.argv[2]
lines = []
for h in range(60):
    for i in range(2):
        lines.append(f"<34>Oct 11 22:14:1{i} web{h} sshd[412]: Failed password for root from 203.0.113.7 port 5211{i} ssh2")
c = http.client.HTTPConnection("127.0.0.1", port)
c.request("POST", "/api/v1/events", body="\n".join(lines) + "\n",
          headers={"Content-Type": "text/plain", "Authorization": "Bearer " + key})
r = c.getresponse(); r.read()
assert r.status == 202, r.status
PY
for _ in $(seq 1 100); do
  n=$(curl -q -fsS -H "Authorization: Bearer $KEY" "http://127.0.0.1:$HP/api/v1/threats?limit=100" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["threats"]))')
  [ "$n" -ge 60 ] && break
  sleep 0.1
done

# run NAME URL [LUA]: one wrk run; appends a table row.
run() {
  local name=$1 url=$2 lua=${3:-}
  local args=(-t "$WT" -c "$CONNS" -d "${SECS}s" --latency)
  if [ -n "$lua" ]; then args+=(-s "$lua"); else args+=(-H "Authorization: Bearer $KEY"); fi
  wrk "${args[@]}" "$url" >"$W/wrk.txt" 2>&1 || { cat "$W/wrk.txt" >&2; return 1; }
  python3 - "$name" "$W/wrk.txt" <<'PY'
import re, sys
name, text = sys.argv[1], open(sys.argv[2]).read()
def lat(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % p, text, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
errs = re.search(r"Socket errors:.*", text)
bad = int(non2xx.group(1)) if non2xx else 0
print(f"| {name} | {rps:,.0f} | {lat(50):.2f} | {lat(99):.2f} | {bad}{' (' + errs.group(0) + ')' if errs else ''} |")
PY
}

echo "### HTTP API (wrk, ${SECS} s per run, $CONNS connections, $WT wrk threads, api.threads 8, loopback)"
echo
echo "| request | requests/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---:|---:|---:|---:|"
run "GET /api/v1/threats?limit=50, HTTP" "http://127.0.0.1:$HP/api/v1/threats?limit=50"
run "GET /api/v1/threats?limit=50, TLS 1.3" "https://127.0.0.1:$SP/api/v1/threats?limit=50"
run "POST /api/v1/events (1 event), HTTP" "http://127.0.0.1:$HP/api/v1/events" bench/api_post.lua
run "POST /api/v1/events (1 event), TLS 1.3" "https://127.0.0.1:$SP/api/v1/events" bench/api_post.lua
echo
echo "Target (DESIGN.md section 7): >= 20,000 requests/s for reads on loopback without TLS."
kill -TERM "$DPID" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
DPID=
