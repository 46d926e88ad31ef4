/**
 * Moving a process into a cgroup (a write to cgroup.procs) takes the kernel's
 * cgroup_threadgroup_rwsem for writing. When no migration happened within the last RCU grace
 * period, taking it waits for a grace period first: 10–15 ms on this project's machine, paid on
 * every container start and exec (by runc and dockerd too), while the CPU idles.
 *
 * A no-op migration — our own pid written into the cgroup we are already in — pays that wait on
 * a libuv thread while the caller prepares the launch; the migrations that are on the critical
 * path (the shim's, the container init's, an exec's) then find the lock warm and take
 * microseconds. Nothing moves: the kernel skips a task whose cgroup set is unchanged.
 *
 * The layout must be fresh (read /proc/self/cgroup just before): written into a cgroup the
 * caller has since been moved out of, the pid would move back.
 */
import { close, openSync, write } from 'node:fs';
import type { CgroupLayout, Hierarchy } from './layout.js';
import { readCgroupLayout } from './manager.js';

/**
 * The cgroup.procs file of the caller's own cgroup in the hierarchy whose attach is cheapest
 * (no controllers: the v2 mount of a hybrid host, a `name=` v1 hierarchy), or undefined when
 * the caller's cgroup is not visible under a mount (a cgroup namespace, a sub-tree mount).
 */
export function warmTarget(layout: CgroupLayout): string | undefined {
  const byCost = (h: Hierarchy) => (h.controllers.every((c) => c.startsWith('name=')) ? 0 : 1);
  const h = [...layout.hierarchies].sort((a, b) => byCost(a) - byCost(b))[0];
  if (!h) return undefined;
  const root = h.mountRoot === '/' ? '' : h.mountRoot;
  if (root && h.ownPath !== root && !h.ownPath.startsWith(`${root}/`)) return undefined;
  const inside = h.ownPath.slice(root.length).replace(/\/$/, '');
  if (inside.split('/').includes('..')) return undefined;
  return `${h.mountpoint}${inside}/cgroup.procs`;
}

/**
 * Starts the no-op migration and returns at once; the promise settles when it is done and never
 * rejects (rootless callers, read-only cgroupfs: nothing to warm, nothing lost).
 */
export function warmCgroupMigrations(layout: CgroupLayout, pid: number): Promise<void> {
  const target = warmTarget(layout);
  if (!target) return Promise.resolve();
  let fd: number;
  try {
    fd = openSync(target, 'r+'); // never O_CREAT in a cgroupfs directory
  } catch {
    return Promise.resolve();
  }
  // One threadpool job for the slow write: a promise chain (open, write, close) would wait for
  // the event loop between steps, i.e. behind the caller's synchronous work.
  return new Promise((resolve) => write(fd, String(pid), () => close(fd, () => resolve())));
}

/**
 * The warm-up for this process, from a layout whose own cgroups were read just now (a process
 * moved since must not move back): `fresh`, or read here. Never throws: without a readable
 * cgroup layout there is nothing to warm.
 */
export function warmOwnCgroupLock(fresh?: CgroupLayout): void {
  let layout: CgroupLayout;
  try {
    layout = fresh ?? readCgroupLayout();
  } catch {
    return;
  }
  void warmCgroupMigrations(layout, process.pid);
}
