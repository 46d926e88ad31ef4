import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../../test/helpers/fuzz-runs.js';
import { cleanArchivePath, resolveArchivePath } from './archive.js';

test('archive paths are cleaned inside the archive', () => {
  assert.equal(cleanArchivePath('./a/b/'), 'a/b');
  assert.equal(cleanArchivePath('/../../etc/passwd'), 'etc/passwd');
  assert.equal(cleanArchivePath('a/../../b'), 'b');
});

test('symlinks are followed in the archive only', () => {
  const links = new Map([
    ['l2/layer.tar', '../l1/layer.tar'],
    ['abs', '/l1'],
    ['up', '../../../../etc'],
    ['loop', 'loop'],
    ['dir', 'l1'],
  ]);
  const hardlinks = new Map([['h', 'l1/layer.tar']]);
  const ix = { links, hardlinks };
  assert.equal(resolveArchivePath(ix, 'l2/layer.tar'), 'l1/layer.tar');
  assert.equal(resolveArchivePath(ix, 'abs/layer.tar'), 'l1/layer.tar');
  assert.equal(resolveArchivePath(ix, 'up/passwd'), 'etc/passwd'); // clamped at the archive root
  assert.equal(resolveArchivePath(ix, 'dir/../dir/layer.tar'), 'l1/layer.tar');
  assert.equal(resolveArchivePath(ix, 'h'), 'l1/layer.tar');
  assert.throws(() => resolveArchivePath(ix, 'loop'), /too many levels of symbolic links/);
});

test('fuzz: resolved archive paths never leave the archive', () => {
  const part = fc.constantFrom('a', 'b', '..', '.', '', 'l', '/');
  const p = fc.array(part, { maxLength: 8 }).map((xs) => xs.join('/'));
  fc.assert(
    fc.property(fc.array(fc.tuple(p, p), { maxLength: 5 }), fc.array(fc.tuple(p, p), { maxLength: 3 }), p, (links, hard, q) => {
      const ix = {
        links: new Map(links.map(([k, v]) => [cleanArchivePath(k), v])),
        hardlinks: new Map(hard.map(([k, v]) => [cleanArchivePath(k), cleanArchivePath(v)])),
      };
      try {
        const r = resolveArchivePath(ix, q);
        assert.ok(!r.split('/').includes('..') && !r.startsWith('/'), r);
      } catch (err) {
        assert.match((err as Error).message, /too many levels of symbolic links/);
      }
    }),
    { numRuns: fuzzRuns(500) },
  );
});
