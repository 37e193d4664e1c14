#!/usr/bin/env bash
# TLS on the API (issue 6 item 3) with curl and openssl s_client:
#  - `mwrasp cert selfsigned` makes a P-256 key (mode 0600) and a certificate
#    with subjectAltName; it never overwrites; Ed25519 works too;
#  - listen.https serves TLS 1.3; TLS 1.2 is refused (protocol_version alert);
#  - mTLS: client certificates signed by api.tls_client_ca map to roles by
#    CN (ops -> admin) or SHA-256 fingerprint (-> viewer): the role decides
#    (2xx / 403) with no API key, the audit log names cert:ops; a certificate
#    from another CA fails the handshake; no certificate and no key: 401;
#  - a non-loopback listen.http without api.allow_plain_http is refused.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
command -v openssl >/dev/null || fail "openssl is not installed"

# ---- mwrasp cert selfsigned ---------------------------------------------------
C=$TMP/certs
mkdir -p "$C"
"$MW_BIN/mwrasp" cert selfsigned --out-cert "$C/server.pem" --out-key "$C/server.key" \
  --cn localhost --days 30 >"$TMP/cert.out" || fail "mwrasp cert selfsigned failed"
[ "$(stat -c %a "$C/server.key")" = 600 ] || fail "key file mode $(stat -c %a "$C/server.key")"
openssl x509 -in "$C/server.pem" -noout -ext subjectAltName | grep -q 'DNS:localhost, IP Address:127.0.0.1' ||
  fail "subjectAltName: $(openssl x509 -in "$C/server.pem" -noout -ext subjectAltName)"
openssl x509 -in "$C/server.pem" -noout -text | grep -q 'ASN1 OID: prime256v1' || fail "not a P-256 key"
fp=$(openssl x509 -in "$C/server.pem" -noout -fingerprint -sha256 | cut -d= -f2)
grep -qx "SHA256=$fp" "$TMP/cert.out" || fail "printed fingerprint differs from openssl's $fp"
if "$MW_BIN/mwrasp" cert selfsigned --out-cert "$C/server.pem" --out-key "$C/other.key" 2>/dev/null; then
  fail "mwrasp cert overwrote an existing file"
fi
"$MW_BIN/mwrasp" cert selfsigned --out-cert "$C/ed.pem" --out-key "$C/ed.key" --key-type ed25519 \
  --cn 127.0.0.1 >/dev/null || fail "ed25519 certificate"
openssl x509 -in "$C/ed.pem" -noout -text | grep -q 'Public Key Algorithm: ED25519' || fail "not Ed25519"
openssl x509 -in "$C/ed.pem" -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1, DNS:localhost' ||
  fail "ed25519 certificate SAN: $(openssl x509 -in "$C/ed.pem" -noout -ext subjectAltName)"
pass "mwrasp cert selfsigned: P-256 and Ed25519, SAN, key 0600, no overwrite, fingerprint"

