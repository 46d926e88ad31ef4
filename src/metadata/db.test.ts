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
