/**
 * `berth run`, `create`, `start`, `attach`, `exec` and `logs` against a private berthd: exit
 * codes (the container's, 125, 126, 127), stdout and stderr kept apart, stdin piped through,
 * `--rm` leaving nothing, docker's texts; and, under a real pty (@lydell/node-pty), `run -it`
 * with typed commands, a resize seen by `stty size` inside, ctrl-p ctrl-q then `attach`
 * again, the terminal's termios (`stty -g`) the same after each berth as before, also when
 * berth is killed by SIGTERM and when the daemon dies under it.
 *
 * berth runs as an esbuild bundle made once here (a tsx start costs ~2 s per call).
 */

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { loadPty, type PtyStep, inPty as ptyRun } from './helpers/pty.js';
import { makeImage, registryMissing, skopeoCopyIn, startRegistry, writeOciLayout } from './helpers/registry.js';
import { REPO_ROOT, type RunResult, runCommand } from './helpers/runtime.js';

const unavailable = berthdUnavailable();
const pty = loadPty();
const ID = /^[0-9a-f]{64}\n$/;

describe('berth run and the attached commands against berthd', { skip: unavailable }, () => {
  let d: Berthd;
  let bundle: string;
  let env: Record<string, string | undefined>;

  before(async () => {
    d = await Berthd.start();
    bundle = join(d.dir, 'berth.mjs');
    const esbuild = (await import('esbuild')) as typeof import('esbuild');
    await esbuild.build({
      entryPoints: [join(REPO_ROOT, 'src/bin/berth.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile: bundle,
      logLevel: 'error',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    env = { DOCKER_HOST: d.host, DOCKER_CONFIG: d.dockerConfig, BERTH_NO_AUTOSTART: '1', NODE_EXTRA_CA_CERTS: undefined };
  });
  after(async () => {
    await d?.stop();
  });

  const berth = (args: string[], o: { input?: string } = {}): Promise<RunResult> =>
    runCommand([process.execPath, bundle, ...args], { env, guardMs: 30_000, ...(o.input !== undefined ? { input: o.input } : {}) });
  const names = async (): Promise<string[]> =>
    ((await d.api('GET', '/containers/json?all=1')).body as { Names: string[] }[]).flatMap((c) => c.Names);
  const running = async (name: string): Promise<boolean> =>
    ((await d.api('GET', `/containers/${name}/json`)).body as { State: { Running: boolean } }).State.Running;

  it('run: the container exit code, stdout and stderr apart; --rm leaves nothing', async () => {
    const r = await berth(['run', '--rm', '--name', 'rm1', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    assert.ok(!(await names()).includes('/rm1'));
  });

  it('run -i: stdin piped to the container; -a stdout: stderr not attached', async () => {
    const r = await berth(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'line1\nline2\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'line1\nline2\ndone\n');
    const a = await berth(['run', '--rm', '-a', 'stdout', 'busybox', 'sh', '-c', 'echo o; echo e >&2']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, 'o\n');
    assert.equal(a.stderr, '');
  });

  it('run: 127 and 126 from the start error, 125 and docker`s message for a name conflict', async () => {
    const nf = await berth(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(nf.code, 127);
    assert.match(
      nf.stderr,
      /^berth: Error response from daemon: .*executable file not found in \$PATH\n\nRun 'berth run --help' for more information\n$/,
    );
    const dir = await berth(['run', '--rm', 'busybox', '/etc']);
    assert.equal(dir.code, 126);
    assert.match(dir.stderr, /permission denied/);

    const first = await berth(['run', '-d', '--name', 'busy', 'busybox', 'sleep', '300']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, ID);
    const id = first.stdout.trim();
    assert.equal(await running('busy'), true);
    const again = await berth(['run', '--name', 'busy', 'busybox', 'true']);
    assert.equal(again.code, 125);
    assert.equal(
      again.stderr,
      `berth: Error response from daemon: Conflict. The container name "/busy" is already in use by container "${id}". You have to remove (or rename) that container to be able to reuse that name.\n\nRun 'berth run --help' for more information\n`,
    );
  });

  it('run: a missing image is pulled (and fails clearly), --pull never does not pull, -t needs a terminal', async () => {
    const never = await berth(['run', '--rm', '--pull', 'never', 'nosuch/img']);
    assert.equal(never.code, 125);
    assert.equal(
      never.stderr,
      "berth: Error response from daemon: No such image: nosuch/img:latest\n\nRun 'berth run --help' for more information\n",
    );
    const missing = await berth(['run', '--rm', 'localhost:1/nosuch']);
    assert.equal(missing.code, 125);
    assert.match(
      missing.stderr,
      /^Unable to find image 'localhost:1\/nosuch:latest' locally\nberth: Error response from daemon: .*localhost:1.*\n\nRun 'berth run --help' for more information\n$/s,
    );
    const notty = await berth(['run', '--rm', '-it', 'busybox', 'true'], { input: '' });
    assert.equal(notty.code, 1);
    assert.equal(notty.stderr, 'the input device is not a TTY\n');
    const both = await berth(['run', '-d', '-a', 'stdout', 'busybox', 'true']);
    assert.equal(both.code, 1);
    assert.equal(both.stderr, 'conflicting options: cannot specify both --attach and --detach\n');
  });

  it('create and run pull a missing image from a registry (progress on stderr, the id alone on stdout)', {
    skip: registryMissing(),
  }, async () => {
    const reg = await startRegistry({ mode: 'anonymous' });
    try {
      const layout = join(d.dir, 'layout');
      writeOciLayout(layout, makeImage({ format: 'oci', layers: 2, seed: 'run-pull' }), 'v1');
      await skopeoCopyIn(reg, layout, 'v1', 'pulled');
      const ref = `${reg.host}/pulled:v1`;
      const c = await berth(['create', ref]);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, ID);
      assert.match(c.stderr, new RegExp(`^Unable to find image '${ref}' locally\n`));
      assert.match(c.stderr, /Pull complete/);
      assert.match(c.stderr, new RegExp(`Status: Downloaded newer image for ${ref}\n`));
      // --pull always pulls again (up to date now); -q keeps it quiet; the image has no shell: 127
      const r = await berth(['run', '--rm', '-q', '--pull', 'always', ref, '/bin/sh']);
      assert.equal(r.code, 127, r.stderr);
      assert.doesNotMatch(r.stderr, /Status:|Unable to find/);
    } finally {
      await reg.stop();
    }
  });

  it('run: a signal to berth is forwarded to the container (sig-proxy)', async () => {
    const child = runCommand(
      [
        process.execPath,
        bundle,
        'run',
        '--rm',
        'busybox',
        'sh',
        '-c',
        'trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done',
      ],
      { env, guardMs: 30_000, stdoutFile: join(d.dir, 'sig.out') },
    );
    for (let i = 0; i < 300 && !readOr(join(d.dir, 'sig.out')).includes('ready'); i++) await sleep(50);
    const pid = berthPid(bundle, 'trap');
    assert.ok(pid, 'berth is running');
    process.kill(pid, 'SIGTERM');
    const r = await child;
    assert.equal(r.code, 7, r.stderr);
    assert.equal(readOr(join(d.dir, 'sig.out')), 'ready\ngot TERM\n');
  });

  it('run: a container deaf to SIGINT; the third one ends berth as docker does', async () => {
    const child = runCommand(
      [process.execPath, bundle, 'run', '--rm', '--name', 'deaf', 'busybox', 'sh', '-c', 'trap "" INT; echo ready; sleep 30'],
      {
        env,
        guardMs: 30_000,
        stdoutFile: join(d.dir, 'deaf.out'),
      },
    );
    for (let i = 0; i < 300 && !readOr(join(d.dir, 'deaf.out')).includes('ready'); i++) await sleep(50);
    const pid = berthPid(bundle, 'deaf');
    assert.ok(pid, 'berth is running');
    for (let i = 0; i < 3; i++) {
      process.kill(pid, 'SIGINT');
      await sleep(100);
    }
    const r = await child;
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'got 3 SIGTERM/SIGINTs, forcefully exiting\n');
    assert.equal(await running('deaf'), true);
    await d.api('DELETE', '/containers/deaf?force=1');
  });

  it('create then start -a: the id, then the output and the exit code; start reports each failure', async () => {
    const c = await berth(['create', '--name', 'cr1', 'busybox', 'sh', '-c', 'echo created-out; echo created-err >&2; exit 5']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, ID);
    const s = await berth(['start', '-a', 'cr1']);
    assert.equal(s.code, 5, s.stderr);
    assert.equal(s.stdout, 'created-out\n');
    assert.equal(s.stderr, 'created-err\n');
    const plain = await berth(['start', 'cr1', 'nosuch']);
    assert.equal(plain.code, 1);
    assert.equal(plain.stdout, 'cr1\n');
    assert.equal(plain.stderr, 'Error response from daemon: No such container: nosuch\nError: failed to start containers: nosuch\n');
    const two = await berth(['start', '-a', 'cr1', 'cr1']);
    assert.equal(two.code, 1);
    assert.equal(two.stderr, 'you cannot start and attach multiple containers at once\n');
    const att = await berth(['attach', 'cr1']);
    assert.equal(att.code, 1);
    assert.equal(att.stderr, 'You cannot attach to a stopped container, start it first\n');
  });

  it('exec: exit code, stdout/stderr apart, stdin, -u -w -e --env-file, -d; errors as docker', async () => {
    const r = await berth(['exec', 'busy', 'sh', '-c', 'echo o; echo e >&2; exit 4']);
    assert.equal(r.code, 4, r.stderr);
    assert.equal(r.stdout, 'o\n');
    assert.equal(r.stderr, 'e\n');
    const i = await berth(['exec', '-i', 'busy', 'cat'], { input: 'piped\n' });
    assert.equal(i.stdout, 'piped\n');
    const envFile = join(d.dir, 'exec.env');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(envFile, '# comment\nFROMFILE=f1\n');
    const u = await berth([
      'exec',
      '-u',
      '1000',
      '-w',
      '/tmp',
      '-e',
      'A=1',
      '--env-file',
      envFile,
      'busy',
      'sh',
      '-c',
      'id -u; pwd; echo $A $FROMFILE',
    ]);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(u.stdout, '1000\n/tmp\n1 f1\n');
    const det = await berth(['exec', '-d', 'busy', 'sh', '-c', 'echo x > /tmp/detached']);
    assert.equal(det.code, 0, det.stderr);
    assert.equal(det.stdout, '');
    let seen = '';
    for (let n = 0; n < 50 && seen !== 'x\n'; n++) {
      seen = (await berth(['exec', 'busy', 'cat', '/tmp/detached'])).stdout;
      if (seen !== 'x\n') await sleep(100);
    }
    assert.equal(seen, 'x\n');
    const none = await berth(['exec', 'nosuch', 'true']);
    assert.equal(none.code, 1);
    assert.equal(none.stderr, 'Error response from daemon: No such container: nosuch\n');
    const stopped = await berth(['exec', 'cr1', 'true']);
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /^Error response from daemon: Container [0-9a-f]{64} is not running\n$/);
    const notty = await berth(['exec', '-it', 'busy', 'true'], { input: '' });
    assert.equal(notty.code, 1);
    assert.equal(notty.stderr, 'the input device is not a TTY\n');
  });

  it('logs: stdout and stderr apart, --tail, -t, --since', async () => {
    const r = await berth(['run', '--name', 'lg', 'busybox', 'sh', '-c', 'echo o1; echo e1 >&2; echo o2']);
    assert.equal(r.code, 0, r.stderr);
    const l = await berth(['logs', 'lg']);
    assert.equal(l.code, 0, l.stderr);
    assert.equal(l.stdout, 'o1\no2\n');
    assert.equal(l.stderr, 'e1\n');
    // --tail as berthd answers it, the same for berth as for the docker CLI
    const tail = await berth(['logs', '--tail', '1', 'lg']);
    const dockerTail = await d.docker(['logs', '--tail', '1', 'lg']);
    assert.deepEqual([tail.stdout, tail.stderr], [dockerTail.stdout, dockerTail.stderr]);
    assert.equal(tail.stdout.length + tail.stderr.length, 3);
    assert.match((await berth(['logs', '-t', 'lg'])).stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z o1\n\S+ o2\n$/);
    assert.equal((await berth(['logs', '--since', '1h', 'lg'])).stdout, 'o1\no2\n');
    const bad = await berth(['logs', '--since', 'xyz', 'lg']);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'invalid value for "since": failed to parse value as time or duration: "xyz"\n');
    const none = await berth(['logs', 'nosuch']);
    assert.equal(none.stderr, 'Error response from daemon: No such container: nosuch\n');
  });

  describe('under a real terminal', { skip: typeof pty === 'string' ? pty : undefined }, () => {
    const inPty = (args: string[], steps: PtyStep[]) =>
      ptyRun(pty as Exclude<typeof pty, string>, [process.execPath, bundle, ...args], steps, {
        env: { ...process.env, ...env } as NodeJS.ProcessEnv,
        dir: d.dir,
      });

    it('run -it: typed commands, a resize seen inside, exit status, termios restored', async () => {
      const r = await inPty(
        ['run', '-it', '--rm', 'busybox', 'sh'],
        [
          { expect: /# /, send: 'echo $((6*7)); stty size; echo $TERM\r' },
          { expect: /42\r\n30 100\r\nxterm\r\n[\s\S]*# /, resize: [120, 40] },
          { expect: /^/, act: () => sleep(300), send: 'stty size\r' },
          { expect: /40 120\r\n[\s\S]*# /, send: 'exit 3\r' },
        ],
      );
      assert.equal(r.steps, 4, r.out);
      assert.equal(r.status, 3, r.out);
      assert.ok(r.before.length > 0);
      assert.equal(r.after, r.before);
      // raw output: the container's \r\n reaches the terminal as is (no \r\r\n)
      assert.ok(!r.out.includes('\r\r\n'), JSON.stringify(r.out));
    });

    it('ctrl-p ctrl-q detaches (container running), attach again, detach keys of one`s own; termios restored', async () => {
      const r = await inPty(
        ['run', '-it', '--name', 'tty1', 'busybox', 'sh'],
        [
          { expect: /# /, send: 'echo first\r' },
          // a lone ctrl-p is passed on; the pair detaches
          { expect: /first\r\n[\s\S]*# /, send: '\x10\x11' },
        ],
      );
      assert.equal(r.steps, 2, r.out);
      assert.equal(r.status, 0, r.out);
      assert.equal(r.after, r.before);
      assert.equal(await running('tty1'), true);

      const a = await inPty(
        ['attach', '--detach-keys', 'ctrl-a,x', 'tty1'],
        [
          { expect: /# /, send: 'echo again$((1+1))\r' },
          { expect: /again2\r\n[\s\S]*# /, send: '\x01x' },
        ],
      );
      assert.equal(a.steps, 2, a.out);
      // docker attach says so and exits 1 (docker run says nothing, exit 0)
      assert.equal(a.status, 1, a.out);
      assert.match(a.out, /read escape sequence\r\n/);
      assert.equal(a.after, a.before);
      assert.equal(await running('tty1'), true);

      const b = await inPty(['attach', 'tty1'], [{ expect: /# /, send: 'exit 9\r' }]);
      assert.equal(b.status, 9, b.out);
      assert.equal(b.after, b.before);
    });

    it('create -it then start -ai: typed input, the exit status, termios restored', async () => {
      const c = await berth(['create', '-it', '--name', 'tty3', 'busybox', 'sh']);
      assert.equal(c.code, 0, c.stderr);
      const r = await inPty(
        ['start', '-ai', 'tty3'],
        [
          { expect: /# /, send: 'echo started$((2*2))\r' },
          { expect: /started4\r\n[\s\S]*# /, send: 'exit 4\r' },
        ],
      );
      assert.equal(r.steps, 2, r.out);
      assert.equal(r.status, 4, r.out);
      assert.equal(r.after, r.before);
    });

    it('SIGTERM to berth (no sig-proxy), a failed start and the daemon dying all give the terminal back', async () => {
      const r = await inPty(
        ['run', '-it', '--rm', '--sig-proxy=false', 'busybox', 'sh'],
        [
          {
            expect: /# /,
            act: (p) => {
              const pid = childOf(p.pid);
              assert.ok(pid, 'berth runs under the shell');
              process.kill(pid, 'SIGTERM');
            },
          },
        ],
      );
      assert.equal(r.status, 143, r.out);
      assert.equal(r.after, r.before);

      // a start that fails while attached: the terminal is given back before the error is said
      const f = await inPty(['run', '-it', '--rm', 'busybox', 'nosuchcmd'], []);
      assert.equal(f.status, 127, f.out);
      assert.match(f.out, /executable file not found[^\n]*\r\n\r\nRun 'berth run --help' for more information\r\n/);
      assert.equal(f.after, f.before);

      const k = await inPty(['run', '-it', '--name', 'tty2', 'busybox', 'sh'], [{ expect: /# /, act: () => d.kill9() }]);
      assert.notEqual(k.status, 0, k.out);
      assert.equal(k.after, k.before);
      await d.launch();
    });
  });
});

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The first child process of `pid`. */
function childOf(pid: number): number | undefined {
  const first = readOr(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)[0];
  return first ? Number(first) : undefined;
}

/** The pid of a running berth bundle whose command line contains `word`. */
function berthPid(bundle: string, word: string): number | undefined {
  const { readdirSync } = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = readOr(`/proc/${p}/cmdline`).split('\0');
    if (cmd[1] === bundle && cmd.some((a) => a.includes(word))) return Number(p);
  }
  return undefined;
}
