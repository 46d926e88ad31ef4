/**
 * Speculative apply (src/images/unpack.ts): layers whose parent is not committed when their
 * download starts are applied into parentless snapshots and adopted once the parent commits,
 * when the parent chain answers none of the lookups they recorded; else applied again. The
 * trees must be byte for byte those of the sequential apply (each layer on its committed
 * parent, as before speculation existed): the same image is pulled speculatively (5 layers at
 * once) and pulled then unpacked one layer after another, and every layer's upperdir is hashed
 * (names, types, modes, owners, sizes, contents, link targets, device numbers, xattrs including
 * trusted.overlay.*, file times; directory times when they come from the archive).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { applyLayer } from '../src/archive/apply.js';
import { type ApplyLayer, isFeed } from '../src/archive/types.js';
import type { ImageService } from '../src/images/service.js';
import { chainIds } from '../src/oci/image.js';
import { imageOf, putImage, testService } from './helpers/images.js';
import { registryMissing, startRegistry } from './helpers/registry.js';
import { firstReason, needsRoot } from './helpers/requires.js';
import { packTar } from './helpers/tar.js';

const skip = firstReason(needsRoot(), registryMissing());

const old = new Date(1_600_000_000_000);

/** A canonical listing of a directory tree, hashed (python3: Node has no xattr calls). */
function treeHash(dir: string, since: number): string {
  const script = `
import hashlib, os, stat, sys
root, since = sys.argv[1], float(sys.argv[2])
out = hashlib.sha256()
def walk(rel):
    p = os.path.join(root, rel) if rel else root
    st = os.lstat(p)
    m = st.st_mode
    line = [rel or '.', oct(m), str(st.st_uid), str(st.st_gid)]
    if stat.S_ISREG(m):
        line += [str(st.st_size), hashlib.sha256(open(p, 'rb').read()).hexdigest(), str(st.st_mtime_ns), str(st.st_nlink)]
    elif stat.S_ISLNK(m):
        line += [os.readlink(p), str(st.st_mtime_ns)]
    elif stat.S_ISCHR(m) or stat.S_ISBLK(m):
        line += [str(st.st_rdev)]
    elif stat.S_ISDIR(m) and rel and st.st_mtime < since:
        line += [str(st.st_mtime_ns)]
    if not stat.S_ISLNK(m):
        for x in sorted(os.listxattr(p, follow_symlinks=False)):
            line += [x, os.getxattr(p, x, follow_symlinks=False).hex()]
    out.update(('\\0'.join(line) + '\\n').encode('utf-8', 'surrogateescape'))
    if stat.S_ISDIR(m):
        for n in sorted(os.listdir(p)):
            walk(os.path.join(rel, n) if rel else n)
walk('')
print(out.hexdigest())
`;
  return execFileSync('python3', ['-c', script, dir, String(since / 1000)], { encoding: 'utf8' }).trim();
}

/** A promise that `release` settles, or 20 s (the assertions that depended on it then fail). */
function timedGate(t: TestContext): { gate: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const timer = setTimeout(release, 20_000);
  t.after(() => clearTimeout(timer));
  return { gate, release };
}

/** The upperdir of committed snapshot `key` (its own layer: the first lowerdir, or the bind source). */
async function upperOf(svc: ImageService, key: string): Promise<string> {
  const [m] = await svc.snapshotter.mounts(key);
  if (!m) throw new Error(`no mount for ${key}`);
  if (m.type === 'bind') return m.source;
  const lower = m.options.find((o) => o.startsWith('lowerdir='));
  return lower!.slice('lowerdir='.length).split(':')[0]!;
}

