#!/usr/bin/env bash
# The demo sample generator and the benchmark load generator:
#  1. scripts/gen-sample.py writes well-formed JSON and syslog lines, is
#     deterministic for a seed, and holds each attack of the demo story;
#  2. replayed into mwraspd with the bundled rules, the sample becomes the
#     expected threats (one per attack step, the sprays folded);
#  3. loadgen: its events parse, its hit ratio is exact, sink-tcp receives
#     exactly what syslog-tcp sends, and the daemon stores every event that
#     syslog-tcp and http-ndjson send, with one detection per crafted hit.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

for b in mwraspd mwrasp loadgen; do
  [ -x "$MW_BIN/$b" ] || fail "$MW_BIN/$b is missing (build first)"
done

# --- 1. gen-sample.py output ----------------------------------------------
START=2026-01-15T09:00:00Z
python3 scripts/gen-sample.py --seed 1 --start $START --out "$TMP/s1.log"
python3 scripts/gen-sample.py --seed 1 --start $START > "$TMP/s1b.log"
python3 scripts/gen-sample.py --seed 2 --start $START --out "$TMP/s2.log"
cmp -s "$TMP/s1.log" "$TMP/s1b.log" || fail "gen-sample.py is not deterministic for --seed 1"
cmp -s "$TMP/s1.log" "$TMP/s2.log" && fail "gen-sample.py gives the same output for seeds 1 and 2"
pass "gen-sample.py is deterministic per seed (--out and stdout agree)"

python3 - "$TMP/s1.log" "$START" <<'PY' || fail "gen-sample.py output is not valid"
import base64, datetime as dt, json, re, sys
path, start = sys.argv[1], sys.argv[2]
t0 = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
rfc3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$")
# RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG
r5424 = re.compile(r"^<(\d{1,3})>1 (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32}) (-|\[.*?\]) (.*)$")
# RFC 3164: <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG
r3164 = re.compile(r"^<(\d{1,3})>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([ 1-3]\d) "
                   r"(\d\d:\d\d:\d\d) (\S+) ([A-Za-z0-9_.-]{1,32})\[(\d+)\]: (.+)$")
