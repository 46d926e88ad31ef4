/**
 * The launcher interface: what carries a prepared container (its plan, docs/plan-format.md) out.
 * `berth-runtime` launches with berth-nsinit as a child of the calling process
 * (launcher/nsinit.ts); the engine's shim is another launcher speaking the same protocol. The
 * library decides everything before a launcher is called: a launcher only starts the helper,
 * passes the plan and reports the helper's messages.
 */
import type { LaunchPlan } from '../plan/plan.js';

export type LaunchMessage =
  | { type: 'pid'; pid: number }
  | { type: 'hooks' }
  | { type: 'created' }
  /** A stage failed: the errno of the failed system call (0 if none) and what it said. */
  | { type: 'error'; errno: number; message: string }
  /** The sync channel closed: the container process exec'd (or every stage is gone). */
  | { type: 'eof' };

/**
 * The container's stdio and extra fds, as fds the caller owns (the library never hands out
 * the calling process's own fds unasked). 'ignore' is /dev/null.
 */
export interface StdioHandles {
  stdin?: number | 'ignore';
  stdout?: number | 'ignore';
  stderr?: number | 'ignore';
  /** Passed to the container process as fds 3, 4, … in this order (runc's --preserve-fds). */
  preserveFds?: readonly number[];
}

export interface LaunchOptions {
  stdio: StdioHandles;
  /** Start the helper in its own session (a foreground run: terminal signals reach it only through the caller). */
  detached: boolean;
}

/** One launched helper: its messages, the lines sent to it, its exit. Disposing it ends it. */
export interface LaunchSession extends AsyncDisposable, Disposable {
  /** Exit status of the helper: its exit code, or 128+signal. */
  readonly exited: Promise<number>;
  /** The next message; after EOF, EOF forever. */
  next(): Promise<LaunchMessage>;
  /** Waits for a message of the given type; an `error` message or EOF becomes a BerthError. */
  expect<T extends LaunchMessage['type']>(type: T): Promise<Extract<LaunchMessage, { type: T }>>;
  send(line: string): void;
  /** Forwards a signal to the helper, which forwards it to the container (`wait 1`). */
  signal(sig: NodeJS.Signals): void;
  /** Lets go of the sync channel without killing the helper (the container lives on). */
  detach(): void;
}

export interface Launcher {
  launch(plan: LaunchPlan, opts: LaunchOptions): LaunchSession;
}
