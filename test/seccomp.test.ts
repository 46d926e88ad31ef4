/**
 * Seccomp in real containers: `linux.seccomp` compiled by berth-runtime, loaded by berth-nsinit.
 * Each behaviour is checked on berth and on runc with the same bundle (runc is the reference:
 * the same observable result is expected).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type DockerSeccompProfile, dockerProfileToOci, type LinuxSeccomp } from '../src/runtime/seccomp/index.js';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { createRuntime, REPO_ROOT, type RunResult, type Runtime } from './helpers/runtime.js';
import type { Spec } from './helpers/spec.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : rootfsUnavailable();

const dockerProfile = JSON.parse(
  readFileSync(join(REPO_ROOT, 'test/fixtures/seccomp/docker-default.json'), 'utf8'),
) as DockerSeccompProfile;

function kernelRelease(): string {
  return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
}

/** Docker's default profile for a container with these bounding capabilities. */
function dockerDefault(spec: Spec): Record<string, unknown> {
  const seccomp: LinuxSeccomp | undefined = dockerProfileToOci(dockerProfile, {
    arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64',
    capabilities: spec.process?.capabilities?.bounding ?? [],
    kernel: kernelRelease(),
  });
  return { ...seccomp };
}

/** The names of Docker's unconditional allow list. */
const DOCKER_ALLOW_LIST: string[] = dockerProfile.syscalls![0]!.names!;

/** `run` of `sh -c script` in a fresh bundle (writable rootfs) with this seccomp config. */
async function shell(rt: Runtime, script: string, edit: (s: Spec) => void): Promise<RunResult> {
  await using b = await Bundle.create();
  await b.editConfig((s) => {
    s.process!.args = ['/bin/sh', '-c', script];
    s.root!.readonly = false;
    edit(s);
  });
  const id = uniqueId('seccomp');
  b.track(rt, id);
  // Awaited here: the bundle is disposed when this function returns.
  return await rt.run(['run', '--bundle', b.dir, id], { guardMs: 60_000 });
}

for (const name of ['berth', 'runc'] as const) {
  describe(`seccomp (${name})`, { skip: skip ?? createRuntime(name).unavailable }, () => {
    let rt: Runtime;
    before(() => {
      rt = createRuntime(name);
    });
    after(async () => {
      await rt?.[Symbol.asyncDispose]();
    });

    test('a profile denying mkdir makes it fail with the chosen errno', async () => {
      const seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      };
      const r = await shell(rt, 'mkdir /tmp/d; echo rc=$?; test -d /tmp/d && echo exists; echo done', (s) => {
        s.linux!.seccomp = seccomp;
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^rc=1$/m);
      assert.doesNotMatch(r.stdout, /exists/);
      assert.match(r.stderr, /Permission denied/);
      // The same container without the filter creates the directory.
      const control = await shell(rt, 'mkdir /tmp/d; echo rc=$?', () => undefined);
      assert.match(control.stdout, /^rc=0$/m, control.stderr);
    });

    test("a process started with exec gets the container's filter too", async () => {
      await using b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
      await b.editConfig((s) => {
        s.root!.readonly = false;
        s.linux!.seccomp = {
          defaultAction: 'SCMP_ACT_ALLOW',
          syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
        };
      });
      const id = uniqueId('seccomp-exec');
      b.track(rt, id);
      const r = await rt.run(['run', '--detach', '--bundle', b.dir, id], { stdoutFile: b.path('o'), stderrFile: b.path('e') });
      assert.equal(r.code, 0, readFileSync(b.path('e'), 'utf8'));
      const x = await rt.run(['exec', id, 'sh', '-c', 'mkdir /tmp/x; echo rc=$?']);
      assert.match(x.stdout, /^rc=1$/m, x.stderr);
      assert.match(x.stderr, /Permission denied/);
    });

    test('one filter is in place, in filter mode, with no_new_privs as configured', async () => {
      const r = await shell(rt, "grep -E '^(NoNewPrivs|Seccomp|Seccomp_filters):' /proc/self/status", (s) => {
        s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['swapon'], action: 'SCMP_ACT_ERRNO' }] };
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
      assert.match(r.stdout, /^Seccomp:\s+2$/m);
      assert.match(r.stdout, /^Seccomp_filters:\s+1$/m);
    });

    test('defaultAction ERRNO with an allow list: what is not listed fails with EPERM', async () => {
      const seccomp = {
        defaultAction: 'SCMP_ACT_ERRNO',
        // Docker's list, plus arch_prctl (glibc's start-up on x86_64) and clone (fork), minus mkdir.
        syscalls: [
          {
            names: [...DOCKER_ALLOW_LIST, 'arch_prctl', 'clone'].filter((n) => n !== 'mkdir' && n !== 'mkdirat'),
            action: 'SCMP_ACT_ALLOW',
          },
        ],
      };
      const r = await shell(rt, 'echo ok; mkdir /tmp/d; echo rc=$?', (s) => {
        s.linux!.seccomp = seccomp;
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^ok$/m);
      assert.match(r.stdout, /^rc=1$/m);
      assert.match(r.stderr, /Operation not permitted/);
    });

    test('an argument comparison denies personality(PER_LINUX32) only', async () => {
      const seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: [{ names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] }],
      };
      const r = await shell(rt, 'linux64 true; echo linux64=$?; linux32 true; echo linux32=$?', (s) => {
        s.linux!.seccomp = seccomp;
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^linux64=0$/m);
      assert.match(r.stdout, /^linux32=1$/m);
      assert.match(r.stderr, /Operation not permitted/);
    });

    test('SCMP_ACT_KILL_PROCESS kills the process with SIGSYS', async () => {
      const seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_KILL_PROCESS' }] };
      const r = await shell(rt, 'exec mkdir /tmp/d', (s) => {
        s.linux!.seccomp = seccomp;
      });
      assert.equal(r.code, 128 + 31, `exit ${r.code}: ${r.stderr}`);
    });

    for (const nnp of [true, false]) {
      test(`Docker's default profile loads and a busybox shell works under it (noNewPrivileges ${nnp})`, async () => {
        const r = await shell(rt, 'echo ok; ls /; unshare -U true; echo unshare=$?', (s) => {
          s.process!.noNewPrivileges = nnp;
          s.linux!.seccomp = dockerDefault(s);
        });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^ok$/m);
        assert.match(r.stdout, /^bin$/m);
        assert.match(r.stdout, /^proc$/m);
        // Docker's profile refuses new namespaces to a container without CAP_SYS_ADMIN.
        assert.match(r.stdout, /^unshare=1$/m);
        assert.match(r.stderr, /Operation not permitted/);
      });
    }

    test('without the profile, the same unshare works (the control for the test above)', async () => {
      const r = await shell(rt, 'unshare -U true; echo unshare=$?', () => undefined);
      assert.match(r.stdout, /^unshare=0$/m, r.stderr);
    });
  });
}

