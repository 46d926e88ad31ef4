/**
 * What berthd does at start, before it serves anything: finish what a crash interrupted, then ask
 * every running container's shim for its state rather than trusting what the records say.
 *
 * - a directory or rootfs snapshot no record names: a create that died before its commit point;
 * - a record left `removing`: the removal is finished;
 * - running / paused / restarting: a live shim is followed again (an exit it recorded meanwhile
 *   is taken); a dead shim's exit.json, or exit 255 (`shim_lost`) after its cgroup is killed;
 * - created / exited with a live shim: a start that died half-way — the shim is shut down;
 * - then the restart policies: `always`, and `unless-stopped` unless stopped by hand, start again.
 */
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Container, collectTombs } from '../../runtime/index.js';
import type { Engine } from '../engine.js';
import { readExitRecord, readShimInfo, reconcileLostShim, ShimClient, shimAlive } from '../shim/client.js';
import { SNAPSHOT_PREFIX } from './create.js';
import { cleanupRun, follow, type LostShimCgroups, lostShimCgroups, recordExit } from './monitor.js';
import { type ContainerRecord, isActive } from './record.js';
import { finishRemoval } from './remove.js';
import { launchContainer } from './start.js';

export async function restoreContainers(engine: Engine): Promise<{ followed: number; lost: number; swept: number }> {
  let swept = 0;
  // Deletes that could not finish (a cgroup still busy) left tombs in the runtime's root: their
  // cgroups go now (the runtime library otherwise finishes them only at its next delete).
  await collectTombs(engine.runtimeRoot).catch((err) => engine.log?.(`finish deleted runs: ${(err as Error).message}`));
  const known = new Set(engine.containers.all().map((r) => r.Id));
  const cdir = path.join(engine.options.dataRoot, 'containers');
  for (const d of safeList(cdir)) {
    if (known.has(d)) continue;
    await cleanupRun(engine, d).catch(() => {});
    rmSync(path.join(cdir, d), { recursive: true, force: true });
    swept++;
  }
  for (const d of safeList(path.join(engine.options.execRoot, 'containers'))) {
    if (!known.has(d)) rmSync(path.join(engine.options.execRoot, 'containers', d), { recursive: true, force: true });
  }
  const orphans: string[] = [];
  await engine.images.snapshotter.walk(
    (info) => {
      if (info.name.startsWith(SNAPSHOT_PREFIX) && !known.has(info.name.slice(SNAPSHOT_PREFIX.length))) orphans.push(info.name);
    },
    (info) => info.kind === 'active',
  );
  for (const k of orphans) {
    await engine.images.snapshotter.remove(k).catch(() => {});
    swept++;
  }

  let followed = 0;
  let lost = 0;
  for (const rec of engine.containers.all()) {
    // One container that cannot be restored must not keep berthd from starting: it is logged,
    // and the others are restored.
    try {
      const r = await restoreOne(engine, rec);
      if (r === 'followed') followed++;
      if (r === 'lost') lost++;
    } catch (err) {
      engine.log?.(`restore ${rec.Id}: ${(err as Error).message}`);
    }
  }

  // Restart policies at daemon start (dockerd restores `always` and non-stopped `unless-stopped`).
  // `always` comes back even after a manual stop: moby's restartmanager ignores
  // HasBeenManuallyStopped for it, and Docker documents it ("restarted only when Docker daemon
  // restarts"); only `unless-stopped` stays down.
  for (const rec of engine.containers.all()) {
    const p = rec.HostConfig.RestartPolicy?.Name ?? '';
    if (rec.State.Status !== 'exited') continue;
    if (!(p === 'always' || (p === 'unless-stopped' && !rec.ManualStop))) continue;
    await engine
      .withLock(rec.Id, () => launchContainer(engine, rec))
      .catch((err) => engine.log?.(`restart ${rec.Id} at start-up: ${(err as Error).message}`));
  }
  return { followed, lost, swept };
}

/** One record at start-up: finished, followed again, or its exit recorded. */
async function restoreOne(engine: Engine, rec: ContainerRecord): Promise<'followed' | 'lost' | 'done'> {
  const id = rec.Id;
  let lostOne = false;
  if (rec.State.Status === 'removing' || rec.State.Status === 'dead') {
    await finishRemoval(engine, id).catch((err) => engine.log?.(`finish removal of ${id}: ${(err as Error).message}`));
    return 'done';
  }
  const stateDir = engine.stateDir(id);
  const info = readShimInfo(stateDir);
  const alive = info !== undefined && shimAlive(info);
  if (!isActive(rec.State.Status)) {
    if (alive) await shutdownShim(info.socket);
    await cleanupRun(engine, id).catch(() => {});
    return 'done';
  }
  if (alive) {
    // Only asking the shim is guarded: what follows its answer (an exit recorded, a --rm
    // removal) must not be taken for a shim that died and be handled again below.
    let st: Awaited<ReturnType<ShimClient['state']>> | undefined;
    try {
      await using c = await ShimClient.connect(info.socket);
      st = await c.state();
    } catch {
      // it died just now: handled below as a dead shim
    }
    if (st?.status === 'stopped' && st.exit) {
      await recordExit(engine, id, rec.Generation, st.exit);
      return 'done';
    }
    if (st) {
      if (rec.State.Status === 'restarting') {
        rec.State.Status = 'running';
        engine.containers.save(rec);
      }
      follow(engine, id, rec.Generation);
      return 'followed';
    }
  }
  let exit = readExitRecord(stateDir);
  if (!exit) {
    let dirs: LostShimCgroups = {};
    try {
      dirs = lostShimCgroups((await Container.load(engine.runtimeRoot, id)).record.cgroups);
    } catch {}
    try {
      exit = await reconcileLostShim(stateDir, dirs.cgroup, dirs.freezer);
    } catch {
      exit = undefined;
    }
    lostOne = true;
  }
  if (exit) await recordExit(engine, id, rec.Generation, exit);
  else if (engine.containers.find(id) === rec) {
    rec.State = { ...rec.State, Status: 'exited', Pid: 0, ExitCode: 255, Error: 'the shim died without an exit record' };
    engine.containers.save(rec);
    await cleanupRun(engine, id).catch(() => {});
  }
  return lostOne ? 'lost' : 'done';
}

async function shutdownShim(socket: string): Promise<void> {
  try {
    await using c = await ShimClient.connect(socket);
    await c.request('shutdown', { force: true });
  } catch {
    // gone
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir).filter((d) => /^[0-9a-f]{64}$/.test(d));
  } catch {
    return [];
  }
}
