#!/usr/bin/env bash
# Exposure scanner benchmark, phase (f) of `make bench` (issue 5,
# "Performance"): MB/s and sessions/s of `mwrasp exposure scan --json` over
# the shared captures ($MW_SHARED_DATA/pcaps) repeated (--repeat) to a run of
# at least BENCH_EXPOSURE_SECONDS (default 10) seconds of CPU time, against
# `tshark -r FILE -Y tls.handshake -T fields -e ...` over the same files in the
# same run (each file once: tshark's start-up per file is part of its cost,
# as it is for anyone who runs it this way). One thread each; figures use CPU
# time (user + sys of the child), so other load on the machine changes them
# less than wall time would; wall time is printed too. MB = 10^6 bytes of
# capture file. Prints a Markdown table on stdout.
# Alone: MW_SHARED_DATA=... bash bench/bench_exposure.sh [SECONDS]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${MW_BIN:-$ROOT/build/bin}
SECS=${1:-${BENCH_EXPOSURE_SECONDS:-10}}
PCAPS=${MW_SHARED_DATA:-$ROOT/../shared/data}/pcaps
[ -x "$BIN/mwrasp" ] || { echo "bench_exposure: $BIN/mwrasp not built" >&2; exit 1; }
if [ ! -d "$PCAPS" ]; then
  echo "bench_exposure: no shared captures at $PCAPS: skipped" >&2
  exit 0
fi
cd "$PCAPS"
python3 - "$BIN/mwrasp" "$SECS" <<'PY'
import os, resource, shutil, subprocess, sys, time
mwrasp, secs = sys.argv[1], float(sys.argv[2])
files = sorted(os.path.relpath(os.path.join(d, f)) for d, _, fs in os.walk(".") for f in fs
               if f.endswith((".pcap", ".pcapng", ".cap")))
size = sum(os.path.getsize(f) for f in files)

def run(cmd, out=subprocess.DEVNULL):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    p = subprocess.run(cmd, stdout=out, stderr=subprocess.PIPE, check=False)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return p, cpu, wall

# ours: calibrate on a few passes, then one run of >= secs CPU seconds
p, cpu, _ = run([mwrasp, "exposure", "scan", "--repeat", "5"] + files)
if p.returncode != 0:
    sys.exit("bench_exposure: mwrasp failed: " + p.stderr.decode()[-500:])
per_pass = max(cpu / 5, 1e-4)
reps = max(1, int(secs / per_pass) + 1)
for _ in range(4):  # until the run lasts >= secs of CPU time
    p, cpu, wall = run([mwrasp, "exposure", "scan", "--stats", "--repeat", str(reps)] + files)
    if cpu >= secs:
        break
    reps = int(reps * secs / max(cpu, 1e-3) * 1.1) + 1
stats = p.stderr.decode()
sessions = 0
for line in stats.splitlines():
    if line.startswith("sessions:"):
        sessions = sum(int(w) for w in line.split() if w.isdigit())
ours_mb = size * reps / 1e6
ours = dict(mbs=ours_mb / cpu, sps=sessions / cpu, cpu=cpu, wall=wall, reps=reps,
            sessions=sessions)

# tshark: every file once, the issue's command line
tshark = shutil.which("tshark")
th = None
if tshark:
    fields = ["-e", "frame.number", "-e", "tls.handshake.type", "-e", "tls.handshake.version",
              "-e", "tls.handshake.ciphersuite", "-e", "tls.handshake.extensions_key_share_group",
              "-e", "tls.handshake.extensions.supported_version"]
    tcpu = twall = 0.0
    lines = 0
    for f in files:
        p, c, w = run([tshark, "-n", "-r", f, "-Y", "tls.handshake", "-T", "fields"] + fields,
                      out=subprocess.PIPE)
        tcpu += c
        twall += w
        lines += len([l for l in p.stdout.decode(errors="replace").splitlines() if l.strip()])
    th = dict(mbs=size / 1e6 / tcpu, cpu=tcpu, wall=twall, lines=lines)
    # tshark's start-up dominates on small files: its rate on the largest one too
    big = max(files, key=os.path.getsize)
    _, bc, bw = run([tshark, "-n", "-r", big, "-Y", "tls.handshake", "-T", "fields"] + fields)
    th_big = dict(file=big, size=os.path.getsize(big), cpu=bc, wall=bw)

print("### (f) Exposure scanner (`mwrasp exposure scan`, issue 5)\n")
print("%d shared captures, %.2f MB per pass; one thread; CPU time (user + sys).\n" % (len(files), size / 1e6))
print("| tool | passes | CPU s | wall s | MB/s (CPU) | sessions/s (CPU) |")
print("|---|---|---|---|---|---|")
print("| mwrasp exposure scan --json | %d | %.2f | %.2f | %.0f | %.0f |" % (
    ours["reps"], ours["cpu"], ours["wall"], ours["mbs"], ours["sps"]))
if th:
    print("| tshark -Y tls.handshake -T fields (per file) | 1 | %.2f | %.2f | %.1f | - (%d handshake lines) |" % (
        th["cpu"], th["wall"], th["mbs"], th["lines"]))
    print("| tshark, largest capture only (%s, %.2f MB) | 1 | %.2f | %.2f | %.1f | - |" % (
        th_big["file"], th_big["size"] / 1e6, th_big["cpu"], th_big["wall"],
        th_big["size"] / 1e6 / th_big["cpu"]))
    print("\nRatio (MB/s, CPU): **%.0fx** tshark over the same files (%.0fx its rate on the largest file alone;"
          " target >= 20x). Per core: %.2f GB/s (target >= 1 GB/s)." % (
        ours["mbs"] / th["mbs"], ours["mbs"] / (th_big["size"] / 1e6 / th_big["cpu"]), ours["mbs"] / 1000))
else:
    print("\ntshark not installed (scripts/install-deps.sh): no baseline. Per core: %.2f GB/s (target >= 1 GB/s)." % (ours["mbs"] / 1000))
PY
