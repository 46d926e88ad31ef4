/** Facts about the host and the caller that plans depend on. */
import { existsSync, readFileSync } from 'node:fs';
import type { IdMapHost } from '../plan/idmap.js';
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

/** Our capability sets from /proc/self/status (one read for both). */
function ownCaps(): { bounding: bigint; effective: bigint } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string, missing: bigint) => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    return m?.[1] ? BigInt(`0x${m[1]}`) : missing;
  };
  return { bounding: field('CapBnd', ~0n), effective: field('CapEff', 0n) };
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
