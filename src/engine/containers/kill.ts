/**
 * `POST /containers/{id}/kill`: a signal (SIGKILL by default) to the init; 409 when not running.
 * As dockerd 20.10: a bad signal name is a 400 `Invalid signal: X` (the router parses it before
 * the lookup); every other failure is prefixed `Cannot kill container: <ref>: `; and a SIGKILL
 * returns only once the container has exited, so `docker kill c && docker rm c` works.
 */
import { BerthError } from '../../common/errors.js';
import type { Engine } from '../engine.js';
import { isActive } from './record.js';
import { nextExit, parseSignal, signalContainer } from './signal.js';

/** How long a SIGKILL waits for the exit (dockerd: 2 s, then a direct kill, then forever). */
const KILL_WAIT_MS = 10_000;

export async function killContainer(engine: Engine, ref: string, signalName = 'KILL'): Promise<void> {
  let sig: number;
  try {
    sig = parseSignal(signalName);
  } catch (err) {
    throw new BerthError('invalid-argument', `Invalid signal: ${signalName}`, { cause: err });
  }
  try {
    await kill(engine, ref, sig);
  } catch (err) {
    if (!(err instanceof BerthError) || err.message.startsWith('Cannot kill container:')) throw err;
    throw new BerthError(err.kind, `Cannot kill container: ${ref}: ${err.message}`, { object: err.object, cause: err });
  }
}

async function kill(engine: Engine, ref: string, sig: number): Promise<void> {
  const rec = engine.containers.get(ref);
  const s = rec.State.Status;
  if (s !== 'running' && s !== 'paused')
    throw new BerthError('failed-precondition', `Cannot kill container: ${ref}: Container ${rec.Id} is not running`, { object: rec.Id });
  // dockerd: a kill that ends the container is a manual stop for the restart policy
  if (sig === 9 || sig === 15 || sig === 2) {
    rec.ManualStop = true;
    engine.containers.save(rec);
  }
  engine.publish(rec, 'kill', { signal: String(sig) });
  const stopWaiting = new AbortController();
  const exited = sig === 9 ? nextExit(engine, rec.Id, KILL_WAIT_MS, stopWaiting.signal) : undefined;
  try {
    await signalContainer(engine, rec.Id, sig, sig === 9);
  } catch (err) {
    stopWaiting.abort();
    throw err;
  }
  // the exit may have been recorded already (nextExit listens from before the signal)
  const now = engine.containers.find(rec.Id); // gone already with --rm
  if (!now || !isActive(now.State.Status)) stopWaiting.abort();
  await exited;
}
