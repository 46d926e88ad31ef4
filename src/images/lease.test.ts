import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openMetadata } from '../metadata/db.js';
import { Leases } from '../metadata/leases.js';
import { OWNER_PID, OWNER_START, processStart, reapStaleLeases, withLease } from './lease.js';

test('an operation lease names its owner and goes when the operation ends, failed or not', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-lease-'));
  const db = openMetadata(path.join(dir, 'm.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const leases = new Leases(db);
  const seen = await withLease(leases, 'pull x', async (l) => {
    await l.add({ type: 'content', id: `sha256:${'a'.repeat(64)}` });
    return leases.get(l.id);
  });
  assert.equal(seen.labels[OWNER_PID], String(process.pid));
  assert.equal(seen.labels[OWNER_START], processStart(process.pid));
  assert.ok(seen.expiresAt, 'leases expire anyway');
  assert.equal(leases.list().length, 0);
  await assert.rejects(
    withLease(leases, 'pull y', async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(leases.list().length, 0);
});

test('stale leases (owner dead, or its pid reused by another process) are reaped; live ones kept', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-lease-'));
  const db = openMetadata(path.join(dir, 'm.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const leases = new Leases(db);
  const dead = spawnSync('true').pid!;
  leases.create({ id: 'dead', labels: { [OWNER_PID]: String(dead) } });
  leases.create({ id: 'reused', labels: { [OWNER_PID]: String(process.pid), [OWNER_START]: '1' } });
  leases.create({ id: 'live', labels: { [OWNER_PID]: String(process.pid), [OWNER_START]: processStart(process.pid)! } });
  leases.create({ id: 'foreign' });
  assert.deepEqual((await reapStaleLeases(leases)).sort(), ['dead', 'reused']);
  assert.deepEqual(
    leases
      .list()
      .map((l) => l.id)
      .sort(),
    ['foreign', 'live'],
  );
});
