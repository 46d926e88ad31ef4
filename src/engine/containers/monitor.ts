/**
 * Following a running container to its exit, through its shim: `wait` on a connection of our
 * own; if the shim dies, its exit.json or a `shim_lost` record (exit code 255). The exit is then
 * recorded (the row is the truth), the runtime's cgroups and state removed, the shim released,
 * waiters woken, and the restart policy or `--rm` applied. The same path serves containers found
 * running when berthd starts again (restore.ts): a monitor is state-less, it only needs the id.
 */
import path from 'node:path';
import { removeTree } from '../../native/addon.js';
import type { CgroupDir } from '../../runtime/cgroups/manager.js';
import { Container, collectTombs, deleteContainer, hasTombs } from '../../runtime/index.js';
import type { Engine } from '../engine.js';
import { lostExitRecord, readShimInfo, ShimClient, shimGone, waitExit } from '../shim/client.js';
import type { ExitRecord } from '../shim/protocol.js';
import { detachVolumes } from '../volumes/index.js';
import { deleteOciRuntime, isOciRuntime } from './oci-runtime.js';
import { isActive, rfc3339Nano } from './record.js';
import { unmountRootfs } from './start.js';

/**
 * Follows generation `gen` of container `id` until its exit is recorded. Never throws. `dirs`:
 * the run's cgroups when the caller has them (a start), else read from the runtime's record.
 * `shim`: a connection to the container's shim that becomes the monitor's (a start's), else
 * one is made.
 */
export function follow(engine: Engine, id: string, gen: number, dirs?: LostShimCgroups, shim?: ShimClient): void {
  void (async () => {
    if (!dirs) {
      try {
        dirs = lostShimCgroups((await Container.load(engine.runtimeRoot, id)).record.cgroups);
      } catch {
        // no runtime state: the shim's record (or its absence) decides
        dirs = {};
      }
    }
    // The connection that waits also releases the shim after the clean-up (one connect less).
    const client = shim ?? (await ShimClient.connect(engine.shimSocket(id)).catch(() => undefined));
    try {
      let exit: ExitRecord;
      try {
        exit = await waitExit(engine.stateDir(id), { ...dirs, ...(client ? { client } : {}) });
      } catch (err) {
        exit = lostExitRecord(String((err as Error).message));
      }
      await recordExit(engine, id, gen, exit, client).catch((err) => engine.log?.(`record exit of ${id}: ${(err as Error).message}`));
    } finally {
      client?.close();
    }
  })();
}

export interface LostShimCgroups {
  /** Where cgroup.kill is looked for: the cgroup2 directory, else the first one. */
  cgroup?: string;
  /** The v1 freezer's directory, thawed after the kill (reconcileLostShim). */
  freezer?: string;
}

/** The cgroup directories reconcileLostShim needs, from the runtime library's record of the run. */
export function lostShimCgroups(gs: readonly CgroupDir[]): LostShimCgroups {
  const cgroup = (gs.find((g) => g.hierarchy.version === 2) ?? gs[0])?.dir;
  const freezer = gs.find((g) => g.hierarchy.version === 1 && g.hierarchy.controllers.includes('freezer'))?.dir;
  return { ...(cgroup ? { cgroup } : {}), ...(freezer ? { freezer } : {}) };
}

/** Records the exit of generation `gen`, cleans its run up, then restarts or removes as asked. */
export async function recordExit(engine: Engine, id: string, gen: number, exit: ExitRecord, shim?: ShimClient): Promise<void> {
  let next: 'restart' | 'remove' | undefined;
  let delay = 0;
  await engine.withLock(id, async () => {
    const rec = engine.containers.find(id);
    if (!rec || rec.Generation !== gen || !isActive(rec.State.Status)) return;
    if (await cleanupRun(engine, id, { shim, rootfsOnHost: isOciRuntime(rec) })) engine.cleanedRuns.add(id);
    const ranMs = Date.parse(exit.finished_at ?? '') - Date.parse(rec.State.StartedAt);
    rec.State = {
      ...rec.State,
      Status: 'exited',
      Pid: 0,
      ExitCode: exit.exit_code,
      OOMKilled: exit.oom_killed,
      Error: exit.reason === 'exited' ? '' : (exit.message ?? exit.reason),
      FinishedAt: exit.finished_at ? toNano(exit.finished_at) : rfc3339Nano(),
    };
    if (rec.State.Health)
      rec.State.Health = { ...rec.State.Health, Status: rec.State.Health.Status === 'starting' ? 'unhealthy' : rec.State.Health.Status };
    const policy = restartDecision(rec.HostConfig.RestartPolicy, rec.ManualStop, exit.exit_code, rec.RestartCount);
    if (policy && engine.accepting) {
      next = 'restart';
      delay = engine.backoff.next(id, Number.isFinite(ranMs) ? ranMs : 0);
      rec.State.Status = 'restarting';
      rec.RestartCount++;
    } else if (rec.HostConfig.AutoRemove) next = 'remove';
    engine.containers.save(rec);
    if (exit.oom_killed) engine.publish(rec, 'oom');
    engine.publish(rec, 'die', { exitCode: String(exit.exit_code) });
    engine.signals.emit(`exit:${id}`, { exitCode: exit.exit_code });
  });
  if (next === 'remove') await engine.remove(id, { force: true, volumes: true }).catch(() => {});
  if (next === 'restart') engine.scheduleRestart(id, delay);
}

