#!/usr/bin/env bash
# Installs everything Berth needs on a Debian 12 machine (run as root) and builds it:
# the Debian packages, the npm packages, the C helpers and the bundled binaries, and puts the
# binaries on PATH. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the project uses from Debian, and why:
#   gcc make libc6-dev   build native/ (libc6-dev carries libc.a for the static test probe)
#   busybox-static       the root filesystem of the demo and test containers
#   runc crun            the peers that the conformance suite and the benchmarks compare against
#   hyperfine time       the benchmarks
#   iproute2 procps      tests inspect namespaces and processes
PACKAGES=(gcc make libc6-dev busybox-static runc crun hyperfine time iproute2 procps)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> npm ci (builds native/ and dist/)"
npm ci --no-audit --no-fund --loglevel=error

if [ "${BERTH_NO_GLOBAL:-}" != 1 ]; then
  echo "==> npm install -g . (berth-runtime on PATH)"
  npm install -g . --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "==> installed: $(command -v berth-runtime || echo "dist/berth-runtime.mjs")"
