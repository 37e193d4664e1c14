#!/usr/bin/env bash
# Installs every Debian 12 package MWRASP needs to build, test and run.
# Idempotent: packages already installed are skipped; nothing else is downloaded.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git
  libssl-dev libyaml-dev libhyperscan-dev libpcre2-dev libjansson-dev
  libsqlite3-dev sqlite3 libpq-dev libcivetweb-dev libpcap-dev libcmocka-dev
  clang libclang-rt-14-dev clang-format
  curl bsdutils procps python3 rsyslog valgrind
  openssh-client openssh-server tcpdump tshark iproute2
  chromium util-linux
  wrk
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm (dashboard tests, OpenAPI validation): any install that
# provides both commands will do (Debian's nodejs+npm, or a nodejs that bundles npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
