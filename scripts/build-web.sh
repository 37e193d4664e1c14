#!/usr/bin/env bash
# Builds the dashboard: copies web/ (index.html, css/, js/) to OUT and uPlot
# from npm (web/node_modules/uplot/dist, installed here with `npm ci` from
# web/package-lock.json when missing or stale) to OUT/vendor/. The vendored
# files are never committed. Run by the `web` target of CMake (every build).
#   scripts/build-web.sh SRC_WEB_DIR OUT_DIR
set -euo pipefail
SRC=${1:?usage: build-web.sh SRC_WEB_DIR OUT_DIR}
OUT=${2:?usage: build-web.sh SRC_WEB_DIR OUT_DIR}

# Several build directories may build at once: one npm ci at a time.
exec 9<"$SRC/package-lock.json"
flock 9
stamp=$SRC/node_modules/.package-lock.json
if [ ! -f "$SRC/node_modules/uplot/dist/uPlot.iife.min.js" ] || [ "$SRC/package-lock.json" -nt "$stamp" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "build-web: npm ci in $SRC" >&2
    (cd "$SRC" && npm ci --no-audit --no-fund >/dev/null) ||
      echo "build-web: warning: npm ci failed; the dashboard is built without charts" >&2
  else
    echo "build-web: warning: npm is missing (scripts/install-deps.sh installs it); no charts" >&2
  fi
fi

tmp=$(mktemp -d "$OUT.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$SRC/index.html" "$tmp/"
cp -r "$SRC/css" "$SRC/js" "$tmp/"
mkdir -p "$tmp/vendor"
for f in uPlot.iife.min.js uPlot.min.css; do
  if [ -f "$SRC/node_modules/uplot/dist/$f" ]; then cp "$SRC/node_modules/uplot/dist/$f" "$tmp/vendor/"; fi
done
chmod -R a+rX "$tmp"
# Replace OUT only when something changed (a running daemon keeps serving).
if ! diff -r -q "$tmp" "$OUT" >/dev/null 2>&1; then
  rm -rf "$OUT"
  mv "$tmp" "$OUT"
fi
