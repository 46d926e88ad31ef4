/** Our own capability sets, from /proc/self/status. */
import { readFileSync } from 'node:fs';

/** The bounding and effective sets, from one read of /proc/self/status. */
export function ownCaps(): { bounding: bigint; effective: bigint } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string, missing: bigint) => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    return m?.[1] ? BigInt(`0x${m[1]}`) : missing;
  };
  return { bounding: field('CapBnd', ~0n), effective: field('CapEff', 0n) };
}
