import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { listTar, readAll, sha256, summary } from '../../test/helpers/tar.js';
import { isKind } from '../common/errors.js';
import { capabilityV2, diffLayer } from './diff.js';
import { encodeHeader } from './tar-header.js';

const T0 = 1_600_000_000; // the lower tree's times
const EPOCH = 1_700_000_000;

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-diff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `files` (path → content, or null for a dir) under `root`, then sets every time to T0. */
function tree(root: string, files: Record<string, string | null>): void {
  mkdirSync(root, { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    const abs = path.join(root, p);
    if (content === null) mkdirSync(abs, { recursive: true });
    else {
      mkdirSync(path.dirname(abs), { recursive: true });
      writeFileSync(abs, content);
    }
  }
  touchAll(root, T0);
}

function touchAll(root: string, time: number): void {
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!e.isSymbolicLink()) utimesSync(path.join(e.parentPath, e.name), time, time);
  }
  utimesSync(root, time, time);
}

/** A flat-mode setup: lower, and upper as its copy (times, modes and links kept). */
function flat(t: { after: (fn: () => void) => void }, files: Record<string, string | null>) {
  const dir = tmp(t);
  const lower = path.join(dir, 'lower');
  const upper = path.join(dir, 'upper');
  tree(lower, files);
  cpSync(lower, upper, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  touchAll(upper, T0);
  return { dir, lower, upper };
}

async function diff(upper: string, lower: string, sourceDateEpoch?: number): Promise<Buffer> {
  return readAll(diffLayer(upper, { lowers: [lower], mode: 'flat', ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }) }));
}

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

test('flat diff: adds, modifies and deletes, in walk order, each after its parents, once', async (t) => {
  const { upper, lower } = flat(t, {
    'a/keep': 'k',
    'a/mod': 'v1',
    'a/gone': 'g',
    'a-b/x': 'x',
    'a.b': 'y',
    'z/deep/er/file': 'z',
    'rmdir/sub/f': 'f',
  });
  writeFileSync(path.join(upper, 'a/mod'), 'v2');
  rmSync(path.join(upper, 'a/gone'));
  writeFileSync(path.join(upper, 'a/new'), 'n');
  writeFileSync(path.join(upper, 'a-b/x2'), 'x2');
  writeFileSync(path.join(upper, 'z/deep/er/new'), 'zz');
  rmSync(path.join(upper, 'rmdir'), { recursive: true });
  chmodSync(path.join(upper, 'a.b'), 0o600);
  const entries = await listTar(await diff(upper, lower, EPOCH));
  const dir = (n: string) => `${n} directory 0755 ${uid}:${gid}`;
  const file = (n: string, mode = '0644') => `${n} file ${mode} ${uid}:${gid}`;
  const wh = (n: string) => `${n} file 0000 0:0`;
  // `a/…` comes before `a-b` and `a.b` (a directory is followed by its subtree), though a
  // plain sort of the full paths would put `a-b/x` first.
  assert.deepEqual(summary(entries), [
    dir('a/'),
    wh('a/.wh.gone'),
    file('a/mod'),
    file('a/new'),
    dir('a-b/'),
    file('a-b/x2'),
    file('a.b', '0600'),
    wh('.wh.rmdir'),
    dir('z/'),
    dir('z/deep/'),
    dir('z/deep/er/'),
    file('z/deep/er/new'),
  ]);
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get('a/mod')?.content, 'v2');
  assert.equal(byName.get('a.b')?.mtime, T0, 'an mtime before the epoch is kept');
  assert.equal(byName.get('a/new')?.mtime, EPOCH, 'a newer mtime is clamped to the epoch');
  assert.equal(byName.get('a/.wh.gone')?.mtime, 0);
  for (const e of entries) {
    assert.equal(e.uname, '', `${e.name}: no user name`);
    assert.equal(e.gname, '', `${e.name}: no group name`);
  }
});

test('flat diff: identical trees give an empty layer; a tree compared with nothing is all adds', async (t) => {
  const { upper, lower, dir } = flat(t, { 'a/b': 'b', c: 'c' });
  const empty = await diff(upper, lower);
  assert.equal(empty.length, 1024, 'just the end-of-archive blocks');
  assert.deepEqual(empty, Buffer.alloc(1024));
  const none = path.join(dir, 'none');
  mkdirSync(none);
  assert.deepEqual(summary(await listTar(await diff(upper, none))), [
    `a/ directory 0755 ${uid}:${gid}`,
    `a/b file 0644 ${uid}:${gid}`,
    `c file 0644 ${uid}:${gid}`,
  ]);
});

