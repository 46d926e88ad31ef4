/**
 * The local side of `berth cp`, with the semantics of docker's archive package (moby/go-archive
 * copy.go): what a source or destination path is (trailing `/` and `/.` matter, symlinks in the
 * parent resolved), how an archive's entries are renamed so that extracting it in a directory
 * gives the name the user asked for, the tar of a local file or directory, and the extraction
 * of a container's tar into a local directory.
 *
 * The extraction trusts nothing in the archive: names are relative and lexically inside the
 * destination, no existing symlink is followed below it (an entry whose parent path crosses a
 * symlink is refused), hard links point inside, a directory is never replaced by a non-directory
 * or the reverse (docker's NoOverwriteDirNonDir), owners are not changed (NoLchown).
 */
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { chmod, link as hardlink, lstat, lutimes, mkdir, readdir, readlink, realpath, rm, stat, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';

type TarHeader = Partial<tar.Header> & { name: string };

/** Go's texts for the errno codes a copy meets (syscall.Errno.Error()). */
const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'file exists',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  ENAMETOOLONG: 'file name too long',
  EXDEV: 'invalid cross-device link',
  ENOTEMPTY: 'directory not empty',
};

/** A Node fs error as Go's *PathError prints: `lstat /x: no such file or directory`. */
export function goPathError(err: unknown, op?: string, p?: string): Error {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e !== 'object' || !e.code) return err instanceof Error ? err : new Error(String(err));
  const text = ERRNO_TEXT[e.code] ?? e.message;
  return Object.assign(new Error(`${op ?? e.syscall ?? 'open'} ${p ?? e.path ?? ''}: ${text}`), { code: e.code });
}

export function isAbs(p: string): boolean {
  return p.startsWith('/');
}

