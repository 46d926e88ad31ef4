/**
 * VolumeStore: named and anonymous volumes of the `local` driver, over the metadata database.
 *
 * On disk, Docker's layout: `<data-root>/volumes/<name>/_data`. The row is the commit point:
 * create makes the directory, then inserts the row; remove deletes the row, then the directory
 * (renamed to `.trash-*` first, so that a half-removed tree is never taken for a volume). open()
 * removes every volume-like directory without a row and every `.trash-*`.
 *
 * Host mounts, and why only tmpfs volumes have one: a `type=tmpfs` volume is one tmpfs shared by
 * every container that uses it and must outlive none of them, so, as Docker's local driver does,
 * it is mounted on `_data` when the first container starts using it (acquire) and detached when
 * the last one stops (release); containers bind `_data`. A `o=bind` volume needs no host mount:
 * each container binds the device directory itself, which gives the same sharing with nothing
 * on the host to leak (Docker mounts it on `_data` too; Berth does not, as it keeps a container's
 * mounts in the container's namespace). A plain volume is just the `_data` directory.
 *
 * Crash safety: who holds a volume is kept in memory only, because it is derived state: the
 * engine knows which containers run. A berthd killed at any line leaves at most (a) a directory
 * without a row or a `.trash-*` (open() removes them), (b) a tmpfs mounted on `_data` that no
 * running container uses (sweep() detaches it; the engine calls sweep with the running
 * containers' volumes once it has restored them, and until then acquire reuses such a mount),
 * (c) an interrupted copy-up, marked by `<name>/copy-up-incomplete` outside `_data` (the next
 * start copies again, over the partial content). Nothing else is written outside a row's
 * transaction.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, errnoCode, fromErrno } from '../../common/errors.js';
import type { Db } from '../../metadata/db.js';
import type { EventBus } from '../events.js';
import { type HostMounts, kernelMounts } from './host-mounts.js';
import { ANONYMOUS_LABEL, anonymousName, checkVolumeName, isVolumeName, LOCAL_DRIVER, opError } from './names.js';
import { isReadOnly, type LocalMount, parseLocalOptions } from './options.js';
import { VOLUMES_MIGRATION } from './schema.js';
import type { Volume } from './shapes.js';

export interface VolumeStoreOptions {
  db: Db;
  /** The data root (`--data-root`): volumes live in `<root>/volumes/`. */
  root: string;
  events?: EventBus;
  /** The host mount role (default: the kernel's, through the addon). */
  mounts?: HostMounts;
}

export interface CreateVolume {
  /** Empty or absent: an anonymous volume (64 hex, label com.docker.volume.anonymous). */
  name?: string;
  driver?: string;
  options?: Record<string, string> | null;
  labels?: Record<string, string> | null;
}

/** What a container binds for a volume it uses. */
export interface VolumeSource {
  /** The host directory: `_data`, or the device of a bind volume. */
  path: string;
  /** The volume's own `o=ro`. */
  readOnly: boolean;
  /** A bind volume with `o=bind` (not rbind) is bound non-recursively. */
  recursive: boolean;
}

interface Row {
  name: string;
  driver: string;
  mountpoint: string;
  options: string | null;
  labels: string | null;
  created_at: number;
}

const TRASH = '.trash-';
const COPY_MARKER = 'copy-up-incomplete';

function parseMap(json: string | null): Record<string, string> | null {
  if (json === null) return null;
  const v = JSON.parse(json) as unknown;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, string>) : {};
}

function stringMap(v: unknown, what: string, name: string): Record<string, string> | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw opError('invalid-argument', 'create', name, `${what} must be an object of strings`);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw opError('invalid-argument', 'create', name, `${what} ${JSON.stringify(k)} must be a string`);
  }
  return { ...(v as Record<string, string>) };
}

export class VolumeStore {
  /** `<data-root>/volumes` */
  readonly dir: string;
  private readonly db: Db;
  private readonly events: EventBus | undefined;
  private readonly mounts: HostMounts;
  /** volume name → ids of the containers that use it now (acquired, not yet released) */
  private readonly holding = new Map<string, Set<string>>();

