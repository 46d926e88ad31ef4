/**
 * runc-compatible logging: logrus's text format on stderr by default, or lines in `--log` in
 * text or JSON. containerd's shim reads the JSON log to report why a runtime call failed.
 */
import { appendFileSync } from 'node:fs';

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
  if (options.file) {
    try {
      appendFileSync(options.file, line(level, msg, options.format));
    } catch {
      // a broken log file must not hide the message itself
      process.stderr.write(line(level, msg, 'text'));
    }
    // Errors still reach the caller's terminal when logs go to a file, as runc's do.
    if (level === 'error') process.stderr.write(`${msg}\n`);
    return;
  }
  process.stderr.write(line(level, msg, options.format));
}
