#!/usr/bin/env bash
# Runtime benchmark: berth-runtime against runc and crun.
#
#   npm run bench                     # or: bash bench/runtime.sh
#   RUNS=100 WARMUP=10 npm run bench  # more runs
#   BENCH_OUT=/tmp/bench.json npm run bench
#
# Scenarios, each timed with hyperfine for every runtime:
#   run                  X --root R run --bundle B ID            (foreground /bin/true; gone afterwards)
#   run-first            the same, as the first run of its bundle: for berth-runtime the bundle's
#                        run template is removed before each run (hyperfine --prepare), so each
#                        is the Node runtime's, which writes it again (docs/runtime-front.md)
#   create-start-delete  X --root R create --bundle B ID && X --root R start ID && X --root R delete -f ID
#                        (the youki/runc README method; /bin/true may exit right after start,
#                        and `delete -f` handles both the running and the stopped case)
#   c-s-d-resources      the same with memory, pids and cpu limits set (the cgroup writes)
#   exec                 X --root R exec ID /bin/true, in a container running `sleep`
# plus the peak RSS of one `run` (GNU time -v, "Maximum resident set size"), and the floor under
# berth-runtime: right after each of its scenarios, as many starts of an empty Node script as
# the scenario starts Node (one for run and for create; none for exec: start, delete and a plain
# exec are the C front's) on berth-runtime's own path (an executable .cjs file with a `#!/usr/bin/env node`
# line), so that "above the floor" compares runs made under the same load.
#
# Must run as root (the runtimes need it). Leaves nothing behind: every container is deleted,
# every cgroup named after one of our ids is checked for, and the temp dir is removed.
# Benchmarks are not tests: nothing here asserts on timings.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")

# NODE_EXTRA_CA_CERTS is set in this environment and makes every Node start read and parse
# the whole CA bundle (about +100 ms here). Users of berth-runtime do not have it, so it is
# unset for everything this script starts (runc and crun ignore it anyway).
unset NODE_EXTRA_CA_CERTS

RUNS=${RUNS:-30}
WARMUP=${WARMUP:-5}
# berth-runtime as installed: package.json's "bin" entry (dist/berth-runtime.*), unless overridden.
BERTH=${BERTH_RUNTIME:-$(node -e '
  const p = require(process.argv[1] + "/package.json");
  const bin = typeof p.bin === "string" ? p.bin : p.bin?.["berth-runtime"];
  process.stdout.write(require("node:path").resolve(process.argv[1], bin || "dist/berth-runtime.mjs"));
' "$REPO" 2>/dev/null || echo "$REPO/dist/berth-runtime.mjs")}
BUSYBOX=${BUSYBOX:-/bin/busybox}
RUNTIMES=${BENCH_RUNTIMES:-"runc crun berth"}

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

[[ $EUID -eq 0 ]] || die "must run as root (the OCI runtimes need it)"
for tool in hyperfine node runc unshare chroot timeout; do  # runc also writes the base config.json
  command -v "$tool" >/dev/null || die "'$tool' not found"
done
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) not found; apt-get install time"
[[ -x $BUSYBOX ]] || die "$BUSYBOX not found; apt-get install busybox-static"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 2 ]] || die "RUNS must be an integer >= 2"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be an integer"

LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
PREFIX="berthbench-$$"          # every container id (and so every cgroup name) starts with it
BUNDLE=$WORK/bundle
RESULTS=$WORK/results
mkdir -p "$RESULTS"

# ---------------------------------------------------------------------------------------------
# crun on hybrid cgroups.
# crun 1.8 (Debian 12) refuses a host with cgroup v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified: "cgroups in hybrid mode not supported". On such a host every crun
# command (and crun's hyperfine, and its GNU time) runs inside a private mount namespace
# (`unshare -m`, which makes propagation private, so the host keeps its mount) in which
# /sys/fs/cgroup/unified is unmounted: crun then sees plain cgroup v1 and places the container
# in the same v1 hierarchies as runc does. The namespace is entered once per hyperfine
# invocation, so its cost is not part of crun's timings.
HYBRID=0
if awk '$5 == "/sys/fs/cgroup/unified" && $0 ~ / - cgroup2 / { found = 1 } END { exit !found }' /proc/self/mountinfo; then
  HYBRID=1
fi

