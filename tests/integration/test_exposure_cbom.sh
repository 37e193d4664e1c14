#!/usr/bin/env bash
# Issue 5: `mwrasp exposure scan --cbom` is valid CycloneDX 1.6, checked with
# ajv + ajv-formats against the schema shipped by @cyclonedx/cyclonedx-library
# (tests/integration/cbom-validate.mjs; all pinned in package-lock.json), on
# the shared captures and Zeek logs and on an empty scan; the validator must
# refuse CBOMs mutated in a few ways, and the CBOM must say what the scan saw.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh installs it)"
need_node_modules ajv ajv-formats @cyclonedx/cyclonedx-library
MWRASP="$MW_BIN/mwrasp"
[ -x "$MWRASP" ] || fail "$MWRASP is not built"
V="node tests/integration/cbom-validate.mjs"

# an empty capture (pcap header only, RFC draft-ietf-opsawg-pcap 4): no service
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<IHHiIII",0xa1b2c3d4,2,4,0,0,65535,1))' >"$TMP/empty.pcap"
"$MWRASP" exposure scan "$TMP/empty.pcap" --cbom -o "$TMP/empty.json" || fail "--cbom on an empty capture"
$V "$TMP/empty.json" || fail "the CBOM of an empty scan is not valid CycloneDX 1.6"
pass "empty scan: valid CBOM"

PCAPS=${MW_SHARED_DATA:-}/pcaps
if [ -z "${MW_SHARED_DATA:-}" ] || [ ! -d "$PCAPS" ]; then
  echo "SKIP: no shared captures (MW_SHARED_DATA/pcaps absent: '${MW_SHARED_DATA:-unset}/pcaps'): only the empty CBOM was checked"
  exit 0
fi
mapfile -t FILES < <(cd "$PCAPS" && find . -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sed 's|^\./||' | LC_ALL=C sort)
mapfile -t ZEEK < <(find "$MW_SHARED_DATA/zeek-logs" -type f \( -name '*.log' -o -name '*.cut' \) 2>/dev/null | LC_ALL=C sort)
(cd "$PCAPS" && "$MWRASP" exposure scan "${FILES[@]}" --cbom) >"$TMP/cbom.json" || fail "--cbom on the shared captures"
$V "$TMP/cbom.json" || fail "the CBOM of the shared captures is not valid CycloneDX 1.6"
pass "shared captures: valid CBOM"
if [ "${#ZEEK[@]}" -gt 0 ]; then
  "$MWRASP" exposure scan --zeek "${ZEEK[@]}" --cbom >"$TMP/zeek.json" 2>"$TMP/zeek.err" || true
  $V "$TMP/zeek.json" || fail "the CBOM of the Zeek logs is not valid CycloneDX 1.6"
  pass "Zeek logs: valid CBOM"
fi

# what the CBOM says: the PQ algorithms and services the captures hold
python3 - "$TMP/cbom.json" <<'PY' || fail "CBOM content"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", d["serialNumber"])
comp = {c["bom-ref"]: c for c in d["components"]}
def alg(ref):
    return comp[ref]["cryptoProperties"]["algorithmProperties"]
assert alg("crypto/tls-group/0x11ec")["primitive"] == "kem" and alg("crypto/tls-group/0x11ec")["nistQuantumSecurityLevel"] == 3
assert alg("crypto/tls-group/0x001d")["nistQuantumSecurityLevel"] == 0
assert alg("crypto/ssh-kex/mlkem768x25519-sha256")["nistQuantumSecurityLevel"] == 3
assert alg("crypto/tls-kex/RSA-key-transport")["primitive"] == "pke"
assert alg("crypto/signature/ML-DSA-44")["nistQuantumSecurityLevel"] == 2
protos = [c for c in d["components"] if c["cryptoProperties"]["assetType"] == "protocol"]
names = {c["name"] for c in protos}
assert {"TLS 1.3", "TLS 1.2", "SSH-2"} <= names, names
t13 = next(c for c in protos if c["name"] == "TLS 1.3")
assert any(s["name"] == "TLS_AES_128_GCM_SHA256" for s in t13["cryptoProperties"]["protocolProperties"]["cipherSuites"])
svc = {s["bom-ref"]: s for s in d["services"]}
dep = {x["ref"]: x["dependsOn"] for x in d["dependencies"]}
s = "service/ssh/10.211.55.15:2299"
assert "crypto/ssh-kex/mlkem768x25519-sha256" in dep[s], dep[s]
p = {x["name"]: x["value"] for x in svc[s]["properties"]}
assert p["mwrasp:exposure:classification"] == "pq-hybrid", p
for refs in dep.values():
    for r in refs:
        assert r in comp, r
print("%d components, %d services" % (len(comp), len(svc)))
PY
pass "CBOM names the PQ algorithms, protocols and services"

# the validator refuses broken CBOMs (so that the checks above can fail)
n=0
for m in bomformat primitive level assettype dep type; do
  python3 - "$TMP/cbom.json" "$TMP/bad-$m.json" "$m" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); m = sys.argv[3]
alg = next(c for c in d["components"] if c["cryptoProperties"]["assetType"] == "algorithm")
if m == "bomformat": d["bomFormat"] = "CycloneDx"
if m == "primitive": alg["cryptoProperties"]["algorithmProperties"]["primitive"] = "quantum-magic"
if m == "level": alg["cryptoProperties"]["algorithmProperties"]["nistQuantumSecurityLevel"] = 9
if m == "assettype": alg["cryptoProperties"]["assetType"] = "cipher"
if m == "dep": d["dependencies"][0]["dependsOn"] = "not-a-list"
if m == "type": alg["type"] = "crypto-asset"
json.dump(d, open(sys.argv[2], "w"))
PY
  if $V "$TMP/bad-$m.json" >"$TMP/v.out" 2>&1; then fail "a CBOM with a broken $m was accepted"; fi
  grep -q INVALID "$TMP/v.out" || fail "no INVALID for the broken $m"
  n=$((n + 1))
done
pass "$n broken CBOMs refused"
