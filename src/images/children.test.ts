import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../../test/helpers/fuzz-runs.js';
import { BerthError } from '../common/errors.js';
import { chainIds, MediaType } from '../oci/image.js';
import { blobChildren, sniffMediaType } from './children.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

test('children: index → manifests, manifest → config + layers, config → chain ids; bad entries skipped', () => {
  const index = blobChildren(
    MediaType.dockerManifestList,
    json({ manifests: [{ mediaType: MediaType.dockerManifest, digest: d('a') }, { digest: 'md5:zz' }, 7] }),
    d('0'),
  );
  assert.deepEqual(index.content, [{ mediaType: MediaType.dockerManifest, digest: d('a') }]);
  assert.equal(index.skipped.length, 2);
  assert.match(index.skipped[0]!, /manifests\[1\]: digest 'md5:zz' is not a sha256 digest/);

  const manifest = blobChildren(
    MediaType.ociManifest,
    json({
      config: { mediaType: MediaType.ociConfig, digest: d('b') },
      layers: [{ mediaType: MediaType.ociLayerGzip, digest: d('c') }, { digest: d('e') }],
    }),
  );
  assert.deepEqual(manifest.content, [
    { mediaType: MediaType.ociConfig, digest: d('b') },
    { mediaType: MediaType.ociLayerGzip, digest: d('c') },
    { mediaType: 'application/octet-stream', digest: d('e') },
  ]);

  const config = blobChildren(MediaType.dockerConfig, json({ rootfs: { type: 'layers', diff_ids: [d('1'), d('2')] } }));
  assert.deepEqual(config.chainIds, chainIds([d('1'), d('2')]));
  assert.match(blobChildren(MediaType.ociConfig, json({ rootfs: { diff_ids: ['x'] } })).skipped[0]!, /not sha256 digests/);

  assert.deepEqual(blobChildren('application/vnd.example+json', json({ manifests: [{ digest: d('a') }] })).content, []);
  assert.throws(() => blobChildren(MediaType.ociIndex, Buffer.from('{"manifests": [')), /parse index 'blob'/);
  assert.throws(() => blobChildren(MediaType.ociIndex, Buffer.from('[1]')), /not a JSON object/);
});

test('children: a blob without a type is sniffed by its mediaType or its shape', () => {
  assert.equal(sniffMediaType(json({ mediaType: MediaType.dockerManifest, config: {}, layers: [] })), MediaType.dockerManifest);
  assert.equal(sniffMediaType(json({ manifests: [] })), MediaType.ociIndex);
  assert.equal(sniffMediaType(json({ config: {}, layers: [] })), MediaType.ociManifest);
  assert.equal(sniffMediaType(json({ rootfs: { diff_ids: [] } })), MediaType.ociConfig);
  assert.equal(sniffMediaType(Buffer.from('\x1f\x8b gzip')), undefined);
  assert.equal(sniffMediaType(json({ other: 1 })), undefined);
  assert.deepEqual(blobChildren(undefined, json({ manifests: [{ digest: d('f') }] })).content, [{ digest: d('f') }]);
});

test('children: hostile bytes give references or an invalid-argument error, nothing else (fast-check)', () => {
  const types = [MediaType.ociIndex, MediaType.ociManifest, MediaType.ociConfig, MediaType.dockerManifestList, undefined];
  const check = (type: string | undefined, data: Uint8Array) => {
    try {
      const c = blobChildren(type, data);
      for (const r of c.content) assert.match(r.digest, /^sha256:[0-9a-f]{64}$/);
    } catch (err) {
      assert.ok(err instanceof BerthError && err.kind === 'invalid-argument', String(err));
    }
  };
  fc.assert(
    fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 200 }), (type, data) => check(type, data)),
    { numRuns: fuzzRuns(300) },
  );
  fc.assert(
    fc.property(fc.constantFrom(...types), fc.jsonValue(), (type, v) => check(type, Buffer.from(JSON.stringify(v) ?? 'null'))),
    { numRuns: fuzzRuns(300) },
  );
  const descriptor = fc.record(
    { digest: fc.oneof(fc.string(), fc.constant(d('a'))), mediaType: fc.oneof(fc.string(), fc.integer()) },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...types),
      fc.record(
        {
          manifests: fc.array(fc.oneof(descriptor, fc.jsonValue())),
          config: fc.oneof(descriptor, fc.jsonValue()),
          layers: fc.array(descriptor),
        },
        { requiredKeys: [] },
      ),
      (type, v) => check(type, json(v)),
    ),
    { numRuns: fuzzRuns(300) },
  );
});
