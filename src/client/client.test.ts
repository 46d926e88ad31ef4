import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { compareVersions, connect, encodeQuery, errorMessage } from './client.js';
import { ApiError, ConnectError } from './types.js';

describe('pure helpers', () => {
  it('compares versions numerically', () => {
    assert.equal(compareVersions('1.9', '1.41'), -1);
    assert.equal(compareVersions('1.50', '1.41'), 1);
    assert.equal(compareVersions('1.41', '1.41'), 0);
  });
  it('encodes queries like v28', () => {
    assert.equal(encodeQuery({ all: true, q: false, f: ['a', 'b'], n: 3, x: undefined, s: 'a b/c' }), '?all=1&q=0&f=a&f=b&n=3&s=a+b%2Fc');
    assert.equal(encodeQuery({}), '');
  });
  it('reads the JSON message only with exactly application/json', () => {
    const body = Buffer.from('{"message":"No such container: x"}');
    assert.equal(errorMessage(404, 'application/json', body, '/v1.41/x'), 'No such container: x');
    assert.equal(errorMessage(404, 'application/json; charset=utf-8', body, '/v1.41/x'), '{"message":"No such container: x"}');
    assert.equal(errorMessage(500, 'text/plain', Buffer.from('oops\n'), '/v1.41/x'), 'oops');
    assert.match(
      errorMessage(404, undefined, Buffer.alloc(0), '/v1.41/x'),
      /^request returned Not Found for API route and version \/v1\.41\/x/,
    );
  });
});

