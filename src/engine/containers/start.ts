/**
 * `POST /containers/{id}/start`: the OCI spec from the record (src/engine/spec/), the bundle's
 * config.json, the runtime library's prepare + launch through berth-shim (no Node process and
 * no runtime CLI per container), attaches that were waiting, then the shim's `start`. From here
 * the container belongs to its shim; monitor.ts follows its exit.
 *
 * A start that fails leaves nothing running: no shim, no cgroup, no runtime state, no mount;
 * the record keeps `created` with dockerd's exit code (127 not found, 126 not executable, 128)
 * and the error, as `docker ps -a` and inspect show it.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/fs.js';
import { removeTree } from '../../native/addon.js';
import { warmOwnCgroupLock } from '../../runtime/cgroups/warm.js';
import { hasHooks } from '../../runtime/container/create.js';
import { deleteContainer, launchPrepared, prepare } from '../../runtime/index.js';
import { mountCount, unmountAll } from '../../snapshots/mount.js';
import { withPrivateMount } from '../../snapshots/private-mount.js';
import { parseSize } from '../config/values.js';
import { crashPoint } from '../crash.js';
import type { Engine } from '../engine.js';
import { blockDeviceNumbers, deviceInfo, hostDevices } from '../host.js';
import { readShimInfo, ShimClient, shimAlive, shimGone } from '../shim/client.js';
import { type ShimSession, shimLauncher } from '../shim/launcher.js';
import { blkioDevicePaths, buildSpec, mountPoints, specMounts } from '../spec/index.js';
import { attachVolumes, detachVolumes, ociMounts } from '../volumes/index.js';
import { applyInit, findInit } from './init.js';
import { follow, type LostShimCgroups, lostShimCgroups } from './monitor.js';
import { deleteOciRuntime, isOciRuntime, launchOciRuntime } from './oci-runtime.js';
import { type ContainerRecord, rfc3339Nano } from './record.js';
import { readRootfsFile } from './rootfs.js';

/** Starts a created or exited container; 304 semantics are the caller's (`alreadyRunning`). */
export async function startContainer(engine: Engine, ref: string): Promise<'started' | 'already-running'> {
  const rec0 = engine.containers.get(ref);
  return engine.withLock(rec0.Id, async () => {
    const rec = engine.containers.get(rec0.Id);
    const s = rec.State.Status;
    if (s === 'running') return 'already-running';
    if (s === 'paused')
      throw new BerthError('failed-precondition', 'cannot start a paused container, try unpause instead', { object: rec.Id });
    if (s === 'removing' || s === 'dead')
      throw new BerthError('failed-precondition', `container is marked for removal and cannot be started`, { object: rec.Id });
    await launchContainer(engine, rec);
    return 'started';
  });
}

