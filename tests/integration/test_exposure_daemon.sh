#!/usr/bin/env bash
# The daemon side of the quantum-exposure scanner (issue 5, docs/exposure.md
# "In the daemon"): POST /api/v1/exposure/pcap with shared captures, one
# hndl-exposure threat per exposed service (folded on re-upload, severity from
# the table of docs/exposure.md), refused bodies (400 not_pcap, 413), the
# filters of GET /api/v1/exposure, the /metrics lines, and live capture on lo
# with openssl s_server/s_client (skipped without root / CAP_NET_RAW).
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

PCAPS=${MW_SHARED_DATA:-$(pwd)/../shared/data}/pcaps
if [ ! -f "$PCAPS/oracle.jsonl" ]; then
  echo "SKIP: shared captures not found at $PCAPS (set MW_SHARED_DATA)"
  exit 0
fi
MLKEM=$PCAPS/pqc-demos/handshake_tls13_x25519mlkem768.pcapng
ECDHE=$PCAPS/zeek/tls/ecdhe.pcap # TLS 1.2 ECDHE secp256r1, server 74.125.239.97:443 (oracle.jsonl)
SVC=74.125.239.97:443

write_config "$(pwd)/tests/integration/rules"
cat >> "$TMP/mwrasp.yaml" <<YAML
exposure:
  upload_max: 1MiB
  min_exposed_bytes: 1
  service_tags:
    - $SVC=crown-jewel,pci
    - cloudflare-ech.com=test
YAML
start_daemon

upload() { # upload FILE NAME -> body in $TMP/up.json, prints the status
  curl -sS -o "$TMP/up.json" -w '%{http_code}' -X POST --data-binary "@$1" \
    -H 'Content-Type: application/vnd.tcpdump.pcap' "$URL/api/v1/exposure/pcap?name=$2"
}
expo() { curl -fsS "$URL/api/v1/exposure$1"; }
metric() { curl -fsS "$URL/metrics" | awk -v k="$1" '$1 == k {print $2}'; }

# 1. a post-quantum hybrid capture: two X25519MLKEM768 sessions, no threat
st=$(upload "$MLKEM" mlkem)
[ "$st" = 200 ] || fail "upload of the ML-KEM capture: status $st: $(cat "$TMP/up.json")"
[ "$(json_get 'd["sessions"]["pq-hybrid"], d["sessions"]["classical"], d["threats"], d["file"]' < "$TMP/up.json")" = "2 0 0 mlkem" ] ||
  fail "ML-KEM upload summary: $(cat "$TMP/up.json")"
[ "$(curl -fsS "$URL/api/v1/threats" | json_get 'len(d["threats"])')" = 0 ] || fail "a pq-hybrid capture made a threat"
pass "pq-hybrid capture: 2 sessions, no threat"

# 2. a classical TLS 1.2 capture: one threat for its service
st=$(upload "$ECDHE" ecdhe)
[ "$st" = 200 ] || fail "upload of ecdhe.pcap: status $st: $(cat "$TMP/up.json")"
[ "$(json_get 'd["sessions"]["classical"], d["threats"]' < "$TMP/up.json")" = "1 1" ] ||
  fail "ecdhe upload summary: $(cat "$TMP/up.json")"
curl -fsS "$URL/api/v1/threats" > "$TMP/t1.json"
[ "$(json_get 'len(d["threats"])' < "$TMP/t1.json")" = 1 ] || fail "want one threat: $(cat "$TMP/t1.json")"
# severity by hand (docs/exposure.md): < 10 MiB exposed = low (4); crown-jewel two levels up = high (2)
[ "$(json_get 'd["threats"][0]["host"], d["threats"][0]["type"], d["threats"][0]["class"], d["threats"][0]["severity"], d["threats"][0]["severity_name"], d["threats"][0]["count"]' < "$TMP/t1.json")" = \
  "$SVC hndl-exposure hndl-exposure 2 high 1" ] || fail "threat fields: $(cat "$TMP/t1.json")"
