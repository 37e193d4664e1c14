#!/usr/bin/env bash
# Issue 6 items 1 and 6 against the real daemon: the first admin key (printed
# once, file 0600), API keys of each role through `mwrasp apikey`, JWT bearer
# tokens (HS256, EdDSA) and every refusal (missing, expired, not yet valid,
# wrong iss / aud, malformed, forged, alg none, algorithm confusion,
# oversized, revoked key, another role's key), the audit log rows with their
# actors, and the mwrasp_api_auth_failures_total counters by reason.
source "$(dirname "$0")/lib.sh"
command -v node >/dev/null || fail "node is not installed"

write_config "$(pwd)/tests/integration/rules"
head -c 48 /dev/urandom | base64 | tr -d '\n' >"$TMP/hs256.secret"
openssl genpkey -algorithm ed25519 -out "$TMP/ed.key" 2>/dev/null || fail "openssl genpkey"
openssl pkey -in "$TMP/ed.key" -pubout -out "$TMP/ed.pub" 2>/dev/null || fail "openssl pkey"
cat >>"$TMP/mwrasp.yaml" <<YAML
  jwt_hs256_secret_file: $TMP/hs256.secret
  jwt_ed25519_public_key: $TMP/ed.pub
  jwt_issuer: https://idp.test
  jwt_audience: mwrasp
  jwt_leeway: 5s
YAML
start_daemon
MW=("$MW_BIN/mwrasp")

# ---- the first admin key -----------------------------------------------------
[ "$(stat -c %a "$TMP/admin.key")" = 600 ] || fail "admin key file mode $(stat -c %a "$TMP/admin.key")"
grep -Eq '^mwk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$' "$TMP/admin.key" || fail "admin key format: $(cat "$TMP/admin.key")"
[ "$(grep -c "$API_KEY" "$TMP/daemon.log")" = 1 ] || fail "the admin key is not printed exactly once"
pass "first start: admin key printed once, written 0600"

# ---- status helper: code METHOD PATH [curl args...] (no .curlrc) --------------
code() { local m=$1 p=$2; shift 2; curl -q -s -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code}' -X "$m" "$@" "$URL$p"; }
want() { # want STATUS REASON METHOD PATH [curl args]: 401 answers name the reason
  local st=$1 why=$2; shift 2
  local got; got=$(code "$@")
  [ "$got" = "$st" ] || fail "$*: status $got, want $st: $(cat "$TMP/body")"
  if [ "$st" = 401 ]; then
    grep -qi '^WWW-Authenticate: Bearer' "$TMP/hdrs" || fail "$*: no WWW-Authenticate: Bearer"
    grep -q "($why)" "$TMP/body" || fail "$*: reason: $(cat "$TMP/body"), want $why"
  fi
}
bearer() { printf 'Authorization: Bearer %s' "$1"; }
now=$(date +%s)
jwt() { # jwt ALG ROLE EXTRA_CLAIMS [HEADER]
  local k="$TMP/hs256.secret"; [ "$1" = EdDSA ] && k="$TMP/ed.key"
  node tests/integration/jwt-make.mjs "$1" "$k" \
    "{\"sub\":\"alice\",\"iss\":\"https://idp.test\",\"aud\":\"mwrasp\",\"role\":\"$2\"$3}" ${4:+"$4"}
}

# ---- API keys through the CLI --------------------------------------------------
ANALYST=$("${MW[@]}" apikey create --role analyst --name ci --url "$URL" 2>"$TMP/create.err") ||
  fail "mwrasp apikey create: $(cat "$TMP/create.err")"
grep -q "created analyst key" "$TMP/create.err" || fail "apikey create stderr: $(cat "$TMP/create.err")"
ANALYST_ID=$(echo "$ANALYST" | cut -c5-16)
VIEWER=$("${MW[@]}" --api-key "$API_KEY" apikey create --role viewer --url "$URL" 2>/dev/null) || fail "viewer key"
INGEST=$(MWRASP_API_KEY=$API_KEY "${MW[@]}" apikey create --role ingest --url "$URL" 2>/dev/null) || fail "ingest key"
MWRASP_API_KEY=$VIEWER "${MW[@]}" apikey create --role admin --url "$URL" 2>"$TMP/esc.err" &&
  fail "a viewer key created a key"
grep -q "403 forbidden" "$TMP/esc.err" || fail "viewer creating a key: $(cat "$TMP/esc.err")"
"${MW[@]}" apikey list --url "$URL" >"$TMP/list.out" || fail "apikey list"
grep -Eq "^$ANALYST_ID +analyst .* ci$" "$TMP/list.out" || fail "apikey list: $(cat "$TMP/list.out")"
grep -q "$ANALYST" "$TMP/list.out" "$TMP/daemon.log" && fail "a key's secret was listed or logged"
pass "mwrasp apikey create (analyst, viewer, ingest), list; a viewer cannot create keys"

