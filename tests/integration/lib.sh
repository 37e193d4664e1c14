# Helpers for integration tests: free ports, starting and stopping mwraspd,
# JSON queries. Sourced by tests/integration/test_*.sh.
set -euo pipefail
MW_BIN=${MW_BIN:-$(pwd)/build/bin}
TMP=$(mktemp -d /tmp/mwrasp-it.XXXXXX)
DAEMON_PID=

fail() { echo "FAIL: $*" >&2; [ -f "$TMP/daemon.log" ] && tail -n 30 "$TMP/daemon.log" >&2; exit 1; }
pass() { echo "ok: $*"; }

# need_node_modules PKG...: the npm packages of tests/integration/package-lock.json are
# installed (scripts/run-tests.sh runs `npm ci` there before ctest, so that parallel
# tests never run npm at the same time).
need_node_modules() {
  local p
  for p in "$@"; do
    [ -d "tests/integration/node_modules/$p" ] ||
      fail "npm package $p is missing: run 'npm ci' in tests/integration (make test does)"
  done
}

cleanup() {
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then kill -KILL "$DAEMON_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

# free_port: a TCP+UDP port nobody uses on 127.0.0.1 right now.
free_port() {
  python3 - <<'PY'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); p = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p))
    except OSError:
        t.close(); continue
    t.close(); u.close(); print(p); break
PY
}

# write_config RULES_DIR: writes $TMP/mwrasp.yaml with fresh ports.
write_config() {
  HTTP_PORT=$(free_port); SYSLOG_PORT=$(free_port); JSON_PORT=$(free_port)
  URL="http://127.0.0.1:$HTTP_PORT"
  cat > "$TMP/mwrasp.yaml" <<YAML
listen:
  http: 127.0.0.1:$HTTP_PORT
  syslog_udp: 127.0.0.1:$SYSLOG_PORT
  syslog_tcp: 127.0.0.1:$SYSLOG_PORT
  json_tcp: 127.0.0.1:$JSON_PORT
store:
  path: $TMP/mwrasp.db
rules:
  dir: $1
threats:
  dedup_window: 60s
log:
  level: info
api:
  admin_key_file: $TMP/admin.key
YAML
}

# Credentials (issue 6): at its first start the daemon creates an admin API
# key and writes it to $TMP/admin.key (api.admin_key_file). start_daemon
# exports it as API_KEY and MWRASP_API_KEY (the CLI), and writes
# $TMP/.curlrc with CURL_HOME=$TMP so that every plain `curl` of a test sends
# it. A request WITHOUT credentials: `curl -q ...` (-q first: no .curlrc).
use_api_key() {
  API_KEY=$1
  MWRASP_API_KEY=$1
  export API_KEY MWRASP_API_KEY
  printf 'header = "Authorization: Bearer %s"\n' "$1" >"$TMP/.curlrc"
  CURL_HOME=$TMP
  export CURL_HOME
}

start_daemon() {
  "$MW_BIN/mwraspd" --config "$TMP/mwrasp.yaml" "$@" >>"$TMP/daemon.log" 2>&1 &
  DAEMON_PID=$!
  for _ in $(seq 1 200); do
    if curl -q -fsS "$URL/health/ready" >/dev/null 2>&1; then
      if [ -s "$TMP/admin.key" ]; then use_api_key "$(cat "$TMP/admin.key")"; fi
      return 0
    fi
    kill -0 "$DAEMON_PID" 2>/dev/null || fail "mwraspd exited during start"
    sleep 0.05
  done
  fail "mwraspd not ready after 10 s"
}

# jq-like: json_get EXPR reads JSON on stdin, prints python expression result.
json_get() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# wait_for DESCRIPTION COMMAND...: retries for up to 10 s.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 100); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  fail "timed out waiting for: $what"
}
