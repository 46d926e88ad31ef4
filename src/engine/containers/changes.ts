/**
 * `GET /containers/{id}/changes` (docker diff): what the container changed in its rootfs, read
 * from its overlay upperdir as dockerd's overlay2 driver reads it (moby pkg/archive
 * changes.go `changes` + `overlayDeletedFile`):
 *   - a whiteout (char device 0:0) is a deletion (Kind 2) of its path; an opaque directory
 *     (`trusted.overlay.opaque=y`: removed and made again) is reported as deleted too, its new
 *     contents as added;
 *   - any other path is modified (Kind 0) when a lower layer has it, else added (Kind 1); a
 *     directory the same as the lower's (size, mode, mtime) is skipped — it is only in the
 *     upper as the parent of a change;
 *   - an added or deleted path's parent directory is listed (modified) once, if not already;
 *   - walk order: names sorted bytewise per directory, parents before children.
 * The runtime's mount targets (/etc/hosts, /etc/resolv.conf, /proc, …) are what dockerd keeps in
 * a container's "-init" layer, below the changes: they are left out here, and a directory holding
 * one is compared without its mtime (which the runtime touched; a copy-up keeps the lower's).
 * Unlike moby's os.Stat, a path is looked up in each lower without following symlinks (a lower's
 * `/lib -> /usr/lib` must not send the lookup to the host's /usr/lib): a component that is not a
 * directory in that layer means the path is not there; a whiteout or an opaque directory in a
 * higher lower hides the layers below it.
 */
import type { BigIntStats as Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fromErrno } from '../../common/errors.js';
import { lgetxattr } from '../../native/addon.js';

export const ChangeKind = { Modified: 0, Added: 1, Deleted: 2 } as const;
export interface Change {
  Path: string;
  Kind: 0 | 1 | 2;
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0n;

function isOpaque(path: string): boolean {
  try {
    const v = lgetxattr(path, 'trusted.overlay.opaque');
    return v !== undefined && v.length === 1 && v[0] === 0x79; // 'y'
  } catch {
    return false;
  }
}

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw fromErrno('lstat', path, err);
  }
}

/**
 * The path as the lowers (top first) show it: its lstat in the highest layer that has it, or
 * null when no layer has it or a higher layer hides it.
 */
export async function lowerStat(lowers: readonly string[], rel: string): Promise<Stats | null> {
  const parts = rel.split('/').filter(Boolean);
  for (const layer of lowers) {
    let dir = layer;
    let hidden = false;
    let missing = false;
    for (let i = 0; i < parts.length; i++) {
      const p = join(dir, parts[i]!);
      const st = await lstatOrNull(p);
      if (st === null) {
        missing = true;
        break;
      }
      if (isWhiteout(st)) {
        hidden = true;
        break;
      }
      if (i === parts.length - 1) return st;
      if (!st.isDirectory()) {
        // a file or symlink where the path needs a directory: this layer (and those below) hide it
        hidden = true;
        break;
      }
      if (isOpaque(p)) {
        // the rest of the path is only in this layer; the layers below do not count
        const rest = await lstatOrNull(join(p, ...parts.slice(i + 1)));
        return rest && !isWhiteout(rest) ? rest : null;
      }
      dir = p;
    }
    if (hidden) return null;
    if (!missing) return null;
  }
  return null;
}

/** moby's check: same size, same os.FileMode (type and permissions), same mtime (sameFsTime). */
const sameDir = (a: Stats, b: Stats) => a.size === b.size && a.mode === b.mode && sameFsTime(a.mtimeNs, b.mtimeNs);

/** Equal seconds, and equal nanoseconds or either side without them (a file system that keeps none). */
function sameFsTime(a: bigint, b: bigint): boolean {
  const s = 1_000_000_000n;
  if (a / s !== b / s) return false;
  return a % s === b % s || a % s === 0n || b % s === 0n;
}

/** dockerd's init layer (daemon/initlayer): made for every container, never in its diff. */
export const INIT_PATHS: ReadonlySet<string> = new Set([
  '/dev/pts',
  '/dev/shm',
  '/proc',
  '/sys',
  '/.dockerenv',
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/hostname',
  '/dev/console',
  '/etc/mtab',
]);

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The changes of `upper` over `lowers` (top first), in dockerd's order and words. */
export async function overlayChanges(
  upper: string,
  lowers: readonly string[],
  ignore: ReadonlySet<string> = INIT_PATHS,
): Promise<Change[]> {
  const changes: Change[] = [];
  const changedDirs = new Set<string>();
  const entries = async (rel: string): Promise<string[]> => {
    try {
      return (await readdir(join(upper, rel))).sort(byteOrder);
    } catch (err) {
      throw fromErrno('read directory', join(upper, rel), err);
    }
  };
  /** Only ignored paths below: a directory the runtime's mount targets alone touched. */
  const onlyIgnored = async (rel: string): Promise<boolean> => {
    for (const name of await entries(rel)) {
      const path = `${rel}/${name}`;
      if (ignore.has(path)) continue;
      const st = await lstatOrNull(join(upper, path));
      if (!st?.isDirectory() || !(await onlyIgnored(path))) return false;
    }
    return true;
  };
  const visit = async (rel: string): Promise<void> => {
    for (const name of await entries(rel)) {
      const path = `${rel}/${name}`;
      if (ignore.has(path)) continue;
      const full = join(upper, path);
      const st = await lstatOrNull(full);
      if (st === null) continue; // went away while we walked (a running container)
      await record(path, full, st);
      if (st.isDirectory()) await visit(path);
    }
  };
  const record = async (path: string, full: string, st: Stats): Promise<void> => {
    let kind: Change['Kind'];
    if (isWhiteout(st) || (st.isDirectory() && isOpaque(full))) {
      kind = ChangeKind.Deleted;
    } else {
      kind = ChangeKind.Added;
      const below = await lowerStat(lowers, path);
      if (below) {
        // a directory only there as the parent of a change: not itself changed
        if (below.isDirectory() && st.isDirectory()) {
          if (sameDir(st, below)) return;
          // the runtime made a mount target here (/etc/hosts): its mtime is the runtime's doing;
          // dockerd's copy-up from the init layer keeps the lower's
          if (st.mode === below.mode && (await holdsIgnored(path))) return;
        }
        kind = ChangeKind.Modified;
      }
    }
    if (st.isDirectory()) changedDirs.add(path);
    if (kind === ChangeKind.Added && st.isDirectory() && ignore.size && (await onlyIgnored(path)) && hasIgnoredBelow(path)) return;
    if (kind !== ChangeKind.Modified) {
      const parent = path.slice(0, path.lastIndexOf('/'));
      if (parent !== '' && !changedDirs.has(parent)) {
        changes.push({ Path: parent, Kind: ChangeKind.Modified });
        changedDirs.add(parent);
      }
    }
    changes.push({ Path: path, Kind: kind });
  };
  const holdsIgnored = async (path: string) => (await entries(path)).some((n) => ignore.has(`${path}/${n}`));
  /** An added directory that holds only mount targets (/dev for /dev/pts): the init layer's too. */
  const hasIgnoredBelow = (path: string) => [...ignore].some((p) => p.startsWith(`${path}/`));
  await visit('');
  return changes;
}
