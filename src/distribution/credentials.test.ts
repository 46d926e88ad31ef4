import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../common/errors.js';
import {
  authFromEntry,
  authFromRegistryAuthHeader,
  DOCKER_HUB_KEY,
  dockerConfigCredentials,
  dockerConfigDir,
  entryFor,
  eraseCredentials,
  helperFor,
  loginKey,
  parseDockerConfig,
  storeCredentials,
} from './credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('config.json: auths entries, docker.io aliases, helper precedence', () => {
  const cfg = parseDockerConfig(
    JSON.stringify({
      auths: {
        [DOCKER_HUB_KEY]: { auth: b64('hub:pw:with:colons') },
        'https://reg.example:5000/v2/': { auth: b64('r:p') },
        'tok.example': { auth: b64('t:x'), identitytoken: 'refresh-me' },
      },
      credsStore: 'desktop',
      credHelpers: { 'gcr.io': 'gcloud', 'index.docker.io': 'hubhelper' },
      other: 'kept by its writer',
    }),
  );
  assert.deepEqual(authFromEntry(entryFor(cfg, 'docker.io')!), { username: 'hub', password: 'pw:with:colons' });
  assert.deepEqual(authFromEntry(entryFor(cfg, 'reg.example:5000')!), { username: 'r', password: 'p' });
  assert.deepEqual(authFromEntry(entryFor(cfg, 'tok.example')!), { username: 't', identityToken: 'refresh-me' });
  assert.equal(entryFor(cfg, 'reg.example'), undefined);
  assert.equal(helperFor(cfg, 'gcr.io'), 'gcloud');
  assert.equal(helperFor(cfg, 'docker.io'), 'hubhelper');
  assert.equal(helperFor(cfg, 'elsewhere'), 'desktop');
  assert.equal(authFromEntry({}), undefined);
  assert.throws(() => authFromEntry({ auth: b64('nocolon') }, 'h'), /'auth' is not base64 of user:password/);
  assert.throws(
    () => parseDockerConfig('{', '/x/config.json'),
    (e: unknown) => e instanceof BerthError && /read '\/x\/config.json': not valid JSON/.test(e.message),
  );
  assert.throws(() => parseDockerConfig('[]'), /not a JSON object/);
  assert.equal(dockerConfigDir({ DOCKER_CONFIG: '/c' }, '/home/u'), '/c');
  assert.equal(dockerConfigDir({}, '/home/u'), '/home/u/.docker');
  // hostile keys stay keys
  const proto = parseDockerConfig('{"auths":{"__proto__":{"auth":"eDp5"}}}');
  assert.equal(Object.getPrototypeOf(proto.auths), Object.prototype);
  assert.deepEqual(authFromEntry(entryFor(proto, '__proto__')!), { username: 'x', password: 'y' });
});

test('credential helpers: the protocol, "not found" meaning none, failures in the CLI words', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cred-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const helper = (name: string, body: string) => {
    writeFileSync(join(dir, `docker-credential-${name}`), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, `docker-credential-${name}`), 0o755);
  };
  // echoes what it was asked (action and stdin) in the answer
  helper('echo', 'read -r url; printf \'{"ServerURL":"%s","Username":"%s","Secret":"s3cret"}\' "$url" "$1:$url"');
  helper('token', 'cat >/dev/null; echo \'{"ServerURL":"x","Username":"<token>","Secret":"refresh"}\'');
  helper('none', 'cat >/dev/null; echo "credentials not found in native keychain"; exit 1');
  helper('broken', 'cat >/dev/null; echo "the keyring is locked"; exit 3');
  const env = { PATH: `${dir}:/usr/bin:/bin` };
  const cfg = (o: object) => writeFileSync(join(dir, 'config.json'), JSON.stringify(o));
  const creds = dockerConfigCredentials({ configDir: dir, env });

  assert.equal(await creds.get('reg:5000'), undefined, 'no config.json: no credentials');
  cfg({ credsStore: 'echo', credHelpers: { 'tok:1': 'token', 'none:1': 'none', 'broken:1': 'broken', 'missing:1': 'missing' } });
  assert.deepEqual(await creds.get('reg:5000'), { username: 'get:reg:5000', password: 's3cret' });
  assert.deepEqual(await creds.get('docker.io'), { username: `get:${DOCKER_HUB_KEY}`, password: 's3cret' });
  assert.deepEqual(await creds.get('tok:1'), { identityToken: 'refresh' });
  assert.equal(await creds.get('none:1'), undefined);
  await assert.rejects(
    creds.get('broken:1'),
    (e: unknown) => e instanceof BerthError && e.message === 'error getting credentials - err: exit status 3, out: `the keyring is locked`',
  );
  await assert.rejects(creds.get('missing:1'), /exec: "docker-credential-missing": executable file not found in \$PATH/);

  // with neither store nor auths, the CLI's default store is used when its helper is installed
  cfg({});
  assert.equal(await creds.get('reg:5000'), undefined);
  helper('secretservice', 'cat >/dev/null; echo \'{"Username":"ss","Secret":"pw"}\'');
  assert.deepEqual(await creds.get('reg:5000'), { username: 'ss', password: 'pw' });
  cfg({ auths: {} });
  assert.equal(await creds.get('reg:5000'), undefined, 'an auths key turns the default store off');
});

