/** Opening a file the user named, with Go's error text (`open /x: no such file or directory`). */
import { createReadStream, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoCode } from '../../../common/errors.js';
import { CliError } from '../../types.js';

const GO_ERRNO: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
};

/** A read stream over `path`, opened now so a missing file fails before any request. */
export async function openInput(path: string): Promise<ReadStream> {
  try {
    const fh = await open(path, 'r');
    const st = await fh.stat();
    if (st.isDirectory()) {
      await fh.close();
      throw new CliError(`read ${path}: is a directory`);
    }
    return createReadStream('', { fd: fh.fd, autoClose: true });
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = errnoCode(err);
    throw new CliError(`open ${path}: ${(code && GO_ERRNO[code]) || (err as Error).message}`);
  }
}
