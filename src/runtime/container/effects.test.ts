/**
 * create and delete against a recording fake of the host (effects-fake.ts) and a scripted
 * launcher: the order of the cgroup writes, and what a failed create or a delete undoes. No root
 * needed: the cgroupfs, /proc and signals are the fake's, the state root a temporary directory.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { defaultSpec } from '../../oci/default-spec.js';
import type { Spec } from '../../oci/spec.js';
import { RecordingEffects } from '../effects-fake.js';
import type { Launcher, LaunchMessage, LaunchSession } from '../launcher/launcher.js';
import type { LaunchPlan } from '../plan/plan.js';
import { Container } from './container.js';
import { create } from './create.js';
import { deleteContainer } from './delete.js';
import { kill } from './kill.js';

const MOUNTINFO = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
const CGROUP = `5:freezer:/
4:devices:/
3:memory:/
2:cpu,cpuacct:/
0::/
`;

function fakeHost(): RecordingEffects {
  return new RecordingEffects({
    dirs: [
      '/sys/fs/cgroup/cpu,cpuacct',
      '/sys/fs/cgroup/memory',
      '/sys/fs/cgroup/devices',
      '/sys/fs/cgroup/freezer',
      '/sys/fs/cgroup/unified',
    ],
    files: {
      '/proc/self/mountinfo': MOUNTINFO,
      '/proc/self/cgroup': CGROUP,
      '/sys/fs/cgroup/unified/cgroup.controllers': '',
    },
    processes: { [process.pid]: '1000' },
    // what the kernel puts in a new cgroup of each hierarchy
    cgroupFiles: {
      '/sys/fs/cgroup/memory': ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes', 'cgroup.procs'],
      '/sys/fs/cgroup/cpu,cpuacct': ['cpu.shares', 'cpu.cfs_period_us', 'cpu.cfs_quota_us', 'cgroup.procs'],
      '/sys/fs/cgroup/devices': ['devices.allow', 'devices.deny', 'cgroup.procs'],
      '/sys/fs/cgroup/freezer': ['freezer.state', 'cgroup.procs'],
      '/sys/fs/cgroup/unified': ['cgroup.procs', 'cgroup.events', 'cgroup.controllers'],
    },
  });
}

/** A launcher that plays berth-nsinit's part from a script. */
class ScriptedLauncher implements Launcher {
  plans: LaunchPlan[] = [];
  /** Lines the caller sent, and the host's log when each was sent. */
  sent: { line: string; log: string[] }[] = [];
  disposed = 0;
  constructor(
    private readonly fx: RecordingEffects,
    private readonly script: (plan: LaunchPlan) => LaunchMessage[],
  ) {}
  launch(plan: LaunchPlan): LaunchSession {
    this.plans.push(plan);
    const queue = this.script(plan);
    const fx = this.fx;
    let resolveExit!: (n: number) => void;
    const exited = new Promise<number>((r) => {
      resolveExit = r;
    });
    const session: LaunchSession = {
      exited,
      next: async () => {
        const m = queue.shift() ?? { type: 'eof' };
        if (m.type === 'pid') {
          // with cgroups-wait, the parent stage opens cgroup.procs only after the caller's `cgroups`
          if (plan.cgroupsWait && !this.sent.some((s) => s.line === 'cgroups')) return { type: 'eof' };
          // what the parent stage does before it reports the pid
          fx.processes.set(m.pid, '5555');
          for (const procs of plan.cgroupProcs) fx.writeFile(procs, String(m.pid));
        }
        // the parent stage exits once the container is created (or has failed)
        if (m.type === 'created' || m.type === 'eof' || m.type === 'error') resolveExit(m.type === 'error' ? 1 : 0);
        return m;
      },
      async expect(type) {
        const m = await session.next();
        if (m.type !== type) throw new Error(m.type === 'error' ? m.message : `expected ${type}, got ${m.type}`);
        return m as never;
      },
      send: (line) => {
        this.sent.push({ line, log: fx.log() });
      },
      signal: () => {},
      detach: () => {},
      [Symbol.dispose]: () => {
        this.disposed++;
        resolveExit(137);
      },
      [Symbol.asyncDispose]: async () => {
        this.disposed++;
        resolveExit(137);
      },
    };
    return session;
  }
}

function tempBundle(t: { after: (fn: () => void) => void }, edit: (s: Spec) => void = () => {}): { root: string; bundle: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-fx-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bundle = path.join(dir, 'bundle');
  mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  const spec = defaultSpec();
  spec.process!.terminal = false;
  edit(spec);
  writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  return { root: path.join(dir, 'root'), bundle };
}

