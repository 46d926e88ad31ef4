/**
 * Disk usage of one snapshot's own directory, as `du -x` counts it: allocated blocks (not
 * apparent sizes, so sparse files count what they occupy), one inode per file, a hardlinked
 * file once, and nothing below a mount point on another device.
 */
import { lstat, opendir } from 'node:fs/promises';
import path from 'node:path';
import { fromErrno } from '../common/errors.js';
import type { Usage } from './types.js';

export async function diskUsage(dir: string): Promise<Usage> {
  const top = await lstat(dir, { bigint: true }).catch((err) => {
    throw fromErrno('usage', dir, err);
  });
  const seen = new Set<bigint>();
  let size = 0n;
  let inodes = 0;
  const count = (st: { nlink: bigint; ino: bigint; blocks: bigint }): void => {
    if (st.nlink > 1n) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    size += st.blocks * 512n;
    inodes++;
  };
  count(top);
  // iterative, so a 2000-deep tree cannot overflow the stack
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(d);
    } catch (err) {
      throw fromErrno('usage', d, err);
    }
    for await (const ent of handle) {
      const p = path.join(d, ent.name);
      const st = await lstat(p, { bigint: true });
      if (st.dev !== top.dev) continue;
      count(st);
      if (st.isDirectory()) stack.push(p);
    }
  }
  return { size: Number(size), inodes };
}
