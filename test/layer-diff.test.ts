/**
 * Layer diff against a real overlay mount: changes are made through the merged view, the
 * overlay is unmounted, and its upperdir is diffed (overlay mode). Checks the exact entries, that
 * the same change made 30 times at different times gives one digest, and a round trip: the diff
 * extracted by GNU tar over a copy of the lower (whiteouts applied by hand, in flat form) equals
 * the merged view.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  constants,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { diffLayer } from '../src/archive/diff.js';
import { lgetxattr, lsetxattr, mknod } from '../src/native/addon.js';
import { needsBinary, needsRoot, requires } from './helpers/requires.js';
import { listTar, readAll, sha256, summary } from './helpers/tar.js';

const T0 = 1_600_000_000; // the lower's times
const EPOCH = 1_650_000_000; // after T0, before any change made now

/** cap_net_raw+ep as a v2 capability xattr */
const CAP_NET_RAW = (() => {
  const b = Buffer.alloc(20);
  b.writeUInt32LE(0x02000001, 0);
  b.writeUInt32LE(1 << 13, 4);
  return b;
})();

function makeLower(root: string): void {
  const files: Record<string, string> = {
    'bin/tool': 'tool',
    'bin/ping': 'ping',
    'etc/conf': 'a=1\n',
    'etc/old': 'old',
    'etc/hosts': '127.0.0.1 localhost\n',
    'home/user/file': 'mine',
    'var/cache/a/b': 'x',
    'var/cache/c': 'y',
    'opt/pkg/sub/file': 'p',
  };
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    writeFileSync(path.join(root, p), content);
  }
  mkdirSync(path.join(root, 'lib'));
  mkdirSync(path.join(root, 'dev'));
  chmodSync(path.join(root, 'bin/tool'), 0o755);
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) utimesSync(path.join(e.parentPath, e.name), T0, T0);
  utimesSync(root, T0, T0);
}

/** The change under test, made through the merged view. */
function change(m: string): void {
  writeFileSync(path.join(m, 'new.txt'), 'new\n');
  appendFileSync(path.join(m, 'etc/conf'), 'b=2\n');
  chmodSync(path.join(m, 'bin/tool'), 0o4755);
  chownSync(path.join(m, 'home/user/file'), 1000, 1000);
  unlinkSync(path.join(m, 'etc/old'));
  rmSync(path.join(m, 'opt/pkg'), { recursive: true });
  rmSync(path.join(m, 'var/cache'), { recursive: true });
  mkdirSync(path.join(m, 'var/cache'));
  writeFileSync(path.join(m, 'var/cache/fresh'), 'f');
  linkSync(path.join(m, 'new.txt'), path.join(m, 'new-link'));
  linkSync(path.join(m, 'etc/hosts'), path.join(m, 'etc/hosts.link'));
  symlinkSync('../etc/conf', path.join(m, 'lib/conf-link'));
  mknod(path.join(m, 'dev/null2'), constants.S_IFCHR | 0o640, 1, 3);
  mknod(path.join(m, 'dev/fifo'), constants.S_IFIFO | 0o600);
  lsetxattr(path.join(m, 'bin/ping'), 'security.capability', CAP_NET_RAW);
  // made and removed in this layer: no trace in the diff
  writeFileSync(path.join(m, 'tmp-file'), 't');
  unlinkSync(path.join(m, 'tmp-file'));
  mkdirSync(path.join(m, 'lib/tmp-dir'));
  rmSync(path.join(m, 'lib/tmp-dir'), { recursive: true });
}