/** The launch itself, under the container's lock (also used by restarts). */
export async function launchContainer(engine: Engine, rec: ContainerRecord): Promise<void> {
  const id = rec.Id;
  const dir = engine.containerDir(id);
  const stateDir = engine.stateDir(id);
  const runtimeRoot = engine.runtimeRoot;
  engine.cleanedRuns.delete(id);
  // The shim's move to /berth/shims and the init's into its cgroups wait for the kernel's
  // cgroup lock: that wait (10–15 ms) overlaps the work below (runtime/cgroups/warm.ts).
  const cgroupLayout = engine.cgroupLayout();
  if (!isOciRuntime(rec)) warmOwnCgroupLock(cgroupLayout);
  // What an earlier run of this container may have left (a crash between two lines of ours).
  // Without a runtime directory there is nothing to tear down (one stat instead of the lock,
  // the record's read, the rename and the tomb sweep of a delete: ~11 system calls per start);
  // nothing makes one meanwhile, as we hold the container's lock.
  if (existsSync(path.join(runtimeRoot, id))) await deleteContainer(runtimeRoot, id, true, { removeDir: removeTree }).catch(() => {});
  await previousShimGone(engine, stateDir);
  rmSync(stateDir, { recursive: true, force: true });
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const socketDir = path.dirname(engine.shimSocket(id));
  if (socketDir !== stateDir) mkdirSync(socketDir, { recursive: true, mode: 0o700 });

  let session: ShimSession | undefined;
  let runCgroups: LostShimCgroups | undefined;
  let volumesHeld = false;
  let oci: ShimClient | undefined;
  try {
    const mounts = await engine.images.snapshotter.mounts(rec.SnapshotKey);
    const h = rec.HostConfig;
    const points = mountPoints(h.Binds ?? [], h.Mounts ?? [], (p) => existsSync(p));
    const built = buildSpec({
      id,
      config: rec.Config,
      hostConfig: h.NetworkMode === 'default' ? { ...h, NetworkMode: '' } : h,
      rootfs: path.join(dir, 'rootfs'),
      hostsPath: path.join(dir, 'hosts'),
      hostnamePath: path.join(dir, 'hostname'),
      resolvConfPath: path.join(dir, 'resolv.conf'),
      passwd: readRootfsFile(mounts, '/etc/passwd'),
      group: readRootfsFile(mounts, '/etc/group'),
      host: {
        arch: engine.host.arch,
        kernel: engine.host.kernel,
        ...(engine.host.facts.blkioWeight === false ? { blkioWeight: false } : {}),
        ...(engine.host.lastCap === undefined ? {} : { lastCap: engine.host.lastCap }),
        ...(h.Privileged ? { devices: hostDevices() } : {}),
        deviceInfo: deviceInfo((h.Devices ?? []).map((d) => d.PathOnHost)),
        blockDevices: blockDeviceNumbers(blkioDevicePaths(h)),
        ...(engine.options.defaultUlimits ? { defaultUlimits: engine.options.defaultUlimits } : {}),
      },
      namespacePath: (other, type) => {
        const o = engine.containers.get(other);
        if (o.State.Status !== 'running' || !o.State.Pid)
          throw new BerthError('failed-precondition', `cannot join the ${type} namespace of a non running container: ${o.Id}`, {
            object: o.Id,
          });
        return `/proc/${o.State.Pid}/ns/${type === 'network' ? 'net' : type}`;
      },
      extraMounts:
        engine.volumes && rec.VolumeMounts
          ? ociMounts(engine.volumes, rec.VolumeMounts)
          : specMounts(
              points.filter((p) => p.type !== 'volume'),
              (mp) => mp.source,
            ),
    });
    // --init (h-more): the init binary at /sbin/docker-init, the process under it (init.ts)
    const spec = h.Init ? applyInit(built, requireInit(engine)) : built;
    writeFileAtomic(path.join(dir, 'config.json'), JSON.stringify(spec), { durable: false });
    if (engine.volumes && rec.VolumeMounts?.length) {
      // Volumes are held by this run; a new volume is filled from the image at its path first
      // (copy-up), through a private mount of the rootfs made only when something needs copying.
      const privateParent = path.join(engine.options.dataRoot, 'tmp-mounts');
      await attachVolumes(engine.volumes, engine.events, id, rec.VolumeMounts, (use) =>
        withPrivateMount(mounts, use, { parent: privateParent }),
      );
      volumesHeld = true;
    }

    const tty = rec.Config.Tty === true;
    const consoleSocket = tty ? shortPath(engine, stateDir, id, 'console.sock', 'c') : undefined;
    const size = h.ConsoleSize && h.ConsoleSize[0] && h.ConsoleSize[1] ? { rows: h.ConsoleSize[0], cols: h.ConsoleSize[1] } : undefined;
    const log = logOptions(engine, rec);
    // Another OCI runtime (runc, --add-runtime): the shim drives its binary (oci-runtime.ts).
    if (isOciRuntime(rec))
      oci = await launchOciRuntime(engine, rec, {
        stdin: rec.Config.OpenStdin === true,
        tty,
        ...(log ? { log } : {}),
        ...(consoleSocket ? { consoleSocket } : {}),
        ...(size ? { size } : {}),
        ...(h.OomScoreAdj ? { oomScoreAdj: h.OomScoreAdj } : {}),
      });
    const client =
      oci ??
      (await (async () => {
        // berth-nsinit mounts the snapshot on the rootfs inside the container's own mount namespace:
        // the host never sees it, so nothing is left mounted when berthd or the shim die.
        const opts = {
          root: runtimeRoot,
          id,
          bundle: dir,
          rootfsMounts: mounts,
          cgroupLockWarmed: true,
          hostFacts: engine.hostFacts(),
          ...(cgroupLayout ? { cgroupLayout } : {}),
          config: spec,
          ...(consoleSocket ? { consoleSocket } : {}),
        };
        const prepared = await prepare(opts, 'run-detached');
        crashPoint('start:prepared');
        const cgroups = prepared.record.cgroups;
        runCgroups = lostShimCgroups(cgroups);
        const cgroup = (cgroups.find((c) => c.hierarchy.version === 2) ?? cgroups[0])?.dir;
        const launcher = shimLauncher({
          stateDir,
          socket: engine.shimSocket(id),
          ...(log ? { log } : {}),
          stdin: rec.Config.OpenStdin === true,
          ...(cgroup ? { cgroup } : {}),
          spawner: engine.shimSpawner(),
          ...(size ? { size } : {}),
          ...(h.OomScoreAdj ? { oomScoreAdj: h.OomScoreAdj } : {}),
          ...(engine.options.shim ? { shim: engine.options.shim } : {}),
          ...(engine.options.nsinit ? { nsinit: engine.options.nsinit } : {}),
          // Nothing to do between created and start (no attach to connect first, no hook): the
          // shim starts the process itself, and `start` below only waits for it.
          ...(!engine.hasPendingAttaches(id) && !hasHooks(spec) ? { startOnCreated: true } : {}),
        });
        const launched = await launchPrepared(prepared, { ...opts, launcher });
        session = launched.session as ShimSession;
        return (await session.ready).client;
      })());
    // Attaches that arrived before start (`docker run`: attach, wait, then start) are connected
    // now, between created and start, so they miss no output.
    await engine.connectPendingAttaches(id, engine.shimSocket(id));
    crashPoint('start:launched');
    const started = await client.start();
    crashPoint('start:started');
    const state = started.pid ? { pid: started.pid, started_at: started.started_at } : await client.state();
    rec.State = {
      ...rec.State,
      Status: 'running',
      Pid: state.pid,
      ExitCode: 0,
      Error: '',
      OOMKilled: false,
      StartedAt: state.started_at ?? rfc3339Nano(),
    };
    if (rec.State.Health) rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    rec.Generation++;
    rec.ManualStop = false;
    engine.containers.save(rec);
    engine.publish(rec, 'start');
    // The launch's connection waits for the exit; a runtime binary's shim is asked anew.
    const shimClient = session?.handOver();
    oci?.close();
    follow(engine, rec.Id, rec.Generation, runCgroups, shimClient);
  } catch (err) {
    await session?.[Symbol.asyncDispose]().catch(() => {});
    oci?.close();
    await stopLeftovers(engine, rec);
    if (volumesHeld && engine.volumes && rec.VolumeMounts) detachVolumes(engine.volumes, engine.events, id, rec.VolumeMounts);
    const message = startMessage(err);
    rec.State.ExitCode = startExitCode(message);
    rec.State.Error = message;
    engine.containers.save(rec);
    engine.signals.emit(`exit:${id}`, { exitCode: rec.State.ExitCode });
    // `docker run --rm` waits for `removed` even when the start failed (dockerd removes it too).
    if (rec.HostConfig.AutoRemove) setImmediate(() => void engine.remove(id, { force: true }).catch(() => {}));
    throw new BerthError('invalid-argument', message, { object: id, cause: err });
  }
}

