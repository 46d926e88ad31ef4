/**
 * The device cgroup rules of a container, computed as runc computes them. Pure.
 *
 * The rule list is the spec's `linux.resources.devices`, in order, followed by runc's default
 * allowed devices (mknod of anything; /dev/null, zero, full, tty, random, urandom, ptmx and the
 * pts range), minus the default device entries whose path the spec redefines in `linux.devices`.
 *
 * The rules are run through an emulator of the v1 kernel semantics (default-allow or
 * default-deny, plus a list of exceptions merged per device), as runc's devices emulator does.
 * The emulated end state then becomes, on v1, the minimal `devices.deny` / `devices.allow`
 * writes from what `devices.list` shows now, and on v2 a BPF_PROG_TYPE_CGROUP_DEVICE program
 * (bpf.ts). Both therefore enforce the same set.
 */
import { invalid } from '../../common/errors.js';
import type { DeviceCgroupRule } from './resources.js';

export type DeviceType = 'a' | 'b' | 'c';

/** A rule with wildcards as -1, permissions as a subset of "rwm". */
export interface DeviceRule {
  type: DeviceType;
  major: number;
  minor: number;
  access: string;
  allow: boolean;
}

const WILDCARD = -1;

/**
 * runc's AllowedDevices (libcontainer/specconv), without /dev/net/tun (10:200), which runc
 * dropped in 1.2 (opencontainers/runc#3468). `path` marks the entries a spec device overrides.
 */
export const DEFAULT_DEVICE_RULES: readonly (DeviceRule & { path?: string })[] = [
  { type: 'c', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true },
  { type: 'b', major: WILDCARD, minor: WILDCARD, access: 'm', allow: true },
  { path: '/dev/null', type: 'c', major: 1, minor: 3, access: 'rwm', allow: true },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, access: 'rwm', allow: true },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, access: 'rwm', allow: true },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, access: 'rwm', allow: true },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, access: 'rwm', allow: true },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, access: 'rwm', allow: true },
  // /dev/pts/*: devpts instances of the container
  { type: 'c', major: 136, minor: WILDCARD, access: 'rwm', allow: true },
  // /dev/ptmx
  { type: 'c', major: 5, minor: 2, access: 'rwm', allow: true },
];

