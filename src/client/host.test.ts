import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_HOST, normalizeHost, parseHost, resolveTls } from './host.js';

const env = {} as NodeJS.ProcessEnv;

describe('normalizeHost (docker/cli opts.ParseHost)', () => {
  it('defaults to berthd, overridable by BERTH_DEFAULT_HOST', () => {
    assert.equal(normalizeHost(undefined, { env }), DEFAULT_HOST);
    assert.equal(normalizeHost('  ', { env }), 'unix:///run/berth/berth.sock');
    assert.equal(normalizeHost('', { env: { BERTH_DEFAULT_HOST: 'unix:///tmp/b.sock' } }), 'unix:///tmp/b.sock');
    assert.equal(normalizeHost('', { tls: true, env }), 'tcp://localhost:2376');
  });
  it('normalises the forms the docker CLI accepts', () => {
    const cases: [string, string][] = [
      ['foo', 'tcp://foo:2375'],
      ['tcp://', 'tcp://localhost:2375'],
      ['tcp://h', 'tcp://h:2375'],
      [':2375', 'tcp://localhost:2375'],
      ['tcp://:7', 'tcp://localhost:7'],
      ['tcp://[::1]:2375', 'tcp://[::1]:2375'],
      ['tcp://h:2375/path', 'tcp://h:2375/path'],
      [' tcp://h:1 ', 'tcp://h:1'],
      ['unix:///x/y.sock', 'unix:///x/y.sock'],
      ['unix://', DEFAULT_HOST],
    ];
    for (const [input, want] of cases) assert.equal(normalizeHost(input, { env }), want, input);
  });
  it("refuses bad forms with docker's messages", () => {
    assert.throws(() => normalizeHost('http://h:1', { env }), /^BerthError: invalid bind address format: http:\/\/h:1$/);
    assert.throws(() => normalizeHost('tcp://h:x', { env }), { message: 'parse "tcp://h:x": invalid port ":x" after host' });
    assert.throws(() => normalizeHost('tcp://h:99999', { env }), /invalid bind address format/);
    assert.throws(() => normalizeHost('tcp://tcp://h', { env }), /invalid proto, expected tcp: tcp:\/\/h/);
    assert.throws(() => normalizeHost('tcp://::1:5', { env }), /invalid bind address format/);
  });
  it('refuses ssh://, npipe:// and fd:// clearly', () => {
    for (const h of ['ssh://u@h', 'npipe:////./pipe/docker_engine', 'fd://']) {
      assert.throws(
        () => normalizeHost(h, { env }),
        (e: Error) => e.message.includes(h) && e.message.includes('unix:// and tcp://'),
      );
    }
  });
  it('splits endpoints', () => {
    assert.deepEqual(parseHost('unix:///a/b', { env }), { proto: 'unix', path: '/a/b', host: 'unix:///a/b' });
    assert.deepEqual(parseHost('tcp://[::1]:9/pre/', { env }), {
      proto: 'tcp',
      hostname: '::1',
      port: 9,
      basePath: '/pre',
      host: 'tcp://[::1]:9/pre/',
    });
  });
});

describe('resolveTls (docker/cli flags)', () => {
  const none = () => false;
  const all = () => true;
  it('is off without flags or env', () => assert.equal(resolveTls({}, env, all), undefined));
  it('DOCKER_TLS_VERIFY verifies with the files in DOCKER_CERT_PATH', () => {
    assert.deepEqual(resolveTls({}, { DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/c' }, all), {
      verify: true,
      ca: '/c/ca.pem',
      cert: '/c/cert.pem',
      key: '/c/key.pem',
    });
  });
  it('--tls alone encrypts without verifying; missing default cert/key are dropped', () => {
    assert.deepEqual(resolveTls({ tls: true }, { HOME: '/h' }, none), { verify: false });
    assert.deepEqual(resolveTls({ tls: true }, { HOME: '/h' }, all), {
      verify: false,
      cert: '/h/.docker/cert.pem',
      key: '/h/.docker/key.pem',
    });
  });
  it('--tlsverify=false still turns TLS on; given files are kept even if missing', () => {
    assert.deepEqual(resolveTls({ tlsverify: false, tlscert: '/x.pem', tlskey: '/k.pem' }, { DOCKER_TLS_VERIFY: '1' }, none), {
      verify: false,
      cert: '/x.pem',
      key: '/k.pem',
    });
  });
});
