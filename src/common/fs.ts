/** Small file helpers with crash-safe semantics. */
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { fromErrno } from './errors.js';

/**
 * A name part unique among the runtime's concurrent writers (time and 48 random bits; not a
 * secret). Not node:crypto: loading it costs every command a millisecond or two.
 */
export function uniqueName(): string {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 2 ** 48)
    .toString(36)
    .padStart(10, '0')}`;
}

/**
 * `n` random bytes in hex (ids, secrets): Web Crypto's getRandomValues, OpenSSL's CSPRNG seeded
 * from the kernel, with no system call per id (berthd makes one per container; an open, read and
 * close of /dev/urandom before). node:crypto loads on the first call only, not with this module.
 */
export function secureRandomHex(n: number): string {
  return Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(n))).toString('hex');
}

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
export function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  // unique per call, not per process: one process may write the same file from two tasks
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${uniqueName()}.tmp`);
  try {
    const fd = openSync(tmp, 'w', opts.mode ?? 0o644);
    try {
      // writeFileSync on an fd writes all of it (one writeSync may write part)
      writeFileSync(fd, data);
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

/**
 * Makes the renames and creations in `dir` durable (before a row that depends on them commits).
 * On the thread pool: a directory's fsync waits for the journal (5–30 ms under a pull's writes),
 * which berthd's event loop must not.
 */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
