/**
 * A container's root filesystem as mounts (an overlay of image layers, as a snapshotter hands it
 * out), mounted by berth-nsinit inside the container's own mount namespace only
 * (docs/plan-format.md, "The root filesystem as mounts"): through the runtime library with
 * berth-nsinit as our child and through berth-shim, the container runs the overlay's busybox
 * and writes into the upperdir, an exec sees the same files, and at no point (created, running,
 * after a SIGKILL) does the host's mount table show the rootfs or any layer; afterwards the empty
 * rootfs directory is removable. A mount list naming a missing lowerdir fails create with the
 * mount named and leaves nothing; 128 layers fit (lowerdirs relative to their parent).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readShimInfo, ShimClient, shimAlive } from '../src/engine/shim/client.js';
import { shimLauncher } from '../src/engine/shim/launcher.js';
import { openMetadata } from '../src/metadata/db.js';
import { Container, create, deleteContainer, exec, kill, run, start } from '../src/runtime/index.js';
import { unmountAll } from '../src/snapshots/mount.js';
import { OverlaySnapshotter } from '../src/snapshots/overlay.js';
import { sweepStaleMounts, withPrivateMount } from '../src/snapshots/private-mount.js';
import type { Mount } from '../src/snapshots/types.js';
import { uniqueId } from './helpers/bundle.js';
import { copyRootfs, rootfsUnavailable } from './helpers/rootfs.js';
import { testSpec } from './helpers/spec.js';

const SHIM = join(import.meta.dirname, '..', 'native', 'build', 'berth-shim');
const skip = process.getuid?.() !== 0 ? 'needs root: the container mounts an overlay' : rootfsUnavailable();

let base = '';
/** The busybox layer, shared by every case (read-only: it is a lowerdir). */
let busybox = '';

before(async () => {
  if (skip) return;
  base = mkdtempSync(join(tmpdir(), 'berth-rootfs-ns-'));
  busybox = join(base, 'layers', '0', 'fs');
  mkdirSync(busybox, { recursive: true });
  await copyRootfs(busybox);
});
after(() => {
  if (base) rmSync(base, { recursive: true, force: true });
});

/** Every line of the host's mount table that mentions the test's directory (none expected). */
function hostMountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(dir));
}

interface Case {
  dir: string;
  bundle: string;
  rootfs: string;
  upper: string;
  mounts: Mount[];
  root: string;
  id: string;
}

/** A bundle with an EMPTY rootfs directory, and an overlay of busybox + one layer + an upperdir. */
function makeCase(name: string, args: string[], lowers?: string[]): Case {
  const dir = join(base, name);
  const marker = join(dir, 'layer1');
  mkdirSync(join(marker, 'etc'), { recursive: true });
  writeFileSync(join(marker, 'etc', 'marker'), 'from-layer-1\n');
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const bundle = join(dir, 'bundle');
  const rootfs = join(bundle, 'rootfs');
  for (const d of [upper, work, rootfs]) mkdirSync(d, { recursive: true });
  const spec = testSpec();
  spec.process!.args = args;
  spec.root = { path: 'rootfs', readonly: false };
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const mounts: Mount[] = [
    {
      type: 'overlay',
      source: 'overlay',
      options: [`workdir=${work}`, `upperdir=${upper}`, `lowerdir=${(lowers ?? [marker, busybox]).join(':')}`],
    },
  ];
  const root = join(dir, 'state');
  return { dir, bundle, rootfs, upper, mounts, root, id: uniqueId('rootfs-ns') };
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const statusOf = async (c: Case) => (await Container.load(c.root, c.id)).status();

/** The container's own mount table: its `/` is the overlay. */
function containerRootMount(pid: number): string | undefined {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === '/');
}

