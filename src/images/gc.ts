/**
 * Mark-and-sweep garbage collection of the image store: blobs, ingests and snapshots that no
 * image, live lease, caller root or `berth.gc.root` label reaches.
 *
 * Order, and why it is safe against concurrent writers without stopping them:
 * 1. Expired leases are deleted.
 * 2. The candidates are listed (content rows, snapshots, ingest directories, blob files)
 *    BEFORE the roots are read. Whatever is stored after the listing is not a candidate; whatever
 *    was stored before it is protected by a reference that, by the writers' protocol (see
 *    metadata/leases.ts), exists before the thing is relied on, so the root reading sees it.
 * 3. Marking follows images → indexes → manifests → configs and layers → chain IDs → committed
 *    snapshots of that name in every snapshotter → their parents; and the references in
 *    `berth.gc.ref.content*` / `berth.gc.ref.snapshot.<snapshotter>*` labels.
 * 4. Sweeping re-checks the direct references of each candidate (a lease or an image recorded
 *    since step 2) inside the transaction that deletes it. Removals are crash-safe one by one:
 *    the row goes first (its own transaction), then the file; a crash in between leaves a file
 *    without a row, which the next run removes.
 *
 * One GC at a time, in-process and across processes (a lock on the content root).
 */
import { isKind } from '../common/errors.js';
import { lockNamed } from '../common/lock.js';
import type { LocalContentStore } from '../content/local.js';
import { type Db, parseLabels } from '../metadata/db.js';
import { Leases } from '../metadata/leases.js';
import { isDigest } from '../oci/image.js';
import type { Info as SnapshotInfo, Snapshotter } from '../snapshots/types.js';
import { type BlobRef, blobChildren, hasChildren, SNIFF_LIMIT } from './children.js';

/** A content blob or snapshot with this label is a root. */
export const GC_ROOT_LABEL = 'berth.gc.root';
/** Labels `berth.gc.ref.content[.<anything>]` = a digest the labelled thing keeps. */
export const GC_REF_CONTENT = 'berth.gc.ref.content';
/** Labels `berth.gc.ref.snapshot.<snapshotter>[.<anything>]` = a snapshot key it keeps. */
export const GC_REF_SNAPSHOT = 'berth.gc.ref.snapshot.';

export interface GcRoots {
  /** digests kept with everything they reference */
  content?: Iterable<string>;
  /** image names whose targets are kept (what the engine's containers were made from) */
  images?: Iterable<string>;
  /** snapshots kept with their parents (containers' rootfs snapshots) */
  snapshots?: Iterable<{ snapshotter: string; key: string }>;
}

export interface GcOptions {
  db: Db;
  content: LocalContentStore;
  snapshotters?: readonly Snapshotter[];
  /** extra roots, asked for after the candidates are listed */
  roots?: () => GcRoots | Promise<GcRoots>;
  /** ms an unleased ingest must have been idle before it is removed (default 1 h) */
  ingestGrace?: number;
  now?: () => number;
  /** called before each removal (for logs; tests kill the process in it) */
  trace?: (event: string, object: string) => void;
}

export interface GcResult {
  leases: number;
  content: number;
  /** blob files without a row (left by a crash) and strays */
  orphanFiles: number;
  ingests: number;
  snapshots: number;
  /** directories the snapshotters' cleanup() removed */
  cleaned: number;
  bytesFreed: number;
  /** what was kept because it could not be followed or removed, with the reason */
  warnings: string[];
}

export const DEFAULT_INGEST_GRACE = 60 * 60 * 1000;

type Key = string; // `${snapshotter}\0${key}`
const skey = (snapshotter: string, key: string): Key => `${snapshotter}\0${key}`;

