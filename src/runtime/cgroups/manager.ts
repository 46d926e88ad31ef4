/**
 * The cgroup manager: one owner for a container's cgroup directories and everything done
 * through them — create, apply `linux.resources`, list pids, freeze/thaw, stats, OOM counters,
 * remove. What to write is decided by the pure modules (writes.ts, v1.ts, v2.ts, devices.ts,
 * bpf.ts, stats.ts); this file performs the effects.
 *
 * One interface, three drivers. A `V1Driver` owns the v1 hierarchies (a controller → its
 * cgroup directory), a `V2Driver` the cgroup2 directory; the manager of a v1 host has the first,
 * of a pure v2 host the second, and of a hybrid host both, each controller going to v1 when it
 * is mounted there and to cgroup2 otherwise (on this project's CI host: hugetlb, and the device
 * filter and freezer when the v1 ones are absent). The driver is implied by the hierarchies
 * recorded at create time, so every later verb uses the one the container was created with.
 *
 * cgroupfs operations are in-kernel and take microseconds, so they are made synchronously: the
 * thread-pool round trip of the async API would cost more than the call itself.
 */
import { spawn } from 'node:child_process';
import { existsSync, type FSWatcher, watch } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError, errnoCode, fromErrno } from '../../common/errors.js';
import type { Spec } from '../../oci/spec.js';
import { type Effects, hostEffects } from '../effects.js';
import { type CgroupDriverName, type CgroupLayout, containerCgroupPath, type Hierarchy, parseCgroupLayout } from './layout.js';
import { hugepageDirToSize, type LinuxResources, parseResources } from './resources.js';
import {
  emptyStats,
  parseFlatKeyed,
  pidsStats,
  type Stats,
  v1BlkioStats,
  v1CpuacctStats,
  v1CpuStats,
  v1CpusetStats,
  v1HugetlbStats,
  v1MemoryStats,
  v2CpuStats,
  v2CpusetStats,
  v2HugetlbStats,
  v2IoStats,
  v2MemoryStats,
} from './stats.js';
import { V2 } from './v2.js';
import { type ApplyOptions, type CgroupWrite, type FileView, type HostFacts, planResources, v2ControllersNeeded } from './writes.js';

export interface CgroupDir {
  hierarchy: Hierarchy;
  /** The container's cgroup, relative to the hierarchy's root. */
  path: string;
  /** The host directory. */
  dir: string;
}

export function readCgroupLayout(fx: Effects = hostEffects): CgroupLayout {
  return parseCgroupLayout(mustRead(fx, '/proc/self/mountinfo'), mustRead(fx, '/proc/self/cgroup'));
}

function mustRead(fx: Effects, file: string): string {
  const text = fx.readFile(file);
  if (text === undefined) throw new BerthError('not-found', `read '${file}': cannot be read`, { object: file });
  return text;
}

export function cgroupDirs(layout: CgroupLayout, cgroupsPath: string): CgroupDir[] {
  return layout.hierarchies.map((hierarchy) => {
    const path = containerCgroupPath(hierarchy, cgroupsPath);
    return { hierarchy, path, dir: `${hierarchy.mountpoint}${path === '/' ? '' : path}` };
  });
}

/** OOM counters of the container's memory cgroup. */
export interface OomState {
  /** Processes killed by the OOM killer in this cgroup so far. */
  kills: number;
  /** The cgroup is at its limit with the OOM killer disabled (v1), or has hit OOM (v2 `oom` count). */
  ooms: number;
}