events, syslog, errors = [], [], []
last = None
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    line = line.rstrip("\n")
    if not line.strip():
        errors.append("%d: blank line" % n); continue
    if line.lstrip().startswith("{"):
        try:
            e = json.loads(line)
        except ValueError as x:
            errors.append("%d: bad JSON: %s" % (n, x)); continue
        for k in ("@timestamp", "host.name", "EventID", "Channel", "Computer"):
            if k not in e:
                errors.append("%d: no %s" % (n, k))
        if not rfc3339.match(str(e.get("@timestamp", ""))):
            errors.append("%d: @timestamp not RFC 3339" % n); continue
        t = dt.datetime.fromisoformat(e["@timestamp"].replace("Z", "+00:00"))
        events.append(e)
    else:
        m = r5424.match(line)
        if m:
            if not rfc3339.match(m.group(2)):
                errors.append("%d: RFC 5424 timestamp %r" % (n, m.group(2))); continue
            t = dt.datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
            app, msg = m.group(4), m.group(8)
        else:
            m = r3164.match(line)
            if not m:
                errors.append("%d: neither JSON nor RFC 5424/3164 syslog: %r" % (n, line[:80])); continue
            t = dt.datetime.strptime("%d %s %s %s" % (t0.year, m.group(2), m.group(3).strip(), m.group(4)),
                                     "%Y %b %d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
            app, msg = m.group(6), m.group(8)
        pri = int(m.group(1))
        if pri > 191:
            errors.append("%d: PRI %d > 191" % (n, pri))
        syslog.append((t, app, msg))
    if not (t0 <= t <= t0 + dt.timedelta(minutes=10)):
        errors.append("%d: time %s outside [start, start+10m]" % (n, t))
    if last and t < last - dt.timedelta(seconds=1):  # RFC 3164 has whole seconds only
        errors.append("%d: out of time order" % n)
    last = max(t, last) if last else t
total = len(events) + len(syslog)
if not 500 <= total <= 2000:
    errors.append("%d events, want 500..2000" % total)

# the password spray: >= 20 distinct users from one address against one host within 60 s
spray = [e for e in events if e["EventID"] == 4625 and e.get("LogonType") == 3]
ips = {e["IpAddress"] for e in spray}
hosts = {e["Computer"] for e in spray}
users = {e["TargetUserName"] for e in spray}
times = sorted(dt.datetime.fromisoformat(e["@timestamp"].replace("Z", "+00:00")) for e in spray)
if not (len(ips) == 1 and len(hosts) == 1 and len(users) >= 20 and len(users) == len(spray)
        and times and (times[-1] - times[0]).total_seconds() <= 60):
    errors.append("password spray: %d events, ips %s, hosts %s, %d users" % (len(spray), ips, hosts, len(users)))
# the SSH spray
ssh = [m for (_, a, m) in syslog if a == "sshd" and m.startswith("Failed password for invalid user ")]
if len(ssh) < 10 or len({m.split()[5] for m in ssh}) != len(ssh):
    errors.append("ssh spray: %d lines" % len(ssh))
# encoded PowerShell with real base64 of UTF-16LE text
ps = [e for e in events if e["EventID"] == 1 and e["Image"].lower().endswith("\\powershell.exe")
      and " -enc " in e["CommandLine"]]
if len(ps) != 1:
    errors.append("encoded powershell: %d events" % len(ps))
else:
    cl = ps[0]["CommandLine"]
    if not ("-nop" in cl and "-w hidden" in cl):
        errors.append("powershell command line lacks -nop -w hidden")
    script = base64.b64decode(cl.split(" -enc ")[1].split()[0], validate=True).decode("utf-16-le")
    if "DownloadString" not in script:
        errors.append("decoded script: %r" % script)
# the new service from a temp dir
svc = [e for e in events if e["EventID"] == 7045]
if len(svc) != 1 or "\\Temp\\" not in svc[0]["ImagePath"] or not svc[0].get("ServiceName") \
        or svc[0].get("Channel") != "System":
    errors.append("new service: %r" % svc)
# benign noise dominates
benign = sum(1 for e in events if e["EventID"] in (4624, 1)) + \
    sum(1 for (_, a, m) in syslog if m.startswith("Accepted "))
if benign < total // 2:
    errors.append("only %d benign events of %d" % (benign, total))
for e in errors[:20]:
    print("gen-sample:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
pass "gen-sample.py: every line is JSON or RFC 5424/3164 syslog, in order, within 10 min; all attacks present"

python3 scripts/gen-sample.py --start nonsense >/dev/null 2>&1 && fail "gen-sample.py accepted --start nonsense"
pass "gen-sample.py refuses a bad --start"

# --- 2. the sample through the daemon with the bundled rules -----------------
write_config "$(pwd)/rules"
start_daemon
python3 scripts/gen-sample.py --out "$TMP/sample.log"   # default start: recent
"$MW_BIN/mwrasp" replay "$TMP/sample.log" --url "$URL" > "$TMP/replay.out" 2>&1 \
  || fail "mwrasp replay: $(cat "$TMP/replay.out")"
n=$(wc -l < "$TMP/sample.log")
stored() { curl -fsS "$URL/api/v1/metrics" | json_get "d['events_stored']"; }
wait_for "all $n sample events stored" test "$(stored)" -ge "$n"
curl -fsS "$URL/api/v1/threats?limit=1000" > "$TMP/threats.json"
python3 - "$TMP/threats.json" <<'PY' || fail "sample threats differ: $(cat "$TMP/threats.json")"
import json, sys
th = json.load(open(sys.argv[1]))["threats"]
got = {(t["rule_id"], t["host"]): t["count"] for t in th}
want = {
    ("19f93da9-d585-40e8-a5c1-75f6ab71812d", "DC-01.corp.example.com"): 34,  # password spray
    ("62eb18ea-803b-48f9-9acb-f63580ce34f9", "bastion-01"): 20,              # SSH spray
    ("435ba1ca-f9dc-43f1-a9f9-40d7284643a5", "WS-042.corp.example.com"): 1,  # encoded PowerShell
    ("64073cfd-d619-49b6-b9ed-43adf30bcb60", "WS-042.corp.example.com"): 1,  # whoami /priv
    ("9029d447-9c2a-4d84-9f8b-74aa8f682d41", "APP-02.corp.example.com"): 1,  # new service
    ("cf475df7-8ceb-4e58-8cf6-576aa0332e9f", "APP-02.corp.example.com"): 1,  # ... from Temp
}
if got != want:
    for k in sorted(set(got) | set(want)):
        if got.get(k) != want.get(k):
            print("threat %s on %s: got count %s, want %s" % (k[0], k[1], got.get(k), want.get(k)),
                  file=sys.stderr)
    sys.exit(1)
PY
pass "demo sample -> 6 threats from the bundled rules (sprays folded: 34 and 20)"

# --- 3. loadgen ------------------------------------------------------------
"$MW_BIN/loadgen" print json --count 10000 --rules-hit-ratio 0.05 > "$TMP/lg.json"
"$MW_BIN/loadgen" print syslog --count 10000 --rules-hit-ratio 0.05 > "$TMP/lg.syslog"
python3 - "$TMP/lg.json" "$TMP/lg.syslog" <<'PY' || fail "loadgen print output is not valid"
import json, re, sys
errors = []
lens, hits = [], 0
for n, line in enumerate(open(sys.argv[1]), 1):
    e = json.loads(line)
    lens.append(len(line) - 1)
    for k in ("@timestamp", "host.name", "EventID", "Channel"):
        if k not in e: errors.append("json %d: no %s" % (n, k))
    hits += e["EventID"] == 1 and " -enc " in e.get("CommandLine", "")
if abs(hits - 500) > 2: errors.append("json hits %d, want 500" % hits)
syslog = re.compile(r"^<\d{1,3}>(1 \d{4}-\d\d-\d\dT\S+ \S+ \S+ \d+ - (-|\[.*?\]) |"
                    r"[A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \S+ [a-z]+(\[\d+\])?: ).+$")
shits = 0
for n, line in enumerate(open(sys.argv[2]), 1):
    line = line.rstrip("\n")
    lens.append(len(line))
    if not syslog.match(line): errors.append("syslog %d: %r" % (n, line[:100]))
    shits += " sshd" in line and "Failed password for invalid user" in line
if abs(shits - 500) > 2: errors.append("syslog hits %d, want 500" % shits)
lens.sort()
med = lens[len(lens) // 2]
if not (100 <= lens[0] and lens[-1] <= 600 and 200 <= med <= 400):
    errors.append("lengths min %d median %d max %d" % (lens[0], med, lens[-1]))
for e in errors[:20]: print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
pass "loadgen print: valid JSON and syslog, hit ratio kept, 200-400 bytes typical"

"$MW_BIN/loadgen" sink-tcp 0 --count 300000 > "$TMP/sink.json" 2> "$TMP/sink.err" &
SINK=$!
for _ in $(seq 1 100); do grep -q listening "$TMP/sink.err" 2>/dev/null && break; sleep 0.05; done
SPORT=$(json_get "d['listening']" < "$TMP/sink.err")
"$MW_BIN/loadgen" syslog-tcp "127.0.0.1:$SPORT" --count 300000 --connections 3 > "$TMP/send.json" \
  || fail "loadgen syslog-tcp into the sink failed"
wait $SINK || fail "sink-tcp did not get 300000 lines: $(cat "$TMP/sink.json")"
[ "$(json_get "d['received']" < "$TMP/sink.json")" = 300000 ] || fail "sink: $(cat "$TMP/sink.json")"
[ "$(json_get "d['bytes']" < "$TMP/sink.json")" = "$(json_get "d['bytes']" < "$TMP/send.json")" ] \
  || fail "sink bytes != sent bytes"
pass "loadgen sink-tcp receives exactly what syslog-tcp sends (3 connections)"

"$MW_BIN/loadgen" syslog-tcp 127.0.0.1:1 --count 10 >/dev/null 2>&1 && fail "loadgen succeeded against a closed port"
pass "loadgen fails on a refused connection"

det() { curl -fsS "$URL/api/v1/metrics" | json_get "d['detections']"; }
d0=$(det)
"$MW_BIN/loadgen" syslog-tcp "127.0.0.1:$SYSLOG_PORT" --count 20000 --connections 2 --rules-hit-ratio 0.01 \
  --wait-metrics "$URL/api/v1/metrics" --timeout 60 > "$TMP/tcp.json" || fail "syslog-tcp run: $(cat "$TMP/tcp.json")"
[ "$(json_get "d['stored']" < "$TMP/tcp.json")" = 20000 ] || fail "syslog-tcp: $(cat "$TMP/tcp.json")"
hits=$(json_get "d['hits']" < "$TMP/tcp.json")
wait_for "syslog-tcp detections" test "$(( $(det) - d0 ))" = "$hits"
pass "loadgen syslog-tcp -> daemon: 20000 stored, $hits detections = hits"

d0=$(det)
"$MW_BIN/loadgen" http-ndjson "$URL/api/v1/events" --count 10000 --batch 500 --connections 2 \
  --rules-hit-ratio 0.02 --wait-metrics "$URL/api/v1/metrics" --timeout 60 > "$TMP/http.json" \
  || fail "http-ndjson run: $(cat "$TMP/http.json")"
[ "$(json_get "d['stored']" < "$TMP/http.json")" = 10000 ] || fail "http-ndjson: $(cat "$TMP/http.json")"
[ "$(json_get "d['batches']" < "$TMP/http.json")" = 20 ] || fail "http-ndjson batches: $(cat "$TMP/http.json")"
hits=$(json_get "d['hits']" < "$TMP/http.json")
wait_for "http-ndjson detections" test "$(( $(det) - d0 ))" = "$hits"
pass "loadgen http-ndjson -> daemon: 10000 stored in 20 acknowledged batches, $hits detections = hits"

# --- 3b. the same with the bench rules: each crafted hit fires exactly one ---
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
mkdir -p "$TMP/brules"
bash scripts/gen-bench-rules.sh 100 "$TMP/brules/bench" >/dev/null
cp -r rules/. "$TMP/brules/bundled"
write_config "$TMP/brules"
start_daemon
[ "$(curl -fsS "$URL/api/v1/metrics" | json_get "d['rules_loaded']")" -ge 110 ] || fail "bench rules not loaded"
d0=$(det)
"$MW_BIN/loadgen" syslog-tcp "127.0.0.1:$SYSLOG_PORT" --count 20000 --rules-hit-ratio 0.01 --bench-rules 100 \
  --wait-metrics "$URL/api/v1/metrics" --timeout 60 > "$TMP/btcp.json" || fail "bench syslog-tcp: $(cat "$TMP/btcp.json")"
"$MW_BIN/loadgen" http-ndjson "$URL/api/v1/events" --count 20000 --rules-hit-ratio 0.01 --bench-rules 100 \
  --wait-metrics "$URL/api/v1/metrics" --timeout 60 > "$TMP/bhttp.json" || fail "bench http-ndjson: $(cat "$TMP/bhttp.json")"
hits=$(( $(json_get "d['hits']" < "$TMP/btcp.json") + $(json_get "d['hits']" < "$TMP/bhttp.json") ))
[ "$hits" -gt 300 ] || fail "only $hits hits crafted"
wait_for "bench detections" test "$(( $(det) - d0 ))" = "$hits"
pass "loadgen --bench-rules 100 against scripts/gen-bench-rules.sh + bundled rules: $hits hits = detections"

# --- 4. bench/report.py latency quantiles from two histogram snapshots -------
cat > "$TMP/h0.txt" <<'PROM'
mwrasp_event_latency_seconds_bucket{le="0.001"} 10
mwrasp_event_latency_seconds_bucket{le="0.002"} 10
mwrasp_event_latency_seconds_bucket{le="+Inf"} 10
PROM
cat > "$TMP/h1.txt" <<'PROM'
# TYPE mwrasp_event_latency_seconds histogram
mwrasp_event_latency_seconds_bucket{le="0.001"} 60
mwrasp_event_latency_seconds_bucket{le="0.002"} 110
mwrasp_event_latency_seconds_bucket{le="+Inf"} 110
mwrasp_event_latency_seconds_count 110
PROM
q=$(python3 bench/report.py quantiles "$TMP/h0.txt" "$TMP/h1.txt")
echo "$q" | python3 -c "
import json,sys; d=json.load(sys.stdin)
assert d['count']==100, d
assert abs(d['p50']-0.001)<1e-12 and d['p50_exact'], d           # rank 50 = top of bucket 1
assert abs(d['p99']-0.00198)<1e-12 and d['p99_exact'], d         # 1 ms + 1 ms * 49/50
" || fail "report.py quantiles: $q"
printf 'mwrasp_event_latency_seconds_bucket{le="0.001"} 60\nmwrasp_event_latency_seconds_bucket{le="0.002"} 60\nmwrasp_event_latency_seconds_bucket{le="+Inf"} 110\n' > "$TMP/h2.txt"
q=$(python3 bench/report.py quantiles "$TMP/h0.txt" "$TMP/h2.txt")
echo "$q" | python3 -c "
import json,sys; d=json.load(sys.stdin)
assert abs(d['p50']-0.001)<1e-12 and d['p50_exact'], d
assert d['p99']==0.002 and not d['p99_exact'], d                 # in +Inf: '> 2 ms'
" || fail "report.py quantiles (+Inf): $q"
pass "report.py: histogram quantiles interpolate inside buckets, +Inf reported as a lower bound"
