/**
 * create (and the first half of run), in two steps. `prepare` validates the bundle and decides
 * everything — the state record, the cgroups, the plan — without side effects. `launchPrepared`
 * carries it out: record, cgroups, a `Launcher` (berth-nsinit by default, the engine's shim in
 * berthd), the record's updates, hooks. On any failure everything made so far is undone, so a
 * failed create leaves no state directory, cgroup or process behind.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno, invalid } from '../../common/errors.js';
import { uniqueName, writeFileAtomic } from '../../common/fs.js';
import type { Spec } from '../../oci/spec.js';
import { parseSpec, validateSpec } from '../../oci/validate.js';
import type { Mount as SnapshotMount } from '../../snapshots/types.js';
import { type CgroupLayout, hierarchyDirName, selectLayout } from '../cgroups/layout.js';
import { type CgroupDir, cgroupDirs, procsFiles, readCgroupLayout, setUpCgroups } from '../cgroups/manager.js';
import { warmOwnCgroupLock, warmTarget } from '../cgroups/warm.js';
import { type Effects, hostEffects } from '../effects.js';
import { type HookIo, runHooksOrFail } from '../hooks/run.js';
import type { Launcher, LaunchSession, StdioHandles } from '../launcher/launcher.js';
import { nsinitLauncher } from '../launcher/nsinit.js';
import { type BuiltPlan, buildPlan, type CgroupMountSource } from '../plan/build.js';
import { encodePlan } from '../plan/encode.js';
import type { LaunchPlan } from '../plan/plan.js';
import {
  Container,
  type ContainerRecord,
  hookState,
  type ProcessIdentity,
  readRecord,
  START_SOCKET,
  validateId,
  writeRecord,
} from './container.js';
import { entomb, teardown } from './delete.js';
import { writeExecTemplate } from './exec.js';
import { type HostFacts, readHostFacts } from './host.js';
import { lockContainer } from './lock.js';
import { procStat } from './proc.js';
import { setUpRootlessCgroups } from './rootless.js';
import { EffectsRecorder, encodeRunTemplate, newMarker, readRunHostFacts, writeRunTemplate } from './run-template.js';

export interface CreateOptions {
  root: string;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  noPivot?: boolean;
  noNewKeyring?: boolean;
  /** The container's stdio and the fds it gets from 3 on (default: /dev/null, none). */
  stdio?: StdioHandles;
  /**
   * systemd socket activation: the first `listenFds` of `stdio.preserveFds` are the caller's
   * LISTEN_FDS, announced to the container with LISTEN_FDS/LISTEN_PID, as runc does.
   */
  listenFds?: number;
  /** Where the runtime-namespace hooks' stdout goes (default: nowhere). */
  hookIo?: HookIo;
  /**
   * The bundle's config.json as the caller just wrote it: checked as the file would be, and not
   * read back (~0.15 ms of every create). prepare owns it from here (it may add to it).
   */
  config?: Spec;
  /** Force a cgroup driver ('v1', 'hybrid', 'v2'); default: what the host has. */
  cgroupDriver?: string;
  /**
   * The host's cgroup mounts as the caller read them (readCgroupLayout; a daemon reads them once,
   * as dockerd does): reading and parsing mountinfo is ~0.3 ms of every create. Default: read now.
   */
  cgroupLayout?: CgroupLayout;
  /** Cgroups we may not write to are skipped (runc's --rootless; rootless.ts). */
  rootlessCgroups?: boolean;
  /** The cgroup2 device-filter helper (default: next to the bundle or in the source tree). */
  cgroupBpf?: string;
  /** Directories to find newuidmap/newgidmap in, PATH-style (the usual system ones follow). */
  searchPath?: string;
  /**
   * The host's and the caller's facts as the caller read them (readHostFacts: its capability
   * sets, /proc/kcore, newuidmap/newgidmap): a daemon reads them once, as its capabilities and
   * its kernel do not change under it. Default: read now (two reads of /proc/self/status and an
   * access per helper, ~12 system calls of every create).
   */
  hostFacts?: HostFacts;
  /** What carries the container out (default: berth-nsinit as our child). */
  launcher?: Launcher;
  /** The host's cgroupfs, /proc and signals, or a fake (effects.ts). */
  effects?: Effects;
  /**
   * Also write the plan of a plain `exec` into the container's directory (exec.ts's
   * writeExecTemplate), for berth-runtime's C front. The CLI asks for it; a daemon need not.
   */
  execTemplate?: boolean;
  /**
   * The caller already started the cgroup lock's warm-up (cgroups/warm.ts) for this launch, earlier
   * than launchPrepared would; by default launchPrepared starts it.
   */
  cgroupLockWarmed?: boolean;
  /**
   * Make the cgroups before the helper starts. By default the helper starts while they are made
   * and waits for the line `cgroups` (plan `cgroups-wait`), so it says nothing before the
   * caller's first `send`; a launcher that must see the helper run on its own first sets this.
   */
  cgroupsFirst?: boolean;
  /**
   * The root filesystem as mounts (a snapshotter's `Mount[]`, e.g. an overlay of image layers):
   * berth-nsinit stacks them on `root.path`, an existing (empty) directory, inside the
   * container's own mount namespace, so nothing is mounted on the host and nothing is left to
   * unmount when the container is gone. Needs `{"type": "mount"}` in linux.namespaces.
   */
  rootfsMounts?: readonly SnapshotMount[];
  /**
   * After a foreground run that berth-runtime's C front could carry out alone, write what was
   * decided as the bundle's run template (run-template.ts; docs/runtime-front.md). `key` is the
   * identity of the runtime's build (buildKey of its script and berth-nsinit). The CLI asks for it.
   */
  runTemplate?: { key: string };
}

