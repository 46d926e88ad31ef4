/**
 * create (and the first half of run): validate the bundle, make the cgroup, compute the plan,
 * have berth-nsinit build the container, and record it. On any failure everything made so far is
 * undone, so a failed create leaves no state directory, cgroup or process behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, invalid } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/fs.js';
import { parseSpec } from '../../oci/validate.js';
import { type CgroupLayout, hierarchyDirName, selectLayout } from '../cgroups/layout.js';
import { type CgroupDir, cgroupDirs, procsFiles, readCgroupLayout, setUpCgroups } from '../cgroups/manager.js';
import { runHooksOrFail } from '../hooks/run.js';
import { NsinitSession } from '../launcher/nsinit.js';
import { buildPlan, type CgroupMountSource } from '../plan/build.js';
import { Container, type ContainerRecord, hookState, type ProcessIdentity, readRecord, validateId, writeRecord } from './container.js';
import { entomb, teardown } from './delete.js';
import { grantableCaps } from './host.js';
import { lockContainer } from './lock.js';
import { procStat } from './proc.js';
import { idMapHost, setUpRootlessCgroups } from './rootless.js';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  preserveFds?: number;
  /** Force a cgroup driver ('v1', 'hybrid', 'v2'); default: what the host has. */
  cgroupDriver?: string;
  /** Cgroups we may not write to are skipped (runc's --rootless; rootless.ts). */
  rootlessCgroups?: boolean;
}

export type LaunchMode = 'create' | 'run-detached' | 'run-foreground';

export interface Launched {
  container: Container;
  session: NsinitSession;
  warnings: string[];
}

function cgroupMountSources(dirs: readonly CgroupDir[]): CgroupMountSource[] {
  return dirs.map((d) => {
    const name = hierarchyDirName(d.hierarchy);
    const aliases = name.includes(',') ? name.split(',') : [];
    return { name, hostDir: d.dir, version: d.hierarchy.version, aliases };
  });
}

/** Reads and validates `<bundle>/config.json`. */
export async function loadBundleConfig(bundle: string) {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw fromErrno('open', file, err);
  }
  return parseSpec(text, file);
}

