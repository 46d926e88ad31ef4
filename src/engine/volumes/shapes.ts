/**
 * Volumes as the Engine API shows them (dockerd 20.10's types.Volume, in its key order) and the
 * `filters` of `GET /volumes` and `POST /volumes/prune`, with dockerd's texts. Pure.
 */
import { BerthError } from '../../common/errors.js';
import { isAnonymous, LOCAL_DRIVER } from './names.js';

/** A volume as the store keeps it. */
export interface Volume {
  name: string;
  driver: string;
  /** `<data-root>/volumes/<name>/_data` */
  mountpoint: string;
  options: Record<string, string> | null;
  labels: Record<string, string> | null;
  createdAt: Date;
}

export interface ApiVolume {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string> | null;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string> | null;
  Scope: 'local';
  UsageData?: { Size: number; RefCount: number };
}

/** Go's time.RFC3339 of a local time, to the second: 2026-12-06T05:51:32Z, …T06:51:32+01:00. */
export function rfc3339(d: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${zone}`;
}

export function toApiVolume(v: Volume): ApiVolume {
  return {
    CreatedAt: rfc3339(v.createdAt),
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: v.mountpoint,
    Name: v.name,
    Options: v.options,
    Scope: 'local',
  };
}

const invalidFilter = (key: string) => new BerthError('invalid-argument', `Invalid filter '${key}'`, { object: 'filters' });

function checkKeys(filters: Map<string, string[]>, accepted: readonly string[]): void {
  for (const k of filters.keys()) if (!accepted.includes(k)) throw invalidFilter(k);
}

/** moby's filters.Match: an exact value, or a value that is a regular expression matching. */
function matchAny(values: readonly string[], source: string): boolean {
  for (const v of values) {
    if (v === source) return true;
    try {
      if (new RegExp(v).test(source)) return true;
    } catch {
      // not a valid expression: only an exact match counts (Go skips it too)
    }
  }
  return false;
}

/** moby's MatchKVList: every `key` or `key=value` holds. */
function matchLabels(values: readonly string[], labels: Record<string, string> | null): boolean {
  const l = labels ?? {};
  return values.every((v) => {
    const eq = v.indexOf('=');
    if (eq < 0) return Object.hasOwn(l, v);
    const key = v.slice(0, eq);
    return Object.hasOwn(l, key) && l[key] === v.slice(eq + 1);
  });
}

function boolFilter(filters: Map<string, string[]>, key: string): boolean | undefined {
  const values = filters.get(key);
  if (!values || values.length === 0) return undefined;
  const t = values.map((v) => v.toLowerCase());
  if (t.every((v) => v === 'true' || v === '1')) return true;
  if (t.every((v) => v === 'false' || v === '0')) return false;
  // Go's %v of the values: [a b]
  throw new BerthError('invalid-argument', `Invalid filter '${key}=[${values.join(' ')}]'`, { object: 'filters' });
}

/** What `GET /volumes?filters=` keeps: dangling, name, driver, label. `users` lists a volume's users. */
export function listFilter(filters: Map<string, string[]>, users: (name: string) => readonly string[]): (v: Volume) => boolean {
  checkKeys(filters, ['dangling', 'name', 'driver', 'label']);
  const dangling = boolFilter(filters, 'dangling');
  const name = filters.get('name') ?? [];
  const driver = filters.get('driver') ?? [];
  const label = filters.get('label') ?? [];
  return (v) => {
    if (name.length > 0 && !matchAny(name, v.name)) return false;
    if (driver.length > 0 && !matchAny(driver, v.driver)) return false;
    if (label.length > 0 && !matchLabels(label, v.labels)) return false;
    if (dangling !== undefined && (users(v.name).length === 0) !== dangling) return false;
    return true;
  };
}

function atLeast(version: string, min: string): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/**
 * What `POST /volumes/prune` may remove besides "unused" (the caller checks that): local volumes
 * matching `label`/`label!`. At API ≥ 1.42 (Docker 23) only anonymous ones unless `all=true`. At
 * 1.41 and below, as dockerd 20.10.24 does (checked on this machine; it knows no `all` filter):
 * every unused local volume except those created with driver options (a tmpfs or bind volume
 * is listed as dangling but never pruned).
 */
export function pruneFilter(filters: Map<string, string[]>, apiVersion: string): (v: Volume) => boolean {
  const v142 = atLeast(apiVersion, '1.42');
  checkKeys(filters, v142 ? ['label', 'label!', 'all'] : ['label', 'label!']);
  const all = v142 ? (boolFilter(filters, 'all') ?? false) : true;
  const label = filters.get('label') ?? [];
  const notLabel = filters.get('label!') ?? [];
  return (v) => {
    if (v.driver !== LOCAL_DRIVER) return false;
    if (!all && !isAnonymous(v.labels)) return false;
    if (!v142 && v.options !== null && Object.keys(v.options).length > 0) return false;
    if (label.length > 0 && !matchLabels(label, v.labels)) return false;
    // label!: a volume matching any of them is kept
    if (notLabel.some((l) => matchLabels([l], v.labels))) return false;
    return true;
  };
}
