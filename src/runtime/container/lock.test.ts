import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lockContainer } from './lock.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function tempRoot(t: { after: (fn: () => void) => void }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'berth-lock-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

test('lock: holders of one container in one process take turns; other containers do not wait', async (t) => {
  const root = tempRoot(t);
  const events: string[] = [];
  const holder = async (n: number) => {
    await using _ = await lockContainer(root, 'a');
    events.push(`in${n}`);
    await new Promise((r) => setImmediate(r));
    events.push(`out${n}`);
  };
  await Promise.all([holder(1), holder(2), holder(3)]);
  assert.deepEqual(events, ['in1', 'out1', 'in2', 'out2', 'in3', 'out3']);

  const a = await lockContainer(root, 'a');
  assert.equal(await lockContainer(root, 'a', { wait: false }), undefined, 'taken: no wait');
  const b = await lockContainer(root, 'b', { wait: false });
  assert.ok(b, 'another id is free');
  await b.release();
  await a.release();
  const again = await lockContainer(root, 'a', { wait: false });
  assert.ok(again, 'free once released');
  await again.release();
});

test('lock: held across processes, and freed when its holder is killed', async (t) => {
  const root = tempRoot(t);
  // A child process takes the lock, says so, and holds it until killed.
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `const { lockContainer } = await import(${JSON.stringify(path.join(here, 'lock.ts'))});
       await lockContainer(process.argv[1], 'x');
       process.stdout.write('held\\n');
       setInterval(() => {}, 1000);`,
      root,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('held') && resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  assert.equal(await lockContainer(root, 'x', { wait: false }), undefined, 'held by the other process');
  let got = false;
  const waiting = lockContainer(root, 'x').then((l) => {
    got = true;
    return l;
  });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got, false, 'waits while the holder lives');
  child.kill('SIGKILL');
  const l = await waiting;
  await l.release();
});
