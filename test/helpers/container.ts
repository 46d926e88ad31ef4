/**
 * Container lifecycle helpers shared by the conformance suite and the
 * differential test: create with stdio to files and a pid file, state as
 * parsed JSON, waiting on status and on processes, running the probe in the
 * foreground.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bundle } from './bundle.js';
import { ProbeOutput } from './probe.js';
import { describeResult, type RunOptions, type RunResult, type Runtime, readIfExists } from './runtime.js';

export interface ContainerState {
  ociVersion?: unknown;
  id?: unknown;
  status?: unknown;
  pid?: unknown;
  bundle?: unknown;
  annotations?: unknown;
  [extra: string]: unknown;
}

export interface Created {
  result: RunResult;
  id: string;
  pidFile: string;
  /** Files holding the container's (and the runtime's) stdout and stderr. */
  stdoutFile: string;
  stderrFile: string;
  /** The container's stdout so far. */
  stdout(): Promise<string>;
  stderr(): Promise<string>;
  /** The pid in the pid file (throws if missing). */
  pid(): number;
}

/**
 * `create --bundle B --pid-file F ID`, stdio to files in the bundle directory
 * (`<id>.out`, `<id>.err`). The container is tracked for deletion by the bundle.
 */
export async function create(rt: Runtime, b: Bundle, id: string, opts: RunOptions & { extraArgs?: string[] } = {}): Promise<Created> {
  // File names from the id, made safe (tests also try ids like '../x').
  const base = id === '' ? 'empty-id' : encodeURIComponent(id).replace(/^\./, '%2E');
  const pidFile = b.path(`${base}.pid`);
  const stdoutFile = b.path(`${base}.out`);
  const stderrFile = b.path(`${base}.err`);
  b.track(rt, id);
  const result = await rt.run(['create', '--bundle', b.dir, '--pid-file', pidFile, ...(opts.extraArgs ?? []), id], {
    stdoutFile,
    stderrFile,
    ...opts,
  });
  // With files, the runtime's own messages are in the files: expose them.
  const err = (await readIfExists(stderrFile)) ?? '';
  const out = (await readIfExists(stdoutFile)) ?? '';
  result.stderr = err;
  result.stdout = out;
  return {
    result,
    id,
    pidFile,
    stdoutFile,
    stderrFile,
    stdout: async () => (await readIfExists(stdoutFile)) ?? '',
    stderr: async () => (await readIfExists(stderrFile)) ?? '',
    pid: () => {
      const text = readFileSync(pidFile, 'utf8').trim();
      const pid = Number(text);
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`pid file ${pidFile} holds '${text}'`);
      return pid;
    },
  };
}

/** create, and throw with the runtime's message if it failed. */
export async function mustCreate(rt: Runtime, b: Bundle, id: string, opts: RunOptions & { extraArgs?: string[] } = {}): Promise<Created> {
  const c = await create(rt, b, id, opts);
  if (c.result.code !== 0) throw new Error(`create failed: ${describeResult(c.result)}`);
  return c;
}

export async function mustRun(rt: Runtime, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await rt.run(args, opts);
  if (r.code !== 0) throw new Error(`${args[0]} failed: ${describeResult(r)}`);
  return r;
}

/** `state ID` parsed; throws (with the runtime's message) if it fails or is not JSON. */
export async function state(rt: Runtime, id: string): Promise<ContainerState> {
  const r = await rt.run(['state', id]);
  if (r.code !== 0) throw new Error(`state failed: ${describeResult(r)}`);
  try {
    return JSON.parse(r.stdout) as ContainerState;
  } catch {
    throw new Error(`state ${id} did not print JSON:\n${r.stdout}`);
  }
}

/** Polls until `fn` returns a value other than undefined (hang guard `guardMs`; not a timing assertion). */
export async function waitFor<T>(
  what: string | (() => string),
  fn: () => Promise<T | undefined> | T | undefined,
  guardMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + guardMs;
  let delay = 10;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/** Polls `state` until the status is `status`. */
export async function waitForStatus(rt: Runtime, id: string, status: string, guardMs = 30_000): Promise<ContainerState> {
  let last: unknown;
  return waitFor(
    () => `container ${id} to be ${status} (last status: ${String(last)})`,
    async () => {
      const s = await state(rt, id);
      last = s.status;
      return s.status === status ? s : undefined;
    },
    guardMs,
  );
}

/** True if the process exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export async function waitForExit(pid: number, guardMs = 30_000): Promise<void> {
  await waitFor(`process ${pid} to exit`, () => (pidAlive(pid) ? undefined : true), guardMs);
}

/** Waits until a file exists and `accept(content)` holds; returns its content. */
export async function waitForFile(path: string, accept: (content: string) => boolean = () => true, guardMs = 30_000): Promise<string> {
  return waitFor(
    `file ${path}`,
    async () => {
      const c = await readIfExists(path);
      return c !== undefined && accept(c) ? c : undefined;
    },
    guardMs,
  );
}

/** /proc/<pid>/cmdline as argv. */
export async function cmdline(pid: number): Promise<string[]> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  return raw.split('\0').filter((_, i, a) => i < a.length - 1 || a[i] !== '');
}

export interface ProbeRun {
  result: RunResult;
  out: ProbeOutput;
}

/**
 * Runs the bundle's process in the foreground (`run --bundle B ID`) and parses
 * the probe's output. The runtime removes the container when it exits; the
 * bundle also tracks it in case it does not.
 */
export async function runProbe(rt: Runtime, b: Bundle, id: string, opts: RunOptions = {}): Promise<ProbeRun> {
  b.track(rt, id);
  const result = await rt.run(['run', '--bundle', b.dir, id], opts);
  const args = b.spec.process?.args ?? [];
  return { result, out: new ProbeOutput(result.stdout, args.slice(1)) };
}

/** runProbe, failing unless the runtime exited 0. */
export async function mustRunProbe(rt: Runtime, b: Bundle, id: string, opts: RunOptions = {}): Promise<ProbeOutput> {
  const r = await runProbe(rt, b, id, opts);
  if (r.result.code !== 0) throw new Error(`run failed: ${describeResult(r.result)}`);
  return r.out;
}

/** The namespace link of a host process: `net:[4026531840]`, or undefined. */
export function nsOf(pid: number | 'self', type: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${type}`);
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/cgroup as controller-list → path (v1 lines `N:ctrl,ctrl:/path`, v2 line `0::/path` under key ''). */
export function cgroupsOf(pid: number | 'self'): Map<string, string> {
  const m = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return m;
  }
  return parseProcCgroup(text);
}

export function parseProcCgroup(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    const j = line.indexOf(':', i + 1);
    if (i < 0 || j < 0) continue;
    const ctrls = line.slice(i + 1, j);
    const path = line.slice(j + 1);
    if (ctrls === '') m.set('', path);
    for (const c of ctrls.split(',')) if (c) m.set(c, path);
  }
  return m;
}

/** cgroup directories named `id` directly under each hierarchy's root or under our own cgroup. */
export function cgroupDirsOf(id: string): string[] {
  const found: string[] = [];
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const base = join('/sys/fs/cgroup', ctrl);
    const own: string[] = ['/'];
    for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
      const [, names, p] = line.split(':');
      if (p && (names === ctrl || names === `name=${ctrl}` || (names === '' && ctrl === 'unified'))) own.push(p);
    }
    for (const o of own) if (existsSync(join(base, o, id))) found.push(join(base, o, id));
  }
  return found;
}