describe('speculative apply', { skip }, () => {
  test('layers applied ahead of their parent give the sequential apply’s trees, byte for byte', async (t) => {
    const since = Date.now() - 60_000;
    const reg = await startRegistry({ mode: 'anonymous' });
    t.after(() => reg.stop());
    const xattr = { 'SCHILY.xattr.user.berth': 'kept' };
    const tars = [
      // 0: the base (applied directly: no parent)
      await packTar([
        { name: 'etc', type: 'directory', mtime: old },
        { name: 'etc/a', data: 'a\n', mtime: old },
        { name: 'etc/b', data: 'b\n', mode: 0o600, uid: 7, gid: 8, mtime: old },
        { name: 'usr', type: 'directory', mode: 0o750, uid: 1000, gid: 1000, mtime: old, pax: xattr },
        { name: 'usr/lib', type: 'directory', mode: 0o700, uid: 1001, gid: 1001, mtime: old },
        { name: 'usr/lib/base.so', data: 'base', mtime: old },
        { name: 'lib', type: 'symlink', linkname: 'usr/lib', mtime: old },
        { name: 'opt', type: 'directory', mtime: old },
        { name: 'opt/old', data: 'old', mtime: old },
        { name: 'var', type: 'directory', mtime: old },
        { name: 'var/x', data: 'x', mtime: old },
      ]),
      // 1: implied parents and a whiteout that the base answers: applied again on it
      await packTar([
        { name: 'usr/lib/new.so', data: 'new', mtime: old },
        { name: 'etc/.wh.a', mtime: old },
        { name: 'var/.wh.nothing', mtime: old },
      ]),
      // 2: implied parents and whiteouts nothing below answers: adopted
      await packTar([
        { name: 'new/deep/f', data: 'f', mtime: old },
        { name: 'nowhere/.wh.z', mtime: old },
        { name: '.wh.never', mtime: old },
        { name: 'new/deep/link', type: 'link', linkname: 'new/deep/f', mtime: old },
      ]),
      // 3: through the base's `lib -> usr/lib` link, and an opaque directory: applied again
      await packTar([
        { name: 'lib/libx.so', data: 'x', mtime: old },
        { name: 'opt', type: 'directory', mode: 0o711, mtime: old },
        { name: 'opt/.wh..wh..opq', mtime: old },
        { name: 'opt/new', data: 'n', mtime: old },
      ]),
      // 4: every directory in the archive, no whiteouts: no lookups at all, adopted
      await packTar([
        { name: 'srv', type: 'directory', mode: 0o755, mtime: old },
        { name: 'srv/www', type: 'directory', mode: 0o750, uid: 33, gid: 33, mtime: old },
        { name: 'srv/www/index.html', data: '<p>', uid: 33, gid: 33, mtime: old },
        { name: 'srv/fifo', type: 'fifo', mtime: old },
      ]),
    ];
    const img = imageOf(tars);
    await putImage(reg, 'spec/x', 'v1', [img]);
    const ref = `${reg.host}/spec/x:v1`;
    const diffIds = (JSON.parse(img.config.bytes.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    const chains = chainIds(diffIds);

    // what each apply was asked to do, by diff id; layer 0's apply waits until the four others
    // have been applied speculatively (or 20 s: then the assertions below fail), so that every
    // one of them finds its parent uncommitted, whatever the machine's load
    const calls: { diffId: string; speculative: boolean }[] = [];
    let speculativeDone = 0;
    const { gate, release } = timedGate(t);
    const recording: ApplyLayer = async (input, options) => {
      const speculative = options.recordLookups === true;
      calls.push({ diffId: options.expectedDiffId ?? '', speculative });
      if (options.expectedDiffId === diffIds[0] && !speculative) await gate;
      try {
        return await applyLayer(input, options);
      } finally {
        if (speculative && ++speculativeDone === 4) release();
      }
    };
    const spec = await testService(t, { apply: recording });
    await spec.pull(ref, { concurrency: 5, speculate: true });
    const seq = await testService(t);
    await seq.pull(ref, { unpack: false });
    await seq.unpack(ref);

    const speculated = diffIds.map((d) => calls.filter((c) => c.diffId === d && c.speculative).length);
    const reapplied = diffIds.map((d) => calls.filter((c) => c.diffId === d && !c.speculative).length);
    assert.deepEqual(speculated, [0, 1, 1, 1, 1], 'layers 1-4 start before layer 0 commits');
    assert.deepEqual(reapplied, [1, 1, 0, 1, 0], 'applied again exactly where the lowers answer a lookup');

    for (const [i, chain] of chains.entries()) {
      const a = treeHash(await upperOf(spec, chain), since);
      const b = treeHash(await upperOf(seq, chain), since);
      assert.equal(a, b, `layer ${i}: the speculative tree differs from the sequential one`);
    }
    // nothing speculative is left behind
    const left: string[] = [];
    await spec.snapshotter.walk((info) => {
      left.push(info.name);
    });
    assert.deepEqual(left.sort(), [...chains].sort());
  });
});

describe('applied as it downloads', { skip }, () => {
  /** A registry (stopped after the test) holding `name`: five layers of distinct sizes, none answering another's lookups. */
  async function fiveLayers(t: TestContext, name: string) {
    const reg = await startRegistry({ mode: 'anonymous' });
    t.after(() => reg.stop());
    const sizes = [40_000, 5_000, 120_000, 1_000, 60_000];
    const tars = await Promise.all(sizes.map((n, i) => packTar([{ name: `l${i}/data`, data: randomBytes(n), mtime: old }])));
    const img = imageOf(tars);
    await putImage(reg, name, 'v1', [img]);
    return { img, ref: `${reg.host}/${name}:v1` };
  }

  test('downloads go smallest first when speculating, in the manifest’s order otherwise', async (t) => {
    const { img, ref } = await fiveLayers(t, 'order/x');
    const bySize = img.layers.map((l, i) => ({ i, size: l.size })).sort((a, b) => a.size - b.size || a.i - b.i);
    const ids = img.layers.map((l) => l.digest.slice('sha256:'.length, 'sha256:'.length + 12));
    const downloadOrder = async (speculate: boolean) => {
      const svc = await testService(t);
      const seen: string[] = [];
      await svc.pull(ref, {
        concurrency: 1,
        speculate,
        onProgress: (e) => {
          if (e.status === 'Downloading' && e.id !== undefined && !seen.includes(e.id)) seen.push(e.id);
        },
      });
      return seen.map((id) => ids.indexOf(id));
    };
    assert.deepEqual(
      await downloadOrder(true),
      bySize.map((l) => l.i),
      'smallest first',
    );
    assert.deepEqual(await downloadOrder(false), [0, 1, 2, 3, 4], 'the manifest’s order');
  });

  test('a speculative apply that fails mid-stream fails nothing: the layer is applied on its parent', async (t) => {
    const { img, ref } = await fiveLayers(t, 'fail/x');
    const diffIds = (JSON.parse(img.config.bytes.toString()) as { rootfs: { diff_ids: string[] } }).rootfs.diff_ids;
    // layer 0 waits until the speculative applies have run (or 20 s), so that they do speculate
    const calls: { diffId: string; speculative: boolean; streamed: boolean }[] = [];
    let failed = 0;
    const { gate, release } = timedGate(t);
    const failing: ApplyLayer = async (input, options) => {
      const speculative = options.recordLookups === true;
      const streamed = isFeed(input);
      calls.push({ diffId: options.expectedDiffId ?? '', speculative, streamed });
      if (options.expectedDiffId === diffIds[0] && !speculative) await gate;
      if (speculative) {
        // a process that reads a little and dies, as a broken helper would, with the download still going
        try {
          if (!isFeed(input)) throw new Error('not fed from the download');
          const helper = spawn('sh', ['-c', 'head -c 1 >/dev/null; exit 3'], { stdio: ['pipe', 'ignore', 'ignore'] });
          const stdin = helper.stdin;
          stdin.on('error', () => {});
          input.attach({ stdin, check: () => {}, abort: () => helper.kill('SIGKILL') });
          await once(helper, 'close');
          throw new Error('the helper died');
        } finally {
          if (++failed === 4) release();
        }
      }
      return applyLayer(input, options);
    };
    const svc = await testService(t, { apply: failing });
    await svc.pull(ref, { concurrency: 5 });
    const spec = calls.filter((c) => c.speculative);
    assert.equal(spec.length, 4, 'layers 1-4 were applied speculatively');
    assert.ok(
      spec.every((c) => c.streamed),
      'from the download, not from the store',
    );
    const onParent = diffIds.map((d) => calls.filter((c) => c.diffId === d && !c.speculative).length);
    assert.deepEqual(onParent, [1, 1, 1, 1, 1], 'each layer applied once on its parent');
    // the image is whole, and nothing speculative is left behind
    const chains = chainIds(diffIds);
    const left: string[] = [];
    await svc.snapshotter.walk((info) => {
      left.push(info.name);
    });
    assert.deepEqual(left.sort(), [...chains].sort());
    for (const [i, chain] of chains.entries()) {
      const want = [40_000, 5_000, 120_000, 1_000, 60_000][i];
      assert.equal(statSync(join(await upperOf(svc, chain), `l${i}`, 'data')).size, want, `layer ${i}'s file`);
    }
  });
});
