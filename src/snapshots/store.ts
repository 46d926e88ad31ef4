/**
 * What the overlayfs and native snapshotters share: one directory per snapshot under the
 * snapshotter's root, named by a number (never by a key: keys are any string, and committed
 * names are chain IDs), and one row per snapshot in the metadata database.
 *
 * Crash safety, with the row as the single commit point:
 *   create  build `<root>/new-<id>` completely, rename it to `<root>/<id>`, fsync the root,
 *           then insert the row. A crash before the row leaves a directory no row names.
 *   remove  delete the row (in a transaction that refuses a snapshot with children), then
 *           rename `<root>/<id>` to `<root>/tomb-<id>-…` and delete that. A crash after the row
 *           leaves a directory no row names.
 * So there is never a row without its directory, and `cleanup()` deletes what no row names:
 * `<id>` directories without a row, `new-*`, `tomb-*` and `check-*` leftovers.
 */
import { mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { errnoCode, fromErrno, invalid, precondition } from '../common/errors.js';
import { syncDir, uniqueName } from '../common/fs.js';
import type { Db } from '../metadata/db.js';
// A snapshot's tree is deleted in C on the thread pool: no JavaScript per file on a daemon's
// event loop, no symbolic link followed, no mount inside entered. After a crash of ours, the
// native snapshotter's `cp` may still be writing into it for a moment (its death signal is
// asynchronous; a killed process finishes its current system call first): a directory found not
// empty at its rmdir is emptied again, 12 times 30 ms apart, which outlasts that.
import { removeTree } from '../native/addon.js';
import { checkKey, checkLabels, type Row, Rows, toInfo } from './rows.js';
import type { Info, Kind, Mount, Snapshotter, Usage } from './types.js';
import { diskUsage } from './usage.js';

/** Ids are random (not sequential) so two processes sharing a store never race for one. */
const ID_LIMIT = 2 ** 40;

export abstract class DirSnapshotter implements Snapshotter {
  abstract readonly name: string;
  protected readonly rows: Rows;
  /** ids of snapshots being created by this process: cleanup() must not take their directories */
  private readonly inflight = new Set<number>();
  private closed = false;

  protected constructor(
    readonly root: string,
    db: Db,
    name: string,
  ) {
    this.rows = new Rows(db, name);
  }

  /** Fills `dir` (a fresh, empty directory) with the new snapshot's `fs` (and `work`). */
  protected abstract build(dir: string, kind: Exclude<Kind, 'committed'>, parent: Row | undefined): Promise<void>;
  protected abstract mountsOf(row: Row): Mount[];
  abstract applyTarget(key: string): Promise<{ dir: string; mode: 'overlay' | 'flat'; parents: string[] }>;

  protected dir(id: number): string {
    return path.join(this.root, String(id));
  }

  protected fsDir(id: number): string {
    return path.join(this.root, String(id), 'fs');
  }

  protected open(verb: string): void {
    if (this.closed) throw precondition(`${verb} snapshot: snapshotter '${this.name}' is closed`);
  }

  async stat(key: string): Promise<Info> {
    this.open('stat');
    return toInfo(this.rows.must('stat', checkKey('stat', key)));
  }

  async update(info: Pick<Info, 'name' | 'labels'>, fieldpaths?: string[]): Promise<Info> {
    this.open('update');
    const key = checkKey('update', info?.name);
    const labels = checkLabels('update', key, info.labels ?? {});
    return toInfo(this.rows.updateLabels(key, labels, fieldpaths));
  }

  async usage(key: string): Promise<Usage> {
    this.open('usage');
    const row = this.rows.must('usage', checkKey('usage', key));
    if (row.kind !== 'committed') return diskUsage(this.fsDir(row.id));
    if (row.size !== null && row.inodes !== null) return { size: row.size, inodes: row.inodes };
    // counted on first use, not at commit: a pull commits every layer and seldom asks
    const usage = await diskUsage(this.fsDir(row.id));
    this.rows.setUsage(key, row.id, usage);
    return usage;
  }

  async mounts(key: string): Promise<Mount[]> {
    this.open('mounts');
    return this.rows.read(() => this.mountsOf(this.rows.must('mounts', checkKey('mounts', key))));
  }

  prepare(key: string, parent?: string, options?: { labels?: Record<string, string> }): Promise<Mount[]> {
    return this.create('prepare', 'active', key, parent, options?.labels);
  }

  view(key: string, parent?: string, options?: { labels?: Record<string, string> }): Promise<Mount[]> {
    return this.create('view', 'view', key, parent, options?.labels);
  }

  private async create(
    verb: string,
    kind: 'active' | 'view',
    key: string,
    parent: string | undefined,
    labelsIn: unknown,
  ): Promise<Mount[]> {
    this.open(verb);
    checkKey(verb, key);
    if (parent === '') parent = undefined; // containerd's "no parent"
    if (parent !== undefined) checkKey(verb, parent);
    const labels = checkLabels(verb, key, labelsIn);
    // fail early, before the slow part (the native snapshotter copies the parent); the insert
    // checks again in its transaction
    const parentRow = this.rows.checkCreate(verb, key, parent);
    const id = this.newId();
    this.inflight.add(id);
    const tmp = path.join(this.root, `new-${id}`);
    const final = this.dir(id);
    try {
      try {
        await mkdir(tmp, { mode: 0o700 });
        await this.build(tmp, kind, parentRow);
        await rename(tmp, final);
        await syncDir(this.root);
      } catch (err) {
        await removeTree(tmp).catch(() => {});
        throw fromErrno(`${verb} snapshot`, key, err);
      }
      let row: Row;
      try {
        row = this.rows.insert(verb, { key, id, kind, parent: parent ?? null, labels: JSON.stringify(labels) });
      } catch (err) {
        await this.discard(id);
        throw err;
      }
      return this.mountsOf(row);
    } finally {
      this.inflight.delete(id);
    }
  }

  async commit(name: string, key: string, options?: { labels?: Record<string, string> }): Promise<void> {
    this.open('commit');
    checkKey('commit', name);
    checkKey('commit', key);
    const row = this.rows.must('commit', key);
    if (row.kind !== 'active') throw precondition(`commit snapshot '${key}': snapshot is ${row.kind}, not active`, key);
    const labels = options?.labels === undefined ? undefined : checkLabels('commit', key, options.labels);
    this.rows.commit(name, key, labels);
  }

  async remove(key: string): Promise<void> {
    this.open('remove');
    const row = this.rows.remove(checkKey('remove', key));
    await this.discard(row.id);
  }

  async walk(fn: (info: Info) => void | Promise<void>, filter?: (info: Info) => boolean): Promise<void> {
    this.open('walk');
    // all rows are read before the first callback, so a callback may call stat/update/remove
    for (const row of this.rows.all()) {
      const info = toInfo(row);
      if (filter && !filter(info)) continue;
      await fn(info);
    }
  }

  /**
   * Meant for start-up (and after a crash): directories being built by *this* process are
   * spared, but another process preparing in the same root at the same moment would lose its
   * half-built directory (its insert then fails cleanly, leaving nothing behind).
   */
  async cleanup(): Promise<number> {
    this.open('cleanup');
    const ids = this.rows.ids();
    let removed = 0;
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (err) {
      throw fromErrno('cleanup snapshots', this.root, err);
    }
    for (const name of names) {
      const m = /^(?:new-)?(\d+)$/.exec(name);
      let orphan: boolean;
      if (m) {
        const id = Number(m[1]);
        // `ids` was read before the readdir (and earlier removals) awaited: a prepare of ours may
        // have inserted its row and left `inflight` meanwhile. A directory that looks orphaned
        // is judged again on a fresh read, in the same synchronous step as the inflight check.
        orphan = !this.inflight.has(id) && (name.startsWith('new-') || (!ids.has(id) && !this.rows.ids().has(id)));
      } else {
        orphan = /^(?:tomb|check)-/.test(name);
      }
      if (!orphan) continue;
      await removeTree(path.join(this.root, name));
      removed++;
    }
    return removed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // the database belongs to the caller; closing twice is fine
    this.closed = true;
  }

  /** Active snapshot's row, for applyTarget. */
  protected activeRow(key: string): Row {
    this.open('apply');
    const row = this.rows.must('apply', checkKey('apply', key));
    if (row.kind !== 'active') throw invalid(`apply to snapshot '${key}': snapshot is ${row.kind}, not active`, key);
    return row;
  }

  /** Removes a directory whose row is gone: renamed away first, so a crash leaves a tomb, never a half-deleted `<id>`. */
  private async discard(id: number): Promise<void> {
    const tomb = path.join(this.root, `tomb-${id}-${uniqueName()}`);
    try {
      await rename(this.dir(id), tomb);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return;
      throw fromErrno('remove snapshot directory', this.dir(id), err);
    }
    await removeTree(tomb);
  }

  /** A random directory id no row and no prepare of ours has: a lookup each, not every id read (a create per container). */
  private newId(): number {
    for (;;) {
      const id = 1 + Math.floor(Math.random() * (ID_LIMIT - 1));
      if (!this.inflight.has(id) && !this.rows.hasId(id)) return id;
    }
  }
}

/** Creates the snapshotter root (0700: snapshots hold other users' files with their modes). */
export async function makeRoot(root: string): Promise<string> {
  if (!path.isAbsolute(root)) throw invalid(`open snapshotter '${root}': the root must be an absolute path`, root);
  try {
    await mkdir(root, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw fromErrno('create snapshotter root', root, err);
  }
  return path.resolve(root);
}
