/**
 * berthd driven by the real docker CLI (v28 at /usr/local/bin/docker, and Debian's 20.10 client):
 * run in the foreground, detached, with --rm, with a terminal and with stdin; ps, logs, exec,
 * stop, kill, rm, wait, inspect, pause, rename, restart policies; start failures with Docker's
 * exit codes; the errors the CLI shows. Assertions are on the clients' own output and status.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Berthd, berthdUnavailable, DOCKER_2010 } from './helpers/berthd.js';
import { busyboxTar, imageOf, putImage } from './helpers/images.js';
import { registryMissing, startRegistry } from './helpers/registry.js';
import { runCommand } from './helpers/runtime.js';

const skip = berthdUnavailable();

describe('berthd with the docker CLI', { skip, timeout: 300_000 }, () => {
  let d: Berthd;
  before(async () => {
    d = await Berthd.start();
  });
  after(async () => {
    await d?.stop();
  });

  const docker = (args: string[], o: { input?: string; cli?: string } = {}) => d.docker(args, o);

  test('version and info: API 1.41, no missing-support warnings', async () => {
    const v = await docker(['version', '--format', '{{.Server.APIVersion}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), '1.41');
    const i = await docker(['info']);
    assert.equal(i.code, 0, i.stderr);
    assert.doesNotMatch(i.stderr, /WARNING: No/);
  });

  test('run in the foreground: stdout and stderr apart, the exit code', async () => {
    const r = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const ps = await docker(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '', '--rm removed it');
  });

  test('the 20.10 client runs a container too', async () => {
    const r = await docker(['run', '--rm', 'busybox', 'echo', 'old-client'], { cli: DOCKER_2010 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'old-client\n');
  });

  test('the environment, hostname and user as dockerd gives them', async () => {
    const r = await docker([
      'run',
      '--rm',
      '--name',
      'envcheck',
      '-e',
      'A=1',
      'busybox',
      'sh',
      '-c',
      'echo $PATH; echo $A; hostname; id -u; cat /etc/hostname',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [path, a, hostname, uid, etcHostname] = r.stdout.trim().split('\n');
    assert.equal(path, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    assert.equal(a, '1');
    assert.match(hostname ?? '', /^[0-9a-f]{12}$/);
    assert.equal(uid, '0');
    assert.equal(etcHostname, hostname);
  });

  test('stdin with -i, a terminal with -it (under a real pty)', async () => {
    const r = await docker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'read x; echo got-$x; exit 7'], { input: 'hello\n' });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stdout, 'got-hello\n');
    const t = await runCommand(
      [
        'script',
        '-qfec',
        `stty cols 100 rows 30; ${'/usr/local/bin/docker'} run -it --rm busybox sh -c 'stty size; echo $TERM; exit 5'`,
        '/dev/null',
      ],
      { env: { DOCKER_HOST: d.host, DOCKER_CONFIG: d.dockerConfig } },
    );
    assert.equal(t.code, 5, t.stdout + t.stderr);
    assert.match(t.stdout, /30 100\r\n/);
    assert.match(t.stdout, /xterm\r\n/);
  });

  test('detached: ps, logs, exec, stop, rm', async () => {
    const run = await docker(['run', '-d', '--name', 'det', 'busybox', 'sh', '-c', 'echo started; exec sleep 1000']);
    assert.equal(run.code, 0, run.stderr);
    const id = run.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const ps = await docker(['ps', '--format', '{{.ID}} {{.Names}} {{.Status}} {{.Command}}']);
    // dockerd quotes an argument with spaces; the CLI truncates the command
    assert.match(ps.stdout, new RegExp(`^${id.slice(0, 12)} det Up .* "sh -c 'echo started`, 'm'));
    const ex = await docker(['exec', 'det', 'sh', '-c', 'echo in-exec; echo e >&2; exit 4']);
    assert.equal(ex.code, 4);
    assert.equal(ex.stdout, 'in-exec\n');
    assert.equal(ex.stderr, 'e\n');
    const insp = await docker(['inspect', '-f', '{{.State.Status}} {{.Name}} {{.Config.Tty}} {{.State.Running}}', 'det']);
    assert.equal(insp.stdout.trim(), 'running /det false true');
    const stop = await docker(['stop', '-t', '1', 'det']);
    assert.equal(stop.code, 0, stop.stderr);
    const after = await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'det']);
    assert.equal(after.stdout.trim(), 'exited 137', 'sleep as pid 1 ignores SIGTERM: SIGKILL after the timeout');
    const stop2 = await docker(['stop', 'det']);
    assert.equal(stop2.code, 0, 'stopping a stopped container is fine (304)');
    const rm = await docker(['rm', 'det']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(d.liveShims().length, 0, 'no shim left');
  });

  test('logs: all, --tail, -t, -f until the exit, stdout and stderr apart', async () => {
    const run = await docker([
      'run',
      '-d',
      '--name',
      'lg',
      'busybox',
      'sh',
      '-c',
      'for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const f = await docker(['logs', '-f', 'lg']);
    assert.equal(f.code, 0, f.stderr);
    assert.equal(f.stdout, 'out1\nout2\nout3\n');
    assert.equal(f.stderr, 'err1\nerr2\nerr3\n');
    const tail = await docker(['logs', '--tail', '2', '-t', 'lg']);
    const lines = (tail.stdout + tail.stderr)
      .trim()
      .split('\n')
      .sort((a, b) => a.localeCompare(b));
    assert.equal(lines.length, 2);
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (out3|err3)$/);
    const tty = await docker(['run', '-t', '--name', 'lgt', 'busybox', 'sh', '-c', 'echo a; echo b >&2']);
    assert.equal(tty.code, 0);
    const lt = await docker(['logs', 'lgt']);
    assert.equal(lt.stdout, 'a\r\nb\r\n', 'a terminal merges the streams, with its \\r\\n');
    assert.equal((await docker(['rm', 'lg', 'lgt'])).code, 0);
  });

  test('run of an image that is not here: the CLI pulls it from a registry, then runs it', { skip: registryMissing() }, async () => {
    const reg = await startRegistry({ mode: 'anonymous' });
    const dir = mkdtempSync(join(tmpdir(), 'berthd-pull-'));
    try {
      await putImage(reg, 'bb', '1', [imageOf([busyboxTar(dir)], { docker: true, config: { config: { Cmd: ['sh'] } } })]);
      const r = await docker(['run', '--rm', `${reg.host}/bb:1`, 'echo', 'pulled']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Unable to find image .* locally/);
      assert.match(r.stderr, /Pull complete|Downloaded newer image/);
      assert.equal(r.stdout, 'pulled\n');
      const again = await docker(['run', '--rm', `${reg.host}/bb:1`, 'echo', 'local']);
      assert.equal(again.stdout, 'local\n', 'the second run uses the local image');
      const used = await docker(['create', `${reg.host}/bb:1`]);
      const rmi = await docker(['rmi', `${reg.host}/bb:1`]);
      assert.equal(rmi.code, 1);
      assert.match(
        rmi.stderr,
        /conflict: unable to remove repository reference .* \(must force\) - container [0-9a-f]{12} is using its referenced image/,
      );
      await docker(['rm', used.stdout.trim()]);
      assert.equal((await docker(['rmi', `${reg.host}/bb:1`])).code, 0);
    } finally {
      await reg.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('volumes, binds, tmpfs and docker cp through berthd', async () => {
    assert.equal((await docker(['volume', 'create', 'vol1'])).code, 0);
    assert.equal((await docker(['run', '--rm', '-v', 'vol1:/data', 'busybox', 'sh', '-c', 'echo kept > /data/f'])).code, 0);
    assert.equal((await docker(['run', '--rm', '-v', 'vol1:/data:ro', 'busybox', 'cat', '/data/f'])).stdout, 'kept\n');
    const copied = await docker(['run', '--rm', '-v', 'vol2:/etc', 'busybox', 'cat', '/etc/passwd']);
    assert.match(copied.stdout, /^root:/, "a new volume is filled from the image's content at its path");
    const ro = await docker(['run', '--rm', '-v', `${d.dir}:/host:ro`, 'busybox', 'sh', '-c', 'ls /host/daemon.json && touch /host/x']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    const t = await docker(['run', '--rm', '--tmpfs', '/t', 'busybox', 'sh', '-c', 'mount | grep " /t "']);
    assert.match(t.stdout, /^tmpfs on \/t type tmpfs/);
    const inUse = await docker(['create', '--name', 'vuser', '-v', 'vol1:/data', 'busybox']);
    assert.equal(inUse.code, 0, inUse.stderr);
    const rmv = await docker(['volume', 'rm', 'vol1']);
    assert.match(rmv.stderr, /volume is in use/);
    assert.equal((await docker(['rm', 'vuser'])).code, 0);
    assert.equal((await docker(['volume', 'rm', 'vol1', 'vol2'])).code, 0);
    await docker(['run', '-d', '--name', 'cpc', 'busybox', 'sleep', '1000']);
    const cpIn = await docker(['cp', `${d.dir}/daemon.json`, 'cpc:/tmp/']);
    assert.equal(cpIn.code, 0, cpIn.stderr);
    assert.equal((await docker(['exec', 'cpc', 'cat', '/tmp/daemon.json'])).stdout, '{}');
    const esc = await docker(['cp', 'cpc:/../../../etc/passwd', `${d.dir}/out`]);
    assert.equal(esc.code, 0, 'a path above / is / inside the container');
    assert.match(
      (await runCommand(['cat', `${d.dir}/out`])).stdout,
      /^root:x:0:0:root:\/root:\/bin\/sh/,
      "the container's passwd, not the host's",
    );
    assert.equal((await docker(['stop', '-t', '0', 'cpc'])).code, 0);
    const exp = await runCommand(['sh', '-c', `${'/usr/local/bin/docker'} export cpc | tar -t | grep -c .`], {
      env: { DOCKER_HOST: d.host, DOCKER_CONFIG: d.dockerConfig },
    });
    assert.ok(Number(exp.stdout.trim()) > 100, `export of a stopped container: ${exp.stdout}`);
    assert.equal((await docker(['rm', 'cpc'])).code, 0);
    assert.deepEqual(d.mounts(), [], 'no host mount left by volumes, cp or export');
  });

  test('start -a, start -ai, attach, events; networks: none, host, and -p refused', async () => {
    await docker(['create', '--name', 'sa', 'busybox', 'sh', '-c', 'echo from-start-a; exit 2']);
    const sa = await docker(['start', '-a', 'sa']);
    assert.equal(sa.code, 2);
    assert.equal(sa.stdout, 'from-start-a\n');
    const created = await docker(['create', '-i', '--name', 'sai', 'busybox', 'sh', '-c', 'read x; echo got $x']);
    assert.equal(created.code, 0);
    const sai = await docker(['start', '-ai', 'sai'], { input: 'hello\n' });
    assert.equal(sai.stdout, 'got hello\n');
    await docker(['run', '-d', '--name', 'att', 'busybox', 'sh', '-c', 'sleep 0.5; echo late; exit 4']);
    const at = await docker(['attach', 'att']);
    assert.equal(at.code, 4);
    assert.equal(at.stdout, 'late\n');
    const ev = await docker([
      'events',
      '--since',
      '0',
      '--until',
      String(Math.ceil(Date.now() / 1000)),
      '--filter',
      'container=att',
      '--format',
      '{{.Action}}',
    ]);
    assert.deepEqual(ev.stdout.trim().split('\n'), ['create', 'start', 'die']);
    const none = await docker(['run', '--rm', '--network', 'none', 'busybox', 'ip', '-o', 'link']);
    assert.deepEqual(
      none.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(':')[1]?.trim()),
      ['lo'],
    );
    const dflt = await docker(['run', '--rm', 'busybox', 'ip', '-o', 'link']);
    assert.deepEqual(
      dflt.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(':')[1]?.trim()),
      ['lo'],
      'until networking lands: a loopback of its own',
    );
    const host = await docker(['run', '--rm', '--network', 'host', 'busybox', 'ip', '-o', 'link']);
    assert.ok(host.stdout.trim().split('\n').length > 1, "the host's interfaces");
    const p = await docker(['run', '--rm', '-p', '8080:80', 'busybox', 'true']);
    assert.equal(p.code, 125);
    assert.match(p.stderr, /publishing ports \(-p, -P\) needs container networking/);
    assert.equal((await docker(['rm', 'sa', 'sai', 'att'])).code, 0);
  });

  test('start failures: 127 for a missing command, 126 for a directory; --rm removes the container', async () => {
    const nf = await docker(['run', '--rm', 'busybox', '/no/such/cmd']);
    assert.equal(nf.code, 127, nf.stderr);
    assert.match(nf.stderr, /no such file or directory/);
    const dir = await docker(['run', '--name', 'isdir', 'busybox', '/etc']);
    assert.equal(dir.code, 126, dir.stderr);
    const insp = await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'isdir']);
    assert.equal(insp.stdout.trim(), 'created 126');
    await docker(['rm', 'isdir']);
    const ps = await docker(['ps', '-aq']);
    assert.equal(ps.stdout.trim(), '');
  });

  test("errors as the CLI shows dockerd's: name in use, rm of a running container, kill of a stopped one, no such container", async () => {
    const a = await docker(['run', '-d', '--name', 'dup', 'busybox', 'sleep', '1000']);
    assert.equal(a.code, 0, a.stderr);
    const b = await docker(['create', '--name', 'dup', 'busybox']);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /Conflict\. The container name "\/dup" is already in use by container/);
    const rm = await docker(['rm', 'dup']);
    assert.equal(rm.code, 1);
    assert.match(
      rm.stderr,
      /You cannot remove a running container [0-9a-f]{64}\. Stop the container before attempting removal or force remove/,
    );
    assert.equal((await docker(['rm', '-f', 'dup'])).code, 0);
    const c = await docker(['create', '--name', 'stopped', 'busybox', 'true']);
    assert.equal(c.code, 0);
    const k = await docker(['kill', 'stopped']);
    assert.equal(k.code, 1);
    assert.match(k.stderr, /Cannot kill container: stopped: Container [0-9a-f]{64} is not running/);
    await docker(['rm', 'stopped']);
    const n = await docker(['inspect', 'nosuch']);
    assert.equal(n.code, 1);
    assert.match(n.stderr, /No such object: nosuch/);
  });

  test('wait, kill, pause/unpause, rename', async () => {
    const r = await docker(['run', '-d', '--name', 'w1', 'busybox', 'sh', '-c', 'sleep 0.5; exit 6']);
    assert.equal(r.code, 0, r.stderr);
    const w = await docker(['wait', 'w1']);
    assert.equal(w.stdout.trim(), '6');
    await docker(['rm', 'w1']);
    await docker(['run', '-d', '--name', 'p1', 'busybox', 'sh', '-c', 'trap "exit 42" USR1; while true; do sleep 0.1; done']);
    assert.equal((await docker(['pause', 'p1'])).code, 0);
    assert.match((await docker(['ps', '--format', '{{.Status}}', '-f', 'name=p1'])).stdout, /\(Paused\)/);
    const ex = await docker(['exec', 'p1', 'true']);
    assert.match(ex.stderr, /is paused, unpause the container before exec/);
    assert.equal((await docker(['unpause', 'p1'])).code, 0);
    assert.equal((await docker(['rename', 'p1', 'p2'])).code, 0);
    assert.equal((await docker(['kill', '-s', 'USR1', 'p2'])).code, 0);
    const w2 = await docker(['wait', 'p2']);
    assert.equal(w2.stdout.trim(), '42', 'the signal reached the trap');
    await docker(['rm', 'p2']);
  });

  test('restart policy on-failure:2 restarts twice, then stays exited', async () => {
    const r = await docker(['run', '-d', '--name', 'rp', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'exit 1']);
    assert.equal(r.code, 0, r.stderr);
    let out = '';
    for (let i = 0; i < 100; i++) {
      out = (await docker(['inspect', '-f', '{{.RestartCount}} {{.State.Status}}', 'rp'])).stdout.trim();
      if (out === '2 exited') break;
      await sleep(100);
    }
    assert.equal(out, '2 exited');
    await docker(['rm', 'rp']);
  });

  test('berthd killed with SIGKILL: a running container keeps running, an exit meanwhile is picked up', async () => {
    const run = await docker(['run', '-d', '--name', 'lr', 'busybox', 'sh', '-c', 'while true; do echo tick; sleep 0.1; done']);
    assert.equal(run.code, 0, run.stderr);
    const ex = await docker(['run', '-d', '--name', 'lr-exit', 'busybox', 'sh', '-c', 'sleep 1; exit 9']);
    assert.equal(ex.code, 0, ex.stderr);
    await d.kill9();
    await sleep(1500);
    await d.launch();
    const st = await docker(['inspect', '-f', '{{.State.Status}}', 'lr']);
    assert.equal(st.stdout.trim(), 'running');
    const e = await docker(['inspect', '-f', '{{.State.Status}} {{.State.ExitCode}}', 'lr-exit']);
    assert.equal(e.stdout.trim(), 'exited 9');
    const x = await docker(['exec', 'lr', 'echo', 'alive']);
    assert.equal(x.stdout, 'alive\n');
    assert.equal((await docker(['rm', '-f', 'lr', 'lr-exit'])).code, 0);
    assert.deepEqual(d.liveShims(), []);
  });
});
