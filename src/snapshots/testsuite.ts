/**
 * The snapshotter conformance suite, a port by name of containerd's core/snapshots/testsuite:
 * every snapshotter must pass it. Layers are built by mounting a prepared snapshot on the host,
 * applying a list of changes, unmounting and committing; the same changes applied to one plain
 * directory give the expected tree, which is compared with a mounted view of the top layer
 * (containerd's checkSnapshots). Needs root (it mounts).
 *
 *   snapshotterSuite('overlayfs', (root, db) => OverlaySnapshotter.open({ root, db }));
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import {
  chmod as fchmod,
  chown as fchown,
  link as flink,
  rename as frename,
  symlink as fsymlink,
  lstat,
  mkdir,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { isKind } from '../common/errors.js';
import { type Db, openMetadata } from '../metadata/db.js';
import { withMounted } from './mount.js';
import type { Info, Snapshotter } from './types.js';

export type Factory = (root: string, db: Db) => Promise<Snapshotter>;

/** One change to a directory tree (containerd's fstest.Applier). */
export type Applier = (root: string) => Promise<void>;

const at = (root: string, p: string) => path.join(root, p);

export const createDir =
  (p: string, mode: number): Applier =>
  async (root) => {
    await mkdir(at(root, p), { mode });
    await fchmod(at(root, p), mode);
  };
export const createFile =
  (p: string, content: string | Buffer, mode: number): Applier =>
  async (root) => {
    await writeFile(at(root, p), content, { mode });
    await fchmod(at(root, p), mode);
  };
export const remove =
  (p: string): Applier =>
  async (root) => {
    await rm(at(root, p));
  };
export const removeAll =
  (p: string): Applier =>
  async (root) => {
    await rm(at(root, p), { recursive: true, force: true });
  };
export const chown =
  (p: string, uid: number, gid: number): Applier =>
  async (root) => {
    await fchown(at(root, p), uid, gid);
  };
export const chmod =
  (p: string, mode: number): Applier =>
  async (root) => {
    await fchmod(at(root, p), mode);
  };
export const link =
  (oldp: string, newp: string): Applier =>
  async (root) => {
    await flink(at(root, oldp), at(root, newp));
  };
export const symlink =
  (target: string, p: string): Applier =>
  async (root) => {
    await fsymlink(target, at(root, p));
  };
export const rename =
  (oldp: string, newp: string): Applier =>
  async (root) => {
    await frename(at(root, oldp), at(root, newp));
  };

export async function apply(root: string, appliers: Applier[]): Promise<void> {
  for (const a of appliers) await a(root);
}

/** A comparable description of a tree: type, mode, owner, size and content or link target per path (not times, not inode numbers). */
export async function describeTree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (rel: string): Promise<void> => {
    const p = rel === '' ? root : path.join(root, rel);
    const st = await lstat(p);
    const own = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isDirectory()) {
      out.set(`/${rel}`, `dir ${own}`);
      for (const name of (await readdir(p)).sort()) await visit(rel === '' ? name : `${rel}/${name}`);
    } else if (st.isFile()) {
      const sum = createHash('sha256')
        .update(await readFile(p))
        .digest('hex')
        .slice(0, 16);
      out.set(`/${rel}`, `file ${own} ${st.size} ${sum}`);
    } else if (st.isSymbolicLink()) {
      out.set(`/${rel}`, `symlink ${st.uid}:${st.gid} -> ${await readlink(p)}`);
    } else {
      out.set(`/${rel}`, `special ${(st.mode & 0o170000).toString(8)} ${own} ${st.rdev}`);
    }
  };
  await visit('');
  return out;
}

export async function assertTreesEqual(expected: string, actual: string, what: string): Promise<void> {
  const [e, a] = await Promise.all([describeTree(expected), describeTree(actual)]);
  assert.deepEqual(Object.fromEntries(a), Object.fromEntries(e), `${what}: the mounted snapshot differs from the expected tree`);
}

