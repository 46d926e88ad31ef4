import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { copyOutput, demux, eventsStream, jsonMessages, jsonValues, StreamError } from './streams.js';

function frame(type: number, s: string): Buffer {
  const p = Buffer.from(s);
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(p.length, 4);
  return Buffer.concat([h, p]);
}

class Sink extends Writable {
  parts: Buffer[] = [];
  constructor(highWaterMark = 16 * 1024) {
    super({ highWaterMark });
  }
  override _write(chunk: Buffer, _enc: string, cb: () => void) {
    this.parts.push(chunk);
    setImmediate(cb); // slow enough that write() returns false and demux must wait for drain
  }
  get text() {
    return Buffer.concat(this.parts).toString();
  }
}

/** The bytes re-cut into chunks of n bytes (every boundary position is exercised). */
function chunked(buf: Buffer, n: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) parts.push(buf.subarray(i, i + n));
  return Readable.from(parts);
}

describe('demux', () => {
  const bytes = Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n'), frame(1, ''), frame(0, 'in'), frame(1, 'x'.repeat(20000))]);
  for (const n of [1, 3, 8, 9, 1000, bytes.length]) {
    it(`splits stdout and stderr with chunks of ${n} bytes`, async () => {
      const out = new Sink(1);
      const err = new Sink(1);
      await demux(chunked(bytes, n), out, err);
      assert.equal(out.text, `out\nin${'x'.repeat(20000)}`);
      assert.equal(err.text, 'err\n');
    });
  }
  it('a type-3 frame is the daemon reporting an error', async () => {
    const out = new Sink();
    await assert.rejects(
      demux(Readable.from([Buffer.concat([frame(1, 'a'), frame(3, 'boom')])]), out, new Sink()),
      new StreamError('boom'),
    );
    assert.equal(out.text, 'a');
  });
  it('an unknown frame type is refused', async () => {
    await assert.rejects(demux(Readable.from([frame(9, 'a')]), new Sink(), new Sink()), /Unrecognized input header: 9/);
  });
  it('a truncated frame ends quietly with what was complete', async () => {
    const out = new Sink();
    await demux(Readable.from([Buffer.concat([frame(1, 'ok'), frame(1, 'lost').subarray(0, 10)])]), out, new Sink());
    assert.equal(out.text, 'ok');
  });
  it('a tty stream is copied raw', async () => {
    const out = new Sink();
    const raw = frame(1, 'not a frame for a tty');
    await copyOutput(Readable.from([raw]), { tty: true, stdout: out, stderr: new Sink() });
    assert.deepEqual(Buffer.concat(out.parts), raw);
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}

describe('jsonMessages', () => {
  const msgs = [
    { status: 'Pulling from x', id: 'latest' },
    { status: 'Downloading', progressDetail: { current: 1, total: 2 }, progress: '[=> ] {"}', id: 'abc' },
    { stream: 'brace } and quote \\" and \u00e9\n' },
    { aux: { Tag: 'v1', Digest: 'sha256:00', Size: 527 } },
  ];
  const framings = {
    crlf: msgs.map((m) => `${JSON.stringify(m)}\r\n`).join(''),
    lf: msgs.map((m) => `${JSON.stringify(m)}\n`).join(''),
    concatenated: msgs.map((m) => JSON.stringify(m)).join(''),
  };
  for (const [name, text] of Object.entries(framings)) {
    it(`reads ${name} messages across every chunk boundary`, async () => {
      const buf = Buffer.from(text);
      for (const n of [1, 2, 5, 17, buf.length]) assert.deepEqual(await collect(jsonMessages(chunked(buf, n))), msgs, `${name}/${n}`);
    });
  }
  it('stops at errorDetail with its message and code', async () => {
    const text = '{"status":"a"}\r\n{"errorDetail":{"code":3,"message":"The command returned 3"},"error":"x"}\r\n{"status":"b"}\r\n';
    const seen: unknown[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of jsonMessages(Readable.from([Buffer.from(text)]))) seen.push(m);
      })(),
      (e: unknown) => e instanceof StreamError && e.message === 'The command returned 3' && e.code === 3,
    );
    assert.deepEqual(seen, [{ status: 'a' }]);
  });
  it('a bare error (deprecated) still fails', async () => {
    await assert.rejects(collect(jsonMessages(Readable.from(['{"error":"old"}']))), { message: 'old' });
  });
  it('refuses garbage and truncation', async () => {
    await assert.rejects(collect(jsonValues(Readable.from(['{"a":1} nope']))), /invalid character 'n'/);
    await assert.rejects(collect(jsonValues(Readable.from(['{"a":']))), /unexpected EOF/);
    await assert.rejects(collect(jsonValues(Readable.from(['{"a":1,}']))), /invalid JSON/);
  });
  it('events are read as they come', async () => {
    const ev = { Type: 'container', Action: 'start', Actor: { ID: 'x', Attributes: {} }, time: 1, timeNano: 1 };
    assert.deepEqual(await collect(eventsStream(Readable.from([`${JSON.stringify(ev)}\n${JSON.stringify(ev)}`]))), [ev, ev]);
  });
});
