/**
 * A real berthd (the bundle, dist/berthd.cjs) started by a test with everything of its own under
 * one temp directory — data root, exec root, socket, pid file, daemon.json, a docker CLI config
 * dir — with busybox:latest imported beforehand, and the clients that drive it: the v28 docker
 * CLI, Debian's 20.10 one, and raw HTTP. `stop()` removes every container through the API,
 * stops berthd by its pid, then checks and cleans what could be left: shims (by shim.json, pid
 * and start time), mounts under the temp dir, the temp dir itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { readShimInfo, shimAlive } from '../../src/engine/shim/client.js';
import { openImageService } from '../../src/images/service.js';
import { busyboxTar } from './images.js';
import { REPO_ROOT, type RunResult, runCommand } from './runtime.js';

export const DOCKER_V28 = '/usr/local/bin/docker';
export const DOCKER_2010 = '/usr/bin/docker';
const BUNDLE = join(REPO_ROOT, 'dist', 'berthd.cjs');

/** Why berthd tests cannot run here, or undefined. */
export function berthdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(BUNDLE)) return `${BUNDLE} not built (npm run build)`;
  if (!existsSync(join(REPO_ROOT, 'native', 'build', 'berth-shim'))) return 'native/build/berth-shim not built (make -C native)';
  if (!existsSync(DOCKER_V28)) return `${DOCKER_V28} (the docker CLI v28) is missing`;
  return undefined;
}

export interface BerthdOptions {
  /** Extra berthd flags. */
  args?: string[];
  /** daemon.json content. */
  config?: Record<string, unknown>;
  /** Import busybox:latest before the start (default true). */
  busybox?: boolean;
}

export class Berthd {
  readonly dir: string;
  readonly dataRoot: string;
  readonly execRoot: string;
  readonly socket: string;
  readonly host: string;
  readonly dockerConfig: string;
  private child: ChildProcess | undefined;
  private logFile: string;
  busyboxId = '';

  /** The engine's cgroup parent (`/berth`) in each hierarchy, if this berthd is the one that makes it. */
  private readonly cgroupParents = cgroupParentDirs().filter((d) => !existsSync(d));

