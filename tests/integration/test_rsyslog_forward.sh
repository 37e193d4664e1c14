#!/usr/bin/env bash
# A real rsyslog forwards to mwraspd, the way a site would point its log
# relay at MWRASP: rsyslogd (started here, unprivileged config, loopback only)
# receives messages from `logger` on UDP and forwards them to mwraspd's syslog
# TCP listener with RFC 6587 octet-counting and RFC 5424 (and a second action
# with newline framing and the traditional RFC 3164 format). Both must arrive
# as events with the right host and program, and become threats.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

command -v rsyslogd >/dev/null || fail "rsyslogd is not installed (scripts/install-deps.sh installs it)"
cp -r tests/integration/rules "$TMP/rules"
write_config "$TMP/rules"
start_daemon
RS_PORT=$(free_port)
mkdir -p "$TMP/rsyslog"
cat > "$TMP/rsyslog.conf" <<CONF
global(workDirectory="$TMP/rsyslog" localHostname="relay-host")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$RS_PORT" ruleset="fwd")
ruleset(name="fwd") {
  if \$programname == "sshd" then {
    action(type="omfwd" target="127.0.0.1" port="$SYSLOG_PORT" protocol="tcp"
           TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format")
  } else {
    action(type="omfwd" target="127.0.0.1" port="$SYSLOG_PORT" protocol="tcp"
           template="RSYSLOG_ForwardFormat")
  }
}
CONF
rsyslogd -N1 -f "$TMP/rsyslog.conf" > "$TMP/rsyslog-check.log" 2>&1 || { cat "$TMP/rsyslog-check.log"; fail "rsyslog config invalid"; }
rsyslogd -n -f "$TMP/rsyslog.conf" -i "$TMP/rsyslog.pid" > "$TMP/rsyslog.log" 2>&1 &
RS_PID=$!
trap 'kill $RS_PID 2>/dev/null; cleanup' EXIT
sleep 0.5
kill -0 $RS_PID 2>/dev/null || { cat "$TMP/rsyslog.log"; fail "rsyslogd did not start"; }

SSH_RULE=5b0a1c2e-0000-4000-8000-00000000e2e1
threat_count_for() { curl -fsS "$URL/api/v1/threats?limit=1000&host=$1" | json_get "next((t['count'] for t in d['threats'] if t['rule_id']=='$2'), 0)"; }
received() { curl -fsS "$URL/metrics" | awk '$1=="mwrasp_events_received_total{source=\"syslog_tcp\"}" {print $2}'; }

# logger puts this machine's host name in each message; rsyslog relays it unchanged.
for i in 1 2 3; do
  logger --udp -n 127.0.0.1 -P "$RS_PORT" -t sshd "Failed password for invalid user u$i from 198.51.100.$i port 22 ssh2"
done
logger --udp -n 127.0.0.1 -P "$RS_PORT" -t cron "(root) CMD (run-parts /etc/cron.hourly)"

wait_for "4 forwarded events received" test "$(received)" -ge 4
host=$(hostname)
wait_for "sshd threat via rsyslog (octet-counted RFC 5424)" test "$(threat_count_for "$host" $SSH_RULE)" = 3
pass "rsyslog -> mwraspd, octet-counted RFC 5424: 3 sshd failures fold into one threat for $host"
rej=$(curl -fsS "$URL/metrics" | awk '$1 ~ /^mwrasp_events_rejected_total\{source="syslog_tcp"/ {s+=$2} END {print s+0}')
[ "$rej" = 0 ] || fail "$rej forwarded messages were refused"
pass "rsyslog -> mwraspd, newline-framed RFC 3164 (cron): received, nothing refused"
