/**
 * spawnProcess: a helper process (berth-unpack, berth-ingest) started without forking Node.
 *
 * Node's child_process forks the whole process, whose page tables cost the event loop ~5–15 ms
 * per spawn here depending on its memory (a pull starts two helpers per layer). The addon's
 * spawnHelper uses posix_spawn (CLONE_VFORK: nothing copied), gives the child exactly the fds
 * asked for, and a pidfd that says when it exits; this file wraps that in what the callers used
 * of a ChildProcess (`ChildLike`): stdio streams, exitCode/signalCode, kill, and the 'exit',
 * 'close' and 'error' events in Node's order ('close' once the child exited and our ends of its
 * stdio streams are closed). stdio 'pipe' is a real pipe (Node gives a socket pair): a reader
 * may then grow it with F_SETPIPE_SZ. 'socket' is a socket pair, for a two-way channel.
 *
 * Where the addon cannot load, child_process.spawn does the same job ('socket' becomes Node's
 * 'pipe', which is a socket pair).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync } from 'node:fs';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { nativeIfLoadable } from './addon.js';

/** What callers use of a child process; a ChildProcess is one. */
export interface ChildLike {
  readonly pid?: number | undefined;
  readonly stdin: ChildProcess['stdin'];
  readonly stdout: ChildProcess['stdout'];
  readonly stderr: ChildProcess['stderr'];
  readonly stdio: ChildProcess['stdio'];
  readonly exitCode: number | null;
  readonly signalCode: NodeJS.Signals | null;
  kill(signal?: NodeJS.Signals | number): boolean;
  once(event: 'close' | 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  once(event: 'error', listener: (err: Error) => void): this;
  on(event: 'close' | 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
}

/** A child's fd i: a new pipe or socket pair (our end becomes stdio[i]), /dev/null, or an fd of ours. */
export type StdioSpec = 'pipe' | 'socket' | 'ignore' | number;

export function spawnProcess(file: string, args: string[], stdio: StdioSpec[]): ChildLike {
  const addon = nativeIfLoadable();
  if (!addon) return spawn(file, args, { stdio: stdio.map((s) => (s === 'socket' ? 'pipe' : s)) });
  return new PosixChild(addon, file, args, stdio);
}

type Addon = NonNullable<ReturnType<typeof nativeIfLoadable>>;

const SIGNALS: Record<number, NodeJS.Signals> = {};
for (const [name, n] of Object.entries(constants.signals)) SIGNALS[n] ??= name as NodeJS.Signals;

class PosixChild extends EventEmitter implements ChildLike {
  readonly pid: number | undefined;
  readonly stdio: ChildProcess['stdio'];
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  #pidfd = -1;
  #open = 0;
  #exited = false;

  constructor(addon: Addon, file: string, args: string[], specs: StdioSpec[]) {
    super();
    const ours: (Socket | null)[] = [];
    const childFds: number[] = [];
    // the child's ends are ours to close once it has them (or the spawn failed)
    const theirs: number[] = [];
    let spawned = false;
    try {
      for (const [i, spec] of specs.entries()) {
        if (spec === 'pipe' || spec === 'socket') {
          const [a, b] = spec === 'pipe' ? addon.pipe() : addon.socketPair();
          // a pipe's read end is the child's for its stdin, ours for the rest
          const [mine, child] = spec === 'pipe' && i > 0 ? [a, b] : spec === 'pipe' ? [b, a] : [a, b];
          theirs.push(child);
          childFds.push(child);
          const readable = spec === 'socket' || i > 0;
          const writable = spec === 'socket' || i === 0;
          ours.push(new Socket({ fd: mine, readable, writable }));
        } else {
          childFds.push(spec === 'ignore' ? -1 : spec);
          ours.push(null);
        }
      }
      const h = addon.spawnHelper(file, file, args, childFds, false, false);
      this.pid = h.pid;
      this.#pidfd = h.pidfd;
      spawned = true;
    } catch (err) {
      // destroyed, as Node's are after a failed spawn: writes to them fail quietly
      for (const s of ours) s?.on('error', () => {}).destroy();
      this.stdio = ours as unknown as ChildProcess['stdio'];
      // as Node's spawn: the failure is an 'error' event, once the caller listens
      process.nextTick(() => this.emit('error', err));
    } finally {
      for (const fd of theirs) closeSync(fd);
    }
    if (!spawned) {
      this.stdio ??= [] as unknown as ChildProcess['stdio'];
      return;
    }
    this.stdio = ours as unknown as ChildProcess['stdio'];
    for (const [i, s] of ours.entries()) {
      if (!s) continue;
      // a write to a child that died, or a read cut short, shows in its exit status
      s.on('error', () => {});
      // as Node's: 'close' waits for the streams we read (its stdin is ours to end)
      if (i === 0) continue;
      this.#open++;
      s.once('close', () => {
        this.#open--;
        this.#maybeClose();
      });
    }
    const pidfd = this.#pidfd;
    const watch = addon.watchFd(pidfd, () => {
      const r = addon.waitPidfd(pidfd);
      if (!r) return;
      addon.unwatchFd(watch);
      closeSync(pidfd);
      this.#exited = true;
      this.exitCode = r.signal ? null : r.code;
      this.signalCode = r.signal ? (SIGNALS[r.signal] ?? null) : null;
      this.emit('exit', this.exitCode, this.signalCode);
      this.#maybeClose();
    });
  }

  get stdin(): ChildProcess['stdin'] {
    return (this.stdio[0] ?? null) as ChildProcess['stdin'];
  }

  get stdout(): ChildProcess['stdout'] {
    return (this.stdio[1] ?? null) as ChildProcess['stdout'];
  }

  get stderr(): ChildProcess['stderr'] {
    return (this.stdio[2] ?? null) as ChildProcess['stderr'];
  }

  #closed = false;
  #maybeClose(): void {
    if (this.#closed || !this.#exited || this.#open > 0) return;
    this.#closed = true;
    this.emit('close', this.exitCode, this.signalCode);
  }

  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    // not reaped before its exit is seen here, so the pid is still this child's
    if (this.#exited || this.pid === undefined) return false;
    try {
      process.kill(this.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

/** The fd under a stream of ours over a pipe or socket (to hand to a child), or throws. */
export function fdOf(stream: NodeJS.WritableStream | NodeJS.ReadableStream): number {
  const fd = (stream as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the stream has no file descriptor');
  return fd;
}
