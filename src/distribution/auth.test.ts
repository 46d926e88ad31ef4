import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

/** `BERTH_FUZZ_RUNS=100` multiplies the property runs for a longer fuzzing session. */
const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 1);

import { type Challenge, formatChallenge, parseWwwAuthenticate, pushScopes } from './auth.js';

test('WWW-Authenticate: registry challenges, quoted commas and escapes', () => {
  assert.deepEqual(
    parseWwwAuthenticate(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
    ),
    [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:samalba/my-app:pull,push' },
      },
    ],
  );
  assert.deepEqual(parseWwwAuthenticate('Basic realm="berth-test-basic"'), [{ scheme: 'basic', params: { realm: 'berth-test-basic' } }]);
  // several challenges in one value, token values, spaces around '=', escapes
  assert.deepEqual(parseWwwAuthenticate('Basic realm="a\\"b\\\\c, d", Bearer realm = x ,error=insufficient_scope, Negotiate abc+/=='), [
    { scheme: 'basic', params: { realm: 'a"b\\c, d' } },
    { scheme: 'bearer', params: { realm: 'x', error: 'insufficient_scope' } },
    { scheme: 'negotiate', params: {}, token68: 'abc+/==' },
  ]);
  // several header values, a bare scheme, case-insensitive names, first value of a repeated name wins
  assert.deepEqual(parseWwwAuthenticate(['Basic', 'BEARER Realm="r", REALM="s"']), [
    { scheme: 'basic', params: {} },
    { scheme: 'bearer', params: { realm: 'r' } },
  ]);
  // junk does not throw and does not hide the challenge after it
  assert.deepEqual(parseWwwAuthenticate('@@, Bearer realm="r"'), [{ scheme: 'bearer', params: { realm: 'r' } }]);
  assert.deepEqual(parseWwwAuthenticate('Bearer realm="unterminated'), [{ scheme: 'bearer', params: { realm: 'unterminated' } }]);
  const proto = parseWwwAuthenticate('Bearer __proto__="x"')[0]!;
  assert.equal(Object.getPrototypeOf(proto.params), Object.prototype);
  assert.equal(proto.params.__proto__, 'x');
  assert.deepEqual(parseWwwAuthenticate(undefined), []);
  assert.deepEqual(parseWwwAuthenticate(''), []);
});

test('push scopes add pull on mount sources', () => {
  assert.deepEqual(pushScopes('a/b', ['c/d', 'a/b']), ['repository:a/b:pull,push', 'repository:c/d:pull']);
});

const tokenArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9._-]{0,10}$/);
const challengeArb: fc.Arbitrary<Challenge> = fc.record({
  scheme: tokenArb.map((s) => s.toLowerCase()),
  params: fc.dictionary(
    tokenArb.map((s) => s.toLowerCase()),
    fc.string({ maxLength: 30 }).filter((v) => !v.includes('\u0000')),
    { maxKeys: 4 },
  ),
});

test('property: format then parse gives the challenges back', () => {
  fc.assert(
    fc.property(fc.array(challengeArb, { minLength: 1, maxLength: 4 }), (chs) => {
      const header = chs.map(formatChallenge).join(', ');
      assert.deepEqual(
        parseWwwAuthenticate(header),
        chs.map((c) => ({ scheme: c.scheme, params: { ...c.params } })),
      );
    }),
    { numRuns: 1000 * RUNS },
  );
});

test('property: any header value parses without throwing', () => {
  const piece = fc.constantFrom('Bearer', 'Basic', ' ', ',', '=', '"', '\\', 'realm', 'a', '==', '\t', '__proto__', 'é');
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.array(piece, { maxLength: 40 }).map((a) => a.join('')),
      ),
      (s) => {
        const out = parseWwwAuthenticate(s);
        assert.ok(Array.isArray(out));
        for (const c of out) assert.match(c.scheme, /^[!#$%&'*+\-.^_`|~0-9a-z]+$/);
      },
    ),
    { numRuns: 3000 * RUNS },
  );
});
