/**
 * berthd put together: the configuration (src/engine/config/), the image service on the data
 * root, the container records in the same metadata.db, the engine, the restore pass, and the
 * Engine API server on its listeners. `startDaemon` returns a handle whose `stop()` is the clean
 * shutdown (SIGTERM): the API closes first, then — with live-restore, the default — containers
 * keep running under their shims and the next berthd follows them again; without it they are
 * stopped. A SIGKILL needs no code: shims do not depend on berthd.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { archiveRoutes } from '../api/routes/archive.js';
import { containerRoutes } from '../api/routes/containers.js';
import { containerMoreRoutes } from '../api/routes/containers-more.js';
import { imageRoutes } from '../api/routes/images.js';
import { systemRoutes } from '../api/routes/system.js';
import { volumeRoutes } from '../api/routes/volumes.js';
import { type ApiServer, createApiServer, type Logger } from '../api/server.js';
import type { Route } from '../api/types.js';
import { BerthError, fromErrno } from '../common/errors.js';
import { openImageService } from '../images/service.js';
import { sweepStaleMounts } from '../snapshots/private-mount.js';
import { CliHost } from './cli-host/host.js';
import { writePidfile } from './config/pidfile.js';
import type { DaemonConfig } from './config/types.js';
import { withContainerRootfs } from './containers/archive-root.js';
import { ExecStore } from './containers/exec.js';
import { HealthMonitor } from './containers/health.js';
import { isActive } from './containers/record.js';
import { volumeUsers } from './containers/remove.js';
import { restoreContainers } from './containers/restore.js';
import { stopContainer } from './containers/stop.js';
import { ContainerStore } from './containers/store.js';
import { Engine, type EngineOptions } from './engine.js';
import { EventBus } from './events.js';
import { hostInfo } from './host.js';
import { VolumeStore } from './volumes/index.js';

export interface Daemon {
  readonly engine: Engine;
  readonly server: ApiServer;
  readonly addresses: readonly string[];
  /** The clean shutdown; resolves once everything berthd holds is closed. */
  stop(): Promise<void>;
}

export interface DaemonExtras {
  logger?: Logger;
  /** Route factories added by other modules (images, volumes, …) given the engine. */
  routes?: ((engine: Engine, execs: ExecStore) => Route[])[];
  /** Binaries, for tests. */
  shim?: string;
  nsinit?: string;
}

