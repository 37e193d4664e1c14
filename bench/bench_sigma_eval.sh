#!/usr/bin/env bash
# Sigma evaluation benchmark (issue 3, "Performance"): events/s of the Sigma
# engine with the whole SigmaHQ Windows rule set over the bundled Windows
# events, one thread and all cores, peak memory, and the SQLite baseline
# (Zircolite's approach) on the same data in the same run. `make bench` runs
# it at the end of bench/run.sh; it also runs alone:
#
#   bash bench/bench_sigma_eval.sh            # after make (build/bin)
#
# Needs $MW_SHARED_DATA/sigma (default ../shared/data): skips with a message
# if it is absent. Writes a Markdown section to stdout and to $BENCH_SIGMA_OUT
# (bench/results/sigma-latest.md).
#
# Knobs: BENCH_SIGMA_SECONDS (10: minimum wall time of each e2e run; the
# events are repeated until it has passed), BENCH_SIGMA_SHORT_SECONDS (4:
# the breakdown runs), BENCH_SIGMA_THREADS (nproc), BENCH_SIGMA_SQL_REPEAT
# (2: copies of the events in the SQLite table), BENCH_PHASE_TIMEOUT (150 s
# per phase), MW_BIN (build/bin), MW_SHARED_DATA.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=${MW_BIN:-$ROOT/build/bin}
DATA=${MW_SHARED_DATA:-$ROOT/../shared/data}
SECS=${BENCH_SIGMA_SECONDS:-10}
SHORT=${BENCH_SIGMA_SHORT_SECONDS:-4}
THREADS=${BENCH_SIGMA_THREADS:-$(nproc)}
SQL_REPEAT=${BENCH_SIGMA_SQL_REPEAT:-2}
PHASE_TIMEOUT=${BENCH_PHASE_TIMEOUT:-150}
OUT=${BENCH_SIGMA_OUT:-$ROOT/bench/results/sigma-latest.md}

say() { echo "bench-sigma: $*" >&2; }

RULES=$DATA/sigma/rules/windows
EVENTS=$DATA/sigma/jsonl
SQL=$DATA/sigma/sql/rules_windows_sysmon_all.json
if [ ! -d "$RULES" ] || [ ! -d "$EVENTS" ] || [ ! -f "$SQL" ]; then
  say "SKIPPED: the SigmaHQ test data is not there ($DATA/sigma: rules/windows, jsonl/, sql/)."
  say "Set MW_SHARED_DATA to the folder that holds sigma/ to run this benchmark."
  exit 0
