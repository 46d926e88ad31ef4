/**
 * One pull, instrumented: per-layer progress timestamps (ms from the start), apply start/end,
 * process CPU (user+sys), the whole machine's busy CPU, the event loop's delay, for finding the
 * critical path. Not a benchmark: prints, asserts nothing.
 *   SIZE_MB=200 IMAGE=one|five [SPECULATE=0] [CONC=n] [COMPRESSION=gzip|zstd|none (one)] node --import tsx bench/pull-profile.ts
 * SKOPEO=1 first times skopeo's copy of the same image the same way; PROF=file writes a CPU
 * profile of the pull, PERF=file a `perf record -a` of it; LAG=1 prints main-thread stalls.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openImageService } from '../src/images/service.js';
import { imageOf, putImage } from '../test/helpers/images.js';
import { startRegistry, tarOf } from '../test/helpers/registry.js';
import { Cleanup } from './cleanup.js';
import { freshFs } from './fresh-fs.js';

const SIZE_MB = Number(process.env.SIZE_MB ?? 200);
const IMAGE = process.env.IMAGE ?? 'one';
const cleanup = new Cleanup();
const work = mkdtempSync(join(tmpdir(), 'berth-bench-prof-'));
cleanup.add(() => rmSync(work, { recursive: true, force: true }));
const reg = await startRegistry({ mode: 'anonymous' });
cleanup.add(() => reg.stop());
// the store on a fresh filesystem: see bench/fresh-fs.ts (BENCH_FS=host: under $TMPDIR)
const fs = await freshFs(work);
cleanup.add(() => fs[Symbol.asyncDispose]());
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
  const skopeoCopy = (layout: string) =>
    execFileSync('skopeo', [
      '--insecure-policy',
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${reg.host}/bench/x:v1`,
      `oci:${layout}:x`,
    ]);
  // DIRTY=1: skopeo copies the image first, as in bench/pull.ts, leaving its writes to the kernel's writeback
  if (process.env.DIRTY) skopeoCopy(`${fs.dir}/sk`);
  const svc = await openImageService({ root: join(fs.dir, 'root') });
  // CPU seconds of this process's reaped children (berth-ingest, berth-unpack) and of the registry
  const ticks = (stat: string, from: number) => {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[from - 3]) + Number(f[from - 2])) / 100;
  };
  const childCpu = () => ticks(readFileSync('/proc/self/stat', 'utf8'), 16);
  const registryPid = execFileSync('pgrep', ['-n', '-x', 'docker-registry'], { encoding: 'utf8' }).trim();
  const registryCpu = () => ticks(readFileSync(`/proc/${registryPid}/stat`, 'utf8'), 14);
  // the whole machine's busy CPU (all processes and the kernel's threads: writeback, the loop device)
  const machineBusy = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + f[4]!;
    return (f.reduce((a, b) => a + b, 0) - idle) / 100;
  };
  // SKOPEO=1: skopeo's copy of the same image instead of berth's pull, measured the same way
  if (process.env.SKOPEO) {
    const [m0, r0s] = [machineBusy(), registryCpu()];
    const t = performance.now();
    skopeoCopy(`${fs.dir}/sk2`);
    console.log(
      `skopeo: wall ${((performance.now() - t) / 1000).toFixed(2)} s; machine busy ${(machineBusy() - m0).toFixed(2)} CPU-s; registry ${(registryCpu() - r0s).toFixed(2)}`,
    );
    rmSync(`${fs.dir}/sk2`, { recursive: true, force: true });
    execFileSync('sync');
  }
  // PERF=file: the whole machine sampled during the pull alone (`perf report -i file --sort comm,dso`)
  const perf = process.env.PERF
    ? spawn('perf', ['record', '-q', '-a', '-F', '1999', '-o', process.env.PERF], { stdio: 'inherit' })
    : undefined;
  if (perf) await new Promise((r) => setTimeout(r, 1000));
  // PROF=file: a CPU profile of the pull alone (open it in Chrome's DevTools)
  const session = process.env.PROF ? new Session() : undefined;
  session?.connect();
  await session?.post('Profiler.enable');
  await session?.post('Profiler.start');
  const [k0, r0, m0] = [childCpu(), registryCpu(), machineBusy()];
  const t0 = performance.now();

  const c0 = process.cpuUsage();
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  // LAG=1: the main thread's longest stalls, as they happen
  let lastTick = performance.now();
  const ticker = process.env.LAG
    ? setInterval(() => {
        const now = performance.now();
        if (now - lastTick > 12)
          console.log(`${(now - t0).toFixed(0).padStart(6)} ms  (main thread stalled ${(now - lastTick - 2).toFixed(0)} ms)`);
        lastTick = now;
      }, 2)
    : undefined;
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
  if (ticker) clearInterval(ticker);
  lag.disable();
  console.log(
    `event loop delay: max ${(lag.max / 1e6).toFixed(0)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(0)} ms, mean ${(lag.mean / 1e6).toFixed(1)} ms`,
  );
  if (perf) {
    perf.kill('SIGINT');
    await new Promise((r) => perf.once('exit', r));
  }
  if (session) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(process.env.PROF as string, JSON.stringify(profile));
  }
  const c = process.cpuUsage(c0);
  console.log(
    `wall ${(wall / 1000).toFixed(2)} s; node cpu user ${(c.user / 1e6).toFixed(2)} sys ${(c.system / 1e6).toFixed(2)}; helpers ${(childCpu() - k0).toFixed(2)}; registry ${(registryCpu() - r0).toFixed(2)}; machine busy ${(machineBusy() - m0).toFixed(2)} CPU-s`,
  );
  await svc[Symbol.asyncDispose]();
} finally {
  await cleanup.run();
}
