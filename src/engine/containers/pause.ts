/** `pause` / `unpause`: the cgroup freezer, through the runtime library's record of the run. */
import { BerthError } from '../../common/errors.js';
import { pause, resume } from '../../runtime/index.js';
import type { Engine } from '../engine.js';

export async function pauseContainer(engine: Engine, ref: string): Promise<void> {
  const rec0 = engine.containers.get(ref);
  await engine.withLock(rec0.Id, async () => {
    const rec = engine.containers.get(rec0.Id);
    if (rec.State.Status === 'paused')
      throw new BerthError('failed-precondition', `Container ${rec.Id} is already paused`, { object: rec.Id });
    if (rec.State.Status !== 'running')
      throw new BerthError('failed-precondition', `Container ${rec.Id} is not running`, { object: rec.Id });
    await pause(engine.runtimeRoot, rec.Id);
    rec.State.Status = 'paused';
    engine.containers.save(rec);
    engine.publish(rec, 'pause');
  });
}

export async function unpauseContainer(engine: Engine, ref: string): Promise<void> {
  const rec0 = engine.containers.get(ref);
  await engine.withLock(rec0.Id, async () => {
    const rec = engine.containers.get(rec0.Id);
    if (rec.State.Status !== 'paused') throw new BerthError('failed-precondition', `Container ${rec.Id} is not paused`, { object: rec.Id });
    await resume(engine.runtimeRoot, rec.Id);
    rec.State.Status = 'running';
    engine.containers.save(rec);
    engine.publish(rec, 'unpause');
  });
}

/** Before a stop or a kill that must be delivered now: thaw a frozen container. */
export async function resumeIfPaused(engine: Engine, id: string): Promise<void> {
  const rec = engine.containers.find(id);
  if (rec?.State.Status === 'paused') await unpauseContainer(engine, id).catch(() => {});
}