TID=$(json_get 'd["threats"][0]["id"]' < "$TMP/t1.json")
curl -fsS "$URL/api/v1/threats/$TID" > "$TMP/td.json"
json_get 'json.loads(d["evidence"][0]["raw"])' < "$TMP/td.json" > /dev/null || fail "evidence is not JSON"
[ "$(json_get 'json.loads(d["evidence"][0]["raw"])["service"], json.loads(d["evidence"][0]["raw"])["kex"][0], json.loads(d["evidence"][0]["raw"])["groups"][0]["name"], json.loads(d["evidence"][0]["raw"])["sessions"]["classical"], d["evidence"][0]["source"]' < "$TMP/td.json")" = \
  "$SVC ECDHE secp256r1 1 capture" ] || fail "evidence: $(cat "$TMP/td.json")"
EXP1=$(expo "?class=classical" | json_get 'd[0]["exposed_bytes"]')
[ "$EXP1" -gt 0 ] || fail "no exposed bytes for $SVC"
pass "classical TLS 1.2 capture: one hndl-exposure threat, severity high (crown-jewel), evidence names service, kex, group"

# 3. the same capture again: still one threat, folded; counts doubled
st=$(upload "$ECDHE" ecdhe)
[ "$st" = 200 ] || fail "second upload: status $st"
curl -fsS "$URL/api/v1/threats" > "$TMP/t2.json"
[ "$(json_get 'len(d["threats"]), d["threats"][0]["id"], d["threats"][0]["count"]' < "$TMP/t2.json")" = "1 $TID 2" ] ||
  fail "second upload did not fold into threat $TID: $(cat "$TMP/t2.json")"
expo "?class=classical" > "$TMP/e.json"
[ "$(json_get 'len(d), d[0]["service"], d[0]["sessions"]["classical"], d[0]["exposed_bytes"], d[0]["severity"], ",".join(d[0]["tags"])' < "$TMP/e.json")" = \
  "1 $SVC 2 $((2 * EXP1)) high crown-jewel,pci" ] || fail "after two uploads: $(cat "$TMP/e.json")"
pass "uploaded twice: still one threat (count 2), sessions and exposed bytes doubled"

# 4. filters
[ "$(expo "?class=pq-hybrid" | json_get 'len(d), d[0]["sni"], d[0]["groups"][0]["code"], d[0]["exposed"], d[0]["severity"]')" = \
  "1 cloudflare-ech.com 0x11ec False None" ] || fail "class=pq-hybrid: $(expo "?class=pq-hybrid")"
[ "$(expo "" | json_get 'len(d)')" = 2 ] || fail "no filter: $(expo "")"
[ "$(expo "?min_exposed_bytes=1" | json_get 'len(d)')" = 1 ] || fail "min_exposed_bytes=1"
[ "$(expo "?min_exposed_bytes=$((2 * EXP1 + 1))" | json_get 'len(d)')" = 0 ] || fail "min_exposed_bytes above"
[ "$(expo "?class=pq-only" | json_get 'len(d)')" = 0 ] || fail "class=pq-only"
for bad in "?class=bogus" "?min_exposed_bytes=-1" "?nope=1" "?class=classical&class=unknown"; do
  st=$(curl -sS -o "$TMP/b.json" -w '%{http_code}' "$URL/api/v1/exposure$bad")
  [ "$st" = 400 ] && [ "$(json_get 'd["error"]["code"]' < "$TMP/b.json")" = invalid_parameter ] ||
    fail "GET /api/v1/exposure$bad: $st $(cat "$TMP/b.json")"
done
pass "GET /api/v1/exposure filters class and min_exposed_bytes; bad parameters 400"

# 5. refused bodies, counted
printf 'this is not a capture file, just text\n' > "$TMP/text.bin"
st=$(upload "$TMP/text.bin" text)
[ "$st" = 400 ] && [ "$(json_get 'd["error"]["code"]' < "$TMP/up.json")" = not_pcap ] ||
  fail "non-pcap body: $st $(cat "$TMP/up.json")"
