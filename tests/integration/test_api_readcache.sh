#!/usr/bin/env bash
# The read cache of GET /api/v1/threats (src/api/readcache.c): identical
# requests get identical bodies (served from the cache: the hit counter
# moves); a threat created or folded by an acknowledged POST, or changed by
# PATCH, is in the very next GET (no stale answer), also while other clients
# keep the same query hot; different queries do not share entries; at most
# 64 entries are kept.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

cp -r tests/integration/rules "$TMP/rules"
write_config "$TMP/rules"
start_daemon

metric() { curl -fsS "$URL/metrics" | awk -v m="$1" '$1==m {print $2}'; }
get() { curl -fsS "$URL/api/v1/threats$1"; }
post_fail() { # HOST: one event the SSH rule turns into (or folds into) a threat
  local code
  code=$(curl -s -o "$TMP/post.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary "[{\"host.name\":\"$1\",\"message\":\"sshd: Failed password for root\"}]" \
    "$URL/api/v1/events")
  [ "$code" = 202 ] || fail "POST answered $code: $(cat "$TMP/post.json")"
}
SSH_RULE=5b0a1c2e-0000-4000-8000-00000000e2e1

# --- 1. identical requests, identical bodies, from the cache ---------------
post_fail rc-a
get "?limit=50" >"$TMP/b1"
h0=$(metric mwrasp_api_readcache_hits_total)
get "?limit=50" >"$TMP/b2"
get "?limit=50" >"$TMP/b3"
h1=$(metric mwrasp_api_readcache_hits_total)
cmp -s "$TMP/b1" "$TMP/b2" && cmp -s "$TMP/b1" "$TMP/b3" || fail "identical GETs gave different bodies"
[ "$(json_get "len(d['threats'])" <"$TMP/b1")" = 1 ] || fail "expected 1 threat: $(cat "$TMP/b1")"
[ $((h1 - h0)) -ge 2 ] || fail "hits $h0 -> $h1: the repeated GETs were not served from the cache"
pass "repeated GET: same bytes, served from the cache (hits $h0 -> $h1)"

# --- 2. no stale answer after an acknowledged change -------------------------
# Readers keep ?host=rc-b hot in the background while the loop posts one
# folded event at a time: the answer right after each 202 must show the new
# count, never the cached one.
post_fail rc-b
reader() {
  while [ -d "$TMP" ] && [ ! -e "$TMP/stop" ]; do
    curl -fsS -o /dev/null "$URL/api/v1/threats?host=rc-b" || sleep 0.05
  done
}
reader &
R1=$!
reader &
R2=$!
stop_readers() { touch "$TMP/stop"; kill "$R1" "$R2" 2>/dev/null || true; wait "$R1" "$R2" 2>/dev/null || true; }
for i in $(seq 2 31); do
  post_fail rc-b
  c=$(get "?host=rc-b" | json_get "next((t['count'] for t in d['threats'] if t['rule_id']=='$SSH_RULE'), 0)")
  [ "$c" = "$i" ] || { stop_readers; fail "after POST $i the next GET showed count $c"; }
done
stop_readers
pass "30 folded events under concurrent readers: each next GET shows the new count"

id=$(get "?host=rc-b" | json_get "d['threats'][0]['id']")
get "?host=rc-b" >/dev/null # cache it
for st in acknowledged resolved; do
  code=$(curl -s -o "$TMP/patch.json" -w '%{http_code}' -X PATCH -H 'Content-Type: application/json' \
    --data-binary "{\"status\":\"$st\"}" "$URL/api/v1/threats/$id")
  [ "$code" = 200 ] || fail "PATCH answered $code: $(cat "$TMP/patch.json")"
  s=$(get "?host=rc-b" | json_get "d['threats'][0]['status']")
  [ "$s" = "$st" ] || fail "after PATCH to $st the next GET showed $s"
done
pass "PATCH status: the next GET shows it"

# --- 3. different queries, different entries -------------------------------
n1=$(get "?limit=1" | json_get "len(d['threats'])")
n2=$(get "?limit=2" | json_get "len(d['threats'])")
na=$(get "?host=rc-a" | json_get "','.join(t['host'] for t in d['threats'])")
nb=$(get "?host=rc-b" | json_get "','.join(t['host'] for t in d['threats'])")
nr=$(get "?status=resolved" | json_get "','.join(t['host'] for t in d['threats'])")
nn=$(get "?status=new" | json_get "','.join(t['host'] for t in d['threats'])")
[ "$n1/$n2" = "1/2" ] || fail "limit=1/limit=2 gave $n1/$n2 threats"
[ "$na|$nb" = "rc-a|rc-b" ] || fail "host filters gave '$na' and '$nb'"
[ "$nr|$nn" = "rc-b|rc-a" ] || fail "status filters gave '$nr' and '$nn'"
# the same again, now from the cache
[ "$(get "?limit=1" | json_get "len(d['threats'])")" = 1 ] || fail "cached limit=1 changed"
[ "$(get "?host=rc-a" | json_get "d['threats'][0]['host']")" = rc-a ] || fail "cached host=rc-a changed"
# a cursor page is its own entry too
next=$(get "?limit=1" | json_get "d['next_cursor']")
[ "$(get "?limit=1&cursor=$next" | json_get "d['threats'][0]['host']")" = rc-a ] || fail "cursor page"
pass "limit, host, status and cursor queries are separate entries"

# --- 4. the cap ------------------------------------------------------------
ev0=$(metric mwrasp_api_readcache_evictions_total)
for l in $(seq 1 80); do get "?limit=$l" >/dev/null; done
ent=$(metric mwrasp_api_readcache_entries)
ev1=$(metric mwrasp_api_readcache_evictions_total)
[ "$ent" -le 64 ] && [ "$ent" -ge 60 ] || fail "cache holds $ent entries (cap 64)"
[ $((ev1 - ev0)) -ge 16 ] || fail "80 distinct queries evicted only $((ev1 - ev0)) entries"
[ "$(get "?limit=80" | json_get "len(d['threats'])")" = 2 ] || fail "answer after evictions"
pass "80 distinct queries: $ent entries held, $((ev1 - ev0)) evicted"

curl -fsS "$URL/health/live" >/dev/null || fail "daemon not live at the end"
