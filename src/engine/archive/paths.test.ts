import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GoMode, goFileMode, rfc3339Nano } from './mode.js';
import { entryName, parseRequestPath } from './paths.js';

test('request paths keep a trailing / or /. and are absolute in the container', () => {
  const cases: [string, string, string, string, string][] = [
    // requested, abs, dir, base, name
    ['/etc/passwd', '/etc/passwd', '/etc', 'passwd', 'passwd'],
    ['etc/passwd', '/etc/passwd', '/etc', 'passwd', 'passwd'],
    ['/etc/', '/etc/', '/etc', '', 'etc'],
    ['/etc/.', '/etc/.', '/etc', '.', '.'],
    ['/etc//./', '/etc/', '/etc', '', 'etc'],
    ['/', '/', '/', '', '/'],
    ['/.', '/', '/', '', '/'],
    ['../../etc', '/etc', '/', 'etc', 'etc'],
    ['/a/../../..', '/', '/', '', '/'],
    ['/a/b/..', '/a', '/', 'a', 'a'],
  ];
  for (const [req, abs, dir, base, name] of cases) {
    assert.deepEqual(parseRequestPath(req), { abs, dir, base, name }, req);
  }
});

test('entry names are rebased on the requested name, moby style', () => {
  assert.equal(entryName('passwd', '', false), 'passwd');
  assert.equal(entryName('etc', '', true), 'etc/');
  assert.equal(entryName('etc', 'ssl/certs', true), 'etc/ssl/certs/');
  assert.equal(entryName('.', '', true), './');
  assert.equal(entryName('.', 'x', false), './x');
  assert.equal(entryName('/', '', true), '/');
  assert.equal(entryName('/', 'etc/passwd', false), '/etc/passwd');
});

test('stat modes are Go os.FileMode bits', () => {
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o040755), 0x80000000 + 0o755);
  assert.equal(goFileMode(0o040755), 2147484141);
  assert.equal(goFileMode(0o120777), 2 ** 27 + 0o777);
  assert.equal(goFileMode(0o020620), GoMode.Device + GoMode.CharDevice + 0o620);
  assert.equal(goFileMode(0o060660), GoMode.Device + 0o660);
  assert.equal(goFileMode(0o010644), GoMode.NamedPipe + 0o644);
  assert.equal(goFileMode(0o140755), GoMode.Socket + 0o755);
  assert.equal(goFileMode(0o104755), GoMode.Setuid + 0o755);
  assert.equal(goFileMode(0o041777), GoMode.Dir + GoMode.Sticky + 0o777);
  assert.equal(goFileMode(0o102755), GoMode.Setgid + 0o755);
});

test('times are RFC3339Nano in UTC', () => {
  assert.equal(rfc3339Nano(1_764_405_370_000_000_000n), '2025-11-29T08:36:10Z');
  assert.equal(rfc3339Nano(1_764_405_370_500_000_000n), '2025-11-29T08:36:10.5Z');
  assert.equal(rfc3339Nano(1_764_405_370_000_000_001n), '2025-11-29T08:36:10.000000001Z');
  assert.equal(rfc3339Nano(0n), '1970-01-01T00:00:00Z');
});
