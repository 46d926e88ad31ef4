/**
 * The CLI benchmark (run by bench/cli.sh): the `berth` CLI against the v28 docker CLI, on berthd
 * and on Debian's dockerd 20.10 (overlay2), both started here with private roots.
 *
 * `berth` is the installed command, the static front native/build/berth, which hands the
 * command to berthd's CLI host (a warm worker thread); `berth(node)` is dist/berth.cjs run by
 * Node, what the front falls back to (no berthd, not root, another daemon).
 *
 *   1. `run --rm --network none busybox true`: berth→berthd, docker→berthd, docker→dockerd;
 *   2. the CLI's own start-up: `version` (one API call) and `--version` (none), berth and docker;
 *   3. peak RSS (GNU time -v) of the same commands, and berthd's RSS before any command and
 *      with the CLI host's warm workers (the front's memory lives there);
 *   4. `ps -a` and `images` with CONTAINERS containers (created, not started) and IMAGES
 *      distinct images (tiny tars imported through the API) on each daemon: berth→berthd,
 *      docker→berthd, docker→dockerd.
 *
 * Timings by hyperfine (RUNS runs after WARMUP). Prints a table with ratios; asserts nothing.
 * Removes everything it made (containers through the APIs, the daemons by pid, their roots).
 * A `berth` command that is not written yet is left out, saying so.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Berthd, DOCKER_V28 } from '../test/helpers/berthd.js';
import { BERTH_BUNDLE } from '../test/helpers/cli.js';
import { Dockerd } from '../test/helpers/dockerd.js';
import { tarOf } from '../test/helpers/registry.js';
import { REPO_ROOT } from '../test/helpers/runtime.js';

const num = (name: string, dflt: number) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer`);
  return v;
};
const RUNS = num('RUNS', 20);
const WARMUP = num('WARMUP', 3);
const CONTAINERS = num('CONTAINERS', 1000);
const IMAGES = num('IMAGES', 200);
const OUT = process.env.BENCH_OUT;
const log = (s: string) => process.stderr.write(`${s}\n`);

interface Target {
  /** `berth→berthd` … */
  name: string;
  argv: string[];
  env: Record<string, string>;
}

/** metric → target → value */
const results = new Map<string, Map<string, number>>();
const put = (metric: string, target: string, v: number) => {
  if (!results.has(metric)) results.set(metric, new Map());
  results.get(metric)!.set(target, v);
};
const notes: string[] = [];

