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
    const bit = CAPABILITIES.indexOf(name.toUpperCase() as (typeof CAPABILITIES)[number]);
    if (bit < 0 || ((grantable >> BigInt(bit)) & 1n) === 0n) unknown.push(name);
    else mask |= 1n << BigInt(bit);
  }
  return { mask, unknown };
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
