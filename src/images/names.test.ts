import assert from 'node:assert/strict';
import { test } from 'node:test';
import { familiarRepository, familiarTagged, normalizeName, parseName } from './names.js';

test('names normalize as Docker does', () => {
  assert.equal(normalizeName('busybox'), 'docker.io/library/busybox:latest');
  assert.equal(normalizeName('alice/app:v1'), 'docker.io/alice/app:v1');
  assert.equal(normalizeName('index.docker.io/library/busybox:1'), 'docker.io/library/busybox:1');
  assert.equal(normalizeName('localhost:5000/a/b'), 'localhost:5000/a/b:latest');
  assert.equal(normalizeName('localhost/a'), 'localhost/a:latest');
  const d = `sha256:${'a'.repeat(64)}`;
  assert.equal(normalizeName(`127.0.0.1:5000/x@${d}`), `127.0.0.1:5000/x@${d}`);
  assert.equal(normalizeName(`x:1@${d}`), `docker.io/library/x:1@${d}`);
  assert.equal(normalizeName(normalizeName('busybox')), 'docker.io/library/busybox:latest');
});

test('bad names are refused, naming the reference', () => {
  assert.throws(() => normalizeName('Busybox'), /reference 'Busybox': repository name must be lowercase/);
  assert.throws(() => normalizeName('a@sha256:xyz'), /reference 'a@sha256:xyz': invalid reference format/);
  assert.throws(() => normalizeName(''), /repository name must have at least one component/);
  assert.throws(() => normalizeName('a:b:c'), /invalid/);
  assert.throws(() => normalizeName('a/../b'), /invalid reference format/);
});

test('familiar forms for docker save', () => {
  assert.equal(familiarTagged('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarTagged('docker.io/alice/app:v1'), 'alice/app:v1');
  assert.equal(familiarTagged('localhost:5000/a:v'), 'localhost:5000/a:v');
  assert.equal(familiarTagged(`localhost:5000/a@sha256:${'b'.repeat(64)}`), undefined);
  assert.equal(familiarRepository(parseName('docker.io/library/a/b')), 'library/a/b');
});
