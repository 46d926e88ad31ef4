/**
 * Capabilities as dockerd computes them (moby's oci/caps): the 14 defaults, --cap-add and
 * --cap-drop with ALL, the CAP_ prefix optional and any case, and --privileged. Pure.
 */
import { BerthError } from '../../common/errors.js';

/** moby oci/caps/defaults.go DefaultCapabilities, in its order (the spec keeps it). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every capability by number (linux/capability.h), as gocapability lists them. */
export const ALL_CAPABILITIES: readonly string[] = [
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
];

/** The capabilities this host's kernel knows (/proc/sys/kernel/cap_last_cap). */
export function knownCapabilities(lastCap: number = ALL_CAPABILITIES.length - 1): string[] {
  return ALL_CAPABILITIES.slice(0, lastCap + 1);
}

/** "sys_admin", "CAP_SYS_ADMIN", "Sys_Admin" → "CAP_SYS_ADMIN"; "all" → "ALL". */
export function normalizeCapability(cap: string): string {
  const up = cap.toUpperCase();
  if (up === 'ALL') return 'ALL';
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/**
 * moby's caps.TweakCapabilities, literally: privileged → every known capability; no tweak → the
 * defaults; ALL in adds → every known one but the drops; ALL in drops → the adds as given;
 * otherwise the defaults minus the drops, then the adds appended (a default added again appears
 * twice, as in dockerd's spec).
 */
export function tweakCapabilities(
  add: readonly string[],
  drop: readonly string[],
  privileged: boolean,
  known: readonly string[],
): string[] {
  if (privileged) return [...known];
  if (add.length === 0 && drop.length === 0) return [...DEFAULT_CAPABILITIES];
  const normalize = (list: readonly string[], field: string) =>
    list.map((c) => {
      const n = normalizeCapability(c);
      if (n !== 'ALL' && !known.includes(n))
        throw new BerthError('invalid-argument', `invalid ${field}: unknown capability: "${n}"`, { object: field });
      return n;
    });
  const drops = normalize(drop, 'CapDrop');
  const adds = normalize(add, 'CapAdd');
  if (adds.includes('ALL')) return known.filter((c) => !drops.includes(c));
  if (drops.includes('ALL')) return adds;
  return [...DEFAULT_CAPABILITIES.filter((c) => !drops.includes(c)), ...adds];
}
