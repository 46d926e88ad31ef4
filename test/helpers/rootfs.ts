/**
 * The test root filesystem: Debian's static busybox (`busybox --install -s`)
 * plus the probe (native/build/berth-probe) at /probe. Built once per test
 * process into a temporary directory, removed at process exit; bundles copy it.
 *
 * Env: `BERTH_BUSYBOX` (default /bin/busybox), `BERTH_PROBE` (default
 * <repo>/native/build/berth-probe; built with `make -C native build/berth-probe`
 * if missing and `make` is available).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { findBinary, REPO_ROOT } from './runtime.js';

export interface Rootfs {
  /** The prepared rootfs directory (do not modify: copy it with `copyRootfs`). */
  readonly dir: string;
}

export function busyboxPath(): string {
  return process.env.BERTH_BUSYBOX ?? '/bin/busybox';
}

export function probePath(): string {
  return process.env.BERTH_PROBE ?? join(REPO_ROOT, 'native', 'build', 'berth-probe');
}

let probeBuildTried = false;

function isStaticElf(path: string): boolean {
  const r = spawnSync('file', ['-L', path], { encoding: 'utf8' });
  if (r.status !== 0) return true; // no `file`: assume the packaged binary is right
  return /statically linked|static-pie/.test(r.stdout);
}

/** Why the rootfs cannot be built (a skip reason), or undefined. */
export function rootfsUnavailable(): string | undefined {
  const bb = busyboxPath();
  if (!existsSync(bb)) return `busybox not found at ${bb} (apt-get install busybox-static, or set BERTH_BUSYBOX)`;
  if (!isStaticElf(bb)) return `${bb} is not statically linked (install busybox-static)`;
  const probe = probePath();
  if (!existsSync(probe) && !probeBuildTried && process.env.BERTH_PROBE === undefined) {
    probeBuildTried = true;
    if (findBinary('make') !== undefined && findBinary('gcc') !== undefined) {
      spawnSync('make', ['-s', '-C', join(REPO_ROOT, 'native'), 'build/berth-probe'], { stdio: 'ignore' });
    }
  }
  if (!existsSync(probe)) return `probe not built: ${probe} is missing (run make -C native build/berth-probe)`;
  return undefined;
}

let shared: Rootfs | undefined;

/** The per-process rootfs, built on first use. Throws if `rootfsUnavailable()`. */
export function sharedRootfs(): Rootfs {
  if (shared !== undefined) return shared;
  const why = rootfsUnavailable();
  if (why !== undefined) throw new Error(why);
  const base = mkdtempSync(join(tmpdir(), 'berth-conformance-rootfs-'));
  process.on('exit', () => rmSync(base, { recursive: true, force: true }));
  const dir = join(base, 'rootfs');
  buildRootfs(dir);
  shared = { dir };
  return shared;
}

function buildRootfs(dir: string): void {
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var', 'run', 'mnt', 'home']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  chmodSync(join(dir, 'tmp'), 0o1777);
  chmodSync(join(dir, 'root'), 0o700);
  const bb = busyboxPath();
  // `--install -s DIR` puts every applet in DIR as a symlink to the running
  // busybox's own path (e.g. /usr/bin/busybox): put the binary there too.
  const r = spawnSync(bb, ['--install', '-s', join(dir, 'bin')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${bb} --install -s failed: ${r.stderr}`);
  const target = readlinkSync(join(dir, 'bin', 'sh'));
  const inside = target.startsWith('/') ? target : `/bin/${target}`;
  mkdirSync(dirname(join(dir, inside)), { recursive: true });
  copyFileSync(bb, join(dir, inside));
  chmodSync(join(dir, inside), 0o755);
  copyFileSync(probePath(), join(dir, 'probe'));
  chmodSync(join(dir, 'probe'), 0o755);
  writeFileSync(
    join(dir, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(join(dir, 'etc', 'group'), 'root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'etc', 'hostname'), 'rootfs\n');
  if (!existsSync(join(dir, inside))) throw new Error(`rootfs: busybox missing at ${inside}`);
}

/** Copies the shared rootfs to `dest` (a few MB; symlinks kept as they are). */
export async function copyRootfs(dest: string): Promise<void> {
  const { dir } = sharedRootfs();
  await cp(dir, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}
