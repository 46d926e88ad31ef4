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
#   containerd docker.io the real clients that test/containerd.test.ts and test/dockerd.test.ts
#                        drive berth-runtime with (ctr, the runc v2 shim, dockerd). Debian's
#                        docker.io puts its client at /usr/bin/docker; a newer client at
#                        /usr/local/bin/docker, if there is one, is left alone (it comes first
#                        on PATH, and the tests use both).
#   util-linux           `script`, which gives `docker run -it` a terminal in the tests; `fincore`
#   uidmap passwd        newuidmap/newgidmap (setuid) for rootless containers with subordinate
#                        ids; useradd/userdel, with which test/userns.test.ts makes its own user
#   clang libclang-rt-14-dev  libFuzzer and the address/undefined sanitizers: the fuzz targets of
#                        berth-nsinit's plan reader and resolve_in_root (native/test/, npm run fuzz;
#                        test/fuzz.test.ts runs them briefly). gcc has no libFuzzer; Debian's clang
#                        keeps its runtime libraries in libclang-rt-14-dev.
#   docker-registry      the real registry (distribution 2.8) that the image tests pull from and push to
#   skopeo umoci         interop peers: OCI layouts and registry copies (tests, bench/pull.sh)
#   apache2-utils        htpasswd (bcrypt), for the registry's basic-auth tests
#   openssl              keys and certificates for the registry's token-auth tests
#   zstd pigz isal       zstd and gzip tools: test fixtures, and the peers' decompressors in bench/
#   libisal-dev libzstd-dev  berth-unpack inflates gzip layers with ISA-L (the code of igzip) and zstd
#                        layers with libzstd, in-process (native/unpack/decompress.c)
#   libssl-dev           libcrypto for the sha256 of berth-unpack (uncompressed layer) and berth-ingest (blob), SHA-NI
#   musl-tools           musl-gcc: berth-shim is linked statically against musl (one shim per
#                        container: ~200 kB RSS against ~770 kB static glibc, 1.6 MB dynamic)
#   tini                 /usr/bin/tini-static: berthd's `docker run --init` (bind-mounted at
#                        /sbin/docker-init, as dockerd does with its docker-init, which is tini)
PACKAGES=(gcc make libc6-dev busybox-static runc crun hyperfine time iproute2 procps containerd docker.io util-linux uidmap passwd clang libclang-rt-14-dev docker-registry skopeo umoci apache2-utils openssl zstd pigz isal libisal-dev libzstd-dev libssl-dev musl-tools tini)

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
  # containerd and docker.io start their daemons from their maintainer scripts (through
  # invoke-rc.d, or deb-systemd-invoke on systemd hosts). The tests start their own daemons with
  # private roots and sockets; a system daemon would only hold /run/containerd, /var/lib/docker
  # and the host's iptables. invoke-rc.d asks /usr/sbin/policy-rc.d first, and exit status 101
  # means "action forbidden" (Debian policy, /usr/share/doc/init-system-helpers/README.policy-rc.d),
  # which both helpers honour on any init system; RUNLEVEL tricks only work with sysvinit's
  # scripts. So: forbid service starts for the duration of the install, with a policy-rc.d of our
  # own that is removed afterwards (an existing one, e.g. a container image's, is kept as it is).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by berth scripts/install.sh for the duration of apt-get install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  daemons() { pgrep -x dockerd || true; pgrep -x containerd || true; }
  before=" $(daemons | tr '\n' ' ') "
  status=0
  apt-get update -qq || status=$?
  if [ "$status" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  fi
  rm_policy="$(trap -p EXIT)"
  if [ -n "$rm_policy" ]; then
    rm -f "$policy"
    trap - EXIT
  fi
  # Belt and braces: a system daemon (the packages' defaults: containerd without --config,
  # dockerd without --data-root) that was not running before was started by the install; stop
  # it, by pid. Daemons with private configuration (the tests') are not ours to touch.
  for pid in $(daemons); do
    case "$before" in *" $pid "*) continue ;; esac
    args="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    case "$args" in *--config* | *" -c "* | *--data-root*) continue ;; esac
    echo "install.sh: stopping '$args' (pid $pid), started by the package install" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ "$status" -eq 0 ] || exit "$status"
fi

echo "==> npm ci (builds native/ and dist/)"
npm ci --no-audit --no-fund --loglevel=error

if [ "${BERTH_NO_GLOBAL:-}" != 1 ]; then
  echo "==> npm install -g . (berth-runtime on PATH)"
  npm install -g . --no-audit --no-fund --loglevel=error >/dev/null
fi
echo "==> installed: $(command -v berth-runtime || echo "native/build/berth-runtime")"