fi
[ -x "$BIN/bench_sigma_eval" ] || { say "FAILED: $BIN/bench_sigma_eval not found (run make first)"; exit 1; }
command -v python3 >/dev/null || { say "FAILED: python3 is needed"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/mwrasp-bench-sigma.XXXXXX")
trap 'rm -rf "$W"' EXIT

# run NAME ARGS...: bench_sigma_eval under a timeout (and /usr/bin/time -v
# when present, for the process's maximum resident set), JSON in NAME.json.
run() {
  local name=$1
  shift
  local tv=()
  [ -x /usr/bin/time ] && tv=(/usr/bin/time -v -o "$W/$name.time")
  if ! timeout "$PHASE_TIMEOUT" "${tv[@]}" "$BIN/bench_sigma_eval" --rules "$RULES" \
    --events "$EVENTS" "$@" > "$W/$name.json" 2> "$W/$name.err"; then
    say "$name failed or timed out: $(grep -v ':[0-9]*: ' "$W/$name.err" | tail -3)"
    rm -f "$W/$name.json"
  fi
}

PIPE=(--pipeline pipelines/sysmon.yml)
say "1/8 parse + match (e2e), sysmon pipeline, 1 thread, >= ${SECS} s"
run e2e_1 --mode e2e --threads 1 --seconds "$SECS" "${PIPE[@]}"
say "2/8 parse + match (e2e), sysmon pipeline, $THREADS threads, >= ${SECS} s"
run e2e_n --mode e2e --threads "$THREADS" --seconds "$SECS" "${PIPE[@]}"
say "3/8 the same, 1 thread, every pass with empty caches (--cold), >= ${SHORT} s"
run cold_1 --mode e2e --threads 1 --seconds "$SHORT" --cold "${PIPE[@]}"
say "4/8 parse + match without a pipeline (every rule on every event), 1 thread, >= ${SHORT} s"
run nopipe_1 --mode e2e --threads 1 --seconds "$SHORT"
say "5/8 match only (events parsed beforehand), sysmon pipeline, 1 thread, >= ${SHORT} s"
run match_1 --mode match --threads 1 --seconds "$SHORT" "${PIPE[@]}"
say "6/8 match only, prefilter off (each rule evaluated separately), 1 thread, >= ${SHORT} s"
run nopf_1 --mode match --no-prefilter --threads 1 --seconds "$SHORT" "${PIPE[@]}"
say "7/8 JSON parsing only, 1 thread, >= ${SHORT} s"
run parse_1 --mode parse --threads 1 --seconds "$SHORT"
# the CLI itself: the events concatenated into one file, given --events R
# times so that a run lasts about SECS (R from the e2e rate above)
find "$EVENTS" -name '*.jsonl' -print0 | sort -z | xargs -0 cat > "$W/all.jsonl"
rate=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["events_per_s"]))' "$W/e2e_1.json" 2>/dev/null || echo 50000)
nlines=$(wc -l < "$W/all.jsonl")
reps=$(( (SECS * rate + nlines - 1) / nlines ))
[ "$reps" -ge 1 ] || reps=1
cli=()
for _ in $(seq "$reps"); do cli+=(--events "$W/all.jsonl"); done
for t in 1 "$THREADS"; do
  say "CLI: mwrasp sigma eval --threads $t, $nlines events x $reps"
  if ! MWRASP_PIPELINES=pipelines timeout "$PHASE_TIMEOUT" "$BIN/mwrasp" sigma eval --threads "$t" \
    --rules "$RULES" --pipeline sysmon "${cli[@]}" --output /dev/null 2> "$W/cli_$t.err"; then
    say "CLI run with $t threads failed or timed out: $(tail -2 "$W/cli_$t.err")"
  fi
  sed -n 's/^events\/s: \([0-9]*\) (\([0-9.]*\) s, .*/{"events_per_s": \1, "seconds": \2, "threads": '"$t"'}/p' \
    "$W/cli_$t.err" > "$W/cli_$t.json"
done
cp "$W/cli_$THREADS.json" "$W/cli_n.json" 2>/dev/null || true

say "8/8 baseline: SQLite (Zircolite's approach, python3 sqlite3), events x $SQL_REPEAT"
if ! timeout "$PHASE_TIMEOUT" python3 bench/sigma_sqlite_ref.py "$SQL" "$EVENTS" \
  --repeat "$SQL_REPEAT" --time-limit $((PHASE_TIMEOUT - 30)) > "$W/sqlite.json" 2> "$W/sqlite.err"; then
  say "SQLite baseline failed or timed out: $(tail -3 "$W/sqlite.err")"
  rm -f "$W/sqlite.json"
fi

CPU=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
mkdir -p "$(dirname "$OUT")"
python3 - "$W" "$CPU" "$(nproc)" "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  > "$W/report.md" <<'PY'
import json, os, re, sys, time
w, cpu, nproc, commit = sys.argv[1:5]

def load(name):
    p = os.path.join(w, name + ".json")
    try:
        with open(p) as f:
            d = json.loads(f.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None
    t = os.path.join(w, name + ".time")
    if os.path.exists(t):
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(t).read())
        if m:
            d["time_max_rss_kib"] = int(m.group(1))
    return d

r = {k: load(k) for k in ("e2e_1", "e2e_n", "cold_1", "nopipe_1", "match_1", "nopf_1",
                          "parse_1", "sqlite", "cli_1", "cli_n")}
def f(x, fmt="{:,.0f}"):
    return "n/a" if x is None else fmt.format(x)

first = next((v for v in r.values() if v and "rules_loaded" in v), {})
print("## Sigma evaluation (SigmaHQ Windows rules over the bundled events)\n")
print("%s UTC, commit %s, %s, %s cores (nproc). Rules: %s loaded, %s refused by the sysmon "
      "pipeline (of the SigmaHQ Windows rules); %s events (%s files, %s bytes of JSON lines), "
      "repeated until each run lasted its minimum time. The sysmon logsource pipeline gives each "
      "rule the Channel/EventID conditions of its logsource, as the baseline's SQL has them.\n" % (
      time.strftime("%Y-%m-%d %H:%M", time.gmtime()), commit, cpu or "?", nproc,
      f(first.get("rules_loaded")), f(first.get("rules_refused")),
      f(first.get("events")), f(first.get("files")), f(first.get("event_bytes"))))
