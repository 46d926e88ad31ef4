/**
 * The template of a foreground `run`, for berth-runtime's C front (docs/runtime-front.md, "run
 * from a template"). A `run` of the same bundle decides the same things every time: the state
 * record, the cgroup directories and the writes into them, the plan for berth-nsinit. Only the
 * container id, the creator, the nonce, the times and the init's pid change. So after a `run`
 * that the front could have carried out, the Node runtime writes what it decided, for a stand-in
 * id (a random marker), into `<root>/~run-<hash of the bundle path>`. The front replays it for a
 * later `run` of that bundle while everything it was decided from is the same: the bytes of
 * config.json, the runtime's build (its files' identity), the caller's cgroups, the cgroup
 * mounts, the bounding set, whether /proc/kcore exists.
 *
 * The cgroup part is a recording of what the Node runtime did through the effects seam, reads
 * included: each read is a precondition the front checks at the same point before it goes on
 * (a parent's cpuset.cpus, the hugepage sizes, a new directory's files), so a host that changed
 * since makes it hand the run to Node, which writes a new template.
 *
 * Pure except `EffectsRecorder` (which passes every call through) and `writeRunTemplate`.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../common/fs.js';
import type { CgroupDir } from '../cgroups/manager.js';
import type { Effects } from '../effects.js';
import { encodeField } from '../plan/encode.js';
import type { ContainerRecord } from './container.js';

export const RUN_TEMPLATE_PREFIX = '~run-';
const FORMAT = 'berth-run-template 1';
/** At most this many templates per root (one per bundle): a new one past it removes the others. */
const MAX_TEMPLATES = 16;

export type CgroupOp =
  | { op: 'read'; file: string; value: string | undefined }
  | { op: 'exists'; file: string; value: boolean }
  | { op: 'subdirs' | 'readdir'; dir: string; names: string[] }
  | { op: 'mkdir'; dir: string; recursive: boolean }
  | { op: 'write'; file: string; value: string };

/**
 * The host's effects, every call passed through and recorded. A call the front cannot replay
 * (rmdir, kill, or any call that throws: the manager's fallbacks after a failed write) makes the
 * recording unfit for a template.
 */
export class EffectsRecorder implements Effects {
  readonly ops: CgroupOp[] = [];
  unfit = false;
  constructor(private readonly inner: Effects) {}

  private guard<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      this.unfit = true;
      throw err;
    }
  }
  readFile(file: string): string | undefined {
    const value = this.inner.readFile(file);
    this.ops.push({ op: 'read', file, value });
    return value;
  }
  writeFile(file: string, value: string): void {
    this.guard(() => this.inner.writeFile(file, value));
    this.ops.push({ op: 'write', file, value });
  }
  exists(file: string): boolean {
    const value = this.inner.exists(file);
    this.ops.push({ op: 'exists', file, value });
    return value;
  }
  mkdir(dir: string, opts?: { recursive?: boolean }): void {
    this.guard(() => this.inner.mkdir(dir, opts));
    this.ops.push({ op: 'mkdir', dir, recursive: opts?.recursive ?? false });
  }
  rmdir(dir: string): void {
    this.unfit = true;
    this.inner.rmdir(dir);
  }
  subdirs(dir: string): string[] {
    const names = this.guard(() => this.inner.subdirs(dir));
    this.ops.push({ op: 'subdirs', dir, names: [...names] });
    return names;
  }
  readdir(dir: string): string[] {
    const names = this.guard(() => this.inner.readdir(dir));
    this.ops.push({ op: 'readdir', dir, names: [...names] });
    return names;
  }
  kill(pid: number, signal: NodeJS.Signals | number): void {
    this.unfit = true;
    this.inner.kill(pid, signal);
  }
}

/** What the template is valid for, read from the host as the front reads it. */
export interface RunHostFacts {
  /** /proc/self/cgroup. */
  cgroup: string;
  /** The lines of /proc/self/mountinfo whose filesystem type is cgroup or cgroup2, each with its '\n'. */
  mounts: string;
  /** The CapBnd value of /proc/self/status (hex). */
  capBnd: string;
  /** '1' when /proc/kcore exists. */
  kcore: string;
}

export function cgroupMountLines(mountinfo: string): string {
  let out = '';
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const rest = line.slice(sep + 3);
    if (rest.startsWith('cgroup ') || rest.startsWith('cgroup2 ')) out += `${line}\n`;
  }
  return out;
}

export function readRunHostFacts(): RunHostFacts {
  const status = readFileSync('/proc/self/status', 'utf8');
  let kcore = '0';
  try {
    statSync('/proc/kcore');
    kcore = '1';
  } catch {
    // absent (a container's /proc may mask it)
  }
  return {
    cgroup: readFileSync('/proc/self/cgroup', 'utf8'),
    mounts: cgroupMountLines(readFileSync('/proc/self/mountinfo', 'utf8')),
    capBnd: /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '',
    kcore,
  };
}

