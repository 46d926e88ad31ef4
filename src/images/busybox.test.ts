import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { extract } from 'tar-stream';
import { busyboxBinary, busyboxEntries, busyboxRootfs, rootfsTar, writeRootfs } from './busybox.js';

const ELF = Buffer.from('\x7fELF fake busybox', 'latin1');
const APPLETS = ['usr/bin/[', 'bin/sh', 'sbin/ifconfig', 'linuxrc', 'usr/bin/env', 'bin/busybox', '../etc/x', 'bin/a/b', 'bin/..'];

async function listTar(
  tar: Buffer,
): Promise<{ name: string; type: string; mode: number; uid: number; mtime: number; linkname: string | null }[]> {
  const out: { name: string; type: string; mode: number; uid: number; mtime: number; linkname: string | null }[] = [];
  const x = extract();
  x.on('entry', (h, stream, next) => {
    out.push({
      name: h.name,
      type: h.type ?? '',
      mode: h.mode ?? 0,
      uid: h.uid ?? -1,
      mtime: h.mtime?.getTime() ?? -1,
      linkname: h.linkname ?? null,
    });
    stream.on('end', next);
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    x.on('finish', () => resolve());
    x.on('error', reject);
  });
  x.end(tar);
  await done;
  return out;
}

describe('busybox tree', () => {
  it('links each applet at its own path and in /bin, skipping what would escape or clash', () => {
    const e = busyboxEntries(ELF, APPLETS);
    const byPath = new Map(e.map((x) => [x.path, x]));
    assert.deepEqual(byPath.get('bin/busybox'), { type: 'file', path: 'bin/busybox', mode: 0o755, data: ELF });
    for (const p of ['usr/bin/[', 'bin/[', 'bin/sh', 'sbin/ifconfig', 'bin/ifconfig', 'usr/bin/env', 'bin/env']) {
      assert.deepEqual(byPath.get(p), { type: 'symlink', path: p, target: '/bin/busybox' }, p);
    }
    for (const p of ['linuxrc', '../etc/x', 'etc/x', 'bin/a/b', 'bin/..', 'bin/b']) assert.equal(byPath.has(p), false, p);
    assert.deepEqual(byPath.get('tmp'), { type: 'directory', path: 'tmp', mode: 0o1777 });
    assert.deepEqual(byPath.get('root'), { type: 'directory', path: 'root', mode: 0o700 });
    const passwd = byPath.get('etc/passwd');
    assert.ok(passwd?.type === 'file');
    assert.match(passwd.data.toString(), /^root:x:0:0:root:\/root:\/bin\/sh$/m);
    assert.match(passwd.data.toString(), /^nobody:x:65534:65534:nobody:\/home:\/bin\/false$/m);
    assert.match(passwd.data.toString(), /^daemon:x:1:1:/m);
    const group = byPath.get('etc/group');
    assert.ok(group?.type === 'file' && /^nogroup:x:65534:$/m.test(group.data.toString()));
    // parents before children, byte order
    const paths = e.map((x) => x.path);
    assert.deepEqual(
      paths,
      [...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
  });

  it('the tar is the same bytes for the same tree and time, root-owned, with fixed mtimes', async () => {
    const e = busyboxEntries(ELF, APPLETS);
    const t = new Date('2026-05-07T00:00:00Z');
    const a = await rootfsTar(e, t);
    const b = await rootfsTar(busyboxEntries(ELF, [...APPLETS].reverse()), t);
    assert.equal(createHash('sha256').update(a).digest('hex'), createHash('sha256').update(b).digest('hex'));
    const c = await rootfsTar(e, new Date('2026-05-08T00:00:00Z'));
    assert.notDeepEqual(a, c, 'another time, another layer');
    const list = await listTar(a);
    assert.ok(list.every((x) => x.uid === 0 && x.mtime === t.getTime()));
    assert.deepEqual(
      list.find((x) => x.name === 'tmp/'),
      { name: 'tmp/', type: 'directory', mode: 0o1777, uid: 0, mtime: t.getTime(), linkname: null },
    );
    assert.equal(list.find((x) => x.name === 'bin/sh')?.linkname, '/bin/busybox');
  });

  it("this machine's busybox: /bin/sh and the applets, written to a directory with modes and times", (t) => {
    if (!existsSync(busyboxBinary())) {
      t.skip(`no busybox at ${busyboxBinary()} (apt-get install busybox-static)`);
      return;
    }
    const { entries, mtime } = busyboxRootfs();
    assert.ok(entries.length > 100, 'busybox --list-full gave the applets');
    assert.equal(mtime.getMilliseconds(), 0);
    const dir = mkdtempSync(join(tmpdir(), 'berth-busybox-'));
    try {
      writeRootfs(entries, dir, mtime);
      assert.equal(readlinkSync(join(dir, 'bin/sh')), '/bin/busybox');
      assert.deepEqual(readFileSync(join(dir, 'bin/busybox')), readFileSync(busyboxBinary()));
      assert.equal(lstatSync(join(dir, 'tmp')).mode & 0o7777, 0o1777);
      assert.equal(lstatSync(join(dir, 'bin/busybox')).mode & 0o7777, 0o755);
      assert.equal(lstatSync(join(dir, 'bin')).mtimeMs, mtime.getTime());
      assert.equal(lstatSync(join(dir, 'bin/sh')).mtimeMs, mtime.getTime());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a busybox that is not an executable', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-busybox-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    assert.throws(() => busyboxRootfs(join(dir, 'none')), /^BerthError: read busybox '.*none': no such file or directory$/);
    assert.throws(() => busyboxRootfs('/etc/hostname'), /not an ELF executable/);
  });
});