export interface CgroupManager {
  readonly driver: CgroupDriverName;
  readonly dirs: readonly CgroupDir[];
  /** Creates the directories; on cgroup2 enables the controllers the container will use. */
  create(resources?: LinuxResources): void;
  /** Writes the resources; returns warnings about settings this host cannot honour. */
  apply(resources: LinuxResources, opts?: ApplyOptions): Promise<string[]>;
  /** Every pid in the container's cgroup and below it. */
  pids(): number[];
  freeze(): Promise<void>;
  thaw(): void;
  frozen(): boolean;
  stats(): Stats;
  oom(): OomState | undefined;
  /**
   * Resolves true once no process is left in the container's cgroup2 directory (false after
   * `timeoutMs`), told by the kernel through inotify on cgroup.events; undefined without a
   * cgroup2 directory (v1 has no such notification: the caller waits some other way).
   */
  waitEmpty(timeoutMs: number): Promise<boolean | undefined>;
  /** Removes the directories (retrying while the kernel still tears down dying processes). */
  destroy(): Promise<void>;
}

// -------------------------------------------------------------------------------- file helpers

function dirView(fx: Effects, dir: string): FileView {
  return { exists: (f) => fx.exists(`${dir}/${f}`), read: (f) => fx.readFile(`${dir}/${f}`) };
}

/** How many writes from `i` on go to the same file, with nothing to read back or retry. */
function sameFileRun(writes: readonly CgroupWrite[], i: number): number {
  const plain = (w: CgroupWrite | undefined) => w !== undefined && !w.readBack && !w.retryAfterEinval;
  const first = writes[i];
  if (!plain(first)) return 1;
  let n = 1;
  while (plain(writes[i + n]) && writes[i + n]!.where === first!.where && writes[i + n]!.file === first!.file) n++;
  return n;
}

/** A cgroup file write as one write(2), failures naming the file and the value. */
function writeCgroupFile(fx: Effects, file: string, value: string): void {
  try {
    fx.writeFile(file, value);
  } catch (err) {
    throw writeError(file, value, err);
  }
}

function writeError(file: string, value: string, err: unknown): BerthError {
  const e = fromErrno('write', file, err);
  const cause = e.message.slice(e.message.indexOf("': ") + 3);
  return new BerthError(e.kind, `write '${file}' '${value}': ${cause}`, { cause: err, object: file });
}

/** Where the device-filter helper is: next to the bundle (dist/ → native/build/) or in the source tree. */
export function cgroupBpfPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [
    path.join(here, '../native/build/berth-cgroup-bpf'),
    path.join(here, '../../../native/build/berth-cgroup-bpf'),
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  throw new BerthError('not-found', `find 'berth-cgroup-bpf': not built (run 'npm run build')`, { object: 'berth-cgroup-bpf' });
}

