/**
 * The `berth` binary (dist/berth.cjs): bad input, help, exit codes, contexts, completion, and
 * berthd started on demand — against a private berthd on temp roots (BERTH_DEFAULT_HOST and
 * scripts/berthd.sh's variables), never the machine's /run/berth.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './helpers/runtime.js';

const BIN = join(REPO_ROOT, 'dist', 'berth.cjs');
const BERTHD = join(REPO_ROOT, 'dist', 'berthd.cjs');
const DOCKER = '/usr/local/bin/docker';
const noBin = existsSync(BIN) ? false : `${BIN} not built (node scripts/bundle.mjs)`;

const home = mkdtempSync(join(tmpdir(), 'berth-cli-'));
after(() => rmSync(home, { recursive: true, force: true }));

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function berth(args: string[], env: Record<string, string | undefined> = {}, input?: string): Result {
  const e: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    BERTH_NO_AUTOSTART: '1',
    BERTH_DEFAULT_HOST: `unix://${home}/none.sock`,
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete e[k];
    else e[k] = v;
  }
  const r = spawnSync(process.execPath, [BIN, ...args], { env: e, encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The v28 docker CLI's answer, its program name made berth's (not in URLs). */
/** `via`: a program to run instead of `node BIN` (a link named berth, as a global install makes). */
function berthAsync(args: string[], env: Record<string, string | undefined>, via?: string): Promise<Result> {
  const e: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) e[k] = v;
  return new Promise((resolve) => {
    const child = via
      ? spawn(via, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, [BIN, ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function docker(args: string[]): Result {
  const r = spawnSync(DOCKER, args, {
    env: { PATH: process.env.PATH, HOME: home, DOCKER_HOST: 'unix:///nonexistent.sock' },
    encoding: 'utf8',
  });
  const b = (s: string) => s.replace(/\bdocker(?=[ :'])/g, 'berth');
  return { code: r.status, stdout: b(r.stdout), stderr: b(r.stderr) };
}

describe('berth: bad input and help', { skip: noBin }, () => {
  it('unknown command, as docker says it', () => {
    const r = berth(['frob']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "berth: unknown command: berth frob\n\nRun 'berth --help' for more information\n");
    assert.equal(r.stdout, '');
    if (existsSync(DOCKER)) assert.equal(docker(['frob']).stderr, r.stderr);
  });

  it('unknown sub-command and unknown flag of a group', () => {
    const r = berth(['context', 'frob']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "berth: unknown command: berth context frob\n\nUsage:  berth context\n\nRun 'berth context --help' for more information\n",
    );
    const f = berth(['context', '--foo']);
    assert.equal(f.code, 125);
    assert.equal(f.stderr, "unknown flag: --foo\n\nUsage:  berth context\n\nRun 'berth context --help' for more information\n");
  });

  it('flag errors exit 125 with the usage; arity errors exit 1', () => {
    const r = berth(['context', 'ls', '--foo']);
    assert.equal(r.code, 125);
    assert.equal(
      r.stderr,
      "unknown flag: --foo\n\nUsage:  berth context ls [OPTIONS]\n\nRun 'berth context ls --help' for more information\n",
    );
    const z = berth(['context', 'list', '-qz']);
    assert.equal(z.code, 125);
    assert.match(z.stderr, /^unknown shorthand flag: 'z' in -z\n\nUsage: {2}berth context ls \[OPTIONS\]\n/);
    const a = berth(['context', 'ls', 'x']);
    assert.equal(a.code, 1);
    assert.equal(
      a.stderr,
      "berth: 'berth context ls' accepts no arguments\n\nUsage:  berth context ls [OPTIONS]\n\nRun 'berth context ls --help' for more information\n",
    );
    const u = berth(['context', 'use']);
    assert.equal(u.code, 1);
    assert.equal(u.stderr, 'accepts 1 arg(s), received 0\n');
    if (existsSync(DOCKER)) {
      for (const argv of [['context', 'ls', '--foo'], ['context', 'ls', 'x'], ['context', 'use'], ['--foo'], ['-H']]) {
        const d = docker(argv);
        const b = berth(argv);
        assert.equal(b.stderr, d.stderr, argv.join(' '));
        assert.equal(b.code, d.code, argv.join(' '));
      }
    }
  });

  it('global flag errors', () => {
    const r = berth(['--foo']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, "unknown flag: --foo\n\nUsage:  berth [OPTIONS] COMMAND [ARG...]\n\nRun 'berth --help' for more information\n");
    const l = berth(['-l', 'loud', 'version']);
    assert.equal(l.code, 1);
    assert.equal(l.stderr, 'Unable to parse logging level: loud\n');
  });

  it('help: top level (stdout with --help, stderr without a command), group, command', () => {
    const h = berth(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: {2}berth \[OPTIONS\] COMMAND\n\nA self-sufficient runtime for containers\n/);
    assert.match(h.stdout, /\nManagement Commands:\n(.|\n)* {2}context {5}Manage contexts\n/);
    assert.match(h.stdout, /\nGlobal Options:\n {6}--config string {6}Location of client config files \(default\n/);
    assert.match(h.stdout, /\n {2}-H, --host list {10}Daemon socket to connect to\n/);
    assert.doesNotMatch(h.stdout, /completion/);
    const bare = berth([]);
    assert.equal(bare.code, 0);
    assert.equal(bare.stdout, '');
    assert.equal(bare.stderr, h.stdout);
    const g = berth(['context', '--help']);
    assert.equal(g.code, 0);
    assert.match(
      g.stdout,
      /^Usage: {2}berth context COMMAND\n\nManage contexts\n\nCommands:\n {2}create {6}Create a context\n {2}inspect {5}Display/,
    );
    assert.equal(berth(['context']).stderr, g.stdout);
    const c = berth(['context', 'ls', '-h']);
    assert.equal(c.code, 0);
    assert.match(
      c.stdout,
      /^Usage: {2}berth context ls \[OPTIONS\]\n\nList contexts\n\nAliases:\n {2}berth context ls, berth context list\n\nOptions:\n/,
    );
    if (existsSync(DOCKER)) assert.equal(c.stdout, docker(['context', 'ls', '--help']).stdout);
    assert.equal(berth(['help', 'context', 'ls']).stdout, c.stdout);
  });

  it('berth network answers that networking comes later', () => {
    const r = berth(['network', 'ls']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^berth: networking comes in a later issue/);
  });

  it('a closed stdout ends berth quietly', async () => {
    const child = spawn(process.execPath, [BIN, '--help'], {
      env: { PATH: process.env.PATH ?? '', HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    const code = await new Promise((r) => child.on('close', (c) => r(c)));
    assert.equal(code, 0);
    assert.equal(err, '');
  });

  it('--version', () => {
    const r = berth(['-v']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Berth version \d+\.\d+\.\d+(, build [0-9a-f]{7})?\n$/);
  });
});

describe('berth: contexts of one socket', { skip: noBin }, () => {
  const cfg = join(home, 'ctx-config');
  const addContext = (name: string, host: string) => {
    const dir = join(cfg, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'meta.json'),
      JSON.stringify({ Name: name, Metadata: { Description: 'a test' }, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }),
    );
  };

  it('ls, use, show, inspect read and write the docker CLI store', () => {
    addContext('other', 'unix:///tmp/other.sock');
    writeFileSync(join(cfg, 'config.json'), JSON.stringify({ auths: { 'x.io': { auth: 'eA==' } } }));
    const env = { DOCKER_CONFIG: cfg };
    const ls = berth(['context', 'ls'], env);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(
      ls.stdout,
      /^NAME {8}DESCRIPTION {31}DOCKER ENDPOINT +ERROR\ndefault \* {3}Current DOCKER_HOST based configuration {3}unix:\/\/\/.*none\.sock {3}\nother {7}a test {36}unix:\/\/\/tmp\/other\.sock +\n$/,
    );
    const use = berth(['context', 'use', 'other'], env);
    assert.equal(use.code, 0, use.stderr);
    assert.equal(use.stdout, 'other\n');
    assert.equal(use.stderr, 'Current context is now "other"\n');
    const saved = JSON.parse(readFileSync(join(cfg, 'config.json'), 'utf8'));
    assert.equal(saved.currentContext, 'other');
    assert.deepEqual(saved.auths, { 'x.io': { auth: 'eA==' } }, 'other keys are kept');
    assert.equal(berth(['context', 'show'], env).stdout, 'other\n');
    assert.equal(berth(['context', 'show'], { ...env, DOCKER_HOST: 'unix:///x.sock' }).stdout, 'default\n');
    assert.equal(berth(['-c', 'default', 'context', 'show'], env).stdout, 'default\n');
    const ins = berth(['context', 'inspect'], env);
    const j = JSON.parse(ins.stdout);
    assert.equal(j[0].Name, 'other');
    assert.equal(j[0].Endpoints.docker.Host, 'unix:///tmp/other.sock');
    if (existsSync(DOCKER)) {
      // the docker CLI sees what berth wrote
      const d = spawnSync(DOCKER, ['context', 'show'], {
        env: { PATH: process.env.PATH, HOME: home, DOCKER_CONFIG: cfg },
        encoding: 'utf8',
      });
      assert.equal(d.stdout, 'other\n');
    }
    // the context's host is the one berth connects to
    const v = berth(['version'], env);
    assert.equal(v.code, 1);
    assert.match(v.stdout, / Context: {11}other\n/);
    assert.match(v.stderr, /^Cannot connect to the Docker daemon at unix:\/\/\/tmp\/other\.sock\. Is the docker daemon running\?\n$/);
    const nope = berth(['context', 'use', 'nope'], env);
    assert.equal(nope.code, 1);
    assert.match(nope.stderr, /^context "nope": context not found: open .*\/meta\.json: no such file or directory\n$/);
    assert.equal(berth(['context', 'use', 'default'], env).code, 0);
    assert.equal(JSON.parse(readFileSync(join(cfg, 'config.json'), 'utf8')).currentContext, undefined);
  });

  it('--format: json, templates, table templates; a bad template exits 64 (compared with docker)', {
    skip: existsSync(DOCKER) ? false : `no ${DOCKER}`,
  }, () => {
    const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };
    for (const argv of [
      ['context', 'ls', '--format', 'json'],
      ['context', 'ls', '--format', '{{.Name}} {{.Current}} {{json .DockerEndpoint}}'],
      ['context', 'ls', '--format', 'table {{.Name}}\t{{.DockerEndpoint}}'],
      ['context', 'ls', '-q'],
      ['context', 'inspect', '-f', 'json'],
      ['context', 'inspect', '-f', '{{.Name}} {{.Endpoints.docker.Host}}'],
      ['version', '--format', '{{.Foo'],
      ['context', 'ls', '--format', '{{.Foo'],
    ]) {
      const b = berth(argv, { ...env, BERTH_DEFAULT_HOST: undefined });
      const d = spawnSync(DOCKER, argv, { env: { PATH: process.env.PATH, HOME: home, ...env }, encoding: 'utf8' });
      assert.equal(b.stdout, d.stdout, argv.join(' '));
      assert.equal(b.stderr.replace(/^Warning: .*\n/m, ''), d.stderr.replace(/^Warning: .*\n/m, ''), argv.join(' '));
      assert.equal(b.code, d.status, argv.join(' '));
    }
  });

  it('create and rm write and remove what docker context create/rm do', { skip: existsSync(DOCKER) ? false : `no ${DOCKER}` }, () => {
    const homes = { berth: mkdtempSync(join(tmpdir(), 'berth-ctx-b-')), docker: mkdtempSync(join(tmpdir(), 'berth-ctx-d-')) };
    const ca = '/etc/ssl/certs/ca-certificates.crt';
    const steps = [
      ['context', 'create', 'aa', '--docker', 'host=unix:///tmp/a.sock', '--description', 'hi'],
      ['context', 'create', 'aa', '--docker', 'host=unix:///tmp/b.sock'],
      ['context', 'create', 'x'],
      ['context', 'create', 'default'],
      ['context', 'create', 'bb'],
      ['context', 'create', 'cc', '--from', 'aa'],
      ['context', 'create', 'dd', '--docker', `host=tcp://1.2.3.4,ca=${ca}`],
      ['context', 'create', 'ee', '--docker', 'foo=bar'],
      ['context', 'create', 'ff', '--from', 'nope'],
      ['context', 'use', 'aa'],
      ['context', 'rm', 'aa'],
      ['context', 'rm', 'nope', 'bb'],
      ['context', 'rm', '-f', 'aa', 'nope'],
      ['context', 'show'],
      ['context', 'inspect', '-f', '{{.Name}} {{json .Endpoints}} {{json .TLSMaterial}} {{.Storage.TLSPath}}', 'cc', 'dd'],
    ];
    try {
      for (const argv of steps) {
        const b = berth(argv, { HOME: homes.berth, BERTH_DEFAULT_HOST: undefined });
        const d = spawnSync(DOCKER, argv, { env: { PATH: process.env.PATH, HOME: homes.docker }, encoding: 'utf8' });
        const same = (s: string) =>
          s.replaceAll(homes.docker, homes.berth).replace(/unix:\/\/\/var\/run\/docker\.sock/g, 'unix:///run/berth/berth.sock');
        assert.equal(b.stdout, same(d.stdout), argv.join(' '));
        assert.equal(b.stderr, same(d.stderr), argv.join(' '));
        assert.equal(b.code, d.status, argv.join(' '));
      }
    } finally {
      rmSync(homes.berth, { recursive: true, force: true });
      rmSync(homes.docker, { recursive: true, force: true });
    }
  });

  it('-H and --context conflict; two -H are refused', () => {
    const r = berth(['-H', 'unix:///a.sock', '-c', 'x', 'version']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /conflicting options: either specify --host or --context, not both/);
    assert.match(berth(['-H', 'unix:///a', '-H', 'unix:///b', 'version']).stderr, /Specify only one -H/);
  });
});

describe('berth completion', { skip: noBin }, () => {
  it('bash: sourced, it registers and completes commands and flags', { skip: existsSync('/bin/bash') ? false : 'no bash' }, () => {
    const script = berth(['completion', 'bash']).stdout;
    const file = join(home, 'berth.bash');
    writeFileSync(file, script);
    const probe = (line: string) => {
      const words = line.split(' ');
      const sh = `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const r = spawnSync('bash', ['-c', sh], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    const reg = spawnSync('bash', ['-c', `source ${file}; complete -p berth`], { encoding: 'utf8' });
    assert.equal(reg.stdout.trim(), 'complete -F _berth berth');
    assert.deepEqual(probe('berth con'), ['container', 'context']);
    assert.deepEqual(probe('berth context '), ['--help', 'create', 'inspect', 'list', 'ls', 'remove', 'rm', 'show', 'use']);
    assert.deepEqual(probe('berth -H unix:///x context l'), ['list', 'ls']);
    assert.deepEqual(probe('berth context ls --'), ['--format', '--help', '--quiet']);
    assert.deepEqual(probe('berth --t'), ['--tls', '--tlscacert', '--tlscert', '--tlskey', '--tlsverify']);
    // names come from the store or the daemon, through the same global options
    const cfg = join(home, 'ctx-config');
    const r = spawnSync(
      'bash',
      ['-c', `source ${file}; COMP_WORDS=(${BIN} --config ${cfg} context use ''); COMP_CWORD=5; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`],
      { encoding: 'utf8', env: { PATH: `${REPO_ROOT}/node_modules/.bin:${process.env.PATH}`, HOME: home } },
    );
    assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['default', 'other']);
    assert.match(berth(['completion', 'zsh']).stdout, /^#compdef berth\n/);
    assert.equal(berth(['completion', 'fish']).code, 1);
  });
});

describe('berth: berthd on demand', () => {
  const why = noBin || (process.getuid?.() !== 0 ? 'needs root' : !existsSync(BERTHD) ? `${BERTHD} not built` : false);
  it('without autostart it says how to start berthd', { skip: noBin }, () => {
    const r = berth(['version']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^Client:\n Version: {11}/);
    assert.match(r.stderr, /^Cannot connect to berthd at unix:\/\/\/.*none\.sock\. Is berthd running\?\n/);
    assert.match(r.stderr, /scripts\/berthd\.sh start/);
  });

  it('starts a private berthd when the default socket is silent, once', { skip: why }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-autostart-'));
    const env = {
      BERTH_NO_AUTOSTART: undefined,
      BERTH_DEFAULT_HOST: `unix://${dir}/berth.sock`,
      BERTH_DATA_ROOT: join(dir, 'root'),
      BERTH_EXEC_ROOT: join(dir, 'exec'),
      BERTH_CONFIG_FILE: join(dir, 'daemon.json'),
    };
    writeFileSync(env.BERTH_CONFIG_FILE, '{}');
    const pidfile = join(dir, 'exec', 'berthd.pid');
    try {
      // two calls at once: one starts berthd, the other waits for it. Both run as a global
      // install runs berth: a link named `berth` into the package, run through its #! line (the
      // starter finds dist/berthd.cjs by the link's real path).
      mkdirSync(join(dir, 'bin'));
      const link = join(dir, 'bin', 'berth');
      symlinkSync(BIN, link);
      const [r, r2] = await Promise.all([berthAsync(['version'], env, link), berthAsync(['version'], env, link)]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(`${r.stderr}${r2.stderr}`, `berth: berthd is not running; starting it (log: ${dir}/berthd.log)\n`);
      assert.equal(readFileSync(join(dir, 'berthd.log'), 'utf8').match(/berthd start \(by berth\)/g)?.length, 1);
      assert.match(r.stdout, /\n\nServer: Berth\n Engine:\n {2}Version: {10}\d/);
      assert.match(readFileSync(join(dir, 'berthd.log'), 'utf8'), /berthd start \(by berth\)/);
      const again = berth(['version'], env);
      assert.equal(again.code, 0);
      assert.equal(again.stderr, '', 'a running berthd is used, not started again');
      // completion names come from the daemon
      const vol = spawnSync(DOCKER, ['volume', 'create', 'vol-completion'], {
        env: { PATH: process.env.PATH, HOME: home, DOCKER_HOST: env.BERTH_DEFAULT_HOST },
      });
      assert.equal(vol.status, 0, String(vol.stderr));
      assert.equal(berth(['__complete', 'volumes'], env).stdout, 'vol-completion\n');
      assert.equal(berth(['__complete', 'containers'], env).stdout, '');
      if (existsSync(DOCKER)) {
        // the Server section is docker's, line for line
        const d = spawnSync(DOCKER, ['version'], {
          env: { PATH: process.env.PATH, HOME: home, DOCKER_HOST: env.BERTH_DEFAULT_HOST },
          encoding: 'utf8',
        });
        assert.equal(d.status, 0, d.stderr);
        const server = (s: string) => s.slice(s.indexOf('\nServer:'));
        assert.equal(server(again.stdout), server(d.stdout));
      }
    } finally {
      let pid = 0;
      try {
        pid = Number(readFileSync(pidfile, 'utf8').trim());
      } catch {}
      if (pid > 0) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 200 && existsSync(`/proc/${pid}`); i++) await sleep(50);
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
