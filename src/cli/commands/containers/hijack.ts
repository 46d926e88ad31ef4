/**
 * The attached session over a hijacked connection (attach, exec start), as the docker CLI's
 * hijackedIOStreamer runs it: output copied raw (tty) or split into stdout and stderr (the
 * stdcopy frames), stdin copied up through the detach-key matcher and half-closed at its end,
 * raw mode on the local terminal while stdin is attached to a tty, and the terminal restored
 * whichever way the session ends.
 */
import type { Readable, Writable } from 'node:stream';
import type { Hijacked } from '../../../client/types.js';
import { EscapeMatcher, RawTerminal, type TtyInput } from '../../terminal.js';

export interface SessionOptions {
  tty: boolean;
  /** Attached stdin (`-i`); left untouched (not even read) when absent. */
  stdin?: Readable & TtyInput;
  stdout?: Writable;
  stderr?: Writable;
  detachKeys: readonly number[];
}

/** How the session ended: the stream was finished by the daemon, or the user typed the detach keys. */
export type SessionEnd = 'done' | 'detached';

/** A frame of type 3 (systemerr): the daemon's error in the middle of a stream. */
export class StreamError extends Error {
  override readonly name = 'StreamError';
}

/**
 * Splits Docker's multiplexed stream (8-byte header: type, 0, 0, 0, big-endian length) into its
 * frames, across chunk boundaries. Types: 0 stdin, 1 stdout, 2 stderr, 3 systemerr.
 */
export class FrameSplitter {
  private buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): { stream: number; data: Buffer }[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const frames: { stream: number; data: Buffer }[] = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      frames.push({ stream: this.buf[0] as number, data: this.buf.subarray(8, 8 + len) });
      this.buf = this.buf.subarray(8 + len);
    }
    return frames;
  }
}

/** Writes and waits for 'drain' when the destination is full, so a slow terminal slows the daemon. */
function writeTo(dest: Writable, data: Buffer): Promise<void> | undefined {
  if (data.length === 0 || dest.destroyed) return undefined;
  if (dest.write(data)) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      dest.off('drain', done);
      dest.off('close', done);
      dest.off('error', done);
      resolve();
    };
    dest.once('drain', done);
    dest.once('close', done);
    dest.once('error', done);
  });
}

export function streamSession(conn: Hijacked, opts: SessionOptions): Promise<SessionEnd> {
  const { socket } = conn;
  const raw = opts.stdin !== undefined && opts.tty ? RawTerminal.enter(opts.stdin) : undefined;
  return new Promise<SessionEnd>((resolve, reject) => {
    let settled = false;
    let stopInput = () => {};
    const finish = (how: SessionEnd | Error) => {
      if (settled) return;
      settled = true;
      stopInput();
      raw?.restore();
      socket.off('data', onData);
      // After a detach the daemon may still be sending: this connection is done with.
      if (how === 'detached') socket.destroy();
      if (how instanceof Error) reject(how);
      else resolve(how);
    };

    // Output: the daemon's stream to the local stdout/stderr.
    const splitter = opts.tty ? undefined : new FrameSplitter();
    const out = opts.stdout ?? (opts.tty ? opts.stderr : undefined);
    const onData = (chunk: Buffer) => {
      let pending: Promise<void> | undefined;
      if (splitter === undefined) {
        if (out !== undefined) pending = writeTo(out, chunk);
      } else {
        for (const f of splitter.push(chunk)) {
          if (f.stream === 3) return finish(new StreamError(`error from daemon in stream: ${f.data.toString()}`));
          const dest = f.stream === 2 ? opts.stderr : opts.stdout;
          if (dest !== undefined) pending = writeTo(dest, f.data) ?? pending;
        }
      }
      if (pending !== undefined) {
        socket.pause();
        void pending.then(() => socket.resume());
      }
    };
    if (conn.head.length > 0) onData(conn.head);
    socket.on('data', onData);
    socket.once('end', () => finish('done'));
    socket.once('close', () => finish('done'));
    // A reset connection (the daemon went away) ends the session like an end of stream: the
    // caller learns the container's fate from wait, as the docker CLI does.
    socket.on('error', () => finish('done'));

    // Input: the local stdin up to the container, until its end (then half-close) or detach.
    const stdin = opts.stdin;
    if (stdin === undefined) {
      socket.end();
      return;
    }
    const matcher = new EscapeMatcher(opts.tty ? opts.detachKeys : []);
    const onInput = (chunk: Buffer | string) => {
      const { data, detached } = matcher.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      if (data.length > 0 && socket.writable) {
        if (!socket.write(data)) {
          stdin.pause();
          socket.once('drain', () => stdin.resume());
        }
      }
      if (detached) {
        socket.end();
        finish('detached');
      }
    };
    const onInputEnd = () => {
      stopInput();
      if (socket.writable) socket.end();
    };
    stdin.on('data', onInput);
    stdin.once('end', onInputEnd);
    stdin.once('error', onInputEnd);
    stdin.resume();
    stopInput = () => {
      stdin.off('data', onInput);
      stdin.off('end', onInputEnd);
      stdin.off('error', onInputEnd);
      // Stop reading, so the terminal or pipe no longer keeps berth alive.
      stdin.pause();
      stopInput = () => {};
    };
  });
}
