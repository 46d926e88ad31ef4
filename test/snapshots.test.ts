/**
 * Both snapshotters against the conformance suite (src/snapshots/testsuite.ts, containerd's
 * tests by name), plus crash safety: a child process preparing, committing and removing
 * snapshots is SIGKILLed at random points; afterwards cleanup() leaves no directory without a
 * row and no row without a directory, and the store still works.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tarStream from 'tar-stream';
import { isKind } from '../src/common/errors.js';
import { type Db, openMetadata } from '../src/metadata/db.js';
import { withMounted } from '../src/snapshots/mount.js';
import { NativeSnapshotter } from '../src/snapshots/native.js';
import { OverlaySnapshotter } from '../src/snapshots/overlay.js';
import { snapshotterSuite } from '../src/snapshots/testsuite.js';
import type { Info, Snapshotter } from '../src/snapshots/types.js';

const KILLS = 5;
const CHURN = path.join(import.meta.dirname, 'helpers', 'snapshot-churn.ts');

const skip = process.getuid?.() !== 0 ? 'needs root: the suite mounts snapshots' : undefined;

snapshotterSuite('overlayfs', (root, db) => OverlaySnapshotter.open({ root, db }), { skip });
snapshotterSuite('native', (root, db) => NativeSnapshotter.open({ root, db }), { skip });

async function openBy(kind: string, root: string, db: Db): Promise<Snapshotter> {
  return kind === 'native' ? NativeSnapshotter.open({ root, db }) : OverlaySnapshotter.open({ root, db, checkMount: false });
}

/** Starts the churn worker and SIGKILLs it `afterMs` after it reports ready. */
async function churnAndKill(kind: string, root: string, dbFile: string, afterMs: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHURN, kind, root, dbFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`churn worker exited (${code}) before it was killed: ${stderr}`)));
  });
  await sleep(afterMs);
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  assert.equal(signal, 'SIGKILL', `the worker died by itself (exit ${code}): ${stderr}`);
}

/** Every row has its directory, and every entry under the root is a row's directory. */
function assertConsistent(kind: string, root: string, db: Db): void {
  const rows = db.prepare(`SELECT key, id FROM snapshots WHERE snapshotter = ?`).all(kind) as { key: string; id: number }[];
  const ids = new Set(rows.map((r) => String(r.id)));
  for (const r of rows) {
    assert.ok(existsSync(path.join(root, String(r.id), 'fs')), `row '${r.key}' has no directory`);
    if (kind === 'overlayfs') assert.ok(existsSync(path.join(root, String(r.id), 'work')), `row '${r.key}' has no work directory`);
  }
  for (const name of readdirSync(root)) assert.ok(ids.has(name), `directory '${name}' has no row`);
}

for (const kind of ['overlayfs', 'native']) {
  test(`${kind}: SIGKILL at random points, then cleanup() leaves a consistent, working store`, { skip }, async (t) => {
    const work = mkdtempSync(path.join(tmpdir(), `berth-snap-crash-${kind}-`));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const root = path.join(work, 'root');
    const dbFile = path.join(work, 'metadata.db');
    let leftovers = 0;
    for (let i = 0; i < KILLS; i++) {
      await churnAndKill(kind, root, dbFile, 30 + Math.floor(Math.random() * 400));
      const db = openMetadata(dbFile);
      try {
        await using sn = await openBy(kind, root, db);
        leftovers += await sn.cleanup();
        assertConsistent(kind, root, db);
        assert.equal(await sn.cleanup(), 0, 'a second cleanup finds nothing');
      } finally {
        db.close();
      }
    }
    t.diagnostic(`cleanup removed ${leftovers} leftover directories over ${KILLS} kills`);
    // the store still works: a new layer on every committed snapshot, and everything removable
    const db = openMetadata(dbFile);
    t.after(() => db.close());
    await using sn = await openBy(kind, root, db);
    const committed: string[] = [];
    await sn.walk(
      (i) => {
        committed.push(i.name);
      },
      (i) => i.kind === 'committed',
    );
    assert.ok(committed.length > 0, 'the worker committed something');
    for (const c of committed.slice(0, 5)) {
      await sn.prepare(`after-${c}`, c);
      await writeFile(path.join((await sn.applyTarget(`after-${c}`)).dir, 'after'), 'ok');
      await sn.commit(`after-committed-${c}`, `after-${c}`);
    }
    for (let left = Number.POSITIVE_INFINITY; left > 0; ) {
      const all: Info[] = [];
      await sn.walk((i) => {
        all.push(i);
      });
      const parents = new Set(all.map((i) => i.parent));
      for (const leaf of all.filter((i) => !parents.has(i.name))) await sn.remove(leaf.name);
      left = all.length;
    }
    assert.deepEqual(readdirSync(root), [], 'removing every snapshot leaves an empty root');
  });
}

test('overlayfs refuses an overlay as its backing filesystem, naming the reason', { skip }, async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'berth-snap-ovl-'));
  const db = openMetadata(path.join(work, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(work, { recursive: true, force: true });
  });
  for (const d of ['lower', 'upper', 'work']) mkdirSync(path.join(work, d));
  const mounts = [
    { type: 'overlay', source: 'overlay', options: [`lowerdir=${work}/lower`, `upperdir=${work}/upper`, `workdir=${work}/work`] },
  ];
  await withMounted(mounts, async (merged) => {
    await assert.rejects(
      OverlaySnapshotter.open({ root: path.join(merged, 'snapshots'), db }),
      (e) => isKind(e, 'failed-precondition') && /itself an overlayfs.*use the native snapshotter/.test((e as Error).message),
    );
    // the native snapshotter works there
    await using native = await NativeSnapshotter.open({ root: path.join(merged, 'native'), db });
    await native.prepare('k');
    assert.equal((await native.stat('k')).kind, 'active');
  });
});

