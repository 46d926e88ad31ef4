/**
 * A `berth` command run inside berthd's CLI host (src/engine/cli-host/): this is the worker
 * thread's side. The `berth` front (native/cli/front.c) handed berthd its argv, environment,
 * working directory and stdio descriptors; the host starts one worker per command (warmed up
 * ahead of time) and posts it a RunRequest. Everything a command would take from its process
 * comes from the request instead: the streams are built on the caller's descriptors, relative
 * paths resolve against its cwd (CliContext.cwd), and its signals arrive as messages
 * (CliContext.signals). A worker runs one command and is then terminated by the host, which
 * also closes the descriptors it received; streams that need a libuv handle (a terminal, a
 * pipe read) get a duplicate of their own, which the handle closes.
 *
 * Docs: docs/cli.md "The front and berthd's CLI host".
 */
import { EventEmitter } from 'node:events';
import { createReadStream, fstatSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import tty from 'node:tty';
import { parentPort } from 'node:worker_threads';
import { parseHost } from '../client/host.js';
import { dupCloexec } from '../native/addon.js';
import { type Io, main, targetOf } from './main.js';
import type { SignalSource } from './signals.js';

export interface RunRequest {
  type: 'run';
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** The caller's stdin, stdout and stderr, as received (owned by the host). */
  fds: [number, number, number];
  /**
   * A duplicate of each, also owned (and closed) by the host: for the streams whose handle
   * must not close what it was given (terminals, files).
   */
  spares: [number, number, number];
  /** The unix sockets berthd serves the API on: a command for another daemon is not run here. */
  ownSockets: string[];
}

export type ToWorker = RunRequest | { type: 'signal'; sig: NodeJS.Signals };

export type FromWorker =
  | { type: 'ready' }
  /** The command targets another daemon (or berthd under another name): the front runs it itself. */
  | { type: 'fallback' }
  /** The command's status: it is done with the caller's descriptors. */
  | { type: 'exit'; code: number }
  /** After `exit`: whether the worker is as clean as it started, so that it may run another. */
  | { type: 'settled'; reusable: boolean }
  /** End berth as killed by this signal (nobody handled it, or the command re-raised it). */
  | { type: 'die'; sig: NodeJS.Signals };

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** berthd's TZ, as the worker starts with a copy of berthd's environment (replaced per command). */
const HOST_TZ = process.env.TZ;

/**
 * Synchronous writes to a caller's file, pipe or socket: a worker may block, and the bytes
 * land in order with those of the caller's other programs (a shared file offset, `>>`).
 */
class FdWriter extends Writable {
  readonly isTTY = false;
  constructor(readonly fd: number) {
    super({ decodeStrings: true });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      for (let off = 0; off < chunk.length; ) {
        try {
          off += writeSync(this.fd, chunk, off);
        } catch (err) {
          // the caller's pipe may be non-blocking (set so by another program sharing it)
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          Atomics.wait(sleeper, 0, 0, 2);
        }
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}

/*
 * Terminals get streams on the host's spare descriptor. libuv reopens a terminal (a file
 * description of its own, so that non-blocking mode touches no one else; its handle closes
 * that one) and points the number it was given at it, so the spare stays open until the host
 * closes it, whichever way the worker ends. The spare is also what `stty` runs on (RawTerminal).
 */
function outputOn(fd: number, spare: number): Io['stdout'] {
  return tty.isatty(fd) ? Object.assign(new tty.WriteStream(spare), { fd: spare }) : new FdWriter(fd);
}

/** What process.stdin would be on this descriptor: a terminal, a file, or a pipe or socket. */
function inputOn(fd: number, spare: number): Io['stdin'] {
  if (tty.isatty(fd)) return Object.assign(new tty.ReadStream(spare), { fd: spare });
  if (fstatSync(fd).isFile()) return createReadStream('', { fd: spare, autoClose: false }) as unknown as Io['stdin'];
  // a pipe's handle closes its descriptor, at its end or with the worker: a duplicate of its own
  return new Socket({ fd: dupCloexec(fd), readable: true, writable: false }) as unknown as Io['stdin'];
}

/** The caller's signals, as the host forwards them; a signal nobody listens to ends berth by it. */
class ForwardedSignals implements SignalSource {
  private readonly emitter = new EventEmitter();
  constructor(private readonly post: (m: FromWorker) => void) {}
  on(sig: NodeJS.Signals, listener: (sig: NodeJS.Signals) => void): void {
    this.emitter.on(sig, listener);
  }
  off(sig: NodeJS.Signals, listener: (sig: NodeJS.Signals) => void): void {
    this.emitter.off(sig, listener);
  }
  listenerCount(sig: NodeJS.Signals): number {
    return this.emitter.listenerCount(sig);
  }
  raise(sig: NodeJS.Signals): void {
    this.post({ type: 'die', sig });
  }
  deliver(sig: NodeJS.Signals, outputs: unknown[]): void {
    if (sig === 'SIGWINCH') {
      // a terminal's size is read again and 'resize' emitted, as process.stdout does on SIGWINCH
      for (const o of outputs) (o as { _refreshSize?: () => void })._refreshSize?.();
      return;
    }
    if (this.emitter.listenerCount(sig) > 0) this.emitter.emit(sig, sig);
    // SIGCONT's default is to go on; every other forwarded signal ends a program by default
    else if (sig !== 'SIGCONT') this.post({ type: 'die', sig });
  }
}

/** The unix socket path a target names, or undefined for tcp. */
function socketPathOf(host: string): string | undefined {
  try {
    const ep = parseHost(host);
    return ep.proto === 'unix' ? ep.path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs one command for the host; resolves to its status once what it wrote is out, or to
 * 'fallback'. The streams made here are destroyed before it resolves.
 */
export async function runHosted(
  req: RunRequest,
  post: (m: FromWorker) => void,
  onSignal: (fn: (sig: NodeJS.Signals) => void) => void,
): Promise<number | 'fallback'> {
  // Dates are formatted in the process's time zone (libc's, read from berthd's environment):
  // a caller in another one gets its own process
  if ((req.env.TZ ?? '') !== (HOST_TZ ?? '')) return 'fallback';
  const target = targetOf(req.argv, req.env, req.cwd);
  if (target !== undefined) {
    const path = socketPathOf(target.host);
    if (path === undefined || !req.ownSockets.includes(path)) return 'fallback';
  }
  // The command's environment is the caller's, for the code that reads process.env too.
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, req.env);
  const [inFd, outFd, errFd] = req.fds;
  const stdout = outputOn(outFd, req.spares[1]);
  const stderr = outputOn(errFd, req.spares[2]);
  let stdin: Io['stdin'] | undefined;
  const signals = new ForwardedSignals(post);
  onSignal((sig) => signals.deliver(sig, [stdout, stderr]));
  // a closed pipe on stdout (`berth ps | head -1`) ends the command quietly, as in a process
  let closedPipe: () => void = () => {};
  const pipeClosed = new Promise<number>((resolve) => {
    closedPipe = () => resolve(0);
  });
  for (const s of [stdout, stderr]) {
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') closedPipe();
      else throw err;
    });
  }
  const io: Io = {
    get stdin() {
      stdin ??= inputOn(inFd, req.spares[0]);
      return stdin;
    },
    stdout,
    stderr,
    env: req.env,
    cwd: req.cwd,
    signals,
  };
  try {
    const code = await Promise.race([main(req.argv, io), pipeClosed]);
    // what was written reaches the caller before the front exits
    await Promise.race([Promise.all([flushed(stdout), flushed(stderr)]), pipeClosed]);
    return code;
  } finally {
    onSignal(() => {});
    for (const s of [stdin, stdout, stderr]) s?.destroy();
  }
}

function flushed(s: Io['stdout']): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || s.writableEnded) resolve();
    else s.write('', () => resolve());
  });
}

