/**
 * Regression tests for the known runc escape classes:
 * - CVE-2019-5736: a container process overwrites the host's runtime binary through
 *   /proc/<pid>/exe of a runtime process that is in its namespaces;
 * - CVE-2024-21626: a host fd or cwd leaks into the container (process.cwd /proc/self/fd/N);
 * - mount races and symlinks in the rootfs that move a mount, or unmask a masked path, outside
 *   the root.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Bundle, mountPointsUnder, uniqueId } from './helpers/bundle.js';
import { mustCreate, waitFor, waitForStatus } from './helpers/container.js';
import { ProbeOutput } from './helpers/probe.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { backgroundRuntime, createRuntime, REPO_ROOT, type Runtime } from './helpers/runtime.js';
import { PROBE } from './helpers/spec.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : (rootfsUnavailable() ?? createRuntime('berth').unavailable);
const NSINIT = join(REPO_ROOT, 'native/build/berth-nsinit');
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('hardening', { skip }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  test('CVE-2019-5736 class: a container cannot overwrite the runtime binary through /proc/<pid>/exe', async () => {
    const before = sha256(NSINIT);
    // The attacker: root with CAP_SYS_PTRACE (so /proc/<pid>/exe of other processes is open to
    // it), looking for a berth-nsinit stage in its pid namespace and writing through its exe. It
    // is pid 1 of that namespace and must stay alive afterwards: its exit would kill the victim.
    await using attacker = await Bundle.create();
    await attacker.editConfig((s) => {
      s.root!.readonly = false;
      for (const set of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![set]!.push('CAP_SYS_PTRACE');
      s.process!.args = [
        'sh',
        '-c',
        `while :; do for p in /proc/[0-9]*; do
           exe=$(readlink $p/exe 2>/dev/null) || continue
           case "$exe" in *berth-nsinit*) echo "seen $exe" >> /tmp/log; (printf evil > $p/exe) 2>> /tmp/log && echo WROTE >> /tmp/log; exec sleep 1000;; esac
         done; done`,
      ];
    });
    const attackerId = uniqueId('attacker');
    const a = await mustCreate(rt, attacker, attackerId);
    assert.equal((await rt.run(['start', attackerId])).code, 0);
    // The victim stage: a second container created into the attacker's pid namespace, whose
    // init stage (berth-nsinit) waits there for `start` — for as long as the attack takes.
    await using victim = await Bundle.create({ probeArgs: ['exit', '0'] });
    await victim.editConfig((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${a.pid()}/ns/pid` } : n));
    });
    await mustCreate(rt, victim, uniqueId('victim'));
    const log = await waitFor('the attacker to find the stage', () => {
      const text = existsSync(attacker.inRootfs('tmp/log')) ? readFileSync(attacker.inRootfs('tmp/log'), 'utf8') : '';
      return /seen[\s\S]*\n.+/.test(text) || text.includes('WROTE') ? text : undefined;
    });
    assert.match(log, /seen \/memfd:berth-nsinit/, 'what the container reaches is the sealed in-memory copy');
    assert.doesNotMatch(log, /WROTE/, 'and it cannot be written');
    assert.equal(sha256(NSINIT), before, 'the host binary is unchanged');
  });

  test('CVE-2024-21626 class: no host fd reaches the container, and a cwd through /proc/self/fd is refused', async () => {
    await using b = await Bundle.create({ probeArgs: ['fds', '+', 'cwd', '+', 'readlink', '/proc/self/cwd'] });
    // fds 3 and 4 are open in the runtime process, as a leaky caller would leave them.
    const leak = openSync('/sys/fs/cgroup', 'r');
    const run = backgroundRuntime(rt, ['run', uniqueId('fds')], { cwd: b.dir, fds: [leak, leak] });
    assert.equal(await run.exited, 0, run.stderr());
    const out = run.stdout();
    const probe = new ProbeOutput(out);
    assert.deepEqual(
      probe.lines('fds').map((l) => l.split('=')[0]),
      ['0', '1', '2'],
      `only stdio: ${out}`,
    );
    assert.equal(probe.value('cwd'), '/');
    assert.equal(probe.value('readlink', '/proc/self/cwd'), '/');

    for (const cwd of ['/proc/self/fd/3', '/proc/self/fd/7', '/proc/1/cwd']) {
      await b.editConfig((s) => {
        s.process!.cwd = cwd;
        s.process!.args = [PROBE, 'cwd'];
      });
      const r = await rt.run(['run', uniqueId('cwd')], { cwd: b.dir });
      assert.notEqual(r.code, 0, `cwd ${cwd} must be refused, got: ${r.stdout}`);
      assert.match(r.stderr, /cwd/, r.stderr);
    }
  });

  test('a rootfs whose /proc is a symlink out of the root is refused, and nothing is mounted on the host', async () => {
    await using b = await Bundle.create({ probeArgs: ['exit', '0'] });
    const outside = mkdtempSync(join(tmpdir(), 'berth-hardening-'));
    b.defer(() => rmSync(outside, { recursive: true, force: true }));
    rmSync(b.inRootfs('proc'), { recursive: true, force: true });
    symlinkSync(outside, b.inRootfs('proc'));
    mkdirSync(join(b.rootfs, outside), { recursive: true });
    const id = uniqueId('symproc');
    b.track(rt, id);
    const r = await rt.run(['run', id], { cwd: b.dir });
    // runc's rule: proc (and sysfs) only on an ordinary directory.
    assert.notEqual(r.code, 0, 'refused');
    assert.match(r.stderr, /mount 'proc' on '\/proc': the destination is a symlink in the rootfs/);
    assert.deepEqual(mountPointsUnder(outside), [], 'nothing mounted on the host');
    assert.deepEqual(mountPointsUnder(b.rootfs), [], 'nor in the rootfs');
  });

  test('a created stage runs from the sealed copy, which cannot be opened for writing', async () => {
    await using b = await Bundle.create({ probeArgs: ['exit', '0'] });
    const id = uniqueId('dump');
    const c = await mustCreate(rt, b, id);
    await waitForStatus(rt, id, 'created');
    const exe = readlinkSync(`/proc/${c.pid()}/exe`);
    assert.match(exe, /^\/memfd:berth-nsinit/, 'the stage runs from the sealed copy');
    const status = readFileSync(`/proc/${c.pid()}/status`, 'utf8');
    assert.match(status, /^Name:\s+berth:\[1:INIT/m);
    assert.throws(() => openSync(`/proc/${c.pid()}/exe`, 'r+'), /ETXTBSY|EPERM|EACCES/, 'the copy cannot be opened for writing');
  });
});
