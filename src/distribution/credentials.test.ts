import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
  helperFor,
  parseDockerConfig,
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
