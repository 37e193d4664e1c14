#!/usr/bin/env python3
"""Drives GET requests at a fixed pace over one keep-alive connection for a
measured window and reports what came back (tests/integration/test_api_ratelimit.sh).

  rateload.py --port P --path /api/v1/threats?limit=1 [--key K] [--source 127.0.0.2]
              [--rps 200] [--seconds 10]

Prints one JSON object: ok (2xx), limited (429), other {status: n},
elapsed (seconds from the first request sent to the last), retry_after
(sorted distinct values seen), bad_429 (429 answers without a JSON
rate_limited error body or without a Retry-After header)."""
import argparse
import http.client
import json
import socket
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--key")
    ap.add_argument("--source", default="127.0.0.1")
    ap.add_argument("--rps", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()

    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10,
                                      source_address=(a.source, 0))
    headers = {"Authorization": "Bearer " + a.key} if a.key else {}
    ok = limited = bad = 0
    other = {}
    retry = set()
    gap = 1.0 / a.rps
    t_first = t_last = None
    start = time.monotonic()
    n = 0
    while True:
        due = start + n * gap
        now = time.monotonic()
        if due - start > a.seconds:
            break
        if due > now:
            time.sleep(due - now)
        t = time.monotonic()
        if t_first is None:
            t_first = t
        t_last = t
        try:
            conn.request("GET", a.path, headers=headers)
            r = conn.getresponse()
            body = r.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10,
                                              source_address=(a.source, 0))
            other["conn_error"] = other.get("conn_error", 0) + 1
            n += 1
            continue
        n += 1
        if 200 <= r.status < 300:
            ok += 1
        elif r.status == 429:
            limited += 1
            ra = r.getheader("Retry-After")
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            if ra is None or not ra.isdigit() or code != "rate_limited":
                bad += 1
            else:
                retry.add(int(ra))
        else:
            other[str(r.status)] = other.get(str(r.status), 0) + 1
    conn.close()
    print(json.dumps({"ok": ok, "limited": limited, "other": other,
                      "elapsed": (t_last - t_first) if t_first is not None else 0.0,
                      "sent": n, "retry_after": sorted(retry), "bad_429": bad}))


if __name__ == "__main__":
    socket.setdefaulttimeout(10)
    main()