export async function collectGarbage(options: GcOptions): Promise<GcResult> {
  const { db, content } = options;
  const now = options.now ?? Date.now;
  const trace = options.trace ?? (() => {});
  const grace = options.ingestGrace ?? DEFAULT_INGEST_GRACE;
  const snapshotters = options.snapshotters ?? [];
  const leases = new Leases(db, now);
  const result: GcResult = { leases: 0, content: 0, orphanFiles: 0, ingests: 0, snapshots: 0, cleaned: 0, bytesFreed: 0, warnings: [] };

  await using _ = await lockNamed(content.root, 'gc', { namespace: 'berth-content-lock' });

  // 1. expired leases
  trace('delete expired leases', '');
  result.leases = leases.deleteExpired(now()).length;

  // 2. candidates, before any root is read
  const rows = db.prepare('SELECT digest, labels FROM content').all() as { digest: string; labels: string }[];
  const contentLabels = new Map(rows.map((r) => [r.digest, parseLabels(r.labels)]));
  const snaps = new Map<Key, { sn: Snapshotter; info: SnapshotInfo }>();
  for (const sn of snapshotters) {
    await sn.walk((info) => {
      snaps.set(skey(sn.name, info.name), { sn, info });
    });
  }
  const ingests = content.ingests();

  // 3. roots and marking
  const markedContent = new Set<string>();
  const markedSnaps = new Set<Key>();
  const work: Array<{ blob: BlobRef } | { snap: Key }> = [];
  const addBlob = (b: BlobRef) => {
    if (!markedContent.has(b.digest)) {
      markedContent.add(b.digest);
      work.push({ blob: b });
    }
  };
  const addSnap = (snapshotter: string, key: string) => {
    const k = skey(snapshotter, key);
    if (snaps.has(k) && !markedSnaps.has(k)) {
      markedSnaps.add(k);
      work.push({ snap: k });
    }
  };
  const followLabels = (labels: Record<string, string>) => {
    for (const [k, v] of Object.entries(labels)) {
      if ((k === GC_REF_CONTENT || k.startsWith(`${GC_REF_CONTENT}.`)) && isDigest(v)) addBlob({ digest: v });
      else if (k.startsWith(GC_REF_SNAPSHOT)) addSnap(k.slice(GC_REF_SNAPSHOT.length).split('.')[0]!, v);
    }
  };

  // Leases and images in one read transaction (one snapshot of the database), leases first
  // anyway: a pull records its image before it deletes its lease, so whatever the lease held is
  // reached through one or the other.
  const { live, images } = db.transaction(() => ({
    live: leases.liveResources(now()),
    images: db.prepare('SELECT name, target_digest, target_media_type FROM images').all() as {
      name: string;
      target_digest: string;
      target_media_type: string;
    }[],
  }))();
  // typed roots first: a blob marked without a type is sniffed, one with a type is not
  for (const i of images) addBlob({ digest: i.target_digest, mediaType: i.target_media_type });
  for (const r of live) {
    if (r.type === 'content') addBlob({ digest: r.id });
    else if (r.type.startsWith('snapshot/')) addSnap(r.type.slice('snapshot/'.length), r.id);
  }
  for (const [digest, labels] of contentLabels) if (labels[GC_ROOT_LABEL] !== undefined) addBlob({ digest });
  for (const [, { sn, info }] of snaps) if (info.labels[GC_ROOT_LABEL] !== undefined) addSnap(sn.name, info.name);
  const extra = (await options.roots?.()) ?? {};
  for (const d of extra.content ?? []) if (isDigest(d)) addBlob({ digest: d });
  const byName = db.prepare('SELECT target_digest, target_media_type FROM images WHERE name = ?');
  for (const name of extra.images ?? []) {
    const r = byName.get(name) as { target_digest: string; target_media_type: string } | undefined;
    if (r) addBlob({ digest: r.target_digest, mediaType: r.target_media_type });
  }
  for (const s of extra.snapshots ?? []) addSnap(s.snapshotter, s.key);

  while (work.length > 0) {
    const item = work.pop()!;
    if ('snap' in item) {
      const { sn, info } = snaps.get(item.snap)!;
      if (info.parent) addSnap(sn.name, info.parent);
      followLabels(info.labels);
      continue;
    }
    const { digest, mediaType } = item.blob;
    const labels = contentLabels.get(digest);
    if (!labels) continue; // referenced but not stored (a partial pull, a foreign layer)
    followLabels(labels);
    if (mediaType !== undefined && !hasChildren(mediaType)) continue; // a layer, an artifact: a leaf
    let data: Buffer;
    try {
      // a digest without a type (a lease's, a caller's) is sniffed, but nothing big is read for it
      if (mediaType === undefined && (await content.info(digest)).size > SNIFF_LIMIT) continue;
      data = await content.readAll(digest);
    } catch (err) {
      if (isKind(err, 'not-found')) continue;
      result.warnings.push(`mark '${digest}': ${(err as Error).message}`);
      continue;
    }
    try {
      const children = blobChildren(mediaType, data, digest);
      for (const c of children.content) addBlob(c);
      for (const s of children.skipped) result.warnings.push(`mark: ${s}`);
      for (const chainId of children.chainIds) for (const sn of snapshotters) addCommitted(sn, chainId);
    } catch (err) {
      result.warnings.push(`mark '${digest}': ${(err as Error).message}`);
    }
  }
  function addCommitted(sn: Snapshotter, name: string) {
    const s = snaps.get(skey(sn.name, name));
    if (s && s.info.kind === 'committed') addSnap(sn.name, name);
  }
  // 4. sweep. Direct references recorded since the roots were read keep a candidate.
  const imageTarget = db.prepare('SELECT 1 FROM images WHERE target_digest = ? LIMIT 1');
  const referencedNow = (digest: string) =>
    leases.isLeased('content', digest, now()) ||
    imageTarget.get(digest) !== undefined ||
    (() => {
      const row = db.prepare('SELECT labels FROM content WHERE digest = ?').get(digest) as { labels: string } | undefined;
      return row !== undefined && parseLabels(row.labels)[GC_ROOT_LABEL] !== undefined;
    })();

  // snapshots, children first (a parent cannot go while a child exists)
  const depth = (k: Key): number => {
    let d = 0;
    for (let s = snaps.get(k); s?.info.parent; s = snaps.get(skey(s.sn.name, s.info.parent))) d++;
    return d;
  };
  const doomed = [...snaps.keys()].filter((k) => !markedSnaps.has(k)).sort((a, b) => depth(b) - depth(a));
  for (const k of doomed) {
    const { sn, info } = snaps.get(k)!;
    if (leases.isLeased(`snapshot/${sn.name}`, info.name, now())) continue;
    trace('remove snapshot', `${sn.name}/${info.name}`);
    try {
      // a committed snapshot's usage was recorded at commit; an active one's would mean a walk
      const size = info.kind === 'committed' ? await usageOf(sn, info.name) : 0;
      await sn.remove(info.name);
      result.snapshots++;
      result.bytesFreed += size;
    } catch (err) {
      if (!isKind(err, 'not-found')) result.warnings.push(`remove snapshot '${sn.name}/${info.name}': ${(err as Error).message}`);
    }
  }

  for (const digest of contentLabels.keys()) {
    if (markedContent.has(digest)) continue;
    trace('remove blob', digest);
    const freed = await content.removeBlob(
      digest,
      () => referencedNow(digest),
      () => trace('unlink blob', digest),
    );
    if (freed !== undefined) {
      result.content++;
      result.bytesFreed += freed;
    }
  }

  const files = content.blobFiles();
  for (const digest of files.digests) {
    if (contentLabels.has(digest) && markedContent.has(digest)) continue;
    trace('remove orphan file', digest);
    const freed = await content.removeOrphanBlob(digest);
    if (freed !== undefined) {
      result.orphanFiles++;
      result.bytesFreed += freed;
    }
  }
  for (const name of files.strays) {
    trace('remove stray file', name);
    result.bytesFreed += content.removeStray(name);
    result.orphanFiles++;
  }

  const cutoff = now() - grace;
  for (const entry of ingests) {
    if (entry.updatedAt > cutoff) continue;
    if (entry.ref !== undefined && leases.isLeased('ingest', entry.ref, now())) continue;
    trace('remove ingest', entry.ref ?? entry.name);
    const freed = await content.removeIngest(
      entry,
      (e) => e.updatedAt > cutoff || (e.ref !== undefined && leases.isLeased('ingest', e.ref, now())),
    );
    if (freed !== undefined) {
      result.ingests++;
      result.bytesFreed += freed;
    }
  }

  for (const sn of snapshotters) {
    trace('cleanup snapshotter', sn.name);
    try {
      result.cleaned += await sn.cleanup();
    } catch (err) {
      result.warnings.push(`cleanup snapshotter '${sn.name}': ${(err as Error).message}`);
    }
  }
  return result;
}

