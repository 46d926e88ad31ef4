/** Opening a file the user named, with Go's error text (`open /x: no such file or directory`). */
import type { ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { errnoCode } from '../../../common/errors.js';
import { CliError } from '../../types.js';

const GO_ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

/** Go's text for a system error (`no such file or directory`). */
export function goErrnoText(err: unknown): string {
  const code = errnoCode(err);
  return (code && GO_ERRNO[code]) || (err as Error).message;
}

/** A read stream over `path`, opened now so a missing file fails before any request. */
export async function openInput(path: string, cwd: string): Promise<ReadStream> {
  try {
    const fh = await open(resolve(cwd, path), 'r');
    const st = await fh.stat();
    if (st.isDirectory()) {
      await fh.close();
      throw new CliError(`read ${path}: is a directory`);
    }
    // The stream owns the handle from here: it closes it at its end or when destroyed.
    return fh.createReadStream({ autoClose: true });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`open ${path}: ${goErrnoText(err)}`);
  }
}
