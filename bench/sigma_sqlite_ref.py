#!/usr/bin/env python3
"""The SQLite baseline of the Sigma benchmark: Zircolite's approach, in
Python's stdlib sqlite3 (Zircolite itself is Python over SQLite).

Loads every *.jsonl under EVENTS (sorted relative paths) into one in-memory
table `logs` the way the shared data's reference was made (README of
sigma/): a column per field, created at the first event that has it
(compared case-insensitively), INTEGER if that first value is a JSON integer,
otherwise TEXT COLLATE NOCASE; booleans as 'true'/'false'; indexes on
eventid and Channel. Then runs every converted rule's SQL of RULES_JSON
(pySigma SQLite backend output, a JSON list of {"id", "rule": [SQL, ...]}),
with `SELECT *` turned into `SELECT row_id`, and times the total. A column a
rule names but no event has is created empty on the first "no such column"
error (the reference did the same). REGEXP is a Python UDF (re.search; 0 on
NULL or a bad pattern).

The events can be loaded --repeat K times (K copies of every row) so that
the run is long enough to time. Prints one JSON object on stdout.

Usage: sigma_sqlite_ref.py RULES_JSON EVENTS [--repeat K] [--time-limit S]
"""
import json
import os
import re
import resource
import sqlite3
import sys
import time


def jsonl_files(root):
    if os.path.isfile(root):
        return [root]
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if f.endswith(".jsonl") and not f.startswith("."):
                out.append(os.path.join(d, f))
    return sorted(out, key=lambda p: os.path.relpath(p, root))


_re_cache = {}


def regexp(pattern, value):
    if pattern is None or value is None:
        return 0
    r = _re_cache.get(pattern)
    if r is None:
        try:
            r = re.compile(pattern)
        except re.error:
            r = False
        _re_cache[pattern] = r
    if r is False:
        return 0
    return 1 if r.search(value if isinstance(value, str) else str(value)) else 0


def quote(name):
    return '"' + name.replace('"', '""') + '"'


def main(argv):
    args = [a for a in argv[1:]]
    repeat, limit = 1, 300.0
    if "--repeat" in args:
        i = args.index("--repeat")
        repeat = int(args[i + 1])
        del args[i:i + 2]
    if "--time-limit" in args:
        i = args.index("--time-limit")
        limit = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2 or repeat < 1:
        print(__doc__, file=sys.stderr)
        return 2
    rules_path, events_root = args

    t0 = time.monotonic()
    events = []
    for path in jsonl_files(events_root):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    events.append(json.loads(line))
    t_read = time.monotonic() - t0

    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, regexp, deterministic=True)
    db.execute("CREATE TABLE logs (row_id INTEGER PRIMARY KEY AUTOINCREMENT)")
    cols = {}  # lower name -> column name as created

    def add_column(name, is_int):
        db.execute("ALTER TABLE logs ADD COLUMN %s %s" %
                   (quote(name), "INTEGER" if is_int else "TEXT COLLATE NOCASE"))
        cols[name.lower()] = name

    t1 = time.monotonic()
    rows = []
    for ev in events:
        row = {}
        for k, v in ev.items():
            lk = k.lower()
            if lk in row:
                continue  # same column twice: the first value stays
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif v is None or v == "":
                continue
            elif not isinstance(v, (int, float, str)):
                v = str(v)
            if lk not in cols:
                add_column(k, isinstance(v, int))
            row[lk] = v
        rows.append(row)
    n_events = 0
    for _ in range(repeat):
        for row in rows:
            names = list(row)
            db.execute("INSERT INTO logs (%s) VALUES (%s)" %
                       (",".join(quote(cols[n]) for n in names), ",".join("?" * len(names))),
                       [row[n] for n in names])
            n_events += 1
    for name in ("eventid", "channel"):
        if name in cols:
            db.execute("CREATE INDEX idx_%s ON logs (%s)" % (name, quote(cols[name])))
    db.commit()
    t_load = time.monotonic() - t1

    with open(rules_path, encoding="utf-8") as f:
        rules = json.load(f)
    t2 = time.monotonic()
    matches = errors = statements = 0
    done = 0
    nocol = re.compile(r"no such column: (\S+)")
    for rule in rules:
        for sql in rule.get("rule", []):
            sql = sql.replace("SELECT *", "SELECT row_id", 1)
            statements += 1
            for _attempt in range(64):
                try:
                    matches += len(db.execute(sql).fetchall())
                    break
                except sqlite3.OperationalError as e:
                    m = nocol.search(str(e))
                    if not m or m.group(1).lower() in cols:
                        errors += 1
                        break
                    add_column(m.group(1), False)
            else:
                errors += 1
        done += 1
        if time.monotonic() - t2 > limit:
            break
    t_query = time.monotonic() - t2
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump({
        "engine": "python3 sqlite3 %s (SQLite %s)" % (sys.version.split()[0], sqlite3.sqlite_version),
        "events": n_events, "repeat": repeat, "rules": len(rules), "rules_run": done,
        "statements": statements, "statement_errors": errors, "matches": matches,
        "read_seconds": round(t_read, 3), "load_seconds": round(t_load, 3),
        "query_seconds": round(t_query, 3),
        "events_per_s_query": round(n_events / t_query) if t_query > 0 else 0,
        "events_per_s_load_and_query": round(n_events / (t_load + t_query)) if t_load + t_query > 0 else 0,
        "complete": done == len(rules), "peak_rss_kib": peak_kib,
    }, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
