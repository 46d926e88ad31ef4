/**
 * A fresh ext4 filesystem (mkfs's defaults, journal included) on a loop device, for benchmarks
 * whose numbers depend on creating many files. This VM's own filesystem is an ext4 without a
 * journal, where creating a file scans past every inode freed in the last minutes (ext4's
 * recently_deleted(): 60 s, or 6 minutes while the inode table block is dirty); under a /tmp
 * that tests churn, 5,000 small files take 1.5–3 s of kernel time instead of 0.1 s, which
 * measures the directory's history rather than the program. `BENCH_FS=host` opts out
 * (returns `fallback`).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface FreshFs extends AsyncDisposable {
  /** where to write: the mounted filesystem, or `fallback` */
  dir: string;
}

/** Makes and mounts the filesystem under `work` (image file `work/fs.img`, mountpoint `work/fs`). */
export async function freshFs(work: string, fallback: string = work): Promise<FreshFs> {
  if (process.env.BENCH_FS === 'host') return { dir: fallback, [Symbol.asyncDispose]: async () => {} };
  const image = join(work, 'fs.img');
  const dir = join(work, 'fs');
  mkdirSync(dir, { recursive: true });
  await run('truncate', ['-s', '24G', image]);
  // initialised now, not by ext4lazyinit writing inode tables in the background during the bench
  await run('mkfs.ext4', ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0', image]);
  // direct I/O: the loop device writes to its file without a second copy in the page cache,
  // closer to a disk of its own (buffered, a sync writes everything twice)
  const dev = (await run('losetup', ['--find', '--show', '--direct-io=on', image])).stdout.trim();
  try {
    await run('mount', [dev, dir]);
  } catch (err) {
    await run('losetup', ['-d', dev]);
    throw err;
  }
  return {
    dir,
    [Symbol.asyncDispose]: async () => {
      // a lazy unmount when something still holds it; the loop device is freed once unused
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await run('losetup', ['-d', dev]).catch(() => {});
      rmSync(image, { force: true });
    },
  };
}
