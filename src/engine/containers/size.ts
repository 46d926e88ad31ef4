/**
 * Container sizes as dockerd reports them (`ps --size`, `inspect --size`, `system df`):
 * SizeRw is the apparent size of the files in the container's writable layer — regular files,
 * symlinks and the like with a non-zero size, each inode once (moby's directory.Size), not the
 * blocks the directory tree takes, so a container that wrote nothing is 0 B as under dockerd —
 * and SizeRootFs is that plus the image's size.
 */
import { lstat, readdir } from 'node:fs/promises';
import { errnoCode } from '../../common/errors.js';
import type { Snapshotter } from '../../snapshots/types.js';
import type { ContainerRecord } from './record.js';
import { layerDirs } from './rootfs.js';

/**
 * The apparent size of the non-directory entries under `dir`, hard links counted once; with
 * `regularOnly`, of regular files only (a layer's size as dockerd records it at unpack time:
 * the tar's file bytes, where symlinks weigh nothing).
 */
export async function apparentSize(dir: string, options: { regularOnly?: boolean } = {}): Promise<number> {
  const seen = new Set<number>();
  let total = 0;
  // names as bytes: a layer's names need not be UTF-8
  const stack: Buffer[] = [Buffer.from(dir)];
  const slash = Buffer.from('/');
  while (stack.length > 0) {
    const d = stack.pop()!;
    let entries: { name: Buffer; isDirectory(): boolean }[];
    try {
      entries = await readdir(d, { withFileTypes: true, encoding: 'buffer' });
    } catch (err) {
      // a running container removes what it likes while we count
      if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') continue;
      throw err;
    }
    for (const e of entries) {
      const p = Buffer.concat([d, slash, e.name]);
      if (e.isDirectory()) {
        stack.push(p);
        continue;
      }
      const st = await lstat(p).catch(() => undefined);
      if (!st || st.size === 0 || seen.has(st.ino) || (options.regularOnly && !st.isFile())) continue;
      seen.add(st.ino);
      total += st.size;
    }
  }
  return total;
}

/**
 * The bytes of snapshot `key`'s own files. overlayfs keeps each snapshot's files apart: the
 * first layer directory of its mounts (an active snapshot's upperdir, a committed one's own
 * lowerdir); with other snapshotters (native: full copies) the snapshot's usage stands in.
 */
export async function ownBytes(snapshotter: Snapshotter, key: string, options: { regularOnly?: boolean } = {}): Promise<number> {
  if (snapshotter.name === 'overlayfs') {
    const own = layerDirs(await snapshotter.mounts(key))[0];
    if (own !== undefined) return apparentSize(own, options);
  }
  return (await snapshotter.usage(key)).size;
}

/** SizeRw of the container whose rootfs is snapshot `key`; 0 when it is gone or never had one, as dockerd says. */
export function writableSize(snapshotter: Snapshotter, key: string): Promise<number> {
  return ownBytes(snapshotter, key).catch(() => 0);
}

/** SizeRw and SizeRootFs of each record; `imageSize` is asked once per image. */
export function containerSizes(
  snapshotter: Snapshotter,
  recs: readonly ContainerRecord[],
  imageSize: (imageId: string) => Promise<number>,
): Promise<{ SizeRw: number; SizeRootFs: number }[]> {
  const images = new Map<string, Promise<number>>();
  const sizeOf = (id: string) => {
    let p = images.get(id);
    if (!p) {
      p = imageSize(id).catch(() => 0);
      images.set(id, p);
    }
    return p;
  };
  return Promise.all(
    recs.map(async (r) => {
      const rw = await writableSize(snapshotter, r.SnapshotKey);
      return { SizeRw: rw, SizeRootFs: rw + (await sizeOf(r.Image)) };
    }),
  );
}
