/**
 * delete: remove a stopped container; with `force`, kill a created or running one first.
 *
 * Under the container's lock (lock.ts) the directory is renamed to a tomb, `<root>/~d-<random>`
 * (short and unique whatever the id's length, and never an id), then everything the record
 * names is torn down: the init process, every process in its cgroups, the cgroups, the tomb. A
 * delete that dies half-way leaves a tomb with the record in it; later deletes finish it
 * (`collectTombs`). `delete --force` of a container that does not exist succeeds, so any number
 * of racing `delete --force` all succeed.
 */
import { readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, precondition } from '../../common/errors.js';
import { uniqueName } from '../../common/fs.js';
import { managerFor } from '../cgroups/manager.js';
import { type Effects, hostEffects } from '../effects.js';
import { type HookIo, runHooksWarn } from '../hooks/run.js';
import { Container, type ContainerRecord, hookState, isRuntimeName, readRecord, validateId } from './container.js';
import { lockContainer } from './lock.js';
import { isAlive, waitGone } from './proc.js';
import { canDelete } from './status.js';

const TOMB = '~d-';
const STAGING = '~c-';
/** lock.ts writes its salt under such a name and links it into place at once. */
const TEMP = '~tmp-';

/** Renames a container directory to a fresh tomb; returns the tomb, or undefined if `dir` is gone. */
export function entomb(root: string, dir: string): string | undefined {
  const tomb = path.join(root, `${TOMB}${uniqueName()}`);
  try {
    renameSync(dir, tomb);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fromErrno('rename', dir, err);
  }
  return tomb;
}

/**
 * Kills the container's init and every process in its cgroups, waits for the init to be gone,
 * runs the poststop hooks (`hooks`), and removes the cgroups. Returns the hooks' warnings.
 */
