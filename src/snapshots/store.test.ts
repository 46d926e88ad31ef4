/**
 * The metadata side of both snapshotters, without root (nothing is mounted): the mounts they
 * return as data, keys that are not paths, the row as commit point, usage, cleanup.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isKind } from '../common/errors.js';
import { openMetadata } from '../metadata/db.js';
import { NativeSnapshotter } from './native.js';
import { openSnapshotter } from './open.js';
import { OverlaySnapshotter } from './overlay.js';
import type { Snapshotter } from './types.js';

async function setup(t: TestContext, kind: 'overlayfs' | 'native'): Promise<{ sn: Snapshotter; root: string; work: string }> {
  const work = mkdtempSync(path.join(tmpdir(), 'berth-snap-unit-'));
  const db = openMetadata(path.join(work, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(work, { recursive: true, force: true });
  });
  const root = path.join(work, 'root');
  const sn =
    kind === 'native' ? await NativeSnapshotter.open({ root, db }) : await OverlaySnapshotter.open({ root, db, checkMount: false });
  return { sn, root, work };
}

const layerDir = (m: { options: string[] }, opt: string) => m.options.find((o) => o.startsWith(`${opt}=`))?.slice(opt.length + 1);

test('overlayfs returns containerd-shaped mounts for every kind and depth', async (t) => {
  const { sn, root } = await setup(t, 'overlayfs');
  const m0 = await sn.prepare('a');
  assert.equal(m0.length, 1);
  assert.equal(m0[0]!.type, 'bind');
  assert.deepEqual(m0[0]!.options, ['rbind', 'rw']);
  const aFs = m0[0]!.source;
  assert.match(aFs, new RegExp(`^${root}/\\d+/fs$`));
  assert.equal(statSync(aFs).mode & 0o7777, 0o755);
  await sn.commit('sha256:a', 'a');
  const [v1] = await sn.view('v1', 'sha256:a');
  assert.deepEqual(v1, { type: 'bind', source: aFs, options: ['rbind', 'ro'] }, 'a view of one layer binds it read-only');
  const [b] = await sn.prepare('b', 'sha256:a');
  assert.equal(b!.type, 'overlay');
  assert.equal(layerDir(b!, 'lowerdir'), aFs);
  const target = await sn.applyTarget('b');
  assert.equal(layerDir(b!, 'upperdir'), target.dir);
  assert.equal(layerDir(b!, 'workdir'), path.join(path.dirname(target.dir), 'work'));
  assert.deepEqual(target, { dir: target.dir, mode: 'overlay', parents: [aFs] });
  await sn.commit('sha256:b', 'b');
  const [v2] = await sn.view('v2', 'sha256:b');
  assert.equal(v2!.type, 'overlay');
  assert.equal(layerDir(v2!, 'lowerdir'), `${target.dir}:${aFs}`, 'nearest layer first');
  assert.equal(layerDir(v2!, 'upperdir'), undefined, 'a view has no upperdir');
  assert.deepEqual(await sn.mounts('v2'), [v2]);
  const [c] = await sn.prepare('c', 'sha256:b');
  assert.deepEqual((await sn.applyTarget('c')).parents, [target.dir, aFs]);
  assert.equal(layerDir(c!, 'lowerdir'), `${target.dir}:${aFs}`);
  await assert.rejects(sn.applyTarget('v2'), (e) => isKind(e, 'invalid-argument'));
});

for (const kind of ['overlayfs', 'native'] as const) {
  test(`${kind}: keys are never paths; rows commit; remove, usage and cleanup`, async (t) => {
    const { sn, root } = await setup(t, kind);
    const hostile = ['../../etc', '/abs/path', 'a/b', '.', 'sha256:0123', 'ü\n\t'];
    for (const k of hostile) await sn.prepare(k);
    for (const name of readdirSync(root)) assert.match(name, /^\d+$/, 'only numbered directories under the root');
    assert.equal(readdirSync(root).length, hostile.length);
    for (const k of hostile) await sn.remove(k);
    assert.deepEqual(readdirSync(root), []);
    await assert.rejects(sn.prepare(''), (e) => isKind(e, 'invalid-argument'));
    await assert.rejects(sn.prepare('nul\0key'), (e) => isKind(e, 'invalid-argument') && /NUL/.test((e as Error).message));
    await sn.view('no-parent', ''); // '' is containerd's "no parent"
    assert.equal((await sn.stat('no-parent')).parent, undefined);
    await sn.remove('no-parent');

    await sn.prepare('base', undefined, { labels: { a: '1' } });
    const { dir } = await sn.applyTarget('base');
    writeFileSync(path.join(dir, 'file'), Buffer.alloc(10000, 1));
    mkdirSync(path.join(dir, 'd'));
    const u = await sn.usage('base');
    assert.equal(u.inodes, 3, 'root, file and directory');
    assert.ok(u.size >= 10000, `size counts blocks (${u.size})`);
    await sn.commit('sha256:base', 'base');
    assert.deepEqual(await sn.usage('sha256:base'), u, 'counted once committed');
    writeFileSync(path.join(dir, 'late'), Buffer.alloc(10000, 1)); // nobody may, but if…
    assert.deepEqual(await sn.usage('sha256:base'), u, 'recorded on first use');
    assert.deepEqual((await sn.stat('sha256:base')).labels, { a: '1' }, 'labels carry over');
    await sn.prepare('child', 'sha256:base');
    const child = await sn.applyTarget('child');
    if (kind === 'native') {
      assert.equal(child.mode, 'flat');
      assert.deepEqual(child.parents, []);
      assert.ok(existsSync(path.join(child.dir, 'file')), 'a native child is a copy of its parent');
    } else {
      assert.ok(!existsSync(path.join(child.dir, 'file')), 'an overlay upperdir starts empty');
    }
    await assert.rejects(sn.remove('sha256:base'), (e) => isKind(e, 'failed-precondition') && /has children/.test((e as Error).message));

    // leftovers of a crash: a half-built new-, a tomb, a directory with no row, a check dir
    for (const d of ['new-12', 'tomb-5-x', '999', 'check-abc']) mkdirSync(path.join(root, d, 'fs'), { recursive: true });
    mkdirSync(path.join(root, 'unrelated'));
    assert.equal(await sn.cleanup(), 4);
    assert.deepEqual(
      readdirSync(root).sort(),
      [path.basename(path.dirname(child.dir)), path.basename(path.dirname(dir)), 'unrelated'].sort(),
    );

    await sn[Symbol.asyncDispose]();
    await assert.rejects(sn.stat('child'), (e) => isKind(e, 'failed-precondition'));
  });
}

test('concurrent prepares of one key: one wins, the other is already-exists and leaves nothing', async (t) => {
  const { sn, root } = await setup(t, 'native');
  await sn.prepare('base');
  writeFileSync(path.join((await sn.applyTarget('base')).dir, 'f'), 'x');
  await sn.commit('sha256:base', 'base');
  const results = await Promise.allSettled([0, 1, 2, 3].map(() => sn.prepare('same', 'sha256:base')));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  for (const r of results) if (r.status === 'rejected') assert.ok(isKind(r.reason, 'already-exists'), String(r.reason));
  assert.equal(readdirSync(root).length, 2, 'the losers removed their copies');
  const removes = await Promise.allSettled([sn.remove('same'), sn.remove('same')]);
  assert.deepEqual(removes.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
  assert.equal(await sn.cleanup(), 0);
});

test('overlayfs refuses a root whose path overlay options cannot carry', async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'berth-snap-unit-'));
  const db = openMetadata(path.join(work, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(work, { recursive: true, force: true });
  });
  await assert.rejects(
    OverlaySnapshotter.open({ root: path.join(work, 'a,b'), db, checkMount: false }),
    (e) =>
      isKind(e, 'failed-precondition') && /overlayfs snapshotter '.*a,b': .*','.*use the native snapshotter/.test((e as Error).message),
  );
  await assert.rejects(OverlaySnapshotter.open({ root: 'relative', db }), (e) => isKind(e, 'invalid-argument'));
});

test("openSnapshotter: <base>/<name> roots; 'auto' falls back to native with the reason", async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'berth-snap-unit-'));
  const db = openMetadata(path.join(work, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(work, { recursive: true, force: true });
  });
  const { snapshotter: native } = await openSnapshotter('native', work, db);
  assert.equal(native.name, 'native');
  await native.prepare('k');
  assert.ok((await native.applyTarget('k')).dir.startsWith(path.join(work, 'native') + path.sep));
  const bad = path.join(work, 'a,b'); // overlay options cannot carry a ','
  const auto = await openSnapshotter('auto', bad, db);
  assert.equal(auto.snapshotter.name, 'native');
  assert.match(auto.fallback ?? '', /overlayfs snapshotter '.*': the path contains ','/);
  await assert.rejects(openSnapshotter('zfs' as never, work, db), (e) => isKind(e, 'invalid-argument'));
});

test("overlayfs: a child's upperdir starts with its parent's root mode and owner (overlayfs shows the upper root's)", async (t) => {
  const { sn } = await setup(t, 'overlayfs');
  await sn.prepare('base');
  const base = (await sn.applyTarget('base')).dir;
  chmodSync(base, 0o710);
  const root = process.getuid?.() === 0;
  if (root) chownSync(base, 7, 8);
  await sn.commit('sha256:base', 'base');
  await sn.prepare('child', 'sha256:base');
  const st = statSync((await sn.applyTarget('child')).dir);
  assert.equal(st.mode & 0o7777, 0o710);
  if (root) assert.deepEqual([st.uid, st.gid], [7, 8]);
});

test('cleanup() racing prepare() in the same process never takes a new snapshot', async (t) => {
  // The engine's GC runs cleanup() while containers are being created; a prepare that finished
  // during cleanup's readdir used to be judged by the rows read before it, and lost its directory.
  const { sn, root } = await setup(t, 'overlayfs');
  const keys: string[] = [];
  let stop = false;
  const cleaner = (async () => {
    while (!stop) await sn.cleanup();
  })();
  for (let i = 0; i < 60; i++) {
    const batch = Array.from({ length: 4 }, (_, j) => `k-${i}-${j}`);
    await Promise.all(batch.map((k) => sn.prepare(k)));
    keys.push(...batch);
  }
  stop = true;
  await cleaner;
  const lost = [];
  for (const k of keys) {
    const m = await sn.mounts(k);
    const dir = m[0]!.source;
    if (!existsSync(dir)) lost.push(k);
  }
  assert.deepEqual(lost, [], `snapshot directories deleted under their rows (root ${root})`);
});
