#!/usr/bin/env bash
# The documented configuration matches the code: docs/config.md contains the
# reference generated from the option table, mwrasp.yaml sets every option and
# loads, and bad configuration files fail with FILE:LINE messages.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

"$MW_BIN/mwraspd" --config-reference > "$TMP/ref.md"
python3 - "$TMP/ref.md" docs/config.md <<'PY' || fail "docs/config.md does not contain the generated reference"
import sys
ref, doc = open(sys.argv[1]).read(), open(sys.argv[2]).read()
sys.exit(0 if ref in doc else 1)
PY
pass "docs/config.md matches mwraspd --config-reference"

# every option in the table is set in mwrasp.yaml
for key in $(awk -F'`' '/^\| `/ {print $2}' "$TMP/ref.md"); do
  leaf=${key##*.}
  grep -Eq "^\s*${leaf}:" mwrasp.yaml || fail "mwrasp.yaml does not set $key"
done
"$MW_BIN/mwraspd" --config mwrasp.yaml --set store.path="$TMP/c.db" --check > "$TMP/check.out" 2>&1 \
  || { cat "$TMP/check.out"; fail "mwraspd --check on mwrasp.yaml failed"; }
pass "mwrasp.yaml sets every option and loads (--check)"

printf 'listen:\n  http: 127.0.0.1:1\n  htp: 127.0.0.1:2\n' > "$TMP/bad.yaml"
if "$MW_BIN/mwraspd" --config "$TMP/bad.yaml" --check > "$TMP/bad.out" 2>&1; then fail "unknown key accepted"; fi
grep -q "bad.yaml:3: unknown option \"listen.htp\"" "$TMP/bad.out" || { cat "$TMP/bad.out"; fail "unknown-key message"; }
printf 'pipeline:\n  workers: lots\n' > "$TMP/bad2.yaml"
if "$MW_BIN/mwraspd" --config "$TMP/bad2.yaml" --check > "$TMP/bad2.out" 2>&1; then fail "bad number accepted"; fi
grep -q "bad2.yaml:2: pipeline.workers: expected an integer" "$TMP/bad2.out" || { cat "$TMP/bad2.out"; fail "bad-number message"; }
pass "bad configuration files are refused naming file and line"
