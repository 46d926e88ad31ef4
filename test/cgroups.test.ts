/**
 * cgroup resource management through berth-runtime, with real containers: limits written and
 * enforced (memory → OOM kill and exit 137, pids → fork capped), cpu settings, device rules
 * (v1 devices lists; the v2 BPF filter), pause/resume, update, ps, events (stats and OOM),
 * and the same cgroup file values as runc for the same bundle.
 *
 * On this project's CI host (hybrid: v1 controllers, cgroup2 at /sys/fs/cgroup/unified with
 * only hugetlb) the v2 driver is exercised twice: forced with BERTH_CGROUP_DRIVER=v2, and as a
 * pure v2 layout in a private mount namespace with cgroup2 mounted at /sys/fs/cgroup. There,
 * what cgroup2 can do without controllers is checked (device filter, freezer, unified files,
 * hugetlb); memory, cpu, io and pids limits cannot be, since v1 holds those controllers, and
 * the runtime is checked to refuse them with the reason. Each test skips with its reason on a
 * host that lacks what it needs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupDirsOf, readTrim, removeCgroupTreesNamed } from './conformance/common.js';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { mustCreate, mustRun, state, waitFor, waitForExit, waitForStatus } from './helpers/container.js';
import { cgroupLayout, needsBinary, needsCgroupController, needsCgroupLayout, requires, v1Controllers } from './helpers/requires.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { backgroundRuntime, createRuntime, describeResult, REPO_ROOT, type Runtime, runCommand } from './helpers/runtime.js';
import type { Spec } from './helpers/spec.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : (rootfsUnavailable() ?? createRuntime('berth').unavailable);
const CGROUP_BPF = join(REPO_ROOT, 'native', 'build', 'berth-cgroup-bpf');
const MiB = 1024 * 1024;

/** The cgroup2 mount of this host, if any. */
function cgroup2Mount(): string | undefined {
  const l = cgroupLayout();
  return l === 'v2' ? '/sys/fs/cgroup' : l === 'hybrid' ? '/sys/fs/cgroup/unified' : undefined;
}

function needsCgroup2(): string | undefined {
  return cgroup2Mount() === undefined ? `needs a cgroup2 hierarchy (this host: ${cgroupLayout()})` : undefined;
}

/** The file of a setting in the container's cgroup: the v1 controller's, or on a v2 host the cgroup2 one. */
function limitFile(pid: number, v1ctrl: string, v1file: string, v2file: string): string {
  const dirs = cgroupDirsOf(pid);
  const dir = cgroupLayout() !== 'v2' && v1Controllers().has(v1ctrl) ? dirs.get(v1ctrl) : dirs.get('');
  if (dir === undefined) throw new Error(`process ${pid} is in no ${v1ctrl} cgroup`);
  return join(dir, cgroupLayout() !== 'v2' && v1Controllers().has(v1ctrl) ? v1file : v2file);
}

/** A config with the busybox shell running `script`. */
function shell(s: Spec, script: string): void {
  if (s.process) s.process.args = ['sh', '-c', script];
}

function withResources(s: Spec, resources: Record<string, unknown>, cgroupsPath?: string): void {
  s.linux = { ...s.linux, resources: { ...s.linux?.resources, ...resources } };
  if (cgroupsPath !== undefined) s.linux.cgroupsPath = cgroupsPath;
}

function addCaps(s: Spec, ...caps: string[]): void {
  const c = s.process?.capabilities;
  if (!c) return;
  for (const set of ['bounding', 'effective', 'permitted'] as const) c[set] = [...new Set([...(c[set] ?? []), ...caps])];
}

/** berth-runtime in the background (events streams until the container stops). */
function background(rt: Runtime, args: string[], env: Record<string, string | undefined> = {}) {
  const bg = backgroundRuntime(rt, args, { env });
  return { exited: bg.exited, out: bg.stdout, err: bg.stderr, kill: bg.kill };
}

