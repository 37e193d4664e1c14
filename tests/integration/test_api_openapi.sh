#!/usr/bin/env bash
# docs/api/openapi.yaml is valid OpenAPI 3.0 and describes the real daemon:
# starts mwraspd (fresh ports, store in a temp dir), makes one threat, then
# tests/integration/openapi-check.mjs validates the spec with
# @apidevtools/swagger-parser and calls every path + method in it, checking
# statuses, content types and JSON bodies against the spec.
# Also drives the CLI (mwrasp replay / threats / status) against the daemon.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh installs it)"
need_node_modules @apidevtools/swagger-parser

write_config "$(pwd)/tests/integration/rules"
start_daemon

# One threat through the CLI: two sshd failures and one bad line.
printf '%s\n' \
  '<34>Oct 11 22:14:15 web1 sshd[412]: Failed password for root from 203.0.113.7 port 52113 ssh2' \
  '' \
  '{"host": "web1", "message": "Failed password for admin"' \
  '<34>Oct 11 22:14:17 web1 sshd[412]: Failed password for bob from 203.0.113.7 port 52114 ssh2' \
  > "$TMP/replay.log"
set +e
"$MW_BIN/mwrasp" replay "$TMP/replay.log" --url "$URL" --batch 2 >"$TMP/replay.out" 2>"$TMP/replay.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "mwrasp replay: exit $rc, want 1 (one line rejected)"
grep -qx '3 lines, 2 accepted, 1 rejected' "$TMP/replay.out" ||
  fail "mwrasp replay totals: $(cat "$TMP/replay.out")"
grep -q "^$TMP/replay.log:3: " "$TMP/replay.err" ||
  fail "mwrasp replay did not report FILE:3: $(cat "$TMP/replay.err")"
pass "mwrasp replay: totals, exit status and FILE:LINE errors"

wait_for "a threat on web1" bash -c \
  "curl -fsS '$URL/api/v1/threats?host=web1' | grep -q '\"rule_id\"'"
"$MW_BIN/mwrasp" threats --url "$URL" --host web1 >"$TMP/threats.out" || fail "mwrasp threats failed"
head -n1 "$TMP/threats.out" | grep -q '^ID *SEV *STATUS *HOST *COUNT *LAST-SEEN *TITLE' ||
  fail "mwrasp threats header: $(head -n1 "$TMP/threats.out")"
grep -q 'web1 .* 2 .*E2E test - failed SSH password' "$TMP/threats.out" ||
  fail "mwrasp threats table: $(cat "$TMP/threats.out")"
THREAT_ID=$(curl -fsS "$URL/api/v1/threats?host=web1" | json_get 'd["threats"][0]["id"]')
MWRASP_URL=$URL "$MW_BIN/mwrasp" threats --json --status new | json_get 'len(d["threats"])' >/dev/null ||
  fail "mwrasp threats --json is not JSON"
MWRASP_URL=$URL "$MW_BIN/mwrasp" status >"$TMP/status.out" || fail "mwrasp status: exit $?"
grep -q '^ready: *yes' "$TMP/status.out" || fail "mwrasp status: $(cat "$TMP/status.out")"
grep -q '^events in: *[0-9]* (.*replay 2' "$TMP/status.out" || fail "mwrasp status: $(cat "$TMP/status.out")"
pass "mwrasp threats and status"

node tests/integration/openapi-check.mjs docs/api/openapi.yaml "$URL" "$THREAT_ID" ||
  fail "the daemon does not answer as docs/api/openapi.yaml says"
pass "docs/api/openapi.yaml is valid and every route answers as documented"

# The served copy is the file itself.
curl -fsS "$URL/api/v1/openapi.yaml" | cmp -s - docs/api/openapi.yaml ||
  fail "/api/v1/openapi.yaml differs from docs/api/openapi.yaml"
pass "/api/v1/openapi.yaml serves docs/api/openapi.yaml"

# The CLI says clearly when the daemon is not there.
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
set +e
"$MW_BIN/mwrasp" status --url "$URL" >/dev/null 2>"$TMP/down.err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "mwrasp status with no daemon: exit $rc, want 2"
grep -q "^mwrasp: cannot reach the daemon at $URL: connection refused" "$TMP/down.err" ||
  fail "mwrasp status with no daemon: $(cat "$TMP/down.err")"
pass "mwrasp reports an unreachable daemon (exit 2)"
