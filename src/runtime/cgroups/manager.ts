/**
 * The cgroup manager: one owner for a container's cgroup directories. This file performs the
 * effects; the layout and the paths are computed by layout.ts.
 *
 * This first driver covers placement (create the cgroup in every hierarchy, let nsinit write the
 * pid into cgroup.procs, remove the cgroup on delete) for v1, hybrid and v2 alike, since
 * placement only differs in which hierarchies exist. Resource limits build on it.
 *
 * cgroupfs operations are in-kernel and take microseconds, so they are made synchronously: the
 * thread-pool round trip of the async API would cost more than the call itself.
 */
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { errnoCode, fromErrno } from '../../common/errors.js';
import { type CgroupLayout, containerCgroupPath, type Hierarchy, parseCgroupLayout } from './layout.js';

export interface CgroupDir {
  hierarchy: Hierarchy;
  /** The container's cgroup, relative to the hierarchy's root. */
  path: string;
  /** The host directory. */
  dir: string;
}

export function readCgroupLayout(): CgroupLayout {
  return parseCgroupLayout(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8'));
}

export function cgroupDirs(layout: CgroupLayout, cgroupsPath: string): CgroupDir[] {
  return layout.hierarchies.map((hierarchy) => {
    const path = containerCgroupPath(hierarchy, cgroupsPath);
    return { hierarchy, path, dir: `${hierarchy.mountpoint}${path === '/' ? '' : path}` };
  });
}

/**
 * Creates each directory (and missing parents). A new v1 cpuset cgroup starts with empty cpus
 * and mems, and the kernel refuses tasks in it, so they are copied down from the parent the way
 * runc does.
 */
export async function createCgroups(dirs: readonly CgroupDir[]): Promise<void> {
  for (const d of dirs) {
    if (d.hierarchy.version === 1 && d.hierarchy.controllers.includes('cpuset')) {
      await createCpuset(d.hierarchy.mountpoint, d.path);
      continue;
    }
    try {
      mkdirSync(d.dir, { recursive: true });
    } catch (err) {
      throw fromErrno('create cgroup', d.dir, err);
    }
  }
}

async function createCpuset(mountpoint: string, path: string): Promise<void> {
  let current = mountpoint;
  for (const seg of path.split('/').filter(Boolean)) {
    const parent = current;
    current = `${current}/${seg}`;
    try {
      mkdirSync(current);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fromErrno('create cgroup', current, err);
    }
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      const mine = readFileSync(`${current}/${file}`, 'utf8').trim();
      if (mine !== '') continue;
      const theirs = readFileSync(`${parent}/${file}`, 'utf8').trim();
      try {
        writeFileSync(`${current}/${file}`, theirs);
      } catch (err) {
        throw fromErrno('write', `${current}/${file}`, err);
      }
    }
  }
}

export function procsFiles(dirs: readonly CgroupDir[]): string[] {
  return dirs.map((d) => `${d.dir}/cgroup.procs`);
}

/** Pids in the container's cgroup (from the first hierarchy that has the cgroup). */
export async function cgroupPids(dirs: readonly CgroupDir[]): Promise<number[]> {
  for (const d of dirs) {
    try {
      const text = readFileSync(`${d.dir}/cgroup.procs`, 'utf8');
      return text.split('\n').filter(Boolean).map(Number);
    } catch {
      // try the next hierarchy
    }
  }
  return [];
}

/**
 * Removes the container's cgroup from every hierarchy. rmdir fails with EBUSY while a dying
 * process is still being torn down, so it retries for a short while.
 */
export async function destroyCgroups(dirs: readonly CgroupDir[]): Promise<void> {
  for (const d of dirs) {
    if (d.path === '/') continue;
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(d.dir);
        break;
      } catch (err) {
        const code = errnoCode(err);
        if (code === 'ENOENT') break;
        if (code === 'EBUSY' && attempt < 100) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        throw fromErrno('remove cgroup', d.dir, err);
      }
    }
  }
}
