import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { migrations, openMetadata } from './db.js';

test('the schema migrates to the latest version, once, and refuses a newer one', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-db-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'metadata.db');
  const db = openMetadata(file);
  assert.equal(db.pragma('user_version', { simple: true }), migrations.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type='table' ORDER BY name`).pluck().all();
  assert.deepEqual(tables, ['containers', 'content', 'images', 'lease_resources', 'leases', 'snapshots', 'volumes']);
  db.close();
  openMetadata(file).close(); // idempotent
  const raw = openMetadata(file);
  raw.pragma(`user_version = ${migrations.length + 1}`);
  raw.close();
  assert.throws(() => openMetadata(file), /schema version \d+ is newer than this berth knows/);
});

test('statements are prepared once and handed out with their modes reset; a busy one is not shared', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-db-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openMetadata(path.join(dir, 'metadata.db'));
  t.after(() => db.close());
  db.exec('CREATE TABLE t (a INTEGER, b TEXT)');
  const insert = 'INSERT INTO t VALUES (?, ?)';
  assert.equal(db.prepare(insert), db.prepare(insert));
  db.prepare(insert).run(1, 'x');
  db.prepare(insert).run(2, 'y');
  const sql = 'SELECT a, b FROM t ORDER BY a';
  assert.deepEqual(db.prepare(sql).pluck().all(), [1, 2]);
  // the same SQL elsewhere, without pluck: rows, not the plucked column
  assert.deepEqual(db.prepare(sql).all(), [
    { a: 1, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  assert.deepEqual(db.prepare(sql).raw().get(), [1, 'x']);
  assert.deepEqual(db.prepare(sql).get(), { a: 1, b: 'x' });
  // while one iteration is in progress, the same SQL gets a statement of its own
  const outer = db.prepare(sql).iterate() as IterableIterator<{ a: number }>;
  assert.equal(outer.next().value?.a, 1);
  assert.deepEqual(
    db
      .prepare(sql)
      .all()
      .map((r) => (r as { a: number }).a),
    [1, 2],
  );
  assert.equal(outer.next().value?.a, 2);
  outer.return?.();
});
