/**
 * One pull, instrumented: per-layer progress timestamps (ms from the start), apply start/end,
 * process CPU (user+sys), for finding the critical path. Not a benchmark: prints, asserts nothing.
 *   SIZE_MB=200 IMAGE=one|five [SPECULATE=0] [COMPRESSION=gzip|zstd|none (one)] node --import tsx bench/pull-profile.ts
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageService } from '../src/images/service.js';
import { imageOf, putImage } from '../test/helpers/images.js';
import { startRegistry, tarOf } from '../test/helpers/registry.js';
import { freshFs } from './fresh-fs.js';

const SIZE_MB = Number(process.env.SIZE_MB ?? 200);
const IMAGE = process.env.IMAGE ?? 'one';
const work = mkdtempSync(join(tmpdir(), 'berth-bench-prof-'));
const reg = await startRegistry({ mode: 'anonymous' });
// the store on a fresh filesystem: see bench/fresh-fs.ts (BENCH_FS=host: under $TMPDIR)
const fs = await freshFs(work);
try {
  const part = Math.max(1, Math.floor(SIZE_MB / 5)) << 20;
  const img =
    IMAGE === 'one'
      ? imageOf([tarOf({ 'random.bin': randomBytes(SIZE_MB << 20) })], { compression: (process.env.COMPRESSION ?? 'gzip') as 'gzip' })
      : imageOf([
          ...[1, 2, 3, 4].map((i) => tarOf({ [`layer${i}.bin`]: randomBytes(part) })),
          tarOf(Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`d${i % 50}/f${i}`, randomBytes(1024)]))),
        ]);
  await putImage(reg, 'bench/x', 'v1', [img]);
  // DIRTY=1: skopeo copies the image first, as in bench/pull.ts, leaving its writes to the kernel's writeback
  if (process.env.DIRTY) {
    execFileSync('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${reg.host}/bench/x:v1`,
      `oci:${fs.dir}/sk:x`,
    ]);
  }
  const svc = await openImageService({ root: join(fs.dir, 'root') });
  // PROF=file: a CPU profile of the pull alone (open it in Chrome's DevTools)
  const session = process.env.PROF ? new Session() : undefined;
  session?.connect();
  await session?.post('Profiler.enable');
  await session?.post('Profiler.start');
  // CPU seconds of this process's reaped children (berth-ingest, berth-unpack) and of the registry
  const ticks = (stat: string, from: number) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[from - 3]) + Number(f[from - 2])) / 100;
  };
  const childCpu = () => ticks(readFileSync('/proc/self/stat', 'utf8'), 16);
  const registryPid = execFileSync('pgrep', ['-n', '-x', 'docker-registry'], { encoding: 'utf8' }).trim();
  const registryCpu = () => ticks(readFileSync(`/proc/${registryPid}/stat`, 'utf8'), 14);
  const [k0, r0] = [childCpu(), registryCpu()];
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const last = new Map<string, string>();
  await svc.pull(`${reg.host}/bench/x:v1`, {
    speculate: process.env.SPECULATE !== '0',
    ...(process.env.CONC ? { concurrency: Number(process.env.CONC) } : {}),
    onProgress: (e) => {
      const key = `${e.id ?? '-'} ${e.status}`;
      if (last.get(e.id ?? '-') === e.status) return;
      last.set(e.id ?? '-', e.status);
      console.log(`${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${key}`);
    },
  });
  const wall = performance.now() - t0;
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.PROF as string, JSON.stringify(profile));
  }
  const c = process.cpuUsage(c0);
  console.log(
    `wall ${(wall / 1000).toFixed(2)} s; node cpu user ${(c.user / 1e6).toFixed(2)} sys ${(c.system / 1e6).toFixed(2)}; helpers ${(childCpu() - k0).toFixed(2)}; registry ${(registryCpu() - r0).toFixed(2)}`,
  );
  await svc[Symbol.asyncDispose]();
} finally {
  await reg.stop();
  await fs[Symbol.asyncDispose]();
  rmSync(work, { recursive: true, force: true });
}
