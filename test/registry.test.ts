/**
 * The registry client against Debian's real docker-registry (distribution 2.8), anonymous, with
 * htpasswd basic auth, and behind a token server run here; skopeo checks what we push.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { BerthError, isKind } from '../src/common/errors.js';
import { dockerConfigCredentials } from '../src/distribution/credentials.js';
import { registryErrorInfo } from '../src/distribution/errors.js';
import { selectManifest } from '../src/distribution/platform.js';
import { normalizeReference } from '../src/distribution/reference.js';
import { type ClientOptions, RegistryClient, verifying } from '../src/distribution/registry.js';
import type { AuthConfig, Reference } from '../src/distribution/types.js';
import { MediaType, sha256Digest } from '../src/oci/image.js';
import {
  type Blob,
  blobOf,
  makeImage,
  registryMissing,
  skopeoCopyIn,
  skopeoInspect,
  skopeoRaw,
  startRegistry,
  type TestImage,
  type TestRegistry,
  umociLayout,
  writeOciLayout,
} from './helpers/registry.js';
import { findBinary } from './helpers/runtime.js';

const missing = registryMissing();
const USERS = { alice: 'alice-pw', bob: 'bob-pw' };

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const desc = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });

function staticCreds(auth: AuthConfig | undefined) {
  return { get: async () => auth };
}

function client(reg: TestRegistry, auth?: AuthConfig, extra: ClientOptions = {}): RegistryClient {
  const c = new RegistryClient({ credentials: staticCreds(auth), userAgent: 'berth-test', ...extra });
  clients.push(c);
  return c;
}
const clients: RegistryClient[] = [];
after(() => {
  for (const c of clients) c.close();
});

async function pushImage(c: RegistryClient, ref: Reference, img: TestImage, tag?: string, mountFrom?: string[]) {
  const p = c.pusher(ref);
  const outcomes: string[] = [];
  for (const b of [...img.layers, img.config])
    outcomes.push(await p.pushBlob(desc(b), (off) => Readable.from([b.bytes.subarray(off)]), { mountFrom }));
  const digest = await p.pushManifest(desc(img.manifest), img.manifest.bytes, tag ?? ref.tag);
  return { outcomes, digest };
}

for (const mode of ['anonymous', 'basic', 'token'] as const) {
  describe(`registry (${mode})`, { skip: missing }, () => {
    let reg: TestRegistry;
    const good: AuthConfig | undefined = mode === 'anonymous' ? undefined : { username: 'alice', password: USERS.alice };
    const ref = (s: string) => normalizeReference(`${reg.host}/${s}`);

    before(async () => {
      reg = await startRegistry({ mode, users: USERS });
    });
    after(async () => {
      await reg?.stop();
    });

    test('push (Docker schema2), resolve by tag and digest, fetch manifest and blobs', async () => {
      const c = client(reg, good);
      const img = makeImage({ layers: 2, seed: `${mode}-docker` });
      const r = ref('app/docker:v1');
      const { outcomes, digest } = await pushImage(c, r, img);
      assert.deepEqual(outcomes, ['pushed', 'pushed', 'pushed']);
      assert.equal(digest, img.manifest.digest);

      const d = await c.resolve(r);
      assert.deepEqual(d, desc(img.manifest));
      const byDigest = await c.resolve({ ...r, tag: undefined, digest });
      assert.deepEqual(byDigest, desc(img.manifest));

      const f = c.fetcher(r);
      assert.deepEqual(await readAll(await f.fetch(d)), img.manifest.bytes);
      for (const b of [img.config, ...img.layers]) assert.deepEqual(await readAll(await f.fetch(desc(b))), b.bytes);
      // pushing again: every blob is already there
      assert.deepEqual((await pushImage(c, r, img)).outcomes, ['exists', 'exists', 'exists']);
      // skopeo reads what we pushed, byte for byte
      assert.equal(await skopeoRaw(reg, 'app/docker:v1'), img.manifest.bytes.toString());
    });

    test('push OCI manifest and index; resolve the index and select a platform', async () => {
      const c = client(reg, good);
      const amd = makeImage({ format: 'oci', seed: `${mode}-amd64` });
      const arm = makeImage({ format: 'oci', seed: `${mode}-arm64` });
      const r = ref('app/multi:v1');
      await pushImage(c, r, amd, 'amd64');
      await pushImage(c, r, arm, 'arm64');
      const attestation = blobOf(MediaType.ociManifest, amd.manifest.bytes);
      const index = blobOf(
        MediaType.ociIndex,
        Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: MediaType.ociIndex,
            manifests: [
              { ...desc(arm.manifest), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
              {
                ...desc(attestation),
                platform: { architecture: 'unknown', os: 'unknown' },
                annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
              },
              { ...desc(amd.manifest), platform: { architecture: 'amd64', os: 'linux' } },
            ],
          }),
        ),
      );
      assert.equal(await c.pusher(r).pushManifest(desc(index), index.bytes, 'v1'), index.digest);
      const d = await c.resolve(r);
      assert.deepEqual(d, desc(index));
      const f = c.fetcher(r);
      const idx = JSON.parse((await readAll(await f.fetch(d))).toString());
      const child = selectManifest(idx, { os: 'linux', architecture: 'amd64' });
      assert.equal(child.digest, amd.manifest.digest);
      assert.equal(selectManifest(idx, { os: 'linux', architecture: 'arm64' }).digest, arm.manifest.digest);
      assert.throws(
        () => selectManifest(idx, { os: 'linux', architecture: 'arm', variant: 'v7' }),
        /no matching manifest for linux\/arm\/v7 in the manifest list entries/,
      );
      assert.deepEqual(await readAll(await f.fetch(child)), amd.manifest.bytes);
      assert.deepEqual(JSON.parse(await skopeoRaw(reg, 'app/multi:v1')), JSON.parse(index.bytes.toString()));
      assert.deepEqual((await c.tags(r)).sort(), ['amd64', 'arm64', 'v1']);
    });

    test('unknown tag and blob: not-found with the registry code', async () => {
      const c = client(reg, good);
      const r = ref('app/docker:nope');
      await assert.rejects(c.resolve(r), (err: unknown) => {
        assert.ok(err instanceof BerthError);
        assert.equal(err.kind, 'not-found');
        assert.equal(err.message, `resolve '${reg.host}/app/docker:nope': manifest unknown: manifest unknown`);
        assert.equal(registryErrorInfo(err)?.code, 'MANIFEST_UNKNOWN');
        return true;
      });
      const missingBlob = blobOf('application/octet-stream', Buffer.from('never pushed'));
      await assert.rejects(
        c.fetcher(r).fetch(desc(missingBlob)),
        (err: unknown) => isKind(err, 'not-found') && /blob unknown/.test((err as Error).message),
      );
      assert.equal(await c.pusher(r).exists(desc(missingBlob)), false);
    });

    test('chunked upload, cross-repository mount, and skopeo reading both', async () => {
      const c = client(reg, good, { monolithicMax: 10_000, chunkSize: 16_384 });
      const img = makeImage({ layers: 1, layerSize: 100_000, seed: `${mode}-chunked` });
      assert.ok(img.layers[0]!.size > 3 * 16_384);
      const a = ref('chunked/a:v1');
      const progress: number[] = [];
      const p = c.pusher(a);
      const layer = img.layers[0]!;
      // the source is read in small pieces, so chunks are assembled across reads
      const pieces = (off: number) =>
        Readable.from(
          Array.from({ length: Math.ceil((layer.size - off) / 5000) }, (_, i) =>
            layer.bytes.subarray(off + i * 5000, off + (i + 1) * 5000),
          ),
        );
      assert.equal(await p.pushBlob(desc(layer), pieces, { onProgress: (n) => progress.push(n) }), 'pushed');
      assert.deepEqual(progress.slice(0, 3), [16_384, 32_768, 49_152]);
      assert.equal(progress.at(-1), layer.size);
      assert.equal(await p.pushBlob(desc(img.config), () => Readable.from([img.config.bytes])), 'pushed');
      await p.pushManifest(desc(img.manifest), img.manifest.bytes, 'v1');
      assert.equal((await skopeoInspect(reg, 'chunked/a:v1')).Digest, img.manifest.digest);

      const b = ref('chunked/b:v1');
      const { outcomes } = await pushImage(c, b, img, 'v1', ['chunked/a']);
      assert.deepEqual(outcomes, ['mounted', 'mounted']);
      if (mode === 'token') {
        // the mount's token also asks to pull from the source repository
        assert.ok(
          reg.tokenRequests.some(
            (q) => q.scopes.includes('repository:chunked/b:pull,push') && q.scopes.includes('repository:chunked/a:pull'),
          ),
        );
      }
      const fetched = await readAll(await c.fetcher(b).fetch(desc(layer)));
      assert.equal(sha256Digest(fetched), layer.digest);
      assert.equal((await skopeoInspect(reg, 'chunked/b:v1')).Layers[0], layer.digest);
      // a mount source that does not have the blob: the registry opens a plain upload (202)
      const other = makeImage({ seed: `${mode}-nomount` });
      assert.deepEqual((await pushImage(c, ref('chunked/c:v1'), other, 'v1', ['chunked/a'])).outcomes, ['pushed', 'pushed']);
    });

    test('blob fetch resumes with Range after the connection drops mid-body', async (t) => {
      const c0 = client(reg, good);
      const img = makeImage({ layers: 1, layerSize: 300_000, seed: `${mode}-range` });
      const r = ref('range/x:v1');
      await pushImage(c0, r, img);
      const layer = img.layers[0]!;
      // A proxy that cuts each blob answer after 100 kB of it, so every GET is cut short.
      const proxy = await cuttingProxy(reg.port, 100_000);
      t.after(() => proxy.close());
      const c = client(reg, good, { insecureRegistries: [] });
      const cut = { ...r, domain: `127.0.0.1:${proxy.port}` };
      let got = Buffer.alloc(0);
      let attempts = 0;
      while (got.length < layer.size && attempts < 10) {
        attempts++;
        const stream = await c.fetcher(cut).fetch(desc(layer), { offset: got.length });
        try {
          for await (const chunk of stream) got = Buffer.concat([got, chunk as Buffer]);
        } catch (err) {
          assert.ok(isKind(err, 'unavailable'), String(err));
          assert.match((err as Error).message, /connection (lost|ended) after \d+ of \d+ bytes/);
        }
      }
      assert.ok(attempts >= 2, `resumed ${attempts - 1} times`);
      assert.ok(
        proxy.ranges.some((r) => /^bytes=\d+-$/.test(r)),
        'asked with Range',
      );
      assert.equal(sha256Digest(got), layer.digest);
    });

    test('a tampered registry is caught: manifest by digest, and blobs through verifying()', async () => {
      const c = client(reg, good);
      const img = makeImage({ seed: `${mode}-tamper` });
      const r = ref('tamper/x:v1');
      await pushImage(c, r, img);
      // same length; the manifest stays valid JSON (the registry parses it to serve it)
      const manifest = Buffer.from(img.manifest.bytes);
      manifest[manifest.indexOf('   ')] = 0x09;
      writeFileSync(reg.blobPath(img.manifest.digest), manifest);
      const config = Buffer.from(img.config.bytes);
      config[config.length - 2]! ^= 1;
      writeFileSync(reg.blobPath(img.config.digest), config);
      const f = c.fetcher(r);
      await assert.rejects(
        f.fetch(desc(img.manifest)),
        (err: unknown) => isKind(err, 'invalid-argument') && /digest mismatch/.test((err as Error).message),
      );
      const blob = await f.fetch(desc(img.config));
      await assert.rejects(readAll(blob.pipe(verifying(desc(img.config)))), /digest mismatch/);
    });

    test('skopeo copy from an OCI layout, then resolve and fetch it', async () => {
      const img = makeImage({ format: 'oci', layers: 2, seed: `${mode}-skopeo` });
      const dir = mkdtempSync(join(tmpdir(), 'berth-layout-'));
      try {
        writeOciLayout(dir, img, 'v2');
        await skopeoCopyIn(reg, dir, 'v2', 'from/skopeo');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const c = client(reg, good);
      const r = ref('from/skopeo:v2');
      const d = await c.resolve(r);
      assert.deepEqual(d, desc(img.manifest));
      const m = JSON.parse((await readAll(await c.fetcher(r).fetch(d))).toString());
      for (const [i, l] of (m.layers as { digest: string }[]).entries()) assert.equal(l.digest, img.layers[i]!.digest);
    });

    // once is enough: in the anonymous mode only
    if (mode === 'anonymous') {
      test('an image built by umoci from busybox and pushed by skopeo: every blob fetched and verified', async (t) => {
        if (!findBinary('umoci') || !findBinary('skopeo')) return t.skip('needs umoci and skopeo');
        const dir = mkdtempSync(join(tmpdir(), 'berth-umoci-'));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
        copyFileSync('/bin/busybox', join(dir, 'rootfs/bin/busybox'));
        symlinkSync('busybox', join(dir, 'rootfs/bin/sh'));
        const digest = await umociLayout(join(dir, 'layout'), 'v1', join(dir, 'rootfs'));
        await skopeoCopyIn(reg, join(dir, 'layout'), 'v1', 'umoci/busybox');
        const c = client(reg, good);
        const r = ref('umoci/busybox:v1');
        const d = await c.resolve(r);
        assert.equal(d.digest, digest);
        const f = c.fetcher(r);
        const m = JSON.parse((await readAll(await f.fetch(d))).toString()) as { config: Blob; layers: Blob[] };
        for (const b of [m.config, ...m.layers]) {
          const bytes = await readAll((await f.fetch(b)).pipe(verifying(b)));
          assert.equal(bytes.length, b.size);
        }
        assert.ok(m.layers[0]!.size > 500_000, 'the busybox layer');
      });
    }

    if (mode !== 'anonymous') {
      test('wrong or missing credentials: a clear unauthorized error', async () => {
        const r = ref('app/docker:v1');
        const wrong = client(reg, { username: 'alice', password: 'nope' });
        await assert.rejects(wrong.resolve(r), (err: unknown) => {
          assert.ok(isKind(err, 'permission-denied'), String(err));
          const msg = (err as Error).message;
          if (mode === 'basic') assert.equal(msg, `resolve '${reg.host}/app/docker:v1': unauthorized: authentication required`);
          else
            assert.match(
              msg,
              new RegExp(
                `^fetch token for '${reg.host}/app/docker:v1' from 'http://127\\.0\\.0\\.1:\\d+/token': unauthorized: invalid username or password$`,
              ),
            );
          return true;
        });
        const anon = client(reg, undefined);
        const img = makeImage({ seed: `${mode}-anon` });
        const push = anon.pusher(ref('anon/x:v1')).pushBlob(desc(img.config), () => Readable.from([img.config.bytes]));
        await assert.rejects(push, (err: unknown) => {
          assert.ok(isKind(err, 'permission-denied'), String(err));
          assert.match((err as Error).message, /unauthorized: authentication required|insufficient_scope|denied|unauthorized/);
          return true;
        });
      });

      test('credentials from config.json: a docker-credential helper, and auths', async (t) => {
        const dir = mkdtempSync(join(tmpdir(), 'berth-creds-'));
        t.after(() => rmSync(dir, { recursive: true, force: true }));
        const log = join(dir, 'helper.log');
        // the helper answers for our registry only, and logs what it was asked
        writeFileSync(
          join(dir, 'docker-credential-test'),
          `#!/bin/sh\nread -r url\necho "$1 $url" >> ${log}\nif [ "$url" = "${reg.host}" ]; then printf '{"ServerURL":"%s","Username":"bob","Secret":"bob-pw"}' "$url"; exit 0; fi\necho "credentials not found in native keychain"\nexit 1\n`,
        );
        chmodSync(join(dir, 'docker-credential-test'), 0o755);
        writeFileSync(
          join(dir, 'config.json'),
          JSON.stringify({ auths: { [reg.host]: {} }, credHelpers: { [reg.host]: 'test', 'other:1': 'test' } }),
        );
        const creds = dockerConfigCredentials({ configDir: dir, env: { PATH: `${dir}:/usr/bin:/bin` } });
        assert.deepEqual(await creds.get(reg.host), { username: 'bob', password: 'bob-pw' });
        assert.equal(await creds.get('other:1'), undefined);
        const c = new RegistryClient({ credentials: creds });
        clients.push(c);
        const img = makeImage({ seed: `${mode}-helper` });
        await pushImage(c, ref('helper/x:v1'), img);
        assert.deepEqual(await c.resolve(ref('helper/x:v1')), desc(img.manifest));
        const { readFileSync } = await import('node:fs');
        assert.match(readFileSync(log, 'utf8'), new RegExp(`^get ${reg.host.replace(/\./g, '\\.')}$`, 'm'));
        if (mode === 'token') assert.ok(reg.tokenRequests.some((q) => q.user === 'bob' && q.account === 'bob'));

        // plaintext auths (base64 user:password), Docker's format
        writeFileSync(
          join(dir, 'config.json'),
          JSON.stringify({ auths: { [`http://${reg.host}`]: { auth: Buffer.from('alice:alice-pw').toString('base64') } } }),
        );
        const c2 = new RegistryClient({ credentials: dockerConfigCredentials({ configDir: dir, env: { PATH: '/usr/bin:/bin' } }) });
        clients.push(c2);
        assert.deepEqual(await c2.resolve(ref('helper/x:v1')), desc(img.manifest));
      });
    }

    test('login as dockerd does it', async () => {
      const c = client(reg);
      if (mode === 'anonymous') {
        // a registry without auth accepts every login
        assert.deepEqual(await c.login(reg.host, { username: 'x', password: 'y' }), {});
        return;
      }
      const ok = await c.login(reg.host, { username: 'alice', password: USERS.alice });
      if (mode === 'token') {
        assert.ok(ok.identityToken, 'a refresh token from offline_token=true');
        // the identity token then stands in for the password
        const it = client(reg, { identityToken: ok.identityToken });
        assert.equal((await it.resolve(ref('app/docker:v1'))).mediaType, MediaType.dockerManifest);
      } else assert.deepEqual(ok, {});
      await assert.rejects(c.login(reg.host, { username: 'alice', password: 'wrong' }), (err: unknown) => {
        assert.ok(isKind(err, 'permission-denied'), String(err));
        if (mode === 'basic')
          assert.equal((err as Error).message, `login attempt to http://${reg.host}/v2/ failed with status: 401 Unauthorized`);
        else assert.match((err as Error).message, /unauthorized: invalid username or password$/);
        return true;
      });
    });

    if (mode === 'token') {
      test('token flow: scopes asked, tokens cached, identity tokens by POST', async () => {
        const before = reg.tokenRequests.length;
        const c = client(reg, good);
        const r = ref('app/docker:v1');
        const d = await c.resolve(r);
        await c.resolve(r);
        await readAll(await c.fetcher(r).fetch(d));
        const asked = reg.tokenRequests.slice(before);
        assert.equal(asked.length, 1, JSON.stringify(asked));
        assert.deepEqual(asked[0]!.scopes, ['repository:app/docker:pull']);
        assert.equal(asked[0]!.service, 'berth-test-registry');
        assert.equal(asked[0]!.account, 'alice');

        const refresh = reg.issueRefreshToken!('alice');
        const it = client(reg, { identityToken: refresh });
        assert.deepEqual(await it.resolve(r), d);
        const post = reg.tokenRequests.at(-1)!;
        assert.equal(post.method, 'POST');
        assert.equal(post.grantType, 'refresh_token');
        assert.equal(post.user, 'alice');
        const bad = client(reg, { identityToken: 'forged' });
        await assert.rejects(
          bad.resolve(r),
          (err: unknown) => isKind(err, 'permission-denied') && /invalid refresh token/.test((err as Error).message),
        );
      });
    }
  });
}

describe('registry over https (self-signed certificate, loopback)', { skip: missing }, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ mode: 'anonymous', tls: true });
  });
  after(async () => {
    await reg?.stop();
  });

  test('https is tried first and used; loopback skips verification as Docker does', async () => {
    const c = client(reg);
    const img = makeImage({ seed: 'tls' });
    const r = normalizeReference(`${reg.host}/tls/x:v1`);
    await pushImage(c, r, img);
    assert.deepEqual(await c.resolve(r), desc(img.manifest));
    assert.deepEqual(await readAll(await c.fetcher(r).fetch(desc(img.layers[0]!))), img.layers[0]!.bytes);
    const { request } = await import('node:http');
    // the same port refuses plain http, so the bytes above went over TLS
    const status = await new Promise<number>((resolve, reject) =>
      request(`http://${reg.host}/v2/`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end(),
    );
    assert.equal(status, 400);
  });
});

/**
 * A TCP proxy to the registry that closes each connection once `limit` bytes of an answer to a
 * blob GET have passed (headers included), and records the Range headers it saw.
 */
async function cuttingProxy(target: number, limit: number): Promise<{ port: number; ranges: string[]; close(): void }> {
  const { connect } = await import('node:net');
  const sockets = new Set<Socket>();
  const ranges: string[] = [];
  const server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(target, '127.0.0.1');
    sockets.add(upstream);
    let blob = false;
    let sent = 0;
    client.on('data', (d: Buffer) => {
      const text = d.toString('latin1');
      blob = /^GET \S+\/blobs\/sha256:/.test(text);
      const m = /\r\nrange: *([^\r]+)/i.exec(text);
      if (m) ranges.push(m[1]!);
      sent = 0;
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!blob) return void client.write(d);
      const room = limit - sent;
      sent += d.length;
      if (room >= d.length) return void client.write(d);
      client.write(d.subarray(0, Math.max(0, room)));
      client.destroy();
      upstream.destroy();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    ranges,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
