/**
 * Debian's dockerd 20.10 (with runc, its default runtime) started by a test as the reference
 * for berthd: its own containerd (writeContainerdConfig), its own --data-root, --exec-root,
 * --pidfile, unix socket, daemon.json and cgroup parent, the vfs storage driver, and no network
 * set-up at all (--bridge=none, no iptables: every container runs with --network none).
 * busybox:latest is `docker import`ed from the same rootfs tar berthd's helper imports, with the
 * same `CMD ["sh"]`. `stop()` removes the containers, stops both daemons by pid and removes
 * what they leave (shims, cgroups, mounts, the fixed paths they created, the temp dir).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCKER_V28 } from './berthd.js';
import { unmountUnder } from './bundle.js';
import { CONTAINERD_FIXED_PATHS, Daemon, HostTraces, killShims, needsBinaries, removeCgroupTree, writeContainerdConfig } from './daemon.js';
import { busyboxTar } from './images.js';
import { type RunResult, runCommand } from './runtime.js';

/** Why a reference dockerd cannot run here, or undefined. */
export function dockerdUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  return needsBinaries('dockerd', 'containerd', 'containerd-shim-runc-v2', 'runc');
}

export class Dockerd {
  readonly dir: string;
  readonly socket: string;
  readonly host: string;
  readonly dockerConfig: string;
  /** Every container of this dockerd is below this cgroup (removed by stop()). */
  readonly cgroupParent = `/berth-diff-dockerd-${randomBytes(4).toString('hex')}`;
  private containerd: Daemon | undefined;
  private dockerd: Daemon | undefined;
  private address = '';
  private traces: HostTraces | undefined;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'berth-ref-dockerd-'));
    this.socket = join(this.dir, 'docker.sock');
    this.host = `unix://${this.socket}`;
    this.dockerConfig = join(this.dir, 'docker-config');
    mkdirSync(this.dockerConfig);
  }

  /** `storageDriver`: vfs by default (no mount per container); the benches use overlay2, as dockerd's default. */
  static async start(opts: { storageDriver?: string } = {}): Promise<Dockerd> {
    const d = new Dockerd();
    try {
      await d.launch(opts.storageDriver ?? 'vfs');
    } catch (err) {
      await d.stop().catch(() => {});
      throw err;
    }
    return d;
  }

  private async launch(storageDriver: string): Promise<void> {
    // dockerd's fixed places: the plugin dir is hard-wired under /run/docker; 20.10 writes its
    // identity key to /etc/docker/key.json unless daemon.json says otherwise (it does).
    this.traces = new HostTraces([...CONTAINERD_FIXED_PATHS, '/run/docker', '/run/docker/plugins', '/etc/docker', '/etc/docker/key.json']);
    const ctd = writeContainerdConfig(this.dir);
    this.address = ctd.address;
    this.containerd = await Daemon.start(['containerd', '--config', ctd.config], {
      socket: ctd.address,
      logFile: join(this.dir, 'containerd.log'),
    });
    const daemonJson = join(this.dir, 'daemon.json');
    writeFileSync(daemonJson, `${JSON.stringify({ 'deprecated-key-path': join(this.dir, 'key.json') })}\n`);
    this.dockerd = await Daemon.start(
      [
        'dockerd',
        '--config-file',
        daemonJson,
        '--containerd',
        ctd.address,
        '--data-root',
        join(this.dir, 'data'),
        '--exec-root',
        join(this.dir, 'exec'),
        '--pidfile',
        join(this.dir, 'docker.pid'),
        '-H',
        this.host,
        '--cgroup-parent',
        this.cgroupParent,
        `--storage-driver=${storageDriver}`,
        // the host's firewall and network stay as they are
        '--iptables=false',
        '--ip6tables=false',
        '--bridge=none',
        '--ip-forward=false',
        '--ip-masq=false',
      ],
      { socket: this.socket, logFile: join(this.dir, 'dockerd.log'), guardMs: 60_000 },
    );
    const tar = join(this.dir, 'busybox.tar');
    writeFileSync(tar, busyboxTar(this.dir));
    const r = await this.docker(['import', '--change', 'CMD ["sh"]', tar, 'busybox:latest']);
    rmSync(tar);
    if (r.code !== 0) throw new Error(`docker import: ${r.stderr}`);
  }

  /** The docker CLI (v28 by default) against this dockerd. */
  docker(args: string[], o: { input?: string; cli?: string; guardMs?: number; env?: Record<string, string> } = {}): Promise<RunResult> {
    return runCommand([o.cli ?? DOCKER_V28, ...args], {
      env: { DOCKER_HOST: this.host, DOCKER_CONFIG: this.dockerConfig, DOCKER_BUILDKIT: '0', DOCKER_CONTEXT: undefined, ...o.env },
      ...(o.input !== undefined ? { input: o.input } : {}),
      guardMs: o.guardMs ?? 60_000,
    });
  }

  /** The last lines of dockerd's log. */
  log(): string {
    return this.dockerd?.logTail(40) ?? '';
  }

  /** Removes the containers, stops dockerd and containerd, then everything they could leave. Returns leftovers found. */
  async stop(): Promise<string[]> {
    const problems: string[] = [];
    if (this.dockerd !== undefined && !this.dockerd.exited) {
      const ps = await this.docker(['ps', '-aq', '--no-trunc'], { guardMs: 30_000 }).catch(() => undefined);
      const ids = ps?.stdout.split('\n').filter(Boolean) ?? [];
      if (ids.length > 0) await this.docker(['rm', '-f', ...ids]).catch(() => undefined);
    }
    await this.dockerd?.stop();
    await this.containerd?.stop();
    if (this.address !== '') {
      const shims = await killShims(this.address, 10_000);
      if (shims.length > 0) problems.push(`containerd shims left (killed): ${shims.join(' ')}`);
    }
    unmountUnder(this.dir);
    const cg = await removeCgroupTree(this.cgroupParent);
    if (cg.length > 0) problems.push(`cgroups not removed: ${cg.join(' ')}`);
    this.traces?.remove();
    rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }
}

export type { RunResult };