/** docker's splitCpArg: `ctr:path`, unless the argument is an explicit local path (`/…`, `./a:b`). */
export function splitCpArg(arg: string): { container: string; path: string } {
  if (isAbs(arg)) return { container: '', path: arg };
  const colon = arg.indexOf(':');
  if (colon < 0 || arg.startsWith('.')) return { container: '', path: arg };
  return { container: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Go's filepath.Clean. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

export const hasTrailingSeparator = (p: string): boolean => p.endsWith('/');
export const specifiesCurrentDir = (p: string): boolean => path.posix.basename(p) === '.' || p === '.' || p.endsWith('/.');
/** The path says "this must be a directory": `x/` or `x/.`. */
export const assertsDirectory = (p: string): boolean => hasTrailingSeparator(p) || specifiesCurrentDir(p);

/** archive.PreserveTrailingDotOrSeparator. */
export function preserveTrailingDotOrSeparator(cleaned: string, original: string): string {
  if (specifiesCurrentDir(original) && !specifiesCurrentDir(cleaned)) {
    if (!hasTrailingSeparator(cleaned)) cleaned += '/';
    cleaned += '.';
  }
  if (hasTrailingSeparator(original) && !hasTrailingSeparator(cleaned)) cleaned += '/';
  return cleaned;
}

/** An absolute local path, the trailing `/` or `/.` kept. */
export function resolveLocalPath(p: string, cwd: string): string {
  return preserveTrailingDotOrSeparator(goClean(path.posix.resolve(cwd, p)), p);
}

/** archive.SplitPathDirEntry: `/a/b/` → [`/a`, `b`]; `/a/b/.` → [`/a/b`, `.`]. */
export function splitPathDirEntry(p: string): [string, string] {
  let cleaned = goClean(p);
  if (specifiesCurrentDir(p)) cleaned += cleaned === '/' ? '.' : '/.';
  return [path.posix.dirname(cleaned), path.posix.basename(cleaned)];
}

/** archive.GetRebaseName: the name the archive's root must take after a symlink was followed. */
export function getRebaseName(p: string, resolved: string): [string, string] {
  let rebaseName = '';
  if (specifiesCurrentDir(p) && !specifiesCurrentDir(resolved)) resolved += '/.';
  if (hasTrailingSeparator(p) && !hasTrailingSeparator(resolved)) resolved += '/';
  if (path.posix.basename(p) !== path.posix.basename(resolved)) rebaseName = path.posix.basename(p);
  return [resolved, rebaseName];
}

export interface CopyInfo {
  path: string;
  exists: boolean;
  isDir: boolean;
  rebaseName: string;
}

/** archive.CopyInfoSourcePath: the local source, its parent's symlinks resolved (all of them with -L). */
export async function copyInfoSourcePath(p: string, followLink: boolean): Promise<CopyInfo> {
  let resolved: string;
  let rebaseName = '';
  if (followLink) {
    try {
      resolved = await realpath(p);
    } catch (err) {
      throw goPathError(err, 'lstat', p);
    }
    [resolved, rebaseName] = getRebaseName(p, resolved);
  } else {
    const slash = p.lastIndexOf('/');
    const dir = p.slice(0, slash + 1);
    const base = p.slice(slash + 1);
    let resolvedDir: string;
    try {
      resolvedDir = await realpath(dir === '' ? '.' : dir);
    } catch (err) {
      throw goPathError(err, 'lstat', dir);
    }
    // Go joins by hand: `/` + `/` + base gives `//base`, as docker prints it
    resolved = `${resolvedDir}/${base}`;
    if (hasTrailingSeparator(p) && path.posix.basename(p) !== path.posix.basename(resolved)) rebaseName = path.posix.basename(p);
  }
  let st: Stats;
  try {
    st = await lstat(resolved);
  } catch (err) {
    throw goPathError(err, 'lstat', resolved);
  }
  return { path: resolved, exists: true, isDir: st.isDirectory(), rebaseName };
}

/** archive.CopyInfoDestinationPath: the local destination, symlinks on the last element followed. */
export async function copyInfoDestinationPath(p: string): Promise<CopyInfo> {
  const original = p;
  let st: Stats | undefined;
  let err: unknown;
  try {
    st = await lstat(p);
  } catch (e) {
    err = e;
  }
  for (let n = 0; st?.isSymbolicLink(); n++) {
    if (n > 10) throw new Error(`too many symlinks in ${original}`);
    let target = await readlink(p);
    if (!isAbs(target)) target = path.posix.join(splitPathDirEntry(p)[0], target);
    p = target;
    st = undefined;
    try {
      st = await lstat(p);
    } catch (e) {
      err = e;
    }
  }
  if (st) return { path: p, exists: true, isDir: st.isDirectory(), rebaseName: '' };
  if ((err as NodeJS.ErrnoException)?.code !== 'ENOENT') throw goPathError(err, 'lstat', p);
  const parent = splitPathDirEntry(p)[0];
  let pst: Stats;
  try {
    pst = await stat(parent);
  } catch (e) {
    throw goPathError(e, 'stat', parent);
  }
  if (!pst.isDirectory()) throw new Error('not a directory');
  return { path: p, exists: false, isDir: false, rebaseName: '' };
}

/** One renaming of archive entries: the first occurrence of `from` in each name becomes `to`. */
export interface Rebase {
  from: string;
  to: string;
}

/** archive.RebaseArchiveEntries' rule for one name (`/` as the old base means "prefix with the new"). */
export function rebaseName(name: string, r: Rebase): string {
  const from = r.from === '/' ? '' : r.from;
  const i = name.indexOf(from);
  return i < 0 ? name : name.slice(0, i) + r.to + name.slice(i + from.length);
}

/**
 * archive.PrepareArchiveCopy: the directory to extract into and the renaming that makes the
 * result carry the destination's name. Throws docker's errors for impossible copies.
 */
export function prepareArchiveCopy(src: CopyInfo, dst: CopyInfo): { dstDir: string; rebase?: Rebase } {
  const [dstDir, dstBase] = splitPathDirEntry(dst.path);
  let [, srcBase] = splitPathDirEntry(src.path);
  if (dst.exists && dst.isDir) return { dstDir: dst.path };
  if (dst.exists && src.isDir) throw new Error('cannot copy directory');
  if (!dst.exists && !src.isDir && assertsDirectory(dst.path)) throw new Error('no such directory');
  if (src.rebaseName) srcBase = src.rebaseName;
  return { dstDir, rebase: { from: srcBase, to: dstBase } };
}

/** The Go os.FileMode bits docker's stat header uses. */
export const GO_MODE_DIR = 0x80000000;
export const GO_MODE_SYMLINK = 0x08000000;
const GO_MODE_DEVICE = 0x04000000;
const GO_MODE_PIPE = 0x02000000;
const GO_MODE_SOCKET = 0x01000000;
const GO_MODE_CHAR = 0x00200000;
const GO_MODE_IRREGULAR = 0x00080000;

/** command.ValidateOutputPathFileMode for a Go FileMode (a stat header's `mode`). */
export function outputModeError(mode: number): string | undefined {
  const m = mode >>> 0;
  if (m & GO_MODE_DEVICE) return 'got a device';
  if (m & GO_MODE_CHAR) return 'got a device';
  if (m & GO_MODE_IRREGULAR) return 'got an irregular file';
  if (m & GO_MODE_PIPE) return 'got a named pipe';
  if (m & GO_MODE_SOCKET) return 'got a socket';
  return undefined;
}

/** The same for a local path's lstat (ValidateOutputPath on the host side). */
export function localModeError(st: Stats): string | undefined {
  if (st.isDirectory() || st.isFile()) return undefined;
  if (st.isBlockDevice() || st.isCharacterDevice()) return 'got a device';
  if (st.isFIFO()) return 'got a named pipe';
  if (st.isSocket()) return 'got a socket';
  return undefined;
}

/** command.ValidateOutputPath. */
export async function validateOutputPath(p: string): Promise<void> {
  const dir = path.posix.dirname(goClean(p));
  if (dir !== '' && dir !== '.') {
    const st = await stat(dir).catch((e: NodeJS.ErrnoException) =>
      e.code === 'ENOENT' ? null : Promise.reject(goPathError(e, 'stat', dir)),
    );
    if (st === null) throw new Error(`invalid output path: directory ${JSON.stringify(dir)} does not exist`);
  }
  const st = await stat(p).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(goPathError(e, 'stat', p))));
  if (st) {
    const why = localModeError(st);
    if (why) throw new Error(`invalid output path: ${JSON.stringify(p)} must be a directory or a regular file: ${why}`);
  }
}

