/**
 * The byte path of a layer download (src/images/blob-sink.ts) with the real berth-ingest
 * (native/ingest) and a real content store: the blob lands whole and verified, a real apply
 * follows the ingest file and sees its end only once the tee ends (attached before the first
 * byte or after the commit), an apply that fails costs the blob nothing, a helper that dies
 * fails the download with its reason, and the Node fallback writes the same blob. A plain-HTTP
 * body left on its connection is read by the helper itself: whole, after a cut, refused, aborted,
 * with bytes Node had read before the hand-over.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { applyLayer, helperPath } from '../src/archive/apply.js';
import type { FeedPort } from '../src/archive/types.js';
import { isKind } from '../src/common/errors.js';
import { LocalContentStore } from '../src/content/local.js';
import type { Writer } from '../src/content/types.js';
import { socketBodyOf } from '../src/distribution/registry.js';
import { isSocketBody } from '../src/distribution/types.js';
import { ApplyTee, type BlobSink, IngestHelper, NodeSink } from '../src/images/blob-sink.js';
import { openMetadata } from '../src/metadata/db.js';
import { packTar } from './helpers/tar.js';

// a real apply writes entries owned by uid 0
const notRoot = process.getuid?.() !== 0 && 'needs root (apply writes root-owned entries)';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function store(t: TestContext) {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-blob-sink-'));
  const db = openMetadata(path.join(root, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { root, store: new LocalContentStore(path.join(root, 'content'), db) };
}

/** A stand-in for apply's first process: `sh -c script` on a pipe, as applyLayer hands it out. */
function reader(t: TestContext, script: string): { proc: ChildProcess; port: FeedPort; checked: Buffer[]; aborted: Error[] } {
  const proc = spawn('sh', ['-c', script], { stdio: ['pipe', 'ignore', 'inherit'] });
  t.after(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  const stdin = proc.stdin!;
  stdin.on('error', () => {});
  const checked: Buffer[] = [];
  const aborted: Error[] = [];
  const port: FeedPort = { stdin, check: (h) => checked.push(h), abort: (e) => aborted.push(e) };
  return { proc, port, checked, aborted };
}

const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => p.once('close', () => r()));

/** Feeds `b` into the sink in socket-sized chunks, as a download does. */
async function feed(sink: BlobSink, b: Buffer, tee?: ApplyTee): Promise<void> {
  for (let i = 0; i < b.length; i += 65536) {
    const chunk = b.subarray(i, i + 65536);
    tee?.sniff(chunk);
    await sink.write(chunk);
  }
}

/** The berth-ingest processes this test process started and that still run. */
function ingestChildren(): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [comm, rest] = [stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), stat.slice(stat.lastIndexOf(')') + 2).split(' ')];
      if (comm === 'berth-ingest' && Number(rest[1]) === process.pid) pids.push(Number(pid));
    } catch {}
  }
  return pids;
}

/** A real apply (berth-unpack, flat) fed by `tee`, into a directory of its own. */
function applyInto(t: TestContext, tee: ApplyTee, expectedDiffId?: string) {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-blob-sink-apply-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const applying = applyLayer(tee, {
    compression: 'gzip',
    layer: 'sha256:test',
    target: { dir, mode: 'flat', parents: [] },
    sync: false,
    ...(expectedDiffId ? { expectedDiffId } : {}),
  });
  tee.watch(applying);
  let settled = false;
  void applying.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return { dir, applying, settled: () => settled };
}

/** A gzip layer of a few files, 3 MiB of it incompressible, and its diff id. */
async function gzipLayer(): Promise<{ blob: Buffer; diffId: string }> {
  const tar = await packTar([
    { name: 'etc/', type: 'directory' },
    { name: 'etc/hostname', data: 'berth\n' },
    { name: 'bin/big', data: randomBytes(3 << 20) },
  ]);
  return { blob: gzipSync(tar), diffId: sha(tar) };
}

