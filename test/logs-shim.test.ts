/**
 * The log reader against the real writer: a container run through berth-shim prints a known
 * sequence on stdout and stderr with a small max-size, so the shim rotates many times; readLogs
 * must give exactly that sequence, following from before the container exists to its exit,
 * and reading afterwards (all, tail, streams).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type LogEntry, readLogs } from '../src/engine/logs/index.js';
import { readShimInfo, ShimClient, waitExit } from '../src/engine/shim/client.js';
import { type ShimSession, shimLauncher } from '../src/engine/shim/launcher.js';
import { deleteContainer, launchPrepared, prepare } from '../src/runtime/index.js';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { stopShim } from './helpers/shim.js';

const SHIM = join(import.meta.dirname, '..', 'native', 'build', 'berth-shim');
const skip =
  process.getuid?.() !== 0 ? 'needs root' : (rootfsUnavailable() ?? (existsSync(SHIM) ? undefined : `${SHIM} not built (make -C native)`));

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

/** A state dir (the log's directory) and a function that runs `script` in a container through the shim. */
function container(log: { maxSize: number; maxFile: number }) {
  const root = mkdtempSync(join(tmpdir(), 'berth-logs-root-'));
  const stateDir = mkdtempSync(join(tmpdir(), 'berth-logs-state-'));
  const logPath = join(stateDir, 'json.log');
  const id = uniqueId('logs');
  let bundle: Bundle | undefined;
  cleanups.push(async () => {
    await deleteContainer(root, id, true).catch(() => {});
    await stopShim(stateDir);
    await bundle?.[Symbol.asyncDispose]();
    rmSync(root, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });
  return {
    stateDir,
    logPath,
    /** Launches and starts the script; resolves with its exit record once the shim wrote it. */
    async run(script: string) {
      const b = await Bundle.create();
      bundle = b;
      await b.editConfig((s) => {
        s.process!.args = ['/bin/sh', '-c', script];
        s.process!.terminal = false;
      });
      const opts = { root, id, bundle: b.dir };
      const p = await prepare(opts, 'run-detached');
      const cg = p.record.cgroups.find((c) => c.hierarchy.version === 2) ?? p.record.cgroups[0];
      const launcher = shimLauncher({ stateDir, log: { path: logPath, ...log }, cgroup: cg?.dir });
      const { session } = await launchPrepared(p, { ...opts, launcher });
      const s = session as ShimSession;
      await s.ready;
      const exited = waitExit(stateDir, { cgroup: cg?.dir });
      s.send('start');
      const m = await s.next();
      assert.equal(m.type, 'eof', `started: ${JSON.stringify(m)}`);
      return { exited };
    },
  };
}

/** The entries as written, straight from the files, oldest file first. */
function onDisk(logPath: string): { stream: string; log: string; time: string }[] {
  const dir = join(logPath, '..');
  const idx = readdirSync(dir)
    .map((f) => (f === 'json.log' ? 0 : /^json\.log\.(\d+)$/.exec(f) ? Number(f.slice(9)) : -1))
    .filter((i) => i >= 0)
    .sort((a, b) => b - a);
  const out: { stream: string; log: string; time: string }[] = [];
  for (const i of idx) {
    const text = readFileSync(i === 0 ? logPath : `${logPath}.${i}`, 'utf8');
    for (const l of text.split('\n').filter(Boolean)) out.push(JSON.parse(l));
  }
  return out;
}

const view = (es: LogEntry[]) => es.map((e) => ({ stream: e.stream, log: e.line.toString(), time: e.time }));
const streamText = (es: LogEntry[], s: string) => Buffer.concat(es.filter((e) => e.stream === s).map((e) => e.line)).toString();

async function collect(it: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('logs through berth-shim', { skip, concurrency: false }, () => {
  test('a sequence on both streams, rotated many times: following from before the start, and after the exit', {
    timeout: 60_000,
  }, async () => {
    const N = 300;
    const script = [
      `i=0; while [ $i -lt ${N} ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done`,
      "head -c 20000 /dev/zero | tr '\\0' a; echo",
      "printf 'no newline at the end'",
    ].join('; ');
    const expectOut = `${Array.from({ length: N }, (_, i) => `out ${i}\n`).join('')}${'a'.repeat(20000)}\nno newline at the end`;
    const expectErr = Array.from({ length: N }, (_, i) => `err ${i}\n`).join('');

    const c = container({ maxSize: 4096, maxFile: 60 });
    let exit!: () => void;
    const done = new Promise<void>((r) => {
      exit = r;
    });
    // following before the container (and its log) exists
    const following = collect(readLogs(c.logPath, { follow: true, done }));
    const { exited } = await c.run(script);
    const rec = await exited;
    assert.equal(rec.exit_code, 0);
    exit();
    const followed = await following;

    const files = readdirSync(c.stateDir).filter((f) => f.startsWith('json.log'));
    assert.ok(files.length > 5, `the shim rotated several times: ${files.join(' ')}`);
    const truth = onDisk(c.logPath);
    assert.equal(streamText(followed, 'stdout'), expectOut, 'stdout in order, nothing lost or doubled');
    assert.equal(streamText(followed, 'stderr'), expectErr, 'stderr in order, nothing lost or doubled');
    assert.deepEqual(view(followed), truth, 'following gives the entries exactly as written, in file order');
    assert.deepEqual(
      followed.filter((e) => e.line.toString().startsWith('aaaa')).map((e) => e.line.length),
      [16384, 3617],
      'the long line as its two pieces',
    );

    const all = await collect(readLogs(c.logPath));
    assert.deepEqual(view(all), truth, 'reading after the exit gives the same');
    assert.deepEqual(view(await collect(readLogs(c.logPath, { tail: 5 }))), truth.slice(-5));
    assert.deepEqual(view(await collect(readLogs(c.logPath, { tail: 2 * N }))), truth.slice(-2 * N));
    assert.equal(streamText(await collect(readLogs(c.logPath, { stdout: false })), 'stderr'), expectErr);
    const mid = all[N]!;
    assert.deepEqual(
      view(await collect(readLogs(c.logPath, { since: mid.timeNs }))),
      truth.filter((_, i) => all[i]!.timeNs >= mid.timeNs),
    );
    // after the exit, following ends by itself
    assert.deepEqual(view(await collect(readLogs(c.logPath, { follow: true, done: Promise.resolve(), tail: 3 }))), truth.slice(-3));
  });

  // A follower more than two files (~0.5 s) behind would lose entries, as with Docker.
  test('following in real time with max-file 3: the files a follower keeps up with may be deleted behind it', {
    timeout: 60_000,
  }, async () => {
    const N = 50;
    const c = container({ maxSize: 1000, maxFile: 3 });
    let exit!: () => void;
    const done = new Promise<void>((r) => {
      exit = r;
    });
    const following = collect(readLogs(c.logPath, { follow: true, done }));
    const { exited } = await c.run(`i=0; while [ $i -lt ${N} ]; do echo "out $i"; echo "err $i" >&2; usleep 40000; i=$((i+1)); done`);
    assert.equal((await exited).exit_code, 0);
    exit();
    const followed = await following;
    assert.equal(streamText(followed, 'stdout'), Array.from({ length: N }, (_, i) => `out ${i}\n`).join(''));
    assert.equal(streamText(followed, 'stderr'), Array.from({ length: N }, (_, i) => `err ${i}\n`).join(''));
    await using client = await ShimClient.connect(readShimInfo(c.stateDir)!.socket);
    const st = await client.state();
    assert.ok(st.log_rotations >= 5, `rotations: ${st.log_rotations}`);
    const kept = await collect(readLogs(c.logPath));
    assert.ok(kept.length < 2 * N, 'the oldest files are gone from disk');
    assert.deepEqual(view(kept), view(followed.slice(-kept.length)), 'what is left is the end of what was followed');
  });
});