describe('seccomp (berth only)', { skip: skip ?? createRuntime('berth').unavailable }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  // runc 1.1.5 refuses any `flags` ("seccomp flags are not yet supported by runc").
  test('filter flags are passed to seccomp(2)', async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      s.process!.args = ['/bin/sh', '-c', "grep -E '^Seccomp:' /proc/self/status; swapon /bin/sh; echo swapon=$?"];
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        flags: [
          'SECCOMP_FILTER_FLAG_TSYNC',
          'SECCOMP_FILTER_FLAG_LOG',
          'SECCOMP_FILTER_FLAG_SPEC_ALLOW',
          'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV',
        ],
        syscalls: [{ names: ['swapon'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }],
      };
    });
    const id = uniqueId('flags');
    b.track(rt, id);
    const r = await rt.run(['run', '--bundle', b.dir, id]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Seccomp:\s+2$/m);
    assert.match(r.stdout, /^swapon=1$/m);
    assert.match(r.stderr, /swapon: \/bin\/sh: Permission denied/);
  });

  test('SCMP_ACT_NOTIFY is refused at create with a clear "not supported"', async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        listenerPath: '/run/seccomp-agent.sock',
        syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }],
      };
    });
    const id = uniqueId('notify');
    b.track(rt, id);
    const r = await rt.run(['create', '--bundle', b.dir, id]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /linux\.seccomp\.syscalls\[0\]\.action: SCMP_ACT_NOTIFY .*not supported/);
  });

  test('a program the kernel refuses fails before created, with the kernel reason', async () => {
    // One `ld [0]`: valid hex, but a filter must end with a return, so seccomp(2) says EINVAL.
    const plan = ['berth-plan 1', 'id seccomp-bad', 'wait 0', 'arg /bin/true', 'seccomp 0 2000000000000000', 'end', ''].join('\n');
    const lines = await nsinit(plan);
    assert.deepEqual(
      lines.filter((l) => l !== 'pid' && !l.startsWith('pid ')),
      ['error 22 load%20seccomp%20filter:%20invalid%20argument'],
    );
    const bad = await nsinit(plan.replace('seccomp 0 2000000000000000', 'seccomp 0 20000000'));
    assert.match(bad.join('\n'), /^error 0 plan:%20'seccomp'%20program%20of%208%20hex%20digits/m);
  });
});

/** Runs berth-nsinit on a plan and returns the lines it sends back until EOF. */
async function nsinit(plan: string): Promise<string[]> {
  const child = spawn(join(REPO_ROOT, 'native/build/berth-nsinit'), ['3'], { stdio: ['ignore', 'inherit', 'inherit', 'pipe'] });
  const sock = child.stdio[3] as import('node:net').Socket;
  let out = '';
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => {
    out += d;
  });
  sock.write(plan);
  await new Promise((resolve) => sock.on('close', resolve));
  await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.on('exit', resolve)));
  return out.split('\n').filter((l) => l !== '');
}