declare -A CMD NEEDS_NS AVAILABLE REASON VERSION
# Shell words for each runtime, with its own --root (quoted for the shell hyperfine uses).
CMD[runc]="runc --root $(printf %q "$WORK/root-runc")"
CMD[crun]="crun --root $(printf %q "$WORK/root-crun")"
CMD[berth]="$(printf %q "$BERTH") --root $(printf %q "$WORK/root-berth")"
NEEDS_NS[runc]=0
NEEDS_NS[crun]=$HYBRID
NEEDS_NS[berth]=0

# in_env RT ARGV...: run ARGV where runtime RT has to run (see the note on crun above).
in_env() {
  local rt=$1; shift
  if [[ ${NEEDS_NS[$rt]} == 1 ]]; then
    unshare -m -- sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh "$@"
  else
    "$@"
  fi
}

# ---------------------------------------------------------------------------------------------
# Cleanup: delete our containers, remove our cgroups, unmount anything under WORK, remove WORK.
IDS=()
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  local rt id
  for rt in $RUNTIMES; do
    [[ -n ${CMD[$rt]:-} ]] || continue
    for id in "${IDS[@]}"; do
      in_env "$rt" timeout 20 sh -c "${CMD[$rt]} delete --force $id" >/dev/null 2>&1
    done
  done
  # Cgroups named after our ids, in any hierarchy, at any depth (runc puts v1 cgroups under its
  # own cgroup, crun at the root). Should be none; if a container process survived, it is ours.
  local dir left=0
  while IFS= read -r dir; do
    [[ -n $dir ]] || continue
    if [[ -f $dir/cgroup.procs ]]; then
      xargs -r kill -KILL <"$dir/cgroup.procs" 2>/dev/null
    fi
    rmdir "$dir" 2>/dev/null || sleep 0.2
    rmdir "$dir" 2>/dev/null
    if [[ -d $dir ]]; then log "bench: could not remove cgroup $dir"; left=1; else log "bench: removed leftover cgroup $dir"; fi
  done < <(find /sys/fs/cgroup -depth -type d -name "$PREFIX-*" 2>/dev/null)
  # Nothing should be mounted under WORK (the runtimes mount inside the container's namespace).
  local mnt
  while IFS= read -r mnt; do
    [[ -n $mnt ]] && umount -l "$mnt" && log "bench: unmounted leftover $mnt"
  done < <(awk -v w="$WORK" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -rf "$WORK"
  [[ $left == 0 ]] || rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# The bundle: a static busybox with its applet links, config from `runc spec`, /bin/true.
mkdir -p "$BUNDLE/rootfs/bin"
cp "$BUSYBOX" "$BUNDLE/rootfs/bin/busybox"
chroot "$BUNDLE/rootfs" /bin/busybox --install -s /bin
(cd "$BUNDLE" && runc spec)
node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  const c = JSON.parse(fs.readFileSync(file, "utf8"));
  c.process.terminal = false;
  c.process.args = ["/bin/true"];
  fs.writeFileSync(file, JSON.stringify(c, null, 2));
' "$BUNDLE/config.json"
Q_BUNDLE=$(printf %q "$BUNDLE")

# A second bundle, same rootfs, with resource limits; a third whose process sleeps (for exec).
variant() { # dir node-expression-editing-c
  mkdir -p "$1"
  cp -a "$BUNDLE/rootfs" "$1/rootfs"  # runc refuses a symlinked rootfs
  node -e '
    const fs = require("node:fs");
    const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    new Function("c", process.argv[3])(c);
    fs.writeFileSync(process.argv[2], JSON.stringify(c, null, 2));
  ' "$BUNDLE/config.json" "$1/config.json" "$2"
}
variant "$WORK/bundle-res" 'c.linux.resources = { ...c.linux.resources,
  memory: { limit: 268435456, reservation: 134217728 }, pids: { limit: 512 },
  cpu: { shares: 512, quota: 50000, period: 100000 } };'
variant "$WORK/bundle-sleep" 'c.process.args = ["/bin/sleep", "100000"];'
Q_BUNDLE_RES=$(printf %q "$WORK/bundle-res")
Q_BUNDLE_SLEEP=$(printf %q "$WORK/bundle-sleep")

# ---------------------------------------------------------------------------------------------
# Which runtimes work here? One run and one create/start/delete each, output kept for the reason.
VERSION[runc]=$(runc --version 2>/dev/null | head -1 || true)
VERSION[crun]=$(crun --version 2>/dev/null | head -1 || true)
VERSION[berth]=$("$BERTH" --version 2>/dev/null | head -1 || true)

