/**
 * The `berth` front (native/build/berth) and berthd's CLI host (src/engine/cli-host/): the
 * command runs in a warm worker of berthd with the caller's descriptors, cwd, environment and
 * signals, or — for anyone the host does not serve, and for other daemons — in Node as before.
 *
 * Which of the two ran is made visible with PATH: the fallback execs dist/berth.cjs through
 * `#!/usr/bin/env node`, so with no node on PATH it fails with 127, while the host needs no
 * PATH for these commands.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { inPty, loadPty } from './helpers/pty.js';
import { REPO_ROOT } from './helpers/runtime.js';

const FRONT = join(REPO_ROOT, 'native', 'build', 'berth');
const unavailable = berthdUnavailable() ?? (existsSync(FRONT) ? undefined : 'native/build/berth is not built (npm run build)') ?? undefined;
const pty = loadPty();
const NO_NODE = '/nonexistent';

/** A PATH directory with stty in it and nothing else. */
function sttyOnly(work: string): string {
  const dir = join(work, 'stty-bin');
  if (!existsSync(dir)) {
    mkdirSync(dir);
    symlinkSync('/bin/stty', join(dir, 'stty'));
  }
  return dir;
}

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

describe('the berth front and berthd’s CLI host', { skip: unavailable }, () => {
  let d: Berthd;
  let env: NodeJS.ProcessEnv;
  let work: string;

  before(async () => {
    d = await Berthd.start();
    work = join(d.dir, 'work');
    mkdirSync(work);
    env = {
      PATH: process.env.PATH,
      HOME: d.dir,
      DOCKER_HOST: d.host,
      DOCKER_CONFIG: d.dockerConfig,
      BERTH_CLI_SOCKET: join(d.execRoot, 'cli.sock'),
      BERTH_NO_AUTOSTART: '1',
    };
  });
  after(async () => {
    await d?.stop();
  });

  function start(args: string[], o: { env?: NodeJS.ProcessEnv; cwd?: string; stdout?: number; input?: string; wrap?: string[] } = {}) {
    const argv = [...(o.wrap ?? []), FRONT, ...args];
    const child = spawn(argv[0]!, argv.slice(1), {
      env: { ...env, ...o.env },
      cwd: o.cwd ?? work,
      stdio: ['pipe', o.stdout ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.stdin?.on('error', () => {});
    child.stdin?.end(o.input ?? '');
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const done = once(child, 'exit').then(([code, signal]): Result => {
      clearTimeout(guard);
      return { code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr };
    });
    return { child, done };
  }
  const front = (args: string[], o: Parameters<typeof start>[1] = {}) => start(args, o).done;
  const viaHost = (args: string[], o: Parameters<typeof start>[1] = {}) => front(args, { ...o, env: { ...o.env, PATH: NO_NODE } });
  const fdCount = () => readdirSync(`/proc/${d.pid}/fd`).length;

  it('runs commands in berthd: output, exit codes, no Node on PATH needed', async () => {
    const v = await viaHost(['version', '--format', '{{.Server.Version}}']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
    const r = await viaHost(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [7, 'out\n', 'err\n']);
    // flag errors and unknown commands: docker's texts and codes, from the worker
    const bad = await viaHost(['run', '--no-such-flag', 'busybox']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^unknown flag: --no-such-flag\n/);
    // stdin as a pipe
    const cat = await viaHost(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'through stdin\n' });
    assert.deepEqual([cat.code, cat.stdout], [0, 'through stdin\n']);
  });

  it('writes through the caller’s own descriptors: a shared file offset, in order with the caller’s other writes', async () => {
    const file = join(work, 'out.txt');
    writeFileSync(file, 'before\n');
    const fd = openSync(file, 'a');
    try {
      const r = await viaHost(['run', '--rm', 'busybox', 'echo', 'from the container'], { stdout: fd });
      assert.equal(r.code, 0, r.stderr);
      const v = await viaHost(['version', '--format', 'from berth'], { stdout: fd });
      assert.equal(v.code, 0, v.stderr);
    } finally {
      closeSync(fd);
    }
    assert.equal(readFileSync(file, 'utf8'), 'before\nfrom the container\nfrom berth\n');
  });

  it('resolves relative paths against the caller’s working directory, not berthd’s', async () => {
    const dir = join(work, 'sub');
    mkdirSync(dir);
    writeFileSync(join(dir, 'vars.env'), 'GREETING=from an env file\n');
    const r = await viaHost(['run', '--rm', '--env-file', 'vars.env', 'busybox', 'sh', '-c', 'echo $GREETING'], { cwd: dir });
    assert.deepEqual([r.code, r.stdout], [0, 'from an env file\n'], r.stderr);
    const s = await viaHost(['save', '-o', 'busybox.tar', 'busybox'], { cwd: dir });
    assert.equal(s.code, 0, s.stderr);
    assert.ok(readFileSync(join(dir, 'busybox.tar')).length > 100_000);
    const missing = await viaHost(['load', '-i', 'nosuch.tar'], { cwd: dir });
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'open nosuch.tar: no such file or directory\n');
  });

  it('forwards signals: a handled one reaches the command, an unhandled one ends berth by it', async () => {
    // events handles SIGINT: it ends the stream and exits 130
    const ev = start(['events'], { env: { PATH: NO_NODE } });
    await sleep(500);
    ev.child.kill('SIGINT');
    const e = await ev.done;
    assert.equal(e.code, 130, e.stderr);
    // wait does not: berth dies by SIGTERM, as a process of its own would
    const c = await viaHost(['run', '-d', '--name', 'sig1', 'busybox', 'sleep', '30']);
    assert.equal(c.code, 0, c.stderr);
    const w = start(['wait', 'sig1'], { env: { PATH: NO_NODE } });
    await sleep(500);
    w.child.kill('SIGTERM');
    const wr = await w.done;
    assert.equal(wr.signal, 'SIGTERM', JSON.stringify(wr));
    await viaHost(['rm', '-f', 'sig1']);
  });

  it('falls back to Node for other daemons, non-root callers and callers with fewer capabilities', async () => {
    // another daemon (-H): the host answers `fallback`; without node on PATH that fails with env's 127
    const other = await viaHost(['-H', 'unix:///nonexistent.sock', 'version']);
    assert.equal(other.code, 127, other.stderr);
    const otherNode = await front(['-H', 'unix:///nonexistent.sock', 'ps']);
    assert.equal(otherNode.code, 1);
    assert.match(otherNode.stderr, /Cannot connect to the Docker daemon at unix:\/\/\/nonexistent\.sock/);
    // not root: the front does not even ask
    const nobody = await front(['version'], {
      wrap: ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
      env: { PATH: NO_NODE },
    });
    assert.equal(nobody.code, 127, nobody.stderr);
    // root without CAP_SYS_ADMIN: berthd's host would act with more than the caller has
    const fewer = ['/usr/bin/setpriv', '--bounding-set=-sys_admin', '--inh-caps=-sys_admin'];
    const capless = await front(['version'], { wrap: fewer, env: { PATH: NO_NODE } });
    assert.equal(capless.code, 127, capless.stderr);
    const capNode = await front(['version', '--format', '{{.Server.Os}}'], { wrap: fewer });
    assert.deepEqual([capNode.code, capNode.stdout], [0, 'linux\n'], capNode.stderr);
    // another time zone than berthd's: dates would come out in berthd's
    const tz = await front(['version'], { env: { PATH: NO_NODE, TZ: 'Asia/Tokyo' } });
    assert.equal(tz.code, 127, tz.stderr);
    // BERTH_NO_CLI_HOST turns the host off for a call
    const off = await front(['version'], { env: { PATH: NO_NODE, BERTH_NO_CLI_HOST: '1' } });
    assert.equal(off.code, 127);
  });

  it('the caller’s descriptors reach no shim and no container, and berthd closes them', async () => {
    const marker = join(work, `marker-${process.pid}.out`);
    const fd = openSync(marker, 'w');
    let run: { child: ChildProcess; done: Promise<Result> };
    try {
      run = start(['run', '--rm', 'busybox', 'sleep', '2'], { stdout: fd, env: { PATH: NO_NODE } });
    } finally {
      closeSync(fd);
    }
    await sleep(1000);
    const holders: string[] = [];
    for (const p of readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      let fds: string[] = [];
      try {
        fds = readdirSync(`/proc/${p}/fd`);
      } catch {
        continue;
      }
      for (const f of fds) {
        let target = '';
        try {
          target = readlinkSync(`/proc/${p}/fd/${f}`);
        } catch {}
        if (target === marker) holders.push(`${p}:${readFileSync(`/proc/${p}/comm`, 'utf8').trim()}`);
      }
    }
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    const pids = new Set(holders.map((h) => Number(h.split(':')[0])));
    assert.ok(pids.has(run.child.pid!), `the front holds its stdout: ${holders.join(' ')}`);
    for (const pid of pids) assert.ok(pid === run.child.pid || pid === d.pid, `only the front and berthd hold it: ${holders.join(' ')}`);
    // and berthd lets go of it (the spare duplicate once the worker has settled)
    const heldBy = (pid: number) =>
      readdirSync(`/proc/${pid}/fd`).filter((f) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${f}`) === marker;
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 50 && heldBy(d.pid!).length > 0; i++) await sleep(100);
    const held = heldBy(d.pid!);
    assert.deepEqual(held, [], 'berthd closed the descriptors it received');
  });

  it('a front killed mid-command: berthd ends the command’s worker and closes its descriptors', async () => {
    const marker = join(work, 'killed.out');
    const fd = openSync(marker, 'w');
    let ev: { child: ChildProcess; done: Promise<Result> };
    try {
      ev = start(['events'], { stdout: fd, env: { PATH: NO_NODE } });
    } finally {
      closeSync(fd);
    }
    await sleep(500);
    ev.child.kill('SIGKILL');
    await ev.done;
    const holds = () =>
      readdirSync(`/proc/${d.pid}/fd`).some((f) => {
        try {
          return readlinkSync(`/proc/${d.pid}/fd/${f}`) === marker;
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 50 && holds(); i++) await sleep(100);
    assert.equal(holds(), false, 'berthd let go of the killed front’s stdout');
    // and serves the next command
    const v = await viaHost(['version', '--format', 'still here']);
    assert.deepEqual([v.code, v.stdout], [0, 'still here\n'], v.stderr);
  });

  it('twenty commands in a row leave berthd with as many descriptors as before', async () => {
    await viaHost(['version']);
    await sleep(300);
    const base = fdCount();
    for (let i = 0; i < 20; i++) {
      const r = await viaHost(i % 2 ? ['ps', '-a'] : ['run', '--rm', '-i', 'busybox', 'cat'], { input: 'x' });
      assert.equal(r.code, 0, r.stderr);
    }
    for (let i = 0; i < 30 && fdCount() > base; i++) await sleep(100);
    // a worker replaced meanwhile may own a loop's few descriptors more: never one per command
    assert.ok(fdCount() <= base + 4, `berthd had ${base} descriptors, now ${fdCount()}`);
  });

  it('a request that is not one gets `fallback`, and berthd keeps serving', async () => {
    const net = await import('node:net');
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.createConnection(join(d.execRoot, 'cli.sock'));
      let got = '';
      s.on('data', (b) => (got += b));
      s.on('end', () => resolve(got));
      s.on('error', reject);
      s.write(Buffer.from([0xff, 0xff, 0xff, 0x7f, 0, 0]));
    });
    assert.equal(answer, 'fallback\n');
    const v = await viaHost(['version', '--format', 'ok']);
    assert.equal(v.stdout, 'ok\n', v.stderr);
  });

  describe('under a real terminal', { skip: typeof pty === 'string' ? pty : undefined }, () => {
    it('run -it through the host: typed input, a resize seen inside, the exit status, termios restored', async () => {
      const r = await inPty(
        pty as Exclude<typeof pty, string>,
        [FRONT, 'run', '-it', '--rm', 'busybox', 'sh'],
        [
          { expect: /# /, send: 'stty size\r' },
          { expect: /30 100\r\n[\s\S]*# /, resize: [120, 40] },
          { expect: /^/, act: () => sleep(300), send: 'stty size\r' },
          { expect: /40 120\r\n[\s\S]*# /, send: 'exit 3\r' },
        ],
        // stty for the raw terminal (and the recording shell), and no node: the host runs it
        { env: { ...env, PATH: sttyOnly(work), TERM: 'xterm' }, dir: d.dir },
      );
      assert.equal(r.steps, 4, JSON.stringify(r.out));
      assert.equal(r.status, 3, JSON.stringify(r.out));
      assert.ok(r.before.length > 0);
      assert.equal(r.after, r.before);
      // the terminal's descriptors (received, duplicated, reopened by libuv) are all closed
      const ttys = () =>
        readdirSync(`/proc/${d.pid}/fd`).filter((f) => {
          try {
            return readlinkSync(`/proc/${d.pid}/fd/${f}`).startsWith('/dev/pts/');
          } catch {
            return false;
          }
        });
      for (let i = 0; i < 50 && ttys().length > 0; i++) await sleep(100);
      assert.deepEqual(ttys(), [], 'berthd holds no terminal after the command');
    });
  });

  it('berthd SIGKILLed mid-command: the front says so, exits 1, the terminal’s settings are back', {
    skip: typeof pty === 'string' ? pty : undefined,
  }, async () => {
    const r = await inPty(
      pty as Exclude<typeof pty, string>,
      [FRONT, 'run', '-it', '--rm', 'busybox', 'sh'],
      [{ expect: /# /, act: () => d.kill9() }],
      { env: { ...env, PATH: sttyOnly(work), TERM: 'xterm' }, dir: d.dir },
    );
    assert.equal(r.steps, 1, JSON.stringify(r.out));
    assert.equal(r.status, 1, JSON.stringify(r.out));
    assert.match(r.out, /berthd ended the command without a status/);
    assert.equal(r.after, r.before, 'termios restored by the front');
    // live-restore: berthd comes back (its CLI socket with it) and the host serves again
    await d.launch();
    const v = await viaHost(['version', '--format', 'back']);
    assert.deepEqual([v.code, v.stdout], [0, 'back\n'], v.stderr);
  });

  it('berthd stopped: the front runs the command in Node (no socket to connect to)', async () => {
    // last: this stops the daemon
    await d.stop();
    const r = await front(['version', '--format', '{{.Client.Version}}'], { cwd: '/' });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^\d+\.\d+\.\d+\n/);
    assert.match(r.stderr, /Cannot connect to the Docker daemon/);
    assert.equal(existsSync(join(d.execRoot, 'cli.sock')), false, 'berthd removed its CLI socket');
  });
});
