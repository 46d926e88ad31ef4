/**
 * berth-runtime's C front in tests (test/runtime-front*.test.ts): which side ran is made visible
 * by PATH. Without a `node` on it, the front's own verbs still work and a hand-over to the Node
 * runtime fails with "exec 'node'".
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { rootfsUnavailable } from './rootfs.js';
import { createRuntime, REPO_ROOT, type RunResult } from './runtime.js';

export const FRONT = join(REPO_ROOT, 'native/build/berth-runtime');

/** Why the front's tests cannot run here, or undefined. */
export function frontUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(FRONT)) return `${FRONT} is not built (npm run build)`;
  return rootfsUnavailable() ?? createRuntime('berth').unavailable;
}

/** A PATH with no node on it: only what the front does itself can succeed. */
export const NO_NODE = { PATH: '/nonexistent' };

export function handedOver(r: RunResult, what: string): void {
  assert.notEqual(r.code, 0, `${what}: the front must hand over to Node (it succeeded without it)`);
  assert.match(r.stderr, /berth-runtime: exec 'node'/, `${what}: ${r.stderr}`);
}
