import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LogEntry } from './entry.js';
import { at, collect, countingFs, entryLine, ShimLikeWriter } from './logs.test-fixtures.js';
import { type ReadLogsOptions, readLogs } from './read.js';

const root = mkdtempSync(join(tmpdir(), 'berth-logs-follow-'));
const stops: AbortController[] = [];
after(() => {
  for (const s of stops) s.abort();
  rmSync(root, { recursive: true, force: true });
});
let n = 0;
const fresh = () => {
  const d = join(root, `c${n++}`);
  mkdirSync(d);
  return join(d, 'json.log');
};
const texts = (es: LogEntry[]) => es.map((e) => e.line.toString());
const ENTRY = entryLine('stdout', 'line 0000\n', at(0)).length;

/** A follower consuming in the background; `exit()` resolves its `done`. */
function follower(path: string, o: ReadLogsOptions = {}) {
  let exit!: () => void;
  const done = new Promise<void>((r) => {
    exit = r;
  });
  const got: LogEntry[] = [];
  // a failed test must not leave a follower waiting (it would keep the test process up)
  const stop = new AbortController();
  stops.push(stop);
  const signal = o.signal ? AbortSignal.any([o.signal, stop.signal]) : stop.signal;
  const finished = (async () => {
    for await (const e of readLogs(path, { follow: true, done, pollMs: 50, ...o, signal })) got.push(e);
    return texts(got);
  })();
  let ended = false;
  finished.then(
    () => {
      ended = true;
    },
    () => {},
  );
  return {
    got,
    exit,
    finished,
    ended: () => ended,
    async waitFor(count: number) {
      for (let i = 0; i < 500 && got.length < count; i++) await sleep(10);
      assert.ok(got.length >= count, `got ${got.length} entries, waiting for ${count}: ${texts(got)}`);
    },
  };
}

const line = (i: number) => `line ${String(i).padStart(4, '0')}\n`;

test('follow: entries appended later arrive, a line written in two pieces arrives once and whole', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path);
  w.write('stdout', line(0));
  w.write('stderr', line(1));
  const f = follower(path);
  await f.waitFor(2);
  const whole = entryLine('stdout', line(2), at(2));
  w.raw(whole.slice(0, 25));
  await sleep(120); // the follower sees the torn piece (and waits for the rest)
  w.raw(whole.slice(25));
  await f.waitFor(3);
  w.write('stdout', line(3), at(3));
  w.write('stderr', line(4), at(4));
  await f.waitFor(5);
  assert.equal(f.ended(), false, 'still following while the container runs');
  f.exit();
  assert.deepEqual(await f.finished, [0, 1, 2, 3, 4].map(line));
  assert.deepEqual(
    f.got.map((e) => e.stream),
    ['stdout', 'stderr', 'stdout', 'stdout', 'stderr'],
  );
  w.close();
});

test('follow across rotations while writing: nothing lost, nothing twice, in order', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path, 3 * ENTRY - 1, 50);
  w.write('stderr', line(0));
  const f = follower(path);
  await f.waitFor(1); // it holds the file before the writer rotates it
  const all = [line(0)];
  for (let i = 1; i < 40; i++) {
    w.write(i % 3 ? 'stdout' : 'stderr', line(i));
    all.push(line(i));
    if (i % 2) await sleep(3);
  }
  await f.waitFor(40);
  f.exit();
  assert.deepEqual(await f.finished, all);
  w.close();
});

test('follow: a consumer away during three rotations gets every entry on return (the files it missed)', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path, 2 * ENTRY - 1, 6);
  w.write('stdout', line(0));
  let exit!: () => void;
  const done = new Promise<void>((r) => {
    exit = r;
  });
  const it = readLogs(path, { follow: true, done, pollMs: 50 })[Symbol.asyncIterator]();
  const first = await it.next();
  assert.equal(first.value?.line.toString(), line(0));
  for (let i = 1; i < 8; i++) w.write('stdout', line(i)); // rotates after 2, 4, 6
  exit();
  const rest: string[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value.line.toString());
  assert.deepEqual(rest, [1, 2, 3, 4, 5, 6, 7].map(line));
  w.close();
});

test('follow with max-file 1 (the file starts over): the old file to its end, then the new one', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path, 2 * ENTRY - 1, 1);
  const f = follower(path);
  w.write('stdout', line(0));
  await f.waitFor(1);
  w.write('stdout', line(1));
  w.write('stdout', line(2)); // starts the file over
  w.write('stdout', line(3));
  await f.waitFor(4);
  f.exit();
  assert.deepEqual(await f.finished, [0, 1, 2, 3].map(line));
  w.close();
});

test('follow ends on done with everything written before delivered, a rotation just before included', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path, 5 * ENTRY - 1, 50);
  const f = follower(path, { pollMs: 10_000 }); // only fs.watch and done wake it
  await sleep(20);
  const all: string[] = [];
  for (let i = 0; i < 100; i++) {
    w.write(i % 2 ? 'stdout' : 'stderr', line(i));
    all.push(line(i));
  }
  w.rotate();
  w.write('stdout', 'last\n');
  f.exit(); // at once: the follower has not caught up yet
  assert.deepEqual(await f.finished, [...all, 'last\n']);
  w.close();
});

