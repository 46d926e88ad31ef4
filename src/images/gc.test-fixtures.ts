/** A store with images written as real blobs, for GC's tests and the child processes they kill. */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ingest } from '../content/ingest.js';
import { LocalContentStore } from '../content/local.js';
import { type Db, openMetadata } from '../metadata/db.js';
import { chainIds, type Descriptor, MediaType, sha256Digest } from '../oci/image.js';
import { DirSnapshotter } from './gc.test-snapshotter.js';

export interface World {
  root: string;
  db: Db;
  store: LocalContentStore;
  sn: DirSnapshotter;
}

export function openWorld(root: string): World {
  const db = openMetadata(path.join(root, 'metadata.db'));
  return { root, db, store: new LocalContentStore(path.join(root, 'content'), db), sn: new DirSnapshotter('dir', root, db) };
}

export async function put(w: World, data: Buffer | string, labels?: Record<string, string>): Promise<Descriptor> {
  const b = Buffer.from(data);
  const digest = sha256Digest(b);
  await ingest(w.store, `put-${digest}`, { digest, size: b.length }, Readable.from([b]), { labels });
  return { mediaType: 'application/octet-stream', digest, size: b.length };
}

export interface MadeImage {
  target: Descriptor;
  blobs: string[];
  snapshots: string[];
}

/** An image: [index →] manifest → config + layers, with a committed snapshot per chain ID. */
export async function makeImage(w: World, name: string | undefined, opts: { layers: number; index?: boolean }): Promise<MadeImage> {
  const blobs: string[] = [];
  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < opts.layers; i++) {
    const d = await put(w, randomBytes(1000 + i));
    layers.push({ ...d, mediaType: MediaType.ociLayerGzip });
    diffIds.push(sha256Digest(randomBytes(32)));
    blobs.push(d.digest);
  }
  const config = await put(w, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: diffIds } }));
  blobs.push(config.digest);
  const manifest = await put(
    w,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { ...config, mediaType: MediaType.ociConfig },
      layers,
    }),
  );
  blobs.push(manifest.digest);
  let target: Descriptor = { ...manifest, mediaType: MediaType.ociManifest };
  if (opts.index) {
    // an entry of a type nobody knows is kept and not followed
    const odd = await put(w, `{"odd": "${randomBytes(8).toString('hex')}"}`);
    blobs.push(odd.digest);
    const index = await put(
      w,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [
          { ...target, platform: { architecture: 'amd64', os: 'linux' } },
          { ...odd, mediaType: 'application/vnd.example.unknown+json' },
        ],
      }),
    );
    blobs.push(index.digest);
    target = { ...index, mediaType: MediaType.ociIndex };
  }
  const snapshots: string[] = [];
  let parent: string | undefined;
  for (const id of chainIds(diffIds)) {
    const key = `extract-${id}-${randomBytes(4).toString('hex')}`;
    await w.sn.prepare(key, parent);
    await w.sn.commit(id, key);
    snapshots.push(id);
    parent = id;
  }
  if (name) {
    const now = Date.now();
    w.db
      .prepare('INSERT INTO images (name, target_media_type, target_digest, target_size, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(name, target.mediaType, target.digest, target.size, now, now);
  }
  return { target, blobs, snapshots };
}

/**
 * The store's invariants after any crash: every row has its file and the file re-hashes to its
 * name; every snapshot row has its directory. With `clean`, also nothing without a row.
 */
export function checkConsistent(w: World, clean: boolean): string[] {
  const problems: string[] = [];
  const rows = w.db.prepare('SELECT digest, size FROM content').all() as { digest: string; size: number }[];
  const withRow = new Set(rows.map((r) => r.digest));
  for (const r of rows) {
    const file = w.store.blobPath(r.digest);
    if (!existsSync(file)) {
      problems.push(`row without file: ${r.digest}`);
      continue;
    }
    const data = readFileSync(file);
    const got = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (got !== r.digest || data.length !== r.size) problems.push(`blob ${r.digest} hashes to ${got}, ${data.length} bytes`);
  }
  const snapIds = new Set((w.db.prepare('SELECT id FROM snapshots').pluck().all() as number[]).map(String));
  for (const id of snapIds) if (!existsSync(path.join(w.sn.dir, id))) problems.push(`snapshot row without directory: ${id}`);
  if (clean) {
    for (const name of readdirSync(w.store.blobsDir)) if (!withRow.has(`sha256:${name}`)) problems.push(`file without row: ${name}`);
    for (const name of readdirSync(w.sn.dir)) if (!snapIds.has(name)) problems.push(`snapshot directory without row: ${name}`);
  }
  return problems;
}