/** FNV-1a (64 bits) of the bundle path's UTF-8 bytes, in hex: the template's name. */
export function templateName(bundle: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(bundle, 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return `${RUN_TEMPLATE_PREFIX}${h.toString(16).padStart(16, '0')}`;
}

/** The identity of the files a template was made by ("dev:ino:size:mtime-ns" each), or undefined. */
export function buildKey(files: readonly string[]): string | undefined {
  try {
    return files
      .map((f) => {
        const s = statSync(f, { bigint: true });
        return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
      })
      .join(' ');
  } catch {
    return undefined;
  }
}

export const newMarker = () => randomBytes(16).toString('hex');

/** The record's fields that change per run, as tokens the front replaces. */
export const RECORD_TOKENS = ['phase', 'creator', 'nonce', 'pid', 'pidStartTime', 'created'] as const;

export interface RunTemplateInput {
  /** What made it: buildKey of the Node runtime's script and of berth-nsinit. */
  key: string;
  bundle: string;
  /** config.json's bytes, as read for the marker's prepare. */
  config: Buffer;
  host: RunHostFacts;
  marker: string;
  /** The cgroup.procs file the front writes its own pid into early (cgroups/warm.ts), or ''. */
  warm: string;
  /** The marker's record (any per-run field is replaced by its token). */
  record: ContainerRecord;
  /** The real container's cgroups and the marker's, index for index: recorded paths are mapped. */
  realDirs: readonly CgroupDir[];
  markerDirs: readonly CgroupDir[];
  ops: readonly CgroupOp[];
  /** The marker's encoded plan. */
  plan: string;
}

/** Maps a path under one of the real container's cgroups to the marker's. */
function mapPath(p: string, real: readonly CgroupDir[], marker: readonly CgroupDir[]): string {
  for (let i = 0; i < real.length; i++) {
    const from = real[i]?.dir;
    const to = marker[i]?.dir;
    if (!from || !to) continue;
    if (p === from) return to;
    if (p.startsWith(`${from}/`)) return to + p.slice(from.length);
  }
  return p;
}

/**
 * The cgroup ops as lines of percent-encoded fields (encode.ts's encodeField): `read F V`,
 * `absent F`, `exists F 0|1`, `subdirs D N…`, `readdir D N…` (names sorted), `mkdir D 0|1`,
 * `write F V`.
 */
export function encodeOps(ops: readonly CgroupOp[], real: readonly CgroupDir[], marker: readonly CgroupDir[]): string {
  const f = (s: string) => encodeField(s);
  const m = (p: string) => f(mapPath(p, real, marker));
  return ops
    .map((o) => {
      switch (o.op) {
        case 'read':
          return o.value === undefined ? `absent ${m(o.file)}` : `read ${m(o.file)} ${f(o.value)}`;
        case 'exists':
          return `exists ${m(o.file)} ${o.value ? 1 : 0}`;
        case 'subdirs':
        case 'readdir':
          return [o.op, m(o.dir), ...[...o.names].sort().map(f)].join(' ');
        case 'mkdir':
          return `mkdir ${m(o.dir)} ${o.recursive ? 1 : 0}`;
        case 'write':
          return `write ${m(o.file)} ${f(o.value)}`;
      }
      return '';
    })
    .map((line) => `${line}\n`)
    .join('');
}

/** The template's text: a format line, then sections `name length\n<bytes>\n`. */
export function encodeRunTemplate(t: RunTemplateInput): Buffer {
  const tokened: Record<string, unknown> = { ...t.record };
  for (const k of RECORD_TOKENS) {
    if (k === 'creator' || k in tokened) tokened[k] = `${t.marker}:${k}`;
  }
  const sections: [string, Buffer][] = [
    ['key', Buffer.from(t.key)],
    ['bundle', Buffer.from(t.bundle)],
    ['config', t.config],
    ['cgroup', Buffer.from(t.host.cgroup)],
    ['mounts', Buffer.from(t.host.mounts)],
    ['capbnd', Buffer.from(t.host.capBnd)],
    ['kcore', Buffer.from(t.host.kcore)],
    ['marker', Buffer.from(t.marker)],
    ['warm', Buffer.from(t.warm)],
    ['record', Buffer.from(JSON.stringify(tokened))],
    ['ops', Buffer.from(encodeOps(t.ops, t.realDirs, t.markerDirs))],
    ['plan', Buffer.from(t.plan)],
  ];
  const parts: Buffer[] = [Buffer.from(`${FORMAT}\n`)];
  for (const [name, bytes] of sections) parts.push(Buffer.from(`${name} ${bytes.length}\n`), bytes, Buffer.from('\n'));
  return Buffer.concat(parts);
}

/** A template's temporary file (writeFileAtomic's `.<name>.<unique>.tmp`), left by a writer that died. */
const isStaleTemp = (root: string, n: string, now: number) => {
  if (!n.startsWith(`.${RUN_TEMPLATE_PREFIX}`) || !n.endsWith('.tmp')) return false;
  try {
    return now - statSync(path.join(root, n)).mtimeMs > 60_000;
  } catch {
    return false;
  }
};

/**
 * Writes the template of `bundle` into the root, keeping at most MAX_TEMPLATES there, and
 * removes the temporary files of writers that died more than a minute ago.
 */
export function writeRunTemplate(root: string, bundle: string, text: Buffer, now = Date.now()): void {
  const name = templateName(bundle);
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    // the root is there (the container was just created in it); a failed listing prunes nothing
  }
  const others = names.filter((n) => n.startsWith(RUN_TEMPLATE_PREFIX) && n !== name);
  const remove = [...(others.length >= MAX_TEMPLATES ? others : []), ...names.filter((n) => isStaleTemp(root, n, now))];
  for (const n of remove) {
    try {
      unlinkSync(path.join(root, n));
    } catch {
      // another run removed it
    }
  }
  writeFileAtomic(path.join(root, name), text, { mode: 0o600, durable: false });
}
