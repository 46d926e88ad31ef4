/**
 * Signals to a running container, through its shim (the init's parent: no pid reuse race), and
 * waiting for the exit that monitor.ts records.
 */
import { BerthError } from '../../common/errors.js';
import { parseSignal } from '../../runtime/index.js';
import type { Engine, ExitInfo } from '../engine.js';
import { ShimClient } from '../shim/client.js';

export { parseSignal };

export async function signalContainer(engine: Engine, id: string, signal: number, all = false): Promise<void> {
  let c: ShimClient;
  try {
    c = await ShimClient.connect(engine.shimSocket(id));
  } catch (err) {
    throw new BerthError('failed-precondition', `Container ${id} is not running`, { object: id, cause: err });
  }
  try {
    await c.kill(signal, all);
  } finally {
    c.close();
  }
}

/** Resolves with the next exit of `id` within `ms` (undefined on timeout); `ms` Infinity waits forever. */
export function nextExit(engine: Engine, id: string, ms = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<ExitInfo | undefined> {
  return new Promise((resolve) => {
    const done = (v: ExitInfo | undefined) => {
      engine.signals.off(`exit:${id}`, onExit);
      engine.signals.off(`removed:${id}`, onRemoved);
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onExit = (e: ExitInfo) => done(e);
    const onRemoved = () => done(undefined);
    const onAbort = () => done(undefined);
    engine.signals.on(`exit:${id}`, onExit);
    engine.signals.on(`removed:${id}`, onRemoved);
    signal?.addEventListener('abort', onAbort);
    const timer = Number.isFinite(ms) ? setTimeout(() => done(undefined), ms) : undefined;
  });
}
