#!/usr/bin/env bash
# The dashboard in a real browser: starts mwraspd (fresh ports, temp store,
# the test rules, api.web_root = the build's web/), then
# tests/browser/dashboard.mjs drives Debian's Chromium with playwright-core:
# login (wrong key refused, right key in), a threat appearing live after
# events are posted with curl, acknowledged in the page and checked with
# curl, a keyboard-only walk, axe-core on every page, a phone viewport with
# no horizontal overflow, and no console error or failed request anywhere.
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

command -v node >/dev/null || fail "node is not installed (scripts/install-deps.sh installs it)"
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing (scripts/install-deps.sh installs Debian's chromium)"
for p in playwright-core axe-core; do
  [ -d "tests/browser/node_modules/$p" ] ||
    fail "npm package $p is missing: run 'npm ci' in tests/browser (make test does)"
done
WEB=${MW_BUILD:-$MW_BIN/..}/web
[ -f "$WEB/index.html" ] || fail "$WEB/index.html is missing: the build makes it (scripts/build-web.sh)"
[ -f "$WEB/vendor/uPlot.iife.min.js" ] || fail "$WEB/vendor/uPlot.iife.min.js is missing (npm ci in web/ failed?)"

node tests/browser/units.mjs || fail "the dashboard's pure functions (tests/browser/units.mjs)"

write_config "$(pwd)/tests/integration/rules"
start_daemon --set "api.web_root=$WEB"
KEY=${API_KEY:-no-key-needed}

# The static files are served as files (no API key needed), traversal is not.
curl -fsS "$URL/" | grep -q '<main id="main"' || fail "GET / is not the dashboard"
curl -fsS "$URL/js/main.js" >/dev/null || fail "GET /js/main.js"
curl -fsS "$URL/vendor/uPlot.iife.min.js" >/dev/null || fail "GET /vendor/uPlot.iife.min.js"
st=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$URL/../../../../etc/passwd")
[ "$st" = 404 ] || [ "$st" = 400 ] || [ "$st" = 403 ] || fail "path traversal: status $st"
pass "dashboard files served from $WEB"

timeout 110 node tests/browser/dashboard.mjs test "$URL" "$KEY" || fail "browser tests failed"
pass "browser tests"

# Without a built dashboard the daemon says so and / is the API's JSON 404.
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
start_daemon --set "api.web_root=$TMP/no-such-dir"
grep -q "dashboard not served: $TMP/no-such-dir/index.html is missing" "$TMP/daemon.log" ||
  fail "no warning about the missing dashboard"
body=$(curl -q -s -w ' %{http_code}' -H "Authorization: Bearer $KEY" "$URL/")
[ "$body" = '{"error":{"code":"not_found","message":"no such route"}} 404' ] ||
  fail "GET / without a dashboard: $body"
pass "api.web_root without index.html: warning, / answers 404 JSON"