# ---- a client CA and three client certificates (openssl) ----------------------
ossl() { openssl "$@" >/dev/null 2>&1 || fail "openssl $1 failed"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca \
  -keyout "$C/ca.key" -out "$C/ca.pem"
client() { # NAME CA_PREFIX
  ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" \
    -keyout "$C/$1.key" -out "$C/$1.csr"
  ossl x509 -req -in "$C/$1.csr" -CA "$C/$2.pem" -CAkey "$C/$2.key" -CAcreateserial -days 2 \
    -out "$C/$1.pem"
}
client ops ca
client auditor ca
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=evil-ca \
  -keyout "$C/evil-ca.key" -out "$C/evil-ca.pem"
client ops-evil evil-ca
AUDFP=$(openssl x509 -in "$C/auditor.pem" -noout -fingerprint -sha256 | cut -d= -f2)

write_config "$(pwd)/tests/integration/rules"
HTTPS_PORT=$(free_port)
S="https://127.0.0.1:$HTTPS_PORT"
cat >>"$TMP/mwrasp.yaml" <<YAML
  tls_cert: $C/server.pem
  tls_key: $C/server.key
  tls_client_ca: $C/ca.pem
  tls_client_roles:
    - CN=ops:admin
    - SHA256=$AUDFP:viewer
YAML
start_daemon --set "listen.https=127.0.0.1:$HTTPS_PORT"

# ---- TLS 1.3 only --------------------------------------------------------------
out=$(curl -q -sS -v --cacert "$C/server.pem" "$S/health/live" 2>&1) || fail "HTTPS request failed: $out"
echo "$out" | grep -q 'SSL connection using TLSv1.3' || fail "not TLS 1.3: $(echo "$out" | grep SSL)"
echo "$out" | grep -q '{"status":"ok"}' || fail "HTTPS answer: $out"
echo | openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -tls1_3 >"$TMP/s13.txt" 2>&1 ||
  fail "s_client -tls1_3: $(tail -n3 "$TMP/s13.txt")"
grep -q 'TLSv1.3' "$TMP/s13.txt" || fail "s_client -tls1_3 did not negotiate 1.3"
if echo | openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -tls1_2 >"$TMP/s12.txt" 2>&1; then
  fail "TLS 1.2 was accepted: $(grep -i protocol "$TMP/s12.txt")"
fi
grep -q 'alert protocol version' "$TMP/s12.txt" || fail "TLS 1.2 refusal: $(tail -n3 "$TMP/s12.txt")"
set +e
curl -q -s --cacert "$C/server.pem" --tls-max 1.2 "$S/health/live" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "curl --tls-max 1.2 succeeded"
pass "HTTPS: TLS 1.3 served, TLS 1.2 refused (openssl s_client -tls1_2, curl --tls-max 1.2)"

# ---- mTLS ----------------------------------------------------------------------
sc() { curl -q -s -o "$TMP/body" -w '%{http_code}' --cacert "$C/server.pem" "$@"; }
code=$(sc "$S/api/v1/threats")
[ "$code" = 401 ] || fail "no certificate, no key: $code"
code=$(sc --cert "$C/ops.pem" --key "$C/ops.key" "$S/api/v1/apikeys")
[ "$code" = 200 ] || fail "CN=ops (admin) on an admin route: $code $(cat "$TMP/body")"
code=$(sc --cert "$C/ops.pem" --key "$C/ops.key" -XPOST -H 'Content-Type: application/json' \
  -d '{"role":"viewer","name":"made-by-cert"}' "$S/api/v1/apikeys")
[ "$code" = 201 ] || fail "CN=ops creating a key: $code $(cat "$TMP/body")"
code=$(sc --cert "$C/auditor.pem" --key "$C/auditor.key" "$S/api/v1/threats")
[ "$code" = 200 ] || fail "auditor (viewer by fingerprint) reading threats: $code $(cat "$TMP/body")"
code=$(sc --cert "$C/auditor.pem" --key "$C/auditor.key" "$S/api/v1/apikeys")
[ "$code" = 403 ] || fail "auditor (viewer) on an admin route: $code $(cat "$TMP/body")"
set +e
code=$(sc --cert "$C/ops-evil.pem" --key "$C/ops-evil.key" "$S/api/v1/threats" 2>/dev/null)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a certificate from another CA was accepted (HTTP $code)"
curl -fsS "$URL/api/v1/audit" >"$TMP/audit.json" || fail "GET /api/v1/audit"
grep -q '"actor":"cert:ops"' "$TMP/audit.json" || fail "audit log does not name cert:ops: $(cat "$TMP/audit.json")"
pass "mTLS: CN=ops -> admin (audited as cert:ops), SHA-256 -> viewer (403 on admin), foreign CA refused, none -> 401"

# The plain listener still works on loopback next to HTTPS.
curl -fsS "$URL/health/live" >/dev/null || fail "plain loopback listener"
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=

# ---- plain HTTP off loopback ----------------------------------------------------
P2=$(free_port)
set +e
"$MW_BIN/mwraspd" --config "$TMP/mwrasp.yaml" --set "listen.http=0.0.0.0:$P2" >"$TMP/plain.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a plain listener on 0.0.0.0 started without api.allow_plain_http"
grep -q 'is not a loopback address: plain HTTP' "$TMP/plain.log" ||
  fail "no clear error: $(tail -n3 "$TMP/plain.log")"
"$MW_BIN/mwraspd" --config "$TMP/mwrasp.yaml" --set "listen.http=0.0.0.0:$P2" \
  --set api.allow_plain_http=yes >"$TMP/plain2.log" 2>&1 &
DAEMON_PID=$!
wait_for "plain HTTP on 0.0.0.0 with api.allow_plain_http" curl -q -fsS "http://127.0.0.1:$P2/health/live"
pass "plain HTTP off loopback: refused with a clear error, allowed with api.allow_plain_http: yes"
