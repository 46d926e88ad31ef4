#!/usr/bin/env bash
# CLI benchmark: the berth CLI against the v28 docker CLI, on berthd and on Debian's dockerd 20.10
# (overlay2, its own containerd), both started by bench/cli.ts with private roots.
#
#   npm run bench:cli                  # or: bash bench/cli.sh
#   RUNS=10 CONTAINERS=20 IMAGES=20 npm run bench:cli     # a quick check
#   BENCH_OUT=/tmp/cli.json npm run bench:cli
#
# Measures `run --rm busybox true` (berth→berthd, docker→berthd, docker→dockerd), the CLI's own
# start-up (`version`, `--version`) and peak RSS, and `ps -a` / `images` latency with CONTAINERS
# created containers and IMAGES distinct images. Prints ratios. Asserts nothing. Leaves nothing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")

# Every Node start would read the whole CA bundle: not what users of berth pay.
unset NODE_EXTRA_CA_CERTS

die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "must run as root"
for tool in node hyperfine dockerd containerd runc; do
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
[[ -x /usr/bin/time ]] || die "GNU time (/usr/bin/time) not found"
[[ -x /usr/local/bin/docker ]] || die "/usr/local/bin/docker (the v28 CLI) not found"
[[ -f $REPO/dist/berth.cjs && -f $REPO/dist/berthd.cjs && -x $REPO/native/build/berth-shim ]] || die "build first: npm run build"

cd "$REPO"
exec node --import tsx bench/cli.ts
