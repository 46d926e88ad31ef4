import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Digest } from '../oci/image.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, selectManifest } from './platform.js';

const entry = (name: string, platform?: object, annotations?: Record<string, string>) => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: sha256Digest(name),
  size: 1,
  ...(platform ? { platform: platform as { os: string; architecture: string } } : {}),
  ...(annotations ? { annotations } : {}),
});

test('Node architectures map to OCI platforms', () => {
  assert.deepEqual(hostPlatform('x64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(hostPlatform('arm64'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  assert.deepEqual(hostPlatform('arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(hostPlatform('arm', '6'), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.deepEqual(hostPlatform('ia32'), { os: 'linux', architecture: '386' });
  assert.deepEqual(hostPlatform('ppc64'), { os: 'linux', architecture: 'ppc64le' });
  assert.deepEqual(hostPlatform('s390x'), { os: 'linux', architecture: 's390x' });
  assert.throws(() => hostPlatform('vax'), /unknown architecture 'vax'/);
});

test('platform strings parse, normalize and print as dockerd does', () => {
  assert.deepEqual(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('linux/armhf'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.deepEqual(parsePlatform('aarch64'), { os: 'linux', architecture: 'arm64' });
  assert.deepEqual(parsePlatform('linux/x86_64'), { os: 'linux', architecture: 'amd64' });
  assert.deepEqual(parsePlatform('windows'), { os: 'windows', architecture: 'amd64' });
  assert.throws(() => parsePlatform('Linux/AMD64'), /want os\/arch\[\/variant\] in lower case/);
  assert.throws(() => parsePlatform('a/b/c/d'), /parse platform 'a\/b\/c\/d'/);
  assert.equal(formatPlatform({ os: 'linux', architecture: 'arm64' }), 'linux/arm64/v8');
  assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
  assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'arm', variant: '6' }), {
    os: 'linux',
    architecture: 'arm',
    variant: 'v6',
  });
});

test('selection: exact match, arm fallbacks, attestations skipped, dockerd text when nothing fits', () => {
  const index = {
    manifests: [
      entry('att', { os: 'unknown', architecture: 'unknown' }, { 'vnd.docker.reference.type': 'attestation-manifest' }),
      entry('nop'),
      entry('armv5', { os: 'linux', architecture: 'arm', variant: 'v5' }),
      entry('armv6', { os: 'linux', architecture: 'arm', variant: 'v6' }),
      entry('arm64', { os: 'linux', architecture: 'arm64', variant: 'v8' }),
      entry('amd64', { os: 'linux', architecture: 'amd64' }),
      entry('amd64-again', { os: 'linux', architecture: 'amd64' }),
      entry('win', { os: 'windows', architecture: 'amd64' }),
    ],
  };
  const pick = (p: object) => selectManifest(index, p as { os: string; architecture: string }).digest;
  assert.equal(pick({ os: 'linux', architecture: 'amd64' }), sha256Digest('amd64'));
  assert.equal(pick({ os: 'linux', architecture: 'arm64' }), sha256Digest('arm64'));
  assert.equal(pick({ os: 'linux', architecture: 'aarch64', variant: '8' }), sha256Digest('arm64'));
  assert.equal(pick({ os: 'linux', architecture: 'arm', variant: 'v7' }), sha256Digest('armv6'));
  assert.equal(pick({ os: 'linux', architecture: 'arm', variant: 'v5' }), sha256Digest('armv5'));
  assert.equal(pick({ os: 'windows', architecture: 'amd64' }), sha256Digest('win'));
  assert.throws(
    () => selectManifest({ manifests: [index.manifests[0]!, index.manifests[5]!] }, { os: 'linux', architecture: 'arm64', variant: 'v8' }),
    (err: Error) => err.message === 'no matching manifest for linux/arm64/v8 in the manifest list entries',
  );
  // an attestation is never chosen, even for a platform named 'unknown'
  assert.throws(() => selectManifest(index, { os: 'unknown', architecture: 'unknown' }), /no matching manifest/);
  assert.throws(() => selectManifest({ manifests: [] }, { os: 'linux', architecture: 'amd64' }), /no matching manifest for linux\/amd64/);
});
