/**
 * The image side put together on one root directory, as the engine (and the tests, the bench
 * and the crash-test child) use it: one metadata database, the local content store, a
 * snapshotter, the layer applier, the lease manager and the image store, plus the verbs.
 *
 *   await using svc = await openImageService({ root: '/var/lib/berth' });
 *   await svc.pull('localhost:5000/app:1', { onProgress: console.log });
 *
 * Layout: <root>/metadata.db, <root>/content/{blobs,ingest}, <root>/snapshots/<snapshotter>/.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { applyLayer } from '../archive/apply.js';
import type { ApplyLayer } from '../archive/types.js';
import { fromErrno } from '../common/errors.js';
import { LocalContentStore } from '../content/local.js';
import { type ClientOptions, createResolver, type RegistryClient } from '../distribution/registry.js';
import type { CredentialSource, Resolver } from '../distribution/types.js';
import { type Db, openMetadata } from '../metadata/db.js';
import { Leases } from '../metadata/leases.js';
import { NativeSnapshotter } from '../snapshots/native.js';
import { OverlaySnapshotter } from '../snapshots/overlay.js';
import type { Snapshotter } from '../snapshots/types.js';
import { type LoadOptions, type LoadResult, load, type SaveOptions, save } from './archive.js';
import type { ImageDeps } from './deps.js';
import { collectGarbage, type GcResult, type GcRoots, GcScheduler } from './gc.js';
import { type ImportResult, importRootfs, type ImportOptions as RootfsImportOptions } from './import.js';
import { reapStaleLeases } from './lease.js';
import { type ExportOptions, exportOciLayout, type ImportOptions, importOciLayout } from './oci-layout.js';
import { Puller, type PullOptions, type PullResult } from './pull.js';
import { type PushOptions, type PushResult, push } from './push.js';
import type { ResolvedImage } from './resolve.js';
import { ImageStore } from './store.js';
import type { Image } from './types.js';
import { prepareRootfs, unpack } from './unpack.js';

export interface ImageServiceOptions {
  root: string;
  /** default overlayfs; native where overlayfs cannot be used */
  snapshotter?: 'overlayfs' | 'native';
  /** registry client options (credentials, insecure registries, mirrors) */
  registry?: ClientOptions;
  /** a resolver to use instead of the registry client (tests) */
  resolver?: Resolver;
  /** the layer applier (default: berth-unpack) */
  apply?: ApplyLayer;
  /** mount a test overlay at open (default: as root); a process that opened this root before may skip it */
  checkOverlay?: boolean;
}

export class ImageService implements AsyncDisposable {
  readonly puller: Puller;
  /** GC after deletions (debounced) and on demand, one run at a time */
  readonly collector: GcScheduler;
  /** extra GC roots (the engine's containers' images and snapshots) */
  roots: (() => GcRoots | Promise<GcRoots>) | undefined;

  private constructor(
    readonly root: string,
    readonly db: Db,
    readonly deps: ImageDeps & { content: LocalContentStore; leases: Leases },
    readonly resolver: Resolver,
    private readonly registryOptions: ClientOptions,
  ) {
    this.puller = new Puller({ ...deps, resolver });
    this.collector = new GcScheduler(() => this.gc());
  }

  /**
   * Opens the root. With `startup`, also what an engine does at start: drop the leases of
   * operations whose process died, then collect what nothing reaches any more.
   */
  static async open(options: ImageServiceOptions & { startup?: boolean }): Promise<ImageService> {
    const root = path.resolve(options.root);
    try {
      mkdirSync(root, { recursive: true, mode: 0o711 });
    } catch (err) {
      throw fromErrno('create image root', root, err);
    }
    const db = openMetadata(path.join(root, 'metadata.db'));
    try {
      const content = new LocalContentStore(path.join(root, 'content'), db);
      const kind = options.snapshotter ?? 'overlayfs';
      const snapRoot = path.join(root, 'snapshots', kind);
      const snapshotter: Snapshotter =
        kind === 'native'
          ? await NativeSnapshotter.open({ root: snapRoot, db })
          : await OverlaySnapshotter.open({
              root: snapRoot,
              db,
              ...(options.checkOverlay === undefined ? {} : { checkMount: options.checkOverlay }),
            });
      const deps = { content, images: new ImageStore(db), snapshotter, apply: options.apply ?? applyLayer, leases: new Leases(db) };
      const registry = options.registry ?? {};
      const svc = new ImageService(root, db, deps, options.resolver ?? createResolver(registry), registry);
      if (options.startup) {
        await svc.reapLeases();
        await svc.collector.run();
      }
      return svc;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  get images(): ImageStore {
    return this.deps.images;
  }
  get content(): LocalContentStore {
    return this.deps.content;
  }
  get snapshotter(): Snapshotter {
    return this.deps.snapshotter;
  }

  pull(ref: string, options?: PullOptions): Promise<PullResult> {
    return this.puller.pull(ref, options);
  }
  /**
   * A new registry client with the service's settings (insecure registries, mirrors) and other
   * credentials: one API request's X-Registry-Auth, or `/auth`'s login. The caller closes it.
   */
  registryClient(credentials?: CredentialSource): RegistryClient {
    const options: ClientOptions = { ...this.registryOptions };
    if (credentials) options.credentials = credentials;
    else delete options.credentials;
    return createResolver(options);
  }
  push(ref: string, options?: PushOptions): Promise<PushResult> {
    return push({ ...this.deps, resolver: this.resolver }, ref, options);
  }
  unpack(name: string): Promise<string | undefined> {
    return unpack(this.deps, name);
  }
  /** An active snapshot `key` on the image's layers, as mounts (a container's rootfs). */
  rootfs(name: string, key: string, options?: { readonly?: boolean; labels?: Record<string, string>; resolved?: ResolvedImage }) {
    return prepareRootfs(this.deps, name, key, options);
  }
  save(names: string[], out: Writable, options?: SaveOptions): Promise<void> {
    return save(this.deps, names, out, options);
  }
  load(input: Readable, options?: LoadOptions): Promise<LoadResult> {
    return load(this.deps, input, options);
  }
  importRootfs(input: Readable, options?: RootfsImportOptions): Promise<ImportResult> {
    return importRootfs(this.deps, input, options);
  }
  exportLayout(dir: string, names: string[], options?: ExportOptions) {
    return exportOciLayout(this.deps, dir, names, options);
  }
  importLayout(dir: string, options?: ImportOptions): Promise<Image[]> {
    return importOciLayout(this.deps, dir, options);
  }
  /** Deletes image names; GC follows shortly (debounced), as Docker users would want and Docker does not do. */
  remove(names: string[]): void {
    for (const n of names) this.deps.images.delete(n);
    this.collector.notify();
  }
  /** Drops the leases of operations whose process died (run at start-up, before gc). */
  reapLeases(): Promise<string[]> {
    return reapStaleLeases(this.deps.leases);
  }
  gc(options: { roots?: () => GcRoots | Promise<GcRoots>; ingestGrace?: number } = {}): Promise<GcResult> {
    const roots = options.roots ?? this.roots;
    return collectGarbage({
      db: this.db,
      content: this.deps.content,
      snapshotters: [this.deps.snapshotter],
      ...options,
      ...(roots ? { roots } : {}),
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.collector[Symbol.asyncDispose]();
    await this.deps.snapshotter[Symbol.asyncDispose]();
    this.db.close();
  }
}

export const openImageService = (options: ImageServiceOptions & { startup?: boolean }) => ImageService.open(options);
