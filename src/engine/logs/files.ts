/**
 * The files of one container log: `<path>` (current) and `<path>.1` … `<path>.<n>` (rotated by
 * berth-shim, `.1` the newest), reached through a small file-system role so tests can count
 * the bytes a reader reads.
 */
import { constants } from 'node:fs';
import { open, readdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode, fromErrno } from '../../common/errors.js';

/** An open log file. `id` names the file itself (device and inode), whatever its name now. */
export interface LogFileHandle {
  readonly id: string;
  /** Reads up to `buf.length` bytes at `position`; 0 at the end. */
  read(buf: Buffer, position: number): Promise<number>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** What a log reader needs from the file system. */
export interface LogFileSystem {
  /** Opens a file for reading; undefined when it does not exist. */
  open(path: string): Promise<LogFileHandle | undefined>;
  /** The `id` the file now at `path` would have; undefined when there is none. */
  identity(path: string): Promise<string | undefined>;
  /** The names in a directory; empty when it does not exist. */
  list(dir: string): Promise<string[]>;
}

const missing = (err: unknown) => errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR';
/** A symlink where the log should be is not the log (O_NOFOLLOW). */
const notALog = (err: unknown) => missing(err) || errnoCode(err) === 'ELOOP';

export const nodeLogFs: LogFileSystem = {
  async open(path) {
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (err) {
      if (notALog(err)) return undefined;
      throw fromErrno('open', path, err);
    }
    try {
      const st = await fh.stat({ bigint: true });
      if (!st.isFile()) {
        await fh.close();
        return undefined;
      }
      return {
        id: `${st.dev}:${st.ino}`,
        read: async (buf, position) => (await fh.read(buf, 0, buf.length, position)).bytesRead,
        size: async () => Number((await fh.stat({ bigint: true })).size),
        close: () => fh.close(),
      };
    } catch (err) {
      await fh.close().catch(() => {});
      throw fromErrno('stat', path, err);
    }
  },
  async identity(path) {
    try {
      const st = await stat(path, { bigint: true });
      return `${st.dev}:${st.ino}`;
    } catch (err) {
      if (missing(err)) return undefined;
      throw fromErrno('stat', path, err);
    }
  },
  async list(dir) {
    try {
      return await readdir(dir);
    } catch (err) {
      if (missing(err)) return [];
      throw fromErrno('readdir', dir, err);
    }
  },
};

/** 0 for the current file `base`, n for `base.n`; undefined for any other name. Pure. */
export function rotationIndex(base: string, name: string): number | undefined {
  if (name === base) return 0;
  if (!name.startsWith(`${base}.`)) return undefined;
  const rest = name.slice(base.length + 1);
  return /^[1-9]\d{0,5}$/.test(rest) ? Number(rest) : undefined;
}

/** The name of the file at rotation index `i`. */
export const rotatedPath = (path: string, i: number) => (i === 0 ? path : `${path}.${i}`);

/**
 * Opens every file of the log, oldest first (the current file last, when it exists).
 *
 * The shim may rotate meanwhile: it deletes the oldest, renames `.i-1` to `.i` from the top
 * down, renames the current file to `.1` and creates a new one. Opening from the newest to the
 * oldest chases files that only ever move away from us, so none is missed; a file seen twice
 * (it moved while we looked) is kept once. The set is then checked against a second listing
 * and taken again if a rotation completed in between, so that the files held are one
 * consistent generation. What is opened stays readable even once the shim deletes it.
 */
export async function openLogFiles(path: string, fs: LogFileSystem = nodeLogFs): Promise<LogFileHandle[]> {
  const dir = dirname(path);
  const base = basename(path);
  const indices = async () =>
    (await fs.list(dir))
      .map((n) => rotationIndex(base, n))
      .filter((i): i is number => i !== undefined)
      .sort((a, b) => a - b);
  let held: { index: number; file: LogFileHandle }[] = [];
  for (let attempt = 0; ; attempt++) {
    const before = await indices();
    const top = before.at(-1) ?? -1;
    const seen = new Set<string>();
    held = [];
    try {
      // Past the last listed index too, while files are there: one may move up beyond it.
      for (let i = 0; ; i++) {
        const f = await fs.open(rotatedPath(path, i));
        if (!f) {
          if (i > top) break;
          continue;
        }
        if (seen.has(f.id)) {
          await f.close();
          continue;
        }
        seen.add(f.id);
        held.push({ index: i, file: f });
      }
    } catch (err) {
      await Promise.all(held.map((h) => h.file.close().catch(() => {})));
      throw err;
    }
    if (attempt >= 4 || (await consistent(path, held, await indices(), fs))) break;
    await Promise.all(held.map((h) => h.file.close()));
  }
  return held.map((h) => h.file).reverse();
}

/** Whether the names now map to exactly the files held, at the same indices. */
async function consistent(
  path: string,
  held: { index: number; file: LogFileHandle }[],
  now: number[],
  fs: LogFileSystem,
): Promise<boolean> {
  if (now.length !== held.length || now.some((i, k) => held[k]?.index !== i)) return false;
  for (const h of held) if ((await fs.identity(rotatedPath(path, h.index))) !== h.file.id) return false;
  return true;
}

/** The names of the log's files in its directory (current, rotated, and compressed rotated ones). */
async function logFileNames(path: string): Promise<string[]> {
  const base = basename(path);
  const names = await nodeLogFs.list(dirname(path));
  return names.filter((n) => rotationIndex(base, n.endsWith('.gz') ? n.slice(0, -3) : n) !== undefined);
}

/** Total bytes of the log's files (for `/system/df` and inspect); 0 when there is no log. */
export async function logUsage(path: string): Promise<number> {
  let total = 0;
  for (const n of await logFileNames(path)) {
    try {
      total += (await stat(join(dirname(path), n))).size;
    } catch (err) {
      if (!missing(err)) throw fromErrno('stat', join(dirname(path), n), err);
    }
  }
  return total;
}

/** Removes the log's files; missing ones are fine. */
export async function removeLogs(path: string): Promise<void> {
  for (const n of await logFileNames(path)) {
    const p = join(dirname(path), n);
    try {
      await unlink(p);
    } catch (err) {
      if (!missing(err)) throw fromErrno('remove', p, err);
    }
  }
}
