import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isKind } from '../common/errors.js';
import { openMetadata } from './db.js';
import { Leases } from './leases.js';

const D1 = `sha256:${'1'.repeat(64)}`;

test('leases: create, resources, expiry, delete', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-leases-'));
  const db = openMetadata(path.join(dir, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let now = 1_000_000;
  const leases = new Leases(db, () => now);

  const pull = leases.create({ id: 'pull-1', ttl: 60_000, labels: { ref: 'busybox' } });
  assert.equal(pull.expiresAt?.getTime(), now + 60_000);
  assert.throws(
    () => leases.create({ id: 'pull-1' }),
    (e: Error) => isKind(e, 'already-exists'),
  );
  assert.throws(() => leases.create({ id: '../x' }), /invalid id/);
  const forever = leases.create();
  assert.match(forever.id, /^lease-[0-9a-z]+$/);
  assert.equal(forever.expiresAt, undefined);

  leases.addResource('pull-1', { type: 'content', id: D1 });
  leases.addResource('pull-1', { type: 'content', id: D1 }); // idempotent
  leases.addResource('pull-1', { type: 'ingest', id: 'layer-1' });
  leases.addResource('pull-1', { type: 'snapshot/overlayfs', id: 'extract-1' });
  assert.throws(() => leases.addResource('pull-1', { type: 'content', id: 'sha256:nope' }), /not a sha256 digest/);
  assert.throws(() => leases.addResource('pull-1', { type: 'blob' as never, id: 'x' }), /unknown type/);
  assert.throws(
    () => leases.addResource('nope', { type: 'ingest', id: 'x' }),
    (e: Error) => isKind(e, 'not-found'),
  );
  assert.deepEqual(leases.resources('pull-1'), [
    { type: 'content', id: D1 },
    { type: 'ingest', id: 'layer-1' },
    { type: 'snapshot/overlayfs', id: 'extract-1' },
  ]);
  assert.equal(leases.isLeased('content', D1), true);
  leases.protector('pull-1')('ingest', 'layer-9');
  assert.equal(leases.isLeased('ingest', 'layer-9'), true, 'protector adds to the lease');
  leases.removeResource('pull-1', { type: 'ingest', id: 'layer-9' });
  assert.equal(leases.isLeased('ingest', 'layer-2'), false);
  leases.removeResource('pull-1', { type: 'ingest', id: 'layer-1' });
  assert.equal(leases.isLeased('ingest', 'layer-1'), false);

  now += 60_000; // expired: protects nothing, and takes nothing more
  assert.equal(leases.isLeased('content', D1), false);
  assert.deepEqual(leases.liveResources(), []);
  assert.throws(() => leases.addResource('pull-1', { type: 'ingest', id: 'x' }), /has expired/);
  assert.deepEqual(leases.deleteExpired(), ['pull-1']);
  assert.deepEqual(
    leases.list().map((l) => l.id),
    [forever.id],
  );
  assert.equal(db.prepare('SELECT count(*) FROM lease_resources').pluck().get(), 0, 'resources go with their lease');
  leases.delete(forever.id);
  assert.throws(
    () => leases.delete(forever.id),
    (e: Error) => isKind(e, 'not-found'),
  );
});
