/**
 * The attached session over a hijacked connection (attach, exec start), as the docker CLI's
 * hijackedIOStreamer runs it: output copied raw (tty) or split into stdout and stderr (the
 * stdcopy frames), stdin copied up through the detach-key matcher and half-closed at its end,
 * raw mode on the local terminal while stdin is attached to a tty, and the terminal restored
 * whichever way the session ends.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { copyOutput, StreamError } from '../../../client/streams.js';
import type { Hijacked } from '../../../client/types.js';
import type { SignalSource } from '../../signals.js';
import { EscapeMatcher, RawTerminal, type TtyInput } from '../../terminal.js';

export interface SessionOptions {
  tty: boolean;
  /** Attached stdin (`-i`); left untouched (not even read) when absent. */
  stdin?: Readable & TtyInput;
  stdout?: Writable;
  stderr?: Writable;
  detachKeys: readonly number[];
  /** Where the terminal's restore hears SIGINT/SIGTERM/SIGHUP; the process's when absent. */
  signals?: SignalSource;
}

/** How the session ended: the stream was finished by the daemon, or the user typed the detach keys. */
export type SessionEnd = 'done' | 'detached';

/** Where an unattached stream's bytes go. */
const discard = (): Writable => new PassThrough().resume();

export function streamSession(conn: Hijacked, opts: SessionOptions): Promise<SessionEnd> {
  const { socket } = conn;
  const raw = opts.stdin !== undefined && opts.tty ? RawTerminal.enter(opts.stdin, opts.signals) : undefined;
  return new Promise<SessionEnd>((resolve, reject) => {
    let settled = false;
    let stopInput = () => {};
    const finish = (how: SessionEnd | Error) => {
      if (settled) return;
      settled = true;
      stopInput();
      raw?.restore();
      // After a detach the daemon may still be sending: this connection is done with.
      if (how === 'detached') socket.destroy();
      if (how instanceof Error) reject(how);
      else resolve(how);
    };

    // Output: the daemon's stream to the local stdout/stderr (raw with a tty, else demuxed).
    if (conn.head.length > 0) socket.unshift(conn.head);
    const stdout = opts.stdout ?? (opts.tty ? opts.stderr : undefined) ?? discard();
    copyOutput(socket, { tty: opts.tty, stdout, stderr: opts.stderr ?? discard() }).then(
      () => finish('done'),
      // A reset connection (the daemon went away) ends the session like an end of stream: the
      // caller learns the container's fate from wait, as the docker CLI does. A daemon's
      // error frame is an error.
      (err: unknown) => finish(err instanceof StreamError ? new StreamError(`error from daemon in stream: ${err.message}`) : 'done'),
    );
    socket.on('error', () => {});

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
          socket.once('drain', () => {
            if (!settled) stdin.resume();
          });
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
