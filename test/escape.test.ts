/**
 * No host fd in the container's pid namespace (issue 6's host escape). A container process with
 * CAP_SYS_PTRACE may open /proc/<pid>/fd/<n> of every process it sees; if one of them is a
 * berth-nsinit stage holding a host fd (say the host's /proc), `/proc/<pid>/fd/<n>/1/root/…` is
 * the host's root. So, at every stage (created, running, during an exec, and for a container that
 * joined another's pid namespace), every fd of every process visible in the container must be
 * harmless: a socket, a pipe, an anon inode, /dev/null, a pty, or the stdio the caller gave. The
 * scan runs from the host (/proc/<host pid>/fd) and from inside; the attack itself is run too, and
 * a write through it must not land on the host.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { type Created, mustCreate, pidAlive, waitForExit, waitForStatus } from './helpers/container.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { createRuntime, describeResult, REPO_ROOT, type Runtime } from './helpers/runtime.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : (rootfsUnavailable() ?? createRuntime('berth').unavailable);
const NSINIT = process.env.BERTH_NSINIT ?? join(REPO_ROOT, 'native/build/berth-nsinit');

/** Links that lead nowhere on the host: what a process in the container may hold. */
function harmless(link: string, fd: number, stdio: readonly string[]): boolean {
  if (/^(socket|pipe|anon_inode):/.test(link)) return true;
  if (link === '/dev/null' || /^\/dev\/pts\/\d+$/.test(link)) return true;
  // The stdio files the caller gave (the test's own output files), on fds 0-2 only.
  return fd <= 2 && stdio.some((f) => link === f || link.endsWith(f.slice(f.lastIndexOf('/'))));
}

function readlinkOr(p: string): string | undefined {
  try {
    return readlinkSync(p);
  } catch {
    return undefined;
  }
}

/** Host pids of every process in the pid namespace of `pid`. */
function pidsInNamespaceOf(pid: number): number[] {
  const ns = readlinkOr(`/proc/${pid}/ns/pid`);
  assert.ok(ns, `process ${pid} is gone`);
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((p) => readlinkOr(`/proc/${p}/ns/pid`) === ns);
}

interface Finding {
  pid: number;
  comm: string;
  fd: number;
  link: string;
}

/** Every fd of every process in the pid namespace of `pid`, seen from the host, that is not harmless. */
function hostScan(pid: number, stdio: readonly string[]): { scanned: number; bad: Finding[] } {
  const bad: Finding[] = [];
  let scanned = 0;
  for (const p of pidsInNamespaceOf(pid)) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    const comm = readlinkOr(`/proc/${p}/exe`) ?? '?';
    for (const fd of fds) {
      const link = readlinkOr(`/proc/${p}/fd/${fd}`);
      if (link === undefined) continue;
      scanned++;
      if (!harmless(link, Number(fd), stdio)) bad.push({ pid: p, comm, fd: Number(fd), link });
    }
  }
  return { scanned, bad };
}

/**
 * From inside (an exec with CAP_SYS_PTRACE): lists `<pid> <fd> <link>` of every other process,
 * then tries the attack through every fd: read a host file and write one, both directly under
 * the fd and under `<fd>/<pid>/root` for host pids whose root is the host's (a host /proc handle
 * leads there: pid 2 is kthreadd, and this test process has our root).
 */
function insideScript(secretDir: string): string {
  return `
for p in /proc/[0-9]*; do
  n=\${p#/proc/}; [ "$n" = "$$" ] && continue
  for f in $p/fd/*; do
    l=$(readlink $f 2>/dev/null) || continue
    echo "fd $n \${f##*/} $l"
    for s in "" /1/root /2/root /${process.pid}/root; do
      cat "$f$s${secretDir}/secret" 2>/dev/null && echo "READ $f$s"
      (echo pwned > "$f$s${secretDir}/pwned") 2>/dev/null && echo "WROTE $f$s"
    done
  done
done
echo done`;
}

