/**
 * Performing snapshot mounts on the host, for callers that need a snapshot's files outside a
 * container (tests now; later the engine's cp and export). Snapshotters only return mounts as
 * data; this is the one place that carries them out, with util-linux mount(8)/umount(8).
 *
 * The overlay option string is copied into one page by mount(2): long layer lists are made
 * relative to their common parent and mount(8) runs there (compact.ts).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BerthError } from '../common/errors.js';
import { compactLowerdir } from './compact.js';
import type { Mount } from './types.js';

export { compactLowerdir } from './compact.js';

export interface MountCommand {
  args: string[];
  cwd?: string;
}

/** The mount(8) invocation for one Mount on `target` (pure). */
export function mountCommand(m: Mount, target: string): MountCommand {
  // absolute: mount(8) may run in another directory (below)
  target = path.resolve(target);
  let options = [...m.options];
  let cwd: string | undefined;
  if (m.type === 'overlay') {
    const compact = compactLowerdir(options);
    if (compact) ({ options, cwd } = compact);
  }
  const isBind = m.type === 'bind' || options.includes('bind') || options.includes('rbind');
  const args: string[] = [];
  if (!isBind) args.push('-t', m.type);
  const opts = m.type === 'bind' && !options.includes('bind') && !options.includes('rbind') ? ['rbind', ...options] : options;
  if (opts.length > 0) args.push('-o', opts.join(','));
  // --no-canonicalize: the kernel, not mount(8), resolves paths (a relative lowerdir stays relative)
  args.push('--no-canonicalize', '--', m.source, target);
  return cwd === undefined ? { args } : { args, cwd };
}

function run(cmd: string, args: string[], cwd?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, encoding: 'utf8' }, (err, _stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr: String(stderr).trim() }));
      else resolve();
    });
  });
}

/** Mounts `mounts` on `target`, in order; on a failure, unmounts what it mounted. */
export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  let done = 0;
  try {
    for (const m of mounts) {
      const cmd = mountCommand(m, target);
      try {
        await run('mount', cmd.args, cmd.cwd);
      } catch (err) {
        const why = (err as { stderr?: string }).stderr || (err as Error).message;
        throw new BerthError('internal', `mount ${m.type} '${m.source}' on '${target}': ${why}`, { cause: err, object: target });
      }
      done++;
    }
  } catch (err) {
    for (; done > 0; done--) await run('umount', ['--', target]).catch(() => {});
    throw err;
  }
}

/** Decodes a mountinfo path field (spaces, tabs, newlines and backslashes are octal-escaped). */
function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** How many mounts are stacked exactly on `target`. */
export async function mountCount(target: string): Promise<number> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const want = path.resolve(target);
  let n = 0;
  for (const line of info.split('\n')) {
    const mp = line.split(' ')[4];
    if (mp !== undefined && unescapeMountinfo(mp) === want) n++;
  }
  return n;
}

/** Unmounts the topmost mount on `target` (what one mountAll of a single mount put there). */
export async function unmount(target: string): Promise<void> {
  try {
    await run('umount', ['--', target]);
  } catch (err) {
    const why = (err as { stderr?: string }).stderr || (err as Error).message;
    throw new BerthError('internal', `unmount '${target}': ${why}`, { cause: err, object: target });
  }
}

/** Unmounts everything mounted on and below `target` (stacked mounts included). */
export async function unmountAll(target: string): Promise<void> {
  for (let i = 0; i < 256 && (await mountCount(target)) > 0; i++) {
    try {
      await run('umount', ['--recursive', '--', target]);
    } catch (err) {
      // busy (a process has its cwd inside): detach it, the kernel frees it when unused
      try {
        await run('umount', ['--recursive', '--lazy', '--', target]);
      } catch {
        const why = (err as { stderr?: string }).stderr || (err as Error).message;
        throw new BerthError('internal', `unmount '${target}': ${why}`, { cause: err, object: target });
      }
    }
  }
}

/** The name prefix of the temp mountpoints (private-mount.ts sweeps what a crash left). */
export const TEMP_MOUNT_PREFIX = 'berth-mount-';

/** Mountpoints of this process's live temp mounts: a sweep leaves them alone. */
export const liveTempMounts = new Set<string>();

/**
 * A temp directory in `parent` (default: the OS's) with `mounts` on it, private to this mount
 * namespace (a private self-bind underneath, so nothing propagates to peers), unmounted and
 * removed on dispose.
 */
export async function tempMount(mounts: Mount[], parent = tmpdir()): Promise<AsyncDisposable & { dir: string }> {
  const dir = await mkdtemp(path.join(parent, TEMP_MOUNT_PREFIX));
  liveTempMounts.add(dir);
  const dispose = async (): Promise<void> => {
    await unmountAll(dir);
    await rmdir(dir);
    liveTempMounts.delete(dir);
  };
  try {
    // one mount(8): libmount binds, then changes the propagation of the new mount
    await run('mount', ['--bind', '--make-private', '--', dir, dir]);
    await mountAll(mounts, dir);
  } catch (err) {
    await dispose().catch(() => {});
    throw err;
  }
  return { dir, [Symbol.asyncDispose]: dispose };
}

/** Runs `fn` with `mounts` mounted on a private temp directory; always unmounts and removes it. */
export async function withMounted<T>(mounts: Mount[], fn: (dir: string) => Promise<T> | T): Promise<T> {
  await using m = await tempMount(mounts);
  return await fn(m.dir);
}
