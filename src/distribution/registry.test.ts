/**
 * Registry behaviours Debian's docker-registry never shows (rate limits, CDN redirects, servers
 * that ignore Range, relative upload Locations, schema 1, mirrors), against a tiny HTTP server
 * scripted per test. Everything else is tested against the real registry in test/registry.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { BerthError, isKind } from '../common/errors.js';
import { MediaType, sha256Digest } from '../oci/image.js';
import { registryErrorInfo } from './errors.js';
import { normalizeReference } from './reference.js';
import { MANIFEST_ACCEPT, parseRangeEnd, RegistryClient, retryAfterMs, uploadUrl } from './registry.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

interface Fake {
  host: string;
  log: { method: string; url: string; auth?: string; range?: string; accept?: string }[];
  handle: Handler;
}

const servers: Server[] = [];
const clients: RegistryClient[] = [];
after(() => {
  for (const c of clients) c.close();
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

async function fake(handle: Handler, listenOn = '127.0.0.1'): Promise<Fake> {
  const f: Fake = { host: '', log: [], handle };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    f.log.push({
      method: req.method ?? '',
      url: req.url ?? '',
      auth: req.headers.authorization,
      range: req.headers.range,
      accept: req.headers.accept,
    });
    if (req.url === '/v2/') {
      res.writeHead(200).end('{}');
      return;
    }
    f.handle(req, res, Buffer.concat(chunks));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, listenOn, resolve));
  const addr = server.address();
  f.host = `${listenOn}:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return f;
}

function newClient(opts: ConstructorParameters<typeof RegistryClient>[0] = {}): RegistryClient {
  const c = new RegistryClient(opts);
  clients.push(c);
  return c;
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const blob = Buffer.from('0123456789abcdefghij');
const blobDesc = { mediaType: 'application/octet-stream', digest: sha256Digest(blob), size: blob.length };

test('pure helpers: upload Location, Range, Retry-After', () => {
  const req = new URL('http://r:5000/v2/a/blobs/uploads/');
  assert.equal(uploadUrl('/up/1?_state=a%2Bb%3D', req, 'sha256:ab').href, 'http://r:5000/up/1?_state=a%2Bb%3D&digest=sha256%3Aab');
  assert.equal(uploadUrl('up/2', req, 'sha256:ab').href, 'http://r:5000/v2/a/blobs/uploads/up/2?digest=sha256%3Aab');
  assert.equal(uploadUrl('https://cdn/x?y=1', req).href, 'https://cdn/x?y=1');
  assert.equal(parseRangeEnd('0-1064728'), 1064728);
  assert.equal(parseRangeEnd('bytes=0-99'), 99);
  assert.equal(parseRangeEnd('junk'), undefined);
  assert.equal(retryAfterMs('3'), 3000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4000), 6000);
  assert.equal(retryAfterMs('soon'), undefined);
});

test('insecure registries: loopback always, listed hosts and CIDRs', () => {
  const c = newClient({ insecureRegistries: ['10.0.0.0/8', 'reg.local:5000', 'http://plain.example', '192.168.1.5'] });
  for (const h of [
    'localhost:5000',
    '127.0.0.1',
    '127.1.2.3:80',
    '[::1]:5000',
    '10.1.2.3:5000',
    'reg.local:5000',
    'plain.example',
    '192.168.1.5:443',
  ]) {
    assert.ok(c.isInsecure(h), h);
  }
  for (const h of ['example.com', 'reg.local:5001', '11.0.0.1', '192.168.1.6', 'localhost.evil.com']) assert.ok(!c.isInsecure(h), h);
});

test('429: retried after Retry-After; too long a wait fails with the registry code', async () => {
  let n = 0;
  const f = await fake((_req, res) => {
    if (n++ < 2) {
      res.writeHead(429, { 'Retry-After': '0', 'Content-Type': 'application/json' });
      res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return;
    }
    res.writeHead(200, { 'Content-Length': blob.length }).end(blob);
  });
  const c = newClient();
  const ref = normalizeReference(`${f.host}/a/b`);
  assert.deepEqual(await readAll(await c.fetcher(ref).fetch(blobDesc)), blob);
  assert.equal(n, 3);

  f.handle = (_req, res) => {
    res.writeHead(429, { 'Retry-After': '3600', 'Content-Type': 'application/json' });
    res.end('{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}');
  };
  await assert.rejects(c.fetcher(ref).fetch(blobDesc), (err: unknown) => {
    assert.ok(isKind(err, 'unavailable'));
    assert.equal(
      (err as Error).message,
      `fetch '${f.host}/a/b@${blobDesc.digest}': toomanyrequests: You have reached your pull rate limit.`,
    );
    assert.equal(registryErrorInfo(err)?.code, 'TOOMANYREQUESTS');
    return true;
  });
});

test('redirects: followed; Authorization kept on the same host, dropped on another', async () => {
  const cdn = await fake((_req, res) => res.writeHead(200, { 'Content-Length': blob.length }).end(blob));
  const reg = await fake((req, res) => {
    if (req.url?.startsWith('/v2/a/b/blobs/')) res.writeHead(307, { Location: '/same-host' }).end();
    else if (req.url === '/same-host') res.writeHead(302, { Location: `http://${cdn.host}/data?sig=1` }).end();
    else res.writeHead(404).end();
  });
  const c = newClient({ credentials: { get: async () => ({ registryToken: 'secret' }) } });
  const got = await readAll(await c.fetcher(normalizeReference(`${reg.host}/a/b`)).fetch(blobDesc));
  assert.deepEqual(got, blob);
  assert.equal(reg.log.find((l) => l.url === '/same-host')?.auth, 'Bearer secret');
  assert.equal(cdn.log.length, 1);
  assert.equal(cdn.log[0]!.auth, undefined);
});

test('Range: a 206 answer, a server that ignores Range, a short body, an overlong body', async () => {
  let mode: 'honour' | 'ignore' | 'short' | 'long' = 'honour';
  const f = await fake((req, res) => {
    const off = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    if (mode === 'honour' && off > 0) {
      res.writeHead(206, { 'Content-Range': `bytes ${off}-${blob.length - 1}/${blob.length}`, 'Content-Length': blob.length - off });
      res.end(blob.subarray(off));
    } else if (mode === 'short') {
      // promise the whole blob, send half, and hang up
      res.writeHead(200, { 'Content-Length': blob.length });
      res.write(blob.subarray(0, 10));
      setTimeout(() => res.socket?.destroy(), 20);
    } else if (mode === 'long') {
      res.writeHead(200).end(Buffer.concat([blob, Buffer.from('extra')]));
    } else res.writeHead(200, { 'Content-Length': blob.length }).end(blob);
  });
  const c = newClient();
  const fetcher = c.fetcher(normalizeReference(`${f.host}/a/b`));
  assert.deepEqual(await readAll(await fetcher.fetch(blobDesc, { offset: 7 })), blob.subarray(7));
  assert.equal(f.log.at(-1)!.range, 'bytes=7-');
  mode = 'ignore';
  assert.deepEqual(await readAll(await fetcher.fetch(blobDesc, { offset: 12 })), blob.subarray(12));
  mode = 'short';
  await assert.rejects(
    readAll(await fetcher.fetch(blobDesc)),
    (err: unknown) => isKind(err, 'unavailable') && /after 10 of 20 bytes/.test(String(err)),
  );
  mode = 'long';
  await assert.rejects(readAll(await fetcher.fetch(blobDesc)), /more than the 20 bytes expected/);
  await assert.rejects(fetcher.fetch(blobDesc, { offset: 21 }), /offset 21 outside 0\.\.20/);
});

test('manifests: schema 1 refused by name; a bare application/json manifest is sniffed', async () => {
  const oci = Buffer.from(JSON.stringify({ schemaVersion: 2, config: blobDesc, layers: [] }));
  let answer: { type: string; body: Buffer } = { type: MediaType.dockerSchema1Signed, body: Buffer.from('{"schemaVersion":1}') };
  const f = await fake((req, res) => {
    const headers: Record<string, string | number> = { 'Content-Type': answer.type, 'Content-Length': answer.body.length };
    if (req.method === 'HEAD') return void res.writeHead(200, headers).end();
    res.writeHead(200, headers).end(answer.body);
  });
  const c = newClient();
  const ref = normalizeReference(`${f.host}/old/image:v1`);
  await assert.rejects(
    c.resolve(ref),
    (err: unknown) => isKind(err, 'not-implemented') && /schema 1 manifests .*prettyjws.* are not supported/.test(String(err)),
  );
  answer = { type: 'application/json', body: Buffer.from('{"schemaVersion":1,"name":"x"}') };
  await assert.rejects(c.resolve(ref), /schema 1/);
  answer = { type: 'application/json', body: oci };
  assert.deepEqual(await c.resolve(ref), { mediaType: MediaType.ociManifest, digest: sha256Digest(oci), size: oci.length });
  // every manifest request carried the four modern types and nothing else
  const manifestRequests = f.log.filter((l) => l.url.includes('/manifests/'));
  assert.ok(manifestRequests.length >= 4);
  for (const l of manifestRequests) assert.equal(l.accept, MANIFEST_ACCEPT.join(', '));
});

test('docker.io through mirrors: a dead mirror is skipped, the next one answers', async () => {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config: blobDesc, layers: [] }));
  const mirror = await fake((req, res) => {
    if (req.url !== '/v2/library/busybox/manifests/latest') return void res.writeHead(404).end();
    const headers = {
      'Content-Type': MediaType.dockerManifest,
      'Docker-Content-Digest': sha256Digest(manifest),
      'Content-Length': manifest.length,
    };
    res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : manifest);
  });
  const dead = await fake(() => {});
  const deadHost = dead.host;
  await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
  const c = newClient({ mirrors: [`http://${deadHost}`, `http://${mirror.host}/`] });
  const d = await c.resolve(normalizeReference('busybox'));
  assert.equal(d.digest, sha256Digest(manifest));
  assert.equal(mirror.log.filter((l) => l.method === 'HEAD').length, 1);
  assert.throws(() => newClient({ mirrors: ['ftp://x/y'] }), /registry mirror 'ftp:\/\/x\/y'/);
});

test('push: a relative Location keeps its query; the digest is appended with &', async () => {
  const puts: string[] = [];
  const f = await fake((req, res, body) => {
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { Location: 'session/1?_state=x%3D%3D' }).end();
    if (req.method === 'PUT' && req.url?.startsWith('/v2/a/b/blobs/uploads/session/1')) {
      puts.push(req.url);
      assert.deepEqual(body, blob);
      return void res.writeHead(201, { 'Docker-Content-Digest': blobDesc.digest }).end();
    }
    res.writeHead(500).end();
  });
  const c = newClient();
  const p = c.pusher(normalizeReference(`${f.host}/a/b:v1`));
  assert.equal(await p.pushBlob(blobDesc, () => Readable.from([blob])), 'pushed');
  assert.deepEqual(puts, [`/v2/a/b/blobs/uploads/session/1?_state=x%3D%3D&digest=${encodeURIComponent(blobDesc.digest)}`]);
  await assert.rejects(
    p.pushManifest({ ...blobDesc, mediaType: MediaType.ociManifest }, Buffer.from('other')),
    /manifest bytes are sha256:/,
  );
});

test('plain http only for insecure registries: a non-loopback host must speak https', async (t) => {
  const ip = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
  if (!ip) return t.skip('needs a non-loopback IPv4 address');
  const f = await fake((_req, res) => res.writeHead(200, { 'Content-Length': blob.length }).end(blob), '0.0.0.0');
  const port = f.host.split(':')[1];
  const ref = normalizeReference(`${ip}:${port}/a/b`);
  await assert.rejects(
    newClient().fetcher(ref).fetch(blobDesc),
    (err: unknown) => isKind(err, 'unavailable') && /^ping '[\d.]+:\d+': /.test(String((err as Error).message)),
  );
  assert.equal(f.log.length, 0, 'no plain http request was made');
  const allowed = newClient({ insecureRegistries: [`${ip}/32`] });
  assert.deepEqual(await readAll(await allowed.fetcher(ref).fetch(blobDesc)), blob);
});

test('hostile answers: an oversized manifest is refused without reading it all', async () => {
  const f = await fake((req, res) => {
    res.writeHead(200, { 'Content-Type': MediaType.ociManifest });
    if (req.method === 'HEAD') return void res.end();
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let n = 0;
    const more = () => {
      while (n++ < 8) if (!res.write(chunk)) return void res.once('drain', more);
      res.end();
    };
    more();
  });
  await assert.rejects(newClient().resolve(normalizeReference(`${f.host}/big/x:v1`)), /response larger than 4194304 bytes/);
});

test('chunked push resumes from the offset the upload session reports', async () => {
  const big = Buffer.alloc(50_000, 7);
  const bigDesc = { mediaType: 'application/octet-stream', digest: sha256Digest(big), size: big.length };
  let stored = Buffer.alloc(0);
  let patches = 0;
  const opened: number[] = [];
  const f = await fake((req, res, body) => {
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { Location: '/up/1' }).end();
    if (req.method === 'GET' && req.url === '/up/1')
      return void res.writeHead(204, { Location: '/up/1', Range: `0-${stored.length - 1}` }).end();
    if (req.method === 'PATCH') {
      const start = Number(/^(\d+)-/.exec(req.headers['content-range'] ?? '')?.[1]);
      if (start !== stored.length) return void res.writeHead(416).end();
      if (++patches === 2) {
        // the second chunk dies halfway: the session keeps what arrived
        stored = Buffer.concat([stored, body.subarray(0, 5000)]);
        return void req.socket.destroy();
      }
      stored = Buffer.concat([stored, body]);
      return void res.writeHead(202, { Location: '/up/1', Range: `0-${stored.length - 1}` }).end();
    }
    if (req.method === 'PUT') {
      assert.equal(new URL(req.url!, 'http://x').searchParams.get('digest'), bigDesc.digest);
      return void res.writeHead(201, { 'Docker-Content-Digest': sha256Digest(stored) }).end();
    }
    res.writeHead(500).end();
  });
  const c = newClient({ monolithicMax: 1000, chunkSize: 16_384 });
  const outcome = await c.pusher(normalizeReference(`${f.host}/a/b`)).pushBlob(bigDesc, (off) => {
    opened.push(off);
    return Readable.from([big.subarray(off)]);
  });
  assert.equal(outcome, 'pushed');
  assert.deepEqual(opened, [0, 16_384 + 5000]);
  assert.deepEqual(stored, big);
});

test('push: a failing or short source fails the upload instead of hanging it', async () => {
  const f = await fake((req, res) => {
    if (req.method === 'HEAD') return void res.writeHead(404).end();
    if (req.method === 'POST') return void res.writeHead(202, { Location: '/up/2' }).end();
    res.writeHead(201, { 'Docker-Content-Digest': blobDesc.digest }).end();
  });
  const p = newClient().pusher(normalizeReference(`${f.host}/a/b`));
  const failing = () =>
    new Readable({
      read() {
        this.destroy(new Error('disk read error'));
      },
    });
  await assert.rejects(p.pushBlob(blobDesc, failing), /disk read error/);
  await assert.rejects(
    p.pushBlob(blobDesc, () => Readable.from([blob.subarray(0, 5)])),
    /the source ended after 5 of 20 bytes/,
  );
  await assert.rejects(
    p.pushBlob(blobDesc, () => Readable.from([blob, blob])),
    /the source has more than 20 bytes/,
  );
  // each failed upload session was cancelled
  assert.equal(f.log.filter((l) => l.method === 'DELETE' && l.url === '/up/2').length, 3);
});

test('tags: Link pages followed on the registry only, a limit on the total', async () => {
  const other = await fake((_req, res) => res.writeHead(200).end('{"tags":["stolen"]}'));
  const f = await fake((req, res) => {
    const last = new URL(req.url!, 'http://x').searchParams.get('last');
    if (last === null) {
      res.writeHead(200, { Link: '</v2/a/b/tags/list?last=t1&n=1>; rel="next"' });
      return void res.end('{"name":"a/b","tags":["t1"]}');
    }
    if (last === 't1') {
      res.writeHead(200, { Link: `<http://${other.host}/v2/a/b/tags/list?last=t2>; rel="next"` });
      return void res.end('{"name":"a/b","tags":["t2"]}');
    }
    res.writeHead(500).end();
  });
  const c = newClient({ credentials: { get: async () => ({ registryToken: 'secret' }) } });
  const ref = normalizeReference(`${f.host}/a/b`);
  assert.deepEqual(await c.tags(ref, { pageSize: 1 }), ['t1', 't2']);
  assert.equal(f.log.filter((l) => l.url.includes('/tags/list')).length, 2);
  assert.equal(other.log.length, 0);
  assert.deepEqual(await c.tags(ref, { limit: 1 }), ['t1']);
});

const FUZZ_RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 1);

// A hang fails the test through its timeout.
test('property: a hostile registry gets answers or BerthErrors, never a crash or a hang', { timeout: 60_000 * FUZZ_RUNS }, async () => {
  const RUNS = FUZZ_RUNS;
  const printable = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));
  const digest = fc.constantFrom(blobDesc.digest, sha256Digest('other'), 'sha256:zz', '');
  const answer = fc.record({
    status: fc.constantFrom(200, 201, 202, 204, 206, 301, 307, 400, 401, 404, 416, 429, 500),
    contentType: fc.constantFrom(
      MediaType.ociManifest,
      MediaType.ociIndex,
      MediaType.dockerSchema1Signed,
      'application/json',
      'text/html',
      '',
    ),
    digest,
    location: fc.oneof(printable, fc.constant('/v2/a/b/blobs/uploads/x?s=1'), fc.constant('http://[::1')),
    range: fc.oneof(printable, fc.constant('0-5'), fc.constant('bytes 5-19/20')),
    challenge: fc.oneof(printable, fc.constant('Bearer realm="/token",service="s"'), fc.constant('Basic realm="x"')),
    body: fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.json().map((j) => Buffer.from(j)),
      fc.constant(blob),
      fc.constant(Buffer.from('{"errors":[{"code":"DENIED","message":"no"}]}')),
      fc.constant(Buffer.from('{"token":"t","expires_in":-5}')),
    ),
    lie: fc.boolean(),
  });
  type Answer = {
    status: number;
    contentType: string;
    digest: string;
    location: string;
    range: string;
    challenge: string;
    body: Buffer;
    lie: boolean;
  };
  let current = {} as Answer;
  const f = await fake((req, res) => {
    const a = current;
    const headers: Record<string, string | number> = { 'Retry-After': '0' };
    if (a.contentType) headers['Content-Type'] = a.contentType;
    if (a.digest) headers['Docker-Content-Digest'] = a.digest;
    if (a.location) headers.Location = a.location;
    headers.Range = a.range;
    headers['Content-Range'] = a.range;
    headers['WWW-Authenticate'] = a.challenge;
    if (a.lie) headers['Content-Length'] = a.body.length + 3;
    try {
      res.writeHead(a.status, headers);
    } catch {
      res.writeHead(500);
    }
    if (req.method === 'HEAD' || a.status === 204) return void res.end();
    const socket = req.socket;
    res.end(a.body);
    // a lying Content-Length leaves the client waiting: hang up like a broken server would
    if (a.lie) setTimeout(() => socket.destroy(), 5);
  });
  const ref = normalizeReference(`${f.host}/a/b:v1`);
  const ops: ((c: RegistryClient) => Promise<unknown>)[] = [
    (c) => c.resolve(ref),
    (c) => c.fetcher(ref).fetch(blobDesc).then(readAll),
    (c) =>
      c
        .fetcher(ref)
        .fetch({ ...blobDesc, mediaType: MediaType.ociManifest })
        .then(readAll),
    (c) => c.fetcher(ref).fetch(blobDesc, { offset: 5 }).then(readAll),
    (c) => c.tags(ref),
    (c) => c.pusher(ref).pushBlob(blobDesc, () => Readable.from([blob])),
    (c) => c.pusher(ref).pushManifest({ ...blobDesc, mediaType: MediaType.ociManifest }, blob, 'v1'),
  ];
  await fc.assert(
    fc.asyncProperty(answer, fc.integer({ min: 0, max: ops.length - 1 }), async (a, op) => {
      current = a;
      const c = newClient({ retries: 2, maxRetryWait: 10 });
      try {
        await ops[op]!(c);
      } catch (err) {
        assert.ok(err instanceof BerthError, `${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
      } finally {
        c.close();
      }
    }),
    { numRuns: 150 * RUNS },
  );
});