describe('no host fd in the container', { skip }, () => {
  let rt: Runtime;
  let secretDir: string;
  before(() => {
    rt = createRuntime('berth');
    // A host directory that does not exist in the rootfs: reaching it means reaching the host.
    secretDir = `/tmp/berth-escape-${randomBytes(4).toString('hex')}`;
    mkdirSync(secretDir);
    writeFileSync(join(secretDir, 'secret'), 'host secret\n');
  });
  after(async () => {
    rmSync(secretDir, { recursive: true, force: true });
    await rt?.[Symbol.asyncDispose]();
  });

  /** A bundle whose process may ptrace: the attacker's capability. */
  async function ptraceBundle(args: string[]): Promise<Bundle> {
    const b = await Bundle.create();
    await b.editConfig((s) => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_SYS_PTRACE');
      s.process!.args = args;
    });
    return b;
  }

  /** Runs the inside scan and attack in `id`; asserts that it scanned something and found nothing. */
  async function attackFromInside(id: string, stdio: readonly string[], expectPids: number) {
    const r = await rt.run(['exec', id, 'sh', '-c', insideScript(secretDir)], { guardMs: 60_000 });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^done$/m, 'the scan ran to its end');
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('fd '));
    const pids = new Set(lines.map((l) => l.split(' ')[1]));
    assert.ok(pids.size >= expectPids, `the scan saw ${pids.size} other processes, expected ${expectPids}:\n${r.stdout}`);
    assert.doesNotMatch(r.stdout, /^(READ|WROTE) /m, 'the attack through /proc/<pid>/fd fails');
    assert.doesNotMatch(r.stdout, /host secret/);
    assert.equal(existsSync(join(secretDir, 'pwned')), false, 'nothing was written on the host');
    const bad = lines.filter((l) => {
      const [, , fd = '', ...rest] = l.split(' ');
      return !harmless(rest.join(' '), Number(fd), stdio);
    });
    assert.deepEqual(bad, [], 'every fd seen from inside is harmless');
  }

  function assertHostScan(pid: number, stdio: readonly string[], what: string) {
    const { scanned, bad } = hostScan(pid, stdio);
    assert.ok(scanned > 0, `${what}: scanned no fd at all`);
    assert.deepEqual(bad, [], `${what}: every fd of every process in the container's pid namespace is harmless`);
  }

  const stdioOf = (c: Created) => [c.stdoutFile, c.stderrFile];

  test('created and running: init holds no host fd; the /proc/<pid>/fd attack fails', async () => {
    await using b = await ptraceBundle(['sleep', '1000']);
    const id = uniqueId('esc');
    const c = await mustCreate(rt, b, id);
    await attackFromInside(id, stdioOf(c), 1);
    assertHostScan(c.pid(), stdioOf(c), 'created');
    // A process that may ptrace the waiting init must gain nothing by it: the init already has
    // the container's capabilities, not the runtime's (kernel numbers: 16 CAP_SYS_MODULE,
    // 21 CAP_SYS_ADMIN, 19 CAP_SYS_PTRACE, which the config grants).
    const status = readFileSync(`/proc/${c.pid()}/status`, 'utf8');
    for (const set of ['CapBnd', 'CapPrm', 'CapEff']) {
      const mask = BigInt(`0x${new RegExp(`^${set}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? 'x'}`);
      assert.equal((mask >> 16n) & 1n, 0n, `${set} of the created init: no CAP_SYS_MODULE`);
      assert.equal((mask >> 21n) & 1n, 0n, `${set} of the created init: no CAP_SYS_ADMIN`);
      assert.equal((mask >> 19n) & 1n, 1n, `${set} of the created init: the configured CAP_SYS_PTRACE`);
    }

    assert.equal((await rt.run(['start', id])).code, 0);
    await waitForStatus(rt, id, 'running');
    assertHostScan(c.pid(), stdioOf(c), 'running');
    await attackFromInside(id, stdioOf(c), 1);
  });

  test('during an exec: its stage, waiting in the container for start, holds no host fd', async () => {
    await using b = await ptraceBundle(['sleep', '1000']);
    const id = uniqueId('esc-exec');
    const c = await mustCreate(rt, b, id);
    assert.equal((await rt.run(['start', id])).code, 0);
    const init = c.pid();
    // An exec stage held at `created` (before `start`): berth-nsinit driven directly with an
    // exec plan (docs/plan-format.md) that joins the container, as `exec` does.
    const files: Record<string, string> = { pid: 'pid', net: 'net', ipc: 'ipc', uts: 'uts', mount: 'mnt' };
    const plan = [
      'berth-plan 1',
      ...Object.entries(files).map(([type, file]) => `ns-join ${type} /proc/${init}/ns/${file}`),
      'cwd /',
      'arg sleep',
      'arg 1000',
      'end',
      '',
    ].join('\n');
    const stage = spawn(NSINIT, ['3'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    const sync = stage.stdio[3] as Duplex;
    let text = '';
    sync.setEncoding('utf8').on('data', (d: string) => {
      text += d;
    });
    const closed = new Promise((resolve) => sync.once('close', resolve));
    let execPid = 0;
    try {
      sync.write(plan);
      await waitForLine(
        () => text,
        /^created$/m,
        () => `the exec stage to report created (got: ${text})`,
      );
      execPid = Number(/^pid (\d+)$/m.exec(text)?.[1]);
      assert.ok(pidsInNamespaceOf(init).includes(execPid), 'the exec stage is in the container');
      assertHostScan(init, stdioOf(c), 'exec stage waiting for start');
      await attackFromInside(id, stdioOf(c), 2);
      sync.write('start\n');
      await closed; // close-on-exec: the process was exec'd
      assert.doesNotMatch(text, /^error /m);
    } finally {
      sync.destroy();
      if (execPid > 0 && pidAlive(execPid)) process.kill(execPid, 'SIGKILL');
      if (stage.exitCode === null) stage.kill('SIGKILL');
    }
    if (execPid > 0) await waitForExit(execPid);
  });

  test('a container in the pid namespace of another: its created init holds no host fd', async () => {
    await using a = await ptraceBundle(['sleep', '1000']);
    const aid = uniqueId('esc-a');
    const ca = await mustCreate(rt, a, aid);
    assert.equal((await rt.run(['start', aid])).code, 0);
    await using v = await Bundle.create({ probeArgs: ['exit', '0'] });
    await v.editConfig((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${ca.pid()}/ns/pid` } : n));
    });
    const cv = await mustCreate(rt, v, uniqueId('esc-victim'));
    assert.ok(pidsInNamespaceOf(ca.pid()).includes(cv.pid()), "the victim's init is in the attacker's pid namespace");
    const stdio = [...stdioOf(ca), ...stdioOf(cv)];
    assertHostScan(ca.pid(), stdio, "created init in another container's pid namespace");
    await attackFromInside(aid, stdio, 2);
  });
});

