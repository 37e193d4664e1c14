#!/usr/bin/env python3
"""Turns the raw outputs of bench/run.sh (JSON summaries of loadgen,
sqlite_ref, and /metrics snapshots) into the Markdown report.

  report.py DIR            prints the report for the files in DIR
  report.py quantiles BEFORE AFTER
                           prints p50/p99 of mwrasp_event_latency_seconds
                           observed between two /metrics snapshots

Latency quantiles are estimates from the daemon's Prometheus histogram:
like PromQL's histogram_quantile(), the rank is found in the cumulative
bucket counts and the value is interpolated linearly inside its bucket
(lower bound of the first bucket: 0). A quantile that falls in the +Inf
bucket is reported as "> largest finite bound". Python standard library
only."""

import json
import math
import os
import sys

METRIC = "mwrasp_event_latency_seconds_bucket"


def parse_buckets(text):
    """{le (float, inf for +Inf): cumulative count} from Prometheus text."""
    out = {}
    for line in text.splitlines():
        if not line.startswith(METRIC + "{"):
            continue
        labels, _, value = line.rpartition(" ")
        le = labels.split('le="', 1)[1].split('"', 1)[0]
        out[math.inf if le == "+Inf" else float(le)] = float(value)
    return out


def delta_buckets(before, after):
    bounds = sorted(after)
    return [(b, after[b] - before.get(b, 0.0)) for b in bounds]


def quantile(q, cum):
    """cum: [(upper bound, cumulative count)] ascending, last bound inf.
    Returns (value, exact) where exact is False when the rank lands in the
    +Inf bucket (value is then the largest finite bound), or (None, True)
    when there were no observations."""
    total = cum[-1][1] if cum else 0
    if total <= 0:
        return None, True
    rank = q * total
    lower, prev = 0.0, 0.0
    for bound, c in cum:
        if c >= rank:
            if math.isinf(bound):
                return lower, False
            if c == prev:
                return bound, True
            return lower + (bound - lower) * (rank - prev) / (c - prev), True
        lower, prev = bound, c
    return lower, False


def latency(before_text, after_text):
    cum = delta_buckets(parse_buckets(before_text), parse_buckets(after_text))
    res = {"count": int(cum[-1][1]) if cum else 0}
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        v, exact = quantile(q, cum)
        res[name] = v
        res[name + "_exact"] = exact
    return res


def load(d, name):
    p = os.path.join(d, name)
    if not os.path.exists(p):
        return None
    with open(p, encoding="utf-8") as f:
        text = f.read().strip()
    if name.endswith(".json"):
        if not text:
            return None
        try:
            return json.loads(text.splitlines()[-1])
        except ValueError:
            return None
    return text


def fmt_rate(v):
    return "n/a" if v is None else "{:,.0f} events/s".format(v)


def fmt_ms(v, exact=True):
    if v is None:
        return "n/a"
    s = "%.2f ms" % (v * 1000)
    return s if exact else "> " + s


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "n/a"
    return "%.3f" % (a / b)


def throughput(r):
    """events/s from first send until all were stored; None if unusable."""
    if not r or r.get("stored", -1) <= 0 or r.get("stored_seconds", 0) <= 0:
        return None
    return r["stored"] / r["stored_seconds"]


