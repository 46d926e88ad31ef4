/**
 * The `snapshots` table of the metadata database, as the snapshotters see it: one row per
 * snapshot, keyed by (snapshotter, key). The row is the commit point: a directory becomes a
 * snapshot when its row commits and stops being one when its row is deleted. Every function
 * here runs synchronously on better-sqlite3, so a check and the write that depends on it
 * happen in one transaction with no await in between.
 */
import { BerthError, exists, invalid, notFound, precondition } from '../common/errors.js';
import { type Db, parseLabels } from '../metadata/db.js';
import type { Info, Kind } from './types.js';

export interface Row {
  key: string;
  id: number;
  kind: Kind;
  parent: string | null;
  created_at: number;
  updated_at: number;
  labels: string;
  size: number | null;
  inodes: number | null;
}

export function toInfo(row: Row): Info {
  const info: Info = {
    kind: row.kind,
    name: row.key,
    labels: parseLabels(row.labels),
    created: new Date(row.created_at),
    updated: new Date(row.updated_at),
  };
  if (row.parent !== null) info.parent = row.parent;
  return info;
}

/** Keys are opaque strings (never used in a path), but an empty key names nothing. */
export function checkKey(verb: string, key: unknown): string {
  if (typeof key !== 'string' || key === '') throw invalid(`${verb} snapshot: the key must be a non-empty string`);
  if (key.includes('\0')) throw invalid(`${verb} snapshot '${key.replace(/\0/g, '\\0')}': the key contains NUL`, key);
  return key;
}

export function checkLabels(verb: string, key: string, labels: unknown): Record<string, string> {
  if (labels === undefined) return {};
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels))
    throw invalid(`${verb} snapshot '${key}': labels must be an object`, key);
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') throw invalid(`${verb} snapshot '${key}': label '${k}' is not a string`, key);
  }
  return { ...(labels as Record<string, string>) };
}

export class Rows {
  constructor(
    private readonly db: Db,
    readonly snapshotter: string,
  ) {}

  /**
   * `fn`'s statements in one read transaction: one WAL read lock (two fcntl calls) for all of
   * them instead of one per statement, and one consistent view (a walk up the parents).
   */
  read<T>(fn: () => T): T {
    return this.db.inTransaction ? fn() : this.db.transaction(fn).deferred();
  }

  get(key: string): Row | undefined {
    return this.db.prepare(`SELECT * FROM snapshots WHERE snapshotter = ? AND key = ?`).get(this.snapshotter, key) as Row | undefined;
  }

  must(verb: string, key: string): Row {
    const row = this.get(key);
    if (!row) throw notFound(`${verb} snapshot '${key}': snapshot does not exist`, key);
    return row;
  }

  all(): Row[] {
    return this.db.prepare(`SELECT * FROM snapshots WHERE snapshotter = ? ORDER BY key`).all(this.snapshotter) as Row[];
  }

  ids(): Set<number> {
    return new Set(this.db.prepare(`SELECT id FROM snapshots WHERE snapshotter = ?`).pluck().all(this.snapshotter) as number[]);
  }

  /** Whether a row has directory id `id` (one lookup in the (snapshotter, id) index). */
  hasId(id: number): boolean {
    return this.db.prepare(`SELECT 1 FROM snapshots WHERE snapshotter = ? AND id = ?`).pluck().get(this.snapshotter, id) !== undefined;
  }

  /** The committed ancestors of `row`, nearest first. */
  ancestors(row: Row): Row[] {
    return this.read(() => {
      const out: Row[] = [];
      for (let p = row.parent; p !== null; ) {
        const r = this.get(p);
        if (!r) throw new BerthError('internal', `snapshot '${row.key}': ancestor '${p}' is missing`, { object: row.key });
        out.push(r);
        p = r.parent;
      }
      return out;
    });
  }

  /** Checks that a new snapshot can be created (before the slow part: copying a parent). */
  checkCreate(verb: string, key: string, parent: string | undefined): Row | undefined {
    return this.read(() => {
      if (this.get(key)) throw exists(`${verb} snapshot '${key}': snapshot already exists`, key);
      if (parent === undefined) return undefined;
      const p = this.get(parent);
      if (!p) throw notFound(`${verb} snapshot '${key}': parent '${parent}' does not exist`, parent);
      if (p.kind !== 'committed') throw invalid(`${verb} snapshot '${key}': parent '${parent}' is not a committed snapshot`, parent);
      return p;
    });
  }

