/**
 * The documented runc deviations (deviations.ts) must name real checks and be
 * listed in README.md, so the list cannot silently rot.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configChecks } from './config.checks.js';
import { configLinuxChecks } from './config-linux.checks.js';
import { BERTH_DEVIATIONS, RUNC_DEVIATIONS } from './deviations.js';
import { runtimeChecks } from './runtime.checks.js';

const here = dirname(fileURLToPath(import.meta.url));

test('every runc and berth deviation names a check and is documented in README.md', () => {
  const ids = new Set([...runtimeChecks, ...configChecks, ...configLinuxChecks].map((c) => c.id));
  const readme = readFileSync(join(here, 'README.md'), 'utf8');
  for (const d of [...RUNC_DEVIATIONS, ...BERTH_DEVIATIONS]) {
    assert.ok(ids.has(d.id), `deviation ${d.id} names no check`);
    assert.ok(readme.includes(`\`${d.id}\``), `README.md does not list the deviation ${d.id}`);
  }
});

test('check ids are unique and sectioned', () => {
  const all = [...runtimeChecks, ...configChecks, ...configLinuxChecks];
  const ids = all.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, 'duplicate ids');
  for (const c of all) {
    assert.match(c.id, /^(runtime|cli|config|config-linux|runtime-linux)\/[a-z0-9-]+(-[A-Za-z]+)*[a-z0-9-]*$/i, c.id);
    assert.ok(c.quote.length > 10, `${c.id}: quote the requirement`);
  }
});
