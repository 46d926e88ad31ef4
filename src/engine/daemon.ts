/**
 * berthd put together: the configuration (src/engine/config/), the image service on the data
 * root, the container records in the same metadata.db, the engine, the restore pass, and the
 * Engine API server on its listeners. `startDaemon` returns a handle whose `stop()` is the clean
 * shutdown (SIGTERM): the API closes first, then — with live-restore, the default — containers
 * keep running under their shims and the next berthd follows them again; without it they are
 * stopped. A SIGKILL needs no code: shims do not depend on berthd.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { containerRoutes } from '../api/routes/containers.js';
import { containerMoreRoutes } from '../api/routes/containers-more.js';
import { systemRoutes } from '../api/routes/system.js';
import { type ApiServer, createApiServer, type Logger } from '../api/server.js';
import type { Route } from '../api/types.js';
import { fromErrno } from '../common/errors.js';
import { openImageService } from '../images/service.js';
import { writePidfile } from './config/pidfile.js';
import type { DaemonConfig } from './config/types.js';
import { ExecStore } from './containers/exec.js';
import { HealthMonitor } from './containers/health.js';
import { isActive } from './containers/record.js';
import { restoreContainers } from './containers/restore.js';
import { stopContainer } from './containers/stop.js';
import { ContainerStore } from './containers/store.js';
import { Engine, type EngineOptions } from './engine.js';
import { EventBus } from './events.js';
import { hostInfo } from './host.js';

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
      startup: true,
    });
    const containers = new ContainerStore(images.db);
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
    if (log) engine.log = (l) => log.warn(l);
    const svc = images;
    svc.roots = () => ({
      snapshots: containers.all().map((r) => ({ snapshotter: svc.snapshotter.name, key: r.SnapshotKey })),
    });
    mkdirSync(path.join(cfg.execRoot, 'containers'), { recursive: true, mode: 0o700 });
    const restored = await restoreContainers(engine);
    log?.info(`restored: ${restored.followed} running, ${restored.lost} lost, ${restored.swept} swept`);
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
      // stats, top, update, prune, commit, system df (h-more)
      ...containerMoreRoutes(engine),
      ...(extras.routes ?? []).flatMap((f) => f(engine, execs)),
    ];
    const server = createApiServer(routes, log ? { logger: log } : {});
    const addresses = await server.listen(cfg.listeners.map((l) => l.addr)).catch(async (err) => {
      await server.close().catch(() => {});
      throw err;
    });
    let stopping: Promise<void> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        engine.accepting = false;
        engine.cancelAllRestarts();
        health.close();
        await server.close().catch(() => {});
        if (!cfg.liveRestore) {
          await Promise.all(
            containers
              .all()
              .filter((r) => isActive(r.State.Status))
              .map((r) => stopContainer(engine, r.Id).catch(() => {})),
          );
        }
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
