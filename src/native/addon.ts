/**
 * Typed front of native/build/berth_native.node, the Node-API addon with the few host system
 * calls Node has no binding for (xattrs, mknod, mount, openat2). Each call is synchronous and
 * throws an Error carrying `code` (the errno name), `errno`, `syscall` and `path`, as Node's fs
 * does, so `fromErrno` from src/common/errors.ts wraps it. The addon is loaded on first use:
 * importing this module never fails on a machine where it is not built.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../common/errors.js';

/** A path the kernel gets byte for byte: a Buffer for names that are not UTF-8. */
export type PathArg = string | Buffer;

interface Binding {
  lgetxattr(path: PathArg, name: string): Buffer | null;
  llistxattr(path: PathArg): string[];
  lsetxattr(path: PathArg, name: string, value: Buffer | string, flags: number): void;
  lremovexattr(path: PathArg, name: string): void;
  mknodat(dirfd: number, path: PathArg, mode: number, major: number, minor: number): void;
  mount(source: PathArg | null, target: PathArg, fstype: string | null, flags: number, data: string | null): void;
  umount2(target: PathArg, flags: number): void;
  openat2(dirfd: number, path: PathArg, flags: number, resolve: number): number;
  recvFds(sockfd: number, max: number): { data: Buffer; fds: number[] };
  dupCloexec(fd: number): number;
  peerCred(sockfd: number): { pid: number; uid: number; gid: number };
  removeTree(path: PathArg): Promise<void>;
  spawnHelper(file: string, argv0: string, args: string[], fds: number[], detached: boolean, sync?: boolean): SpawnedHelper;
  waitPidfd(pidfd: number): { code: number; signal: number } | null;
  watchFd(fd: number, onReadable: () => void): FdWatch;
  unwatchFd(handle: FdWatch): void;
  lockBind(name: string): number;
  lockConnect(name: string): number;
  pidfdOpen(pid: number): number;
  pipe(): [number, number];
  socketPair(): [number, number];
}

/** A child started by spawnHelper: its pid, our end of its sync socket, a pidfd of it. */
export interface SpawnedHelper {
  pid: number;
  sync: number;
  pidfd: number;
}

/** An fd being watched for readability (watchFd); opaque. */
export type FdWatch = { readonly __fdWatch: unique symbol };

/** Where the addon is: next to the bundle (dist/ → native/build/) or in the source tree. */
export function addonPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.join(here, '../native/build/berth_native.node'), path.join(here, '../../native/build/berth_native.node')]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new BerthError('not-found', `find 'berth_native.node': not built (run 'npm run build')`, { object: 'berth_native.node' });
}

let binding: Binding | undefined;
function native(): Binding {
  binding ??= createRequire(import.meta.url)(addonPath()) as Binding;
  return binding;
}

/** The addon, or undefined where it is not built or cannot load (callers then do without). */
export function nativeIfLoadable(): Binding | undefined {
  try {
    return native();
  } catch {
    return undefined;
  }
}

export const AT_FDCWD = -100;

/** mount(2) flags (linux/mount.h). */
export const MountFlags = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  BIND: 0x1000,
  REC: 0x4000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
} as const;

/** umount2(2) flags. */
export const UmountFlags = { FORCE: 0x1, DETACH: 0x2, EXPIRE: 0x4, NOFOLLOW: 0x8 } as const;

/** setxattr(2) flags. */
export const XattrFlags = { CREATE: 0x1, REPLACE: 0x2 } as const;

/** openat2(2) `resolve` flags (linux/openat2.h). */
export const Resolve = { NO_XDEV: 0x01, NO_MAGICLINKS: 0x02, NO_SYMLINKS: 0x04, BENEATH: 0x08, IN_ROOT: 0x10, CACHED: 0x20 } as const;

/** The value of xattr `name` on `file` itself (symlinks not followed); undefined when it has none. */
export function lgetxattr(file: PathArg, name: string): Buffer | undefined {
  return native().lgetxattr(file, name) ?? undefined;
}

export function llistxattr(file: PathArg): string[] {
  return native().llistxattr(file);
}

export function lsetxattr(file: PathArg, name: string, value: Buffer | string, flags = 0): void {
  native().lsetxattr(file, name, value, flags);
}

export function lremovexattr(file: PathArg, name: string): void {
  native().lremovexattr(file, name);
}

/** mknodat(2): `mode` carries the file type (S_IFCHR, S_IFBLK, S_IFIFO…) and the permissions. */
export function mknodat(dirfd: number, file: PathArg, mode: number, major = 0, minor = 0): void {
  native().mknodat(dirfd, file, mode, major, minor);
}

export function mknod(file: PathArg, mode: number, major = 0, minor = 0): void {
  native().mknodat(AT_FDCWD, file, mode, major, minor);
}

export function mount(source: PathArg | null, target: PathArg, fstype: string | null, flags = 0, data: string | null = null): void {
  native().mount(source, target, fstype, flags, data);
}

export function umount2(target: PathArg, flags = 0): void {
  native().umount2(target, flags);
}

/** openat2(2), O_CLOEXEC always; the fd is the caller's to close (fs.closeSync). */
export function openat2(dirfd: number, file: PathArg, flags: number, resolve: number): number {
  return native().openat2(dirfd, file, flags, resolve);
}

/**
 * One recvmsg without waiting, with the descriptors passed along (SCM_RIGHTS), received
 * close-on-exec. Throws EAGAIN when nothing has arrived yet.
 */
export function recvFds(sockfd: number, max: number): { data: Buffer; fds: number[] } {
  return native().recvFds(sockfd, max);
}

/** A second descriptor for the same open file, close-on-exec. */
export function dupCloexec(fd: number): number {
  return native().dupCloexec(fd);
}

/** The connected unix socket peer's pid, uid and gid as of its connect (SO_PEERCRED). */
export function peerCred(sockfd: number): { pid: number; uid: number; gid: number } {
  return native().peerCred(sockfd);
}

/**
 * Deletes a directory tree (or a file, or a symbolic link itself) on the thread pool, in C: no
 * JavaScript per entry on the event loop, no symbolic link followed, no mount inside the tree
 * entered (EXDEV), a missing path is success (native/addon/berth_native.c). A tree deeper than
 * the process's descriptors allow (EMFILE) goes through Node's rm instead.
 */
export async function removeTree(file: string): Promise<void> {
  try {
    await native().removeTree(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EMFILE' && code !== 'ENFILE') throw err;
    await rm(file, { recursive: true, force: true });
  }
}
