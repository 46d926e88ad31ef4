/**
 * The tar writer of `docker cp` (from a container) and `docker export`: walks a tree by fds
 * (each name opened O_PATH, not followed, in a directory we hold open), so that a container
 * swapping a directory for a link to `/` mid-walk makes us archive the link, never what it points
 * to. File bytes are read through a re-open of the O_PATH fd's own magic link (the same inode;
 * only for regular files: opening a FIFO or a device would block or act on it).
 */
import { type BigIntStats, constants, fstatSync, readdirSync, readlinkSync, statfsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { pack as tarPack } from 'tar-stream';
import { errnoCode } from '../../common/errors.js';
import { lgetxattr } from '../../native/addon.js';
import { entryName } from './paths.js';
import { closeQuietly, fdPath, openName } from './resolve.js';

type Pack = ReturnType<typeof tarPack>;

export interface PackRoot {
  fd: number;
  st: BigIntStats;
  /** Where `fd` was looked up (for a link's text and xattrs), when it was looked up by name. */
  parent?: { fd: number; name: string };
}

export interface PackOptions {
  /** The first name element (`passwd`, `.`, `/`); undefined: export's names (`bin/`, no root entry). */
  rebase: string | undefined;
  /** Do not descend into other filesystems (export: the rootfs alone, not volumes). */
  xdev: boolean;
}

/** Filesystems that are never archived from a running container's view (Docker's rootfs has none). */
const PSEUDO_FS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x1cd1, // devpts
  0x19800202, // mqueue
  0x64626720, // debugfs
  0x73636673, // securityfs
  0x74726163, // tracefs
  0xcafe4a11, // bpf
  0x6165676c, // pstore
  0x62656570, // configfs
  0x65735543, // fusectl
  0x42494e4d, // binfmt_misc
]);

const S_IFMT = 0o170000n;
const kind = (st: BigIntStats) => Number(st.mode & S_IFMT);

interface Walk {
  pack: Pack;
  opts: PackOptions;
  links: Map<string, string>;
}

/** A tar of the tree at `root.fd`; the stream owns nothing of the caller's: `done` closes nothing. */
export function packTree(root: PackRoot, opts: PackOptions, done: () => void): Readable {
  const pack = tarPack();
  const walk: Walk = { pack, opts, links: new Map() };
  (async () => {
    try {
      await addNode(walk, root.fd, root.st, '', root.parent);
      pack.finalize();
    } catch (err) {
      pack.destroy(err as Error);
    } finally {
      done();
    }
  })();
  return pack as unknown as Readable;
}