const leftInRoot = (root: string) => readdirSync(root).filter((n) => n !== '~lock-salt');

test('create: the helper starts first and waits; cgroups made before any write, limits written in order, all before `cgroups`', async (t) => {
  const fx = fakeHost();
  const { root, bundle } = tempBundle(t, (s) => {
    s.linux!.resources = {
      ...s.linux!.resources,
      memory: { limit: 64 << 20, swap: 128 << 20 },
      cpu: { shares: 512, quota: 50000, period: 100000 },
    };
  });
  let atLaunch: string[] = [];
  const launcher = new ScriptedLauncher(fx, () => {
    atLaunch = fx.log();
    return [{ type: 'pid', pid: 4242 }, { type: 'created' }, { type: 'eof' }];
  });
  await create({ root, id: 'c1', bundle, launcher, effects: fx });
  assert.equal(launcher.plans[0]?.cgroupsWait, true, 'the plan says cgroups-wait');
  assert.ok(
    !atLaunch.some((l) => l.startsWith('mkdir') || l.startsWith('write')),
    `the helper starts before any cgroup is made:\n${atLaunch.join('\n')}`,
  );
  assert.deepEqual(
    launcher.sent.map((s) => s.line),
    ['cgroups'],
  );
  const log = launcher.sent[0]!.log;
  const firstWrite = log.findIndex((l) => l.startsWith('write'));
  const lastMkdir = log.findLastIndex((l) => l.startsWith('mkdir'));
  assert.ok(lastMkdir < firstWrite, `every mkdir before the first write:\n${log.join('\n')}`);
  const writes = log.filter((l) => l.startsWith('write')).map((l) => l.replace('write /sys/fs/cgroup/', ''));
  assert.deepEqual(
    writes.filter((w) => !w.startsWith('devices/')),
    // runc's order (writes.ts): memory first, memsw before the limit when raising both
    [
      'memory/c1/memory.memsw.limit_in_bytes 134217728',
      'memory/c1/memory.limit_in_bytes 67108864',
      'cpu,cpuacct/c1/cpu.shares 512',
      'cpu,cpuacct/c1/cpu.cfs_period_us 100000',
      'cpu,cpuacct/c1/cpu.cfs_quota_us 50000',
    ],
  );
  // the device rules: deny everything first, then allow
  const devices = writes.filter((w) => w.startsWith('devices/'));
  assert.equal(devices[0], 'devices/c1/devices.deny a *:* rwm');
  assert.ok(devices.slice(1).every((w) => w.startsWith('devices/c1/devices.allow ')));
  // the allow rules through one open of devices.allow, a write(2) each
  assert.deepEqual(
    fx.writeEachCalls.map((c) => [c.file, c.values.length]),
    [['/sys/fs/cgroup/devices/c1/devices.allow', devices.length - 1]],
  );
  const c = await Container.load(root, 'c1');
  assert.equal(c.record.phase, 'created');
  assert.equal(c.record.pid, 4242);
});

test('create: a launcher failure after pid kills the init and removes cgroups and record', async (t) => {
  const fx = fakeHost();
  const { root, bundle } = tempBundle(t);
  const launcher = new ScriptedLauncher(fx, () => [
    { type: 'pid', pid: 4242 },
    { type: 'error', errno: 1, message: "mount 'proc' on '/proc': operation not permitted" },
  ]);
  await assert.rejects(create({ root, id: 'c2', bundle, launcher, effects: fx }), /mount 'proc'/);
  const log = fx.log();
  const kill = log.indexOf('kill 4242 SIGKILL');
  assert.ok(kill >= 0, `the init is killed:\n${log.join('\n')}`);
  const made = log.filter((l) => l.startsWith('mkdir ')).map((l) => l.slice(6));
  const removed = log
    .slice(kill)
    .filter((l) => l.startsWith('rmdir '))
    .map((l) => l.slice(6));
  assert.deepEqual(removed.sort(), made.sort(), 'after the kill, every cgroup made is removed');
  assert.deepEqual(leftInRoot(root), [], 'no state directory, staging directory or tomb');
});

