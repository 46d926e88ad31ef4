/**
 * Every path of `docker cp` is resolved here, by the kernel, inside the container's root:
 * openat2(rootfd, p, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) gives chroot semantics (`..` and
 * absolute links stop at the root; /proc/<pid>/fd-style magic links are refused), and what comes
 * back is an fd: nothing is looked up again by name afterwards, except single, not-followed
 * components in a directory we hold open (`/proc/self/fd/<dirfd>/<name>`: the magic link is our
 * own fd, so a concurrent rename or symlink swap by the container can change what we see, never
 * where we are).
 *
 * The root may be `/proc/<pid>/root` of a running container: opening it yields the container's
 * root (its mount, in its mount namespace, so its volumes are seen, as in `docker cp`), and
 * RESOLVE_IN_ROOT on that fd treats it as `/`. A process inside cannot move that root (a chroot of
 * its own changes /proc/<pid>/root, but only to somewhere it can already reach).
 */

import type { BigIntStats } from 'node:fs';
import { closeSync, constants, fstatSync, openSync, readlinkSync, statfsSync } from 'node:fs';
import path from 'node:path/posix';
import { BerthError, errnoCode, fromErrno } from '../../common/errors.js';
import { openat2, Resolve } from '../../native/addon.js';
import { parseRequestPath, type RequestPath } from './paths.js';

export const O_PATH = 0o10000000;
const IN_ROOT = Resolve.IN_ROOT | Resolve.NO_MAGICLINKS;
/** One name in a directory: no `..`, no link followed, no mount crossed by a link. */
const ONE_NAME = Resolve.BENEATH | Resolve.NO_SYMLINKS | Resolve.NO_MAGICLINKS;

/** The magic link of our own fd (and optionally one name in that directory, never followed). */
export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** Opens the container's root (a trusted path from the engine) as an O_PATH directory fd. */
export function openRoot(root: string): number {
  try {
    return openSync(root, O_PATH | constants.O_DIRECTORY);
  } catch (err) {
    throw fromErrno('open', root, err);
  }
}

/** openat2 in the root; EAGAIN (a rename raced a `..`) is retried, as the kernel asks. */
export function openInRoot(rootfd: number, p: string, flags: number): number {
  const rel = p.replace(/^\/+/, '') || '.';
  for (let i = 0; ; i++) {
    try {
      return openat2(rootfd, rel, flags, IN_ROOT);
    } catch (err) {
      if (errnoCode(err) !== 'EAGAIN' || i >= 64) throw err;
    }
  }
}

/** One directory entry, not followed: an O_PATH fd of the entry itself (a link stays a link). */
export function openName(dirfd: number, name: string | Buffer, flags = O_PATH | constants.O_NOFOLLOW): number {
  return openat2(dirfd, name, flags, ONE_NAME);
}

/**
 * Kernel filesystems seen through a running container's /proc/<pid>/root (Docker's rootfs has
 * none of them): never read from (a /proc/kcore is 128 TiB), never written into, never walked.
 */
const PSEUDO_FS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x1cd1, // devpts
  0x19800202, // mqueue
  0x64626720, // debugfs
  0x73636673, // securityfs
  0x74726163, // tracefs
  0xcafe4a11, // bpf
  0x6165676c, // pstore
  0x62656570, // configfs
  0x65735543, // fusectl
  0x42494e4d, // binfmt_misc
  0xf97cff8c, // selinuxfs
  0x6e736673, // nsfs
]);

/** Whether `fd` is on one of those (an fd we cannot statfs counts as one). */
export function isPseudoFs(fd: number): boolean {
  try {
    return PSEUDO_FS.has(Number(statfsSync(fdPath(fd)).type));
  } catch {
    return true;
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {}
}

/** Where `fd` is, as an absolute path in the root (the kernel's view, via /proc/self/fd). */
export function containerPathOf(rootfd: number, fd: number): string {
  const r = readlinkSync(fdPath(rootfd));
  const p = readlinkSync(fdPath(fd));
  if (p === r) return '/';
  if (r === '/') return p;
  if (p.startsWith(`${r}/`)) return p.slice(r.length);
  throw new BerthError('internal', `locate '${p}': outside the container's root`);
}

export const notInContainer = (requested: string, container: string) =>
  new BerthError('not-found', `Could not find the file ${requested} in container ${container}`, { object: requested });

/** A resolved resource: its fd (O_PATH; the link itself when the last element is one). */
export interface Resource {
  /** The path as the client sent it (for Docker's 404 text). */
  requested: string;
  req: RequestPath;
  fd: number;
  /** The directory it is in (O_PATH), when the last element was looked up in it by name. */
  dirfd: number | undefined;
  st: BigIntStats;
}

/**
 * moby's ResolvePath + Lstat: the directory part follows links (in the root); the last element
 * does not, unless the path ends with `/` or `/.`. ENOENT/ENOTDIR → Docker's 404 text.
 */
export function resolveResource(rootfd: number, requested: string, container: string): Resource {
  const req = parseRequestPath(requested);
  let dirfd: number | undefined;
  let fd = -1;
  try {
    if (req.base === '' || req.base === '.') {
      fd = openInRoot(rootfd, req.dir, O_PATH | constants.O_DIRECTORY);
    } else {
      dirfd = openInRoot(rootfd, req.dir, O_PATH | constants.O_DIRECTORY);
      fd = openName(dirfd, req.base);
    }
    const st = fstatSync(fd, { bigint: true });
    // a kernel file (/proc/kcore, /sys/...) is not a file of the container's: as absent as in Docker
    if ((st.mode & 0o170000n) !== 0o040000n && (st.mode & 0o170000n) !== 0o120000n && isPseudoFs(fd)) {
      throw Object.assign(new Error('pseudo filesystem'), { code: 'ENOENT' });
    }
    return { requested, req, fd, dirfd, st };
  } catch (err) {
    if (dirfd !== undefined) closeQuietly(dirfd);
    if (fd >= 0) closeQuietly(fd);
    const code = errnoCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') throw notInContainer(requested, container);
    throw fromErrno('stat', requested, err);
  }
}

export function release(r: Resource): void {
  closeQuietly(r.fd);
  if (r.dirfd !== undefined) closeQuietly(r.dirfd);
}

/**
 * A link's target fully evaluated in the root, as an absolute container path (moby's
 * `GetResourcePath` then `Rel`): the kernel's answer when it resolves; for a dangling link, the
 * lexical join of the link's directory and its text, as FollowSymlinkInScope gives.
 */
export function linkTargetOf(rootfd: number, r: Resource, container: string): string {
  try {
    const fd = openInRoot(rootfd, r.req.abs, O_PATH);
    try {
      return containerPathOf(rootfd, fd);
    } finally {
      closeQuietly(fd);
    }
  } catch {
    if (r.dirfd === undefined) return r.req.abs;
    let text: string;
    try {
      text = readlinkSync(fdPath(r.dirfd, r.req.base));
    } catch {
      throw notInContainer(r.requested, container); // the link went away meanwhile
    }
    return path.resolve(containerPathOf(rootfd, r.dirfd), text);
  }
}
