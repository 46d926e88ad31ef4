/**
 * containerd's ContentSuite (core/content/testsuite), ported by name, plus what a faulty machine
 * and a second process do to the store: a ref held across processes, readers during a commit,
 * SIGKILL in the middle of a write, damaged blobs, hostile sources.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isKind } from '../common/errors.js';
import { type Db, openMetadata } from '../metadata/db.js';
import { ingest } from './ingest.js';
import { LocalContentStore } from './local.js';
import type { Info, Status, Writer } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Fixture {
  root: string;
  db: Db;
  store: LocalContentStore;
}

function fixture(t: { after: (fn: () => void) => void }): Fixture {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-content-'));
  const db = openMetadata(path.join(root, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { root, db, store: new LocalContentStore(path.join(root, 'content'), db) };
}

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function content(size: number): [Buffer, string] {
  const b = randomBytes(size);
  return [b, sha(b)];
}

function rejectsKind(p: Promise<unknown>, kind: string, re?: RegExp): Promise<void> {
  return assert.rejects(p, (err: Error) => {
    assert.ok(isKind(err, kind as never), `expected ${kind}, got ${err.message}`);
    if (re) assert.match(err.message, re);
    return true;
  });
}

async function writeAll(w: Writer, b: Buffer, chunk = 32): Promise<void> {
  for (let i = 0; i < b.length; i += chunk) await w.write(b.subarray(i, i + chunk));
}

function checkInfo(info: Info, want: { digest: string; size: number; labels?: Record<string, string> }, c: [number, number], u = c) {
  assert.equal(info.digest, want.digest);
  assert.equal(info.size, want.size);
  assert.deepEqual(info.labels, want.labels ?? {});
  assert.ok(info.createdAt.getTime() >= c[0] && info.createdAt.getTime() <= c[1], 'created at the commit');
  assert.ok(info.updatedAt.getTime() >= u[0] && info.updatedAt.getTime() <= u[1], 'updated in range');
}

function checkStatus(w: Writer, want: Partial<Status>, digest: string, started: [number, number], updated: [number, number]) {
  const st = w.status();
  assert.equal(w.digest(), digest);
  assert.equal(st.ref, want.ref);
  assert.equal(st.offset, want.offset);
  assert.equal(st.total, want.total);
  assert.equal(st.expected, want.expected);
  assert.ok(st.startedAt.getTime() >= started[0] && st.startedAt.getTime() <= started[1], 'started in range');
  assert.ok(st.updatedAt.getTime() >= updated[0] && st.updatedAt.getTime() <= updated[1], 'updated in range');
}

const gcLabels = { 'berth.gc.root': new Date().toISOString() };

test('Writer: 5 writers at once (ref only, +size, +digest, both, both in 1-byte writes)', async (t) => {
  const { store } = fixture(t);
  const cases = await Promise.all(
    [
      { ref: 'c1', size: false, digest: false, chunk: 32 },
      { ref: 'c2', size: true, digest: false, chunk: 32 },
      { ref: 'c3', size: false, digest: true, chunk: 32 },
      { ref: 'c4', size: true, digest: true, chunk: 32 },
      { ref: 'c5', size: true, digest: true, chunk: 1 },
    ].map(async (c) => {
      const [b, d] = content(256);
      const w = await store.writer({ ref: c.ref, total: c.size ? b.length : undefined, expected: c.digest ? d : undefined });
      return { ...c, b, d, w };
    }),
  );
  await Promise.all(
    cases.map(async ({ b, d, w, chunk }) => {
      await writeAll(w, b, chunk);
      const pre = Date.now();
      await w.commit(0, '', { labels: gcLabels });
      const post = Date.now();
      assert.equal(w.digest(), d);
      checkInfo(await store.info(d), { digest: d, size: 256, labels: gcLabels }, [pre, post]);
      assert.deepEqual(await store.readAll(d), b);
      await w.close();
    }),
  );
  assert.deepEqual(await store.listStatuses(), [], 'no ingest left behind');
  const mode = statSync(store.path(cases[0]!.d)).mode & 0o777;
  assert.equal(mode, 0o444, 'committed blobs are read-only');
});

test('UpdateStatus: the offset follows the writes, the expected digest is kept', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(256);
  const preStart = Date.now();
  const w = await store.writer({ ref: 'c1', total: 256, expected: d });
  const postStart = Date.now();
  const want = { ref: 'c1', total: 256, expected: d, offset: 0 };
  checkStatus(w, want, sha(Buffer.alloc(0)), [preStart, postStart], [preStart, postStart]);
  for (const [from, to] of [
    [0, 64],
    [64, 192],
    [192, 256],
  ] as const) {
    const pre = Date.now();
    await w.write(b.subarray(from, to));
    const post = Date.now();
    checkStatus(w, { ...want, offset: to }, sha(b.subarray(0, to)), [preStart, postStart], [pre, post]);
    assert.equal((await store.status('c1')).offset, to, 'the store sees the offset too');
  }
  const pre = Date.now();
  await w.commit(0, '', { labels: gcLabels });
  checkInfo(await store.info(d), { digest: d, size: 256, labels: gcLabels }, [pre, Date.now()]);
});

test('CommitExists: committing stored content is already-exists, with or without a digest; the ref is released', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(256);
  await ingest(store, 'c1', { digest: d, size: 256 }, Readable.from([b]));
  for (const [i, expected] of [d, ''].entries()) {
    const ref = `c1-commitexists-${i}`;
    const w = await store.writer({ ref });
    await w.write(b);
    await rejectsKind(w.commit(b.length, expected), 'already-exists');
    await w.close();
    const again = await store.writer({ ref });
    assert.equal(again.status().offset, 0, 'the ingest was removed');
    await again.close();
  }
  await rejectsKind(store.writer({ ref: 'x', expected: d }), 'already-exists', /already exists/);
});

test('Resume: close a partial write, reopen the ref: status kept; finish and commit', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(256);
  const preStart = Date.now();
  const w1 = await store.writer({ ref: 'cb', total: 256, expected: d });
  const postStart = Date.now();
  const preUpdate = Date.now();
  await w1.write(b.subarray(0, 128));
  const postUpdate = Date.now();
  const want = { ref: 'cb', offset: 128, total: 256, expected: d };
  checkStatus(w1, want, sha(b.subarray(0, 128)), [preStart, postStart], [preUpdate, postUpdate]);
  await w1.close();
  const w2 = await store.writer({ ref: 'cb', total: 256, expected: d });
  checkStatus(w2, want, sha(b.subarray(0, 128)), [preStart, postStart], [preUpdate, postUpdate]);
  await w2.write(b.subarray(128));
  checkStatus(w2, { ...want, offset: 256 }, d, [preStart, postStart], [preUpdate, Date.now()]);
  const pre = Date.now();
  await w2.commit(0, '');
  await w2.close();
  checkInfo(await store.info(d), { digest: d, size: 256 }, [pre, Date.now()]);
});

type Resumer = (store: LocalContentStore, w: Writer, b: Buffer, written: number, d: string) => Promise<void>;

function checkResume(rf: Resumer) {
  return async (t: { after: (fn: () => void) => void }) => {
    const { store } = fixture(t);
    for (const [i, size] of [500, 5000, 50000].entries()) {
      for (const [j, tp] of [0, 0.1, 0.5, 0.9, 1].entries()) {
        const [b, d] = content(size);
        const limit = Math.floor(size * tp);
        const ref = `ref-${i}-${j}`;
        let w = await store.writer({ ref, total: size, expected: d });
        await w.write(b.subarray(0, limit));
        await w.close();
        w = await store.writer({ ref, total: size, expected: d });
        assert.equal(w.status().offset, limit);
        const pre = Date.now();
        await rf(store, w, b, limit, d);
        await w.close();
        checkInfo(await store.info(d), { digest: d, size }, [pre, Date.now()]);
        assert.deepEqual(await store.readAll(d), b);
      }
    }
  };
}

test(
  'ResumeTruncate',
  checkResume(async (_s, w, b, _n, d) => {
    await w.truncate(0);
    await writeAll(w, b, 1024);
    await w.commit(b.length, d);
  }),
);
test(
  'ResumeDiscard',
  checkResume(async (_s, w, b, n, d) => {
    await writeAll(w, b.subarray(n), 1024);
    await w.commit(b.length, d);
  }),
);
// containerd's Copy helpers fed a plain reader, a seeker, a ReaderAt: ours are ingest() fed a
// plain stream (it skips what is stored) and an offset source (it starts where the data ends).
test(
  'ResumeCopy',
  checkResume(async (s, w, b, n, d) => {
    await w.close();
    const r = await ingest(s, 'ref-copy-ignored', { digest: d, size: b.length }, Readable.from([b.subarray(0, 7), b.subarray(7)]));
    assert.equal(r.existed, false);
    assert.equal(r.resumedFrom, 0, 'another ref starts over');
    void n;
  }),
);
test(
  'ResumeCopySeeker',
  checkResume(async (s, w, b, n, d) => {
    const ref = w.ref;
    await w.close();
    const r = await ingest(s, ref, { digest: d, size: b.length }, Readable.from([b.subarray(0, 3), b.subarray(3)]));
    assert.equal(r.resumedFrom, n, 'kept the written prefix, skipped it in the source');
  }),
);
test(
  'ResumeCopyReaderAt',
  checkResume(async (s, w, b, n, d) => {
    const ref = w.ref;
    await w.close();
    const opened: number[] = [];
    const r = await ingest(
      s,
      ref,
      { digest: d, size: b.length },
      {
        open: (offset) => {
          opened.push(offset);
          return Readable.from([b.subarray(offset)]);
        },
      },
    );
    assert.equal(r.resumedFrom, n);
    assert.deepEqual(opened, [n], 'opened once, at the resume point');
  }),
);

test('SmallBlob: a blob smaller than the read buffer reads whole, then ends', async (t) => {
  const { store } = fixture(t);
  const blob = Buffer.from('foobar');
  const d = sha(blob);
  const w = await store.writer({ ref: 'SmallBlob', total: blob.length, expected: d });
  await w.write(blob);
  await w.commit(blob.length, d);
  await w.close();
  const chunks: Buffer[] = [];
  for await (const c of store.reader(d)) chunks.push(c as Buffer);
  assert.deepEqual(Buffer.concat(chunks), blob);
  const tail: Buffer[] = [];
  for await (const c of store.reader(d, { offset: 3 })) tail.push(c as Buffer);
  assert.equal(Buffer.concat(tail).toString(), 'bar');
  for await (const c of store.reader(d, { offset: 6 })) assert.fail(`no bytes past the end, got ${c}`);
  assert.throws(() => store.reader(d, { offset: 7 }), /offset 7 is outside its 6 bytes/);
  // the empty blob (some images' empty layer) is a blob too
  const empty = sha(Buffer.alloc(0));
  assert.equal((await ingest(store, 'empty', { digest: empty, size: 0 }, Readable.from([]))).existed, false);
  assert.equal((await store.readAll(empty)).length, 0);
  for await (const c of store.reader(empty)) assert.fail(`no bytes, got ${c}`);
});

test('Labels: set at commit, replaced whole, updated by field path, deleted', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(256);
  const w = await store.writer({ ref: 'c1-checklabels', total: 256, expected: d });
  await w.write(b);
  const labels: Record<string, string> = { k1: 'v1', k2: 'v2', 'berth.gc.root': 'now' };
  const preCommit = Date.now();
  await w.commit(0, '', { labels });
  const postCommit = Date.now();
  checkInfo(await store.info(d), { digest: d, size: 256, labels }, [preCommit, postCommit]);

  const replaced = { k1: 'newvalue', k3: 'v3', 'berth.gc.root': 'now' };
  let pre = Date.now();
  const got = await store.update({ digest: d, labels: replaced });
  assert.deepEqual(got.labels, replaced);
  checkInfo(await store.info(d), { digest: d, size: 256, labels: replaced }, [preCommit, postCommit], [pre, Date.now()]);

  pre = Date.now();
  await store.update({ digest: d, labels: { k1: 'v1', 'berth.gc.root': 'now' } }, ['labels.k3', 'labels.k1']);
  checkInfo(
    await store.info(d),
    { digest: d, size: 256, labels: { k1: 'v1', 'berth.gc.root': 'now' } },
    [preCommit, postCommit],
    [pre, Date.now()],
  );
  await store.update({ digest: d, labels: { k1: '' } }, ['labels.k1']);
  assert.deepEqual((await store.info(d)).labels, { 'berth.gc.root': 'now' }, 'an empty value deletes');
  await rejectsKind(store.update({ digest: d, labels: {} }, ['size']), 'invalid-argument', /cannot update field 'size'/);
  await rejectsKind(store.update({ digest: d, labels: { k: 'x'.repeat(5000) } }), 'invalid-argument', /longer than 4096/);
  await rejectsKind(store.update({ digest: sha(Buffer.from('nope')), labels: {} }), 'not-found');
});

test('CommitErrorState: wrong digest or size is failed-precondition; the writer stays usable', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(4096);
  const [, other] = content(16);
  const w = await store.writer({ ref: 'c1' });
  await w.write(b);
  await rejectsKind(w.commit(b.length, other), 'failed-precondition', /hashes to sha256:[0-9a-f]{64}, sha256:[0-9a-f]{64} expected/);
  await rejectsKind(w.commit(b.length + 1, d), 'failed-precondition', /4096 bytes written, 4097 expected/);
  await rejectsKind(w.commit(b.length - 1, d), 'failed-precondition');
  await w.truncate(0);
  assert.equal(w.status().offset, 0);
  await w.write(b.subarray(0, 100));
  await rejectsKind(w.commit(b.length, d), 'failed-precondition');
  await w.write(b.subarray(100));
  await w.commit(b.length, d);
  await rejectsKind(w.write(b), 'failed-precondition', /the writer is committed/);
  await w.close();
  assert.deepEqual(await store.readAll(d), b);
  const dup = await store.writer({ ref: 'c2' });
  await dup.write(b);
  await rejectsKind(dup.commit(b.length, d), 'already-exists');
  // a writer opened with an expected digest checks it even when commit does not pass one
  const w3 = await store.writer({ ref: 'c3', expected: other });
  await w3.write(b.subarray(0, 16));
  await rejectsKind(w3.commit(0, ''), 'failed-precondition');
  await w3.close();
});

test('writes issued without waiting land in call order; nothing is accepted after commit is called', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(20 << 20); // past the background flush point
  const w = await store.writer({ ref: 'pipelined', total: b.length });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < b.length; i += 1 << 20) writes.push(w.write(b.subarray(i, i + (1 << 20))));
  assert.equal(w.status().offset, b.length, 'the offset counts what was handed over');
  assert.equal(w.digest(), d);
  const committing = w.commit(b.length, d);
  await rejectsKind(w.write(Buffer.from('late')), 'failed-precondition', /being committed/);
  await Promise.all(writes);
  await committing;
  assert.deepEqual(await store.readAll(d), b);
  // truncate between writes, all in flight at once
  const w2 = await store.writer({ ref: 'again' });
  const ops = [w2.write(Buffer.from('garbage')), w2.truncate(0), w2.write(Buffer.from('good'))];
  await Promise.all(ops);
  await w2.commit(4, sha(Buffer.from('good')));
  assert.equal((await store.readAll(sha(Buffer.from('good')))).toString(), 'good');
});

test('one writer per ref in a process; walk, delete, abort, statuses', async (t) => {
  const { store } = fixture(t);
  const w = await store.writer({ ref: 'a', total: 10 });
  await rejectsKind(store.writer({ ref: 'a' }), 'unavailable', /ref is locked/);
  await rejectsKind(store.abort('a'), 'unavailable');
  await w.write(Buffer.from('12345'));
  await w.close();
  await w.close(); // twice is fine
  const st = await store.status('a');
  assert.equal(st.offset, 5);
  assert.equal(st.total, 10);
  const w2 = await store.writer({ ref: 'b' });
  await w2.close();
  assert.deepEqual(
    (await store.listStatuses()).map((s) => s.ref),
    ['a', 'b'],
  );
  assert.deepEqual(
    (await store.listStatuses('a')).map((s) => s.ref),
    ['a'],
  );
  await store.abort('a');
  await rejectsKind(store.status('a'), 'not-found');
  await rejectsKind(store.abort('a'), 'not-found');

  const digests: string[] = [];
  for (const n of [10, 20, 30]) {
    const [b, d] = content(n);
    await ingest(store, `blob-${n}`, { digest: d, size: n }, Readable.from([b]), { labels: { n: String(n) } });
    digests.push(d);
  }
  const seen: string[] = [];
  await store.walk((i) => void seen.push(i.labels.n!));
  assert.deepEqual(seen.sort(), ['10', '20', '30']);
  const big: string[] = [];
  await store.walk(
    (i) => void big.push(i.digest),
    (i) => i.size > 15,
  );
  assert.equal(big.length, 2);
  await store.delete(digests[0]!);
  assert.equal(existsSync(store.blobPath(digests[0]!)), false, 'file removed');
  await rejectsKind(store.delete(digests[0]!), 'not-found');
  await rejectsKind(store.info(digests[0]!), 'not-found');
  assert.throws(
    () => store.reader(digests[0]!),
    (e: Error) => isKind(e, 'not-found'),
  );
  assert.throws(() => store.path('sha256:xyz'), /not a sha256 digest/);
});

test('a damaged blob is found out by every read', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(3 << 20);
  await ingest(store, 'x', { digest: d, size: b.length }, Readable.from([b]));
  const file = store.path(d);
  chmodSync(file, 0o644);
  const bad = Buffer.from(b);
  bad[1 << 20] = bad[1 << 20]! ^ 1;
  writeFileSync(file, bad);
  await assert.rejects(store.readAll(d), /content does not match its digest .*the store is damaged/);
  const got: Buffer[] = [];
  await assert.rejects(async () => {
    for await (const c of store.reader(d)) got.push(c as Buffer);
  }, /does not match its digest/);
  assert.ok(Buffer.concat(got).length < b.length, 'the last chunk is held back until verified');
  writeFileSync(file, b.subarray(0, 100));
  await assert.rejects(store.readAll(d), /holds 100 bytes, its record 3145728/);
});

test('ingest: hostile and short sources, a wrong resumed prefix, two ingests of one ref at once', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(10000);
  // more bytes than the descriptor: refused, nothing kept
  await rejectsKind(
    ingest(store, 'big', { digest: d, size: b.length }, Readable.from([b, Buffer.from('more')])),
    'failed-precondition',
    /more than the descriptor's 10000 bytes/,
  );
  assert.equal((await store.status('big')).offset, 0);
  // short: kept for a resume
  await rejectsKind(
    ingest(store, 'short', { digest: d, size: b.length }, Readable.from([b.subarray(0, 4000)])),
    'unavailable',
    /ended after 4000 of 10000/,
  );
  assert.equal((await store.status('short')).offset, 4000);
  // same size, other bytes: refused and discarded
  const [evil] = content(10000);
  await rejectsKind(ingest(store, 'evil', { digest: d, size: b.length }, Readable.from([evil])), 'failed-precondition');
  assert.equal((await store.status('evil')).offset, 0);
  // a wrong prefix from an earlier attempt, resumed through an offset source: refetched from 0
  const w = await store.writer({ ref: 'wrong', expected: d, total: b.length });
  await w.write(evil.subarray(0, 5000));
  await w.close();
  const opened: number[] = [];
  const progress: number[] = [];
  const r = await ingest(
    store,
    'wrong',
    { digest: d, size: b.length },
    {
      open: (o) => {
        opened.push(o);
        return Readable.from([b.subarray(o)]);
      },
    },
    { progress: (o) => progress.push(o) },
  );
  assert.deepEqual(opened, [5000, 0]);
  assert.equal(r.existed, false);
  assert.equal(progress.at(-1), b.length);
  assert.deepEqual(await store.readAll(d), b);
  // two at once on one ref: one writes, the other waits and finds it stored
  const [c, cd] = content(200000);
  const slow = (buf: Buffer) =>
    Readable.from(
      (async function* () {
        for (let i = 0; i < buf.length; i += 20000) {
          await new Promise((res) => setTimeout(res, 2));
          yield buf.subarray(i, i + 20000);
        }
      })(),
    );
  const protectedBy: string[] = [];
  const both = await Promise.all([
    ingest(store, 'same', { digest: cd, size: c.length }, slow(c), { protect: (ty, id) => void protectedBy.push(`${ty} ${id}`) }),
    ingest(store, 'same', { digest: cd, size: c.length }, slow(c)),
  ]);
  assert.deepEqual(both.map((x) => x.existed).sort(), [false, true]);
  assert.deepEqual(protectedBy, [`content ${cd}`, 'ingest same']);
});

test('the states a killed commit can leave are recovered by the next writer', async (t) => {
  const { store } = fixture(t);
  // killed between the rename and the row: a blob file without a row, an ingest without data
  const [b, d] = content(5000);
  const w = await store.writer({ ref: 'layer', expected: d, total: b.length });
  await w.write(b);
  await w.close();
  const dir = store.ingestPath('layer');
  chmodSync(path.join(dir, 'data'), 0o444);
  renameSync(path.join(dir, 'data'), store.blobPath(d));
  assert.throws(
    () => store.path(d),
    (e: Error) => isKind(e, 'not-found'),
    'no row: not in the store',
  );
  const r = await ingest(store, 'layer', { digest: d, size: b.length }, { open: (o) => Readable.from([b.subarray(o)]) });
  assert.deepEqual(r, { digest: d, size: b.length, existed: false, resumedFrom: 0 });
  assert.deepEqual(await store.readAll(d), b);
  // killed between the row and the ingest's removal: the blob is there, the ingest is stale
  const [c, cd] = content(100);
  const w2 = await store.writer({ ref: 'cfg', expected: cd });
  await w2.write(c);
  const left = path.join(store.ingestDir, 'left-over');
  cpSync(store.ingestPath('cfg'), left, { recursive: true });
  await w2.commit(c.length, cd);
  renameSync(left, store.ingestPath('cfg'));
  await rejectsKind(store.writer({ ref: 'cfg', expected: cd }), 'already-exists');
  const again = await store.writer({ ref: 'cfg' });
  assert.equal(again.status().offset, 100, 'a writer without a digest resumes the stale data');
  await again.write(Buffer.from('x'));
  await again.close();
  assert.equal((await store.status('cfg')).offset, 101);
});

test('ingest: a source that cannot start at the offset says so; an abort ends a stalled source', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(30000);
  const w = await store.writer({ ref: 'norange', expected: d, total: b.length });
  await w.write(b.subarray(0, 12345));
  await w.close();
  // a registry that answers a Range request with 200 and the whole blob
  const r = await ingest(store, 'norange', { digest: d, size: b.length }, { open: () => ({ stream: Readable.from([b]), start: 0 }) });
  assert.equal(r.resumedFrom, 12345);
  assert.deepEqual(await store.readAll(d), b);
  const [c, cd] = content(1000);
  await rejectsKind(
    ingest(store, 'ahead', { digest: cd, size: c.length }, { open: () => ({ stream: Readable.from([c]), start: 10 }) }),
    'invalid-argument',
    /starts at 10, after the offset 0/,
  );
  const stalled = new Readable({ read() {} });
  stalled.push(c.subarray(0, 100));
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('pull cancelled')), 50);
  await assert.rejects(ingest(store, 'stalled', { digest: cd, size: c.length }, stalled, { signal: ac.signal }), /pull cancelled/);
  assert.equal((await store.status('stalled')).offset, 100, 'what arrived is kept for a resume');
  const again = await store.writer({ ref: 'stalled' });
  await again.close(); // the ref was released
});

test('a reader never sees a partial blob', async (t) => {
  const { store } = fixture(t);
  const [b, d] = content(4 << 20);
  const w = await store.writer({ ref: 'p', expected: d, total: b.length });
  let stop = false;
  const seen = { missing: 0, whole: 0 };
  const poll = (async () => {
    while (!stop) {
      try {
        const got = await store.readAll(d);
        assert.equal(got.length, b.length, 'a read after the commit is whole');
        seen.whole++;
      } catch (err) {
        assert.ok(isKind(err, 'not-found'), `before the commit: not-found, got ${(err as Error).message}`);
        seen.missing++;
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  await writeAll(w, b, 64 << 10);
  await w.commit(b.length, d);
  await new Promise((r) => setTimeout(r, 20));
  stop = true;
  await poll;
  assert.ok(seen.missing > 0 && seen.whole > 0, `polled before and after: ${JSON.stringify(seen)}`);
});

/** A child process that opens a writer on `ref` and writes `size` bytes of seeded content slowly. */
function spawnWriter(root: string, ref: string, size: number, seed: number, hold: boolean): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { LocalContentStore } = await import(${JSON.stringify(path.join(here, 'local.ts'))});
       const { openMetadata } = await import(${JSON.stringify(path.join(here, '../metadata/db.ts'))});
       const { seeded } = await import(${JSON.stringify(path.join(here, 'local.test-data.ts'))});
       const [root, ref, size, seed, hold] = process.argv.slice(1);
       const db = openMetadata(root + '/metadata.db');
       const store = new LocalContentStore(root + '/content', db);
       const w = await store.writer({ ref, total: Number(size) });
       process.stdout.write('open\\n');
       if (hold !== '1') {
         const b = seeded(Number(size), Number(seed));
         // never the last byte: the parent kills us mid-write
         for (let i = 0; i < b.length - 1; i += 4096) {
           await w.write(b.subarray(i, Math.min(i + 4096, b.length - 1)));
           if (i > 100000) {
             process.stdout.write('wrote\\n');
             await new Promise((r) => setTimeout(r, 1));
           }
         }
       }
       setInterval(() => {}, 1000);`,
      root,
      ref,
      String(size),
      String(seed),
      hold ? '1' : '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return child;
}

function waitFor(child: ChildProcess, word: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes(word) && resolve());
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before '${word}'`)));
  });
}

