import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { configWarning, type GlobalOptions, listContexts, readConfigFile, resolveTarget, writeCurrentContext } from './contexts.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-contexts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function addContext(name: string, host: string, extra: { skipVerify?: boolean; tls?: string[] } = {}) {
  const id = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(dir, 'contexts', 'meta', id), { recursive: true });
  writeFileSync(
    join(dir, 'contexts', 'meta', id, 'meta.json'),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: extra.skipVerify ?? false } } }),
  );
  if (extra.tls) {
    mkdirSync(join(dir, 'contexts', 'tls', id, 'docker'), { recursive: true });
    for (const f of extra.tls) writeFileSync(join(dir, 'contexts', 'tls', id, 'docker', f), 'x');
  }
}

const none: GlobalOptions = { hosts: [] };
const base = { BERTH_DEFAULT_HOST: 'unix:///tmp/berth-test.sock' };

describe('resolveTarget', () => {
  addContext('remote', 'tcp://10.0.0.1:2376', { tls: ['ca.pem', 'cert.pem', 'key.pem'] });
  addContext('local', 'unix:///tmp/local.sock');

  it("berth's default socket when nothing is set", () => {
    const t = resolveTarget(none, base, join(dir, 'empty'));
    assert.deepEqual(t, {
      context: 'default',
      host: 'unix:///tmp/berth-test.sock',
      tls: undefined,
      apiVersion: undefined,
      isDefault: true,
    });
    assert.equal(resolveTarget(none, {}, join(dir, 'empty')).host, 'unix:///run/berth/berth.sock');
  });

  it('the order of the docker CLI: --context, -H, DOCKER_HOST, DOCKER_CONTEXT, config.json', () => {
    writeCurrentContext(dir, 'local');
    assert.equal(resolveTarget(none, base, dir).host, 'unix:///tmp/local.sock');
    assert.equal(resolveTarget(none, { ...base, DOCKER_CONTEXT: 'remote' }, dir).context, 'remote');
    assert.equal(resolveTarget(none, { ...base, DOCKER_CONTEXT: 'remote', DOCKER_HOST: 'unix:///x.sock' }, dir).host, 'unix:///x.sock');
    assert.equal(resolveTarget({ hosts: ['tcp://h:1'] }, { ...base, DOCKER_HOST: 'unix:///x.sock' }, dir).host, 'tcp://h:1');
    assert.equal(
      resolveTarget({ hosts: [], context: 'remote' }, { ...base, DOCKER_HOST: 'unix:///x.sock' }, dir).host,
      'tcp://10.0.0.1:2376',
    );
    writeCurrentContext(dir, 'default');
    assert.equal(resolveTarget(none, base, dir).context, 'default');
  });

  it("a context's TLS files, verified unless SkipTLSVerify", () => {
    const t = resolveTarget({ hosts: [], context: 'remote' }, base, dir);
    assert.equal(t.tls?.verify, true);
    assert.match(t.tls?.ca ?? '', /contexts\/tls\/[0-9a-f]{64}\/docker\/ca\.pem$/);
    assert.equal(t.isDefault, false);
  });

  it('DOCKER_API_VERSION, DOCKER_TLS_VERIFY with DOCKER_CERT_PATH', () => {
    const t = resolveTarget(
      none,
      { ...base, DOCKER_API_VERSION: '1.40', DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' },
      dir,
    );
    assert.equal(t.apiVersion, '1.40');
    assert.equal(t.host, 'tcp://h:2375', 'a port is added as docker adds it: 2375 even with TLS');
    assert.equal(t.tls?.verify, true);
    assert.equal(t.tls?.ca, '/certs/ca.pem');
  });

  it('errors: two -H, -H with --context, a missing context, a bad host', () => {
    assert.throws(() => resolveTarget({ hosts: ['a', 'b'] }, base, dir), /Specify only one -H/);
    assert.throws(() => resolveTarget({ hosts: ['a'], context: 'x' }, base, dir), /conflicting options/);
    assert.throws(
      () => resolveTarget({ hosts: [], context: 'nope' }, base, dir),
      /^CliError: Failed to initialize: unable to resolve docker endpoint: context "nope": context not found: open .*meta\.json: no such file or directory$/,
    );
    assert.throws(() => resolveTarget({ hosts: ['ssh://me@h'] }, base, dir), /Failed to initialize: .*ssh/);
  });
});

describe('the context store', () => {
  it('lists stored contexts and keeps config.json keys when switching', () => {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { a: {} }, psFormat: 'x' }));
    writeCurrentContext(dir, 'remote');
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(cfg, { auths: { a: {} }, psFormat: 'x', currentContext: 'remote' });
    assert.deepEqual(
      listContexts(dir).map((c) => c.Name),
      ['local', 'remote'],
    );
  });
});

describe('a config.json that cannot be parsed', () => {
  it('counts as empty with a warning, and is never overwritten', () => {
    const d = join(dir, 'bad');
    mkdirSync(d);
    writeFileSync(join(d, 'config.json'), '{bad');
    assert.deepEqual(readConfigFile(d), {});
    assert.match(configWarning(d) ?? '', /^WARNING: Error parsing config file \(.*config\.json\): /);
    assert.throws(() => writeCurrentContext(d, 'x'), /Error parsing config file/);
    assert.equal(readFileSync(join(d, 'config.json'), 'utf8'), '{bad');
    writeFileSync(join(d, 'config.json'), '[]');
    assert.match(configWarning(d) ?? '', /not a JSON object/);
    assert.equal(configWarning(dir), undefined);
  });
});