const openFds = () => readdirSync('/proc/self/fd').length;

/** The bytes of `file` in the page cache (util-linux's fincore). */
const residentBytes = (file: string) =>
  Number(spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', file], { encoding: 'utf8' }).stdout.trim());

/** A pull's download of `b` through berth-ingest, the tee following its file, committed; the writer stays open. */
async function downloadFollowed(s: LocalContentStore, ref: string, b: Buffer, tee: ApplyTee): Promise<Writer> {
  const digest = sha(b);
  const w = await s.writer({ ref, expected: digest, total: b.length });
  if (!IngestHelper.fits(w)) assert.fail('an empty ingest fits the helper');
  const sink = new IngestHelper(w, digest);
  tee.follow(sink.followed(b.length));
  await feed(sink, b, tee);
  await sink.finish();
  await w.commit(b.length, digest);
  tee.end();
  return w;
}

test('berth-ingest: the blob is written and verified, apply follows its file, Node hashes nothing', { skip: notRoot }, async (t) => {
  const { store: s } = store(t);
  const { blob: b, diffId } = await gzipLayer();
  const digest = sha(b);
  const fdsBefore = openFds();
  const tee = new ApplyTee(true);
  const a = applyInto(t, tee, diffId);
  const w = await s.writer({ ref: 'one', expected: digest, total: b.length });
  if (!IngestHelper.fits(w)) assert.fail('an empty ingest fits the helper');
  const sink = new IngestHelper(w, digest);
  tee.follow(sink.followed(b.length));
  await feed(sink, b, tee);
  await sink.finish();
  await new Promise((r) => setTimeout(r, 50));
  // apply sees its end only when the tee ends (after the digest is checked), not when the file is whole
  assert.equal(a.settled(), false, 'apply still waits for its end');
  await w.commit(b.length, digest);
  tee.end();
  assert.deepEqual(await a.applying, { diffId, size: (await a.applying).size, entries: 3 });
  assert.equal(readFileSync(path.join(a.dir, 'etc/hostname'), 'utf8'), 'berth\n');
  // read once and written back, the blob leaves the page cache (berth-unpack's input_release)
  const cached = residentBytes(s.path(digest));
  assert.ok(cached <= 8192, `${cached} of ${b.length} bytes still cached`);
  assert.deepEqual(await s.readAll(digest), b);
  await w.close();
  assert.equal(openFds(), fdsBefore, 'the followed file is closed once apply has it');
});

test('the download does not wait for apply: apply attached after the commit reads the whole file', { skip: notRoot }, async (t) => {
  const { store: s } = store(t);
  const { blob: b, diffId } = await gzipLayer();
  const digest = sha(b);
  const tee = new ApplyTee(false);
  const w = await downloadFollowed(s, 'late', b, tee);
  await w.close();
  assert.deepEqual(await s.readAll(digest), b);
  // the ingest file is renamed into the store by now: apply reads it through the tee's descriptor
  const a = applyInto(t, tee, diffId);
  assert.equal((await a.applying).diffId, diffId);
  assert.equal(readFileSync(path.join(a.dir, 'etc/hostname'), 'utf8'), 'berth\n');
});

test('berth-ingest: an apply that fails costs the blob nothing', { skip: notRoot }, async (t) => {
  const { store: s } = store(t);
  // gzip of something that is not a tar: apply fails early, the download goes on
  const b = gzipSync(randomBytes(4 * 1024 * 1024));
  const digest = sha(b);
  const tee = new ApplyTee(false);
  const a = applyInto(t, tee);
  const w = await downloadFollowed(s, 'two', b, tee);
  await assert.rejects(a.applying, /^BerthError: apply layer 'sha256:test': /);
  assert.deepEqual(await s.readAll(digest), b);
  await w.close();
});

test('berth-ingest: a helper that dies fails the download with its reason; what it wrote resumes', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(2 * 1024 * 1024);
  const digest = sha(b);
  const w = await s.writer({ ref: 'three', expected: digest, total: b.length });
  if (!IngestHelper.fits(w)) assert.fail('the local store lends its files');
  const sink = new IngestHelper(w, digest);
  await feed(sink, b.subarray(0, 1 << 20));
  const pids = ingestChildren();
  assert.equal(pids.length, 1, 'one helper runs');
  process.kill(pids[0]!, 'SIGKILL');
  await assert.rejects(
    async () => {
      // the next writes find the pipe's reader gone (as a download's next chunk, a turn of the loop later)
      for (let i = 0; i < 64; i++) {
        await new Promise((r) => setTimeout(r, 5));
        await sink.write(b.subarray(0, 65536));
      }
    },
    (err: Error) => isKind(err, 'unavailable') && /ingest 'sha256:[0-9a-f]+': berth-ingest failed: killed by SIGKILL$/.test(err.message),
  );
  assert.equal(sink.failed, true, 'another attempt cannot help');
  await sink.stop();
  await w.close();
  const again = await s.writer({ ref: 'three', expected: digest, total: b.length });
  const offset = again.status().offset;
  assert.ok(offset <= 1 << 20, `a prefix of what was sent is kept (${offset} bytes)`);
  assert.equal(again.digest(), sha(b.subarray(0, offset)), 'and it is the blob’s own prefix');
  await again.close();
  assert.deepEqual(ingestChildren(), []);
});