/**
 * After an exit: the runtime's record and cgroups, the rootfs mount, the shim (released).
 * Whether all of it went: a part that failed is tried again by the removal. `shim`: a
 * connection to the shim already open; `rootfsOnHost: false` when the run cannot have mounted
 * the rootfs on the host (berth-nsinit mounts it in the container's own mount namespace), which
 * spares a read of mountinfo.
 */
export async function cleanupRun(engine: Engine, id: string, opts: { shim?: ShimClient; rootfsOnHost?: boolean } = {}): Promise<boolean> {
  let clean = true;
  // The shim is released first: it exits, and with it the container's mount namespace it holds
  // (docs/shim-protocol.md), while the rest is cleaned up here; the end waits for it, so that a
  // stopped container is mounted nowhere (a `docker cp` right after mounts its snapshot again).
  const shimInfo = readShimInfo(engine.stateDir(id));
  try {
    if (opts.shim) await opts.shim.release();
    else {
      await using c = await ShimClient.connect(engine.shimSocket(id));
      await c.release();
    }
  } catch {
    // already gone
  }
  // Leftovers are swept at berthd's start (restore.ts), and after a failed teardown until a
  // sweep finds none: not by every exit (a readdir of the root less per container).
  const sweep = engine.tombsLeft;
  await deleteContainer(engine.runtimeRoot, id, true, { removeDir: removeTree, collectTombs: sweep }).then(
    () => {
      if (sweep) engine.tombsLeft = hasTombs(engine.runtimeRoot);
    },
    (err) => {
      clean = false;
      engine.tombsLeft = true;
      // A cgroup still busy (processes of the container not yet reaped, on a loaded machine)
      // leaves the run's tomb: its teardown is tried again a little later, whatever comes next.
      engine.log?.(`clean up the run of ${id}: ${(err as Error).message}; trying again in 2 s`);
      setTimeout(() => void collectTombs(engine.runtimeRoot).catch(() => {}), 2000).unref();
    },
  );
  const rec = engine.containers.find(id);
  if (engine.volumes && rec?.VolumeMounts?.length) detachVolumes(engine.volumes, engine.events, id, rec.VolumeMounts);
  // another OCI runtime's state and cgroups (oci-runtime.ts); its host rootfs mount goes next
  await deleteOciRuntime(engine, id);
  if (opts.rootfsOnHost !== false)
    await unmountRootfs(path.join(engine.containerDir(id), 'rootfs')).catch(() => {
      clean = false;
    });
  if (shimInfo && !(await shimGone(shimInfo, 2000)))
    engine.log?.(`the shim of ${id} (pid ${shimInfo.pid}) was released but is still there after 2 s`);
  return clean;
}

/** moby restartmanager.ShouldRestart (the back-off is the caller's). */
export function restartDecision(
  policy: { Name?: string; MaximumRetryCount?: number } | null | undefined,
  manualStop: boolean,
  exitCode: number,
  restartCount: number,
): boolean {
  if (manualStop) return false;
  switch (policy?.Name ?? '') {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (!policy?.MaximumRetryCount || restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

/** RFC3339 from the shim (already nanoseconds) or Date's ISO: Go's RFC3339Nano either way. */
function toNano(t: string): string {
  return t.endsWith('Z') && /\.\d{4,}Z$/.test(t) ? t : rfc3339Nano(new Date(t));
}

/**
 * Docker's restart back-off: 100 ms, doubling per restart up to a minute; reset once a run lasted
 * at least 10 s.
 */
export class Backoff {
  private readonly delays = new Map<string, number>();
  next(id: string, ranMs: number): number {
    const prev = ranMs >= 10_000 ? 0 : (this.delays.get(id) ?? 0);
    const d = prev === 0 ? 100 : Math.min(prev * 2, 60_000);
    this.delays.set(id, d);
    return d;
  }
  forget(id: string): void {
    this.delays.delete(id);
  }
}