print("| run | threads | events processed | wall s | events/s | events per CPU s | CPU us/event | peak RSS |")
print("|---|---|---|---|---|---|---|---|")
labels = [("e2e_1", "parse + match (e2e)"), ("e2e_n", "parse + match (e2e)"),
          ("cold_1", "parse + match, caches emptied every pass (--cold)"),
          ("nopipe_1", "parse + match, no pipeline (every rule, every event)"),
          ("match_1", "match only, prefilter on"),
          ("nopf_1", "match only, prefilter off (each rule separately)"),
          ("parse_1", "JSON parsing only")]
for k, label in labels:
    d = r[k]
    if d is None:
        print("| %s | | failed | | | | | |" % label)
        continue
    rss = d.get("time_max_rss_kib", d.get("peak_rss_kib"))
    print("| %s | %d | %s | %.1f | %s | %s | %.2f | %s MiB |" % (
        label, d["threads"], f(d["processed"]), d["wall_seconds"], f(d["events_per_s"]),
        f(d["events_per_cpu_s"]), d["us_per_event_cpu"], f(rss / 1024 if rss else None, "{:.0f}")))
for k in ("cli_1", "cli_n"):
    d = r[k]
    if d:
        print("| `mwrasp sigma eval --threads %d` (writes its output) | %d | | %.1f | %s | | | |" % (
            d["threads"], d["threads"], d["seconds"], f(d["events_per_s"])))
s = r["sqlite"]
if s:
    print("| SQLite baseline: load | 1 | %s | %.1f | %s | | | |" % (
        f(s["events"]), s["load_seconds"], f(s["events"] / s["load_seconds"] if s["load_seconds"] else None)))
    print("| SQLite baseline: %s rule queries%s | 1 | %s | %.1f | %s | | | %s MiB |" % (
        f(s["rules_run"]), "" if s["complete"] else " (INCOMPLETE)", f(s["events"]),
        s["query_seconds"], f(s["events_per_s_query"]), f(s["peak_rss_kib"] / 1024, "{:.0f}")))
else:
    print("| SQLite baseline | 1 | failed | | | | | |")
print()
e1, en, c1 = r["e2e_1"], r["e2e_n"], r["cold_1"]
if e1 and s:
    print("- Ratio ours / SQLite baseline, one thread each (e2e events/s over the baseline's "
          "query-only events/s): **%.1fx**; with loading counted in the baseline: %.1fx; "
          "matches per pass: ours %s, SQLite %s (the difference is the null semantics of "
          "docs/sigma-compat.md)." % (
          e1["events_per_s"] / s["events_per_s_query"],
          e1["events_per_s"] / s["events_per_s_load_and_query"], f(e1["matches_per_pass"]),
          f(s["matches"] // max(1, s["repeat"]))))
if en and s:
    print("- Ratio with %d threads: %.1fx (the baseline is single-threaded, like Zircolite)." % (
          en["threads"], en["events_per_s"] / s["events_per_s_query"]))
if e1:
    per_core = e1["events_per_cpu_s"]
    print("- Per core (e2e, events per CPU second): %s events/s; target 500,000: %s." % (
          f(per_core), "met" if per_core >= 500000 else "NOT met (%.0f%% of it)" % (100 * per_core / 500000)))
if c1 and e1:
    print("- One pass over events never seen before (--cold: the per-thread caches and the slot "
          "memo emptied before every pass): %s events per CPU second, %.2fx the repeated figure." % (
          f(c1["events_per_cpu_s"]), c1["events_per_cpu_s"] / e1["events_per_cpu_s"]))
m, n = r["match_1"], r["nopf_1"]
if m and n:
    print("- Prefilter (Hyperscan databases, anchors, gates) against evaluating each rule "
          "separately: %.2f us/event of matching with it, %.1f without: **%.1fx**." % (
          m["us_per_event_cpu"], n["us_per_event_cpu"], n["us_per_event_cpu"] / m["us_per_event_cpu"]))
PY
cp "$W/report.md" "$OUT"
cat "$W/report.md"
say "report written to $OUT"