export async function launch(opts: CreateOptions, mode: LaunchMode): Promise<Launched> {
  validateId(opts.id);
  const bundle = path.resolve(opts.bundle);
  const config = await loadBundleConfig(bundle);
  const terminal = config.process?.terminal ?? false;
  const detached = mode !== 'run-foreground';
  if (terminal && detached && !opts.consoleSocket)
    throw invalid('cannot allocate tty if berth-runtime will detach without setting console socket', 'console-socket');
  if (!terminal && opts.consoleSocket)
    throw invalid('cannot use console socket if berth-runtime will not detach or allocate tty', 'console-socket');
  if (!config.root) throw invalid('config.json: root: required', 'root');
  const rootfs = path.resolve(bundle, config.root.path);
  try {
    if (!statSync(rootfs).isDirectory()) throw invalid(`rootfs '${rootfs}': not a directory`, rootfs);
  } catch (err) {
    throw fromErrno('stat rootfs', rootfs, err);
  }

  try {
    mkdirSync(opts.root, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fromErrno('create state root', opts.root, err);
  }
  const layout: CgroupLayout = selectLayout(readCgroupLayout(), opts.cgroupDriver);
  const all = cgroupDirs(layout, config.linux?.cgroupsPath || opts.id);
  // The record comes first, naming the cgroups about to be made: from here on, whatever point
  // this process dies at, `delete --force` finds what to kill and to remove.
  const record: ContainerRecord = {
    version: 1,
    id: opts.id,
    phase: 'creating',
    creator: selfIdentity(),
    nonce: randomBytes(8).toString('hex'),
    bundle,
    rootfs,
    pid: 0,
    pidStartTime: '',
    created: new Date().toISOString(),
    config,
    cgroups: all,
  };
  await stageRecord(opts.root, record);
  const dir = Container.dir(opts.root, opts.id);

  // Socket activation: systemd's LISTEN_FDS pass through to the container as runc passes them,
  // as the first fds from 3, followed by --preserve-fds.
  const listenFds = Number(process.env.LISTEN_FDS ?? 0);
  if (Number.isInteger(listenFds) && listenFds > 0 && config.process) {
    config.process.env = [...(config.process.env ?? []), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
  }
  const extraFds = (opts.preserveFds ?? 0) + Math.max(listenFds, 0);
  let session: NsinitSession | undefined;
  try {
    // the limits are in place before the first process enters the cgroup
    let cgroupWarnings: string[];
    let mountDirs = all;
    if (opts.rootlessCgroups) {
      let kept: CgroupDir[];
      ({ dirs: kept, mountDirs, warnings: cgroupWarnings } = setUpRootlessCgroups(layout, all, config));
      // Only the cgroups made are the container's: the others may be the caller's own.
      record.cgroups = kept;
      await updateRecord(opts.root, record);
    } else cgroupWarnings = setUpCgroups(all, config);
    const cgroups = record.cgroups;
    const hs = JSON.stringify(hookState(config, opts.id, bundle, 'creating'));
    const { plan, warnings } = buildPlan({
      id: opts.id,
      bundle,
      spec: config,
      wait: mode === 'run-foreground',
      execFifo: mode === 'create' ? path.join(dir, 'exec.fifo') : undefined,
      startStatus: mode === 'create' ? path.join(dir, 'exec.status') : undefined,
      consoleSocket: opts.consoleSocket ? path.resolve(opts.consoleSocket) : undefined,
      noPivot: opts.noPivot ?? false,
      noNewKeyring: opts.noNewKeyring ?? false,
      preserveFds: extraFds,
      cgroupProcs: procsFiles(cgroups),
      cgroupMode: layout.mode,
      cgroupMounts: cgroupMountSources(mountDirs),
      grantableCaps: grantableCaps(),
      hostHasKcore: existsSync('/proc/kcore'),
      hookState: hs.slice(0, -1),
      idMapHost: idMapHost(),
    });
    warnings.unshift(...cgroupWarnings);
    session = NsinitSession.start(plan, { preserveFds: extraFds, detached: mode === 'run-foreground' });
    record.pid = (await session.expect('pid')).pid;
    record.pidStartTime = procStat(record.pid)?.startTime ?? '';
    await updateRecord(opts.root, record);
    const container = await Container.open(opts.root, record);
    if (plan.syncHooks) {
      await session.expect('hooks');
      const state = container.hookState('creating');
      await runHooksOrFail('prestart', config.hooks?.prestart, state);
      await runHooksOrFail('createRuntime', config.hooks?.createRuntime, state);
      session.send('resume');
    }
    await session.expect('created');
    record.phase = 'created';
    await updateRecord(opts.root, record);
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(record.pid), { durable: false });
    return { container, session, warnings };
  } catch (err) {
    session?.[Symbol.dispose]();
    await abandon(opts.root, record);
    throw err;
  }
}

/** Our own identity, recorded as the creator of a container. */
function selfIdentity(): ProcessIdentity {
  return { pid: process.pid, startTime: procStat(process.pid)?.startTime ?? '' };
}

/**
 * Puts the record in place as `<root>/<id>/state.json` in one step: written in a staging
 * directory of its own, which is then renamed to `<root>/<id>`. So the container directory never
 * exists without its record, and of two creates of one id, one wins (rename fails with
 * ENOTEMPTY/EEXIST for the other). Under the container's lock: a delete finishing a tomb of this
 * id decides under it whether the cgroups are still the dead container's (delete.ts).
 */
async function stageRecord(root: string, record: ContainerRecord): Promise<void> {
  const staging = path.join(root, `~c-${randomBytes(8).toString('hex')}`);
  try {
    mkdirSync(staging, { mode: 0o711 });
    writeRecord(staging, record);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw fromErrno('create', staging, err);
  }
  const dir = Container.dir(root, record.id);
  try {
    await using _ = await lockContainer(root, record.id);
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    const code = errnoCode(err);
    if (code === 'EEXIST' || code === 'ENOTEMPTY' || code === 'ENOTDIR')
      throw new BerthError('already-exists', `container with id exists: ${record.id}`, { object: record.id });
    throw fromErrno('create', dir, err);
  }
}

/** Rewrites the record, unless a `delete --force` has removed it meanwhile. */
async function updateRecord(root: string, record: ContainerRecord): Promise<void> {
  await using _ = await lockContainer(root, record.id);
  const dir = Container.dir(root, record.id);
  if (readRecord(dir)?.nonce !== record.nonce)
    throw new BerthError('not-found', `container ${record.id} was deleted while being created`, { object: record.id });
  writeRecord(dir, record);
}

/** A failed create: everything made so far goes, the record last (if it is still ours). */
async function abandon(root: string, record: ContainerRecord): Promise<void> {
  await using _ = await lockContainer(root, record.id);
  const dir = Container.dir(root, record.id);
  const ours = readRecord(dir)?.nonce === record.nonce;
  // Not ours any more: a delete took it (and its cgroups, unless they are another container's now).
  const tomb = ours ? entomb(root, dir) : undefined;
  if (ours || !existsSync(dir)) await teardown(record, { hooks: record.pid > 0 });
  else if (record.pid > 0) await teardown({ ...record, cgroups: [] }, { hooks: true });
  if (tomb) rmSync(tomb, { recursive: true, force: true });
}

export async function create(opts: CreateOptions): Promise<string[]> {
  const { session, warnings } = await launch(opts, 'create');
  // The parent stage exits as soon as the container reports created.
  const code = await session.exited;
  if (code !== 0) throw new BerthError('internal', `berth-nsinit exited with status ${code}`);
  return warnings;
}
