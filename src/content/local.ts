/**
 * The local content store, laid out as containerd's:
 *
 *   <root>/blobs/sha256/<hex>             committed blobs, read-only (0444)
 *   <root>/ingest/<sha256(ref)>/          one upload in progress: data, ref, startedat,
 *                                         updatedat, total (and expected, when given)
 *
 * and its info and labels in the `content` table of the metadata database. The row is the
 * commit point: a blob file is part of the store once its row commits, and the row is written
 * only after the file is durable under its name. So a crash leaves at worst a file without a row
 * (garbage that GC removes), never a row that claims a missing file.
 *
 * Locks (common/lock.ts, held in-process and across processes, freed by a holder's death):
 * - `ingest <ref>`: one writer per ref, for the writer's whole life. GC and abort take it too,
 *   so they never remove an ingest someone is writing.
 * - `blob <digest>`: held from the existence check of a commit to its row insert, and by every
 *   removal from its row delete to its unlink. Without it a delete could unlink the file a
 *   concurrent commit of the same digest had just renamed into place and recorded.
 */
import { createHash, type Hash } from 'node:crypto';
import {
  constants,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { type FileHandle, open, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, errnoCode, exists, fromErrno, invalid, notFound, precondition } from '../common/errors.js';
import { syncDir, uniqueName, writeFileAtomic } from '../common/fs.js';
import { lockNamed, type NamedLock } from '../common/lock.js';
import { type Db, parseLabels } from '../metadata/db.js';
import { assertDigest, digestHex } from '../oci/image.js';
import type { ContentStore, Info, Status, Writer, WriterOptions } from './types.js';

const LOCKS = 'berth-content-lock';
/** A writer starts the kernel's writeback after this many bytes (see write()). */
const FLUSH_EVERY = 16 << 20;
/** containerd's limit on one label (key and value together). */
const MAX_LABEL = 4096;

interface Row {
  digest: string;
  size: number;
  created_at: number;
  updated_at: number;
  labels: string;
}

function rowInfo(r: Row): Info {
  return {
    digest: r.digest,
    size: r.size,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    labels: parseLabels(r.labels),
  };
}

export function validateLabels(labels: Record<string, string>, object: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k === '') throw invalid(`labels of '${object}': empty label key`, object);
    if (typeof v !== 'string') throw invalid(`labels of '${object}': label '${k}' is not a string`, object);
    if (Buffer.byteLength(k) + Buffer.byteLength(v) > MAX_LABEL) {
      throw invalid(`labels of '${object}': label '${k}' is longer than ${MAX_LABEL} bytes`, object);
    }
    out[k] = v;
  }
  return out;
}

function validateRef(ref: string): string {
  if (typeof ref !== 'string' || ref === '') throw invalid('open writer: empty ref');
  if (ref.length > 4096 || ref.includes('\0')) throw invalid(`open writer '${ref.slice(0, 64)}…': invalid ref`, ref);
  return ref;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fromErrno('read', file, err);
  }
}

function readTextSync(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fromErrno('read', file, err);
  }
}

function readMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** What the store knows of one ingest directory, read without taking its lock. */
export interface IngestEntry {
  /** directory name under ingest/ */
  name: string;
  /** undefined when the directory is broken (a crash while it was being made) */
  ref?: string;
  /** the sha256 of the ref its name carries (a ref's directory, or one being made for it) */
  key?: string;
  /** ms: the latest of the updatedat file, data's mtime and the directory's mtime */
  updatedAt: number;
  /** bytes of data */
  size: number;
}

export class LocalContentStore implements ContentStore {
  readonly blobsDir: string;
  readonly ingestDir: string;

