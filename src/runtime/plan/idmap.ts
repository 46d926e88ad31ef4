/**
 * User namespaces: who writes a new namespace's id maps, and what the process may then do. Pure:
 * the caller's ids, privileges and the helpers found on PATH come in through IdMapHost.
 *
 * The parent stage writes /proc/<pid>/uid_map and gid_map of the init stage (user_namespaces(7)):
 *
 * - with CAP_SETUID (CAP_SETGID) over the parent namespace, i.e. as root, any map is written
 *   directly;
 * - without it, the kernel accepts one line only, mapping the writer's own euid (egid); for
 *   gid_map only after `deny` was written to /proc/<pid>/setgroups;
 * - anything wider (0 → a subordinate range of /etc/subuid, /etc/subgid) goes through the setuid
 *   helpers newuidmap and newgidmap (Debian's `uidmap`), which check those files and decide
 *   setgroups themselves.
 *
 * This is runc's rule (nsexec.c: setgroups `deny` for a rootless single mapping, the mapping
 * tools otherwise), decided here rather than found out by trying.
 */
import { BerthError, invalid } from '../../common/errors.js';
import type { IdMap } from './plan.js';

export interface IdMapHost {
  euid: number;
  egid: number;
  /** The caller holds CAP_SETUID (CAP_SETGID) in its user namespace: root. */
  capSetuid: boolean;
  capSetgid: boolean;
  /** Paths of the mapping helpers, when installed. */
  newuidmap?: string;
  newgidmap?: string;
}

export interface IdMapWriters {
  /** Run this helper for uid_map instead of writing it (absent: the parent stage writes it). */
  uidMapTool?: string;
  gidMapTool?: string;
  /** `deny` when an unprivileged parent writes gid_map itself, as the kernel requires. */
  setgroups?: 'deny';
}

function ownIdOnly(maps: readonly IdMap[], id: number): boolean {
  return maps.length === 1 && maps[0]?.outside === id && maps[0].count === 1;
}

function describe(maps: readonly IdMap[]): string {
  return maps.map((m) => `${m.inside}→${m.outside} (${m.count})`).join(', ');
}

/** Decides, for a new user namespace, how each map is written. */
export function idMapWriters(uidMaps: readonly IdMap[], gidMaps: readonly IdMap[], host: IdMapHost): IdMapWriters {
  const out: IdMapWriters = {};
  if (!host.capSetuid && !ownIdOnly(uidMaps, host.euid)) {
    if (!host.newuidmap)
      throw new BerthError(
        'failed-precondition',
        `config.json: linux.uidMappings: ${describe(uidMaps)} maps more than the caller's own uid ${host.euid}: an unprivileged user needs newuidmap (Debian package uidmap) and /etc/subuid entries, and newuidmap is not on PATH`,
        { object: 'linux.uidMappings' },
      );
    out.uidMapTool = host.newuidmap;
  }
  if (!host.capSetgid) {
    if (ownIdOnly(gidMaps, host.egid)) out.setgroups = 'deny';
    else if (!host.newgidmap)
      throw new BerthError(
        'failed-precondition',
        `config.json: linux.gidMappings: ${describe(gidMaps)} maps more than the caller's own gid ${host.egid}: an unprivileged user needs newgidmap (Debian package uidmap) and /etc/subgid entries, and newgidmap is not on PATH`,
        { object: 'linux.gidMappings' },
      );
    else out.gidMapTool = host.newgidmap;
  }
  return out;
}

/** Whether `id` (a container id) falls inside one of the maps. */
export function isMapped(maps: readonly IdMap[], id: number): boolean {
  return maps.some((m) => id >= m.inside && id < m.inside + m.count);
}

/**
 * What a process in a new user namespace can be: the init stage becomes root of the namespace
 * before anything else (so 0 must be mapped, as in runc), then the process's user; with
 * setgroups denied it cannot have additional groups (runc: "cannot set any additional groups in
 * a rootless container").
 */
export function checkUserInNamespace(
  uidMaps: readonly IdMap[],
  gidMaps: readonly IdMap[],
  user: { uid: number; gid: number; additionalGids?: number[] },
  setgroups: 'allow' | 'deny' | undefined,
): void {
  if (!isMapped(uidMaps, 0)) throw invalid('config.json: linux.uidMappings: uid 0 of the container must be mapped', 'linux.uidMappings');
  if (!isMapped(gidMaps, 0)) throw invalid('config.json: linux.gidMappings: gid 0 of the container must be mapped', 'linux.gidMappings');
  if (!isMapped(uidMaps, user.uid))
    throw invalid(`config.json: process.user.uid: ${user.uid} is not mapped in the user namespace (linux.uidMappings)`, 'process.user.uid');
  if (!isMapped(gidMaps, user.gid))
    throw invalid(`config.json: process.user.gid: ${user.gid} is not mapped in the user namespace (linux.gidMappings)`, 'process.user.gid');
  for (const g of user.additionalGids ?? []) {
    if (setgroups === 'deny')
      throw invalid(
        'config.json: process.user.additionalGids: cannot set additional groups when setgroups is denied (a rootless container with a single gid mapping)',
        'process.user.additionalGids',
      );
    if (!isMapped(gidMaps, g))
      throw invalid(
        `config.json: process.user.additionalGids: ${g} is not mapped in the user namespace (linux.gidMappings)`,
        'process.user.additionalGids',
      );
  }
}
