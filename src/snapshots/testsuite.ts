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
import { snapshotFilter } from './filter.js';
import { mountAll, tempMount, unmount, withMounted } from './mount.js';
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

/** containerd's baseTestSnapshots: c1 ← c2 committed, a1 on c2, a2 alone, v1 on c2, v2 alone. */
async function baseSnapshots(sn: Snapshotter): Promise<void> {
  await sn.prepare('c1-a');
  await sn.commit('c1', 'c1-a');
  await sn.prepare('c2-a', 'c1');
  await sn.commit('c2', 'c2-a');
  await sn.prepare('a1', 'c2');
  await sn.prepare('a2');
  await sn.view('v1', 'c2');
  await sn.view('v2');
}

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
    const t1 = Date.now();
    await baseSnapshots(sn);
    const t2 = Date.now();
    const cases: [string, Info['kind'], string | undefined][] = [
      ['c1', 'committed', undefined],
      ['c2', 'committed', 'c1'],
      ['a1', 'active', 'c2'],
      ['a2', 'active', undefined],
      ['v1', 'view', 'c2'],
      ['v2', 'view', undefined],
    ];
    for (const [name, kind, parent] of cases) {
      let si = await sn.stat(name);
      const created = si.created.getTime();
      assert.ok(created >= t1 && created <= t2, `${name}: created time in range`);
      assert.equal(si.updated.getTime(), created, `${name}: created == updated at first`);
      const same = (what: string) => {
        assert.equal(si.kind, kind, `${name} ${what}: kind`);
        assert.equal(si.parent, parent, `${name} ${what}: parent`);
        assert.equal(si.name, name, `${name} ${what}: name`);
        assert.equal(si.created.getTime(), created, `${name} ${what}: created does not move`);
      };
      same('stat');
      await sleep(2);
      const u1 = Date.now();
      // extra fields in the argument (a different parent) are ignored without field paths
      si = await sn.update({ ...si, parent: 'doesnotexist', labels: { l1: 'v1', l2: 'v2', l3: 'v3' } } as Info);
      const u2 = Date.now();
      same('update');
      assert.ok(si.updated.getTime() >= u1 && si.updated.getTime() <= u2, `${name}: updated time in range`);
      assert.deepEqual(si.labels, { l1: 'v1', l2: 'v2', l3: 'v3' });
      si = await sn.update({ name, labels: { l1: 'updated', l4: 'v4' } }, ['labels.l1', 'labels.l2']);
      assert.deepEqual(si.labels, { l1: 'updated', l3: 'v3' }, `${name}: labels.<k> sets, or deletes when absent`);
      si = await sn.update({ name, labels: { l4: 'v4' } }, ['labels']);
      assert.deepEqual(si.labels, { l4: 'v4' });
      for (const fp of ['parent', 'kind', 'name', 'created', 'labels.']) {
        await rejectsKind(sn.update({ name, labels: {} }, [fp]), 'invalid-argument', `${name}: updating '${fp}'`);
      }
      si = await sn.stat(name);
      same('refused updates');
      assert.deepEqual(si.labels, { l4: 'v4' }, `${name}: a refused update changed nothing`);
    }
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
    const root = { 'containerd.io/gc.root': 'check-walk' };
    const labels = (l?: string) => ({ labels: l === undefined ? root : { l, ...root } });
    await sn.prepare('a-np', undefined, labels());
    await sn.prepare('p-tmp', undefined, labels());
    await sn.commit('p', 'p-tmp', labels());
    await sn.prepare('a', 'p', labels());
    await sn.view('v', 'p', labels());
    await sn.prepare('p-wl-tmp', undefined, labels());
    await sn.commit('p-wl', 'p-wl-tmp', labels('1'));
    await sn.prepare('a-wl', 'p-wl', labels('2'));
    await sn.view('v-wl', 'p-wl', labels('3'));
    await sn.prepare('a-np-wl', undefined, labels('2'));
    await sn.prepare('unlabelled');
    const gc = 'labels."containerd.io/gc.root"==check-walk';
    const cases: [string[], string[]][] = [
      [[gc], ['a-np', 'p', 'a', 'v', 'p-wl', 'a-wl', 'v-wl', 'a-np-wl']],
      [[`kind==active,${gc}`], ['a-np', 'a', 'a-wl', 'a-np-wl']],
      [[`kind==view,${gc}`], ['v', 'v-wl']],
      [[`kind==committed,${gc}`], ['p', 'p-wl']],
      [
        ['name==p', 'name==a-np-wl'],
        ['p', 'a-np-wl'],
      ],
      [['name==a-wl,labels.l'], ['a-wl']],
      [['parent==p'], ['a', 'v']],
      [[`parent!="",${gc}`], ['a', 'v', 'a-wl', 'v-wl']],
      [['labels.l'], ['p-wl', 'a-wl', 'v-wl', 'a-np-wl']],
      [['labels.l==2'], ['a-wl', 'a-np-wl']],
      [[], ['a-np', 'p', 'a', 'v', 'p-wl', 'a-wl', 'v-wl', 'a-np-wl', 'unlabelled']],
    ];
    for (const [filters, want] of cases) {
      const got: string[] = [];
      await sn.walk(
        (i) => {
          got.push(i.name);
        },
        snapshotFilter(...filters),
      );
      assert.deepEqual(got.sort(), want.sort(), `walk ${JSON.stringify(filters)}`);
    }
  },

  async LayerFileupdate({ sn, work }) {
    // moby#21555: a same-size rewrite and a mode-only change must show, whatever the timing
    const l1 = [
      createDir('/etc', 0o700),
      createFile('/etc/hosts', 'mydomain 10.0.0.1', 0o644),
      createFile('/etc/profile', 'PATH=/usr/bin', 0o644),
    ];
    const l2 = [
      createFile('/etc/hosts', 'mydomain 10.0.0.2', 0o644),
      createFile('/etc/profile', 'PATH=/usr/bin', 0o666),
      createDir('/root', 0o700),
      createFile('/root/.bashrc', 'PATH=/usr/sbin:/usr/bin', 0o644),
    ];
    for (let i = 0; i < 5; i++) {
      await checkSnapshots(sn, work, [l1, l2]);
      // containerd sleeps to the next second each round; two rounds cross one boundary here
      if (i === 1) await sleep(1000 - (Date.now() % 1000) + 5);
    }
  },

  async RemoveDirectoryInLowerLayer({ sn, work }) {
    await checkSnapshots(sn, work, [
      [createDir('/lib', 0o700), createFile('/lib/hidden', '', 0o644)],
      [removeAll('/lib'), createDir('/lib', 0o700), createFile('/lib/not-hidden', '', 0o644)],
      [createFile('/lib/newfile', '', 0o644)],
    ]);
  },

  async Chown({ sn, work }) {
    await checkSnapshots(sn, work, [
      [createDir('/opt', 0o700), createDir('/opt/a', 0o700), createDir('/opt/a/b', 0o700), createFile('/opt/a/b/file.txt', 'hello', 0o644)],
      [chown('/opt', 1, 1), chown('/opt/a', 1, 1), chown('/opt/a/b', 1, 1), chown('/opt/a/b/file.txt', 1, 1)],
    ]);
  },

  async DirectoryPermissionOnCommit({ sn, work }) {
    await checkSnapshots(sn, work, [
      [
        createDir('/dir1', 0o700),
        createDir('/dir2', 0o700),
        createDir('/dir3', 0o700),
        createDir('/dir4', 0o700),
        createFile('/dir4/f1', '...', 0o644),
        createDir('/dir5', 0o700),
        createFile('/dir5/f1', '...', 0o644),
        chown('/dir1', 1, 1),
        chown('/dir2', 1, 1),
        chown('/dir3', 1, 1),
        chown('/dir5', 1, 1),
        chown('/dir5/f1', 1, 1),
      ],
      [chown('/dir2', 0, 0), removeAll('/dir3'), chown('/dir4', 1, 1), chown('/dir4/f1', 1, 1)],
      [createDir('/dir3', 0o700), chown('/dir3', 1, 1), removeAll('/dir5'), createDir('/dir5', 0o700), chown('/dir5', 1, 1)],
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
      [createFile('/foo', 'foo\n', 0o777), createFile('/foobar', 'foobar\n', 0o777)],
      [removeAll('/foobar')],
      [],
    ]);
  },

  async MoveFileFromLowerLayer({ sn, work }) {
    await checkSnapshots(sn, work, [
      [createDir('/dir1', 0o700), createFile('/dir1/f1', 'Hello', 0o644), createDir('/dir2', 0o700), createFile('/dir2/f2', '...', 0o644)],
      [
        createDir('/dir3', 0o700),
        createFile('/dir3/f1', 'Hello', 0o644),
        removeAll('/dir1'),
        link('/dir2/f2', '/dir3/f2'),
        removeAll('/dir2/f2'),
      ],
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
    // renaming a lower directory needs overlayfs's redirect_dir, which stays off (moby#25409)
    const l2: Applier[] = name === 'overlayfs' ? [] : [rename('/dir1', '/dir2')];
    l2.push(
      createFile('/somefiles/f1-overwrite', 'new content 1', 0o644),
      rename('/somefiles/f1-overwrite', '/somefiles/f1'),
      rename('/somefiles/f2', '/somefiles/f3'),
    );
    await checkSnapshots(sn, work, [
      [
        createDir('/dir1', 0o700),
        createDir('/somefiles', 0o700),
        createFile('/somefiles/f1', 'was here first!', 0o644),
        createFile('/somefiles/f2', 'nothing interesting', 0o644),
      ],
      l2,
    ]);
  },

  async '128LayersMount'({ sn, work }) {
    const layers: Applier[][] = [
      [
        createFile('/bottom', 'way at the bottom\n', 0o777),
        createFile('/overwriteme', 'FIRST!\n', 0o777),
        createDir('/addhere', 0o755),
        createDir('/onlyme', 0o755),
        createFile('/onlyme/bottom', 'bye!\n', 0o777),
      ],
    ];
    for (let i = 1; i <= 127; i++) {
      layers.push([
        createFile('/overwriteme', `${i} WAS HERE!\n`, 0o777),
        createFile(`/addhere/file-${i}`, 'same\n', 0o755),
        removeAll('/onlyme'),
        createDir('/onlyme', 0o755),
        createFile(`/onlyme/file-${i}`, 'only me!\n', 0o777),
      ]);
    }
    const flat = await mkdtempIn(work, 'flat-');
    let parent: string | undefined;
    // one private mount point for all layers: a mount and an umount per layer, no more
    await using mp = await tempMount([]);
    for (const [i, layer] of layers.entries()) {
      const key = uniqueKey(`prepare-layer-${i}`);
      await mountAll(await sn.prepare(key, parent), mp.dir);
      try {
        // containerd compares before and after every layer; every 32nd keeps the suite fast
        if (i % 32 === 31) await assertTreesEqual(flat, mp.dir, `layer ${i} before apply`);
        await apply(mp.dir, layer);
      } finally {
        await unmount(mp.dir);
      }
      await apply(flat, layer);
      parent = `sha256:${createHash('sha256').update(`layer ${i}`).digest('hex')}`;
      await sn.commit(parent, key);
    }
    const view = uniqueKey('fullview');
    const mounts = await sn.view(view, parent);
    if (mounts[0]?.type === 'overlay') {
      // the point of the test: these options do not fit in mount(2)'s one page as they are
      assert.ok(mounts[0].options.join(',').length > 4096, 'the 128-layer option string exceeds a page');
    }
    await withMounted(mounts, (dir) => assertTreesEqual(flat, dir, 'view of 128 layers'));
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
