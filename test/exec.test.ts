/**
 * exec: a second process in a running container joins every namespace and the cgroup of its
 * init process, with the user, environment, cwd, capabilities and terminal the flags ask for.
 */
import assert from 'node:assert/strict';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Bundle, uniqueId } from './helpers/bundle.js';
import { mustCreate, waitFor, waitForExit, waitForStatus } from './helpers/container.js';
import { rootfsUnavailable } from './helpers/rootfs.js';
import { backgroundRuntime, consoleReceiver, createRuntime, type Runtime } from './helpers/runtime.js';
import { PROBE } from './helpers/spec.js';

const skip = process.getuid?.() !== 0 ? 'needs root' : (rootfsUnavailable() ?? createRuntime('berth').unavailable);
const NAMESPACES = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'];

describe('berth-runtime exec', { skip }, () => {
  let rt: Runtime;
  let b: Bundle;
  let id: string;
  let initPid: number;
  before(async () => {
    rt = createRuntime('berth');
    b = await Bundle.create({ probeArgs: ['sleep', '1000'] });
    await b.editConfig((s) => {
      s.linux!.namespaces!.push({ type: 'cgroup' });
      s.root!.readonly = false;
    });
    id = uniqueId('exec');
    const c = await mustCreate(rt, b, id);
    initPid = c.pid();
    assert.equal((await rt.run(['start', id])).code, 0);
    await waitForStatus(rt, id, 'running');
  });
  after(async () => {
    await b?.[Symbol.asyncDispose]();
    await rt?.[Symbol.asyncDispose]();
  });

  test('joins every namespace and the cgroup of the init process', async () => {
    const pidFile = b.path('exec.pid');
    const r = await rt
      .run(['exec', '--pid-file', pidFile, id, 'sh', '-c', 'echo pid=$$; sleep 5 & wait'], { guardMs: 60_000 })
      .then((x) => x);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pid=\d+$/m);
    assert.notEqual(r.stdout.trim(), 'pid=1', 'not the init process');
    // Compare from the host while a second exec'd process runs.
    const bgPidFile = b.path('exec-bg.pid');
    const bg = backgroundRuntime(rt, ['exec', '--pid-file', bgPidFile, id, 'sleep', '30']);
    try {
      const pid = await waitFor('the exec pid file', () => {
        try {
          return Number(readFileSync(bgPidFile, 'utf8'));
        } catch {
          return undefined;
        }
      });
      for (const ns of NAMESPACES) {
        assert.equal(
          readlinkSync(`/proc/${pid}/ns/${ns}`),
          readlinkSync(`/proc/${initPid}/ns/${ns}`),
          `${ns} namespace is the container's`,
        );
      }
      assert.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8'), readFileSync(`/proc/${initPid}/cgroup`, 'utf8'), 'same cgroups');
      assert.equal(readlinkSync(`/proc/${pid}/root`), readlinkSync(`/proc/${initPid}/root`), 'same root');
    } finally {
      bg.child.kill('SIGTERM');
      await bg.exited;
    }
  });

  test('user, additional gids, env, cwd and capabilities come from the flags', async () => {
    const r = await rt.run([
      'exec',
      '-u',
      '1000:1001',
      '-g',
      '7',
      '-e',
      'FOO=bar',
      '--cwd',
      '/tmp',
      id,
      PROBE,
      'ids',
      '+',
      'cwd',
      '+',
      'env',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /uid=1000\b/);
    assert.match(r.stdout, /gid=1001\b/);
    assert.match(r.stdout, /groups=.*\b7\b/);
    assert.match(r.stdout, /FOO=bar/);
    assert.match(r.stdout, /\/tmp/);

    const caps = await rt.run(['exec', '--cap', 'CAP_SYS_ADMIN', id, 'grep', 'CapEff', '/proc/self/status']);
    assert.equal(caps.code, 0, caps.stderr);
    const eff = BigInt(`0x${caps.stdout.trim().split(/\s+/)[1]}`);
    assert.equal((eff >> 21n) & 1n, 1n, 'CAP_SYS_ADMIN was added');
    assert.equal((eff >> 5n) & 1n, 1n, "the container's own CAP_KILL stays");
  });

  test('the exit status of the process, and errors naming what failed', async () => {
    assert.equal((await rt.run(['exec', id, 'sh', '-c', 'exit 5'])).code, 5);
    const missing = await rt.run(['exec', id, 'no-such-binary']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /exec 'no-such-binary': executable file not found in \$PATH/);
    const none = await rt.run(['exec', 'no-such-container', 'true']);
    assert.match(none.stderr, /container does not exist/);
  });

  test('--process runs a process.json as given; --detach returns at once', async () => {
    const file = b.path('process.json');
    writeFileSync(
      file,
      JSON.stringify({ args: ['sh', '-c', 'echo from-json > /tmp/marker'], cwd: '/', user: { uid: 0, gid: 0 }, env: ['PATH=/bin'] }),
    );
    const r = await rt.run(['exec', '--detach', '--process', file, '--pid-file', b.path('d.pid'), id], {
      stdoutFile: b.path('d.out'),
      stderrFile: b.path('d.err'),
    });
    assert.equal(r.code, 0, readFileSync(b.path('d.err'), 'utf8'));
    await waitForExit(Number(readFileSync(b.path('d.pid'), 'utf8')));
    assert.equal(readFileSync(join(b.rootfs, 'tmp/marker'), 'utf8'), 'from-json\n');
    writeFileSync(file, '{"args": "not-an-array"}');
    const bad = await rt.run(['exec', '--process', file, id]);
    assert.match(bad.stderr, /process\.json: (cwd: required field is missing|args: expected array)/);
  });

  test('--tty with --console-socket hands over a pty in the container', async () => {
    const sock = b.path('exec-console.sock');
    const recv = await consoleReceiver(sock);
    try {
      const r = await rt.run(['exec', '--tty', '--detach', '--console-socket', sock, id, 'sh', '-c', 'tty; echo done'], {
        stdoutFile: b.path('tty.out'),
        stderrFile: b.path('tty.err'),
      });
      assert.equal(r.code, 0, readFileSync(b.path('tty.err'), 'utf8'));
      await recv.exited;
      assert.match(recv.stdout(), /\/dev\/pts\/\d+/);
      assert.match(recv.stdout(), /done/);
    } finally {
      recv.kill();
    }
  });

  test('exec into a stopped container is refused', async () => {
    assert.equal((await rt.run(['kill', id, 'KILL'])).code, 0);
    await waitForStatus(rt, id, 'stopped');
    const r = await rt.run(['exec', id, 'true']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot exec in a stopped container/);
  });
});