/** A small daemon double on a unix socket: records requests, answers per path. */
describe('client against an HTTP server', () => {
  let dir: string;
  let server: http.Server;
  let sock: string;
  const seen: { method: string; url: string; headers: http.IncomingHttpHeaders; port: number }[] = [];
  let apiVersion: string | undefined = '1.43';
  let headAllowed = true;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-client-'));
    sock = join(dir, 's.sock');
    server = http.createServer((req, res) => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        port: (req.socket as Socket & { _id?: number })._id ?? 0,
      });
      if (req.url === '/_ping') {
        if (req.method === 'HEAD' && !headAllowed) {
          res.writeHead(405).end();
          return;
        }
        if (apiVersion) res.setHeader('Api-Version', apiVersion);
        res.setHeader('Content-Length', req.method === 'GET' ? 2 : 0);
        res.end(req.method === 'GET' ? 'OK' : undefined);
        return;
      }
      const path = (req.url ?? '').replace(/^\/v[0-9.]+/, '');
      if (path === '/missing') {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"message":"No such container: nosuch"}');
      } else if (path === '/text') {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('plain failure\n');
      } else if (path.startsWith('/echo')) {
        const parts: Buffer[] = [];
        req.on('data', (c) => parts.push(c));
        req.on('end', () => {
          res
            .writeHead(200, { 'Content-Type': 'application/json' })
            .end(JSON.stringify({ n: Buffer.concat(parts).length, ct: req.headers['content-type'] }));
        });
      } else if (path === '/stream') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"a":1}\r\n');
        const t = setInterval(() => res.write('{"a":2}\r\n'), 20);
        res.on('close', () => clearInterval(t));
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      }
    });
    // The hijack endpoint: 101, then echo stdin back after the client half-closes, then end.
    server.on('upgrade', (req, socket: Socket) => {
      if (req.url?.includes('/quick')) {
        // output, then the daemon ends first (the process exited) while the client's stdin is open
        socket.end('HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nbye');
        return;
      }
      if (!req.url?.includes('/attach')) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n{"message":"No such thing"}\n');
        return;
      }
      socket.write(
        'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\nhello ',
      );
      const got: Buffer[] = [];
      socket.on('data', (c) => got.push(c));
      socket.on('end', () => {
        // The client's write side is closed: output must still reach it.
        setTimeout(() => socket.end(`got ${Buffer.concat(got).toString()}`), 20);
      });
    });
    let n = 0;
    server.on('connection', (s: Socket & { _id?: number }) => {
      s._id = ++n;
    });
    await new Promise<void>((r) => server.listen(sock, r));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('negotiates with HEAD /_ping, capped at 1.41, and reuses one connection', async () => {
    seen.length = 0;
    const c = connect({ host: `unix://${sock}` });
    assert.equal(c.host, `unix://${sock}`);
    const r = await c.json('GET', '/info');
    await c.json('GET', '/version');
    assert.equal(c.version, '1.41');
    assert.deepEqual(r.body, { ok: true });
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}`),
      ['HEAD /_ping', 'GET /v1.41/info', 'GET /v1.41/version'],
    );
    assert.equal(new Set(seen.map((s) => s.port)).size, 1, 'one keep-alive connection');
    assert.match(String(seen[1]?.headers['user-agent']), /^berth\/\d/);
    c.close();
  });
  it('takes a lower server version, falls back to GET, and to 1.24 without Api-Version', async () => {
    apiVersion = '1.40';
    headAllowed = false;
    seen.length = 0;
    const c = connect({ host: `unix://${sock}` });
    await c.json('GET', '/x');
    assert.equal(c.version, '1.40');
    assert.deepEqual(
      seen.map((s) => `${s.method} ${s.url}`),
      ['HEAD /_ping', 'GET /_ping', 'GET /v1.40/x'],
    );
    c.close();
    apiVersion = undefined;
    const c2 = connect({ host: `unix://${sock}` });
    await c2.json('GET', '/x');
    assert.equal(c2.version, '1.24');
    c2.close();
    apiVersion = '1.43';
    headAllowed = true;
  });
  it('a given API version skips the ping', async () => {
    seen.length = 0;
    const c = connect({ host: `unix://${sock}`, apiVersion: '1.30' });
    await c.json('GET', '/x');
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/v1.30/x'],
    );
    c.close();
  });
  it("errors carry the daemon's message", async () => {
    const c = connect({ host: `unix://${sock}` });
    await assert.rejects(
      c.json('GET', '/missing'),
      (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === 'No such container: nosuch',
    );
    await assert.rejects(
      c.stream('GET', '/text'),
      (e: unknown) => e instanceof ApiError && e.status === 500 && e.message === 'plain failure',
    );
    c.close();
  });
  it('a missing socket is a ConnectError naming the host', async () => {
    const c = connect({ host: `unix://${dir}/nope.sock` });
    await assert.rejects(
      c.json('GET', '/x'),
      (e: unknown) => e instanceof ConnectError && e.host === `unix://${dir}/nope.sock` && /Cannot connect/.test(e.message),
    );
    c.close();
  });
  it('sends JSON bodies and uploads streams', async () => {
    const c = connect({ host: `unix://${sock}` });
    const r = await c.json<{ n: number; ct: string }>('POST', '/echo', { body: { a: 1 } });
    assert.deepEqual(r.body, { n: 7, ct: 'application/json' });
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    const chunks = Array.from({ length: 80 }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    const u = await c.upload<{ n: number; ct: string }>('POST', '/echo', Readable.from(chunks));
    assert.deepEqual(u.body, { n: big.length, ct: 'application/x-tar' });
    c.close();
  });
  it('destroying a stream mid-way leaves no socket open', async () => {
    const c = connect({ host: `unix://${sock}`, apiVersion: '1.41' });
    const res = await c.stream('GET', '/stream');
    for await (const chunk of res) {
      assert.match(String(chunk), /"a":1/);
      break; // leaves the loop: the response (and its socket) is destroyed
    }
    await new Promise((r) => setTimeout(r, 50));
    const open = await new Promise<number>((r) => server.getConnections((_e, n) => r(n)));
    assert.equal(open, 0);
    c.close();
  });
  it('hijacks with 101 and keeps reading after closing its write side', { timeout: 10_000 }, async () => {
    const c = connect({ host: `unix://${sock}` });
    const { socket, head } = await c.hijack('POST', '/containers/x/attach', { query: { stream: true } });
    const parts: Buffer[] = [head];
    socket.on('data', (d) => parts.push(d));
    socket.end('stdin!');
    await new Promise((r) => socket.once('close', r));
    assert.equal(Buffer.concat(parts).toString(), 'hello got stdin!');
    // the daemon ending first ends the connection: nothing is left open to keep the CLI alive
    const quick = await c.hijack('POST', '/exec/quick/start');
    const got: Buffer[] = [quick.head];
    quick.socket.on('data', (d) => got.push(d));
    await new Promise((r) => quick.socket.once('close', r));
    assert.equal(Buffer.concat(got).toString(), 'bye');
    await assert.rejects(
      c.hijack('POST', '/exec/x/start'),
      (e: unknown) => e instanceof ApiError && e.status === 404 && e.message === 'No such thing',
    );
    c.close();
  });
});
