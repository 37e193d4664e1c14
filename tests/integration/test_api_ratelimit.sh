#!/usr/bin/env bash
# Rate limits (issue 6 item 2) against the real daemon:
#  1. per key: two analyst keys at 600/min burst 50, each driven at 200
#     requests/s for 12 s at the same time: each gets burst + rate * elapsed
#     2xx answers within 1 %, the rest 429 with a JSON rate_limited error and
#     a Retry-After of 1 s (a token every 100 ms, rounded up); the two keys do
#     not take from each other.
#  2. Retry-After: a viewer key at 6/min burst 1 gets Retry-After: 10.
#  3. per address: requests without credentials (401) from 127.0.0.2 at
#     600/min burst 50: burst + rate * elapsed non-429 answers within 1 %;
#     127.0.0.3 is not limited by them; /health/live is never limited.
#  4. /metrics counts the 429s by kind, exactly.
# Each phase's expected count is worked out from the elapsed time the load
# tool measured (first to last request): floor(burst + per_s * elapsed).
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

write_config "$(pwd)/tests/integration/rules"
start_daemon --set api.rate.address=off --set "api.rate.analyst=600/min burst 50" \
  --set "api.rate.viewer=6/min burst 1"

mkkey() { # ROLE NAME -> prints the key
  curl -fsS -XPOST "$URL/api/v1/apikeys" -H 'Content-Type: application/json' \
    -d "{\"role\":\"$1\",\"name\":\"$2\"}" | json_get 'd["key"]'
}
KA=$(mkkey analyst rate-a) || fail "cannot create analyst key A"
KB=$(mkkey analyst rate-b) || fail "cannot create analyst key B"
KV=$(mkkey viewer rate-v) || fail "cannot create viewer key"

# check_exact NAME JSON BURST PER_S: 2xx count = floor(burst + per_s*elapsed) within 1 %.
check_exact() {
  python3 - "$@" <<'PY' || fail "$1: $2"
import json, math, sys
name, js, burst, per_s = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
got = js["ok"]
want = math.floor(burst + per_s * js["elapsed"])
if abs(got - want) > 0.01 * want:
    sys.exit(f"{name}: {got} answers let through, want {want} (burst {burst} + {per_s}/s * {js['elapsed']:.3f} s) within 1 %")
if js["limited"] == 0 or js["bad_429"] != 0:
    sys.exit(f"{name}: {js['limited']} 429s, {js['bad_429']} without Retry-After or JSON error")
print(f"{name}: {got} let through, want {want} (diff {got - want}), {js['limited']} limited, Retry-After {js['retry_after']}")
PY
}

P=/api/v1/threats?limit=1
python3 tests/integration/rateload.py --port "$HTTP_PORT" --path "$P" --key "$KA" \
  --source 127.0.0.2 --rps 200 --seconds 12.05 >"$TMP/a.json" &
LA=$!
python3 tests/integration/rateload.py --port "$HTTP_PORT" --path "$P" --key "$KB" \
  --source 127.0.0.3 --rps 200 --seconds 12.05 >"$TMP/b.json" &
LB=$!
wait $LA || fail "load tool A failed"
wait $LB || fail "load tool B failed"
A=$(cat "$TMP/a.json"); B=$(cat "$TMP/b.json")
check_exact "key A" "$A" 50 10
check_exact "key B" "$B" 50 10
for j in "$A" "$B"; do
  echo "$j" | json_get 'd["other"] == {} and d["retry_after"] == [1]' | grep -qx True ||
    fail "unexpected answers or Retry-After (want only 2xx/429 and Retry-After 1): $j"
done
pass "per key: each of two keys gets burst + rate x elapsed within 1 %, independently; Retry-After 1"

# The admin key (default 10,000/min) is not touched by the analysts' limits.
curl -fsS "$URL$P" >/dev/null || fail "the admin key was limited by other keys"

# Retry-After: 6/min burst 1 -> the second request waits 10 s.
curl -q -s -o /dev/null -H "Authorization: Bearer $KV" "$URL$P"
curl -q -s -D "$TMP/h.txt" -o "$TMP/b.txt" -H "Authorization: Bearer $KV" "$URL$P"
head -n1 "$TMP/h.txt" | grep -q ' 429' || fail "second viewer request: $(head -n1 "$TMP/h.txt")"
grep -qi '^Retry-After: 10' "$TMP/h.txt" || fail "Retry-After for 6/min: $(grep -i retry "$TMP/h.txt")"
json_get 'd["error"]["code"]' <"$TMP/b.txt" | grep -qx rate_limited || fail "429 body: $(cat "$TMP/b.txt")"
pass "Retry-After: 10 for 6/min burst 1, JSON error rate_limited"

# /metrics: the key 429s, exactly.
want=$(python3 -c "import json;print(json.loads('''$A''')['limited']+json.loads('''$B''')['limited']+1)")
got=$(curl -q -fsS "$URL/metrics" | awk '/^mwrasp_api_rate_limited_total\{kind="key"\}/ {print $2}')
[ "$got" = "$want" ] || fail "mwrasp_api_rate_limited_total{kind=\"key\"} = $got, want $want"
pass "metrics: $got key 429s counted"

# ---- per address, requests without credentials -------------------------------
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
start_daemon --set "api.rate.address=600/min burst 50"
python3 tests/integration/rateload.py --port "$HTTP_PORT" --path "$P" \
  --source 127.0.0.2 --rps 200 --seconds 12.05 >"$TMP/n.json" || fail "load tool failed"
N=$(cat "$TMP/n.json")
# Without credentials the answers that pass the address bucket are 401.
python3 - "$N" <<'PY' || fail "per-address limit: $N"
import json, math, sys
js = json.loads(sys.argv[1])
got = js["other"].get("401", 0)
want = math.floor(50 + 10 * js["elapsed"])
if abs(got - want) > 0.01 * want or js["ok"] != 0 or js["bad_429"] != 0 or js["limited"] == 0:
    sys.exit(f"{got} 401s let through, want {want}; {js}")
print(f"address 127.0.0.2: {got} let through, want {want} (diff {got - want}), {js['limited']} limited")
PY
code=$(curl -q -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 "$URL$P")
[ "$code" = 401 ] || fail "another address was limited too: $code"
code=$(python3 - "$HTTP_PORT" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), source_address=("127.0.0.2", 0))
c.request("GET", "/health/live"); print(c.getresponse().status)
PY
)
[ "$code" = 200 ] || fail "/health/live from a limited address: $code"
got=$(curl -q -fsS "$URL/metrics" | awk '/^mwrasp_api_rate_limited_total\{kind="address"\}/ {print $2}')
want=$(echo "$N" | json_get 'd["limited"]')
[ "$got" = "$want" ] || fail "mwrasp_api_rate_limited_total{kind=\"address\"} = $got, want $want"
pass "per address: unauthenticated requests limited to burst + rate x elapsed within 1 %; other addresses and /health not"

# A bad rate spec stops the daemon with a clear error.
set +e
"$MW_BIN/mwraspd" --config "$TMP/mwrasp.yaml" --set "api.rate.admin=lots" >"$TMP/bad.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q 'api.rate.admin: .*lots.* is not N/min' "$TMP/bad.log" ||
  fail "bad api.rate.admin: exit $rc, $(tail -n2 "$TMP/bad.log")"
pass "a bad rate spec is refused at start"