/**
 * archive.TarResource: a tar of the local source, its entries named from the source's base
 * (`x`, `x/a`; `./a` for a `dir/.` source), renamed to `rebaseName` when one is given, then by
 * `then` (PrepareArchiveCopy's renaming, done here rather than by rewriting the tar). Hard
 * links within the tree stay links; times are whole seconds, as Go's tar writer keeps them.
 */
export function tarResource(src: CopyInfo, then: Rebase[] = []): Readable {
  const pack = tar.pack();
  const [srcDir, srcBase] = splitPathDirEntry(src.path);
  const rename = (name: string) => {
    if (src.rebaseName) name = rebaseName(name, { from: srcBase, to: src.rebaseName === '/' ? '' : src.rebaseName });
    for (const r of then) name = rebaseName(name, r);
    return name;
  };
  const inodes = new Map<string, string>();
  const add = async (abs: string, name: string): Promise<void> => {
    const st = await lstat(abs);
    const header: TarHeader = {
      name: rename(name),
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
      mtime: new Date(Math.floor(st.mtimeMs / 1000) * 1000),
    };
    if (st.isDirectory()) {
      header.type = 'directory';
      header.name = header.name.endsWith('/') ? header.name : `${header.name}/`;
      await entry(header);
      const children = (await readdir(abs)).sort();
      for (const c of children) await add(path.posix.join(abs, c), name === '.' ? `./${c}` : `${name}/${c}`);
      return;
    }
    if (st.isSymbolicLink()) {
      await entry({ ...header, type: 'symlink', linkname: await readlink(abs) });
      return;
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        await entry({ ...header, type: 'link', linkname: first });
        return;
      }
      if (st.nlink > 1) inodes.set(key, header.name);
      await new Promise<void>((resolve, reject) => {
        const w = pack.entry({ ...header, type: 'file', size: st.size }, (err) => (err ? reject(err) : resolve()));
        pipeline(createReadStream(abs), w).catch(reject);
      });
      return;
    }
    // devices, fifos, sockets: docker archives the first two; Node cannot recreate them, so skip all
  };
  const entry = (h: TarHeader) => new Promise<void>((resolve, reject) => pack.entry(h, (err) => (err ? reject(err) : resolve())));
  (async () => {
    try {
      await add(src.path, srcBase === '' ? srcDir : srcBase);
      pack.finalize();
    } catch (err) {
      pack.destroy(goPathError(err));
    }
  })();
  return pack as unknown as Readable;
}

