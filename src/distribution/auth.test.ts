import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';

/** `BERTH_FUZZ_RUNS=100` multiplies the property runs for a longer fuzzing session. */
const RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 1);

import { createServer } from 'node:http';
import { type Challenge, formatChallenge, parseWwwAuthenticate, pushScopes, TokenCache } from './auth.js';
import { NodeTransport } from './http.js';

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

test('token flow: GET with Basic and account, POST for identity tokens (404 falls back), expiry floor, cache', async (t) => {
  const seen: { method: string; url: string; auth?: string; body: string }[] = [];
  let oauth = true;
  let n = 0;
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const c of req) body += c;
    seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
    if (req.method === 'POST' && !oauth) return void res.writeHead(404).end();
    if (req.url?.includes('scope=denied')) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      return void res.end('{"details":"incorrect username or password"}');
    }
    // only access_token, and a lifetime below the floor
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ access_token: `tok${++n}`, expires_in: 10 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const transport = new NodeTransport();
  t.after(() => {
    transport.close();
    server.closeAllConnections();
    server.close();
  });
  const addr = server.address() as { port: number };
  const realm = `http://127.0.0.1:${addr.port}/token?x=1`;
  let now = 1_000_000;
  const cache = new TokenCache(transport, () => now);
  const base = { realm, service: 'svc', object: 'reg/a/b:v1' };

  const a = await cache.get({ ...base, scopes: ['repository:a/b:pull', 'repository:c:pull'], auth: { username: 'u', password: 'p' } });
  assert.equal(a.token, 'tok1');
  assert.equal(a.expiresAt, now + 60_000);
  const get = new URL(seen[0]!.url, 'http://x');
  assert.equal(get.searchParams.get('x'), '1');
  assert.equal(get.searchParams.get('service'), 'svc');
  assert.deepEqual(get.searchParams.getAll('scope'), ['repository:a/b:pull', 'repository:c:pull']);
  assert.equal(get.searchParams.get('account'), 'u');
  assert.equal(seen[0]!.auth, `Basic ${Buffer.from('u:p').toString('base64')}`);
  // the same scope set in another order is a cache hit, until the token expires
  assert.equal(
    (await cache.get({ ...base, scopes: ['repository:c:pull', 'repository:a/b:pull'], auth: { username: 'u', password: 'p' } })).token,
    'tok1',
  );
  now += 61_000;
  assert.equal(
    (await cache.get({ ...base, scopes: ['repository:a/b:pull', 'repository:c:pull'], auth: { username: 'u', password: 'p' } })).token,
    'tok2',
  );
  // anonymous: no Authorization, no account
  await cache.get({ ...base, scopes: ['repository:a/b:pull'] });
  assert.equal(seen.at(-1)!.auth, undefined);
  assert.equal(new URL(seen.at(-1)!.url, 'http://x').searchParams.get('account'), null);

  // identity token: POST form with the scopes joined by a space
  await cache.get({ ...base, scopes: ['repository:a/b:pull', 'repository:a/b:push'], auth: { identityToken: 'refresh' } });
  const post = seen.at(-1)!;
  assert.equal(post.method, 'POST');
  const form = new URLSearchParams(post.body);
  assert.equal(form.get('grant_type'), 'refresh_token');
  assert.equal(form.get('refresh_token'), 'refresh');
  assert.equal(form.get('client_id'), 'docker');
  assert.equal(form.get('service'), 'svc');
  assert.equal(form.get('scope'), 'repository:a/b:pull repository:a/b:push');
  oauth = false;
  const before = seen.length;
  await cache.get({ ...base, scopes: ['repository:x:pull'], auth: { identityToken: 'refresh', username: 'u', password: 'p' } });
  assert.deepEqual(
    seen.slice(before).map((s) => s.method),
    ['POST', 'GET'],
  );

  // a refusal names the reference and the token server, with its words
  await assert.rejects(cache.get({ ...base, scopes: ['denied'] }), (err: Error) => {
    assert.equal(err.message, `fetch token for 'reg/a/b:v1' from 'http://127.0.0.1:${addr.port}/token': incorrect username or password`);
    return true;
  });
  await assert.rejects(cache.get({ ...base, realm: 'ftp://x/', scopes: [] }), /realm 'ftp:\/\/x\/' is not an http\(s\) URL/);
});