  private constructor(o: VolumeStoreOptions) {
    this.db = o.db;
    this.dir = path.join(path.resolve(o.root), 'volumes');
    this.events = o.events;
    this.mounts = o.mounts ?? kernelMounts;
  }

  /** Creates the table (until the migration is appended) and the directory; removes the garbage of a crash. */
  static async open(o: VolumeStoreOptions): Promise<VolumeStore> {
    const s = new VolumeStore(o);
    s.db.exec(VOLUMES_MIGRATION);
    try {
      mkdirSync(s.dir, { recursive: true, mode: 0o701 });
    } catch (err) {
      throw fromErrno('mkdir', s.dir, err);
    }
    await s.sweepDirectories();
    return s;
  }

  volumeDir(name: string): string {
    return path.join(this.dir, name);
  }

  dataPath(name: string): string {
    return path.join(this.dir, name, '_data');
  }

  /** Where an interrupted copy-up is marked (outside `_data`, so no container sees it). */
  copyMarker(name: string): string {
    return path.join(this.dir, name, COPY_MARKER);
  }

  // ------------------------------------------------------------------ rows

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM volumes WHERE name = ?').get(name) as Row | undefined;
  }

  private toVolume(r: Row): Volume {
    return {
      name: r.name,
      driver: r.driver,
      mountpoint: r.mountpoint,
      options: parseMap(r.options),
      labels: parseMap(r.labels),
      createdAt: new Date(r.created_at),
    };
  }

  tryGet(name: string): Volume | undefined {
    const r = this.row(name);
    return r && this.toVolume(r);
  }

  /** not-found "get <name>: no such volume" (dockerd's text) when there is none. */
  get(name: string): Volume {
    const v = this.tryGet(name);
    if (!v) throw opError('not-found', 'get', name, 'no such volume');
    return v;
  }

  list(): Volume[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY name').all() as Row[]).map((r) => this.toVolume(r));
  }

  /** Every user of `name`: the containers the engine says refer to it, and those holding it now. */
  users(name: string, engineUsers: readonly string[] = []): string[] {
    return [...new Set([...engineUsers, ...(this.holding.get(name) ?? [])])];
  }

  // ------------------------------------------------------------------ create / remove

  /**
   * Creates a volume, or returns the existing one of that name and driver (as dockerd does; its
   * options and labels are then left as they are).
   */
  create(req: CreateVolume = {}): { volume: Volume; created: boolean } {
    const anonymous = !req.name;
    const name = req.name || anonymousName();
    const driver = req.driver || LOCAL_DRIVER;
    checkVolumeName(name);
    // dockerd looks the driver up first: an unknown one is a 404 even for an existing name
    if (driver !== LOCAL_DRIVER)
      throw opError('not-found', 'create', name, `error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`);
    const existing = this.tryGet(name);
    if (existing) return { volume: existing, created: false };
    let options = stringMap(req.options, 'option', name);
    // dockerd's local driver keeps no options map when none are given: inspect shows null
    if (options && Object.keys(options).length === 0) options = null;
    let labels = stringMap(req.labels, 'label', name);
    if (anonymous) labels = { ...(labels ?? {}), [ANONYMOUS_LABEL]: '' };
    const how = parseLocalOptions(name, options);
    if (how.kind === 'bind') this.checkDevice(name, how.device, 'create');

    const dir = this.volumeDir(name);
    const data = this.dataPath(name);
    // A directory without a row is a crash's leftover: never adopt its content.
    if (existsSync(dir)) this.discardSync(name);
    try {
      mkdirSync(data, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw fromErrno('mkdir', data, err);
    }
    const createdAt = Date.now();
    this.db
      .prepare('INSERT INTO volumes (name, driver, mountpoint, options, labels, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, driver, data, options && JSON.stringify(options), labels && JSON.stringify(labels), createdAt);
    this.events?.publish('volume', 'create', name, { driver });
    return { volume: this.get(name), created: true };
  }

  /**
   * Removes a volume: conflict "remove <name>: volume is in use - [<ids>]" while a container
   * refers to it (`users`, from the engine) or holds it. `force` (dockerd's PurgeOnError) only
   * makes a missing volume a success; it never removes a volume in use, as in dockerd.
   * Returns false when there was none (force).
   */
  async remove(name: string, opts: { force?: boolean; users?: readonly string[] } = {}): Promise<boolean> {
    const v = this.tryGet(name);
    if (!v) {
      if (opts.force) return false;
      throw opError('not-found', 'get', name, 'no such volume');
    }
    const users = this.users(name, opts.users);
    if (users.length > 0) throw opError('failed-precondition', 'remove', name, `volume is in use - [${users.join(' ')}]`);
    this.db.prepare('DELETE FROM volumes WHERE name = ?').run(name);
    this.holding.delete(name);
    this.events?.publish('volume', 'destroy', name, { driver: v.driver });
    await this.discard(name);
    return true;
  }

  /**
   * Removes the unused volumes `match` selects (the caller's filters); `users` gives the
   * engine's users of a volume. Returns the names removed and the bytes their data took.
   */
  async prune(
    match: (v: Volume) => boolean,
    users: (name: string) => readonly string[] = () => [],
  ): Promise<{ deleted: string[]; reclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const v of this.list()) {
      if (!match(v) || this.users(v.name, users(v.name)).length > 0) continue;
      const size = await this.size(v.name);
      try {
        if (await this.remove(v.name, { users: users(v.name), force: true })) {
          deleted.push(v.name);
          reclaimed += size;
        }
      } catch (err) {
        // taken into use meanwhile: not prunable any more
        if (!(err instanceof BerthError && err.kind === 'failed-precondition')) throw err;
      }
    }
    return { deleted, reclaimed };
  }

  /**
   * Bytes in a volume's `_data` as Docker counts them (directory.Size: the st_size of every
   * entry but directories, a hard-linked inode once), without following symlinks or leaving the
   * file system.
   */
  async size(name: string): Promise<number> {
    const root = this.dataPath(name);
    let dev: number;
    try {
      dev = (await lstat(root)).dev;
    } catch {
      return 0;
    }
    const seen = new Set<number>();
    let total = 0;
    const walk = async (dir: string): Promise<void> => {
      let entries: string[];
      try {
        entries = await readdir(dir);
      } catch {
        return;
      }
      for (const e of entries) {
        const p = path.join(dir, e);
        let st: Awaited<ReturnType<typeof lstat>>;
        try {
          st = await lstat(p);
        } catch {
          continue;
        }
        if (st.dev !== dev) continue;
        if (st.isDirectory()) await walk(p);
        else if (!seen.has(st.ino)) {
          seen.add(st.ino);
          total += st.size;
        }
      }
    };
    await walk(root);
    return total;
  }

  // ------------------------------------------------------------------ use by containers

  /**
   * Container `holder` starts using `name`: a tmpfs volume is mounted on `_data` if it is not
   * already. Returns the host directory to bind.
   */
  acquire(name: string, holder: string): VolumeSource {
    const v = this.get(name);
    const how = parseLocalOptions(name, v.options);
    const data = this.dataPath(name);
    try {
      mkdirSync(data, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw fromErrno('mkdir', data, err);
    }
    if (how.kind === 'tmpfs' && !this.isMounted(data)) this.mounts.mountTmpfs(how.source, data, how.flags, how.data);
    if (how.kind === 'bind') this.checkDevice(name, how.device, 'mount');
    const set = this.holding.get(name) ?? new Set<string>();
    set.add(holder);
    this.holding.set(name, set);
    return this.sourceOf(name, how);
  }

  /** The host directory a container binds for `name` (mounts nothing). */
  source(name: string): VolumeSource {
    const v = this.get(name);
    return this.sourceOf(name, parseLocalOptions(name, v.options));
  }

  private sourceOf(name: string, how: LocalMount): VolumeSource {
    if (how.kind === 'bind') return { path: how.device, readOnly: how.readOnly, recursive: how.recursive };
    return { path: this.dataPath(name), readOnly: isReadOnly(how), recursive: true };
  }

  /** Container `holder` stopped using `name`; the last one out unmounts a tmpfs volume. Idempotent. */
  release(name: string, holder: string): void {
    const set = this.holding.get(name);
    if (set) {
      set.delete(holder);
      if (set.size > 0) return;
      this.holding.delete(name);
    }
    const v = this.tryGet(name);
    if (v && parseMountSafe(v).kind === 'tmpfs') this.unmountAll(this.dataPath(name));
  }

  /** Containers holding `name` now. */
  holders(name: string): string[] {
    return [...(this.holding.get(name) ?? [])];
  }

  /**
   * After a restart: `liveUsers(name)` are the running containers that use a volume. Those
   * become its holders; a tmpfs volume that no running container uses is unmounted. Returns
   * the names unmounted.
   */
  sweep(liveUsers: (name: string) => readonly string[]): string[] {
    const unmounted: string[] = [];
    this.holding.clear();
    for (const v of this.list()) {
      const live = liveUsers(v.name);
      if (live.length > 0) this.holding.set(v.name, new Set(live));
      else if (this.mounts.mountsUnder(this.volumeDir(v.name)).length > 0) {
        this.unmountAll(this.volumeDir(v.name));
        unmounted.push(v.name);
      }
    }
    return unmounted;
  }

  // ------------------------------------------------------------------ internals

  private checkDevice(name: string, device: string, op: 'create' | 'mount'): void {
    let isDir = false;
    try {
      isDir = statSync(device).isDirectory();
    } catch (err) {
      const text = errnoCode(err) === 'ENOENT' ? 'no such file or directory' : (err as Error).message;
      if (op === 'create') throw opError('invalid-argument', 'create', name, `bind device ${device}: ${text}`);
      throw new BerthError(
        'not-found',
        `error while mounting volume '${this.dataPath(name)}': failed to mount local volume: mount ${device}:${this.dataPath(name)}, flags: 0x1000: ${text}`,
        { object: name, cause: err },
      );
    }
    if (!isDir) throw opError('invalid-argument', op === 'create' ? 'create' : 'mount', name, `bind device ${device}: not a directory`);
  }

  private isMounted(p: string): boolean {
    return this.mounts.mountsUnder(p).includes(p);
  }

  /** Detaches every mount at or below `dir` (stacked ones too), deepest first. */
  private unmountAll(dir: string): void {
    for (let round = 0; round < 64; round++) {
      const found = this.mounts.mountsUnder(dir);
      if (found.length === 0) return;
      for (const m of found) this.mounts.unmount(m);
    }
    throw new BerthError('unavailable', `unmount '${dir}': still mounted after 64 attempts`, { object: dir });
  }

  /** Moves a volume's directory out of the way (sync: its name is free when this returns). */
  private discardSync(name: string): string | undefined {
    const dir = this.volumeDir(name);
    this.unmountAll(dir);
    const trash = path.join(this.dir, `${TRASH}${randomBytes(8).toString('hex')}`);
    try {
      renameSync(dir, trash);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fromErrno('rename', dir, err);
    }
    return trash;
  }

  private async discard(name: string): Promise<void> {
    const trash = this.discardSync(name);
    if (trash) await removeTree(trash);
  }

  /** Directories that are not volumes (a crash's leftovers) and trash. */
  private async sweepDirectories(): Promise<void> {
    for (const e of readdirSync(this.dir)) {
      const p = path.join(this.dir, e);
      if (e.startsWith(TRASH)) {
        this.unmountAll(p);
        await removeTree(p);
      } else if (isVolumeName(e) && !this.row(e) && lstatSync(p).isDirectory()) {
        await this.discard(e);
      }
    }
  }
}

function parseMountSafe(v: Volume): LocalMount {
  try {
    return parseLocalOptions(v.name, v.options);
  } catch {
    return { kind: 'directory' };
  }
}

async function removeTree(p: string): Promise<void> {
  try {
    await rm(p, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    throw fromErrno('remove', p, err);
  }
}
