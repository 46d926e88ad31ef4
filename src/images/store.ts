/**
 * The image store: the `images` table, one row per name. A name is a normalized reference
 * (`docker.io/library/busybox:latest`, or `repo@sha256:…` for an image known by digest); its
 * target is the manifest or index descriptor whose raw bytes live in the content store. Rows
 * never hold manifests or configs: the bytes are never re-serialized, so digests never change.
 *
 * Writing a row is the commit point of a pull, load or import: everything the row reaches was
 * made durable (and protected by a lease) before it.
 */
import { BerthError, invalid, notFound } from '../common/errors.js';
import { type Db, parseLabels } from '../metadata/db.js';
import { assertDigest, type Descriptor } from '../oci/image.js';
import { normalizeName } from './names.js';
import type { Image } from './types.js';

export interface ImageFilter {
  /** exact names (any form; normalized) */
  names?: string[];
  /** images whose target is this digest */
  target?: string;
  /** every label must be present; an undefined value only requires the key */
  labels?: Record<string, string | undefined>;
  /** a repository (`docker.io/library/busybox`): the images named in it */
  repository?: string;
}

interface Row {
  name: string;
  target_media_type: string;
  target_digest: string;
  target_size: number;
  created_at: number;
  updated_at: number;
  labels: string;
}

function fromRow(r: Row): Image {
  return {
    name: r.name,
    target: { mediaType: r.target_media_type, digest: r.target_digest, size: r.target_size },
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    labels: parseLabels(r.labels),
  };
}

function checkTarget(target: Descriptor, name: string): void {
  assertDigest(target.digest, `image '${name}': target digest`);
  if (!Number.isSafeInteger(target.size) || target.size < 0) throw invalid(`image '${name}': target size ${target.size} is invalid`, name);
  if (!target.mediaType) throw invalid(`image '${name}': target has no media type`, name);
}

export class ImageStore {
  constructor(private readonly db: Db) {}

  get(name: string): Image {
    const n = normalizeName(name);
    const row = this.db.prepare('SELECT * FROM images WHERE name = ?').get(n) as Row | undefined;
    if (!row) throw notFound(`image '${n}': no such image`, n);
    return fromRow(row);
  }

  /** The image, or undefined (no exception) when absent. */
  find(name: string): Image | undefined {
    const row = this.db.prepare('SELECT * FROM images WHERE name = ?').get(normalizeName(name)) as Row | undefined;
    return row && fromRow(row);
  }

  list(filter: ImageFilter = {}): Image[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.names) {
      if (filter.names.length === 0) return [];
      where.push(`name IN (${filter.names.map(() => '?').join(',')})`);
      args.push(...filter.names.map(normalizeName));
    }
    if (filter.target !== undefined) {
      where.push('target_digest = ?');
      args.push(filter.target);
    }
    if (filter.repository !== undefined) {
      // names are `<repo>:<tag>` or `<repo>@<digest>`; LIKE would treat '_' as a wildcard
      where.push("(substr(name, 1, ?) = ? AND substr(name, ?, 1) IN (':', '@'))");
      const r = filter.repository;
      args.push(r.length, r, r.length + 1);
    }
    const sql = `SELECT * FROM images${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY name`;
    let images = (this.db.prepare(sql).all(...args) as Row[]).map(fromRow);
    if (filter.labels) {
      const want = Object.entries(filter.labels);
      images = images.filter((img) => want.every(([k, v]) => (v === undefined ? k in img.labels : img.labels[k] === v)));
    }
    return images;
  }

  /** A new row; already-exists when the name is taken. */
  create(image: { name: string; target: Descriptor; labels?: Record<string, string> }): Image {
    const name = normalizeName(image.name);
    checkTarget(image.target, name);
    const now = Date.now();
    try {
      this.db
        .prepare(
          'INSERT INTO images (name, target_media_type, target_digest, target_size, created_at, updated_at, labels) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(name, image.target.mediaType, image.target.digest, image.target.size, now, now, JSON.stringify(image.labels ?? {}));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new BerthError('already-exists', `image '${name}': already exists`, { object: name, cause: err });
      }
      throw err;
    }
    return this.get(name);
  }

  /**
   * Points `name` at `target` (Docker's tag): creates the row or moves it, keeping its creation
   * time. Labels given replace the row's; omitted, they are kept.
   */
  put(image: { name: string; target: Descriptor; labels?: Record<string, string> }): Image {
    const name = normalizeName(image.name);
    checkTarget(image.target, name);
    const now = Date.now();
    this.db
      .prepare(
        `INSERT INTO images (name, target_media_type, target_digest, target_size, created_at, updated_at, labels)
         VALUES (@name, @mt, @digest, @size, @now, @now, @labels)
         ON CONFLICT (name) DO UPDATE SET target_media_type = @mt, target_digest = @digest, target_size = @size,
           updated_at = @now, labels = CASE WHEN @keep THEN labels ELSE @labels END`,
      )
      .run({
        name,
        mt: image.target.mediaType,
        digest: image.target.digest,
        size: image.target.size,
        now,
        labels: JSON.stringify(image.labels ?? {}),
        keep: image.labels === undefined ? 1 : 0,
      });
    return this.get(name);
  }

  /** Updates labels: the whole map, or `labels.<key>` field paths (an empty value deletes the key). */
  updateLabels(name: string, labels: Record<string, string>, fieldpaths?: string[]): Image {
    const n = normalizeName(name);
    const tx = this.db.transaction(() => {
      const img = this.get(n);
      let next: Record<string, string>;
      if (!fieldpaths || fieldpaths.includes('labels')) next = { ...labels };
      else {
        next = { ...img.labels };
        for (const p of fieldpaths) {
          if (!p.startsWith('labels.')) throw invalid(`image '${n}': cannot update field '${p}'`, n);
          const k = p.slice('labels.'.length);
          const v = labels[k];
          if (v === undefined || v === '') delete next[k];
          else next[k] = v;
        }
      }
      for (const k of Object.keys(next)) if (next[k] === '') delete next[k];
      this.db.prepare('UPDATE images SET labels = ?, updated_at = ? WHERE name = ?').run(JSON.stringify(next), Date.now(), n);
    });
    tx.immediate();
    return this.get(n);
  }

  /** Removes the row; not-found when absent. The content it reached is left to GC. */
  delete(name: string): void {
    const n = normalizeName(name);
    const r = this.db.prepare('DELETE FROM images WHERE name = ?').run(n);
    if (r.changes === 0) throw notFound(`image '${n}': no such image`, n);
  }

  /** Every target digest some image points at (GC roots). */
  targets(): Descriptor[] {
    const rows = this.db.prepare('SELECT DISTINCT target_media_type, target_digest, target_size FROM images').all() as Row[];
    return rows.map((r) => ({ mediaType: r.target_media_type, digest: r.target_digest, size: r.target_size }));
  }
}
