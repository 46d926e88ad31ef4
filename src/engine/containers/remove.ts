/**
 * `DELETE /containers/{id}`: 409 while running unless `force` (then SIGKILL and wait), then the
 * record is marked `removing` (so a crash half-way is finished at the next start), the run's
 * leftovers, the rootfs snapshot, the container's directory and state dir go, and the row last.
 */
import { BerthError } from '../../common/errors.js';
import { crashPoint } from '../crash.js';
import type { Engine } from '../engine.js';
import { removeAnonymousVolumes } from '../volumes/index.js';
import { cleanupRun } from './monitor.js';
import { resumeIfPaused } from './pause.js';
import { isActive } from './record.js';
import { nextExit, signalContainer } from './signal.js';

export interface RemoveOptions {
  force?: boolean;
  /** Anonymous volumes too (`-v`). */
  volumes?: boolean;
}

export async function removeContainer(engine: Engine, ref: string, opts: RemoveOptions = {}): Promise<void> {
  const rec0 = engine.containers.get(ref);
  const id = rec0.Id;
  engine.cancelRestart(id);
  if (isActive(rec0.State.Status)) {
    if (!opts.force) {
      const what = rec0.State.Status === 'paused' ? 'paused' : 'running';
      throw new BerthError(
        'failed-precondition',
        `You cannot remove a ${what} container ${id}. Stop the container before attempting removal or force remove`,
        { object: id },
      );
    }
    if (rec0.State.Status === 'restarting') {
      await engine.withLock(id, async () => {
        const r = engine.containers.get(id);
        r.State.Status = 'exited';
        engine.containers.save(r);
      });
    } else {
      rec0.ManualStop = true;
      engine.containers.save(rec0);
      const exited = nextExit(engine, id, 30_000);
      await resumeIfPaused(engine, id);
      await signalContainer(engine, id, 9, true).catch(() => {});
      await exited;
    }
  }
  await engine.withLock(id, async () => {
    const rec = engine.containers.find(id);
    if (!rec) return;
    if (rec.State.Status === 'removing') return;
    if (isActive(rec.State.Status))
      throw new BerthError('failed-precondition', `cannot remove container ${id}: it is running again`, { object: id });
    rec.State.Status = 'removing';
    engine.containers.save(rec);
    crashPoint('remove:marked');
    const mounts = rec.VolumeMounts ?? [];
    await finishRemoval(engine, id);
    engine.publish(rec, 'destroy');
    if (opts.volumes && engine.volumes && mounts.length)
      await removeAnonymousVolumes(engine.volumes, mounts, (name) => volumeUsers(engine, name)).catch(() => {});
  });
  engine.signals.emit(`removed:${id}`);
  engine.backoff.forget(id);
}

/** The part of a removal that a restart finishes for a record left `removing`. */
export async function finishRemoval(engine: Engine, id: string): Promise<void> {
  // `--rm`: the exit was just cleaned up (monitor.ts); a crash or a failed part cleans here
  if (!engine.cleanedRuns.delete(id)) await cleanupRun(engine, id);
  crashPoint('remove:cleaned');
  const rec = engine.containers.find(id);
  // The snapshot's row goes now (synchronously, in remove's first step); its directory is
  // renamed and deleted in the background. A crash before the rename leaves a directory
  // without a row, which the snapshotter's start-up cleanup removes.
  if (rec) engine.inBackground(engine.images.snapshotter.remove(rec.SnapshotKey));
  crashPoint('remove:snapshot');
  engine.discard(engine.containerDir(id));
  engine.discard(engine.stateDir(id));
  engine.containers.delete(id);
  engine.images.collector.notify();
}

/** The containers (any state) whose mounts name volume `name`: dockerd refuses to remove it then. */
export function volumeUsers(engine: Engine, name: string): string[] {
  return engine.containers
    .all()
    .filter((r) => r.VolumeMounts?.some((m) => m.type === 'volume' && m.name === name))
    .map((r) => r.Id);
}
