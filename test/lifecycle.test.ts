/**
 * The lifecycle under faults and races, through the real command line: `create` killed with
 * SIGKILL at random points leaves a record that `delete --force` and `list` find, and nothing
 * after the delete; every id create accepts can be deleted; racing deletes all succeed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Bundle, mountPointsUnder } from './helpers/bundle.js';
import { cgroupDirsOf, mustCreate } from './helpers/container.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { createRuntime, type Runtime } from './helpers/runtime.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : (rootfsUnavailable() ?? createRuntime('berth').unavailable);

/** Host processes that carry `tag` in their environment (every stage of berth-nsinit inherits it until the container's exec). */
function processesTagged(tag: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(tag)) found.push(Number(name));
    } catch {
      // gone, or a kernel thread
    }
  }
  return found;
}

/** Host processes whose cgroup path names `id`. */
function processesInCgroupsOf(id: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (
        readFileSync(`/proc/${name}/cgroup`, 'utf8')
          .split('\n')
          .some((l) => l.split('/').includes(id))
      )
        found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

describe('lifecycle under faults and races', { skip }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  test('create killed with SIGKILL at 30 random points: delete --force leaves no process, cgroup, mount or state', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const seen = new Map<string, number>();
    // How long a whole create takes here, so that the kill points cover all of it (at least the
    // first 80 ms).
    const t0 = performance.now();
    const whole = await rt.run(['create', '--bundle', b.dir, 'bc-kill-whole'], {
      stdoutFile: b.path('w.out'),
      stderrFile: b.path('w.err'),
    });
    b.track(rt, 'bc-kill-whole');
    assert.equal(whole.code, 0, readFileSync(b.path('w.err'), 'utf8'));
    const span = Math.max(80, performance.now() - t0);
    assert.equal((await rt.run(['delete', '--force', 'bc-kill-whole'])).code, 0);
    for (let i = 0; i < 30; i++) {
      const id = `bc-kill-${randomBytes(4).toString('hex')}`;
      const tag = `BERTH_TEST_TAG=${id}`;
      b.track(rt, id);
      const out = openSync(b.path(`${id}.out`), 'a');
      const child = spawn(rt.argv[0]!, [...rt.argv.slice(1), '--root', rt.rootDir, 'create', '--bundle', b.dir, id], {
        stdio: ['ignore', out, out],
        env: { ...process.env, NODE_EXTRA_CA_CERTS: '', BERTH_TEST_TAG: id },
      });
      closeSync(out);
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await sleep(Math.floor(Math.random() * span));
      child.kill('SIGKILL');
      await exited;

      const dir = join(rt.rootDir, id);
      if (existsSync(dir)) {
        const record = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { phase?: string };
        seen.set(record.phase ?? 'none', (seen.get(record.phase ?? 'none') ?? 0) + 1);
        const list = await rt.run(['list', '-q']);
        assert.equal(list.code, 0, list.stderr);
        assert.ok(list.stdout.split('\n').includes(id), `list shows the half-created ${id}: ${list.stdout}`);
        const st = await rt.run(['state', id]);
        assert.equal(st.code, 0, st.stderr);
        assert.match(JSON.parse(st.stdout).status, /^(creating|created|stopped)$/);
      } else seen.set('no record', (seen.get('no record') ?? 0) + 1);

      const del = await rt.run(['delete', '--force', id]);
      assert.equal(del.code, 0, del.stderr);
      assert.deepEqual(processesTagged(tag), [], `no process of ${id} is left (kill point ${i})`);
      assert.deepEqual(processesInCgroupsOf(id), [], `no process in the cgroups of ${id}`);
      assert.deepEqual(cgroupDirsOf(id), [], `no cgroup of ${id} is left`);
      assert.deepEqual(mountPointsUnder(b.dir), [], 'no mount under the bundle');
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(rt.rootDir), 'no mount under the state root');
      assert.ok(!existsSync(dir), `state dir of ${id} removed`);
    }
    // Not an assertion on timing: only a note of where the kills landed.
    console.log(`kill points landed in: ${JSON.stringify(Object.fromEntries(seen))}`);
    assert.deepEqual(
      readdirSync(rt.rootDir).filter((n) => n.startsWith('~') && n !== '~lock-salt'),
      [],
      'no staging directory or tomb is left',
    );
  });

  test('an id of 254 characters can be created and deleted', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-long-${randomBytes(4).toString('hex')}`.padEnd(254, 'x');
    b.track(rt, id);
    const r = await rt.run(['create', '--bundle', b.dir, id], { stdoutFile: b.path('long.out'), stderrFile: b.path('long.err') });
    assert.equal(r.code, 0, readFileSync(b.path('long.err'), 'utf8'));
    const del = await rt.run(['delete', '--force', id]);
    assert.equal(del.code, 0, del.stderr);
    assert.ok(!existsSync(join(rt.rootDir, id)));
    assert.deepEqual(cgroupDirsOf(id), []);
  });

  test('five parallel delete --force of one container all succeed; delete --force of a missing id succeeds', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-race-${randomBytes(4).toString('hex')}`;
    const c = await mustCreate(rt, b, id);
    const pid = c.pid();
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => rt.run(['delete', '--force', id])));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.ok(!existsSync(`/proc/${pid}`) || readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z', 'the init is gone');
    assert.ok(!existsSync(join(rt.rootDir, id)));
    assert.deepEqual(cgroupDirsOf(id), []);
    const missing = await rt.run(['delete', '--force', `${id}-missing`]);
    assert.equal(missing.code, 0, missing.stderr);
    const strict = await rt.run(['delete', `${id}-missing`]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /container does not exist/);
  });

  test('exec and start refuse a container that is still being created', async () => {
    await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    const id = `bc-creating-${randomBytes(4).toString('hex')}`;
    // A prestart hook that waits holds create in the 'creating' phase.
    const gate = b.path('gate');
    await b.editConfig((s) => {
      // bounded (about a minute), so that it cannot outlive a failed test
      const wait = `i=0; while [ ! -e ${gate} ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`;
      s.hooks = { prestart: [{ path: '/bin/sh', args: ['sh', '-c', wait] }] };
    });
    b.track(rt, id);
    const creating = rt.run(['create', '--bundle', b.dir, id], { stdoutFile: b.path('c.out'), stderrFile: b.path('c.err') });
    for (let i = 0; i < 600; i++) {
      const st = await rt.run(['state', id]);
      if (st.code === 0 && JSON.parse(st.stdout).status === 'creating') break;
      await sleep(50);
    }
    const st = await rt.run(['state', id]);
    assert.equal(JSON.parse(st.stdout).status, 'creating');
    const start = await rt.run(['start', id]);
    assert.equal(start.code, 1);
    assert.match(start.stderr, /creating/);
    const exec = await rt.run(['exec', id, 'true']);
    assert.equal(exec.code, 1);
    assert.match(exec.stderr, /being created/);
    closeSync(openSync(gate, 'w'));
    const r = await creating;
    assert.equal(r.code, 0, readFileSync(b.path('c.err'), 'utf8'));
    const del = await rt.run(['delete', '--force', id]);
    assert.equal(del.code, 0, del.stderr);
  });
});
