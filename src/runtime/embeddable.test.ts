/**
 * The runtime library is embedded in a long-running daemon (docs/architecture.md): it must not
 * touch process-wide state. This scans its sources (src/runtime, src/common, src/oci) for what
 * would: signal listeners on `process`, environment reads, exits, console output, the process's
 * own stdio, blocking child processes, and module-level mutable state (caches that never
 * expire), except the entries allowed below with their reason.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIBRARY = ['runtime', 'common', 'oci'];

const RULES: { name: string; re: RegExp }[] = [
  { name: 'listener on process', re: /\bprocess\.(on|once|off|addListener|removeListener|prependListener|prependOnceListener)\(/ },
  { name: 'process.env read', re: /(?<![.\w])process\.env\b/ },
  { name: 'process exit', re: /\bprocess\.(exit|exitCode|abort)\b/ },
  { name: 'console output', re: /\bconsole\.\w+/ },
  { name: "the process's own stdio", re: /\bprocess\.(stdin|stdout|stderr)\b|'inherit'/ },
  { name: 'blocking child process', re: /\b(spawnSync|execSync|execFileSync)\b/ },
  // a module-level variable, or an empty collection to be filled later (a table with its
  // contents given at once is data, not state)
  {
    name: 'module-level mutable state',
    re: /^(export\s+)?(let|var)\s|^(export\s+)?const\s+\w+\s*(:[^=]+)?=\s*new\s+(Map|Set|WeakMap)\s*(<[^>]*>)?\(\)/m,
  },
];

/** file → rule names allowed there, with why. */
const ALLOWED: Record<string, Record<string, string>> = {
  'runtime/container/create.ts': {
    'module-level mutable state': "this process's own start time, kept with its pid: never stale",
  },
  'runtime/launcher/nsinit.ts': {
    'module-level mutable state':
      'where berth-nsinit was found: the package does not move under a running process (a binary removed later fails its exec, by name)',
  },
  'common/lock.ts': {
    'module-level mutable state':
      "each root's lock salt, checked by a stat of its file at every use (a root made again is seen), at most 64 entries",
  },
  'runtime/container/lock.ts': {
    'module-level mutable state': 'the in-process lock queues: an entry lives only while its lock is held or awaited',
  },
  'runtime/seccomp/index.ts': {
    'module-level mutable state': 'compiled programs by (arch, profile): a pure function memoised, at most 16 entries',
  },
  'runtime/seccomp/arch.ts': {
    'module-level mutable state': 'syscall tables built from generated constants, one per ABI: bounded and never stale',
  },
};

/** Source without comments (so that a comment may name what the code must not do). */
export function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

export function violations(text: string): string[] {
  const code = stripComments(text);
  return RULES.filter((r) => r.re.test(code)).map((r) => r.name);
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

test('the scanner catches what it looks for', () => {
  assert.deepEqual(violations("process.on('SIGINT', f);"), ['listener on process']);
  assert.deepEqual(violations('const x = Number(process.env.LISTEN_FDS);'), ['process.env read']);
  assert.deepEqual(violations('config.process.env = [];'), []);
  assert.deepEqual(violations("const IGNORED = new Set(['x']);"), []);
  assert.deepEqual(violations("spawn(p, [], { stdio: ['pipe', 'inherit'] });"), ["the process's own stdio"]);
  assert.deepEqual(violations('let cache: string[] | undefined;'), ['module-level mutable state']);
  assert.deepEqual(violations('const users = new Map<number, string>();'), ['module-level mutable state']);
  assert.deepEqual(violations('// process.exit(1) is not allowed\nconst a = 1;'), []);
  assert.deepEqual(violations("const r = spawnSync('x');"), ['blocking child process']);
});

test('the runtime library keeps no process-global state', () => {
  const found: string[] = [];
  let scanned = 0;
  for (const top of LIBRARY) {
    for (const file of sources(path.join(src, top))) {
      scanned++;
      const rel = path.relative(src, file);
      for (const v of violations(readFileSync(file, 'utf8'))) if (!ALLOWED[rel]?.[v]) found.push(`${rel}: ${v}`);
    }
  }
  assert.ok(scanned > 30, `scanned ${scanned} files`);
  assert.deepEqual(found, []);
});
