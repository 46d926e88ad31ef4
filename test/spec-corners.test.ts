/**
 * Corners of the runtime spec where berth-runtime used to refuse or fail, each run with real
 * containers: a missing cwd under a read-only root, rootfsPropagation shared and unbindable,
 * namespaces inherited or joined (the mount namespace included), create without a process, and
 * what berth-nsinit's failures (its errno, its own spawn) look like to the caller.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { mustCreate, state, waitForStatus } from './helpers/container.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { background, createRuntime, describeResult, type Runtime } from './helpers/runtime.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : (rootfsUnavailable() ?? createRuntime('berth').unavailable);

const nsOf = (pid: number | 'self', type: string) => readlinkSync(`/proc/${pid}/ns/${type}`);

/**
 * A process holding a mount namespace of its own (`unshare --mount --propagation <p>`), killed
 * and reaped when disposed. Declare it after the bundle, so it goes first: the namespace (and
 * the mounts in it) before the bundle's directory.
 */
async function mountNamespaceHolder(propagation: 'private' | 'unchanged') {
  const holder = background(['unshare', '--mount', '--propagation', propagation, 'sleep', '1000']);
  const pid = holder.child.pid!;
  // unshare has entered its namespace once it is another one than ours.
  for (let i = 0; i < 500 && nsOf(pid, 'mnt') === nsOf('self', 'mnt'); i++) await new Promise((r) => setTimeout(r, 10));
  assert.notEqual(nsOf(pid, 'mnt'), nsOf('self', 'mnt'), 'the holder has a mount namespace of its own');
  return {
    pid,
    async [Symbol.asyncDispose]() {
      holder.kill();
      await holder.exited;
    },
  };
}

