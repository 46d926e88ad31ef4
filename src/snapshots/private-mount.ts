/**
 * A snapshot's files on the host, for the engine's operations on a container that is not
 * running (cp, export, diff, commit): the snapshot is mounted on a fresh temp directory for the
 * duration of one call and unmounted in `finally` (detached, MNT_DETACH, if something still has a
 * file open in it). A running container's rootfs is never mounted here: berth-nsinit mounts it
 * in the container's own mount namespace (docs/plan-format.md, "The root filesystem as mounts").
 *
 * Why a host mount is safe here:
 * - it lives only for the call, on a directory nobody else knows, and is made private (a private
 *   self-bind under it), so it neither propagates to the host's peer namespaces nor receives;
 * - a container created meanwhile gets a copy of it with the rest of the host's mount table, but
 *   berth-nsinit detaches that whole copy (the old root) right after pivot_root, before the
 *   container runs anything, so no container holds the layers busy; (a mount namespace that other
 *   software unshares during the call does keep a copy: the layers' files stay reachable through
 *   it until that namespace is gone. The call is short; this is why it is not the way to run a
 *   container);
 * - a crash (SIGKILL between mount and unmount) leaves the mount under `parent`, a directory of
 *   the engine's own: `sweepStaleMounts(parent)`, run by berthd at start-up, unmounts and removes
 *   what it finds there.
 */
import { readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { fromErrno } from '../common/errors.js';
import { liveTempMounts, mountCount, TEMP_MOUNT_PREFIX, tempMount, unmountAll } from './mount.js';
import type { Mount } from './types.js';

export interface PrivateMountOptions {
  /** Where the temp mountpoint is made: berthd passes a directory of its root, which it sweeps at start-up (default: the OS's temp directory). */
  parent?: string;
}

/** Runs `fn(dir)` with `mounts` mounted on a private temp directory; always unmounts and removes it. */
export async function withPrivateMount<T>(
  mounts: Mount[],
  fn: (dir: string) => Promise<T> | T,
  opts: PrivateMountOptions = {},
): Promise<T> {
  await using m = await tempMount(mounts, opts.parent);
  return await fn(m.dir);
}

/**
 * Unmounts (detaching if busy) and removes the temp mountpoints a crashed process left in
 * `parent`; returns how many it found mounted. Mountpoints of this process's own live calls are
 * left alone; another process's are not, so run it before anything else uses `parent` (berthd's
 * start-up). An empty leftover directory (a crash before the mount) is removed too.
 */
export async function sweepStaleMounts(parent: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(parent);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw fromErrno('read', parent, err);
  }
  let swept = 0;
  for (const name of names) {
    if (!name.startsWith(TEMP_MOUNT_PREFIX)) continue;
    const dir = path.join(path.resolve(parent), name);
    if (liveTempMounts.has(dir)) continue;
    if ((await mountCount(dir)) > 0) {
      await unmountAll(dir);
      swept++;
    }
    try {
      await rmdir(dir);
    } catch (err) {
      // not ours after all (a file in it): leave it
      if ((err as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw fromErrno('remove', dir, err);
    }
  }
  return swept;
}
