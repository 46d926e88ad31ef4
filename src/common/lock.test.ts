import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { hash128, lockNamed, netLockTransport } from './lock.js';

const NS = 'berth-test-lock';
/** The kernel name another process derives from a root's salt (lock.ts's socketName). */
const nameFor = (salt: string, root: string, id: string) => `\0${NS}-${hash128(`${salt}\0${realpathSync(root)}\0${id}`)}`;

test('a root removed and made again: this process follows its new salt, as a new process would', async (t) => {
  const parent = mkdtempSync(path.join(tmpdir(), 'berth-lock-salt-'));
  t.after(() => rmSync(parent, { recursive: true, force: true }));
  const root = path.join(parent, 'root');
  mkdirSync(root);
  await (await lockNamed(root, 'c', { namespace: NS })).release(); // the first salt, now known here
  rmSync(root, { recursive: true });
  mkdirSync(root);
  // another process made the root again, and its salt
  writeFileSync(path.join(root, '~lock-salt'), 'another salt', { mode: 0o600 });
  const held = await lockNamed(root, 'c', { namespace: NS });
  try {
    const stolen = await netLockTransport.tryBind(nameFor('another salt', root, 'c'));
    await stolen?.release();
    assert.equal(stolen, undefined, 'held under the new salt');
  } finally {
    await held.release();
  }
  const free = await netLockTransport.tryBind(nameFor('another salt', root, 'c'));
  assert.ok(free, 'released');
  await free.release();
});
