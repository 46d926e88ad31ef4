/**
 * `POST /containers/{id}/stop`: the StopSignal (SIGTERM by default), then SIGKILL to the whole
 * cgroup after the timeout (`t`, else Config.StopTimeout, else 10 s), as dockerd does. A stop
 * turns the restart policy off until the next start (`ManualStop`).
 */

import type { Engine } from '../engine.js';
import { resumeIfPaused } from './pause.js';
import { isActive } from './record.js';
import { nextExit, parseSignal, signalContainer } from './signal.js';

export async function stopContainer(engine: Engine, ref: string, timeoutSec?: number): Promise<'stopped' | 'not-running'> {
  const rec = engine.containers.get(ref);
  const id = rec.Id;
  if (rec.State.Status === 'restarting' && engine.cancelRestart(id)) {
    await engine.withLock(id, async () => {
      const r = engine.containers.get(id);
      r.State.Status = 'exited';
      r.ManualStop = true;
      engine.containers.save(r);
    });
    engine.publish(rec, 'stop');
    return 'stopped';
  }
  if (!isActive(rec.State.Status)) return 'not-running';
  rec.ManualStop = true;
  engine.containers.save(rec);
  const t = timeoutSec ?? rec.Config.StopTimeout ?? 10;
  const sig = parseSignal(rec.Config.StopSignal || 'SIGTERM');
  const exited = nextExit(engine, id, t < 0 ? Number.POSITIVE_INFINITY : t * 1000);
  await resumeIfPaused(engine, id);
  engine.publish(rec, 'kill', { signal: String(sig) });
  await signalContainer(engine, id, sig).catch(() => {});
  if (!(await exited) && isActive(engine.containers.get(id).State.Status)) {
    const killed = nextExit(engine, id);
    engine.publish(rec, 'kill', { signal: '9' });
    await signalContainer(engine, id, 9, true).catch(() => {});
    await killed;
  }
  engine.publish(engine.containers.find(id) ?? rec, 'stop');
  return 'stopped';
}