  private constructor(private readonly opts: BerthdOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'berthd-'));
    this.dataRoot = join(this.dir, 'root');
    this.execRoot = join(this.dir, 'exec');
    this.socket = join(this.dir, 'berth.sock');
    this.host = `unix://${this.socket}`;
    this.dockerConfig = join(this.dir, 'docker-config');
    this.logFile = join(this.dir, 'berthd.log');
    mkdirSync(this.dockerConfig);
    writeFileSync(join(this.dir, 'daemon.json'), JSON.stringify(opts.config ?? {}));
  }

  static async start(opts: BerthdOptions = {}): Promise<Berthd> {
    const d = new Berthd(opts);
    try {
      if (opts.busybox !== false) await d.importBusybox();
      await d.launch();
    } catch (err) {
      await d.stop().catch(() => {});
      throw err;
    }
    return d;
  }

  private async importBusybox(): Promise<void> {
    const svc = await openImageService({ root: this.dataRoot });
    try {
      const tar = busyboxTar(this.dir);
      const r = await svc.importRootfs(Readable.from([tar]), { reference: 'busybox:latest', changes: ['CMD ["sh"]'] });
      this.busyboxId = r.id;
    } finally {
      await svc[Symbol.asyncDispose]();
    }
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts berthd (again) on the same roots and waits for /_ping; `extraEnv` e.g. BERTH_CRASH_AT. */
  async launch(extraEnv: Record<string, string> = {}): Promise<void> {
    // A second berthd on the same roots would leak the first (nothing would stop it).
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) throw new Error('berthd is running already');
    const env = { ...process.env, ...extraEnv };
    delete env.NODE_EXTRA_CA_CERTS;
    const args = [
      BUNDLE,
      '--data-root',
      this.dataRoot,
      '--exec-root',
      this.execRoot,
      '--pidfile',
      join(this.dir, 'berthd.pid'),
      '-H',
      this.host,
      '--config-file',
      join(this.dir, 'daemon.json'),
      ...(this.opts.args ?? []),
    ];
    const out = await import('node:fs').then((fs) => fs.openSync(this.logFile, 'a'));
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', out, out] });
    this.child = child;
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    for (let i = 0; i < 400; i++) {
      if (await this.ping()) return;
      const done = await Promise.race([exited, sleep(50).then(() => 'wait' as const)]);
      if (done !== 'wait') throw new Error(`berthd exited with ${done}: ${this.log()}`);
    }
    throw new Error(`berthd did not answer /_ping within 20 s: ${this.log()}`);
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.request({ socketPath: this.socket, path: '/_ping', method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  /** An API call: status and parsed body. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown; text: string }> {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = http.request(
        {
          socketPath: this.socket,
          path,
          method,
          headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {},
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {}
            resolve({ status: res.statusCode ?? 0, body: parsed, text });
          });
        },
      );
      req.on('error', reject);
      req.end(data);
    });
  }

  /** The docker CLI (v28 by default) against this berthd. */
  docker(args: string[], o: { input?: string; cli?: string; guardMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
    return runCommand([o.cli ?? DOCKER_V28, ...args], {
      env: { DOCKER_HOST: this.host, DOCKER_CONFIG: this.dockerConfig, DOCKER_BUILDKIT: '0', NODE_EXTRA_CA_CERTS: undefined, ...o.env },
      ...(o.input !== undefined ? { input: o.input } : {}),
      guardMs: o.guardMs ?? 60_000,
    });
  }

  /** Resolves when berthd has exited by itself (a crash point): false if it still runs after `ms`. */
  async exited(ms = 20_000): Promise<boolean> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) {
      this.child = undefined;
      return true;
    }
    const done = await Promise.race([new Promise((r) => c.once('exit', () => r(true))), sleep(ms).then(() => false)]);
    if (done) this.child = undefined;
    return done === true;
  }

  /** SIGKILL, as a crash would. */
  async kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** SIGTERM and wait (the clean shutdown: live-restore keeps containers running). */
  async terminate(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
    this.child = undefined;
  }

  /** Shims still alive under this exec root. */
  liveShims(): number[] {
    const dir = join(this.execRoot, 'containers');
    const out: number[] = [];
    for (const d of existsSync(dir) ? readdirSync(dir) : []) {
      const info = readShimInfo(join(dir, d));
      if (info && shimAlive(info)) out.push(info.pid);
    }
    return out;
  }

  /** Mounts under this berthd's temp dir (there must be none once containers are gone). */
  mounts(): string[] {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4] ?? '')
      .filter((m) => m.startsWith(this.dir));
  }

  async stop(): Promise<void> {
    if (this.child && (await this.ping())) {
      const list = await this.api('GET', '/containers/json?all=1').catch(() => undefined);
      for (const c of (list?.body as { Id: string }[] | undefined) ?? [])
        await this.api('DELETE', `/containers/${c.Id}?force=1`).catch(() => {});
    }
    await this.terminate();
    // Whatever a failed test left: shims by their recorded pid (and start time), then mounts.
    for (const pid of this.liveShims()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const m of this.mounts().reverse()) await runCommand(['umount', '-l', m]).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
    // The shims' cgroup (src/engine/shim/cgroups.ts), whoever made it: removed when empty (the
    // kernel refuses while another berthd's shims live in it; a berthd makes it again when
    // missing). Then the parent the containers' cgroups sat under, once empty, if we made it.
    for (const d of cgroupParentDirs()) {
      try {
        rmdirSync(join(d, 'shims'));
      } catch {}
    }
    for (const d of this.cgroupParents) {
      try {
        rmdirSync(d);
      } catch {}
    }
  }
}

/** `/sys/fs/cgroup/<hierarchy>/berth`: the default cgroup parent of berthd's containers. */
export function cgroupParentDirs(): string[] {
  const root = '/sys/fs/cgroup';
  const dirs = existsSync(join(root, 'cgroup.controllers')) ? [root] : readdirSync(root).map((h) => join(root, h));
  return dirs.map((d) => join(d, 'berth'));
}
