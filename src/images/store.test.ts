import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { openMetadata } from '../metadata/db.js';
import { MediaType, sha256Digest } from '../oci/image.js';
import { ImageStore } from './store.js';

function open(t: { after(fn: () => void): void }) {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-images-'));
  const db = openMetadata(path.join(dir, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return new ImageStore(db);
}

const target = (s: string) => ({ mediaType: MediaType.ociManifest, digest: sha256Digest(s), size: s.length });

test('create, get, list, tag (put), delete, with normalized names', (t) => {
  const store = open(t);
  const a = store.create({ name: 'busybox', target: target('a'), labels: { x: '1' } });
  assert.equal(a.name, 'docker.io/library/busybox:latest');
  assert.deepEqual(store.get('docker.io/library/busybox').target, target('a'));
  assert.throws(
    () => store.create({ name: 'busybox:latest', target: target('b') }),
    /image 'docker.io\/library\/busybox:latest': already exists/,
  );
  store.put({ name: 'busybox:1', target: target('a') });
  store.put({ name: 'localhost:5000/busybox_x:1', target: target('c') });
  assert.deepEqual(
    store.list().map((i) => i.name),
    ['docker.io/library/busybox:1', 'docker.io/library/busybox:latest', 'localhost:5000/busybox_x:1'],
  );
  assert.deepEqual(
    store.list({ target: sha256Digest('a') }).map((i) => i.name),
    ['docker.io/library/busybox:1', 'docker.io/library/busybox:latest'],
  );
  assert.deepEqual(
    store.list({ repository: 'docker.io/library/busybox' }).map((i) => i.name),
    ['docker.io/library/busybox:1', 'docker.io/library/busybox:latest'],
  );
  assert.deepEqual(store.list({ repository: 'localhost:5000/busybox' }), []);
  assert.deepEqual(
    store.list({ labels: { x: undefined } }).map((i) => i.name),
    ['docker.io/library/busybox:latest'],
  );
  // moving a tag keeps the creation time and the labels
  const moved = store.put({ name: 'busybox', target: target('b') });
  assert.equal(moved.target.digest, sha256Digest('b'));
  assert.equal(moved.createdAt.getTime(), a.createdAt.getTime());
  assert.deepEqual(moved.labels, { x: '1' });
  assert.deepEqual(store.updateLabels('busybox', { y: '2', x: '' }, ['labels.y', 'labels.x']).labels, { y: '2' });
  store.delete('busybox');
  assert.throws(() => store.get('busybox'), /image 'docker.io\/library\/busybox:latest': no such image/);
  assert.throws(() => store.delete('busybox'), /no such image/);
  assert.equal(store.find('busybox'), undefined);
  assert.equal(store.targets().length, 2);
});

test('bad targets are refused', (t) => {
  const store = open(t);
  assert.throws(() => store.put({ name: 'a', target: { mediaType: 'x', digest: 'sha256:1', size: 1 } }), /target digest/);
  assert.throws(() => store.put({ name: 'a', target: { ...target('a'), size: -1 } }), /size -1 is invalid/);
  assert.throws(() => store.put({ name: 'A', target: target('a') }), /must be lowercase/);
});
