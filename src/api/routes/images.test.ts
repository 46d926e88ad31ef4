import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReference } from '../../distribution/reference.js';
import { familiarMatch, matchLabel, parseUntil, pathMatch, pullReference, registryAuth } from './images.js';

describe('image route helpers', () => {
  it('pullReference: fromImage (full or familiar) and tag (a tag, a digest, or none)', () => {
    assert.equal(formatReference(pullReference('docker.io/library/alpine', 'latest')), 'docker.io/library/alpine:latest');
    assert.equal(formatReference(pullReference('alpine', '3')), 'docker.io/library/alpine:3');
    assert.equal(formatReference(pullReference('alpine:3', '')), 'docker.io/library/alpine:3');
    assert.equal(formatReference(pullReference('alpine', '')), 'docker.io/library/alpine:latest');
    assert.equal(formatReference(pullReference('localhost:5000/a/b:', '')), 'localhost:5000/a/b:latest', 'pull -a sends a trailing colon');
    const d = `sha256:${'a'.repeat(64)}`;
    assert.equal(formatReference(pullReference('alpine', d)), `docker.io/library/alpine@${d}`);
    assert.throws(() => pullReference('alpine', 'bad tag'), { kind: 'invalid-argument' });
    assert.throws(() => pullReference('alpine', 'sha256:short'), { kind: 'invalid-argument' });
  });
  it('registryAuth: URL-safe or standard base64; missing or broken is anonymous', () => {
    const json = JSON.stringify({ username: 'alice', password: 'p?>?', serveraddress: 'localhost:5001' });
    const std = Buffer.from(json).toString('base64');
    const url = Buffer.from(json).toString('base64url');
    assert.deepEqual(registryAuth({ headers: { 'x-registry-auth': std } }), { username: 'alice', password: 'p?>?' });
    assert.deepEqual(registryAuth({ headers: { 'x-registry-auth': url } }), { username: 'alice', password: 'p?>?' });
    assert.equal(registryAuth({ headers: { 'x-registry-auth': 'e30=' } }), undefined, '{} is anonymous');
    assert.equal(registryAuth({ headers: {} }), undefined);
    assert.equal(registryAuth({ headers: { 'x-registry-auth': '%%%{' } }), undefined);
    assert.equal(registryAuth({ headers: { 'x-registry-auth': Buffer.from('[1,2]').toString('base64') } }), undefined);
  });
  it('reference filters match like Go path.Match on the familiar string and name', () => {
    assert.ok(pathMatch('busy*', 'busybox'));
    assert.ok(!pathMatch('*', 'a/b'), '* stops at /');
    assert.ok(pathMatch('a/[bc]?', 'a/cx'));
    assert.ok(familiarMatch('busybox', 'busybox:1'), 'the name alone matches a tagged reference');
    assert.ok(familiarMatch('busybox:1', 'busybox:1'));
    assert.ok(!familiarMatch('busybox:2', 'busybox:1'));
    assert.ok(familiarMatch('localhost:5000/*', 'localhost:5000/x:1'));
  });
  it('label filters and until', () => {
    assert.ok(matchLabel({ a: 'b' }, 'a'));
    assert.ok(matchLabel({ a: 'b' }, 'a=b'));
    assert.ok(!matchLabel({ a: 'b' }, 'a=c'));
    assert.ok(!matchLabel({}, 'constructor'), 'own keys only');
    assert.equal(parseUntil('1700000000'), 1700000000);
    assert.equal(parseUntil('2h', 10_000_000), Math.floor((10_000_000 - 7_200_000) / 1000));
    assert.equal(parseUntil('2026-01-01T00:00:00Z'), 1767225600);
    assert.throws(() => parseUntil('soon'), { kind: 'invalid-argument' });
  });
});
