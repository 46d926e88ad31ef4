/**
 * `PUT /containers/{id}/archive`: a tar from the client unpacked into a directory of the
 * container by berth-unpack (native/unpack), the layer applier, in its `docker cp` form:
 * `--root-fd 3 --mode flat --no-whiteouts`. The destination is resolved here, in the container's
 * root (links followed, the last one too, as moby's containerExtractToDir does), to a directory
 * fd; the helper inherits that fd as its root, so nothing names the destination again, and every
 * entry (`../x`, `/abs`, a link in a parent, a hardlink to `../../etc/passwd`) is resolved by the
 * kernel under it (openat2 RESOLVE_IN_ROOT). As `chrootarchive.Untar` into the destination did
 * in Docker ≤ 20.10, links met while unpacking resolve with the destination as their root.
 */
import { constants, fstatSync, openSync, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parseHelperError, unpackPath } from '../../archive/apply.js';
import { BerthError, errnoCode, fromErrno, invalid } from '../../common/errors.js';
import { spawnProcess } from '../../native/spawn.js';
import { parseRequestPath } from './paths.js';
import { closeQuietly, fdPath, isPseudoFs, notInContainer, O_PATH, openInRoot, openRoot } from './resolve.js';

export interface ExtractOptions {
  /** Refuse to replace a directory by a non-directory or the reverse (the CLI always sets it). */
  noOverwriteDirNonDir?: boolean;
  /** Keep the archive's uid/gid; otherwise every entry is owned by `owner` (default 0:0). */
  copyUIDGID?: boolean;
  /** The container's root user on the host (a user-namespaced container's mapped root). */
  owner?: { uid: number; gid: number };
}

export const ErrExtractPointNotDirectory = 'extraction point is not a directory';
export const ErrRootFSReadOnly = 'container rootfs is marked read-only';
export const ErrVolumeReadonly = 'mounted volume is marked read-only';

/** Opens the destination (a directory, links followed in the root) for the helper. */
function openDestination(rootfd: number, requested: string, container: string): number {
  const abs = parseRequestPath(requested).abs;
  let pfd: number;
  try {
    pfd = openInRoot(rootfd, abs, O_PATH);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') throw notInContainer(requested, container);
    throw fromErrno('open', requested, err);
  }
  try {
    if (!fstatSync(pfd).isDirectory()) throw invalid(ErrExtractPointNotDirectory, requested);
    if (isPseudoFs(pfd)) throw new BerthError('permission-denied', `extract into '${requested}': a kernel filesystem, not the container's`);
    // the same directory, readable (O_PATH fds cannot be read as directories by the helper)
    return openSync(fdPath(pfd), constants.O_RDONLY | constants.O_DIRECTORY);
  } finally {
    closeQuietly(pfd);
  }
}

/** Unpacks `tar` into `requested` (an existing directory) of the container rooted at `root`. */
export async function extractArchive(
  root: string,
  requested: string,
  tar: Readable,
  opts: ExtractOptions,
  container: string,
): Promise<void> {
  const rootfd = openRoot(root);
  let destfd = -1;
  try {
    destfd = openDestination(rootfd, requested, container);
    // the destination on the root's own mount, or on a volume (a bind of the same filesystem too)
    const sameFs = mountIdOf(destfd) === mountIdOf(rootfd);
    const args = ['--root-fd', '3', '--mode', 'flat', '--no-whiteouts', '--no-sync'];
    if (opts.noOverwriteDirNonDir) args.push('--no-overwrite-dir-nondir');
    if (!opts.copyUIDGID) args.push('--owner', `${opts.owner?.uid ?? 0}:${opts.owner?.gid ?? 0}`);
    const head = await peek(tar, 2);
    await runHelper(args, destfd, tar, head[0] === 0x1f && head[1] === 0x8b, requested, sameFs);
  } finally {
    if (destfd >= 0) closeQuietly(destfd);
    closeQuietly(rootfd);
  }
}