export async function teardown(record: ContainerRecord, opts: { hooks: boolean; hookIo?: HookIo; effects?: Effects }): Promise<string[]> {
  const { pid, pidStartTime } = record;
  const fx = opts.effects ?? hostEffects;
  const cgroups = managerFor(record.cgroups, { effects: fx });
  const live = pid > 0 && isAlive(pid, pidStartTime, fx);
  // Killing a pid namespace's init takes the namespace down, but a container without its own
  // pid namespace needs each process killed: do both.
  for (const p of new Set([...(live ? [pid] : []), ...cgroups.pids()])) {
    try {
      fx.kill(p, 'SIGKILL');
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
  // The kernel says when the cgroup is empty (cgroup2); without one, the init is watched in /proc.
  const empty = record.cgroups.length > 0 ? await cgroups.waitEmpty(10_000) : undefined;
  if (live && empty !== true) await waitGone(pid, pidStartTime, 10_000, fx);
  const warnings = opts.hooks
    ? await runHooksWarn(
        'poststop',
        record.config.hooks?.poststop,
        hookState(record.config, record.id, record.bundle, 'stopped', pid),
        opts.hookIo,
      )
    : [];
  await cgroups.destroy();
  return warnings;
}

export interface DeleteOptions {
  /** Where the poststop hooks' stdout goes (default: nowhere). */
  hookIo?: HookIo;
  /**
   * How a container's directory (the record and a socket or two) is deleted; default: at once.
   * A daemon passes a remover that works on its thread pool in one step (the addon's
   * removeTree): Node's async rm takes four thread-pool round trips with JavaScript between them,
   * 1–5 ms of an exit's clean-up when the pool is busy; the synchronous one blocks its event loop
   * for the unlinks (~0.4 ms on ext4).
   */
  removeDir?: (dir: string) => Promise<void>;
  /** The host, or a fake (effects.ts). */
  effects?: Effects;
  /**
   * Finish what other deletes and creates left in the root after this one (collectTombs: a
   * readdir of the root, more when something is there). Default true; a daemon that sweeps at
   * its start and again after a failed teardown passes false, sparing each exit the readdir.
   */
  collectTombs?: boolean;
}

export async function destroy(c: Container, opts: DeleteOptions = {}): Promise<string[]> {
  return deleteContainer(c.root, c.id, true, opts);
}

async function removeDir(dir: string, opts: DeleteOptions): Promise<void> {
  if (opts.removeDir) await opts.removeDir(dir);
  else rmSync(dir, { recursive: true, force: true });
}

export async function deleteContainer(root: string, id: string, force = false, opts: DeleteOptions = {}): Promise<string[]> {
  validateId(id);
  let warnings: string[];
  {
    await using _ = await lockContainer(root, id);
    const dir = Container.dir(root, id);
    let c: Container | undefined;
    try {
      const record = readRecord(dir);
      if (record) c = await Container.open(root, record);
    } catch (err) {
      if (!force) throw err;
      // an unreadable record: with --force the directory goes all the same
    }
    if (!c) {
      // No record: nothing of the container exists, or a directory without a record (left by
      // an older version's create): nothing to kill, the directory goes.
      const tomb = entomb(root, dir);
      if (tomb) await removeDir(tomb, opts);
      if (!tomb && !force) throw new BerthError('not-found', 'container does not exist', { object: id });
      warnings = [];
    } else {
      const status = c.status();
      if (!force && !canDelete(status)) throw precondition(`cannot delete container ${id} that is not stopped: ${status}`, id);
      const tomb = entomb(root, dir);
      if (!tomb) throw new BerthError('internal', `container ${id} vanished under its lock`, { object: id });
      warnings = await teardown(c.record, { hooks: c.record.pid > 0, hookIo: opts.hookIo, effects: opts.effects });
      await removeDir(tomb, opts);
    }
  }
  if (opts.collectTombs !== false) await collectTombs(root, opts.effects).catch(() => {});
  return warnings;
}

/** Whether the state root holds a tomb: a delete's teardown still to be finished (collectTombs). */
export function hasTombs(root: string): boolean {
  try {
    return readdirSync(root).some((name) => name.startsWith(TOMB));
  } catch {
    return false;
  }
}

/**
 * Finishes what deletes and creates that died left in the state root: a tomb whose container's
 * lock is free has lost its deleter, so its teardown is done again; a staging directory whose
 * creator is gone is removed (nothing was made for it yet: create renames it into place first).
 * A tomb's cgroups are left alone when a container of the same id exists again (they are its
 * cgroups now, if it has the same cgroupsPath).
 */
export async function collectTombs(root: string, effects?: Effects): Promise<void> {
  let names: string[];
  try {
    names = readdirSync(root).filter(isRuntimeName);
  } catch {
    return;
  }
  for (const name of names) {
    const where = path.join(root, name);
    if (name.startsWith(TEMP)) {
      // left only by a process that died between writing and linking it: give a live one a minute
      try {
        if (Date.now() - statSync(where).mtimeMs > 60_000) rmSync(where, { force: true });
      } catch {
        // gone
      }
    } else if (name.startsWith(STAGING)) {
      const r = readRecordOrUndefined(where);
      if (r?.creator && isAlive(r.creator.pid, r.creator.startTime, effects)) continue;
      rmSync(where, { recursive: true, force: true });
    } else if (name.startsWith(TOMB)) {
      const r = readRecordOrUndefined(where);
      if (!r) {
        rmSync(where, { recursive: true, force: true });
        continue;
      }
      const lock = await lockContainer(root, r.id, { wait: false });
      if (!lock) continue; // its deleter is at work
      try {
        const again = readRecordOrUndefined(Container.dir(root, r.id)) !== undefined;
        await teardown(again ? { ...r, cgroups: [] } : r, { hooks: false, effects });
        rmSync(where, { recursive: true, force: true });
      } finally {
        await lock.release();
      }
    }
  }
}

function readRecordOrUndefined(dir: string): ContainerRecord | undefined {
  try {
    return readRecord(dir);
  } catch {
    return undefined;
  }
}