test('one writer per ref across processes; the ref is free again when the holder is killed', async (t) => {
  const { root, store } = fixture(t);
  const child = spawnWriter(root, 'shared', 100, 1, true);
  t.after(() => child.kill('SIGKILL'));
  await waitFor(child, 'open');
  await rejectsKind(store.writer({ ref: 'shared' }), 'unavailable');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const w = await store.writer({ ref: 'shared' });
  assert.equal(w.status().total, 100);
  await w.close();
});

test('SIGKILL in the middle of a write, then resume: the right digest', async (t) => {
  const { root, store } = fixture(t);
  const { seeded } = await import('./local.test-data.js');
  const size = 1 << 20;
  const b = seeded(size, 7);
  const d = sha(b);
  const child = spawnWriter(root, 'killed', size, 7, false);
  t.after(() => child.kill('SIGKILL'));
  await waitFor(child, 'wrote');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const st = await store.status('killed');
  assert.ok(st.offset > 100000 && st.offset <= size, `partial data kept: ${st.offset}`);
  const r = await ingest(store, 'killed', { digest: d, size }, { open: (o) => Readable.from([b.subarray(o)]) });
  assert.equal(r.resumedFrom, st.offset, 'resumed from what the killed writer left');
  assert.deepEqual(await store.readAll(d), b);
  assert.deepEqual(readdirSync(store.ingestDir), [], 'the ingest is gone');
  assert.equal(readFileSync(store.path(d)).length, size);
});

