/**
 * `docker run --init` as dockerd does it (daemon/oci_linux.go WithCommonOptions): the init binary
 * (docker-init, which is tini; the daemon's --init-path overrides it) bind-mounted read-only at
 * /sbin/docker-init, and the process's args prefixed with `/sbin/docker-init --`, so the init is
 * PID 1, forwards signals and reaps zombies. `applyInit` is pure; `findInit` looks on the host.
 */
import { existsSync } from 'node:fs';
import type { Spec } from '../../oci/spec.js';

export const INIT_DESTINATION = '/sbin/docker-init';

/** Debian's tini: `docker-init` is its link to tini-static (a static binary works in any image). */
const CANDIDATES = ['/usr/bin/docker-init', '/usr/libexec/docker/docker-init', '/usr/bin/tini-static', '/usr/local/bin/docker-init'];

export function findInit(configured: string | undefined): string | undefined {
  if (configured) return configured;
  return CANDIDATES.find((p) => existsSync(p));
}

export function applyInit(spec: Spec, initPath: string): Spec {
  const args = spec.process?.args ?? [];
  return {
    ...spec,
    ...(spec.process ? { process: { ...spec.process, args: [INIT_DESTINATION, '--', ...args] } } : {}),
    mounts: [...(spec.mounts ?? []), { destination: INIT_DESTINATION, type: 'bind', source: initPath, options: ['bind', 'ro'] }],
  };
}