/** A name from an archive made relative and clean, or undefined when it would leave the root (`../x`). */
export function safeRelative(name: string): string | undefined {
  const n = path.posix.normalize(name.replace(/^\/+/, ''));
  if (n === '' || n === '.' || n === './') return '.';
  if (n === '..' || n.startsWith('../')) return undefined;
  return n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Whether a path below `root` reaches `rel`'s parent without crossing a symlink. */
async function parentIsPlain(root: string, rel: string): Promise<boolean> {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const part of parts) {
    cur = path.posix.join(cur, part);
    const st = await lstat(cur).catch(() => undefined);
    if (!st) return true; // created below as a directory
    if (!st.isDirectory()) return false;
  }
  return true;
}

/** Extracts a tar (a container's, as GET /archive sends it) into `dstDir`, renaming entries by `rebases` in order. */
export async function extractArchive(content: Readable, dstDir: string, rebases: Rebase[]): Promise<void> {
  const root = dstDir;
  const dirTimes: [string, Date][] = [];
  const ex = tar.extract();
  const done = (async () => {
    try {
      await extractEntries();
    } catch (err) {
      ex.destroy(err as Error);
      content.destroy();
      throw err;
    }
  })();
  async function extractEntries(): Promise<void> {
    for await (const e of ex) {
      const h = e.header;
      let name = h.name;
      for (const r of rebases) name = rebaseName(name, r);
      const rel = safeRelative(name);
      if (rel === undefined) throw new Error(`invalid archive entry ${JSON.stringify(h.name)}: outside of ${JSON.stringify(root)}`);
      const target = rel === '.' ? root : path.posix.join(root, rel);
      if (rel !== '.' && !(await parentIsPlain(root, rel)))
        throw new Error(`invalid archive entry ${JSON.stringify(h.name)}: its parent is not a directory in ${JSON.stringify(root)}`);
      if (rel !== '.') await mkdir(path.posix.dirname(target), { recursive: true });
      const existing = await lstat(target).catch(() => undefined);
      const isDir = h.type === 'directory';
      if (existing) {
        // NoOverwriteDirNonDir, as dockerd and docker cp extract
        if (existing.isDirectory() && !isDir)
          throw new Error(`cannot overwrite directory ${JSON.stringify(target)} with non-directory ${JSON.stringify(h.name)}`);
        if (!existing.isDirectory() && isDir)
          throw new Error(`cannot overwrite non-directory ${JSON.stringify(target)} with directory ${JSON.stringify(h.name)}`);
        if (!isDir) await rm(target, { force: true });
      }
      const mode = (h.mode ?? 0o644) & 0o7777;
      const mtime = h.mtime ?? new Date();
      switch (h.type) {
        case 'directory':
          if (!existing) await mkdir(target, { mode });
          await chmod(target, mode);
          dirTimes.push([target, mtime]);
          e.resume();
          break;
        case 'file':
        case 'contiguous-file':
          await pipeline(e, createWriteStream(target, { mode, flags: 'wx' }));
          await chmod(target, mode);
          await utimes(target, mtime, mtime);
          break;
        case 'symlink':
          await symlink(h.linkname ?? '', target);
          await lutimes(target, mtime, mtime).catch(() => {});
          e.resume();
          break;
        case 'link': {
          let linkName = h.linkname ?? '';
          for (const r of rebases) linkName = rebaseName(linkName, r);
          const lrel = safeRelative(linkName);
          if (lrel === undefined || lrel === '.') throw new Error(`invalid hardlink ${JSON.stringify(h.linkname)} in archive`);
          const src = path.posix.join(root, lrel);
          const st = await lstat(src).catch(() => undefined);
          if (!st || !st.isFile() || !(await parentIsPlain(root, lrel)))
            throw new Error(`invalid hardlink ${JSON.stringify(h.linkname)} in archive`);
          await hardlink(src, target);
          e.resume();
          break;
        }
        default:
          // devices and fifos need mknod, which the CLI does not do (docker's would as root)
          e.resume();
      }
    }
  }
  await Promise.all([pipeline(content, ex).catch((err) => done.then(() => Promise.reject(err))), done]);
  // directories last: writing inside them moved their times
  for (const [d, t] of dirTimes.reverse()) await utimes(d, t, t).catch(() => {});
}