/** exec `args` in the container, returning its stdout. */
async function execOut(c: Case, args: string[]): Promise<string> {
  const out = join(c.dir, `exec-${Math.random().toString(36).slice(2)}.out`);
  const fd = openSync(out, 'w');
  try {
    const r = await exec({
      root: c.root,
      id: c.id,
      process: { args, cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'], terminal: false },
      detach: false,
      stdio: { stdout: fd },
    });
    assert.equal(r.exitCode, 0, `exec ${args.join(' ')}`);
  } finally {
    closeSync(fd);
  }
  return readFileSync(out, 'utf8');
}

/**
 * Checks the running container: no host mount at any point, the overlay's files, the write in
 * the upperdir, an exec seeing both; then SIGKILL, delete, and the rootfs directory removable.
 */
async function lifecycle(c: Case, output: () => string): Promise<void> {
  await waitFor('the container to write', () => existsSync(join(c.upper, 'written')));
  assert.deepEqual(hostMountsUnder(c.dir), [], 'running: no host mount under the case');
  // the shim's log is written as the output arrives: wait for it
  await waitFor('the container to read the upper layer of the overlay', () => /from-layer-1/.test(output()));
  assert.equal(readFileSync(join(c.upper, 'written'), 'utf8'), 'by-the-container\n', 'the write landed in the upperdir');
  assert.deepEqual(readdirSync(c.rootfs), [], 'the host sees the rootfs directory empty');
  const container = await Container.load(c.root, c.id);
  assert.match(containerRootMount(container.record.pid) ?? '', / - overlay overlay /, "the container's / is the overlay");
  assert.equal(await execOut(c, ['/bin/cat', '/written', '/etc/marker']), 'by-the-container\nfrom-layer-1\n');
  assert.match(await execOut(c, ['/bin/ls', '/bin']), /\bsh\b/);
  assert.deepEqual(hostMountsUnder(c.dir), [], 'after an exec: no host mount');

  await kill(c.root, c.id, 9);
  await waitFor('the container to stop', async () => (await statusOf(c)) === 'stopped');
  await deleteContainer(c.root, c.id);
  assert.deepEqual(hostMountsUnder(c.dir), [], 'after SIGKILL and delete: no host mount');
  rmdirSync(c.rootfs); // EBUSY if anything were still mounted on it in this namespace
}

describe('the rootfs mounted in the container’s mount namespace only', { skip }, () => {
  test('berth-nsinit as our child, on a real overlayfs snapshot chain: create, start, exec, SIGKILL; the host never sees a mount', {
    timeout: 30_000,
  }, async () => {
    const c = makeCase('nsinit', ['/bin/sh', '-c', 'cat /etc/marker; echo by-the-container > /written; exec sleep 1000']);
    // busybox, then a layer with /etc/marker, committed; the container's active snapshot on top
    const db = openMetadata(join(c.dir, 'metadata.db'));
    await using sn = await OverlaySnapshotter.open({ root: join(c.dir, 'snapshots'), db });
    await sn.prepare('l0');
    await copyRootfs((await sn.applyTarget('l0')).dir);
    await sn.commit('c0', 'l0');
    await sn.prepare('l1', 'c0');
    const l1 = (await sn.applyTarget('l1')).dir;
    mkdirSync(join(l1, 'etc'));
    writeFileSync(join(l1, 'etc', 'marker'), 'from-layer-1\n');
    await sn.commit('c1', 'l1');
    c.mounts = await sn.prepare('rw', 'c1');
    assert.equal(c.mounts[0]?.type, 'overlay');
    c.upper = (await sn.applyTarget('rw')).dir;
    const outFile = join(c.dir, 'out');
    const fd = openSync(outFile, 'w');
    try {
      await create({ root: c.root, id: c.id, bundle: c.bundle, rootfsMounts: c.mounts, stdio: { stdout: fd, stderr: fd } });
      assert.equal(await statusOf(c), 'created');
      assert.deepEqual(hostMountsUnder(c.dir), [], 'created: no host mount under the case');
      await start(c.root, c.id);
      await lifecycle(c, () => readFileSync(outFile, 'utf8'));
    } finally {
      closeSync(fd);
      await deleteContainer(c.root, c.id, true).catch(() => {});
    }
    // nothing holds the snapshots: the whole chain goes
    for (const key of ['rw', 'c1', 'c0']) await sn.remove(key);
    assert.equal(await sn.cleanup(), 0);
    assert.deepEqual(readdirSync(join(c.dir, 'snapshots')), []);
    db.close();
  });

  test('through berth-shim: the same', { timeout: 30_000, skip: existsSync(SHIM) ? undefined : `${SHIM} not built` }, async () => {
    const c = makeCase('shim', ['/bin/sh', '-c', 'cat /etc/marker; echo by-the-container > /written; exec sleep 1000']);
    const stateDir = join(c.dir, 'shim');
    mkdirSync(stateDir);
    const log = join(stateDir, 'json.log');
    try {
      await create({
        root: c.root,
        id: c.id,
        bundle: c.bundle,
        rootfsMounts: c.mounts,
        launcher: shimLauncher({ stateDir, log: { path: log } }),
      });
      assert.equal(await statusOf(c), 'created');
      assert.deepEqual(hostMountsUnder(c.dir), [], 'created: no host mount under the case');
      await start(c.root, c.id);
      await lifecycle(c, () => (existsSync(log) ? readFileSync(log, 'utf8') : ''));
    } finally {
      await deleteContainer(c.root, c.id, true).catch(() => {});
      const info = readShimInfo(stateDir);
      if (info && shimAlive(info)) {
        await using s = await ShimClient.connect(info.socket);
        await s.request('shutdown', { force: true }).catch(() => {});
      }
    }
  });

  test('rshared rootfsPropagation, on a rootfs directory that is a shared mount of the host: the overlay still stays in the container', {
    timeout: 20_000,
  }, async () => {
    const c = makeCase('shared', ['/bin/sh', '-c', 'cat /etc/marker; exec sleep 1000']);
    const spec = JSON.parse(readFileSync(join(c.bundle, 'config.json'), 'utf8')) as ReturnType<typeof testSpec>;
    spec.linux!.rootfsPropagation = 'rshared';
    writeFileSync(join(c.bundle, 'config.json'), JSON.stringify(spec));
    const mount = (...args: string[]) => assert.equal(spawnSync('mount', args).status, 0, `mount ${args.join(' ')}`);
    mount('--bind', c.rootfs, c.rootfs);
    mount('--make-shared', c.rootfs);
    try {
      await create({ root: c.root, id: c.id, bundle: c.bundle, rootfsMounts: c.mounts });
      const pid = (await Container.load(c.root, c.id)).record.pid;
      assert.match(containerRootMount(pid) ?? '', / - overlay overlay /);
      await start(c.root, c.id);
      const host = hostMountsUnder(c.dir);
      assert.equal(host.length, 1, `only the bind the test made: ${host.join('\n')}`);
      assert.equal(host[0]?.split(' ')[4], c.rootfs);
      assert.ok(!hostMountsUnder(c.dir).some((l) => / - overlay /.test(l)));
    } finally {
      await deleteContainer(c.root, c.id, true).catch(() => {});
      await unmountAll(c.rootfs);
    }
    assert.deepEqual(hostMountsUnder(c.dir), []);
    rmdirSync(c.rootfs);
  });

  test('a read-only bind (what the native snapshotter hands out for a view): the container cannot write', { timeout: 20_000 }, async () => {
    const c = makeCase('bind', ['/bin/sh', '-c', 'ls /bin/sh && (touch /x 2>/dev/null && echo writable || echo read-only)']);
    c.mounts = [{ type: 'bind', source: busybox, options: ['rbind', 'ro'] }];
    const outFile = join(c.dir, 'out');
    const fd = openSync(outFile, 'w');
    try {
      const r = await run({
        root: c.root,
        id: c.id,
        bundle: c.bundle,
        rootfsMounts: c.mounts,
        detach: false,
        stdio: { stdout: fd, stderr: fd },
      });
      assert.equal(r.exitCode, 0, readFileSync(outFile, 'utf8'));
    } finally {
      closeSync(fd);
      await deleteContainer(c.root, c.id, true).catch(() => {});
    }
    assert.equal(readFileSync(outFile, 'utf8'), '/bin/sh\nread-only\n');
    assert.ok(!existsSync(join(busybox, 'x')));
    assert.deepEqual(hostMountsUnder(base), []);
    rmdirSync(c.rootfs);
  });

  test('a missing lowerdir: create fails naming the mount, and leaves no state, mount or process', { timeout: 20_000 }, async () => {
    const c = makeCase('missing', ['/bin/true']);
    c.mounts[0]!.options = c.mounts[0]!.options.map((o) => (o.startsWith('lowerdir=') ? `${o}:${join(c.dir, 'no-such-layer')}` : o));
    await assert.rejects(create({ root: c.root, id: c.id, bundle: c.bundle, rootfsMounts: c.mounts }), (err: Error) => {
      assert.match(err.message, new RegExp(`mount overlay on '${c.rootfs}': no such file or directory`));
      return true;
    });
    assert.deepEqual(
      readdirSync(c.root).filter((n) => !n.startsWith('~lock')),
      [],
      'no container state left',
    );
    assert.deepEqual(hostMountsUnder(c.dir), []);
    rmdirSync(c.rootfs);
  });

  test('128 layers: the lowerdirs exceed a page and are sent relative to their parent', { timeout: 20_000 }, async () => {
    // busybox, 126 one-file layers and a marker layer, under a parent whose name makes the
    // absolute list longer than a page
    const parent = join(base, `many-layers-${'p'.repeat(40)}`);
    const layer = (i: number) => {
      const d = join(parent, String(i), 'fs');
      mkdirSync(d, { recursive: true });
      return d;
    };
    const bb = layer(0);
    await copyRootfs(bb);
    const extra = Array.from({ length: 126 }, (_, i) => {
      const d = layer(i + 1);
      writeFileSync(join(d, `l${i + 1}`), '');
      return d;
    });
    const top = layer(127);
    mkdirSync(join(top, 'etc'));
    writeFileSync(join(top, 'etc', 'marker'), 'from-layer-127\n');
    const lowers = [top, ...extra.reverse(), bb];
    assert.equal(lowers.length, 128);
    assert.ok(lowers.join(':').length > 4096, `${lowers.join(':').length} bytes of lowerdirs`);
    const c = makeCase('many', ['/bin/sh', '-c', 'ls / | grep -c "^l[0-9]"; cat /etc/marker'], lowers);
    const outFile = join(c.dir, 'out');
    const fd = openSync(outFile, 'w');
    try {
      const r = await run({
        root: c.root,
        id: c.id,
        bundle: c.bundle,
        rootfsMounts: c.mounts,
        detach: false,
        stdio: { stdout: fd, stderr: fd },
      });
      assert.equal(r.exitCode, 0, readFileSync(outFile, 'utf8'));
    } finally {
      closeSync(fd);
      await deleteContainer(c.root, c.id, true).catch(() => {});
    }
    assert.equal(readFileSync(outFile, 'utf8'), '126\nfrom-layer-127\n');
    assert.deepEqual(hostMountsUnder(base), []);
    rmdirSync(c.rootfs);
  });
});

describe('withPrivateMount: a stopped container’s snapshot on the host for one call', { skip }, () => {
  test('mounted for the call only, writes land in the upperdir, unmounted after a throw and while busy (detached)', async () => {
    const c = makeCase('private', []);
    const parent = join(c.dir, 'mounts');
    mkdirSync(parent);
    const seen = await withPrivateMount(
      c.mounts,
      (dir) => {
        assert.equal(hostMountsUnder(dir).length, 2, 'the private self-bind and the overlay');
        assert.match(hostMountsUnder(dir)[0] ?? '', /^(?!.*shared:)/, 'the self-bind is not shared');
        writeFileSync(join(dir, 'copied-in'), 'x');
        return [readFileSync(join(dir, 'etc', 'marker'), 'utf8'), existsSync(join(dir, 'bin', 'sh'))];
      },
      { parent },
    );
    assert.deepEqual(seen, ['from-layer-1\n', true]);
    assert.ok(existsSync(join(c.upper, 'copied-in')), 'the write landed in the upperdir');
    assert.deepEqual(readdirSync(parent), [], 'the mountpoint is gone');
    await assert.rejects(
      withPrivateMount(
        c.mounts,
        () => {
          throw new Error('boom');
        },
        { parent },
      ),
      /boom/,
    );
    assert.deepEqual(readdirSync(parent), []);
    // an fd still open inside when the call returns: the unmount is detached, not refused
    let fd = -1;
    await withPrivateMount(
      c.mounts,
      (dir) => {
        fd = openSync(join(dir, 'etc', 'marker'), 'r');
      },
      { parent },
    );
    assert.equal(readFileSync(fd, 'utf8'), 'from-layer-1\n', 'the detached mount stays usable for what holds it');
    closeSync(fd);
    assert.deepEqual(readdirSync(parent), []);
    assert.deepEqual(hostMountsUnder(c.dir), []);
  });

  test('a process killed inside the call leaves a mount that sweepStaleMounts removes', { timeout: 20_000 }, async () => {
    const c = makeCase('crash', []);
    const parent = join(c.dir, 'mounts');
    mkdirSync(parent);
    const mod = join(import.meta.dirname, '..', 'src', 'snapshots', 'private-mount.ts');
    const script = `import { withPrivateMount } from ${JSON.stringify(mod)};
      await withPrivateMount(${JSON.stringify(c.mounts)}, () => process.kill(process.pid, 'SIGKILL'), { parent: ${JSON.stringify(parent)} });`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.equal(hostMountsUnder(parent).length, 2, 'the crash left the self-bind and the overlay');
    // an empty leftover (a crash between mkdtemp and mount) and a foreign directory
    mkdirSync(join(parent, 'berth-mount-empty'));
    mkdirSync(join(parent, 'not-ours'));
    assert.equal(await sweepStaleMounts(parent), 1);
    assert.deepEqual(hostMountsUnder(c.dir), []);
    assert.deepEqual(readdirSync(parent), ['not-ours']);
    // this process's own live call is not swept from under it
    await withPrivateMount(
      c.mounts,
      async (dir) => {
        assert.equal(await sweepStaleMounts(parent), 0);
        assert.equal(readFileSync(join(dir, 'etc', 'marker'), 'utf8'), 'from-layer-1\n');
      },
      { parent },
    );
    assert.deepEqual(readdirSync(parent), ['not-ours']);
    assert.equal(await sweepStaleMounts(join(c.dir, 'missing')), 0);
  });
});
