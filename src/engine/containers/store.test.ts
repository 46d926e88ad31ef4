import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openMetadata } from '../../metadata/db.js';
import { type ContainerRecord, ZERO_TIME } from './record.js';
import { ContainerStore } from './store.js';

const rec = (id: string, name: string): ContainerRecord => ({
  Id: id,
  Name: name,
  Created: new Date().toISOString(),
  Path: 'true',
  Args: [],
  Image: `sha256:${'0'.repeat(64)}`,
  ImageRef: 'busybox',
  Config: {},
  HostConfig: {},
  State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
  RestartCount: 0,
  ManualStop: false,
  Mounts: [],
  Runtime: 'berth',
  SnapshotKey: `container-${id}`,
  Generation: 0,
});

test('a name is taken from its reservation on: two creates racing for one name cannot both win', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-store-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openMetadata(path.join(dir, 'metadata.db'));
  t.after(() => db.close());
  const store = new ContainerStore(db);
  const a = 'a'.repeat(64);
  const b = 'b'.repeat(64);
  const release = store.reserveName('web', a);
  assert.throws(() => store.reserveName('web', b), /Conflict\. The container name "\/web" is already in use by container "a{64}"/);
  assert.throws(() => store.insert(rec(b, 'web')), /already in use/);
  store.insert(rec(a, 'web'));
  release();
  assert.equal(store.nameOwner('web'), a, 'the row holds the name after the reservation is released');
  assert.equal(store.get('web').Id, a);
  assert.equal(store.get('aaaa').Id, a, 'a unique id prefix');
  const r2 = store.reserveName('other', b);
  r2();
  assert.equal(store.nameOwner('other'), undefined, 'a released reservation frees the name');
  // the records survive a reopen (the row is the truth)
  const again = new ContainerStore(db);
  assert.equal(again.get('web').Id, a);
});