class Overlay {
  readonly upper: string;
  readonly work: string;
  readonly merged: string;
  mounted = false;
  constructor(
    readonly dir: string,
    readonly lower: string,
  ) {
    this.upper = path.join(dir, 'upper');
    this.work = path.join(dir, 'work');
    this.merged = path.join(dir, 'merged');
    for (const d of [this.upper, this.work, this.merged]) mkdirSync(d, { recursive: true });
  }
  /** Explicit options: the upperdir walk does not handle redirects or metacopy. */
  mount(): void {
    const o = `lowerdir=${this.lower},upperdir=${this.upper},workdir=${this.work},index=off,metacopy=off,redirect_dir=off`;
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', o, this.merged]);
    this.mounted = true;
  }
  /** A read-only view of upper over lower, for comparing (no second mount of a live upper). */
  mountView(): void {
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${this.upper}:${this.lower}`, this.merged]);
    this.mounted = true;
  }
  umount(): void {
    if (!this.mounted) return;
    execFileSync('umount', [this.merged]);
    this.mounted = false;
  }
}

function setup(t: { after: (fn: () => void) => void }): { dir: string; lower: string; overlay: (name: string) => Overlay } {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-layer-diff-'));
  const lower = path.join(dir, 'lower');
  makeLower(lower);
  const overlays: Overlay[] = [];
  t.after(() => {
    for (const o of overlays) {
      try {
        o.umount();
      } catch {
        execFileSync('umount', ['-l', o.merged]);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    lower,
    overlay: (name) => {
      const o = new Overlay(path.join(dir, name), lower);
      overlays.push(o);
      return o;
    },
  };
}

const diff = (upper: string, lower: string, sourceDateEpoch?: number) =>
  readAll(diffLayer(upper, { lowers: [lower], mode: 'overlay', ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }) }));

function skipReason(): string | undefined {
  return needsRoot() ?? needsBinary('mount') ?? needsBinary('tar');
}

test('overlay diff: the exact entries of a change made through the merged view', async (t) => {
  if (!requires(t, skipReason())) return;
  const s = setup(t);
  const o = s.overlay('one');
  o.mount();
  change(o.merged);
  o.umount();
  const entries = await listTar(await diff(o.upper, s.lower, EPOCH));
  assert.deepEqual(summary(entries), [
    'bin/ directory 0755 0:0',
    'bin/ping file 0644 0:0',
    'bin/tool file 4755 0:0',
    'dev/ directory 0755 0:0',
    'dev/fifo fifo 0600 0:0',
    'dev/null2 character-device 0640 0:0 1:3',
    'etc/ directory 0755 0:0',
    'etc/conf file 0644 0:0',
    'etc/hosts file 0644 0:0',
    'etc/hosts.link link 0644 0:0 -> etc/hosts',
    'etc/.wh.old file 0000 0:0',
    'home/ directory 0755 0:0',
    'home/user/ directory 0755 0:0',
    'home/user/file file 0644 1000:1000',
    'lib/ directory 0755 0:0',
    'lib/conf-link symlink 0777 0:0 -> ../etc/conf',
    // `-` sorts before `.`: new-link is the inode's first path, so it carries the data
    'new-link file 0644 0:0',
    'new.txt link 0644 0:0 -> new-link',
    'opt/ directory 0755 0:0',
    'opt/.wh.pkg file 0000 0:0',
    'var/ directory 0755 0:0',
    'var/cache/ directory 0755 0:0',
    'var/cache/.wh..wh..opq file 0000 0:0',
    'var/cache/fresh file 0644 0:0',
  ]);
  const by = new Map(entries.map((e) => [e.name, e]));
  assert.equal(by.get('etc/conf')?.content, 'a=1\nb=2\n');
  assert.equal(by.get('new-link')?.content, 'new\n');
  assert.equal(by.get('etc/hosts')?.content, '127.0.0.1 localhost\n', 'the lower file a new link points to is re-emitted');
  assert.equal(by.get('bin/ping')?.pax?.['SCHILY.xattr.security.capability'], CAP_NET_RAW.toString('latin1'));
  assert.equal(by.get('bin/tool')?.mtime, T0, 'a copy-up keeps the lower mtime');
  assert.equal(by.get('new-link')?.mtime, EPOCH, 'new files are clamped to the epoch');
  for (const n of ['etc/.wh.old', 'opt/.wh.pkg', 'var/cache/.wh..wh..opq']) assert.equal(by.get(n)?.mtime, 0);
  for (const e of entries) {
    if (e.name !== 'bin/ping') assert.equal(e.pax?.['SCHILY.xattr.security.capability'], undefined, `${e.name}: no capability`);
    assert.equal(e.uname + e.gname, '', `${e.name}: no user or group names`);
  }
});

test('overlay diff: the same change made 30 times, at different times, gives one digest', async (t) => {
  if (!requires(t, skipReason())) return;
  const s = setup(t);
  const digests = new Set<string>();
  const seconds = new Set<number>();
  for (let i = 0; i < 30; i++) {
    if (i > 0) await sleep(100);
    const o = s.overlay(`run${i}`);
    o.mount();
    change(o.merged);
    o.umount();
    seconds.add(Math.floor(lstatSync(path.join(o.upper, 'new.txt')).mtimeMs / 1000));
    digests.add(sha256(await diff(o.upper, s.lower, EPOCH)));
    rmSync(o.dir, { recursive: true });
  }
  assert.ok(seconds.size >= 2, `the runs' files have different mtimes (${[...seconds]})`);
  assert.equal(digests.size, 1, [...digests].join(' '));
});

