#!/usr/bin/env python3
"""Agreement of `mwrasp sigma eval` with the SQLite reference (reference.json).

usage: sigma_reference.py MWRASP SIGMA_DATA PIPELINE RULESET FLOOR [--worst N]
                          [--sql-floor F]

Runs `MWRASP sigma eval --pipeline PIPELINE` once over every jsonl file under
SIGMA_DATA/jsonl (sorted relative paths) with the rules SIGMA_DATA/rules/windows,
and compares the (file, line, rule id) matches with
reference.json rulesets[RULESET].matches, over the rules of that ruleset that
the reference could evaluate (no "error"). Agreement = matches found by both
sides / matches found by either side. Prints the figure, then the rules that
disagree, worst first. Exit 1 if agreement < FLOOR (a fraction, e.g. 0.995).

With --sql-floor F, eval also runs with --nulls sql (SQL three-valued logic
for missing fields, docs/sigma-compat.md) and exit is 1 unless: its
agreement >= F; its matches are a subset of the spec-mode ones (Kleene logic
is monotone); and the spec-mode disagreements (spec matches XOR reference)
are exactly the pairs the null semantics changes (spec matches - SQL
matches), i.e. null semantics explains every disagreement and changes no
agreeing pair. Pairs left unexplained are listed.
"""
import collections
import json
import os
import subprocess
import sys
import time


def main():
    args = sys.argv[1:]
    worst = 25
    sql_floor = None
    if "--worst" in args:
        i = args.index("--worst")
        worst = int(args[i + 1])
        del args[i:i + 2]
    if "--sql-floor" in args:
        i = args.index("--sql-floor")
        sql_floor = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 5:
        print(__doc__, file=sys.stderr)
        return 64
    mwrasp, data, pipeline, ruleset, floor = args
    floor = float(floor)
    jsonl = os.path.join(data, "jsonl")
    files = sorted(
        os.path.relpath(os.path.join(d, f), jsonl)
        for d, _, fs in os.walk(jsonl) for f in fs if f.endswith(".jsonl"))
    with open(os.path.join(data, "reference.json")) as fp:
        ref = json.load(fp)["rulesets"][ruleset]
    rules = {rid: r for rid, r in ref["rules"].items() if "error" not in r}
    want = set()
    for path, per_rule in ref["matches"].items():
        for rid, lines in per_rule.items():
            if rid in rules:
                want.update((path, ln, rid) for ln in lines)

    run, dt, got = evaluate(mwrasp, data, jsonl, files, pipeline, "spec", rules)
    if run is None:
        return 2

    both, either = len(got & want), len(got | want)
    agreement = both / either if either else 1.0
    per = collections.defaultdict(lambda: [0, 0, 0])  # both, only mwrasp, only reference
    for k in got & want:
        per[k[2]][0] += 1
    for k in got - want:
        per[k[2]][1] += 1
    for k in want - got:
        per[k[2]][2] += 1
    bad = [(rid, c) for rid, c in per.items() if c[1] or c[2]]
    bad.sort(key=lambda x: (-(x[1][1] + x[1][2]), x[0]))
    summary = [l for l in run.stderr.splitlines() if l.startswith(("rules ", "events", "matches"))]
    print(f"pipeline {pipeline} vs {ruleset}: {len(files)} files, {len(rules)} rules evaluated "
          f"by the reference, eval {dt:.1f} s")
    for l in summary:
        print("  " + l)
    print(f"  matches: both {both}, only mwrasp {len(got - want)}, "
          f"only reference {len(want - got)}")
    print(f"  agreement {agreement * 100:.3f}% (floor {floor * 100:.2f}%), "
          f"{len(bad)} rules disagree")
    for rid, c in bad[:worst]:
        tot = c[0] + c[1] + c[2]
        print(f"    {c[0] / tot * 100:6.1f}%  both {c[0]:5d}  only-mwrasp {c[1]:5d}  "
              f"only-ref {c[2]:5d}  {rid}  {rules[rid]['title']}")
    rc = 0
    if agreement < floor:
        print(f"FAIL: agreement {agreement * 100:.3f}% is below the floor {floor * 100:.2f}%")
        rc = 1
    if sql_floor is not None and check_sql(mwrasp, data, jsonl, files, pipeline, rules, want,
                                           got, sql_floor, worst):
        rc = 1
    return rc


def evaluate(mwrasp, data, jsonl, files, pipeline, nulls, rules):
    """Runs eval once over every file: (process, seconds, {(file, line, rule id)})."""
    cmd = [os.path.abspath(mwrasp), "sigma", "eval", "--pipeline", pipeline, "--nulls", nulls,
           "--rules", os.path.join(os.path.abspath(data), "rules", "windows")]
    for f in files:
        cmd += ["--events", f]
    t0 = time.monotonic()
    env = dict(os.environ)
    env.setdefault("MWRASP_PIPELINES", os.path.abspath("pipelines"))  # run from the repo root
    run = subprocess.run(cmd, cwd=jsonl, capture_output=True, text=True, env=env)
    dt = time.monotonic() - t0
    if run.returncode not in (0, 1):
        sys.stderr.write(run.stderr)
        print(f"FAIL: mwrasp sigma eval --nulls {nulls} exited {run.returncode}")
        return None, dt, set()
    got = set()
    for line in run.stdout.splitlines():
        m = json.loads(line)
        if m["rule_id"] in rules:
            got.add((m.get("file", files[0]), m["event"], m["rule_id"]))
    return run, dt, got


def list_pairs(title, pairs, rules, worst):
    if not pairs:
        return
    print(f"  {title}: {len(pairs)}")
    for f, ln, rid in sorted(pairs)[:worst]:
        print(f"    {f}:{ln + 1}  {rid}  {rules[rid]['title']}")


def check_sql(mwrasp, data, jsonl, files, pipeline, rules, want, spec, floor, worst):
    """--nulls sql: agreement, subset of spec, spec disagreements explained. 1 = failed."""
    run, dt, sql = evaluate(mwrasp, data, jsonl, files, pipeline, "sql", rules)
    if run is None:
        return 1
    both, either = len(sql & want), len(sql | want)
    agreement = both / either if either else 1.0
    spec_dis = spec ^ want  # pairs where spec mode and the reference disagree
    changed = spec ^ sql  # pairs the null semantics changes
    print(f"  --nulls sql (eval {dt:.1f} s): both {both}, only mwrasp {len(sql - want)}, "
          f"only reference {len(want - sql)}; agreement {agreement * 100:.3f}% "
          f"(floor {floor * 100:.2f}%)")
    print(f"  spec-mode disagreements {len(spec_dis)}, pairs changed by --nulls sql "
          f"{len(changed)}, disagreements explained {len(spec_dis & changed)}")
    rc = 0
    if not sql <= spec:
        list_pairs("FAIL: matches in sql mode but not in spec mode", sql - spec, rules, worst)
        rc = 1
    if spec_dis != changed:
        list_pairs("FAIL: spec-mode disagreements not explained by null semantics",
                   spec_dis - changed, rules, worst)
        list_pairs("FAIL: agreeing pairs that null semantics changes", changed - spec_dis, rules,
                   worst)
        rc = 1
    if agreement < floor:
        list_pairs("residual disagreements in sql mode", sql ^ want, rules, worst)
        print(f"FAIL: sql-mode agreement {agreement * 100:.3f}% is below {floor * 100:.2f}%")
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
