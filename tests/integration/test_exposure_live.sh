#!/usr/bin/env bash
# Issue 5: captures we make ourselves. OpenSSL's s_server/s_client and
# OpenSSH's sshd/ssh talk on 127.0.0.1 with chosen groups, cipher suites and
# kex algorithms while tcpdump records lo; `mwrasp exposure scan --json` must
# report each handshake as negotiated:
#   TLS 1.3 X25519 / P-256 / ffdhe2048 -> 0x001d / 0x0017 / 0x0100, classical
#   TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 -> ECDHE, x25519; DHE -> DHE 2048 bits;
#   TLS 1.2 AES128-GCM-SHA256 -> RSA key transport, the RSA-2048 certificate
#   SSH sntrup761x25519-sha512@openssh.com -> pq-hybrid; curve25519-sha256 -> classical
# and count the application bytes after a classical handshake as exposed.
# Skipped (with the reason) without root / CAP_NET_RAW or the tools.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

skip() { echo "SKIP: $*"; exit 0; }
for t in openssl tcpdump ssh sshd ssh-keygen ss; do
  command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || skip "$t is not installed (scripts/install-deps.sh installs it)"
done
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
if [ "$(id -u)" != 0 ] && ! (command -v capsh >/dev/null && capsh --print | grep -q 'Current:.*cap_net_raw'); then
  skip "capturing on lo needs root or CAP_NET_RAW"
fi
MWRASP="$MW_BIN/mwrasp"
[ -x "$MWRASP" ] || fail "$MWRASP is not built"

# our background processes end with the test, whatever happens
PIDS=()
live_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  cleanup
}
trap live_cleanup EXIT

# wait_listen PORT: until something listens on 127.0.0.1:PORT (no probe connection)
wait_listen() {
  for _ in $(seq 1 100); do
    ss -Htln "sport = :$1" | grep -q . && return 0
    sleep 0.05
  done
  fail "nothing listens on port $1"
}

# throwaway keys: an RSA-2048 certificate for TLS, an ed25519 host key for SSH
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
  -days 1 -subj /CN=localhost -sha256 2>/dev/null || fail "openssl req"
ssh-keygen -q -t ed25519 -N '' -f "$TMP/hostkey" || fail "ssh-keygen"
head -c 13500 /dev/urandom | od -An -tx1 -v | tr -d " " >"$TMP/data" # 27.9 KB of hex lines the client sends after the handshake

# case NAME PORT SERVER-ARGS -- CLIENT-ARGS
declare -A PORT
NAMES=(t13-x25519 t13-p256 t13-ffdhe2048 t12-ecdhe t12-dhe t12-rsa ssh-sntrup ssh-curve25519)
for n in "${NAMES[@]}"; do PORT[$n]=$(free_port); done
FILTER="tcp and host 127.0.0.1 and ($(for n in "${NAMES[@]}"; do printf 'port %s or ' "${PORT[$n]}"; done) port 1)"

tcpdump -i lo --immediate-mode -U -s 0 -w "$TMP/live.pcap" "$FILTER" 2>"$TMP/tcpdump.err" &
TCPDUMP=$!
PIDS+=("$TCPDUMP")
for _ in $(seq 1 100); do grep -q 'listening on' "$TMP/tcpdump.err" && break; sleep 0.05; done
grep -q 'listening on' "$TMP/tcpdump.err" || { kill "$TCPDUMP" 2>/dev/null; cat "$TMP/tcpdump.err"; skip "tcpdump cannot capture on lo here"; }

tls_case() { # NAME SERVER-ARGS... -- CLIENT-ARGS...
  local name=$1; shift
  local sargs=() cargs=()
  while [ "$1" != -- ]; do sargs+=("$1"); shift; done; shift
  cargs=("$@")
  local p=${PORT[$name]}
  openssl s_server -accept "127.0.0.1:$p" -cert "$TMP/cert.pem" -key "$TMP/key.pem" -naccept 1 -rev \
    -quiet "${sargs[@]}" </dev/null >"$TMP/$name.server" 2>&1 &
  local spid=$!
  PIDS+=("$spid")
  wait_listen "$p"
  timeout 20 openssl s_client -connect "127.0.0.1:$p" -no_ign_eof -nocommands "${cargs[@]}" <"$TMP/data" \
    >"$TMP/$name.client" 2>&1 || { cat "$TMP/$name.client" >&2; fail "$name: s_client failed"; }
  timeout 10 tail --pid="$spid" -f /dev/null || kill "$spid" 2>/dev/null || true
}

tls_case t13-x25519 -tls1_3 -groups X25519 -- -tls1_3 -groups X25519
tls_case t13-p256 -tls1_3 -groups P-256 -- -tls1_3 -groups P-256
tls_case t13-ffdhe2048 -tls1_3 -groups ffdhe2048 -- -tls1_3 -groups ffdhe2048
tls_case t12-ecdhe -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 -- -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
tls_case t12-dhe -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256 -- -tls1_2 -cipher DHE-RSA-AES128-GCM-SHA256
tls_case t12-rsa -tls1_2 -cipher AES128-GCM-SHA256 -- -tls1_2 -cipher AES128-GCM-SHA256

