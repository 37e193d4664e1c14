#!/usr/bin/env bash
# Issue 6 item 1: every operation of docs/api/openapi.yaml, called with no
# credentials and as each role (an API key and a JWT of each role, HS256 and
# EdDSA), answers 401 / 403 / neither exactly as its x-required-role says;
# the route table of src/api/server.c and the spec list the same routes with
# the same roles (api-roles-check.mjs). /metrics: public on a loopback
# listener by default, viewer with api.metrics_public=no.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh installs it)"
need_node_modules @apidevtools/swagger-parser

write_config "$(pwd)/tests/integration/rules"
head -c 48 /dev/urandom | base64 | tr -d '\n' >"$TMP/hs256.secret"
openssl genpkey -algorithm ed25519 -out "$TMP/ed.key" 2>/dev/null || fail "openssl genpkey ed25519"
openssl pkey -in "$TMP/ed.key" -pubout -out "$TMP/ed.pub" 2>/dev/null || fail "openssl pkey -pubout"
start_daemon --set api.metrics_public=no --set api.jwt_hs256_secret_file="$TMP/hs256.secret" \
  --set api.jwt_ed25519_public_key="$TMP/ed.pub" --set api.jwt_issuer=https://idp.test \
  --set api.jwt_audience=mwrasp
[ -n "${API_KEY:-}" ] || fail "no admin key in $TMP/admin.key"

# one API key per role, made by the admin key
declare -A KEY
for r in viewer ingest analyst; do
  KEY[$r]=$(curl -fsS -X POST -H 'Content-Type: application/json' \
    -d "{\"role\":\"$r\",\"name\":\"roles-$r\"}" "$URL/api/v1/apikeys" | json_get 'd["key"]') ||
    fail "creating a $r key"
done
KEY[admin]=$API_KEY
# one JWT per role: viewer and analyst HS256, ingest and admin EdDSA
exp=$(($(date +%s) + 600))
declare -A JWT
for r in viewer ingest analyst admin; do
  case $r in viewer | analyst) alg=HS256 k="$TMP/hs256.secret" ;; *) alg=EdDSA k="$TMP/ed.key" ;; esac
  JWT[$r]=$(node tests/integration/jwt-make.mjs $alg "$k" \
    "{\"sub\":\"user-$r\",\"iss\":\"https://idp.test\",\"aud\":\"mwrasp\",\"exp\":$exp,\"role\":\"$r\"}")
done
python3 - "$TMP/creds.json" <<PY
import json, sys
json.dump({"apikey": {"viewer": "${KEY[viewer]}", "ingest": "${KEY[ingest]}", "analyst": "${KEY[analyst]}", "admin": "${KEY[admin]}"},
           "jwt": {"viewer": "${JWT[viewer]}", "ingest": "${JWT[ingest]}", "analyst": "${JWT[analyst]}", "admin": "${JWT[admin]}"}},
          open(sys.argv[1], "w"))
PY
# a threat to act on (PATCH /api/v1/threats/1 answers 200 for analyst/admin)
curl -fsS -X POST -H 'Content-Type: text/plain' --data-binary \
  '<34>1 2024-05-01T12:00:00Z web1 sshd 1 - - Failed password for root from 10.0.0.9' \
  "$URL/api/v1/events" >/dev/null || fail "posting an event"

node tests/integration/api-roles-check.mjs docs/api/openapi.yaml "$URL" src/api/server.c "$TMP/creds.json" ||
  fail "api-roles-check.mjs"
pass "every operation x every role: 401/403/allowed as declared; table == spec"

# /metrics: viewer when api.metrics_public=no ...
[ "$(curl -q -s -o /dev/null -w '%{http_code}' "$URL/metrics")" = 401 ] || fail "/metrics without a key: want 401"
[ "$(curl -q -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${KEY[ingest]}" "$URL/metrics")" = 403 ] ||
  fail "/metrics with an ingest key: want 403"
[ "$(curl -q -s -o /dev/null -w '%{http_code}' -H "X-API-Key: ${KEY[viewer]}" "$URL/metrics")" = 200 ] ||
  fail "/metrics with a viewer key in X-API-Key: want 200"
# ... and public by default on loopback
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
start_daemon
[ "$(curl -q -s -o /dev/null -w '%{http_code}' "$URL/metrics")" = 200 ] || fail "/metrics on loopback by default: want 200"
[ "$(curl -q -s -o /dev/null -w '%{http_code}' "$URL/api/v1/metrics")" = 401 ] || fail "/api/v1/metrics stays viewer"
pass "/metrics: api.metrics_public=no needs a viewer; auto on loopback is public"
