import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { apparentSize } from './size.js';

test("apparentSize: the files' bytes as dockerd counts them (no directories, empty files, hard links once)", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-size-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a'), Buffer.alloc(100));
  linkSync(join(dir, 'a'), join(dir, 'a-link'));
  writeFileSync(join(dir, 'empty'), '');
  symlinkSync('abc', join(dir, 'sym'));
  mkdirSync(join(dir, 'd/e'), { recursive: true });
  writeFileSync(join(dir, 'd/e/b'), Buffer.alloc(50));
  // a name that is not UTF-8 is still counted
  writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0xfe])]), Buffer.alloc(7));
  assert.equal(await apparentSize(dir), 100 + 3 + 50 + 7);
  assert.equal(await apparentSize(dir, { regularOnly: true }), 100 + 50 + 7, 'a layer: no symlinks');
  assert.equal(await apparentSize(join(dir, 'missing')), 0, 'a directory removed meanwhile counts nothing');
});
