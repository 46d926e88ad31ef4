/**
 * The Engine API's HTTP layer against real clients: the v28 and 20.10 docker CLIs, docker-py,
 * and raw sockets for what the CLIs do on the wire (an upgrade with the JSON body and stdin in
 * one packet, then a half-close while output continues). The server runs in this process on a
 * temporary unix socket (and a TLS TCP port) with the system routes and a few test-only routes.
 * Every client is spawned asynchronously: a synchronous spawn would block the server it calls.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { groupId } from '../src/api/listen.js';
import { systemRoutes } from '../src/api/routes/system.js';
import { type ApiServer, createApiServer, type Logger } from '../src/api/server.js';
import { demux, FrameDecoder, frame, STDOUT } from '../src/api/stdcopy.js';
import type { Route } from '../src/api/types.js';
import { BerthError, type ErrorKind } from '../src/common/errors.js';
import { EventBus } from '../src/engine/events.js';

const DOCKER_V28 = '/usr/local/bin/docker';
const DOCKER_2010 = '/usr/bin/docker';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: Record<string, string> = {}, timeout = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const logged: string[] = [];
const logger: Logger = {
  debug: (m) => logged.push(`debug ${m}`),
  info: () => {},
  warn: (m) => logged.push(`warn ${m}`),
  error: (m) => logged.push(`error ${m}`),
};

/** What the test routes saw (client-went-away signals, stdin). */
const seen = { aborted: 0, stdin: '', attachClosed: 0 };

const testRoutes: Route[] = [
  // An exec-start look-alike: the JSON body comes first (from the same packet as the head),
  // the rest of the connection is stdin; output goes on after the client's half-close.
  {
    method: 'POST',
    path: '/exec/{id}/start',
    handler: async (req, res) => {
      const body = await req.json<Record<string, unknown>>();
      const s = res.hijack();
      s.write(frame(STDOUT, `body ${JSON.stringify(body)}\n`));
      let stdin = '';
      s.on('data', (c: Buffer) => {
        stdin += c.toString();
        s.write(frame(STDOUT, `echo ${c.toString()}`));
      });
      s.on('end', async () => {
        seen.stdin = stdin;
        await sleep(150);
        s.write(frame(STDOUT, 'after-eof\n'));
        s.end();
      });
    },
  },
  // An attach that writes until the client is gone.
  {
    method: 'POST',
    path: '/containers/{id}/attach',
    handler: (_req, res) => {
      const s = res.hijack({ contentType: 'application/vnd.docker.multiplexed-stream' });
      const timer = setInterval(() => s.write(frame(STDOUT, 'x'.repeat(65536))), 5);
      s.on('close', () => {
        clearInterval(timer);
        seen.attachClosed++;
      });
    },
  },
  {
    method: 'GET',
    path: '/test/error/{kind}',
    handler: (req) => {
      throw new BerthError(req.params.kind as ErrorKind, `boom ${req.params.kind}`);
    },
  },
  {
    method: 'GET',
    path: '/test/crash',
    handler: () => {
      throw new TypeError('cannot read properties of undefined');
    },
  },
  // Just enough of a container and its exec for `docker exec` to reach the hijack above.
  {
    method: 'GET',
    path: '/containers/{id}/json',
    handler: (req, res) => {
      if (req.params.id !== 'c1') throw new BerthError('not-found', `No such container: ${req.params.id}`);
      res.json({ Id: 'c1', Name: '/c1', State: { Status: 'running', Running: true }, Config: { Tty: false } });
    },
  },
  {
    method: 'POST',
    path: '/containers/{id}/exec',
    handler: async (req, res) => {
      const body = await req.json<{ Cmd?: string[] }>();
      res.json({ Id: `exec-${(body.Cmd ?? []).join('-')}` }, 201);
    },
  },
  {
    method: 'GET',
    path: '/exec/{id}/json',
    handler: (req, res) => res.json({ ID: req.params.id, Running: false, ExitCode: 3, ProcessConfig: { tty: false }, ContainerID: 'c1' }),
  },
  {
    method: 'GET',
    path: '/test/stream',
    handler: async (_req, res) => {
      const out = res.stream('text/plain');
      await sleep(300);
      out.write('one\n');
      out.end('two\n');
    },
  },
  {
    method: 'GET',
    path: '/test/late-error',
    handler: async (_req, res) => {
      const out = res.stream('text/plain');
      out.write('partial\n');
      await sleep(50);
      throw new Error('failed midway');
    },
  },
  {
    method: 'POST',
    path: '/test/progress',
    handler: async (req, res) => {
      if (req.bool('early')) throw new BerthError('not-found', 'manifest unknown');
      const p = res.progress();
      p.write({ status: 'Pulling from x', id: 'latest' });
      throw new Error('connection reset');
    },
  },
  {
    method: 'POST',
    path: '/test/json',
    handler: async (req, res) => res.json(await req.json()),
  },
  {
    method: 'GET',
    path: '/test/wait',
    handler: async (req, res) => {
      res.stream('application/json');
      await new Promise<void>((resolve) => req.signal.addEventListener('abort', () => resolve()));
      seen.aborted++;
    },
  },
];