for (const cgroupsFirst of [false, true])
  test(`create: a refused cgroup write removes what was made; ${cgroupsFirst ? 'cgroupsFirst: the launcher is never called' : 'the waiting helper is disposed of, never told `cgroups`'}`, async (t) => {
    const fx = fakeHost();
    fx.failWrite = (file) => (file.endsWith('memory.limit_in_bytes') ? 'EINVAL' : undefined);
    const { root, bundle } = tempBundle(t, (s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 1 } };
    });
    const launcher = new ScriptedLauncher(fx, () => [{ type: 'pid', pid: 1 }]);
    await assert.rejects(
      create({ root, id: 'c3', bundle, launcher, effects: fx, ...(cgroupsFirst ? { cgroupsFirst } : {}) }),
      /memory\.limit_in_bytes' '1': invalid argument/,
    );
    if (cgroupsFirst) assert.equal(launcher.plans.length, 0);
    else {
      assert.equal(launcher.plans.length, 1);
      assert.deepEqual(launcher.sent, [], 'never told `cgroups`');
      assert.equal(launcher.disposed, 1, 'disposed of');
    }
    assert.ok(!fx.log().some((l) => l.startsWith('kill')), 'nothing to kill');
    assert.deepEqual(
      [...fx.dirs].filter((d) => d.endsWith('/c3')),
      [],
      'no cgroup left',
    );
    assert.deepEqual(leftInRoot(root), []);
  });

test('create: a device rule the kernel refuses is named, with its file; nothing is left', async (t) => {
  const fx = fakeHost();
  fx.failWrite = (file, value) => (file.endsWith('devices.allow') && value.startsWith('c 1:5 ') ? 'EINVAL' : undefined);
  const { root, bundle } = tempBundle(t);
  const launcher = new ScriptedLauncher(fx, () => [{ type: 'pid', pid: 1 }]);
  await assert.rejects(
    create({ root, id: 'c5', bundle, launcher, effects: fx }),
    /write '\/sys\/fs\/cgroup\/devices\/c5\/devices\.allow' 'c 1:5 rwm': invalid argument/,
  );
  assert.deepEqual(
    [...fx.dirs].filter((d) => d.endsWith('/c5')),
    [],
    'no cgroup left',
  );
  assert.deepEqual(leftInRoot(root), []);
});

test('create: a cgroupsPath that is a root cgroup is refused before anything is made', async (t) => {
  for (const cgroupsPath of ['/', '/x/..', '../../../..']) {
    const fx = fakeHost();
    const { root, bundle } = tempBundle(t, (s) => {
      s.linux!.cgroupsPath = cgroupsPath;
    });
    const launcher = new ScriptedLauncher(fx, () => [{ type: 'pid', pid: 1 }]);
    await assert.rejects(create({ root, id: 'c-root', bundle, launcher, effects: fx }), /linux\.cgroupsPath .* is the root of /);
    assert.equal(launcher.plans.length, 0);
    assert.deepEqual(fx.log(), [], `nothing done for ${cgroupsPath}`);
    assert.ok(!existsSync(root) || leftInRoot(root).length === 0, 'no state');
  }
});

test('delete --force: kills the init and every process of the cgroups, then removes the cgroups and the record', async (t) => {
  const fx = fakeHost();
  const { root, bundle } = tempBundle(t);
  const launcher = new ScriptedLauncher(fx, () => [{ type: 'pid', pid: 4242 }, { type: 'created' }, { type: 'eof' }]);
  await create({ root, id: 'c4', bundle, launcher, effects: fx });
  // a second process joined the container (an exec)
  fx.processes.set(4343, '6000');
  for (const h of ['cpu,cpuacct', 'memory', 'devices', 'freezer', 'unified']) fx.writeFile(`/sys/fs/cgroup/${h}/c4/cgroup.procs`, '4343');
  const before = fx.calls.length;
  await deleteContainer(root, 'c4', true, { effects: fx });
  const log = fx.log().slice(before);
  const kills = log.filter((l) => l.startsWith('kill'));
  assert.deepEqual(kills.sort(), ['kill 4242 SIGKILL', 'kill 4343 SIGKILL']);
  const firstRmdir = log.findIndex((l) => l.startsWith('rmdir'));
  assert.ok(log.findLastIndex((l) => l.startsWith('kill')) < firstRmdir, `kills before removals:\n${log.join('\n')}`);
  assert.deepEqual(
    [...fx.dirs].filter((d) => d.endsWith('/c4')),
    [],
    'no cgroup left',
  );
  assert.deepEqual(leftInRoot(root), []);
  // and a second delete --force of the same id succeeds without touching anything
  const n = fx.calls.length;
  assert.deepEqual(await deleteContainer(root, 'c4', true, { effects: fx }), []);
  assert.equal(fx.calls.length, n);
});

