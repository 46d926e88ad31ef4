/**
 * `POST /containers/{id}/wait?condition=`: `not-running` (default; at once when not running),
 * `next-exit`, `removed`. The answer is the exit code and error of the exit waited for.
 */
import { BerthError } from '../../common/errors.js';
import type { Engine } from '../engine.js';
import { isActive } from './record.js';

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
}

export function parseCondition(v: string | null): WaitCondition {
  const c = v || 'not-running';
  if (c !== 'not-running' && c !== 'next-exit' && c !== 'removed')
    throw new BerthError('invalid-argument', `invalid condition: "${c}"`, { object: 'condition' });
  return c;
}

/**
 * Registers the wait at once (the record must exist: 404 otherwise), and returns the promise of
 * its end, so that the HTTP layer can flush its headers before the client sends `start`.
 */
export function waitContainer(engine: Engine, ref: string, condition: WaitCondition, signal?: AbortSignal): Promise<WaitResult> {
  const rec = engine.containers.get(ref);
  const id = rec.Id;
  const result = (code: number, err?: string): WaitResult => ({ StatusCode: code, Error: err ? { Message: err } : null });
  if (condition === 'not-running' && !isActive(rec.State.Status)) return Promise.resolve(result(rec.State.ExitCode));
  return new Promise((resolve) => {
    let last = rec.State.ExitCode;
    let lastErr: string | undefined;
    const cleanup = () => {
      engine.signals.off(`exit:${id}`, onExit);
      engine.signals.off(`removed:${id}`, onRemoved);
      signal?.removeEventListener('abort', onAbort);
    };
    const onExit = (e: { exitCode: number; error?: string }) => {
      last = e.exitCode;
      lastErr = e.error;
      if (condition === 'removed') return;
      // not-running: a restart under a policy is not "not running" (dockerd waits through it)
      const r = engine.containers.find(id);
      if (condition === 'not-running' && r && r.State.Status === 'restarting') return;
      cleanup();
      resolve(result(e.exitCode, e.error));
    };
    const onRemoved = () => {
      cleanup();
      resolve(result(last, lastErr));
    };
    const onAbort = () => {
      cleanup();
      resolve(result(-1, 'context canceled'));
    };
    engine.signals.on(`exit:${id}`, onExit);
    engine.signals.on(`removed:${id}`, onRemoved);
    signal?.addEventListener('abort', onAbort);
  });
}
