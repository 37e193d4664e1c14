#!/usr/bin/env bash
# mwrasp keygen / keys list / keys rotate (cmd/mwrasp_keys.c): a keystore
# under a new 0600 master key file, 4 rotations -> 3 generations kept, a
# group-readable key file refused, a wrong key refused, a tampered file
# refused, the passphrase path, usage errors.
source "$(dirname "$0")/lib.sh"
M="$MW_BIN/mwrasp"
[ -x "$M" ] || fail "no $M"
KS="$TMP/ks"
MK="$TMP/master.key"

"$M" keygen --keystore "$KS" --new-master-key "$MK" --rotate-interval 3600 >"$TMP/out" 2>&1 ||
  { cat "$TMP/out"; fail "keygen"; }
grep -q "created keystore $KS: generation 1" "$TMP/out" || fail "keygen output: $(cat "$TMP/out")"
[ "$(stat -c %a "$MK")" = 600 ] || fail "master key file mode $(stat -c %a "$MK")"
[ "$(stat -c %a "$KS")" = 600 ] || fail "keystore mode $(stat -c %a "$KS")"
grep -Eq '^[0-9a-f]{64}$' "$MK" || fail "master key file is not 64 hex digits"
pass "keygen made a keystore and a 0600 master key file"

# Secrets never printed: neither the master key nor anything else secret.
if grep -qi "$(cat "$MK")" "$TMP/out"; then fail "master key printed"; fi
"$M" keygen --keystore "$KS" --master-key "$MK" >"$TMP/out" 2>&1 && fail "keygen over an existing keystore"
grep -q "$KS: the keystore already exists" "$TMP/out" || fail "message: $(cat "$TMP/out")"
pass "keygen refuses an existing keystore"

for i in 1 2 3 4; do
  "$M" keys rotate --keystore "$KS" --master-key "$MK" >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "rotate $i"; }
done
grep -q "generation 5 created" "$TMP/out" || fail "rotate output: $(cat "$TMP/out")"
"$M" keys list --keystore "$KS" --master-key "$MK" --json >"$TMP/list" || fail "list"
[ "$(wc -l <"$TMP/list")" = 3 ] || fail "3 generations expected: $(cat "$TMP/list")"
python3 - "$TMP/list" <<'PY' || fail "list --json content"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert [r["generation"] for r in rows] == [5, 4, 3], rows
assert rows[0]["current"] and not rows[1]["current"]
ids = {r["identity_key_id"] for r in rows}
assert len(ids) == 3 and all(len(i) == 64 for i in ids), ids
assert all(r["algorithm"] == "ML-DSA-87" for r in rows)
PY
"$M" keys list --keystore "$KS" --master-key "$MK" >"$TMP/out" || fail "list"
grep -q "3 generations, rotation every 3600 s" "$TMP/out" || fail "list text: $(cat "$TMP/out")"
pass "4 rotations keep generations 5, 4, 3"

"$M" keys rotate --if-due --keystore "$KS" --master-key "$MK" >"$TMP/out" || fail "rotate --if-due"
grep -q "not due" "$TMP/out" || fail "rotate --if-due rotated: $(cat "$TMP/out")"
pass "rotate --if-due waits for the interval"

# A group-readable master key file is refused, naming the file.
cp "$MK" "$TMP/loose.key"; chmod 644 "$TMP/loose.key"
"$M" keys list --keystore "$KS" --master-key "$TMP/loose.key" >"$TMP/out" 2>&1 && fail "0644 key file accepted"
grep -q "$TMP/loose.key: the master key file has mode 0644" "$TMP/out" || fail "message: $(cat "$TMP/out")"
pass "0644 master key file refused"

# The wrong master key, and a tampered keystore.
"$M" keygen --keystore "$TMP/other" --new-master-key "$TMP/other.key" >/dev/null || fail "keygen 2"
"$M" keys list --keystore "$KS" --master-key "$TMP/other.key" >"$TMP/out" 2>&1 && fail "wrong key accepted"
grep -q "$KS: the keystore does not authenticate" "$TMP/out" || fail "message: $(cat "$TMP/out")"
cp "$KS" "$TMP/ks.bak"
printf '\x55' | dd of="$KS" bs=1 seek=200 conv=notrunc status=none
"$M" keys list --keystore "$KS" --master-key "$MK" >"$TMP/out" 2>&1 && fail "tampered keystore accepted"
grep -q "does not authenticate" "$TMP/out" || fail "message: $(cat "$TMP/out")"
cp "$TMP/ks.bak" "$KS"
"$M" keys list --keystore "$KS" --master-key "$MK" >/dev/null || fail "restored keystore"
"$M" keys list --keystore "$TMP/missing" --master-key "$MK" >"$TMP/out" 2>&1 && fail "missing keystore"
grep -q "$TMP/missing: cannot open the keystore" "$TMP/out" || fail "message: $(cat "$TMP/out")"
pass "wrong key, tampered and missing keystores refused with the file named"

# Passphrase (scrypt; a low cost keeps the test fast).
export MW_TEST_PASS="integration test passphrase"
"$M" keygen --keystore "$TMP/pks" --passphrase-env MW_TEST_PASS --scrypt-log2n 12 >/dev/null || fail "keygen passphrase"
"$M" keys rotate --keystore "$TMP/pks" --passphrase-env MW_TEST_PASS >/dev/null || fail "rotate passphrase"
"$M" keys list --keystore "$TMP/pks" --passphrase-env MW_TEST_PASS --json | grep -c generation | grep -qx 2 ||
  fail "passphrase list"
MW_TEST_PASS=wrong "$M" keys list --keystore "$TMP/pks" --passphrase-env MW_TEST_PASS >"$TMP/out" 2>&1 &&
  fail "wrong passphrase accepted"
grep -q "does not authenticate" "$TMP/out" || fail "message: $(cat "$TMP/out")"
"$M" keys list --keystore "$TMP/pks" --passphrase-env MW_UNSET_VAR_XYZ >"$TMP/out" 2>&1 && fail "unset variable"
grep -q "MW_UNSET_VAR_XYZ is not set" "$TMP/out" || fail "message: $(cat "$TMP/out")"
pass "passphrase keystore: keygen, rotate, list; wrong passphrase refused"

# MWRASP_KEYSTORE as the default path; usage errors exit 64.
MWRASP_KEYSTORE="$KS" "$M" keys list --master-key "$MK" >/dev/null || fail "MWRASP_KEYSTORE"
set +e
"$M" keys list --keystore "$KS" >/dev/null 2>&1; [ $? = 64 ] || fail "no master key: not 64"
"$M" keys frobnicate >/dev/null 2>&1; [ $? = 64 ] || fail "bad subcommand: not 64"
"$M" keys list --keystore "$KS" --master-key "$MK" --passphrase-env X >/dev/null 2>&1; [ $? = 64 ] || fail "both: not 64"
"$M" keygen --keystore "$TMP/x" --master-key "$MK" --rotate-interval 0 >/dev/null 2>&1; [ $? = 64 ] || fail "interval 0: not 64"
set -e
pass "usage errors"
