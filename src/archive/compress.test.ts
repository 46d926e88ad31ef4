import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { isKind } from '../common/errors.js';
import { type CompressOptions, compressLayer, findTool, layerMediaType } from './compress.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

// Compressible and incompressible parts, more than one pigz block (128 KiB) and one zstd job.
const layer = Buffer.concat([Buffer.alloc(300_000, 'layer text '), randomBytes(200_000), Buffer.alloc(1_200_000, 7)]);

async function run(input: Buffer, options: CompressOptions) {
  const { stream, result } = compressLayer(Readable.from([input.subarray(0, 1000), input.subarray(1000)]), options);
  const [blob, r] = await Promise.all([buffer(stream), result]);
  return { blob, r };
}

function checkGzipHeader(blob: Buffer): void {
  assert.deepEqual([...blob.subarray(0, 3)], [0x1f, 0x8b, 8], 'gzip, deflate');
  assert.equal(blob[3], 0, 'no flags: no file name, no comment, no extra field');
  assert.equal(blob.readUInt32LE(4), 0, 'mtime 0');
  assert.equal(blob[9], 3, 'OS 3 (Unix)');
}

test('gzip with zlib: both digests and sizes, mtime 0 in the header, the same bytes every time', async () => {
  const { blob, r } = await run(layer, { compression: 'gzip' });
  assert.deepEqual(r, { digest: sha(blob), size: blob.length, diffId: sha(layer), uncompressedSize: layer.length });
  assert.ok(r.size < layer.length);
  checkGzipHeader(blob);
  assert.deepEqual(gunzipSync(blob), layer);
  assert.equal((await run(layer, { compression: 'gzip' })).r.digest, r.digest);
});

test('gzip with pigz -n: no timestamp, decompresses to the layer, same bytes every time', async (t) => {
  if (!findTool('pigz')) return t.skip('needs pigz on PATH');
  const { blob, r } = await run(layer, { compression: 'gzip', gzip: 'pigz' });
  assert.equal(r.digest, sha(blob));
  assert.equal(r.diffId, sha(layer));
  checkGzipHeader(blob);
  assert.deepEqual(gunzipSync(blob), layer);
  assert.equal((await run(layer, { compression: 'gzip', gzip: 'pigz' })).r.digest, r.digest);
});

test('zstd -T0: decompresses to the layer with zstd -d, same bytes every time', async (t) => {
  if (!findTool('zstd')) return t.skip('needs zstd on PATH');
  const { blob, r } = await run(layer, { compression: 'zstd' });
  assert.deepEqual(r, { digest: sha(blob), size: blob.length, diffId: sha(layer), uncompressedSize: layer.length });
  assert.deepEqual([...blob.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'zstd frame magic');
  assert.deepEqual(execFileSync('zstd', ['-dc'], { input: blob, maxBuffer: 1 << 24 }), layer);
  assert.equal((await run(layer, { compression: 'zstd' })).r.digest, r.digest);
});

test('none: the blob is the tar, and its digest the diff_id', async () => {
  const { blob, r } = await run(layer, { compression: 'none' });
  assert.deepEqual(blob, layer);
  assert.equal(r.digest, r.diffId);
  assert.equal(r.size, r.uncompressedSize);
});

test('an empty layer compresses too', async () => {
  const { blob, r } = await run(Buffer.alloc(0), { compression: 'zstd' });
  assert.equal(r.uncompressedSize, 0);
  assert.deepEqual(execFileSync('zstd', ['-dc'], { input: blob }), Buffer.alloc(0));
});

for (const options of [{ compression: 'gzip' }, { compression: 'gzip', gzip: 'pigz' }, { compression: 'zstd' }] as CompressOptions[]) {
  test(`a tar that fails half-way fails the blob too, never ending it as if complete (${options.gzip ?? options.compression})`, async (t) => {
    const tool = options.compression === 'zstd' ? 'zstd' : options.gzip;
    if (tool && !findTool(tool)) return t.skip(`needs ${tool} on PATH`);
    const input = new Readable({ read() {} });
    input.push(layer.subarray(0, 200_000));
    setTimeout(() => input.destroy(new Error('disk read error')), 50);
    const { stream, result } = compressLayer(input, { ...options, layer: 'sha256:abc' });
    await assert.rejects(buffer(stream), /disk read error/);
    await assert.rejects(result, (err: Error) => err.message === "compress layer 'sha256:abc': disk read error");
  });
}

test('a compressor that fails is reported with its exit status and message', async (t) => {
  if (!findTool('pigz')) return t.skip('needs pigz on PATH');
  const { stream, result } = compressLayer(Readable.from([layer]), { compression: 'gzip', gzip: 'pigz', level: 13, layer: 'L' });
  await assert.rejects(buffer(stream));
  await assert.rejects(
    result,
    (err: Error) => isKind(err, 'internal') && /^compress layer 'L': pigz: exit status \d+: .*levels/.test(err.message),
  );
});

test('an abort fails the blob and the result', async () => {
  const ac = new AbortController();
  const input = new Readable({ read() {} });
  input.push(layer);
  const { stream, result } = compressLayer(input, { compression: 'zstd', signal: ac.signal });
  setTimeout(() => ac.abort(), 30);
  await assert.rejects(buffer(stream), /aborted/);
  await assert.rejects(result, /aborted/);
});

test('media types follow the compression', () => {
  assert.equal(layerMediaType('gzip'), 'application/vnd.oci.image.layer.v1.tar+gzip');
  assert.equal(layerMediaType('zstd'), 'application/vnd.oci.image.layer.v1.tar+zstd');
  assert.equal(layerMediaType('none'), 'application/vnd.oci.image.layer.v1.tar');
});