  constructor(
    readonly root: string,
    private readonly db: Db,
  ) {
    this.blobsDir = path.join(root, 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'ingest');
    try {
      mkdirSync(this.blobsDir, { recursive: true, mode: 0o755 });
      mkdirSync(this.ingestDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fromErrno('create content store', root, err);
    }
  }

  // ---- provider ----

  blobPath(digest: string): string {
    return path.join(this.blobsDir, digestHex(digest));
  }

  private row(digest: string): Row | undefined {
    return this.db.prepare('SELECT * FROM content WHERE digest = ?').get(digest) as Row | undefined;
  }

  private mustRow(verb: string, digest: string): Row {
    assertDigest(digest, 'blob');
    const r = this.row(digest);
    if (!r) throw notFound(`${verb} blob '${digest}': not found`, digest);
    return r;
  }

  path(digest: string): string {
    this.mustRow('path of', digest);
    return this.blobPath(digest);
  }

  /**
   * Streams the blob from `offset`, hashing every byte of it (the skipped prefix included) on the
   * way. The last chunk is held back until the digest and size have been checked, so a consumer
   * that sees 'end' has read verified bytes; a corrupted file ends the stream with an error.
   */
  reader(digest: string, options: { offset?: number } = {}): Readable {
    const r = this.mustRow('read', digest);
    const offset = options.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > r.size) {
      throw invalid(`read blob '${digest}': offset ${offset} is outside its ${r.size} bytes`, digest);
    }
    const file = this.blobPath(digest);
    async function* verified(): AsyncGenerator<Buffer> {
      const hash = createHash('sha256');
      let pos = 0;
      let held: Buffer | undefined;
      try {
        for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
          hash.update(chunk);
          const end = pos + chunk.length;
          if (held) yield held;
          held = undefined;
          if (end > offset) held = pos >= offset ? chunk : chunk.subarray(offset - pos);
          pos = end;
        }
      } catch (err) {
        throw fromErrno('read blob', file, err);
      }
      checkBlob(digest, r.size, pos, `sha256:${hash.digest('hex')}`);
      if (held) yield held;
    }
    return Readable.from(verified(), { objectMode: false });
  }

  async readAll(digest: string): Promise<Buffer> {
    const r = this.mustRow('read', digest);
    let data: Buffer;
    try {
      data = await readFile(this.blobPath(digest));
    } catch (err) {
      throw fromErrno('read blob', this.blobPath(digest), err);
    }
    checkBlob(digest, r.size, data.length, `sha256:${createHash('sha256').update(data).digest('hex')}`);
    return data;
  }

  // ---- manager ----

  async info(digest: string): Promise<Info> {
    return rowInfo(this.mustRow('info of', digest));
  }

  async update(info: Pick<Info, 'digest' | 'labels'>, fieldpaths?: string[]): Promise<Info> {
    const digest = info.digest;
    assertDigest(digest, 'blob');
    const given = validateLabels(info.labels ?? {}, digest);
    return this.db
      .transaction(() => {
        const r = this.mustRow('update', digest);
        let labels = parseLabels(r.labels);
        if (!fieldpaths || fieldpaths.length === 0) labels = given;
        else {
          for (const fp of fieldpaths) {
            if (fp === 'labels') labels = { ...given };
            else if (fp.startsWith('labels.') && fp.length > 'labels.'.length) {
              const k = fp.slice('labels.'.length);
              const v = given[k];
              if (v === undefined || v === '') delete labels[k];
              else labels[k] = v;
            } else throw invalid(`update blob '${digest}': cannot update field '${fp}' (only 'labels' and 'labels.<key>')`, digest);
          }
        }
        for (const [k, v] of Object.entries(labels)) if (v === '') delete labels[k];
        const now = Date.now();
        this.db.prepare('UPDATE content SET labels = ?, updated_at = ? WHERE digest = ?').run(JSON.stringify(labels), now, digest);
        return rowInfo({ ...r, labels: JSON.stringify(labels), updated_at: now });
      })
      .immediate();
  }

  async walk(fn: (info: Info) => void | Promise<void>, filter?: (info: Info) => boolean): Promise<void> {
    const rows = this.db.prepare('SELECT * FROM content ORDER BY digest').all() as Row[];
    for (const r of rows) {
      const info = rowInfo(r);
      if (!filter || filter(info)) await fn(info);
    }
  }

  async delete(digest: string): Promise<void> {
    this.mustRow('delete', digest);
    const freed = await this.removeBlob(digest, () => false);
    if (freed === undefined) throw notFound(`delete blob '${digest}': not found`, digest);
  }

  /**
   * Removes blob `digest` (row, then file) unless `keep()` says otherwise. `keep` runs inside the
   * write transaction that deletes the row, so a reference recorded before it commits is seen.
   * `afterRow` runs between the row's delete and the file's (for tracing). Returns the bytes freed, or undefined when the blob was kept or is not stored.
   */
  async removeBlob(digest: string, keep: () => boolean, afterRow?: () => void): Promise<number | undefined> {
    assertDigest(digest, 'blob');
    await using _ = await this.lockBlob(digest, true);
    const size = this.db
      .transaction(() => {
        const r = this.row(digest);
        if (!r || keep()) return undefined;
        this.db.prepare('DELETE FROM content WHERE digest = ?').run(digest);
        return r.size;
      })
      .immediate();
    if (size === undefined) return undefined;
    // The row is gone and committed: from here a crash leaves only a file GC removes.
    afterRow?.();
    this.unlinkBlob(digest);
    return size;
  }

  private unlinkBlob(digest: string): void {
    const file = this.blobPath(digest);
    try {
      unlinkSync(file);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fromErrno('remove blob', file, err);
    }
  }

  /** Names (digests) of the files under blobs/sha256, and names there that are not blobs. */
  blobFiles(): { digests: string[]; strays: string[] } {
    const digests: string[] = [];
    const strays: string[] = [];
    for (const name of readdirSync(this.blobsDir)) {
      if (/^[a-f0-9]{64}$/.test(name)) digests.push(`sha256:${name}`);
      else strays.push(name);
    }
    return { digests, strays };
  }

  /**
   * Removes the file of `digest` if no row records it and no commit of it is in flight (its
   * lock is free). Returns the bytes freed, or undefined when it was kept.
   */
  async removeOrphanBlob(digest: string): Promise<number | undefined> {
    await using lock = await this.lockBlob(digest, false);
    if (!lock) return undefined; // a commit is in flight: its row is coming
    if (this.row(digest)) return undefined;
    let size: number;
    try {
      size = statSync(this.blobPath(digest)).size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return undefined;
      throw fromErrno('stat blob', this.blobPath(digest), err);
    }
    this.unlinkBlob(digest);
    return size;
  }

  /** Removes a file under blobs/sha256 that is not named like a blob (nothing we write). */
  removeStray(name: string): number {
    const file = path.join(this.blobsDir, path.basename(name));
    try {
      const size = statSync(file).size;
      unlinkSync(file);
      return size;
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return 0;
      throw fromErrno('remove', file, err);
    }
  }

  private lockBlob(digest: string, wait: true): Promise<NamedLock>;
  private lockBlob(digest: string, wait: boolean): Promise<NamedLock | undefined>;
  private lockBlob(digest: string, wait: boolean): Promise<NamedLock | undefined> {
    return lockNamed(this.root, `blob ${digest}`, { namespace: LOCKS, wait });
  }

  private lockRef(ref: string): Promise<NamedLock | undefined> {
    return this.lockIngest(sha256Hex(ref));
  }

  /**
   * The lock of the ingest whose directory is named `key` (sha256 of the ref): by the key, so
   * that GC can take it for a directory it finds, temporary ones (`.tmp-<key>-…`) included.
   */
  private lockIngest(key: string): Promise<NamedLock | undefined> {
    return lockNamed(this.root, `ingest ${key}`, { namespace: LOCKS, wait: false });
  }

  // ---- ingester ----

  ingestPath(ref: string): string {
    return path.join(this.ingestDir, sha256Hex(ref));
  }

  async writer(options: WriterOptions): Promise<Writer> {
    const ref = validateRef(options.ref);
    const expected = options.expected ? assertDigest(options.expected, 'expected digest') : undefined;
    const total = options.total ?? 0;
    if (!Number.isSafeInteger(total) || total < 0) throw invalid(`open writer '${ref}': invalid total ${total}`, ref);
    if (expected && this.row(expected)) throw exists(`open writer '${ref}': blob '${expected}' already exists`, expected);
    const lock = await this.lockRef(ref);
    if (!lock) throw new BerthError('unavailable', `open writer '${ref}': ref is locked by another writer`, { object: ref });
    try {
      // a commit of the same digest may have finished while we waited for nothing: check again
      if (expected && this.row(expected)) throw exists(`open writer '${ref}': blob '${expected}' already exists`, expected);
      return await LocalWriter.open(this, ref, expected, total, lock);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  async status(ref: string): Promise<Status> {
    const st = await this.readStatus(this.ingestPath(ref));
    if (!st || st.ref !== ref) throw notFound(`status of ingest '${ref}': not found`, ref);
    return st;
  }

  async listStatuses(prefix = ''): Promise<Status[]> {
    const out: Status[] = [];
    for (const e of this.ingests()) {
      if (e.ref === undefined || !e.ref.startsWith(prefix)) continue;
      const st = await this.readStatus(path.join(this.ingestDir, e.name));
      if (st) out.push(st);
    }
    return out.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }

  async abort(ref: string): Promise<void> {
    const dir = this.ingestPath(ref);
    await using lock = await this.lockRef(ref);
    if (!lock) throw new BerthError('unavailable', `abort ingest '${ref}': ref is locked by a writer`, { object: ref });
    const st = await this.readStatus(dir);
    if (!st || st.ref !== ref) throw notFound(`abort ingest '${ref}': not found`, ref);
    await rm(dir, { recursive: true, force: true });
  }

  private async readStatus(dir: string): Promise<Status | undefined> {
    const ref = await readText(path.join(dir, 'ref'));
    if (ref === undefined) return undefined;
    let size = 0;
    let mtime = 0;
    try {
      const s = await stat(path.join(dir, 'data'));
      size = s.size;
      mtime = s.mtimeMs;
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw fromErrno('stat', path.join(dir, 'data'), err);
    }
    const startedAt = readMs(await readText(path.join(dir, 'startedat'))) ?? mtime;
    const updatedAt = Math.max(readMs(await readText(path.join(dir, 'updatedat'))) ?? 0, Math.floor(mtime));
    const expected = (await readText(path.join(dir, 'expected')))?.trim();
    return {
      ref,
      offset: size,
      total: readMs(await readText(path.join(dir, 'total'))) ?? 0,
      ...(expected ? { expected } : {}),
      startedAt: new Date(startedAt),
      updatedAt: new Date(updatedAt),
    };
  }

  /** Every directory under ingest/ (temporary ones included), for GC. */
  ingests(): IngestEntry[] {
    return readdirSync(this.ingestDir).map((name) => this.ingestEntry(name));
  }

  private ingestEntry(name: string): IngestEntry {
    const dir = path.join(this.ingestDir, name);
    let updatedAt = 0;
    let size = 0;
    let ref: string | undefined;
    const tolerated = (err: unknown) => errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR';
    try {
      updatedAt = statSync(dir).mtimeMs;
      const d = statSync(path.join(dir, 'data'), { throwIfNoEntry: false });
      if (d) {
        size = d.size;
        updatedAt = Math.max(updatedAt, d.mtimeMs);
      }
      const u = readMs(readFileSync(path.join(dir, 'updatedat'), 'utf8'));
      if (u !== undefined) updatedAt = Math.max(updatedAt, u);
    } catch (err) {
      if (!tolerated(err)) throw fromErrno('stat ingest', dir, err);
    }
    try {
      const r = readFileSync(path.join(dir, 'ref'), 'utf8');
      // the name must be the ref's hash: anything else is not an ingest we made
      if (!name.startsWith('.') && sha256Hex(r) === name) ref = r;
    } catch (err) {
      if (!tolerated(err)) throw fromErrno('read', path.join(dir, 'ref'), err);
    }
    const key = /^(?:\.tmp-)?([a-f0-9]{64})(?:-|$)/.exec(name)?.[1];
    return { name, ref, ...(key ? { key } : {}), updatedAt: Math.floor(updatedAt), size };
  }

  /**
   * Removes an ingest directory unless a writer holds its ref or `keep` objects. `keep` is given
   * the entry as read again under the ref's lock (a writer may have used it since the listing).
   * Returns the bytes freed, or undefined when kept.
   */
  async removeIngest(entry: IngestEntry, keep: (now: IngestEntry) => boolean): Promise<number | undefined> {
    const name = path.basename(entry.name);
    // a writer holds the key's lock while it makes, fills and commits the directory
    await using lock = entry.key === undefined ? undefined : await this.lockIngest(entry.key);
    if (entry.key !== undefined && !lock) return undefined;
    const now = this.ingestEntry(name);
    if (keep(now)) return undefined;
    await rm(path.join(this.ingestDir, name), { recursive: true, force: true });
    return now.size;
  }

  // ---- for the writer ----

  /** @internal */
  hasRow(digest: string): boolean {
    return this.row(digest) !== undefined;
  }

  /** @internal Records a blob whose file is in place; the commit point. */
  insertRow(digest: string, size: number, labels: Record<string, string>): void {
    const file = this.blobPath(digest);
    this.db
      .transaction(() => {
        // the file must still be there (nothing removes it while we hold its lock; belt and braces)
        const s = statSync(file, { throwIfNoEntry: false });
        if (!s || s.size !== size)
          throw new BerthError('internal', `commit blob '${digest}': the file vanished before its row was written`, { object: digest });
        const now = Date.now();
        this.db
          .prepare('INSERT INTO content (digest, size, created_at, updated_at, labels) VALUES (?, ?, ?, ?, ?)')
          .run(digest, size, now, now, JSON.stringify(labels));
      })
      .immediate();
  }

  /** @internal */
  blobLock(digest: string): Promise<NamedLock> {
    return this.lockBlob(digest, true);
  }
}

function checkBlob(digest: string, size: number, got: number, actual: string): void {
  if (got !== size) {
    throw new BerthError('internal', `read blob '${digest}': the file holds ${got} bytes, its record ${size}: the store is damaged`, {
      object: digest,
    });
  }
  if (actual !== digest) {
    throw new BerthError(
      'internal',
      `read blob '${digest}': content does not match its digest (it hashes to ${actual}): the store is damaged`,
      {
        object: digest,
      },
    );
  }
}

class LocalWriter implements Writer {
  private state: 'open' | 'closed' | 'committed' = 'open';
  /** writes, truncates and commits run one after another */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: LocalContentStore,
    readonly ref: string,
    private readonly dir: string,
    private fh: FileHandle,
    private hash: Hash,
    private offset: number,
    private readonly total: number,
    private readonly expected: string | undefined,
    private readonly startedAt: number,
    private updatedAt: number,
    private readonly lock: NamedLock,
  ) {}

  /** Opens (resuming) the ingest of `ref`; the caller holds the ref's lock. */
  static async open(
    store: LocalContentStore,
    ref: string,
    expected: string | undefined,
    total: number,
    lock: NamedLock,
  ): Promise<LocalWriter> {
    const dir = store.ingestPath(ref);
    const storedRef = readTextSync(path.join(dir, 'ref'));
    if (storedRef === ref) {
      const storedTotal = readMs(await readText(path.join(dir, 'total'))) ?? 0;
      const storedExpected = (await readText(path.join(dir, 'expected')))?.trim() || undefined;
      const startedAt = readMs(await readText(path.join(dir, 'startedat'))) ?? Date.now();
      const updatedAt = readMs(await readText(path.join(dir, 'updatedat'))) ?? startedAt;
      const fh = await openData(path.join(dir, 'data'));
      try {
        // A different expected digest or size means different content: the prefix is useless.
        const differs =
          (expected !== undefined && storedExpected !== undefined && expected !== storedExpected) ||
          (total > 0 && storedTotal > 0 && total !== storedTotal);
        let hash = createHash('sha256');
        let offset = differs ? 0 : await rehash(fh, hash);
        const keepTotal = total || storedTotal;
        const keepExpected = expected ?? storedExpected;
        // more data than the blob can have: nothing of it is worth keeping
        const reset = differs || (keepTotal > 0 && offset > keepTotal);
        if (reset) {
          await fh.truncate(0);
          hash = createHash('sha256');
          offset = 0;
        }
        // rewritten whole or not at all: a torn `total` would throw good data away next time
        if (keepTotal !== storedTotal) writeFileAtomic(path.join(dir, 'total'), String(keepTotal), { durable: false });
        if (keepExpected !== storedExpected && keepExpected) writeFileAtomic(path.join(dir, 'expected'), keepExpected, { durable: false });
        return new LocalWriter(store, ref, dir, fh, hash, offset, keepTotal, keepExpected, startedAt, reset ? Date.now() : updatedAt, lock);
      } catch (err) {
        await fh.close();
        throw fromErrno('resume ingest', ref, err);
      }
    }
    // New (or broken: a crash while it was being made; or not ours): make it whole under a
    // temporary name, then rename it into place, so a directory named after a ref is complete.
    // a few small files' worth of system calls, made here rather than queued on the thread pool
    // behind other operations' fsyncs (a pull's layers open their ingests while their snapshots'
    // fsyncs run: 70–150 ms of waiting here, on the way to each layer's first byte)
    if (storedRef !== undefined || existsSync(dir)) await rm(dir, { recursive: true, force: true });
    const tmp = path.join(store.ingestDir, `.tmp-${path.basename(dir)}-${uniqueName()}`);
    const now = Date.now();
    try {
      mkdirSync(tmp, { mode: 0o700 });
      writeFileSync(path.join(tmp, 'ref'), ref);
      writeFileSync(path.join(tmp, 'startedat'), String(now));
      writeFileSync(path.join(tmp, 'updatedat'), String(now));
      writeFileSync(path.join(tmp, 'total'), String(total));
      if (expected) writeFileSync(path.join(tmp, 'expected'), expected);
      writeFileSync(path.join(tmp, 'data'), '', { mode: 0o600 });
      renameSync(tmp, dir);
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw fromErrno('create ingest', ref, err);
    }
    const fh = await openData(path.join(dir, 'data'));
    return new LocalWriter(store, ref, dir, fh, createHash('sha256'), 0, total, expected, now, now, lock);
  }

  status(): Status {
    return {
      ref: this.ref,
      offset: this.offset,
      total: this.total,
      ...(this.expected ? { expected: this.expected } : {}),
      startedAt: new Date(this.startedAt),
      updatedAt: new Date(this.updatedAt),
    };
  }

  digest(): string {
    return this.adopted ?? `sha256:${this.hash.copy().digest('hex')}`;
  }

  /** the data file is written by a borrower (see Writer.lend) */
  private lent = false;
  /** the digest a borrower reported for what it wrote; no writes after it */
  private adopted: string | undefined;

  lend(): number {
    this.check('lend');
    if (this.offset !== 0 || this.adopted !== undefined) {
      throw precondition(`lend ingest '${this.ref}': ${this.offset} bytes are written already`, this.ref);
    }
    this.lent = true;
    return this.fh.fd;
  }

  adopt(length: number, digest: string): void {
    if (!this.lent) throw precondition(`adopt ingest '${this.ref}': the data file is not lent`, this.ref);
    assertDigest(digest, 'adopted digest');
    this.lent = false;
    this.adopted = digest;
    this.offset = length;
    this.updatedAt = Date.now();
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  /** Calls are accepted only while open and before commit or close is called. */
  private check(verb: string): void {
    if (this.state !== 'open') throw precondition(`${verb} ingest '${this.ref}': the writer is ${this.state}`, this.ref);
    if (this.ending) throw precondition(`${verb} ingest '${this.ref}': the writer is being ${this.ending}`, this.ref);
    if (this.lent) throw precondition(`${verb} ingest '${this.ref}': the data file is lent to another writer`, this.ref);
  }

  /** The first I/O failure: every queued operation after it fails too (offsets would be wrong). */
  private failure: BerthError | undefined;
  private ending: 'committed' | 'closed' | undefined;
  /** bytes written since the last background flush */
  private unflushed = 0;
  private flushing: Promise<void> = Promise.resolve();

  private async fail(verb: string, err: unknown): Promise<never> {
    this.failure ??= fromErrno(`${verb} ingest`, this.ref, err);
    if (this.state === 'open') {
      // what reached the file is unknown: the next writer re-hashes it
      this.state = 'closed';
      await this.release();
    }
    throw this.failure;
  }

  /**
   * The hash and the offset move when write is called, in call order; the bytes reach the file
   * in the same order through the queue. So a caller may issue the next write before the last
   * has landed (hashing one chunk while the kernel takes the other): keep `chunk` unchanged
   * until the promise settles.
   */
  write(chunk: Uint8Array): Promise<void> {
    try {
      this.check('write');
      if (this.adopted !== undefined) throw precondition(`write ingest '${this.ref}': the data was written by another writer`, this.ref);
    } catch (err) {
      return Promise.reject(err);
    }
    const pos = this.offset;
    this.hash.update(chunk);
    this.offset += chunk.length;
    this.updatedAt = Date.now();
    this.unflushed += chunk.length;
    // Start writeback early, in the background, so the fsync of commit finds little left to do.
    const flush = this.unflushed >= FLUSH_EVERY;
    if (flush) this.unflushed = 0;
    return this.serial(async () => {
      if (this.failure) throw this.failure;
      let done = 0;
      try {
        while (done < chunk.length) {
          const { bytesWritten } = await this.fh.write(chunk, done, chunk.length - done, pos + done);
          done += bytesWritten;
        }
      } catch (err) {
        return this.fail('write', err);
      }
      if (flush) this.flushing = this.fh.datasync().catch(() => {});
    });
  }

  truncate(size: 0): Promise<void> {
    try {
      this.check('truncate');
      if (size !== 0) throw invalid(`truncate ingest '${this.ref}': only to 0`, this.ref);
    } catch (err) {
      return Promise.reject(err);
    }
    this.hash = createHash('sha256');
    this.adopted = undefined;
    this.offset = 0;
    this.unflushed = 0;
    this.updatedAt = Date.now();
    return this.serial(async () => {
      if (this.failure) throw this.failure;
      try {
        await this.fh.truncate(0);
      } catch (err) {
        return this.fail('truncate', err);
      }
    });
  }

  commit(size: number, expected: string, options: { labels?: Record<string, string> } = {}): Promise<void> {
    let labels: Record<string, string>;
    const length = this.offset;
    const digest = this.digest();
    try {
      this.check('commit');
      labels = validateLabels(options.labels ?? {}, this.ref);
      if (expected) assertDigest(expected, 'expected digest');
      // verified on what was written up to this call; a failure leaves the writer usable
      const wantSize = size > 0 ? size : this.total > 0 ? this.total : undefined;
      if (wantSize !== undefined && wantSize !== length) {
        throw precondition(`commit ingest '${this.ref}': ${length} bytes written, ${wantSize} expected`, this.ref);
      }
      const want = expected || this.expected;
      if (want && want !== digest) {
        throw precondition(`commit ingest '${this.ref}': content hashes to ${digest}, ${want} expected`, this.ref);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    this.ending = 'committed';
    return this.serial(async () => {
      if (this.failure) throw this.failure;
      try {
        await this.flushing;
        await this.fh.sync();
        const onDisk = (await this.fh.stat()).size;
        if (onDisk !== length) throw new Error(`data holds ${onDisk} bytes, ${length} were written`);
      } catch (err) {
        return this.fail('commit', err);
      }
      await using _ = await this.store.blobLock(digest);
      if (this.store.hasRow(digest)) {
        await this.finish();
        throw exists(`commit blob '${digest}': already exists`, digest);
      }
      const target = this.store.blobPath(digest);
      try {
        // read-only and stamped with the commit time before it gets its name: a blob file is
        // never writable, and GC and people see when it was committed
        await this.fh.chmod(0o444);
        const now = new Date();
        await this.fh.utimes(now, now);
        await this.fh.close();
      } catch (err) {
        return this.fail('commit', err);
      }
      try {
        await rename(path.join(this.dir, 'data'), target);
        await syncDir(this.store.blobsDir);
        this.store.insertRow(digest, length, labels);
      } catch (err) {
        // the ingest may have lost its data to blobs/: a later writer starts from what is left,
        // and GC removes a blob file without a row
        return this.fail('commit', err);
      }
      await this.finish();
    });
  }

  /** Removes the ingest (its data is committed or not needed) and releases the ref. */
  private async finish(): Promise<void> {
    this.state = 'committed';
    await this.flushing;
    try {
      await this.fh.close();
    } catch {
      // closed already
    }
    await rm(this.dir, { recursive: true, force: true });
    await this.lock.release();
  }

  private async release(): Promise<void> {
    await this.flushing;
    try {
      await this.fh.close();
    } catch {
      // closed already
    }
    await this.lock.release();
  }

  close(): Promise<void> {
    if (this.state === 'open') this.ending ??= 'closed';
    return this.serial(async () => {
      if (this.state !== 'open') return;
      this.state = 'closed';
      try {
        writeFileAtomic(path.join(this.dir, 'updatedat'), String(this.updatedAt), { durable: false });
      } finally {
        await this.release();
      }
    });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

async function openData(file: string): Promise<FileHandle> {
  try {
    // O_RDWR|O_CREAT without O_APPEND: writes are positional
    return await open(file, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch (err) {
    throw fromErrno('open ingest data', file, err);
  }
}

/** Hashes the whole of `fh` into `hash`; returns its length. */
async function rehash(fh: FileHandle, hash: Hash): Promise<number> {
  const buf = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
    if (bytesRead === 0) return pos;
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}
