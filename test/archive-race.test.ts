/**
 * `docker cp` against a RUNNING busybox container (the runtime library, as the engine runs it),
 * through /proc/<pid>/root, while the container's process keeps replacing a directory by a link
 * to `/` and by a link to a host directory that holds a secret (a path that exists only on the
 * host). Reads, stats and writes run in a loop meanwhile: nothing of the host is ever read, and
 * nothing is ever written outside the container.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isKind } from '../src/common/errors.js';
import { archivePath, extractArchive, statPath } from '../src/engine/archive/index.js';
import { Container, create, deleteContainer, kill, start } from '../src/runtime/index.js';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { packTar, readAll } from './helpers/tar.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : rootfsUnavailable();
const summaryNames = (tar: Buffer) => {
  // names only: a ustar walk over the headers (enough for these small tars)
  const out: string[] = [];
  for (let off = 0; off + 512 <= tar.length; ) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '');
    const prefix = h.subarray(345, 500).toString('latin1').replace(/\0.*$/s, '');
    const size = Number.parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    if (h[156] !== 0x78) out.push(prefix ? `${prefix}/${name}` : name);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
};
const SECRET = `host-secret-${randomBytes(6).toString('hex')}`;

test('a container swapping a directory for links out while cp runs: nothing leaks', { skip, timeout: 90_000 }, async (t) => {
  const host = mkdtempSync(join(tmpdir(), 'berth-cp-race-host-'));
  writeFileSync(join(host, 'f'), SECRET);
  mkdirSync(join(host, 'dir'));
  const state = mkdtempSync(join(tmpdir(), 'berth-cp-race-state-'));
  const id = uniqueId('cprace');
  await using b = await Bundle.create();
  const leak = `leak-${randomBytes(4).toString('hex')}`;
  const script = [
    'mkdir -p /race',
    'while :; do',
    '  rm -rf /race/d; mkdir /race/d; echo inside > /race/d/f',
    '  rm -rf /race/d; ln -s / /race/d',
    `  rm -f /race/d; ln -s ${host} /race/d`,
    '  rm -f /race/d',
    'done',
  ].join('\n');
  await b.editConfig((s) => {
    s.process!.args = ['/bin/sh', '-c', script];
    s.root = { path: 'rootfs', readonly: false };
  });
  try {
    await create({ root: state, id, bundle: b.dir });
    await start(state, id);
    const pid = (await Container.load(state, id)).record.pid;
    const root = `/proc/${pid}/root`;
    for (let i = 0; i < 200 && !existsSync(`${root}/race`); i++) await sleep(10);
    // the kernel's filesystems in the container's view are not the container's files
    assert.throws(
      () => statPath(root, '/proc/kcore', id),
      (e: Error) => isKind(e, 'not-found'),
    );
    assert.throws(
      () => statPath(root, '/proc/self/root', id),
      (e: Error) => isKind(e, 'not-found'),
    );
    assert.throws(
      () => archivePath(root, '/proc/1/environ', id),
      (e: Error) => isKind(e, 'not-found'),
    );
    assert.deepEqual(summaryNames(await readAll(archivePath(root, '/proc', id).stream)), ['proc/']);
    const all = summaryNames(await readAll(archivePath(root, '/', id).stream));
    assert.ok(all.includes('/proc/') && all.includes('/sys/') && all.includes('/bin/sh'), all.slice(0, 20).join(','));
    assert.ok(!all.some((n) => n.startsWith('/proc/1') || n.startsWith('/sys/kernel')), 'proc and sysfs are not walked');
    for (const dest of ['/proc', '/proc/sys/kernel', '/sys/fs/cgroup', '/sys']) {
      await assert.rejects(
        extractArchive(root, dest, Readable.from([await packTar([{ name: 'x', data: 'x' }])]), {}, id),
        (e: Error) =>
          isKind(e, 'permission-denied') ||
          isKind(e, 'not-found') ||
          isKind(e, 'failed-precondition') ||
          assert.fail(`${dest}: ${e.message}`),
      );
    }
    const upload = await packTar([
      { name: leak, data: 'written' },
      { name: 'f', data: 'overwritten?' },
    ]);
    const refusals = new Set<string>();
    const seen = { read: 0, notFound: 0, wrote: 0, refused: 0, insideF: 0 };
    // Four seconds at least, then on until each state of the race was met (a slow machine
    // schedules the container's loop less often), up to 30 s.
    const enough = () => seen.read > 10 && seen.notFound > 0 && seen.wrote > 0 && seen.insideF > 0;
    const minEnd = Date.now() + 4000;
    const maxEnd = Date.now() + 30_000;
    while (Date.now() < minEnd || (!enough() && Date.now() < maxEnd)) {
      for (const p of ['/race/d/f', '/race/d', '/race/d/', '/race']) {
        try {
          const s = statPath(root, p, id);
          assert.ok(!JSON.stringify(s).includes(SECRET));
          const tar = await readAll(archivePath(root, p, id).stream);
          assert.ok(!tar.includes(SECRET), `${p}: the host's secret is in the tar`);
          if (p === '/race/d/f' && tar.includes('inside')) seen.insideF++;
          seen.read++;
        } catch (err) {
          if (!isKind(err, 'not-found')) throw err;
          seen.notFound++;
        }
      }
      try {
        await extractArchive(root, '/race/d', Readable.from([upload]), { noOverwriteDirNonDir: false }, id);
        seen.wrote++;
      } catch (err) {
        // the destination vanished or turned into something else between the checks: refused
        seen.refused++;
        assert.ok(err instanceof Error);
        refusals.add(err.message.replace(/\d+/g, 'N'));
        // only "gone": the destination was not there, or was removed under the open fd
        assert.match(
          err.message,
          /^Could not find the file \/race\/d in container|: (create|mkdir|open directory|stat): No such file or directory \(ENOENT\)$/,
        );
      }
      assert.deepEqual(readdirSync(host).sort(), ['dir', 'f'], 'nothing written into the host directory');
      assert.equal(existsSync(join('/', leak)), false, 'nothing written at the host root');
    }
    t.diagnostic(JSON.stringify(seen));
    t.diagnostic([...refusals].join(' | '));
    assert.ok(enough(), JSON.stringify(seen));
  } finally {
    await kill(state, id, 9, true).catch(() => {});
    for (let i = 0; i < 200; i++) {
      const st = await Container.load(state, id).then(
        (c) => c.status(),
        () => 'gone',
      );
      if (st === 'stopped' || st === 'gone') break;
      await sleep(25);
    }
    await deleteContainer(state, id, true).catch(() => {});
    rmSync(state, { recursive: true, force: true });
    assert.deepEqual(readdirSync(host).sort(), ['dir', 'f']);
    rmSync(host, { recursive: true, force: true });
    assert.equal(existsSync(join('/', leak)), false);
  }
});
