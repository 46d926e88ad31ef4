/**
 * The native snapshotter (containerd's plugins/snapshots/native): every snapshot is a full copy
 * of its parent in `<root>/<id>/fs`, for filesystems overlayfs cannot use (an overlay root, NFS,
 * xfs without ftype). Slow and large, but it needs nothing from the kernel beyond a bind mount.
 *
 * The copy is one `cp -a --reflink=auto` per snapshot (never a process per file): it keeps
 * owners, modes, times, xattrs, device nodes, fifos, sockets, symlinks and hardlinks, and
 * shares extents on btrfs/xfs.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { BerthError } from '../common/errors.js';
import type { Db } from '../metadata/db.js';
import type { Row } from './rows.js';
import { DirSnapshotter, makeRoot } from './store.js';
import type { Kind, Mount } from './types.js';

export interface NativeOptions {
  /** absolute directory owned by this snapshotter, e.g. /var/lib/berth/snapshots/native */
  root: string;
  db: Db;
}

export class NativeSnapshotter extends DirSnapshotter {
  readonly name = 'native';

  private constructor(root: string, db: Db) {
    super(root, db, 'native');
  }

  static async open(options: NativeOptions): Promise<NativeSnapshotter> {
    return new NativeSnapshotter(await makeRoot(options.root), options.db);
  }

  protected async build(dir: string, _kind: Exclude<Kind, 'committed'>, parent: Row | undefined): Promise<void> {
    const fs = path.join(dir, 'fs');
    await mkdir(fs, { mode: 0o755 });
    await chmod(fs, 0o755);
    if (parent) await copyTree(this.fsDir(parent.id), fs);
  }

  protected mountsOf(row: Row): Mount[] {
    return [{ type: 'bind', source: this.fsDir(row.id), options: ['rbind', row.kind === 'active' ? 'rw' : 'ro'] }];
  }

  async applyTarget(key: string): Promise<{ dir: string; mode: 'overlay' | 'flat'; parents: string[] }> {
    const row = this.activeRow(key);
    return { dir: this.fsDir(row.id), mode: 'flat', parents: [] };
  }
}

/** Copies the contents and the attributes of `from` onto the existing directory `to`. */
function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // `from/.`: copy what is inside (and the root's own attributes), not `from` itself;
    // --one-file-system: a mount inside a snapshot dir is not part of it
    // setpriv --pdeathsig: a cp orphaned by a crash of ours must not go on writing into a
    // directory that cleanup() is deleting
    execFile(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'cp', '-a', '--reflink=auto', '--one-file-system', '--no-target-directory', '--', `${from}/.`, to],
      { encoding: 'utf8' },
      (err, _stdout, stderr) => {
        if (err) {
          reject(
            new BerthError('internal', `copy snapshot '${from}' to '${to}': ${String(stderr).trim() || err.message}`, {
              cause: err,
              object: from,
            }),
          );
        } else resolve();
      },
    );
  });
}
