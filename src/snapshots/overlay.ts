/**
 * The overlayfs snapshotter (containerd's plugins/snapshots/overlay): each snapshot is an
 * upper directory `<root>/<id>/fs` (plus `work`, overlayfs's scratch dir); a snapshot's view of
 * the image is its fs over its committed ancestors' fs dirs, nearest first.
 *
 * Mounts, as data:
 *   active, no parent       bind rw of fs
 *   active, parents         overlay lowerdir=<parents nearest first>,upperdir=fs,workdir=work
 *   view/committed, 1 layer bind ro of that layer's fs
 *   view/committed, more    overlay with lowerdir only (read-only by construction)
 * redirect_dir and metacopy stay off (the kernel default): layer diff reads the upperdir and
 * cannot follow either.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, rename, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { invalid } from '../common/errors.js';
import { syncDir } from '../common/fs.js';
import type { Db } from '../metadata/db.js';
import { checkOverlay, overlayBaseOptions } from './check.js';
import type { Row } from './rows.js';
import { DirSnapshotter, makeRoot } from './store.js';
import type { Kind, Mount } from './types.js';

export interface OverlayOptions {
  /** absolute directory owned by this snapshotter, e.g. /var/lib/berth/snapshots/overlayfs */
  root: string;
  db: Db;
  /** mount a test overlay at open (default: when running as root) */
  checkMount?: boolean;
}

export class OverlaySnapshotter extends DirSnapshotter {
  readonly name = 'overlayfs';
  private readonly base: string[];

  private constructor(root: string, db: Db) {
    super(root, db, 'overlayfs');
    this.base = overlayBaseOptions();
  }

  /** Opens the snapshotter; failed-precondition (with the reason) where overlayfs cannot work. */
  static async open(options: OverlayOptions): Promise<OverlaySnapshotter> {
    const root = await makeRoot(options.root);
    await checkOverlay(root, { mount: options.checkMount ?? process.geteuid?.() === 0 });
    return new OverlaySnapshotter(root, options.db);
  }

  // Six metadata calls of a few microseconds each: made at once, as six thread-pool round trips
  // they were ~0.3 ms of every container create.
  protected async build(dir: string, _kind: Exclude<Kind, 'committed'>, parent: Row | undefined): Promise<void> {
    const fs = path.join(dir, 'fs');
    mkdirSync(fs, { mode: 0o755 });
    chmodSync(fs, 0o755); // not subject to the umask
    mkdirSync(path.join(dir, 'work'), { mode: 0o711 });
    if (parent) {
      // overlayfs shows the upper root's owner and mode: start from the parent's, so the
      // mounted root keeps what the image set (containerd copies the owner)
      const st = lstatSync(this.fsDir(parent.id));
      chownSync(fs, st.uid, st.gid);
      chmodSync(fs, st.mode & 0o7777);
    }
  }

  protected mountsOf(row: Row): Mount[] {
    const parents = this.rows.ancestors(row).map((r) => this.fsDir(r.id));
    const fs = this.fsDir(row.id);
    if (row.kind === 'active') {
      if (parents.length === 0) return [{ type: 'bind', source: fs, options: ['rbind', 'rw'] }];
      return [
        {
          type: 'overlay',
          source: 'overlay',
          options: [...this.base, `workdir=${path.join(this.dir(row.id), 'work')}`, `upperdir=${fs}`, `lowerdir=${parents.join(':')}`],
        },
      ];
    }
    // a view reads its parents (its own fs stays empty); a committed snapshot reads itself too
    const layers = row.kind === 'view' ? parents : [fs, ...parents];
    if (layers.length === 0) return [{ type: 'bind', source: fs, options: ['rbind', 'ro'] }];
    if (layers.length === 1) return [{ type: 'bind', source: layers[0]!, options: ['rbind', 'ro'] }];
    return [{ type: 'overlay', source: 'overlay', options: [...this.base, `lowerdir=${layers.join(':')}`] }];
  }

  /**
   * The upperdir of `from` becomes `key`'s (one rename on the same filesystem). A crash
   * between the rmdir and the rename leaves `key` without its fs: both are active snapshots
   * of a pull's lease, which GC removes (removal tolerates a missing fs).
   */
  async adopt(key: string, from: string): Promise<void> {
    const row = this.activeRow(key);
    const src = this.activeRow(from);
    if (src.parent !== null || row.id === src.id)
      throw invalid(`adopt snapshot '${from}': it must be another active snapshot without a parent`, from);
    const dst = this.fsDir(row.id);
    const srcFs = this.fsDir(src.id);
    if ((await readdir(dst)).length > 0) throw invalid(`adopt into snapshot '${key}': it is not empty`, key);
    // the root's owner and mode are the snapshot's (copied from the parent at prepare), not the layer's
    const st = await lstat(dst);
    await chown(srcFs, st.uid, st.gid);
    await chmod(srcFs, st.mode & 0o7777);
    await rmdir(dst);
    await rename(srcFs, dst);
    await syncDir(this.dir(row.id));
    await syncDir(this.dir(src.id));
    await this.remove(from);
  }

  async applyTarget(key: string): Promise<{ dir: string; mode: 'overlay' | 'flat'; parents: string[] }> {
    const row = this.activeRow(key);
    return { dir: this.fsDir(row.id), mode: 'overlay', parents: this.rows.ancestors(row).map((r) => this.fsDir(r.id)) };
  }
}
