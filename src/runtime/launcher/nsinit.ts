/**
 * The one place that spawns berth-nsinit. It writes the plan on the sync socket and turns the
 * helper's line messages into awaitable events. See docs/plan-format.md for the protocol.
 *
 * The helper is started by the native addon where it loads (posix_spawn, a socketpair, the exit
 * followed on a pidfd): Node's child_process costs ~3.5 ms of every short-lived berth-runtime
 * call to load (with net and stream) and forks the whole Node process to spawn. Where the addon
 * is missing, child_process does the same job.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, readSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BerthError, type ErrorKind } from '../../common/errors.js';
import { type FdWatch, nativeIfLoadable } from '../../native/addon.js';
import { decodeField, encodePlan } from '../plan/encode.js';
import type { LaunchPlan } from '../plan/plan.js';
import type { Launcher, LaunchMessage, LaunchOptions, LaunchSession } from './launcher.js';
import { ERRNO_KINDS, MessageQueue, parseErrorLine } from './messages.js';

export { nsinitError, parseErrorLine } from './messages.js';

export type NsinitMessage = LaunchMessage;

let foundNsinit: string | undefined;

/**
 * Finds the helper next to the bundle (dist/ → native/build/) or in the source tree, once per
 * process (berthd asks at every start; a binary removed later fails its exec, by name).
 */
export function nsinitPath(): string {
  if (foundNsinit) return foundNsinit;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '../native/build/berth-nsinit'), path.join(here, '../../../native/build/berth-nsinit')]) {
    if (existsSync(candidate)) {
      foundNsinit = candidate;
      return candidate;
    }
  }
  throw new BerthError('not-found', `find 'berth-nsinit': not built (run 'npm run build')`, { object: 'berth-nsinit' });
}

/**
 * The launcher that runs berth-nsinit (at `helper`, default: found by nsinitPath()) as our child;
 * `spawnWith: 'node'` uses child_process even where the addon loads.
 */
export function nsinitLauncher(helper?: string, opts: { spawnWith?: 'native' | 'node' } = {}): Launcher {
  return { launch: (plan, lo) => NsinitSession.start(plan, lo, helper, opts.spawnWith) };
}

/** berth-nsinit running: the sync socket's two directions, its exit, signals. */
interface HelperProcess {
  readonly pid: number | undefined;
  /** Its exit code, or 128+signal; 127 when it never ran (`spawnError` says why). */
  readonly exited: Promise<number>;
  readonly spawnError: BerthError | undefined;
  write(text: string): void;
  /** Lets go of the sync socket (no more reads, our end closed). */
  closeSync(): void;
  syncClosed(): boolean;
  kill(sig: NodeJS.Signals): void;
  running(): boolean;
}

interface HelperEvents {
  data(chunk: string): void;
  /** The sync socket's EOF (or error), or the helper never ran. */
  end(): void;
}

export class NsinitSession implements LaunchSession {
  private readonly helper: HelperProcess;
  private buffered = '';
  private readonly messages = new MessageQueue(async (type) => {
    // The helper may have written its error just before dying; give the exit a chance to land.
    const code = await this.exited;
    if (this.spawnError) throw this.spawnError;
    throw new BerthError('internal', `container init exited with status ${code} before '${type}'`);
  });
  /** Exit status of the parent stage: its exit code, or 128+signal. */
  readonly exited: Promise<number>;

  private constructor(plan: LaunchPlan, opts: LaunchOptions, file = nsinitPath(), spawnWith: 'native' | 'node' = 'native') {
    // Only the fds the caller named: never this process's own stdio or other fds implicitly.
    const io = opts.stdio;
    const fds = [io.stdin ?? 'ignore', io.stdout ?? 'ignore', io.stderr ?? 'ignore', ...(io.preserveFds ?? [])] as const;
    const events: HelperEvents = { data: (chunk) => this.onData(chunk), end: () => this.push({ type: 'eof' }) };
    this.helper =
      (spawnWith === 'native' && nativeHelper(file, fds, opts.detached, events)) || nodeHelper(file, fds, opts.detached, events);
    this.exited = this.helper.exited;
    this.helper.write(encodePlan(plan));
  }

  static start(plan: LaunchPlan, opts: LaunchOptions, helper?: string, spawnWith?: 'native' | 'node'): NsinitSession {
    return new NsinitSession(plan, opts, helper, spawnWith);
  }

  get helperPid(): number | undefined {
    return this.helper.pid;
  }

  private get spawnError(): BerthError | undefined {
    return this.helper.spawnError;
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
    if (!this.helper.syncClosed()) this.helper.write(`${line}\n`);
  }

  /** Forwards a signal to the parent stage, which forwards it to the container. */
  signal(sig: NodeJS.Signals): void {
    this.helper.kill(sig);
  }

  detach(): void {
    this.helper.closeSync();
  }