/** The mount an fd is on (`mnt_id` of /proc/self/fdinfo: st_dev cannot tell two binds apart). */
function mountIdOf(fd: number): string {
  try {
    return /^mnt_id:\s*(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? String(fstatSync(fd).dev);
  } catch {
    return String(fstatSync(fd).dev);
  }
}

/** The first `n` bytes of the stream (fewer at its end), left in it (unshift). */
function peek(input: Readable, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    const onReadable = () => {
      const b: Buffer | null = input.read(n);
      if (b === null) return;
      cleanup();
      input.unshift(b);
      resolve(b);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.alloc(0));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    input.on('readable', onReadable);
    input.on('end', onEnd);
    input.on('error', onError);
  });
}

/**
 * Feeds the body to berth-unpack (through gunzip for a gzip body: moby's DecompressStream takes
 * `docker cp - c:/x < x.tar.gz`). On failure the rest of the body is drained, not destroyed:
 * the request's socket must stay up for the error answer.
 */
function runHelper(args: string[], destfd: number, body: Readable, gzip: boolean, requested: string, sameFs: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    // posix_spawn, no fork of berthd (src/native/spawn.ts)
    const child = spawnProcess(unpackPath(), args, ['pipe', 'pipe', 'pipe', destfd]);
    const { stdin, stdout, stderr: errStream } = child;
    if (!stdin || !stdout || !errStream) throw new BerthError('internal', 'spawn berth-unpack: no pipes');
    let stderr = '';
    let inputError: Error | undefined;
    errStream.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 65536) stderr += d;
    });
    stdout.resume();
    // the helper may stop reading (an error): EPIPE on its stdin is its error, reported below
    stdin.on('error', () => {});
    const fail = (err: Error) => {
      inputError ??= err;
      child.kill('SIGKILL');
    };
    body.on('error', (err) =>
      fail(new BerthError('invalid-argument', `extract into '${requested}': the upload was cut short`, { cause: err })),
    );
    // a client that went away mid-upload: its body closes without ending (no 'error' on every
    // Node version); the helper must not wait for the rest forever
    body.on('close', () => {
      if (!body.readableEnded) fail(new BerthError('invalid-argument', `extract into '${requested}': the upload was cut short`));
    });
    const gunzip = gzip ? createGunzip() : undefined;
    if (gunzip) {
      gunzip.on('error', (err) => fail(new BerthError('invalid-argument', `extract into '${requested}': gzip: ${err.message}`)));
      body.pipe(gunzip).pipe(stdin);
    } else {
      body.pipe(stdin);
    }
    child.on('error', (err) => reject(fromErrno('spawn', 'berth-unpack', err)));
    child.on('close', (code, signal) => {
      // (streamx streams, e.g. tar-stream's, have no unpipe)
      if (typeof body.unpipe === 'function') body.unpipe();
      gunzip?.unpipe();
      if (code === 0 && !inputError) return resolve();
      // the rest of the body is not wanted: drain it, so that the answer can go out
      body.resume();
      if (inputError) return reject(inputError);
      if (signal) return reject(new BerthError('internal', `extract into '${requested}': berth-unpack killed by ${signal}`));
      reject(helperError(stderr, requested, sameFs));
    });
  });
}

function helperError(stderr: string, requested: string, sameFs: boolean): BerthError {
  const e = parseHelperError(stderr);
  if (!e) return new BerthError('internal', `extract into '${requested}': ${stderr.trim() || 'berth-unpack failed'}`);
  const entry = e.entry ?? '';
  const dest = requested;
  const full = `${dest.replace(/\/+$/, '')}/${entry.replace(/^(\.\/)+|\/+$/g, '')}`;
  if (e.errno === 'EROFS') return new BerthError('failed-precondition', sameFs ? ErrRootFSReadOnly : ErrVolumeReadonly);
  if (e.message.startsWith('cannot overwrite directory'))
    return new BerthError('invalid-argument', `cannot overwrite directory "${full}" with non-directory "${dest}"`);
  if (e.message.startsWith('cannot overwrite non-directory'))
    return new BerthError('invalid-argument', `cannot overwrite non-directory "${full}" with directory "${dest}"`);
  const kind =
    e.errno === 'EPERM' && e.message.includes('escapes') ? 'invalid-argument' : e.errno === 'ENOSPC' ? 'unavailable' : 'invalid-argument';
  return new BerthError(kind, `extract into '${requested}': entry '${entry}': ${e.message} (${e.errno})`);
}