/** Read each time (one readdir): a long-running caller must not keep host facts forever. */
function hugepageSizes(fx: Effects): string[] {
  let names: string[] = [];
  try {
    names = fx.readdir('/sys/kernel/mm/hugepages');
  } catch {
    // no huge pages on this kernel
  }
  return names.map(hugepageDirToSize).filter((s): s is string => s !== undefined);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until `done(content of file)` holds, woken by inotify (fs.watch): the kernel reports a
 * change of cgroup.events as a modification. The watch is set up before the first look, so no
 * change is missed in between. Resolves false after `timeoutMs`.
 */
function watchUntil(fx: Effects, file: string, done: (text: string | undefined) => boolean, timeoutMs: number): Promise<boolean> {
  // already there: no watcher (its first use costs a few milliseconds of loading)
  if (done(fx.readFile(file))) return Promise.resolve(true);
  return new Promise((resolve) => {
    let settled = false;
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (v: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      watcher?.close();
      resolve(v);
    };
    const look = () => {
      if (done(fx.readFile(file))) finish(true);
    };
    try {
      watcher = watch(file, look);
      // the file went away (the cgroup was removed): one last look decides
      watcher.on('error', () => finish(done(fx.readFile(file))));
    } catch {
      // cannot be watched: only the first look and the deadline
    }
    timer = setTimeout(() => finish(done(fx.readFile(file))), timeoutMs);
    look();
  });
}

// -------------------------------------------------------------------------------- drivers

/** The v1 hierarchies: each controller's cgroup directory. */
class V1Driver {
  readonly byController = new Map<string, CgroupDir>();
  constructor(
    readonly dirs: readonly CgroupDir[],
    private readonly fx: Effects,
  ) {
    for (const d of dirs) for (const c of d.hierarchy.controllers) this.byController.set(c, d);
  }

  controllers(): Set<string> {
    return new Set([...this.byController.keys()].filter((c) => !c.startsWith('name=')));
  }

  dir(controller: string): string | undefined {
    return this.byController.get(controller)?.dir;
  }

  /**
   * A new v1 cpuset cgroup starts with empty cpus and mems, and the kernel refuses tasks in
   * it, so they are copied down from the parent the way runc does.
   */
  create(): void {
    for (const d of this.dirs) {
      if (d.hierarchy.controllers.includes('cpuset')) createCpuset(this.fx, d.hierarchy.mountpoint, d.path);
      else {
        try {
          this.fx.mkdir(d.dir, { recursive: true });
        } catch (err) {
          throw fromErrno('create cgroup', d.dir, err);
        }
      }
    }
  }

  hasFreezer(): boolean {
    return this.byController.has('freezer');
  }

  async freeze(): Promise<void> {
    const file = `${this.dir('freezer')}/freezer.state`;
    // FREEZING can last while tasks are in uninterruptible sleep; keep asking, as runc does.
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 0) writeCgroupFile(this.fx, file, 'FROZEN');
      const state = this.fx.readFile(file)?.trim();
      if (state === 'FROZEN') return;
      await sleep(Math.min(1 + i, 10));
    }
    writeCgroupFile(this.fx, file, 'THAWED');
    throw new BerthError('unavailable', `freeze '${file}': the cgroup did not reach FROZEN`, { object: file });
  }

  thaw(): void {
    writeCgroupFile(this.fx, `${this.dir('freezer')}/freezer.state`, 'THAWED');
  }

  frozen(): boolean {
    return this.fx.readFile(`${this.dir('freezer')}/freezer.state`)?.trim() === 'FROZEN';
  }
}

/** The cgroup2 directory of the container. */
class V2Driver {
  constructor(
    readonly cg: CgroupDir,
    private readonly cgroupBpf: string | undefined,
    private readonly fx: Effects,
  ) {}

  get dir(): string {
    return this.cg.dir;
  }

  controllers(): Set<string> {
    return new Set((this.fx.readFile(`${this.dir}/cgroup.controllers`) ?? '').trim().split(/\s+/).filter(Boolean));
  }

  /**
   * Creates the directory and, in each ancestor from the hierarchy's root down, enables the
   * controllers asked for (`'all'`: every one available, as runc's fs2 does on a pure v2 host).
   * A controller that cannot be enabled is left out; applying a limit that needs it then fails
   * with the reason.
   */
  create(enable: 'all' | readonly string[]): void {
    const mount = this.cg.hierarchy.mountpoint;
    const segs = this.cg.path.split('/').filter(Boolean);
    let current = mount;
    for (const seg of segs) {
      // nothing to enable (a hybrid host's container that needs no cgroup2 controller): two reads less per level
      if (enable === 'all' || enable.length > 0) this.enableIn(current, enable);
      current = `${current}/${seg}`;
      try {
        this.fx.mkdir(current);
      } catch (err) {
        if (errnoCode(err) !== 'EEXIST') throw fromErrno('create cgroup', current, err);
      }
    }
  }

  /** Enables controllers for the children of `dir` (idempotent). */
  enableIn(dir: string, enable: 'all' | readonly string[]): void {
    const available = (this.fx.readFile(`${dir}/cgroup.controllers`) ?? '').trim().split(/\s+/).filter(Boolean);
    const enabled = new Set((this.fx.readFile(`${dir}/cgroup.subtree_control`) ?? '').trim().split(/\s+/).filter(Boolean));
    for (const c of available) {
      if (enabled.has(c) || (enable !== 'all' && !enable.includes(c))) continue;
      try {
        this.fx.writeFile(`${dir}/cgroup.subtree_control`, `+${c}`);
      } catch {
        // left out: see create()
      }
    }
  }

