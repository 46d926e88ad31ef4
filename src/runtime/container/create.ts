/**
 * create (and the first half of run): validate the bundle, make the cgroup, compute the plan,
 * have berth-nsinit build the container, and record it. On any failure everything made so far is
 * undone, so a failed create leaves no state directory, cgroup or process behind.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, invalid } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/fs.js';
import { parseSpec } from '../../oci/validate.js';
import { type CgroupLayout, hierarchyDirName, selectLayout } from '../cgroups/layout.js';
import { type CgroupDir, cgroupDirs, managerFor, procsFiles, readCgroupLayout, setUpCgroups } from '../cgroups/manager.js';
import { runHooksOrFail, runHooksWarn } from '../hooks/run.js';
import { NsinitSession } from '../launcher/nsinit.js';
import { buildPlan, type CgroupMountSource } from '../plan/build.js';
import { Container, type ContainerRecord, hookState, START_SOCKET, validateId } from './container.js';
import { grantableCaps } from './host.js';
import { procStat, waitGone } from './proc.js';
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
  // create alone accepts a config without process (start then fails, runtime.md); run cannot.
  if (!config.process && mode !== 'create') throw invalid('config.json: process: required to run a container', 'process');
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
  const dir = Container.dir(opts.root, opts.id);
  try {
    mkdirSync(dir, { mode: 0o711 });
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') throw new BerthError('already-exists', `container with id exists: ${opts.id}`, { object: opts.id });
    throw fromErrno('create', dir, err);
  }

  // Socket activation: systemd's LISTEN_FDS pass through to the container as runc passes them,
  // as the first fds from 3, followed by --preserve-fds.
  const listenFds = Number(process.env.LISTEN_FDS ?? 0);
  if (Number.isInteger(listenFds) && listenFds > 0 && config.process) {
    config.process.env = [...(config.process.env ?? []), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
  }
  const extraFds = (opts.preserveFds ?? 0) + Math.max(listenFds, 0);
  let cgroups: CgroupDir[] = [];
  let session: NsinitSession | undefined;
  let pid = 0;
  let startTime = '';
  try {
    const layout: CgroupLayout = selectLayout(readCgroupLayout(), opts.cgroupDriver);
    const all = cgroupDirs(layout, config.linux?.cgroupsPath || opts.id);
    // the limits are in place before the first process enters the cgroup
    let cgroupWarnings: string[];
    let mountDirs = all;
    if (opts.rootlessCgroups) ({ dirs: cgroups, mountDirs, warnings: cgroupWarnings } = setUpRootlessCgroups(layout, all, config));
    else {
      cgroups = all;
      cgroupWarnings = setUpCgroups(cgroups, config);
    }
    const hs = JSON.stringify(hookState(config, opts.id, bundle, 'creating'));
    const { plan, warnings } = buildPlan({
      id: opts.id,
      bundle,
      spec: config,
      wait: mode === 'run-foreground',
      startSocket: mode === 'create' ? path.join(dir, START_SOCKET) : undefined,
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
    pid = (await session.expect('pid')).pid;
    startTime = procStat(pid)?.startTime ?? '';
    const record: ContainerRecord = {
      version: 1,
      id: opts.id,
      bundle,
      rootfs,
      pid,
      pidStartTime: startTime,
      created: new Date().toISOString(),
      config,
      cgroups,
    };
    const container = await Container.save(opts.root, record);
    if (plan.syncHooks) {
      await session.expect('hooks');
      const state = container.hookState('creating');
      await runHooksOrFail('prestart', config.hooks?.prestart, state);
      await runHooksOrFail('createRuntime', config.hooks?.createRuntime, state);
      session.send('resume');
    }
    await session.expect('created');
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(pid), { durable: false });
    return { container, session, warnings };
  } catch (err) {
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await waitGone(pid, startTime);
      // A failed hook "continues the lifecycle at delete" (runtime-spec): poststop hooks run too.
      await runHooksWarn('poststop', config.hooks?.poststop, hookState(config, opts.id, bundle, 'stopped'));
    }
    session?.[Symbol.dispose]();
    await managerFor(cgroups)
      .destroy()
      .catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function create(opts: CreateOptions): Promise<string[]> {
  const { session, warnings } = await launch(opts, 'create');
  // The parent stage exits as soon as the container reports created.
  const code = await session.exited;
  if (code !== 0) throw new BerthError('internal', `berth-nsinit exited with status ${code}`);
  return warnings;
}
