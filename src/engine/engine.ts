/**
 * The engine: the parts berthd's verbs share — the container records, the image service, the
 * event bus, the host facts, the paths of a container's pieces, a lock per container (verbs on
 * one container run one at a time; verbs on different containers never wait for each other),
 * and the waiters of `wait`. The verbs themselves are one file each in src/engine/containers/.
 *
 * On disk, per container:
 *   <data-root>/containers/<id>/   hostname, hosts, resolv.conf, config.json (the OCI bundle),
 *                                  rootfs/ (the mount point), <id>-json.log (+ .1 … rotated)
 *   <exec-root>/containers/<id>/   the shim's state dir (shim.json, exit.json, its socket)
 *   <exec-root>/runtime/<id>/      the runtime library's state record (cgroups, pid)
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode } from '../common/errors.js';
import type { ImageService } from '../images/service.js';
import { removeTree } from '../native/addon.js';
import { type CgroupLayout, withOwnCgroups } from '../runtime/cgroups/layout.js';
import { readCgroupLayout } from '../runtime/cgroups/manager.js';
import { type HostFacts, readHostFacts } from '../runtime/container/host.js';
import { nsinitPath } from '../runtime/launcher/nsinit.js';
import { Backoff } from './containers/monitor.js';
import type { ContainerRecord } from './containers/record.js';
import { type RemoveOptions, removeContainer } from './containers/remove.js';
import { launchContainer } from './containers/start.js';
import type { ContainerStore } from './containers/store.js';
import type { EventBus } from './events.js';
import type { HostInfo } from './host.js';
import { shimCgroupProcs } from './shim/cgroups.js';
import { shimPath } from './shim/spawn.js';
import { ShimSpawner } from './shim/spawner.js';
import type { VolumeStore } from './volumes/index.js';

export interface RuntimeEntry {
  path: string;
  args?: string[];
}

export interface EngineOptions {
  dataRoot: string;
  execRoot: string;
  /** Registered OCI runtimes besides 'berth' (runc, crun when installed; --add-runtime). */
  runtimes: Record<string, RuntimeEntry>;
  defaultRuntime: string;
  log: { driver: 'json-file' | 'none'; maxSize: number; maxFile: number };
  /** Containers keep running when berthd stops (always true on SIGKILL, by nature). */
  liveRestore: boolean;
  /** Daemon-wide ulimits (--default-ulimit), by name. */
  defaultUlimits?: Record<string, { soft: number; hard: number }>;
  /** The daemon's --init-path: the binary `--init` mounts at /sbin/docker-init (else docker-init/tini-static). */
  initPath?: string;
  /** For tests: the shim and nsinit binaries. */
  shim?: string;
  nsinit?: string;
}

export interface ExitInfo {
  exitCode: number;
  error?: string;
}

export type PendingAttach = (shimSocket: string) => Promise<void>;

export class Engine {
  /** 'exit:<id>' (ExitInfo), 'removed:<id>'. */
  readonly signals = new EventEmitter();
  private readonly locks = new Map<string, Promise<void>>();
  /** Attaches to a container that is not started yet: connected by start, before the process runs. */
  private readonly pendingAttaches = new Map<string, Set<PendingAttach>>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly pendingDiscards = new Set<Promise<void>>();
  readonly backoff = new Backoff();
  /** False while berthd shuts down: no restarts are scheduled. */
  accepting = true;
  log: ((line: string) => void) | undefined;
  /** Named volumes (set by the daemon; absent in tests that need none). */
  volumes: VolumeStore | undefined;

  constructor(
    readonly options: EngineOptions,
    readonly containers: ContainerStore,
    readonly images: ImageService,
    readonly events: EventBus,
    readonly host: HostInfo,
  ) {
    this.signals.setMaxListeners(0);
  }

  containerDir(id: string): string {
    return path.join(this.options.dataRoot, 'containers', id);
  }
  stateDir(id: string): string {
    return path.join(this.options.execRoot, 'containers', id);
  }
  get runtimeRoot(): string {
    return path.join(this.options.execRoot, 'runtime');
  }
  logPath(id: string): string {
    return path.join(this.containerDir(id), `${id}-json.log`);
  }
  /** The shim's socket: in its state dir when the path fits sun_path (107 bytes), else a short one. */
  shimSocket(id: string): string {
    const p = path.join(this.stateDir(id), 'shim.sock');
    return Buffer.byteLength(p) <= 107 ? p : path.join(this.options.execRoot, 's', `${id.slice(0, 24)}.sock`);
  }