  /** Makes sure the controllers are enabled from the root down to the container's cgroup. */
  ensure(controllers: readonly string[]): void {
    if (controllers.length === 0) return;
    const have = this.controllers();
    if (controllers.every((c) => have.has(c))) return;
    const segs = this.cg.path.split('/').filter(Boolean);
    let current = this.cg.hierarchy.mountpoint;
    for (const seg of segs) {
      this.enableIn(current, controllers);
      current = `${current}/${seg}`;
    }
  }

  /** Runs berth-cgroup-bpf (asynchronously: the caller's event loop goes on meanwhile). */
  attachDeviceProgram(program: Uint8Array): Promise<void> {
    const helper = this.cgroupBpf ?? cgroupBpfPath();
    return new Promise((resolve, reject) => {
      const child = spawn(helper, ['attach', this.dir], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (d: string) => {
        if (stderr.length < 4096) stderr += d;
      });
      child.stdin?.on('error', () => {}); // it died early: its status says why
      child.stdin?.end(program);
      child.once('error', (err) => reject(fromErrno('run', 'berth-cgroup-bpf', err)));
      child.once('close', (code, signal) => {
        if (code === 0) return resolve();
        const msg = stderr.trim() || `berth-cgroup-bpf exited with ${signal ? `signal ${signal}` : `status ${code}`}`;
        reject(new BerthError('failed-precondition', msg, { object: this.dir }));
      });
    });
  }

  async freeze(): Promise<void> {
    writeCgroupFile(this.fx, `${this.dir}/cgroup.freeze`, '1');
    if (await watchUntil(this.fx, `${this.dir}/cgroup.events`, (t) => /^frozen 1$/m.test(t ?? ''), 10_000)) return;
    writeCgroupFile(this.fx, `${this.dir}/cgroup.freeze`, '0');
    throw new BerthError('unavailable', `freeze '${this.dir}': the cgroup did not report frozen`, { object: this.dir });
  }

  thaw(): void {
    writeCgroupFile(this.fx, `${this.dir}/cgroup.freeze`, '0');
  }

  frozen(): boolean {
    return this.fx.readFile(`${this.dir}/cgroup.freeze`)?.trim() === '1';
  }
}

function createCpuset(fx: Effects, mountpoint: string, path: string): void {
  let current = mountpoint;
  // the values of `current` once read or written (a new child copies what its parent was found to hold)
  let known: Record<string, string | undefined> = {};
  for (const seg of path.split('/').filter(Boolean)) {
    const parent = current;
    current = `${current}/${seg}`;
    let made = true;
    try {
      fx.mkdir(current);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw fromErrno('create cgroup', current, err);
      made = false;
    }
    const mineNow: Record<string, string | undefined> = {};
    for (const file of ['cpuset.cpus', 'cpuset.mems']) {
      // a cgroup made just now holds nothing (or, with cgroup.clone_children, its parent's: the same)
      const mine = made ? '' : (fx.readFile(`${current}/${file}`) ?? '').trim();
      if (mine !== '') {
        mineNow[file] = mine;
        continue;
      }
      const theirs = known[file] ?? (fx.readFile(`${parent}/${file}`) ?? '').trim();
      try {
        fx.writeFile(`${current}/${file}`, theirs);
      } catch (err) {
        throw fromErrno('write', `${current}/${file}`, err);
      }
      mineNow[file] = theirs;
    }
    known = mineNow;
  }
}

// -------------------------------------------------------------------------------- the manager

class FsManager implements CgroupManager {
  readonly v1: V1Driver | undefined;
  readonly v2: V2Driver | undefined;
  private readonly fx: Effects;

