/** `GET /containers/{id}/archive` and `docker export`: tars of a resource of a container's root. */
import type { Readable } from 'node:stream';
import { packTree } from './pack.js';
import { closeQuietly, openRoot, type Resource, release, resolveResource } from './resolve.js';
import { type PathStat, statOf } from './stat.js';

export interface ArchiveResult {
  stat: PathStat;
  /** The tar: its root entry is the stat's name (`passwd`, `dir/`, `./`, `/`). */
  stream: Readable;
}

/**
 * moby's containerArchivePath: the last element is archived as it is (a link stays a link)
 * unless the path ends with `/` or `/.`; names are rebased on the requested name.
 */
export function archivePath(root: string, requested: string, container: string): ArchiveResult {
  const rootfd = openRoot(root);
  let res: Resource;
  let stat: PathStat;
  try {
    res = resolveResource(rootfd, requested, container);
  } catch (err) {
    closeQuietly(rootfd);
    throw err;
  }
  try {
    stat = statOf(rootfd, res, container);
  } catch (err) {
    release(res);
    closeQuietly(rootfd);
    throw err;
  }
  const parent = res.dirfd !== undefined ? { fd: res.dirfd, name: Buffer.from(res.req.base) } : undefined;
  const stream = packTree({ fd: res.fd, st: res.st, parent }, { rebase: res.req.name, xdev: false }, () => {
    release(res);
    closeQuietly(rootfd);
  });
  return { stat, stream };
}

/** `docker export`: the whole root, names relative (`bin/`, `etc/passwd`), without other mounts. */
export function exportRootfs(root: string): Readable {
  const rootfd = openRoot(root);
  const st = (() => {
    try {
      return resolveResource(rootfd, '/', '');
    } catch (err) {
      closeQuietly(rootfd);
      throw err;
    }
  })();
  return packTree({ fd: st.fd, st: st.st }, { rebase: undefined, xdev: true }, () => {
    release(st);
    closeQuietly(rootfd);
  });
}
