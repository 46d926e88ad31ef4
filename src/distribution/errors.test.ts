import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BerthError } from '../common/errors.js';
import { registryError, registryErrorInfo } from './errors.js';

const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 1);

test("registry errors: distribution's errcode text, kinds, the answer kept in the cause", () => {
  const body = Buffer.from('{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"x"}}]}');
  const err = registryError('resolve', 'r/x:1', 404, body);
  assert.equal(err.message, "resolve 'r/x:1': name unknown: repository name not known to registry");
  assert.equal(err.kind, 'not-found');
  assert.equal(err.object, 'r/x:1');
  assert.deepEqual(registryErrorInfo(new Error('wrapped', { cause: err })), {
    status: 404,
    code: 'NAME_UNKNOWN',
    message: 'repository name not known to registry',
    detail: { name: 'x' },
    errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'x' } }],
  });
  assert.equal(
    registryError('push', 'o', 400, Buffer.from('{"errors":[{"code":"DIGEST_INVALID","message":"a"},{"code":"SIZE_INVALID"}]}')).message,
    "push 'o': digest invalid: a; size invalid",
  );
  assert.equal(registryError('push', 'o', 400, Buffer.from('{"errors":[{"code":"DIGEST_INVALID"}]}')).kind, 'invalid-argument');
  assert.equal(registryError('check', 'o', 401, undefined).message, "check 'o': unauthorized: authentication required");
  assert.equal(registryError('check', 'o', 403, undefined).kind, 'permission-denied');
  assert.equal(
    registryError('x', 'o', 502, Buffer.from('<html>bad gateway</html>')).message,
    "x 'o': unexpected status 502: <html>bad gateway</html>",
  );
  assert.equal(registryError('x', 'o', 502, undefined).kind, 'unavailable');
  assert.equal(registryErrorInfo(new Error('plain')), undefined);
});

test('property: any answer body gives a BerthError naming the verb and object', () => {
  const body = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    fc.json().map((j) => Buffer.from(j)),
    fc
      .array(
        fc.record({
          code: fc.oneof(fc.string(), fc.constant('BLOB_UNKNOWN'), fc.integer()),
          message: fc.oneof(fc.string(), fc.constant(null)),
        }),
        {
          maxLength: 3,
        },
      )
      .map((errors) => Buffer.from(JSON.stringify({ errors }))),
  );
  fc.assert(
    fc.property(fc.integer({ min: 100, max: 599 }), body, (status, b) => {
      const err = registryError('fetch', 'o', status, b);
      assert.ok(err instanceof BerthError);
      assert.ok(err.message.startsWith("fetch 'o': "));
      assert.equal(registryErrorInfo(err)?.status, status);
    }),
    { numRuns: 1000 * RUNS },
  );
});
