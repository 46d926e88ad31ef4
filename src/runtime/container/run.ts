/**
 * run: create and start in one go. Detached, it returns once the process runs; in the
 * foreground it waits for the container, forwarding signals, then deletes it and returns the
 * container's exit status (128+n when killed by signal n).
 */

import { runHooksWarn } from '../hooks/run.js';
import { nsinitError } from '../launcher/nsinit.js';
import { type CreateOptions, launch } from './create.js';
import { destroy } from './delete.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

export interface RunResult {
  exitCode: number;
  warnings: string[];
}

export async function run(opts: CreateOptions & { detach: boolean }): Promise<RunResult> {
  const { container, session, warnings } = await launch(opts, opts.detach ? 'run-detached' : 'run-foreground');
  const forward = (sig: NodeJS.Signals) => session.signal(sig);
  if (!opts.detach) for (const sig of FORWARDED) process.on(sig, forward);
  try {
    session.send('start');
    // The sync socket closes when the container process execs; an error line comes first if not.
    const m = await session.next();
    if (m.type === 'error') throw nsinitError(m, opts.id);
    warnings.push(...(await runHooksWarn('poststart', container.record.config.hooks?.poststart, container.hookState('running'))));
    if (opts.detach) {
      await session.exited;
      return { exitCode: 0, warnings };
    }
    const exitCode = await session.exited;
    warnings.push(...(await destroy(container)));
    return { exitCode, warnings };
  } catch (err) {
    await destroy(container).catch(() => {});
    throw err;
  } finally {
    for (const sig of FORWARDED) process.off(sig, forward);
  }
}
