/**
 * Disk usage of one snapshot's own directory, as `du -x` counts it: allocated blocks (not
 * apparent sizes, so sparse files count what they occupy), one inode per file, a hardlinked
 * file once, and nothing below a mount point on another device.
 *
 * Two du(1) processes rather than a walk in Node: on a 70k-file tree du takes 0.5 s where an
 * async lstat walk took 13 s and a synchronous one 2.5 s (blocking the event loop meanwhile).
 */
import { execFile } from 'node:child_process';
import { BerthError } from '../common/errors.js';
import type { Usage } from './types.js';

function du(dir: string, unit: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile('du', ['-x', '-s', ...unit, '--', dir], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const n = Number(/^(\d+)\t/.exec(stdout)?.[1]);
      if (err || !Number.isSafeInteger(n)) {
        reject(
          new BerthError('internal', `usage '${dir}': ${String(stderr).trim() || err?.message || 'du printed no total'}`, {
            cause: err,
            object: dir,
          }),
        );
      } else resolve(n);
    });
  });
}

export async function diskUsage(dir: string): Promise<Usage> {
  const [size, inodes] = await Promise.all([du(dir, ['--block-size=1']), du(dir, ['--inodes'])]);
  return { size, inodes };
}
