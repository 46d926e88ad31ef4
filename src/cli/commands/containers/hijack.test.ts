import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, it } from 'node:test';
import { streamSession } from './hijack.js';

const frame = (t: number, s: string) => {
  const b = Buffer.alloc(8 + Buffer.byteLength(s));
  b[0] = t;
  b.writeUInt32BE(Buffer.byteLength(s), 4);
  b.write(s, 8);
  return b;
};

const dir = mkdtempSync(join(tmpdir(), 'berth-hijack-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A connected pair over a unix socket, half-open allowed both ways, as a hijacked attach is. */
async function pair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const path = join(dir, `s${n++}`);
  const srv = net.createServer({ allowHalfOpen: true });
  const server = new Promise<net.Socket>((resolve) => srv.once('connection', resolve));
  await new Promise<void>((resolve) => srv.listen(path, resolve));
  const client = net.connect({ path, allowHalfOpen: true });
  await new Promise((resolve) => client.once('connect', resolve));
  const s = await server;
  return {
    client,
    server: s,
    close: () => {
      client.destroy();
      s.destroy();
      srv.close();
    },
  };
}

const sink = () => {
  const p = new PassThrough();
  let text = '';
  p.on('data', (d: Buffer) => (text += d.toString()));
  return { stream: p, text: () => text };
};

describe('streamSession', () => {
  it('splits frames to stdout and stderr, with bytes read along with the 101 first, and half-closes without stdin', async () => {
    const { client, server, close } = await pair();
    const out = sink();
    const err = sink();
    let halfClosed = false;
    server.on('end', () => {
      halfClosed = true;
      server.write(Buffer.concat([frame(2, 'e1\n'), frame(1, 'o2\n')]));
      server.end();
    });
    const end = await streamSession(
      { socket: client, head: frame(1, 'o1\n') },
      { tty: false, stdout: out.stream, stderr: err.stream, detachKeys: [] },
    );
    close();
    assert.equal(end, 'done');
    assert.ok(halfClosed);
    assert.equal(out.text(), 'o1\no2\n');
    assert.equal(err.text(), 'e1\n');
  });

  it('a systemerr frame is an error; a stream cut inside a frame just ends', async () => {
    const a = await pair();
    a.server.end(Buffer.concat([frame(1, 'x'), frame(3, 'boom')]));
    await assert.rejects(
      streamSession(
        { socket: a.client, head: Buffer.alloc(0) },
        { tty: false, stdout: sink().stream, stderr: sink().stream, detachKeys: [] },
      ),
      /error from daemon in stream: boom/,
    );
    a.close();
    const b = await pair();
    b.server.end(frame(1, 'complete').subarray(0, 10));
    assert.equal(
      await streamSession({ socket: b.client, head: Buffer.alloc(0) }, { tty: false, stdout: sink().stream, detachKeys: [] }),
      'done',
    );
    b.close();
  });

  it('copies stdin up and half-closes at its end; the output goes on after', async () => {
    const { client, server, close } = await pair();
    const stdin = new PassThrough();
    const out = sink();
    let got = '';
    server.on('data', (d: Buffer) => (got += d.toString()));
    server.on('end', () => server.end(`echoed:${got}`));
    const session = streamSession(
      { socket: client, head: Buffer.alloc(0) },
      { tty: true, stdin, stdout: out.stream, detachKeys: [0x10, 0x11] },
    );
    stdin.write('abc');
    stdin.end('def');
    assert.equal(await session, 'done');
    close();
    assert.equal(out.text(), 'echoed:abcdef');
  });

  it('detaches on the keys: what came before them is sent, the connection is dropped, stdin is left alone', async () => {
    const { client, server, close } = await pair();
    const stdin = new PassThrough();
    let got = '';
    server.on('data', (d: Buffer) => (got += d.toString()));
    const closed = new Promise((resolve) => server.on('end', resolve));
    server.on('error', () => {});
    const session = streamSession(
      { socket: client, head: Buffer.alloc(0) },
      { tty: true, stdin, stdout: sink().stream, detachKeys: [0x10, 0x11] },
    );
    stdin.write('ls\x10');
    stdin.write('\x11after');
    assert.equal(await session, 'detached');
    await closed;
    close();
    assert.equal(got, 'ls');
    assert.equal(stdin.listenerCount('data'), 0);
    assert.ok(stdin.isPaused());
  });
});