test('a delete that died half-way: the next delete finishes its tomb; staging of a dead creator goes, of a live one stays', async (t) => {
  const fx = fakeHost();
  const { root, bundle } = tempBundle(t);
  const launcher = new ScriptedLauncher(fx, () => [{ type: 'pid', pid: 4242 }, { type: 'created' }, { type: 'eof' }]);
  await create({ root, id: 'c5', bundle, launcher, effects: fx });
  // what a delete leaves when it dies right after renaming the directory to its tomb
  renameSync(path.join(root, 'c5'), path.join(root, '~d-0123456789abcdef'));
  const staged = (creator: number) => {
    const dir = path.join(root, `~c-${creator}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ id: 'x', creator: { pid: creator, startTime: '7' }, cgroups: [] }));
  };
  fx.processes.set(777, '7');
  staged(777); // its creator lives
  staged(778); // its creator is gone
  assert.deepEqual(await deleteContainer(root, 'other', true, { effects: fx }), []);
  assert.ok(fx.log().includes('kill 4242 SIGKILL'), "the tomb's init is killed");
  assert.deepEqual(
    [...fx.dirs].filter((d) => d.endsWith('/c5')),
    [],
    "the tomb's cgroups are removed",
  );
  assert.deepEqual(leftInRoot(root), ['~c-777']);
});

test('kill --all: freezes, signals every process of the cgroup and the init, thaws', async (t) => {
  const fx = fakeHost();
  const { root, bundle } = tempBundle(t);
  const launcher = new ScriptedLauncher(fx, () => [{ type: 'pid', pid: 4242 }, { type: 'created' }, { type: 'eof' }]);
  await create({ root, id: 'c6', bundle, launcher, effects: fx });
  fx.processes.set(4343, '6000');
  for (const h of ['cpu,cpuacct', 'memory', 'devices', 'freezer', 'unified']) fx.writeFile(`/sys/fs/cgroup/${h}/c6/cgroup.procs`, '4343');
  const before = fx.calls.length;
  await kill(root, 'c6', 15, true, { effects: fx });
  assert.deepEqual(fx.log().slice(before), [
    'write /sys/fs/cgroup/freezer/c6/freezer.state FROZEN',
    'kill 4242 15',
    'kill 4343 15',
    'write /sys/fs/cgroup/freezer/c6/freezer.state THAWED',
  ]);
  await deleteContainer(root, 'c6', true, { effects: fx });
});

/** A launcher that reports the pid, then waits for `gate` before `created` (a create caught in between). */
function pausedAfterPid(fx: RecordingEffects, pid: number, gate: Promise<void>): ScriptedLauncher {
  const launcher = new ScriptedLauncher(fx, () => [{ type: 'pid', pid }, { type: 'created' }, { type: 'eof' }]);
  const launch = launcher.launch.bind(launcher);
  launcher.launch = (plan) => {
    const session = launch(plan);
    const next = session.next;
    let n = 0;
    session.next = async () => {
      if (n++ === 1) await gate;
      return next();
    };
    return session;
  };
  return launcher;
}

test('create without hooks records the pid with created; a delete --force in between finds the init by its cgroups', async (t) => {
  const fx = fakeHost();
  const { root, bundle } = tempBundle(t);
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const creating = create({ root, id: 'c6', bundle, launcher: pausedAfterPid(fx, 4646, gate), effects: fx });
  creating.catch(() => {});
  // wait until the launcher has reported the pid (the cgroups hold the init)
  for (let i = 0; i < 200 && fx.readFile('/sys/fs/cgroup/memory/c6/cgroup.procs') !== '4646'; i++)
    await new Promise((r) => setTimeout(r, 5));
  const onDisk = await Container.load(root, 'c6');
  assert.equal(onDisk.record.phase, 'creating');
  assert.equal(onDisk.record.pid, 0, 'one record write less: the pid comes with created');
  const before = fx.calls.length;
  await deleteContainer(root, 'c6', true, { effects: fx });
  const log = fx.log().slice(before);
  assert.deepEqual(
    log.filter((l) => l.startsWith('kill')),
    ['kill 4646 SIGKILL'],
    `the init, through its cgroups:\n${log.join('\n')}`,
  );
  assert.deepEqual(leftInRoot(root), []);
  open();
  await assert.rejects(creating, /c6 was deleted while being created/);
});

test('create with hooks records the pid as soon as it is known (hooks see it; poststop needs it)', async (t) => {
  const fx = fakeHost();
  const { root, bundle } = tempBundle(t, (s) => {
    s.hooks = { poststop: [{ path: '/bin/true' }] };
  });
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const creating = create({ root, id: 'c7', bundle, launcher: pausedAfterPid(fx, 4747, gate), effects: fx });
  let pid = 0;
  for (let i = 0; i < 200 && pid === 0; i++) {
    await new Promise((r) => setTimeout(r, 5));
    pid = (await Container.load(root, 'c7').catch(() => undefined))?.record.pid ?? 0;
  }
  assert.equal(pid, 4747);
  open();
  await creating;
  assert.equal((await Container.load(root, 'c7')).record.phase, 'created');
});
