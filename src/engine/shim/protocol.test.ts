import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeData, encodeFrame, FrameDecoder, Kind, MAX_DATA_FRAME, type ShimRequest } from './protocol.js';
import { encodeSpawnRequest } from './spawner.js';

test('frames: u32 BE length of kind + payload, then the kind', () => {
  assert.deepEqual([...encodeFrame(Kind.json, '{}')], [0, 0, 0, 3, 0, 0x7b, 0x7d]);
  assert.deepEqual([...encodeFrame(Kind.eof, Buffer.from([Kind.stdin]))], [0, 0, 0, 2, 4, 1]);
});

test('frames: a decoder reassembles frames split anywhere and keeps the rest', () => {
  const bytes = Buffer.concat([encodeFrame(Kind.json, '{"a":1}'), encodeFrame(Kind.stdout, 'hello'), encodeFrame(Kind.stderr, '')]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
    assert.deepEqual(
      frames.map((f) => [f.kind, f.payload.toString()]),
      [
        [0, '{"a":1}'],
        [2, 'hello'],
        [3, ''],
      ],
      `cut at ${cut}`,
    );
  }
});

test('frames: a zero or huge length is a protocol error, not an allocation', () => {
  assert.throws(() => new FrameDecoder().push(Buffer.from([0, 0, 0, 0, 0])), /bad frame length 0/);
  assert.throws(() => new FrameDecoder().push(Buffer.from([0xff, 0xff, 0xff, 0xff, 2])), /bad frame length/);
});

test('frames: data is cut into frames of at most 32 KiB; a JSON frame over 64 KiB is refused', () => {
  const frames = encodeData(Kind.stdin, Buffer.alloc(MAX_DATA_FRAME * 2 + 1));
  assert.deepEqual(
    frames.map((f) => f.length - 5),
    [MAX_DATA_FRAME, MAX_DATA_FRAME, 1],
  );
  assert.throws(() => encodeFrame(Kind.json, 'x'.repeat(64 * 1024 + 1)), /more than 65536/);
});

test('a spawn request is the id, the length, and the request and plan frames, in one buffer', () => {
  // multi-byte UTF-8 in both: lengths are bytes, not characters
  const req = { v: 1, id: 'ünïcode-✓', state_dir: '/run/b/é' } as unknown as ShimRequest;
  const plan = 'berth-plan 1\nenv LANG=Ω≈ç\n';
  const bytes = encodeSpawnRequest(0x01020304, req, plan);
  assert.equal(bytes.readUInt32BE(0), 0x01020304);
  assert.equal(bytes.readUInt32BE(4), bytes.length - 8);
  const frames = new FrameDecoder().push(bytes.subarray(8));
  assert.deepEqual(
    frames.map((f) => [f.kind, f.payload.toString('utf8')]),
    [
      [Kind.json, JSON.stringify(req)],
      [Kind.plan, plan],
    ],
  );
  assert.deepEqual(encodeSpawnRequest(7, req).subarray(8), encodeFrame(Kind.json, JSON.stringify(req)));
  assert.throws(() => encodeSpawnRequest(1, req, 'x'.repeat(1024 * 1024 + 1)), /more than 1048576/);
});