export type LaunchMode = 'create' | 'run-detached' | 'run-foreground';

export interface Launched {
  container: Container;
  session: LaunchSession;
  warnings: string[];
}

/**
 * A container ready to launch: everything decided, nothing done. Computed by `prepare` from the
 * bundle and a few facts read from the host (cgroup layout, capabilities, ids); the effects
 * follow in `launch`: the record, the cgroups, the launcher, the record's updates.
 */
export interface PreparedContainer {
  mode: LaunchMode;
  /** The state record as it is written before the first side effect (phase 'creating'). */
  record: ContainerRecord;
  layout: CgroupLayout;
  /** The plan for the launcher, given the cgroups the container gets (rootless may skip some). */
  plan(cgroups: { dirs: readonly CgroupDir[]; mountDirs: readonly CgroupDir[] }): BuiltPlan;
  /** The plan with every planned cgroup, built by prepare: a config the plan refuses fails here. */
  planned: BuiltPlan;
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

/** Validates the bundle and options and decides everything; makes nothing. */
export async function prepare(opts: CreateOptions, mode: LaunchMode): Promise<PreparedContainer> {
  validateId(opts.id);
  const bundle = path.resolve(opts.bundle);
  const config = opts.config ? validateSpec(opts.config) : await loadBundleConfig(bundle);
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
  const layout: CgroupLayout = selectLayout(opts.cgroupLayout ?? readCgroupLayout(opts.effects), opts.cgroupDriver);
  const all = cgroupDirs(layout, config.linux?.cgroupsPath || opts.id);
  // A container in a hierarchy's root cgroup would own every process of the host: its delete
  // kills what is in its cgroup and below (runc puts it there, and its delete does the same).
  const root = all.find((d) => d.path === '/');
  if (root)
    throw invalid(
      `config.json: linux.cgroupsPath '${config.linux?.cgroupsPath}' is the root of ${root.hierarchy.mountpoint}: a container cannot have the root cgroup, whose processes are the host's`,
      'linux.cgroupsPath',
    );

  // Socket activation: the caller's LISTEN_FDS pass through to the container as runc passes
  // them, as the first fds from 3, followed by --preserve-fds.
  const preserved = opts.stdio?.preserveFds ?? [];
  const listenFds = opts.listenFds ?? 0;
  if (!Number.isInteger(listenFds) || listenFds < 0 || listenFds > preserved.length)
    throw invalid(`listenFds ${listenFds}: must count fds among the ${preserved.length} preserved`, 'listenFds');
  if (listenFds > 0 && config.process) {
    config.process.env = [...(config.process.env ?? []), `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'];
  }
  const dir = Container.dir(opts.root, opts.id);
  const hs = JSON.stringify(hookState(config, opts.id, bundle, 'creating'));
  const host = opts.hostFacts ?? readHostFacts(opts.searchPath);
  const plan = (cg: { dirs: readonly CgroupDir[]; mountDirs: readonly CgroupDir[] }) =>
    buildPlan({
      id: opts.id,
      bundle,
      spec: config,
      wait: mode === 'run-foreground',
      startSocket: mode === 'create' ? path.join(dir, START_SOCKET) : undefined,
      consoleSocket: opts.consoleSocket ? path.resolve(opts.consoleSocket) : undefined,
      noPivot: opts.noPivot ?? false,
      noNewKeyring: opts.noNewKeyring ?? false,
      preserveFds: preserved.length,
      cgroupProcs: procsFiles(cg.dirs),
      cgroupMode: layout.mode,
      cgroupMounts: cgroupMountSources(cg.mountDirs),
      hookState: hs.slice(0, -1),
      rootfsMounts: opts.rootfsMounts,
      ...host,
    });
  const record: ContainerRecord = {
    version: 1,
    id: opts.id,
    phase: 'creating',
    creator: selfIdentity(opts.effects),
    nonce: uniqueName(),
    bundle,
    rootfs,
    pid: 0,
    pidStartTime: '',
    created: new Date().toISOString(),
    config,
    cgroups: all,
  };
  return { mode, record, layout, plan, planned: plan({ dirs: all, mountDirs: all }) };
}

let ownIdentity: ProcessIdentity | undefined;

/** Our own identity, recorded as the creator of a container (read once: it never changes). */
function selfIdentity(fx?: Effects): ProcessIdentity {
  const host = fx === undefined || fx === hostEffects;
  if (host && ownIdentity?.pid === process.pid) return ownIdentity;
  const id = { pid: process.pid, startTime: procStat(process.pid, fx)?.startTime ?? '' };
  if (host && id.startTime) ownIdentity = id;
  return id;
}

/**
 * Carries a prepared container out: record (before the first side effect, naming the cgroups
 * about to be made, so that whatever point this dies at, `delete --force` finds what to kill
 * and remove), cgroups, launcher, the record completed with the pid, hooks, created. On any
 * failure everything made so far is undone.
 */
export async function launchPrepared(p: PreparedContainer, opts: CreateOptions): Promise<Launched> {
  const { record } = p;
  const config = record.config;
  // the kernel's wait for a cgroup migration overlaps what follows (cgroups/warm.ts)
  if (!opts.cgroupLockWarmed && !opts.rootlessCgroups && (opts.effects ?? hostEffects) === hostEffects) warmOwnCgroupLock();
  try {
    mkdirSync(opts.root, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fromErrno('create state root', opts.root, err);
  }
  await stageRecord(opts.root, record);
  let session: LaunchSession | undefined;
  // the cgroup setup recorded, for the C front's template of this run
  const recorder = opts.runTemplate && p.mode === 'run-foreground' && templateFits(p, opts) ? new EffectsRecorder(hostEffects) : undefined;
  try {
    // the limits are in place before the first process enters the cgroup
    let built = p.planned;
    let cgroupWarnings: string[];
    const launch = (plan: LaunchPlan) =>
      (opts.launcher ?? nsinitLauncher()).launch(plan, { stdio: opts.stdio ?? {}, detached: p.mode === 'run-foreground' });
    if (opts.rootlessCgroups) {
      let dirs: CgroupDir[];
      let mountDirs: CgroupDir[];
      ({ dirs, mountDirs, warnings: cgroupWarnings } = await setUpRootlessCgroups(p.layout, record.cgroups, config));
      // Only the cgroups made are the container's: the others may be the caller's own.
      record.cgroups = dirs;
      await updateRecord(opts.root, record);
      built = p.plan({ dirs, mountDirs });
    } else if (!recorder && !opts.cgroupsFirst && record.cgroups.length > 0) {
      // The helper starts (a shim's fork, berth-nsinit's exec) while the cgroups are made here:
      // it waits for `cgroups` before it opens their cgroup.procs files. A failure here disposes
      // of it below, before it has cloned anything.
      built = { ...built, plan: { ...built.plan, cgroupsWait: true } };
      session = launch(built.plan);
      cgroupWarnings = await setUpCgroups(record.cgroups, config, { cgroupBpf: opts.cgroupBpf, effects: opts.effects });
      session.send('cgroups');
    } else cgroupWarnings = await setUpCgroups(record.cgroups, config, { cgroupBpf: opts.cgroupBpf, effects: recorder ?? opts.effects });
    const { plan } = built;
    const warnings = [...cgroupWarnings, ...built.warnings];
    session ??= launch(plan);
    record.pid = (await session.expect('pid')).pid;
    record.pidStartTime = procStat(record.pid, opts.effects)?.startTime ?? '';
    // Without hooks the pid is written once, with 'created' below (a record write is ~0.5 ms of
    // a daemon's CPU): until then the cgroups, named in the staged record and joined by the init
    // before its pid is reported, are how `delete --force` finds it. Hooks see the pid in the
    // state, and poststop runs only for a recorded pid; without cgroups (rootless) the pid is
    // the only way to the init: then it is written now.
    if (hasHooks(config) || record.cgroups.length === 0) await updateRecord(opts.root, record);
    const container = await Container.open(opts.root, record);
    if (plan.syncHooks) {
      await session.expect('hooks');
      const state = container.hookState('creating');
      await runHooksOrFail('prestart', config.hooks?.prestart, state, opts.hookIo);
      await runHooksOrFail('createRuntime', config.hooks?.createRuntime, state, opts.hookIo);
      session.send('resume');
    }
    await session.expect('created');
    record.phase = 'created';
    await updateRecord(opts.root, record);
    // the plan of a plain `exec`, for berth-runtime's C front (a foreground run is gone before any)
    if (opts.execTemplate && p.mode !== 'run-foreground') writeExecTemplate(container, plan.seccomp);
    if (opts.pidFile) writeFileAtomic(path.resolve(opts.pidFile), String(record.pid), { durable: false });
    if (recorder && opts.runTemplate && !recorder.unfit && warnings.length === 0 && !plan.syncHooks)
      await saveRunTemplate(p, opts, opts.runTemplate.key, recorder);
    return { container, session, warnings };
  } catch (err) {
    await session?.[Symbol.asyncDispose]();
    await abandon(opts.root, record, opts.hookIo, opts.effects);
    throw err;
  }
}

/**
 * Whether the C front could carry out a run like this one: no flag, hook, terminal, user
 * namespace or rootless cgroup, the host's effects, root, and no cgroup2 device program (a
 * helper process the recording does not see).
 */
function templateFits(p: PreparedContainer, opts: CreateOptions): boolean {
  const config = p.record.config;
  const hierarchies = p.layout.hierarchies;
  const v1Devices = hierarchies.some((h) => h.version === 1 && h.controllers.includes('devices'));
  return (
    (opts.effects === undefined || opts.effects === hostEffects) &&
    !opts.rootlessCgroups &&
    !opts.cgroupDriver &&
    !opts.pidFile &&
    !opts.consoleSocket &&
    !opts.noPivot &&
    !opts.noNewKeyring &&
    !opts.rootfsMounts &&
    !opts.config &&
    (opts.listenFds ?? 0) === 0 &&
    (opts.stdio?.preserveFds?.length ?? 0) === 0 &&
    process.geteuid?.() === 0 &&
    !hasHooks(config) &&
    !config.process?.terminal &&
    !(config.linux?.namespaces ?? []).some((n) => n.type === 'user') &&
    p.record.cgroups.length > 0 &&
    (v1Devices || !hierarchies.some((h) => h.version === 2))
  );
}

/**
 * The template of this run, for a stand-in id: config.json read once more (its bytes are what the
 * front compares), prepared for the marker, written with the recorded cgroup setup. A template
 * that cannot be made is no error of the run.
 */
async function saveRunTemplate(p: PreparedContainer, opts: CreateOptions, key: string, recorder: EffectsRecorder): Promise<void> {
  try {
    const file = path.join(p.record.bundle, 'config.json');
    const bytes = readFileSync(file);
    const marker = newMarker();
    if (bytes.includes(marker)) return;
    const host = readRunHostFacts();
    const m = await prepare({ ...opts, id: marker, config: parseSpec(bytes.toString('utf8'), file) }, 'run-foreground');
    // config.json changed since this run read it: the recording is not the template's
    if (JSON.stringify(m.record.config) !== JSON.stringify(p.record.config) || m.record.cgroups.length !== p.record.cgroups.length) return;
    const text = encodeRunTemplate({
      key,
      bundle: p.record.bundle,
      config: bytes,
      host,
      marker,
      warm: warmTarget(m.layout) ?? '',
      record: m.record,
      realDirs: p.record.cgroups,
      markerDirs: m.record.cgroups,
      ops: recorder.ops,
      plan: encodePlan(m.planned.plan),
    });
    writeRunTemplate(opts.root, p.record.bundle, text);
  } catch {
    // no template: the next run is Node's again
  }
}

export async function launch(opts: CreateOptions, mode: LaunchMode): Promise<Launched> {
  return launchPrepared(await prepare(opts, mode), opts);
}

/**
 * Puts the record in place as `<root>/<id>/state.json` in one step: written in a staging
 * directory of its own, which is then renamed to `<root>/<id>`. So the container directory never
 * exists without its record, and of two creates of one id, one wins (rename fails with
 * ENOTEMPTY/EEXIST for the other). Under the container's lock: a delete finishing a tomb of this
 * id decides under it whether the cgroups are still the dead container's (delete.ts).
 */
async function stageRecord(root: string, record: ContainerRecord): Promise<void> {
  const staging = path.join(root, `~c-${uniqueName()}`);
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

/** Whether the spec has any OCI hook (they need the runtime between the launch's steps). */
export function hasHooks(config: ContainerRecord['config']): boolean {
  return Object.values(config.hooks ?? {}).some((list) => Array.isArray(list) && list.length > 0);
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
async function abandon(root: string, record: ContainerRecord, hookIo?: HookIo, effects?: Effects): Promise<void> {
  await using _ = await lockContainer(root, record.id);
  const dir = Container.dir(root, record.id);
  const ours = readRecord(dir)?.nonce === record.nonce;
  // Not ours any more: a delete took it (and its cgroups, unless they are another container's now).
  const tomb = ours ? entomb(root, dir) : undefined;
  if (ours || !existsSync(dir)) await teardown(record, { hooks: record.pid > 0, hookIo, effects });
  else if (record.pid > 0) await teardown({ ...record, cgroups: [] }, { hooks: true, hookIo, effects });
  if (tomb) rmSync(tomb, { recursive: true, force: true });
}

export async function create(opts: CreateOptions): Promise<string[]> {
  const { session, warnings } = await launch(opts, 'create');
  // The parent stage exits as soon as the container reports created. The init stage keeps
  // its end of the sync channel until start: let go of ours, or it would stay open here.
  const code = await session.exited;
  session.detach();
  if (code !== 0) throw new BerthError('internal', `berth-nsinit exited with status ${code}`);
  return warnings;
}