  /** Runs `fn` when no other verb holds this container's lock. */
  async withLock<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => {
      release = r;
    });
    const chained = prev.then(() => mine);
    this.locks.set(id, chained);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(id) === chained) this.locks.delete(id);
    }
  }

  /**
   * Removes a directory without making the caller wait for it: renamed into `<root>/trash/`
   * (the same filesystem: one rename, atomic), then deleted in the background. A crash leaves
   * it in the trash, which `emptyTrash` clears at start-up.
   */
  discard(dir: string): void {
    const root = dir.startsWith(this.options.execRoot) ? this.options.execRoot : this.options.dataRoot;
    const trash = path.join(root, 'trash');
    const to = path.join(trash, `${path.basename(dir)}-${randomBytes(4).toString('hex')}`);
    try {
      try {
        renameSync(dir, to);
      } catch (err) {
        // the trash is made when a rename first finds it missing, not made sure of before each one
        if (errnoCode(err) !== 'ENOENT' || !existsSync(dir)) throw err;
        mkdirSync(trash, { recursive: true, mode: 0o700 });
        renameSync(dir, to);
      }
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    // in C on the thread pool: the event loop pays nothing per file (native/addon)
    this.inBackground(removeTree(to));
  }

  /** Work nobody waits for but shutdown (emptyTrash): its failure is not the caller's. */
  inBackground(work: Promise<unknown>): void {
    const p = work.then(
      () => {},
      () => {},
    );
    this.pendingDiscards.add(p);
    void p.finally(() => this.pendingDiscards.delete(p));
  }

  /**
   * Containers whose last run recordExit cleaned up completely (container/monitor.ts): a removal
   * right after (`--rm`) need not clean again. Dropped when the container starts or goes.
   */
  readonly cleanedRuns = new Set<string>();

  private spawner: ShimSpawner | undefined;
  private cgroups: CgroupLayout | undefined;
  private ownCgroups = '';
  private facts: HostFacts | undefined;

  /**
   * A run's teardown failed and its tomb may still be in the runtime's root: exits sweep the
   * root (collectTombs) until one finds none (containers/monitor.ts).
   */
  tombsLeft = false;

  /**
   * berthd's capability sets, /proc/kcore and the id-map helpers, read at the first start and
   * kept (CreateOptions.hostFacts): berthd never changes its own capabilities.
   */
  hostFacts(): HostFacts {
    this.facts ??= readHostFacts();
    return this.facts;
  }

  /**
   * The host's cgroup mounts, read at the first start and kept (dockerd reads its cgroup info
   * once too: every start would otherwise read and parse mountinfo again), with berthd's own
   * cgroups read each time (it may have been moved).
   */
  cgroupLayout(): CgroupLayout | undefined {
    try {
      const own = readFileSync('/proc/self/cgroup', 'utf8');
      if (this.cgroups && own === this.ownCgroups) return this.cgroups;
      this.cgroups = this.cgroups ? withOwnCgroups(this.cgroups, own) : readCgroupLayout();
      this.ownCgroups = own;
      return this.cgroups;
    } catch {
      // unreadable: whoever needs the layout reads it and says why it cannot
      return undefined;
    }
  }

  /** The shim spawner (shim/spawner.ts), started with the first container start. */
  shimSpawner(): ShimSpawner {
    this.spawner ??= new ShimSpawner(
      this.options.shim ?? shimPath(),
      () => shimCgroupProcs(this.log),
      this.log,
      this.options.nsinit ?? nsinitPath(),
    );
    return this.spawner;
  }

  /** At shutdown: the spawner goes (the shims it started stay). */
  closeSpawner(): void {
    this.spawner?.close();
  }

  /** What a crash left in the trash directories; and waits for background removals (shutdown). */
  async emptyTrash(): Promise<void> {
    await Promise.all([...this.pendingDiscards]);
    for (const root of [this.options.dataRoot, this.options.execRoot])
      await rm(path.join(root, 'trash'), { recursive: true, force: true }).catch(() => {});
  }

  /** Registers an attach for the next start; the returned function unregisters it. */
  addPendingAttach(id: string, fn: PendingAttach): () => void {
    let set = this.pendingAttaches.get(id);
    if (!set) {
      set = new Set();
      this.pendingAttaches.set(id, set);
    }
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.pendingAttaches.get(id) === set) this.pendingAttaches.delete(id);
    };
  }

  /** Whether an attach waits for the next start of `id`. */
  hasPendingAttaches(id: string): boolean {
    return (this.pendingAttaches.get(id)?.size ?? 0) > 0;
  }

  async connectPendingAttaches(id: string, shimSocket: string): Promise<void> {
    const set = this.pendingAttaches.get(id);
    if (!set) return;
    this.pendingAttaches.delete(id);
    await Promise.all([...set].map((fn) => fn(shimSocket).catch(() => {})));
  }

  remove(ref: string, opts: RemoveOptions): Promise<void> {
    return removeContainer(this, ref, opts);
  }

  /** A restart after the policy's back-off; a stop or rm meanwhile cancels it. */
  scheduleRestart(id: string, delayMs: number): void {
    this.cancelRestart(id);
    const t = setTimeout(() => {
      this.restartTimers.delete(id);
      void this.withLock(id, async () => {
        const rec = this.containers.find(id);
        if (!rec || rec.State.Status !== 'restarting' || !this.accepting) return;
        try {
          await launchContainer(this, rec);
          this.publish(rec, 'restart');
        } catch (err) {
          this.log?.(`restart ${id}: ${(err as Error).message}`);
          const r = this.containers.find(id);
          if (r && r.State.Status === 'restarting') {
            r.State.Status = 'exited';
            this.containers.save(r);
          }
        }
      });
    }, delayMs);
    t.unref();
    this.restartTimers.set(id, t);
  }

  cancelRestart(id: string): boolean {
    const t = this.restartTimers.get(id);
    if (t) clearTimeout(t);
    return this.restartTimers.delete(id);
  }

  cancelAllRestarts(): void {
    for (const id of [...this.restartTimers.keys()]) this.cancelRestart(id);
  }

  /** Container events carry the image and name (and labels), as dockerd's do. */
  publish(rec: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.events.publish('container', action, rec.Id, {
      ...(rec.Config.Labels ?? {}),
      image: rec.ImageRef,
      name: rec.Name,
      ...extra,
    });
  }
}