  constructor(
    readonly dirs: readonly CgroupDir[],
    opts: ManagerOptions,
  ) {
    this.fx = opts.effects ?? hostEffects;
    const v1 = dirs.filter((d) => d.hierarchy.version === 1);
    const v2 = dirs.find((d) => d.hierarchy.version === 2);
    this.v1 = v1.length > 0 ? new V1Driver(v1, this.fx) : undefined;
    this.v2 = v2 ? new V2Driver(v2, opts.cgroupBpf, this.fx) : undefined;
  }

  get driver(): CgroupDriverName {
    return this.v1 && this.v2 ? 'hybrid' : this.v1 ? 'v1' : 'v2';
  }

  create(resources: LinuxResources = {}): void {
    this.v1?.create();
    // A pure v2 host gets every controller (stats need memory, cpu, io, pids even without
    // limits); a hybrid host only those its resources need from cgroup2.
    this.v2?.create(this.v1 ? v2ControllersNeeded(resources, this.v1.controllers()) : 'all');
  }

  private facts(): HostFacts {
    // read when a plan asks (most ask for neither: a cgroup.controllers read and a readdir less per create)
    let v2: ReadonlySet<string> | undefined;
    let sizes: string[] | undefined;
    const v2Driver = this.v2;
    const fx = this.fx;
    return {
      v1: this.v1?.controllers() ?? new Set(),
      get v2() {
        if (v2Driver) v2 ??= v2Driver.controllers();
        return v2;
      },
      v2Dir: this.v2?.dir,
      get hugepageSizes() {
        sizes ??= hugepageSizes(fx);
        return sizes;
      },
      view: (where) => {
        const dir = where === V2 ? this.v2?.dir : this.v1?.dir(where);
        return dir ? dirView(this.fx, dir) : { exists: () => false, read: () => undefined };
      },
    };
  }

  private dirOf(w: CgroupWrite): string {
    const dir = w.where === V2 ? this.v2?.dir : this.v1?.dir(w.where);
    if (!dir) throw new BerthError('internal', `no cgroup directory for '${w.where}'`);
    return dir;
  }

  async apply(resources: LinuxResources, opts: ApplyOptions = {}): Promise<string[]> {
    if (this.v2) this.v2.ensure(v2ControllersNeeded(resources, this.v1?.controllers() ?? new Set()));
    const plan = planResources(resources, this.facts(), opts);
    const retry: CgroupWrite[] = [];
    for (let i = 0; i < plan.writes.length; i++) {
      const w = plan.writes[i]!;
      // v1's device rules, one per write(2) to the same file: one open for the run of them
      const run = this.fx.writeEach && w.file.startsWith('devices.') ? sameFileRun(plan.writes, i) : 1;
      if (run > 1) {
        this.writeEach(plan.writes.slice(i, i + run));
        i += run - 1;
        continue;
      }
      try {
        this.write(w);
      } catch (err) {
        if (w.retryAfterEinval && errnoCode((err as Error).cause) === 'EINVAL') retry.push(w);
        else throw err;
      }
    }
    for (const w of retry) this.write(w);
    if (plan.deviceProgram && this.v2) await this.v2.attachDeviceProgram(plan.deviceProgram);
    return plan.warnings;
  }

  /** Writes of one file (sameFileRun), none read back or retried. */
  private writeEach(ws: CgroupWrite[]): void {
    const file = `${this.dirOf(ws[0]!)}/${ws[0]!.file}`;
    const values = ws.map((w) => w.value);
    try {
      this.fx.writeEach!(file, values);
    } catch (err) {
      const at = (err as { valueIndex?: number }).valueIndex;
      throw writeError(file, at === undefined ? values.join(' ') : values[at]!, err);
    }
  }