describe('proc and sysfs only on an ordinary directory', { skip }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  for (const [what, dest, make, message] of [
    [
      'a /proc -> / symlink',
      'proc',
      (p: string) => symlinkSync('/', p),
      /mount 'proc' on '\/proc': the destination is a symlink in the rootfs; proc must be mounted on an ordinary directory/,
    ],
    [
      'a /sys that is a file',
      'sys',
      (p: string) => writeFileSync(p, ''),
      /mount 'sysfs' on '\/sys': the destination is not a directory in the rootfs; sysfs must be mounted on an ordinary directory/,
    ],
  ] as const) {
    test(`${what} in the rootfs is refused, naming the destination`, async () => {
      await using b = await Bundle.create({ probeArgs: ['exit', '0'] });
      rmSync(b.inRootfs(dest), { recursive: true, force: true });
      make(b.inRootfs(dest));
      const id = uniqueId('procdest');
      b.track(rt, id);
      const r = await rt.run(['create', '--bundle', b.dir, id]);
      assert.notEqual(r.code, 0, 'create must fail');
      assert.match(r.stderr, message);
      assert.equal(existsSync(join(rt.rootDir, id)), false, 'no state is left');
    });
  }
});

async function waitForLine(get: () => string, re: RegExp, what: () => string): Promise<void> {
  for (let i = 0; !re.test(get()); i++) {
    if (i > 3000) throw new Error(`gave up waiting for ${what()}`);
    if (/^error /m.test(get())) throw new Error(`berth-nsinit: ${get()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
