/**
 * `docker cp` and `docker export` over a container root (src/engine/archive/), on temp dirs:
 * every hostile input (tar entries `../x`, `/abs`, a link then a name through it, hardlinks
 * out, links in the root to `/` and to the host, a deep link chain, a `../../etc` path) must
 * leave a sentinel directory next to the root untouched and unread; Docker's path rules, modes,
 * ownership, and the errors the CLI shows. Root: devices, chown, read-only mounts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { isKind } from '../src/common/errors.js';
import { archivePath, exportRootfs, extractArchive, statPath } from '../src/engine/archive/index.js';
import { MountFlags, mknod, mount, umount2 } from '../src/native/addon.js';
import { type Entry, listTar, packTar, readAll, summary } from './helpers/tar.js';

const skip = process.getuid?.() !== 0 ? 'needs root (chown, mknod, mounts)' : undefined;

let base: string;
let root: string;
let sentinel: string;

/** Everything under a directory: name, type, size, mode, owner, content hash. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = lstatSync(p);
      let extra = '';
      if (st.isFile()) extra = createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16);
      else if (st.isSymbolicLink()) extra = readlinkSync(p);
      out.push(`${rel}${n} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.nlink} ${st.size} ${extra}`);
      if (st.isDirectory()) walk(p, `${rel}${n}/`);
    }
  };
  walk(dir, '');
  return out;
}

const SECRET = 'host secret: never in a tar';

before(() => {
  if (skip) return;
  base = mkdtempSync(join(tmpdir(), 'berth-cp-'));
  root = join(base, 'root');
  sentinel = join(base, 'sentinel');
  mkdirSync(sentinel);
  writeFileSync(join(sentinel, 'secret'), SECRET);
  mkdirSync(join(sentinel, 'dir'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:container:/root:/bin/sh\n');
  mkdirSync(join(root, 'dst'));
  mkdirSync(join(root, 'data', 'sub'), { recursive: true });
  writeFileSync(join(root, 'data', 'f'), 'file f');
  writeFileSync(join(root, 'data', 'sub', 'g'), 'file g');
  // links a naive host-side resolution would follow out of the root
  symlinkSync('/', join(root, 'toroot'));
  symlinkSync(sentinel, join(root, 'tohost'));
  symlinkSync('../sentinel', join(root, 'up'));
  symlinkSync('../../../../../../../..', join(root, 'updots'));
  symlinkSync('/etc', join(root, 'etclink'));
  symlinkSync('nowhere/at/all', join(root, 'dangling'));
  // a chain of 45 links (more than the kernel's 40) and one of 10 ending outside
  for (let i = 0; i < 45; i++) symlinkSync(i === 44 ? '/' : `c${i + 1}`, join(root, `c${i}`));
  for (let i = 0; i < 10; i++) symlinkSync(i === 9 ? `${sentinel}/..` : `s${i + 1}`, join(root, `s${i}`));
});

after(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

const sentinelBefore = () => snapshot(sentinel);
async function tarOf(p: string): Promise<Buffer> {
  return readAll(archivePath(root, p, 'c1').stream);
}
async function names(p: string): Promise<string[]> {
  return (await listTar(await tarOf(p))).map((e) => `${e.name} ${e.type}`);
}
async function put(dest: string, entries: Entry[] | Buffer, opts = { noOverwriteDirNonDir: true }): Promise<void> {
  const tar = Buffer.isBuffer(entries) ? entries : await packTar(entries);
  await extractArchive(root, dest, Readable.from([tar]), opts, 'c1');
}

describe('stat and archive: Docker path rules', { skip }, () => {
  test('stat: name, size, Go mode, RFC3339 mtime, linkTarget evaluated in the root', () => {
    const s = statPath(root, '/etc/passwd', 'c1');
    assert.equal(s.name, 'passwd');
    assert.equal(s.size, statSync(join(root, 'etc/passwd')).size);
    assert.equal(s.mode, 0o644);
    assert.match(s.mtime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
    assert.equal(s.linkTarget, '');
    assert.deepEqual(statPath(root, '/etclink', 'c1'), {
      ...statPath(root, '/etclink', 'c1'),
      name: 'etclink',
      mode: 2 ** 27 + 0o777,
      linkTarget: '/etc',
    });
    assert.equal(statPath(root, '/etclink/', 'c1').mode, 2 ** 31 + 0o755, 'a trailing / follows the link');
    assert.equal(statPath(root, '/toroot', 'c1').linkTarget, '/');
    assert.equal(statPath(root, '/tohost', 'c1').linkTarget, sentinel, 'a host path, but as a path in the container');
    assert.equal(statPath(root, '/up', 'c1').linkTarget, '/sentinel', 'clamped at the root');
    assert.equal(statPath(root, '/dangling', 'c1').linkTarget, '/nowhere/at/all');
    assert.equal(statPath(root, '/', 'c1').name, '/');
    assert.equal(statPath(root, '/data/.', 'c1').name, '.');
  });

  test('404 in Docker words, also for paths that exist only outside the root', () => {
    for (const p of ['/nonexist', '/up/secret', '/tohost/secret', '/updots/sentinel/secret', '/s0/secret', '/c0/', '/etc/passwd/']) {
      assert.throws(
        () => statPath(root, p, 'c1'),
        (e: Error) => isKind(e, 'not-found') && e.message === `Could not find the file ${p} in container c1`,
        p,
      );
      assert.throws(
        () => archivePath(root, p, 'c1'),
        (e: Error) => isKind(e, 'not-found'),
        p,
      );
    }
  });

  test('the root entry is the basename; /. gives the contents; a last link is archived, not followed', async () => {
    assert.deepEqual(await names('/data'), ['data/ directory', 'data/f file', 'data/sub/ directory', 'data/sub/g file']);
    assert.deepEqual(await names('/data/'), ['data/ directory', 'data/f file', 'data/sub/ directory', 'data/sub/g file']);
    assert.deepEqual(await names('/data/.'), ['./ directory', './f file', './sub/ directory', './sub/g file']);
    assert.deepEqual(await names('/data/sub/g'), ['g file']);
    assert.deepEqual(await names('/etclink'), ['etclink symlink']);
    assert.deepEqual(await names('/etclink/'), ['etclink/ directory', 'etclink/passwd file']);
    assert.deepEqual(await names('/etclink/passwd'), ['passwd file']);
    const all = await names('/');
    assert.equal(all[0], '/ directory');
    assert.ok(all.includes('/etc/passwd file') && all.includes('/toroot symlink'), all.join(','));
  });

  test('hostile paths stay in the root and read nothing outside', async () => {
    const before = sentinelBefore();
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    for (const p of [
      '../../etc/passwd',
      '/toroot/etc/passwd',
      '/updots/etc/passwd',
      '/c40/etc/passwd',
      '/toroot/toroot/toroot/etc/passwd',
    ]) {
      const [e] = await listTar(await tarOf(p));
      assert.equal(e?.content, passwd, p);
    }
    for (const p of ['/toroot/', '/updots/', '/', '/up/..', '../../']) {
      const tar = await tarOf(p);
      assert.ok(!tar.includes(SECRET), `${p}: the host's secret is not in the tar`);
      const n = (await listTar(tar)).length;
      assert.ok(n > 40 && n < 200, `${p}: ${n} entries: the root, not the host`);
    }
    assert.deepEqual(sentinelBefore(), before);
  });

  test('modes, owners, devices, fifos, hardlinks and capabilities survive the tar', async () => {
    const d = join(root, 'modes');
    mkdirSync(d);
    writeFileSync(join(d, 'suid'), 'x');
    chownSync(join(d, 'suid'), 1000, 1001);
    chmodSync(join(d, 'suid'), 0o4755);
    mknod(join(d, 'null'), 0o20666, 1, 3);
    chmodSync(join(d, 'null'), 0o666);
    mknod(join(d, 'fifo'), 0o10640);
    writeFileSync(join(d, 'h1'), 'linked');
    const { linkSync } = await import('node:fs');
    linkSync(join(d, 'h1'), join(d, 'h2'));
    const { lsetxattr } = await import('../src/native/addon.js');
    // a valid v2 file capability: cap_net_raw (13) permitted+effective
    const cap = Buffer.from([0x01, 0, 0, 0x02, 0x00, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    lsetxattr(join(d, 'h1'), 'security.capability', cap);
    const entries = await listTar(await tarOf('/modes'));
    assert.deepEqual(summary(entries).sort(), [
      'modes/ directory 0755 0:0',
      'modes/fifo fifo 0640 0:0',
      'modes/h1 file 0644 0:0',
      'modes/h2 link 0644 0:0 -> modes/h1',
      'modes/null character-device 0666 0:0 1:3',
      'modes/suid file 4755 1000:1001',
    ]);
    const h1 = entries.find((e) => e.name === 'modes/h1');
    assert.ok(h1?.pax?.['SCHILY.xattr.security.capability'] !== undefined, 'the capability is kept');
    assert.equal(statPath(root, '/modes/null', 'c1').mode, 2 ** 26 + 2 ** 21 + 0o666);
    assert.equal(statPath(root, '/modes/fifo', 'c1').mode, 2 ** 25 + 0o640);
    // and back in: the copy has the same modes, devices and capability
    await put('/dst', await tarOf('/modes'), { noOverwriteDirNonDir: true, copyUIDGID: true } as never);
    assert.deepEqual(
      snapshot(join(root, 'dst/modes')).map((l) => l.replace(/ \d+ \d+ /, ' ')),
      snapshot(join(root, 'modes')).map((l) => l.replace(/ \d+ \d+ /, ' ')),
    );
    const { lgetxattr } = await import('../src/native/addon.js');
    assert.deepEqual(lgetxattr(join(root, 'dst/modes/h1'), 'security.capability'), cap);
    rmSync(join(root, 'dst/modes'), { recursive: true });
  });
});

describe('extract: hostile tars', { skip }, () => {
  test('../x and /abs entries never leave the destination', async () => {
    const before = sentinelBefore();
    const host = snapshot(base);
    await assert.rejects(put('/dst', [{ name: '../../sentinel/x', data: 'pwned' }]), /escapes/);
    await assert.rejects(put('/dst', [{ name: 'a/../../x', data: 'pwned' }]), /escapes/);
    await put('/dst', [{ name: `${sentinel}/abs`, data: 'contained' }]);
    assert.equal(readFileSync(join(root, 'dst', sentinel, 'abs'), 'utf8'), 'contained');
    assert.equal(existsSync(join(sentinel, 'abs')), false);
    rmSync(join(root, 'dst', base.split('/')[1] as string), { recursive: true });
    assert.deepEqual(snapshot(base), host);
    assert.deepEqual(sentinelBefore(), before);
  });

  test('a link in the tar, then a name through it, stays inside', async () => {
    const before = sentinelBefore();
    const hostPasswd = readFileSync('/etc/passwd');
    await put('/dst', [
      { name: 'a', type: 'symlink', linkname: '/etc' },
      { name: 'a/passwd', data: 'pwned' },
      { name: 'b', type: 'symlink', linkname: sentinel },
      { name: 'b/secret', data: 'pwned' },
      { name: 'c', type: 'symlink', linkname: '../../../../sentinel/dir' },
      { name: 'c/new', data: 'pwned' },
    ]);
    assert.deepEqual(readFileSync('/etc/passwd'), hostPasswd);
    assert.deepEqual(sentinelBefore(), before);
    assert.equal(readFileSync(join(root, 'dst/etc/passwd'), 'utf8'), 'pwned', 'the link resolves with the destination as root');
    rmSync(join(root, 'dst'), { recursive: true });
    mkdirSync(join(root, 'dst'));
  });

  test('hardlinks to ../../etc/passwd or the host are clamped or refused', async () => {
    const before = sentinelBefore();
    for (const linkname of ['../../etc/passwd', `${sentinel}/secret`, '../../../sentinel/secret', '../../../../../../etc/shadow']) {
      await put('/dst', [{ name: 'h', type: 'link', linkname }]).catch((e: Error) => assert.match(e.message, /hardlink/));
    }
    assert.deepEqual(sentinelBefore(), before);
    assert.equal(statSync('/etc/passwd').nlink, 1);
    assert.equal(statSync(join(root, 'etc/passwd')).nlink, 1, 'not even the container file outside the destination');
  });

  test('links already in the container, and a hostile destination path, stay inside', async () => {
    const before = sentinelBefore();
    symlinkSync(sentinel, join(root, 'dst', 'out'));
    await put('/dst', [{ name: 'out/x', data: 'in' }]);
    await put('/tohost', [{ name: 'y', data: 'in' }]).catch((e: Error) => assert.ok(isKind(e, 'not-found'), e.message));
    await put('/toroot', [{ name: 'z1', data: 'in' }]);
    await put('../../../', [{ name: 'z2', data: 'in' }]);
    await put('/c40', [{ name: 'z3', data: 'in' }]);
    assert.deepEqual(sentinelBefore(), before);
    for (const z of ['z1', 'z2', 'z3']) assert.equal(readFileSync(join(root, z), 'utf8'), 'in');
    assert.equal(existsSync(join(base, 'z2')), false);
    for (const z of ['z1', 'z2', 'z3']) rmSync(join(root, z));
    rmSync(join(root, 'dst'), { recursive: true });
    mkdirSync(join(root, 'dst'));
  });

  test('whiteout names are plain files, never deletions', async () => {
    writeFileSync(join(root, 'dst', 'keep'), 'kept');
    await put('/dst', [
      { name: '.wh.keep', data: 'a file' },
      { name: '.wh..wh..opq', data: 'another' },
    ]);
    assert.equal(readFileSync(join(root, 'dst/keep'), 'utf8'), 'kept');
    assert.equal(readFileSync(join(root, 'dst/.wh.keep'), 'utf8'), 'a file');
    assert.equal(readFileSync(join(root, 'dst/.wh..wh..opq'), 'utf8'), 'another');
    rmSync(join(root, 'dst'), { recursive: true });
    mkdirSync(join(root, 'dst'));
  });
});

describe('extract: Docker semantics', { skip }, () => {
  test('the destination must exist and be a directory', async () => {
    await assert.rejects(
      put('/nope', [{ name: 'x', data: '' }]),
      (e: Error) => isKind(e, 'not-found') && e.message === 'Could not find the file /nope in container c1',
    );
    await assert.rejects(
      put('/etc/passwd', [{ name: 'x', data: '' }]),
      (e: Error) => isKind(e, 'invalid-argument') && e.message === 'extraction point is not a directory',
    );
    await put('/etclink', [{ name: 'viaLink', data: 'ok' }]);
    assert.equal(readFileSync(join(root, 'etc/viaLink'), 'utf8'), 'ok', 'a link as the destination is followed (in the root)');
    rmSync(join(root, 'etc/viaLink'));
  });

  test('noOverwriteDirNonDir refuses in Docker words; without it, replaces', async () => {
    mkdirSync(join(root, 'dst/d'));
    writeFileSync(join(root, 'dst/f'), 'file');
    await assert.rejects(put('/dst', [{ name: 'd', data: 'x' }]), {
      message: 'cannot overwrite directory "/dst/d" with non-directory "/dst"',
    });
    await assert.rejects(put('/dst/', [{ name: 'f', type: 'directory' }]), {
      message: 'cannot overwrite non-directory "/dst/f" with directory "/dst/"',
    });
    await put(
      '/dst',
      [
        { name: 'd', data: 'x' },
        { name: 'f', type: 'directory' },
      ],
      { noOverwriteDirNonDir: false },
    );
    assert.ok(statSync(join(root, 'dst/d')).isFile() && statSync(join(root, 'dst/f')).isDirectory());
    rmSync(join(root, 'dst'), { recursive: true });
    mkdirSync(join(root, 'dst'));
  });

  test('owned by root unless copyUIDGID', async () => {
    const entries: Entry[] = [
      { name: 'o', type: 'directory', uid: 1234, gid: 4321 },
      { name: 'o/f', data: 'x', uid: 1234, gid: 4321, mode: 0o640 },
    ];
    await put('/dst', entries);
    assert.deepEqual(
      [statSync(join(root, 'dst/o/f')).uid, statSync(join(root, 'dst/o/f')).gid, statSync(join(root, 'dst/o')).uid],
      [0, 0, 0],
    );
    assert.equal(statSync(join(root, 'dst/o/f')).mode & 0o7777, 0o640);
    await extractArchive(root, '/dst', Readable.from([await packTar(entries)]), { copyUIDGID: true }, 'c1');
    assert.deepEqual([statSync(join(root, 'dst/o/f')).uid, statSync(join(root, 'dst/o/f')).gid], [1234, 4321]);
    rmSync(join(root, 'dst'), { recursive: true });
    mkdirSync(join(root, 'dst'));
  });

  test('read-only rootfs and read-only volume: a clear error, nothing written', async () => {
    // the root as a read-only mount (a --read-only container), with a read-only tmpfs volume and
    // a read-only bind volume of the same filesystem in it
    const rw = join(base, 'rw');
    const roRoot = join(base, 'roRoot');
    mkdirSync(join(rw, 'vol'), { recursive: true });
    mkdirSync(join(rw, 'bind'), { recursive: true });
    mkdirSync(join(rw, 'dir'), { recursive: true });
    mkdirSync(roRoot);
    mkdirSync(join(base, 'bindsrc'));
    mount(rw, roRoot, null, MountFlags.BIND);
    try {
      mount(null, roRoot, null, MountFlags.BIND | MountFlags.REMOUNT | MountFlags.RDONLY);
      mount(null, join(roRoot, 'vol'), 'tmpfs', MountFlags.RDONLY, 'size=64k');
      mount(join(base, 'bindsrc'), join(roRoot, 'bind'), null, MountFlags.BIND);
      mount(null, join(roRoot, 'bind'), null, MountFlags.BIND | MountFlags.REMOUNT | MountFlags.RDONLY);
      const putRo = async (dest: string) =>
        extractArchive(roRoot, dest, Readable.from([await packTar([{ name: 'x', data: 'x' }])]), {}, 'c1');
      await assert.rejects(putRo('/dir'), { message: 'container rootfs is marked read-only' });
      await assert.rejects(putRo('/'), { message: 'container rootfs is marked read-only' });
      await assert.rejects(putRo('/vol'), { message: 'mounted volume is marked read-only' });
      await assert.rejects(putRo('/bind'), { message: 'mounted volume is marked read-only' });
    } finally {
      for (const m of ['bind', 'vol', '']) {
        try {
          umount2(join(roRoot, m), 2);
        } catch {}
      }
    }
    assert.deepEqual(readdirSync(join(rw, 'dir')), []);
    assert.deepEqual(readdirSync(join(base, 'bindsrc')), []);
  });

  test('a gzip upload is unpacked (moby DecompressStream); a broken one fails', async () => {
    const { gzipSync } = await import('node:zlib');
    const gz = gzipSync(await packTar([{ name: 'zipped', data: 'was gzip' }]));
    await put('/dst', gz);
    assert.equal(readFileSync(join(root, 'dst/zipped'), 'utf8'), 'was gzip');
    await assert.rejects(put('/dst', gz.subarray(0, gz.length - 12)), (e: Error) => isKind(e, 'invalid-argument'));
    await put('/dst', Buffer.alloc(0)).catch(() => {});
    // a broken upload may have replaced the file before it failed
    rmSync(join(root, 'dst/zipped'), { force: true });
  });

  test('a truncated or garbage upload fails and the request body is drained', async () => {
    const tar = await packTar([{ name: 'big', data: Buffer.alloc(100_000, 1) }]);
    await assert.rejects(put('/dst', tar.subarray(0, 5000)), /end of the entry|unexpected/);
    await assert.rejects(put('/dst', Buffer.alloc(4096, 0x41)), (e: Error) => isKind(e, 'invalid-argument'));
  });
});

describe("berth-unpack's cp form", { skip }, () => {
  test('flag combinations it refuses (usage, exit 2), and a root fd that is not a directory', async () => {
    const { spawnSync } = await import('node:child_process');
    const { openSync, closeSync } = await import('node:fs');
    const { unpackPath } = await import('../src/archive/apply.js');
    const run = (args: string[], fd?: number) =>
      spawnSync(unpackPath(), args, { input: Buffer.alloc(1024), stdio: ['pipe', 'pipe', 'pipe', ...(fd === undefined ? [] : [fd])] });
    assert.equal(run(['--root-fd', '3', '--mode', 'overlay', '--no-whiteouts']).status, 2, 'no whiteouts only flat');
    assert.equal(run(['--root', root, '--root-fd', '3', '--mode', 'flat']).status, 2, 'one root');
    assert.equal(run(['--root-fd', '3', '--mode', 'flat', '--owner', '0']).status, 2, 'owner is UID:GID');
    assert.equal(run(['--root-fd', '3', '--mode', 'flat', '--owner', '0:0x']).status, 2, 'owner is numeric');
    const file = openSync(join(root, 'etc/passwd'), 'r');
    try {
      const r = run(['--root-fd', '3', '--mode', 'flat', '--no-whiteouts'], file);
      assert.equal(r.status, 1);
      assert.match(r.stderr.toString(), /^error ENOTDIR - root fd 3: not a directory/m);
    } finally {
      closeSync(file);
    }
  });
});

describe('export', { skip }, () => {
  test('the whole root, relative names, no root entry, links not followed, no other mounts', async () => {
    const vol = join(root, 'vol2');
    mkdirSync(vol);
    mount(null, vol, 'tmpfs', 0, 'size=64k');
    writeFileSync(join(vol, 'in-volume'), 'x');
    try {
      const tar = await readAll(exportRootfs(root));
      const list = await listTar(tar);
      const names = list.map((e) => e.name);
      assert.equal(names[0], 'c0');
      assert.ok(names.includes('etc/') && names.includes('etc/passwd') && names.includes('vol2/'));
      assert.ok(!names.includes('vol2/in-volume'), 'a mount is not the rootfs');
      assert.equal(list.find((e) => e.name === 'toroot')?.linkname, '/');
      assert.ok(!tar.includes(SECRET));
    } finally {
      umount2(vol, 2);
    }
  });

  test('a client that stops reading ends the walk and closes every fd', async () => {
    const fds = readdirSync('/proc/self/fd').length;
    const s = exportRootfs(root);
    await new Promise((r) => s.once('data', r));
    s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(readdirSync('/proc/self/fd').length <= fds);
  });
});
