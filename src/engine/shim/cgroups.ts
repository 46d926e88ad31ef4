/**
 * Where berthd's shims live: a cgroup of their own under the engine's cgroup parent,
 * `/berth/shims` in every hierarchy — as containerd gives its shims theirs — instead of
 * berthd's: a limit, a freeze or a kill aimed at berthd's cgroup (systemd stopping the service,
 * an OOM in it) must not reach the parents of running containers. A leaf, so that on cgroup2
 * it may hold processes beside the containers' cgroups. The shim moves itself there at start
 * (`shim_cgroups` in its request); berthd only makes sure the directories exist, which costs a
 * stat per hierarchy once they do.
 */
import { existsSync } from 'node:fs';
import { type CgroupDir, cgroupDirs, managerFor, procsFiles, readCgroupLayout } from '../../runtime/cgroups/manager.js';

export const SHIM_CGROUP = '/berth/shims';

let dirs: CgroupDir[] | undefined;

/** The cgroup.procs files of the shims' cgroup (made when missing); none if it cannot be had. */
export function shimCgroupProcs(log?: (msg: string) => void): string[] {
  try {
    dirs ??= cgroupDirs(readCgroupLayout(), SHIM_CGROUP);
    // Another berthd on this host may remove it once empty (a test's clean-up): made again then.
    const missing = dirs.filter((d) => !existsSync(d.dir));
    if (missing.length > 0) managerFor(missing).create();
    return procsFiles(dirs);
  } catch (err) {
    // the shim then stays in berthd's cgroups, as before: not a reason to fail a start
    log?.(`the shims' cgroup ${SHIM_CGROUP}: ${(err as Error).message}`);
    return [];
  }
}