/** PAX record bytes `"%d key=value\n"`, the length counting itself. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let n = body.length + 1;
  while (String(n).length + body.length !== n) n = String(n).length + body.length;
  return Buffer.concat([Buffer.from(String(n)), body]);
}

function writeEntry(pack: Pack, header: Record<string, unknown>, data?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry(header as never, data ?? Buffer.alloc(0), (err?: Error | null) => (err ? reject(err) : resolve()));
  });
}

async function addNode(w: Walk, fd: number, st: BigIntStats, rel: string, parent?: { fd: number; name: string }): Promise<void> {
  if (w.pack.destroyed) throw new Error('archive stream closed');
  const t = kind(st);
  const isDir = t === 0o040000;
  if (t === 0o140000) return; // sockets: not in tar (Docker skips them too)
  if (w.opts.rebase === undefined && rel === '') {
    if (isDir) await addChildren(w, fd, st, rel);
    return;
  }
  const name = w.opts.rebase === undefined ? `${rel}${isDir ? '/' : ''}` : entryName(w.opts.rebase, rel, isDir);
  const header: Record<string, unknown> = {
    name,
    mode: Number(st.mode & 0o7777n),
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtime: new Date(Number(st.mtimeNs / 1_000_000n)),
    size: 0,
  };
  const pax: Buffer[] = [];
  if (parent && t === 0o100000) {
    // moby keeps security.capability alone (a file capability is part of what the file does)
    try {
      const cap = lgetxattr(fdPath(parent.fd, parent.name), 'security.capability');
      if (cap) pax.push(paxRecord('SCHILY.xattr.security.capability', cap));
    } catch {}
  }
  let fileSize = 0;
  switch (t) {
    case 0o040000:
      header.type = 'directory';
      break;
    case 0o120000: {
      header.type = 'symlink';
      let text = '';
      try {
        if (parent) text = readlinkSync(fdPath(parent.fd, parent.name));
      } catch {}
      header.linkname = text;
      break;
    }
    case 0o100000: {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1n ? w.links.get(key) : undefined;
      if (first !== undefined) {
        header.type = 'link';
        header.linkname = first;
      } else {
        if (st.nlink > 1n) w.links.set(key, name);
        header.type = 'file';
        fileSize = Number(st.size);
        header.size = fileSize;
      }
      break;
    }
    case 0o020000:
    case 0o060000: {
      header.type = t === 0o020000 ? 'character-device' : 'block-device';
      const rdev = st.rdev;
      header.devmajor = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
      header.devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
      break;
    }
    case 0o010000:
      header.type = 'fifo';
      break;
    default:
      return;
  }
  if (pax.length) {
    // our own PAX header (tar-stream writes values as UTF-8, which mangles binary xattrs); it
    // carries the long names too, so that no second PAX header replaces it
    pax.push(paxRecord('path', Buffer.from(name)));
    if (typeof header.linkname === 'string' && header.linkname) pax.push(paxRecord('linkpath', Buffer.from(header.linkname)));
    const body = Buffer.concat(pax);
    await writeEntry(w.pack, { name: 'PaxHeader', type: 'pax-header', size: body.length, mode: 0o644, mtime: header.mtime }, body);
    header.name = Buffer.from(name).subarray(-99).toString('latin1');
  }
  if (header.type === 'file') await writeFile(w.pack, header, fd, fileSize);
  else await writeEntry(w.pack, header);
  if (isDir) {
    if (rel !== '' && parent && descendBlocked(w, fd, st, parent)) return;
    await addChildren(w, fd, st, rel);
  }
}

/** A mount point met while walking: other filesystems are left out for export, pseudo ones always. */
function descendBlocked(w: Walk, fd: number, st: BigIntStats, parent: { fd: number }): boolean {
  const pst = fstatSync(parent.fd, { bigint: true });
  if (pst.dev === st.dev) return false;
  if (w.opts.xdev) return true;
  try {
    return PSEUDO_FS.has(Number(statfsSync(fdPath(fd)).type));
  } catch {
    return true;
  }
}

async function addChildren(w: Walk, fd: number, st: BigIntStats, rel: string): Promise<void> {
  void st;
  let names: string[];
  try {
    names = readdirSync(fdPath(fd)).sort();
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
      await addNode(w, cfd, cst, rel === '' ? n : `${rel}/${n}`, { fd, name: n });
    } finally {
      closeQuietly(cfd);
    }
  }
}

/** Exactly `size` bytes: a file that shrank meanwhile is padded with zeros, one that grew is cut. */
async function writeFile(pack: Pack, header: Record<string, unknown>, fd: number, size: number): Promise<void> {
  const fh = await open(fdPath(fd), constants.O_RDONLY);
  try {
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry(header as never, (err?: Error | null) => (err ? reject(err) : resolve())) as unknown as Writable;
      (async () => {
        let left = size;
        const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(size, 1)));
        while (left > 0) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), null);
          const chunk = bytesRead > 0 ? Buffer.from(buf.subarray(0, bytesRead)) : Buffer.alloc(Math.min(left, 1 << 20));
          left -= chunk.length;
          if (!entry.write(chunk)) await new Promise((r) => entry.once('drain', r));
          if (pack.destroyed) throw new Error('archive stream closed');
        }
        entry.end();
      })().catch((err) => {
        entry.destroy(err);
        reject(err);
      });
    });
  } finally {
    await fh.close();
  }
}
