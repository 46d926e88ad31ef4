/** Small file helpers with crash-safe semantics. */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fromErrno } from './errors.js';

export interface AtomicWriteOptions {
  mode?: number;
  /**
   * fsync before the rename, so the new content survives a power loss. Runtime state under
   * /run (tmpfs) describes processes that die with the machine: it needs readers never to see
   * a half-written file, which the rename gives, not durability — runc does not fsync it either.
   */
  durable?: boolean;
}

/**
 * Writes a file so that readers see either the old or the new content: write a temp file next
 * to it (fsync it when durable), rename it over the target. Synchronous: the files are small,
 * and a thread-pool round trip costs more than the write.
 */
export function writeFileAtomic(file: string, data: string, opts: AtomicWriteOptions = {}): void {
  // unique per call, not per process: one process may write the same file from two tasks
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'w', opts.mode ?? 0o644);
    try {
      writeSync(fd, data);
      if (opts.durable ?? true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created, or already renamed
    }
    throw fromErrno('write', file, err);
  }
}
