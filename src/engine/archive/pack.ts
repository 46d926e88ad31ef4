/**
 * The tar writer of `docker cp` (from a container) and `docker export`: walks a tree by fds
 * (each name opened O_PATH, not followed, in a directory we hold open), so that a container
 * swapping a directory for a link to `/` mid-walk makes us archive the link, never what it points
 * to. File bytes are read through a re-open of the O_PATH fd's own magic link (the same inode;
 * only for regular files: opening a FIFO or a device would block or act on it). Headers are
 * src/archive/tar-header.ts's (byte-exact names, PAX for long names, big ids and xattrs).
 *
 * The stream is an async generator: the consumer's pace is the walk's pace, and destroying the
 * stream (a client that went away) returns the generator, whose `finally`s close every fd.
 */
import { type BigIntStats, fstatSync, readdirSync, readlinkSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarEntry } from '../../archive/tar-header.js';
import { errnoCode } from '../../common/errors.js';
import { lgetxattr } from '../../native/addon.js';
import { closeQuietly, isPseudoFs, openName } from './resolve.js';

export interface PackRoot {
  fd: number;
  st: BigIntStats;
  /** Where `fd` was looked up (for a link's text and xattrs), when it was looked up by name. */
  parent?: { fd: number; name: Buffer };
}

export interface PackOptions {
  /** The first name element (`passwd`, `.`, `/`); undefined: export's names (`bin/`, no root entry). */
  rebase: string | undefined;
  /** Do not descend into other filesystems (export: the rootfs alone, not volumes). */
  xdev: boolean;
}

const S_IFMT = 0o170000n;
const CHUNK = 1 << 20;

/** `/proc/self/fd/<fd>[/<name>]` as bytes (names need not be UTF-8). */
function procPath(fd: number, name?: Buffer): Buffer {
  const dir = Buffer.from(`/proc/self/fd/${fd}`);
  return name ? Buffer.concat([dir, Buffer.from('/'), name]) : dir;
}

interface Walk {
  opts: PackOptions;
  /** dev:ino → the archive name of its first link (hardlinks). */
  links: Map<string, Buffer>;
}

/** A tar of the tree at `root.fd`; `done` runs once the stream ends, fails or is destroyed. */
export function packTree(root: PackRoot, opts: PackOptions, done: () => void): Readable {
  async function* run(): AsyncGenerator<Buffer> {
    try {
      yield* node({ opts, links: new Map() }, root.fd, root.st, Buffer.alloc(0), root.parent);
      yield END_OF_ARCHIVE;
    } finally {
      done();
    }
  }
  return Readable.from(run(), { objectMode: false });
}

function nameOf(w: Walk, rel: Buffer): Buffer {
  const rebase = w.opts.rebase;
  if (rebase === undefined) return rel;
  // moby TarWithOptions: the root `/` is replaced by '' so that names do not start with `//`
  if (rel.length === 0) return Buffer.from(rebase === '/' ? '' : rebase);
  return Buffer.concat([Buffer.from(rebase === '/' ? '/' : `${rebase}/`), rel]);
}

async function* node(w: Walk, fd: number, st: BigIntStats, rel: Buffer, parent?: { fd: number; name: Buffer }): AsyncGenerator<Buffer> {
  const t = Number(st.mode & S_IFMT);
  const isDir = t === 0o040000;
  if (w.opts.rebase === undefined && rel.length === 0) {
    if (isDir) yield* children(w, fd, rel);
    return;
  }
  const name = nameOf(w, rel);
  const e: TarEntry = {
    name,
    type: 'file',
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: 0,
    mtime: Number(st.mtimeNs / 1_000_000_000n),
  };
  switch (t) {
    case 0o040000:
      e.type = 'dir';
      break;
    case 0o120000:
      e.type = 'symlink';
      e.linkname = Buffer.alloc(0);
      try {
        if (parent) e.linkname = readlinkSync(procPath(parent.fd, parent.name), { encoding: 'buffer' });
      } catch {} // replaced meanwhile: an empty target, never another file's
      break;
    case 0o100000: {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1n ? w.links.get(key) : undefined;
      if (first) {
        e.type = 'link';
        e.linkname = first;
        break;
      }
      if (st.nlink > 1n) w.links.set(key, name);
      e.size = Number(st.size);
      if (parent) {
        // moby keeps security.capability alone (a file capability is part of what the file does)
        try {
          const cap = lgetxattr(procPath(parent.fd, parent.name), 'security.capability');
          if (cap) e.xattrs = [['security.capability', cap]];
        } catch {}
      }
      break;
    }
    case 0o020000:
    case 0o060000: {
      e.type = t === 0o020000 ? 'char' : 'block';
      const rdev = st.rdev;
      e.devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      e.devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      break;
    }
    case 0o010000:
      e.type = 'fifo';
      break;
    default:
      return; // sockets: tar has no type for them (Docker skips them too)
  }
  yield encodeHeader(e);
  if (e.type === 'file' && e.size > 0) yield* content(fd, e.size);
  const blocked = rel.length > 0 ? parent !== undefined && mountBlocked(w, fd, st, parent.fd) : isPseudoFs(fd);
  if (isDir && !blocked) yield* children(w, fd, rel);
}

/** A mount point met while walking: other filesystems are left out for export, pseudo ones always. */
function mountBlocked(w: Walk, fd: number, st: BigIntStats, parentFd: number): boolean {
  if (fstatSync(parentFd, { bigint: true }).dev === st.dev) return false;
  if (w.opts.xdev) return true;
  return isPseudoFs(fd);
}

async function* children(w: Walk, fd: number, rel: Buffer): AsyncGenerator<Buffer> {
  let names: Buffer[];
  try {
    names = readdirSync(procPath(fd), { encoding: 'buffer' }).sort(Buffer.compare);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return; // removed meanwhile
    throw err;
  }
  for (const n of names) {
    let cfd: number;
    try {
      cfd = openName(fd, n);
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'EXDEV') continue; // gone or swapped meanwhile
      throw err;
    }
    try {
      const cst = fstatSync(cfd, { bigint: true });
      const crel = rel.length ? Buffer.concat([rel, Buffer.from('/'), n]) : n;
      yield* node(w, cfd, cst, crel, { fd, name: n });
    } finally {
      closeQuietly(cfd);
    }
  }
}

/** Exactly `size` bytes, padded: a file that shrank meanwhile gets zeros, one that grew is cut. */
async function* content(fd: number, size: number): AsyncGenerator<Buffer> {
  const fh = await open(procPath(fd), 'r');
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, left));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) {
        yield Buffer.alloc(buf.length);
        left -= buf.length;
        continue;
      }
      left -= bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
  yield padding(size);
}
