/**
 * delete: remove a stopped container; with `force`, kill a created or running one first. The
 * state directory is renamed away before anything is torn down, so of two racing deletes one
 * does the work and the other reports that the container does not exist.
 */
import { renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, isKind, precondition } from '../../common/errors.js';
import { managerFor } from '../cgroups/manager.js';
import { runHooksWarn } from '../hooks/run.js';
import { Container, validateId } from './container.js';
import { waitGone } from './proc.js';
import { canDelete } from './status.js';

export async function destroy(c: Container): Promise<string[]> {
  const { pid, pidStartTime } = c.record;
  const cgroups = managerFor(c.record.cgroups);
  // Killing a pid namespace's init takes the namespace down, but a container without its own
  // pid namespace needs each process killed: do both.
  for (const p of new Set([pid, ...cgroups.pids()])) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  // a paused container's processes die only once thawed (cgroup v1 freezer)
  try {
    if (cgroups.frozen()) cgroups.thaw();
  } catch {
    // no freezer, or the cgroup is gone already
  }
  await waitGone(pid, pidStartTime);
  const tomb = path.join(c.root, `.deleting-${c.id}-${process.pid}`);
  try {
    renameSync(c.dir, tomb);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new BerthError('not-found', 'container does not exist', { object: c.id });
    throw fromErrno('rename', c.dir, err);
  }
  const warnings = await runHooksWarn('poststop', c.record.config.hooks?.poststop, c.hookState('stopped'));
  await cgroups.destroy();
  rmSync(tomb, { recursive: true, force: true });
  return warnings;
}

export async function deleteContainer(root: string, id: string, force = false): Promise<string[]> {
  validateId(id);
  let c: Container;
  try {
    c = await Container.load(root, id);
  } catch (err) {
    if (isKind(err, 'not-found')) {
      // A create that died before writing state.json leaves just the directory.
      rmSync(Container.dir(root, id), { recursive: true, force: true });
      if (force) return [];
    }
    throw err;
  }
  const status = c.status();
  if (!force && !canDelete(status)) throw precondition(`cannot delete container ${id} that is not stopped: ${status}`, id);
  return destroy(c);
}
