import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseOptionsFor, overlayUnsupported } from './check.js';

const host = (params: Record<string, string>, inUserNamespace = false, kernel = '6.18.0') => ({
  param: (n: string) => params[n],
  inUserNamespace,
  kernel,
});

test('overlay options: index=off when the kernel knows it, redirect_dir and metacopy forced off, userxattr in a userns on ≥5.11', () => {
  assert.deepEqual(baseOptionsFor(host({})), []);
  assert.deepEqual(baseOptionsFor(host({ index: 'N', redirect_dir: 'N', metacopy: 'N' })), ['index=off']);
  assert.deepEqual(baseOptionsFor(host({ index: 'Y', redirect_dir: 'Y', metacopy: 'Y' })), [
    'index=off',
    'redirect_dir=off',
    'metacopy=off',
  ]);
  assert.deepEqual(baseOptionsFor(host({ index: 'N' }, true)), ['index=off', 'userxattr']);
  assert.deepEqual(baseOptionsFor(host({}, true, '5.10.200')), []);
  assert.deepEqual(baseOptionsFor(host({}, true, '5.11.0')), ['userxattr']);
});

test('a root whose path carries , or : is refused before anything else', () => {
  assert.match(overlayUnsupported('/var/lib/a:b') ?? '', /contains ',' or ':'/);
});
