/**
 * The host mounts of the volume layer (only tmpfs volumes have one: see store.ts), behind one
 * small role so the store can be read, and tested, apart from the kernel.
 */
import { readFileSync } from 'node:fs';
import { errnoCode, fromErrno } from '../../common/errors.js';
import { MountFlags, mount, UmountFlags, umount2 } from '../../native/addon.js';

export interface HostMounts {
  /** Mounts a tmpfs on `target` and makes it private (no propagation to or from peers). */
  mountTmpfs(source: string, target: string, flags: number, data: string): void;
  /** Detaches the mount on `target` (lazily: a process with its cwd there cannot pin it). */
  unmount(target: string): void;
  /** The mount points at or below `dir` (as /proc/self/mountinfo lists them), deepest first. */
  mountsUnder(dir: string): string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** The mount points of a mountinfo text (field 5). Pure. */
export function mountPoints(mountinfo: string): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.push(unescapeOctal(f[4]!));
  }
  return out;
}

export const kernelMounts: HostMounts = {
  mountTmpfs(source, target, flags, data) {
    try {
      mount(source, target, 'tmpfs', flags, data || null);
    } catch (err) {
      throw fromErrno('mount tmpfs', target, err);
    }
    try {
      mount(null, target, null, MountFlags.PRIVATE);
    } catch (err) {
      umount2(target, UmountFlags.DETACH);
      throw fromErrno('make private', target, err);
    }
  },
  unmount(target) {
    try {
      umount2(target, UmountFlags.DETACH | UmountFlags.NOFOLLOW);
    } catch (err) {
      // EINVAL: not a mount point (any more); ENOENT: gone
      if (errnoCode(err) !== 'EINVAL' && errnoCode(err) !== 'ENOENT') throw fromErrno('unmount', target, err);
    }
  },
  mountsUnder(dir) {
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    return mountPoints(readFileSync('/proc/self/mountinfo', 'utf8'))
      .filter((p) => p === dir || p.startsWith(prefix))
      .sort((a, b) => b.length - a.length);
  },
};