# ---- roles -------------------------------------------------------------------------
EV='<34>1 2024-05-01T12:00:00Z web1 sshd 1 - - Failed password for root from 10.0.0.9'
want 202 - POST /api/v1/events -H "$(bearer "$INGEST")" -H 'Content-Type: text/plain' --data-binary "$EV"
want 403 - GET /api/v1/threats -H "$(bearer "$INGEST")"
want 200 - GET /api/v1/threats -H "X-API-Key: $VIEWER"
wait_for "a threat" sh -c "curl -q -fsS -H 'X-API-Key: $VIEWER' '$URL/api/v1/threats' | grep -q '\"id\"'"
TID=$(curl -q -fsS -H "X-API-Key: $VIEWER" "$URL/api/v1/threats" | json_get 'd["threats"][0]["id"]')
want 403 - PATCH "/api/v1/threats/$TID" -H "$(bearer "$VIEWER")" -d '{"status":"acknowledged"}'
grep -q '"forbidden"' "$TMP/body" || fail "403 body: $(cat "$TMP/body")"
want 200 - PATCH "/api/v1/threats/$TID" -H "$(bearer "$ANALYST")" -d '{"status":"acknowledged"}'
want 403 - GET /api/v1/audit -H "$(bearer "$ANALYST")"
pass "ingest posts only; viewer reads; analyst acknowledges; audit is admin-only"

# ---- JWT ---------------------------------------------------------------------------
T=$(jwt HS256 analyst ",\"exp\":$((now + 300))")
want 200 - PATCH "/api/v1/threats/$TID" -H "$(bearer "$T")" -d '{"status":"responding"}'
T=$(jwt EdDSA viewer ",\"exp\":$((now + 300))")
want 200 - GET /api/v1/threats -H "$(bearer "$T")"
want 403 - PATCH "/api/v1/threats/$TID" -H "$(bearer "$T")" -d '{"status":"resolved"}'
pass "HS256 and EdDSA tokens: role from the claim"

want 401 missing GET /api/v1/threats
want 401 expired GET /api/v1/threats -H "$(bearer "$(jwt EdDSA admin ",\"exp\":$((now - 60))")")"
want 401 not_yet_valid GET /api/v1/threats -H "$(bearer "$(jwt HS256 admin ",\"exp\":$((now + 600)),\"nbf\":$((now + 300))")")"
want 401 issuer GET /api/v1/threats -H "$(bearer "$(node tests/integration/jwt-make.mjs HS256 "$TMP/hs256.secret" \
  "{\"sub\":\"m\",\"iss\":\"https://evil.test\",\"aud\":\"mwrasp\",\"role\":\"admin\",\"exp\":$((now + 60))}")")"
want 401 audience GET /api/v1/threats -H "$(bearer "$(node tests/integration/jwt-make.mjs EdDSA "$TMP/ed.key" \
  "{\"sub\":\"m\",\"iss\":\"https://idp.test\",\"aud\":[\"other\"],\"role\":\"admin\",\"exp\":$((now + 60))}")")"
want 401 malformed GET /api/v1/threats -H "Authorization: Bearer abc.def.ghi"
want 401 malformed GET /api/v1/threats -H "Authorization: Basic YWRtaW46YWRtaW4="
# forged: a viewer token whose claims are swapped for admin ones, signature kept
V=$(jwt HS256 viewer ",\"exp\":$((now + 300))"); A=$(jwt HS256 admin ",\"exp\":$((now + 300))")
want 401 bad_signature GET /api/v1/audit -H "$(bearer "$(echo "$A" | cut -d. -f1-2).$(echo "$V" | cut -d. -f3)")"
# alg none (RFC 7519 section 6: an unsecured JWT)
want 401 alg GET /api/v1/audit -H "$(bearer "$(jwt none admin ",\"exp\":$((now + 300))")")"
# algorithm confusion: HS256 with the Ed25519 public key (PEM) as HMAC secret
node tests/integration/jwt-make.mjs HS256 "$TMP/ed.pub" \
  "{\"sub\":\"mallory\",\"iss\":\"https://idp.test\",\"aud\":\"mwrasp\",\"role\":\"admin\",\"exp\":$((now + 300))}" >"$TMP/confused"
want 401 bad_signature GET /api/v1/audit -H "$(bearer "$(cat "$TMP/confused")")"
# an EdDSA header over an HMAC signature
want 401 bad_signature GET /api/v1/audit -H "$(bearer "$(jwt HS256 admin ",\"exp\":$((now + 300))" '{"alg":"EdDSA"}')")"
want 401 alg GET /api/v1/audit -H "$(bearer "$(jwt HS256 admin ",\"exp\":$((now + 300))" '{"alg":"RS256"}')")"
# oversized (> 8 KiB)
want 401 too_large GET /api/v1/threats -H "Authorization: Bearer $(head -c 9000 /dev/zero | tr '\0' 'A')"
# a key of the right shape that does not exist, and a wrong secret for a real id
want 401 unknown_key GET /api/v1/threats -H "X-API-Key: mwk_000000000000_$(head -c 43 /dev/zero | tr '\0' 'A')"
want 401 bad_signature GET /api/v1/threats -H "X-API-Key: mwk_${ANALYST_ID}_$(head -c 43 /dev/zero | tr '\0' 'A')"
pass "refused with 401 and the reason: missing, expired, nbf, iss, aud, malformed x2, forged, alg none, alg confusion x2, RS256, oversized, unknown key, wrong secret"

