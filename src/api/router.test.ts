import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors.js';
import { statusOf } from './errors.js';
import { compareVersions, Router } from './router.js';
import type { Route } from './types.js';

const h = () => {};
const routes: Route[] = [
  { method: 'GET', path: '/_ping', handler: h },
  { method: 'HEAD', path: '/_ping', handler: h },
  { method: 'GET', path: '/containers/{id}/json', handler: h },
  { method: 'GET', path: '/containers/{id}/archive', handler: h },
  { method: 'HEAD', path: '/containers/{id}/archive', handler: h },
  { method: 'GET', path: '/images/{name:.*}/json', handler: h },
  { method: 'POST', path: '/images/{name:.*}/push', handler: h },
  { method: 'DELETE', path: '/images/{name:.*}', handler: h },
];
const router = new Router(routes);

function failure(f: () => unknown): { status: number; message: string } {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof BerthError);
    return { status: statusOf(err), message: err.message };
  }
  assert.fail('expected a failure');
}

test('a {name} parameter is one segment, versioned or not', () => {
  const m = router.match('GET', '/v1.41/containers/abc/json');
  assert.equal(m.route, routes[2]);
  assert.deepEqual(m.params, { id: 'abc' });
  assert.equal(m.path, '/containers/abc/json');
  assert.equal(m.version, '1.41');
  const u = router.match('GET', '/containers/abc/json');
  assert.equal(u.version, '1.41');
  assert.deepEqual(
    failure(() => router.match('GET', '/containers/a/b/json')),
    { status: 404, message: 'page not found' },
  );
  assert.deepEqual(
    failure(() => router.match('GET', '/containers//json')),
    { status: 404, message: 'page not found' },
  );
  // A path that merely starts with /v is not a version prefix.
  assert.equal(failure(() => router.match('GET', '/volumes/x')).status, 404);
  assert.equal(router.match('GET', '/v1.41/containers/v1.2/json').params.id, 'v1.2');
});

test('a {name:.*} parameter takes slashes and colons (image names)', () => {
  assert.deepEqual(router.match('POST', '/v1.41/images/localhost:5001/bbox/push').params, { name: 'localhost:5001/bbox' });
  assert.deepEqual(router.match('GET', '/images/docker.io/library/alpine:3/json').params, { name: 'docker.io/library/alpine:3' });
  assert.deepEqual(router.match('DELETE', '/v1.24/images/a/b@sha256:00').params, { name: 'a/b@sha256:00' });
  // Escapes are decoded as Go's URL.Path is, before matching.
  assert.deepEqual(router.match('GET', '/images/a%2Fb%3A1/json').params, { name: 'a/b:1' });
  assert.equal(failure(() => router.match('GET', '/images/%E0%A4%A/json')).status, 400);
});

test('methods match exactly: HEAD only where a HEAD route exists', () => {
  assert.equal(router.match('HEAD', '/_ping').route, routes[1]);
  assert.equal(router.match('HEAD', '/v1.41/containers/c/archive').route, routes[4]);
  assert.equal(failure(() => router.match('HEAD', '/containers/c/json')).status, 404);
  assert.equal(failure(() => router.match('POST', '/_ping')).status, 404);
  assert.equal(failure(() => router.match('GET', '/nope')).status, 404);
});

test('versions outside [1.24, 1.41] are refused with moby texts', () => {
  assert.deepEqual(
    failure(() => router.match('GET', '/v1.50/_ping')),
    { status: 400, message: 'client version 1.50 is too new. Maximum supported API version is 1.41' },
  );
  assert.deepEqual(
    failure(() => router.match('GET', '/v1.12/_ping')),
    {
      status: 400,
      message: 'client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version',
    },
  );
  assert.equal(router.match('GET', '/v1.24/_ping').version, '1.24');
  assert.equal(router.match('GET', '/v1.30/_ping').version, '1.30');
  // An unknown path stays a 404 whatever the version.
  assert.equal(failure(() => router.match('GET', '/v9.0/nope')).status, 404);
});

test('versions compare numerically', () => {
  assert.equal(compareVersions('1.9', '1.24'), -1);
  assert.equal(compareVersions('1.41', '1.41'), 0);
  assert.equal(compareVersions('1.41.0', '1.41'), 0);
  assert.equal(compareVersions('2.0', '1.41'), 1);
});

test('patterns with unsupported parameter regexes are refused at build time', () => {
  assert.throws(() => new Router([{ method: 'GET', path: '/x/{id:[0-9]+}', handler: h }]), /only \{name\}/);
});