test('SIGKILL at random points of a stream of commits: every row names a whole blob', async (t) => {
  const { root, db, store } = fixture(t);
  for (let round = 0; round < 2; round++) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { LocalContentStore } = await import(${JSON.stringify(path.join(here, 'local.ts'))});
         const { ingest } = await import(${JSON.stringify(path.join(here, 'ingest.ts'))});
         const { openMetadata } = await import(${JSON.stringify(path.join(here, '../metadata/db.ts'))});
         const { createHash, randomBytes } = await import('node:crypto');
         const { Readable } = await import('node:stream');
         const [root, round] = process.argv.slice(1);
         const store = new LocalContentStore(root + '/content', openMetadata(root + '/metadata.db'));
         process.stdout.write('ready\\n');
         for (let i = 0; ; i++) {
           const b = randomBytes(1000 + (i % 7) * 100000);
           const digest = 'sha256:' + createHash('sha256').update(b).digest('hex');
           await ingest(store, 'blob-' + round + '-' + i, { digest, size: b.length }, Readable.from([b]));
         }`,
        root,
        String(round),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    t.after(() => child.kill('SIGKILL'));
    await waitFor(child, 'ready');
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const rows = db.prepare('SELECT digest, size FROM content').all() as { digest: string; size: number }[];
    assert.ok(rows.length > 0, 'the child committed something');
    for (const r of rows) {
      const data = readFileSync(store.blobPath(r.digest));
      assert.equal(sha(data), r.digest, 'a committed blob re-hashes to its name');
      assert.equal(data.length, r.size);
    }
    const withRow = new Set(rows.map((r) => r.digest));
    const orphans = readdirSync(store.blobsDir).filter((n) => !withRow.has(`sha256:${n}`));
    assert.ok(orphans.length <= 1, `at most the blob being committed has no row: ${orphans}`);
    for (const st of await store.listStatuses()) assert.ok(st.offset <= st.total, 'an ingest never holds more than its total');
  }
});

test('lend and adopt: a borrower writes the data file, the writer commits what it reports', async (t) => {
  const { store } = fixture(t);
  const [b, digest] = content(300_000);
  const w = await store.writer({ ref: 'lent', expected: digest, total: b.length });
  const fd = w.lend?.();
  assert.equal(typeof fd, 'number');
  // while lent, the writer takes nothing itself
  await rejectsKind(w.write(b.subarray(0, 1)), 'failed-precondition', /lent to another writer/);
  await rejectsKind(w.commit(b.length, digest), 'failed-precondition', /lent/);
  assert.throws(() => w.lend?.(), /lent to another writer/);
  writeFileSync(`/proc/self/fd/${fd}`, b);
  w.adopt?.(b.length, digest);
  assert.equal(w.digest(), digest);
  assert.equal(w.status().offset, b.length);
  // adopted bytes are the whole blob: no more writes
  await rejectsKind(w.write(b.subarray(0, 1)), 'failed-precondition', /written by another writer/);
  await w.commit(b.length, digest);
  assert.deepEqual(await store.readAll(digest), b);
});

test('lend: only an empty ingest; a loan given up resumes; a wrong report fails the commit', async (t) => {
  const { store } = fixture(t);
  const [b, digest] = content(200_000);
  const w = await store.writer({ ref: 'resumed', expected: digest, total: b.length });
  await w.write(b.subarray(0, 1000));
  assert.throws(() => w.lend?.(), /1000 bytes are written already/);
  await w.truncate(0);
  const fd = w.lend?.() as number;
  // the borrower writes a prefix and dies: no adopt, the writer is closed
  writeFileSync(`/proc/self/fd/${fd}`, b.subarray(0, 5000));
  assert.throws(() => w.adopt?.(5000, 'sha256:nope'), /digest/);
  await w.close();
  // the next writer re-hashes the prefix and goes on from it
  const w2 = await store.writer({ ref: 'resumed', expected: digest, total: b.length });
  assert.equal(w2.status().offset, 5000);
  assert.equal(w2.digest(), sha(b.subarray(0, 5000)));
  await w2.truncate(0);
  // a borrower that reports a size the file does not have: the commit says so, and commits nothing
  w2.lend?.();
  w2.adopt?.(b.length, digest);
  await assert.rejects(w2.commit(b.length, digest), /commit ingest 'resumed': data holds 0 bytes, 200000 were written/);
  await rejectsKind(store.info(digest), 'not-found');
});