# ---- revocation --------------------------------------------------------------------
"${MW[@]}" apikey revoke "$ANALYST_ID" --url "$URL" 2>/dev/null || fail "apikey revoke"
want 401 revoked GET /api/v1/threats -H "$(bearer "$ANALYST")"
"${MW[@]}" apikey revoke "$ANALYST_ID" --url "$URL" 2>"$TMP/rev2.err" && fail "revoking twice succeeded"
grep -q "404" "$TMP/rev2.err" || fail "second revoke: $(cat "$TMP/rev2.err")"
pass "a revoked key is refused at once; revoking twice is 404"

# ---- audit log ---------------------------------------------------------------------
AID=$(cut -c5-16 "$TMP/admin.key")
curl -fsS "$URL/api/v1/audit?limit=1000" >"$TMP/audit.json" || fail "GET /api/v1/audit"
python3 - "$TMP/audit.json" "$AID" "$ANALYST_ID" "$TID" "$(echo "$INGEST" | cut -c5-16)" <<'PY' || fail "audit rows"
import json, sys
d = json.load(open(sys.argv[1])); admin, analyst, tid, ingest = sys.argv[2:]
rows = [(e["actor"], e["role"], e["method"], e["path"], e["target"], e["status"]) for e in d["entries"]]
want = [
    (f"key:{admin}", "admin", "POST", "/api/v1/apikeys", analyst, 201),
    (f"key:{ingest}", "ingest", "POST", "/api/v1/events", "", 202),
    (f"key:{analyst}", "analyst", "PATCH", f"/api/v1/threats/{tid}", tid, 200),
    ("jwt:alice", "analyst", "PATCH", f"/api/v1/threats/{tid}", tid, 200),
    (f"key:{admin}", "admin", "DELETE", f"/api/v1/apikeys/{analyst}", analyst, 200),
    (f"key:{admin}", "admin", "DELETE", f"/api/v1/apikeys/{analyst}", analyst, 404),
]
for w in want:
    assert w in rows, f"missing audit row {w}; have {rows}"
# refused calls (401/403) are not audit rows; 3 keys made, 2 PATCHes, 2 DELETEs, 1 POST events
assert len(rows) == 8, rows
assert all(e["client"] == "127.0.0.1" for e in d["entries"]), d
assert d["entries"][0]["id"] > d["entries"][-1]["id"], "newest first"
ev = [e for e in d["entries"] if e["path"] == "/api/v1/events"][0]
assert ev["summary"] == "events: 1 accepted, 0 rejected", ev
pt = [e for e in d["entries"] if e["actor"] == "jwt:alice"][0]
assert pt["summary"] == "status=responding", pt
PY
[ "$(curl -fsS "$URL/api/v1/audit?actor=jwt:alice" | json_get 'len(d["entries"])')" = 1 ] || fail "audit ?actor="
P1=$(curl -fsS "$URL/api/v1/audit?limit=3")
C=$(echo "$P1" | json_get 'd["next_cursor"]'); [ "$C" != None ] || fail "audit paging: no cursor"
[ "$(curl -fsS "$URL/api/v1/audit?limit=10&cursor=$C" | json_get 'len(d["entries"])')" = 5 ] || fail "audit page 2"
[ "$(curl -fsS "$URL/api/v1/audit?since=$(( ($(date +%s) + 5) * 1000000000 ))" | json_get 'len(d["entries"])')" = 0 ] ||
  fail "audit ?since= in the future"
want 400 - GET "/api/v1/audit?limit=0" -H "$(bearer "$API_KEY")"
pass "audit: one row per state change with actor, role, target, summary, client, status; ?actor, ?since, paging"

# ---- counters ----------------------------------------------------------------------
curl -q -fsS "$URL/metrics" >"$TMP/metrics.txt" || fail "/metrics"
for kv in missing=1 expired=1 not_yet_valid=1 issuer=1 audience=1 malformed=2 bad_signature=4 alg=2 \
  too_large=1 unknown_key=1 revoked=1 forbidden=5; do
  r=${kv%=*} n=${kv#*=}
  grep -qx "mwrasp_api_auth_failures_total{reason=\"$r\"} $n" "$TMP/metrics.txt" ||
    fail "counter $r: $(grep "reason=\"$r\"" "$TMP/metrics.txt"), want $n"
done
pass "mwrasp_api_auth_failures_total by reason"

# ---- restart: the admin key is not made or printed again ------------------------------
kill "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true
rm -f "$TMP/admin.key"
start_daemon
[ ! -e "$TMP/admin.key" ] || fail "a second admin key was written"
[ "$(grep -c 'an admin API key was created' "$TMP/daemon.log")" = 1 ] || fail "the banner came twice"
want 200 - GET /api/v1/threats -H "X-API-Key: $VIEWER"
want 401 revoked GET /api/v1/threats -H "X-API-Key: $ANALYST"
pass "restart: keys and revocations persist; no second admin key"