/** Reports the worker reusable once it is back to its baseline, or not after 100 ms. */
function settle(clean: { resources: number; exit: number }, post: (m: FromWorker) => void, waited = 0): void {
  // from our own timer's callback that timer is still listed as active
  const now = { resources: process.getActiveResourcesInfo().length - (waited > 0 ? 1 : 0), exit: process.listenerCount('exit') };
  if (now.resources <= clean.resources && now.exit <= clean.exit) post({ type: 'settled', reusable: true });
  else if (waited >= 100) post({ type: 'settled', reusable: false });
  else setTimeout(() => settle(clean, post, waited + 5), 5);
}

/**
 * The worker's entry: say ready, then run the host's commands one at a time, forwarding
 * signals to the current one. After each, the worker says whether it is as clean as it
 * started (no timer, socket or listener left behind by the command): only then does the host
 * give it another command; otherwise it is terminated.
 */
export function serveHostedCommand(): void {
  const port = parentPort;
  if (!port) return;
  const post = (m: FromWorker) => port.postMessage(m);
  let deliver: (sig: NodeJS.Signals) => void = () => {};
  const baseline = () => ({ resources: process.getActiveResourcesInfo().length, exit: process.listenerCount('exit') });
  let clean: ReturnType<typeof baseline> | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'signal') {
      deliver(m.sig);
      return;
    }
    void runHosted(m, post, (fn) => {
      deliver = fn;
    }).then(
      (code) => {
        if (code === 'fallback') {
          post({ type: 'fallback' });
          return;
        }
        process.exitCode = undefined;
        post({ type: 'exit', code });
        // what the command opened closes over the next turns of the loop (the client's socket)
        settle(clean!, post);
      },
      (err: unknown) => {
        try {
          writeSync(m.fds[2], `berth: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        } catch {}
        post({ type: 'exit', code: 1 });
        post({ type: 'settled', reusable: false });
      },
    );
  });
  clean = baseline();
  post({ type: 'ready' });
}
