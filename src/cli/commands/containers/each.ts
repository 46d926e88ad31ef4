/**
 * Docker's habit for verbs over several objects (`docker rm a nosuch b`): every object is tried,
 * each success prints its name (as typed) on stdout, the failures are gathered and printed
 * together at the end, one line each, and the command exits 1 if any failed. The daemon's
 * errors read `Error response from daemon: …`, the CLI's own as they are.
 */
import { ApiError } from '../../../client/types.js';
import type { CliContext } from '../../types.js';
import { CliError } from '../../types.js';

/** How the docker CLI prints an error: the daemon's with its prefix, its own as is. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `Error response from daemon: ${err.message}`;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** docker's parallelOperation runs at most this many requests at once. */
const PARALLEL = 50;

export interface EachOptions {
  /** Print each name on success (stop, kill, rm…); wait prints its own line instead. */
  printName?: boolean;
  /** The requests run at once (docker: in parallel for stop/kill/rm/pause…, one by one for update, wait). */
  parallel?: boolean;
}

/**
 * Runs `op` for each name, prints the successes in the order given (as docker does: it reads
 * the results in order), and returns the errors' texts. `op` may return a line to print instead
 * of the name.
 */
export async function forEachObject(
  ctx: CliContext,
  names: string[],
  op: (name: string) => Promise<string | undefined | void>,
  opts: EachOptions = {},
): Promise<string[]> {
  const printName = opts.printName ?? true;
  const errors: string[] = [];
  const results: Promise<{ ok: true; line: string | undefined | void } | { ok: false; err: unknown }>[] = [];
  const run = (name: string) =>
    op(name).then(
      (line) => ({ ok: true as const, line }),
      (err: unknown) => ({ ok: false as const, err }),
    );
  if (opts.parallel === false) {
    for (const name of names) {
      const r = await run(name);
      report(name, r);
    }
    return errors;
  }
  // A bounded pool: the i-th request starts once fewer than PARALLEL are in flight.
  let inFlight = 0;
  const waiters: (() => void)[] = [];
  for (const name of names) {
    if (inFlight >= PARALLEL) await new Promise<void>((r) => waiters.push(r));
    inFlight++;
    results.push(
      run(name).finally(() => {
        inFlight--;
        waiters.shift()?.();
      }),
    );
  }
  for (let i = 0; i < names.length; i++) report(names[i]!, await results[i]!);
  return errors;

  function report(name: string, r: { ok: true; line: string | undefined | void } | { ok: false; err: unknown }): void {
    if (!r.ok) {
      errors.push(errorText(r.err));
      return;
    }
    const line = typeof r.line === 'string' ? r.line : printName ? name : undefined;
    if (line !== undefined) ctx.stdout.write(`${line}\n`);
  }
}

/** The end of a multi-object verb: exit 1 with every error, one per line, or 0. */
export function finish(errors: string[]): number {
  if (errors.length > 0) throw new CliError(errors.join('\n'));
  return 0;
}

/** `/containers/{id}…` with the name escaped (a name never holds `/`, but hostile input may). */
export function containerPath(name: string, rest = ''): string {
  return `/containers/${encodeURIComponent(name)}${rest}`;
}