  private write(w: CgroupWrite): void {
    const dir = this.dirOf(w);
    const file = `${dir}/${w.file}`;
    try {
      writeCgroupFile(this.fx, file, w.value);
    } catch (err) {
      // The kernel refuses a limit below the current usage with EBUSY: say so, as runc does.
      if (w.file === 'memory.limit_in_bytes' && errnoCode((err as Error).cause) === 'EBUSY') {
        const usage = this.fx.readFile(`${dir}/memory.usage_in_bytes`)?.trim();
        const peak = this.fx.readFile(`${dir}/memory.max_usage_in_bytes`)?.trim();
        throw new BerthError(
          'failed-precondition',
          `unable to set memory limit to ${w.value} (current usage: ${usage}, peak usage: ${peak})`,
          {
            cause: err,
            object: file,
          },
        );
      }
      throw err;
    }
    if (w.readBack) {
      const got = this.fx.readFile(file)?.trim();
      if (got !== undefined && got !== w.value) {
        const which = Number(w.value) > Number(got) ? 'maximum' : 'minimum';
        throw new BerthError('invalid-argument', `the ${which} allowed cpu-shares is ${got}`, { object: file });
      }
    }
  }

  pids(): number[] {
    // the first hierarchy that has the cgroup; sub-cgroups the container made count too. Never a
    // root cgroup (create refuses one; a record from elsewhere): that would be every process.
    for (const d of this.dirs) {
      if (d.path === '/' || !this.fx.exists(d.dir)) continue;
      const out: number[] = [];
      const walk = (dir: string) => {
        for (const p of (this.fx.readFile(`${dir}/cgroup.procs`) ?? '').split('\n')) if (p) out.push(Number(p));
        let entries: string[] = [];
        try {
          entries = this.fx.subdirs(dir);
        } catch {
          return;
        }
        for (const e of entries) walk(`${dir}/${e}`);
      };
      walk(d.dir);
      return out;
    }
    return [];
  }

  private freezer(): V1Driver | V2Driver | undefined {
    return this.v1?.hasFreezer() ? this.v1 : this.v2;
  }

  async freeze(): Promise<void> {
    const f = this.freezer();
    if (!f) throw new BerthError('failed-precondition', 'cannot pause: no freezer cgroup (neither a v1 freezer hierarchy nor cgroup2)');
    await f.freeze();
  }

  thaw(): void {
    const f = this.freezer();
    if (!f) throw new BerthError('failed-precondition', 'cannot resume: no freezer cgroup (neither a v1 freezer hierarchy nor cgroup2)');
    f.thaw();
  }

  frozen(): boolean {
    try {
      return this.freezer()?.frozen() ?? false;
    } catch {
      return false;
    }
  }

  stats(): Stats {
    const s = emptyStats();
    const v1 = this.v1;
    const v2 = this.v2;
    const v2ctrls = v2?.controllers() ?? new Set<string>();
    const view1 = (c: string) => {
      const d = v1?.dir(c);
      return d ? dirView(this.fx, d) : undefined;
    };
    const view2 = v2 ? dirView(this.fx, v2.dir) : undefined;
    const sizes = hugepageSizes(this.fx);
    const pick = (v1ctrl: string, v2ctrl: string, f1: (v: FileView) => void, f2: (v: FileView) => void) => {
      const a = view1(v1ctrl);
      if (a) f1(a);
      else if (view2 && (v2ctrl === '' || v2ctrls.has(v2ctrl))) f2(view2);
    };
    pick(
      'cpuacct',
      '',
      (v) => v1CpuacctStats(s, v),
      (v) => v2CpuStats(s, v),
    );
    const cpu = view1('cpu');
    if (cpu && view1('cpuacct')) v1CpuStats(s, cpu);
    pick(
      'cpuset',
      'cpuset',
      (v) => v1CpusetStats(s, v),
      (v) => v2CpusetStats(s, v),
    );
    pick(
      'memory',
      'memory',
      (v) => v1MemoryStats(s, v),
      (v) => v2MemoryStats(s, v),
    );
    pick(
      'pids',
      'pids',
      (v) => pidsStats(s, v),
      (v) => pidsStats(s, v),
    );
    pick(
      'blkio',
      'io',
      (v) => v1BlkioStats(s, v),
      (v) => v2IoStats(s, v),
    );
    pick(
      'hugetlb',
      'hugetlb',
      (v) => v1HugetlbStats(s, v, sizes),
      (v) => v2HugetlbStats(s, v, sizes),
    );
    return s;
  }

