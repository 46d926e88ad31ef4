/**
 * start: release a created container. The init stage waits reading the exec fifo; writing one
 * byte to it lets it exec the user's process. The fifo is first renamed to a name of our own,
 * so of two racing `start`s exactly one proceeds.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { BerthError, errnoCode, fromErrno, precondition } from '../../common/errors.js';
import { runHooksWarn } from '../hooks/run.js';
import { Container } from './container.js';
import { canStart, startRefusal } from './status.js';

export async function start(root: string, id: string): Promise<string[]> {
  const c = await Container.load(root, id);
  const status = c.status();
  if (!canStart(status)) throw precondition(startRefusal(status), id);
  const claimed = `${c.fifo}.${process.pid}`;
  try {
    await rename(c.fifo, claimed);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw precondition(startRefusal(c.status()), id);
    throw fromErrno('rename', c.fifo, err);
  }
  try {
    let fd: number;
    try {
      // Non-blocking: if the init stage died there is no reader and open fails with ENXIO
      // instead of hanging.
      fd = openSync(claimed, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      if (errnoCode(err) === 'ENXIO') throw new BerthError('failed-precondition', startRefusal('stopped'), { object: id });
      throw fromErrno('open', claimed, err);
    }
    try {
      writeSync(fd, '0');
    } finally {
      closeSync(fd);
    }
  } finally {
    await unlink(claimed).catch(() => {});
  }
  return runHooksWarn('poststart', c.record.config.hooks?.poststart, c.hookState('running'));
}
