/**
 * Can this directory hold overlayfs snapshots? (containerd's overlayutils/check.go idea.)
 * overlayfs needs an upper filesystem with d_type in readdir (without it whiteouts are not
 * recognised and deleted files reappear), and cannot use another overlay as its upperdir.
 * When we may mount (root), a real overlay mount in the root settles the rest.
 */
import { readFileSync, statfsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import path from 'node:path';
import { BerthError } from '../common/errors.js';
import { uniqueName } from '../common/fs.js';
import { withMounted } from './mount.js';

const OVERLAYFS_MAGIC = 0x794c7630;
const XFS_MAGIC = 0x58465342;
/** Filesystems that always fill d_type (xfs only with ftype=1: checked apart). */
const D_TYPE_FILESYSTEMS = new Map<number, string>([
  [0xef53, 'ext2/3/4'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0xf2f52010, 'f2fs'],
  [0x2fc12fc1, 'zfs'],
  [0xca451a4e, 'bcachefs'],
  [XFS_MAGIC, 'xfs'],
]);

/** Why overlayfs snapshots cannot live in `root`, or undefined when they can (not mounting). */
export function overlayUnsupported(root: string): string | undefined {
  if (/[,:]/.test(root)) return `the path contains ',' or ':', which overlay mount options cannot express`;
  let filesystems = '';
  try {
    filesystems = readFileSync('/proc/filesystems', 'utf8');
  } catch {
    /* no /proc: the mount check below decides */
  }
  if (filesystems !== '' && !/\toverlay$/m.test(filesystems)) return 'the kernel has no overlayfs (modprobe overlay)';
  const type = statfsSync(root).type;
  if (type === OVERLAYFS_MAGIC) return 'the backing filesystem is itself an overlayfs, which cannot hold an upperdir';
  const fsName = D_TYPE_FILESYSTEMS.get(type);
  if (fsName === undefined) {
    return `the backing filesystem (type 0x${type.toString(16)}) is not known to support d_type, which overlayfs needs`;
  }
  return undefined;
}

/** What the overlay options depend on: module parameters (undefined when absent), the user namespace, the kernel. */
export interface OverlayHost {
  param(name: string): string | undefined;
  inUserNamespace: boolean;
  kernel: string;
}

/** The options every overlay mount gets on `host` (pure; containerd's defaults, plus explicit offs). */
export function baseOptionsFor(host: OverlayHost): string[] {
  const out: string[] = [];
  // index=on would tie the upperdir to its lowers' file handles; we move and re-stack layers
  if (host.param('index') !== undefined) out.push('index=off');
  // layer diff reads the upperdir: a redirected directory or a metacopy-only file there would
  // be mis-read, so these stay off even where the module enables them by default
  if (host.param('redirect_dir') === 'Y') out.push('redirect_dir=off');
  if (host.param('metacopy') === 'Y') out.push('metacopy=off');
  if (host.inUserNamespace && kernelAtLeast(host.kernel, 5, 11)) out.push('userxattr');
  return out;
}

/** The options for this host. */
export function overlayBaseOptions(): string[] {
  return baseOptionsFor({
    param: (name) => {
      try {
        return readFileSync(`/sys/module/overlay/parameters/${name}`, 'utf8').trim();
      } catch {
        return undefined;
      }
    },
    inUserNamespace: inUserNamespace(),
    kernel: release(),
  });
}

export function inUserNamespace(): boolean {
  try {
    const map = readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return !(map[0] === '0' && map[1] === '0' && map[2] === '4294967295');
  } catch {
    return false;
  }
}

function kernelAtLeast(kernel: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** Roots whose test mount succeeded in this process: the filesystem under them does not change. */
const mountChecked = new Set<string>();

/**
 * Throws a failed-precondition naming the reason when `root` cannot hold overlay snapshots.
 * With `mount`, also mounts a two-layer overlay in `root` (under a `check-` name that
 * cleanup() removes after a crash) and checks that the lower file shows through.
 */
export async function checkOverlay(root: string, options: { mount: boolean }): Promise<void> {
  if (options.mount && mountChecked.has(root)) return;
  const fail = (why: string, cause?: unknown) =>
    new BerthError('failed-precondition', `overlayfs snapshotter '${root}': ${why}; use the native snapshotter`, { object: root, cause });
  const why = overlayUnsupported(root);
  if (why) throw fail(why);
  if (!options.mount) return;
  const dir = path.join(root, `check-${uniqueName()}`);
  try {
    for (const d of ['l1', 'l2', 'upper', 'work']) await mkdir(path.join(dir, d), { recursive: true });
    await writeFile(path.join(dir, 'l2', 'probe'), 'ok');
    const ok = await withMounted(
      [
        {
          type: 'overlay',
          source: 'overlay',
          options: [
            ...overlayBaseOptions(),
            `workdir=${path.join(dir, 'work')}`,
            `upperdir=${path.join(dir, 'upper')}`,
            `lowerdir=${path.join(dir, 'l1')}:${path.join(dir, 'l2')}`,
          ],
        },
      ],
      async (m) => (await readFile(path.join(m, 'probe'), 'utf8')) === 'ok',
    );
    if (!ok) throw fail('a test overlay mount does not show its lower layer');
    mountChecked.add(root);
  } catch (err) {
    if (err instanceof BerthError && err.kind === 'failed-precondition') throw err;
    throw fail(`a test overlay mount failed: ${(err as Error).message}`, err);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
