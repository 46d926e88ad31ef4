/** `POST /containers/{id}/kill`: a signal (SIGKILL by default) to the init; 409 when not running. */
import { BerthError } from '../../common/errors.js';
import type { Engine } from '../engine.js';
import { parseSignal, signalContainer } from './signal.js';

export async function killContainer(engine: Engine, ref: string, signalName = 'KILL'): Promise<void> {
  const rec = engine.containers.get(ref);
  const sig = parseSignal(signalName);
  const s = rec.State.Status;
  if (s !== 'running' && s !== 'paused')
    throw new BerthError('failed-precondition', `Cannot kill container: ${ref}: Container ${rec.Id} is not running`, { object: rec.Id });
  // dockerd: a kill that ends the container is a manual stop for the restart policy
  if (sig === 9 || sig === 15 || sig === 2) {
    rec.ManualStop = true;
    engine.containers.save(rec);
  }
  engine.publish(rec, 'kill', { signal: String(sig) });
  await signalContainer(engine, rec.Id, sig, sig === 9);
}
