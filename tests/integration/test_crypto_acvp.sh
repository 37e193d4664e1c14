#!/usr/bin/env bash
# mwrasp crypto acvp: every NIST ACVP vector set under $MW_SHARED_DATA/acvp
# passes, with as many passed cases as the JSON holds (counted here by
# python3, independently of our reader), and bad input is reported: a
# truncated file, a tampered expected value (exactly that tcId fails), a
# missing field, a prompt case without expected result, an unknown algorithm
# and an unsupported group (skipped, never passed).
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

ACVP=${MW_SHARED_DATA:-}/acvp
if [ -z "${MW_SHARED_DATA:-}" ] || [ ! -d "$ACVP" ]; then
  echo "SKIP: no ACVP vectors (MW_SHARED_DATA/acvp absent: '${MW_SHARED_DATA:-unset}/acvp')"
  exit 0
fi
MWRASP="$MW_BIN/mwrasp"
[ -x "$MWRASP" ] || fail "$MWRASP not built"

# count_cases DIR|FILE: test cases of the vector set (prompt cases for a
# prompt.json + expectedResults.json folder), from the JSON alone.
count_cases() {
  python3 - "$1" <<'PY'
import json, os, sys
p = sys.argv[1]
if os.path.isdir(p):
    f = os.path.join(p, "internalProjection.json")
    if not os.path.isfile(f):
        f = os.path.join(p, "prompt.json")
    p = f
d = json.load(open(p))
print(sum(len(g["tests"]) for g in d["testGroups"]))
PY
}

# run ARGS...: runs mwrasp crypto acvp; output in $TMP/out, status in $RC.
run() {
  set +e
  "$MWRASP" crypto acvp "$@" > "$TMP/out" 2> "$TMP/err"
  RC=$?
  set -e
}

last_line() { tail -n 1 "$TMP/out"; }

# ---- every vector set ------------------------------------------------------
sets=$(find "$ACVP" -name internalProjection.json -o -name prompt.json | xargs -r -n1 dirname | sort -u)
[ -n "$sets" ] || fail "no vector set found under $ACVP"
total=0
nsets=0
for d in $sets; do
  want=$(count_cases "$d")
  run "$d"
  [ "$RC" -eq 0 ] || { cat "$TMP/out" "$TMP/err" | tail -n 20; fail "$d: exit status $RC"; }
  [ "$(last_line)" = "$want passed, 0 failed" ] ||
    { tail -n 5 "$TMP/out"; fail "$d: last line '$(last_line)', expected '$want passed, 0 failed'"; }
  if grep -q skipped "$TMP/out"; then grep skipped "$TMP/out" | head; fail "$d: groups skipped"; fi
  pass "$(basename "$d"): $want passed, 0 failed"
  total=$((total + want))
  nsets=$((nsets + 1))
done
# The whole folder on both code paths (src/crypto/dispatch.h): the default
# (AVX2 where the CPU has it) and the portable C forced by MW_CRYPTO_PORTABLE=1.
for portable in 0 1; do
  MW_CRYPTO_PORTABLE=$portable run "$ACVP"
  [ "$RC" -eq 0 ] && [ "$(last_line)" = "$total passed, 0 failed" ] ||
    { tail -n 5 "$TMP/out"; fail "the whole folder, MW_CRYPTO_PORTABLE=$portable: exit $RC, '$(last_line)', expected $total passed"; }
  pass "the whole folder ($nsets vector sets), MW_CRYPTO_PORTABLE=$portable: $total passed, 0 failed"
done

# ---- bad input ---------------------------------------------------------------
KG="$ACVP/ML-KEM-keyGen-FIPS203/internalProjection.json"
ED="$ACVP/ML-KEM-encapDecap-FIPS203/internalProjection.json"
SG="$ACVP/ML-DSA-sigGen-FIPS204"
[ -f "$KG" ] && [ -f "$ED" ] && [ -d "$SG" ] || fail "the bad-input checks need $KG, $ED and $SG"

# edit IN OUT PYTHON: OUT = IN after the python statements run on d (the JSON);
# the statements print the tcId they touch, if any.
edit() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=1)
PY
}

# truncated JSON
head -c 5000 "$KG" > "$TMP/trunc.json"
run "$TMP/trunc.json"
[ "$RC" -eq 2 ] || fail "truncated JSON: exit $RC, expected 2"
grep -q "trunc.json: error: not valid JSON" "$TMP/out" || { cat "$TMP/out"; fail "truncated JSON: message"; }
pass "truncated JSON: exit 2, $(grep -m1 error "$TMP/out" | sed 's/^.*error/error/')"

