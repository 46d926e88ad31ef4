/**
 * Containers created without root: what the host contributes to the id maps (our ids, our
 * capabilities, the newuidmap/newgidmap helpers), whether cgroup permission errors are ignored
 * (runc's --rootless), and where such a container's cgroups can go.
 *
 * The cgroup rule is runc's (libcontainer/cgroups/fs and fs2): with rootless cgroups and no
 * explicit `linux.cgroupsPath`, a hierarchy we may not write to is skipped and the container
 * stays in the caller's cgroup there; this is an error only when the config asks for a limit that
 * hierarchy would enforce ("cannot set memory limit: container could not join or create cgroup").
 * An explicit cgroupsPath that we may not use is an error. A cgroup delegated to the user (a
 * directory they own, as systemd's Delegate=yes gives them) is used like root's, except for the
 * device rules, which need CAP_SYS_ADMIN and are not applied (runc ignores their failure).
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, invalid } from '../../common/errors.js';
import type { Spec } from '../../oci/spec.js';
import { type CgroupLayout, containerCgroupPath, hierarchyDirName } from '../cgroups/layout.js';
import { type CgroupDir, managerFor } from '../cgroups/manager.js';
import { type LinuxResources, parseResources } from '../cgroups/resources.js';
import type { IdMapHost } from '../plan/idmap.js';
import { CAPABILITY_BITS } from '../plan/kernel-constants.generated.js';
import { ownCaps } from './caps.js';

const { CAP_SETGID, CAP_SETUID } = CAPABILITY_BITS;

/** A program on PATH, else in the usual system directories (setuid helpers live in /usr/bin). */
export function findProgram(name: string, envPath = ''): string | undefined {
  const dirs = [...envPath.split(':').filter((d) => d.startsWith('/')), '/usr/bin', '/usr/sbin', '/bin', '/sbin'];
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The caller, as the id-map decision (plan/idmap.ts) needs it; `caps`: its effective set, when read already. */
export function idMapHost(searchPath = '', caps = ownCaps().effective): IdMapHost {
  const euid = process.geteuid?.() ?? 0;
  const root = euid === 0;
  return {
    euid,
    egid: process.getegid?.() ?? 0,
    capSetuid: root && ((caps >> BigInt(CAP_SETUID)) & 1n) === 1n,
    capSetgid: root && ((caps >> BigInt(CAP_SETGID)) & 1n) === 1n,
    newuidmap: findProgram('newuidmap', searchPath),
    newgidmap: findProgram('newgidmap', searchPath),
  };
}

/** True inside a user namespace other than the initial one (runc's userns.RunningInUserNS). */
export function runningInUserNamespace(): boolean {
  try {
    const fields = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return !(fields.length === 3 && fields[0] === '0' && fields[1] === '0' && fields[2] === '4294967295');
  } catch {
    return false;
  }
}

/**
 * runc's global `--rootless true|false|auto`: whether cgroup permission errors are ignored. Auto:
 * yes when not root, or when root of a user namespace (which cannot know whether it was
 * delegated its cgroups); no for the real root.
 */
export function rootlessCgroups(flag: string | undefined): boolean {
  const v = (flag ?? 'auto').toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  if (v !== 'auto') throw invalid(`invalid --rootless value '${flag}': expected true, false or auto`, 'rootless');
  if ((process.geteuid?.() ?? 0) !== 0) return true;
  return runningInUserNamespace();
}

const nz = (v: unknown): boolean => {
  if (v === undefined || v === null || v === 0 || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.some(nz);
  if (typeof v === 'object') return Object.values(v as object).some(nz);
  return true;
};

/**
 * The controllers `linux.resources` would write to (v1 names; 'unified' for `unified` keys),
 * without the device rules, which a rootless container does not get. Pure.
 */
export function controllersWanted(r: LinuxResources): Set<string> {
  const out = new Set<string>();
  const { memory, cpu, pids, blockIO, hugepageLimits, network, rdma, unified } = r;
  if (nz(memory) || memory?.swappiness === 0) out.add('memory');
  if (nz(cpu?.cpus) || nz(cpu?.mems)) out.add('cpuset');
  if (nz({ ...cpu, cpus: undefined, mems: undefined })) out.add('cpu');
  if (nz(pids)) out.add('pids');
  if (nz(blockIO)) out.add('blkio');
  if (nz(hugepageLimits)) out.add('hugetlb');
  if (nz(network?.classID)) out.add('net_cls');
  if (nz(network?.priorities)) out.add('net_prio');
  if (nz(rdma)) out.add('rdma');
  if (Object.keys(unified ?? {}).length > 0) out.add('unified');
  return out;
}

function writable(file: string): boolean {
  try {
    accessSync(file, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The common ancestor of two cgroup paths ('/a/b', '/a/c' → '/a'). */
function commonAncestor(a: string, b: string): string {
  const x = a.split('/').filter(Boolean);
  const y = b.split('/').filter(Boolean);
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return `/${x.slice(0, i).join('/')}`;
}

/**
 * Makes the container's cgroup in one hierarchy if the caller may: the directory can be created
 * and the init process can then be moved in (write access to its cgroup.procs, and on cgroup2
 * also to the common ancestor's with the caller's own cgroup, which the kernel checks too).
 * Returns undefined, having removed whatever it created, when not.
 */
function tryCgroup(d: CgroupDir): { error?: unknown } {
  // The levels that do not exist yet, to remove them again if the cgroup cannot be used.
  const made: string[] = [];
  for (let p = d.dir; p !== d.hierarchy.mountpoint && p.startsWith(d.hierarchy.mountpoint) && !existsSync(p); p = path.dirname(p))
    made.push(p);
  try {
    mkdirSync(d.dir, { recursive: true });
  } catch (err) {
    return { error: err };
  }
  let ok = writable(`${d.dir}/cgroup.procs`);
  if (ok && d.hierarchy.version === 2) {
    const own = containerCgroupPath(d.hierarchy, d.hierarchy.ownPath);
    const anc = commonAncestor(own, d.path);
    ok = writable(`${d.hierarchy.mountpoint}${anc === '/' ? '' : anc}/cgroup.procs`);
  }
  if (ok) return {};
  for (const p of made) {
    try {
      rmdirSync(p);
    } catch {
      // not ours to insist on
    }
  }
  const err = Object.assign(new Error('permission denied'), { code: 'EACCES' });
  return { error: err };
}

export interface RootlessCgroups {
  /** The cgroups the container gets (each made, with its resources written). */
  dirs: CgroupDir[];
  /** What the container's `cgroup` mount shows: its own cgroups, else the caller's. */
  mountDirs: CgroupDir[];
  warnings: string[];
}

/**
 * create's cgroup step with rootless cgroups: each hierarchy is used if the caller may write to
 * it (a delegated cgroup), and skipped otherwise, following runc's rule above.
 */
export async function setUpRootlessCgroups(layout: CgroupLayout, dirs: readonly CgroupDir[], spec: Spec): Promise<RootlessCgroups> {
  const kept: CgroupDir[] = [];
  try {
    return await placeCgroups(layout, dirs, spec, kept);
  } catch (err) {
    // Nothing is left behind: the cgroups made so far are empty still.
    for (const d of kept.reverse()) {
      try {
        rmdirSync(d.dir);
      } catch {
        // best effort
      }
    }
    throw err;
  }
}

async function placeCgroups(layout: CgroupLayout, dirs: readonly CgroupDir[], spec: Spec, kept: CgroupDir[]): Promise<RootlessCgroups> {
  const resources = parseResources(spec.linux?.resources);
  const explicit = !!spec.linux?.cgroupsPath;
  const wanted = controllersWanted(resources);
  const mountDirs: CgroupDir[] = [];
  const skipped: string[] = [];
  for (const d of dirs) {
    const { error } = tryCgroup(d);
    if (error === undefined) {
      kept.push(d);
      mountDirs.push(d);
      continue;
    }
    const code = errnoCode(error);
    const ignorable = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
    if (!ignorable || explicit) throw fromErrno('create cgroup', d.dir, error);
    const h = d.hierarchy;
    // v1: the controllers of this hierarchy; cgroup2: whatever v1 does not have.
    const serves =
      h.version === 1
        ? h.controllers
        : [...wanted].filter((c) => c === 'unified' || !layout.hierarchies.some((o) => o.controllers.includes(c)));
    const missing = serves.find((c) => wanted.has(c));
    if (missing !== undefined)
      throw new BerthError(
        'failed-precondition',
        h.version === 1
          ? `cannot set ${missing} limit: container could not join or create cgroup '${d.dir}' (rootless, no permission): give the user a delegated cgroup or remove the limit`
          : `rootless needs no limits + no cgrouppath when no permission is granted for cgroups: cannot create cgroup '${d.dir}'`,
        { object: d.dir },
      );
    skipped.push(hierarchyDirName(h));
    const own = containerCgroupPath(h, h.ownPath);
    mountDirs.push({ hierarchy: h, path: own, dir: `${h.mountpoint}${own === '/' ? '' : own}` });
  }
  const m = managerFor(kept);
  m.create(resources);
  const warnings = await m.apply(resources, { skipDevices: true });
  if (skipped.length > 0)
    warnings.unshift(
      `rootless: cgroups not set up (no permission to create them): ${skipped.join(', ')}: the container stays in the caller's cgroups there, without limits`,
    );
  return { dirs: kept, mountDirs, warnings };
}