let dir: string;
let sock: string;
let server: ApiServer;
const bus = new EventBus();
const env = () => ({ DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(dir, 'docker-config'), DOCKER_BUILDKIT: '0' });

/** One raw HTTP exchange on the socket: sends `data`, returns everything read until close. */
function rawExchange(data: string | Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ path: sock });
    const chunks: Buffer[] = [];
    c.on('data', (d) => chunks.push(d));
    c.on('error', reject);
    c.on('close', () => resolve(Buffer.concat(chunks)));
    c.end(data);
  });
}

function request(
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const r = http.request({ socketPath: sock, method, path }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        text += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-api-'));
  sock = join(dir, 'run', 'berth.sock');
  const info = { info: async () => ({ Containers: 7, Images: 3, DockerRootDir: dir }) };
  server = createApiServer([...systemRoutes({ events: bus, info }), ...testRoutes], { logger, closeGraceMs: 500 });
  assert.deepEqual(await server.listen([`unix://${sock}`]), [`unix://${sock}`]);
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the docker CLIs and docker-py', () => {
  test('v28 and 20.10 negotiate API 1.41', { skip: !existsSync(DOCKER_V28) && 'no v28 CLI' }, async () => {
    for (const cli of [DOCKER_V28, DOCKER_2010].filter(existsSync)) {
      const r = await run(cli, ['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}} {{.Server.Arch}}'], env());
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout.trim(), /^1\.41 linux (amd64|arm64|\S+)$/, cli);
    }
  });

  test('docker info prints no "WARNING: No ... support" lines', { skip: !existsSync(DOCKER_2010) && 'no 20.10 CLI' }, async () => {
    for (const cli of [DOCKER_2010, DOCKER_V28].filter(existsSync)) {
      const r = await run(cli, ['info'], env());
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout + r.stderr, /WARNING: No/, cli);
      assert.match(r.stdout, /Cgroup Driver: cgroupfs/);
      assert.match(r.stdout, /Swarm: inactive/);
    }
    const f = await run(DOCKER_V28, ['info', '--format', '{{.Containers}} {{.Images}} {{.DockerRootDir}} {{.OSType}}'], env());
    assert.equal(f.stdout.trim(), `7 3 ${dir} linux`, 'the engine provider overrides the host defaults');
  });

  test('docker events replays the bus between --since and --until, filtered, and ends at until', async () => {
    bus.publish('container', 'create', 'f00dfeed', { name: 'c-events', image: 'busybox' });
    bus.publish('volume', 'create', 'vol-events', { driver: 'local' });
    const until = Math.floor(Date.now() / 1000) + 1;
    const started = Date.now();
    const r = await run(DOCKER_V28, ['events', '--since', '0', '--until', String(until), '--filter', 'type=container'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /container create f00dfeed \(image=busybox, name=c-events\)/);
    assert.doesNotMatch(r.stdout, /vol-events/);
    assert.ok(Date.now() - started < 5000, 'the stream ended at until');
    const old = await run(DOCKER_2010, ['events', '--since', '0', '--until', String(until), '--format', '{{.Actor.ID}}'], env());
    assert.equal(old.code, 0, old.stderr);
    assert.deepEqual(old.stdout.trim().split('\n'), ['f00dfeed', 'vol-events']);
  });

  test('a live event reaches a streaming subscriber at once', async () => {
    const chunks: string[] = [];
    const got = new Promise<void>((resolve, reject) => {
      const r = http.get({ socketPath: sock, path: '/v1.41/events?filters=%7B%22event%22%3A%7B%22die%22%3Atrue%7D%7D' }, (res) => {
        assert.equal(res.headers['content-type'], 'application/json');
        // The headers are flushed before any event exists.
        bus.publish('container', 'start', 'aaa', {});
        bus.publish('container', 'die', 'bbb', { exitCode: '3' });
        res.on('data', (c: Buffer) => {
          chunks.push(c.toString());
          r.destroy();
          resolve();
        });
      });
      r.on('error', (e) => (chunks.length ? undefined : reject(e)));
    });
    await got;
    const e = JSON.parse(chunks.join('').split('\n')[0] as string);
    assert.equal(e.Action, 'die');
    assert.equal(e.Actor.ID, 'bbb');
    await sleep(100);
    assert.equal(bus.subscribers, 0, 'the subscriber left with its client');
  });

  test('an events subscriber that does not read is dropped, not buffered without bound', async () => {
    const c = net.connect({ path: sock });
    c.on('error', () => {});
    c.write('GET /events HTTP/1.1\r\nHost: x\r\n\r\n');
    c.pause(); // never read
    for (let i = 0; i < 100 && bus.subscribers === 0; i++) await sleep(20);
    assert.equal(bus.subscribers, 1);
    const big = 'x'.repeat(8192);
    for (let i = 0; i < 1000 && bus.subscribers > 0; i++) {
      bus.publish('container', 'flood', `id${i}`, { big });
      if (i % 50 === 0) await sleep(5);
    }
    assert.equal(bus.subscribers, 0, 'the stalled subscriber was dropped');
    c.destroy();
  });

  test('the CLI shows an error body as a message, so Content-Type is exact', async () => {
    const r = await run(DOCKER_V28, ['container', 'inspect', 'nosuch'], env());
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such container: nosuch/);
    assert.doesNotMatch(r.stderr, /\{"message"/);
  });

  test('docker exec -i goes through the upgrade: body, stdin, output after stdin EOF, exit code', async () => {
    for (const cli of [DOCKER_V28, DOCKER_2010].filter(existsSync)) {
      const r = await new Promise<Run>((resolve) => {
        const child = execFile(
          cli,
          ['exec', '-i', 'c1', 'cat'],
          { env: { ...process.env, ...env() }, timeout: 20_000 },
          (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
        );
        child.stdin?.end('from-stdin');
      });
      assert.equal(r.code, 3, `${cli}: ${r.stderr}`);
      assert.match(r.stdout, /^body \{.*"Detach":false.*\}\necho from-stdinafter-eof\n$/, cli);
    }
  });

  test('docker-py pings and reads the version', async (t) => {
    const probe = await run('python3', ['-c', 'import docker']);
    if (probe.code !== 0) return t.skip('python3 has no docker module');
    const r = await run('python3', [
      '-c',
      `import docker; c = docker.DockerClient(base_url='unix://${sock}'); print(c.ping(), c.version()['ApiVersion'])`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'True 1.41');
  });
});

describe('the wire', () => {
  test('/_ping answers HEAD and GET with dockerd headers and no Builder-Version', async () => {
    for (const [method, path] of [
      ['HEAD', '/_ping'],
      ['GET', '/_ping'],
      ['GET', '/v1.41/_ping'],
    ] as const) {
      const r = await request(method, path);
      assert.equal(r.status, 200);
      assert.equal(r.body, method === 'GET' ? 'OK' : '');
      assert.equal(r.headers['api-version'], '1.41');
      assert.equal(r.headers['docker-experimental'], 'false');
      assert.equal(r.headers.ostype, 'linux');
      assert.match(String(r.headers.server), /^Berth\/\S+ \(linux\)$/);
      assert.equal(r.headers['cache-control'], 'no-cache, no-store, must-revalidate');
      assert.equal(r.headers.pragma, 'no-cache');
      assert.equal(r.headers['builder-version'], undefined);
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(r.headers['content-length'], method === 'GET' ? '2' : '0');
    }
    const absolute = await rawExchange('GET http://docker/v1.41/_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n');
    assert.match(absolute.toString(), /^HTTP\/1.1 200 OK\r\n[\s\S]*\r\n\r\nOK$/);
  });

  test('errors: kind → status, exactly application/json, message only, logged', async () => {
    for (const [kind, status] of [
      ['not-found', 404],
      ['already-exists', 409],
      ['failed-precondition', 409],
      ['invalid-argument', 400],
      ['permission-denied', 403],
      ['not-implemented', 501],
      ['unavailable', 503],
      ['internal', 500],
    ] as const) {
      const r = await request('GET', `/v1.41/test/error/${kind}`);
      assert.equal(r.status, status, kind);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['api-version'], '1.41');
      assert.deepEqual(JSON.parse(r.body), { message: `boom ${kind}` });
    }
    const crash = await request('GET', '/test/crash');
    assert.equal(crash.status, 500);
    assert.equal(crash.body, '{"message":"cannot read properties of undefined"}\n');
    assert.ok(
      logged.some((l) => l.startsWith('error GET /test/crash: 500 cannot read properties')),
      logged.join('\n'),
    );
    const notFound = await request('GET', '/nope');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body, '{"message":"page not found"}\n');
    const tooNew = await request('GET', '/v1.99/version');
    assert.equal(tooNew.status, 400);
    assert.equal(JSON.parse(tooNew.body).message, 'client version 1.99 is too new. Maximum supported API version is 1.41');
  });

  test('bodies: JSON echoed, malformed JSON a 400 naming the route, oversized refused', async () => {
    assert.deepEqual(JSON.parse((await request('POST', '/test/json', '{"a":[1]}')).body), { a: [1] });
    const bad = await request('POST', '/test/json', '{"a":');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.body).message, /^invalid JSON: .*POST \/test\/json/);
    const big = await rawExchange(
      'POST /test/json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20000000\r\n\r\n{"a":',
    );
    assert.match(big.toString(), /^HTTP\/1.1 400 /);
    assert.match(big.toString(), /larger than 10485760 bytes/);
  });

  test('a stream has its headers flushed before the first byte', async () => {
    const t0 = Date.now();
    let headersAt = 0;
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ socketPath: sock, path: '/test/stream' }, (res) => {
          headersAt = Date.now() - t0;
          assert.equal(res.headers['transfer-encoding'], 'chunked');
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve(text));
        })
        .on('error', reject);
    });
    assert.ok(headersAt < 250, `headers after ${headersAt} ms`);
    assert.equal(body, 'one\ntwo\n');
  });

  test('an error after the stream started breaks the connection, not a clean end', async () => {
    const out = await new Promise<{ text: string; error: string }>((resolve) => {
      let text = '';
      http
        .get({ socketPath: sock, path: '/test/late-error' }, (res) => {
          res.on('data', (c) => {
            text += c;
          });
          res.on('error', (e) => resolve({ text, error: e.message }));
          res.on('end', () => resolve({ text, error: '' }));
        })
        .on('error', (e) => resolve({ text, error: e.message }));
    });
    assert.equal(out.text, 'partial\n');
    assert.notEqual(out.error, '');
  });

  test('progress: an early error is an HTTP error; a later one goes inside the stream', async () => {
    const early = await request('POST', '/test/progress?early=1');
    assert.equal(early.status, 404);
    assert.deepEqual(JSON.parse(early.body), { message: 'manifest unknown' });
    const late = await request('POST', '/test/progress');
    assert.equal(late.status, 200);
    assert.equal(late.headers['content-type'], 'application/json');
    assert.equal(
      late.body,
      '{"status":"Pulling from x","id":"latest"}\r\n{"errorDetail":{"message":"connection reset"},"error":"connection reset"}\r\n',
    );
  });

  test('a client going away aborts the request signal', async () => {
    const before = seen.aborted;
    await new Promise<void>((resolve) => {
      const r = http.get({ socketPath: sock, path: '/test/wait' }, () => {
        r.destroy();
        resolve();
      });
      r.on('error', () => {});
    });
    for (let i = 0; i < 50 && seen.aborted === before; i++) await sleep(20);
    assert.equal(seen.aborted, before + 1);
  });
});

