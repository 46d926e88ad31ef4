/**
 * run: create and start in one go. Detached, it returns once the process runs; in the
 * foreground it waits for the container, then deletes it and returns the container's exit
 * status (128+n when killed by signal n). Signals reach the container only if the caller
 * forwards them (`forwardSignals`): the library installs no process-wide handler.
 */
import { runHooksWarn } from '../hooks/run.js';
import { nsinitError } from '../launcher/nsinit.js';
import { type CreateOptions, launch } from './create.js';
import { destroy } from './delete.js';

/**
 * A source of signals for a foreground process: called with a function that forwards a signal
 * to the container, it returns the function that stops forwarding. The CLI subscribes to its
 * own process's signals; a daemon to whatever its client sends.
 */
export type SignalSource = (forward: (sig: NodeJS.Signals) => void) => () => void;

export interface RunResult {
  exitCode: number;
  warnings: string[];
}

export async function run(opts: CreateOptions & { detach: boolean; forwardSignals?: SignalSource }): Promise<RunResult> {
  const { container, session, warnings } = await launch(opts, opts.detach ? 'run-detached' : 'run-foreground');
  await using _session = session;
  const unsubscribe = !opts.detach && opts.forwardSignals ? opts.forwardSignals((sig) => session.signal(sig)) : undefined;
  try {
    session.send('start');
    // The sync socket closes when the container process execs; an error line comes first if not.
    const m = await session.next();
    if (m.type === 'error') throw nsinitError(m, opts.id);
    warnings.push(
      ...(await runHooksWarn('poststart', container.record.config.hooks?.poststart, container.hookState('running'), opts.hookIo)),
    );
    if (opts.detach) {
      await session.exited;
      return { exitCode: 0, warnings };
    }
    const exitCode = await session.exited;
    warnings.push(...(await destroy(container, { hookIo: opts.hookIo })));
    return { exitCode, warnings };
  } catch (err) {
    await destroy(container, { hookIo: opts.hookIo }).catch(() => {});
    throw err;
  } finally {
    unsubscribe?.();
  }
}
