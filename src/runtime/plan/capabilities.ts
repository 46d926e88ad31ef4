import { invalid } from '../../common/errors.js';

/** Capability names → bits. Pure. Numbers from linux/capability.h. */
export const CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

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
    const bit = CAPABILITIES.indexOf(name.toUpperCase() as (typeof CAPABILITIES)[number]);
    if (bit < 0) unknown.push(name);
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
  return CAPABILITIES.filter((_, i) => ((mask >> BigInt(i)) & 1n) === 1n);
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
