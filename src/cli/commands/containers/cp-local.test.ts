/** docker cp's local rules (moby archive/copy.go) and an extraction that an archive cannot steer outside its directory. */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import tar from 'tar-stream';
import {
  copyInfoDestinationPath,
  copyInfoSourcePath,
  extractArchive,
  getRebaseName,
  prepareArchiveCopy,
  rebaseName,
  resolveLocalPath,
  safeRelative,
  splitCpArg,
  splitPathDirEntry,
  tarResource,
} from './cp-local.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-cp-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string; mode?: number };

function archive(entries: Entry[]): Readable {
  const p = tar.pack();
  for (const e of entries) {
    if (e.body !== undefined) p.entry({ name: e.name, type: 'file', mode: e.mode ?? 0o644 }, e.body);
    else p.entry({ name: e.name, type: e.type ?? 'directory', linkname: e.linkname, mode: e.mode ?? 0o755 });
  }
  p.finalize();
  return p as unknown as Readable;
}

async function names(r: Readable): Promise<string[]> {
  const ex = tar.extract();
  const out: string[] = [];
  const done = (async () => {
    for await (const e of ex) {
      out.push(e.header.type === 'link' ? `${e.header.name}=>${e.header.linkname}` : e.header.name);
      e.resume();
    }
  })();
  r.pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

describe('cp paths (moby archive rules)', () => {
  it('splits CONTAINER:PATH unless the argument is explicitly local', () => {
    assert.deepEqual(splitCpArg('c1:/etc/passwd'), { container: 'c1', path: '/etc/passwd' });
    assert.deepEqual(splitCpArg('/a:b'), { container: '', path: '/a:b' });
    assert.deepEqual(splitCpArg('./a:b'), { container: '', path: './a:b' });
    assert.deepEqual(splitCpArg('file'), { container: '', path: 'file' });
  });
  it('keeps a trailing / or /. and splits the last element', () => {
    assert.equal(resolveLocalPath('x/', '/tmp'), '/tmp/x/');
    assert.equal(resolveLocalPath('x/.', '/tmp'), '/tmp/x/.');
    assert.equal(resolveLocalPath('./x//y', '/tmp'), '/tmp/x/y');
    assert.deepEqual(splitPathDirEntry('/a/b/'), ['/a', 'b']);
    assert.deepEqual(splitPathDirEntry('/a/b/.'), ['/a/b', '.']);
    assert.deepEqual(getRebaseName('/a/link/', '/a/target'), ['/a/target/', 'link']);
  });
  it('decides the extraction directory and the renaming as PrepareArchiveCopy', () => {
    const file = { path: '/src/f', exists: true, isDir: false, rebaseName: '' };
    const d = { path: '/src/d', exists: true, isDir: true, rebaseName: '' };
    assert.deepEqual(prepareArchiveCopy(file, { path: '/dst', exists: true, isDir: true, rebaseName: '' }), { dstDir: '/dst' });
    assert.deepEqual(prepareArchiveCopy(file, { path: '/dst/g', exists: false, isDir: false, rebaseName: '' }), {
      dstDir: '/dst',
      rebase: { from: 'f', to: 'g' },
    });
    assert.throws(() => prepareArchiveCopy(d, { path: '/dst/g', exists: true, isDir: false, rebaseName: '' }), {
      message: 'cannot copy directory',
    });
    assert.throws(() => prepareArchiveCopy(file, { path: '/dst/new/', exists: false, isDir: false, rebaseName: '' }), {
      message: 'no such directory',
    });
    assert.equal(rebaseName('d/a/d', { from: 'd', to: 'e' }), 'e/a/d');
    assert.equal(rebaseName('./a', { from: '.', to: 'e' }), 'e/a');
  });
  it('local source and destination information, with Go texts for errors', async () => {
    writeFileSync(join(dir, 'f'), 'x');
    symlinkSync('f', join(dir, 'lnk'));
    assert.deepEqual(await copyInfoSourcePath(join(dir, 'f'), false), { path: join(dir, 'f'), exists: true, isDir: false, rebaseName: '' });
    await assert.rejects(copyInfoSourcePath('/nonexist', false), { message: 'lstat //nonexist: no such file or directory' });
    assert.equal((await copyInfoDestinationPath(join(dir, 'lnk'))).path, join(dir, 'f'));
    assert.deepEqual(await copyInfoDestinationPath(join(dir, 'new')), {
      path: join(dir, 'new'),
      exists: false,
      isDir: false,
      rebaseName: '',
    });
    await assert.rejects(copyInfoDestinationPath(join(dir, 'f', 'x')), { message: /^lstat .*\/f\/x: not a directory$/ });
  });
});

describe('cp archives', () => {
  it("a local tree's tar: names from the base, `./` for dir/., hard links kept", async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'a'), 'a');
    writeFileSync(join(src, 'sub', 'b'), 'b');
    const { linkSync } = await import('node:fs');
    linkSync(join(src, 'a'), join(src, 'hl'));
    const info = await copyInfoSourcePath(src, false);
    assert.deepEqual(await names(tarResource(info)), ['tree/', 'tree/a', 'tree/hl=>tree/a', 'tree/sub/', 'tree/sub/b']);
    const dot = await copyInfoSourcePath(`${src}/.`, false);
    assert.deepEqual(await names(tarResource(dot, [{ from: '.', to: 'new' }])), [
      'new/',
      'new/a',
      'new/hl=>new/a',
      'new/sub/',
      'new/sub/b',
    ]);
  });
  it('extracts with renaming, modes and links', async () => {
    const dst = join(dir, 'x1');
    mkdirSync(dst);
    await extractArchive(
      archive([
        { name: 'etc/' },
        { name: 'etc/passwd', body: 'root:x:0:0\n', mode: 0o600 },
        { name: 'etc/l', type: 'symlink', linkname: 'passwd' },
        { name: 'etc/h', type: 'link', linkname: 'etc/passwd' },
      ]),
      dst,
      [{ from: 'etc', to: 'conf' }],
    );
    assert.equal(readFileSync(join(dst, 'conf', 'passwd'), 'utf8'), 'root:x:0:0\n');
    assert.equal(lstatSync(join(dst, 'conf', 'passwd')).mode & 0o777, 0o600);
    assert.equal(readlinkSync(join(dst, 'conf', 'l')), 'passwd');
    assert.equal(lstatSync(join(dst, 'conf', 'h')).ino, lstatSync(join(dst, 'conf', 'passwd')).ino);
  });
  it('refuses entries that would leave the destination', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const cases: Entry[][] = [
      [{ name: '../escape', body: 'x' }],
      [{ name: 'a/../../escape', body: 'x' }],
      [
        { name: 'l', type: 'symlink', linkname: outside },
        { name: 'l/escape', body: 'x' },
      ],
      [{ name: 'h', type: 'link', linkname: '../../etc/passwd' }],
      [
        { name: 'l2', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'h2', type: 'link', linkname: 'l2' },
      ],
    ];
    for (const [i, entries] of cases.entries()) {
      const dst = join(dir, `hostile${i}`);
      mkdirSync(dst);
      await assert.rejects(extractArchive(archive(entries), dst, []), `case ${i} must fail`);
      assert.equal(existsSync(join(outside, 'escape')), false);
      assert.equal(existsSync(join(dir, 'escape')), false);
    }
    assert.equal(safeRelative('/abs/x'), 'abs/x');
  });
  it('never replaces a directory by a file, or the reverse', async () => {
    const dst = join(dir, 'x2');
    mkdirSync(join(dst, 'd'), { recursive: true });
    writeFileSync(join(dst, 'f'), '');
    await assert.rejects(extractArchive(archive([{ name: 'd', body: 'x' }]), dst, []), /cannot overwrite directory/);
    await assert.rejects(extractArchive(archive([{ name: 'f/' }]), dst, []), /cannot overwrite non-directory/);
  });
});