  /** Kills the helper if it still runs (without waiting for it). */
  [Symbol.dispose](): void {
    this.helper.closeSync();
    if (this.helper.running()) this.helper.kill('SIGKILL');
  }

  /** Kills the helper if it still runs, and waits until it has been reaped. */
  async [Symbol.asyncDispose](): Promise<void> {
    this[Symbol.dispose]();
    await this.exited;
  }
}

type FdArg = number | 'ignore';

/** The helper through child_process (where the addon is not there). */
function nodeHelper(file: string, fds: readonly FdArg[], detached: boolean, events: HelperEvents): HelperProcess {
  const syncFd = fds.length;
  const child: ChildProcess = spawn(file, [String(syncFd)], { stdio: [...fds, 'pipe'], detached, argv0: 'berth-nsinit' });
  let spawnError: BerthError | undefined;
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? 128 + signalNumber(signal)));
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = spawnFailure(file, err);
      events.end();
      resolve(127);
    });
  });
  const sync = child.stdio[syncFd] as Duplex;
  sync.setEncoding('utf8');
  sync.on('data', (chunk: string) => events.data(chunk));
  sync.on('close', () => events.end());
  sync.on('error', () => events.end());
  return {
    get pid() {
      return child.pid;
    },
    exited,
    get spawnError() {
      return spawnError;
    },
    write: (text) => {
      sync.write(text);
    },
    closeSync: () => sync.destroy(),
    syncClosed: () => sync.destroyed,
    kill: (sig) => {
      child.kill(sig);
    },
    running: () => child.exitCode === null && child.signalCode === null,
  };
}

/**
 * The helper through the addon (nativeIfLoadable), or undefined where it cannot load. The sync
 * socket stays blocking: the plan (at most 1 MiB) is written whole while berth-nsinit reads it
 * (it reads all of it before it says anything), and reads happen only once it is readable.
 */
function nativeHelper(file: string, fds: readonly FdArg[], detached: boolean, events: HelperEvents): HelperProcess | undefined {
  const addon = nativeIfLoadable();
  if (!addon?.spawnHelper) return undefined;
  let spawned: { pid: number; sync: number; pidfd: number };
  try {
    spawned = addon.spawnHelper(
      file,
      'berth-nsinit',
      [String(fds.length)],
      fds.map((f) => (f === 'ignore' ? -1 : f)),
      detached,
    );
  } catch (err) {
    // ENOENT, EACCES…: the helper never ran, as child_process's 'error'
    const spawnError = spawnFailure(file, err as NodeJS.ErrnoException);
    queueMicrotask(() => events.end());
    return {
      pid: undefined,
      exited: Promise.resolve(127),
      spawnError,
      write: () => {},
      closeSync: () => {},
      syncClosed: () => true,
      kill: () => {},
      running: () => false,
    };
  }
  const { pid, sync, pidfd } = spawned;
  let reaped = false;
  let syncOpen = true;
  let syncWatch: FdWatch | undefined;
  const closeSync = () => {
    if (!syncOpen) return;
    syncOpen = false;
    if (syncWatch) addon.unwatchFd(syncWatch);
    closeSync_(sync);
  };
  const buf = Buffer.allocUnsafe(65536);
  const decoder = new TextDecoder();
  syncWatch = addon.watchFd(sync, () => {
    let n: number;
    try {
      n = readSync(sync, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return;
      n = 0; // ECONNRESET and the like: the helper is gone
    }
    if (n > 0) {
      events.data(decoder.decode(buf.subarray(0, n), { stream: true }));
      return;
    }
    closeSync();
    events.end();
  });
  const exited = new Promise<number>((resolve) => {
    const watch = addon.watchFd(pidfd, () => {
      const r = addon.waitPidfd(pidfd);
      if (!r) return;
      reaped = true;
      addon.unwatchFd(watch);
      closeSync_(pidfd);
      resolve(r.signal ? 128 + r.signal : r.code);
    });
  });
  return {
    pid,
    exited,
    spawnError: undefined,
    write: (text) => {
      if (!syncOpen) return;
      try {
        writeSync(sync, text);
      } catch {
        // EPIPE: the helper is gone; its exit says how
      }
    },
    closeSync,
    syncClosed: () => !syncOpen,
    kill: (sig) => {
      // ours until reaped: the pid cannot have been reused
      if (reaped) return;
      try {
        process.kill(pid, sig);
      } catch {
        // exited, not yet reaped: nothing to signal
      }
    },
    running: () => !reaped,
  };
}

const closeSync_ = (fd: number) => {
  try {
    closeSync(fd);
  } catch {
    // closed already
  }
};

function spawnFailure(file: string, err: NodeJS.ErrnoException): BerthError {
  // ENOENT, EACCES…: the helper never ran. Said as what it is, not as an exit status.
  const kind = (err.errno !== undefined && ERRNO_KINDS[-err.errno]) || 'internal';
  return new BerthError(kind, `spawn '${file}': ${errText(err)}`, { cause: err, object: file });
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
