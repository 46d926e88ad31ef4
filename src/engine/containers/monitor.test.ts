/**
 * cleanupRun's sweep of the runtime's root (monitor.ts): an exit does not read the root for
 * tombs unless a failed teardown may have left one (engine.tombsLeft), and then sweeps until
 * none is left. A fake engine over a temporary root; no root privileges, no cgroups.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Engine } from '../engine.js';
import { cleanupRun } from './monitor.js';

test('an exit sweeps the runtime root only while a tomb may be left, and until none is', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-monitor-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'runtime');
  mkdirSync(root);
  const tomb = path.join(root, '~d-left');
  // what a teardown that met a busy cgroup leaves: the run's record in its tomb
  const leaveTomb = () => {
    mkdirSync(tomb, { recursive: true });
    const record = { version: 1, id: 'other', bundle: dir, rootfs: dir, pid: 0, pidStartTime: '', created: '', config: {}, cgroups: [] };
    writeFileSync(path.join(tomb, 'state.json'), JSON.stringify(record));
  };
  const engine = {
    runtimeRoot: root,
    tombsLeft: false,
    stateDir: (id: string) => path.join(dir, 'state', id),
    shimSocket: (id: string) => path.join(dir, 'state', id, 'shim.sock'),
    containerDir: (id: string) => path.join(dir, 'containers', id),
    containers: { find: () => undefined },
  } as unknown as Engine;

  leaveTomb();
  assert.equal(await cleanupRun(engine, 'c1', { rootfsOnHost: false }), true);
  assert.equal(existsSync(tomb), true, 'no sweep while no teardown failed');

  engine.tombsLeft = true;
  assert.equal(await cleanupRun(engine, 'c2', { rootfsOnHost: false }), true);
  assert.equal(existsSync(tomb), false, 'the exit after a failure finished the tomb');
  assert.equal(engine.tombsLeft, false, 'and the sweeps stop once none is left');
});
