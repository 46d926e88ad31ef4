/**
 * The registry client against Debian's real docker-registry (distribution 2.8), anonymous, with
 * htpasswd basic auth, and behind a token server run here; skopeo checks what we push.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { BerthError, isKind } from '../src/common/errors.js';
// import { dockerConfigCredentials } from '../src/distribution/credentials.js';
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
  writeOciLayout,
} from './helpers/registry.js';

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
  });
}
