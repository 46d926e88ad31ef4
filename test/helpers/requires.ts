/**
 * Host requirements, runc-integration style: each `needs…()` returns a skip
 * reason (a sentence saying what is missing) or undefined; `requires(t, …)`
 * skips the test with the first reason and returns false.
 *
 *   test('x', (t) => {
 *     if (!requires(t, needsRoot(), needsBinary('unshare'))) return;
 *     …
 *   });
 */
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { findBinary } from './runtime.js';
import { CAPABILITIES } from './spec.js';

export type Reason = string | undefined;

/** Skips `t` with the first reason given, if any; true when every requirement holds. */
export function requires(t: TestContext, ...reasons: Reason[]): boolean {
  const why = reasons.find((r) => r !== undefined);
  if (why === undefined) return true;
  t.skip(why);
  return false;
}

/** The first reason, if any (to combine requirements). */
export function firstReason(...reasons: Reason[]): Reason {
  return reasons.find((r) => r !== undefined);
}

export function needsRoot(): Reason {
  return process.getuid?.() === 0 ? undefined : 'needs root (uid 0): runtimes create namespaces, mounts and cgroups';
}

export function needsBinary(name: string): Reason {
  return findBinary(name) === undefined ? `needs the '${name}' binary on PATH` : undefined;
}

export function needsFile(path: string, what = path): Reason {
  return existsSync(path) ? undefined : `needs ${what} (${path} does not exist)`;
}

// ---------------------------------------------------------------- cgroups

const CGROUP2_MAGIC = 0x63677270;

export type CgroupLayout = 'v1' | 'hybrid' | 'v2' | 'none';

/** How cgroups are mounted on this host. */
export function cgroupLayout(): CgroupLayout {
  try {
    if (statfsSync('/sys/fs/cgroup').type === CGROUP2_MAGIC) return 'v2';
  } catch {
    return 'none';
  }
  const v1 = v1Controllers();
  if (v1.size === 0) return existsSync('/sys/fs/cgroup/unified') ? 'v2' : 'none';
  try {
    if (statfsSync('/sys/fs/cgroup/unified').type === CGROUP2_MAGIC) return 'hybrid';
  } catch {
    /* no unified mount */
  }
  return 'v1';
}

/** v1 controller name → its mount point (co-mounted controllers share one). */
export function v1Controllers(): Map<string, string> {
  const out = new Map<string, string>();
  let info = '';
  try {
    info = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return out;
  }
  for (const line of info.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre === undefined || post === undefined) continue;
    const [fstype, , superOpts] = post.split(' ');
    if (fstype !== 'cgroup') continue;
    const mp = pre.split(' ')[4];
    if (mp === undefined) continue;
    for (const opt of (superOpts ?? '').split(',')) {
      if (['rw', 'ro'].includes(opt) || opt.startsWith('release_agent') || opt === 'clone_children' || opt === 'noprefix') continue;
      out.set(opt, mp);
    }
  }
  return out;
}

export function needsCgroupLayout(...layouts: CgroupLayout[]): Reason {
  const l = cgroupLayout();
  return layouts.includes(l) ? undefined : `needs cgroup layout ${layouts.join(' or ')} (this host: ${l})`;
}

/** A cgroup v1 controller mounted on the host (ignored on pure v2, where controllers are checked in cgroup.controllers). */
export function needsCgroupController(ctrl: string): Reason {
  const l = cgroupLayout();
  if (l === 'v2') {
    try {
      const ctrls = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/);
      return ctrls.includes(ctrl) ? undefined : `needs the cgroup v2 controller '${ctrl}' (not in /sys/fs/cgroup/cgroup.controllers)`;
    } catch {
      return 'needs cgroups (cannot read /sys/fs/cgroup/cgroup.controllers)';
    }
  }
  return v1Controllers().has(ctrl) ? undefined : `needs the cgroup v1 controller '${ctrl}' mounted (layout ${l})`;
}

// ---------------------------------------------------------- capabilities

/** Capabilities in this process's bounding set. */
export function boundingSet(): Set<string> {
  const status = readFileSync('/proc/self/status', 'utf8');
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status);
  const mask = m?.[1] !== undefined ? BigInt(`0x${m[1]}`) : 0n;
  const out = new Set<string>();
  CAPABILITIES.forEach((name, i) => {
    if ((mask >> BigInt(i)) & 1n) out.add(name);
  });
  return out;
}

export function needsCapability(cap: string): Reason {
  return boundingSet().has(cap) ? undefined : `needs ${cap} in the bounding set (missing on this host)`;
}

export function lacksCapability(cap: string): Reason {
  return boundingSet().has(cap) ? `needs a host whose bounding set lacks ${cap} (this one has it)` : undefined;
}

// ------------------------------------------------------------ namespaces

export function needsNamespace(type: string): Reason {
  return existsSync(`/proc/self/ns/${type}`) ? undefined : `needs kernel support for ${type} namespaces (/proc/self/ns/${type} missing)`;
}

export function needsUserns(): Reason {
  const r = needsNamespace('user');
  if (r !== undefined) return r;
  try {
    const max = Number(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim());
    if (max === 0) return 'needs user namespaces (user.max_user_namespaces is 0)';
  } catch {
    /* older kernels: assume allowed */
  }
  return undefined;
}
