/**
 * The fault matrix of berthd (moby's daemon-restart tests, wider). Containers in five situations
 * — running, paused, exited before the kill, exiting while berthd is down, created — with restart
 * policy none or always, then berthd SIGKILLed or stopped cleanly (SIGTERM, live-restore), then
 * started again: each shows the right state and exit code, running ones keep their pid, `docker
 * wait` answers, logs span the restart, an `always` container that exited meanwhile runs again,
 * and nothing leaks (shims, mounts, cgroup dirs, berthd's fds). Then the shim killed, berthd and
 * the shim killed, and berthd killed at each crash point of create, start and rm
 * (BERTH_CRASH_AT, src/engine/crash.ts): the database and the host agree afterwards.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { readShimInfo } from '../src/engine/shim/client.js';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';

const skip = berthdUnavailable();

/** pid 1 of every container here: TERM exits 5, USR1 writes a log line. */
const SCRIPT = 'trap "exit 5" TERM; trap "echo usr1" USR1; echo start; while :; do sleep 0.1; done';

interface State {
  Status: string;
  Pid: number;
  ExitCode: number;
  Error: string;
}

type Situation = 'running' | 'paused' | 'exited' | 'exiting' | 'created';
const SITUATIONS: Situation[] = ['running', 'paused', 'exited', 'exiting', 'created'];
const POLICIES = ['no', 'always'] as const;

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(s.slice(s.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await fn()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** cgroup dirs named for `id` under any /sys/fs/cgroup/<controller>/berth/. */
function cgroupDirs(id: string): string[] {
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', h, 'berth', id);
    if (existsSync(p)) out.push(p);
  }
  return out;
}

/** berthd's open fds, as their link targets. */
function fds(pid: number): string[] {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).map((f) => {
    try {
      return readlinkSync(join(dir, f));
    } catch {
      return '';
    }
  });
}

