import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { isAnonymousName, LocalImages, repoNames } from './resolve-local.js';
import { type ImageService, openImageService } from './service.js';

async function service(t: TestContext): Promise<ImageService> {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-resolve-'));
  const svc = await openImageService({ root, snapshotter: 'native' });
  t.after(async () => {
    await svc[Symbol.asyncDispose]();
    rmSync(root, { recursive: true, force: true });
  });
  return svc;
}

/** A one-layer image (its bytes need not be a tar: nothing is unpacked). */
async function importOne(svc: ImageService, seed: string, reference?: string) {
  return svc.importRootfs(Readable.from([Buffer.from(`layer ${seed}`)]), {
    unpack: false,
    created: new Date('2026-01-01T00:00:00Z'),
    ...(reference ? { reference } : {}),
  });
}

describe('LocalImages: dockerd GetImage resolution over the image store', () => {
  it('by name, familiar or full, with the default tag; by ID, full or prefixed; rows grouped by ID', async (t) => {
    const svc = await service(t);
    const a = await importOne(svc, 'a', 'busybox:1');
    svc.images.put({ name: 'localhost:5000/bb:x', target: a.image.target });
    const local = new LocalImages(svc);
    for (const term of [
      'busybox:1',
      'docker.io/library/busybox:1',
      'localhost:5000/bb:x',
      a.id,
      a.id.slice(7),
      a.id.slice(0, 15),
      a.id.slice(7, 12),
    ]) {
      const img = await local.resolve(term);
      assert.equal(img.id, a.id, term);
      assert.deepEqual(
        img.rows.map((r) => r.name),
        ['docker.io/library/busybox:1', 'localhost:5000/bb:x'],
      );
    }
    assert.equal((await local.resolve('busybox:1')).named?.name, 'docker.io/library/busybox:1');
    assert.equal((await local.resolve(a.id)).named, undefined);
  });

  it('not found in dockerd words, with the default tag', async (t) => {
    const svc = await service(t);
    const local = new LocalImages(svc);
    await assert.rejects(local.resolve('nosuchimg'), { kind: 'not-found', message: 'No such image: nosuchimg:latest' });
    await assert.rejects(local.resolve(`sha256:${'f'.repeat(64)}`), {
      kind: 'not-found',
      message: `No such image: sha256:${'f'.repeat(64)}`,
    });
    await assert.rejects(local.resolve('UPPER'), {
      kind: 'invalid-argument',
      message: /invalid reference format: repository name must be lowercase/,
    });
  });

  it('an ID prefix two images share is ambiguous: not found, saying so', async (t) => {
    const svc = await service(t);
    const ids: string[] = [];
    // 17 images: two of them share their first hex digit
    for (let i = 0; i < 17; i++) ids.push((await importOne(svc, `amb${i}`, `amb:${i}`)).id);
    const first = ids.map((id) => id[7]);
    const shared = first.find((c, i) => first.indexOf(c) !== i)!;
    const local = new LocalImages(svc);
    await assert.rejects(local.resolve(shared), { kind: 'not-found', message: /ID prefix matches \d+ images/ });
    const full = ids.find((id) => id[7] === shared)!;
    assert.equal((await local.resolve(full.slice(7, 30))).id, full, 'a longer prefix is unique');
  });

  it('an unnamed import is anonymous: no tags, no digests', async (t) => {
    const svc = await service(t);
    const r = await importOne(svc, 'anon');
    assert.ok(isAnonymousName(r.image.name), r.image.name);
    const all = await new LocalImages(svc).all();
    assert.equal(all.length, 1);
    assert.deepEqual(repoNames(all[0]!.rows), { tags: [], digests: [] });
    assert.equal((await new LocalImages(svc).resolve(r.id.slice(7, 19))).id, r.id);
  });

  it('repoNames: tags, digest rows, and the repo@digest a pull implies (source label)', async (t) => {
    const svc = await service(t);
    const a = await importOne(svc, 'p', 'localhost:5000/app:1');
    svc.images.put({ name: `localhost:5000/app@${a.image.target.digest}`, target: a.image.target });
    const img = (await new LocalImages(svc).all())[0]!;
    const sources = new Map([[a.image.target.digest, { 'containerd.io/distribution.source.localhost:5000': 'app,other' }]]);
    const names = repoNames(img.rows, sources);
    assert.deepEqual(names.tags, ['localhost:5000/app:1']);
    assert.deepEqual(names.digests, [`localhost:5000/app@${a.image.target.digest}`], 'once, though both say it');
  });
});
