import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ContainerConfig } from '../../oci/image.js';
import { cleanPath, containerEnv, DEFAULT_PATH, mergeConfig, processOf, replaceOrAppendEnv } from './merge.js';

const ID = 'ab'.repeat(32);
const image: ContainerConfig = {
  Entrypoint: ['/bin/sh', '-c'],
  Cmd: ['echo img'],
  Env: ['PATH=/bin:/usr/bin', 'HOME=/h'],
  User: 'app',
  WorkingDir: '/tmp',
  Labels: { a: '1', b: '2' },
  ExposedPorts: { '80/tcp': {} },
  Volumes: { '/data': {} },
  StopSignal: 'SIGINT',
  Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 },
};
const merge = (request: object, img: ContainerConfig | undefined = image) => mergeConfig({ image: img, request, id: ID });

describe('merge with the image (moby daemon/commit.go merge)', () => {
  test('nothing asked: the image decides', () => {
    const c = merge({ Image: 'x' });
    assert.deepEqual([c.Entrypoint, c.Cmd], [['/bin/sh', '-c'], ['echo img']]);
    assert.deepEqual(c.Env, image.Env);
    assert.equal(c.User, 'app');
    assert.equal(c.WorkingDir, '/tmp');
    assert.equal(c.StopSignal, 'SIGINT');
    assert.equal(c.Hostname, ID.slice(0, 12), 'hostname: the short id');
    assert.equal(c.Domainname, '');
    assert.deepEqual(processOf(c), { path: '/bin/sh', args: ['-c', 'echo img'], cwd: '/tmp' });
  });
  test('a request Cmd replaces the image Cmd and keeps its Entrypoint', () => {
    const c = merge({ Cmd: ['x', 'y'] });
    assert.deepEqual(processOf(c).args, ['-c', 'x', 'y']);
  });
  test('a request Entrypoint replaces the image Entrypoint and drops the image Cmd', () => {
    const c = merge({ Entrypoint: ['/bin/echo'] });
    assert.deepEqual([c.Entrypoint, c.Cmd ?? null], [['/bin/echo'], null]);
  });
  test('--entrypoint "" clears the entrypoint; with no Cmd there is no command', () => {
    const c = merge({ Entrypoint: [''], Cmd: ['echo', 'hi'] });
    assert.deepEqual([c.Entrypoint, c.Cmd], [null, ['echo', 'hi']]);
    assert.deepEqual(processOf(c), { path: 'echo', args: ['hi'], cwd: '/tmp' });
    assert.throws(() => merge({ Entrypoint: [''] }), /^BerthError: No command specified$/);
    assert.throws(() => merge({}, {}), /No command specified/);
  });
  test('Env: the request first, then image variables it does not set', () => {
    assert.deepEqual(merge({ Env: ['PATH=/x', 'Z=1'] }).Env, ['PATH=/x', 'Z=1', 'HOME=/h']);
    assert.deepEqual(merge({ Env: ['HOME'] }).Env, ['HOME', 'PATH=/bin:/usr/bin'], 'a bare name counts as its key');
  });
  test('Labels, ExposedPorts and Volumes are unions; the request wins a label', () => {
    const c = merge({ Labels: { b: '3', c: '4' }, ExposedPorts: { '81/tcp': {} }, Volumes: { '/v': {} } });
    assert.deepEqual(c.Labels, { b: '3', c: '4', a: '1' });
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['80/tcp', '81/tcp']);
    assert.deepEqual(Object.keys(c.Volumes ?? {}).sort(), ['/data', '/v']);
    assert.deepEqual(merge({}, { Cmd: ['x'] }).Labels, {}, 'no labels: an empty map, as dockerd');
  });
  test('User, WorkingDir, Hostname and Domainname from the request; the working directory is cleaned', () => {
    const c = merge({ User: '0', WorkingDir: '/a/../b/./c/', Hostname: 'h1', Domainname: 'example.org' });
    assert.deepEqual([c.User, c.WorkingDir, c.Hostname, c.Domainname], ['0', '/b/c', 'h1', 'example.org']);
    assert.equal(processOf(merge({}, { Cmd: ['x'] })).cwd, '/', 'the default cwd');
  });
  test('Healthcheck: the request fields win, the image fills the zero ones', () => {
    const c = merge({ Healthcheck: { Interval: 1e9 } });
    assert.deepEqual(c.Healthcheck, { Interval: 1e9, Test: ['CMD', 'true'], Timeout: undefined, StartPeriod: undefined, Retries: 3 });
  });
  test('hostile label and port names stay data', () => {
    const req = JSON.parse('{"Labels":{"__proto__":"x"},"ExposedPorts":{"__proto__":{}}}');
    const c = merge(req, { Cmd: ['x'], Labels: { constructor: 'y' }, ExposedPorts: { '80/tcp': {} } });
    assert.deepEqual(Object.keys(c.Labels ?? {}), ['__proto__', 'constructor']);
    assert.equal(Object.getPrototypeOf(c.Labels), Object.prototype);
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}), ['80/tcp', '__proto__']);
  });
  test('the request object is not modified', () => {
    const req = { Env: ['A=1'], Labels: { x: 'y' } };
    merge(req);
    assert.deepEqual(req, { Env: ['A=1'], Labels: { x: 'y' } });
  });
});

describe('the process environment (CreateDaemonEnvironment)', () => {
  test('PATH, HOSTNAME, TERM for a tty, then Env replacing by key', () => {
    assert.deepEqual(containerEnv({ Hostname: 'h', Env: ['FOO=bar'] }), [`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'FOO=bar']);
    assert.deepEqual(containerEnv({ Hostname: 'h', Tty: true, Env: ['A=1', 'PATH=/x'] }), ['PATH=/x', 'HOSTNAME=h', 'TERM=xterm', 'A=1']);
  });
  test('replaceOrAppendEnv: a bare name unsets a default; overrides are not matched against each other', () => {
    assert.deepEqual(replaceOrAppendEnv(['A=1', 'B=2'], ['A', 'C=3', 'C=4', 'NOPE']), ['B=2', 'C=3', 'C=4']);
  });
  test('cleanPath', () => {
    for (const [i, o] of [
      ['/', '/'],
      ['/a/b/', '/a/b'],
      ['/../..', '/'],
      ['//a//./b/../c', '/a/c'],
    ])
      assert.equal(cleanPath(i!), o);
  });
});
