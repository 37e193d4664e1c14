#!/usr/bin/env bash
# End to end: mwraspd on the embedded default receives events over syslog UDP,
# syslog TCP (octet-counting and newline framing), JSON-TCP and HTTP; they
# become the expected threats in the API; bad input is refused and counted;
# an acknowledged HTTP batch survives kill -9; SIGHUP reloads rules; SIGTERM
# drains and exits cleanly.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

cp -r tests/integration/rules "$TMP/rules"
write_config "$TMP/rules"
start_daemon

send_udp() { python3 -c "import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.sendto(sys.argv[2].encode(),('127.0.0.1',int(sys.argv[1])))" "$@"; }
# send_tcp PORT: stdin bytes to a TCP port, then close.
send_tcp() { python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',int(sys.argv[1]))); s.sendall(sys.stdin.buffer.read()); s.close()" "$1"; }
threats_json() { curl -fsS "$URL/api/v1/threats?limit=1000$1"; }
threat_count_for() { # HOST RULE_ID -> "count" of the newest matching threat or 0
  threats_json "&host=$1" | json_get "next((t['count'] for t in d['threats'] if t['rule_id']=='$2'), 0)"; }
metric() { curl -fsS "$URL/metrics" | awk -v m="$1" '$1==m {print $2}'; }
SSH_RULE=5b0a1c2e-0000-4000-8000-00000000e2e1
PS_RULE=5b0a1c2e-0000-4000-8000-00000000e2e2

# --- 1. four intake paths -----------------------------------------------
send_udp "$SYSLOG_PORT" '<38>1 2026-11-25T10:00:00.000Z udp-host sshd 812 - - Failed password for root from 203.0.113.7 port 4022 ssh2'
m1='<38>1 2026-11-25T10:00:01Z tcp-oc-host sshd 77 - [origin ip="192.0.2.1"] Failed password for invalid user admin from 203.0.113.8 port 1 ssh2'
m2='<38>1 2026-11-25T10:00:02Z tcp-oc-host sshd 77 - - Failed password for invalid user oracle from 203.0.113.8 port 2 ssh2'
printf '%d %s%d %s' "${#m1}" "$m1" "${#m2}" "$m2" | send_tcp "$SYSLOG_PORT"
printf '<38>Nov 25 10:00:03 tcp-nl-host sshd[99]: Failed password for bob from 198.51.100.2 port 5 ssh2\n<30>Nov 25 10:00:04 tcp-nl-host systemd[1]: Started Session 3 of user bob.\n' | send_tcp "$SYSLOG_PORT"
printf '%s\n' '{"@timestamp":"2026-11-25T10:00:05Z","host":{"name":"json-host"},"EventID":1,"Image":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","CommandLine":"powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="}' | send_tcp "$JSON_PORT"
code=$(curl -s -o "$TMP/post.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary '[{"host.name":"http-host","message":"sshd: Failed password for root"},{"host.name":"http-host","message":"Failed password for admin"},{"host.name":"http-host","message":"all good"}]' \
  "$URL/api/v1/events")
[ "$code" = 202 ] || fail "POST /api/v1/events answered $code: $(cat "$TMP/post.json")"
[ "$(json_get "d['accepted']" < "$TMP/post.json")" = 3 ] || fail "POST accepted != 3: $(cat "$TMP/post.json")"

wait_for "udp threat" test "$(threat_count_for udp-host $SSH_RULE)" = 1
pass "syslog UDP (RFC 5424) -> threat"
wait_for "tcp octet-counting threat folded x2" test "$(threat_count_for tcp-oc-host $SSH_RULE)" = 2
pass "syslog TCP octet-counting, 2 frames -> one threat, count 2"
wait_for "tcp newline threat" test "$(threat_count_for tcp-nl-host $SSH_RULE)" = 1
pass "syslog TCP newline framing (RFC 3164) -> threat"
wait_for "json-tcp threat" test "$(threat_count_for json-host $PS_RULE)" = 1
pass "JSON-TCP -> threat (critical rule, ATT&CK tags kept)"
[ "$(threat_count_for http-host $SSH_RULE)" = 2 ] || fail "HTTP threat count != 2"
pass "HTTP batch acknowledged after commit -> one threat, count 2"
sev=$(threats_json "&host=json-host" | json_get "d['threats'][0]['severity']")
[ "$sev" = 1 ] || fail "critical rule gave severity $sev"
tags=$(threats_json "&host=json-host" | json_get "','.join(d['threats'][0]['tags']) + ' ' + d['threats'][0]['type']")
[ "$tags" = "attack.execution execution" ] || fail "threat tags/type: '$tags'"
n=$(threats_json "&severity=1" | json_get "len(d['threats'])")
[ "$n" = 1 ] || fail "severity=1 filter returned $n threats"
pass "severity filter"

# --- 2. bad input ---------------------------------------------------------
code=$(curl -s -o "$TMP/bad.json" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary '{"broken": ' "$URL/api/v1/events")
[ "$code" = 400 ] || fail "invalid JSON body answered $code"
json_get "d['error']['code'] + ' ' + d['error']['message']" < "$TMP/bad.json" >/dev/null || fail "400 without JSON error body"
[ "$(metric mwrasp_api_bad_body_total)" -ge 1 ] || fail "api_bad_body counter not bumped"
pass "invalid JSON body -> 400 with JSON error, counted"
big=$(head -c 70000 /dev/zero | tr '\0' 'a')
printf '{"host":"big","m":"%s"}\n{"host":"after-big","message":"Failed password for x"}\nnot json at all\n' "$big" | send_tcp "$JSON_PORT"
wait_for "event after an oversized line" test "$(threat_count_for after-big $SSH_RULE)" = 1
[ "$(metric 'mwrasp_events_rejected_total{source="json_tcp",reason="too_large"}')" -ge 1 ] || fail "too_large not counted"
[ "$(metric 'mwrasp_events_rejected_total{source="json_tcp",reason="parse"}')" -ge 1 ] || fail "JSON parse error not counted"
pass "oversized and invalid JSON lines refused and counted; the connection goes on"
printf '<999>1 bad\n<13>Nov 25 10:00:09 tcp-nl-host app: fine\n' | send_tcp "$SYSLOG_PORT"
wait_for "syslog parse reject counted" test "$(metric 'mwrasp_events_rejected_total{source="syslog_tcp",reason="parse"}')" -ge 1
pass "malformed syslog refused and counted"

# --- 3. kill -9 right after an acknowledged batch -------------------------
python3 - "$TMP/batch.ndjson" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write(json.dumps({"host.name": "dur-host", "seq": i, "marker": "durability-7f3a",
                            "message": "Failed password for user%d" % i}) + "\n")
PY
code=$(curl -s -o "$TMP/dur.json" -w '%{http_code}' -H 'Content-Type: application/x-ndjson' --data-binary "@$TMP/batch.ndjson" "$URL/api/v1/events")
kill -KILL "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
[ "$code" = 202 ] || fail "durability batch answered $code"
[ "$(json_get "d['accepted']" < "$TMP/dur.json")" = 2000 ] || fail "durability batch not fully accepted"
# Raw events are packed in event_segments (format: docs/internals/store.md);
# decode them here, independently of the C decoder, and count the marker.
stored=$(python3 - "$TMP/mwrasp.db" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
count = 0
for first_id, n, data in db.execute("SELECT first_id, n, data FROM event_segments ORDER BY first_id"):
    assert data[0] == 1, "segment format version"
    p = 1
    for _ in range(n):
        p += 16                                   # ts_ns, ingest_ns
        for _ in range(3):                        # source, host, category
            p += 1 + data[p]
        (raw_len,) = struct.unpack_from("<I", data, p)
        raw = data[p + 4:p + 4 + raw_len]
        assert len(raw) == raw_len, "truncated segment %d" % first_id
        p += 4 + raw_len
        count += b"durability-7f3a" in raw
    assert p == len(data), "trailing bytes in segment %d" % first_id
print(count)
PY
)
[ "$stored" = 2000 ] || fail "after kill -9: $stored of 2000 acknowledged events in the store"
start_daemon
[ "$(threat_count_for dur-host $SSH_RULE)" = 2000 ] || fail "after kill -9: threat count $(threat_count_for dur-host $SSH_RULE), want 2000"
for h in udp-host tcp-oc-host tcp-nl-host http-host; do
  [ "$(threat_count_for $h $SSH_RULE)" != 0 ] || fail "after restart: threat of $h missing"
done
pass "kill -9 after an acknowledged batch: all 2000 events and every threat are there after restart"
curl -fsS -H 'Content-Type: application/json' --data-binary '{"host.name":"dur-host","message":"Failed password again"}' "$URL/api/v1/events" >/dev/null
[ "$(threat_count_for dur-host $SSH_RULE)" = 2001 ] || fail "detection after restart did not fold into the open threat"
pass "after restart, new detections fold into the threat still in its window"

# --- 4. PATCH status; a resolved threat is not folded into -----------------
tid=$(threats_json "&host=udp-host" | json_get "d['threats'][0]['id']")
code=$(curl -s -o "$TMP/patch.json" -w '%{http_code}' -X PATCH -H 'Content-Type: application/json' --data-binary '{"status":"resolved"}' "$URL/api/v1/threats/$tid")
[ "$code" = 200 ] || fail "PATCH answered $code: $(cat "$TMP/patch.json")"
[ "$(json_get "d['status']" < "$TMP/patch.json")" = resolved ] || fail "PATCH did not set the status"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Type: application/json' --data-binary '{"status":"bogus"}' "$URL/api/v1/threats/$tid")
[ "$code" = 400 ] || fail "PATCH with a bad status answered $code"
send_udp "$SYSLOG_PORT" '<38>1 2026-11-25T10:00:30Z udp-host sshd 812 - - Failed password for root from 203.0.113.7 port 4023 ssh2'
wait_for "new threat after resolve" test "$(threats_json "&host=udp-host" | json_get "len(d['threats'])")" = 2
pass "PATCH status; a detection after 'resolved' opens a new threat"

# --- 5. SIGHUP reloads rules -----------------------------------------------
cat > "$TMP/rules/reload.yml" <<'YAML'
title: E2E reload rule
id: 5b0a1c2e-0000-4000-8000-00000000e2e3
level: medium
logsource: {product: test}
detection:
  selection:
    message|contains: reload-marker-91
  condition: selection
YAML
kill -HUP "$DAEMON_PID"
wait_for "reload" grep -q "rules reloaded" "$TMP/daemon.log"
curl -fsS -H 'Content-Type: application/json' --data-binary '{"host.name":"hup-host","message":"x reload-marker-91 y"}' "$URL/api/v1/events" >/dev/null
[ "$(threat_count_for hup-host 5b0a1c2e-0000-4000-8000-00000000e2e3)" = 1 ] || fail "rule added before SIGHUP did not fire"
pass "SIGHUP reloads rules"

# --- 6. SIGTERM drains and exits 0 ------------------------------------------
kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
[ "$rc" = 0 ] || fail "mwraspd exited with $rc on SIGTERM"
grep -q "stopped cleanly" "$TMP/daemon.log" || fail "no clean-stop log line"
pass "SIGTERM: drained and exited 0"
echo "e2e: all checks passed"
