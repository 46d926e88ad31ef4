/** kill: send a signal to the container's init process, or with `all` to every process in its cgroup. */
import { constants } from 'node:os';
import { errnoCode, fromErrno, invalid, precondition } from '../../common/errors.js';
import { managerFor } from '../cgroups/manager.js';
import { type Effects, hostEffects } from '../effects.js';
import { Container } from './container.js';
import { lockContainer } from './lock.js';
import { canKill } from './status.js';

/** Accepts runc's forms: "KILL", "SIGKILL", "9". */
export function parseSignal(raw: string): number {
  const n = Number(raw);
  if (raw !== '' && Number.isInteger(n)) {
    if (n >= 0 && n <= 64) return n;
    throw invalid(`unknown signal "${raw}"`, raw);
  }
  const name = raw.toUpperCase().startsWith('SIG') ? raw.toUpperCase() : `SIG${raw.toUpperCase()}`;
  const num = (constants.signals as Record<string, number>)[name];
  if (num === undefined) throw invalid(`unknown signal "${raw}"`, raw);
  return num;
}

export async function kill(root: string, id: string, signal: number, all = false, opts: { effects?: Effects } = {}): Promise<void> {
  const fx = opts.effects ?? hostEffects;
  if (!all) {
    const c = await Container.load(root, id);
    if (!canKill(c.status(fx))) throw precondition('container not running', id);
    send(fx, c.record.pid, signal);
    return;
  }
  // freeze, list, signal, thaw: under the lock, so a racing pause or kill --all does not thaw
  // what it froze, or freeze it anew
  await using _ = await lockContainer(root, id);
  const c = await Container.load(root, id);
  const status = c.status(fx);
  if (!canKill(status)) throw precondition('container not running', id);
  // Every process of the cgroup. Frozen while it is listed and signalled, as runc does, so that
  // none can fork a child the list misses; a paused container stays paused.
  const m = managerFor(c.record.cgroups, { effects: fx });
  let froze = false;
  if (status !== 'paused') {
    try {
      await m.freeze();
      froze = true;
    } catch {
      // no freezer (rootless without one): signal without freezing
    }
  }
  try {
    const pids = m.pids();
    if (!pids.includes(c.record.pid)) pids.push(c.record.pid);
    for (const pid of pids) send(fx, pid, signal);
  } finally {
    if (froze) m.thaw();
  }
}

function send(fx: Effects, pid: number, signal: number): void {
  try {
    fx.kill(pid, signal);
  } catch (err) {
    if (errnoCode(err) !== 'ESRCH') throw fromErrno('kill', String(pid), err);
  }
}