/**
 * The shim of the container's last run, released by its exit's clean-up, exits at once; its
 * exit also tears the last run's mount namespace down (the shim holds it so that the init's exit
 * is told first: docs/shim-protocol.md). A restart waits for that (a few ms at most), so the
 * same writable layer is never mounted by two overlays at once.
 */
async function previousShimGone(engine: Engine, stateDir: string): Promise<void> {
  const info = readShimInfo(stateDir);
  if (!info || !shimAlive(info)) return;
  try {
    // released already, normally; if not (a crash between the exit and its clean-up), now
    await using c = await ShimClient.connect(info.socket);
    await c.release();
  } catch {
    // gone meanwhile
  }
  if (!(await shimGone(info, 2000))) engine.log?.(`the shim of the last run (pid ${info.pid}) is still there after 2 s; starting anyway`);
}

/** After a failed start: the shim, the runtime's state and cgroups, the rootfs mount. */
async function stopLeftovers(engine: Engine, rec: ContainerRecord): Promise<void> {
  const socket = engine.shimSocket(rec.Id);
  try {
    await using c = await ShimClient.connect(socket);
    await c.request('shutdown', { force: true });
  } catch {
    // no shim: nothing to stop
  }
  await deleteContainer(engine.runtimeRoot, rec.Id, true).catch(() => {});
  await deleteOciRuntime(engine, rec.Id);
  await unmountRootfs(path.join(engine.containerDir(rec.Id), 'rootfs'));
}

function requireInit(engine: Engine): string {
  const p = findInit(engine.options.initPath);
  if (!p || !existsSync(p))
    throw new BerthError('failed-precondition', `docker-init not found (install tini, or set --init-path)`, { object: 'init' });
  return p;
}

function shortPath(engine: Engine, dir: string, id: string, name: string, suffix: string): string {
  const p = path.join(dir, name);
  return Buffer.byteLength(p) <= 107 ? p : path.join(engine.options.execRoot, 's', `${id.slice(0, 24)}.${suffix}`);
}

/** The json-file options: the container's --log-opt over the daemon's. */
function logOptions(engine: Engine, rec: ContainerRecord): { path: string; maxSize: number; maxFile: number } | undefined {
  const lc = rec.HostConfig.LogConfig;
  if ((lc?.Type || engine.options.log.driver) === 'none') return undefined;
  const cfg = lc?.Config ?? {};
  return {
    path: engine.logPath(rec.Id),
    maxSize: cfg['max-size'] ? parseSize(cfg['max-size']) : engine.options.log.maxSize,
    maxFile: cfg['max-file'] ? Number(cfg['max-file']) : engine.options.log.maxFile,
  };
}

function startMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/^shim start: /, '');
}

/** moby daemon/start.go: 127 when the command is not found, 126 when it cannot be run, else 128. */
export function startExitCode(message: string): number {
  if (/executable file not found|no such file or directory|not found/.test(message)) return 127;
  if (/permission denied|is a directory|exec format error/.test(message)) return 126;
  return 128;
}

/**
 * Mounts an older berthd (or a crash of a private mount) may have left on the rootfs directory:
 * there are none in normal operation, since the rootfs lives in the container's namespace.
 */
export async function unmountRootfs(target: string): Promise<void> {
  try {
    if ((await mountCount(target)) > 0) await unmountAll(target);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw err;
  }
}
