#!/usr/bin/env bash
# `mwrasp sigma eval --threads N`: the same output, in line order, and the
# same messages for skipped lines, whatever the number of threads. A file of
# 400 lines (several 64-line chunks) where line i matches iff i % 3 == 0,
# every 7th line is blank and every 11th is not JSON: the expected output is
# written here from that rule, not by the tool. Then, with the shared Sigma
# data, every events file at once with 1 and 3 threads (identical outputs).
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

mkdir -p "$TMP/rules"
cat > "$TMP/rules/w.yml" <<'YAML'
title: Whoami
id: t-whoami
level: high
logsource: {product: windows, category: process_creation}
detection:
  sel:
    Image|endswith: '\whoami.exe'
  condition: sel
YAML
: > "$TMP/ev.jsonl"
: > "$TMP/want.out"
: > "$TMP/want.err"
nev=0
nbad=0
for i in $(seq 0 399); do
  if [ $((i % 7)) = 6 ]; then
    echo >> "$TMP/ev.jsonl"
  elif [ $((i % 11)) = 10 ]; then
    echo "not json $i" >> "$TMP/ev.jsonl"
    echo "ev.jsonl:$((i + 1)): skipped" >> "$TMP/want.err"
    nbad=$((nbad + 1))
  elif [ $((i % 3)) = 0 ]; then
    echo "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1,\"Image\":\"C:\\\\W\\\\whoami.exe\",\"n\":$i}" >> "$TMP/ev.jsonl"
    echo "{\"event\": $i, \"rule_id\": \"t-whoami\", \"title\": \"Whoami\", \"level\": \"high\"}" >> "$TMP/want.out"
    nev=$((nev + 1))
  else
    echo "{\"Channel\":\"Microsoft-Windows-Sysmon/Operational\",\"EventID\":1,\"Image\":\"C:\\\\W\\\\cmd.exe\",\"n\":$i}" >> "$TMP/ev.jsonl"
    nev=$((nev + 1))
  fi
done
for t in 1 2 5 0; do
  set +e
  (cd "$TMP" && MWRASP_PIPELINES="$OLDPWD/pipelines" "$MW_BIN/mwrasp" sigma eval --threads $t \
    --rules rules --events ev.jsonl > "t$t.out" 2> "t$t.err")
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "--threads $t: a file with bad lines should exit 1 (got $rc)"
  cmp -s "$TMP/want.out" "$TMP/t$t.out" || { diff "$TMP/want.out" "$TMP/t$t.out" | head; fail "--threads $t: output"; }
  grep ": skipped: " "$TMP/t$t.err" | sed 's/: skipped.*/: skipped/' > "$TMP/t$t.skips"
  cmp -s "$TMP/want.err" "$TMP/t$t.skips" || { diff "$TMP/want.err" "$TMP/t$t.skips" | head; fail "--threads $t: skipped-line messages"; }
  grep -q "^events: $nev ($nbad lines skipped)" "$TMP/t$t.err" || { cat "$TMP/t$t.err"; fail "--threads $t: summary"; }
done
pass "sigma eval --threads 1/2/5/0: same output and messages in line order ($nev events, $nbad bad lines)"

for bad in -1 abc 257 ""; do
  if "$MW_BIN/mwrasp" sigma eval --threads "$bad" --rules "$TMP/rules" --events "$TMP/ev.jsonl" \
    > /dev/null 2> "$TMP/bad.err"; then
    fail "--threads '$bad' accepted"
  fi
  grep -q -- "--threads takes 0 to" "$TMP/bad.err" || { cat "$TMP/bad.err"; fail "--threads '$bad': message"; }
done
pass "sigma eval --threads rejects -1, abc, 257 and an empty value"

DATA="${MW_SHARED_DATA:-../shared/data}/sigma"
if [ ! -d "$DATA/jsonl" ] || [ ! -d "$DATA/rules/windows" ]; then
  echo "SKIP: no shared Sigma data at $DATA (the hand-made cases above ran)"
  exit 0
fi
mapfile -d '' files < <(find "$DATA/jsonl" -name '*.jsonl' -print0 | sort -z)
args=()
for f in "${files[@]}"; do args+=(--events "$f"); done
for t in 1 3; do
  MWRASP_PIPELINES=pipelines "$MW_BIN/mwrasp" sigma eval --threads $t --rules "$DATA/rules/windows" \
    "${args[@]}" --output "$TMP/all$t.out" 2> "$TMP/all$t.err" || fail "--threads $t over the shared data"
done
n=$(wc -l < "$TMP/all1.out")
[ "$n" -gt 1000 ] || fail "only $n matches over the shared data"
cmp -s "$TMP/all1.out" "$TMP/all3.out" || fail "--threads 3 differs from --threads 1 over the shared data"
grep -q "events: 15076 (0 lines skipped) in ${#files[@]} file(s)" "$TMP/all3.err" || { tail -5 "$TMP/all3.err"; fail "summary"; }
pass "sigma eval over ${#files[@]} shared files: $n matches, identical with 1 and 3 threads"
