/**
 * A small Snapshotter for GC's tests, over the `snapshots` table and plain directories, until
 * the native snapshotter lands (then the tests use that). Crash-safe the same way: a directory
 * is made before its row and removed after it, so a crash leaves only directories without rows,
 * which cleanup() removes.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { exists, invalid, notFound, precondition } from '../common/errors.js';
import { type Db, parseLabels } from '../metadata/db.js';
import type { Info, Kind, Mount, Snapshotter, Usage } from '../snapshots/types.js';

interface Row {
  key: string;
  id: number;
  kind: Kind;
  parent: string | null;
  created_at: number;
  updated_at: number;
  labels: string;
}

export class DirSnapshotter implements Snapshotter {
  readonly dir: string;
  constructor(
    readonly name: string,
    root: string,
    private readonly db: Db,
  ) {
    this.dir = path.join(root, 'snapshots', name);
    mkdirSync(this.dir, { recursive: true });
  }

  private row(key: string): Row {
    const r = this.db.prepare('SELECT * FROM snapshots WHERE snapshotter = ? AND key = ?').get(this.name, key) as Row | undefined;
    if (!r) throw notFound(`snapshot '${key}': not found`, key);
    return r;
  }

  private info(r: Row): Info {
    return {
      kind: r.kind,
      name: r.key,
      ...(r.parent ? { parent: r.parent } : {}),
      labels: parseLabels(r.labels),
      created: new Date(r.created_at),
      updated: new Date(r.updated_at),
    };
  }

  async stat(key: string): Promise<Info> {
    return this.info(this.row(key));
  }

  async update(info: Pick<Info, 'name' | 'labels'>): Promise<Info> {
    this.row(info.name);
    this.db
      .prepare('UPDATE snapshots SET labels = ?, updated_at = ? WHERE snapshotter = ? AND key = ?')
      .run(JSON.stringify(info.labels), Date.now(), this.name, info.name);
    return this.stat(info.name);
  }

  async usage(): Promise<Usage> {
    return { size: 0, inodes: 0 };
  }

  async mounts(key: string): Promise<Mount[]> {
    const r = this.row(key);
    return [{ type: 'bind', source: path.join(this.dir, String(r.id)), options: ['rbind', r.kind === 'active' ? 'rw' : 'ro'] }];
  }

  private create(kind: Kind, key: string, parent?: string, labels: Record<string, string> = {}): Promise<Mount[]> {
    if (parent !== undefined && this.row(parent).kind !== 'committed') throw invalid(`parent '${parent}' is not committed`, parent);
    const id = ((this.db.prepare('SELECT max(id) FROM snapshots WHERE snapshotter = ?').pluck().get(this.name) as number | null) ?? 0) + 1;
    mkdirSync(path.join(this.dir, String(id)));
    const now = Date.now();
    try {
      this.db
        .prepare(
          'INSERT INTO snapshots (snapshotter, key, id, kind, parent, created_at, updated_at, labels) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(this.name, key, id, kind, parent ?? null, now, now, JSON.stringify(labels));
    } catch (err) {
      rmSync(path.join(this.dir, String(id)), { recursive: true, force: true });
      throw exists(`snapshot '${key}': ${(err as Error).message}`, key);
    }
    return this.mounts(key);
  }

  prepare(key: string, parent?: string, options?: { labels?: Record<string, string> }): Promise<Mount[]> {
    return this.create('active', key, parent, options?.labels);
  }

  view(key: string, parent?: string, options?: { labels?: Record<string, string> }): Promise<Mount[]> {
    return this.create('view', key, parent, options?.labels);
  }

  async commit(name: string, key: string, options?: { labels?: Record<string, string> }): Promise<void> {
    const r = this.row(key);
    if (r.kind !== 'active') throw precondition(`commit '${key}': not active`, key);
    this.db
      .prepare("UPDATE snapshots SET key = ?, kind = 'committed', labels = ?, updated_at = ? WHERE snapshotter = ? AND key = ?")
      .run(name, JSON.stringify(options?.labels ?? parseLabels(r.labels)), Date.now(), this.name, key);
  }

  async remove(key: string): Promise<void> {
    const r = this.row(key);
    const children = this.db.prepare('SELECT count(*) FROM snapshots WHERE snapshotter = ? AND parent = ?').pluck().get(this.name, key);
    if (children) throw precondition(`remove snapshot '${key}': it has children`, key);
    this.db.prepare('DELETE FROM snapshots WHERE snapshotter = ? AND key = ?').run(this.name, key);
    rmSync(path.join(this.dir, String(r.id)), { recursive: true, force: true });
  }

  async walk(fn: (info: Info) => void | Promise<void>, filter?: (info: Info) => boolean): Promise<void> {
    const rows = this.db.prepare('SELECT * FROM snapshots WHERE snapshotter = ? ORDER BY key').all(this.name) as Row[];
    for (const r of rows) {
      const i = this.info(r);
      if (!filter || filter(i)) await fn(i);
    }
  }

  async applyTarget(key: string): Promise<{ dir: string; mode: 'overlay' | 'flat'; parents: string[] }> {
    return { dir: path.join(this.dir, String(this.row(key).id)), mode: 'flat', parents: [] };
  }

  async cleanup(): Promise<number> {
    const ids = new Set((this.db.prepare('SELECT id FROM snapshots WHERE snapshotter = ?').pluck().all(this.name) as number[]).map(String));
    let n = 0;
    for (const name of readdirSync(this.dir)) {
      if (ids.has(name)) continue;
      rmSync(path.join(this.dir, name), { recursive: true, force: true });
      n++;
    }
    return n;
  }

  async [Symbol.asyncDispose](): Promise<void> {}
}
