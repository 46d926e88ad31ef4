/**
 * Temporary OCI bundles: a directory with a copy of the test rootfs and a
 * config.json, edited as a JS object.
 *
 *   await using b = await Bundle.create({ probeArgs: ['hostname', '+', 'ids'] });
 *   await b.editConfig((s) => { s.hostname = 'x'; });
 *   b.track(rt, id); // delete --force on disposal
 *
 * Disposal deletes tracked containers (`delete --force`), unmounts anything
 * mounted under the bundle, and removes the directory.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyRootfs } from './rootfs.js';
import { hostSync, type Runtime } from './runtime.js';
import { type Spec, testSpec } from './spec.js';

export interface BundleOptions {
  /** The config (default: `testSpec(probeArgs)`). */
  spec?: Spec;
  /** Probe arguments for the default config. */
  probeArgs?: readonly string[];
  /**
   * Bind-mount the rootfs directory on itself and make it a shared mount, so
   * that the rootfs sits in a peer group of the host (mount propagation tests).
   */
  sharedMount?: boolean;
}

/** A unique container id (runc's id charset: [\w+.-]). */
export function uniqueId(prefix = 'c'): string {
  return `bc-${prefix}-${randomBytes(4).toString('hex')}`;
}

export class Bundle implements AsyncDisposable {
  readonly dir: string;
  spec: Spec;
  readonly #tracked: { rt: Runtime; id: string }[] = [];
  readonly #cleanups: (() => Promise<void> | void)[] = [];
  #disposed = false;

  private constructor(dir: string, spec: Spec) {
    this.dir = dir;
    this.spec = spec;
  }

  static async create(opts: BundleOptions = {}): Promise<Bundle> {
    const dir = mkdtempSync(join(tmpdir(), 'berth-conformance-bundle-'));
    const b = new Bundle(dir, opts.spec ?? testSpec(opts.probeArgs));
    try {
      chmodSync(dir, 0o755); // user-namespaced containers must be able to reach the rootfs
      await copyRootfs(b.rootfs);
      if (opts.sharedMount) {
        b.#mount(['--bind', b.rootfs, b.rootfs]);
        b.#mount(['--make-shared', b.rootfs]);
      }
      await b.writeConfig();
    } catch (e) {
      await b[Symbol.asyncDispose]();
      throw e;
    }
    return b;
  }

  #mount(args: string[]): void {
    const r = hostSync(['mount', ...args]);
    if (r.code !== 0) throw new Error(`mount ${args.join(' ')}: ${r.stderr.trim()}`);
  }

  /** Host path of the rootfs directory. */
  get rootfs(): string {
    return join(this.dir, 'rootfs');
  }

  get configPath(): string {
    return join(this.dir, 'config.json');
  }

  /** Host path of a file in the bundle directory. */
  path(...parts: string[]): string {
    return join(this.dir, ...parts);
  }

  /** Host path of a path inside the container's rootfs. */
  inRootfs(containerPath: string): string {
    return join(this.rootfs, containerPath);
  }

  async writeConfig(): Promise<void> {
    await writeFile(this.configPath, `${JSON.stringify(this.spec, null, '\t')}\n`);
  }

  /** Edits the config object and writes it. */
  async editConfig(edit: (spec: Spec) => void | Promise<void>): Promise<Spec> {
    await edit(this.spec);
    await this.writeConfig();
    return this.spec;
  }

  /** Reads config.json back from disk (e.g. to see whether a runtime touched it). */
  async readConfig(): Promise<Spec> {
    return JSON.parse(await readFile(this.configPath, 'utf8')) as Spec;
  }

  /** Deletes this container (`delete --force`) when the bundle is disposed. */
  track(rt: Runtime, id: string): void {
    this.#tracked.push({ rt, id });
  }

  /** Runs `fn` on disposal (before the directory is removed), last registered first. */
  defer(fn: () => Promise<void> | void): void {
    this.#cleanups.push(fn);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const { rt, id } of this.#tracked.reverse()) {
      await rt.run(['delete', '--force', id], { guardMs: 60_000 }).catch(() => undefined);
    }
    for (const fn of this.#cleanups.reverse()) {
      try {
        await fn();
      } catch {
        /* best effort */
      }
    }
    unmountUnder(this.dir);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Lazily unmounts every mount at or below `dir` in our mount namespace, deepest first. */
export function unmountUnder(dir: string): void {
  const points = mountPointsUnder(dir);
  for (const p of points.sort((a, b) => b.length - a.length)) {
    hostSync(['umount', '-l', p]);
  }
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function mountPointsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const mp = f[4];
    if (mp === undefined) continue;
    const p = unescapeMountinfo(mp);
    if (p === dir || p.startsWith(`${dir}/`)) out.push(p);
  }
  return out;
}
