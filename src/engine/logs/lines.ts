/**
 * Lines of a log file, forwards from an offset (LineCursor) and backwards from the end
 * (tailStart), in bounded memory: a "line" longer than MAX_LINE is not something berth-shim
 * writes (its longest entry is ~100 KiB), so it is skipped as garbage, not buffered.
 */
import { decodeEntry } from './entry.js';
import type { LogFileHandle } from './files.js';

const CHUNK = 64 * 1024;
export const MAX_LINE = 1024 * 1024;

/**
 * Complete lines of one file from `offset` on. `offset` only ever moves past a line's '\n':
 * bytes after the last one (an entry the shim is writing, or one it is about to truncate after
 * a short write) are dropped at the end of the file and read again next time, so a torn entry
 * is never glued to the bytes that replace it.
 */
export class LineCursor {
  private pos: number;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private skipping = false;

  constructor(
    readonly file: LogFileHandle,
    public offset = 0,
  ) {
    this.pos = offset;
  }

  /** The complete lines of the next chunk (maybe none), or undefined at the end of the file. */
  async next(): Promise<Buffer[] | undefined> {
    const buf = Buffer.allocUnsafe(CHUNK);
    const at = this.pos;
    const n = await this.file.read(buf, at);
    if (n === 0) {
      this.pending = [];
      this.pendingLen = 0;
      this.skipping = false;
      this.pos = this.offset;
      return undefined;
    }
    this.pos += n;
    const data = buf.subarray(0, n);
    const lines: Buffer[] = [];
    let start = 0;
    for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
      const piece = data.subarray(start, nl);
      if (this.skipping) this.skipping = false;
      else if (this.pendingLen > 0) lines.push(Buffer.concat([...this.pending, piece]));
      else lines.push(piece);
      this.pending = [];
      this.pendingLen = 0;
      this.offset = at + nl + 1;
      start = nl + 1;
    }
    if (start < n && !this.skipping) {
      this.pending.push(data.subarray(start));
      this.pendingLen += n - start;
      if (this.pendingLen > MAX_LINE) {
        this.pending = [];
        this.pendingLen = 0;
        this.skipping = true;
      }
    }
    return lines;
  }
}

/** Whether a line counts for `tail`: an entry, not garbage. */
const isEntry = (line: Buffer) => decodeEntry(line) !== undefined;

/**
 * Where to start reading for the last `n` entries of `files` (oldest first), reading them from
 * the end backwards — never more than those entries (and one chunk) of a large log. Bytes after
 * the last '\n' of a file are not an entry yet; garbage lines do not count. With fewer than `n`
 * entries in all, the start of the oldest file; with n = 0, the end of the last complete line
 * of the newest.
 */
export async function tailStart(files: LogFileHandle[], n: number): Promise<{ index: number; offset: number }> {
  let count = 0;
  for (let index = files.length - 1; index >= 0; index--) {
    const file = files[index]!;
    let pos = await file.size();
    // The line being assembled backwards: its pieces, and whether its '\n' was found yet.
    let frag: Buffer[] = [];
    let fragLen = 0;
    let terminated = false;
    let skipping = false;
    while (pos > 0) {
      const start = Math.max(0, pos - CHUNK);
      const chunk = Buffer.allocUnsafe(pos - start);
      let got = 0;
      while (got < chunk.length) {
        const r = await file.read(chunk.subarray(got), start + got);
        if (r === 0) break;
        got += r;
      }
      // Short only if the file shrank under us (a torn entry cut off after a short write): what
      // is missing was past the last '\n', so not a line anyway.
      const data = chunk.subarray(0, got);
      let end = data.length;
      while (end > 0) {
        const nl = data.lastIndexOf(10, end - 1);
        if (nl < 0) break;
        if (terminated && !skipping) {
          const line = Buffer.concat([data.subarray(nl + 1, end), ...frag]);
          if (isEntry(line)) {
            if (++count === n) return { index, offset: start + nl + 1 };
          }
        }
        if (n === 0 && !terminated) return { index, offset: start + nl + 1 };
        terminated = true;
        skipping = false;
        frag = [];
        fragLen = 0;
        end = nl;
      }
      if (terminated && !skipping && end > 0) {
        frag.unshift(data.subarray(0, end));
        fragLen += end;
        if (fragLen > MAX_LINE) {
          frag = [];
          fragLen = 0;
          skipping = true;
        }
      }
      pos = start;
    }
    if (n === 0) return { index, offset: 0 };
    if (terminated && !skipping && isEntry(Buffer.concat(frag)) && ++count === n) return { index, offset: 0 };
  }
  return { index: 0, offset: 0 };
}
