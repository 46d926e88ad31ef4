/**
 * The local terminal while `berth` is attached to a container with a tty (`run -it`, `attach`,
 * `exec -it`, `start -ai`): raw mode on stdin, the window size forwarded to the daemon, the
 * detach keys recognised in what the user types, and the terminal given back as it was on
 * every way out — a normal end, an error, a signal to berth, the daemon hanging up.
 *
 * The pure parts (detach keys, the escape matcher) are separate from the one owner of the
 * effects (RawTerminal), so they can be tested without a tty.
 */

import { spawnSync } from 'node:child_process';
import { processSignals, type SignalSource } from './signals.js';
import { CliError } from './types.js';

/** ctrl-p ctrl-q: Docker's default detach sequence. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [0x10, 0x11];

/** `ctrl-@`, `ctrl-a` … `ctrl-z`, `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_`: codes 0 to 31. */
const CTRL_NAMES = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'].map((c) => `ctrl-${c}`);

/**
 * A detach-keys spec as Docker reads it (moby/term ToBytes): comma-separated keys, each a single
 * character or `ctrl-<x>`. Throws `Unknown character: '<key>'` like Docker.
 */
export function parseDetachKeys(spec: string): number[] {
  const codes: number[] = [];
  for (const key of spec.split(',')) {
    const bytes = Buffer.from(key, 'utf8');
    if (bytes.length === 1) {
      codes.push(bytes[0] as number);
      continue;
    }
    const code = CTRL_NAMES.indexOf(key);
    if (code < 0) throw new Error(`Unknown character: '${key}'`);
    codes.push(code);
  }
  return codes;
}

/**
 * The detach keys in force: the flag, else config.json's `detachKeys`, else ctrl-p ctrl-q. An
 * invalid spec falls back to the default, as the docker CLI does (it only logs a warning).
 */
export function detachKeysFor(flag: string, configured: string | undefined): { spec: string; keys: number[]; warning?: string } {
  const spec = flag !== '' ? flag : (configured ?? '');
  if (spec === '') return { spec: '', keys: [...DEFAULT_DETACH_KEYS] };
  try {
    return { spec, keys: parseDetachKeys(spec) };
  } catch (err) {
    return { spec, keys: [...DEFAULT_DETACH_KEYS], warning: `invalid detach escape keys, using default: ${(err as Error).message}` };
  }
}

/**
 * Finds the detach sequence in typed input, across chunk boundaries. Bytes that start the
 * sequence are held back until it is decided; if the sequence breaks off they are passed on
 * with what follows, so a lone ctrl-p still reaches the container.
 */
export class EscapeMatcher {
  private held = 0;
  constructor(private readonly keys: readonly number[]) {}

  /** What to send on, and whether the sequence was completed (anything after it is dropped). */
  push(chunk: Buffer): { data: Buffer; detached: boolean } {
    if (this.keys.length === 0) return { data: chunk, detached: false };
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { data: Buffer.from(out), detached: true };
        continue;
      }
      // The sequence broke off: give back what was held, then look at this byte afresh.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i] as number);
      this.held = 0;
      if (b === this.keys[0]) {
        this.held = 1;
        if (this.keys.length === 1) return { data: Buffer.from(out), detached: true };
      } else {
        out.push(b);
      }
    }
    return { data: Buffer.from(out), detached: false };
  }
}

export interface TtyInput {
  isTTY?: boolean;
  fd?: number;
  setRawMode?(mode: boolean): unknown;
}

export interface TtyOutput {
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

/**
 * Docker's check before attaching stdin to a tty container: `the input device is not a TTY`,
 * exit 1. stdin is asked for only then (making process.stdin costs berth start-up time).
 */
export function checkTty(attachStdin: boolean, tty: boolean, stdin: () => TtyInput): void {
  if (attachStdin && tty && stdin().isTTY !== true) throw new CliError('the input device is not a TTY', 1);
}

const RESTORE_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNO: Record<(typeof RESTORE_SIGNALS)[number], number> = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 };

/**
 * Raw mode on the local terminal, with one way back. `restore()` is idempotent and is also run
 * when the process exits (process.exit anywhere) and when berth is ended by SIGINT, SIGTERM or
 * SIGHUP while nothing else handles them (with sig-proxy on, run/attach handle them and forward
 * them to the container instead, as Docker does; the terminal is then restored when the
 * container's stream ends).
 */
export class RawTerminal {
  private restored = false;
  private readonly onExit = () => this.restore();
  private readonly onSignal = (sig: NodeJS.Signals) => {
    // Someone else (the signal proxy) handles it: berth goes on, still attached.
    if (this.signals.listenerCount(sig) > 1) return;
    this.restore();
    process.exitCode = 128 + (SIGNO[sig as (typeof RESTORE_SIGNALS)[number]] ?? 0);
    // Die by the signal itself, as the shell expects from a killed program.
    this.signals.raise(sig);
  };

  private constructor(
    private readonly input: TtyInput,
    private readonly signals: SignalSource,
  ) {
    input.setRawMode?.(true);
    // libuv's raw mode keeps output post-processing (ONLCR), so the container's own \r\n
    // would reach the screen as \r\r\n; Docker's raw mode (cfmakeraw) turns it off. Node
    // has no termios call: stty does it, on this terminal. setRawMode(false) later puts back
    // the termios libuv saved before raw mode, this flag included.
    spawnSync('stty', ['-opost'], { stdio: [input.fd ?? 0, 'ignore', 'ignore'] });
    process.on('exit', this.onExit);
    for (const sig of RESTORE_SIGNALS) signals.on(sig, this.onSignal);
  }

  /** Raw mode when `input` is a terminal; undefined (nothing to restore) otherwise. */
  static enter(input: TtyInput, signals: SignalSource = processSignals): RawTerminal | undefined {
    if (input.isTTY !== true || typeof input.setRawMode !== 'function') return undefined;
    return new RawTerminal(input, signals);
  }

  restore(): void {
    if (this.restored) return;
    this.restored = true;
    process.off('exit', this.onExit);
    for (const sig of RESTORE_SIGNALS) this.signals.off(sig, this.onSignal);
    try {
      // libuv saved the terminal's original termios on entering raw mode and puts it back here.
      this.input.setRawMode?.(false);
    } catch {
      // The terminal is gone (hung up): nothing left to restore.
    }
  }

  [Symbol.dispose](): void {
    this.restore();
  }
}

/**
 * Forwards the local window size: once now, then on every change (SIGWINCH, which Node turns
 * into stdout's 'resize'). The first resize is retried a few times, as the docker CLI does,
 * because a container that was just started may not have its tty ready. Returns the stop.
 */
export function monitorTtySize(
  out: TtyOutput,
  resize: (height: number, width: number) => Promise<unknown>,
  onError: (message: string) => void = () => {},
): () => void {
  if (out.isTTY !== true) return () => {};
  let stopped = false;
  const size = (): [number, number] => [out.rows ?? 0, out.columns ?? 0];
  const initial = async () => {
    for (let attempt = 0; attempt < 10 && !stopped; attempt++) {
      const [h, w] = size();
      if (h === 0 && w === 0) return;
      try {
        await resize(h, w);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 10 * (attempt + 1)));
      }
    }
    if (!stopped) onError('failed to resize tty, using default size');
  };
  void initial();
  const onResize = () => {
    const [h, w] = size();
    if (stopped || (h === 0 && w === 0)) return;
    resize(h, w).catch(() => {});
  };
  out.on?.('resize', onResize);
  return () => {
    stopped = true;
    out.off?.('resize', onResize);
  };
}
