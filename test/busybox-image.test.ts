/**
 * The quickstart's busybox image: imported from busybox-static into an image service, with the
 * same image ID on every run and every data root, a no-op the second time, and a rootfs with a
 * working /bin/sh.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { busyboxBinary, importBusybox } from '../src/images/busybox.js';
import { openImageService } from '../src/images/service.js';
import { withMounted } from '../src/snapshots/mount.js';
import { needsFile, needsRoot, requires } from './helpers/requires.js';

test('busybox:latest: the same image ID twice and on another root; its rootfs has /bin/sh', async (t) => {
  if (!requires(t, needsRoot(), needsFile(busyboxBinary(), 'busybox-static'))) return;
  const roots = [mkdtempSync(join(tmpdir(), 'berth-bb-a-')), mkdtempSync(join(tmpdir(), 'berth-bb-b-'))];
  t.after(() => {
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });
  const a = await openImageService({ root: roots[0]! });
  try {
    const first = await importBusybox(a);
    assert.equal(first.imported, true);
    assert.equal(first.name, 'docker.io/library/busybox:latest');
    assert.match(first.id, /^sha256:[0-9a-f]{64}$/);
    const again = await importBusybox(a);
    assert.deepEqual(again, { ...first, imported: false }, 'the second run changes nothing');
    assert.equal(a.images.list().length, 1);

    const b = await openImageService({ root: roots[1]! });
    try {
      assert.equal((await importBusybox(b)).id, first.id, 'reproducible: the same ID on a fresh root');
    } finally {
      await b[Symbol.asyncDispose]();
    }

    const mounts = await a.rootfs(first.name, 'busybox-test', { readonly: true });
    try {
      await withMounted(mounts, (dir) => {
        assert.equal(readlinkSync(join(dir, 'bin/sh')), '/bin/busybox');
        assert.ok(existsSync(join(dir, 'etc/passwd')));
        // the image's shell runs, chrooted into it
        const r = spawnSync('chroot', [dir, '/bin/sh', '-c', 'echo hi from $(id -un); ls -d /tmp'], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, 'hi from root\n/tmp\n');
      });
    } finally {
      await a.snapshotter.remove('busybox-test');
    }

    // a tag moved elsewhere is put back
    a.images.delete(first.name);
    assert.equal((await importBusybox(a)).imported, true);
  } finally {
    await a[Symbol.asyncDispose]();
  }
});
