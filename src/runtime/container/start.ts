/**
 * start: release a created container. Its init stage listens on the start socket
 * (`<state>/<id>/exec.sock`); a connection that sends `start` lets it run the startContainer
 * hooks and exec the user's process. The socket is first renamed to a claimed name of our own,
 * so of two racing `start`s exactly one proceeds. The connection then tells how it went: EOF
 * alone when the exec happened (the init stage holds it close-on-exec), an `error` line first
 * when a hook or the exec failed. Only then do the poststart hooks run, as the runtime-spec
 * orders.
 */
import { closeSync, constants, openSync, renameSync, unlinkSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, precondition } from '../../common/errors.js';
import { type HookIo, runHooksWarn } from '../hooks/run.js';
import { nsinitError, parseErrorLine } from '../launcher/nsinit.js';
import { Container } from './container.js';
import { canStart, startRefusal } from './status.js';

export async function start(root: string, id: string, opts: { hookIo?: HookIo } = {}): Promise<string[]> {
  const c = await Container.load(root, id);
  const status = c.status();
  if (!canStart(status)) throw precondition(startRefusal(status), id);
  if (!c.record.config.process) throw precondition('cannot start a container that has no process (config.json: process)', id);
  // Random, not our pid: a daemon may run several starts at once. Short: ids are long already.
  const claimed = `${c.startSocket}.${Math.floor(Math.random() * 2 ** 24).toString(16)}`;
  try {
    renameSync(c.startSocket, claimed);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw precondition(startRefusal(c.status()), id);
    throw fromErrno('rename', c.startSocket, err);
  }
  try {
    const outcome = await talk(claimed, id);
    const line = /^error .*$/m.exec(outcome);
    if (line) throw nsinitError(parseErrorLine(line[0]), id);
  } finally {
    try {
      unlinkSync(claimed);
    } catch {
      // gone already
    }
  }
  return runHooksWarn('poststart', c.record.config.hooks?.poststart, c.hookState('running'), opts.hookIo);
}

/** Connects to the start socket, sends `start` and reads until the init stage closes it. */
function talk(socketPath: string, id: string): Promise<string> {
  // sun_path holds 108 bytes and ids have up to 254 characters: connect through a directory fd.
  let dirFd: number | undefined;
  try {
    dirFd = openSync(path.dirname(socketPath), constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    return Promise.reject(fromErrno('open', path.dirname(socketPath), err));
  }
  const closeDir = () => {
    if (dirFd !== undefined) closeSync(dirFd);
    dirFd = undefined;
  };
  return new Promise<string>((resolve, reject) => {
    const sock = createConnection({ path: `/proc/self/fd/${dirFd}/${path.basename(socketPath)}` });
    let text = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => {
      closeDir();
      sock.end('start\n');
    });
    sock.on('data', (d: string) => {
      text += d;
    });
    sock.on('end', () => resolve(text));
    sock.on('error', (err) => {
      const code = errnoCode(err);
      // Nobody listens any more: the init stage is gone.
      if (code === 'ECONNREFUSED' || code === 'ENOENT')
        reject(new BerthError('failed-precondition', startRefusal('stopped'), { object: id }));
      // It exec'd (or died) before reading all of what we wrote: the outcome so far stands.
      else if (code === 'EPIPE' || code === 'ECONNRESET') resolve(text);
      else reject(fromErrno('connect', socketPath, err));
    });
  }).finally(closeDir);
}
