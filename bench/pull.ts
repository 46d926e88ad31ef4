/**
 * Pull benchmark driver (bench/pull.sh runs it): a one-layer image (one random file of SIZE_MB)
 * and a 5-layer image (four random files and one layer of small files) in a local
 * docker-registry, pulled by
 *   berth   ImageService.pull in a process of its own (bench/pull-one.ts): download + verify + unpack into overlay snapshots
 *   skopeo  skopeo copy docker://… oci:…          download + verify only
 *   dockerd docker pull against Debian's dockerd (its own data-root, exec-root and socket)
 * plus the machine's limits on the one-layer image's layer: sha256sum, gzip -d, tar -x.
 * SPECULATE=0 pulls with `speculate: false` (src/images/pull.ts; on by default). Every cell is
 * the median of RUNS pulls of images the puller has never seen (an empty store each time;
 * nothing deleted before the end, see below). Prints a table and the ratios; asserts nothing.
 *
 * Where the pulls write: for all three tools, a fresh ext4 filesystem on a loop device that the
 * bench makes and removes (bench/fresh-fs.ts says why; BENCH_FS=host writes under $TMPDIR).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { imageOf, putImage } from '../test/helpers/images.js';
import { startRegistry, tarOf } from '../test/helpers/registry.js';
import { Cleanup } from './cleanup.js';
import { type FreshFs, freshFs } from './fresh-fs.js';

const run = promisify(execFile);
const RUNS = Number(process.env.RUNS ?? 3);
const SIZE_MB = Number(process.env.SIZE_MB ?? 200);
const which = (cmd: string) => ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/bin', '/sbin'].map((d) => join(d, cmd)).find(existsSync);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(2));

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const cleanup = new Cleanup();
const work = mkdtempSync(join(tmpdir(), 'berth-bench-pull-'));
cleanup.add(() => rmSync(work, { recursive: true, force: true }));
const reg = await startRegistry({ mode: 'anonymous' });
cleanup.add(() => reg.stop());
let dockerd: ChildProcess | undefined;
// every puller's destination (see the file comment)
let fs: FreshFs | undefined;
let dest = work;
let dk = join(dest, 'dockerd');
cleanup.add(() => fs?.[Symbol.asyncDispose]());
cleanup.add(async () => {
  if (dockerd?.pid !== undefined && dockerd.exitCode === null) {
    const exited = new Promise((r) => dockerd!.once('exit', r));
    process.kill(dockerd.pid, 'SIGTERM');
    const timer = setTimeout(() => dockerd?.pid !== undefined && dockerd.exitCode === null && process.kill(dockerd.pid, 'SIGKILL'), 15000);
    await exited;
    clearTimeout(timer);
    await run('sh', ['-c', `grep -o ' ${dk}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => {});
  }
});
try {
  fs = await freshFs(work);
  dest = fs.dir;
  dk = join(dest, 'dockerd');
  // One pair of images per run, never pulled before by anyone. Each cell's output is deleted
  // after it is timed (then `sync`): on this VM a filesystem that fills up makes every later
  // pull 1.4–1.8× slower, skopeo's and berth's alike (seen after ~1.5 GB; not the host's block
  // allocation: a written-out image does the same). The fresh filesystem has a journal, so the
  // deletions do not tax the next file creations (see fresh-fs.ts).
  console.error(`building ${RUNS} pair(s) of images (${SIZE_MB} MiB)…`);
  const part = Math.max(1, Math.floor(SIZE_MB / 5)) << 20;
  const sizes = { 'one layer': 0, '5 layers': 0 };
  // the one-layer image's layer, for the limits below: on disk, not in this process (see below)
  const layerFile = join(work, 'layer.tar.gz');
  const tarFile = join(work, 'layer.tar');
  for (let i = 0; i < RUNS; i++) {
    const tar = tarOf({ 'random.bin': randomBytes(SIZE_MB << 20) });
    const one = imageOf([tar]);
    const small = tarOf(Object.fromEntries(Array.from({ length: 5000 }, (_, j) => [`d${j % 50}/f${j}`, randomBytes(1024)])));
    const five = imageOf([...[1, 2, 3, 4].map((j) => tarOf({ [`layer${j}.bin`]: randomBytes(part) })), small]);
    await putImage(reg, `bench/one${i}`, 'v1', [one]);
    await putImage(reg, `bench/five${i}`, 'v1', [five]);
    sizes['one layer'] = one.layers[0]!.size;
    sizes['5 layers'] = five.layers.reduce((a, l) => a + l.size, 0);
    if (i === 0) {
      writeFileSync(layerFile, one.layers[0]!.bytes);
      writeFileSync(tarFile, tar);
    }
  }

  const images = { 'one layer': (i: number) => `${reg.host}/bench/one${i}:v1`, '5 layers': (i: number) => `${reg.host}/bench/five${i}:v1` };

  // dockerd, on its own everything; stopped by PID below
  // BENCH_DOCKERD=0: without dockerd (its column empty)
  if (process.env.BENCH_DOCKERD !== '0' && which('dockerd') && which('docker')) {
    mkdirSync(dk, { recursive: true });
    dockerd = spawn(
      which('dockerd')!,
      [
        `--data-root=${dk}/root`,
        `--exec-root=${dk}/exec`,
        `--pidfile=${dk}/dockerd.pid`,
        `--host=unix://${dk}/docker.sock`,
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        `--insecure-registry=${reg.host}`,
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    for (let i = 0; i < 150 && !existsSync(join(dk, 'docker.sock')); i++) await new Promise((r) => setTimeout(r, 100));
    await run('docker', ['-H', `unix://${dk}/docker.sock`, 'version']).catch(() => new Promise((r) => setTimeout(r, 1000)));
  }
  const docker = (...args: string[]) => run('docker', ['-H', `unix://${dk}/docker.sock`, ...args], { maxBuffer: 64 << 20 });

  // Each cell starts with no dirty pages of the previous one: berth-unpack ends a layer with
  // syncfs(), which would otherwise also write back what skopeo or dockerd left in the page cache.
  const settle = () => run('sync', []);

  const rows: Record<string, Record<string, number | undefined>> = {};
  for (const [label, refOf] of process.env.FIVE_FIRST ? Object.entries(images).reverse() : Object.entries(images)) {
    const cell: Record<string, number[]> = { berth: [], skopeo: [], dockerd: [] };
    for (let i = 0; i < RUNS; i++) {
      const ref = refOf(i);
      const root = join(dest, `berth-${label === 'one layer' ? 'one' : 'five'}-${i}`);
      await settle();
      // in a process of its own, the size of a daemon's (see bench/pull-one.ts), timed there
      const out = await run(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'pull-one.ts'), root, ref]);
      if (process.env.PROGRESS) console.error(out.stderr);
      cell.berth!.push((JSON.parse(out.stdout) as { ms: number }).ms);
      rmSync(root, { recursive: true, force: true });
      if (which('skopeo')) {
        const out = join(dest, `skopeo-${label === 'one layer' ? 'one' : 'five'}-${i}`);
        await settle();
        cell.skopeo!.push(
          await time(() =>
            run('skopeo', ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${out}:x`]),
          ),
        );
        rmSync(out, { recursive: true, force: true });
      }
      if (dockerd) {
        await settle();
        cell.dockerd!.push(await time(() => docker('pull', '-q', ref)));
        await docker('rmi', ref);
      }
    }
    console.error(
      `${label}: ${Object.entries(cell)
        .map(([k, v]) => `${k} ${v.map((ms) => secs(ms)).join(' ')}`)
        .join('; ')}`,
    );
    rows[label] = Object.fromEntries(Object.entries(cell).map(([k, v]) => [k, v.length ? median(v) : undefined]));
  }

  // the machine's limits on the one-layer image's layer
  const limits: Record<string, number[]> = { sha256sum: [], 'gzip -d': [], 'tar -x': [] };
  for (let i = 0; i < RUNS; i++) {
    limits.sha256sum!.push(await time(() => run('sha256sum', [layerFile])));
    limits['gzip -d']!.push(await time(() => run('sh', ['-c', `gzip -dc < ${layerFile} > /dev/null`])));
    const x = join(dest, `x${i}`);
    mkdirSync(x);
    limits['tar -x']!.push(await time(() => run('tar', ['-xf', tarFile, '-C', x])));
    rmSync(x, { recursive: true, force: true });
  }

  console.log(`\npull benchmark: median of ${RUNS} run(s), seconds (one layer: ${SIZE_MB} MiB random file)\n`);
  console.log('image       compressed MB   berth  skopeo  dockerd   berth/dockerd  berth/skopeo');
  for (const [label, r] of Object.entries(rows)) {
    const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (a / b).toFixed(2) : '-');
    console.log(
      `${label.padEnd(12)}${(sizes[label as keyof typeof sizes] / 1e6).toFixed(1).padStart(13)}  ${secs(r.berth).padStart(6)}  ${secs(r.skopeo).padStart(6)}  ${secs(r.dockerd).padStart(7)}   ${ratio(r.berth, r.dockerd).padStart(13)}  ${ratio(r.berth, r.skopeo).padStart(12)}`,
    );
  }
  console.log("\nlimits on the one-layer image's layer (same data):");
  for (const [k, v] of Object.entries(limits)) console.log(`  ${k.padEnd(10)} ${secs(median(v))} s`);
  console.log('\ngoals (issue 7): berth <= 0.6x dockerd, and not slower than skopeo (download + verify only)');
} finally {
  await cleanup.run();
}
