/**
 * A container's rootfs from its snapshot: the mounts (data) berth-nsinit performs, and small
 * reads of image files (/etc/passwd, /etc/group) straight from the layer directories, without
 * mounting anything on the host. A read never follows a symlink (a layer may hold any), and a
 * whiteout in an upper layer hides the file below, as overlayfs would.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { errnoCode } from '../../common/errors.js';
import { openat2, Resolve } from '../../native/addon.js';
import type { Mount } from '../../snapshots/types.js';

/** The directories a lookup goes through, top first. */
export function layerDirs(mounts: readonly Mount[]): string[] {
  const m = mounts[0];
  if (!m) return [];
  if (m.type === 'bind' || m.type === 'rbind') return [m.source];
  if (m.type !== 'overlay') return [];
  const dirs: string[] = [];
  const upper = m.options.find((o) => o.startsWith('upperdir='));
  if (upper) dirs.push(upper.slice('upperdir='.length));
  const lower = m.options.find((o) => o.startsWith('lowerdir='));
  if (lower) dirs.push(...lower.slice('lowerdir='.length).split(':'));
  return dirs;
}

const O_PATH = 0o10000000;
const RESOLVE = Resolve.IN_ROOT | Resolve.NO_SYMLINKS | Resolve.NO_MAGICLINKS;

/** The file's content as the merged rootfs would show it, or undefined (absent, a symlink, hidden). */
export function readRootfsFile(mounts: readonly Mount[], file: string, limit = 4 << 20): string | undefined {
  const rel = file.replace(/^\/+/, '');
  for (const dir of layerDirs(mounts)) {
    let dirFd = -1;
    let fd = -1;
    try {
      dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        fd = openat2(dirFd, rel, O_PATH | constants.O_NOFOLLOW, RESOLVE);
      } catch (err) {
        if (errnoCode(err) === 'ENOENT') continue; // not in this layer: look below
        return undefined; // ELOOP (a symlink on the way), ENOTDIR: not a file we read
      }
      const st = fstatSync(fd);
      if (st.isCharacterDevice() && st.rdev === 0) return undefined; // an overlay whiteout
      if (!st.isFile() || st.size > limit) return undefined;
      closeSync(fd);
      fd = openat2(dirFd, rel, constants.O_RDONLY | constants.O_NOFOLLOW, RESOLVE);
      return readFileSync(fd, 'utf8');
    } finally {
      if (fd >= 0) closeSync(fd);
      if (dirFd >= 0) closeSync(dirFd);
    }
  }
  return undefined;
}
