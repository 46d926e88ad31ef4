/**
 * Real dockerd runs containers through berth-runtime: `dockerd --add-runtime berth=<wrapper>`,
 * then `docker run --runtime berth` with a terminal (-it), exec, --memory, --pids-limit,
 * pause/unpause, stop and a seccomp profile, driven by the real Docker CLI.
 *
 * The test starts Debian's containerd (its own config, as in containerd.test.ts) and Debian's
 * dockerd on it, with its own --data-root, --exec-root, --pidfile, socket, cgroup parent and
 * daemon.json, and with the host's network and firewall left alone (--iptables=false
 * --bridge=none --ip-forward=false --ip-masq=false; every container runs with --network none).
 * Both daemons are stopped by pid afterwards and their leftovers removed. A logging wrapper
 * stands in for runc, so the calls are on record (`<tmp>/berth-runtime.calls.log`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { unmountUnder } from './helpers/bundle.js';
import { cgroupsOf, waitFor } from './helpers/container.js';
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
import { createRuntime, describeResult, findBinary, type RunOptions, type RunResult, runCommand } from './helpers/runtime.js';
import { runInTerminal } from './helpers/terminal.js';

/** The Docker CLIs to drive dockerd with: a newer client if there is one, and Debian's. */
const CLIENTS = ['/usr/local/bin/docker', '/usr/bin/docker'].filter((p) => existsSync(p));
const DOCKER = CLIENTS[0] ?? 'docker';

const skip =
  needsRoot() ??
  needsBinaries('dockerd', 'containerd', 'containerd-shim-runc-v2', 'tar', 'script') ??
  (CLIENTS.length === 0 && findBinary('docker') === undefined ? "needs the 'docker' client" : undefined) ??
  rootfsUnavailable() ??
  createRuntime('berth').unavailable;

const IMAGE = 'berth-test/busybox:latest';

