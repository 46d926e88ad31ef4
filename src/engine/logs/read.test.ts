import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LogEntry } from './entry.js';
import { logUsage, openLogFiles, removeLogs } from './files.js';
import { at, collect, countingFs, entryLine, ShimLikeWriter, shimTime, T0 } from './logs.test-fixtures.js';
import { type ReadLogsOptions, readLogs } from './read.js';

const root = mkdtempSync(join(tmpdir(), 'berth-logs-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => {
  const d = join(root, `c${n++}`);
  mkdirSync(d);
  return join(d, 'json.log');
};
const MS = 1_000_000n;
const ENTRY = entryLine('stdout', 'stdout 0000\n', at(0)).length;
const texts = (es: LogEntry[]) => es.map((e) => e.line.toString());
const read = async (path: string, o: ReadLogsOptions = {}) => texts(await collect(readLogs(path, o)));

/** A log of `count` entries "<stream> i\n" alternating stdout/stderr, rotated every `per` entries. */
function rotatedLog(count: number, per: number, maxFile = 100): { path: string; all: string[] } {
  const path = fresh();
  // every entry is ENTRY bytes: rotate after `per` of them
  const w = new ShimLikeWriter(path, per * ENTRY - 1, maxFile);
  const all: string[] = [];
  for (let i = 0; i < count; i++) {
    const s = i % 2 ? 'stderr' : 'stdout';
    const text = `${s} ${String(i).padStart(4, '0')}\n`;
    w.write(s, text);
    all.push(text);
  }
  w.close();
  return { path, all };
}

test('the entries of every file, oldest first, with the time as written and in nanoseconds', async () => {
  const { path, all } = rotatedLog(10, 3);
  assert.deepEqual(
    readdirSync(join(path, '..')).sort(),
    ['json.log', 'json.log.1', 'json.log.2', 'json.log.3'],
    'the fixture rotates like the shim',
  );
  const es = await collect(readLogs(path));
  assert.deepEqual(texts(es), all);
  assert.deepEqual(
    es.map((e) => e.stream),
    all.map((t) => t.split(' ')[0]),
  );
  assert.equal(es[0]!.time, shimTime(at(0)));
  assert.match(es[0]!.time, /^2023-11-14T22:13:20\.001000001Z$/);
  assert.equal(es[0]!.timeNs, at(0));
  assert.equal(es[9]!.timeNs, at(9));
});

test('stream selection', async () => {
  const { path, all } = rotatedLog(10, 3);
  assert.deepEqual(
    await read(path, { stderr: false }),
    all.filter((t) => t.startsWith('stdout')),
  );
  assert.deepEqual(
    await read(path, { stdout: false }),
    all.filter((t) => t.startsWith('stderr')),
  );
  assert.deepEqual(await read(path, { stdout: false, stderr: false }), []);
});

test('since and until: both inclusive; until ends the read at the first entry after it', async () => {
  const { path, all } = rotatedLog(10, 3);
  assert.deepEqual(await read(path, { since: at(3) }), all.slice(3), 'since equal to an entry includes it');
  assert.deepEqual(await read(path, { since: at(3) + 1n }), all.slice(4));
  assert.deepEqual(await read(path, { until: at(3) }), all.slice(0, 4), 'until equal to an entry includes it');
  assert.deepEqual(await read(path, { until: at(3) - 1n }), all.slice(0, 3));
  assert.deepEqual(await read(path, { since: at(1) - 1n, until: at(4) - 1n }), all.slice(1, 4));
  assert.deepEqual(await read(path, { since: at(100) }), []);
  assert.deepEqual(await read(path, { until: T0 }), []);
  assert.deepEqual(await read(path, { since: 0n }), all, 'since 0: everything');
  // moby returns at the first entry past until, even if a later one is earlier again
  const p2 = fresh();
  writeFileSync(p2, entryLine('stdout', 'a\n', T0) + entryLine('stdout', 'b\n', T0 + 10n * MS) + entryLine('stdout', 'c\n', T0 + MS));
  assert.deepEqual(await read(p2, { until: T0 + 5n * MS }), ['a\n']);
});

test('tail: the last N entries across rotated files; 0 gives nothing; more than the log gives all', async () => {
  const { path, all } = rotatedLog(10, 3);
  assert.deepEqual(await read(path, { tail: 0 }), []);
  assert.deepEqual(await read(path, { tail: 1 }), all.slice(-1));
  assert.deepEqual(await read(path, { tail: 2 }), all.slice(-2), 'the current file has one entry, .1 the other');
  assert.deepEqual(await read(path, { tail: 7 }), all.slice(-7), 'across three files');
  assert.deepEqual(await read(path, { tail: 10 }), all);
  assert.deepEqual(await read(path, { tail: 1000 }), all);
  assert.deepEqual(await read(path, { tail: -1 }), all);
  // as in Docker, tail counts before since and the stream selection
  assert.deepEqual(
    await read(path, { tail: 4, stdout: false }),
    all.slice(-4).filter((t) => t.startsWith('stderr')),
  );
  assert.deepEqual(await read(path, { tail: 4, since: at(7) }), all.slice(-3));
});

test('tail on an empty current file after a rotation, and on an empty log', async () => {
  const path = fresh();
  const w = new ShimLikeWriter(path, 1, 3);
  w.write('stdout', 'one\n');
  w.write('stdout', 'two\n');
  w.rotate();
  w.close();
  assert.deepEqual(await read(path, { tail: 1 }), ['two\n']);
  const empty = fresh();
  writeFileSync(empty, '');
  assert.deepEqual(await read(empty, { tail: 3 }), []);
  assert.deepEqual(await read(empty, { tail: 0 }), []);
  assert.deepEqual(await read(empty), []);
});

test('a torn last line (the shim mid-write) is not an entry yet; garbage lines are skipped, never fatal', async () => {
  const path = fresh();
  const torn = entryLine('stdout', 'torn\n', T0 + 9n * MS).slice(0, 30);
  writeFileSync(
    path,
    entryLine('stdout', 'a\n', T0) +
      'this is not json\n' +
      '\n' +
      '{"log":"no stream","time":"2023-11-14T22:13:20Z"}\n' +
      entryLine('stderr', 'b\n', T0 + MS) +
      '{"log":"x\n' + // a torn entry followed by a newline: garbage
      entryLine('stdout', 'c', T0 + 2n * MS) +
      torn,
  );
  assert.deepEqual(await read(path), ['a\n', 'b\n', 'c']);
  assert.deepEqual(await read(path, { tail: 2 }), ['b\n', 'c'], 'tail skips the torn line and does not count garbage');
  assert.deepEqual(await read(path, { tail: 3 }), ['a\n', 'b\n', 'c']);
});

test('hostile files: a huge line without a newline, NUL bytes, a symlink, a directory: skipped', async () => {
  const path = fresh();
  const fd = openSync(path, 'w');
  writeSync(fd, entryLine('stdout', 'before\n', T0));
  writeSync(fd, Buffer.alloc(3 * 1024 * 1024, 'x'));
  writeSync(fd, `\n${entryLine('stdout', 'after\n', T0 + MS)}`);
  writeSync(fd, Buffer.alloc(100, 0));
  writeSync(fd, `\n${entryLine('stdout', 'last\n', T0 + 2n * MS)}`);
  closeSync(fd);
  assert.deepEqual(await read(path), ['before\n', 'after\n', 'last\n']);
  assert.deepEqual(await read(path, { tail: 3 }), ['before\n', 'after\n', 'last\n']);
  assert.deepEqual(await read(path, { tail: 2 }), ['after\n', 'last\n']);

  const link = fresh();
  symlinkSync(path, link);
  assert.deepEqual(await read(link), [], 'a symlink at the log path is not followed');
  const dir = fresh();
  mkdirSync(dir);
  assert.deepEqual(await read(dir), [], 'a directory is not a log');
});

test('a missing log (never started, --log-driver none) yields nothing', async () => {
  assert.deepEqual(await read(join(root, 'nowhere', 'json.log')), []);
  assert.deepEqual(await read(fresh(), { tail: 5 }), []);
  assert.deepEqual(await read(fresh(), { follow: true, done: Promise.resolve() }), [], 'following an exited container');
});

test('a 50 MB log: tail 5 reads only its end', async () => {
  const path = fresh();
  const line = entryLine('stdout', `${'filler '.repeat(10)}\n`, T0);
  const block = Buffer.from(line.repeat(Math.ceil((1024 * 1024) / line.length)));
  const fd = openSync(path, 'w');
  for (let i = 0; i < 50; i++) writeSync(fd, block);
  const last: string[] = [];
  for (let i = 0; i < 8; i++) {
    last.push(`last ${i}\n`);
    writeSync(fd, entryLine(i % 2 ? 'stderr' : 'stdout', `last ${i}\n`, T0 + BigInt(i + 1) * MS));
  }
  closeSync(fd);
  const { fs, bytesRead } = countingFs();
  assert.deepEqual(await read(path, { tail: 5, fs }), last.slice(-5));
  assert.ok(bytesRead() <= 256 * 1024, `read ${bytesRead()} bytes of ${50 * block.length}`);
  const c2 = countingFs();
  assert.deepEqual(await read(path, { tail: 0, fs: c2.fs, follow: true, done: Promise.resolve() }), []);
  assert.ok(c2.bytesRead() <= 256 * 1024, `tail 0 read ${c2.bytesRead()} bytes`);
});

test('openLogFiles: oldest first, only the log and its numbered rotations', async () => {
  const { path } = rotatedLog(10, 3);
  writeFileSync(`${path}.bak`, 'x');
  writeFileSync(`${path}.01`, 'x');
  writeFileSync(`${path}x`, 'x');
  const files = await openLogFiles(path);
  try {
    assert.equal(files.length, 4);
    const firsts: string[] = [];
    for (const f of files) {
      const b = Buffer.alloc(ENTRY);
      await f.read(b, 0);
      firsts.push(JSON.parse(b.toString().split('\n')[0]!).log);
    }
    assert.deepEqual(firsts, ['stdout 0000\n', 'stderr 0003\n', 'stdout 0006\n', 'stderr 0009\n']);
  } finally {
    for (const f of files) await f.close();
  }
});

test('logUsage sums every file of the log; removeLogs removes them all and only them', async () => {
  const { path } = rotatedLog(10, 3);
  writeFileSync(`${path}.4.gz`, 'zz');
  writeFileSync(`${path}.bak`, 'keep');
  assert.equal(await logUsage(path), 10 * ENTRY + 2);
  await removeLogs(path);
  assert.deepEqual(readdirSync(join(path, '..')), ['json.log.bak']);
  assert.equal(await logUsage(path), 0);
  await removeLogs(path); // nothing left: fine
  assert.equal(await logUsage(join(root, 'nowhere', 'json.log')), 0);
});
