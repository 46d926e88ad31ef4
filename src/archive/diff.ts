/**
 * Layer diff: the changes of a snapshot over its lowers as an OCI layer tar, reproducible byte
 * for byte (images.md §4).
 *
 * Two passes. The walk (overlay: the upperdir only; flat: upper and lowers side by side) lists
 * every directory and every change in walk order — names sorted bytewise within a directory,
 * depth first, so a directory is followed by its own subtree. Then the writer emits the changes,
 * each preceded by those of its parent directories not emitted yet, and reads file contents
 * through openat2 beneath the upper root. Hardlinks are settled between the two passes, since a
 * changed path may share its inode with an unchanged one met earlier in the walk.
 *
 * The tree must hold still while it is diffed (a committed snapshot, a paused container): the
 * walk trusts lstat, but file contents are read through RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS and
 * checked against the inode the walk saw, so a tree that changes underneath fails the diff
 * rather than leaking a file from outside it.
 */
import type { BigIntStats } from 'node:fs';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { type FileHandle, lstat, open, readdir, readlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { BerthError, fromErrno } from '../common/errors.js';
import { lgetxattr, llistxattr, openat2, Resolve } from '../native/addon.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarEntry, type TarType } from './tar-header.js';
import type { DiffLayer, DiffOptions } from './types.js';

const SLASH = Buffer.from('/');
const WHITEOUT_PREFIX = Buffer.from('.wh.');
const OPAQUE_MARKER = Buffer.from('.wh..wh..opq');
const CAPABILITY = 'security.capability';
const READ_CHUNK = 1 << 20;
const COALESCE = 1 << 16;

type Kind = 'dir' | 'file' | 'symlink' | 'char' | 'block' | 'fifo';

/** One node of the walk, in walk order. */
interface Rec {
  /** path relative to the root, no leading or trailing `/` */
  rel: Buffer;
  /** number of components of `rel` */
  depth: number;
  /** a deletion: `rel` is the `.wh.<name>` entry itself */
  whiteout?: true;
  kind?: Kind;
  st?: BigIntStats;
  /** the node is itself a change (dirs not changed are emitted only as parents) */
  emit: boolean;
  /** a dir that hides everything below it: `.wh..wh..opq` follows its entry */
  opaque?: true;
  /** a later path of an inode already emitted: a type 1 entry pointing there */
  linkTo?: Buffer;
  /** the file's security.capability when the walk read it (null: it has none) */
  cap?: Buffer | null;
}

function kindOf(st: BigIntStats): Kind | 'socket' | 'whiteout' {
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return st.rdev === 0n ? 'whiteout' : 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

const join = (dir: Buffer, name: Buffer): Buffer => (dir.length === 0 ? name : Buffer.concat([dir, SLASH, name]));

/** Linux's dev_t encoding (glibc's gnu_dev_major/minor). */
function devParts(rdev: bigint): [number, number] {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return [major, minor];
}

/**
 * The capability xattr as moby writes it: a v3 (namespaced, with a root uid) capability is
 * rewritten to v2, the form every kernel reads, keeping its effective bit.
 */
export function capabilityV2(value: Buffer): Buffer {
  const VFS_CAP_REVISION_MASK = 0xff000000;
  const VFS_CAP_REVISION_3 = 0x03000000;
  if (value.length !== 24 || (value.readUInt32LE(0) & VFS_CAP_REVISION_MASK) >>> 0 !== VFS_CAP_REVISION_3) return value;
  const v2 = Buffer.from(value.subarray(0, 20));
  v2.writeUInt32LE((0x02000000 | (value.readUInt32LE(0) & 1)) >>> 0, 0);
  return v2;
}

/** The lower view: the same directory in each lower layer that shows through, top first. */
type Active = Buffer[];

/** A name in the lower view: its topmost node, and (for a dir) the layers that merge there. */
interface LowerEntry {
  st: BigIntStats;
  file: Buffer;
  active: Active;
}

class Differ {
  readonly records: Rec[] = [];
  readonly upper: Buffer;

  constructor(
    upper: string,
    readonly options: DiffOptions,
  ) {
    this.upper = Buffer.from(upper);
  }

  fail(rel: Buffer, err: unknown, verb = 'read'): BerthError {
    if (err instanceof BerthError) return err;
    return fromErrno(`diff layer '${this.upper}': ${verb} entry`, rel.length === 0 ? '.' : rel.toString(), err);
  }

  abs(rel: Buffer): Buffer {
    return rel.length === 0 ? this.upper : Buffer.concat([this.upper, SLASH, rel]);
  }

  xattr(file: Buffer, rel: Buffer, name: string): Buffer | undefined {
    try {
      return lgetxattr(file, name);
    } catch (err) {
      // ENOTSUP: a file system without xattrs has none to tell us about
      if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return undefined;
      throw this.fail(rel, err, 'read xattrs of');
    }
  }

  xattrNames(file: Buffer, rel: Buffer): Set<string> {
    try {
      return new Set(llistxattr(file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return new Set();
      throw this.fail(rel, err, 'list xattrs of');
    }
  }

  isOpaque(file: Buffer, rel: Buffer): boolean {
    return (
      this.xattr(file, rel, 'trusted.overlay.opaque')?.toString() === 'y' ||
      this.xattr(file, rel, 'user.overlay.opaque')?.toString() === 'y'
    );
  }

  async list(dir: Buffer, rel: Buffer): Promise<Buffer[]> {
    try {
      return (await readdir(dir, { encoding: 'buffer' })).sort(Buffer.compare);
    } catch (err) {
      throw this.fail(rel, err, 'list');
    }
  }

  async stat(file: Buffer, rel: Buffer): Promise<BigIntStats> {
    try {
      return await lstat(file, { bigint: true });
    } catch (err) {
      throw this.fail(rel, err, 'stat');
    }
  }

  /** lstat, or undefined when nothing is there (a missing name, or a parent that is not a dir). */
  async probe(file: Buffer): Promise<BigIntStats | undefined> {
    try {
      return await lstat(file, { bigint: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  }

  /**
   * `name` in the lower view of a directory, with overlay's rules: the topmost layer that has
   * the name decides; a whiteout there deletes it; a non-dir hides the layers below; a dir
   * merges with the dirs below it down to the first opaque one.
   */
  async lowerChild(active: Active, name: Buffer, rel: Buffer): Promise<LowerEntry | undefined> {
    try {
      for (let i = 0; i < active.length; i++) {
        const file = join(active[i]!, name);
        const st = await this.probe(file);
        if (st === undefined) continue;
        const kind = kindOf(st);
        if (kind === 'whiteout') return undefined;
        if (kind !== 'dir') return { st, file, active: [] };
        const below: Active = [file];
        if (!this.isOpaque(file, rel)) {
          for (let j = i + 1; j < active.length; j++) {
            const f = join(active[j]!, name);
            const s = await this.probe(f);
            if (s === undefined) continue;
            if (kindOf(s) !== 'dir') break;
            below.push(f);
            if (this.isOpaque(f, rel)) break;
          }
        }
        return { st, file, active: below };
      }
      return undefined;
    } catch (err) {
      throw this.fail(rel, err, 'look up lower of');
    }
  }

  /** Every name of a directory's lower view (flat mode's deletions), whiteouts and sockets left out. */
  async lowerNames(active: Active, rel: Buffer): Promise<Map<string, Buffer>> {
    const seen = new Map<string, Buffer | null>();
    for (const dir of active) {
      for (const name of await this.list(dir, rel)) {
        const key = name.toString('latin1');
        if (seen.has(key)) continue;
        const st = await this.stat(join(dir, name), join(rel, name));
        const kind = kindOf(st);
        seen.set(key, kind === 'whiteout' || kind === 'socket' ? null : name);
      }
    }
    const names = new Map<string, Buffer>();
    for (const [k, v] of seen) if (v !== null) names.set(k, v);
    return names;
  }

  /** Unchanged, by containerd's rule: mode, owner, rdev, size, mtime and capability agree, and
   *  when both mtimes lack nanoseconds (a tar extraction truncates them) the contents too. */
  async same(u: BigIntStats, uFile: Buffer, l: BigIntStats, lFile: Buffer, rel: Buffer): Promise<boolean> {
    if (u.mode !== l.mode || u.uid !== l.uid || u.gid !== l.gid || u.rdev !== l.rdev || u.mtimeNs !== l.mtimeNs) return false;
    const kind = kindOf(u);
    if (kind !== 'dir' && u.size !== l.size) return false;
    if (kind === 'symlink') {
      try {
        return (await readlink(uFile, { encoding: 'buffer' })).equals(await readlink(lFile, { encoding: 'buffer' }));
      } catch (err) {
        throw this.fail(rel, err, 'read link');
      }
    }
    if (kind !== 'file') return true;
    const uc = this.xattr(uFile, rel, CAPABILITY);
    const lc = this.xattr(lFile, rel, CAPABILITY);
    if ((uc === undefined) !== (lc === undefined) || (uc && lc && !uc.equals(lc))) return false;
    if (u.mtimeNs % 1_000_000_000n !== 0n) return true;
    return this.sameContent(uFile, lFile, rel);
  }

  async sameContent(a: Buffer, b: Buffer, rel: Buffer): Promise<boolean> {
    let fa: FileHandle | undefined;
    let fb: FileHandle | undefined;
    try {
      fa = await open(a, constants.O_RDONLY | constants.O_NOFOLLOW);
      fb = await open(b, constants.O_RDONLY | constants.O_NOFOLLOW);
      const ba = Buffer.alloc(1 << 16);
      const bb = Buffer.alloc(1 << 16);
      for (;;) {
        const ra = await fa.read(ba, 0, ba.length, null);
        const rb = await fb.read(bb, 0, ra.bytesRead || bb.length, null);
        if (ra.bytesRead !== rb.bytesRead) return false;
        if (ra.bytesRead === 0) return true;
        if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
      }
    } catch (err) {
      throw this.fail(rel, err, 'compare');
    } finally {
      await fa?.close();
      await fb?.close();
    }
  }

  async statAll(dir: Buffer, rel: Buffer, names: Buffer[]): Promise<BigIntStats[]> {
    return Promise.all(names.map((n) => this.stat(join(dir, n), join(rel, n))));
  }

  /**
   * A file a container named `.wh.x` would be read as a whiteout by whoever applies the layer,
   * deleting `x` from the layers below: such a name cannot be carried, so the diff fails.
   */
  refuseWhiteoutName(name: Buffer, rel: Buffer): void {
    if (name.subarray(0, WHITEOUT_PREFIX.length).equals(WHITEOUT_PREFIX)) {
      throw new BerthError(
        'invalid-argument',
        `diff layer '${this.upper}': entry '${rel}': a name starting with '.wh.' would read as a whiteout`,
        {
          object: rel.toString(),
        },
      );
    }
  }

  whiteout(relDir: Buffer, name: Buffer, depth: number): void {
    this.records.push({ rel: join(relDir, Buffer.concat([WHITEOUT_PREFIX, name])), depth, whiteout: true, emit: true });
  }

  /** Overlay mode: only the upperdir is walked; the lowers are looked up by name. */
  async walkOverlay(relDir: Buffer, depth: number, active: Active): Promise<void> {
    const dir = this.abs(relDir);
    const names = await this.list(dir, relDir);
    const stats = await this.statAll(dir, relDir, names);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const st = stats[i]!;
      const rel = join(relDir, name);
      const file = join(dir, name);
      const kind = kindOf(st);
      if (kind === 'socket') continue;
      this.refuseWhiteoutName(name, rel);
      if (kind === 'whiteout') {
        // a whiteout of something no lower has (made and removed in this layer) is no change
        if (await this.lowerChild(active, name, rel)) this.whiteout(relDir, name, depth + 1);
        continue;
      }
      // one listing instead of a lookup per attribute: most nodes have none of them
      const xattrs = this.xattrNames(file, rel);
      if (xattrs.has('trusted.overlay.redirect') || xattrs.has('user.overlay.redirect')) {
        throw new BerthError(
          'failed-precondition',
          `diff layer '${this.upper}': entry '${rel}': a renamed directory (overlay redirect_dir) cannot be diffed from the upperdir`,
          { object: rel.toString() },
        );
      }
      if (kind === 'file' && (xattrs.has('trusted.overlay.metacopy') || xattrs.has('user.overlay.metacopy'))) {
        throw new BerthError(
          'failed-precondition',
          `diff layer '${this.upper}': entry '${rel}': a metadata-only copy-up (overlay metacopy) has no data in the upperdir`,
          { object: rel.toString() },
        );
      }
      if (kind !== 'dir') {
        const cap = kind === 'file' && xattrs.has(CAPABILITY) ? (this.xattr(file, rel, CAPABILITY) ?? null) : null;
        this.records.push({ rel, depth: depth + 1, kind, st, emit: true, cap });
        continue;
      }
      const lower = await this.lowerChild(active, name, rel);
      const lowerDir = lower && kindOf(lower.st) === 'dir' ? lower : undefined;
      if ((xattrs.has('trusted.overlay.opaque') || xattrs.has('user.overlay.opaque')) && this.isOpaque(file, rel)) {
        // nothing below shows through: the subtree is all adds, and a lower dir is hidden by the marker
        this.records.push({ rel, depth: depth + 1, kind, st, emit: true, ...(lowerDir ? { opaque: true as const } : {}) });
        await this.walkOverlay(rel, depth + 1, []);
        continue;
      }
      const changed = !lowerDir || !(await this.same(st, file, lowerDir.st, lowerDir.file, rel));
      this.records.push({ rel, depth: depth + 1, kind, st, emit: changed });
      await this.walkOverlay(rel, depth + 1, lowerDir?.active ?? []);
    }
  }

  /** Flat mode: upper is a whole tree, compared with the lower view name by name. */
  async walkFlat(relDir: Buffer, depth: number, active: Active): Promise<void> {
    const dir = this.abs(relDir);
    const upperNames = await this.list(dir, relDir);
    const stats = await this.statAll(dir, relDir, upperNames);
    const upper = new Map(upperNames.map((n, i) => [n.toString('latin1'), stats[i]!]));
    const lowerNames = active.length > 0 ? await this.lowerNames(active, relDir) : new Map<string, Buffer>();
    const all = [...upperNames];
    for (const [k, n] of lowerNames) if (!upper.has(k)) all.push(n);
    all.sort(Buffer.compare);
    for (const name of all) {
      const rel = join(relDir, name);
      const file = join(dir, name);
      const st = upper.get(name.toString('latin1'));
      if (st === undefined) {
        this.whiteout(relDir, name, depth + 1);
        continue;
      }
      const kind = kindOf(st);
      // a socket is skipped, not deleted; a c 0 0 in a full tree is an ordinary device
      if (kind === 'socket') continue;
      this.refuseWhiteoutName(name, rel);
      const k: Kind = kind === 'whiteout' ? 'char' : kind;
      const lower = lowerNames.has(name.toString('latin1')) ? await this.lowerChild(active, name, rel) : undefined;
      if (k === 'dir') {
        const lowerDir = lower && kindOf(lower.st) === 'dir' ? lower : undefined;
        const changed = !lowerDir || !(await this.same(st, file, lowerDir.st, lowerDir.file, rel));
        this.records.push({ rel, depth: depth + 1, kind: k, st, emit: changed });
        await this.walkFlat(rel, depth + 1, lowerDir?.active ?? []);
        continue;
      }
      const changed = !lower || !(await this.same(st, file, lower.st, lower.file, rel));
      // an unchanged file is kept only when it has other links: a changed link may pull it in
      if (changed || st.nlink > 1n) this.records.push({ rel, depth: depth + 1, kind: k, st, emit: changed });
    }
  }

  /**
   * Every path of an inode that has a changed path is written: the first in walk order in full,
   * the others as links to it. So a new link to an unchanged file re-emits that file, and no
   * entry ever links into a lower layer.
   */
  settleHardlinks(): void {
    const groups = new Map<string, Rec[]>();
    for (const r of this.records) {
      if (r.whiteout || r.kind === 'dir' || !r.st || r.st.nlink < 2n) continue;
      const key = `${r.st.dev}:${r.st.ino}`;
      const g = groups.get(key);
      if (g) g.push(r);
      else groups.set(key, [r]);
    }
    for (const g of groups.values()) {
      if (g.length < 2 || !g.some((r) => r.emit)) continue;
      for (const r of g) r.emit = true;
      for (const r of g.slice(1)) r.linkTo = g[0]!.rel;
    }
  }

  mtime(st: BigIntStats): number {
    const seconds = Number(st.mtimeNs / 1_000_000_000n) - (st.mtimeNs < 0n && st.mtimeNs % 1_000_000_000n !== 0n ? 1 : 0);
    const epoch = this.options.sourceDateEpoch;
    return epoch !== undefined && seconds > epoch ? epoch : seconds;
  }

  async entry(r: Rec): Promise<TarEntry> {
    if (r.whiteout) return { name: r.rel, type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 };
    const st = r.st!;
    const base = { name: r.rel, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), size: 0, mtime: this.mtime(st) };
    if (r.linkTo) return { ...base, type: 'link', linkname: r.linkTo };
    const kind = r.kind!;
    const type: TarType = kind;
    if (kind === 'char' || kind === 'block') {
      const [devmajor, devminor] = devParts(st.rdev);
      return { ...base, type, devmajor, devminor };
    }
    if (kind === 'file') {
      const cap = r.cap === undefined ? this.xattr(this.abs(r.rel), r.rel, CAPABILITY) : (r.cap ?? undefined);
      return { ...base, type, size: Number(st.size), ...(cap ? { xattrs: [[CAPABILITY, capabilityV2(cap)]] } : {}) };
    }
    if (kind === 'symlink') {
      try {
        return { ...base, type, linkname: await readlink(this.abs(r.rel), { encoding: 'buffer' }) };
      } catch (err) {
        throw this.fail(r.rel, err, 'read link');
      }
    }
    return { ...base, type };
  }

  /**
   * Reads are synchronous, a chunk at a time: a thread-pool round trip per small file cost more
   * than the read (3× GNU tar's time on /usr/share/doc), and the stream's backpressure still
   * returns to the event loop between chunks.
   */
  async *content(rootFd: number, r: Rec): AsyncGenerator<Buffer> {
    const size = Number(r.st!.size);
    let fd: number | undefined;
    try {
      fd = openat2(
        rootFd,
        r.rel,
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
        Resolve.BENEATH | Resolve.NO_SYMLINKS | Resolve.NO_MAGICLINKS,
      );
      const st = fstatSync(fd, { bigint: true });
      if (st.ino !== r.st!.ino || st.dev !== r.st!.dev || !st.isFile()) throw new Error('the file was replaced while the layer was diffed');
      let done = 0;
      while (done < size) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, size - done));
        const bytesRead = readSync(fd, buf, 0, buf.length, done);
        if (bytesRead === 0) throw new Error(`the file shrank from ${size} to ${done} bytes while the layer was diffed`);
        done += bytesRead;
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
      }
    } catch (err) {
      if (err instanceof BerthError) throw err;
      if ((err as NodeJS.ErrnoException).code) throw this.fail(r.rel, err);
      throw new BerthError('failed-precondition', `diff layer '${this.upper}': read entry '${r.rel}': ${(err as Error).message}`, {
        object: r.rel.toString(),
        cause: err,
      });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    const pad = padding(size);
    if (pad.length > 0) yield pad;
  }

  async *write(): AsyncGenerator<Buffer> {
    let rootFd: number;
    try {
      rootFd = openSync(this.upper, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (err) {
      throw this.fail(Buffer.alloc(0), err, 'open');
    }
    try {
      // the directories along the current path, and whether each was written yet
      const stack: { rec: Rec; written: boolean }[] = [];
      const parents = async function* (this: Differ): AsyncGenerator<Buffer> {
        for (const p of stack) {
          if (p.written) continue;
          p.written = true;
          yield encodeHeader(await this.entry(p.rec));
        }
      };
      for (const r of this.records) {
        while (stack.length > 0 && stack[stack.length - 1]!.rec.depth >= r.depth) stack.pop();
        if (r.kind === 'dir' && !r.whiteout) {
          stack.push({ rec: r, written: false });
          if (!r.emit) continue;
          yield* parents.call(this);
          if (r.opaque) yield encodeHeader({ name: join(r.rel, OPAQUE_MARKER), type: 'file', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 });
          continue;
        }
        if (!r.emit) continue;
        yield* parents.call(this);
        const e = await this.entry(r);
        yield encodeHeader(e);
        if (e.type === 'file' && !r.whiteout && e.size > 0) yield* this.content(rootFd, r);
      }
      yield END_OF_ARCHIVE;
    } finally {
      closeSync(rootFd);
    }
  }

  async *run(): AsyncGenerator<Buffer> {
    const epoch = this.options.sourceDateEpoch;
    if (epoch !== undefined && !(Number.isSafeInteger(epoch) && epoch >= 0)) {
      throw new BerthError('invalid-argument', `diff layer '${this.upper}': source date epoch ${epoch} is not a whole number of seconds`, {
        object: this.upper.toString(),
      });
    }
    const active = this.options.lowers.map((l) => Buffer.from(l));
    for (const lower of this.options.lowers) {
      try {
        if (!(await lstat(lower)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      } catch (err) {
        throw fromErrno(`diff layer '${this.upper}': lower`, lower, err);
      }
    }
    if (this.options.mode === 'overlay') await this.walkOverlay(Buffer.alloc(0), 0, active);
    else await this.walkFlat(Buffer.alloc(0), 0, active);
    this.settleHardlinks();
    // Headers are 512 bytes each: gather small pieces so that readers (hashing, compressing)
    // get chunks worth a call; big file chunks go through as they are.
    let pending: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.write()) {
      if (chunk.length < COALESCE) {
        pending.push(chunk);
        size += chunk.length;
        if (size < COALESCE) continue;
      }
      if (size > 0) yield Buffer.concat(pending, size);
      pending = [];
      size = 0;
      if (chunk.length >= COALESCE) yield chunk;
    }
    if (size > 0) yield Buffer.concat(pending, size);
  }
}

/**
 * The layer tar of `upper`'s changes over `options.lowers`. The stream errors (with a
 * BerthError naming the entry) when the tree cannot be diffed.
 */
export const diffLayer: DiffLayer = (upper, options) => Readable.from(new Differ(upper, options).run(), { objectMode: false });