describe('runtime spec corners', { skip }, () => {
  let rt: Runtime;
  before(() => {
    rt = createRuntime('berth');
  });
  after(async () => {
    await rt?.[Symbol.asyncDispose]();
  });

  /** `run` of a busybox shell script in the foreground: its stdout, or the failure. */
  async function runSh(b: Bundle, script: string) {
    await b.editConfig((s) => {
      s.process!.args = ['sh', '-c', script];
    });
    const id = uniqueId('corner');
    b.track(rt, id);
    return rt.run(['run', '--bundle', b.dir, id]);
  }

  test('a missing cwd under a read-only root is created before / turns read-only', async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      s.root!.readonly = true;
      s.process!.cwd = '/does/not/exist';
    });
    const r = await runSh(b, 'pwd; touch /x 2>/dev/null && echo writable || echo read-only');
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stdout, '/does/not/exist\nread-only\n');
  });

  for (const mode of ['shared', 'rshared', 'unbindable', 'runbindable'] as const) {
    test(`rootfsPropagation ${mode}: the container's / is ${mode.replace(/^r/, '')}`, async () => {
      // The rootfs is a shared mount on the host: a shared / must still get a peer group of its own.
      await using b = await Bundle.create({ sharedMount: true });
      await b.editConfig((s) => {
        s.linux!.rootfsPropagation = mode;
      });
      // The / line of mountinfo: its optional fields say the propagation.
      const r = await runSh(b, `awk '$5 == "/"' /proc/self/mountinfo`);
      assert.equal(r.code, 0, describeResult(r));
      const line = r.stdout.trim();
      if (mode.endsWith('shared')) {
        assert.match(line, / shared:\d+ /, `/ is in a peer group: ${line}`);
        // A peer group of its own: not the one of a host mount.
        const group = / shared:(\d+) /.exec(line)?.[1];
        const host = spawnSync('awk', [`$5 == "${b.rootfs}"`, '/proc/self/mountinfo'], { encoding: 'utf8' }).stdout;
        assert.match(host, / shared:\d+ /, 'the host side of the test: the rootfs is a shared mount');
        assert.doesNotMatch(host, new RegExp(` shared:${group} `), 'not a peer of the host mount it was bound from');
      } else assert.match(line, / unbindable /, `/ is unbindable: ${line}`);
    });
  }

  test('a namespace absent from linux.namespaces is the runtime’s, the mount namespace included; the root is then a chroot', async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      s.linux!.namespaces = [{ type: 'pid' }];
      s.mounts = [];
      s.linux!.maskedPaths = [];
      s.linux!.readonlyPaths = [];
      s.root!.readonly = false;
      delete s.hostname;
      s.process!.args = ['sleep', '1000'];
    });
    const id = uniqueId('inherit');
    const c = await mustCreate(rt, b, id);
    assert.equal((await rt.run(['start', id])).code, 0);
    await waitForStatus(rt, id, 'running');
    for (const ns of ['mnt', 'net', 'ipc', 'uts']) assert.equal(nsOf(c.pid(), ns), nsOf('self', ns), `${ns}: inherited`);
    assert.notEqual(nsOf(c.pid(), 'pid'), nsOf('self', 'pid'), 'pid: a new one was asked for');
    assert.equal(readlinkSync(`/proc/${c.pid()}/root`), b.rootfs, 'its root is the rootfs');
    // An exec lands in the same chroot.
    const r = await rt.run(['exec', id, 'sh', '-c', 'ls /; echo; readlink /proc/1/root 2>&1 || true']);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^probe$/m, 'the exec sees the rootfs as /');
  });

  test('a mount namespace given by path is joined and gets the container’s mounts, under the rootfs only; its / and other mounts stay as they were', async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      // runc's default mounts, masked and read-only paths, plus a read-only root.
      s.linux!.namespaces = [{ type: 'pid' }, { type: 'mount', path: '/proc/HOLDER/ns/mnt' }];
      s.root!.readonly = true;
      delete s.hostname;
      s.process!.args = ['sleep', '1000'];
    });
    await using holder = await mountNamespaceHolder('private');
    const { pid } = holder;
    await b.editConfig((s) => {
      s.linux!.namespaces![1]!.path = `/proc/${pid}/ns/mnt`;
    });
    const mountinfo = (p: number | 'self') => readFileSync(`/proc/${p}/mountinfo`, 'utf8').split('\n').filter(Boolean);
    const before = mountinfo(pid);
    const id = uniqueId('joinmnt');
    const c = await mustCreate(rt, b, id);
    assert.equal(nsOf(c.pid(), 'mnt'), nsOf(pid, 'mnt'), 'the namespace at the path');
    assert.equal(readlinkSync(`/proc/${pid}/root`), '/', 'the holder’s root did not move (no pivot_root)');
    const after = mountinfo(pid);
    for (const line of before) assert.ok(after.includes(line), `a mount of the joined namespace is unchanged: ${line}`);
    const added = after.filter((l) => !before.includes(l)).map((l) => l.split(' ')[4] ?? '');
    assert.ok(added.length > 0, 'mounts were made in the joined namespace');
    for (const mp of added) assert.ok(mp === b.rootfs || mp.startsWith(`${b.rootfs}/`), `mounted under the rootfs: ${mp}`);
    assert.ok(added.includes(`${b.rootfs}/proc`) && added.includes(`${b.rootfs}/dev`), `proc and dev: ${added.join(' ')}`);
    assert.ok(!mountinfo('self').some((l) => l.includes(b.rootfs)), 'nothing in the runtime’s namespace');

    assert.equal((await rt.run(['start', id])).code, 0);
    await waitForStatus(rt, id, 'running');
    // Inside: mountinfo shows only what is under the chroot; masked and read-only paths hold.
    const r = await rt.run([
      'exec',
      id,
      'sh',
      '-c',
      `awk '$5 == "/" || $5 == "/proc/sys" { print $5, $6 }' /proc/self/mountinfo; echo timer_list=$(wc -c < /proc/timer_list) firmware=$(ls -A /sys/firmware | wc -l); touch /x 2>/dev/null && echo writable || echo read-only; ls /dev/null`,
    ]);
    assert.equal(r.code, 0, describeResult(r));
    const lines = r.stdout.trim().split('\n');
    assert.match(lines.find((l) => l.startsWith('/ ')) ?? '', /^\/ ro[,\s]/, `/ is read-only: ${r.stdout}`);
    assert.match(lines.find((l) => l.startsWith('/proc/sys ')) ?? '', /^\/proc\/sys ro[,\s]/, `/proc/sys is read-only: ${r.stdout}`);
    assert.ok(lines.includes('timer_list=0 firmware=0'), `/proc/timer_list and /sys/firmware are masked: ${r.stdout}`);
    assert.ok(lines.includes('read-only') && lines.includes('/dev/null'), r.stdout);

    assert.equal((await rt.run(['kill', id, 'KILL'])).code, 0);
    await waitForStatus(rt, id, 'stopped');
    assert.equal((await rt.run(['delete', id])).code, 0);
    // Documented: the mounts stay in the joined namespace, which belongs to its holder.
    assert.ok(
      mountinfo(pid).some((l) => l.split(' ')[4] === `${b.rootfs}/proc`),
      'the mounts outlive the container in the joined namespace',
    );
  });

  test('a joined mount namespace whose rootfs is a peer of a host mount: nothing the container mounts reaches the host', async () => {
    // The rootfs is a shared mount on the host, and the holder's copy of it is its peer.
    await using b = await Bundle.create({ sharedMount: true });
    await using holder = await mountNamespaceHolder('unchanged');
    const { pid } = holder;
    const rootfsLine = (p: number | 'self') =>
      readFileSync(`/proc/${p}/mountinfo`, 'utf8')
        .split('\n')
        .filter((l) => l.split(' ')[4] === b.rootfs);
    assert.match(rootfsLine(pid).join('\n'), / shared:\d+ /, 'the holder’s rootfs mount is shared (with the host’s)');
    await b.editConfig((s) => {
      s.linux!.namespaces = [{ type: 'pid' }, { type: 'mount', path: `/proc/${pid}/ns/mnt` }];
      delete s.hostname;
      s.process!.args = ['sleep', '1000'];
    });
    const id = uniqueId('joinshared');
    const c = await mustCreate(rt, b, id);
    assert.equal(nsOf(c.pid(), 'mnt'), nsOf(pid, 'mnt'));
    const host = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    assert.equal(rootfsLine('self').length, 1, `the host has its one rootfs mount, no self-bind: ${rootfsLine('self').join('\n')}`);
    assert.ok(!host.some((l) => (l.split(' ')[4] ?? '').startsWith(`${b.rootfs}/`)), 'no mount under the rootfs on the host');
    // The one change in the joined namespace: the mount the rootfs sits on is a slave now.
    assert.match(rootfsLine(pid)[0] ?? '', / master:\d+ /, `the holder's rootfs mount became a slave: ${rootfsLine(pid).join('\n')}`);
    assert.ok(
      readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(` ${b.rootfs}/proc `),
      'the container’s mounts are in the joined namespace',
    );
  });

  test('mounts in the runtime’s own (inherited) mount namespace are refused, naming the fields', async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      s.linux!.namespaces = [{ type: 'pid' }];
      delete s.hostname;
    });
    const r = await runSh(b, 'true');
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /config\.json: mounts, linux\.maskedPaths, linux\.readonlyPaths, root\.readonly: need a mount namespace other than the runtime's \(linux\.namespaces has no 'mount'\)/,
    );
  });

  test('create without process succeeds; start then fails clearly and changes nothing', async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      delete s.process;
    });
    const id = uniqueId('noproc');
    await mustCreate(rt, b, id);
    assert.equal((await state(rt, id)).status, 'created');
    const r = await rt.run(['start', id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot start a container that has no process \(config\.json: process\)/);
    assert.equal((await state(rt, id)).status, 'created', 'still created');
    const run = await rt.run(['run', '--bundle', b.dir, uniqueId('noproc-run')]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /config\.json: process: required to run a container/);
  });

  test("berth-nsinit's failures: the errno's message, and a spawn failure said as such", async () => {
    await using b = await Bundle.create();
    await b.editConfig((s) => {
      s.process!.args = ['/no/such/binary'];
    });
    const id = uniqueId('errno');
    b.track(rt, id);
    const r = await rt.run(['run', '--bundle', b.dir, id]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exec '\/no\/such\/binary': no such file or directory/);

    for (const [what, file, message] of [
      ['missing', '/nonexistent/berth-nsinit', /spawn '\/nonexistent\/berth-nsinit': no such file or directory/],
      ['not executable', b.path('not-executable'), /spawn '.*not-executable': permission denied/],
    ] as const) {
      writeFileSync(b.path('not-executable'), '#!/bin/sh\n');
      chmodSync(b.path('not-executable'), 0o644);
      const id2 = uniqueId('spawn');
      b.track(rt, id2);
      const s = await rt.run(['run', '--bundle', b.dir, id2], { env: { BERTH_NSINIT: file } });
      assert.notEqual(s.code, 0, what);
      assert.match(s.stderr, message, what);
      assert.doesNotMatch(s.stderr, /status 127/, `${what}: not reported as an exit status`);
    }
  });
});
