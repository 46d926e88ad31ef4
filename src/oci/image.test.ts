import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertDigest, chainIds, layerCompression, MediaType, sha256Digest } from './image.js';

test('chain ids follow image-spec config.md', () => {
  const a = sha256Digest('a');
  const b = sha256Digest('b');
  const c = sha256Digest('c');
  const ids = chainIds([a, b, c]);
  assert.equal(ids[0], a);
  assert.equal(ids[1], sha256Digest(`${a} ${b}`));
  assert.equal(ids[2], sha256Digest(`${ids[1]} ${c}`));
  assert.throws(() => chainIds(['sha256:xyz']), /diff_id 'sha256:xyz': not a sha256 digest/);
});

test('digests are validated and sha512 refused by name', () => {
  assert.throws(() => assertDigest('sha256:ABC'), /not a sha256 digest/);
  assert.throws(() => assertDigest(`sha512:${'a'.repeat(128)}`), /sha512 digests are not supported/);
  assert.equal(assertDigest(sha256Digest('')), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('layer media types declare their compression', () => {
  assert.equal(layerCompression(MediaType.dockerLayerGzip), 'gzip');
  assert.equal(layerCompression(MediaType.ociLayerZstd), 'zstd');
  assert.equal(layerCompression(MediaType.ociLayer), 'none');
  assert.equal(layerCompression(MediaType.ociConfig), undefined);
});
