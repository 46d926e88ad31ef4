import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

/** `BERTH_FUZZ_RUNS=100` multiplies the property runs for a longer fuzzing session. */
const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 1);

import { BerthError } from '../common/errors.js';
import { familiar, formatReference, normalizeReference, parseReference } from './reference.js';

const D = `sha256:${'a'.repeat(64)}`;

test('references normalize as Docker does', () => {
  const table: [string, string, string][] = [
    // input, full form, familiar form
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['alice/app', 'docker.io/alice/app:latest', 'alice/app:latest'],
    ['docker.io/library/a/b', 'docker.io/library/a/b:latest', 'library/a/b:latest'],
    ['localhost/a', 'localhost/a:latest', 'localhost/a:latest'],
    ['localhost:5000/a/b:v1', 'localhost:5000/a/b:v1', 'localhost:5000/a/b:v1'],
    [`localhost:5000/a/b@${D}`, `localhost:5000/a/b@${D}`, `localhost:5000/a/b@${D}`],
    [`busybox:1@${D}`, `docker.io/library/busybox:1@${D}`, `busybox:1@${D}`],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`, `busybox@${D}`],
    ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest', '127.0.0.1:5000/x:latest'],
    ['[::1]:5000/x:y', '[::1]:5000/x:y', '[::1]:5000/x:y'],
    ['example.com/x', 'example.com/x:latest', 'example.com/x:latest'],
    ['Example.COM/x', 'Example.COM/x:latest', 'Example.COM/x:latest'],
    // an upper-case first component can only be a domain
    ['Foo/bar', 'Foo/bar:latest', 'Foo/bar:latest'],
    // no slash: ':5000' is a tag, not a port
    ['localhost:5000', 'docker.io/library/localhost:5000', 'localhost:5000'],
    ['alice/a__b.c-d---e/f_g:T_a.g-1', 'docker.io/alice/a__b.c-d---e/f_g:T_a.g-1', 'alice/a__b.c-d---e/f_g:T_a.g-1'],
    // a first path component that looks like a domain keeps docker.io in the familiar form
    ['docker.io/a.b/c', 'docker.io/a.b/c:latest', 'docker.io/a.b/c:latest'],
    ['docker.io/localhost/c', 'docker.io/localhost/c:latest', 'docker.io/localhost/c:latest'],
  ];
  for (const [input, full, fam] of table) {
    const ref = normalizeReference(input);
    assert.equal(formatReference(ref), full, input);
    assert.equal(familiar(ref), fam, input);
  }
  assert.deepEqual(parseReference('busybox'), { domain: 'docker.io', path: 'library/busybox' });
  assert.deepEqual(parseReference('h:1/p:t'), { domain: 'h:1', path: 'p', tag: 't' });
});

test('bad references are refused with Docker reasons', () => {
  const table: [string, RegExp][] = [
    ['', /must have at least one component/],
    ['Busybox', /repository name must be lowercase/],
    ['docker.io/Alice/app', /must be lowercase/],
    ['a'.repeat(64).replace(/a/g, 'b'), /cannot specify 64-byte hexadecimal strings/],
    ['busybox:', /invalid reference format/],
    ['busybox@', /invalid reference format/],
    ['busybox@sha256:abc', /invalid reference format/],
    [`busybox@sha256:${'A'.repeat(64)}`, /not a sha256 digest/],
    [`busybox@sha512:${'a'.repeat(128)}`, /sha512 digests are not supported/],
    [`busybox@md5:${'a'.repeat(32)}`, /not a sha256 digest/],
    ['a/-b', /invalid reference format/],
    ['a/b-', /invalid reference format/],
    ['a//b', /invalid reference format/],
    ['a/b/', /invalid reference format/],
    ['a/b___c', /invalid reference format/],
    ['-h.com/a', /invalid reference format/],
    ['h.com:port/a', /invalid reference format/],
    ['h.com/a:-tag', /invalid reference format/],
    [`a:${'t'.repeat(129)}`, /invalid reference format/],
    ['a b', /invalid reference format/],
    ['a\u0000b', /invalid reference format/],
    [`h.com/${'a'.repeat(250)}`, /not be more than 255 characters/],
  ];
  for (const [input, re] of table) {
    assert.throws(
      () => parseReference(input),
      (err: unknown) => err instanceof BerthError && err.kind === 'invalid-argument' && re.test(err.message),
      JSON.stringify(input),
    );
  }
  // the limit counts domain and path only
  const longest = `h.com/${'a'.repeat(249)}`;
  assert.equal(parseReference(`${longest}:t`).path.length, 249);
  assert.match(String(tryParse('a\u0001b')), /a\\x01b/);
});

function tryParse(s: string): unknown {
  try {
    return parseReference(s);
  } catch (err) {
    return (err as Error).message;
  }
}

const alnum = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const component = fc
  .tuple(alnum, fc.array(fc.tuple(fc.constantFrom('.', '_', '__', '-', '--'), alnum), { maxLength: 2 }))
  .map(([a, rest]) => a + rest.map(([s, b]) => s + b).join(''));
const arbRef = fc.record(
  {
    domain: fc.constantFrom('docker.io', 'localhost', 'localhost:5000', 'reg.example.com', '127.0.0.1:1', '[::1]:5000', 'A.b'),
    path: fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('/')),
    tag: fc.stringMatching(/^[\w][\w.-]{0,20}$/),
    digest: fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`),
  },
  { requiredKeys: ['domain', 'path'] },
);

test('property: parse ∘ format is the identity on valid references', () => {
  fc.assert(
    fc.property(arbRef, (r) => {
      const ref = { ...r, path: r.domain === 'docker.io' && !r.path.includes('/') ? `library/${r.path}` : r.path };
      if (ref.domain.length + 1 + ref.path.length > 255) return;
      const s = formatReference(ref);
      assert.deepEqual(parseReference(s), ref);
      // and the familiar form parses back to the same reference
      assert.deepEqual(parseReference(familiar(ref)), ref);
    }),
    { numRuns: 500 * RUNS },
  );
});

test('property: arbitrary strings parse or fail with a BerthError, never anything else', () => {
  const chars = fc.constantFrom(...'aZ09._-:/@[]'.split(''), 'sha256:', 'localhost', '\u0000', 'é');
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.array(chars, { maxLength: 40 }).map((a) => a.join('')),
      ),
      (s) => {
        try {
          const ref = parseReference(s);
          assert.deepEqual(parseReference(formatReference(ref)), ref);
        } catch (err) {
          assert.ok(err instanceof BerthError && err.kind === 'invalid-argument', String(err));
        }
      },
    ),
    { numRuns: 2000 * RUNS },
  );
});