describe('hijacking', () => {
  test('upgrade: 101 at once, JSON body from the first packet, stdin after it, output after the half-close', async () => {
    const body = '{"Detach":false,"Tty":false}';
    const c = net.connect({ path: sock });
    const received: Buffer[] = [];
    c.on('data', (d) => received.push(d));
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    await new Promise<void>((resolve) => c.on('connect', () => resolve()));
    // Head, body and the first stdin bytes in one write, as the CLI's packets arrive.
    c.write(
      `POST /v1.41/exec/e1/start HTTP/1.1\r\nHost: \r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}first-stdin`,
    );
    for (let i = 0; i < 100 && !Buffer.concat(received).includes('echo first-stdin'); i++) await sleep(20);
    c.write('second');
    await sleep(100);
    c.end(); // the half-close: stdin is over, output must go on
    await closed;
    const all = Buffer.concat(received);
    const headEnd = all.indexOf('\r\n\r\n') + 4;
    assert.equal(
      all.subarray(0, headEnd).toString(),
      'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n',
    );
    const out = demux(all.subarray(headEnd)).stdout.toString();
    assert.equal(out, `body ${body}\necho first-stdinecho secondafter-eof\n`);
    assert.equal(seen.stdin, 'first-stdinsecond');
  });

  test('upgrade: the body may come after the head, in pieces', async () => {
    const body = '{"Detach":false}';
    const c = net.connect({ path: sock });
    const received: Buffer[] = [];
    c.on('data', (d) => received.push(d));
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    c.write(`POST /exec/e2/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ${body.length}\r\n\r\n`);
    await sleep(50);
    c.write(body.slice(0, 5));
    await sleep(50);
    c.end(`${body.slice(5)}in`);
    await closed;
    const all = Buffer.concat(received);
    const out = demux(all.subarray(all.indexOf('\r\n\r\n') + 4)).stdout.toString();
    assert.equal(out, `body ${body}\necho inafter-eof\n`);
  });

  test('a client that resets mid-stream closes the hijacked stream, with no EPIPE thrown', async () => {
    const before = seen.attachClosed;
    const c = net.connect({ path: sock });
    c.on('error', () => {});
    let got = 0;
    c.on('data', (d) => {
      got += d.length;
    });
    c.write('POST /v1.41/containers/c1/attach?stream=1&stdout=1 HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    for (let i = 0; i < 100 && got < 200_000; i++) await sleep(10);
    c.destroy(); // unread data in its buffer: the server's next write fails (EPIPE)
    for (let i = 0; i < 100 && seen.attachClosed === before; i++) await sleep(10);
    assert.equal(seen.attachClosed, before + 1);
  });

  test('upgrade to an unknown route is an ordinary 404, then the connection closes', async () => {
    const reply = await rawExchange('POST /exec/x/nope HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    assert.match(reply.toString(), /^HTTP\/1.1 404 Not Found\r\n/);
    assert.match(reply.toString(), /Content-Type: application\/json\r\n/);
    assert.match(reply.toString(), /\{"message":"page not found"\}\n$/);
  });

  test('without Upgrade: a 200 raw stream flushed at once, the body as stdin', async () => {
    const result = await new Promise<{ status: number; type: string; data: Buffer }>((resolve, reject) => {
      const r = http.request(
        { socketPath: sock, method: 'POST', path: '/exec/e3/start', headers: { 'Content-Type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', data: Buffer.concat(chunks) }),
          );
        },
      );
      r.on('error', reject);
      r.end('{"Detach":false}');
    });
    assert.equal(result.status, 200);
    assert.equal(result.type, 'application/vnd.docker.raw-stream');
    const frames = new FrameDecoder().push(result.data).map((f) => f.payload.toString());
    assert.deepEqual(frames, ['body {"Detach":false}\n', 'after-eof\n']);
  });
});

