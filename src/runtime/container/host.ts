/** Facts about the host that plans depend on, read once per command. */
import { readFileSync } from 'node:fs';

/** Our own capability bounding set: a container cannot be given more. */
export function grantableCaps(): bigint {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m?.[1] ? BigInt(`0x${m[1]}`) : ~0n;
}
