/**
 * `docker cp` and `docker export` (engine-api.md §A5 "archive"): the stat header, the tar of a
 * path, a tar unpacked into a directory, the whole rootfs. The engine lends the container's root
 * for the duration of one call (`withRootfs`): a running container's /proc/<pid>/root, a stopped
 * one's private mount; everything below it is src/engine/archive/.
 */
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { invalid } from '../../common/errors.js';
import { archivePath, encodePathStat, exportRootfs, extractArchive, statPath } from '../../engine/archive/index.js';
import type { ApiRequest, ApiResponse, Route, RouteFactory } from '../types.js';

export interface ArchiveDeps {
  /** Runs `fn` with the container's root directory and its name (`/name` → `name`); 404 when unknown. */
  withRootfs<T>(idOrName: string, fn: (root: string, name: string) => Promise<T>, opts?: { mounts?: boolean }): Promise<T>;
}

export const STAT_HEADER = 'X-Docker-Container-Path-Stat';

/** moby httputils.ArchiveFormValues: an empty path is a 400. */
function pathOf(req: ApiRequest): string {
  const p = req.query.get('path') ?? '';
  if (p === '') throw invalid('bad parameter: path cannot be empty', 'path');
  return p;
}

/**
 * Copies a tar to the response; a client that goes away stops the walk. The caller ends `out`
 * once the container's root is given back (`sendRoot`): a client that has read to the end finds
 * a stopped container's private mount gone (`docker export c | …; docker rm c` races nothing).
 */
async function send(tar: Readable, out: Writable, signal: AbortSignal): Promise<void> {
  const stop = () => tar.destroy();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of tar) {
      if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      if (out.destroyed) break;
    }
  } catch (err) {
    // the 200 and part of the tar are out: cutting the connection is how the client learns
    out.destroy(err as Error);
  } finally {
    signal.removeEventListener('abort', stop);
    tar.destroy();
  }
}

/** A tar of the container's root as the response, ended after withRootfs has let the root go. */
async function sendRoot(
  deps: ArchiveDeps,
  req: ApiRequest,
  res: ApiResponse,
  tarOf: (root: string, name: string) => Readable,
  opts?: { mounts?: boolean },
): Promise<void> {
  let out: Writable | undefined;
  await deps.withRootfs(
    req.params.id ?? '',
    async (root, name) => {
      const tar = tarOf(root, name);
      out = res.stream('application/x-tar');
      await send(tar, out, req.signal);
    },
    opts,
  );
  if (out && !out.destroyed) out.end();
}

export const archiveRoutes: RouteFactory<ArchiveDeps> = (deps): Route[] => [
  {
    method: 'HEAD',
    path: '/containers/{id}/archive',
    handler: (req: ApiRequest, res: ApiResponse) =>
      deps.withRootfs(req.params.id ?? '', async (root, name) => {
        const stat = statPath(root, pathOf(req), name);
        res.header(STAT_HEADER, encodePathStat(stat));
        res.empty(200);
      }),
  },
  {
    method: 'GET',
    path: '/containers/{id}/archive',
    handler: (req, res) =>
      sendRoot(deps, req, res, (root, name) => {
        const { stat, stream } = archivePath(root, pathOf(req), name);
        res.header(STAT_HEADER, encodePathStat(stat));
        return stream;
      }),
  },
  {
    method: 'PUT',
    path: '/containers/{id}/archive',
    handler: (req, res) =>
      deps.withRootfs(req.params.id ?? '', async (root, name) => {
        await extractArchive(
          root,
          pathOf(req),
          req.raw,
          { noOverwriteDirNonDir: req.bool('noOverwriteDirNonDir'), copyUIDGID: req.bool('copyUIDGID') },
          name,
        );
        res.empty(200);
      }),
  },
  {
    method: 'GET',
    path: '/containers/{id}/export',
    handler: (req, res) =>
      // dockerd exports the rootfs alone, without a stopped container's bind mounts
      sendRoot(deps, req, res, (root) => exportRootfs(root), { mounts: false }),
  },
];