test('flat diff: same metadata with whole-second mtimes compares contents; with nanoseconds it trusts them', async (t) => {
  const { upper, lower } = flat(t, { same: 'aaaa', changed: 'aaaa', nanos: 'aaaa' });
  writeFileSync(path.join(upper, 'changed'), 'bbbb');
  utimesSync(path.join(upper, 'changed'), T0, T0);
  // containerd's rule: a file whose size and mtime (with nanoseconds) agree is unchanged
  writeFileSync(path.join(upper, 'nanos'), 'bbbb');
  utimesSync(path.join(upper, 'nanos'), T0 + 0.5, T0 + 0.5);
  utimesSync(path.join(lower, 'nanos'), T0 + 0.5, T0 + 0.5);
  assert.deepEqual(
    (await listTar(await diff(upper, lower))).map((e) => e.name),
    ['changed'],
  );
});

test('flat diff: a new link to an unchanged file re-emits that file, so nothing links into a lower layer', async (t) => {
  const { upper, lower } = flat(t, { 'd/orig': 'data', 'd/other': 'o' });
  linkSync(path.join(upper, 'd/orig'), path.join(upper, 'a-link'));
  linkSync(path.join(upper, 'd/orig'), path.join(upper, 'z-link'));
  const entries = await listTar(await diff(upper, lower));
  assert.deepEqual(summary(entries), [
    `a-link file 0644 ${uid}:${gid}`,
    `d/ directory 0755 ${uid}:${gid}`,
    `d/orig link 0644 ${uid}:${gid} -> a-link`,
    `z-link link 0644 ${uid}:${gid} -> a-link`,
  ]);
  assert.equal(entries[0]?.content, 'data');
  assert.equal(entries[0]?.size, 4);
});