/** 'b' before 'c'. Not localeCompare: its first call loads ICU collation, ~10 ms of every create. */
function byType(a: { type: string }, b: { type: string }): number {
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

function normalizeAccess(a: string): string {
  return ['r', 'w', 'm'].filter((c) => a.includes(c)).join('');
}

/** The spec's rules then the defaults, as runc's specconv orders them. */
export function containerDeviceRules(specRules: readonly DeviceCgroupRule[] = [], specDevicePaths: readonly string[] = []): DeviceRule[] {
  const out: DeviceRule[] = specRules.map((r, i) => {
    const type = (r.type || 'a') as DeviceType;
    if (type !== 'a' && type !== 'b' && type !== 'c')
      throw invalid(`linux.resources.devices[${i}].type: invalid device type '${String(r.type)}'`, String(r.type));
    return {
      type,
      major: r.major ?? WILDCARD,
      minor: r.minor ?? WILDCARD,
      // runc: an empty access means all of them
      access: normalizeAccess(r.access || 'rwm'),
      allow: r.allow,
    };
  });
  for (const d of DEFAULT_DEVICE_RULES) {
    if (d.path && specDevicePaths.includes(d.path)) continue;
    out.push({ type: d.type, major: d.major, minor: d.minor, access: d.access, allow: d.allow });
  }
  return out;
}

/** "c 1:3 rwm", "b *:* m", "a" — the devices.allow / devices.deny / devices.list syntax. */
export function ruleString(r: Pick<DeviceRule, 'type' | 'major' | 'minor' | 'access'>): string {
  if (r.type === 'a') return 'a *:* rwm';
  const n = (x: number) => (x === WILDCARD ? '*' : String(x));
  return `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

function key(r: { type: string; major: number; minor: number }): string {
  return `${r.type} ${r.major} ${r.minor}`;
}

function union(a: string, b: string): string {
  return normalizeAccess(a + b);
}

function difference(a: string, b: string): string {
  return [...a].filter((c) => !b.includes(c)).join('');
}

function intersects(a: string, b: string): boolean {
  return [...a].some((c) => b.includes(c));
}

export interface DeviceException {
  type: 'b' | 'c';
  major: number;
  minor: number;
  access: string;
}

/**
 * The state of a v1 devices cgroup: a default (allow-all or deny-all) and exceptions to it,
 * one per (type, major, minor) with merged permissions.
 */
export class DeviceEmulator {
  defaultAllow = true;
  readonly exceptions = new Map<string, DeviceException>();

  static fromRules(rules: readonly DeviceRule[]): DeviceEmulator {
    const e = new DeviceEmulator();
    for (const r of rules) e.apply(r);
    return e;
  }

  /**
   * The state `devices.list` shows. A default-allow cgroup lists only "a *:* rwm" and hides its
   * deny exceptions, so such a list is read as "allow all, exceptions unknown".
   */
  static fromList(list: string): DeviceEmulator {
    const e = new DeviceEmulator();
    e.defaultAllow = false;
    for (const line of list.split('\n')) {
      const t = line.trim();
      if (!t) continue;
      const m = /^([abc])\s+(\d+|\*):(\d+|\*)\s+([rwm]+)$/.exec(t);
      if (!m) throw invalid(`devices.list: unexpected line '${t}'`, 'devices.list');
      const num = (s: string) => (s === '*' ? WILDCARD : Number(s));
      if (m[1] === 'a') {
        e.apply({ type: 'a', major: WILDCARD, minor: WILDCARD, access: 'rwm', allow: true });
        continue;
      }
      e.apply({ type: m[1] as DeviceType, major: num(m[2] ?? '*'), minor: num(m[3] ?? '*'), access: m[4] ?? '', allow: true });
    }
    return e;
  }

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      // "a" resets the cgroup: allow-all (black list) or deny-all (white list)
      this.defaultAllow = rule.allow;
      this.exceptions.clear();
      return;
    }
    const ex: DeviceException = { type: rule.type, major: rule.major, minor: rule.minor, access: normalizeAccess(rule.access) };
    if (ex.access === '') return;
    // An allow rule adds an exception to a deny-all cgroup and removes one from an allow-all one.
    if (rule.allow !== this.defaultAllow) this.add(ex);
    else this.remove(ex);
  }

  private add(ex: DeviceException): void {
    const k = key(ex);
    const old = this.exceptions.get(k);
    this.exceptions.set(k, { ...ex, access: union(old?.access ?? '', ex.access) });
  }

  private remove(ex: DeviceException): void {
    // cgroup v1 silently ignores removing part of a wildcard exception; like runc, refuse
    // instead of leaving a hole the user believes is closed.
    for (const partial of [
      { type: ex.type, major: WILDCARD, minor: ex.minor },
      { type: ex.type, major: ex.major, minor: WILDCARD },
      { type: ex.type, major: WILDCARD, minor: WILDCARD },
    ]) {
      if (key(partial) === key(ex)) continue;
      const p = this.exceptions.get(key(partial));
      if (p && intersects(p.access, ex.access)) {
        throw invalid(
          `device rule '${ruleString(ex)}' cannot be applied: it would punch a hole in the wildcard rule '${ruleString(p)}' (not supported by the devices cgroup)`,
          ruleString(ex),
        );
      }
    }
    const k = key(ex);
    const old = this.exceptions.get(k);
    if (!old) return;
    const left = difference(old.access, ex.access);
    if (left === '') this.exceptions.delete(k);
    else this.exceptions.set(k, { ...old, access: left });
  }

  /** The exceptions sorted by (major, minor, type), as runc writes them. */
  sorted(): DeviceException[] {
    return [...this.exceptions.values()].sort((a, b) => a.major - b.major || a.minor - b.minor || byType(a, b));
  }

  /** Whether the cgroup would permit `access` on a device (the kernel's check). */
  permits(type: 'b' | 'c', major: number, minor: number, access: string): boolean {
    const acc = normalizeAccess(access);
    const matches = (ex: DeviceException) =>
      ex.type === type && (ex.major === WILDCARD || ex.major === major) && (ex.minor === WILDCARD || ex.minor === minor);
    if (this.defaultAllow) return ![...this.exceptions.values()].some((ex) => matches(ex) && intersects(ex.access, acc));
    return [...this.exceptions.values()].some((ex) => matches(ex) && difference(acc, ex.access) === '');
  }
}

export interface DeviceWrite {
  file: 'devices.allow' | 'devices.deny';
  value: string;
}

/**
 * The writes that take a v1 devices cgroup from its current state (`devices.list`) to the
 * target: a disruptive "a" only when the default must change (or the current default-allow
 * state hides its exceptions), then the permissions to drop and the ones to add.
 */
export function v1DeviceWrites(currentList: string, target: DeviceEmulator): DeviceWrite[] {
  const source = DeviceEmulator.fromList(currentList);
  const writes: DeviceWrite[] = [];
  let old = source.exceptions;
  if (source.defaultAllow || source.defaultAllow !== target.defaultAllow) {
    writes.push({ file: target.defaultAllow ? 'devices.allow' : 'devices.deny', value: 'a *:* rwm' });
    old = new Map();
  }
  // In a deny-all cgroup exceptions are allowances, in an allow-all one denials.
  const grant: DeviceWrite['file'] = target.defaultAllow ? 'devices.deny' : 'devices.allow';
  const revoke: DeviceWrite['file'] = target.defaultAllow ? 'devices.allow' : 'devices.deny';
  const oldSorted = [...old.values()].sort((a, b) => a.major - b.major || a.minor - b.minor || byType(a, b));
  for (const ex of oldSorted) {
    const dropped = difference(ex.access, target.exceptions.get(key(ex))?.access ?? '');
    if (dropped) writes.push({ file: revoke, value: ruleString({ ...ex, access: dropped }) });
  }
  for (const ex of target.sorted()) {
    const gained = difference(ex.access, old.get(key(ex))?.access ?? '');
    if (gained) writes.push({ file: grant, value: ruleString({ ...ex, access: gained }) });
  }
  return writes;
}
