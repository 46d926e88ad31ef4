/**
 * start: release a created container. The init stage waits reading the exec fifo; writing one
 * byte to it lets it run the startContainer hooks and exec the user's process. The fifo is
 * first renamed to a name of our own, so of two racing `start`s exactly one proceeds. Then the
 * start-status fifo tells how it went: EOF alone when the exec happened (the init stage holds
 * it close-on-exec), an error line first when a hook or the exec failed. Only then do the
 * poststart hooks run, as the runtime-spec orders.
 */
import { closeSync, constants, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, precondition } from '../../common/errors.js';
import { type HookIo, runHooksWarn } from '../hooks/run.js';
import { decodeField } from '../plan/encode.js';
import { Container } from './container.js';
import { canStart, startRefusal } from './status.js';

export async function start(root: string, id: string, opts: { hookIo?: HookIo } = {}): Promise<string[]> {
  const c = await Container.load(root, id);
  const status = c.status();
  if (!canStart(status)) throw precondition(startRefusal(status), id);
  const claimed = `${c.fifo}.${process.pid}`;
  try {
    renameSync(c.fifo, claimed);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw precondition(startRefusal(c.status()), id);
    throw fromErrno('rename', c.fifo, err);
  }
  // Opened before the start byte is written, while the init stage surely still holds it.
  const statusFd = openStatus(path.join(c.dir, 'exec.status'));
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
    if (statusFd !== undefined) {
      const outcome = await readToEof(statusFd);
      const error = /^error (.*)$/m.exec(outcome);
      if (error) throw new BerthError('failed-precondition', decodeField(error[1] ?? ''), { object: id });
    }
  } finally {
    if (statusFd !== undefined) closeSync(statusFd);
    try {
      unlinkSync(claimed);
    } catch {
      // gone already
    }
  }
  return runHooksWarn('poststart', c.record.config.hooks?.poststart, c.hookState('running'), opts.hookIo);
}

function openStatus(file: string): number | undefined {
  try {
    // O_NONBLOCK: opening a FIFO for reading must not wait for a writer that may be gone.
    return openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return undefined; // a container created by an older berth-runtime
  }
}

/**
 * Reads a non-blocking FIFO until every writer has closed it. Node cannot poll a plain fd, so
 * this sleeps between reads; it lasts as long as the startContainer hooks plus the exec.
 */
async function readToEof(fd: number): Promise<string> {
  const buf = Buffer.alloc(4096);
  let text = '';
  for (let delay = 0.25; ; ) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (err) {
      if (errnoCode(err) !== 'EAGAIN') throw fromErrno('read', 'start status', err);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 20);
      continue;
    }
    if (n === 0) return text;
    text += buf.toString('utf8', 0, n);
  }
}
