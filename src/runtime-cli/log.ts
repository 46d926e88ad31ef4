/**
 * runc-compatible logging: logrus's text format on stderr by default, or lines in `--log` in
 * text or JSON. containerd's shim reads the JSON log to report why a runtime call failed.
 */
import { appendFileSync, writeSync } from 'node:fs';

/**
 * Writes to fd 1 or 2 directly. `process.stdout` and `process.stderr` are built on first use,
 * and building one loads Node's stream machinery (and `net` when the fd is a pipe, as it is
 * under containerd): several milliseconds that a one-line answer does not need. Should the fd
 * be a full non-blocking pipe, the rest goes through the stream, which waits for it.
 */
export function writeFd(fd: 1 | 2, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length > 0) {
    let n: number;
    try {
      n = writeSync(fd, buf);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      (fd === 1 ? process.stdout : process.stderr).write(buf);
      return;
    }
    buf = buf.subarray(n);
  }
}

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions {
  file?: string;
  format: 'text' | 'json';
  debug: boolean;
}

let options: LogOptions = { format: 'text', debug: false };

export function configureLog(o: LogOptions): void {
  options = o;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function line(level: Level, msg: string, format: 'text' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({ level, msg, time: now() })}\n`;
  return `time="${now()}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

export function log(level: Level, msg: string): void {
  if (level === 'debug' && !options.debug) return;
  try {
    emit(level, msg);
  } catch {
    // stderr is gone (EPIPE): there is no one left to tell
  }
}

function emit(level: Level, msg: string): void {
  if (options.file) {
    try {
      appendFileSync(options.file, line(level, msg, options.format));
    } catch {
      // a broken log file must not hide the message itself
      writeFd(2, line(level, msg, 'text'));
    }
    // Errors still reach the caller's terminal when logs go to a file, as runc's do.
    if (level === 'error') writeFd(2, `${msg}\n`);
    return;
  }
  writeFd(2, line(level, msg, options.format));
}