let seq = 0;
const uniqueKey = (prefix: string) => `${prefix}-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

/** prepare on `parent`, mount, apply, unmount, commit; returns the committed name (containerd's createSnapshot). */
export async function createSnapshot(sn: Snapshotter, parent: string | undefined, appliers: Applier[]): Promise<string> {
  const key = uniqueKey('prepare');
  const name = uniqueKey('committed');
  const mounts = await sn.prepare(key, parent);
  await withMounted(mounts, (dir) => apply(dir, appliers));
  await sn.commit(name, key);
  return name;
}

/** Mounts a view of `name` and compares it with `expected` (containerd's checkSnapshot). */
export async function checkSnapshot(sn: Snapshotter, name: string, expected: string): Promise<void> {
  const key = uniqueKey('view');
  const mounts = await sn.view(key, name);
  try {
    await withMounted(mounts, (dir) => assertTreesEqual(expected, dir, `view of '${name}'`));
  } finally {
    await sn.remove(key);
  }
}

/** Builds one layer per list of changes, checking each committed layer against the same changes applied flat. */
export async function checkSnapshots(sn: Snapshotter, work: string, layers: Applier[][]): Promise<string[]> {
  const flat = await mkdtempIn(work, 'flat-');
  let parent: string | undefined;
  const names: string[] = [];
  for (const layer of layers) {
    parent = await createSnapshot(sn, parent, layer);
    names.push(parent);
    await apply(flat, layer);
    await checkSnapshot(sn, parent, flat);
  }
  return names;
}

async function mkdtempIn(dir: string, prefix: string): Promise<string> {
  const d = mkdtempSync(path.join(dir, prefix));
  await fchmod(d, 0o755); // a snapshot root is 0755; mkdtemp makes 0700
  return d;
}

async function rejectsKind(p: Promise<unknown>, kind: Parameters<typeof isKind>[1], what: string): Promise<void> {
  await assert.rejects(p, (err) => {
    assert.ok(isKind(err, kind), `${what}: expected a ${kind} error, got ${(err as Error).message}`);
    return true;
  });
}

interface Env {
  sn: Snapshotter;
  work: string;
  root: string;
  db: Db;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The tests, by containerd's names. Each gets a fresh snapshotter, database and work directory. */
const tests: Record<string, (env: Env, name: string) => Promise<void>> = {
  async Basic({ sn, work }) {
    const flat = await mkdtempIn(work, 'flat-');
    const initial = [
      createFile('foo', 'foo\n', 0o777),
      createDir('a', 0o755),
      createDir('a/b', 0o755),
      createDir('a/b/c', 0o755),
      createFile('a/b/c/d', 'deep', 0o644),
      symlink('foo', 'link'),
    ];
    const preparing = uniqueKey('preparing');
    const mounts = await sn.prepare(preparing, undefined);
    await withMounted(mounts, (dir) => apply(dir, initial));
    await apply(flat, initial);
    const committed = uniqueKey('committed');
    await sn.commit(committed, preparing);
    await rejectsKind(sn.stat(preparing), 'not-found', 'an active key is gone after commit');
    const si = await sn.stat(committed);
    assert.equal(si.kind, 'committed');
    assert.equal(si.name, committed);
    assert.equal(si.parent, undefined);

    const next = uniqueKey('next');
    const nextMounts = await sn.prepare(next, committed);
    const changes = [createFile('bar', 'bar\n', 0o644), createFile('foo', 'foo2', 0o644), removeAll('a/b')];
    await withMounted(nextMounts, async (dir) => {
      await assertTreesEqual(flat, dir, 'child before changes');
      await apply(dir, changes);
    });
    await apply(flat, changes);
    const nextCommitted = uniqueKey('nextCommitted');
    await sn.commit(nextCommitted, next);
    const ni = await sn.stat(nextCommitted);
    assert.equal(ni.parent, committed);

    const seen: Info[] = [];
    await sn.walk((i) => {
      seen.push(i);
    });
    assert.deepEqual(seen.map((i) => i.name).sort(), [committed, nextCommitted].sort());

    const view = uniqueKey('view');
    await withMounted(await sn.view(view, nextCommitted), (dir) => assertTreesEqual(flat, dir, 'view of the top'));
    await rejectsKind(sn.remove(committed), 'failed-precondition', 'removing a parent that has children');
    await sn.remove(view);
    await sn.remove(nextCommitted);
    await sn.remove(committed);
    seen.length = 0;
    await sn.walk((i) => {
      seen.push(i);
    });
    assert.deepEqual(seen, []);
  },

  async StatActive({ sn }) {
    const key = uniqueKey('active');
    await withMounted(await sn.prepare(key), (dir) => apply(dir, [createFile('foo', 'x', 0o644)]));
    const si = await sn.stat(key);
    assert.equal(si.kind, 'active');
    assert.equal(si.name, key);
    assert.equal(si.parent, undefined);
  },

  async StatCommitted({ sn }) {
    const name = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    const si = await sn.stat(name);
    assert.equal(si.kind, 'committed');
    assert.equal(si.name, name);
    assert.equal(si.parent, undefined);
  },

  async Transitivity({ sn }) {
    const a = await createSnapshot(sn, undefined, [createFile('foo', 'a', 0o644)]);
    const b = await createSnapshot(sn, a, [createFile('foo', 'b', 0o644)]);
    const c = uniqueKey('c');
    await sn.prepare(c, b);
    assert.equal((await sn.stat(c)).parent, b);
    assert.equal((await sn.stat(b)).parent, a);
    assert.equal((await sn.stat(a)).parent, undefined);
  },

  async PrepareViewFailing({ sn }) {
    const base = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    const k1 = uniqueKey('k1');
    await sn.prepare(k1, base);
    await rejectsKind(sn.view(k1, base), 'already-exists', 'view with the key of an active snapshot');
    await rejectsKind(sn.prepare(k1, base), 'already-exists', 'two prepares with one key');
    const k2 = uniqueKey('k2');
    await sn.view(k2, base);
    await rejectsKind(sn.prepare(k2, base), 'already-exists', 'prepare with the key of a view');
    await rejectsKind(sn.view(k2, base), 'already-exists', 'two views with one key');
    await rejectsKind(sn.prepare(uniqueKey('k3'), k1), 'invalid-argument', 'an active snapshot as parent');
    await rejectsKind(sn.prepare(uniqueKey('k4'), 'missing'), 'not-found', 'a missing parent');
    await rejectsKind(sn.commit(uniqueKey('c'), k2), 'failed-precondition', 'committing a view');
    await rejectsKind(sn.commit(base, k1), 'already-exists', 'committing onto an existing name');
  },

  async Update({ sn }) {
    const t0 = Date.now();
    const base = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    const t1 = Date.now();
    const active = uniqueKey('active');
    await sn.prepare(active, base, { labels: { l1: 'v1', l2: 'v2' } });
    for (const key of [base, active]) {
      const si = await sn.stat(key);
      assert.ok(si.created.getTime() >= t0 && si.created.getTime() <= Date.now(), 'created time in range');
      assert.equal(si.created.getTime(), si.updated.getTime(), 'created == updated at first');
    }
    assert.ok((await sn.stat(base)).created.getTime() <= t1);
    let si = await sn.stat(active);
    assert.deepEqual(si.labels, { l1: 'v1', l2: 'v2' });
    await sleep(5);
    const before = si.updated.getTime();
    si = await sn.update({ name: active, labels: { l1: 'v1', l3: 'v3' } });
    assert.deepEqual(si.labels, { l1: 'v1', l3: 'v3' });
    assert.ok(si.updated.getTime() > before, 'an update moves updated');
    assert.equal(si.kind, 'active');
    assert.equal(si.parent, base);
    si = await sn.update({ name: active, labels: { l1: 'changed', l2: 'back' } }, ['labels.l1', 'labels.l2', 'labels.l3']);
    assert.deepEqual(si.labels, { l1: 'changed', l2: 'back' }, 'labels.<k> sets and (absent) deletes');
    assert.deepEqual((await sn.stat(active)).labels, si.labels);
    si = await sn.update({ name: active, labels: { only: 'this' } }, ['labels']);
    assert.deepEqual(si.labels, { only: 'this' });
    for (const fp of ['parent', 'kind', 'name', 'labels.']) {
      await rejectsKind(sn.update({ name: active, labels: {} }, [fp]), 'invalid-argument', `updating '${fp}'`);
    }
    assert.deepEqual((await sn.stat(active)).labels, { only: 'this' }, 'a refused update changed nothing');
    assert.equal((await sn.stat(active)).parent, base);
    await rejectsKind(sn.update({ name: 'missing', labels: {} }), 'not-found', 'updating a missing snapshot');
  },

  async Remove({ sn }) {
    const base = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    const key = uniqueKey('k');
    await sn.prepare(key, base);
    await sn.remove(key);
    await sn.prepare(key, base); // a removed key can be reused, for a prepare…
    await sn.remove(key);
    await sn.view(key, base); // …and for a view
    await sn.remove(key);
    await rejectsKind(sn.remove(key), 'not-found', 'removing twice');
    const name = uniqueKey('name');
    await sn.prepare(key, base);
    await sn.commit(name, key);
    await sn.remove(name);
    await sn.prepare(key, base);
    await sn.commit(name, key); // a removed committed name can be reused
    assert.equal((await sn.stat(name)).kind, 'committed');
  },

  async Walk({ sn }) {
    const quoted = 'a.b/c"d';
    const base = uniqueKey('base');
    const k = uniqueKey('k');
    await sn.prepare(k, undefined, { labels: { l: '1' } });
    await sn.commit(base, k);
    const a1 = uniqueKey('active1');
    const a2 = uniqueKey('active2');
    const v = uniqueKey('view');
    await sn.prepare(a1, base, { labels: { l: '2' } });
    await sn.prepare(a2, undefined, { labels: { [quoted]: 'q' } });
    await sn.view(v, base);
    const names = async (filter?: (i: Info) => boolean) => {
      const out: string[] = [];
      await sn.walk((i) => {
        out.push(i.name);
      }, filter);
      return out.sort();
    };
    assert.deepEqual(await names(), [a1, a2, base, v].sort());
    assert.deepEqual(await names((i) => i.kind === 'active'), [a1, a2].sort(), 'kind==active');
    assert.deepEqual(await names((i) => i.kind === 'committed'), [base], 'kind==committed');
    assert.deepEqual(await names((i) => i.name === a1), [a1], 'name==');
    assert.deepEqual(await names((i) => i.parent === base), [a1, v].sort(), 'parent==');
    assert.deepEqual(await names((i) => (i.parent ?? '') !== ''), [a1, v].sort(), 'parent!=""');
    assert.deepEqual(await names((i) => 'l' in i.labels), [a1, base].sort(), 'labels.l');
    assert.deepEqual(await names((i) => i.labels.l === '2'), [a1], 'labels.l==2');
    assert.deepEqual(await names((i) => i.labels[quoted] === 'q'), [a2], 'a quoted label key');
  },

  async LayerFileupdate({ sn, work }) {
    // moby#21555: a same-size rewrite and a mode-only change must show, whatever the timing
    for (let i = 0; i < 5; i++) {
      if (i === 2) await sleep(1000 - (Date.now() % 1000) + 10); // cross a second boundary once
      await checkSnapshots(sn, work, [
        [createFile('foo', 'foo\n', 0o777), createFile('bar', 'bar\n', 0o644)],
        [createFile('foo', 'FOO\n', 0o777)],
        [chmod('bar', 0o600)],
      ]);
    }
  },

  async RemoveDirectoryInLowerLayer({ sn, work }) {
    await checkSnapshots(sn, work, [
      [createDir('/lib', 0o700), createFile('/lib/hidden', 'x', 0o644)],
      [removeAll('/lib'), createDir('/lib', 0o755), createFile('/lib/not-hidden', 'y', 0o644)],
      [createFile('/lib/newer', 'z', 0o644)],
    ]);
  },

  async Chown({ sn, work }) {
    await checkSnapshots(sn, work, [
      [createDir('/opt', 0o711), createDir('/opt/a', 0o700), createDir('/opt/a/b', 0o700), createFile('/opt/a/b/file.txt', 'hello', 0o644)],
      [chown('/opt', 1, 1), chown('/opt/a', 1, 1), chown('/opt/a/b', 1, 1), chown('/opt/a/b/file.txt', 1, 1)],
    ]);
  },

  async DirectoryPermissionOnCommit({ sn, work }) {
    await checkSnapshots(sn, work, [
      [
        createDir('/dir1', 0o700),
        createDir('/dir2', 0o700),
        createDir('/dir3', 0o700),
        chown('/dir1', 1, 1),
        createFile('/dir1/f', 'x', 0o644),
      ],
      [chown('/dir2', 2, 2), removeAll('/dir3'), createDir('/dir3', 0o755), chown('/dir3', 3, 3), createFile('/dir3/f', 'y', 0o600)],
      [chmod('/dir1', 0o750), removeAll('/dir1/f')],
    ]);
  },

  async RemoveIntermediateSnapshot({ sn }) {
    const base = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    const mid = await createSnapshot(sn, base, [createFile('bar', 'y', 0o644)]);
    const top = uniqueKey('top');
    await sn.prepare(top, mid);
    await rejectsKind(sn.remove(mid), 'failed-precondition', 'removing an intermediate snapshot');
    await rejectsKind(sn.remove(base), 'failed-precondition', 'removing the base');
    await sn.remove(top);
    await sn.remove(mid);
    await sn.remove(base);
  },

  async DeletedFilesInChildSnapshot({ sn, work }) {
    await checkSnapshots(sn, work, [
      [createFile('/foo', 'foo\n', 0o644), createDir('/d', 0o755), createFile('/d/in', 'x', 0o644)],
      [remove('/foo'), removeAll('/d')],
      [createFile('/bar', 'bar\n', 0o644)],
    ]);
  },

  async MoveFileFromLowerLayer({ sn, work }) {
    await checkSnapshots(sn, work, [
      [createFile('/foo', 'foo\n', 0o644), createDir('/dir1', 0o755), createFile('/dir1/f1', 'f1\n', 0o644)],
      [removeAll('/dir1'), link('/foo', '/bar'), remove('/foo')],
    ]);
  },

  async ViewReadonly({ sn }) {
    const base = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    const top = await createSnapshot(sn, base, [createFile('bar', 'y', 0o644)]);
    for (const parent of [base, top]) {
      const view = uniqueKey('view');
      await withMounted(await sn.view(view, parent), async (dir) => {
        await assert.rejects(writeFile(path.join(dir, 'new'), 'z'), { code: 'EROFS' });
        await assert.rejects(writeFile(path.join(dir, 'foo'), 'z'), { code: 'EROFS' });
      });
    }
  },

  async StatInWalk({ sn }) {
    const base = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    await sn.prepare(uniqueKey('a'), base);
    await sn.view(uniqueKey('v'), base);
    let n = 0;
    await sn.walk(async (i) => {
      const si = await sn.stat(i.name);
      assert.equal(si.name, i.name);
      n++;
    });
    assert.equal(n, 3);
  },

  async CloseTwice({ root, db }, name) {
    void name;
    const sn = await factories.get(name)!(path.join(root, 'second'), db);
    await sn[Symbol.asyncDispose]();
    await sn[Symbol.asyncDispose]();
    await rejectsKind(sn.stat('x'), 'failed-precondition', 'using a closed snapshotter');
  },

  async RootPermission({ sn }) {
    const key = uniqueKey('root');
    await withMounted(await sn.prepare(key), async (dir) => {
      assert.equal((await stat(dir)).mode & 0o7777, 0o755);
    });
    const base = await createSnapshot(sn, undefined, [createFile('foo', 'x', 0o644)]);
    await withMounted(await sn.prepare(uniqueKey('child'), base), async (dir) => {
      assert.equal((await stat(dir)).mode & 0o7777, 0o755);
    });
  },

  async Rename({ sn, work }, name) {
    const layers: Applier[][] = [
      [
        createDir('/dir1', 0o755),
        createDir('/somefiles', 0o755),
        createFile('/somefiles/f1', 'was here first!', 0o644),
        createFile('/somefiles/f2', 'nothing interesting', 0o644),
      ],
      [rename('/somefiles/f1', '/somefiles/f1-overwrite'), rename('/somefiles/f2', '/somefiles/f3')],
    ];
    // renaming a lower directory needs overlayfs's redirect_dir, which stays off (moby#25409)
    if (name !== 'overlayfs') layers.push([rename('/dir1', '/dir2')]);
    await checkSnapshots(sn, work, layers);
  },

  async '128LayersMount'({ sn, work }) {
    const flat = await mkdtempIn(work, 'flat-');
    let parent: string | undefined;
    for (let i = 0; i < 128; i++) {
      const changes = [createFile('bottom', `layer ${i}\n`, 0o644), createFile(`layer-${i}`, `${i}\n`, 0o644)];
      // new files only, so writing the apply target directly equals writing through a mount
      // (and saves 128 mounts: the point here is mounting the 128-layer stack)
      const key = uniqueKey('layer');
      await sn.prepare(key, parent);
      await apply((await sn.applyTarget(key)).dir, changes);
      await apply(flat, changes);
      const name = `sha256:${createHash('sha256').update(`${i}`).digest('hex')}`;
      await sn.commit(name, key);
      parent = name;
    }
    const mounts = await sn.mounts(parent!);
    if (mounts[0]?.type === 'overlay') {
      // the point of the test: these options do not fit in mount(2)'s one page as they are
      assert.ok(mounts[0].options.join(',').length > 4096, 'the 128-layer option string exceeds a page');
    }
    await checkSnapshot(sn, parent!, flat);
    const top = uniqueKey('top');
    await withMounted(await sn.prepare(top, parent), async (dir) => {
      await assertTreesEqual(flat, dir, 'active snapshot on 128 layers');
      await writeFile(path.join(dir, 'bottom'), 'top\n');
    });
  },
};

const factories = new Map<string, Factory>();

export interface SuiteOptions {
  /** a reason to skip every test (e.g. 'needs root') */
  skip?: string;
}

/** Registers containerd's snapshotter tests for `name` with node:test. */
export function snapshotterSuite(name: string, factory: Factory, options: SuiteOptions = {}): void {
  factories.set(name, factory);
  describe(`snapshotter ${name}`, () => {
    for (const [testName, fn] of Object.entries(tests)) {
      test(testName, { skip: options.skip ?? false }, async () => {
        const work = mkdtempSync(path.join(tmpdir(), `berth-snap-${name}-`));
        const db = openMetadata(path.join(work, 'metadata.db'));
        try {
          const root = path.join(work, 'root');
          const sn = await factory(root, db);
          try {
            await fn({ sn, work, root, db }, name);
          } finally {
            await sn[Symbol.asyncDispose]();
          }
        } finally {
          db.close();
          rmSync(work, { recursive: true, force: true });
        }
      });
    }
  });
}