test('flat diff: symlinks, fifos, long and non-UTF-8 names; sockets are skipped', async (t) => {
  const { upper, lower, dir } = flat(t, { base: 'b' });
  symlinkSync('../../outside/target', path.join(upper, 'rel-link'));
  const longTarget = `/${'t'.repeat(300)}`;
  symlinkSync(longTarget, path.join(upper, 'long-link'));
  const longDir = path.join(upper, 'd'.repeat(120), 'e'.repeat(120));
  mkdirSync(longDir, { recursive: true });
  writeFileSync(path.join(longDir, 'f'.repeat(200)), 'deep');
  const raw = Buffer.concat([Buffer.from(`${upper}/`), Buffer.from([0x6e, 0xff, 0x6e])]);
  writeFileSync(raw, 'raw');
  execFileSync('mkfifo', [path.join(upper, 'fifo')]);
  const sock = path.join(upper, 'sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  t.after(() => server.close());
  const tar = await diff(upper, lower);
  const entries = await listTar(tar);
  const names = entries.map((e) => e.name);
  assert.ok(!names.includes('sock'), 'sockets are skipped');
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.equal(byName.get('rel-link')?.linkname, '../../outside/target', 'a symlink target is data, stored verbatim');
  assert.equal(byName.get('long-link')?.linkname, longTarget);
  assert.equal(byName.get('fifo')?.type, 'fifo');
  assert.equal(byName.get(`${'d'.repeat(120)}/${'e'.repeat(120)}/${'f'.repeat(200)}`)?.content, 'deep');
  // GNU tar reads the same archive, the raw name included, byte for byte
  const tarFile = path.join(dir, 'layer.tar');
  writeFileSync(tarFile, tar);
  const out = path.join(dir, 'out');
  mkdirSync(out);
  execFileSync('tar', ['-x', '-f', tarFile, '-C', out]);
  assert.deepEqual(
    readdirSync(out, { encoding: 'buffer' }).find((n) => n.includes(0xff)),
    Buffer.from([0x6e, 0xff, 0x6e]),
  );
  assert.equal(statSync(path.join(out, 'fifo')).isFIFO(), true);
});

test('flat diff: one tree gives one byte stream, whatever its inode numbers and times past the epoch', async (t) => {
  const { upper, lower, dir } = flat(t, { 'a/x': 'x', 'b/y': 'y' });
  writeFileSync(path.join(upper, 'a/new'), 'n');
  rmSync(path.join(upper, 'b/y'));
  const first = await diff(upper, lower, EPOCH);
  const copy = path.join(dir, 'copy');
  cpSync(upper, copy, { recursive: true, preserveTimestamps: true });
  // the copy has new inodes, and the changed nodes have current times: after the epoch
  const now = Date.now() / 1000;
  for (const p of ['a/new', 'a', 'b', '.']) utimesSync(path.join(copy, p), now, now);
  const second = await diff(copy, lower, EPOCH);
  assert.equal(sha256(second), sha256(first));
});

test('a file that shrinks while the layer is written fails the diff, naming the entry', async (t) => {
  const { upper, lower } = flat(t, { a: 'a' });
  writeFileSync(path.join(upper, 'a-first'), 'x'.repeat(100_000)); // big: its chunk comes alone
  writeFileSync(path.join(upper, 'b-later'), 'y'.repeat(4096));
  const stream = diffLayer(upper, { lowers: [lower], mode: 'flat' });
  // the walk is over once the first bytes come; then the file changes under the writer
  const it = stream[Symbol.asyncIterator]();
  await it.next();
  truncateSync(path.join(upper, 'b-later'), 10);
  await assert.rejects(
    async () => {
      for (let r = await it.next(); !r.done; r = await it.next());
    },
    (err: Error) => isKind(err, 'failed-precondition') && /entry 'b-later': the file shrank from 4096 to 10 bytes/.test(err.message),
  );
});

test('a file or a parent dir replaced by a symlink after the walk is not followed out of the tree', async (t) => {
  const { upper, lower, dir } = flat(t, { a: 'a' });
  writeFileSync(path.join(upper, 'a-first'), 'x'.repeat(100_000)); // big: its chunk comes alone
  writeFileSync(path.join(upper, 'secret-path'), 'y');
  mkdirSync(path.join(upper, 'sub'));
  writeFileSync(path.join(upper, 'sub/secret'), 'z');
  mkdirSync(path.join(dir, 'outside'));
  writeFileSync(path.join(dir, 'outside/secret'), 'do not read');
  for (const [victim, target] of [
    ['secret-path', path.join(dir, 'outside/secret')],
    ['sub', path.join(dir, 'outside')],
  ] as const) {
    const it = diffLayer(upper, { lowers: [lower], mode: 'flat' })[Symbol.asyncIterator]();
    await it.next();
    const saved = path.join(dir, 'saved');
    execFileSync('mv', [path.join(upper, victim), saved]);
    symlinkSync(target, path.join(upper, victim));
    await assert.rejects(
      async () => {
        for (let r = await it.next(); !r.done; r = await it.next()) assert.ok(!Buffer.from(r.value).includes('do not read'));
      },
      new RegExp(`read entry '${victim}.*': too many levels of symbolic links`),
    );
    rmSync(path.join(upper, victim));
    execFileSync('mv', [saved, path.join(upper, victim)]);
  }
});

test('a missing upper or lower fails with a message naming it', async (t) => {
  const dir = tmp(t);
  await assert.rejects(
    readAll(diffLayer(dir, { lowers: [path.join(dir, 'nolower')], mode: 'flat' })),
    (err: Error) => err.message === `diff layer '${dir}': lower '${dir}/nolower': no such file or directory` && isKind(err, 'not-found'),
  );
  await assert.rejects(readAll(diffLayer(path.join(dir, 'nope'), { lowers: [], mode: 'flat' })), (err: Error) => {
    assert.equal(err.message, `diff layer '${dir}/nope': list entry '.': no such file or directory`);
    return isKind(err, 'not-found');
  });
});

test('capabilityV2: a v3 (namespaced) capability becomes v2 with its effective bit; v2 passes through', () => {
  const v3 = Buffer.alloc(24);
  v3.writeUInt32LE(0x03000001, 0);
  v3.writeUInt32LE(1 << 13, 4); // permitted: cap_net_raw
  v3.writeUInt32LE(1000, 20); // rootid
  const v2 = capabilityV2(v3);
  assert.equal(v2.length, 20);
  assert.equal(v2.readUInt32LE(0), 0x02000001);
  assert.equal(v2.readUInt32LE(4), 1 << 13);
  assert.equal(capabilityV2(v2), v2);
  const noEffective = Buffer.from(v3);
  noEffective.writeUInt32LE(0x03000000, 0);
  assert.equal(capabilityV2(noEffective).readUInt32LE(0), 0x02000000);
});

test('tar headers: PAX only where ustar cannot carry a value, and GNU tar reads them', (t) => {
  const dir = tmp(t);
  const plain = encodeHeader({ name: Buffer.from('a/b'), type: 'file', mode: 0o644, uid: 1, gid: 2, size: 0, mtime: 5 });
  assert.equal(plain.length, 512, 'no extended header for a plain entry');
  assert.equal(plain.subarray(257, 265).toString('latin1'), 'ustar\x0000');
  assert.equal(
    plain.subarray(265, 329).every((c) => c === 0),
    true,
    'no uname or gname',
  );
  const split = encodeHeader({
    name: Buffer.from(`${'p'.repeat(120)}/${'n'.repeat(90)}`),
    type: 'file',
    mode: 0,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
  });
  assert.equal(split.length, 512, 'a long ASCII name that splits fits ustar (prefix + name)');
  const big = encodeHeader({
    name: Buffer.from('big'),
    type: 'file',
    mode: 0o4755,
    uid: 4_000_000_000,
    gid: 3_000_000,
    size: 0,
    mtime: -86_400,
    xattrs: [['security.capability', Buffer.from([1, 0, 0, 2, 0xff])]],
  });
  assert.equal(big.length, 512 * 3);
  const records = big.subarray(512, 1024).toString('latin1');
  // records sorted by key, bytewise; the length prefix counts the whole record in bytes
  assert.ok(
    records.startsWith('42 SCHILY.xattr.security.capability=\x01\x00\x00\x02\xff\n15 gid=3000000\n16 mtime=-86400\n18 uid=4000000000\n'),
  );
  writeFileSync(path.join(dir, 'h.tar'), Buffer.concat([big, Buffer.alloc(1024)]));
  const listing = execFileSync('tar', ['-tvf', path.join(dir, 'h.tar'), '--numeric-owner', '--full-time'], { encoding: 'utf8' });
  assert.match(listing, /^-rwsr-xr-x 4000000000\/3000000 +0 1969-12-31 00:00:00 big$/m);
  assert.throws(
    () => encodeHeader({ name: Buffer.from('neg'), type: 'file', mode: 0, uid: -1, gid: 0, size: 0, mtime: 0 }),
    /entry 'neg': uid -1 is negative/,
  );
  assert.throws(
    () =>
      encodeHeader({ name: Buffer.from('dev'), type: 'char', mode: 0, uid: 0, gid: 0, size: 0, mtime: 0, devmajor: 1 << 22, devminor: 0 }),
    /does not fit/,
  );
});

test('flat diff: a dir replaced by a file and a file by a dir', async (t) => {
  const { upper, lower } = flat(t, { 'was-dir/f': 'f', 'was-file': 'x' });
  rmSync(path.join(upper, 'was-dir'), { recursive: true });
  writeFileSync(path.join(upper, 'was-dir'), 'now a file');
  rmSync(path.join(upper, 'was-file'));
  mkdirSync(path.join(upper, 'was-file'));
  writeFileSync(path.join(upper, 'was-file/child'), 'c');
  // the applier replaces what is there by type: no whiteouts are needed
  assert.deepEqual(summary(await listTar(await diff(upper, lower))), [
    `was-dir file 0644 ${uid}:${gid}`,
    `was-file/ directory 0755 ${uid}:${gid}`,
    `was-file/child file 0644 ${uid}:${gid}`,
  ]);
});

test('a file named .wh.* cannot be carried: it would delete its namesake below', async (t) => {
  const { upper, lower } = flat(t, { etc: null });
  writeFileSync(path.join(upper, 'etc/.wh.passwd'), 'x');
  await assert.rejects(
    readAll(diffLayer(upper, { lowers: [lower], mode: 'flat' })),
    (err: Error) =>
      isKind(err, 'invalid-argument') && /entry 'etc\/.wh.passwd': a name starting with '.wh.' would read as a whiteout/.test(err.message),
  );
});
