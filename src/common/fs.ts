/** Small file helpers with crash-safe semantics. */
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fromErrno } from './errors.js';

/**
 * Writes a file so that readers see either the old or the new content, even across a crash:
 * write a temp file next to it, fsync, rename over the target.
 */
export async function writeFileAtomic(file: string, data: string, mode = 0o644): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw fromErrno('write', file, err);
  }
}
