/**
 * berthd beyond the lifecycle, driven by the real docker CLI (v28): stats, top, healthchecks,
 * --init, commit, update, prune, system df, other OCI runtimes. Assertions are on the CLI's own
 * output and exit codes (and raw API answers where the CLI hides the shape).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { runCommand } from './helpers/runtime.js';

const skip = berthdUnavailable();

describe('berthd: stats, top, health, init, commit, update, prune, runtimes', { skip, timeout: 300_000 }, () => {
  let d: Berthd;
  before(async () => {
    d = await Berthd.start();
  });
  after(async () => {
    await d?.stop();
  });

  const docker = (args: string[], o: { input?: string; cli?: string } = {}) => d.docker(args, o);

  test('stats: docker stats --no-stream shows CPU %, MEM USAGE / LIMIT, PIDS; the JSON shape', async () => {
    const run = await docker(['run', '-d', '--name', 'st', '--memory', '64m', 'busybox', 'sh', '-c', 'sleep 1000 & while :; do :; done']);
    assert.equal(run.code, 0, run.stderr);
    const r = await docker(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', 'st']);
    assert.equal(r.code, 0, r.stderr);
    const [name, cpu, mem, pids] = r.stdout.trim().split('|');
    assert.equal(name, 'st');
    const cpuPct = Number.parseFloat(cpu ?? '');
    assert.ok(cpuPct > 10 && cpuPct <= 205, `a busy loop uses CPU: ${cpu}`);
    assert.match(mem ?? '', /^[\d.]+(B|KiB|MiB) \/ 64MiB$/);
    assert.equal(pids, '2', 'sh (running the loop itself) and sleep');
    // one-shot: a single sample, precpu empty; the JSON fields the CLIs read
    const one = await d.api('GET', '/containers/st/stats?stream=0&one-shot=1');
    assert.equal(one.status, 200);
    const b = one.body as Record<string, any>;
    assert.equal(b.name, '/st');
    assert.equal(b.memory_stats.limit, 64 * 1024 * 1024);
    assert.ok(b.cpu_stats.cpu_usage.total_usage > 0);
    assert.ok(b.cpu_stats.system_cpu_usage > 0);
    assert.ok(b.cpu_stats.online_cpus >= 1);
    assert.equal(b.precpu_stats.cpu_usage.total_usage, 0);
    assert.equal(b.pids_stats.current, 2);
    // streaming: a sample a second, precpu from the previous one
    const s = await d.docker(['stats', '--format', '{{.Name}} {{.PIDs}}', 'st'], { guardMs: 4000 });
    assert.match(s.stdout, /st 2/);
    await docker(['rm', '-f', 'st']);
    const gone = await docker(['stats', '--no-stream', 'st']);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /No such container: st/);
  });

  test('top: ps -ef rows of the container only; ps_args; a stopped container is an error', async () => {
    const run = await docker(['run', '-d', '--name', 'tp', 'busybox', 'sh', '-c', 'sleep 1001 & exec sleep 1002']);
    assert.equal(run.code, 0, run.stderr);
    const r = await docker(['top', 'tp']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0] ?? '', /^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/);
    assert.equal(lines.length, 3, r.stdout);
    assert.ok(lines.some((l) => / sleep 1001$/.test(l)));
    assert.ok(lines.some((l) => / sleep 1002$/.test(l)));
    const aux = await docker(['top', 'tp', 'aux']);
    assert.equal(aux.code, 0, aux.stderr);
    assert.match(aux.stdout, /^USER\s+PID\s+%CPU/);
    assert.equal(aux.stdout.trim().split('\n').length, 3);
    await docker(['kill', 'tp']);
    await docker(['wait', 'tp']);
    const stopped = await docker(['top', 'tp']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /Container [0-9a-f]{64} is not running/);
    await docker(['rm', 'tp']);
  });

  const until = async (what: string, f: () => Promise<boolean>, ms = 10_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await f()) return;
      await sleep(100);
    }
    assert.fail(`timed out waiting for ${what}`);
  };
  const health = async (c: string) => (await docker(['inspect', '-f', '{{.State.Health.Status}}', c])).stdout.trim();

  test('healthchecks: starting → healthy, (healthy) in ps, the log, events; unhealthy after retries; timeouts', async () => {
    const ok = await docker([
      'run',
      '-d',
      '--name',
      'hok',
      '--health-cmd',
      'test ! -e /bad; r=$?; echo fine; echo err >&2; exit $r',
      '--health-interval',
      '300ms',
      'busybox',
      'sleep',
      '1000',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await docker([
      'run',
      '-d',
      '--name',
      'hbad',
      '--health-cmd',
      'exit 3',
      '--health-interval',
      '200ms',
      '--health-retries',
      '2',
      'busybox',
      'sleep',
      '1000',
    ]);
    assert.equal(bad.code, 0, bad.stderr);
    const slow = await docker([
      'run',
      '-d',
      '--name',
      'hslow',
      '--health-cmd',
      'sleep 5',
      '--health-interval',
      '200ms',
      '--health-timeout',
      '300ms',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '1000',
    ]);
    assert.equal(slow.code, 0, slow.stderr);
    await until('hok healthy', async () => (await health('hok')) === 'healthy');
    const ps = await docker(['ps', '--filter', 'name=hok', '--format', '{{.Status}}']);
    assert.match(ps.stdout, /^Up .* \(healthy\)$/m);
    const log = await docker(['inspect', '-f', '{{json .State.Health}}', 'hok']);
    const h = JSON.parse(log.stdout) as { FailingStreak: number; Log: { ExitCode: number; Output: string; Start: string; End: string }[] };
    assert.equal(h.FailingStreak, 0);
    assert.equal(h.Log[0]?.ExitCode, 0);
    assert.equal(h.Log[0]?.Output, 'fine\nerr\n');
    assert.ok(Date.parse(h.Log[0]!.End) >= Date.parse(h.Log[0]!.Start));
    await until('hbad unhealthy', async () => (await health('hbad')) === 'unhealthy');
    const hb = JSON.parse((await docker(['inspect', '-f', '{{json .State.Health}}', 'hbad'])).stdout) as typeof h;
    assert.ok(hb.FailingStreak >= 2);
    assert.equal(hb.Log.at(-1)?.ExitCode, 3);
    await until('hslow unhealthy', async () => (await health('hslow')) === 'unhealthy');
    const hs = JSON.parse((await docker(['inspect', '-f', '{{json .State.Health}}', 'hslow'])).stdout) as typeof h;
    assert.equal(hs.Log[0]?.ExitCode, -1);
    assert.equal(hs.Log[0]?.Output, 'Health check exceeded timeout (300ms)');
    const ev = await docker([
      'events',
      '--since',
      '0',
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      'event=health_status',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}}',
    ]);
    assert.match(ev.stdout, /^health_status: healthy hok$/m);
    assert.match(ev.stdout, /^health_status: unhealthy hbad$/m);
    // the log keeps the last five probes
    await until(
      'five entries',
      async () => (JSON.parse((await docker(['inspect', '-f', '{{json .State.Health}}', 'hbad'])).stdout) as typeof h).Log.length === 5,
    );
    await sleep(500);
    assert.equal((JSON.parse((await docker(['inspect', '-f', '{{json .State.Health}}', 'hbad'])).stdout) as typeof h).Log.length, 5);
    // --no-healthcheck: no Health at all
    const none = await docker(['run', '-d', '--name', 'hnone', '--no-healthcheck', 'busybox', 'sleep', '1000']);
    assert.equal(none.code, 0, none.stderr);
    assert.equal((await docker(['inspect', '-f', '{{.State.Health}}', 'hnone'])).stdout.trim(), '<nil>');
    await docker(['rm', '-f', 'hok', 'hbad', 'hslow', 'hnone']);
  });

  test('healthchecks resume after a berthd restart; they stop with the container', async () => {
    // SIGKILL: the containers keep running under their shims (a SIGTERM without live-restore stops them)
    const run = await docker([
      'run',
      '-d',
      '--name',
      'hres',
      '--health-cmd',
      'test ! -e /bad',
      '--health-interval',
      '200ms',
      '--health-retries',
      '1',
      'busybox',
      'sleep',
      '1000',
    ]);
    assert.equal(run.code, 0, run.stderr);
    await until('hres healthy', async () => (await health('hres')) === 'healthy');
    await d.kill9();
    await d.launch();
    assert.equal(await health('hres'), 'healthy');
    // the probes run again: entries newer than the restart, and a status change
    const relaunched = Date.now();
    const lastStart = async () =>
      Date.parse(
        (JSON.parse((await docker(['inspect', '-f', '{{json .State.Health}}', 'hres'])).stdout) as { Log: { Start: string }[] }).Log.at(-1)!
          .Start,
      );
    await until('a probe after the restart', async () => (await lastStart()) > relaunched);
    const ex = await docker(['exec', 'hres', 'touch', '/bad']);
    assert.equal(ex.code, 0, ex.stderr);
    await until('hres unhealthy after the restart', async () => (await health('hres')) === 'unhealthy');
    await docker(['stop', '-t', '0', 'hres']);
    const before = (JSON.parse((await docker(['inspect', '-f', '{{json .State.Health}}', 'hres'])).stdout) as { Log: unknown[] }).Log
      .length;
    await sleep(800);
    const later = (JSON.parse((await docker(['inspect', '-f', '{{json .State.Health}}', 'hres'])).stdout) as { Log: unknown[] }).Log.length;
    assert.equal(later, before, 'no probe runs on a stopped container');
    await docker(['rm', '-f', 'hres']);
  });

  test('--init: docker-init (tini) is PID 1 and reaps orphaned zombies', async () => {
    const r = await docker(['run', '--rm', '--init', 'busybox', 'ps', '-o', 'pid,args']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\s*1 \/sbin\/docker-init -- ps -o pid,args$/m);
    const z = await docker(['run', '--rm', '--init', 'busybox', 'sh', '-c', '(sleep 0.2 &); sleep 1; ps -o pid,stat,args']);
    assert.equal(z.code, 0, z.stderr);
    assert.doesNotMatch(z.stdout, /\bZ\b/, `no zombie: ${z.stdout}`);
    const no = await docker(['run', '--rm', 'busybox', 'ps', '-o', 'pid,args']);
    assert.match(no.stdout, /^\s*1 ps -o pid,args$/m);
    const ro = await docker(['run', '--rm', '--init', 'busybox', 'sh', '-c', 'echo x > /sbin/docker-init']);
    assert.notEqual(ro.code, 0, 'the init binary is mounted read-only');
  });

  test('commit: the changes as a new layer, --change, author and message, pause; the image runs', async () => {
    const run = await docker([
      'run',
      '-d',
      '--name',
      'cm',
      'busybox',
      'sh',
      '-c',
      'echo hello > /new-file; rm /bin/vi; mkdir -p /d; touch /d/x; exec sleep 1000',
    ]);
    assert.equal(run.code, 0, run.stderr);
    await until('the file', async () => (await docker(['exec', 'cm', 'cat', '/new-file'])).stdout === 'hello\n');
    const c = await docker([
      'commit',
      '-a',
      'me <me@x>',
      '-m',
      'a message',
      '-c',
      'ENV FOO=bar',
      '-c',
      'CMD ["cat", "/new-file"]',
      'cm',
      'img:1',
    ]);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout.trim(), /^sha256:[0-9a-f]{64}$/);
    const r = await docker(['run', '--rm', 'img:1']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello\n');
    const r2 = await docker(['run', '--rm', 'img:1', 'sh', '-c', 'echo $FOO; test -e /bin/vi && echo vi-present; ls /d']);
    assert.equal(r2.stdout, 'bar\nx\n', 'the env, the deleted file stays deleted (a whiteout), the new dir');
    const insp = await d.api('GET', `/containers/cm/json`);
    assert.equal((insp.body as { State: { Status: string } }).State.Status, 'running', 'unpaused after the commit');
    const events = await docker([
      'events',
      '--since',
      '0',
      '--until',
      String(Math.ceil(Date.now() / 1000) + 1),
      '--filter',
      'event=commit',
      '--format',
      '{{.Action}} {{.Actor.Attributes.name}}',
    ]);
    assert.match(events.stdout, /^commit cm$/m);
    // commit of a commit: the layers stack
    await docker(['rm', '-f', 'cm']);
    const run2 = await docker(['run', '--name', 'cm2', 'img:1', 'sh', '-c', 'echo two > /second']);
    assert.equal(run2.code, 0, run2.stderr);
    const c2 = await docker(['commit', 'cm2', 'img:2']);
    assert.equal(c2.code, 0, c2.stderr);
    const r3 = await docker(['run', '--rm', 'img:2', 'cat', '/new-file', '/second']);
    assert.equal(r3.stdout, 'hello\ntwo\n');
    const bad = await docker(['commit', '-c', 'BOGUS x', 'cm2', 'img:3']);
    assert.notEqual(bad.code, 0);
    const none = await docker(['commit', 'nosuch', 'img:4']);
    assert.match(none.stderr, /No such container: nosuch/);
    await docker(['rm', '-f', 'cm2']);
  });

  test('update: memory, swap, cpus, shares, cpuset, pids, restart policy; live and in the record', async () => {
    const run = await docker(['run', '-d', '--name', 'up', '--memory', '64m', 'busybox', 'sleep', '1000']);
    assert.equal(run.code, 0, run.stderr);
    const u = await docker([
      'update',
      '--memory',
      '96m',
      '--memory-swap',
      '200m',
      '--cpus',
      '0.5',
      '--cpu-shares',
      '512',
      '--cpuset-cpus',
      '0',
      '--pids-limit',
      '50',
      '--restart',
      'on-failure:3',
      'up',
    ]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout.trim(), 'up');
    const insp = await docker([
      'inspect',
      '-f',
      '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}',
      'up',
    ]);
    assert.equal(insp.stdout.trim(), `${96 << 20} ${200 << 20} 500000000 512 0 50 on-failure:3`);
    // the cgroups changed: the limit docker stats shows, the pids limit, the CPU quota
    const st = await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'up']);
    assert.match(st.stdout, / \/ 96MiB$/m);
    const one = (await d.api('GET', '/containers/up/stats?stream=0&one-shot=1')).body as { pids_stats: { limit: number } };
    assert.equal(one.pids_stats.limit, 50);
    const fork = await docker(['exec', 'up', 'sh', '-c', 'for i in $(seq 1 60); do sleep 5 & done; wait']);
    assert.notEqual(fork.code, 0, 'the pids limit holds');
    // refused changes, with dockerd's texts
    const small = await docker(['update', '--memory', '1m', 'up']);
    assert.equal(small.code, 1);
    assert.match(small.stderr, /Minimum memory limit allowed is 6MB/);
    const over = await docker(['update', '--memory', '300m', 'up']);
    assert.match(over.stderr, /Memory limit should be smaller than already set memoryswap limit/);
    // a stopped container: the record only, used at the next start
    await docker(['rm', '-f', 'up']);
    await docker(['create', '--name', 'up2', 'busybox', 'sleep', '1000']);
    const u2 = await docker(['update', '--memory', '32m', 'up2']);
    assert.equal(u2.code, 0, u2.stderr);
    await docker(['start', 'up2']);
    const st2 = await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', 'up2']);
    assert.match(st2.stdout, / \/ 32MiB$/m);
    await docker(['rm', '-f', 'up2']);
    const rm = await docker(['run', '-d', '--rm', '--name', 'up3', 'busybox', 'sleep', '1000']);
    assert.equal(rm.code, 0);
    const pol = await docker(['update', '--restart', 'always', 'up3']);
    assert.match(pol.stderr, /Restart policy cannot be updated because AutoRemove is enabled for the container/);
    await docker(['rm', '-f', 'up3']);
  });

  test('container prune (filters label, until) and system df', async () => {
    for (const [name, label] of [
      ['p1', 'keep=no'],
      ['p2', 'keep=yes'],
      ['p3', 'other'],
    ]) {
      const r = await docker(['run', '--name', name!, '--label', label!, 'busybox', 'sh', '-c', 'head -c 100000 /dev/zero > /big']);
      assert.equal(r.code, 0, r.stderr);
    }
    const live = await docker([
      'run',
      '-d',
      '--name',
      'plive',
      '-v',
      'dfvol:/data',
      'busybox',
      'sh',
      '-c',
      'head -c 50000 /dev/zero > /data/f; exec sleep 1000',
    ]);
    assert.equal(live.code, 0);
    const df = await docker(['system', 'df']);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^Images\s+\d+\s+\d+\s+/m);
    assert.match(df.stdout, /^Containers\s+4\s+1\s+/m);
    assert.match(df.stdout, /^Local Volumes\s+1\s+1\s+/m);
    assert.match(df.stdout, /^Build Cache\s+0\s+0\s+/m);
    const dfv = await docker(['system', 'df', '-v', '--format', '{{json .}}']);
    assert.equal(dfv.code, 0, dfv.stderr);
    const sizes = (await d.api('GET', '/system/df')).body as {
      Containers: { Names: string[]; SizeRw: number }[];
      LayersSize: number;
      Volumes: { Name: string; UsageData: { Size: number; RefCount: number } }[];
    };
    assert.equal(sizes.Volumes[0]?.Name, 'dfvol');
    assert.equal(sizes.Volumes[0]?.UsageData.RefCount, 1);
    assert.ok(sizes.LayersSize > 0);
    assert.ok((sizes.Containers.find((c) => c.Names[0] === '/p1')?.SizeRw ?? 0) >= 100_000);
    const none = await docker(['container', 'prune', '-f', '--filter', 'until=1h']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /Total reclaimed space: 0B/);
    const p = await docker(['container', 'prune', '-f', '--filter', 'label=keep=no']);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /^Deleted Containers:\n[0-9a-f]{64}\n/);
    assert.match(p.stdout, /Total reclaimed space: \d+(\.\d+)?kB/);
    const left = await docker(['ps', '-a', '--format', '{{.Names}}']);
    assert.deepEqual(left.stdout.trim().split('\n').sort(), ['p2', 'p3', 'plive']);
    const all = await docker(['container', 'prune', '-f']);
    assert.equal(all.code, 0, all.stderr);
    const left2 = await docker(['ps', '-a', '--format', '{{.Names}}']);
    assert.equal(left2.stdout.trim(), 'plive', 'a running container is never pruned');
    const bad = await d.api('POST', `/containers/prune?filters=${encodeURIComponent('{"nope":{"x":true}}')}`);
    assert.equal(bad.status, 400);
    await docker(['rm', '-f', 'plive']);
    await docker(['volume', 'rm', 'dfvol']);
  });

  test('--runtime runc: runc drives the container under the shim; docker info lists it; nothing left mounted', async () => {
    const info = await docker(['info', '--format', '{{json .Runtimes}}']);
    assert.equal(info.code, 0, info.stderr);
    assert.ok('runc' in (JSON.parse(info.stdout) as Record<string, unknown>), info.stdout);
    const r = await docker(['run', '--rm', '--runtime', 'runc', 'busybox', 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    const code = await docker(['run', '--rm', '--runtime', 'runc', 'busybox', 'sh', '-c', 'echo err >&2; exit 5']);
    assert.equal(code.code, 5, code.stderr);
    assert.equal(code.stderr, 'err\n');
    const det = await docker(['run', '-d', '--name', 'rc', '--runtime', 'runc', 'busybox', 'sleep', '1000']);
    assert.equal(det.code, 0, det.stderr);
    const insp = await docker(['inspect', '-f', '{{.HostConfig.Runtime}} {{.State.Status}}', 'rc']);
    assert.equal(insp.stdout.trim(), 'runc running');
    assert.equal(d.mounts().filter((m) => m.endsWith('/rootfs')).length, 1, 'the rootfs is mounted on the host while it runs');
    const top = await docker(['top', 'rc']);
    assert.equal(top.code, 0, top.stderr);
    assert.match(top.stdout, / sleep 1000$/m);
    const st = await docker(['stats', '--no-stream', '--format', '{{.PIDs}} {{.MemUsage}}', 'rc']);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^1 [\d.]+[KMG]?i?B \/ /);
    const stop = await docker(['stop', '-t', '1', 'rc']);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await docker(['inspect', '-f', '{{.State.ExitCode}}', 'rc'])).stdout.trim(), '137');
    assert.deepEqual(
      d.mounts().filter((m) => m.endsWith('/rootfs')),
      [],
      'unmounted after the exit',
    );
    const again = await docker(['start', 'rc']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await docker(['inspect', '-f', '{{.State.Status}}', 'rc'])).stdout.trim(), 'running', 'started again');
    const rm = await docker(['rm', '-f', 'rc']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.deepEqual(
      d.mounts().filter((m) => m.endsWith('/rootfs')),
      [],
      'unmounted after rm -f',
    );
    const list = await runCommand(['runc', '--root', join(d.execRoot, 'runtimes', 'runc'), 'list', '-q']);
    assert.equal(list.stdout.trim(), '', 'runc delete ran: no runc state left');
    const unknown = await docker(['run', '--rm', '--runtime', 'nope', 'busybox', 'true']);
    assert.equal(unknown.code, 125);
    assert.match(unknown.stderr, /Unknown runtime specified nope/);
  });

  test("healthchecks from the image's config (a committed HEALTHCHECK); --no-healthcheck turns it off", async () => {
    const src = await docker([
      'create',
      '--name',
      'hsrc',
      '--health-cmd',
      'true',
      '--health-interval',
      '200ms',
      'busybox',
      'sleep',
      '1000',
    ]);
    assert.equal(src.code, 0, src.stderr);
    const c = await docker(['commit', 'hsrc', 'himg:1']);
    assert.equal(c.code, 0, c.stderr + d.log());
    await docker(['rm', 'hsrc']);
    const run = await docker(['run', '-d', '--name', 'hfromimg', 'himg:1']);
    assert.equal(run.code, 0, run.stderr);
    await until('healthy from the image', async () => (await health('hfromimg')) === 'healthy');
    const off = await docker(['run', '-d', '--name', 'hoff', '--no-healthcheck', 'himg:1']);
    assert.equal(off.code, 0, off.stderr);
    await sleep(600);
    assert.equal((await docker(['inspect', '-f', '{{.State.Health}}', 'hoff'])).stdout.trim(), '<nil>');
    await docker(['rm', '-f', 'hfromimg', 'hoff']);
  });
  test('containers and execs start with no signal ignored or blocked, though berthd ignores SIGXFSZ', async () => {
    // Node ignores SIGXFSZ (and SIGPIPE), and an ignored disposition survives execve: berthd →
    // spawner → shim → berth-nsinit (or runc) → the container. Each step resets what it was
    // given (libuv's spawn, the spawner once for all its shims, berth-nsinit the ones it
    // started with), so none may reach the container, by either runtime.
    const own = /^SigIgn:\s+([0-9a-f]+)$/m.exec(readFileSync(`/proc/${d.pid}/status`, 'utf8'))?.[1];
    assert.equal(BigInt(`0x${own}`) & 0x1000000n, 0x1000000n, `berthd is expected to ignore SIGXFSZ (SigIgn ${own})`);
    const run = await docker(['run', '--rm', '--network', 'none', 'busybox', 'grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^SigIgn:\s+0+$/m);
    assert.match(run.stdout, /^SigBlk:\s+0+$/m);
    const started = await docker(['run', '-d', '--network', 'none', 'busybox', 'sleep', '60']);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    const exec = await docker(['exec', id, 'grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']);
    assert.equal(exec.code, 0, exec.stderr);
    assert.match(exec.stdout, /^SigIgn:\s+0+$/m);
    assert.match(exec.stdout, /^SigBlk:\s+0+$/m);
    assert.equal((await docker(['rm', '-f', id])).code, 0);
    const runc = await docker([
      'run',
      '--rm',
      '--runtime',
      'runc',
      '--network',
      'none',
      'busybox',
      'grep',
      '-E',
      '^Sig(Ign|Blk)',
      '/proc/self/status',
    ]);
    assert.equal(runc.code, 0, runc.stderr);
    assert.match(runc.stdout, /^SigIgn:\s+0+$/m);
    assert.match(runc.stdout, /^SigBlk:\s+0+$/m);
  });
});
