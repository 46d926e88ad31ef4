/**
 * The suite builds its default config in TypeScript (test/helpers/spec.ts) so
 * that no test depends on one runtime's `spec` command; this checks that it
 * is exactly what `runc spec` prints.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { needsBinary, requires } from '../helpers/requires.js';
import { findBinary, runCommand } from '../helpers/runtime.js';
import { defaultSpec, defaultSpecText, testSpec } from '../helpers/spec.js';

test('defaultSpec() is what `runc spec` prints', async (t) => {
  if (!requires(t, needsBinary(process.env.BERTH_RUNC_BIN ?? 'runc'))) return;
  const runc = findBinary(process.env.BERTH_RUNC_BIN ?? 'runc') ?? 'runc';
  const dir = mkdtempSync(join(tmpdir(), 'berth-conformance-spec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = await runCommand([runc, 'spec', '--bundle', dir]);
  assert.equal(r.code, 0, `runc spec failed: ${r.stderr}`);
  const text = readFileSync(join(dir, 'config.json'), 'utf8');
  assert.deepEqual(defaultSpec(), JSON.parse(text), 'same content');
  assert.equal(defaultSpecText(), text.replace(/\n$/, ''), 'same bytes (key order, tab indentation)');
});

test('testSpec() is the default spec without a terminal, running the probe', () => {
  const s = testSpec(['hostname', '+', 'ids']);
  assert.equal(s.process?.terminal, false);
  assert.deepEqual(s.process?.args, ['/probe', 'hostname', '+', 'ids']);
  const d = defaultSpec();
  delete d.process;
  const t2 = testSpec();
  delete t2.process;
  assert.deepEqual(t2, d, 'nothing else differs');
});
