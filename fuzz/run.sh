#!/usr/bin/env bash
# Runs every libFuzzer harness for SECONDS each, with a scratch corpus under
# BUILD_DIR seeded from fuzz/seeds/<name>/. Fails if any harness finds a
# crash, leak, timeout or sanitizer report (artifacts are kept under
# BUILD_DIR/fuzz-artifacts/<name>/ and the log in BUILD_DIR/fuzz-<name>.log).
# Usage: fuzz/run.sh BUILD_DIR [SECONDS]   (make fuzz)
set -euo pipefail
BUILD=${1:?usage: fuzz/run.sh BUILD_DIR [SECONDS]}
SECS=${2:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
# every harness listed in fuzz/CMakeLists.txt (fuzz_<name>.c beside this script)
HARNESSES=$(cd "$HERE" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fail=0
for h in $HARNESSES; do
    bin="$BUILD/bin/fuzz_$h"
    if [ ! -x "$bin" ]; then
        echo "fuzz: $bin not found (configure with CC=clang cmake -DMW_FUZZ=ON)" >&2
        exit 2
    fi
    corpus="$BUILD/fuzz-corpus/$h"
    arts="$BUILD/fuzz-artifacts/$h"
    log="$BUILD/fuzz-$h.log"
    mkdir -p "$corpus" "$arts"
    cp -n "$HERE/seeds/$h"/* "$corpus"/ 2>/dev/null || true
    echo "fuzz: $h for ${SECS}s (corpus $corpus)"
    if "$bin" -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$arts/" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        echo "fuzz: $h ok: ${runs:-?} runs, $(ls "$corpus" | wc -l) corpus files"
    else
        echo "fuzz: $h FAILED; log $log, artifacts in $arts:" >&2
        grep -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$log" | head -20 >&2 || true
        ls "$arts" >&2
        fail=1
    fi
done
exit $fail
