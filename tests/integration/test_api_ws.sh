#!/usr/bin/env bash
# The WebSocket stream GET /api/v1/stream (RFC 6455) against the real daemon:
# starts mwraspd on free loopback ports with a small per-client queue (16),
# 1 s heartbeats and a cap of 24 clients, then tests/integration/ws_check.py
# (a standard-library RFC 6455 client, wsclient.py) checks authentication
# (header, first message, timeout), message validation, severity and host
# filters on live threats, PATCH updates, metrics once per second, pings and
# the no-pong close, frames over the limit (1009), bad UTF-8 (1007), binary
# (1003), a non-reading client dropped with 1008 while another keeps
# receiving, and the client cap (503). Counters are read from /metrics.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

write_config "$(pwd)/tests/integration/rules"
cat >>"$TMP/mwrasp.yaml" <<YAML
api.ws_queue: 256
api.ws_ping_interval: 1s
api.ws_pong_timeout: 6s
api.ws_max_clients: 24
YAML
start_daemon
KEY=${API_KEY:-}
[ -n "$KEY" ] || fail "lib.sh exported no API_KEY (the admin key of the first start)"

# a plain GET (no Upgrade) is refused with 426, in the Error shape
code=$(curl -s -o "$TMP/plain.json" -w '%{http_code}' -H "Authorization: Bearer $KEY" "$URL/api/v1/stream")
[ "$code" = 426 ] || fail "GET /api/v1/stream without Upgrade: $code, want 426"
json_get 'd["error"]["code"]' <"$TMP/plain.json" | grep -qx upgrade_required ||
  fail "426 body: $(cat "$TMP/plain.json")"
code=$(curl -q -s -o /dev/null -w '%{http_code}' "$URL/api/v1/stream")
[ "$code" = 401 ] || fail "GET /api/v1/stream without credentials: $code, want 401"
pass "GET /api/v1/stream without Upgrade: 401 without credentials, 426 with"

timeout -s ABRT 240 python3 -X faulthandler tests/integration/ws_check.py "$HTTP_PORT" "$KEY" ||
  fail "ws_check.py failed (exit $?)"

curl -fsS "$URL/health/ready" >/dev/null || fail "daemon not ready after the WebSocket checks"
kill -0 "$DAEMON_PID" || fail "mwraspd died"
# the first-start banner shows the admin key once; nothing else may
[ "$(grep -c -- "$KEY" "$TMP/daemon.log")" = 1 ] || fail "the API key appears in the daemon log"
pass "daemon alive and ready; the key never logged (but in the first-start banner)"
