/** RLIMIT names → resource numbers. Pure. The numbers are generated from <sys/resource.h>. */
import { invalid } from '../../common/errors.js';
import type { Rlimit } from '../../oci/spec.js';
import { RLIMIT_RESOURCES } from './kernel-constants.generated.js';

export const RLIMITS: Readonly<Record<string, number>> = RLIMIT_RESOURCES;

/** JSON numbers lose precision above 2^53; anything at or above 2^63 means "unlimited". */
function limitValue(v: number): bigint | 'unlimited' {
  if (v < 0 || v >= 2 ** 63) return 'unlimited';
  return BigInt(v);
}

export function planRlimits(rlimits: readonly Rlimit[] = []) {
  const seen = new Set<string>();
  return rlimits.map((r, i) => {
    const resource = Object.hasOwn(RLIMITS, r.type) ? RLIMITS[r.type] : undefined;
    if (resource === undefined) throw invalid(`config.json: process.rlimits[${i}].type: unknown rlimit '${r.type}'`, r.type);
    if (seen.has(r.type)) throw invalid(`config.json: process.rlimits[${i}]: duplicate rlimit '${r.type}'`, r.type);
    seen.add(r.type);
    const soft = limitValue(r.soft);
    const hard = limitValue(r.hard);
    if (hard !== 'unlimited' && (soft === 'unlimited' || soft > hard)) {
      throw invalid(`config.json: process.rlimits[${i}]: soft limit of '${r.type}' exceeds its hard limit`, r.type);
    }
    return { resource, soft, hard };
  });
}
