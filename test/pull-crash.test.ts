/**
 * Crash safety of pull: a pull in a child process is SIGKILLed at 50 points — half at a random
 * moment, half at a given progress event (download, verify, extract, commit) — each run picking
 * up what the previous ones left. Then a pull that completes, lease reaping (what engine
 * start-up does) and GC must leave a consistent store: the image and nothing else, no orphaned
 * blob, snapshot or ingest, and every blob re-hashing to its name.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { build } from 'esbuild';
import { openImageService } from '../src/images/service.js';
import { fsck, imageOf, putImage } from './helpers/images.js';
import { registryMissing, startRegistry } from './helpers/registry.js';
import { firstReason, needsRoot } from './helpers/requires.js';
import { REPO_ROOT } from './helpers/runtime.js';
import { packTar } from './helpers/tar.js';

const KILLS = Number(process.env.BERTH_CRASH_KILLS ?? 50);

test('a pull SIGKILLed at 50 points, then two at once, then completed: a consistent store, nothing orphaned after GC', {
  skip: firstReason(needsRoot(), registryMissing()),
}, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'berth-pull-crash-'));
  const reg = await startRegistry({ mode: 'anonymous' });
  t.after(async () => {
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  });
  // small but not instant: 3 layers of incompressible data and one of many small files
  const noise = (_seed: number, n: number) => randomBytes(n);
  const layers = [
    await packTar([{ name: 'big0', data: noise(1, 600_000) }]),
    await packTar(Array.from({ length: 300 }, (_, i) => ({ name: `d${i % 10}/f${i}`, data: `${i}\n` }))),
    await packTar([
      { name: 'big1', data: noise(2, 400_000) },
      { name: '.wh.big0', data: '' },
    ]),
  ];
  const img = imageOf(layers);
  await putImage(reg, 'crash/img', 'v1', [img]);
  const ref = `${reg.host}/crash/img:v1`;
  // bundled next to berth-runtime's bundle (dist/), where the code finds native/build/ and node_modules
  const child = join(REPO_ROOT, 'dist', `test-pull-child-${process.pid}.mjs`);
  t.after(() => rmSync(child, { force: true }));
  await build({
    entryPoints: [join(REPO_ROOT, 'test/helpers/pull-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: child,
    packages: 'external',
    logLevel: 'error',
  });
  const root = join(work, 'root');
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: undefined };

  const runChild = (killAt: number, killAfterMs?: number) =>
    new Promise<{ code: number | null; signal: string | null; out: string; err: string }>((resolve) => {
      const p = spawn(process.execPath, [child, root, ref, String(killAt)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      const timer = killAfterMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), killAfterMs);
      p.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, out, err });
      });
    });

  // one clean run: how long a pull takes, and how many events it emits
  const first = await runChild(-1);
  assert.equal(first.code, 0, first.err);
  const events = Number(/done (\d+)/.exec(first.out)?.[1]);
  const reset = async () => {
    await using svc = await openImageService({ root });
    for (const i of svc.images.list()) svc.images.delete(i.name);
    await svc.reapLeases();
    await svc.gc({ ingestGrace: 0 });
  };
  await reset();
  const t0 = Date.now();
  await runChild(-1);
  const duration = Date.now() - t0;
  await reset();

  let killed = 0;
  let completedLast = false;
  for (let i = 0; i < KILLS; i++) {
    // every 10 runs, and after a run that completed, start from an empty store again, so that
    // later kills hit downloads, not "Already exists" (a faster pull completes more often)
    if ((i > 0 && i % 10 === 0) || completedLast) await reset();
    const r =
      i % 2 === 0 ? await runChild(-1, Math.floor(Math.random() * duration)) : await runChild(1 + Math.floor(Math.random() * events));
    completedLast = r.signal !== 'SIGKILL';
    if (r.signal === 'SIGKILL') killed++;
    else assert.equal(r.code, 0, `run ${i}: ${r.err}`);
    // the store stays readable after every kill: no blob under a wrong name, no row without its file
    if (i % 5 === 4) {
      await using svc = await openImageService({ root });
      const f = await fsck(svc);
      assert.deepEqual([f.corrupt, f.missing], [[], []], `after run ${i}`);
    }
  }
  assert.ok(killed >= KILLS / 2, `only ${killed} of ${KILLS} runs were killed`);

  // two processes pulling into one root at once: both succeed (ref and blob locks, chain-ID commits)
  await reset();
  const both = await Promise.all([runChild(-1), runChild(-1)]);
  for (const b of both) assert.equal(b.code, 0, b.err);

  await using svc = await openImageService({ root });
  const r = await svc.pull(ref);
  assert.equal(r.id, img.config.digest);
  await svc.reapLeases();
  await svc.gc({ ingestGrace: 0 });
  const f = await fsck(svc);
  assert.deepEqual(f.corrupt, []);
  assert.deepEqual(f.missing, []);
  assert.deepEqual(f.orphanFiles, []);
  assert.equal(f.blobs, 2 + layers.length, 'the manifest, the config and the layers, nothing else');
  assert.equal(f.snapshots.length, layers.length);
  assert.ok(
    f.snapshots.every((s) => s.endsWith(' committed')),
    f.snapshots.join(', '),
  );
  assert.equal(f.ingests, 0);
  assert.equal(f.leases, 0);
});
