/**
 * The files of a container for `docker cp` and `docker export` (src/engine/archive/ resolves
 * every path under this root with openat2 RESOLVE_IN_ROOT): a running container's own root as
 * its processes see it — `/proc/<init pid>/root`, in its mount namespace, with its volumes —
 * or, for a stopped one, its snapshot mounted privately for the duration of the call (a crash
 * meanwhile leaves the mount under <data-root>/tmp-mounts, swept at the next start).
 */
import path from 'node:path';
import { withPrivateMount } from '../../snapshots/private-mount.js';
import type { Engine } from '../engine.js';

export async function withContainerRootfs<T>(engine: Engine, ref: string, fn: (root: string, name: string) => Promise<T>): Promise<T> {
  const rec = engine.containers.get(ref);
  const name = rec.Name;
  if ((rec.State.Status === 'running' || rec.State.Status === 'paused') && rec.State.Pid > 0) {
    return fn(`/proc/${rec.State.Pid}/root`, name);
  }
  const mounts = await engine.images.snapshotter.mounts(rec.SnapshotKey);
  return withPrivateMount(mounts, (dir) => fn(dir, name), { parent: path.join(engine.options.dataRoot, 'tmp-mounts') });
}
