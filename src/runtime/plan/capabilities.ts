/** Capability names → bits. Pure. The numbers are generated from <linux/capability.h>. */
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
  /** Names that are not capabilities, or that this host cannot grant. */
  unknown: string[];
}

/**
 * Turns names into a mask. The runtime-spec says a capability that cannot be granted SHOULD NOT
 * fail the container but MUST be logged, so unknown names and bits outside `grantable` are
 * returned for a warning instead of thrown.
 */
export function capabilityMask(names: readonly string[] = [], grantable: bigint = ~0n): CapabilityResult {
  let mask = 0n;
  const unknown: string[] = [];
  for (const name of names) {
    const bit = capabilityBit(name.toUpperCase());
    if (bit === undefined || ((grantable >> BigInt(bit)) & 1n) === 0n) unknown.push(name);
    else mask |= 1n << BigInt(bit);
  }
  return { mask, unknown };
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

/** The five sets as masks; names that cannot be granted become warnings. */
export function capabilitySets(
  caps: CapabilitySetsInput,
  grantable: bigint,
  warnings: string[],
): { bounding: bigint; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint } {
  const mask = (set: keyof CapabilitySetsInput) => {
    const r = capabilityMask(caps[set], grantable);
    for (const name of r.unknown) warnings.push(`capability '${name}' in process.capabilities.${set} cannot be granted: ignored`);
    return r.mask;
  };
  return {
    bounding: mask('bounding'),
    effective: mask('effective'),
    permitted: mask('permitted'),
    inheritable: mask('inheritable'),
    ambient: mask('ambient'),
  };
}