test('withMounted unmounts and removes its directory when the mount or the callback fails', { skip }, async (t) => {
  const src = mkdtempSync(path.join(tmpdir(), 'berth-snap-src-'));
  t.after(() => rmSync(src, { recursive: true, force: true }));
  // other processes share this mount namespace: look for our own mount points only
  const mounted = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${dir} `);
  const missing = path.join(tmpdir(), 'berth-no-such-dir');
  let failed = '';
  await assert.rejects(
    withMounted([{ type: 'overlay', source: 'overlay', options: [`lowerdir=${missing}:${missing}2`] }], () => {}),
    (e) => {
      failed = /on '([^']+)'/.exec((e as Error).message)?.[1] ?? '';
      return isKind(e, 'internal') && /^mount overlay 'overlay' on '.*berth-mount-.*': /.test((e as Error).message);
    },
  );
  assert.ok(failed !== '' && !existsSync(failed) && !mounted(failed), 'the failed mount point is unmounted and gone');
  let seen = '';
  await assert.rejects(
    withMounted([{ type: 'bind', source: src, options: ['rbind', 'ro'] }], (dir) => {
      seen = dir;
      assert.ok(mounted(dir));
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.ok(seen !== '' && !existsSync(seen) && !mounted(seen), 'the temp mount point is unmounted and gone');
});

/** Runs `cmd` with `input` on stdin; resolves with stdout. */
function pipe(cmd: string, args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err}`)),
    );
    child.stdin.end(input);
  });
}

/** The pax xattrs GNU tar records for each entry of `dir`. */
async function xattrsOf(dir: string): Promise<Map<string, Record<string, string>>> {
  const archive = await pipe('tar', ['--xattrs', '--xattrs-include=*', '-cf', '-', '-C', dir, '.']);
  const out = new Map<string, Record<string, string>>();
  const extract = tarStream.extract();
  extract.on('entry', (h, stream, next) => {
    const x: Record<string, string> = {};
    for (const [k, v] of Object.entries(h.pax ?? {})) if (k.startsWith('SCHILY.xattr.')) x[k.slice('SCHILY.xattr.'.length)] = v;
    out.set(h.name.replace(/^\.\//, ''), x);
    stream.resume();
    stream.on('end', next);
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    extract.end(archive);
  });
  return out;
}

test('native: a child is a faithful copy (owners, modes, times, xattrs, devices, fifos, symlinks, hardlinks)', { skip }, async (t) => {
  const work = mkdtempSync(path.join(tmpdir(), 'berth-snap-copy-'));
  const db = openMetadata(path.join(work, 'metadata.db'));
  t.after(() => {
    db.close();
    rmSync(work, { recursive: true, force: true });
  });
  await using sn = await NativeSnapshotter.open({ root: path.join(work, 'root'), db });
  await sn.prepare('base');
  const base = (await sn.applyTarget('base')).dir;
  // the parent's tree, written by GNU tar from an archive (Node has no xattr or mknod calls)
  const pack = tarStream.pack();
  const mtime = new Date('2001-02-03T04:05:06Z');
  pack.entry({ name: 'd', type: 'directory', mode: 0o700, uid: 2, gid: 3, mtime });
  pack.entry(
    { name: 'd/a', mode: 0o4755, uid: 1000, gid: 1001, mtime, pax: { 'SCHILY.xattr.user.test': 'hello', 'SCHILY.xattr.trusted.t': 'x' } },
    'content',
  );
  pack.entry({ name: 'd/b', type: 'link', linkname: 'd/a', mtime });
  pack.entry({ name: 'l', type: 'symlink', linkname: 'd/a', uid: 5, gid: 6, mtime });
  pack.entry({ name: 'null', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666, mtime });
  pack.entry({ name: 'fifo', type: 'fifo', mode: 0o600, mtime });
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  await pipe('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', '-', '-C', base], Buffer.concat(chunks));
  chmodSync(base, 0o750); // the root's own attributes travel too
  chownSync(base, 7, 8);
  await sn.commit('sha256:base', 'base');

  await sn.prepare('child', 'sha256:base');
  const child = (await sn.applyTarget('child')).dir;
  for (const p of ['', 'd', 'd/a', 'd/b', 'l', 'null', 'fifo']) {
    const [want, got] = [lstatSync(path.join(base, p)), lstatSync(path.join(child, p))];
    for (const k of ['mode', 'uid', 'gid', 'size', 'rdev', 'nlink', 'mtimeMs'] as const) {
      assert.equal(got[k], want[k], `${p}: ${k}`);
    }
  }
  assert.equal(lstatSync(path.join(child, 'd/a')).ino, lstatSync(path.join(child, 'd/b')).ino, 'the hardlink stays one file');
  assert.notEqual(lstatSync(path.join(child, 'd/a')).ino, lstatSync(path.join(base, 'd/a')).ino, 'a copy, not the parent');
  assert.ok(lstatSync(path.join(child, 'null')).isCharacterDevice());
  assert.ok(lstatSync(path.join(child, 'fifo')).isFIFO());
  assert.equal(readlinkSync(path.join(child, 'l')), 'd/a');
  // tar records a hardlinked file's xattrs on whichever name it meets first
  const linked = async (dir: string) => {
    const x = await xattrsOf(dir);
    return { ...x.get('d/a'), ...x.get('d/b') };
  };
  assert.deepEqual(await linked(base), { 'user.test': 'hello', 'trusted.t': 'x' }, 'the parent has them');
  assert.deepEqual(await linked(child), { 'user.test': 'hello', 'trusted.t': 'x' }, 'the copy keeps them');
});
