/** Facts about the host and the caller that plans depend on. */
import { existsSync } from 'node:fs';
import type { IdMapHost } from '../plan/idmap.js';
import { ownCaps } from './caps.js';
import { idMapHost } from './rootless.js';

/**
 * What a plan needs to know of the host and of the caller: read by `readHostFacts`, once per
 * command, or once by a daemon (CreateOptions.hostFacts), whose capabilities and kernel do not
 * change under it.
 */
export interface HostFacts {
  /** Our own capability bounding set: a container cannot be given more. */
  grantableCaps: bigint;
  /** runc links /dev/core to /proc/kcore only when the kernel has one. */
  hostHasKcore: boolean;
  /** The caller as the id-map decision (plan/idmap.ts) needs it. */
  idMapHost: IdMapHost;
}

/** Our own capability bounding set: a container cannot be given more. */
export function grantableCaps(): bigint {
  return ownCaps().bounding;
}

/** Reads the facts now; `searchPath` as CreateOptions.searchPath. */
export function readHostFacts(searchPath = ''): HostFacts {
  const caps = ownCaps();
  return { grantableCaps: caps.bounding, hostHasKcore: existsSync('/proc/kcore'), idMapHost: idMapHost(searchPath, caps.effective) };
}
