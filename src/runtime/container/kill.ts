/** kill: send a signal to the container's init process, or with `all` to every process in its cgroup. */
import { constants } from 'node:os';
import { errnoCode, fromErrno, invalid, precondition } from '../../common/errors.js';
import { cgroupPids } from '../cgroups/manager.js';
import { Container } from './container.js';
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

export async function kill(root: string, id: string, signal: number, all = false): Promise<void> {
  const c = await Container.load(root, id);
  const status = c.status();
  if (!canKill(status)) throw precondition('container not running', id);
  const pids = all ? await cgroupPids(c.record.cgroups) : [c.record.pid];
  if (!pids.includes(c.record.pid)) pids.push(c.record.pid);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if (errnoCode(err) !== 'ESRCH') throw fromErrno('kill', String(pid), err);
    }
  }
}