test('berth-ingest: no data file is a clear error', () => {
  const r = spawnSync(helperPath('berth-ingest'), [], { input: 'x', stdio: ['pipe', 'ignore', 'pipe'] });
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /^error EBADF - fd 3 \(the blob's data file\) is not open$/m);
  const bad = spawnSync(helperPath('berth-ingest'), ['--frob'], { input: '' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr.toString(), /usage: berth-ingest/);
});

test('berth-ingest: a control line it does not know, or a bad --control, is a clear error', async (t) => {
  const { root } = store(t);
  const data = openSync(path.join(root, 'data'), 'w+');
  t.after(() => closeSync(data));
  const p = spawn(helperPath('berth-ingest'), ['--control', '4'], { stdio: ['pipe', 'ignore', 'pipe', data, 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const ctl = p.stdio[4] as net.Socket;
  ctl.write('take 1 2\n');
  await exited(p);
  assert.equal(p.exitCode, 1);
  assert.match(err, /^error EPROTO - bad take command from Node: '1 2'$/m);
  const q = spawn(helperPath('berth-ingest'), ['--control', '4'], { stdio: ['pipe', 'ignore', 'pipe', data, 'pipe'] });
  let err2 = '';
  q.stderr!.on('data', (d: Buffer) => {
    err2 += d.toString();
  });
  (q.stdio[4] as net.Socket).write('frob\n');
  await exited(q);
  assert.equal(q.exitCode, 1);
  assert.match(err2, /^error EPROTO - unexpected command from Node: 'frob'$/m);
  const r = spawnSync(helperPath('berth-ingest'), ['--control', '2'], { input: '', stdio: ['pipe', 'ignore', 'pipe', data] });
  assert.equal(r.status, 1);
  assert.match(r.stderr.toString(), /^error EBADF - --control 2: not an open descriptor above 3$/m);
});

test('the Node sink writes the same blob, and feeds a resumed ingest from its prefix', async (t) => {
  const { root, store: s } = store(t);
  const b = randomBytes(2 * 1024 * 1024 + 5);
  const digest = sha(b);
  const w = await s.writer({ ref: 'four', expected: digest, total: b.length });
  await w.write(b.subarray(0, 1000));
  assert.equal(IngestHelper.fits(w), false, 'a prefix is Node’s');
  const sink = new NodeSink(w, undefined, undefined);
  assert.equal(sink.received, 1000);
  await feed(sink, b.subarray(1000));
  await sink.finish();
  await w.commit(b.length, digest);
  assert.deepEqual(await s.readAll(digest), b);
  await w.close();
  // and with a tee into a process
  const c = randomBytes(1024 * 1024 + 3);
  const copy = path.join(root, 'copy');
  const r = reader(t, `cat > '${copy}'`);
  const tee = new ApplyTee(false);
  tee.attach(r.port);
  const w2 = await s.writer({ ref: 'five', expected: sha(c), total: c.length });
  const sink2 = new NodeSink(w2, tee, r.port);
  await feed(sink2, c, tee);
  await sink2.finish();
  await w2.commit(c.length, sha(c));
  tee.end();
  await exited(r.proc);
  assert.deepEqual(readFileSync(copy), c);
  await w2.close();
});

test('bytes seen before apply attaches: the head is kept, not the layer, and shown once at attach', () => {
  const tee = new ApplyTee(false);
  for (let i = 0; i < 100; i++) tee.sniff(Buffer.alloc(65536, i));
  tee.end();
  const checked: Buffer[] = [];
  let ended = false;
  const stdin = { destroyed: false, end: () => (ended = true) } as unknown as FeedPort['stdin'];
  tee.attach({ stdin, check: (h) => checked.push(h), abort: () => assert.fail('not aborted') });
  assert.deepEqual(
    checked.map((h) => h.length),
    [65536],
    'only the first chunk (the head) was kept',
  );
  assert.equal(ended, true, 'an end before attach reaches apply at attach');
});

test('a tee aborted before apply attaches aborts apply when it does', async () => {
  const tee = new ApplyTee(false);
  const aborted: Error[] = [];
  tee.abort(new Error('download failed'));
  // an apply waiting to hear where its bytes come from is told: stdin (and is stopped at attach)
  assert.equal(await tee.followed, undefined);
  tee.attach({ stdin: undefined as never, check: () => {}, abort: (e) => aborted.push(e) });
  assert.deepEqual(
    aborted.map((e) => e.message),
    ['download failed'],
  );
});

// ------------------------------------------------------------------ bodies left on their connection

interface Served {
  url: string;
  requests: { range?: string }[];
}

/**
 * An HTTP server on loopback serving `body` (with Range), whose answers `plan` may shape:
 * `cutAfter` bytes then the connection is destroyed, or `stallAfter` bytes then nothing.
 */
async function serve(
  t: TestContext,
  body: Buffer,
  plan: (i: number) => { cutAfter?: number; stallAfter?: number } = () => ({}),
): Promise<Served> {
  const requests: { range?: string }[] = [];
  const server = http.createServer((req, res) => {
    const i = requests.length;
    requests.push({ range: req.headers.range });
    const from = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const part = body.subarray(from);
    res.writeHead(from > 0 ? 206 : 200, {
      'content-length': String(part.length),
      ...(from > 0 ? { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
    });
    const { cutAfter, stallAfter } = plan(i);
    const limit = cutAfter ?? stallAfter ?? part.length;
    let sent = 0;
    const next = () => {
      while (sent < limit) {
        const piece = part.subarray(sent, Math.min(limit, sent + 256 * 1024));
        sent += piece.length;
        if (!res.write(piece)) return res.once('drain', next);
      }
      if (cutAfter !== undefined) setTimeout(() => res.socket?.destroy(), 20);
      else if (stallAfter === undefined) res.end();
    };
    next();
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/blob`, requests };
}

/** A GET of `url` on a connection of its own; resolves with the response once its headers are in. */
function get(url: string, headers: Record<string, string> = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => http.get(url, { agent: false, headers }, resolve).on('error', reject));
}

test('berth-ingest takes a plain-HTTP body from its connection: Node reads only the head', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(6 * 1024 * 1024 + 11);
  const digest = sha(b);
  const { url } = await serve(t, b);
  const w = await s.writer({ ref: 'socket', expected: digest, total: b.length });
  if (!IngestHelper.fits(w)) assert.fail('an empty ingest fits the helper');
  const sink = new IngestHelper(w, digest);
  assert.equal(sink.takesSockets, true);
  const res = await get(url);
  const socket = res.socket;
  const body = await socketBodyOf(res, 'test@blob', b.length);
  if (!isSocketBody(body)) assert.fail('a large plain-HTTP body with a Content-Length is left on its connection');
  const headBytes = body.head.reduce((n, c) => n + c.length, 0);
  assert.ok(headBytes >= 4, `the head holds apply's first bytes (${headBytes})`);
  assert.equal(headBytes + body.remaining, b.length);
  const progress: number[] = [];
  assert.equal(await sink.take(body, (n) => progress.push(n)), 'done');
  const nodeRead = socket.bytesRead;
  body.release();
  assert.equal(sink.received, b.length);
  assert.ok(
    progress.every((n, i) => n > headBytes && n <= b.length && (i === 0 || n >= progress[i - 1]!)),
    `progress ${progress.join(', ')}`,
  );
  assert.ok(nodeRead < 1024 * 1024, `Node's socket read ${nodeRead} bytes: the head and the headers, not the body`);
  await sink.finish();
  await w.commit(b.length, digest);
  assert.deepEqual(await s.readAll(digest), b);
  await w.close();
  assert.deepEqual(ingestChildren(), []);
});

test('a connection cut during a take is a short take; the same helper goes on from a Range answer', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(4 * 1024 * 1024);
  const digest = sha(b);
  const served = await serve(t, b, (i) => (i === 0 ? { cutAfter: 1536 * 1024 } : {}));
  const w = await s.writer({ ref: 'cut', expected: digest, total: b.length });
  if (!IngestHelper.fits(w)) assert.fail('the local store lends its files');
  const sink = new IngestHelper(w, digest);
  const first = await socketBodyOf(await get(served.url), 'test@blob', b.length);
  if (!isSocketBody(first)) assert.fail('the first answer is left on its connection');
  assert.equal(await sink.take(first, () => {}), 'short');
  first.release();
  const got = sink.received;
  assert.ok(got > 0 && got <= 1536 * 1024, `received ${got} before the cut`);
  const res = await get(served.url, { range: `bytes=${got}-` });
  assert.equal(res.statusCode, 206);
  const rest = await socketBodyOf(res, 'test@blob', b.length - got);
  if (!isSocketBody(rest)) assert.fail('the Range answer is left on its connection too');
  assert.equal(await sink.take(rest, () => {}), 'done');
  rest.release();
  await sink.finish();
  await w.commit(b.length, digest);
  assert.deepEqual(await s.readAll(digest), b);
  assert.deepEqual(
    served.requests.map((q) => q.range),
    [undefined, `bytes=${got}-`],
  );
  await w.close();
});

test('a connection the helper cannot take is read by Node, and none is offered again', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(3 * 1024 * 1024 + 1);
  const digest = sha(b);
  const { url } = await serve(t, b);
  const w = await s.writer({ ref: 'refused', expected: digest, total: b.length });
  if (!IngestHelper.fits(w)) assert.fail('the local store lends its files');
  const sink = new IngestHelper(w, digest);
  const body = await socketBodyOf(await get(url), 'test@blob', b.length);
  if (!isSocketBody(body)) assert.fail('left on its connection');
  // a descriptor this process does not have: pidfd_getfd fails (EBADF), as it does without ptrace access
  assert.equal(await sink.take({ ...body, fd: 1_000_000 }, () => {}), 'refused');
  assert.equal(sink.takesSockets, false);
  for await (const chunk of body.resume()) await sink.write(chunk as Buffer);
  body.release();
  await sink.finish();
  await w.commit(b.length, digest);
  assert.deepEqual(await s.readAll(digest), b);
  await w.close();
});

test('the Node sink takes a body left on its connection as Node bytes: the head, then the rest through resume', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(2 * 1024 * 1024 + 9);
  const digest = sha(b);
  const { url } = await serve(t, b);
  const w = await s.writer({ ref: 'node-socket', expected: digest, total: b.length });
  const sink = new NodeSink(w, undefined, undefined);
  assert.equal(sink.takesSockets, false);
  const body = await socketBodyOf(await get(url), 'test@blob', b.length);
  if (!isSocketBody(body)) assert.fail('left on its connection');
  assert.equal(await sink.take(body), 'refused');
  assert.equal(
    sink.received,
    body.head.reduce((n, c) => n + c.length, 0),
  );
  for await (const chunk of body.resume()) await sink.write(chunk as Buffer);
  body.release();
  await sink.finish();
  await w.commit(b.length, digest);
  assert.deepEqual(await s.readAll(digest), b);
  await w.close();
});

test('bytes Node read while the response waited are all in the head (none lost between Node and the helper)', async (t) => {
  const { store: s } = store(t);
  for (let round = 0; round < 4; round++) {
    const b = randomBytes(5 * 1024 * 1024 + round);
    const digest = sha(b);
    const { url } = await serve(t, b);
    const w = await s.writer({ ref: `late-${round}`, expected: digest, total: b.length });
    if (!IngestHelper.fits(w)) assert.fail('the local store lends its files');
    const sink = new IngestHelper(w, digest);
    const res = await get(url);
    // as when three downloads share the event loop: the response fills, the socket pauses with bytes of its own
    await new Promise((r) => setTimeout(r, 30 + 20 * round));
    const body = await socketBodyOf(res, 'test@blob', b.length);
    if (!isSocketBody(body)) assert.fail('left on its connection');
    assert.equal(await sink.take(body, () => {}), 'done');
    body.release();
    await sink.finish();
    await w.commit(b.length, digest);
    assert.deepEqual(await s.readAll(digest), b, `round ${round}`);
    await w.close();
  }
});

test('an aborted take ends at once as a short one', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(4 * 1024 * 1024);
  const digest = sha(b);
  const { url } = await serve(t, b, () => ({ stallAfter: 2 * 1024 * 1024 }));
  const w = await s.writer({ ref: 'abort', expected: digest, total: b.length });
  if (!IngestHelper.fits(w)) assert.fail('the local store lends its files');
  const sink = new IngestHelper(w, digest);
  const body = await socketBodyOf(await get(url), 'test@blob', b.length);
  if (!isSocketBody(body)) assert.fail('left on its connection');
  const ac = new AbortController();
  const started = Date.now();
  // the server stalls after 2 MiB: the helper waits on the connection until told to stop
  const timer = setTimeout(() => ac.abort(), 300);
  assert.equal(await sink.take(body, () => {}, ac.signal), 'short');
  clearTimeout(timer);
  assert.ok(Date.now() - started < 2000, 'the stop ended the take, not a deadline');
  body.release();
  assert.ok(sink.received <= 2 * 1024 * 1024);
  await sink.stop();
  await w.close();
  assert.deepEqual(ingestChildren(), []);
});

test('small bodies, TLS-less or not, and bodies without a Content-Length stay with Node', async (t) => {
  const small = randomBytes(100_000);
  const { url } = await serve(t, small);
  const res = await get(url);
  assert.equal(await socketBodyOf(res, 'test@blob', small.length), undefined);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), small);
  // chunked transfer encoding: no Content-Length to hand the reader
  const big = randomBytes(2 * 1024 * 1024);
  const server = http.createServer((_req, r) => {
    r.writeHead(200, { 'transfer-encoding': 'chunked' });
    r.end(big);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const res2 = await get(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`);
  assert.equal(await socketBodyOf(res2, 'test@blob', big.length), undefined);
  const got: Buffer[] = [];
  for await (const c of res2) got.push(c as Buffer);
  assert.deepEqual(Buffer.concat(got), big);
});
