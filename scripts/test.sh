#!/usr/bin/env bash
# The whole test suite: types, lint and format, unit tests (no root needed), then integration
# and conformance tests (real containers; they skip with a stated reason when not root).
set -euo pipefail
cd "$(dirname "$0")/.."
# A test that forgets its own DOCKER_HOST must fail, not start a berthd on /var/lib/berth (the
# autostart test lifts this for its private daemon).
export BERTH_NO_AUTOSTART=1
# the bundler writes dist/berth-runtime.cjs, berthd.cjs and berth.cjs (package.json bin)
[ -x native/build/berth-nsinit ] && [ -x native/build/berth ] && [ -x native/build/berth-runtime ] && [ -f dist/berth-runtime.cjs ] && [ -f dist/berthd.cjs ] && [ -f dist/berth.cjs ] || npm run build
echo "==> tsc --noEmit"
npx tsc --noEmit
echo "==> biome check"
npx biome check --diagnostic-level=error .
mapfile -t files < <(find src test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
echo "==> node --test (${#files[@]} files)"
# spec: the failures are repeated, with their errors, at the end of the output (where CI shows it)
exec node --import tsx --test --test-concurrency=1 --test-reporter=spec "${files[@]}"
