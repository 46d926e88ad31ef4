import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BerthError } from '../../common/errors.js';
import { registryError } from '../../distribution/errors.js';
import { normalizeReference } from '../../distribution/reference.js';
import { pullError } from './errors.js';

describe('pullError: dockerd words for pull failures', () => {
  it('an unknown tag', () => {
    const body = Buffer.from(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: {} }] }));
    const e = pullError(registryError('resolve', 'x', 404, body), normalizeReference('localhost:5001/bbox:nope'));
    assert.equal(e.kind, 'not-found');
    assert.equal(e.message, 'manifest for localhost:5001/bbox:nope not found: manifest unknown: manifest unknown');
  });
  it('an unknown tag seen by a HEAD (no body), on Docker Hub', () => {
    const e = pullError(registryError('resolve', 'x', 404, undefined), normalizeReference('docker.io/library/alpine:nope'));
    assert.equal(e.message, 'manifest for alpine:nope not found: manifest unknown: manifest unknown');
  });
  it('denied', () => {
    const body = Buffer.from(JSON.stringify({ errors: [{ code: 'DENIED', message: 'requested access to the resource is denied' }] }));
    const e = pullError(registryError('resolve', 'x', 403, body), normalizeReference('private/app:1'));
    assert.equal(e.kind, 'not-found');
    assert.equal(
      e.message,
      "pull access denied for private/app, repository does not exist or may require 'docker login': denied: requested access to the resource is denied",
    );
  });
  it('a refused connection, as Go dials', () => {
    const sys = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5999'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
      address: '127.0.0.1',
      port: 5999,
    });
    const e = pullError(
      new BerthError('unavailable', "ping 'localhost:5999': connect ECONNREFUSED", { cause: sys }),
      normalizeReference('localhost:5999/x'),
    );
    assert.equal(e.kind, 'internal');
    assert.equal(e.message, 'Get "http://localhost:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection refused');
  });
  it('an unknown host', () => {
    const sys = Object.assign(new Error('getaddrinfo ENOTFOUND upper'), { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'upper' });
    const e = pullError(new BerthError('unavailable', "ping 'UPPER'", { cause: sys }), normalizeReference('UPPER/x'));
    assert.equal(e.message, 'Get "https://UPPER/v2/": dial tcp: lookup upper: no such host');
  });
  it('a platform the index lacks', () => {
    const e = pullError(
      new BerthError(
        'invalid-argument',
        "pull 'x': index 'sha256:1': no matching manifest for linux/arm64/v8 in the manifest list entries",
      ),
      normalizeReference('a'),
    );
    assert.equal(e.message, 'no matching manifest for linux/arm64/v8 in the manifest list entries');
  });
  it('anything else keeps its own message', () => {
    const e = pullError(new BerthError('invalid-argument', 'blob x: digest mismatch'), normalizeReference('a'));
    assert.equal(e.message, 'blob x: digest mismatch');
  });
});
