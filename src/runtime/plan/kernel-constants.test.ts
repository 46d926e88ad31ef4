/**
 * The kernel numbers the plan carries (capability bits, RLIMIT_* resources, MS_* flags) against
 * the C headers berth-nsinit compiles with: a C program prints each header value, and the tables
 * the runtime really uses must agree, so two swapped capability bits, a hand edit of the generated
 * file or a headers upgrade without `node scripts/gen-kernel-constants.mjs` fails here.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { CAPABILITIES, capabilityMask, capabilityNames } from './capabilities.js';
import { CAPABILITY_BITS, MOUNT_FLAGS, RLIMIT_RESOURCES } from './kernel-constants.generated.js';
import { MS } from './mount-options.js';
import { RLIMITS } from './rlimits.js';

const CAP_HEADER = '/usr/include/linux/capability.h';

/** name → value as the C compiler sees it, or a reason why it cannot be asked. */
function fromHeaders(names: readonly string[]): Map<string, bigint> | string {
  const dir = mkdtempSync(path.join(tmpdir(), 'berth-kconst-test-'));
  try {
    const lines = names.map((n) => `\tprintf("%s %llu\\n", "${n}", (unsigned long long)(${n}));`);
    const src = ['#include <linux/capability.h>', '#include <stdio.h>', '#include <sys/mount.h>', '#include <sys/resource.h>'];
    writeFileSync(path.join(dir, 'k.c'), [...src, 'int main(void)', '{', ...lines, '\treturn 0;', '}', ''].join('\n'));
    try {
      execFileSync('cc', ['-std=gnu11', '-o', path.join(dir, 'k'), path.join(dir, 'k.c')], { stdio: 'pipe' });
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
      if (e.code === 'ENOENT') return 'no C compiler (cc): Debian package gcc';
      throw new Error(`cc: ${e.stderr?.toString() ?? e.message}`);
    }
    const out = execFileSync(path.join(dir, 'k'), { encoding: 'utf8' });
    return new Map(
      out
        .trim()
        .split('\n')
        .map((l) => {
          const [name, value] = l.split(' ') as [string, string];
          return [name, BigInt(value)];
        }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const names = [...Object.keys(CAPABILITY_BITS), ...Object.keys(RLIMIT_RESOURCES), ...Object.keys(MOUNT_FLAGS)];
const header = fromHeaders(names);
const skip = typeof header === 'string' ? header : undefined;
const value = (name: string): number => Number((header as Map<string, bigint>).get(name));

test('capability bits are the kernel header values', { skip }, () => {
  for (const [name, bit] of Object.entries(CAPABILITY_BITS)) assert.equal(bit, value(name), name);
  // The table the runtime decodes and encodes with: CAPABILITIES[n] is the capability with bit n.
  for (const [bit, name] of CAPABILITIES.entries()) assert.equal(value(name), bit, `CAPABILITIES[${bit}] is ${name}`);
  for (const name of CAPABILITIES) {
    assert.equal(capabilityMask([name]).mask, 1n << BigInt(value(name)), `capabilityMask(['${name}'])`);
    assert.deepEqual(capabilityNames(1n << BigInt(value(name))), [name]);
  }
  // Every capability the header defines is known (a headers upgrade adds one: regenerate).
  const defined = [...readFileSync(CAP_HEADER, 'utf8').matchAll(/^#define\s+(CAP_\w+)\s+\d+\s*$/gm)].map((m) => m[1]);
  assert.deepEqual([...CAPABILITIES].sort(), defined.sort(), 'node scripts/gen-kernel-constants.mjs');
});

test('rlimit resources are the kernel header values', { skip }, () => {
  for (const [name, n] of Object.entries(RLIMIT_RESOURCES)) assert.equal(n, value(name), name);
  for (const [name, n] of Object.entries(RLIMITS)) assert.equal(n, value(name), `RLIMITS.${name}`);
  assert.equal(Object.keys(RLIMITS).length, 16);
});

test('mount flags are the kernel header values', { skip }, () => {
  for (const [name, n] of Object.entries(MOUNT_FLAGS)) assert.equal(n, value(name), name);
  for (const [name, n] of Object.entries(MS)) assert.equal(n, value(`MS_${name}`), `MS.${name}`);
  assert.equal(Object.keys(MS).length, Object.keys(MOUNT_FLAGS).length);
});
