/**
 * Real containerd runs containers through berth-runtime in place of runc: `ctr run
 * --runc-binary <berth-runtime>` with the io.containerd.runc.v2 shim, which calls the runtime
 * the way it calls runc (`--root … --log … --log-format json create --bundle … --pid-file …`,
 * `start`, `exec --process … --detach --pid-file …`, `kill`, `delete`, `ps`, `pause`, …).
 *
 * The test starts Debian's containerd with its own config (root, state, sockets under a temp dir,
 * no CRI plugin) and a namespace of its own, imports a busybox image it builds (no registry), and
 * stops the daemon by pid afterwards. A logging wrapper stands in for runc, so the calls the
 * shim made are on record (`<tmp>/berth-runtime.calls.log`) when something fails.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { unmountUnder } from './helpers/bundle.js';
import { cgroupsOf, pidAlive, waitFor } from './helpers/container.js';
import {
  berthState,
  CONTAINERD_FIXED_PATHS,
  cgroupFile,
  cgroupsBelow,
  Daemon,
  HostTraces,
  killShims,
  needsBinaries,
  RuntimeWrapper,
  removeCgroupTree,
  shimSocket,
  writeContainerdConfig,
} from './helpers/daemon.js';
import { buildImageArchive } from './helpers/image.js';
import { cgroupLayout, needsRoot } from './helpers/requires.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { createRuntime, describeResult, type RunOptions, type RunResult, runCommand } from './helpers/runtime.js';
import { runInTerminal } from './helpers/terminal.js';

const skip =
  needsRoot() ??
  needsBinaries('containerd', 'ctr', 'containerd-shim-runc-v2', 'tar', 'script') ??
  rootfsUnavailable() ??
  createRuntime('berth').unavailable;

const IMAGE = 'docker.io/berth-test/busybox:latest';
const GUARD = 60_000;

describe('containerd (ctr, io.containerd.runc.v2 shim) with berth-runtime as its runc', { skip }, () => {
  const run = randomBytes(4).toString('hex');
  /** Our namespace; the shim puts containers in the cgroup /<namespace>/<id>. */
  const ns = `berth-test-${run}`;
  let dir: string;
  let address: string;
  let runcRoot: string;
  let fifoDir: string;
  let wrapper: RuntimeWrapper;
  let containerd: Daemon | undefined;
  let traces: HostTraces | undefined;
  const ids: string[] = [];

  const ctr = (args: readonly string[], opts: RunOptions = {}): Promise<RunResult> =>
    runCommand(['ctr', '--address', address, '--namespace', ns, ...args], { guardMs: GUARD, ...opts });
  const mustCtr = async (args: readonly string[], opts: RunOptions = {}): Promise<RunResult> => {
    const r = await ctr(args, opts);
    assert.equal(r.code, 0, `${describeResult(r)}\n-- runtime calls:\n${wrapper.calls().slice(-8).join('\n')}`);
    return r;
  };
  /** `ctr run` with berth-runtime as the runc binary; the container is cleaned up after the suite. */
  const runArgs = (id: string, flags: readonly string[], command: readonly string[]): string[] => {
    ids.push(id);
    return ['run', '--runc-binary', wrapper.path, '--runc-root', runcRoot, '--fifo-dir', fifoDir, ...flags, IMAGE, id, ...command];
  };
  const newId = (what: string) => `${what}-${randomBytes(3).toString('hex')}`;
  /** berth-runtime's own view of a container the shim created (root: --runc-root/<namespace>). */
  const berthStateOf = (id: string) => berthState(join(runcRoot, ns), id);
  /** `ctr task ls` as id → { pid, status }. */
  const tasks = async (): Promise<Map<string, { pid: number; status: string }>> => {
    const r = await mustCtr(['task', 'ls']);
    const m = new Map<string, { pid: number; status: string }>();
    for (const line of r.stdout.split('\n').slice(1)) {
      const [id, pid, status] = line.trim().split(/\s+/);
      if (id && pid && status) m.set(id, { pid: Number(pid), status });
    }
    return m;
  };
  const waitTask = (id: string, status: string) =>
    waitFor(`task ${id} to be ${status}`, async () => ((await tasks()).get(id)?.status === status ? (await tasks()).get(id) : undefined));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-containerd-'));
    runcRoot = join(dir, 'runc-root');
    fifoDir = join(dir, 'fifo');
    mkdirSync(fifoDir);
    wrapper = new RuntimeWrapper(dir);
    // Fixed places containerd 1.6 uses whatever its config says: shim sockets live in
    // /run/containerd/s (the path is hashed from our address), fifos default to
    // /run/containerd/fifo (we pass --fifo-dir). Removed afterwards if we made them.
    traces = new HostTraces(CONTAINERD_FIXED_PATHS);
    const { config, address: a } = writeContainerdConfig(dir);
    address = a;
    containerd = await Daemon.start(['containerd', '--config', config], { socket: address, logFile: join(dir, 'containerd.log') });
    const image = buildImageArchive(dir, { tag: 'berth-test/busybox:latest' });
    await mustCtr(['image', 'import', image.tar]);
  });

  after(async () => {
    if (dir === undefined) return;
    const problems: string[] = [];
    if (containerd !== undefined && !containerd.exited) {
      for (const id of ids) {
        await ctr(['task', 'kill', '--all', '--signal', 'SIGKILL', id], { guardMs: 20_000 }).catch(() => undefined);
        await ctr(['task', 'delete', '--force', id], { guardMs: 20_000 }).catch(() => undefined);
        await ctr(['container', 'delete', id], { guardMs: 20_000 }).catch(() => undefined);
      }
    }
    await containerd?.stop();
    // every task was deleted above, so every shim should be on its way out
    const shims = await killShims(address, 10_000);
    if (shims.length > 0) problems.push(`shims left running (killed): ${shims.join(' ')}`);
    for (const { id } of wrapper?.created() ?? []) rmSync(shimSocket(address, ns, id), { force: true });
    unmountUnder(dir);
    // the runtime removes each container's cgroup on delete; only the parent may stay (runc's too)
    const leaked = cgroupsBelow(`/${ns}`);
    if (leaked.length > 0) problems.push(`container cgroups left after delete: ${leaked.join(' ')}`);
    const cg = await removeCgroupTree(`/${ns}`);
    if (cg.length > 0) problems.push(`cgroups not removed: ${cg.join(' ')}`);
    // shared with any other containerd on the host (another test run): not empty is no leak of ours
    const left = traces?.remove() ?? [];
    if (left.length > 0) process.stderr.write(`containerd.test.ts: not removed (not empty): ${left.join(' ')}\n`);
    rmSync(dir, { recursive: true, force: true });
    // after the cleanup, so that a leak fails the run without leaving anything behind
    assert.deepEqual(problems, [], `containerd.test.ts: leftovers (removed now): ${problems.join('; ')}`);
  });

  test('ctr run: the container runs through berth-runtime, with its output and exit status', async () => {
    const id = newId('run');
    const r = await ctr(
      runArgs(id, ['--rm'], ['sh', '-c', 'echo "hello from $(hostname)"; echo "pid $$"; cat /etc/hostname >/dev/null; exit 3']),
    );
    assert.equal(r.code, 3, describeResult(r));
    assert.match(r.stdout, /^hello from \S+$/m);
    assert.match(r.stdout, /^pid 1$/m, 'the process is pid 1 of a new pid namespace');
    const create = wrapper.callsOf('create').find((c) => c.endsWith(` ${id}`));
    assert.ok(create, `the shim called berth-runtime create (calls: ${wrapper.calls().join(' | ')})`);
    assert.match(
      create,
      new RegExp(`--root ${runcRoot}/${ns} --log \\S+/log\\.json --log-format json create --bundle \\S+ --pid-file \\S+/init\\.pid ${id}$`),
    );
    assert.ok(
      wrapper.callsOf('start').some((c) => c.endsWith(` ${id}`)),
      'start',
    );
    assert.ok(
      wrapper.callsOf('delete').some((c) => c.endsWith(` ${id}`)),
      'delete',
    );
    assert.equal((await tasks()).has(id), false, '--rm removed the task');
  });

  test('ctr run -d, ctr task exec: a second process in the running container', async () => {
    const id = newId('exec');
    await mustCtr(runArgs(id, ['-d'], ['sh', '-c', 'echo init > /tmp/marker; exec sleep 1000']));
    const task = await waitTask(id, 'RUNNING');
    const st = await berthStateOf(id);
    assert.equal(st.status, 'running');
    assert.equal(st.pid, task?.pid, 'ctr and berth-runtime agree on the init pid');

    const r = await ctr([
      'task',
      'exec',
      '--exec-id',
      'e1',
      '--fifo-dir',
      fifoDir,
      id,
      'sh',
      '-c',
      'cat /tmp/marker; echo "sum $((6*7))"; exit 5',
    ]);
    assert.equal(r.code, 5, describeResult(r));
    assert.match(r.stdout, /^init$/m, 'the exec sees the init process writes (same mount namespace)');
    assert.match(r.stdout, /^sum 42$/m);
    const call = wrapper.callsOf('exec').find((c) => c.endsWith(` ${id}`));
    assert.ok(call, 'the shim called berth-runtime exec');
    assert.match(call, /exec --process \S+ --detach --pid-file \S+\/e1\.pid /);

    // The exec'd process shares the init's pid namespace: pid 1 is `sleep`.
    const ps = await mustCtr(['task', 'exec', '--exec-id', 'e2', '--fifo-dir', fifoDir, id, 'cat', '/proc/1/cmdline']);
    assert.equal(ps.stdout.replace(/\0/g, ' ').trim(), 'sleep 1000');
  });

  test('ctr task kill: SIGTERM reaches the init process, which exits with its own status', async () => {
    const id = newId('kill');
    const running = ctr(runArgs(id, [], ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; echo ready; while true; do sleep 0.1; done']));
    await waitTask(id, 'RUNNING');
    await mustCtr(['task', 'kill', id]);
    const r = await running;
    assert.equal(r.code, 7, describeResult(r));
    assert.match(r.stdout, /^got TERM$/m);
    assert.ok(
      wrapper.callsOf('kill').some((c) => c.endsWith(`kill ${id} 15`)),
      `kill ${id} 15 (calls: ${wrapper.callsOf('kill').join(' | ')})`,
    );
    assert.equal((await tasks()).has(id), false, 'ctr run deleted the task once it exited');
    assert.ok(
      wrapper.callsOf('delete').some((c) => c.endsWith(` ${id}`)),
      'delete',
    );
    await mustCtr(['container', 'delete', id]);
  });

  test('ctr task kill --all --signal SIGKILL stops a container that ignores SIGTERM', async () => {
    const id = newId('killall');
    const running = ctr(runArgs(id, [], ['sh', '-c', 'trap "" TERM; sleep 1000 & while true; do sleep 0.1; done']));
    const task = await waitTask(id, 'RUNNING');
    await mustCtr(['task', 'kill', '--all', '--signal', 'SIGKILL', id]);
    const r = await running;
    assert.equal(r.code, 137, `128 + SIGKILL: ${describeResult(r)}`);
    assert.ok(
      wrapper.callsOf('kill').some((c) => c.endsWith(`kill --all ${id} 9`)),
      `kill --all ${id} 9 (calls: ${wrapper.callsOf('kill').join(' | ')})`,
    );
    assert.equal((await tasks()).has(id), false, 'ctr run deleted the task once it exited');
    assert.ok(task !== undefined && !pidAlive(task.pid), 'the init process is gone');
    await mustCtr(['container', 'delete', id]);
  });

  test('ctr run -t: a terminal through --console-socket', async () => {
    const id = newId('tty');
    const r = await runInTerminal(['ctr', '--address', address, '--namespace', ns, ...runArgs(id, ['--rm', '-t'], ['sh'])], {
      rows: 33,
      cols: 91,
      steps: [
        { expect: /# /, send: 'tty; echo "sum $((6*7))"\n' },
        { expect: /sum 42\n/, send: 'exit 4\n' },
      ],
      guardMs: GUARD,
    });
    assert.equal(r.steps, 2, `the shell answered on the terminal:\n${r.stdout}`);
    assert.equal(r.code, 4, describeResult(r));
    assert.match(r.stdout, /^\/dev\/pts\/\d+$/m, 'stdin is a pty in the container');
    assert.match(r.stdout, /^sum 42$/m);
    const create = wrapper.callsOf('create').find((c) => c.endsWith(` ${id}`));
    assert.match(create ?? '', / --console-socket \S+ /);
  });

  test('ctr run --memory-limit: the limit is in the container cgroup, seen from inside and from the host', async () => {
    const id = newId('mem');
    const limit = 64 * 1024 * 1024;
    // containerd's default spec has no /sys/fs/cgroup mount (CRI and dockerd add one): ask for it.
    const cgroupMount = 'type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:noexec:nodev';
    await mustCtr(runArgs(id, ['-d', '--memory-limit', String(limit), '--mount', cgroupMount], ['sleep', '1000']));
    const task = await waitTask(id, 'RUNNING');
    const v2 = cgroupLayout() === 'v2';
    const inside = v2 ? '/sys/fs/cgroup/memory.max' : '/sys/fs/cgroup/memory/memory.limit_in_bytes';
    const r = await mustCtr(['task', 'exec', '--exec-id', 'm1', '--fifo-dir', fifoDir, id, 'cat', inside]);
    assert.equal(r.stdout.trim(), String(limit));
    const rel = cgroupsOf(task?.pid ?? 0).get(v2 ? '' : 'memory');
    assert.equal(rel, `/${ns}/${id}`, 'the shim asked for the cgroup /<namespace>/<id>');
    const host = cgroupFile(v2 ? undefined : 'memory', rel ?? '', v2 ? 'memory.max' : 'memory.limit_in_bytes');
    assert.ok(host, 'the container cgroup exists on the host');
    assert.equal(readFileSync(host, 'utf8').trim(), String(limit));
  });

  test('ctr task ps: the processes of the container (runc ps --format json)', async () => {
    const id = newId('ps');
    await mustCtr(runArgs(id, ['-d'], ['sh', '-c', 'sleep 1000 & exec sleep 1001']));
    const task = await waitTask(id, 'RUNNING');
    const r = await ctr(['task', 'ps', id]);
    assert.equal(r.code, 0, `${describeResult(r)}\n-- calls: ${wrapper.callsOf('ps').join(' | ')}`);
    const pids = r.stdout
      .split('\n')
      .slice(1)
      .map((l) => Number(l.trim().split(/\s+/)[0]))
      .filter((n) => n > 0);
    assert.ok(pids.includes(task?.pid ?? -1), `the init pid ${task?.pid} is listed: ${r.stdout}`);
    assert.equal(pids.length, 2, `init and its background sleep: ${r.stdout}`);
  });

  test('ctr run --privileged: berth-runtime knows every capability containerd names and grants what the host can', async () => {
    const id = newId('priv');
    const r = await ctr(runArgs(id, ['--rm', '--privileged'], ['grep', '^CapEff:', '/proc/self/status']));
    assert.equal(r.code, 0, describeResult(r));
    const bounding = /^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    assert.match(r.stdout, new RegExp(`^CapEff:\\s+${bounding}$`, 'm'), 'the host bounding set, all of it');
  });

  test('ctr run of a missing command: create fails with the reason, the shim deletes with --force, nothing is left', async () => {
    const id = newId('missing');
    const r = await ctr(runArgs(id, ['--rm'], ['/nonexistent']));
    assert.notEqual(r.code, 0, describeResult(r));
    assert.match(r.stderr, /OCI runtime create failed: .*\/nonexistent/);
    assert.ok(
      wrapper.callsOf('delete').some((c) => c.endsWith(`delete --force ${id}`)),
      `the failed container is removed with delete --force (calls: ${wrapper
        .calls()
        .filter((c) => c.endsWith(` ${id}`))
        .join(' | ')})`,
    );
    await assert.rejects(berthStateOf(id), /container does not exist/, 'berth-runtime keeps nothing of it');
    assert.equal((await tasks()).has(id), false);
  });

  test('ctr task delete of a running task: refused by containerd; with --force it kills, then deletes the stopped container', async () => {
    const id = newId('del');
    await mustCtr(runArgs(id, ['-d'], ['sleep', '1000']));
    await waitTask(id, 'RUNNING');
    const refused = await ctr(['task', 'delete', id]);
    assert.notEqual(refused.code, 0, describeResult(refused));
    assert.match(refused.stderr, /task must be stopped before deletion: running/);
    await mustCtr(['task', 'delete', '--force', id]);
    const calls = wrapper.calls().filter((c) => c.endsWith(` ${id}`) || c.includes(` ${id} `));
    const kill = calls.findIndex((c) => / kill (--all )?\S+ 9$/.test(c));
    const del = calls.findIndex((c) => c.endsWith(` delete ${id}`));
    assert.ok(kill >= 0 && del > kill, `SIGKILL first, then a plain delete (calls: ${calls.join(' | ')})`);
    assert.equal((await tasks()).has(id), false);
    await mustCtr(['container', 'delete', id]);
  });

  test('ctr task pause / resume: the container is frozen and thawed', async () => {
    const id = newId('pause');
    await mustCtr(runArgs(id, ['-d'], ['sleep', '1000']));
    await waitTask(id, 'RUNNING');
    await mustCtr(['task', 'pause', id]);
    assert.equal((await tasks()).get(id)?.status, 'PAUSED');
    assert.equal((await berthStateOf(id)).status, 'paused');
    await mustCtr(['task', 'resume', id]);
    assert.equal((await tasks()).get(id)?.status, 'RUNNING');
    assert.equal((await berthStateOf(id)).status, 'running');
  });
});
