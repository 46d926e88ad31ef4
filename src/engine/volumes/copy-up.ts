/**
 * Copy-up: the image's content at a volume's destination goes into the volume the first time a
 * container mounts it while it is empty (Docker's CopyImagePathToVolumePath; `nocopy` turns it
 * off), and then takes the owner and mode of the image's directory (as Docker ≥ 23 does; 20.10
 * also re-applied them to a volume that was not empty, on every start).
 *
 * Containment, on both sides, by the kernel and without a process inside the container:
 * - the source: the destination path is resolved in the rootfs view with openat2
 *   RESOLVE_IN_ROOT (a symlink on the way, `/data -> /etc`, resolves as in the container, never
 *   to the host's /etc), and GNU tar then archives from that directory fd (`-C /proc/self/fd/3`)
 *   without following any symlink below it (no -h; --one-file-system);
 * - the target: berth-unpack applies the archive with openat2 RESOLVE_IN_ROOT under the volume's
 *   directory, so a symlink already in the volume (a partial earlier copy, or one a container
 *   left) cannot redirect a write out of it.
 * The copy runs before the container starts, so nothing inside it races the walk.
 *
 * Crash safety: `marker` (outside the volume's data) is written and synced before the first
 * byte is copied and removed after berth-unpack's syncfs: a volume with the marker is copied
 * again, over whatever part arrived.
 */
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, closeSync, constants, fstatSync, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { unpackPath } from '../../archive/apply.js';
import { BerthError, errnoCode, fromErrno } from '../../common/errors.js';
import { openat2, Resolve } from '../../native/addon.js';

export type CopyUpResult = 'copied' | 'absent' | 'not-directory' | 'not-empty';

function isEmptyDir(dir: string): boolean {
  return readdirSync(dir).length === 0;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function run(name: string, child: ReturnType<typeof spawn>): Promise<void> {
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => {
    if (stderr.length < 4096) stderr += d;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${name} ${signal ? `killed by ${signal}` : `exited with ${code}`}: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}

/**
 * Copies `<rootfs>/<destination>` (resolved inside `rootfs`) into the volume directory `target`
 * when `target` is empty or `marker` says an earlier copy was cut.
 */
export async function copyUp(rootfs: string, destination: string, target: string, marker: string): Promise<CopyUpResult> {
  const rel = destination.replace(/^\/+/, '') || '.';
  let rootFd: number;
  try {
    rootFd = openSync(rootfs, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw fromErrno('open rootfs', rootfs, err);
  }
  let srcFd = -1;
  try {
    try {
      srcFd = openat2(rootFd, rel, constants.O_RDONLY | constants.O_DIRECTORY, Resolve.IN_ROOT | Resolve.NO_MAGICLINKS);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 'absent';
      if (errnoCode(err) === 'ENOTDIR') return 'not-directory';
      throw fromErrno('open', path.join(rootfs, rel), err);
    }
    const interrupted = markerExists(marker);
    let result: CopyUpResult = 'not-empty';
    if (interrupted || isEmptyDir(target)) {
      closeSync(openSync(marker, 'w'));
      syncDir(path.dirname(marker));
      const tar = spawn(
        'tar',
        [
          '--create',
          '--file=-',
          '--format=posix',
          '--pax-option=delete=atime,delete=ctime',
          '--numeric-owner',
          '--xattrs',
          '--xattrs-include=*',
          '--one-file-system',
          '--warning=no-file-ignored',
          '-C',
          '/proc/self/fd/3',
          '.',
        ],
        { stdio: ['ignore', 'pipe', 'pipe', srcFd] },
      );
      // tar's stdout is berth-unpack's stdin: Node must not read from it
      const unpack = spawn(unpackPath(), ['--root', target, '--mode', 'flat'], { stdio: [tar.stdout!, 'ignore', 'pipe'] });
      // the child has its own copy: close ours, or tar's 'close' never comes
      tar.stdout!.destroy();
      const results = await Promise.allSettled([run('tar', tar), run('berth-unpack', unpack)]);
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) {
        throw new BerthError('internal', `copy up '${destination}': ${(failed.reason as Error).message}`, {
          object: destination,
          cause: failed.reason,
        });
      }
      // berth-unpack leaves the root's metadata alone: the volume takes the image directory's
      const st = fstatSync(srcFd);
      chownSync(target, st.uid, st.gid);
      chmodSync(target, st.mode & 0o7777);
      rmSync(marker, { force: true });
      syncDir(path.dirname(marker));
      result = 'copied';
    }
    return result;
  } finally {
    if (srcFd >= 0) closeSync(srcFd);
    closeSync(rootFd);
  }
}

function markerExists(marker: string): boolean {
  try {
    closeSync(openSync(marker, constants.O_RDONLY | constants.O_NOFOLLOW));
    return true;
  } catch {
    return false;
  }
}

/** Whether copyUp would copy into `target` (so a caller mounts a rootfs view only when needed). */
export function wantsCopy(target: string, marker: string): boolean {
  try {
    return markerExists(marker) || isEmptyDir(target);
  } catch {
    return false;
  }
}
