import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { isKind } from '../common/errors.js';
import { diskUsage } from './usage.js';

test('usage counts allocated blocks, and a hardlinked file once', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-usage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const empty = await diskUsage(dir);
  assert.equal(empty.inodes, 1);
  writeFileSync(path.join(dir, 'a'), Buffer.alloc(64 * 1024, 1));
  const one = await diskUsage(dir);
  assert.equal(one.inodes, 2);
  assert.ok(one.size - empty.size >= 64 * 1024);
  mkdirSync(path.join(dir, 'd'));
  linkSync(path.join(dir, 'a'), path.join(dir, 'd', 'b'));
  const linked = await diskUsage(dir);
  assert.equal(linked.inodes, 3, 'the directory counts, the second name does not');
  assert.ok(linked.size - one.size < 64 * 1024, 'the hardlinked data is counted once');
  writeFileSync(path.join(dir, 'sparse'), '');
  truncateSync(path.join(dir, 'sparse'), 1 << 30);
  assert.ok((await diskUsage(dir)).size - linked.size < 1 << 20, 'a 1 GiB hole occupies nothing');
  await assert.rejects(
    diskUsage(path.join(dir, 'missing')),
    (e) => isKind(e, 'internal') && /usage '.*missing'/.test((e as Error).message),
  );
});
