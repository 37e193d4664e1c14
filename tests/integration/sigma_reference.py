#!/usr/bin/env python3
"""Agreement of `mwrasp sigma eval` with the SQLite reference (reference.json).

usage: sigma_reference.py MWRASP SIGMA_DATA PIPELINE RULESET FLOOR [--worst N]

Runs `MWRASP sigma eval --pipeline PIPELINE` once over every jsonl file under
SIGMA_DATA/jsonl (sorted relative paths) with the rules SIGMA_DATA/rules/windows,
and compares the (file, line, rule id) matches with
reference.json rulesets[RULESET].matches, over the rules of that ruleset that
the reference could evaluate (no "error"). Agreement = matches found by both
sides / matches found by either side. Prints the figure, then the rules that
disagree, worst first. Exit 1 if agreement < FLOOR (a fraction, e.g. 0.995).
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
    if "--worst" in args:
        i = args.index("--worst")
        worst = int(args[i + 1])
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

    cmd = [os.path.abspath(mwrasp), "sigma", "eval", "--pipeline", pipeline,
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
        print(f"FAIL: mwrasp sigma eval exited {run.returncode}")
        return 2
    got = set()
    for line in run.stdout.splitlines():
        m = json.loads(line)
        if m["rule_id"] in rules:
            got.add((m.get("file", files[0]), m["event"], m["rule_id"]))

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
    if agreement < floor:
        print(f"FAIL: agreement {agreement * 100:.3f}% is below the floor {floor * 100:.2f}%")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