test('X-Registry-Auth: base64url JSON from the CLI', () => {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  assert.deepEqual(authFromRegistryAuthHeader(enc({ username: 'alice', password: 'pw?>>', serveraddress: 'localhost:5001' })), {
    auth: { username: 'alice', password: 'pw?>>' },
    serverAddress: 'localhost:5001',
  });
  assert.deepEqual(authFromRegistryAuthHeader(enc({ identitytoken: 'r', serveraddress: 'https://index.docker.io/v1/' })), {
    auth: { identityToken: 'r' },
    serverAddress: 'https://index.docker.io/v1/',
  });
  assert.deepEqual(authFromRegistryAuthHeader(enc({})), {});
  assert.deepEqual(authFromRegistryAuthHeader(''), {});
  assert.deepEqual(authFromRegistryAuthHeader(Buffer.from('{"username":"u","password":"p"}').toString('base64')), {
    auth: { username: 'u', password: 'p' },
  });
  assert.throws(() => authFromRegistryAuthHeader('!!!'), /decode X-Registry-Auth/);
  assert.throws(() => authFromRegistryAuthHeader(enc([1])), /not a JSON object/);
});

test('login store and logout erase: config.json as the CLI writes it, or a credential helper', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-cred-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { PATH: `${dir}:/usr/bin:/bin` };
  const opts = { configDir: dir, env };
  const path = join(dir, 'config.json');
  const read = () => JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(loginKey('http://reg:5000/v2/'), 'reg:5000');
  assert.equal(loginKey('docker.io'), DOCKER_HUB_KEY);

  // no file yet: created 0600, tab-indented, base64 user:password
  assert.deepEqual(await storeCredentials(opts, 'reg:5000', { username: 'alice', password: 'pw' }), { path, changed: true });
  assert.deepEqual(await storeCredentials(opts, 'reg:5000', { username: 'alice', password: 'pw' }), { path, changed: false });
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.match(readFileSync(path, 'utf8'), /^{\n\t"auths": {\n\t\t"reg:5000": {\n\t\t\t"auth": "YWxpY2U6cHc="/);
  assert.deepEqual(await dockerConfigCredentials(opts).get('reg:5000'), { username: 'alice', password: 'pw' });
  // other keys kept; an identity token clears the password; HTML characters escaped as Go does
  writeFileSync(path, JSON.stringify({ ...read(), psFormat: 'table {{.ID}}<x>' }));
  chmodSync(path, 0o640);
  await storeCredentials(opts, 'https://tok:1/', { username: 'bob', password: 'pw', identityToken: 'refresh' });
  assert.equal(statSync(path).mode & 0o777, 0o640, 'the mode of an existing file is kept');
  assert.match(readFileSync(path, 'utf8'), /\\u003cx\\u003e/);
  const c = read();
  assert.equal(c.psFormat, 'table {{.ID}}<x>');
  assert.deepEqual(c.auths.tok, undefined);
  assert.deepEqual(c.auths['tok:1'], { auth: b64('bob:'), identitytoken: 'refresh' });
  // erase: only that key; nothing stored is fine
  await eraseCredentials(opts, 'reg:5000');
  await eraseCredentials(opts, 'reg:5000');
  assert.deepEqual(Object.keys(read().auths), ['tok:1']);
  // through a symlinked config.json: the target is rewritten, the link stays
  const real = join(dir, 'real.json');
  writeFileSync(real, '{}');
  rmSync(path);
  symlinkSync(real, path);
  await storeCredentials(opts, 'reg:5000', { username: 'a', password: 'b' });
  assert.deepEqual(JSON.parse(readFileSync(real, 'utf8')).auths['reg:5000'], { auth: b64('a:b') });

  // a credsStore: the secret goes to the helper, config.json keeps an empty entry
  const log = join(dir, 'helper.log');
  writeFileSync(join(dir, 'docker-credential-rec'), `#!/bin/sh\necho "$1 $(cat)" >> ${log}\n`);
  chmodSync(join(dir, 'docker-credential-rec'), 0o755);
  writeFileSync(real, JSON.stringify({ credsStore: 'rec' }));
  assert.deepEqual(await storeCredentials(opts, 'reg:5000', { username: 'a', password: 'b' }), { path, helper: 'rec', changed: true });
  assert.deepEqual(JSON.parse(readFileSync(real, 'utf8')), { credsStore: 'rec', auths: { 'reg:5000': {} } });
  await eraseCredentials(opts, 'reg:5000');
  assert.deepEqual(readFileSync(log, 'utf8').split('\n'), [
    'store {"ServerURL":"reg:5000","Username":"a","Secret":"b"}',
    'erase reg:5000',
    '',
  ]);
  // a failing helper: the CLI's words
  writeFileSync(join(dir, 'docker-credential-rec'), '#!/bin/sh\ncat >/dev/null; echo locked; exit 2\n');
  await assert.rejects(
    storeCredentials(opts, 'reg:5000', { username: 'a', password: 'b' }),
    /^BerthError: Error saving credentials: error storing credentials - err: exit status 2, out: `locked`$/,
  );
});
