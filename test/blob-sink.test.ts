/**
 * The byte path of a layer download (src/images/blob-sink.ts) with the real berth-ingest
 * (native/ingest) and a real content store: the blob lands whole and verified, the copy reaches
 * apply's process byte for byte, an apply that dies costs the blob nothing, a helper that dies
 * fails the download with its reason, and the Node fallback writes the same blob.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { helperPath } from '../src/archive/apply.js';
import type { FeedPort } from '../src/archive/types.js';
import { isKind } from '../src/common/errors.js';
import { LocalContentStore } from '../src/content/local.js';
import { ApplyTee, type BlobSink, IngestHelper, NodeSink } from '../src/images/blob-sink.js';
import { openMetadata } from '../src/metadata/db.js';

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
  const port: FeedPort = { stdin, pipe: true, check: (h) => checked.push(h), abort: (e) => aborted.push(e) };
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

test('berth-ingest: the blob is written and verified, apply gets every byte, Node hashes nothing', async (t) => {
  const { root, store: s } = store(t);
  const b = randomBytes(3 * 1024 * 1024 + 17);
  const digest = sha(b);
  const copy = path.join(root, 'copy');
  const r = reader(t, `cat > '${copy}'`);
  const tee = new ApplyTee(true);
  tee.attach(r.port);
  const w = await s.writer({ ref: 'one', expected: digest, total: b.length });
  if (!IngestHelper.fits(w, r.port)) assert.fail('an empty ingest and a piped apply fit the helper');
  const sink = new IngestHelper(w, digest, r.port);
  await feed(sink, b, tee);
  await sink.finish();
  // apply sees its end only when the tee ends (after the digest is checked), not when the helper exits
  assert.equal(r.proc.exitCode, null, 'apply still waits for its end');
  await w.commit(b.length, digest);
  tee.end();
  await exited(r.proc);
  assert.equal(r.proc.exitCode, 0);
  assert.deepEqual(readFileSync(copy), b, 'apply read the blob byte for byte');
  assert.deepEqual(await s.readAll(digest), b);
  assert.deepEqual(
    r.checked.map((h) => h.length >= 4),
    [true],
    'the first bytes were shown to apply once',
  );
  await w.close();
});

test('berth-ingest: an apply that dies early costs the blob nothing', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(4 * 1024 * 1024);
  const digest = sha(b);
  const r = reader(t, 'head -c 100 >/dev/null; exit 3');
  const w = await s.writer({ ref: 'two', expected: digest, total: b.length });
  if (!IngestHelper.fits(w, r.port)) assert.fail('the local store lends its files');
  const sink = new IngestHelper(w, digest, r.port);
  await feed(sink, b);
  await sink.finish();
  await w.commit(b.length, digest);
  await exited(r.proc);
  assert.equal(r.proc.exitCode, 3);
  assert.deepEqual(await s.readAll(digest), b);
});

test('berth-ingest: a helper that dies fails the download with its reason; what it wrote resumes', async (t) => {
  const { store: s } = store(t);
  const b = randomBytes(2 * 1024 * 1024);
  const digest = sha(b);
  const w = await s.writer({ ref: 'three', expected: digest, total: b.length });
  if (!IngestHelper.fits(w, undefined)) assert.fail('the local store lends its files');
  const sink = new IngestHelper(w, digest, undefined);
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

test('the Node sink writes the same blob, and feeds a resumed ingest from its prefix', async (t) => {
  const { root, store: s } = store(t);
  const b = randomBytes(2 * 1024 * 1024 + 5);
  const digest = sha(b);
  const w = await s.writer({ ref: 'four', expected: digest, total: b.length });
  await w.write(b.subarray(0, 1000));
  assert.equal(IngestHelper.fits(w, undefined), false, 'a prefix is Node’s');
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

test('a tee aborted before apply attaches aborts apply when it does', () => {
  const tee = new ApplyTee(false);
  const aborted: Error[] = [];
  tee.abort(new Error('download failed'));
  tee.attach({ stdin: undefined as never, pipe: true, check: () => {}, abort: (e) => aborted.push(e) });
  assert.deepEqual(
    aborted.map((e) => e.message),
    ['download failed'],
  );
});