export async function startDaemon(cfg: DaemonConfig, extras: DaemonExtras = {}): Promise<Daemon> {
  const log = extras.logger;
  for (const d of [cfg.dataRoot, cfg.execRoot]) {
    try {
      mkdirSync(d, { recursive: true, mode: 0o711 });
    } catch (err) {
      throw fromErrno('create directory', d, err);
    }
  }
  const pidfile = writePidfile(cfg.pidfile);
  let images: Awaited<ReturnType<typeof openImageService>> | undefined;
  try {
    images = await openImageService({
      root: cfg.dataRoot,
      snapshotter: cfg.storageDriver,
      registry: { insecureRegistries: [...cfg.insecureRegistries], mirrors: [...cfg.registryMirrors] },
    });
    const containers = new ContainerStore(images.db);
    // The start-up collection (what `startup: true` would do inside open) runs only once the
    // containers' snapshots are roots: run before, it deleted every container's rootfs snapshot
    // at each restart of berthd (found by test/berthd-faults.test.ts).
    const svc = images;
    svc.roots = () => ({
      snapshots: containers.all().map((r) => ({ snapshotter: svc.snapshotter.name, key: r.SnapshotKey })),
    });
    await svc.reapLeases();
    await svc.collector.run();
    const events = new EventBus();
    const options: EngineOptions = {
      dataRoot: cfg.dataRoot,
      execRoot: cfg.execRoot,
      runtimes: runtimesWithRunc(cfg),
      defaultRuntime: cfg.defaultRuntime,
      log: { driver: cfg.logDriver, maxSize: cfg.logOpts.maxSize ?? 20_000_000, maxFile: cfg.logOpts.maxFile ?? 5 },
      liveRestore: cfg.liveRestore,
      defaultUlimits: Object.fromEntries(Object.values(cfg.defaultUlimits).map((u) => [u.name, { soft: u.soft, hard: u.hard }])),
      ...(cfg.initPath ? { initPath: cfg.initPath } : {}),
      ...(extras.shim ? { shim: extras.shim } : {}),
      ...(extras.nsinit ? { nsinit: extras.nsinit } : {}),
    };
    const engine = new Engine(options, containers, images, events, hostInfo());
    engine.volumes = await VolumeStore.open({ db: svc.db, root: cfg.dataRoot, events });
    // A crash between a private mount and its unmount (cp, export, copy-up) leaves it here.
    mkdirSync(path.join(cfg.dataRoot, 'tmp-mounts'), { recursive: true, mode: 0o700 });
    await sweepStaleMounts(path.join(cfg.dataRoot, 'tmp-mounts')).catch((err) =>
      log?.warn(`sweep private mounts: ${(err as Error).message}`),
    );
    if (log) engine.log = (l) => log.warn(l);
    mkdirSync(path.join(cfg.execRoot, 'containers'), { recursive: true, mode: 0o700 });
    await engine.emptyTrash();
    const restored = await restoreContainers(engine);
    log?.info(`restored: ${restored.followed} running, ${restored.lost} lost, ${restored.swept} swept`);
    // tmpfs volumes mounted for containers that are gone; the running ones hold theirs again.
    engine.volumes.sweep((name) => volumeUsers(engine, name).filter((id) => isActive(containers.find(id)?.State.Status ?? 'exited')));
    const volumes = engine.volumes;
    // Healthchecks follow start events from here on; the containers already running resume theirs.
    const health = new HealthMonitor(engine);
    health.resumeAll();

    const execs = new ExecStore();
    const routes: Route[] = [
      ...systemRoutes({
        events,
        info: {
          info: () => {
            const all = containers.all();
            const count = (s: string) => all.filter((r) => r.State.Status === s).length;
            return {
              Containers: all.length,
              ContainersRunning: count('running') + count('restarting'),
              ContainersPaused: count('paused'),
              ContainersStopped: all.length - count('running') - count('restarting') - count('paused'),
              Images: svc.images.list().length,
              Driver: svc.snapshotter.name === 'overlayfs' ? 'overlay2' : 'vfs',
              DockerRootDir: cfg.dataRoot,
              LoggingDriver: cfg.logDriver,
              DefaultRuntime: cfg.defaultRuntime,
              Runtimes: Object.fromEntries([
                ['berth', { path: 'berth-nsinit' }],
                ...Object.entries(options.runtimes).map(([k, v]) => [
                  k,
                  { path: v.path, ...(v.args?.length ? { runtimeArgs: v.args } : {}) },
                ]),
              ]),
              LiveRestoreEnabled: cfg.liveRestore,
              Debug: cfg.debug,
            };
          },
        },
      }),
      ...containerRoutes({ engine, execs }),
      ...imageRoutes({
        images: svc,
        events,
        imageUsers: (imageId) => containers.usingImage(imageId).map((r) => r.Id),
        isRunning: (id) => isActive(containers.find(id)?.State.Status ?? 'exited'),
      }),
      ...volumeRoutes({ volumes, events, volumeUsers: (name) => volumeUsers(engine, name) }),
      ...archiveRoutes({ withRootfs: (ref, fn, opts) => withContainerRootfs(engine, ref, fn, opts) }),
      // stats, top, update, prune, commit, system df (h-more)
      ...containerMoreRoutes(engine),
      ...(extras.routes ?? []).flatMap((f) => f(engine, execs)),
    ];
    const server = createApiServer(routes, log ? { logger: log } : {});
    const tls =
      cfg.tls.enabled || cfg.tls.verify
        ? {
            cert: readPem(cfg.tls.cert, 'tlscert'),
            key: readPem(cfg.tls.key, 'tlskey'),
            ...(cfg.tls.caCert ? { ca: readPem(cfg.tls.caCert, 'tlscacert') } : {}),
            verify: cfg.tls.verify,
          }
        : undefined;
    const addresses = await server
      .listen(
        cfg.listeners.map((l) => l.addr),
        { ...(tls ? { tls } : {}), group: cfg.group },
      )
      .catch(async (err) => {
        await server.close().catch(() => {});
        throw err;
      });
    // `berth` commands run here when the front hands them over (no Node start per command); a
    // failure to listen costs speed only: the front then runs them itself
    const unixSockets = cfg.listeners.flatMap((l) => (l.proto === 'unix' ? [l.path] : []));
    const cliHost =
      unixSockets.length > 0
        ? await CliHost.listen({
            socketPath: path.join(cfg.execRoot, 'cli.sock'),
            ownSockets: unixSockets,
            ...(log ? { log: (l: string) => log.warn(l) } : {}),
          }).catch((err: Error) => {
            log?.warn(`berth's CLI host is off: ${err.message}`);
            return undefined;
          })
        : undefined;
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        engine.accepting = false;
        engine.cancelAllRestarts();
        health.close();
        await cliHost?.close().catch(() => {});
        await server.close().catch(() => {});
        if (!cfg.liveRestore) {
          await Promise.all(
            containers
              .all()
              .filter((r) => isActive(r.State.Status))
              .map((r) => stopContainer(engine, r.Id).catch(() => {})),
          );
        }
        engine.closeSpawner();
        await engine.emptyTrash().catch(() => {});
        await svc[Symbol.asyncDispose]().catch(() => {});
        pidfile.remove();
      })());
    return { engine, server, addresses, stop };
  } catch (err) {
    await images?.[Symbol.asyncDispose]().catch(() => {});
    pidfile.remove();
    throw err;
  }
}

function readPem(file: string | undefined, flag: string): Buffer {
  if (!file) throw new BerthError('invalid-argument', `--${flag} is required for TLS`, { object: flag });
  try {
    return readFileSync(file);
  } catch (err) {
    throw fromErrno(`read --${flag}`, file, err);
  }
}

/**
 * The configured runtimes, plus runc when it is installed and not configured otherwise: dockerd
 * always registers its runc (h-more: containers on other OCI runtimes, containers/oci-runtime.ts).
 */
function runtimesWithRunc(cfg: DaemonConfig): Record<string, { path: string; args: string[] }> {
  const out = Object.fromEntries(Object.entries(cfg.runtimes).map(([k, v]) => [k, { path: v.path, args: [...v.runtimeArgs] }]));
  if (!out.runc) {
    const runc = ['/usr/sbin/runc', '/usr/bin/runc', '/usr/local/sbin/runc', '/usr/local/bin/runc'].find((p) => existsSync(p));
    if (runc) out.runc = { path: runc, args: [] };
  }
  return out;
}
