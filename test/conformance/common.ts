/**
 * Small building blocks shared by the check modules.
 */
import assert from 'node:assert/strict';
import { type Dirent, existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle } from '../helpers/bundle.js';
import { type Created, cgroupsOf, create, state } from '../helpers/container.js';
import { probeCmd } from '../helpers/probe.js';
import { cgroupLayout, v1Controllers } from '../helpers/requires.js';
import { describeResult, type Runtime } from '../helpers/runtime.js';
import { PROBE, type Spec } from '../helpers/spec.js';
import type { CheckContext } from './harness.js';

/** Sets the container process to the probe with these invocations. */
export function setProbe(s: Spec, ...invocations: string[][]): void {
  if (s.process === undefined) throw new Error('config has no process');
  s.process.args = [PROBE, ...probeCmd(...invocations)];
}

/** A bundle whose process sleeps (long enough for any check; deleted with --force at the end). */
export async function sleeperBundle(ctx: CheckContext, edit?: (s: Spec, b: Bundle) => void): Promise<Bundle> {
  const b = await ctx.bundle({ probeArgs: ['sleep', '600'] });
  if (edit !== undefined) await b.editConfig((s) => edit(s, b));
  return b;
}

/** create, asserting success. */
export async function created(ctx: CheckContext, b: Bundle, id = ctx.id()): Promise<Created> {
  const c = await create(ctx.rt, b, id);
  if (c.result.code !== 0) throw new Error(`create failed: ${describeResult(c.result)}`);
  return c;
}

/** start, asserting success. */
export async function started(rt: Runtime, id: string): Promise<void> {
  const r = await rt.run(['start', id]);
  if (r.code !== 0) throw new Error(`start failed: ${describeResult(r)}`);
}

/** Asserts that `state id` fails (the container does not exist). */
export async function assertNoContainer(rt: Runtime, id: string, what: string): Promise<void> {
  const r = await rt.run(['state', id]);
  assert.notEqual(r.code, 0, `${what}: 'state ${id}' succeeded, so the container exists:\n${r.stdout}`);
  const list = await rt.run(['list', '--format', 'json']);
  if (list.code === 0 && list.stdout.trim() !== '' && list.stdout.trim() !== 'null') {
    const parsed = JSON.parse(list.stdout) as { id?: string }[] | null;
    assert.ok(!(parsed ?? []).some((c) => c.id === id), `${what}: 'list' still shows ${id}`);
  }
}

/** The container's status, or 'absent' if `state` fails. */
export async function statusOrAbsent(rt: Runtime, id: string): Promise<string> {
  try {
    return String((await state(rt, id)).status);
  } catch {
    return 'absent';
  }
}

/** The namespace inode link of a host process (throws if unreadable). */
export function nsLink(pid: number | 'self', type: string): string {
  return readlinkSync(`/proc/${pid}/ns/${type}`);
}

/** Every mounted cgroup hierarchy root: v1 controller mounts and the v2 (unified) mount. */
export function cgroupMounts(): string[] {
  const out = new Set<string>(v1Controllers().values());
  const layout = cgroupLayout();
  if (layout === 'v2') out.add('/sys/fs/cgroup');
  if (layout === 'hybrid') out.add('/sys/fs/cgroup/unified');
  return [...out];
}

/**
 * A unique absolute cgroupsPath for this check (`/berth-conformance-<id>/<id>`);
 * whatever the runtime leaves of it is removed at the end of the check.
 */
export function uniqueCgroupPath(ctx: CheckContext, id: string): string {
  const top = `berth-conformance-${id}`;
  ctx.finally(() => removeCgroupTreesNamed(top));
  return `/${top}/${id}`;
}

/** rmdir these cgroup paths (deepest first as given) under every hierarchy, ignoring failures. */
export function removeCgroupDirs(paths: readonly string[]): void {
  for (const mount of cgroupMounts()) {
    for (const p of paths) {
      const dir = join(mount, p);
      if (!existsSync(dir)) continue;
      try {
        rmdirSync(dir);
      } catch {
        /* busy or not ours */
      }
    }
  }
}

/**
 * Removes every cgroup directory tree named `name` (a name unique to one
 * check) found within a few levels of every hierarchy, deepest first.
 */
export function removeCgroupTreesNamed(name: string, depth = 4): void {
  const found: string[] = [];
  const walk = (dir: string, level: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name === name) found.push(p);
      else if (level < depth) walk(p, level + 1);
    }
  };
  for (const m of cgroupMounts()) walk(m, 1);
  for (const root of found) {
    const dirs: string[] = [];
    const collect = (d: string) => {
      dirs.push(d);
      let entries: Dirent[] = [];
      try {
        entries = readdirSync(d, { withFileTypes: true });
      } catch {
        /* gone */
      }
      for (const e of entries) if (e.isDirectory()) collect(join(d, e.name));
    };
    collect(root);
    for (const d of dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* busy: a process is still inside */
      }
    }
  }
}

/** Host paths of the cgroup directories a process is in, per v1 controller ('' for v2). */
export function cgroupDirsOf(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  const mounts = v1Controllers();
  for (const [ctrl, path] of cgroupsOf(pid)) {
    if (ctrl === '') {
      const layout = cgroupLayout();
      const root = layout === 'v2' ? '/sys/fs/cgroup' : layout === 'hybrid' ? '/sys/fs/cgroup/unified' : undefined;
      if (root !== undefined) out.set('', join(root, path));
      continue;
    }
    const mount = mounts.get(ctrl);
    if (mount !== undefined) out.set(ctrl, join(mount, path));
  }
  return out;
}

export function readTrim(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

/** Hook entry running a shell script with /bin/sh (resolved where the hook runs). */
export function shHook(
  script: string,
  extra: { env?: string[]; timeout?: number } = {},
): { path: string; args: string[]; env?: string[]; timeout?: number } {
  return { path: '/bin/sh', args: ['sh', '-c', script], ...extra };
}

/** Single-quotes a string for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