head -c $((1024 * 1024 + 1)) /dev/zero > "$TMP/big.bin"
st=$(upload "$TMP/big.bin" big)
[ "$st" = 413 ] && [ "$(json_get 'd["error"]["code"]' < "$TMP/up.json")" = body_too_large ] ||
  fail "oversized body: $st $(cat "$TMP/up.json")"
[ "$(metric 'mwrasp_exposure_uploads_total{result="not_pcap"}')" = 1 ] || fail "not_pcap not counted"
[ "$(metric 'mwrasp_exposure_uploads_total{result="too_large"}')" = 1 ] || fail "too_large not counted"
[ "$(metric 'mwrasp_exposure_uploads_total{result="accepted"}')" = 3 ] || fail "accepted uploads"
[ "$(metric 'mwrasp_exposure_sessions_total{class="classical"}')" = 2 ] || fail "classical sessions metric"
[ "$(metric 'mwrasp_exposure_sessions_total{class="pq-hybrid"}')" = 2 ] || fail "pq-hybrid sessions metric"
[ "$(metric 'mwrasp_exposure_exposed_services')" = 1 ] || fail "exposed services gauge"
[ "$(metric 'mwrasp_exposure_threat_reports_total')" = 2 ] || fail "threat reports"
pass "non-pcap body 400 not_pcap, oversized 413; /metrics counts uploads, sessions, threats"

kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || fail "mwraspd did not stop cleanly"; DAEMON_PID=

# 6. live capture on lo
if [ "$(id -u)" != 0 ] || ! command -v openssl >/dev/null; then
  echo "SKIP: live capture on lo needs root (CAP_NET_RAW) and openssl"
  exit 0
fi
TLS_PORT=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -days 1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null || fail "openssl req"
write_config "$(pwd)/tests/integration/rules"
cat >> "$TMP/mwrasp.yaml" <<YAML
exposure:
  interfaces: [lo]
  bpf: tcp port $TLS_PORT
  report_interval: 200ms
YAML
start_daemon
grep -q '"live capture on lo' "$TMP/daemon.log" || fail "live capture on lo did not start"
openssl s_server -accept "127.0.0.1:$TLS_PORT" -cert "$TMP/cert.pem" -key "$TMP/key.pem" \
  -tls1_3 -groups X25519 -www -quiet > "$TMP/s_server.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null || true; cleanup' EXIT
sleep 0.5
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 10 openssl s_client -connect "127.0.0.1:$TLS_PORT" \
  -groups X25519 -quiet > "$TMP/s_client.out" 2>/dev/null || true
grep -q 'HTTP/1.0 200' "$TMP/s_client.out" || fail "s_client got no answer"
kill $SPID 2>/dev/null || true
wait_for "127.0.0.1:$TLS_PORT in GET /api/v1/exposure" bash -c \
  "curl -fsS '$URL/api/v1/exposure?class=classical' | grep -q '\"127.0.0.1:$TLS_PORT\"'"
curl -fsS "$URL/api/v1/exposure" > "$TMP/live.json"
[ "$(json_get '[(s["class"], s["groups"][0]["name"], s["versions"][0], s["exposed"]) for s in d if s["server"] == "127.0.0.1:'"$TLS_PORT"'"][0]' < "$TMP/live.json")" = \
  "('classical', 'x25519', 'TLS 1.3', True)" ] || fail "live service: $(cat "$TMP/live.json")"
wait_for "a threat for the live service" bash -c \
  "curl -fsS '$URL/api/v1/threats?host=127.0.0.1:$TLS_PORT' | grep -q hndl-exposure"
[ "$(curl -fsS "$URL/metrics" | awk '$1 == "mwrasp_exposure_live_interfaces{state=\"running\"}" {print $2}')" = 1 ] ||
  fail "live interface gauge"
pass "live capture on lo: an s_server/s_client TLS 1.3 x25519 session appears as a classical service and a threat"