describe('berthd faults', { skip, timeout: 600_000 }, () => {
  let d: Berthd;
  let logsRoute = false;
  before(async () => {
    d = await Berthd.start();
    // `docker logs` is another helper's route: assert on it only once it is served.
    const probe = await d.api('GET', '/containers/nosuch/logs?stdout=1');
    logsRoute = probe.status === 404 && /No such container/.test(probe.text);
  });
  after(async () => {
    await d?.stop();
  });
  // A failed test must not fail the next ones: what it left is removed (the tests assert leaks
  // themselves, before this).
  afterEach(async () => {
    if (!d.pid) await d.launch();
    const list = (await d.api('GET', '/containers/json?all=1')).body as { Id: string }[];
    for (const c of list) await d.api('DELETE', `/containers/${c.Id}?force=1`);
  });

  const docker = (args: string[]) => d.docker(args);
  const state = async (ref: string): Promise<State> => {
    const r = await d.api('GET', `/containers/${ref}/json`);
    assert.equal(r.status, 200, r.text);
    return (r.body as { State: State }).State;
  };
  const ok = async (args: string[]) => {
    const r = await docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  const shimOf = (id: string): number => {
    const info = readShimInfo(join(d.execRoot, 'containers', id));
    assert.ok(info, `shim.json of ${id}`);
    return info.pid;
  };

  /** The database and the host agree: rows, directories, snapshots, shims, mounts. */
  const consistent = async (what: string) => {
    const rows = ((await d.api('GET', '/containers/json?all=1')).body as { Id: string }[]).map((c) => c.Id).sort();
    const dirs = readdirSync(join(d.dataRoot, 'containers')).sort();
    assert.deepEqual(dirs, rows, `${what}: a directory per container, no other`);
    const db = new Database(join(d.dataRoot, 'metadata.db'), { readonly: true, fileMustExist: true });
    try {
      const snaps = (db.prepare("SELECT key FROM snapshots WHERE key LIKE 'container-%'").all() as { key: string }[])
        .map((r) => r.key.slice('container-'.length))
        .sort();
      assert.deepEqual(snaps, rows, `${what}: a rootfs snapshot per container, no orphan`);
    } finally {
      db.close();
    }
    const stateDirs = existsSync(join(d.execRoot, 'containers')) ? readdirSync(join(d.execRoot, 'containers')) : [];
    for (const s of stateDirs) assert.ok(rows.includes(s), `${what}: state dir ${s} belongs to a container`);
    assert.deepEqual(d.mounts(), [], `${what}: no mount`);
    return rows;
  };

  for (const how of ['SIGKILL', 'SIGTERM'] as const) {
    test(`the matrix: five situations × restart none/always, berthd stopped by ${how}`, async (t) => {
      const baseFds = fds(d.pid!).length;
      const names = new Map<string, { situation: Situation; policy: string; id: string; pid: number }>();
      for (const situation of SITUATIONS)
        for (const policy of POLICIES) {
          const name = `${how.toLowerCase()}-${situation}-${policy}`;
          const verb = situation === 'created' ? 'create' : 'run';
          const id = await ok([
            verb,
            ...(verb === 'run' ? ['-d'] : []),
            '--name',
            name,
            '--restart',
            policy,
            'busybox',
            'sh',
            '-c',
            SCRIPT,
          ]);
          names.set(name, { situation, policy, id, pid: 0 });
        }
      for (const [name, c] of names) {
        if (c.situation === 'created') continue;
        if (c.situation === 'paused') await ok(['pause', name]);
        // A manual stop: TERM, the trap exits 5.
        if (c.situation === 'exited') assert.equal(await ok(['stop', '-t', '10', name]), name);
        c.pid = (await state(name)).Pid;
      }
      // The trap must be set before a TERM means `exit 5`: the script's first line runs at once,
      // but give the shells the time to reach their loop.
      await sleep(300);

      if (how === 'SIGKILL') await d.kill9();
      else await d.terminate();
      for (const c of names.values()) if (c.situation === 'exiting') process.kill(c.pid, 'SIGTERM');
      for (const [name, c] of names)
        if (c.situation === 'exiting') await until(`${name} to exit while berthd is down`, () => !alive(c.pid));
      await d.launch();

      for (const [name, c] of names) {
        // An `always` container whose exit berthd found at its start is restarted after the
        // policy's back-off (100 ms): wait for that, bounded.
        if (c.policy === 'always' && (c.situation === 'exited' || c.situation === 'exiting'))
          await until(`${name} running again`, async () => (await state(name)).Status === 'running', 10_000).catch(() => {});
        const s = await state(name);
        const want = (() => {
          switch (c.situation) {
            case 'running':
              return { Status: 'running', Pid: c.pid };
            case 'paused':
              return { Status: 'paused', Pid: c.pid };
            case 'created':
              return { Status: 'created', ExitCode: 0 };
            default:
              // dockerd restarts `always` at its start even after a manual stop (restartmanager
              // ignores HasBeenManuallyStopped for always); the `none` ones keep the exit.
              return c.policy === 'always' ? { Status: 'running' } : { Status: 'exited', ExitCode: 5 };
          }
        })();
        for (const [k, v] of Object.entries(want)) assert.equal(s[k as keyof State], v, `${name}: State.${k} (${JSON.stringify(s)})`);
        if (want.Status === 'running' && c.situation !== 'running') assert.ok(alive(s.Pid), `${name}: pid ${s.Pid} alive`);
        if (want.Status === 'running' || want.Status === 'paused') assert.ok(alive(c.pid) || c.situation !== 'running');
      }

      // Logs: the line from before the restart and one written after it, once each.
      const running = [...names.entries()].find(([, c]) => c.situation === 'running')![0];
      if (!logsRoute) t.diagnostic('logs not asserted: GET /containers/{id}/logs is not served by this berthd yet');
      else {
        await ok(['kill', '-s', 'USR1', running]);
        let out = '';
        await until('usr1 in the logs', async () => {
          out = (await docker(['logs', running])).stdout;
          return out.includes('usr1');
        });
        assert.equal(out.split('\n').filter((l) => l === 'start').length, 1, out);
      }

      // `docker wait` on each: at once for the stopped ones, at the exit for the live ones.
      for (const [name, c] of names) {
        const s = await state(name);
        if (s.Status === 'paused') await ok(['unpause', name]);
        if (s.Status === 'running' || s.Status === 'paused') {
          const w = docker(['wait', name]);
          await sleep(200);
          await ok(['stop', '-t', '10', name]);
          const r = await w;
          assert.equal(r.stdout.trim(), '5', `${name}: docker wait after the restart (${r.stderr})`);
        } else {
          assert.equal(await ok(['wait', name]), c.situation === 'created' ? '0' : '5', `${name}: docker wait`);
        }
      }

      const ids = [...names.values()].map((c) => c.id);
      await ok(['rm', '-f', ...names.keys()]);
      await consistent(how);
      assert.deepEqual(d.liveShims(), [], 'no shim without a container');
      for (const id of ids) assert.deepEqual(cgroupDirs(id), [], `no cgroup dir of ${id}`);
      const now = fds(d.pid!);
      for (const id of ids) assert.ok(!now.some((l) => l.includes(id)), `berthd holds no fd of ${id}`);
      // The restarted berthd opened its own: its count stays near the first one's (no fd per container).
      assert.ok(now.length <= baseFds + 8, `berthd fds: ${now.length} now, ${baseFds} before the matrix`);
    });
  }

  test('a shim killed with SIGKILL: exited 255 (status lost), processes killed, removed cleanly', async () => {
    const id = await ok(['run', '-d', '--name', 'shimkill', 'busybox', 'sh', '-c', SCRIPT]);
    const pid = (await state(id)).Pid;
    const shim = shimOf(id);
    process.kill(shim, 'SIGKILL');
    await until('the exit recorded', async () => (await state(id)).Status === 'exited');
    const s = await state(id);
    assert.equal(s.ExitCode, 255);
    assert.match(s.Error, /shim/);
    await until('the orphaned container process killed', () => !alive(pid));
    assert.equal(await ok(['wait', id]), '255');
    await ok(['rm', id]);
    await consistent('shim killed');
    assert.deepEqual(cgroupDirs(id), []);
  });

  test('berthd and the shim killed: the restart finds the status lost (255), kills the rest, cleans up', async () => {
    const id = await ok(['run', '-d', '--name', 'bothkill', 'busybox', 'sh', '-c', SCRIPT]);
    const pid = (await state(id)).Pid;
    const shim = shimOf(id);
    await d.kill9();
    process.kill(shim, 'SIGKILL');
    await d.launch();
    const s = await state(id);
    assert.equal(s.Status, 'exited');
    assert.equal(s.ExitCode, 255);
    await until('the orphaned container process killed', () => !alive(pid));
    await ok(['rm', id]);
    await consistent('berthd and shim killed');
    assert.deepEqual(cgroupDirs(id), []);
    assert.deepEqual(d.liveShims(), []);
  });

  test('a removal whose cgroups were still busy (its tomb left behind): berthd removes them when it starts', async () => {
    const id = await ok(['run', '-d', '--name', 'busycg', 'busybox', 'sh', '-c', SCRIPT]);
    const pid = (await state(id)).Pid;
    const shim = shimOf(id);
    const runtime = join(d.execRoot, 'runtime');
    assert.ok(existsSync(join(runtime, id, 'state.json')), "the runtime's record of the run");
    await d.kill9();
    process.kill(shim, 'SIGKILL');
    process.kill(pid, 'SIGKILL');
    await until('the container process gone', () => !alive(pid));
    // What a removal leaves when the runtime's teardown met a busy cgroup: the run entombed, the
    // rest (row, directories) gone; nothing names the container any more but its tomb.
    renameSync(join(runtime, id), join(runtime, '~d-busytest'));
    const db = new Database(join(d.dataRoot, 'metadata.db'));
    db.prepare('DELETE FROM containers WHERE id = ?').run(id);
    db.close();
    rmSync(join(d.dataRoot, 'containers', id), { recursive: true, force: true });
    rmSync(join(d.execRoot, 'containers', id), { recursive: true, force: true });
    assert.notDeepEqual(cgroupDirs(id), [], 'the cgroups are there before the start');
    await d.launch();
    assert.deepEqual(cgroupDirs(id), []);
    assert.deepEqual(
      readdirSync(runtime).filter((n) => n.startsWith('~d-')),
      [],
      'no tomb left',
    );
    await consistent('busy cgroups');
  });

  /** Kills berthd at `point` during `verb`, restarts it, returns the container's id if it survived. */
  const crashDuring = async (point: string, verb: () => Promise<unknown>) => {
    await d.terminate();
    await d.launch({ BERTH_CRASH_AT: point });
    await verb().catch(() => {});
    if (!(await d.exited())) {
      await d.kill9();
      await d.launch();
      assert.fail(`berthd did not reach the crash point ${point}`);
    }
    await d.launch();
  };

  for (const point of ['create:snapshot', 'create:files', 'create:inserted']) {
    test(`berthd killed in create at ${point}: the container is fully there or gone`, async () => {
      await crashDuring(point, () => d.api('POST', '/containers/create?name=half', { Image: 'busybox', Cmd: ['sh', '-c', SCRIPT] }));
      const rows = await consistent(point);
      if (point === 'create:inserted') {
        assert.equal(rows.length, 1, 'committed: the container is there');
        await ok(['start', 'half']);
        assert.equal((await state('half')).Status, 'running');
        await ok(['rm', '-f', 'half']);
      } else assert.deepEqual(rows, [], 'not committed: gone');
      await consistent(`${point}, after`);
      assert.deepEqual(d.liveShims(), []);
    });
  }

  for (const point of ['start:prepared', 'start:launched', 'start:started']) {
    test(`berthd killed in start at ${point}: created, no shim or cgroup left, starts again`, async () => {
      const id = await ok(['create', '--name', 'halfstart', 'busybox', 'sh', '-c', SCRIPT]);
      await crashDuring(point, () => d.api('POST', `/containers/${id}/start`));
      const s = await state(id);
      assert.equal(s.Status, 'created', JSON.stringify(s));
      assert.deepEqual(d.liveShims(), [], 'the half-started shim is shut down');
      assert.deepEqual(cgroupDirs(id), [], 'its cgroups removed');
      await consistent(point);
      await ok(['start', id]);
      assert.equal((await state(id)).Status, 'running');
      await ok(['rm', '-f', id]);
      await consistent(`${point}, after`);
      assert.deepEqual(d.liveShims(), []);
      assert.deepEqual(cgroupDirs(id), []);
    });
  }

  for (const point of ['remove:marked', 'remove:cleaned', 'remove:snapshot']) {
    test(`berthd killed in rm -f at ${point}: the container is gone after the restart`, async () => {
      const id = await ok(['run', '-d', '--name', 'halfrm', 'busybox', 'sh', '-c', SCRIPT]);
      const pid = (await state(id)).Pid;
      await crashDuring(point, () => d.api('DELETE', `/containers/${id}?force=1`));
      assert.equal((await d.api('GET', `/containers/${id}/json`)).status, 404);
      await consistent(point);
      assert.ok(!alive(pid));
      assert.deepEqual(d.liveShims(), []);
      assert.deepEqual(cgroupDirs(id), []);
    });
  }

  test('berthd killed while an `always` container waits out its back-off: it runs again', async () => {
    // Exits at once, again and again: most of the time it is `restarting`, between two runs.
    const id = await ok(['run', '-d', '--name', 'flapper', '--restart', 'always', 'busybox', 'sh', '-c', 'sleep 0.3; exit 2']);
    await until(
      'a restart',
      async () => ((await d.api('GET', `/containers/${id}/json`)).body as { RestartCount: number }).RestartCount >= 2,
    );
    await d.kill9();
    await d.launch();
    const count = async () => ((await d.api('GET', `/containers/${id}/json`)).body as { RestartCount: number }).RestartCount;
    await until('flapper running again', async () => (await state(id)).Status === 'running');
    const n = await count();
    // The policy still holds under the new berthd: the next exit is followed by a restart.
    await until('a restart by the new berthd', async () => (await count()) > n && (await state(id)).Status === 'running');
    await ok(['rm', '-f', id]);
    await consistent('flapper');
    assert.deepEqual(d.liveShims(), []);
    assert.deepEqual(cgroupDirs(id), []);
  });

  test('berthd SIGKILLed at random moments under a create/start/rm -f workload: consistent after each restart', async () => {
    const created = new Set<string>();
    for (let round = 0; round < 8; round++) {
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const c = await d.api('POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', SCRIPT] }).catch(() => undefined);
          const id = (c?.body as { Id?: string } | undefined)?.Id;
          if (!id) return;
          created.add(id);
          await d.api('POST', `/containers/${id}/start`).catch(() => {});
          await d.api('DELETE', `/containers/${id}?force=1`).catch(() => {});
        }
      };
      const workers = Array.from({ length: 3 }, worker);
      await sleep(150 + Math.floor(Math.random() * 900));
      await d.kill9();
      stop = true;
      await Promise.all(workers);
      await d.launch();
      const rows = await consistent(`random kill, round ${round}`);
      // What survived is whole: it can be removed, and leaves nothing behind.
      for (const id of rows) await ok(['rm', '-f', id]);
      await consistent(`random kill, round ${round}, after rm`);
      assert.deepEqual(d.liveShims(), [], `round ${round}: no shim left`);
    }
    for (const id of created) assert.deepEqual(cgroupDirs(id), [], `no cgroup dir of ${id}`);
    assert.ok(created.size > 0);
  });

  test('a paused container whose shim is killed: exited 255, its frozen processes killed at once, removed cleanly', async () => {
    const id = await ok(['run', '-d', '--name', 'pausedshim', 'busybox', 'sh', '-c', `sleep 1000 & ${SCRIPT}`]);
    const pid = (await state(id)).Pid;
    await ok(['pause', id]);
    const pids = cgroupDirs(id).flatMap((dir) => readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
    assert.ok(new Set(pids).size >= 2, `the init and its sleep: ${pids}`);
    process.kill(shimOf(id), 'SIGKILL');
    // The processes are thawed right after the kill: gone within ~100 ms here. They used to
    // stay frozen until berthd's 2 s wait for the killed cgroup to empty ran out, so the bound
    // is that wait (generous, not a timing: a slower machine only takes longer the old way).
    await until('the frozen container processes killed', () => !pids.some(alive), 2_000);
    assert.ok(!alive(pid));
    await until('the exit recorded', async () => (await state(id)).Status === 'exited', 10_000);
    assert.equal((await state(id)).ExitCode, 255);
    await ok(['rm', id]);
    await consistent('paused, shim killed');
    assert.deepEqual(cgroupDirs(id), []);
  });

  test('a --rm container that exits while berthd is down is removed when berthd starts', async () => {
    const id = await ok(['run', '-d', '--rm', '--name', 'autorm', 'busybox', 'sh', '-c', SCRIPT]);
    const pid = (await state(id)).Pid;
    await sleep(300);
    await d.kill9();
    process.kill(pid, 'SIGTERM');
    await until('autorm to exit while berthd is down', () => !alive(pid));
    await d.launch();
    await until('autorm removed', async () => (await d.api('GET', `/containers/${id}/json`)).status === 404);
    await consistent('--rm after the restart');
    assert.deepEqual(d.liveShims(), []);
    assert.deepEqual(cgroupDirs(id), []);
  });
});