mkdir -p /run/sshd 2>/dev/null || true
ssh_case() { # NAME KEX
  local name=$1 kex=$2 p=${PORT[$1]}
  cat >"$TMP/$name.sshd_config" <<CFG
ListenAddress 127.0.0.1
Port $p
HostKey $TMP/hostkey
PidFile none
UsePAM no
KexAlgorithms $kex
LogLevel ERROR
CFG
  "$SSHD" -D -e -f "$TMP/$name.sshd_config" >"$TMP/$name.sshd.log" 2>&1 &
  local spid=$!
  PIDS+=("$spid")
  wait_listen "$p"
  # authentication fails (no key, batch mode): the key exchange is all we need
  timeout 20 ssh -F /dev/null -p "$p" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o KexAlgorithms="$kex" -o PreferredAuthentications=publickey \
    -o IdentityFile="$TMP/nokey" -o LogLevel=ERROR nobody@127.0.0.1 true >"$TMP/$name.ssh" 2>&1 || true
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
}
ssh_case ssh-sntrup sntrup761x25519-sha512@openssh.com
ssh_case ssh-curve25519 curve25519-sha256

sleep 1 # let tcpdump write the last packets
kill -INT "$TCPDUMP" 2>/dev/null || true
wait "$TCPDUMP" 2>/dev/null || true

"$MWRASP" exposure scan "$TMP/live.pcap" --stats >"$TMP/live.jsonl" 2>"$TMP/stats" || { cat "$TMP/stats"; fail "scan failed"; }
cat "$TMP/stats"
ports=$(for n in "${NAMES[@]}"; do printf '%s=%s ' "$n" "${PORT[$n]}"; done)
python3 - "$TMP/live.jsonl" $ports <<'PY' || fail "live captures: wrong sessions (above)"
import json, sys
ses = [json.loads(l) for l in open(sys.argv[1])]
port = dict(a.split("=") for a in sys.argv[2:])
by = {}
for s in ses:
    by.setdefault(s["server"].rsplit(":", 1)[1], []).append(s)
want = {
    "t13-x25519": dict(protocol="tls", version="TLS 1.3", selected_group="0x001d", selected_kex=None, classification="classical"),
    "t13-p256": dict(protocol="tls", version="TLS 1.3", selected_group="0x0017", selected_kex=None, classification="classical"),
    "t13-ffdhe2048": dict(protocol="tls", version="TLS 1.3", selected_group="0x0100", selected_kex=None, classification="classical"),
    "t12-ecdhe": dict(protocol="tls", version="TLS 1.2", selected_group="0x001d", selected_kex="ECDHE", cipher_suite="0xc02f", classification="classical"),
    "t12-dhe": dict(protocol="tls", version="TLS 1.2", selected_group=None, selected_kex="DHE", cipher_suite="0x009e", dh_bits=2048, classification="classical"),
    "t12-rsa": dict(protocol="tls", version="TLS 1.2", selected_group=None, selected_kex="RSA", cipher_suite="0x009c", classification="classical"),
    "ssh-sntrup": dict(protocol="ssh", version="SSH-2", selected_kex="sntrup761x25519-sha512@openssh.com", host_key_alg="ssh-ed25519", classification="pq-hybrid", exposed_bytes=0),
    "ssh-curve25519": dict(protocol="ssh", version="SSH-2", selected_kex="curve25519-sha256", host_key_alg="ssh-ed25519", classification="classical"),
}
bad = 0
for name, w in want.items():
    got = by.get(port[name], [])
    if len(got) != 1:
        print("FAIL %s: %d sessions on port %s" % (name, len(got), port[name])); bad += 1; continue
    s = got[0]
    assert s["client"].startswith("127.0.0.1:") and s["server"] == "127.0.0.1:" + port[name], s
    for k, v in w.items():
        if s.get(k) != v:
            print("FAIL %s: %s = %r, want %r (reason: %s)" % (name, k, s.get(k), v, s["reason"])); bad += 1
    if name.startswith("t1"):
        # 27 KB of application data from the client, after a classical handshake
        if not (27000 <= s["exposed_bytes"] <= s["bytes"]):
            print("FAIL %s: exposed_bytes %d of %d" % (name, s["exposed_bytes"], s["bytes"])); bad += 1
    if name == "t12-rsa":
        c = s["certificates"]
        if not c or c[0]["sig_alg"] != "sha256WithRSAEncryption" or c[0]["key_alg"] != "rsaEncryption" or c[0]["key_bits"] != 2048:
            print("FAIL t12-rsa: certificate %r" % c); bad += 1
    if name == "ssh-curve25519" and not s["exposed_bytes"] > 0:
        print("FAIL ssh-curve25519: no exposed bytes after the kex"); bad += 1
    print("ok %-15s %s %s %s %s exposed %d of %d" % (name, s["version"], s["selected_group"] or "", s["selected_kex"] or "", s["classification"], s["exposed_bytes"], s["bytes"]))
if len(ses) != len(want):
    print("FAIL: %d sessions, want %d" % (len(ses), len(want))); bad += 1
sys.exit(1 if bad else 0)
PY
pass "live captures: ${#NAMES[@]} handshakes as negotiated"
