#!/usr/bin/env bash
# berthd as a background service, for machines without an init system that manages it
# (this one has no systemd): start | stop | status | restart.
#
#   scripts/berthd.sh start      # detached (setsid), log in /var/log/berth/berthd.log; waits for /_ping
#   scripts/berthd.sh status     # "berthd is running (pid N)" (exit 0) or "berthd is stopped" (exit 3)
#   scripts/berthd.sh stop       # SIGTERM, then SIGKILL after $BERTH_STOP_TIMEOUT seconds (default 15)
#
# A private instance (tests, a second daemon) is set by the environment; only what is set is
# passed to berthd as a flag, so /etc/berth/daemon.json may hold the rest:
#   BERTH_DATA_ROOT  --data-root (the log then goes next to it: <dirname>/berthd.log)
#   BERTH_EXEC_ROOT  --exec-root (and the pid file <exec-root>/berthd.pid)
#   BERTH_HOST       -H (unix:///path or tcp://host:port; the socket start waits for)
#   BERTH_PIDFILE    --pidfile
#   BERTH_CONFIG_FILE --config-file
#   BERTH_LOG        the log file
#   BERTH_DOCKER_SOCKET  also listen where the docker CLI looks by default: 1 for
#                    /var/run/docker.sock, or a socket path (berthd gets a second -H)
#   BERTHD_ARGS      more flags, word-split (e.g. "--debug --insecure-registry localhost:5000")
#   BERTHD_CMD       the command (default: node <repo>/dist/berthd.cjs), word-split
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BERTHD_CMD="${BERTHD_CMD:-node $REPO/dist/berthd.cjs}"
HOST="${BERTH_HOST:-unix:///run/berth/berth.sock}"
if [ -n "${BERTH_PIDFILE:-}" ]; then
  PIDFILE="$BERTH_PIDFILE"
elif [ -n "${BERTH_EXEC_ROOT:-}" ]; then
  PIDFILE="$BERTH_EXEC_ROOT/berthd.pid"
else
  PIDFILE=/run/berth/berthd.pid
fi
if [ -n "${BERTH_LOG:-}" ]; then
  LOG="$BERTH_LOG"
elif [ -n "${BERTH_DATA_ROOT:-}" ]; then
  LOG="$(dirname "$BERTH_DATA_ROOT")/berthd.log"
else
  LOG=/var/log/berth/berthd.log
fi
START_TIMEOUT="${BERTH_START_TIMEOUT:-20}"
STOP_TIMEOUT="${BERTH_STOP_TIMEOUT:-15}"

log() { printf '%s\n' "$*" >&2; }

# Is the process alive? A zombie (exited, not yet reaped: init here may be slow to reap) is not.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat%% *}" != Z ]
}

# The pid in the pid file, if it names a live berthd (a pid left by a crash may since belong to
# another program: never signal that one).
live_pid() {
  local pid="" a args=()
  [ -r "$PIDFILE" ] || return 1
  read -r pid <"$PIDFILE" || true
  [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] && alive "$pid" || return 1
  # The whole command line: BERTHD_CMD may put interpreter options before berthd's path
  # (`node --cpu-prof --cpu-prof-dir=… dist/berthd.cjs`).
  mapfile -d '' args <"/proc/$pid/cmdline" 2>/dev/null || return 1
  for a in "${args[@]}"; do
    if [[ "$a" =~ (^|/)berthd(\.(c?js|mjs|ts))?$ ]]; then
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 1
}

# Does the API answer GET /_ping with OK?
ping_api() {
  local url sock=()
  case "$HOST" in
  unix://*)
    sock=(--unix-socket "${HOST#unix://}")
    url=http://localhost/_ping
    ;;
  tcp://*) url="http://${HOST#tcp://}/_ping" ;;
  *) url="http://$HOST/_ping" ;;
  esac
  if command -v curl >/dev/null 2>&1; then
    [ "$(curl -fsS --max-time 2 "${sock[@]}" "$url" 2>/dev/null)" = OK ]
  else
    node -e '
      const http = require("http");
      const [url, sock] = process.argv.slice(1);
      const req = http.get(url, sock ? { socketPath: sock, timeout: 2000 } : { timeout: 2000 }, (res) => {
        let b = ""; res.on("data", (d) => (b += d)); res.on("end", () => process.exit(res.statusCode === 200 && b === "OK" ? 0 : 1));
      });
      req.on("error", () => process.exit(1)); req.on("timeout", () => process.exit(1));' "$url" "${sock[1]:-}"
  fi
}

