/**
 * The runtime library embedded, as the engine uses it: ONE Node process creates, starts, execs
 * into, kills and deletes 50 containers concurrently through the library API (no CLI), and
 * afterwards nothing of them is left in it or on the host: no active handle, fd, listener on
 * `process` or child process beyond the baseline, and no cgroup or state directory.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { setUpCgroups } from '../src/runtime/cgroups/manager.js';
import {
  Container,
  create,
  deleteContainer,
  exec,
  kill,
  launchPrepared,
  pause,
  prepare,
  resume,
  run,
  start,
  update,
} from '../src/runtime/index.js';
import type { Launcher } from '../src/runtime/launcher/launcher.js';
import { nsinitLauncher } from '../src/runtime/launcher/nsinit.js';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { PROBE } from './helpers/spec.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : rootfsUnavailable();
const N = 50;

interface Snapshot {
  resources: string[];
  fds: number;
  listeners: Record<string, number>;
  children: number[];
}

function children(): number[] {
  const mine = String(process.pid);
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === mine) found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

function snapshot(): Snapshot {
  const listeners: Record<string, number> = {};
  for (const e of process.eventNames()) listeners[String(e)] = process.listenerCount(e);
  return {
    resources: process.getActiveResourcesInfo().sort(),
    fds: readdirSync('/proc/self/fd').length,
    listeners,
    children: children(),
  };
}

/** Waits (hang guard, not a timing assertion) until the snapshot matches the baseline. */
async function settled(base: Snapshot): Promise<Snapshot> {
  let now = snapshot();
  for (let i = 0; i < 100 && JSON.stringify(now) !== JSON.stringify(base); i++) {
    await sleep(50);
    now = snapshot();
  }
  return now;
}

function cgroupDirsNamed(id: string): string[] {
  return readdirSync('/sys/fs/cgroup')
    .map((c) => join('/sys/fs/cgroup', c, id))
    .filter((d) => existsSync(d));
}

