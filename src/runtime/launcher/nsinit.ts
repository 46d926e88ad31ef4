/**
 * The one place that spawns berth-nsinit. It writes the plan on the sync socket and turns the
 * helper's line messages into awaitable events. See docs/plan-format.md for the protocol.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BerthError, type ErrorKind } from '../../common/errors.js';
import { decodeField, encodePlan } from '../plan/encode.js';
import type { LaunchPlan } from '../plan/plan.js';
import type { Launcher, LaunchMessage, LaunchOptions, LaunchSession } from './launcher.js';
import { ERRNO_KINDS, MessageQueue, parseErrorLine } from './messages.js';

export { nsinitError, parseErrorLine } from './messages.js';

export type NsinitMessage = LaunchMessage;

/** Finds the helper next to the bundle (dist/ → native/build/) or in the source tree. */
export function nsinitPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '../native/build/berth-nsinit'), path.join(here, '../../../native/build/berth-nsinit')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new BerthError('not-found', `find 'berth-nsinit': not built (run 'npm run build')`, { object: 'berth-nsinit' });
}

/** The launcher that runs berth-nsinit (at `helper`, default: found by nsinitPath()) as our child. */
export function nsinitLauncher(helper?: string): Launcher {
  return { launch: (plan, opts) => NsinitSession.start(plan, opts, helper) };
}

export class NsinitSession implements LaunchSession {
  private readonly child: ChildProcess;
  private readonly sync: Duplex;
  private buffered = '';
  private readonly messages = new MessageQueue(async (type) => {
    // The helper may have written its error just before dying; give the exit a chance to land.
    const code = await this.exited;
    if (this.spawnError) throw this.spawnError;
    throw new BerthError('internal', `container init exited with status ${code} before '${type}'`);
  });
  /** Exit status of the parent stage: its exit code, or 128+signal. */
  readonly exited: Promise<number>;
  /** Why berth-nsinit could not be run at all (spawn 'error'), once known. */
  private spawnError: BerthError | undefined;

  private constructor(plan: LaunchPlan, opts: LaunchOptions, helper = nsinitPath()) {
    // Only the fds the caller named: never this process's own stdio or other fds implicitly.
    const io = opts.stdio;
    const preserved = io.preserveFds ?? [];
    const syncFd = 3 + preserved.length;
    const stdio: (number | 'ignore' | 'pipe')[] = [
      io.stdin ?? 'ignore',
      io.stdout ?? 'ignore',
      io.stderr ?? 'ignore',
      ...preserved,
      'pipe',
    ];
    const file = helper;
    this.child = spawn(file, [String(syncFd)], { stdio, detached: opts.detached, argv0: 'berth-nsinit' });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
      this.child.once('error', (err: NodeJS.ErrnoException) => {
        // ENOENT, EACCES…: the helper never ran. Said as what it is, not as an exit status.
        const kind = (err.errno !== undefined && ERRNO_KINDS[-err.errno]) || 'internal';
        this.spawnError = new BerthError(kind, `spawn '${file}': ${errText(err)}`, { cause: err, object: file });
        this.push({ type: 'eof' });
        resolve(127);
      });
    });
    this.sync = this.child.stdio[syncFd] as Duplex;
    this.sync.setEncoding('utf8');
    this.sync.on('data', (chunk: string) => this.onData(chunk));
    this.sync.on('close', () => this.push({ type: 'eof' }));
    this.sync.on('error', () => this.push({ type: 'eof' }));
    this.sync.write(encodePlan(plan));
  }

  static start(plan: LaunchPlan, opts: LaunchOptions, helper?: string): NsinitSession {
    return new NsinitSession(plan, opts, helper);
  }

  get helperPid(): number | undefined {
    return this.child.pid;
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const [name, ...fields] = line.split(' ');
      if (name === 'pid') this.push({ type: 'pid', pid: Number(fields[0]) });
      else if (name === 'hooks') this.push({ type: 'hooks' });
      else if (name === 'created') this.push({ type: 'created' });
      else if (name === 'error') this.push({ type: 'error', ...parseErrorLine(line) });
      else this.push({ type: 'error', errno: 0, message: `nsinit: unexpected message '${line}'` });
    }
  }

  private push(m: NsinitMessage): void {
    this.messages.push(m);
  }

  /** The next message; after EOF, EOF forever. */
  next(): Promise<NsinitMessage> {
    return this.messages.next();
  }

  /**
   * Waits for a message of the given type. An `error` message, or EOF, becomes a BerthError that
   * carries nsinit's own words ("mount 'proc' on '/proc': operation not permitted").
   */
  expect<T extends NsinitMessage['type']>(type: T): Promise<Extract<NsinitMessage, { type: T }>> {
    return this.messages.expect(type);
  }

  send(line: string): void {
    if (!this.sync.destroyed) this.sync.write(`${line}\n`);
  }

  /** Forwards a signal to the parent stage, which forwards it to the container. */
  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  detach(): void {
    this.sync.destroy();
  }

  /** Kills the helper if it still runs (without waiting for it). */
  [Symbol.dispose](): void {
    this.sync.destroy();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  /** Kills the helper if it still runs, and waits until it has been reaped. */
  async [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    await this.exited;
  }
}

/** "no such file or directory" from Node's "spawn /x ENOENT" / errno code. */
function errText(err: NodeJS.ErrnoException): string {
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOEXEC: 'exec format error',
  };
  return (err.code && texts[err.code]) || err.code || err.message;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  if (!signal) return 0;
  return (constants.signals as Record<string, number>)[signal] ?? 0;
}