start() {
  local pid args=() waited=0
  if pid="$(live_pid)"; then
    echo "berthd is already running (pid $pid)"
    return 0
  fi
  [ -n "${BERTH_DATA_ROOT:-}" ] && args+=(--data-root "$BERTH_DATA_ROOT")
  [ -n "${BERTH_EXEC_ROOT:-}" ] && args+=(--exec-root "$BERTH_EXEC_ROOT")
  [ -n "${BERTH_HOST:-}" ] && args+=(-H "$BERTH_HOST")
  # A second listener for clients that know only Docker's socket (`docker` with no DOCKER_HOST).
  # Given -H, berthd listens only where told: name the first socket too.
  case "${BERTH_DOCKER_SOCKET:-}" in
  "" | 0) ;;
  *)
    [ -n "${BERTH_HOST:-}" ] || args+=(-H "$HOST")
    if [ "$BERTH_DOCKER_SOCKET" = 1 ]; then args+=(-H unix:///var/run/docker.sock); else args+=(-H "unix://$BERTH_DOCKER_SOCKET"); fi
    ;;
  esac
  [ -n "${BERTH_EXEC_ROOT:-}${BERTH_PIDFILE:-}" ] && args+=(--pidfile "$PIDFILE")
  [ -n "${BERTH_CONFIG_FILE:-}" ] && args+=(--config-file "$BERTH_CONFIG_FILE")
  # shellcheck disable=SC2206 # word-split on purpose
  args+=(${BERTHD_ARGS:-})
  mkdir -p "$(dirname "$LOG")"
  printf '==> %s berthd start: %s %s\n' "$(date -u +%FT%TZ)" "$BERTHD_CMD" "${args[*]}" >>"$LOG"
  # setsid: its own session, so neither this shell's exit nor its terminal's hangup reaches it
  # shellcheck disable=SC2086 # BERTHD_CMD is a command line
  setsid $BERTHD_CMD "${args[@]}" </dev/null >>"$LOG" 2>&1 &
  pid=$!
  # bounded: the API must answer within START_TIMEOUT seconds, and a daemon that exits is not waited for
  while ! ping_api; do
    if ! alive "$pid"; then
      wait "$pid" 2>/dev/null || true
      log "berthd exited during start; the end of $LOG:"
      tail -n 20 "$LOG" >&2
      return 1
    fi
    if [ "$waited" -ge $((START_TIMEOUT * 10)) ]; then
      log "berthd (pid $pid) did not answer on $HOST within ${START_TIMEOUT}s; stopping it. The end of $LOG:"
      tail -n 20 "$LOG" >&2
      kill -TERM "$pid" 2>/dev/null || true
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  echo "berthd is running (pid $pid), listening on $HOST; log: $LOG"
}

stop() {
  local pid i
  if ! pid="$(live_pid)"; then
    echo "berthd is stopped"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    log "berthd (pid $pid) did not exit within ${STOP_TIMEOUT}s of SIGTERM: sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    # it had no chance to remove its pid file
    local left=""
    read -r left <"$PIDFILE" 2>/dev/null || true
    if [ "$left" = "$pid" ]; then rm -f "$PIDFILE"; fi
  fi
  echo "berthd stopped (was pid $pid)"
}

status() {
  local pid
  if pid="$(live_pid)"; then
    echo "berthd is running (pid $pid)"
    return 0
  fi
  echo "berthd is stopped"
  return 3
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
restart)
  stop
  start
  ;;
*)
  echo "usage: $0 start|stop|status|restart" >&2
  exit 2
  ;;
esac