describe('listeners', () => {
  test('the unix socket is mode 0660, root-owned, group docker or berth when it exists', () => {
    const st = statSync(sock);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    const g = groupId(['docker', 'berth']);
    if (g) assert.equal(st.gid, g.gid);
  });

  test('a live socket is refused and keeps answering; a stale one is replaced; a file is left alone', async () => {
    const other = createApiServer(systemRoutes({ events: bus }), { logger });
    await assert.rejects(other.listen([`unix://${sock}`]), /another daemon is listening/);
    assert.equal((await request('GET', '/_ping')).body, 'OK');
    await other.close();

    const stale = join(dir, 'stale.sock');
    // A socket file nobody listens on, as a SIGKILLed daemon leaves it.
    const py = await run('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind('${stale}')`]);
    assert.equal(py.code, 0, py.stderr);
    assert.ok(statSync(stale).isSocket());
    const fresh = createApiServer(systemRoutes({ events: bus }), { logger });
    await fresh.listen([`unix://${stale}`]);
    const r = await run(DOCKER_V28, ['version', '--format', '{{.Server.APIVersion}}'], { ...env(), DOCKER_HOST: `unix://${stale}` });
    assert.equal(r.stdout.trim(), '1.41', r.stderr);
    await fresh.close();
    assert.equal(existsSync(stale), false, 'close() removes its socket');

    const file = join(dir, 'file.sock');
    writeFileSync(file, 'keep me');
    const third = createApiServer([], { logger });
    await assert.rejects(third.listen([`unix://${file}`]), /not a socket/);
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
    await third.close();
  });

  test('TCP without TLS verification is refused off loopback; fd:// is refused', async () => {
    const s = createApiServer([], { logger });
    await assert.rejects(s.listen(['tcp://0.0.0.0:0']), /refusing a TCP listener without TLS client verification/);
    await assert.rejects(s.listen([{ kind: 'tcp', host: '0.0.0.0', port: 0, tls: { cert: 'x', key: 'y', verify: false } }]), /refusing/);
    await assert.rejects(s.listen(['fd://']), /fd:\/\/\) is not supported/);
    logged.length = 0;
    const [addr] = await s.listen(['tcp://127.0.0.1:0']);
    assert.match(addr ?? '', /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(logged.some((l) => /^warn listening on tcp:\/\/127\.0\.0\.1:0 without TLS/.test(l)));
    await s.close();
  });

  test('TLS with --tlsverify: the CLI with a client certificate works, a client without one is refused', async () => {
    const pki = join(dir, 'pki');
    const o = (args: string[]) => run('openssl', args).then((r) => assert.equal(r.code, 0, r.stderr));
    await run('mkdir', ['-p', pki]);
    const p = (f: string) => join(pki, f);
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await o(['req', '-x509', ...ec, '-keyout', p('ca-key.pem'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=berth-test-ca']);
    writeFileSync(p('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    writeFileSync(p('client.ext'), 'extendedKeyUsage=clientAuth\n');
    for (const who of ['server', 'client']) {
      await o(['req', ...ec, '-keyout', p(`${who}-key.pem`), '-out', p(`${who}.csr`), '-subj', `/CN=${who}`]);
      await o([
        'x509',
        '-req',
        '-in',
        p(`${who}.csr`),
        '-CA',
        p('ca.pem'),
        '-CAkey',
        p('ca-key.pem'),
        '-CAcreateserial',
        '-out',
        p(`${who}.pem`),
        '-days',
        '2',
        '-extfile',
        p(`${who}.ext`),
      ]);
    }
    const s = createApiServer([...systemRoutes({ events: bus }), ...testRoutes], { logger });
    const [addr] = await s.listen([
      {
        kind: 'tcp',
        host: '127.0.0.1',
        port: 0,
        tls: { ca: readFileSync(p('ca.pem')), cert: readFileSync(p('server.pem')), key: readFileSync(p('server-key.pem')), verify: true },
      },
    ]);
    const port = Number(/:(\d+)$/.exec(addr ?? '')?.[1]);
    try {
      const r = await run(
        DOCKER_V28,
        [
          '--tlsverify',
          '--tlscacert',
          p('ca.pem'),
          '--tlscert',
          p('client.pem'),
          '--tlskey',
          p('client-key.pem'),
          '-H',
          `tcp://127.0.0.1:${port}`,
          'version',
          '--format',
          '{{.Server.APIVersion}}',
        ],
        { DOCKER_CONFIG: join(dir, 'docker-config') },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), '1.41');
      const noCert = await new Promise<string>((resolve) => {
        const req = https.get({ host: '127.0.0.1', port, path: '/_ping', ca: readFileSync(p('ca.pem')) }, (res) =>
          resolve(`answered ${res.statusCode}`),
        );
        req.on('error', (e) => resolve(`refused: ${e.message}`));
      });
      assert.match(noCert, /^refused/);
      // A hijack over TLS: the client's half-close (close_notify) must not end the output.
      const c = tls.connect({
        host: '127.0.0.1',
        port,
        ca: readFileSync(p('ca.pem')),
        cert: readFileSync(p('client.pem')),
        key: readFileSync(p('client-key.pem')),
      });
      const received: Buffer[] = [];
      c.on('data', (d) => received.push(d));
      const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
      await new Promise<void>((resolve) => c.on('secureConnect', () => resolve()));
      c.write('POST /exec/t1/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}tls-in');
      for (let i = 0; i < 100 && !Buffer.concat(received).includes('echo tls-in'); i++) await sleep(20);
      c.end();
      await closed;
      const all = Buffer.concat(received);
      assert.equal(demux(all.subarray(all.indexOf('\r\n\r\n') + 4)).stdout.toString(), 'body {}\necho tls-inafter-eof\n');
    } finally {
      await s.close();
    }
  });

  test('close() ends hijacked and idle connections and removes the socket', async () => {
    const s = createApiServer(testRoutes, { logger, closeGraceMs: 300 });
    const path = join(dir, 'close.sock');
    await s.listen([`unix://${path}`]);
    const c = net.connect({ path });
    const closed = new Promise<void>((resolve) => c.on('close', () => resolve()));
    c.on('error', () => {});
    let got = '';
    c.on('data', (d) => {
      got += d.toString('latin1');
    });
    c.write('POST /exec/e9/start HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n');
    for (let i = 0; i < 100 && !got.includes('101 UPGRADED'); i++) await sleep(20);
    const idle = net.connect({ path });
    const idleClosed = new Promise<void>((resolve) => idle.on('close', () => resolve()));
    idle.resume(); // read, or its end is never seen
    idle.write('GET /nope HTTP/1.1\r\nHost: x\r\n\r\n');
    await sleep(100);
    const t0 = Date.now();
    await s.close();
    await Promise.all([closed, idleClosed]);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(existsSync(path), false);
  });
});