# a tampered expected value: exactly that tcId fails
tc=$(edit "$KG" "$TMP/tamper.json" '
t = d["testGroups"][1]["tests"][3]
e = t["ek"]; t["ek"] = e[:100] + ("0" if e[100] != "0" else "1") + e[101:]
print(t["tcId"])')
run "$TMP/tamper.json"
want=$(count_cases "$KG")
[ "$RC" -eq 1 ] || fail "tampered ek: exit $RC, expected 1"
[ "$(grep -c FAILED "$TMP/out")" -eq 1 ] && grep -q "tcId $tc (ML-KEM-768 keyGen): FAILED: ek differs" "$TMP/out" ||
  { cat "$TMP/out"; fail "tampered ek of tcId $tc: not reported as the one failure"; }
[ "$(last_line)" = "$((want - 1)) passed, 1 failed" ] || fail "tampered ek: '$(last_line)'"
pass "tampered ek: exactly tcId $tc failed, exit 1"

# a tampered signature in expectedResults.json of a prompt + expected folder
mkdir -p "$TMP/sg"
cp "$SG/prompt.json" "$TMP/sg/"
tc=$(edit "$SG/expectedResults.json" "$TMP/sg/expectedResults.json" '
t = d["testGroups"][2]["tests"][1]
s = t["signature"]; t["signature"] = s[:-2] + ("00" if s[-2:] != "00" else "01")
print(t["tcId"])')
run "$TMP/sg"
[ "$RC" -eq 1 ] || fail "tampered signature: exit $RC, expected 1"
[ "$(grep -c FAILED "$TMP/out")" -eq 1 ] && grep -q "tcId $tc (.*): FAILED: signature differs" "$TMP/out" ||
  { cat "$TMP/out"; fail "tampered signature of tcId $tc: not reported as the one failure"; }
pass "tampered signature (expectedResults.json): exactly tcId $tc failed, exit 1"

# a prompt case with no expected result is an error, not a pass
tc=$(edit "$SG/expectedResults.json" "$TMP/sg/expectedResults.json" '
print(d["testGroups"][0]["tests"].pop(0)["tcId"])')
run "$TMP/sg"
[ "$RC" -eq 2 ] || fail "missing expected result: exit $RC, expected 2"
grep -q "tcId $tc (.*): error: no expected result" "$TMP/out" || { cat "$TMP/out"; fail "missing expected result of tcId $tc"; }
pass "prompt case without expected result (tcId $tc): error, exit 2"

# a missing field
tc=$(edit "$ED" "$TMP/missing.json" '
g = [g for g in d["testGroups"] if g["function"] == "encapsulation"][0]
del g["tests"][0]["m"]
print(g["tests"][0]["tcId"])')
run "$TMP/missing.json"
[ "$RC" -eq 2 ] || fail "missing field: exit $RC, expected 2"
grep -q "missing.json: vsId [0-9]* tgId [0-9]* tcId $tc (.*): error: missing field \"m\"" "$TMP/out" ||
  { cat "$TMP/out"; fail "missing field m of tcId $tc: message"; }
[ "$(last_line)" = "$(($(count_cases "$ED") - 1)) passed, 1 failed" ] || fail "missing field: '$(last_line)'"
pass "missing field m (tcId $tc): error naming file and tcId, exit 2"

# bad hex
tc=$(edit "$KG" "$TMP/badhex.json" '
t = d["testGroups"][0]["tests"][0]; t["d"] = "G" + t["d"][1:]; print(t["tcId"])')
run "$TMP/badhex.json"
[ "$RC" -eq 2 ] && grep -q "tcId $tc (.*): error: field \"d\": not a hex digit" "$TMP/out" ||
  { cat "$TMP/out"; fail "bad hex: exit $RC"; }
pass "bad hex in d (tcId $tc): error, exit 2"

# an unknown algorithm: skipped, not passed; a run where nothing ran fails
edit "$KG" "$TMP/unknown.json" 'd["algorithm"] = "ML-FOO"' > /dev/null
run "$TMP/unknown.json"
[ "$RC" -eq 1 ] || fail "unknown algorithm alone: exit $RC, expected 1 (nothing ran)"
grep -q "skipped $want cases: algorithm \"ML-FOO\"" "$TMP/out" && grep -qx "$want skipped" "$TMP/out" &&
  [ "$(last_line)" = "0 passed, 0 failed" ] || { cat "$TMP/out"; fail "unknown algorithm: output"; }
run "$TMP/unknown.json" "$KG"
[ "$RC" -eq 0 ] && grep -qx "$want skipped" "$TMP/out" && [ "$(last_line)" = "$want passed, 0 failed" ] ||
  { cat "$TMP/out"; fail "unknown algorithm + a good set: exit $RC"; }
pass "unknown algorithm: $want skipped (exit 1 alone, 0 beside a set that ran)"

# an unsupported group (keyFormat, as in the -tr1 revisions): skipped
n0=$(edit "$KG" "$TMP/keyformat.json" '
d["testGroups"][0]["keyFormat"] = "seed"; print(len(d["testGroups"][0]["tests"]))')
run "$TMP/keyformat.json"
[ "$RC" -eq 0 ] && grep -q "tgId 1: skipped $n0 cases: keyFormat" "$TMP/out" &&
  [ "$(last_line)" = "$((want - n0)) passed, 0 failed" ] || { cat "$TMP/out"; fail "keyFormat group: exit $RC"; }
pass "keyFormat group: $n0 skipped with the reason"

# usage
run
[ "$RC" -eq 64 ] || fail "no PATH: exit $RC, expected 64"
"$MWRASP" crypto --help | grep -q "mwrasp crypto acvp PATH" || fail "mwrasp crypto --help"
run "$TMP/does-not-exist"
[ "$RC" -eq 2 ] || fail "missing path: exit $RC, expected 2"
pass "usage and IO errors: 64 and 2"
