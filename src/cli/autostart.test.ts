import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { howToStart, mayAutostart, startPlan } from './autostart.js';
import type { Target } from './contexts.js';

const target = (host: string, isDefault = true): Target => ({ context: 'default', host, isDefault });

describe('berthd on demand', () => {
  it("starts berthd as scripts/berthd.sh does: its variables, berthd's own defaults otherwise", () => {
    const p = startPlan(target('unix:///run/berth/berth.sock'), {});
    assert.deepEqual(p.args, []);
    assert.equal(p.log, '/var/log/berth/berthd.log');
    assert.equal(p.socket, '/run/berth/berth.sock');
    assert.equal(p.cmd[0], process.execPath);
    assert.match(p.cmd[1] ?? '', /berthd\.cjs$/);
    const q = startPlan(target('unix:///t/b.sock'), {
      BERTH_DATA_ROOT: '/t/root',
      BERTH_EXEC_ROOT: '/t/exec',
      BERTH_CONFIG_FILE: '/t/daemon.json',
      BERTHD_ARGS: '--debug  --insecure-registry r:5000',
      BERTHD_CMD: 'node /x/berthd.cjs',
    });
    assert.deepEqual(q.cmd, ['node', '/x/berthd.cjs']);
    assert.deepEqual(q.args, [
      ...['--data-root', '/t/root', '--exec-root', '/t/exec', '-H', 'unix:///t/b.sock', '--pidfile', '/t/exec/berthd.pid'],
      ...['--config-file', '/t/daemon.json', '--debug', '--insecure-registry', 'r:5000'],
    ]);
    assert.equal(q.log, '/t/berthd.log');
    assert.equal(startPlan(target('unix:///t/b.sock'), { BERTH_LOG: '/l/x.log', BERTH_PIDFILE: '/p.pid' }).log, '/l/x.log');
  });

  it('BERTH_DOCKER_SOCKET: also listens where the docker CLI looks, naming the first socket too', () => {
    const berth = 'unix:///run/berth/berth.sock';
    assert.deepEqual(startPlan(target(berth), { BERTH_DOCKER_SOCKET: '1' }).args, ['-H', berth, '-H', 'unix:///var/run/docker.sock']);
    assert.deepEqual(startPlan(target(berth), { BERTH_DOCKER_SOCKET: '/t/d.sock' }).args, ['-H', berth, '-H', 'unix:///t/d.sock']);
    assert.deepEqual(startPlan(target(berth), { BERTH_DOCKER_SOCKET: '0' }).args, []);
  });

  it('only for the default unix socket, when allowed', () => {
    const root = process.getuid?.() === 0;
    assert.equal(mayAutostart(target('unix:///run/berth/berth.sock'), {}), root);
    assert.equal(mayAutostart(target('unix:///run/berth/berth.sock'), { BERTH_NO_AUTOSTART: '1' }), false);
    assert.equal(mayAutostart(target('unix:///elsewhere.sock', false), {}), false);
    assert.equal(mayAutostart(target('tcp://127.0.0.1:2375', true), {}), false);
  });

  it('says how to start it', () => {
    const t = howToStart(target('unix:///run/berth/berth.sock'), { BERTH_NO_AUTOSTART: '1' });
    assert.match(t, /^Cannot connect to berthd at unix:\/\/\/run\/berth\/berth\.sock\. Is berthd running\?\n/);
    assert.match(t, /scripts\/berthd\.sh start/);
  });
});