async function usageOf(sn: Snapshotter, key: string): Promise<number> {
  try {
    return (await sn.usage(key)).size;
  } catch {
    return 0; // only a statistic
  }
}

export interface GcSchedulerOptions {
  /** ms to wait after a deletion for more of them before running (default 100) */
  delay?: number;
  onResult?: (result: GcResult) => void;
  onError?: (err: unknown) => void;
}

/**
 * Runs GC after deletions (debounced: a burst of deletions gives one run) and on demand, never
 * two runs at once: a request during a run gets one more run after it, shared by every request
 * made meanwhile.
 */
export class GcScheduler implements AsyncDisposable {
  private running: Promise<GcResult> | undefined;
  private next: Promise<GcResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly gc: () => Promise<GcResult>,
    private readonly options: GcSchedulerOptions = {},
  ) {}

  /** Something was deleted: run GC soon. */
  notify(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run().then(
        (r) => this.options.onResult?.(r),
        (err) => this.options.onError?.(err),
      );
    }, this.options.delay ?? 100);
    this.timer.unref?.();
  }

  /** Runs GC now, or right after the run in progress; resolves with that run's result. */
  run(): Promise<GcResult> {
    if (!this.running) {
      this.running = this.gc().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    if (!this.next) {
      this.next = this.running
        .catch(() => {})
        .then(() => {
          this.next = undefined;
          return this.run();
        });
    }
    return this.next;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.next?.catch(() => {});
    await this.running?.catch(() => {});
  }
}
