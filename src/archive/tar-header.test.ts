import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { fuzzRuns } from '../../test/helpers/fuzz-runs.js';
import { listTar } from '../../test/helpers/tar.js';
import { END_OF_ARCHIVE, encodeHeader, padding, type TarEntry } from './tar-header.js';

const component = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 90 }).filter((s) => !s.includes('/') && !s.includes('\0'));
const name = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));

const entry = fc.record({
  name,
  type: fc.constantFrom('file', 'link', 'symlink', 'dir', 'fifo', 'char') as fc.Arbitrary<TarEntry['type']>,
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.oneof(fc.integer({ min: 0, max: 0o7777777 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  gid: fc.oneof(fc.integer({ min: 0, max: 0o7777777 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })),
  mtime: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
  linkname: name,
  size: fc.integer({ min: 0, max: 2000 }),
  dev: fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 2 ** 20 - 1 })),
});

test('every entry the writer makes reads back with the same fields (PAX where ustar cannot hold them)', async () => {
  await fc.assert(
    fc.asyncProperty(entry, async (g) => {
      const size = g.type === 'file' ? g.size : 0;
      const e: TarEntry = {
        name: Buffer.from(g.name),
        type: g.type,
        mode: g.mode,
        uid: g.uid,
        gid: g.gid,
        size,
        mtime: g.mtime,
        ...(g.type === 'link' || g.type === 'symlink' ? { linkname: Buffer.from(g.linkname) } : {}),
        ...(g.type === 'char' ? { devmajor: g.dev[0], devminor: g.dev[1] } : {}),
      };
      const header = encodeHeader(e);
      assert.equal(header.length % 512, 0);
      const content = Buffer.alloc(size, 'c');
      const [back] = await listTar(Buffer.concat([header, content, padding(size), END_OF_ARCHIVE]));
      assert.ok(back);
      const pax = back.pax ?? {};
      assert.equal(back.name, g.type === 'dir' ? `${g.name}/` : g.name);
      assert.equal(back.mode, g.mode);
      assert.equal(pax.uid !== undefined ? Number(pax.uid) : back.uid, g.uid);
      assert.equal(pax.gid !== undefined ? Number(pax.gid) : back.gid, g.gid);
      assert.equal(pax.mtime !== undefined ? Number(pax.mtime) : back.mtime, g.mtime);
      assert.equal(back.size, size);
      if (size > 0) assert.equal(back.content, content.toString('latin1'));
      if (e.linkname) assert.equal(back.linkname, g.linkname);
      if (g.type === 'char') assert.deepEqual([back.devmajor, back.devminor], g.dev);
      // deterministic
      assert.deepEqual(encodeHeader(e), header);
    }),
    { numRuns: fuzzRuns(300) },
  );
});
