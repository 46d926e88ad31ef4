import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseCliReference, referenceErrorText } from './commands/images/reference.js';
import { encodeRegistryAuth, registryAuthHeader, serverAddressFor } from './registry-auth.js';
import { CliError } from './types.js';

const decode = (h: string) => JSON.parse(Buffer.from(h, 'base64url').toString());

test('X-Registry-Auth: e30= when anonymous, Go field order, base64url with padding', () => {
  assert.equal(encodeRegistryAuth(undefined), 'e30=');
  const h = encodeRegistryAuth({ username: 'alice', password: 'pw' }, 'localhost:5001');
  // the trace in engine-api.md §A5.9
  assert.equal(h, 'eyJ1c2VybmFtZSI6ImFsaWNlIiwicGFzc3dvcmQiOiJwdyIsInNlcnZlcmFkZHJlc3MiOiJsb2NhbGhvc3Q6NTAwMSJ9');
  assert.deepEqual(decode(encodeRegistryAuth({ username: 'u', identityToken: 't' }, 'h')), {
    username: 'u',
    serveraddress: 'h',
    identitytoken: 't',
  });
  // a password made of characters base64 would write as + and /: url-safe alphabet only
  assert.doesNotMatch(encodeRegistryAuth({ username: '>>>', password: '???' }, 'h'), /[+/]/);
  assert.equal(serverAddressFor('docker.io'), 'https://index.docker.io/v1/');
});

test('X-Registry-Auth from config.json; a broken helper or file means anonymous', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-regauth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = { configDir: dir, env: { PATH: '/usr/bin:/bin' } };
  assert.equal(await registryAuthHeader(ctx, 'reg:5000'), 'e30=');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { 'reg:5000': { auth: Buffer.from('a:b').toString('base64') } } }));
  assert.deepEqual(decode(await registryAuthHeader(ctx, 'reg:5000')), { username: 'a', password: 'b', serveraddress: 'reg:5000' });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ credsStore: 'missing-helper' }));
  assert.equal(await registryAuthHeader(ctx, 'reg:5000'), 'e30=');
  writeFileSync(join(dir, 'config.json'), '{not json');
  assert.equal(await registryAuthHeader(ctx, 'reg:5000'), 'e30=');
});

test("references: Docker's texts for bad ones", () => {
  assert.deepEqual(parseCliReference('busybox', true), { domain: 'docker.io', path: 'library/busybox', tag: 'latest' });
  assert.throws(
    () => parseCliReference('BAD'),
    (e: unknown) => e instanceof CliError && e.message === 'invalid reference format: repository name (library/BAD) must be lowercase',
  );
  assert.throws(() => parseCliReference('a:b:c'), /^CliError: invalid reference format$/);
  assert.equal(referenceErrorText('localhost:5000/Up/x', new Error('x')), 'invalid reference format');
  assert.throws(() => parseCliReference('localhost:5000/Up/x'), /repository name \(Up\/x\) must be lowercase/);
  assert.throws(() => parseCliReference('a'.repeat(64)), /cannot specify 64-byte hexadecimal strings/);
});
