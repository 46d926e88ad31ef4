#!/usr/bin/env bash
# Engine benchmark: berthd against Debian's dockerd 20.10 (+ containerd, runc), both started by
# this script with private roots (bench/engine.ts does the work).
#
#   npm run bench:engine               # or: bash bench/engine.sh
#   RUNS=50 RUNS_SEQ=100 API_N=100 MANY=1000 MANY_DOCKERD=200 BENCH_OUT=/tmp/engine.json npm run bench:engine
#
# Measures: `docker run --rm --network none busybox true` through the v28 CLI (hyperfine, and
# RUNS_SEQ runs in a row), an API create→start→wait→remove loop, idle daemon memory, and MANY
# `sleep` containers at once (shim RSS/PSS from smaps_rollup, kernel memory from /proc/meminfo).
# Prints a table with berthd/dockerd ratios. Asserts nothing. Leaves nothing behind.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")

# Every Node start would read the whole CA bundle: not what users of berthd pay.
unset NODE_EXTRA_CA_CERTS

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "must run as root"
for tool in node hyperfine dockerd containerd runc; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
[[ -x /usr/local/bin/docker ]] || die "/usr/local/bin/docker (the v28 CLI) not found"
[[ -f $REPO/dist/berthd.cjs && -x $REPO/native/build/berth-shim ]] || die "build first: npm run build"

cd "$REPO"
exec node --import tsx bench/engine.ts
