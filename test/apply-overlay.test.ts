/**
 * Overlay apply agrees with flat apply: layers applied one per directory in overlay mode (each
 * with the ones below as --parent), then mounted read-only as an overlay (lowerdir=top:...:bottom),
 * show the same tree as the same layers applied in order into one flat directory. Hand-written
 * layers (whiteouts, opaque dirs, type swaps, implied parents through a lower symlink) and a
 * fast-check property over random layers. Needs root (overlay mounts, trusted.* xattrs).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { applyLayer } from '../src/archive/apply.js';
import { fuzzRuns } from './helpers/fuzz-runs.js';
import { type Entry, packTar } from './helpers/tar.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
function setup(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (overlay mounts)';
  const r = spawnSync('make', ['-s', '-C', `${ROOT}native`, 'build/berth-unpack'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make berth-unpack failed:\n${r.stderr}`);
  return undefined;
}
const skip = setup();

/** path → type, mode, owner, content or link target (not times: a merged dir's are its upper's) */
function tree(dir: string, rel = '', out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const r = path.join(rel, name);
    const st = lstatSync(path.join(dir, r));
    const kind = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : `other ${st.rdev}`;
    const what = st.isFile() ? readFileSync(path.join(dir, r), 'utf8') : st.isSymbolicLink() ? readlinkSync(path.join(dir, r)) : '';
    out.set(r, `${kind} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${what}`);
    if (st.isDirectory()) tree(dir, r, out);
  }
  return out;
}

type Outcome = { ok: true; tree: Map<string, string> } | { ok: false; error: string };

async function apply(bytes: Buffer, dir: string, mode: 'overlay' | 'flat', parents: string[]) {
  await applyLayer(Readable.from([bytes]), { compression: 'none', layer: 'l', target: { dir, mode, parents }, sync: false });
}

async function flat(layers: Buffer[], base: string): Promise<Outcome> {
  const dir = path.join(base, 'flat');
  mkdirSync(dir);
  try {
    for (const l of layers) await apply(l, dir, 'flat', []);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  return { ok: true, tree: tree(dir) };
}

async function overlay(layers: Buffer[], base: string): Promise<Outcome> {
  const dirs: string[] = [];
  try {
    for (const [i, l] of layers.entries()) {
      const dir = path.join(base, `layer${i}`);
      mkdirSync(dir);
      await apply(l, dir, 'overlay', [...dirs].reverse());
      dirs.push(dir);
    }
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const mnt = path.join(base, 'merged');
  mkdirSync(mnt);
  const lower = [...dirs].reverse().join(':');
  // a single layer cannot be an overlay of lowers only: add an empty bottom
  const empty = path.join(base, 'empty');
  mkdirSync(empty);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower}:${empty}`, mnt]);
  try {
    return { ok: true, tree: tree(mnt) };
  } finally {
    execFileSync('umount', [mnt]);
  }
}

async function agree(layers: Entry[][]) {
  const base = mkdtempSync(path.join(tmpdir(), 'berth-ovl-'));
  try {
    const tars = await Promise.all(layers.map((l) => packTar(l)));
    const [f, o] = [await flat(tars, base), await overlay(tars, base)];
    assert.equal(
      o.ok,
      f.ok,
      `flat ${f.ok ? 'applied' : `failed (${(f as { error: string }).error})`}, overlay ${o.ok ? 'applied' : `failed (${(o as { error: string }).error})`}`,
    );
    if (f.ok && o.ok) assert.deepEqual(o.tree, f.tree);
  } finally {
    spawnSync('umount', [path.join(base, 'merged')]);
    rmSync(base, { recursive: true, force: true });
  }
}

const f = (name: string, data = '', extra: Partial<Entry> = {}): Entry => ({ name, data, ...extra });
const d = (name: string, extra: Partial<Entry> = {}): Entry => ({ name, type: 'directory', ...extra });
const sym = (name: string, linkname: string): Entry => ({ name, type: 'symlink', linkname });

describe('overlay apply = flat apply', { skip }, () => {
  test('whiteouts, opaque dirs, type swaps, implied parents, lower symlinks', async () => {
    await agree([
      [
        d('etc'),
        f('etc/passwd', 'root'),
        f('etc/group', 'g'),
        d('d', { mode: 0o750, uid: 5 }),
        f('d/a', 'a'),
        d('d/sub'),
        f('d/sub/z', 'z'),
        d('usr'),
        d('usr/lib'),
        sym('lib', 'usr/lib'),
        f('swap', 'file'),
        d('swapdir'),
        f('swapdir/x'),
        d('opt', { mode: 0o710, uid: 7 }),
      ],
      [
        d('etc'),
        f('etc/.wh.passwd'),
        f('d/.wh..wh..opq'),
        d('d/sub'),
        f('d/new', 'n'),
        f('lib/systemd/x.service', 's'),
        d('swap'),
        f('swapdir', 'now a file'),
        f('opt/app/bin', 'b'),
        f('.wh.nothing-here'),
        f('absent/.wh.x'),
      ],
      [f('.wh.etc'), d('etc', { mode: 0o700 }), f('etc/hosts', 'h'), f('d/sub/.wh..wh..opq')],
    ]);
  });

  // Links are named `l` (a leaf) and may be walked through by files and dirs; whiteouts and
  // opaque marks sit in link-free directories (see docs/layer-apply.md: through links the two
  // modes may differ, both contained).
  const dirPath = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 0, maxLength: 2 });
  const name = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }).map((p) => p.join('/'));
  const through = fc.tuple(dirPath, fc.constantFrom('a', 'b', 'l/a', 'l/b')).map(([d, n]) => [...d, n].join('/'));
  const entry: fc.Arbitrary<Entry> = fc.oneof(
    fc.record({ name: fc.oneof(name, through), data: fc.constantFrom('1', '22'), mode: fc.constantFrom(0o644, 0o600) }),
    fc.record({ name: fc.oneof(name, through), type: fc.constant('directory' as const), mode: fc.constantFrom(0o755, 0o700) }),
    fc.record({
      name: dirPath.map((d) => [...d, 'l'].join('/')),
      type: fc.constant('symlink' as const),
      linkname: fc.constantFrom('a', '../b', '/c', 'b/c', '.'),
    }),
    fc.tuple(dirPath, fc.constantFrom('a', 'b', 'c', 'l')).map(([d, n]): Entry => ({ name: [...d, `.wh.${n}`].join('/'), data: '' })),
    name.map((n): Entry => ({ name: `${n}/.wh..wh..opq`, data: '' })),
  );
  test('property: random layers agree', { timeout: 300_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(entry, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 }), (layers) =>
        agree(layers),
      ),
      { numRuns: fuzzRuns(25) },
    );
  });
});