/** Every node of a tree except the root, as comparable text. */
function describe(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const abs = path.join(e.parentPath, e.name);
    const rel = path.relative(root, abs);
    const st = lstatSync(abs, { bigint: true });
    const mtime = st.mtimeNs / 1_000_000_000n;
    let what = `mode=${st.mode.toString(8)} owner=${st.uid}:${st.gid} mtime=${mtime}`;
    if (st.isFile()) {
      const cap = lgetxattr(abs, 'security.capability');
      what += ` nlink=${st.nlink} sha=${createHash('sha256').update(readFileSync(abs)).digest('hex')} cap=${cap?.toString('hex') ?? '-'}`;
    } else if (st.isSymbolicLink()) what += ` -> ${readlinkSync(abs)}`;
    else if (st.isCharacterDevice() || st.isBlockDevice()) what += ` rdev=${st.rdev}`;
    out.set(rel, what);
  }
  return out;
}

test('round trip: the diff extracted in flat form over a copy of the lower equals the merged view', async (t) => {
  if (!requires(t, skipReason())) return;
  const s = setup(t);
  const o = s.overlay('rt');
  o.mount();
  change(o.merged);
  o.umount();
  const tar = await diff(o.upper, s.lower);
  const tarFile = path.join(s.dir, 'layer.tar');
  writeFileSync(tarFile, tar);
  const copy = path.join(s.dir, 'copy');
  execFileSync('cp', ['-a', s.lower, copy]);
  // flat apply by hand: whiteouts delete, an opaque marker empties its directory
  for (const e of await listTar(tar)) {
    const base = path.basename(e.name);
    if (base === '.wh..wh..opq') {
      const d = path.join(copy, path.dirname(e.name));
      for (const c of readdirSync(d)) rmSync(path.join(d, c), { recursive: true });
    } else if (base.startsWith('.wh.')) rmSync(path.join(copy, path.dirname(e.name), base.slice(4)), { recursive: true });
  }
  execFileSync('tar', [
    '-x',
    '--xattrs',
    '--xattrs-include=security.capability',
    '--numeric-owner',
    '-p',
    '--exclude=.wh.*',
    '-f',
    tarFile,
    '-C',
    copy,
  ]);
  o.mountView();
  const merged = describe(o.merged);
  o.umount();
  const extracted = describe(copy);
  assert.deepEqual([...extracted.keys()].sort(), [...merged.keys()].sort());
  assert.equal(merged.size, 21, `${merged.size} nodes`);
  assert.match(extracted.get('bin/ping') ?? '', new RegExp(`cap=${CAP_NET_RAW.toString('hex')}$`));
  assert.match(extracted.get('dev/null2') ?? '', /^mode=20640 .* rdev=259$/);
  assert.match(extracted.get('bin/tool') ?? '', /^mode=104755 /);
  assert.match(extracted.get('home/user/file') ?? '', / owner=1000:1000 /);
  assert.equal(extracted.get('etc/old'), undefined);
  assert.deepEqual(readdirSync(path.join(copy, 'opt')), []);
  assert.deepEqual(readdirSync(path.join(copy, 'var/cache')), ['fresh']);
  for (const [p, m] of merged) assert.equal(extracted.get(p), m, p);
  assert.equal(lstatSync(path.join(copy, 'new.txt')).ino, lstatSync(path.join(copy, 'new-link')).ino, 'hardlinked');
  assert.equal(lstatSync(path.join(copy, 'etc/hosts')).ino, lstatSync(path.join(copy, 'etc/hosts.link')).ino, 'hardlinked');
});

