/**
 * The test root filesystem: the busybox tree of src/images/busybox.ts (the
 * quickstart's busybox image) plus the probe (native/build/berth-probe) at /probe. Built once per test
 * process into a temporary directory, removed at process exit; bundles copy it.
 *
 * Env: `BERTH_BUSYBOX` (default /bin/busybox), `BERTH_PROBE` (default
 * <repo>/native/build/berth-probe; built with `make -C native build/berth-probe`
 * if missing and `make` is available).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyboxRootfs, type RootfsEntry, writeRootfs } from '../../src/images/busybox.js';
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
  // the quickstart's busybox tree (src/images/busybox.ts), plus the probe and what tests expect
  const { entries } = busyboxRootfs(busyboxPath());
  const extra: RootfsEntry[] = [
    { type: 'directory', path: 'mnt', mode: 0o755 },
    { type: 'directory', path: 'run', mode: 0o755 },
    { type: 'file', path: 'etc/hostname', mode: 0o644, data: Buffer.from('rootfs\n') },
    { type: 'file', path: 'probe', mode: 0o755, data: readFileSync(probePath()) },
  ];
  writeRootfs([...entries, ...extra], dir);
  if (!existsSync(join(dir, 'bin', 'sh'))) throw new Error('rootfs: /bin/sh missing');
}

/** Copies the shared rootfs to `dest` (a few MB; symlinks kept as they are). */
export async function copyRootfs(dest: string): Promise<void> {
  const { dir } = sharedRootfs();
  await cp(dir, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
}
