"""Checks the WebSocket stream /api/v1/stream of a running mwraspd (started by
tests/integration/test_api_ws.sh with api.ws_queue 256, api.ws_ping_interval
1s, api.ws_pong_timeout 6s, api.ws_max_clients 24, the e2e rules: sshd
"Failed password" -> high (2), encoded PowerShell -> critical (1)).

    python3 ws_check.py PORT API_KEY

Prints "ok: ..." per check; exits 1 at the first failure."""
import json
import sys
import time
import urllib.error
import urllib.request

from wsclient import OP_BIN, OP_TEXT, WS, Closed, HandshakeRefused

PORT, KEY = int(sys.argv[1]), sys.argv[2]
BASE = f"http://127.0.0.1:{PORT}"
AUTH = {"Authorization": "Bearer " + KEY}


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def ok(msg):
    print(f"ok: {msg}", flush=True)


def http(method, path, body=None, ctype="application/json", headers=AUTH):
    h = dict(headers)
    if body is not None:
        h["Content-Type"] = ctype
    req = urllib.request.Request(BASE + path, data=body.encode() if body else None, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(line):
    st, text = http("GET", "/metrics")
    if st != 200:
        fail(f"/metrics: {st}")
    for l in text.splitlines():
        if l.startswith(line + " "):
            return float(l.rsplit(" ", 1)[1])
    fail(f"/metrics has no {line}")


def ssh_line(host):
    return f"<34>Oct 11 22:14:15 {host} sshd[412]: Failed password for root from 203.0.113.7 port 52113 ssh2"


def powershell(host):
    return json.dumps({"@timestamp": "2026-11-25T10:00:05Z", "host": {"name": host}, "EventID": 1,
                       "Image": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                       "CommandLine": "powershell.exe -nop -w hidden -enc SQBFAFgAIAA="})


def post_events(body, ctype):
    st, text = http("POST", "/api/v1/events", body, ctype)
    if st not in (200, 202):
        fail(f"POST /api/v1/events: {st} {text[:200]}")
    return json.loads(text)


def expect_close(w, code, what, deadline=10):
    w.sock.settimeout(deadline)
    try:
        while True:
            w.recv()
    except Closed as c:
        if c.code != code:
            fail(f"{what}: closed with {c.code} {c.reason!r}, want {code}")
        return c
    except OSError as e:
        fail(f"{what}: {e!r}, want close {code}")


def client(headers=AUTH, **kw):
    w = WS("127.0.0.1", PORT, headers=headers, **kw)
    hello = w.recv()
    if hello.get("type") != "hello":
        fail(f"first message {hello}, want hello")
    return w, hello


def subscribe(w, topics, flt=None):
    msg = {"type": "subscribe", "topics": topics}
    if flt is not None:
        msg["filter"] = flt
    w.send_json(msg)
    m = w.recv_type("subscribed", 5)
    if sorted(m["topics"]) != sorted(topics):
        fail(f"subscribed {m}, want topics {topics}")
    return m


# ---- 1. authentication --------------------------------------------------------
refused0 = metric('mwrasp_ws_refused_total{reason="auth"}')
try:
    WS("127.0.0.1", PORT, headers={"Authorization": "Bearer mwk_000000000000_" + "A" * 43})
    fail("an unknown API key in the upgrade request was accepted")
except HandshakeRefused as e:
    body = json.loads(e.body)
    if e.status != 401 or body["error"]["code"] != "unauthorized":
        fail(f"unknown key: {e.status} {e.body!r}, want 401 unauthorized")
    if KEY in e.body.decode():
        fail("the 401 body repeats the key")
ok("an unknown API key in the Authorization header: 401 with a JSON error, no upgrade")

w, hello = client(headers={})
if hello["authenticated"] is not False:
    fail(f"hello without credentials says authenticated: {hello}")
w.send_json({"type": "subscribe", "topics": ["threats"]})
expect_close(w, 1008, "subscribe before auth")
ok("no credentials: the upgrade is answered, but anything but an auth message closes 1008")

w, _ = client(headers={})
w.send_json({"type": "auth", "key": "mwk_000000000000_" + "B" * 43})
c = expect_close(w, 1008, "auth message with a bad key")
if "authentication failed" not in c.reason:
    fail(f"bad key reason {c.reason!r}")
ok("auth message with an unknown key: close 1008 'authentication failed'")

w, _ = client(headers={})
t0 = time.time()
expect_close(w, 1008, "no auth message", deadline=15)
dt = time.time() - t0
if not 4.0 <= dt <= 8.0:
    fail(f"auth timeout after {dt:.1f} s, want ~5 s")
ok(f"no auth message: close 1008 after {dt:.1f} s (api.ws_auth_timeout 5s)")
if metric('mwrasp_ws_refused_total{reason="auth"}') < refused0 + 3:
    fail("refusals not counted in mwrasp_ws_refused_total{reason=\"auth\"}")
if metric('mwrasp_ws_timeouts_total{reason="auth"}') < 1:
    fail("auth timeout not counted")
ok("refusals and the auth timeout are counted in /metrics")

# the browser way: header-less upgrade, then the key as the first message
crit, _ = client(headers={})
crit.send_json({"type": "auth", "key": KEY})
if crit.recv().get("type") != "authenticated":
    fail("auth message with the admin key not accepted")
ok("auth message with a valid key: authenticated")

# ---- 2. validation of client messages -------------------------------------------
bad0 = metric("mwrasp_ws_bad_messages_total")
for msg, code in [
    ({"type": "subscribe", "topics": ["threats"], "filter": {"severity": [7]}}, "bad_subscription"),
    ({"type": "subscribe", "topics": ["threats"], "filter": {"severity": []}}, "bad_subscription"),
    ({"type": "subscribe", "topics": ["threats", "threats"]}, "bad_subscription"),
    ({"type": "subscribe", "topics": ["news"]}, "bad_subscription"),
    ({"type": "subscribe", "topics": []}, "bad_subscription"),
    ({"type": "subscribe", "topics": ["threats"], "filter": {"colour": ["red"]}}, "bad_subscription"),
    ({"type": "subscribe", "topics": ["threats"], "filter": {"host": ["x" * 256]}}, "bad_subscription"),
    ({"type": "subscribe", "topics": ["threats"], "extra": 1}, "bad_subscription"),
    ({"type": "dance"}, "bad_message"),
    ({"no": "type"}, "bad_message"),
]:
    crit.send_json(msg)
    m = crit.recv_type("error", 5)
    if m["error"]["code"] != code or not m["error"]["message"]:
        fail(f"{msg}: answered {m}, want error {code}")
crit.frame(OP_TEXT, "{not json")
if crit.recv_type("error", 5)["error"]["code"] != "bad_message":
    fail("bad JSON not answered with bad_message")
if metric("mwrasp_ws_bad_messages_total") != bad0 + 11:
    fail("bad messages not counted")
ok("11 malformed messages: error messages (bad_subscription / bad_message), counted, connection kept")

# ---- 3. filters: a live threat of each severity, each client gets its own --------
subscribe(crit, ["threats"], {"severity": [1]})
high, _ = client()  # Authorization header on the upgrade
subscribe(high, ["threats"], {"host": ["WS-SSH-HOST"], "severity": [2, 3]})
post_events(ssh_line("ws-ssh-host"), "text/plain")
post_events(powershell("ws-ps-host"), "application/json")
m = crit.recv_type("threat", 10)
if m["event"] != "created" or m["threat"]["severity"] != 1 or m["threat"]["host"] != "ws-ps-host":
    fail(f"severity-1 subscriber got {m}")
if not isinstance(m["published_ns"], int) or abs(m["published_ns"] / 1e9 - time.time()) > 30:
    fail(f"published_ns {m['published_ns']}")
PS_ID = m["threat"]["id"]
m2 = high.recv_type("threat", 10)
if m2["threat"]["severity"] != 2 or m2["threat"]["host"] != "ws-ssh-host":
    fail(f"host+severity subscriber got {m2}")
for w, what in ((crit, "severity [1]"), (high, "host filter")):
    try:
        extra = w.recv_type("threat", 1.5)
        fail(f"{what} subscriber got a threat outside its filter: {extra}")
    except (TimeoutError, OSError):
        pass
ok("severity filter [1] gets only the critical threat, host+severity filter only the high one, live")

# acknowledging through the REST API is an 'updated' threat message
st, text = http("PATCH", f"/api/v1/threats/{PS_ID}", json.dumps({"status": "acknowledged"}))
if st != 200:
    fail(f"PATCH threat: {st} {text}")
m = crit.recv_type("threat", 5)
if m["event"] != "updated" or m["threat"]["id"] != PS_ID or m["threat"]["status"] != "acknowledged":
    fail(f"after PATCH got {m}")
ok("PATCH status=acknowledged is streamed as an 'updated' threat")

# ---- 4. metrics once per second, heartbeats -------------------------------------
subscribe(crit, ["metrics"])
crit.pings = 0
ticks = [crit.recv_type("metrics", 3) for _ in range(4)]
gaps = [(b["published_ns"] - a["published_ns"]) / 1e9 for a, b in zip(ticks, ticks[1:])]
if not all(0.8 <= g <= 1.2 for g in gaps):
    fail(f"metrics intervals {gaps}, want ~1 s")
t = ticks[-1]
for k in ("events_in_per_s", "threats_new_per_s", "detection_latency", "threats_created_by_severity"):
    if k not in t:
        fail(f"metrics message lacks {k}: {t}")
if t["threats_created_by_severity"]["critical"] < 1 or t["threats_created_by_severity"]["high"] < 1:
    fail(f"threats_created_by_severity {t['threats_created_by_severity']}")
ok(f"metrics messages every {', '.join(f'{g:.3f}' for g in gaps)} s with rates, severities, latency")
if crit.pings < 2:
    fail(f"{crit.pings} pings in ~3 s, want >= 2 (api.ws_ping_interval 1s)")
ok(f"{crit.pings} pings in ~3 s, answered with pongs: the connection stays")

mute, _ = client()
t0 = time.time()
mute.sock.settimeout(10)
try:
    while True:
        mute.recv(answer_pings=False)
except Closed as c:
    if c.code != 1008 or "pong" not in c.reason:
        fail(f"client that never pongs: close {c.code} {c.reason!r}")
dt = time.time() - t0
if not 5.5 <= dt <= 8.5:
    fail(f"no-pong close after {dt:.1f} s, want ping interval + pong timeout (1 + 6 s) at most")
ok(f"a client that never answers pings is closed 1008 'no pong' after {dt:.1f} s")

# ---- 5. bad frames -------------------------------------------------------------------
bf0 = metric('mwrasp_ws_bad_frames_total{reason="too_large"}')
w, _ = client()
w.frame(OP_TEXT, "x" * (64 * 1024 + 1))
expect_close(w, 1009, "a 64 KiB + 1 text frame")
w, _ = client()
w.frame(OP_TEXT, "[" + " " * 40000, fin=False)
w.frame(0, " " * 30000, fin=True)
expect_close(w, 1009, "a 70 KB message in two fragments")
if metric('mwrasp_ws_bad_frames_total{reason="too_large"}') != bf0 + 2:
    fail("too large frames not counted")
ok("frames / fragmented messages over api.ws_max_frame (64 KiB): close 1009, counted")
w, _ = client()
w.frame(OP_TEXT, b'{"type":"ping","x":"\xff\xfe"}')
expect_close(w, 1007, "invalid UTF-8 text")
w, _ = client()
w.frame(OP_BIN, b"\x00\x01")
expect_close(w, 1003, "binary message")
ok("invalid UTF-8 text: 1007; binary message: 1003")
w, _ = client()
w.send_json({"type": "auth", "key": "x"})  # already authenticated by header
if w.recv_type("error", 5)["error"]["code"] != "bad_message":
    fail("second auth not refused")
ok("a fragmented message under the limit is reassembled; the daemon keeps serving")
w.frame(OP_TEXT, '{"type":', fin=False)
w.frame(0, '"ping"}', fin=True)
if w.recv_type("pong", 5).get("type") != "pong":
    fail("fragmented ping not answered")

# ---- 6. a client that never reads is dropped; the others keep receiving --------------
drop0 = metric("mwrasp_ws_dropped_slow_clients_total")
slow, _ = client(rcvbuf=4096)
subscribe(slow, ["threats"])
fast, _ = client()
subscribe(fast, ["threats"], {"severity": [2]})
# The kernel takes several MB for a socket whose reader stalls (the send
# buffer grows to tcp_wmem's max, 4 MiB here): threats (~450 bytes each) are
# posted in bursts until the client is dropped, at most N, within the 6 s
# pong timeout that would otherwise close it first.
N = 40000
lines = [ssh_line(f"bulk-{i:05d}") for i in range(N)]
t0 = time.time()
got = set()
dropped_at = None


def read_fast(upto):
    fast.sock.settimeout(5)
    while len(got) < upto:
        m = fast.recv()
        if m.get("type") == "threat" and m["event"] == "created":
            got.add(m["threat"]["host"])


for k in range(0, N, 200):  # bursts under the queue of 256: a reading client keeps up
    post_events("\n".join(lines[k : k + 200]), "text/plain")
    read_fast(k + 200)
    if metric("mwrasp_ws_dropped_slow_clients_total") >= drop0 + 1:
        dropped_at = k + 200
        break
if dropped_at is None:
    fail(f"the client that never reads was not dropped after {N} threats")
# the dropped client reads at last (within the 5 s closing grace): what was
# in its socket, then the close frame
print(f"   (drop seen after {time.time() - t0:.1f} s, {dropped_at} threats)", flush=True)
n = 0
slow.sock.settimeout(10)
try:
    while True:
        slow.recv()
        n += 1
except Closed as c:
    if c.code != 1008 or "slow consumer" not in c.reason:
        fail(f"slow client: close {c.code} {c.reason!r}, want 1008 slow consumer")
    reason = c.reason
if n >= dropped_at:
    fail(f"slow client got all {n} messages before its close")
ok(f"a client that never reads was dropped after {dropped_at} threats; reading at last it finds "
   f"{n} messages then close 1008 '{reason}'")
for k in range(dropped_at, dropped_at + 1000, 200):
    post_events("\n".join(lines[k : k + 200]), "text/plain")
    read_fast(k + 200)
if len(got) != dropped_at + 1000:
    fail(f"the reading client got {len(got)} of {dropped_at + 1000} new threats")
ok(f"the reading client got all {len(got)} threats live meanwhile ({time.time() - t0:.1f} s)")
st, _ = http("GET", "/health/ready")
if st != 200:
    fail(f"/health/ready {st} after the slow client")
# a client that stops reading for good: its close frame cannot be written, so
# its connection is shut down 15 s after it was dropped
for cl in (crit, high, fast, slow, mute, w):
    cl.close()
for _ in range(100):
    if metric("mwrasp_ws_clients") == 0:
        break
    time.sleep(0.1)
else:
    fail(f"{metric('mwrasp_ws_clients')} clients left after closing all of them")
stale, _ = client(rcvbuf=4096)
subscribe(stale, ["threats"])
for k in range(0, N, 200):
    post_events("\n".join(ssh_line(f"stale-{i:05d}") for i in range(k, k + 200)), "text/plain")
    if metric("mwrasp_ws_dropped_slow_clients_total") >= drop0 + 2:
        break
else:
    fail("the second non-reading client was not dropped")
t1 = time.time()
for _ in range(300):
    if metric("mwrasp_ws_clients") == 0:
        break
    time.sleep(0.1)
else:
    fail("a dropped client that never reads still holds its slot 30 s later")
dt = time.time() - t1
# 5 s after its close frame went into the socket, or 15 s after the drop when
# the frame could not even be written
if not 4 <= dt <= 20:
    fail(f"the non-reading client lost its connection {dt:.1f} s after its drop, want 5..15 s")
ok(f"a dropped client that never reads loses its connection {dt:.1f} s after the drop")
stale.close()

# ---- 7. the cap on clients -------------------------------------------------------------
held = []
try:
    for i in range(100):
        held.append(client()[0])
    fail("100 clients accepted with api.ws_max_clients 24")
except HandshakeRefused as e:
    if e.status != 503 or json.loads(e.body)["error"]["code"] != "too_many_clients":
        fail(f"over the cap: {e.status} {e.body!r}")
    if "retry-after" not in e.headers:
        fail("503 without Retry-After")
open_now = metric("mwrasp_ws_clients")
if open_now != 24:
    fail(f"mwrasp_ws_clients {open_now} at the cap, want 24")
if metric('mwrasp_ws_refused_total{reason="full"}') < 1:
    fail("refusal over the cap not counted")
st, _ = http("GET", "/api/v1/threats?limit=1")
if st != 200:
    fail(f"REST API at the WebSocket cap: {st}")
ok(f"the {len(held) + 1}th client (cap 24 with those open) gets 503 too_many_clients + Retry-After; REST still answers")
for w in held:
    w.close()
print("ws_check: all checks passed")
