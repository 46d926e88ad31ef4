/** RLIMIT names → resource numbers (x86_64 and aarch64 agree). Pure. */
import { invalid } from '../../common/errors.js';
import type { Rlimit } from '../../oci/spec.js';

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
};

/** JSON numbers lose precision above 2^53; anything at or above 2^63 means "unlimited". */
function limitValue(v: number): bigint | 'unlimited' {
  if (v < 0 || v >= 2 ** 63) return 'unlimited';
  return BigInt(v);
}

export function planRlimits(rlimits: readonly Rlimit[] = []) {
  const seen = new Set<string>();
  return rlimits.map((r, i) => {
    const resource = RLIMITS[r.type];
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
