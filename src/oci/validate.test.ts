import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BerthError } from '../common/errors.js';
import { defaultSpec } from './default-spec.js';
import { parseProcess, parseSpec, validateSpec } from './validate.js';

test('the default spec is valid', () => {
  validateSpec(JSON.parse(JSON.stringify(defaultSpec())));
});

test('errors name the file, the field and what was wrong', () => {
  assert.throws(() => parseSpec('{', '/b/config.json'), /^BerthError: parse '\/b\/config.json': /);
  assert.throws(() => parseSpec('{}'), /ociVersion: required field is missing/);
  const bad = (patch: (s: Record<string, any>) => void) => {
    const s = JSON.parse(JSON.stringify(defaultSpec()));
    patch(s);
    return () => validateSpec(s);
  };
  assert.throws(
    bad((s) => (s.process.args[1] = 3)),
    /process\.args\[1\]: expected string, got number/,
  );
  assert.throws(
    bad((s) => (s.process.user.uid = -1)),
    /process\.user\.uid: expected non-negative integer/,
  );
  assert.throws(
    bad((s) => (s.linux.namespaces[0].type = 'bogus')),
    /linux\.namespaces\[0\]\.type: unknown value 'bogus'/,
  );
  assert.throws(
    bad((s) => (s.mounts = {})),
    /mounts: expected array, got object/,
  );
  assert.throws(
    bad((s) => delete s.process.cwd),
    /process\.cwd: required field is missing/,
  );
});

test('a document that is not an object says what the top level must be', () => {
  const cases: [string, string][] = [
    ['[]', 'array'],
    ['[{"ociVersion": "1.0.2"}]', 'array'],
    ['"config"', 'string'],
    ['null', 'null'],
    ['42', 'number'],
  ];
  for (const [text, got] of cases) {
    assert.throws(
      () => parseSpec(text, '/b/config.json'),
      (e: unknown) =>
        e instanceof BerthError &&
        e.kind === 'invalid-argument' &&
        e.message === `config.json: the top level must be an object, got ${got}`,
      text,
    );
  }
  assert.throws(() => parseProcess('[]', 'process.json'), /^BerthError: process\.json: the top level must be an object, got array$/);
});

test('unknown fields are allowed, as the spec requires', () => {
  const s = JSON.parse(JSON.stringify(defaultSpec()));
  s.futureField = { anything: true };
  validateSpec(s);
});
