/** `POST /containers/{id}/restart?t=`: stop (if running), then start; the `restart` event. */
import type { Engine } from '../engine.js';
import { startContainer } from './start.js';
import { stopContainer } from './stop.js';

export async function restartContainer(engine: Engine, ref: string, timeoutSec?: number): Promise<void> {
  const rec = engine.containers.get(ref);
  await stopContainer(engine, rec.Id, timeoutSec);
  const r = engine.containers.get(rec.Id);
  r.ManualStop = false;
  engine.containers.save(r);
  await startContainer(engine, rec.Id);
  engine.publish(r, 'restart');
}
