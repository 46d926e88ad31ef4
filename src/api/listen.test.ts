import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { groupId, isLoopback, parseListenAddress } from './listen.js';

test('dockerd -H forms parse', () => {
  assert.deepEqual(parseListenAddress('unix:///run/berth/berth.sock'), { kind: 'unix', path: '/run/berth/berth.sock' });
  assert.deepEqual(parseListenAddress('/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseListenAddress('tcp://127.0.0.1:2375'), { kind: 'tcp', host: '127.0.0.1', port: 2375 });
  assert.deepEqual(parseListenAddress('tcp://:2375'), { kind: 'tcp', host: '0.0.0.0', port: 2375 });
  assert.deepEqual(parseListenAddress('tcp://[::1]:80'), { kind: 'tcp', host: '::1', port: 80 });
  assert.deepEqual(parseListenAddress('localhost:7'), { kind: 'tcp', host: 'localhost', port: 7 });
  const tls = { cert: 'c', key: 'k', ca: 'a', verify: true };
  assert.deepEqual(parseListenAddress('tcp://0.0.0.0', tls), { kind: 'tcp', host: '0.0.0.0', port: 2376, tls });
  assert.deepEqual(parseListenAddress('tcp://0.0.0.0'), { kind: 'tcp', host: '0.0.0.0', port: 2375 });
  assert.deepEqual(parseListenAddress('fd://'), { kind: 'fd', name: '' });
  for (const bad of ['unix://relative.sock', 'http://x:1', 'tcp://x:99999', 'tcp://x:1:2']) {
    assert.throws(() => parseListenAddress(bad), /invalid/, bad);
  }
});

test('loopback hosts', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('the socket group is the first of the names present in the group file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-group-'));
  try {
    const f = join(dir, 'group');
    writeFileSync(f, 'root:x:0:\nberth:x:998:\ndocker:x:105:alice\nbroken\n');
    assert.deepEqual(groupId(['docker', 'berth'], f), { name: 'docker', gid: 105 });
    assert.deepEqual(groupId(['nope', 'berth'], f), { name: 'berth', gid: 998 });
    assert.equal(groupId(['nope'], f), undefined);
    assert.equal(groupId(['docker'], join(dir, 'missing')), undefined);
  } finally {
    rmSync(dir, { recursive: true });
  }
});
