/**
 * Test fixtures for the log reader: a writer that writes and rotates exactly as berth-shim's
 * log.c does (entry format, rotation before an entry once the file reached max-size, the rename
 * order), and a file system that counts the bytes read through it.
 */
import { closeSync, existsSync, ftruncateSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import type { LogStream } from './entry.js';
import { type LogFileSystem, nodeLogFs } from './files.js';

/** The shim's time format: RFC3339Nano, UTC, trailing zeros of the fraction cut. */
export function shimTime(ns: bigint): string {
  const sec = ns / 1_000_000_000n;
  const frac = (ns % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  const iso = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  return frac ? `${iso}.${frac}Z` : `${iso}Z`;
}

export function entryLine(stream: LogStream, log: string, ns: bigint): string {
  return `${JSON.stringify({ log, stream, time: shimTime(ns) })}\n`;
}

export const T0 = 1_700_000_000_000_000_000n;
/** The default time of the i-th entry (from 0) a ShimLikeWriter writes: nine fraction digits, so
 * that all its entries of the same text length have the same size. */
export const at = (i: number) => T0 + 1n + BigInt(i + 1) * 1_000_000n;

export class ShimLikeWriter {
  fd: number;
  size = 0;
  /** The time of the last entry; each entry advances it by 1 ms unless given (see `at`). */
  ns = T0 + 1n;

  constructor(
    readonly path: string,
    readonly maxSize = 0,
    readonly maxFile = 1,
  ) {
    this.fd = openSync(path, 'a', 0o640);
  }

  write(stream: LogStream, log: string, ns?: bigint): { time: string; ns: bigint } {
    if (this.maxSize > 0 && this.size >= this.maxSize) this.rotate();
    if (ns === undefined) this.ns += 1_000_000n;
    const t = ns ?? this.ns;
    const line = entryLine(stream, log, t);
    this.raw(line);
    return { time: shimTime(t), ns: t };
  }

  raw(bytes: string | Buffer): void {
    const b = Buffer.from(bytes);
    writeSync(this.fd, b);
    this.size += b.length;
  }

  /** log.c's rotate(): the oldest deleted, `.i-1` to `.i` from the top, the log to `.1`. */
  rotate(): void {
    if (this.maxFile < 2) {
      closeSync(this.fd);
      unlinkSync(this.path);
    } else {
      const last = `${this.path}.${this.maxFile - 1}`;
      if (existsSync(last)) unlinkSync(last);
      for (let i = this.maxFile - 1; i > 1; i--)
        if (existsSync(`${this.path}.${i - 1}`)) renameSync(`${this.path}.${i - 1}`, `${this.path}.${i}`);
      closeSync(this.fd);
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, 'w', 0o640);
    this.size = 0;
  }

  truncate(size: number): void {
    ftruncateSync(this.fd, size);
    this.size = size;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** nodeLogFs, counting the bytes read. */
export function countingFs(): { fs: LogFileSystem; bytesRead: () => number; reads: () => number } {
  let n = 0;
  let calls = 0;
  const fs: LogFileSystem = {
    ...nodeLogFs,
    async open(path) {
      const f = await nodeLogFs.open(path);
      if (!f) return f;
      return {
        ...f,
        id: f.id,
        read: async (buf, pos) => {
          const r = await f.read(buf, pos);
          n += r;
          calls++;
          return r;
        },
      };
    },
  };
  return { fs, bytesRead: () => n, reads: () => calls };
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