# try RT COMMAND ID: run COMMAND once with its output in a file (never a pipe: a container left
# in the created state holds its stdio open), delete ID if it failed; LAST_OUTPUT = its last lines.
LAST_OUTPUT=
try() {
  local rt=$1 command=$2 id=$3 rc=0 log=$WORK/try.log
  in_env "$rt" timeout 60 sh -c "$command" >"$log" 2>&1 </dev/null || rc=$?
  LAST_OUTPUT=$(tail -3 "$log" | tr '\n' ' ')
  [[ $rc == 124 ]] && LAST_OUTPUT="timed out after 60 s. $LAST_OUTPUT"
  if [[ $rc != 0 ]]; then
    in_env "$rt" timeout 20 sh -c "${CMD[$rt]} delete --force $id" >/dev/null 2>&1 || true
  fi
  return "$rc"
}

probe() {
  local rt=$1 id="$PREFIX-$1-probe"
  IDS+=("$id")
  if [[ $rt == berth && ! -x $BERTH ]]; then
    REASON[$rt]="$BERTH is missing or not executable (npm run build)"; return 1
  fi
  if [[ $rt != berth ]] && ! command -v "$rt" >/dev/null; then
    REASON[$rt]="$rt is not installed"; return 1
  fi
  if ! try "$rt" "${CMD[$rt]} run --bundle $Q_BUNDLE $id" "$id"; then
    REASON[$rt]="run failed: $LAST_OUTPUT"; return 1
  fi
  if ! try "$rt" "${CMD[$rt]} create --bundle $Q_BUNDLE $id && ${CMD[$rt]} start $id && ${CMD[$rt]} delete --force $id" "$id"; then
    REASON[$rt]="create/start/delete failed: $LAST_OUTPUT"; return 1
  fi
  if [[ -n $(find /sys/fs/cgroup -type d -name "$id" 2>/dev/null) ]]; then
    REASON[$rt]="left its cgroup behind after delete --force"; return 1
  fi
  return 0
}

for rt in $RUNTIMES; do
  [[ -n ${CMD[$rt]:-} ]] || die "unknown runtime '$rt' in BENCH_RUNTIMES"
  if probe "$rt"; then
    AVAILABLE[$rt]=1
  else
    AVAILABLE[$rt]=0
    log "bench: $rt is unavailable: ${REASON[$rt]}"
  fi
done

# ---------------------------------------------------------------------------------------------
# Timings. One hyperfine invocation per (scenario, runtime), so that one runtime failing midway
# does not lose the others' results; hyperfine runs all iterations of a command back to back
# anyway, so this is no less "side by side" than one invocation with several commands.
# Ids: each command deletes its own container, so one fixed id per (scenario, runtime) is reused.
HF_OPTS=(--warmup "$WARMUP" --runs "$RUNS" --style basic)
PREPARE=()

bench_one() { # scenario rt command container-id
  local scenario=$1 rt=$2 command=$3 id=$4 out=$RESULTS/$1.$2 msg
  log ""
  log "== $scenario: $rt"
  printf '%s\n' "$command" >"$out.cmd"
  if ! in_env "$rt" hyperfine "${HF_OPTS[@]}" "${PREPARE[@]}" --export-json "$out.json" -n "$rt" "$command" >&2 </dev/null; then
    rm -f "$out.json"
    # hyperfine hides the command's output: run it once more to show why it failed.
    in_env "$rt" timeout 20 sh -c "${CMD[$rt]} delete --force $id" >/dev/null 2>&1 || true
    if try "$rt" "$command" "$id"; then
      msg="a run exited non-zero (intermittent: the retry passed)"
    else
      msg="a run exited non-zero; once more it said: ${LAST_OUTPUT:-nothing}"
    fi
    printf '%s\n' "$msg" >"$out.err"
    log "bench: $scenario with $rt failed: $msg"
  fi
}

# The Node floor: what a berth-runtime call costs before its first line runs.
FLOOR=$WORK/node-floor.cjs
printf '#!/usr/bin/env node\n' >"$FLOOR"
chmod +x "$FLOOR"
Q_FLOOR=$(printf %q "$FLOOR")
CMD[floor]=true
NEEDS_NS[floor]=0