  oom(): OomState | undefined {
    const mem1 = this.v1?.dir('memory');
    if (mem1) {
      const text = this.fx.readFile(`${mem1}/memory.oom_control`);
      if (text === undefined) return undefined;
      const kv = parseFlatKeyed(text);
      return { kills: Number(kv.oom_kill ?? 0), ooms: Number(kv.under_oom ?? 0) };
    }
    if (this.v2?.controllers().has('memory')) {
      const text = this.fx.readFile(`${this.v2.dir}/memory.events`);
      if (text === undefined) return undefined;
      const kv = parseFlatKeyed(text);
      return { kills: Number(kv.oom_kill ?? 0), ooms: Number(kv.oom ?? 0) };
    }
    return undefined;
  }

  async waitEmpty(timeoutMs: number): Promise<boolean | undefined> {
    if (!this.v2) return undefined;
    // a missing file: the cgroup is gone, so nothing is in it
    return watchUntil(this.fx, `${this.v2.dir}/cgroup.events`, (t) => t === undefined || /^populated 0$/m.test(t), timeoutMs);
  }

  async destroy(): Promise<void> {
    // EBUSY while the last processes are not yet reaped: on a loaded machine (seen with two CPUs
    // busy) that took more than the 1 s this used to wait, and the cgroups stayed. Up to ~5 s,
    // polling fast first (the usual wait is a few ms).
    for (const d of this.dirs) {
      if (d.path === '/') continue;
      for (let waited = 0; ; ) {
        try {
          this.fx.rmdir(d.dir);
          break;
        } catch (err) {
          const code = errnoCode(err);
          if (code === 'ENOENT') break;
          if (code === 'EBUSY' && waited < DESTROY_WAIT_MS) {
            const step = waited < 200 ? 10 : 100;
            await sleep(step);
            waited += step;
            continue;
          }
          throw fromErrno('remove cgroup', d.dir, err);
        }
      }
    }
  }
}

/** How long destroy() waits for a busy cgroup to empty before it gives up (see there). */
const DESTROY_WAIT_MS = 5000;

export interface ManagerOptions {
  /** The host, or a fake (effects.ts). */
  effects?: Effects;
  /** The device-filter helper for cgroup2 (default: found by cgroupBpfPath()). */
  cgroupBpf?: string;
}

/** The manager of a container's cgroups (the driver follows from the hierarchies in `dirs`). */
export function managerFor(dirs: readonly CgroupDir[], opts: ManagerOptions = {}): CgroupManager {
  return new FsManager(dirs, opts);
}

// ------------------------------------------------------------------ helpers for the verbs

/** The cgroup.procs files nsinit writes the container's pid into. */
export function procsFiles(dirs: readonly CgroupDir[]): string[] {
  return dirs.map((d) => `${d.dir}/cgroup.procs`);
}

/**
 * create's part: makes the container's cgroups and writes its `linux.resources` (device rules
 * included) before any process is in them. Returns warnings about ignored settings.
 */
export function setUpCgroups(dirs: readonly CgroupDir[], spec: Spec, opts: ManagerOptions = {}): Promise<string[]> {
  const resources = parseResources(spec.linux?.resources);
  const m = managerFor(dirs, opts);
  m.create(resources);
  return m.apply(resources, { specDevicePaths: (spec.linux?.devices ?? []).map((d) => d.path) });
}