describe('the runtime library in one process', { skip }, () => {
  test(`${N} containers at once: create, start, exec, update, pause, resume, kill --all, delete; 10 foreground runs; nothing left`, async (t) => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    await using once = await Bundle.create({ probeArgs: ['hostname'] });
    const root = mkdtempSync(join(tmpdir(), 'berth-embed-root-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const ids = Array.from({ length: N }, () => uniqueId('embed'));
    t.after(async () => {
      for (const id of ids) await deleteContainer(root, id, true).catch(() => {});
    });
    // One round first, so that lazily loaded modules and Node's own one-time handles are in the baseline.
    const warm = uniqueId('embed-warm');
    await create({ root, id: warm, bundle: b.dir });
    await deleteContainer(root, warm, true);
    await sleep(100);
    const base = snapshot();

    const runIds = Array.from({ length: 10 }, () => uniqueId('embed-run'));
    const runs = runIds.map(async (id) => {
      // a foreground run: create, start, wait, delete in one call
      const r = await run({ root, id, bundle: once.dir, detach: false });
      assert.equal(r.exitCode, 0, `run ${id}`);
    });
    const results = await Promise.allSettled([
      ...runs,
      ...ids.map(async (id) => {
        await create({ root, id, bundle: b.dir });
        assert.equal((await Container.load(root, id)).status(), 'created');
        await start(root, id);
        const c = await Container.load(root, id);
        const r = await exec({ root, id, process: { ...c.record.config.process!, args: [PROBE, 'hostname'] }, detach: false });
        assert.equal(r.exitCode, 0, `exec in ${id}`);
        await update(root, id, { pids: { limit: 100 } });
        await pause(root, id);
        assert.equal((await Container.load(root, id)).status(), 'paused');
        await resume(root, id);
        await kill(root, id, 9, true);
        for (let i = 0; i < 200 && (await Container.load(root, id)).status() !== 'stopped'; i++) await sleep(25);
        assert.equal((await Container.load(root, id)).status(), 'stopped');
        await deleteContainer(root, id);
      }),
    ]);
    const all = [...runIds, ...ids];
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${all[i]}: ${(r.reason as Error)?.message}`] : []));
    assert.deepEqual(failures, [], 'every container went through its lifecycle');

    const after = await settled(base);
    assert.deepEqual(after.resources, base.resources, 'active handles back to the baseline');
    assert.equal(after.fds, base.fds, '/proc/self/fd back to the baseline');
    assert.deepEqual(after.listeners, base.listeners, 'no listener added to process');
    assert.deepEqual(after.children, base.children, 'no child process left');
    assert.deepEqual(
      readdirSync(root).filter((n) => n !== '~lock-salt'),
      [],
      'no state directory, staging directory or tomb left',
    );
    for (const id of all) assert.deepEqual(cgroupDirsNamed(id), [], `no cgroup of ${id} left`);
  });

  test("the caller's `cgroups` line read ahead with the plan: berth-nsinit takes it before the clone, and the container runs", async () => {
    // berth-nsinit clones the init stage before it waits for `cgroups`, unless that line is
    // already in what it read with the plan: the init stage would inherit that copy and meet
    // `cgroups` where it waits for `start`. Here the line goes right behind the plan, before
    // berth-nsinit has read anything (the cgroups are made first: they must exist by then).
    await using b = await Bundle.create({ probeArgs: ['hostname'] });
    const root = mkdtempSync(join(tmpdir(), 'berth-embed-ahead-'));
    const id = uniqueId('ahead');
    try {
      const opts = { root, id, bundle: b.dir };
      // the same decisions as run's own prepare (it makes nothing): the container's cgroups
      const planned = await prepare(opts, 'run-foreground');
      await setUpCgroups(planned.record.cgroups, planned.record.config);
      const inner = nsinitLauncher();
      let early = 0;
      const launcher: Launcher = {
        launch(plan, lo) {
          assert.equal(plan.cgroupsWait, true, 'the launch makes the cgroups while berth-nsinit starts');
          const s = inner.launch(plan, lo);
          s.send('cgroups');
          early++;
          // the library's own `cgroups`, once it has made them (again), is not sent twice
          return new Proxy(s, {
            get(target, prop) {
              if (prop === 'send') return (line: string) => (line === 'cgroups' ? undefined : target.send(line));
              const v = Reflect.get(target, prop, target) as unknown;
              return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
            },
          });
        },
      };
      const r = await run({ ...opts, detach: false, launcher });
      assert.equal(early, 1);
      assert.equal(r.exitCode, 0);
    } finally {
      await deleteContainer(root, id, true).catch(() => {});
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('child_process, where the addon cannot load, launches the same way: run, create, exec, errors; nothing left', async (t) => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    await using once = await Bundle.create({ probeArgs: ['hostname'] });
    const root = mkdtempSync(join(tmpdir(), 'berth-embed-node-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const ids = [uniqueId('viaNode'), uniqueId('viaNode'), uniqueId('viaNode')];
    t.after(async () => {
      for (const id of ids) await deleteContainer(root, id, true).catch(() => {});
    });
    const launcher = nsinitLauncher(undefined, { spawnWith: 'node' });
    const [ran, made, missing] = ids as [string, string, string];
    assert.equal((await run({ root, id: ran, bundle: once.dir, detach: false, launcher })).exitCode, 0);
    await create({ root, id: made, bundle: b.dir, launcher });
    await start(root, made);
    const c = await Container.load(root, made);
    const r = await exec({
      root,
      id: made,
      process: { ...c.record.config.process!, args: ['/bin/sh', '-c', 'exit 5'] },
      detach: false,
      launcher,
    });
    assert.equal(r.exitCode, 5);
    await assert.rejects(
      run({ root, id: missing, bundle: once.dir, detach: false, launcher: nsinitLauncher('/no/such/berth-nsinit', { spawnWith: 'node' }) }),
      /spawn '\/no\/such\/berth-nsinit': no such file or directory/,
    );
    await assert.rejects(
      run({ root, id: missing, bundle: once.dir, detach: false, launcher: nsinitLauncher('/no/such/berth-nsinit') }),
      /spawn '\/no\/such\/berth-nsinit': no such file or directory/,
      'the addon says it in the same words',
    );
    for (const id of ids) await deleteContainer(root, id, true);
    assert.deepEqual(
      readdirSync(root).filter((n) => !n.startsWith('~')),
      [],
    );
  });
});