for scenario in run run-first create-start-delete c-s-d-resources exec; do
  for rt in $RUNTIMES; do
    PREPARE=()
    [[ ${AVAILABLE[$rt]} == 1 ]] || continue
    id="$PREFIX-$rt-$scenario"
    IDS+=("$id")
    X=${CMD[$rt]}
    case $scenario in
      run) command="$X run --bundle $Q_BUNDLE $id" ;;
      run-first)
        command="$X run --bundle $Q_BUNDLE $id"
        [[ $rt == berth ]] && PREPARE=(--prepare "rm -f $(printf %q "$WORK/root-berth")/~run-*")
        ;;
      create-start-delete) command="$X create --bundle $Q_BUNDLE $id && $X start $id && $X delete --force $id" ;;
      c-s-d-resources) command="$X create --bundle $Q_BUNDLE_RES $id && $X start $id && $X delete --force $id" ;;
      exec)
        # One long-running container per runtime; each timed command is one exec into it.
        if ! try "$rt" "$X run --detach --bundle $Q_BUNDLE_SLEEP $id" "$id"; then
          printf '%s\n' "could not start the container to exec into: $LAST_OUTPUT" >"$RESULTS/exec.$rt.err"
          continue
        fi
        command="$X exec $id /bin/true"
        ;;
    esac
    bench_one "$scenario" "$rt" "$command" "$id"
    [[ $scenario == exec ]] && in_env "$rt" timeout 20 sh -c "$X delete --force $id" >/dev/null 2>&1
    # The floor: one Node start for a first run and for create (start, delete, a plain exec and
    # a run from the bundle's template are the C front's, docs/runtime-front.md: no floor there)
    if [[ $rt == berth && $scenario != exec && $scenario != run ]]; then
      PREPARE=()
      bench_one "$scenario" floor "$Q_FLOOR" none
    fi
  done
done

# Peak RSS of one `run`: GNU time reports ru_maxrss of the runtime process and its waited-for
# descendants, i.e. the largest single process in the tree (not a sum).
for rt in $RUNTIMES; do
  [[ ${AVAILABLE[$rt]} == 1 ]] || continue
  id="$PREFIX-$rt-rss"
  IDS+=("$id")
  if in_env "$rt" /usr/bin/time -v -o "$RESULTS/rss.$rt.txt" sh -c "exec ${CMD[$rt]} run --bundle $Q_BUNDLE $id" >/dev/null 2>&1 </dev/null; then
    sed -n 's/.*Maximum resident set size (kbytes): *//p' "$RESULTS/rss.$rt.txt" >"$RESULTS/rss.$rt"
  else
    log "bench: measuring RSS of $rt failed"
  fi
done

# ---------------------------------------------------------------------------------------------
# Report.
META=$RESULTS/meta.json
RT_LIST=$RUNTIMES VERSIONS_RUNC=${VERSION[runc]} VERSIONS_CRUN=${VERSION[crun]} VERSIONS_BERTH=${VERSION[berth]} \
  REASON_RUNC=${REASON[runc]:-} REASON_CRUN=${REASON[crun]:-} REASON_BERTH=${REASON[berth]:-} \
  HYBRID=$HYBRID RUNS=$RUNS WARMUP=$WARMUP LOAD_AT_START=$LOAD_AT_START \
  node -e '
    const e = process.env;
    const os = require("node:os");
    const { execFileSync } = require("node:child_process");
    const hf = execFileSync("hyperfine", ["--version"], { encoding: "utf8" }).trim();
    const runtimes = {};
    for (const rt of e.RT_LIST.split(/\s+/).filter(Boolean)) {
      const up = rt.toUpperCase();
      runtimes[rt] = { version: e["VERSIONS_" + up] || null, error: e["REASON_" + up] || null };
    }
    const meta = {
      date: new Date().toISOString(),
      host: { kernel: os.release(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null,
              cgroups: e.HYBRID === "1" ? "hybrid (v1 + cgroup2 at /sys/fs/cgroup/unified)" : "not hybrid",
              node: process.version, hyperfine: hf,
              loadAverage: { atStart: e.LOAD_AT_START, atEnd: os.loadavg().map((x) => x.toFixed(2)).join(" ") } },
      runs: Number(e.RUNS), warmup: Number(e.WARMUP), runtimes,
      crunInPrivateMountNs: e.HYBRID === "1",
      nodeExtraCaCertsUnset: true,
    };
    require("node:fs").writeFileSync(process.argv[1], JSON.stringify(meta));
  ' "$META"

node "$HERE/report.mjs" "$RESULTS" "${BENCH_OUT:-}"
