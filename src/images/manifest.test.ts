import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../../test/helpers/fuzz-runs.js';
import { BerthError } from '../common/errors.js';
import { chainIds, type Index, MediaType, sha256Digest } from '../oci/image.js';
import {
  layersOf,
  manifestKind,
  manifestRefLabels,
  parseConfig,
  parseIndex,
  parseManifest,
  selectManifest,
  sniffCompression,
} from './manifest.js';

const d = (s: string) => sha256Digest(s);
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.dockerManifest,
  config: { mediaType: MediaType.dockerConfig, digest: d('c'), size: 10 },
  layers: [
    { mediaType: MediaType.dockerLayerGzip, digest: d('l0'), size: 3 },
    { mediaType: MediaType.ociLayerZstd, digest: d('l1'), size: 4 },
  ],
};
const config = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [d('u0'), d('u1')] } };

test('manifests and configs parse, and layers get chain ids and compression', () => {
  const m = parseManifest(json(manifest), 'm');
  const c = parseConfig(json(config), 'c');
  const layers = layersOf(m, c, 'm');
  const chains = chainIds([d('u0'), d('u1')]);
  assert.deepEqual(
    layers.map((l) => [l.chainId, l.parent, l.compression]),
    [
      [chains[0], undefined, 'gzip'],
      [chains[1], chains[0], 'zstd'],
    ],
  );
  assert.deepEqual(manifestRefLabels(m), {
    'containerd.io/gc.ref.content.config': d('c'),
    'containerd.io/gc.ref.content.l.0': d('l0'),
    'containerd.io/gc.ref.content.l.1': d('l1'),
  });
});

test('bad manifests and configs are refused, naming the blob and the field', () => {
  assert.throws(() => parseManifest(Buffer.from('{'), "manifest 'x'"), /manifest 'x': invalid JSON/);
  assert.throws(() => parseManifest(json({ ...manifest, schemaVersion: 1 }), 'm'), /schemaVersion 1 is not 2/);
  assert.throws(
    () => parseManifest(json({ ...manifest, layers: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] }), 'm'),
    /m: layer 0: digest 'sha256:zz': not a sha256 digest/,
  );
  assert.throws(() => parseManifest(json({ ...manifest, layers: [{ mediaType: 'x', digest: d('a'), size: -1 }] }), 'm'), /size -1/);
  const m = parseManifest(json(manifest), 'm');
  assert.throws(
    () => layersOf(m, parseConfig(json({ ...config, rootfs: { type: 'layers', diff_ids: [d('u0')] } }), 'c'), 'm'),
    /layers length mismatch: expected 1, got 2/,
  );
  const weird = parseManifest(json({ ...manifest, layers: [{ mediaType: 'application/x-foo', digest: d('l0'), size: 1 }] }), 'm');
  assert.throws(
    () => layersOf(weird, parseConfig(json({ ...config, rootfs: { type: 'layers', diff_ids: [d('u0')] } }), 'c'), 'm'),
    /layer 'sha256:[0-9a-f]+': unsupported media type 'application\/x-foo'/,
  );
  assert.throws(() => parseConfig(json({ ...config, rootfs: { type: 'x', diff_ids: [] } }), 'c'), /rootfs type 'x'/);
  assert.throws(() => manifestKind(json({ schemaVersion: 1 }), undefined, 'm'), /schema 1 manifests are not supported/);
  assert.equal(manifestKind(json({ schemaVersion: 2, manifests: [] }), undefined, 'm'), 'index');
  assert.equal(manifestKind(json(manifest), MediaType.ociIndex, 'm'), 'manifest'); // the body's mediaType wins
});

test('platform selection: exact variant first, compatible ones next, attestations skipped', () => {
  const entry = (architecture: string, variant?: string, extra: object = {}) => ({
    mediaType: MediaType.ociManifest,
    digest: d(architecture + (variant ?? '')),
    size: 1,
    platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) },
    ...extra,
  });
  const index = parseIndex(
    json({
      schemaVersion: 2,
      manifests: [
        {
          ...entry('unknown'),
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
        },
        entry('arm', 'v6'),
        entry('arm', 'v7'),
        entry('arm64'),
        entry('amd64'),
      ],
    }),
    'i',
  ) as Index;
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'amd64' }, 'i').digest, d('amd64'));
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'i').digest, d('armv7'));
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'i').digest, d('armv6'));
  assert.equal(selectManifest(index, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'i').digest, d('arm64'));
  assert.throws(
    () => selectManifest(index, { os: 'linux', architecture: 's390x' }, 'i'),
    /i: no matching manifest for linux\/s390x in the manifest list entries/,
  );
});

test('compression is sniffed from the first bytes', () => {
  assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
  assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
  assert.equal(sniffCompression(Buffer.from('etc/')), 'none');
  assert.equal(sniffCompression(Buffer.alloc(0)), 'none');
});

test('fuzz: any bytes give a manifest, an index, a config or an invalid-argument error naming the blob', () => {
  const json = fc.oneof(
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
    fc
      .record({
        schemaVersion: fc.constantFrom(1, 2, '2'),
        mediaType: fc.constantFrom(MediaType.ociManifest, MediaType.ociIndex, 'x', undefined),
        config: fc.anything(),
        layers: fc.oneof(fc.array(fc.record({ mediaType: fc.string(), digest: fc.string(), size: fc.integer() })), fc.anything()),
        manifests: fc.anything(),
        rootfs: fc.oneof(fc.record({ type: fc.constant('layers'), diff_ids: fc.array(fc.string()) }), fc.anything()),
        os: fc.anything(),
        architecture: fc.anything(),
      })
      .map((v) => Buffer.from(JSON.stringify(v))),
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  );
  fc.assert(
    fc.property(json, (bytes) => {
      for (const parse of [
        () => manifestKind(bytes, undefined, "blob 'b'"),
        () => parseManifest(bytes, "blob 'b'"),
        () => parseIndex(bytes, "blob 'b'"),
        () => parseConfig(bytes, "blob 'b'"),
      ]) {
        try {
          parse();
        } catch (err) {
          assert.ok(err instanceof BerthError && err.kind === 'invalid-argument', String(err));
          assert.match(err.message, /blob 'b'/);
        }
      }
    }),
    { numRuns: fuzzRuns(300) },
  );
});