test('follow with tail: the last N, then what is new; tail 0 only what is new', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path, 3 * ENTRY - 1, 10);
  for (let i = 0; i < 7; i++) w.write('stdout', line(i));
  const t2 = follower(path, { tail: 2 });
  const counted = countingFs();
  const t0 = follower(path, { tail: 0, fs: counted.fs });
  await t2.waitFor(2);
  // t0 has taken its tail (it read the end of the file) before anything new is written
  for (let i = 0; i < 500 && counted.reads() === 0; i++) await sleep(10);
  for (let i = 7; i < 12; i++) w.write('stdout', line(i));
  await t2.waitFor(7);
  await t0.waitFor(5);
  t2.exit();
  t0.exit();
  assert.deepEqual(await t2.finished, [5, 6, 7, 8, 9, 10, 11].map(line));
  assert.deepEqual(await t0.finished, [7, 8, 9, 10, 11].map(line));
  w.close();
});

test('follow before the log exists: it waits for the file; since and stream selection apply', async () => {
  const path = fresh();
  const f = follower(path, { stdout: false, since: at(1) });
  await sleep(80);
  assert.equal(f.got.length, 0);
  const w = new ShimLikeWriter(path);
  for (let i = 0; i < 6; i++) w.write(i % 2 ? 'stderr' : 'stdout', line(i));
  await f.waitFor(3);
  f.exit();
  assert.deepEqual(await f.finished, [1, 3, 5].map(line));
  w.close();
});

test('follow: a torn entry cut off after a short write (disk full) is replaced, not glued to the next', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path);
  const f = follower(path, { pollMs: 20 });
  w.write('stdout', line(0));
  await f.waitFor(1);
  const good = w.size;
  w.raw(entryLine('stdout', line(1), at(1)).slice(0, 40));
  await sleep(100); // the follower has read the torn bytes
  w.truncate(good); // what log.c does after a short write
  w.write('stdout', line(2));
  w.raw('garbage that is not json\n');
  w.write('stderr', line(3));
  await f.waitFor(3);
  f.exit();
  assert.deepEqual(await f.finished, [0, 2, 3].map(line));
  w.close();
});

test('follow with until: ends at the first entry past it, or once the clock is past it', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path);
  for (let i = 0; i < 3; i++) w.write('stdout', line(i));
  // the entries are from 2023: until (2023) is long past, so nothing more can come
  const f = follower(path, { until: at(5) });
  assert.deepEqual(await f.finished, [0, 1, 2].map(line));
  const g = follower(path, { until: at(1) });
  assert.deepEqual(await g.finished, [0, 1].map(line));
  w.close();
});

test('leaving a follower: return() while it waits, or its signal, ends it at once', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path);
  w.write('stdout', line(0));
  const it = readLogs(path, { follow: true, pollMs: 60_000 })[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.line.toString(), line(0));
  const pending = it.next(); // nothing new: it waits
  await sleep(30);
  const t = Date.now();
  await it.return!();
  assert.deepEqual(await pending, { done: true, value: undefined });
  assert.ok(Date.now() - t < 5000);

  const ac = new AbortController();
  const f = follower(path, { signal: ac.signal, pollMs: 60_000 });
  await f.waitFor(1);
  ac.abort();
  assert.deepEqual(await f.finished, [line(0)]);

  const pre = new AbortController();
  pre.abort();
  assert.deepEqual(await collect(readLogs(path, { follow: true, signal: pre.signal })), [], 'an aborted signal: nothing');
  w.close();
});

test('an idle follower does not poll in a tight loop', async () => {
  const path = fresh();
  writeFileSync(path, entryLine('stdout', line(0), at(0)));
  const { fs, reads } = countingFs();
  const f = follower(path, { fs, pollMs: 100 });
  await f.waitFor(1);
  const before = reads();
  await sleep(500);
  const idle = reads() - before;
  assert.ok(idle <= 10, `${idle} reads in 500 ms of silence`);
  f.exit();
  await f.finished;
});

test('a follower is woken by the directory watch, and by the fallback interval when there is none yet', async () => {
  const path = fresh();
  writeFileSync(path, '');
  const f = follower(path, { pollMs: 60_000 });
  await sleep(50);
  const w = new ShimLikeWriter(path);
  w.write('stdout', line(0));
  await f.waitFor(1); // within 5 s: fs.watch, not the 60 s interval
  f.exit();
  assert.deepEqual(await f.finished, [line(0)]);
  w.close();

  const dir = join(root, `later${n++}`);
  const g = follower(join(dir, 'json.log'), { pollMs: 100 });
  await sleep(150);
  mkdirSync(dir);
  const w2 = new ShimLikeWriter(join(dir, 'json.log'));
  w2.write('stderr', line(1));
  await g.waitFor(1);
  g.exit();
  assert.deepEqual(await g.finished, [line(1)]);
  w2.close();
});

test('once onOpen is called, the log may go (the container removed): the follower still delivers all of it', async () => {
  // docker-py's `run`: logs (follow) → wait → remove → only then read the stream. The API answers
  // the head only after onOpen, so what the files held is what the client gets.
  const path = fresh();
  const w = new ShimLikeWriter(path);
  w.write('stdout', line(0));
  let exit!: () => void;
  const done = new Promise<void>((r) => {
    exit = r;
  });
  let opened!: () => void;
  const open = new Promise<void>((r) => {
    opened = r;
  });
  const it = readLogs(path, { follow: true, done, pollMs: 50, onOpen: () => opened() })[Symbol.asyncIterator]();
  const first = it.next();
  await open;
  w.write('stderr', line(1)); // the rest of the output, then the exit, then the removal
  w.close();
  exit();
  rmSync(dirname(path), { recursive: true, force: true });
  const got: string[] = [];
  for (let r = await first; !r.done; r = await it.next()) got.push(r.value.line.toString());
  assert.deepEqual(got, [line(0), line(1)]);
});
