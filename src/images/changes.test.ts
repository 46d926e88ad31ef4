import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChanges } from './changes.js';

test('changes build a config as docker import -c does', () => {
  const c = applyChanges([
    'CMD ["/bin/sh"]',
    'ENV A=b',
    'ENV C="d e" F=g',
    'ENV LEGACY some value',
    'ENV A=z',
    'EXPOSE 80 53/udp',
    'LABEL k=v "x y"=1',
    'WORKDIR /srv',
    'WORKDIR app',
    'USER 1000:1000',
    'VOLUME ["/data", "/logs"]',
    'STOPSIGNAL SIGINT',
    'ENTRYPOINT exec thing',
    'HEALTHCHECK CMD ["true"]',
  ]);
  assert.deepEqual(c.Cmd, ['/bin/sh']);
  assert.deepEqual(c.Env, ['A=z', 'C=d e', 'F=g', 'LEGACY=some value']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(c.Labels, { k: 'v', 'x y': '1' });
  assert.equal(c.WorkingDir, '/srv/app');
  assert.equal(c.User, '1000:1000');
  assert.deepEqual(c.Volumes, { '/data': {}, '/logs': {} });
  assert.equal(c.StopSignal, 'SIGINT');
  assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c', 'exec thing']);
  assert.deepEqual(c.Healthcheck, { Test: ['CMD', 'true'] });
});

test('instructions docker refuses in --change are refused by name', () => {
  assert.throws(() => applyChanges(['RUN rm -rf /']), /RUN is not a valid change command/);
  assert.throws(() => applyChanges(['ENV']), /ENV requires at least one argument/);
  assert.throws(() => applyChanges(['EXPOSE 80/foo']), /invalid port '80\/foo'/);
  assert.throws(() => applyChanges(['ENV A="open']), /unterminated quote/);
});

test('the base config is not modified', () => {
  const base = { Env: ['A=1'] };
  applyChanges(['ENV B=2'], base);
  assert.deepEqual(base, { Env: ['A=1'] });
});
