/**
 * A recording fake of the host's effects (effects.ts) for unit tests without root: an in-memory
 * cgroup filesystem and process table that log every mutating call in order. It keeps the
 * cgroupfs rules the runtime depends on: a file can be written only in an existing directory,
 * a directory with processes or subdirectories cannot be removed (EBUSY), and a killed process
 * leaves every cgroup.procs.
 */
import type { Effects } from './effects.js';

export type Call =
  | { op: 'mkdir'; path: string }
  | { op: 'rmdir'; path: string }
  | { op: 'write'; path: string; value: string }
  | { op: 'kill'; pid: number; signal: string };

function errno(code: string, text: string, object: string): Error {
  return Object.assign(new Error(`${code}: ${text}, ${object}`), { code });
}

const parent = (p: string) => p.slice(0, Math.max(p.lastIndexOf('/'), 1));

export class RecordingEffects implements Effects {
  readonly calls: Call[] = [];
  readonly files = new Map<string, string>();
  readonly dirs = new Set<string>(['/']);
  /** pid → its start time. */
  readonly processes = new Map<number, string>();
  /** Makes a write fail: return the errno code ('EINVAL', …) or undefined. */
  failWrite: (file: string, value: string) => string | undefined = () => undefined;

  /** hierarchy mountpoint → the files a new cgroup there starts with (empty). */
  private readonly cgroupFiles: Record<string, readonly string[]>;

  constructor(
    init: {
      dirs?: readonly string[];
      files?: Record<string, string>;
      processes?: Record<number, string>;
      cgroupFiles?: Record<string, readonly string[]>;
    } = {},
  ) {
    this.cgroupFiles = init.cgroupFiles ?? {};
    for (const d of init.dirs ?? []) this.addDir(d);
    for (const [f, v] of Object.entries(init.files ?? {})) {
      this.addDir(parent(f));
      this.files.set(f, v);
    }
    for (const [pid, start] of Object.entries(init.processes ?? {})) this.processes.set(Number(pid), start);
  }

  private addDir(d: string): void {
    for (let p = d; p !== '/' && !this.dirs.has(p); p = parent(p)) this.dirs.add(p);
  }

  /** The mutating calls only, in order, as short strings ('mkdir /x', 'write /x/f 1', 'kill 12 SIGKILL'). */
  log(): string[] {
    return this.calls.map((c) =>
      c.op === 'write' ? `write ${c.path} ${c.value}` : c.op === 'kill' ? `kill ${c.pid} ${c.signal}` : `${c.op} ${c.path}`,
    );
  }

  readFile(file: string): string | undefined {
    const m = /^\/proc\/(\d+)\/stat$/.exec(file);
    if (m) {
      const start = this.processes.get(Number(m[1]));
      // fields 3 (state) and 22 (start time), as procStat reads them
      return start === undefined ? undefined : `${m[1]} (fake) S ${'0 '.repeat(18)}${start} 0\n`;
    }
    return this.files.get(file);
  }

  writeFile(file: string, value: string): void {
    if (!this.dirs.has(parent(file))) throw errno('ENOENT', 'no such file or directory', file);
    const fail = this.failWrite(file, value);
    if (fail) throw errno(fail, fail === 'EINVAL' ? 'invalid argument' : 'operation failed', file);
    this.calls.push({ op: 'write', path: file, value });
    if (file.endsWith('/cgroup.procs')) {
      const pids = (this.files.get(file) ?? '').split('\n').filter(Boolean);
      this.files.set(file, [...pids, value].join('\n'));
    } else this.files.set(file, value);
  }

  /** Opens of writeEach (each value is logged as writeFile logs it). */
  writeEachCalls: { file: string; values: readonly string[] }[] = [];

  writeEach(file: string, values: readonly string[]): void {
    if (!this.dirs.has(parent(file))) throw errno('ENOENT', 'no such file or directory', file);
    this.writeEachCalls.push({ file, values });
    for (const [i, v] of values.entries()) {
      try {
        this.writeFile(file, v);
      } catch (err) {
        throw Object.assign(err as Error, { valueIndex: i });
      }
    }
  }

  exists(p: string): boolean {
    return this.dirs.has(p) || this.files.has(p);
  }

  mkdir(dir: string, opts?: { recursive?: boolean }): void {
    if (this.dirs.has(dir)) {
      if (opts?.recursive) return;
      throw errno('EEXIST', 'file already exists', dir);
    }
    if (!this.dirs.has(parent(dir))) {
      if (!opts?.recursive) throw errno('ENOENT', 'no such file or directory', dir);
      this.mkdir(parent(dir), opts);
    }
    this.calls.push({ op: 'mkdir', path: dir });
    this.dirs.add(dir);
    for (const [mount, files] of Object.entries(this.cgroupFiles))
      if (dir.startsWith(`${mount}/`))
        for (const f of files) this.files.set(`${dir}/${f}`, f === 'cgroup.events' ? 'populated 0\nfrozen 0\n' : '');
  }

  rmdir(dir: string): void {
    if (!this.dirs.has(dir)) throw errno('ENOENT', 'no such file or directory', dir);
    const procs = this.files.get(`${dir}/cgroup.procs`) ?? '';
    if (procs.trim() !== '' || this.subdirs(dir).length > 0) throw errno('EBUSY', 'device or resource busy', dir);
    this.calls.push({ op: 'rmdir', path: dir });
    this.dirs.delete(dir);
    for (const f of [...this.files.keys()]) if (parent(f) === dir) this.files.delete(f);
  }

  subdirs(dir: string): string[] {
    if (!this.dirs.has(dir)) throw errno('ENOENT', 'no such file or directory', dir);
    return [...this.dirs].filter((d) => d !== dir && parent(d) === dir).map((d) => d.slice(dir.length + 1));
  }

  readdir(dir: string): string[] {
    if (!this.dirs.has(dir)) throw errno('ENOENT', 'no such file or directory', dir);
    const names = [...this.dirs, ...this.files.keys()].filter((p) => p !== dir && parent(p) === dir);
    return names.map((p) => p.slice(dir.length + 1));
  }

  kill(pid: number, signal: NodeJS.Signals | number): void {
    this.calls.push({ op: 'kill', pid, signal: String(signal) });
    if (!this.processes.has(pid)) throw errno('ESRCH', 'no such process', String(pid));
    if (signal !== 'SIGKILL' && signal !== 9) return;
    this.processes.delete(pid);
    for (const [f, v] of this.files) {
      if (f.endsWith('/cgroup.procs'))
        this.files.set(
          f,
          v
            .split('\n')
            .filter((p) => p && Number(p) !== pid)
            .join('\n'),
        );
    }
  }
}
