/**
 * Leases, after containerd's: a lease names resources — blobs ('content'), uploads in progress
 * ('ingest') and snapshots ('snapshot/<snapshotter>') — that GC must keep although no image
 * reaches them yet. A pull creates one before it fetches anything, adds every blob and snapshot
 * it relies on (those it finds already present too, BEFORE it relies on them: GC re-checks
 * leases as it deletes, so it then either sees the lease or has deleted first, and the pull
 * fetches again), records the image, and deletes the lease. A lease that outlives a crashed
 * pull expires, and GC deletes it and then what it alone kept.
 *
 * Synchronous, like the database under it.
 */
import { BerthError, exists, invalid, notFound } from '../common/errors.js';
import { uniqueName } from '../common/fs.js';
import { isDigest } from '../oci/image.js';
import { type Db, parseLabels } from './db.js';

export type LeaseResourceType = 'content' | 'ingest' | `snapshot/${string}`;

export interface LeaseResource {
  type: LeaseResourceType;
  /** a digest, an ingest ref, or a snapshot key */
  id: string;
}

export interface Lease {
  id: string;
  createdAt: Date;
  /** undefined: until deleted */
  expiresAt?: Date;
  labels: Record<string, string>;
}

export interface CreateLeaseOptions {
  id?: string;
  /** an absolute expiry */
  expiresAt?: Date;
  /** or one relative to now, in ms */
  ttl?: number;
  labels?: Record<string, string>;
}

interface LeaseRow {
  id: string;
  created_at: number;
  expires_at: number | null;
  labels: string;
}

/** containerd's identifier grammar, with its length limit. */
const ID_RE = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const SNAPSHOTTER_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

function rowLease(r: LeaseRow): Lease {
  return {
    id: r.id,
    createdAt: new Date(r.created_at),
    ...(r.expires_at === null ? {} : { expiresAt: new Date(r.expires_at) }),
    labels: parseLabels(r.labels),
  };
}

export function validateResource(r: LeaseResource): LeaseResource {
  const what = `lease resource '${r.type} ${r.id}'`;
  if (typeof r.id !== 'string' || r.id === '' || r.id.length > 4096) throw invalid(`${what}: invalid id`, r.id);
  if (r.type === 'content') {
    if (!isDigest(r.id)) throw invalid(`${what}: not a sha256 digest`, r.id);
  } else if (r.type !== 'ingest') {
    const m = /^snapshot\/(.+)$/.exec(r.type);
    if (!m || !SNAPSHOTTER_RE.test(m[1]!)) {
      throw invalid(`${what}: unknown type (content, ingest or snapshot/<snapshotter>)`, r.id);
    }
  }
  return r;
}

export class Leases {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  create(options: CreateLeaseOptions = {}): Lease {
    const id = options.id ?? `lease-${uniqueName()}`;
    if (id.length > 76 || !ID_RE.test(id)) throw invalid(`create lease '${id}': invalid id`, id);
    const now = this.now();
    let expires: number | null = null;
    if (options.expiresAt) expires = options.expiresAt.getTime();
    else if (options.ttl !== undefined) {
      if (!Number.isFinite(options.ttl) || options.ttl <= 0) throw invalid(`create lease '${id}': invalid ttl ${options.ttl}`, id);
      expires = now + options.ttl;
    }
    const labels = options.labels ?? {};
    try {
      this.db
        .prepare('INSERT INTO leases (id, created_at, expires_at, labels) VALUES (?, ?, ?, ?)')
        .run(id, now, expires, JSON.stringify(labels));
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw exists(`create lease '${id}': already exists`, id);
      throw err;
    }
    return rowLease({ id, created_at: now, expires_at: expires, labels: JSON.stringify(labels) });
  }

  get(id: string): Lease {
    const r = this.db.prepare('SELECT * FROM leases WHERE id = ?').get(id) as LeaseRow | undefined;
    if (!r) throw notFound(`lease '${id}': not found`, id);
    return rowLease(r);
  }

  list(filter?: (lease: Lease) => boolean): Lease[] {
    const rows = this.db.prepare('SELECT * FROM leases ORDER BY created_at, id').all() as LeaseRow[];
    return rows.map(rowLease).filter((l) => !filter || filter(l));
  }

  /** Deletes the lease and its resource list (what it kept is then up to GC). */
  delete(id: string): void {
    const { changes } = this.db.prepare('DELETE FROM leases WHERE id = ?').run(id);
    if (changes === 0) throw notFound(`delete lease '${id}': not found`, id);
  }

  /** Deletes every lease expired at `now`; returns their ids. */
  deleteExpired(now = this.now()): string[] {
    return this.db
      .transaction(() => {
        const ids = this.db.prepare('SELECT id FROM leases WHERE expires_at IS NOT NULL AND expires_at <= ?').pluck().all(now) as string[];
        const del = this.db.prepare('DELETE FROM leases WHERE id = ?');
        for (const id of ids) del.run(id);
        return ids;
      })
      .immediate();
  }

  /** Adds a resource (idempotent). failed-precondition on an expired lease: it protects nothing. */
  addResource(id: string, resource: LeaseResource): void {
    validateResource(resource);
    this.db
      .transaction(() => {
        const lease = this.get(id);
        if (lease.expiresAt && lease.expiresAt.getTime() <= this.now()) {
          throw new BerthError('failed-precondition', `add to lease '${id}': it has expired`, { object: id });
        }
        this.db
          .prepare('INSERT OR IGNORE INTO lease_resources (lease_id, type, resource) VALUES (?, ?, ?)')
          .run(id, resource.type, resource.id);
      })
      .immediate();
  }

  /** The `protect` callback of content/ingest.ts's ingest(), adding to lease `id`. */
  protector(id: string): (type: 'content' | 'ingest', resourceId: string) => void {
    return (type, resourceId) => this.addResource(id, { type, id: resourceId });
  }

  removeResource(id: string, resource: LeaseResource): void {
    this.get(id);
    this.db.prepare('DELETE FROM lease_resources WHERE lease_id = ? AND type = ? AND resource = ?').run(id, resource.type, resource.id);
  }

  resources(id: string): LeaseResource[] {
    this.get(id);
    const rows = this.db.prepare('SELECT type, resource FROM lease_resources WHERE lease_id = ? ORDER BY type, resource').all(id) as {
      type: LeaseResourceType;
      resource: string;
    }[];
    return rows.map((r) => ({ type: r.type, id: r.resource }));
  }

  /** Whether a lease that has not expired at `now` holds the resource. */
  isLeased(type: LeaseResourceType, resourceId: string, now = this.now()): boolean {
    return (
      this.db
        .prepare(
          `SELECT 1 FROM lease_resources r JOIN leases l ON l.id = r.lease_id
           WHERE r.type = ? AND r.resource = ? AND (l.expires_at IS NULL OR l.expires_at > ?) LIMIT 1`,
        )
        .get(type, resourceId, now) !== undefined
    );
  }

  /** Every resource held by a lease that has not expired at `now`. */
  liveResources(now = this.now()): LeaseResource[] {
    const rows = this.db
      .prepare(
        `SELECT DISTINCT r.type, r.resource FROM lease_resources r JOIN leases l ON l.id = r.lease_id
         WHERE l.expires_at IS NULL OR l.expires_at > ?`,
      )
      .all(now) as { type: LeaseResourceType; resource: string }[];
    return rows.map((r) => ({ type: r.type, id: r.resource }));
  }
}