def report(d):
    env = load(d, "env.json") or {}
    tcp, http = load(d, "tcp.json"), load(d, "http.json")
    sink, sqlite = load(d, "sink.json"), load(d, "sqlite.json")
    bstore = load(d, "bench_store.json")
    bstore_v = bstore["events_per_s"] if bstore else None
    paced = []  # (name, loadgen summary, quantiles)
    for name in ("lat", "lat_low"):
        r = load(d, name + ".json")
        b, a = load(d, "prom_%s_before.txt" % name), load(d, "prom_%s_after.txt" % name)
        if r is not None and b is not None and a is not None:
            paced.append((name, r, latency(b, a)))

    tcp_v, http_v = throughput(tcp), throughput(http)
    sink_v = sink["events_per_s"] if sink and sink.get("ok") else None
    sql_v = sqlite["rows_per_s"] if sqlite else None
    target = 200000.0
    p99_target = 0.010

    L = []
    L.append("# MWRASP benchmark results")
    L.append("")
    L.append("- date: %s" % env.get("date", "?"))
    L.append("- machine: %s, %s cores (nproc), %s MiB RAM" % (
        env.get("cpu", "?"), env.get("nproc", "?"), env.get("mem_mib", "?")))
    L.append("- commit: %s" % env.get("commit", "?"))
    L.append("- daemon: %s rules loaded (%s bench + bundled), pipeline.workers=%s, "
             "store SQLite WAL under %s" % (env.get("rules_loaded", "?"), env.get("bench_rules", "?"),
                                            env.get("workers", "?"), env.get("tmp", "?")))
    L.append("- load: loadgen on the same machine (it shares the %s cores with the daemon); "
             "rule-hit ratio %s" % (env.get("nproc", "?"), env.get("hit_ratio", "?")))
    L.append("")
    L.append("| figure | value | reference | ratio |")
    L.append("|---|---|---|---|")

    def note(r):
        if r is None:
            return " (not run)"
        if r.get("timed_out") or not r.get("ok"):
            return " (INCOMPLETE: %s of %s stored before the timeout)" % (r.get("stored", "?"), r.get("sent", "?"))
        return ""

    n_tcp = tcp.get("sent") if tcp else env.get("tcp_events")
    n_http = http.get("sent") if http else env.get("http_events")
    L.append("| syslog TCP ingest-to-store, %s events, %s conn.%s | %s | raw loopback TCP into a "
             "discarding sink: %s | %s |" % (
                 "{:,}".format(n_tcp) if isinstance(n_tcp, int) else n_tcp,
                 tcp.get("connections") if tcp else "?", note(tcp), fmt_rate(tcp_v),
                 fmt_rate(sink_v), ratio(tcp_v, sink_v)))
    L.append("| syslog TCP ingest-to-store | %s | bare SQLite, one row per event (the naive design): %s | %s |" % (
        fmt_rate(tcp_v), fmt_rate(sql_v), ratio(tcp_v, sql_v)))
    if bstore:
        L.append("| syslog TCP ingest-to-store | %s | the store module alone (bench_store): %s | %s |" % (
            fmt_rate(tcp_v), fmt_rate(bstore_v), ratio(tcp_v, bstore_v)))
    L.append("| syslog TCP ingest-to-store | %s | target (issue 2): %s | %s |" % (
        fmt_rate(tcp_v), fmt_rate(target), ratio(tcp_v, target)))
    L.append("| HTTP NDJSON ingest-to-store, %s events, %s conn. x %s-line batches%s | %s | raw "
             "loopback TCP into a discarding sink: %s | %s |" % (
                 "{:,}".format(n_http) if isinstance(n_http, int) else n_http,
                 http.get("connections") if http else "?", http.get("batch") if http else "?",
                 note(http), fmt_rate(http_v), fmt_rate(sink_v), ratio(http_v, sink_v)))
    L.append("| HTTP NDJSON ingest-to-store | %s | bare SQLite, one row per event (the naive design): %s | %s |" % (
        fmt_rate(http_v), fmt_rate(sql_v), ratio(http_v, sql_v)))
    if bstore:
        L.append("| HTTP NDJSON ingest-to-store | %s | the store module alone (bench_store): %s | %s |" % (
            fmt_rate(http_v), fmt_rate(bstore_v), ratio(http_v, bstore_v)))
    L.append("| HTTP NDJSON ingest-to-store | %s | target (issue 2): %s | %s |" % (
        fmt_rate(http_v), fmt_rate(target), ratio(http_v, target)))
    for name, lat, lq in paced:
        rate = "{:,.0f}/s".format(lat.get("rate_target", 0))
        achieved = lat["sent"] / lat["seconds"] if lat.get("seconds") else None
        L.append("| paced load at %s: offered / achieved%s | %s / %s | | |" % (
            rate, note(lat), fmt_rate(lat.get("rate_target")), fmt_rate(achieved)))
        L.append("| event-to-threat latency p50 at %s (histogram estimate, %s events) | %s | | |" % (
            rate, "{:,}".format(lq["count"]), fmt_ms(lq["p50"], lq["p50_exact"])))
        L.append("| event-to-threat latency p99 at %s (histogram estimate) | %s | target p99: %s | %s |" % (
            rate, fmt_ms(lq["p99"], lq["p99_exact"]), fmt_ms(p99_target),
            ratio(lq["p99"], p99_target) if lq["p99_exact"] else "n/a"))
    L.append("")
    L.append("Notes:")
    L.append("- Throughput is the time from the first event sent until the daemon's "
             "`events_stored` counter (GET /api/v1/metrics) has grown by the number sent, "
             "measured by loadgen polling every 20 ms.")
    L.append("- Latency quantiles are **estimates** from the daemon's histogram "
             "`mwrasp_event_latency_seconds` (receipt of an event to the commit of its batch, "
             "detections and threats included; every event, not only those that matched), "
             "taken as the difference of two /metrics snapshots around the paced run and "
             "interpolated linearly inside buckets (bucket bounds 0.1, 0.25, 0.5, 1, 2.5, 5, 10, "
             "25 ms, ...).")
    for name, lat, _ in paced:
        det = env.get(name + "_detections")
        L.append("- Paced run: %s events offered at %s events/s; %s were crafted to match rules "
                 "and the daemon counted %s detections." % (
                     "{:,}".format(lat.get("sent", 0)), "{:,.0f}".format(lat.get("rate_target", 0)),
                     lat.get("hits", "?"), det if det is not None else "?"))
    if paced and not all(lq["p99_exact"] for _, _, lq in paced):
        L.append("- A quantile shown as \"> X ms\" fell in the histogram's +Inf bucket: events "
                 "queued for longer than its largest bound, because the offered rate was above "
                 "what the daemon sustained.")
    L.append("- References run on the same machine in the same run, without the daemon: "
             "loadgen syslog-tcp into `loadgen sink-tcp` (reads and discards), and "
             "`sqlite_ref` (the events table of the store schema, WAL, synchronous=NORMAL, "
             "batches of %s rows, one writer thread, checkpoints on a second thread like the "
             "store)%s." % (sqlite.get("batch", "?") if sqlite else "?",
                            ", and `bench_store` (the store module through its API, batches of "
                            "4096, 1 % of the events with a threat update and a detection)"
                            if bstore else ""))
    return "\n".join(L) + "\n"


def main(argv):
    if len(argv) == 3 and argv[0] == "quantiles":
        with open(argv[1]) as a, open(argv[2]) as b:
            print(json.dumps(latency(a.read(), b.read())))
        return 0
    if len(argv) == 1 and os.path.isdir(argv[0]):
        sys.stdout.write(report(argv[0]))
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
