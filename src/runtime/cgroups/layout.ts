/**
 * Which cgroup hierarchies this host has, computed from /proc/self/mountinfo and
 * /proc/self/cgroup. Pure: the caller reads the two files.
 *
 * Three layouts exist in the wild: v1 (one hierarchy per controller or group of controllers),
 * hybrid (v1 controllers plus a cgroup2 mount, usually at /sys/fs/cgroup/unified, as systemd
 * sets up and as this project's CI machine has), and v2 (one cgroup2 mount at /sys/fs/cgroup).
 */
import { invalid } from '../../common/errors.js';

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

export interface Hierarchy {
  /** Where the hierarchy is mounted on the host. */
  mountpoint: string;
  /** v1 controllers (e.g. ['cpu','cpuacct']), `name=systemd` style names, or [] for cgroup2. */
  controllers: string[];
  version: 1 | 2;
  /** The path of the calling process inside this hierarchy ("/" at the root). */
  ownPath: string;
  /** The cgroup path that the mount's root corresponds to (mountinfo field 4). */
  mountRoot: string;
}

export interface CgroupLayout {
  mode: CgroupMode;
  hierarchies: Hierarchy[];
}

/** Unescapes mountinfo's octal escapes (\040 for a space). */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

export function parseCgroupLayout(mountinfo: string, procSelfCgroup: string): CgroupLayout {
  const own = ownCgroups(procSelfCgroup);
  const hierarchies: Hierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const fstype = right[0];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const mountRoot = unescapeMountinfo(left[3] ?? '/');
    const mountpoint = unescapeMountinfo(left[4] ?? '');
    if (fstype === 'cgroup2') {
      hierarchies.push({ mountpoint, controllers: [], version: 2, ownPath: ownPathIn(2, [], own), mountRoot });
      continue;
    }
    const superOpts = (right[2] ?? '').split(',');
    const controllers = superOpts.filter(
      (o) =>
        o !== 'rw' &&
        o !== 'ro' &&
        !o.startsWith('release_agent') &&
        o !== 'clone_children' &&
        o !== 'noprefix' &&
        o !== 'xattr' &&
        o !== 'cpuset_v2_mode',
    );
    hierarchies.push({ mountpoint, controllers, version: 1, ownPath: ownPathIn(1, controllers, own), mountRoot });
  }
  // The same hierarchy can be mounted twice (bind mounts): keep the first mount of each.
  const seen = new Set<string>();
  const unique = hierarchies.filter((h) => {
    const key = h.version === 2 ? 'cgroup2' : [...h.controllers].sort().join(',');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const v1 = unique.some((h) => h.version === 1);
  const v2 = unique.some((h) => h.version === 2);
  const mode: CgroupMode = v1 && v2 ? 'hybrid' : v1 ? 'v1' : 'v2';
  return { mode, hierarchies: unique };
}

/** /proc/self/cgroup: the caller's path per hierarchy, keyed by its controllers ('' for cgroup2). */
function ownCgroups(procSelfCgroup: string): Map<string, string> {
  const own = new Map<string, string>();
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, , names, path] = m as unknown as [string, string, string, string];
    own.set(names === '' ? '' : names, path);
  }
  return own;
}

function ownPathIn(version: 1 | 2, controllers: readonly string[], own: Map<string, string>): string {
  if (version === 2) return own.get('') ?? '/';
  const key = [...own.keys()].find((k) => {
    const names = k.split(',');
    return names.length === controllers.length && names.every((n) => controllers.includes(n));
  });
  return key === undefined ? '/' : (own.get(key) ?? '/');
}

/**
 * The layout with the caller's own cgroups read again (a fresh /proc/self/cgroup) and its
 * mounts as they were: a daemon reads mountinfo once, but may have been moved since.
 */
export function withOwnCgroups(layout: CgroupLayout, procSelfCgroup: string): CgroupLayout {
  const own = ownCgroups(procSelfCgroup);
  return { ...layout, hierarchies: layout.hierarchies.map((h) => ({ ...h, ownPath: ownPathIn(h.version, h.controllers, own) })) };
}

/**
 * Joins cgroup paths; a relative container path is placed under the caller's own cgroup, or on
 * cgroup2 under its parent, as runc does: the caller's own v2 cgroup holds processes, so the
 * "no internal processes" rule would forbid enabling controllers for a child of it.
 */
export function containerCgroupPath(h: Hierarchy, cgroupsPath: string): string {
  let base = h.ownPath.replace(/\/$/, '');
  if (h.version === 2 && base !== '') base = base.slice(0, base.lastIndexOf('/'));
  const rel = cgroupsPath.startsWith('/') ? cgroupsPath : `${base}/${cgroupsPath}`;
  // Paths in /proc/self/cgroup are relative to the hierarchy's root; a mount of a sub-tree
  // (mountRoot != "/") exposes them below its own root.
  const root = h.mountRoot === '/' ? '' : h.mountRoot;
  const inside = root && rel.startsWith(root) ? rel.slice(root.length) : rel;
  return normalize(inside);
}

function normalize(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/** The name a hierarchy gets under /sys/fs/cgroup in a container (cpu,cpuacct; name=systemd → systemd). */
export function hierarchyDirName(h: Hierarchy): string {
  if (h.version === 2) return 'unified';
  return h.controllers.map((c) => c.replace(/^name=/, '')).join(',');
}

/** The three cgroup drivers: which hierarchies a container's cgroups live in. */
export type CgroupDriverName = CgroupMode;

export const CGROUP_DRIVERS: readonly CgroupDriverName[] = ['v1', 'hybrid', 'v2'];

/**
 * The layout a driver uses on this host: `v1` keeps only the v1 hierarchies, `v2` only the
 * cgroup2 one (on a hybrid host: the cgroup2 mount with the controllers v1 left it), `hybrid`
 * both. Without a choice, what the host has. Refuses a driver the host cannot serve.
 */
export function selectLayout(layout: CgroupLayout, driver?: string): CgroupLayout {
  if (driver === undefined || driver === '' || driver === 'auto') return layout;
  if (!(CGROUP_DRIVERS as readonly string[]).includes(driver))
    throw invalid(`unknown cgroup driver '${driver}' (expected one of ${CGROUP_DRIVERS.join(', ')})`, driver);
  const v1 = layout.hierarchies.filter((h) => h.version === 1);
  const v2 = layout.hierarchies.filter((h) => h.version === 2);
  if (driver === 'v1') {
    if (v1.length === 0) throw invalid(`cgroup driver 'v1': this host has no cgroup v1 hierarchy (layout: ${layout.mode})`, driver);
    return { mode: 'v1', hierarchies: v1 };
  }
  if (driver === 'v2') {
    if (v2.length === 0) throw invalid(`cgroup driver 'v2': this host has no cgroup2 hierarchy (layout: ${layout.mode})`, driver);
    return { mode: 'v2', hierarchies: v2 };
  }
  if (v1.length === 0 || v2.length === 0) throw invalid(`cgroup driver 'hybrid': this host is not hybrid (layout: ${layout.mode})`, driver);
  return { mode: 'hybrid', hierarchies: layout.hierarchies };
}