/** This process's capability bounding set: all that a runtime started from here can grant. */
function hostBoundingSet(): bigint {
  return BigInt(`0x${/^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
}
const GUARD = 90_000;
const v2 = cgroupLayout() === 'v2';

describe('dockerd with berth-runtime (--add-runtime berth)', { skip }, () => {
  const run = randomBytes(4).toString('hex');
  /** Our cgroup parent: every container is /<parent>/<id> in every hierarchy. */
  const cgroupParent = `/berth-test-docker-${run}`;
  let dir: string;
  let address: string;
  let dockerSock: string;
  let wrapper: RuntimeWrapper;
  let containerd: Daemon | undefined;
  let dockerd: Daemon | undefined;
  let traces: HostTraces | undefined;
  let env: NodeJS.ProcessEnv;

  const docker = (args: readonly string[], opts: RunOptions & { client?: string } = {}): Promise<RunResult> =>
    runCommand([opts.client ?? DOCKER, ...args], {
      guardMs: GUARD,
      ...opts,
      env: { ...env, ...opts.env },
    });
  const mustDocker = async (args: readonly string[], opts: RunOptions & { client?: string } = {}): Promise<RunResult> => {
    const r = await docker(args, opts);
    assert.equal(r.code, 0, `${describeResult(r)}\n-- last runtime calls:\n${wrapper.calls().slice(-6).join('\n')}`);
    return r;
  };
  const name = (what: string) => `bt-${what}-${randomBytes(3).toString('hex')}`;
  /** `docker run --runtime berth --network none` with `flags`, IMAGE and `command`. */
  const runArgs = (flags: readonly string[], command: readonly string[]): string[] => [
    'run',
    '--runtime',
    'berth',
    '--network',
    'none',
    ...flags,
    IMAGE,
    ...command,
  ];
  const inspect = async (ctr: string, format: string): Promise<string> =>
    (await mustDocker(['inspect', '--format', format, ctr])).stdout.trim();
  const idOf = (ctr: string) => inspect(ctr, '{{.Id}}');
  /** berth-runtime's own view of a container dockerd created, with the --root dockerd gave it. */
  const berthStateOf = (id: string) => {
    const root = wrapper.created().find((c) => c.id === id)?.root;
    assert.ok(root, `berth-runtime created ${id} (with a --root)`);
    return berthState(root, id);
  };
  /** A container file of the v1 controller (or v2) as the container sees it. */
  const insideCgroupFile = (controller: string, file: string) => (v2 ? `/sys/fs/cgroup/${file}` : `/sys/fs/cgroup/${controller}/${file}`);
  /** The same file on the host, from the container's init pid. */
  const hostCgroupFile = (pid: number, controller: string, file: string): string => {
    const rel = cgroupsOf(pid).get(v2 ? '' : controller) ?? '';
    assert.ok(rel.startsWith(`${cgroupParent}/`), `the container is under our cgroup parent (${rel})`);
    const p = cgroupFile(v2 ? undefined : controller, rel, file);
    assert.ok(p, `${file} of ${rel} exists on the host`);
    return p;
  };

  /** The environment of a client run under `script` (which takes it whole). */
  const terminalEnv = (): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete e[k];
      else e[k] = v;
    }
    return e;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-dockerd-'));
    wrapper = new RuntimeWrapper(dir);
    // containerd's fixed paths (see containerd.test.ts); dockerd's: the plugin exec root is
    // hard-wired to /run/docker/plugins, and 20.10 writes its identity key to /etc/docker/key.json
    // unless daemon.json's "deprecated-key-path" says otherwise (we do say).
    traces = new HostTraces([...CONTAINERD_FIXED_PATHS, '/run/docker', '/run/docker/plugins', '/etc/docker', '/etc/docker/key.json']);
    const ctd = writeContainerdConfig(dir);
    address = ctd.address;
    containerd = await Daemon.start(['containerd', '--config', ctd.config], { socket: address, logFile: join(dir, 'containerd.log') });

    dockerSock = join(dir, 'docker.sock');
    const daemonJson = join(dir, 'daemon.json');
    writeFileSync(daemonJson, `${JSON.stringify({ 'deprecated-key-path': join(dir, 'key.json') })}\n`);
    mkdirSync(join(dir, 'docker-config'));
    // The client talks to our daemon only, with a config dir of its own (not ~/.docker).
    env = {
      DOCKER_HOST: `unix://${dockerSock}`,
      DOCKER_CONFIG: join(dir, 'docker-config'),
      DOCKER_CONTEXT: undefined,
      DOCKER_TLS_VERIFY: undefined,
      DOCKER_CERT_PATH: undefined,
    };
    dockerd = await Daemon.start(
      [
        'dockerd',
        '--config-file',
        daemonJson,
        '--containerd',
        address,
        '--data-root',
        join(dir, 'data'),
        '--exec-root',
        join(dir, 'exec'),
        '--pidfile',
        join(dir, 'docker.pid'),
        '-H',
        `unix://${dockerSock}`,
        '--add-runtime',
        `berth=${wrapper.path}`,
        '--cgroup-parent',
        cgroupParent,
        // the host's firewall and network stay as they are
        '--iptables=false',
        '--bridge=none',
        '--ip-forward=false',
        '--ip-masq=false',
      ],
      { socket: dockerSock, logFile: join(dir, 'dockerd.log'), guardMs: GUARD },
    );
    const image = buildImageArchive(dir, { tag: IMAGE });
    const loaded = await mustDocker(['load', '--input', image.tar]);
    assert.match(loaded.stdout, /Loaded image: berth-test\/busybox:latest/);
  });

  after(async () => {
    if (dir === undefined) return;
    const problems: string[] = [];
    if (dockerd !== undefined && !dockerd.exited) {
      const ps = await docker(['ps', '--all', '--quiet', '--no-trunc'], { guardMs: 30_000 }).catch(() => undefined);
      const ids = ps?.stdout.split('\n').filter(Boolean) ?? [];
      if (ids.length > 0) await docker(['rm', '--force', ...ids], { guardMs: 60_000 }).catch(() => undefined);
    }
    await dockerd?.stop();
    await containerd?.stop();
    // every container was removed above, so every shim should be on its way out
    const shims = await killShims(address, 10_000);
    if (shims.length > 0) problems.push(`shims left running (killed): ${shims.join(' ')}`);
    for (const { root, id } of wrapper?.created() ?? []) {
      const ns = root?.split('/').at(-1) ?? 'moby';
      rmSync(shimSocket(address, ns, id), { force: true });
    }
    unmountUnder(dir);
    // the runtime removes each container's cgroup on delete; only the parent may stay (runc's too)
    const leaked = cgroupsBelow(cgroupParent);
    if (leaked.length > 0) problems.push(`container cgroups left after delete: ${leaked.join(' ')}`);
    const cg = await removeCgroupTree(cgroupParent);
    if (cg.length > 0) problems.push(`cgroups not removed: ${cg.join(' ')}`);
    // shared with any other containerd on the host (another test run): not empty is no leak of ours
    const left = traces?.remove() ?? [];
    if (left.length > 0) process.stderr.write(`dockerd.test.ts: not removed (not empty): ${left.join(' ')}\n`);
    rmSync(dir, { recursive: true, force: true });
    // after the cleanup, so that a leak fails the run without leaving anything behind
    assert.deepEqual(problems, [], `dockerd.test.ts: leftovers (removed now): ${problems.join('; ')}`);
  });

  for (const client of CLIENTS) {
    test(`docker run (${client}): output, exit status and the runtime on record`, async () => {
      const c = name('run');
      const r = await docker(
        runArgs(['--name', c], ['sh', '-c', 'echo "hello from $(hostname)"; echo "pid $$"; grep -c . /etc/hosts >/dev/null; exit 3']),
        { client },
      );
      assert.equal(r.code, 3, describeResult(r));
      assert.match(r.stdout, /^pid 1$/m);
      const id = await idOf(c);
      assert.match(r.stdout, new RegExp(`^hello from ${id.slice(0, 12)}$`, 'm'), 'docker sets the hostname to the short id');
      assert.equal(await inspect(c, '{{.HostConfig.Runtime}} {{.State.Status}} {{.State.ExitCode}}'), 'berth exited 3');
      const create = wrapper.callsOf('create').find((x) => x.endsWith(` ${id}`));
      assert.ok(create, `dockerd's shim called berth-runtime create for ${id}`);
      assert.match(create, / --log-format json create --bundle \S+ --pid-file \S+\/init\.pid /);
      assert.ok(wrapper.callsOf('start').some((x) => x.endsWith(` ${id}`)));
      await mustDocker(['rm', c]);
    });
  }

  test('docker run -it: an interactive shell on a terminal', async () => {
    const c = name('tty');
    const r = await runInTerminal([DOCKER, ...runArgs(['-it', '--name', c], ['sh'])], {
      env: terminalEnv(),
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
    assert.equal(await inspect(c, '{{.Config.Tty}} {{.Config.OpenStdin}} {{.State.ExitCode}}'), 'true true 4');
    const id = await idOf(c);
    assert.match(wrapper.callsOf('create').find((x) => x.endsWith(` ${id}`)) ?? '', / --console-socket \S+ /);
    await mustDocker(['rm', c]);
  });

  test('docker exec: processes in a running container, with exit status, user, env and cwd; exec -it', async () => {
    const c = name('exec');
    await mustDocker(runArgs(['-d', '--name', c], ['sh', '-c', 'echo init > /tmp/marker; exec sleep 1000']));
    const id = await idOf(c);
    await waitFor('the container to run', async () => ((await inspect(c, '{{.State.Running}}')) === 'true' ? true : undefined));
    const st = await berthStateOf(id);
    assert.equal(st.status, 'running');
    assert.equal(String(st.pid), await inspect(c, '{{.State.Pid}}'), 'dockerd and berth-runtime agree on the init pid');

    const r = await docker(['exec', c, 'sh', '-c', 'cat /tmp/marker; echo "sum $((6*7))"; exit 5']);
    assert.equal(r.code, 5, describeResult(r));
    assert.match(r.stdout, /^init$/m);
    assert.match(r.stdout, /^sum 42$/m);
    assert.match(wrapper.callsOf('exec').find((x) => x.endsWith(` ${id}`)) ?? '', /exec --process \S+ --detach --pid-file \S+ /);

    const ids = await mustDocker([
      'exec',
      '--user',
      '1000:1001',
      '--env',
      'FOO=bar',
      '--workdir',
      '/tmp',
      c,
      'sh',
      '-c',
      'id -u; id -g; echo $FOO; pwd',
    ]);
    assert.deepEqual(ids.stdout.trim().split('\n'), ['1000', '1001', 'bar', '/tmp']);
    const one = await mustDocker(['exec', c, 'cat', '/proc/1/cmdline']);
    assert.equal(one.stdout.replace(/\0/g, ' ').trim(), 'sleep 1000', 'exec joins the pid namespace of the init process');

    const t = await runInTerminal([DOCKER, 'exec', '-it', c, 'sh'], {
      env: terminalEnv(),
      steps: [
        { expect: /# /, send: 'tty; echo "prod $((6*7))"\n' },
        { expect: /prod 42\n/, send: 'exit 6\n' },
      ],
      guardMs: GUARD,
    });
    assert.equal(t.steps, 2, `the exec'd shell answered on the terminal:\n${t.stdout}`);
    assert.equal(t.code, 6, describeResult(t));
    assert.match(t.stdout, /^\/dev\/pts\/\d+$/m);
    assert.ok(
      wrapper.callsOf('exec').some((x) => x.includes('--console-socket') && x.endsWith(` ${id}`)),
      'exec -it passes a console socket',
    );
  });

  test('docker run --memory: the limit in the container cgroup, inside and on the host', async () => {
    const c = name('mem');
    const limit = 64 * 1024 * 1024;
    await mustDocker(runArgs(['-d', '--name', c, '--memory', '64m'], ['sleep', '1000']));
    assert.equal(await inspect(c, '{{.HostConfig.Memory}}'), String(limit));
    const file = v2 ? 'memory.max' : 'memory.limit_in_bytes';
    const r = await mustDocker(['exec', c, 'cat', insideCgroupFile('memory', file)]);
    assert.equal(r.stdout.trim(), String(limit));
    const pid = Number(await inspect(c, '{{.State.Pid}}'));
    assert.equal(readFileSync(hostCgroupFile(pid, 'memory', file), 'utf8').trim(), String(limit));
  });

  test('docker run --pids-limit: the limit holds inside the container', async () => {
    const c = name('pids');
    await mustDocker(runArgs(['-d', '--name', c, '--pids-limit', '20'], ['sleep', '1000']));
    assert.equal(await inspect(c, '{{.HostConfig.PidsLimit}}'), '20');
    const r = await mustDocker(['exec', c, 'cat', insideCgroupFile('pids', 'pids.max')]);
    assert.equal(r.stdout.trim(), '20');
    const pid = Number(await inspect(c, '{{.State.Pid}}'));
    assert.equal(readFileSync(hostCgroupFile(pid, 'pids', 'pids.max'), 'utf8').trim(), '20');
    // Try to start 40 processes: the kernel refuses the ones beyond the limit (fork: EAGAIN).
    const fork = await docker(['exec', c, 'sh', '-c', 'i=0; while [ $i -lt 40 ]; do sleep 100 & i=$((i+1)); done; echo "started all"']);
    assert.notEqual(fork.code, 0, `the shell could not fork 40 times: ${describeResult(fork)}`);
    assert.match(fork.stderr, /can't fork/);
    assert.doesNotMatch(fork.stdout, /started all/);
    const current = Number(readFileSync(hostCgroupFile(pid, 'pids', 'pids.current'), 'utf8').trim());
    assert.ok(current <= 20 && current >= 10, `pids.current is at most the limit, and the shell used it up: ${current}`);
  });

  test('docker update: new limits reach the running container (update --resources -)', async () => {
    const c = name('update');
    await mustDocker(runArgs(['-d', '--name', c, '--memory', '64m', '--memory-swap', '128m', '--pids-limit', '20'], ['sleep', '1000']));
    const id = await idOf(c);
    await mustDocker(['update', '--memory', '96m', '--memory-swap', '192m', '--pids-limit', '30', c]);
    assert.equal(await inspect(c, '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}'), `${96 * 1024 * 1024} 30`);
    const mem = await mustDocker(['exec', c, 'cat', insideCgroupFile('memory', v2 ? 'memory.max' : 'memory.limit_in_bytes')]);
    assert.equal(mem.stdout.trim(), String(96 * 1024 * 1024));
    const pids = await mustDocker(['exec', c, 'cat', insideCgroupFile('pids', 'pids.max')]);
    assert.equal(pids.stdout.trim(), '30');
    assert.ok(
      wrapper.callsOf('update').some((x) => x.endsWith(`update --resources - ${id}`)),
      `update --resources - ${id} (calls: ${wrapper.callsOf('update').join(' | ')})`,
    );
  });

  test('docker top: the processes of the container (ps --format json)', async () => {
    const c = name('top');
    await mustDocker(runArgs(['-d', '--name', c], ['sh', '-c', 'sleep 1001 & exec sleep 1000']));
    const pid = await inspect(c, '{{.State.Pid}}');
    const r = await mustDocker(['top', c]);
    const rows = r.stdout.trim().split('\n').slice(1);
    assert.equal(rows.length, 2, `init and its background sleep:\n${r.stdout}`);
    assert.ok(
      rows.some((l) => l.split(/\s+/)[1] === pid && /sleep 1000$/.test(l)),
      `the init process (host pid ${pid}) is listed:\n${r.stdout}`,
    );
    assert.ok(rows.some((l) => /sleep 1001$/.test(l)));
  });

  test('docker pause / unpause: the container is frozen, then runs again', async () => {
    const c = name('pause');
    await mustDocker(runArgs(['-d', '--name', c], ['sleep', '1000']));
    const id = await idOf(c);
    const pid = Number(await inspect(c, '{{.State.Pid}}'));
    await mustDocker(['pause', c]);
    assert.equal(await inspect(c, '{{.State.Status}} {{.State.Paused}}'), 'paused true');
    const freezer = v2 ? hostCgroupFile(pid, '', 'cgroup.freeze') : hostCgroupFile(pid, 'freezer', 'freezer.state');
    assert.equal(readFileSync(freezer, 'utf8').trim(), v2 ? '1' : 'FROZEN');
    assert.equal((await berthStateOf(id)).status, 'paused');
    const refused = await docker(['exec', c, 'true']);
    assert.notEqual(refused.code, 0, 'no exec in a paused container');
    assert.match(refused.stderr, /paused/);
    await mustDocker(['unpause', c]);
    assert.equal(await inspect(c, '{{.State.Status}} {{.State.Paused}}'), 'running false');
    assert.equal(readFileSync(freezer, 'utf8').trim(), v2 ? '0' : 'THAWED');
    assert.equal((await mustDocker(['exec', c, 'echo', 'thawed'])).stdout.trim(), 'thawed');
    assert.ok(wrapper.callsOf('pause').some((x) => x.endsWith(` ${id}`)));
    assert.ok(wrapper.callsOf('resume').some((x) => x.endsWith(` ${id}`)));
  });

  test('docker stop: SIGTERM to the init process, then SIGKILL after the timeout', async () => {
    const polite = name('stop');
    await mustDocker(runArgs(['-d', '--name', polite], ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; while true; do sleep 0.1; done']));
    const politeId = await idOf(polite);
    await mustDocker(['stop', polite]);
    assert.equal(await inspect(polite, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 7');
    assert.match((await mustDocker(['logs', polite])).stdout, /^got TERM$/m);
    assert.ok(wrapper.callsOf('kill').some((x) => x.endsWith(`kill ${politeId} 15`)));

    const stubborn = name('stop-kill');
    await mustDocker(runArgs(['-d', '--name', stubborn], ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done']));
    const stubbornId = await idOf(stubborn);
    await mustDocker(['stop', '--time', '1', stubborn]);
    assert.equal(await inspect(stubborn, '{{.State.Status}} {{.State.ExitCode}}'), 'exited 137');
    assert.ok(wrapper.callsOf('kill').some((x) => x.endsWith(`kill ${stubbornId} 9`)));
  });

  test('docker run --privileged: every capability, the host devices, and /dev/ptmx still a link to the container devpts', async () => {
    const r = await docker(
      runArgs(['--rm', '--privileged'], ['sh', '-c', 'grep ^CapEff: /proc/self/status; readlink /dev/ptmx; [ -c /dev/kmsg ] && echo kmsg']),
    );
    assert.equal(r.code, 0, describeResult(r));
    const capEff = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)$/m.exec(r.stdout)?.[1] ?? '0'}`);
    assert.ok((capEff >> 21n) & 1n, `CAP_SYS_ADMIN in the effective set: ${r.stdout}`);
    // dockerd names every capability it knows (20.10: up to CAP_AUDIT_READ, 37): berth-runtime
    // knows them all (an unknown name would fail the container) and grants what the host can
    const upToAuditRead = (1n << 38n) - 1n;
    const host = hostBoundingSet();
    assert.equal((capEff & upToAuditRead).toString(16), (host & upToAuditRead).toString(16), 'every capability the host can grant');
    assert.equal((capEff & ~host).toString(16), '0', 'nothing beyond the host bounding set');
    assert.match(r.stdout, /^pts\/ptmx$/m, 'the host /dev/ptmx device in the spec did not replace the link');
    if (existsSync('/dev/kmsg')) assert.match(r.stdout, /^kmsg$/m, 'host devices are created in the container');
  });

  test('docker create + docker rm: a container never started makes no runtime call', async () => {
    const c = name('created');
    await mustDocker(['create', ...runArgs(['--name', c], ['true']).slice(1)]);
    const id = await idOf(c);
    await mustDocker(['rm', c]);
    assert.deepEqual(
      wrapper.calls().filter((x) => x.includes(id)),
      [],
    );
  });

  test('docker run of a missing command: create fails with the reason, the shim deletes with --force, docker rm works', async () => {
    const c = name('missing');
    const r = await docker(runArgs(['--name', c], ['/nonexistent']));
    // The CLI says 127 (command not found) when the error has runc's lower-case errno text.
    assert.equal(r.code, 127, describeResult(r));
    assert.match(r.stderr, /OCI runtime create failed: .*\/nonexistent': no such file or directory/);
    const id = await idOf(c);
    assert.ok(
      wrapper.callsOf('delete').some((x) => x.endsWith(`delete --force ${id}`)),
      `the failed container is removed with delete --force (calls: ${wrapper
        .calls()
        .filter((x) => x.includes(id))
        .join(' | ')})`,
    );
    await assert.rejects(berthStateOf(id), /container does not exist/, 'berth-runtime keeps nothing of it');
    await mustDocker(['rm', c]);
  });

  test('docker run --security-opt seccomp=<profile.json>: the profile is enforced', async () => {
    const profile = join(dir, 'seccomp.json');
    // Everything allowed but mkdir/mkdirat, which fail with EACCES (13).
    writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: 'SCMP_ACT_ALLOW',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      }),
    );
    const script = 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/d 2>&1; echo "mkdir $?"; touch /tmp/f && echo "touch ok"';
    const c = name('seccomp');
    const r = await docker(runArgs(['--name', c, '--security-opt', `seccomp=${profile}`], ['sh', '-c', script]));
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^Seccomp:\s+2$/m, 'a filter is installed (mode 2)');
    assert.match(r.stdout, /Permission denied/, 'mkdir got EACCES from the filter');
    assert.match(r.stdout, /^mkdir 1$/m);
    assert.match(r.stdout, /^touch ok$/m, 'other syscalls are allowed');
    assert.match(await inspect(c, '{{json .HostConfig.SecurityOpt}}'), /mkdirat/, 'dockerd recorded the profile');

    // Unconfined: no filter, mkdir works.
    const u = await docker(runArgs(['--rm', '--security-opt', 'seccomp=unconfined'], ['sh', '-c', script]));
    assert.equal(u.code, 0, describeResult(u));
    assert.match(u.stdout, /^Seccomp:\s+0$/m);
    assert.match(u.stdout, /^mkdir 0$/m);

    // Docker's default profile: a filter, and e.g. unshare(2) refused without CAP_SYS_ADMIN.
    const d = await docker(runArgs(['--rm'], ['sh', '-c', 'grep "^Seccomp:" /proc/self/status; unshare -U true 2>&1; echo "unshare $?"']));
    assert.equal(d.code, 0, describeResult(d));
    assert.match(d.stdout, /^Seccomp:\s+2$/m);
    assert.match(d.stdout, /^unshare 1$/m);
  });
});
