#!/usr/bin/env bash
# Issue 4, item 5: our ML-KEM-512/768/1024 and ML-DSA-44/65/87 against the npm
# package @noble/post-quantum (pinned in tests/integration/package-lock.json),
# byte for byte, on 200 random seeds per parameter set: keygen, encapsulation,
# decapsulation (valid and tampered ciphertext: implicit rejection),
# deterministic and hedged signing, verification both ways.
# tests/integration/pqc-noble.mjs drives $MW_BIN/tool_pqc (tests/integration/tool_pqc.c).
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh installs it)"
need_node_modules @noble/post-quantum
[ -x "$MW_BIN/tool_pqc" ] || fail "$MW_BIN/tool_pqc is not built"

node tests/integration/pqc-noble.mjs "$MW_BIN/tool_pqc" "${MW_NOBLE_SEEDS:-200}" | tee "$TMP/noble.out" ||
  fail "differences with @noble/post-quantum (above)"
[ "$(grep -c ' 0 differences' "$TMP/noble.out")" = 6 ] || fail "expected 6 parameter sets without differences"
grep -q '^ML-KEM-1024: 200 seeds' "$TMP/noble.out" || [ -n "${MW_NOBLE_SEEDS:-}" ] ||
  fail "expected 200 seeds per parameter set"

# The comparison can fail: a tool that answers with one flipped bit must be caught.
cat > "$TMP/liar.sh" <<LIAR
#!/usr/bin/env bash
"$MW_BIN/tool_pqc" | python3 -c '
import sys, json
for i, line in enumerate(sys.stdin):
    a = json.loads(line)
    if i == 3 and "ss" in a:
        b = bytearray.fromhex(a["ss"]); b[0] ^= 1; a["ss"] = b.hex()
    print(json.dumps(a))'
LIAR
chmod +x "$TMP/liar.sh"
if node tests/integration/pqc-noble.mjs "$TMP/liar.sh" 5 >"$TMP/liar.out" 2>&1; then
  cat "$TMP/liar.out" >&2
  fail "a flipped shared-secret bit was not detected"
fi
grep -q 'DIFF ML-KEM-512 ss' "$TMP/liar.out" || { cat "$TMP/liar.out" >&2; fail "the flipped bit was not reported"; }
pass "ML-KEM and ML-DSA equal to @noble/post-quantum on every seed; a flipped bit is caught"