test('overlay diff over several lowers: whiteouts only for what the lower view shows', async (t) => {
  if (!requires(t, skipReason())) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-layer-diff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const [l1, l2, upper] = ['l1', 'l2', 'upper'].map((n) => path.join(dir, n)) as [string, string, string];
  const whiteout = (p: string) => mknod(p, constants.S_IFCHR, 0, 0);
  // l2 (bottom): a/x, b/y, c/z, d/
  for (const p of ['a/x', 'b/y', 'c/z', 'e/kept']) {
    mkdirSync(path.dirname(path.join(l2, p)), { recursive: true });
    writeFileSync(path.join(l2, p), p);
  }
  // l1 (top): deletes a/x, makes b opaque (b/new only), turns c into a file
  for (const d of ['a', 'b', 'e']) mkdirSync(path.join(l1, d), { recursive: true });
  whiteout(path.join(l1, 'a/x'));
  lsetxattr(path.join(l1, 'b'), 'trusted.overlay.opaque', 'y');
  writeFileSync(path.join(l1, 'b/new'), 'n');
  writeFileSync(path.join(l1, 'c'), 'file now');
  // the upper removes each of these again
  for (const d of ['a', 'b', 'c', 'e', 'gone']) mkdirSync(path.join(upper, d), { recursive: true });
  whiteout(path.join(upper, 'a/x')); // already deleted by l1: no whiteout
  whiteout(path.join(upper, 'b/y')); // hidden by l1's opaque b: no whiteout
  whiteout(path.join(upper, 'b/new')); // shown by l1: a whiteout
  rmSync(path.join(upper, 'c'), { recursive: true });
  mkdirSync(path.join(upper, 'c'));
  whiteout(path.join(upper, 'c/z')); // c is a file in l1: nothing below c/z
  whiteout(path.join(upper, 'e/kept')); // shown by l2 through l1's plain dir e
  whiteout(path.join(upper, 'never')); // in no lower
  for (const p of ['a', 'b', 'c', 'e', 'gone', '.']) utimesSync(path.join(upper, p), T0, T0);
  for (const p of ['a', 'b', 'e']) utimesSync(path.join(l1, p), T0, T0);
  for (const p of ['a', 'b', 'e']) utimesSync(path.join(l2, p), T0, T0);
  const entries = await listTar(await readAll(diffLayer(upper, { lowers: [l1, l2], mode: 'overlay' })));
  assert.deepEqual(summary(entries), [
    'b/ directory 0755 0:0',
    'b/.wh.new file 0000 0:0',
    'c/ directory 0755 0:0',
    'e/ directory 0755 0:0',
    'e/.wh.kept file 0000 0:0',
    'gone/ directory 0755 0:0',
  ]);
});

test('overlay diff refuses an upperdir with a redirect or a metacopy', async (t) => {
  if (!requires(t, skipReason())) return;
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-layer-diff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lower = path.join(dir, 'lower');
  const upper = path.join(dir, 'upper');
  mkdirSync(path.join(upper, 'moved'), { recursive: true });
  mkdirSync(lower);
  lsetxattr(path.join(upper, 'moved'), 'trusted.overlay.redirect', '/orig');
  await assert.rejects(
    readAll(diffLayer(upper, { lowers: [lower], mode: 'overlay' })),
    /entry 'moved': a renamed directory \(overlay redirect_dir\)/,
  );
  rmSync(path.join(upper, 'moved'), { recursive: true });
  writeFileSync(path.join(upper, 'meta'), '');
  lsetxattr(path.join(upper, 'meta'), 'trusted.overlay.metacopy', '');
  await assert.rejects(readAll(diffLayer(upper, { lowers: [lower], mode: 'overlay' })), /entry 'meta': a metadata-only copy-up/);
});
