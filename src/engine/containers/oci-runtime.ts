/**
 * Containers on another OCI runtime (`docker run --runtime runc`; `--add-runtime` and
 * daemon.json `runtimes`; runc registered by itself when installed, as dockerd registers it):
 * berth-shim drives the runtime binary (`<runtime> <args> --root <exec-root>/runtimes/<name>
 * create` then `start`, docs/shim-protocol.md) instead of berth-nsinit with a plan.
 *
 * Deviation from berth's own runtime, on purpose: an OCI runtime takes a bundle whose rootfs is
 * already there, and cannot mount the snapshot from a plan as berth-nsinit does inside the
 * container's namespace. So for these containers the snapshot is mounted on the host at
 * <container dir>/rootfs before `create`, and unmounted after the exit (monitor.ts cleanupRun,
 * start.ts unmountRootfs) — what containerd does for every container. A berthd crash in between
 * leaves that mount until the next start's or restore's cleanup.
 *
 * stats and top read the cgroups the runtime made (runtimeCgroups); pause, update and exec go
 * through the runtime library's record for berth's containers and would need the runtime's own
 * `pause`/`update`/`exec` for these: not done here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BerthError } from '../../common/errors.js';
import { type CgroupDir, cgroupDirs, readCgroupLayout } from '../../runtime/cgroups/manager.js';
import { mountAll } from '../../snapshots/mount.js';
import type { Engine } from '../engine.js';
import { shimCgroupProcs } from '../shim/cgroups.js';
import { ShimClient } from '../shim/client.js';
import type { ShimRequest } from '../shim/protocol.js';
import { startShim } from '../shim/spawn.js';
import type { ContainerRecord } from './record.js';

export const isOciRuntime = (rec: ContainerRecord) => rec.Runtime !== '' && rec.Runtime !== 'berth';

export function runtimeRoot(engine: Engine, name: string): string {
  return path.join(engine.options.execRoot, 'runtimes', name);
}

export interface OciLaunch {
  log?: { path: string; maxSize: number; maxFile: number };
  stdin: boolean;
  tty: boolean;
  consoleSocket?: string;
  size?: { rows: number; cols: number };
  oomScoreAdj?: number;
}

/** Mounts the rootfs, starts the shim and `runtime create`; the caller sends `start`. */
export async function launchOciRuntime(engine: Engine, rec: ContainerRecord, o: OciLaunch): Promise<ShimClient> {
  const entry = engine.options.runtimes[rec.Runtime];
  if (!entry) throw new BerthError('invalid-argument', `Unknown runtime specified ${rec.Runtime}`, { object: rec.Runtime });
  const dir = engine.containerDir(rec.Id);
  const stateDir = engine.stateDir(rec.Id);
  const root = runtimeRoot(engine, rec.Runtime);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const rootfs = path.join(dir, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  await mountAll(await engine.images.snapshotter.mounts(rec.SnapshotKey), rootfs);
  const cgroup = runtimeCgroupDir(dir);
  const req: ShimRequest = {
    v: 1,
    id: rec.Id,
    state_dir: stateDir,
    socket: engine.shimSocket(rec.Id),
    runtime: entry.path,
    runtime_args: [...(entry.args ?? []), '--root', root],
    bundle: dir,
    ...(o.log ? { log_path: o.log.path, log_max_size: o.log.maxSize, log_max_file: o.log.maxFile } : {}),
    tty: o.tty,
    ...(o.consoleSocket ? { console_socket: o.consoleSocket } : {}),
    ...(o.size ? { rows: o.size.rows, cols: o.size.cols } : {}),
    stdin: o.stdin,
    ...(o.oomScoreAdj ? { oom_score_adj: o.oomScoreAdj } : {}),
    // the shim kills the whole cgroup with it (`kill` with `all`: docker stop's SIGKILL)
    ...(cgroup ? { cgroup } : {}),
    shim_cgroups: shimCgroupProcs(engine.log),
  };
  const shim = await startShim(req, undefined, ...(engine.options.shim ? [engine.options.shim] : []));
  const client = await ShimClient.connect(shim.socket);
  try {
    const helper = new Promise<number>((resolve) => {
      client.on('event', (e) => {
        if (e.event === 'helper_exited' && !e.exec) resolve(Number(e.status));
      });
      client.on('close', () => resolve(-1));
    });
    await client.request('launch');
    const status = await helper;
    if (status !== 0) {
      // the runtime's own errors reach its stderr, which the shim logs as the container's output
      const why = [runtimeErrors(o.log?.path), readTail(path.join(stateDir, 'shim.log'))].filter(Boolean).join('; ');
      throw new BerthError('failed-precondition', `${rec.Runtime} create: exit status ${status}${why ? `: ${why}` : ''}`, {
        object: rec.Id,
      });
    }
    return client;
  } catch (err) {
    client.close();
    throw err;
  }
}

function readTail(file: string | undefined): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join('; ');
  } catch {
    return '';
  }
}

/** The json-file log's stderr lines (runc prints its failure there before the container exists). */
function runtimeErrors(logPath: string | undefined): string {
  return readTail(logPath)
    .split('; ')
    .map((l) => {
      try {
        const e = JSON.parse(l) as { log?: string; stream?: string };
        return e.stream === 'stderr' ? (e.log ?? '').trim() : '';
      } catch {
        return '';
      }
    })
    .filter(Boolean)
    .join('; ');
}

/**
 * The cgroups the runtime makes for the spec's cgroupsPath (cgroupfs paths), in the runtime
 * library's shape, for its cgroup manager (stats, pids): the ones that exist.
 */
export function runtimeCgroups(bundle: string): CgroupDir[] {
  const p = specCgroupsPath(bundle);
  if (!p) return [];
  return cgroupDirs(readCgroupLayout(), p).filter((d) => existsSync(d.dir));
}

function specCgroupsPath(bundle: string): string | undefined {
  try {
    const p = (JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { linux?: { cgroupsPath?: string } }).linux
      ?.cgroupsPath;
    return p && !p.includes(':') ? (p.startsWith('/') ? p : `/${p}`) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The cgroup directory the runtime makes for the spec's cgroupsPath (cgroupfs paths): the
 * unified one on a pure v2 host, else the v1 pids hierarchy's (its cgroup.procs lists them all).
 */
export function runtimeCgroupDir(bundle: string): string | undefined {
  const rel = specCgroupsPath(bundle);
  if (!rel) return undefined;
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return `/sys/fs/cgroup${rel}`;
  if (existsSync('/sys/fs/cgroup/pids')) return `/sys/fs/cgroup/pids${rel}`;
  return undefined;
}

/** `runtime delete --force`: its state and cgroups, after an exit or a failed start. Never throws. */
export async function deleteOciRuntime(engine: Engine, id: string): Promise<void> {
  const rec = engine.containers.find(id);
  if (!rec || !isOciRuntime(rec)) return;
  const entry = engine.options.runtimes[rec.Runtime];
  if (!entry) return;
  await new Promise<void>((resolve) => {
    const child = spawn(entry.path, [...(entry.args ?? []), '--root', runtimeRoot(engine, rec.Runtime), 'delete', '--force', id], {
      stdio: 'ignore',
    });
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}
