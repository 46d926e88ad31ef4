/**
 * Engine gaps closed after issue 8, each against what Debian's dockerd 20.10 does (observed with
 * test/helpers/dockerd.ts, the texts below are its own): `docker exec -w` of a missing directory
 * fails and leaves the container alone (runc's words, exit 126; `-d` answers the error), while
 * `docker run -w` still creates it; `docker cp` from a stopped container sees its /etc/hosts,
 * /etc/hostname, /etc/resolv.conf and its volumes and binds (moby's mountVolumes), `docker
 * export` does not; a log entry torn by a shim SIGKILLed mid-write is skipped by `docker logs`
 * and cut off by the next run's shim, so that run's first entry is not glued to it and lost;
 * shims live in the engine's cgroup for them (/berth/shims), so a kill of berthd's cgroup leaves
 * the containers running.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readShimInfo } from '../src/engine/shim/client.js';
import { Berthd, berthdUnavailable, DOCKER_2010 } from './helpers/berthd.js';

const skip = berthdUnavailable();

const EXEC_FAILED = 'OCI runtime exec failed: exec failed: unable to start container process: ';
const ENOTDIR_HINT =
  ': Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type';

describe('berthd: engine gaps', { skip, timeout: 300_000 }, () => {
  let d: Berthd;
  before(async () => {
    d = await Berthd.start();
  });
  after(async () => {
    await d?.stop();
  });

  const docker = (args: string[], o: { input?: string; cli?: string } = {}) => d.docker(args, o);

  test('exec -w of a missing directory fails as with dockerd (126, runc words); run -w creates it', async () => {
    const up = await docker(['run', '-d', '--name', 'wd', 'busybox', 'sleep', '1000']);
    assert.equal(up.code, 0, up.stderr);
    const pid = (await docker(['inspect', '-f', '{{.State.Pid}}', 'wd'])).stdout.trim();

    const missing = await docker(['exec', '-w', '/missing', 'wd', 'pwd']);
    assert.equal(missing.code, 126);
    assert.equal(
      missing.stdout,
      `${EXEC_FAILED}chdir to cwd ("/missing") set in config.json failed: no such file or directory: unknown\r\n`,
    );
    assert.equal(missing.stderr, '');
    // the 20.10 CLI and a terminal: the same text and code
    const old = await docker(['exec', '-w', '/missing/deeper', 'wd', 'pwd'], { cli: DOCKER_2010 });
    assert.equal(old.code, 126);
    assert.match(old.stdout, /chdir to cwd \("\/missing\/deeper"\) set in config\.json failed: no such file or directory: unknown\r\n$/);
    const tty = await docker(['exec', '-t', '-w', '/missing', 'wd', 'pwd']);
    assert.equal(tty.code, 126, tty.stdout + tty.stderr);
    assert.equal(tty.stdout, `${EXEC_FAILED}chdir to cwd ("/missing") set in config.json failed: no such file or directory: unknown\r\n`);
    // a file: ENOTDIR, with moby's hint
    const file = await docker(['exec', '-w', '/etc/passwd', 'wd', 'pwd']);
    assert.equal(file.code, 126);
    assert.equal(
      file.stdout,
      `${EXEC_FAILED}chdir to cwd ("/etc/passwd") set in config.json failed: not a directory: unknown${ENOTDIR_HINT}\r\n`,
    );
    // relative: refused as runc validates it, before anything starts
    const rel = await docker(['exec', '-w', 'rel', 'wd', 'pwd']);
    assert.equal(rel.code, 126);
    assert.equal(rel.stdout, 'OCI runtime exec failed: exec failed: Cwd must be an absolute path: unknown\r\n');
    // detached: the API answers the start error (400), the CLI exits 1
    const det = await docker(['exec', '-d', '-w', '/missing', 'wd', 'pwd']);
    assert.equal(det.code, 1);
    assert.equal(
      det.stderr,
      `Error response from daemon: ${EXEC_FAILED}chdir to cwd ("/missing") set in config.json failed: no such file or directory: unknown\n`,
    );
    const detCmd = await docker(['exec', '-d', 'wd', '/no/such/cmd']);
    assert.equal(detCmd.code, 1);
    assert.match(detCmd.stderr, /^Error response from daemon: OCI runtime exec failed: .*no such file or directory: unknown\n$/);
    // and a detached exec that starts still answers at once, with its pid in the exec record
    const created = await d.api('POST', '/containers/wd/exec', { Cmd: ['sleep', '1'] });
    const execId = (created.body as { Id: string }).Id;
    assert.equal((await d.api('POST', `/exec/${execId}/start`, { Detach: true })).status, 200);
    const ins = (await d.api('GET', `/exec/${execId}/json`)).body as { Running: boolean; Pid: number };
    assert.equal(ins.Running, true);
    assert.ok(ins.Pid > 0);

    // nothing was created; the container runs on, untouched
    const ls = await docker(['exec', 'wd', 'ls', '/']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.doesNotMatch(ls.stdout, /^missing$/m);
    const after = await docker(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'wd']);
    assert.equal(after.stdout.trim(), `running ${pid}`);
    // an existing directory still works
    const tmp = await docker(['exec', '-w', '/tmp', 'wd', 'pwd']);
    assert.equal(tmp.stdout, '/tmp\n');
    await docker(['rm', '-f', 'wd']);

    // docker run -w creates the directory (Docker does), nested too
    const run = await docker(['run', '--rm', '-w', '/newdir/a', 'busybox', 'pwd']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '/newdir/a\n');
  });

  /** The names and contents of a tar's regular files. */
  const tarFiles = (tar: Buffer): Map<string, string> => {
    const out = new Map<string, string>();
    for (let off = 0; off + 512 <= tar.length; ) {
      const h = tar.subarray(off, off + 512);
      if (h.every((b) => b === 0)) break;
      const name = h.subarray(0, 100).toString().replace(/\0.*$/s, '');
      const size = Number.parseInt(h.subarray(124, 136).toString().replace(/\0.*$/s, '').trim() || '0', 8);
      const type = String.fromCharCode(h[156] ?? 0);
      if (type === '0' || type === '\0') out.set(name, tar.subarray(off + 512, off + 512 + size).toString());
      off += 512 + Math.ceil(size / 512) * 512;
    }
    return out;
  };

  test('one container runs any number of execs one after another (the shim reuses the slots of ended ones)', async () => {
    const up = await docker(['run', '-d', '--name', 'many-execs', 'busybox', 'sleep', '1000']);
    assert.equal(up.code, 0, up.stderr);
    // the shim holds 16 execs at once; 40 in a row, each ended before the next
    for (let i = 0; i < 40; i++) {
      const created = await d.api('POST', '/containers/many-execs/exec', { Cmd: ['sh', '-c', `exit ${i % 7}`] });
      assert.equal(created.status, 201);
      const id = (created.body as { Id: string }).Id;
      const started = await d.api('POST', `/exec/${id}/start`, { Detach: false, Tty: false });
      assert.equal(started.status, 200, `exec #${i}: ${JSON.stringify(started.body)}`);
      const inspect = await d.api('GET', `/exec/${id}/json`);
      assert.equal((inspect.body as { ExitCode: number }).ExitCode, i % 7, `exec #${i}`);
    }
    const last = await docker(['exec', 'many-execs', 'echo', 'still'], {});
    assert.equal(last.code, 0, last.stdout + last.stderr);
    assert.equal(last.stdout, 'still\n');
    await docker(['rm', '-f', 'many-execs']);
  });

  test('cp from a stopped container: its /etc/hosts, hostname, resolv.conf, volumes and binds; export without them', async () => {
    const host = join(d.dir, 'cp-bind');
    mkdirSync(host);
    writeFileSync(join(host, 'x'), 'from-the-host\n');
    const run = await docker([
      'run',
      '--name',
      'cps',
      '--hostname',
      'hh',
      '--add-host',
      'extra.example:10.1.2.3',
      '-v',
      'cpvol:/data',
      '-v',
      `${host}:/b:ro`,
      'busybox',
      'sh',
      '-c',
      'echo in-volume > /data/f; cat /etc/hostname',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hh\n');
    const files = (await d.api('GET', '/containers/cps/json')).body as { HostsPath: string; HostnamePath: string; ResolvConfPath: string };
    // the container's own files, as its processes saw them (dockerd: the same content, mode 0644)
    const cpOut = async (p: string) => {
      const r = await d.docker(['cp', `cps:${p}`, '-']);
      assert.equal(r.code, 0, `${p}: ${r.stderr}`);
      return r;
    };
    const raw = async (p: string) => {
      const out = join(d.dir, 'cp-out.tar');
      execFileSync('curl', ['-sf', '--unix-socket', d.socket, '-o', out, `http://x/v1.41/containers/cps/archive?path=${p}`]);
      return tarFiles(readFileSync(out));
    };
    for (const [p, own] of [
      ['/etc/hosts', files.HostsPath],
      ['/etc/hostname', files.HostnamePath],
      ['/etc/resolv.conf', files.ResolvConfPath],
    ] as const) {
      await cpOut(p);
      const got = await raw(p);
      const base = p.slice(p.lastIndexOf('/') + 1);
      assert.equal(got.get(base), readFileSync(own, 'utf8'), p);
    }
    assert.match((await raw('/etc/hosts')).get('hosts') ?? '', /^10\.1\.2\.3\textra\.example$/m);
    assert.equal((await raw('/etc/hostname')).get('hostname'), 'hh\n');
    const etc = await raw('/etc');
    assert.equal(etc.get('etc/hostname'), 'hh\n', 'inside a directory too');
    // the stat header of one: a regular file of the container's, 0644
    const stat = await d.docker(['cp', 'cps:/etc/hostname', join(d.dir, 'hostname-out')]);
    assert.equal(stat.code, 0, stat.stderr);
    assert.equal(readFileSync(join(d.dir, 'hostname-out'), 'utf8'), 'hh\n');
    // volumes and binds, as dockerd mounts them for the call
    assert.equal((await raw('/data/f')).get('f'), 'in-volume\n');
    assert.equal((await raw('/b/x')).get('x'), 'from-the-host\n');
    // into the volume of a stopped container: it lands in the volume; the read-only bind refuses
    const put = await docker(['cp', join(host, 'x'), 'cps:/data/put']);
    assert.equal(put.code, 0, put.stderr);
    const check = await docker(['run', '--rm', '-v', 'cpvol:/v', 'busybox', 'cat', '/v/put']);
    assert.equal(check.stdout, 'from-the-host\n');
    const ro = await docker(['cp', join(host, 'x'), 'cps:/b/y']);
    assert.notEqual(ro.code, 0);
    assert.equal(readFileSync(join(host, 'x'), 'utf8'), 'from-the-host\n');
    // export: the rootfs alone (dockerd's too), not the container's files nor its volume
    const exp = join(d.dir, 'export.tar');
    const ex = await docker(['export', '-o', exp, 'cps']);
    assert.equal(ex.code, 0, ex.stderr);
    const exported = tarFiles(readFileSync(exp));
    assert.notEqual(exported.get('etc/hostname'), 'hh\n');
    assert.equal(exported.get('data/f'), undefined);
    assert.equal(exported.get('b/x'), undefined);
    assert.deepEqual(d.mounts(), [], 'nothing left mounted');
    // never started: nothing of a run to mount (dockerd has no network files then either)
    const created = await docker(['create', '--name', 'cpc2', '--hostname', 'never', 'busybox', 'true']);
    assert.equal(created.code, 0, created.stderr);
    assert.notEqual((await d.docker(['cp', 'cpc2:/etc/hostname', '-'])).stdout.includes('never'), true);
    await docker(['rm', '-f', 'cps', 'cpc2']);
    await docker(['volume', 'rm', 'cpvol']);
    assert.deepEqual(d.mounts(), []);
  });

  test('a torn last log entry (shim killed mid-write): logs skip it, the next run does not glue onto it', async () => {
    const run = await docker(['run', '--name', 'torn', 'busybox', 'sh', '-c', 'echo line-$$']);
    assert.equal(run.code, 0, run.stderr);
    const id = (await docker(['inspect', '-f', '{{.Id}}', 'torn'])).stdout.trim();
    const log = join(d.dataRoot, 'containers', id, `${id}-json.log`);
    // what a write cut short by SIGKILL leaves: the first bytes of an entry, no '\n'
    appendFileSync(log, '{"log":"a long line that was being written when the shim was kil');
    const logs1 = await docker(['logs', 'torn']);
    assert.equal(logs1.code, 0, logs1.stderr);
    assert.equal(logs1.stdout, 'line-1\n');
    assert.equal((await docker(['logs', '--tail', '1', 'torn'])).stdout, 'line-1\n');
    // the next run's first entry starts on a line of its own
    const again = await docker(['start', '-a', 'torn']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await docker(['logs', 'torn'])).stdout, 'line-1\nline-1\n');
    assert.doesNotMatch(readFileSync(log, 'utf8'), /was kil/, 'the torn entry is cut off');
    // a long tail without '\n' is not an entry of ours: ended, so that it is skipped alone
    appendFileSync(log, 'x'.repeat(200 * 1024));
    assert.equal((await docker(['start', '-a', 'torn'])).code, 0);
    const logs3 = await docker(['logs', 'torn']);
    assert.equal(logs3.code, 0, logs3.stderr);
    assert.equal(logs3.stdout, 'line-1\nline-1\nline-1\n');
    await docker(['rm', 'torn']);
  });

  /** hierarchy (controllers, or '' for cgroup2) → path, from /proc/<pid>/cgroup. */
  const cgroupsOf = (pid: number) =>
    new Map(
      readFileSync(`/proc/${pid}/cgroup`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => {
          const [, ctl, p] = /^\d+:([^:]*):(.*)$/.exec(l) ?? [];
          return [ctl ?? '', p ?? ''] as const;
        }),
    );

  test("shims live in the engine's cgroup for them, not berthd's: killing berthd's cgroup leaves containers running", async () => {
    const unified = ['/sys/fs/cgroup/unified', '/sys/fs/cgroup'].find(
      (m) => existsSync(join(m, 'cgroup.kill')) || existsSync(join(m, 'cgroup.subtree_control')),
    );
    const killable = unified !== undefined && existsSync(join(unified, 'cgroup.procs'));
    // berthd in a cgroup of its own, as a service manager would run it
    const own = unified ? join(unified, `berthd-gaps-${process.pid}`) : undefined;
    if (own && killable) {
      mkdirSync(own);
      writeFileSync(join(own, 'cgroup.procs'), String(d.pid));
    }
    try {
      const up = await docker(['run', '-d', '--name', 'cg', 'busybox', 'sleep', '1000']);
      assert.equal(up.code, 0, up.stderr);
      const id = up.stdout.trim();
      const shim = readShimInfo(join(d.execRoot, 'containers', id));
      assert.ok(shim);
      const shimCg = cgroupsOf(shim.pid);
      const berthdCg = cgroupsOf(d.pid!);
      for (const [ctl, p] of shimCg) {
        assert.match(p, /\/berth\/shims$/, `the shim's cgroup in '${ctl}'`);
        assert.notEqual(p, berthdCg.get(ctl), `not berthd's in '${ctl}'`);
      }
      if (!own || !existsSync(join(own, 'cgroup.kill'))) return; // no cgroup.kill (kernel < 5.14): the placement is what is checked
      // systemd stopping a service kills its cgroup: berthd goes, the shim and the container stay
      const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', 'cg'])).stdout.trim());
      writeFileSync(join(own, 'cgroup.kill'), '1');
      assert.ok(await d.exited(10_000), 'berthd killed with its cgroup');
      await sleep(200);
      assert.ok(existsSync(`/proc/${shim.pid}`), 'the shim survives');
      assert.ok(existsSync(`/proc/${pid}`), 'the container survives');
      await d.launch();
      const st = await docker(['inspect', '-f', '{{.State.Status}} {{.State.Pid}}', 'cg']);
      assert.equal(st.stdout.trim(), `running ${pid}`);
      await docker(['rm', '-f', 'cg']);
    } finally {
      if (own && unified) {
        // berthd back where it was, if this test failed before the kill
        for (const p of readFileSync(join(own, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
          writeFileSync(join(unified, 'cgroup.procs'), p);
        for (let i = 0; i < 50; i++) {
          try {
            rmdirSync(own);
            break;
          } catch {
            await sleep(50);
          }
        }
      }
    }
  });
});
