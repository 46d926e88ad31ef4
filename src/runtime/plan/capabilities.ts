/** Capability names → bits. Pure. The numbers are generated from <linux/capability.h>. */
import { invalid } from '../../common/errors.js';
import { CAPABILITY_BITS } from './kernel-constants.generated.js';

export type CapabilityName = keyof typeof CAPABILITY_BITS;

/** Every capability the headers define, by bit number (CAPABILITIES[n] has bit n). */
export const CAPABILITIES: readonly CapabilityName[] = (Object.keys(CAPABILITY_BITS) as CapabilityName[]).sort(
  (a, b) => CAPABILITY_BITS[a] - CAPABILITY_BITS[b],
);

/** The bit of a capability name (upper case), or undefined. */
export function capabilityBit(name: string): number | undefined {
  return Object.hasOwn(CAPABILITY_BITS, name) ? CAPABILITY_BITS[name as CapabilityName] : undefined;
}

export interface CapabilityResult {
  mask: bigint;
  /** Names that are not capabilities at all. */
  unknown: string[];
  /** Capabilities this host cannot grant (outside `grantable`). */
  ungrantable: string[];
}

/**
 * Turns names into a mask. config.md: a value that cannot be mapped to a kernel interface MUST
 * be an error, so names that are no capability are returned in `unknown` for the caller to throw;
 * a capability that cannot be granted SHOULD NOT fail the container but MUST be logged, so those
 * are returned in `ungrantable` for a warning.
 */
export function capabilityMask(names: readonly string[] = [], grantable: bigint = ~0n): CapabilityResult {
  let mask = 0n;
  const unknown: string[] = [];
  const ungrantable: string[] = [];
  for (const name of names) {
    const bit = capabilityBit(name.toUpperCase());
    if (bit === undefined) unknown.push(name);
    else if (((grantable >> BigInt(bit)) & 1n) === 0n) ungrantable.push(name);
    else mask |= 1n << BigInt(bit);
  }
  return { mask, unknown, ungrantable };
}

/** Throws for names that are no capability; warns (into `warnings`) for those this host cannot grant. */
export function capabilitySetMask(names: readonly string[] | undefined, set: string, grantable: bigint, warnings: string[]): bigint {
  const r = capabilityMask(names, grantable);
  const bad = r.unknown[0];
  if (bad !== undefined) throw invalid(`process.capabilities.${set}: unknown capability '${bad}'`, bad);
  for (const name of r.ungrantable) warnings.push(`capability '${name}' in process.capabilities.${set} cannot be granted: ignored`);
  return r.mask;
}

export function capabilityNames(mask: bigint): string[] {
  return CAPABILITIES.filter((name) => ((mask >> BigInt(CAPABILITY_BITS[name])) & 1n) === 1n);
}

export interface CapabilitySetsInput {
  bounding?: string[];
  effective?: string[];
  permitted?: string[];
  inheritable?: string[];
  ambient?: string[];
}

/** The five sets as masks; names that cannot be granted become warnings, unknown names errors. */
export function capabilitySets(
  caps: CapabilitySetsInput,
  grantable: bigint,
  warnings: string[],
): { bounding: bigint; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint } {
  const mask = (set: keyof CapabilitySetsInput) => capabilitySetMask(caps[set], set, grantable, warnings);
  return {
    bounding: mask('bounding'),
    effective: mask('effective'),
    permitted: mask('permitted'),
    inheritable: mask('inheritable'),
    ambient: mask('ambient'),
  };
}