function api(socket: string, method: string, path: string, body?: Buffer | object, type = 'application/json') {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { socketPath: socket, path, method, headers: data ? { 'Content-Type': type, 'Content-Length': data.length } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function pool(n: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** CONTAINERS created (not started) and IMAGES distinct images, through the API. */
async function populate(daemon: string, socket: string): Promise<void> {
  const t0 = performance.now();
  await pool(CONTAINERS, 8, async (i) => {
    const r = await api(socket, 'POST', `/containers/create?name=bench-${i}`, {
      Image: 'busybox',
      Cmd: ['true'],
      HostConfig: { NetworkMode: 'none' },
    });
    if (r.status !== 201) throw new Error(`${daemon}: create: ${r.status} ${r.text}`);
  });
  await pool(IMAGES, 4, async (i) => {
    // One file of its own per image: a distinct layer, config and id.
    const tar = tarOf({ [`img${i}`]: createHash('sha256').update(String(i)).digest('hex') });
    const r = await api(socket, 'POST', `/images/create?fromSrc=-&repo=bench/img${i}&tag=latest`, tar, 'application/x-tar');
    if (r.status !== 200 || /"error"/.test(r.text)) throw new Error(`${daemon}: import: ${r.status} ${r.text}`);
  });
  log(`${daemon}: ${CONTAINERS} containers and ${IMAGES} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
const shell = (t: Target, args: string[]) =>
  `env ${Object.entries(t.env)
    .map(([k, v]) => `${k}=${quote(v)}`)
    .join(' ')} ${[...t.argv, ...args].map(quote).join(' ')}`;

/** hyperfine over the targets for one command; the mean (ms) goes under `metric`. */
function hyperfine(metric: string, targets: Target[], args: string[], work: string): void {
  const out = join(work, 'hyperfine.json');
  const hargs = ['--runs', String(RUNS), '--warmup', String(WARMUP), '--export-json', out, '--style', 'basic', '-N'];
  for (const t of targets) hargs.push('-n', t.name, shell(t, args));
  const r = spawnSync('hyperfine', hargs, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`hyperfine failed for ${metric}`);
  const j = JSON.parse(readFileSync(out, 'utf8')) as { results: { mean: number }[] };
  for (const [i, t] of targets.entries()) put(`${metric} (ms)`, t.name, j.results[i]!.mean * 1000);
}

/** Peak RSS (MiB) of one command, by GNU time -v; the median of three. */
function peakRss(metric: string, t: Target, args: string[]): void {
  const vals: number[] = [];
  for (let i = 0; i < 3; i++) {
    const r = spawnSync('/usr/bin/time', ['-v', ...t.argv, ...args], { env: { ...process.env, ...t.env }, encoding: 'utf8' });
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`time -v: ${r.stderr}`);
    vals.push(Number(m[1]) / 1024);
  }
  vals.sort((a, b) => a - b);
  put(`${metric} peak RSS (MiB)`, t.name, vals[1]!);
}

/** Has `berth` this command (its help answers 0)? */
function berthHas(t: Target, words: string[]): boolean {
  const r = spawnSync(t.argv[0]!, [...t.argv.slice(1), ...words, '--help'], { env: { ...process.env, ...t.env }, stdio: 'ignore' });
  return r.status === 0;
}

function print(targets: string[]): void {
  const metrics = [...results.keys()];
  const w = Math.max(...metrics.map((k) => k.length), 6);
  const f = (v: number | undefined) => (v === undefined ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const ratioCols = ['berth/docker (berthd)', 'berth→berthd / docker→dockerd'];
  let s = `${'metric'.padEnd(w)}  ${targets.map((t) => t.padStart(14)).join('  ')}  ${ratioCols.map((c) => c.padStart(c.length)).join('  ')}\n`;
  for (const m of metrics) {
    const v = results.get(m)!;
    const a = v.get('berth→berthd');
    const b = v.get('docker→berthd');
    const c = v.get('docker→dockerd');
    const r1 = a !== undefined && b ? (a / b).toFixed(2) : '-';
    const r2 = a !== undefined && c ? (a / c).toFixed(2) : '-';
    s += `${m.padEnd(w)}  ${targets.map((t) => f(v.get(t)).padStart(14)).join('  ')}  ${r1.padStart(ratioCols[0]!.length)}  ${r2.padStart(ratioCols[1]!.length)}\n`;
  }
  process.stdout.write(s);
  for (const n of notes) process.stdout.write(`note: ${n}\n`);
  process.stdout.write(
    `(RUNS=${RUNS} WARMUP=${WARMUP} CONTAINERS=${CONTAINERS} IMAGES=${IMAGES}; load at the end: ${readFileSync('/proc/loadavg', 'utf8').trim()})\n`,
  );
  if (OUT)
    writeFileSync(
      OUT,
      `${JSON.stringify({ results: Object.fromEntries([...results].map(([k, v]) => [k, Object.fromEntries(v)])), RUNS, CONTAINERS, IMAGES }, null, 2)}\n`,
    );
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'berth-bench-cli-'));
  let berthd: Berthd | undefined;
  let dockerd: Dockerd | undefined;
  try {
    log('starting berthd and dockerd …');
    [berthd, dockerd] = await Promise.all([Berthd.start(), Dockerd.start({ storageDriver: 'overlay2' })]);
    const env = (host: string, config: string) => ({
      DOCKER_HOST: host,
      DOCKER_CONFIG: config,
      BERTH_NO_AUTOSTART: '1',
      DOCKER_BUILDKIT: '0',
    });
    const db0 = (b: Berthd) => env(b.host, b.dockerConfig);
    const bb: Target = {
      name: 'berth→berthd',
      argv: [join(REPO_ROOT, 'native', 'build', 'berth')],
      env: { ...env(berthd.host, berthd.dockerConfig), BERTH_CLI_SOCKET: join(berthd.execRoot, 'cli.sock') },
    };
    const bn: Target = { name: 'berth(node)→berthd', argv: [process.execPath, BERTH_BUNDLE], env: env(berthd.host, berthd.dockerConfig) };
    const rss = (pid: number | undefined) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    // berthd's own memory after some work through the docker CLI, then with the CLI host's warm
    // worker (its first `berth` command loads it): the difference is what the front's commands
    // cost berthd
    for (let i = 0; i < 5; i++) {
      spawnSync(DOCKER_V28, ['run', '--rm', '--network', 'none', 'busybox', 'true'], { env: { ...process.env, ...db0(berthd) } });
      spawnSync(DOCKER_V28, ['version'], { env: { ...process.env, ...db0(berthd) } });
    }
    put('berthd RSS (MiB)', 'berth→berthd', rss(berthd.pid));
    for (let i = 0; i < 5; i++) {
      spawnSync(bb.argv[0]!, ['run', '--rm', '--network', 'none', 'busybox', 'true'], { env: { ...process.env, ...bb.env } });
      spawnSync(bb.argv[0]!, ['version'], { env: { ...process.env, ...bb.env } });
    }
    put('berthd RSS, CLI worker warm (MiB)', 'berth→berthd', rss(berthd.pid));
    const db: Target = { name: 'docker→berthd', argv: [DOCKER_V28], env: env(berthd.host, berthd.dockerConfig) };
    const dd: Target = { name: 'docker→dockerd', argv: [DOCKER_V28], env: env(dockerd.host, dockerd.dockerConfig) };
    const targets = [bb.name, bn.name, db.name, dd.name];
    const withBerth = (words: string[]) => {
      if (berthHas(bb, words)) return [bb, bn, db, dd];
      notes.push(`berth ${words.join(' ')}: not written yet, docker only`);
      return [db, dd];
    };

    hyperfine('run --rm busybox true', withBerth(['run']), ['run', '--rm', '--network', 'none', 'busybox', 'true'], work);
    hyperfine('--version', [bb, bn, db], ['--version'], work);
    hyperfine('version', [bb, bn, db, dd], ['version'], work);
    for (const t of [bb, bn, db]) peakRss('--version', t, ['--version']);
    for (const t of [bb, bn, db]) peakRss('version', t, ['version']);
    notes.push("berth→berthd runs in berthd: its memory is the front's (peak RSS) plus the warm worker's (the two berthd RSS rows)");

    await Promise.all([populate('berthd', berthd.socket), populate('dockerd', dockerd.socket)]);
    for (const [metric, words] of [
      ['ps -a', ['ps', '-a']],
      ['images', ['images']],
    ] as const) {
      const ts = withBerth([words[0]]);
      hyperfine(`${metric} (${CONTAINERS} ctrs, ${IMAGES} imgs)`, ts, [...words], work);
      for (const t of ts.filter((x) => x !== dd)) peakRss(metric, t, [...words]);
    }
    print(targets);
  } finally {
    log('cleaning up …');
    const problems = (await dockerd?.stop()) ?? [];
    await berthd?.stop();
    rmSync(work, { recursive: true, force: true });
    if (problems.length > 0) log(`left behind by dockerd: ${problems.join('; ')}`);
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
