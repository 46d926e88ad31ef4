#!/usr/bin/env bash
# Pull benchmark: Berth (download + verify + unpack) vs skopeo (download + verify) vs Debian's
# dockerd (`docker pull`, its own data-root/exec-root/socket), from a local docker-registry, on a
# one-layer 200 MiB image and a 5-layer image, plus sha256sum, gzip -d and tar -x of the same
# layer. See bench/pull.ts.
#
#   npm run bench:pull               # RUNS=3 SIZE_MB=200
#   RUNS=1 SIZE_MB=20 npm run bench:pull   # a quick check that it works
#
# Must run as root (overlay snapshots, dockerd). Do not trust timings taken while the machine is
# busy. Leaves nothing behind: the registry and dockerd are stopped by PID, temp dirs removed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
# as in bench/runtime.sh: a user's machine does not have it, and it slows every Node start
unset NODE_EXTRA_CA_CERTS
cd "$REPO"
exec node --import tsx bench/pull.ts "$@"
