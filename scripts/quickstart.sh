#!/usr/bin/env bash
# The first command of the README: install everything, run a container the way runc's README
# does (a bundle with a busybox root filesystem, `spec`, `run`, `list`), then make busybox:latest
# available offline and run `berth run --rm busybox echo hello from berth` (berth starts berthd on
# demand), and the same through the docker CLI when one is installed. `bash scripts/berthd.sh
# stop` stops berthd (its containers keep running: live-restore).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
RT="$(command -v berth-runtime || echo "$PWD/native/build/berth-runtime")"

demo="$(mktemp -d /tmp/berth-demo.XXXXXX)"
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/rootfs/bin"
cp /bin/busybox "$demo/rootfs/bin/busybox"
# One relative link per applet (sh, ls, …), so they resolve inside the container.
for applet in $(/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "$demo/rootfs/bin/$applet"
done
cd "$demo"
"$RT" spec
# runc's default spec runs an interactive `sh` on a terminal; when this script is not on one,
# run a command that shows the container from inside instead.
if [ -t 0 ] && [ -t 1 ]; then
  echo "==> berth-runtime run demo  (an interactive shell in the container: type 'exit' to leave)"
else
  node -e '
    const fs = require("fs"); const c = JSON.parse(fs.readFileSync("config.json", "utf8"));
    c.process.terminal = false;
    c.process.args = ["sh", "-c", "echo \"hello from $(hostname): pid $$, $(id)\"; ls /"];
    fs.writeFileSync("config.json", JSON.stringify(c, null, "\t"));'
  echo "==> berth-runtime run demo"
fi
"$RT" run demo
"$RT" list
cd - >/dev/null

echo "==> busybox:latest from this machine's busybox-static (no internet needed)"
node --import tsx scripts/busybox-image.ts
# berth starts berthd on demand (as root, when nothing answers on /run/berth/berth.sock): it
# says so on stderr and logs to /var/log/berth/berthd.log. `bash scripts/berthd.sh stop` stops it.
BERTH="$(command -v berth || echo "node $PWD/dist/berth.cjs")"
echo "==> berth run --rm busybox echo hello from berth"
$BERTH run --rm busybox echo hello from berth
DOCKER="$(command -v /usr/local/bin/docker || command -v docker || true)"
if [ -n "$DOCKER" ]; then
  echo "==> the docker CLI against berthd: DOCKER_HOST=unix:///run/berth/berth.sock docker run --rm busybox …"
  DOCKER_HOST=unix:///run/berth/berth.sock "$DOCKER" run --rm busybox sh -c 'echo "hello from berthd: $(hostname), $(id)"'
fi
