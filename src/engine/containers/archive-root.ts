/**
 * The files of a container for `docker cp` and `docker export` (src/engine/archive/ resolves
 * every path under this root with openat2 RESOLVE_IN_ROOT): a running container's own root as
 * its processes see it — `/proc/<init pid>/root`, in its mount namespace, with its volumes —
 * or, for a stopped one, its snapshot mounted privately for the duration of the call (a crash
 * meanwhile leaves the mount under <data-root>/tmp-mounts, swept at the next start).
 *
 * For `docker cp` a stopped container's bind mounts of its last run are put back on that
 * private mount, as moby's mountVolumes does: its /etc/hosts, /etc/hostname, /etc/resolv.conf
 * (the container's own files, not the empty mount points in its upper layer), its volumes and
 * binds. `docker export` leaves them out (dockerd exports the rootfs alone).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MountFlags, mount, openat2, Resolve } from '../../native/addon.js';
import type { Mount as OciMount } from '../../oci/spec.js';
import { withPrivateMount } from '../../snapshots/private-mount.js';
import type { Engine } from '../engine.js';

export interface RootfsOptions {
  /** Put a stopped container's bind mounts back (cp); false for export. Default true. */
  mounts?: boolean;
}

export async function withContainerRootfs<T>(
  engine: Engine,
  ref: string,
  fn: (root: string, name: string) => Promise<T>,
  opts: RootfsOptions = {},
): Promise<T> {
  const rec = engine.containers.get(ref);
  const name = rec.Name;
  if ((rec.State.Status === 'running' || rec.State.Status === 'paused') && rec.State.Pid > 0) {
    return fn(`/proc/${rec.State.Pid}/root`, name);
  }
  const mounts = await engine.images.snapshotter.mounts(rec.SnapshotKey);
  const binds = opts.mounts === false ? [] : lastRunBinds(path.join(engine.containerDir(rec.Id), 'config.json'));
  return withPrivateMount(
    mounts,
    (dir) => {
      for (const b of binds) bindInto(dir, b, engine.log);
      return fn(dir, name);
    },
    { parent: path.join(engine.options.dataRoot, 'tmp-mounts') },
  );
}

/**
 * The bind mounts of the spec the container last ran with (berthd wrote it at start), in its
 * order (parents before what is mounted inside them); none for a container never started, as
 * dockerd has no network files for one either. The kernel's file systems and /dev are not
 * "the container's files".
 */
type Bind = OciMount & { source: string };

export function lastRunBinds(specFile: string): Bind[] {
  let mounts: OciMount[];
  try {
    mounts = (JSON.parse(readFileSync(specFile, 'utf8')) as { mounts?: OciMount[] }).mounts ?? [];
  } catch {
    return [];
  }
  return mounts.filter(
    (m): m is Bind =>
      (m.type === 'bind' || m.options?.includes('bind') === true || m.options?.includes('rbind') === true) &&
      typeof m.source === 'string' &&
      !/^\/(dev|proc|sys)(\/|$)/.test(m.destination),
  );
}

const O_PATH = 0o10000000;

/**
 * One bind onto the private mount at `root`. The destination is resolved inside the container's
 * root (RESOLVE_IN_ROOT: a symlink in the image cannot send the mount onto a host path) and must
 * exist as the same kind of file as the source, as it did for the run; the mount goes onto the
 * resolved fd itself. A mount that cannot be made is left out (logged), not an error: the cp
 * then shows the rootfs's own file, as before. Made private, so nothing propagates into it.
 */
function bindInto(root: string, m: Bind, log: ((msg: string) => void) | undefined): void {
  const rel = m.destination.replace(/^\/+/, '');
  const inRoot = (rootfd: number) => openat2(rootfd, rel, O_PATH, Resolve.IN_ROOT | Resolve.NO_MAGICLINKS);
  let rootfd = -1;
  let fd = -1;
  let top = -1;
  try {
    rootfd = openSync(root, O_PATH | constants.O_DIRECTORY);
    fd = inRoot(rootfd);
    if (fstatSync(fd).isDirectory() !== statSync(m.source).isDirectory()) return;
    mount(m.source, `/proc/self/fd/${fd}`, null, MountFlags.BIND | (m.options?.includes('rbind') ? MountFlags.REC : 0));
    // the new mount is what a lookup finds now (the old fd still names the file under it)
    top = inRoot(rootfd);
    mount(null, `/proc/self/fd/${top}`, null, MountFlags.PRIVATE | MountFlags.REC);
    if (m.options?.includes('ro')) mount(null, `/proc/self/fd/${top}`, null, MountFlags.REMOUNT | MountFlags.BIND | MountFlags.RDONLY);
  } catch (err) {
    log?.(`cp: leave out the mount on '${m.destination}': ${(err as Error).message}`);
  } finally {
    for (const f of [top, fd, rootfd]) if (f >= 0) closeSync(f);
  }
}