/** Reads the root cgroup2 subtree_control, to restore what a v2 container enabled there. */
function rememberSubtreeControl(b: Bundle): void {
  const root = cgroup2Mount();
  if (!root) return;
  const file = join(root, 'cgroup.subtree_control');
  const before = new Set(readTrim(file).split(/\s+/).filter(Boolean));
  b.defer(() => {
    for (const c of readTrim(file).split(/\s+/).filter(Boolean)) {
      if (before.has(c)) continue;
      try {
        writeFileSync(file, `-${c}`);
      } catch {
        /* still in use below: leave it */
      }
    }
  });
}

/**
 * The blkio weight file a v1 blkio cgroup has on this host (`blkio.weight` with CFQ,
 * `blkio.bfq.weight` with BFQ), or undefined when the kernel has neither I/O scheduler: then a
 * weight cannot be set at all. Looked for in a scratch child cgroup, as neither file is on the root.
 */
function blkioWeightFile(): string | undefined {
  const mount = v1Controllers().get('blkio');
  if (mount === undefined) return undefined;
  const dir = join(mount, `berth-cgtest-weight-probe-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  try {
    return ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(join(dir, f)));
  } finally {
    rmdirSync(dir);
  }
}

function procState(pid: number): string {
  return /^State:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
}

describe('cgroups through berth-runtime', { skip }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  /** A bundle whose container gets the cgroup `/berth-cgtest-<id>`, removed at the end whatever happens. */
  async function bundle(id: string, edit: (s: Spec, cgroupsPath: string) => void): Promise<Bundle> {
    const b = await Bundle.create();
    const name = `berth-cgtest-${id}`;
    b.defer(() => removeCgroupTreesNamed(name, 2));
    await b.editConfig((s) => edit(s, `/${name}`));
    return b;
  }

  test('memory: the limit is in the cgroup files and a memory hog is OOM-killed (run exits 137)', async (t) => {
    if (!requires(t, needsCgroupController('memory'))) return;
    const id = uniqueId('mem');
    await using b = await bundle(id, (s, p) => {
      shell(s, 'exec sleep 100');
      withResources(s, { memory: { limit: 32 * MiB, reservation: 16 * MiB } }, p);
    });
    const c = await mustCreate(rt, b, id);
    assert.equal(readTrim(limitFile(c.pid(), 'memory', 'memory.limit_in_bytes', 'memory.max')), String(32 * MiB));
    assert.equal(readTrim(limitFile(c.pid(), 'memory', 'memory.soft_limit_in_bytes', 'memory.low')), String(16 * MiB));
    await mustRun(rt, ['delete', '--force', id]);

    // busybox tail buffers /dev/zero's endless line: it grows until the limit kills it
    const hog = uniqueId('hog');
    await using h = await bundle(hog, (s, p) => {
      if (s.process) s.process.args = ['tail', '/dev/zero'];
      withResources(s, { memory: { limit: 32 * MiB } }, p);
    });
    h.track(rt, hog);
    const r = await rt.run(['run', '--bundle', h.dir, hog], { guardMs: 60_000 });
    assert.equal(r.code, 137, describeResult(r));
    assert.ok(!existsSync(join(rt.rootDir, hog)), 'the foreground run removed the container');
  });

  test('memory: events reports the OOM kill as {"type":"oom"}, and --stats the usage', async (t) => {
    if (!requires(t, needsCgroupController('memory'))) return;
    const id = uniqueId('oom');
    await using b = await bundle(id, (s, p) => {
      if (s.process) s.process.args = ['tail', '/dev/zero'];
      withResources(s, { memory: { limit: 24 * MiB } }, p);
    });
    await mustCreate(rt, b, id);
    const stats = await mustRun(rt, ['events', '--stats', id]);
    const ev = JSON.parse(stats.stdout) as {
      type: string;
      id: string;
      data: { memory: { usage: { limit: number; usage?: number } }; pids: { current?: number } };
    };
    assert.equal(ev.type, 'stats');
    assert.equal(ev.id, id);
    assert.equal(ev.data.memory.usage.limit, 24 * MiB);
    assert.ok((ev.data.memory.usage.usage ?? 0) > 0, 'memory usage is reported');
    assert.equal(ev.data.pids.current, 1);
    const events = background(rt, ['events', '--interval', '200ms', id]);
    try {
      await sleep(300);
      await mustRun(rt, ['start', id]);
      const code = await Promise.race([events.exited, sleep(30_000).then(() => 'timeout')]);
      assert.equal(code, 0, `events: ${events.err()}`);
      const lines = events
        .out()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string; id: string });
      assert.ok(
        lines.some((l) => l.type === 'oom' && l.id === id),
        `an oom event among:\n${events.out()}`,
      );
      assert.equal((await state(rt, id)).status, 'stopped');
    } finally {
      events.kill();
    }
  });

  test('pids: the limit caps a fork loop', async (t) => {
    if (!requires(t, needsCgroupController('pids'))) return;
    const id = uniqueId('pids');
    await using b = await bundle(id, (s, p) => {
      // busybox sh gives up on the first fork that fails: the loop runs in a child shell
      shell(s, "sh -c 'i=0; while [ $i -lt 40 ]; do sleep 100 & i=$((i+1)); done'; echo done > /dev/shm/done; exec sleep 100");
      withResources(s, { pids: { limit: 10 } }, p);
    });
    const c = await mustCreate(rt, b, id);
    await mustRun(rt, ['start', id]);
    await waitFor('the fork loop to end', () => (existsSync(`/proc/${c.pid()}/root/dev/shm/done`) ? true : undefined));
    assert.equal(readTrim(limitFile(c.pid(), 'pids', 'pids.max', 'pids.max')), '10');
    // init plus the sleeps the loop could start before a fork failed (its own shell has exited)
    const current = Number(readTrim(limitFile(c.pid(), 'pids', 'pids.current', 'pids.current')));
    assert.equal(current, 9, `pids.current ${current}`);
    assert.match(await c.stderr(), /can't fork/);
    assert.match(readTrim(limitFile(c.pid(), 'pids', 'pids.events', 'pids.events')), /^max [1-9]/m);
    const ps = await mustRun(rt, ['ps', '--format', 'json', id]);
    assert.equal((JSON.parse(ps.stdout) as number[]).length, current);
  });

  test('cpu: shares, quota and period, cpuset cpus; a refused value names the file and the value', async (t) => {
    if (!requires(t, needsCgroupController('cpu'), needsCgroupController('cpuset'))) return;
    const id = uniqueId('cpu');
    await using b = await bundle(id, (s, p) => {
      shell(s, 'exec sleep 100');
      withResources(s, { cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' } }, p);
    });
    const c = await mustCreate(rt, b, id);
    const pid = c.pid();
    if (cgroupLayout() === 'v2') {
      assert.equal(readTrim(limitFile(pid, 'cpu', '', 'cpu.weight')), '59');
      assert.equal(readTrim(limitFile(pid, 'cpu', '', 'cpu.max')), '50000 100000');
    } else {
      assert.equal(readTrim(limitFile(pid, 'cpu', 'cpu.shares', '')), '512');
      assert.equal(readTrim(limitFile(pid, 'cpu', 'cpu.cfs_quota_us', '')), '50000');
      assert.equal(readTrim(limitFile(pid, 'cpu', 'cpu.cfs_period_us', '')), '100000');
    }
    assert.equal(readTrim(limitFile(pid, 'cpuset', 'cpuset.cpus', 'cpuset.cpus')), '0');
  });

  test('cpu (v1): more realtime runtime than period is refused, naming the file and the value; nothing is left', async (t) => {
    // cgroup v2 has no cpu.rt_* files: the runtime refuses realtime settings there before writing
    if (!requires(t, needsCgroupController('cpu'), needsCgroupLayout('v1', 'hybrid'))) return;
    // the kernel says EINVAL
    const bad = uniqueId('cpu-bad');
    await using bb = await bundle(bad, (s, p) => {
      withResources(s, { cpu: { realtimePeriod: 1000000, realtimeRuntime: 2000000 } }, p);
    });
    const r = await rt.run(['create', '--bundle', bb.dir, bad]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`write '/sys/fs/cgroup/cpu[^']*/berth-cgtest-${bad}/cpu.rt_runtime_us' '2000000': invalid argument`));
    assert.ok(!existsSync(join(rt.rootDir, bad)), 'no state left');
    assert.ok(!existsSync(join(v1Controllers().get('cpu') ?? '/nonexistent', `berth-cgtest-${bad}`)), 'no cgroup left');
  });

  test('pause and resume: status paused in state and list, processes frozen, then running again', async (t) => {
    if (!requires(t, needsCgroupController('freezer'))) return;
    const id = uniqueId('pause');
    await using b = await bundle(id, (s, p) => {
      // appends only: a freeze between truncate and write would leave an empty file
      shell(s, 'while :; do echo x >> /dev/shm/n; done');
      withResources(s, {}, p);
    });
    const c = await mustCreate(rt, b, id);
    await mustRun(rt, ['start', id]);
    const pid = c.pid();
    const counter = join('/proc', String(pid), 'root/dev/shm/n');
    const read = () => waitFor('the counter', () => (existsSync(counter) ? statSync(counter).size : undefined));
    await read();
    await mustRun(rt, ['pause', id]);
    assert.equal((await state(rt, id)).status, 'paused');
    const list = JSON.parse((await mustRun(rt, ['list', '--format', 'json'])).stdout) as { id: string; status: string }[];
    assert.equal(list.find((x) => x.id === id)?.status, 'paused');
    assert.match((await mustRun(rt, ['list'])).stdout, new RegExp(`${id}\\s+${pid}\\s+paused`));
    assert.equal(readTrim(limitFile(pid, 'freezer', 'freezer.state', 'cgroup.freeze')), cgroupLayout() === 'v2' ? '1' : 'FROZEN');
    const frozenAt = await read();
    await sleep(300);
    assert.equal(await read(), frozenAt, 'the loop does not advance while paused');
    if (cgroupLayout() !== 'v2') assert.match(procState(pid), /^D/, 'a frozen task sleeps in the freezer');
    // what a paused container refuses
    const again = await rt.run(['pause', id]);
    assert.match(again.stderr, /container not running/);
    const del = await rt.run(['delete', id]);
    assert.match(del.stderr, /cannot delete container .* that is not stopped: paused/);
    await mustRun(rt, ['resume', id]);
    await waitForStatus(rt, id, 'running');
    await waitFor('the loop to go on', async () => ((await read()) !== frozenAt ? true : undefined));
    assert.match(procState(pid), /^[RS]/);
    assert.match((await rt.run(['resume', id])).stderr, /container not paused/);
    // delete --force of a paused container works
    await mustRun(rt, ['pause', id]);
    await mustRun(rt, ['delete', '--force', id]);
    await waitForExit(pid);
  });

  test('update changes the limits of a running container (flags and --resources JSON), and records them', async (t) => {
    if (!requires(t, needsCgroupController('memory'), needsCgroupController('pids'), needsCgroupController('cpu'))) return;
    const id = uniqueId('upd');
    await using b = await bundle(id, (s, p) => {
      shell(s, 'exec sleep 100');
      withResources(s, { memory: { limit: 64 * MiB }, pids: { limit: 20 }, cpu: { shares: 1024 } }, p);
    });
    const c = await mustCreate(rt, b, id);
    await mustRun(rt, ['start', id]);
    const pid = c.pid();
    const mem = limitFile(pid, 'memory', 'memory.limit_in_bytes', 'memory.max');
    const pids = limitFile(pid, 'pids', 'pids.max', 'pids.max');
    await mustRun(rt, ['update', '--memory', '128m', '--pids-limit', '30', id]);
    assert.equal(readTrim(mem), String(128 * MiB));
    assert.equal(readTrim(pids), '30');
    await mustRun(rt, ['update', '--resources', '-', id], { input: JSON.stringify({ cpu: { shares: 256 }, memory: { limit: 96 * MiB } }) });
    assert.equal(readTrim(mem), String(96 * MiB));
    assert.equal(readTrim(pids), '30', 'what the update does not name stays');
    if (cgroupLayout() !== 'v2') assert.equal(readTrim(limitFile(pid, 'cpu', 'cpu.shares', '')), '256');
    const ev = JSON.parse((await mustRun(rt, ['events', '--stats', id])).stdout) as {
      data: { memory: { usage: { limit: number } }; pids: { limit: number } };
    };
    assert.equal(ev.data.memory.usage.limit, 96 * MiB);
    assert.equal(ev.data.pids.limit, 30);
    const recorded = JSON.parse(readFileSync(join(rt.rootDir, id, 'state.json'), 'utf8')) as { config: Spec };
    assert.deepEqual(recorded.config.linux?.resources?.pids, { limit: 30 });
    // refused: bad values, Intel RDT, a stopped container
    assert.match((await rt.run(['update', '--memory', 'lots', id])).stderr, /invalid value for --memory: 'lots'/);
    assert.match((await rt.run(['update', '--l3-cache-schema', 'L3:0=f', id])).stderr, /not supported/);
    assert.match(
      (await rt.run(['update', '--resources', '-', id], { input: '{"memory":{"limit":"1g"}}' })).stderr,
      /resources\.memory\.limit: expected integer, got string/,
    );
    await mustRun(rt, ['kill', id, 'KILL']);
    await waitForStatus(rt, id, 'stopped');
    assert.match((await rt.run(['update', '--memory', '64m', id])).stderr, /container not running/);
  });

  test("ps lists the container's processes (table, other ps options, json)", async () => {
    const id = uniqueId('ps');
    await using b = await bundle(id, (s, p) => {
      shell(s, 'sleep 101 & sleep 102 & echo ready > /dev/shm/ready; wait');
      withResources(s, {}, p);
    });
    const c = await mustCreate(rt, b, id);
    await mustRun(rt, ['start', id]);
    await waitFor('the children', () => (existsSync(`/proc/${c.pid()}/root/dev/shm/ready`) ? true : undefined));
    const json = JSON.parse((await mustRun(rt, ['ps', '--format', 'json', id])).stdout) as number[];
    assert.equal(json.length, 3);
    assert.ok(json.includes(c.pid()));
    const table = (await mustRun(rt, ['ps', id])).stdout.trim().split('\n');
    assert.match(table[0] ?? '', /^UID\s+PID\s+PPID/);
    assert.equal(table.length, 4, table.join('\n'));
    assert.ok(table.some((l) => /sleep 101$/.test(l)) && table.some((l) => /sleep 102$/.test(l)));
    const custom = (await mustRun(rt, ['ps', id, '-o', 'pid,comm'])).stdout.trim().split('\n');
    assert.match(custom[0] ?? '', /^\s*PID\s+COMMAND$/);
    assert.deepEqual(
      custom
        .slice(1)
        .map((l) => Number(l.trim().split(/\s+/)[0]))
        .sort(),
      [...json].sort(),
    );
    assert.match((await rt.run(['ps', id, '-o', 'comm'])).stderr, /couldn't find PID field in ps output/);
  });

  test('devices (v1): /dev/null usable, a device outside the rules denied even after mknod', async (t) => {
    if (!requires(t, needsCgroupController('devices'), needsCgroupLayout('v1', 'hybrid'))) return;
    const id = uniqueId('dev');
    await using b = await bundle(id, (s, p) => {
      shell(
        s,
        'echo x > /dev/null && head -c 1 /dev/zero > /dev/null && echo null-ok; mknod /dev/mem2 c 1 1 && echo mknod-ok; head -c 1 /dev/mem2; echo status=$?',
      );
      addCaps(s, 'CAP_MKNOD');
      withResources(s, {}, p);
    });
    b.track(rt, id);
    const r = await rt.run(['run', '--bundle', b.dir, id]);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /null-ok\nmknod-ok\nstatus=1/);
    assert.match(r.stderr, /\/dev\/mem2: Operation not permitted/);
  });

  test('same cgroup file values as runc for the same bundle', async (t) => {
    if (!requires(t, needsCgroupLayout('v1', 'hybrid'), needsBinary('runc'))) return;
    await using runc = createRuntime('runc');
    if (!requires(t, runc.unavailable)) return;
    // A weight needs CFQ or BFQ; without either both runtimes refuse it (the next test).
    const weightFile = blkioWeightFile();
    if (weightFile === undefined) t.diagnostic('blkio weight not compared: this kernel has no blkio.weight nor blkio.bfq.weight');
    const resources = {
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
        { allow: false, type: 'c', major: 1, minor: 5, access: 'w' },
      ],
      memory: { limit: 64 * MiB, reservation: 32 * MiB, swap: 128 * MiB, swappiness: 20 },
      cpu: { shares: 700, quota: 30000, period: 60000, cpus: '0', mems: '0' },
      pids: { limit: 33 },
      ...(weightFile !== undefined ? { blockIO: { weight: 200 } } : {}),
    };
    const files: [string, string][] = [
      ['memory', 'memory.limit_in_bytes'],
      ['memory', 'memory.soft_limit_in_bytes'],
      ['memory', 'memory.memsw.limit_in_bytes'],
      ['memory', 'memory.swappiness'],
      ['cpu', 'cpu.shares'],
      ['cpu', 'cpu.cfs_quota_us'],
      ['cpu', 'cpu.cfs_period_us'],
      ['cpuset', 'cpuset.cpus'],
      ['cpuset', 'cpuset.mems'],
      ['pids', 'pids.max'],
      ['blkio', 'blkio.bfq.weight'],
      ['blkio', 'blkio.weight'],
      ['devices', 'devices.list'],
    ];
    const values: Record<string, Record<string, string>> = {};
    for (const r of [rt, runc]) {
      const id = uniqueId(`cmp-${r.name}`);
      await using b = await bundle(id, (s, p) => {
        shell(s, 'exec sleep 100');
        withResources(s, resources, p);
      });
      await mustCreate(r, b, id);
      const v: Record<string, string> = {};
      for (const [ctrl, f] of files) {
        const mount = v1Controllers().get(ctrl);
        const file = join(mount ?? '/nonexistent', `berth-cgtest-${id}`, f);
        if (!existsSync(file)) continue;
        // runc < 1.2 still allows /dev/net/tun (10:200) by default; berth follows runc 1.2
        v[f] = readTrim(file)
          .split('\n')
          .filter((l) => l !== 'c 10:200 rwm')
          .join('\n');
      }
      values[r.name] = v;
      await mustRun(r, ['delete', '--force', id]);
    }
    assert.ok(Object.keys(values.berth ?? {}).length >= 10, JSON.stringify(values.berth));
    assert.deepEqual(values.berth, values.runc);
  });

  test('blkio weight on a kernel without CFQ or BFQ: refused as runc does, naming the missing file', async (t) => {
    if (!requires(t, needsCgroupController('blkio'), needsCgroupLayout('v1', 'hybrid'), needsBinary('runc'))) return;
    await using runc = createRuntime('runc');
    if (!requires(t, runc.unavailable)) return;
    const has = blkioWeightFile();
    if (!requires(t, has === undefined ? undefined : `needs a kernel without a blkio weight file (this one has ${has})`)) return;
    for (const r of [rt, runc]) {
      const id = uniqueId(`weight-${r.name}`);
      await using b = await bundle(id, (s, p) => withResources(s, { blockIO: { weight: 200 } }, p));
      b.track(r, id);
      const res = await r.run(['create', '--bundle', b.dir, id]);
      assert.notEqual(res.code, 0, `${r.name}: a weight this kernel cannot take must fail: ${describeResult(res)}`);
      assert.match(res.stderr, new RegExp(`/berth-cgtest-${id}/blkio\\.bfq\\.weight\\b.*no such file or directory`, 'i'), r.name);
      assert.notEqual((await r.run(['state', id])).code, 0, `${r.name}: no container is left`);
    }
  });

  test('hybrid host: hugetlb limits go to the cgroup2 hierarchy', async (t) => {
    if (!requires(t, needsCgroupLayout('hybrid'))) return;
    const root = cgroup2Mount() as string;
    const available = readTrim(join(root, 'cgroup.controllers')).split(/\s+/);
    if (!requires(t, available.includes('hugetlb') ? undefined : 'needs hugetlb in the cgroup2 hierarchy (it is mounted as v1 here)'))
      return;
    if (!requires(t, existsSync('/sys/kernel/mm/hugepages/hugepages-2048kB') ? undefined : 'needs 2 MB huge pages')) return;
    const id = uniqueId('huge');
    await using b = await bundle(id, (s, p) => {
      shell(s, 'exec sleep 100');
      withResources(s, { hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }] }, p);
    });
    rememberSubtreeControl(b);
    const c = await mustCreate(rt, b, id);
    const dir = cgroupDirsOf(c.pid()).get('') as string;
    assert.equal(readTrim(join(dir, 'hugetlb.2MB.max')), String(4 * MiB));
    await mustRun(rt, ['delete', '--force', id]);
  });

  describe('the v2 driver', () => {
    test('forced with BERTH_CGROUP_DRIVER=v2: device filter (BPF), freezer, unified files; controllers v1 holds are refused', async (t) => {
      if (!requires(t, needsCgroup2(), existsSync(CGROUP_BPF) ? undefined : `needs ${CGROUP_BPF} (make -C native)`)) return;
      const env = { BERTH_CGROUP_DRIVER: 'v2' };
      const id = uniqueId('v2');
      await using b = await bundle(id, (s, p) => {
        shell(
          s,
          'echo x > /dev/null && echo null-ok; mknod /dev/mem2 c 1 1 && echo mknod-ok; head -c 1 /dev/mem2; echo status=$?; exec sleep 100',
        );
        addCaps(s, 'CAP_MKNOD');
        withResources(s, { unified: { 'cgroup.max.descendants': '3' } }, p);
      });
      rememberSubtreeControl(b);
      const c = await mustCreate(rt, b, id, { env });
      const pid = c.pid();
      const cgs = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      const v2dir = join(cgroup2Mount() as string, `berth-cgtest-${id}`);
      assert.match(cgs, new RegExp(`^0::/berth-cgtest-${id}$`, 'm'));
      if (cgroupLayout() === 'hybrid')
        assert.doesNotMatch(cgs, new RegExp(`:memory:/berth-cgtest-${id}`), 'no v1 cgroup with the v2 driver');
      assert.equal(readTrim(join(v2dir, 'cgroup.max.descendants')), '3');
      const progs = await runCommand([CGROUP_BPF, 'query', v2dir]);
      assert.equal(progs.stdout.trim().split('\n').filter(Boolean).length, 1, 'one device program attached');
      await mustRun(rt, ['start', id], { env });
      await waitFor('the checks', async () => (/status=/.test(await c.stdout()) ? true : undefined));
      assert.match(await c.stdout(), /null-ok\nmknod-ok\nstatus=1/);
      assert.match(await c.stderr(), /\/dev\/mem2: Operation not permitted/);
      await mustRun(rt, ['pause', id], { env });
      assert.equal((await state(rt, id)).status, 'paused');
      assert.equal(readTrim(join(v2dir, 'cgroup.freeze')), '1');
      assert.match(readTrim(join(v2dir, 'cgroup.events')), /^frozen 1$/m);
      await mustRun(rt, ['resume', id], { env });
      assert.equal((await state(rt, id)).status, 'running');
      const stats = JSON.parse((await mustRun(rt, ['events', '--stats', id])).stdout) as { data: { cpu: { usage: { total?: number } } } };
      assert.ok((stats.data.cpu.usage.total ?? 0) > 0, 'cpu.stat is read from cgroup2');
      await mustRun(rt, ['delete', '--force', id]);
      assert.ok(!existsSync(v2dir), 'the cgroup2 cgroup is removed');
    });

    test('forced with BERTH_CGROUP_DRIVER=v2 on a hybrid host: memory (held by v1) is refused, naming why', async (t) => {
      if (!requires(t, needsCgroupLayout('hybrid'), needsCgroupController('memory'))) return;
      const env = { BERTH_CGROUP_DRIVER: 'v2' };
      // memory lives in v1 on this host: asking for it under the v2 driver is refused, naming why
      const mem = uniqueId('v2mem');
      await using m = await bundle(mem, (s, p) => withResources(s, { memory: { limit: 32 * MiB } }, p));
      const r = await rt.run(['create', '--bundle', m.dir, mem], { env });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /cannot set memory resources: the memory controller is not available/);
      assert.ok(!existsSync(join(cgroup2Mount() as string, `berth-cgtest-${mem}`)) && !existsSync(join(rt.rootDir, mem)), 'nothing left');
    });

    test('a pure v2 layout in a private mount namespace (cgroup2 at /sys/fs/cgroup)', async (t) => {
      if (!requires(t, needsCgroupLayout('hybrid'), needsBinary('unshare'), existsSync(CGROUP_BPF) ? undefined : `needs ${CGROUP_BPF}`))
        return;
      const id = uniqueId('ns2');
      await using b = await bundle(id, (s, p) => {
        shell(
          s,
          'cat /proc/self/cgroup; echo x > /dev/null && echo null-ok; mknod /dev/mem2 c 1 1; head -c 1 /dev/mem2; echo status=$?; exec sleep 100',
        );
        addCaps(s, 'CAP_MKNOD');
        withResources(s, { unified: { 'cgroup.max.depth': '2' } }, p);
      });
      rememberSubtreeControl(b);
      b.track(rt, id);
      const runtime = [...rt.argv, '--root', rt.rootDir].map((a) => `'${a}'`).join(' ');
      const out = b.path('out');
      // every runtime call runs in the same kind of namespace, so the recorded paths stay valid
      const script = [
        'set -e',
        'umount -R /sys/fs/cgroup',
        'mount -t cgroup2 cgroup2 /sys/fs/cgroup',
        `B="${runtime.replace(/"/g, '\\"')}"`,
        `eval "$B run -d --bundle '${b.dir}' ${id}" > '${out}' 2>&1 < /dev/null`,
        'sleep 0.3',
        `cat /sys/fs/cgroup/berth-cgtest-${id}/cgroup.max.depth`,
        `eval "$B pause ${id}"`,
        `eval "$B state ${id}" | grep '"status"'`,
        `cat /sys/fs/cgroup/berth-cgtest-${id}/cgroup.freeze`,
        `eval "$B resume ${id}"`,
        `eval "$B ps --format json ${id}"`,
        `eval "$B delete --force ${id}"`,
        `test ! -e /sys/fs/cgroup/berth-cgtest-${id} && echo removed`,
      ].join('\n');
      const r = await runCommand(['unshare', '-m', '--propagation', 'private', 'sh', '-c', script], {
        env: { NODE_EXTRA_CA_CERTS: undefined },
        guardMs: 60_000,
      });
      const container = readFileSync(out, 'utf8');
      assert.equal(r.code, 0, `${describeResult(r)}\ncontainer: ${container}`);
      assert.match(r.stdout, /^2\n {2}"status": "paused",\n1\n\[\d+\]\nremoved\n$/);
      // the container is in the cgroup2 cgroup only: v1 memberships are inherited, not made
      assert.match(container, new RegExp(`^0::/berth-cgtest-${id}$`, 'm'));
      assert.doesNotMatch(container, new RegExp(`:pids:/berth-cgtest-${id}`));
      assert.match(container, /null-ok\n(.|\n)*Operation not permitted(.|\n)*status=1/);
      assert.ok(!readdirSync(cgroup2Mount() as string).includes(`berth-cgtest-${id}`));
    });
  });
});