  /** Commits a new row for a directory that is already in place. */
  insert(verb: string, row: Omit<Row, 'created_at' | 'updated_at' | 'size' | 'inodes'>): Row {
    return this.db
      .transaction(() => {
        this.checkCreate(verb, row.key, row.parent ?? undefined);
        const now = Date.now();
        this.db
          .prepare(
            `INSERT INTO snapshots (snapshotter, key, id, kind, parent, created_at, updated_at, labels) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(this.snapshotter, row.key, row.id, row.kind, row.parent, now, now, row.labels);
        return this.get(row.key)!;
      })
      .immediate();
  }

  /** Active `key` becomes committed `name`: a new snapshot, so created = updated = now (as containerd). */
  commit(name: string, key: string, labels: Record<string, string> | undefined): Row {
    return this.db
      .transaction(() => {
        const row = this.must('commit', key);
        if (row.kind !== 'active') throw precondition(`commit snapshot '${key}': snapshot is ${row.kind}, not active`, key);
        if (this.get(name)) throw exists(`commit snapshot '${key}' as '${name}': snapshot '${name}' already exists`, name);
        const now = Date.now();
        this.db
          .prepare(
            `UPDATE snapshots SET key = ?, kind = 'committed', created_at = ?, updated_at = ?, labels = ? WHERE snapshotter = ? AND key = ?`,
          )
          .run(name, now, now, labels ? JSON.stringify(labels) : row.labels, this.snapshotter, key);
        return this.get(name)!;
      })
      .immediate();
  }

  /** Records the usage of a committed snapshot (which never changes again), if it is still the same one. */
  setUsage(key: string, id: number, usage: { size: number; inodes: number }): void {
    this.db
      .prepare(`UPDATE snapshots SET size = ?, inodes = ? WHERE snapshotter = ? AND key = ? AND id = ? AND kind = 'committed'`)
      .run(usage.size, usage.inodes, this.snapshotter, key, id);
  }

  /** Deletes the row; failed-precondition when another snapshot names it as parent. */
  remove(key: string): Row {
    return this.db
      .transaction(() => {
        const row = this.must('remove', key);
        const child = this.db
          .prepare(`SELECT key FROM snapshots WHERE snapshotter = ? AND parent = ? LIMIT 1`)
          .pluck()
          .get(this.snapshotter, key) as string | undefined;
        if (child !== undefined) throw precondition(`remove snapshot '${key}': snapshot has children (e.g. '${child}')`, key);
        this.db.prepare(`DELETE FROM snapshots WHERE snapshotter = ? AND key = ?`).run(this.snapshotter, key);
        return row;
      })
      .immediate();
  }

  /**
   * Updates labels: with no field paths (or 'labels') the whole map is replaced; 'labels.<k>'
   * sets or (when absent from `labels`) deletes one label. Anything else is invalid-argument.
   */
  updateLabels(key: string, labels: Record<string, string>, fieldpaths?: string[]): Row {
    return this.db
      .transaction(() => {
        const row = this.must('update', key);
        let next: Record<string, string>;
        if (!fieldpaths || fieldpaths.length === 0) {
          next = labels;
        } else {
          next = parseLabels(row.labels);
          for (const fp of fieldpaths) {
            if (fp === 'labels') {
              next = { ...labels };
            } else if (fp.startsWith('labels.') && fp.length > 'labels.'.length) {
              const k = fp.slice('labels.'.length);
              if (Object.hasOwn(labels, k)) next[k] = labels[k]!;
              else delete next[k];
            } else {
              throw invalid(`update snapshot '${key}': cannot update field '${fp}' (only labels and labels.<key>)`, key);
            }
          }
        }
        this.db
          .prepare(`UPDATE snapshots SET labels = ?, updated_at = ? WHERE snapshotter = ? AND key = ?`)
          .run(JSON.stringify(next), Math.max(Date.now(), row.updated_at), this.snapshotter, key);
        return this.get(key)!;
      })
      .immediate();
  }
}
