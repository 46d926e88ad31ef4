import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demux, FrameDecoder, frame, STDERR, STDOUT, SYSTEMERR } from './stdcopy.js';

test('a frame is [type,0,0,0,len BE] then the payload', () => {
  assert.deepEqual(frame(STDOUT, 'out\n'), Buffer.from('\x01\x00\x00\x00\x00\x00\x00\x04out\n', 'latin1'));
  assert.deepEqual(frame(STDERR, Buffer.alloc(0)), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]));
  const big = frame(STDOUT, Buffer.alloc(0x10203));
  assert.deepEqual([...big.subarray(0, 8)], [1, 0, 0, 0, 0, 1, 2, 3]);
});

test('the decoder reassembles frames split anywhere', () => {
  const all = Buffer.concat([frame(STDOUT, 'hello '), frame(STDERR, 'oops'), frame(STDOUT, 'world'), frame(SYSTEMERR, 'x')]);
  for (let cut = 0; cut <= all.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
    assert.deepEqual(
      frames.map((f) => [f.type, f.payload.toString()]),
      [
        [1, 'hello '],
        [2, 'oops'],
        [1, 'world'],
        [3, 'x'],
      ],
    );
    assert.equal(d.buffered, 0);
  }
  const r = demux(all);
  assert.equal(r.stdout.toString(), 'hello world');
  assert.equal(r.stderr.toString(), 'oops');
  assert.equal(r.systemerr.toString(), 'x');
});

test('unframed or truncated input is an error', () => {
  assert.throws(() => new FrameDecoder().push(Buffer.from('hello world')), /unknown stream type/);
  assert.throws(() => demux(frame(STDOUT, 'abc').subarray(0, 9)), /truncated/);
});
