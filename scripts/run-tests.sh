#!/usr/bin/env bash
# Runs every test: unit + integration through ctest on the normal build, then
# the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Called by `make test` after the build; exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
JOBS=${JOBS:-$(nproc)}

if [ ! -d ../shared/data ]; then
  echo "note: ../shared/data is absent: tests that use the outside test data will be skipped" >&2
fi

echo "== format check (clang-format)"
files=$(git ls-files '*.c' '*.h' 2>/dev/null || true)
if [ -n "$files" ]; then
  clang-format --dry-run --Werror $files
fi

# npm packages of the integration tests (lock file), once, before tests run in parallel.
if command -v npm >/dev/null; then
  stamp=tests/integration/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/integration/package-lock.json -nt "$stamp" ]; then
    echo "== npm ci (tests/integration)"
    (cd tests/integration && npm ci --no-audit --no-fund >/dev/null)
  fi
  # playwright-core and axe-core of the browser tests (tests/browser/package-lock.json)
  stamp=tests/browser/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/browser/package-lock.json -nt "$stamp" ]; then
    echo "== npm ci (tests/browser)"
    (cd tests/browser && npm ci --no-audit --no-fund >/dev/null)
  fi
fi

echo "== unit + integration tests"
(cd "$BUILD" && ctest --output-on-failure -j "$JOBS")

echo "== unit tests under ASan + UBSan"
cmake -S . -B "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug -DMW_SANITIZE=ON >/dev/null
cmake --build "$ASAN_BUILD" -j "$JOBS" >/dev/null
(cd "$ASAN_BUILD" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$JOBS" -L unit)
