import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { type LockTransport, lockNamed, netLockTransport } from '../common/lock.js';
import { nativeLockTransport } from './lock-transport.js';

const native = nativeLockTransport();
const skip = native ? undefined : 'the addon is not built';

/** Holder with one transport, waiter with the other: the waiter waits, and gets in at the release. */
async function crossed(t: { after: (fn: () => void) => void }, holderT: LockTransport, waiterT: LockTransport) {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-lock-x-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const holder = await lockNamed(root, 'c', { namespace: 'berth-test-lock', transport: holderT });
  // as another process would: a second spelling of the root (a symlink) is another in-process
  // queue, but the same real path, so the same kernel name
  const alias = `${root}-alias`;
  symlinkSync(root, alias);
  t.after(() => rmSync(alias, { force: true }));
  assert.equal(await lockNamed(alias, 'c', { namespace: 'berth-test-lock', transport: waiterT, wait: false }), undefined, 'taken');
  let got = false;
  const waiting = lockNamed(alias, 'c', { namespace: 'berth-test-lock', transport: waiterT }).then((l) => {
    got = true;
    return l;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got, false, 'waits while held');
  await holder.release();
  const l = await waiting;
  await l.release();
}

test('a lock held through the addon keeps out a node:net waiter, and wakes it at the release', { skip }, async (t) => {
  await crossed(t, native!, netLockTransport);
});

test('a lock held through node:net keeps out an addon waiter, and wakes it at the release', { skip }, async (t) => {
  await crossed(t, netLockTransport, native!);
});

test('an addon holder with many addon waiters: each gets in once, one at a time', { skip }, async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-lock-n-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // distinct spellings of one root (symlinks): distinct in-process queues, so the kernel name alone excludes
  const spellings = Array.from({ length: 8 }, (_, i) => {
    const link = `${root}-${i}`;
    symlinkSync(root, link);
    t.after(() => rmSync(link, { force: true }));
    return link;
  });
  let inside = 0;
  let most = 0;
  await Promise.all(
    spellings.map(async (r) => {
      const l = await lockNamed(r, 'c', { namespace: 'berth-test-lock', transport: native! });
      inside++;
      most = Math.max(most, inside);
      await new Promise((res) => setTimeout(res, 5));
      inside--;
      await l.release();
    }),
  );
  assert.equal(most, 1);
});
