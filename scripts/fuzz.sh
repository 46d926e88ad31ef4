#!/usr/bin/env bash
# Fuzzes berth-nsinit's plan reader and resolve_in_root with libFuzzer (native/test/README.md):
#
#   npm run fuzz                      # 5 minutes per target
#   npm run fuzz -- 3600 resolve      # one hour, resolve_in_root only
#
# Targets: plan (native/test/fuzz-plan.c), resolve (native/test/fuzz-resolve.c), tar
# (native/test/fuzz-tar.c, berth-unpack's tar reader), decompress (native/test/fuzz-decompress.c,
# berth-unpack's gzip and zstd stream framing). Corpora grow in
# native/build/fuzz/<target>/ and are kept between runs; seeds are the golden plans
# (test/fixtures/plans/*.plan) and native/test/corpus/resolve/. A crash, sanitizer report or leak
# stops the run, is saved as native/build/fuzz/<target>-crash-<sha1> and fails it; replay it with
# `native/build/fuzz-<target> <that file>`. Needs Debian's clang and libclang-rt-14-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-300}"
shift || true
targets=("$@")
[ "${#targets[@]}" -gt 0 ] || targets=(plan resolve tar decompress)
command -v clang >/dev/null || { echo "fuzz.sh: clang is missing (scripts/install.sh installs it)" >&2; exit 1; }
make -s -C native fuzz
out=native/build/fuzz
for t in "${targets[@]}"; do
  case "$t" in
    plan)
      seeds="$out/plan-seeds"
      mkdir -p "$seeds"
      cp test/fixtures/plans/*.plan "$seeds/"
      ;;
    resolve) seeds=native/test/corpus/resolve ;;
    tar) seeds=native/test/corpus/tar ;;
    decompress) seeds=native/test/corpus/decompress ;;
    *) echo "fuzz.sh: unknown target '$t' (plan, resolve, tar, decompress)" >&2; exit 2 ;;
  esac
  mkdir -p "$out/$t"
  echo "==> fuzz-$t for ${seconds}s (corpus $out/$t)"
  "native/build/fuzz-$t" -max_total_time="$seconds" -dict="native/test/$t.dict" -artifact_prefix="$out/$t-" \
    -print_final_stats=1 "$out/$t" "$seeds"
done
