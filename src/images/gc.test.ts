/**
 * GC over a real content store and real blobs (images written as manifests, configs and layers),
 * with the in-test DirSnapshotter (gc.test-snapshotter.ts) standing in for the native one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Leases } from '../metadata/leases.js';
import { MediaType, sha256Digest } from '../oci/image.js';
import { collectGarbage, GC_REF_CONTENT, GC_ROOT_LABEL, type GcResult, GcScheduler } from './gc.js';
import { checkConsistent, makeImage, openWorld, put, type World } from './gc.test-fixtures.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function world(t: { after: (fn: () => void) => void }): World {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-gc-'));
  const w = openWorld(root);
  t.after(() => {
    w.db.close();
    rmSync(root, { recursive: true, force: true });
  });
  return w;
}

const has = (w: World, digest: string) =>
  w.db.prepare('SELECT 1 FROM content WHERE digest = ?').get(digest) !== undefined && existsSync(w.store.blobPath(digest));
const snaps = async (w: World) => {
  const out: string[] = [];
  await w.sn.walk((i) => void out.push(i.name));
  return out.sort();
};
const gc = (w: World, extra: Partial<Parameters<typeof collectGarbage>[0]> = {}) =>
  collectGarbage({ db: w.db, content: w.store, snapshotters: [w.sn], ingestGrace: 0, ...extra });

test('gc: what images, labels and caller roots reach is kept; the rest goes, children first', async (t) => {
  const w = world(t);
  const kept = await makeImage(w, 'docker.io/library/kept:latest', { layers: 3, index: true });
  const alsoKept = await makeImage(w, 'docker.io/library/plain:1', { layers: 1 });
  const gone = await makeImage(w, undefined, { layers: 2, index: true });
  // shares a layer snapshot chain root? no: its own chain, and an active snapshot on top
  await w.sn.prepare('container-gone', gone.snapshots.at(-1));
  // caller roots: a container's rootfs on the removed image keeps its parents
  const byCaller = await makeImage(w, undefined, { layers: 2 });
  await w.sn.prepare('container-1', byCaller.snapshots.at(-1));
  // roots by label, and a reference by label
  const referenced = await put(w, 'referenced by a label');
  const rooted = await put(w, 'a root by label', { [GC_ROOT_LABEL]: 'yes', [`${GC_REF_CONTENT}.x`]: referenced.digest });
  await w.sn.prepare('labelled-root', undefined, { labels: { [GC_ROOT_LABEL]: '1' } });
  await w.sn.prepare('stray-active');
  await w.sn.view('stray-view', kept.snapshots[0]);
  const loose = await put(w, randomBytes(5000));
  // an image whose target does not parse: a warning, and GC goes on
  const broken = await put(w, '{"schemaVersion": 2, "layers": [');
  w.db
    .prepare('INSERT INTO images (name, target_media_type, target_digest, target_size, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)')
    .run('broken:1', MediaType.ociManifest, broken.digest, broken.size);

  const r = await gc(w, { roots: () => ({ snapshots: [{ snapshotter: 'dir', key: 'container-1' }] }) });
  for (const d of [...kept.blobs, ...alsoKept.blobs, referenced.digest, rooted.digest, broken.digest]) assert.ok(has(w, d), `kept ${d}`);
  for (const d of [...gone.blobs, ...byCaller.blobs, loose.digest]) assert.ok(!has(w, d), `removed ${d}`);
  assert.deepEqual(
    await snaps(w),
    [...kept.snapshots, ...alsoKept.snapshots, ...byCaller.snapshots, 'container-1', 'labelled-root'].sort(),
  );
  assert.equal(r.content, gone.blobs.length + byCaller.blobs.length + 1);
  assert.equal(r.snapshots, gone.snapshots.length + 3, 'the chain, container-gone, stray-active, stray-view');
  assert.ok(r.bytesFreed >= 5000 + 2 * 1000);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0]!, /mark 'sha256:[0-9a-f]+': parse manifest/);
  assert.deepEqual(checkConsistent(w, true), []);

  // deleting the image lets its content go on the next run; an image named by the caller stays
  w.db.prepare('DELETE FROM images WHERE name = ?').run('docker.io/library/kept:latest');
  w.db.prepare('DELETE FROM images WHERE name = ?').run('docker.io/library/plain:1');
  await gc(w, { roots: () => ({ images: ['docker.io/library/plain:1'] }) });
  for (const d of kept.blobs) assert.ok(!has(w, d), `removed after the image ${d}`);
  // the row is gone, so a name alone cannot keep it: that is the engine's to avoid
  for (const d of alsoKept.blobs) assert.ok(!has(w, d));
  const again = await makeImage(w, 'docker.io/library/plain:2', { layers: 1 });
  await gc(w, { roots: () => ({ content: [again.target.digest] }) });
  w.db.prepare('DELETE FROM images').run();
  const r2 = await gc(w, { roots: () => ({ content: [again.target.digest] }) });
  for (const d of again.blobs) assert.ok(has(w, d), `a caller's digest root keeps the graph (sniffed): ${d}`);
  assert.deepEqual(await snaps(w), [...again.snapshots, 'labelled-root'].sort(), 'and the snapshots of its config');
  assert.equal(r2.warnings.length, 0);
});

test('gc: live leases protect content, ingests and snapshots; expired ones are deleted first', async (t) => {
  const w = world(t);
  let now = Date.now();
  const leases = new Leases(w.db, () => now);
  const live = leases.create({ id: 'pull', ttl: 3_600_000 });
  const dying = leases.create({ id: 'old-pull', ttl: 1000 });
  const img = await makeImage(w, undefined, { layers: 2 });
  const leasedBlob = await put(w, 'leased');
  const expiredBlob = await put(w, 'leased by an expired lease');
  leases.addResource(live.id, { type: 'content', id: img.target.digest }); // its graph follows
  leases.addResource(live.id, { type: 'content', id: leasedBlob.digest });
  leases.addResource(live.id, { type: 'ingest', id: 'layer-in-flight' });
  leases.addResource(live.id, { type: 'snapshot/dir', id: 'extracting' });
  leases.addResource(dying.id, { type: 'content', id: expiredBlob.digest });
  leases.addResource(dying.id, { type: 'ingest', id: 'expired-ingest' });
  await w.sn.prepare('extracting', img.snapshots.at(-1));
  for (const ref of ['layer-in-flight', 'expired-ingest']) {
    const wr = await w.store.writer({ ref });
    await wr.write(Buffer.from('partial'));
    await wr.close();
  }
  now += 2000;
  const r = await gc(w, { now: () => now });
  assert.equal(r.leases, 1);
  assert.deepEqual(
    leases.list().map((l) => l.id),
    ['pull'],
  );
  for (const d of [...img.blobs, leasedBlob.digest]) assert.ok(has(w, d), `leased ${d}`);
  assert.ok(!has(w, expiredBlob.digest));
  assert.deepEqual(
    (await w.store.listStatuses()).map((s) => s.ref),
    ['layer-in-flight'],
  );
  assert.deepEqual(await snaps(w), [...img.snapshots, 'extracting'].sort());
  leases.delete('pull');
  const r2 = await gc(w, { now: () => now });
  assert.equal(r2.content, img.blobs.length + 1);
  assert.equal(r2.ingests, 1);
  assert.deepEqual(await snaps(w), []);
  assert.deepEqual(checkConsistent(w, true), []);
});

test('gc: a lease or an image recorded while GC marks keeps what it names (the re-check at deletion)', async (t) => {
  const w = world(t);
  const leases = new Leases(w.db);
  const lease = leases.create({ id: 'late-pull', ttl: 60_000 });
  const found = await put(w, 'found present by a pull while gc runs');
  const target = await put(w, 'recorded as an image target while gc runs');
  const loose = await put(w, 'nobody');
  const r = await gc(w, {
    // runs after GC has read leases and images: what happens here is only seen by the re-check
    roots: () => {
      leases.protector(lease.id)('content', found.digest);
      w.db
        .prepare(
          'INSERT INTO images (name, target_media_type, target_digest, target_size, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)',
        )
        .run('late:1', 'application/vnd.example+json', target.digest, target.size);
      return {};
    },
  });
  assert.ok(has(w, found.digest));
  assert.ok(has(w, target.digest));
  assert.ok(!has(w, loose.digest));
  assert.equal(r.content, 1);
});

test('gc: orphan files, strays and stale ingests go; fresh and held ingests stay', async (t) => {
  const w = world(t);
  const keep = await put(w, 'kept', { [GC_ROOT_LABEL]: 'x' });
  const orphanData = randomBytes(300);
  const orphan = sha256Digest(orphanData);
  writeFileSync(w.store.blobPath(orphan), orphanData); // a crash between rename and row
  writeFileSync(path.join(w.store.blobsDir, 'junk.tmp'), 'x');
  const hour = 3_600_000;
  const old = (Date.now() - 2 * hour) / 1000;
  const stale = await w.store.writer({ ref: 'stale' });
  await stale.write(randomBytes(100));
  await stale.close();
  const staleDir = w.store.ingestPath('stale');
  writeFileSync(path.join(staleDir, 'updatedat'), String(Date.now() - 2 * hour));
  utimesSync(path.join(staleDir, 'data'), old, old);
  utimesSync(staleDir, old, old);
  const fresh = await w.store.writer({ ref: 'fresh' });
  await fresh.write(randomBytes(100));
  await fresh.close();
  const broken = path.join(w.store.ingestDir, '.tmp-crashed');
  mkdirSync(broken);
  utimesSync(broken, old, old);
  const junk = path.join(w.store.ingestDir, 'junk');
  writeFileSync(junk, 'not a directory');
  utimesSync(junk, old, old);
  const held = await w.store.writer({ ref: 'held' });
  await held.write(randomBytes(10));

  const r = await collectGarbage({ db: w.db, content: w.store, snapshotters: [w.sn] }); // default grace: 1 h
  assert.equal(r.orphanFiles, 2);
  assert.equal(r.ingests, 3, 'the stale one, the broken one, the junk file');
  assert.ok(!existsSync(junk));
  assert.ok(has(w, keep.digest));
  assert.ok(!existsSync(w.store.blobPath(orphan)));
  assert.deepEqual(
    (await w.store.listStatuses()).map((s) => s.ref),
    ['fresh', 'held'],
  );
  const r2 = await gc(w); // no grace: only the writer's lock keeps 'held'
  assert.equal(r2.ingests, 1);
  assert.deepEqual(
    (await w.store.listStatuses()).map((s) => s.ref),
    ['held'],
  );
  await held.write(randomBytes(10));
  await held.close();
  assert.deepEqual(checkConsistent(w, true), []);
});

test('GcScheduler: deletions are debounced into one run; runs never overlap', async () => {
  let active = 0;
  let runs = 0;
  const empty: GcResult = { leases: 0, content: 0, orphanFiles: 0, ingests: 0, snapshots: 0, cleaned: 0, bytesFreed: 0, warnings: [] };
  const results: GcResult[] = [];
  await using s = new GcScheduler(
    async () => {
      active++;
      assert.equal(active, 1, 'one run at a time');
      runs++;
      await new Promise((r) => setTimeout(r, 30));
      active--;
      return { ...empty, content: runs };
    },
    { delay: 20, onResult: (r) => results.push(r) },
  );
  for (let i = 0; i < 5; i++) s.notify();
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(runs, 1, 'five deletions, one run');
  assert.equal(results.length, 1);
  const a = s.run();
  const b = s.run();
  const c = s.run();
  assert.deepEqual(
    (await Promise.all([a, b, c])).map((r) => r.content),
    [2, 3, 3],
    'requests during a run share the one after it',
  );
  assert.equal(runs, 3);
});

test('gc killed (SIGKILL) at random points, then run again: the store stays consistent', async (t) => {
  const w = world(t);
  const kept = await makeImage(w, 'kept:1', { layers: 2, index: true });
  const garbage: string[] = [];
  // a fixed seed per run would hide nothing: print the points so a failure can be replayed
  const points: number[] = [];
  for (let run = 0; run < 5; run++) {
    // fresh garbage each round: a blob graph, snapshots, a partial ingest, an orphan file (about
    // 25 steps for the child, so the kill lands anywhere in them)
    garbage.push(...(await makeImage(w, undefined, { layers: 3, index: run % 2 === 0 })).blobs);
    const wr = await w.store.writer({ ref: `partial-${run}` });
    await wr.write(randomBytes(50));
    await wr.close();
    writeFileSync(w.store.blobPath(sha256Digest(`orphan ${run}`)), `orphan ${run}`);
    const killAt = 1 + Math.floor(Math.random() * 25);
    points.push(killAt);
    const out = await new Promise<{ code: number | null; signal: string | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'gc.test-child.ts'), 'gc', w.root, String(killAt)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.once('exit', (code, signal) => resolve({ code, signal, stdout }));
    });
    assert.ok(out.signal === 'SIGKILL' || out.code === 0, `child: ${JSON.stringify(out)} (kill points ${points})`);
    assert.deepEqual(checkConsistent(w, false), [], `after a kill at step ${killAt} (kill points ${points})`);
  }
  const r = await gc(w);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(checkConsistent(w, true), [], `kill points ${points}`);
  for (const d of kept.blobs) assert.ok(has(w, d), `kept ${d}`);
  for (const d of garbage) assert.ok(!has(w, d), `removed ${d}`);
  assert.deepEqual(await snaps(w), [...kept.snapshots].sort());
  assert.deepEqual(readdirSync(w.store.ingestDir), []);
});

test('gc running while another process ingests under a lease removes nothing it committed', async (t) => {
  const w = world(t);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'gc.test-child.ts'), 'ingest', w.root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const committed: string[] = [];
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const l of lines) {
        if (l === 'ready') resolve();
        else committed.push(l);
      }
    });
    child.once('exit', (code) => reject(new Error(`ingesting child exited with ${code}`)));
  });
  let runs = 0;
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    const r = await gc(w);
    assert.equal(r.content, 0, 'every blob is leased before it is relied on');
    runs++;
  }
  assert.equal(child.exitCode, null, 'the child never failed');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(committed.length > 10 && runs > 2, `${committed.length} blobs committed during ${runs} runs`);
  for (const d of committed) assert.ok(has(w, d), `kept ${d}`);
  assert.deepEqual(checkConsistent(w, false), []);
  new Leases(w.db).delete('child');
  await gc(w);
  assert.deepEqual(checkConsistent(w, true), []);
  assert.equal(w.db.prepare('SELECT count(*) FROM content').pluck().get(), 0);
});

test('gc removing blobs while another process commits the same ones: rows and files stay in step', async (t) => {
  const w = world(t);
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'gc.test-child.ts'), 'churn', w.root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`churning child exited with ${code}`)));
  });
  let removed = 0;
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    removed += (await gc(w)).content;
    assert.deepEqual(checkConsistent(w, false), []);
  }
  assert.equal(child.exitCode, null, 'the child never failed');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(removed > 0, 'GC removed blobs the child kept committing');
  assert.deepEqual(checkConsistent(w, false), []);
  await gc(w);
  assert.deepEqual(checkConsistent(w, true), []);
});
