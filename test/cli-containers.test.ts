/**
 * The container commands of `berth` (dist/berth.cjs) against a private berthd, each compared
 * where it is cheap with the v28 docker CLI against the same berthd: both must print the same
 * bytes (docker's name made berth's) and exit alike. Verbs that change state run on twin
 * containers, one set for each CLI.
 */
import assert from 'node:assert/strict';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Berthd, berthdUnavailable } from './helpers/berthd.js';
import { REPO_ROOT, type RunResult, runCommand } from './helpers/runtime.js';

const BIN = join(REPO_ROOT, 'dist', 'berth.cjs');
const skip = berthdUnavailable();

let d: Berthd;
const work = mkdtempSync(join(tmpdir(), 'berth-ctr-'));

function env(): Record<string, string | undefined> {
  return { DOCKER_HOST: d.host, DOCKER_CONFIG: d.dockerConfig, BERTH_NO_AUTOSTART: '1', NODE_EXTRA_CA_CERTS: undefined };
}

function berth(args: string[], o: { input?: string; cwd?: string } = {}): Promise<RunResult> {
  return runCommand([process.execPath, BIN, ...args], { env: env(), guardMs: 30_000, ...o });
}

/** docker's texts with its program name made berth's (not inside paths). */
const asBerth = (s: string) => s.replace(/\bdocker(?=[ :'])/g, 'berth');

function docker(args: string[], o: { input?: string; cwd?: string } = {}): Promise<RunResult> {
  return runCommand(['/usr/local/bin/docker', ...args], { env: env(), guardMs: 30_000, ...o }).then((r) => ({
    ...r,
    stdout: asBerth(r.stdout),
    stderr: asBerth(r.stderr),
  }));
}

/** Runs both CLIs (at once: only for commands that change nothing) and asserts the same output and status. */
async function same(args: string[], o: { input?: string; map?: (s: string) => string } = {}): Promise<RunResult> {
  const map = o.map ?? ((s: string) => s);
  const [b, k] = await Promise.all([berth(args, o), docker(args, o)]);
  const what = `berth ${args.join(' ')}`;
  assert.equal(map(b.stdout), map(k.stdout), `${what}: stdout`);
  assert.equal(map(b.stderr), map(k.stderr), `${what}: stderr`);
  assert.equal(b.code, k.code, `${what}: exit status`);
  return b;
}

/** In a pseudo-terminal (util-linux script), stdout and stderr merged. */
function inTty(cmd: string): Promise<RunResult> {
  return runCommand(['script', '-qfec', cmd, '/dev/null'], { env: env(), guardMs: 30_000 });
}

/** Runs `fn` over `items`, a few at a time (the machine is shared). */
async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>, size = 6): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

async function ctr(args: string[]): Promise<string> {
  const r = await d.docker(args);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

describe('berth container commands, against berthd and compared with docker v28', { skip }, () => {
  before(async () => {
    d = await Berthd.start();
    await ctr(['run', '-d', '--name', 'up1', '--memory', '20m', 'busybox', 'sleep', '1000']);
    await ctr(['create', '--name', 'made', 'busybox']);
    await d.docker([
      'run',
      '--name',
      'done',
      'busybox',
      'sh',
      '-c',
      'mkdir -p /data/sub && echo hi > /data/a && ln -s a /data/lnk && echo y > /data/sub/b && exit 3',
    ]);
  });
  after(async () => {
    await d?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('errors of each verb: the same texts and statuses', async () => {
    const cases: string[][] = [
      ['kill', 'nosuch'],
      ['kill', '-s', 'FOO', 'up1'],
      ['stop', 'nosuch', 'made'],
      ['stop', '-t', '1', '--time', '2', 'made'],
      ['stop'],
      ['rm', ''],
      ['rm', '-f', 'nosuch1', 'nosuch2'],
      ['rm', 'up1'],
      ['pause', 'made'],
      ['rename', 'made', ''],
      ['rename', 'nosuch', 'x1'],
      ['port', 'up1'],
      ['port', 'up1', 'foo'],
      ['port', 'up1', '80/udp'],
      ['port', 'up1', '99999'],
      ['top', 'nosuch'],
      ['update', 'up1'],
      ['update', '-m', 'x', 'up1'],
      ['update', '--blkio-weight', '70000', 'up1'],
      ['update', '--restart', 'on-failure:x', 'up1'],
      ['update', '--restart', 'foo', 'up1'],
      ['wait', 'nosuch', 'done', 'made'],
      ['commit', 'done', 'Foo'],
      ['commit', 'done', `a@sha256:${'1'.repeat(64)}`],
      ['commit', 'nosuch'],
      ['diff', 'nosuch'],
      ['export', 'nosuch'],
      ['cp', '', 'x'],
      ['cp', 'done:/a', 'made:/b'],
      ['cp', 'done:/nonexist', join(work, 'x')],
      ['cp', 'done:/data/a', '/nonexist/dir/x'],
      ['cp', '/nonexist', 'done:/tmp'],
      ['cp', '-', 'done:/data/a'],
      ['container', 'prune', '-f', '--filter', 'x'],
      ['stats', '--no-stream', 'nosuch'],
      ['ps', '-f', 'x'],
      ['ps', '-f', 'foo=bar'],
      ['ps', '--format', '{{.Foo}}'],
    ];
    await inBatches(cases, (args) => same(args));
  });

  it('inspect: arrays re-indented, json, templates, --type, objects missing', async () => {
    await ctr(['volume', 'create', 'vol1']);
    const cases: string[][] = [
      ['inspect', 'up1'],
      ['inspect', 'up1', 'busybox', 'vol1'],
      ['inspect', 'nosuch'],
      ['inspect', 'nosuch', 'up1', 'nosuch2'],
      ['container', 'inspect', 'nosuch', 'done'],
      ['container', 'inspect', '-f', '{{.State.ExitCode}} {{.Name}}', 'done', 'up1'],
      ['inspect', '--type', 'image', 'up1'],
      ['inspect', '--type', 'volume', '-f', '{{.Name}} {{.Driver}}', 'vol1'],
      ['inspect', '--type', 'foo', 'up1'],
      ['inspect', '--type', '', 'up1'],
      ['inspect', '-f', '{{.State.Status}}', 'up1', 'busybox', 'nosuch'],
      ['inspect', '-f', '{{.Foo', 'up1'],
      ['inspect', '-f', 'json', 'made'],
      ['inspect', '-f', '{{json .Config.Cmd}} {{index .Config.Cmd 0}} {{len .Args}}', 'up1'],
      ['inspect', '-s', 'busybox'],
    ];
    await inBatches(cases, (args) => same(args));
  });

  it('ps: the table, -a -q -l -n -s --no-trunc, filters, templates, json, config.json psFormat', async () => {
    const cases: string[][] = [
      ['ps'],
      ['ps', '-a'],
      ['container', 'ls', '-aq'],
      ['ps', '-a', '--no-trunc'],
      ['ps', '-l'],
      ['ps', '-n', '2', '--format', '{{.Names}}'],
      ['ps', '-s'],
      ['ps', '-a', '--format', '{{.Names}} {{.Status}} {{.State}} {{.Command}}'],
      ['ps', '-a', '--format', 'json'],
      ['ps', '--format', '{{.Size}}'],
      ['ps', '-q', '--format', '{{.Names}}'],
      ['ps', '-a', '-f', 'status=exited', '-f', 'exited=3'],
      ['ps', '-a', '--filter', 'name=up', '--filter', 'ancestor=busybox'],
      ['ps', '-a', '-f', 'before=done', '--format', 'table {{.Names}}\t{{.Labels}}\t{{.Mounts}}'],
      ['ps', '-a', '-f', 'since=up1', '-q'],
      ['ps', '-f', 'is-task=false', '-f', 'health=none'],
    ];
    // relative times move on between the two runs: compare them as words, and the columns loosely
    const times = (t: string) => t.replace(/Less than a second|About a minute|\d+ (second|minute)s?/g, 'T').replace(/ +/g, ' ');
    await inBatches(cases, (args) => same(args, { map: times }));
    writeFileSync(join(d.dockerConfig, 'config.json'), JSON.stringify({ psFormat: 'table {{.Names}}\t{{.State}}' }));
    try {
      const r = await same(['ps', '-a'], { map: times });
      assert.match(r.stdout, /^NAMES +STATE\n/);
      await same(['ps', '-a', '-q']);
    } finally {
      rmSync(join(d.dockerConfig, 'config.json'));
    }
  });

  it('several objects: each tried, the names printed in order, the errors at the end, exit 1', async () => {
    for (const p of ['b', 'k']) {
      await ctr(['create', '--name', `${p}rm1`, 'busybox']);
      await ctr(['create', '--name', `${p}rm2`, 'busybox']);
      await ctr(['run', '-d', '--name', `${p}run1`, 'busybox', 'sleep', '1000']);
      await ctr(['run', '-d', '--name', `${p}run2`, 'busybox', 'sleep', '1000']);
    }
    const twin = async (args: (p: string) => string[]) => {
      // distinct containers for each CLI: both at once
      const [b, k] = await Promise.all([berth(args('b')), docker(args('k'))]);
      const un = (s: string, p: string) => s.replaceAll(new RegExp(`\\b${p}(rm|run)`, 'g'), 'X$1');
      assert.equal(un(b.stdout, 'b'), un(k.stdout, 'k'), args('b').join(' '));
      assert.equal(un(b.stderr, 'b'), un(k.stderr, 'k'), args('b').join(' '));
      assert.equal(b.code, k.code);
      return b;
    };
    let r = await twin((p) => ['rm', `${p}rm1`, 'nosuch', `${p}rm2`]);
    assert.equal(r.stdout, 'brm1\nbrm2\n');
    assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
    assert.equal(r.code, 1);
    r = await twin((p) => ['pause', `${p}run1`, `${p}run2`]);
    assert.equal(r.stdout, 'brun1\nbrun2\n');
    await twin((p) => ['unpause', `${p}run1`, 'nosuch', `${p}run2`]);
    r = await twin((p) => ['kill', '-s', 'HUP', `${p}run1`]);
    assert.equal(r.code, 0);
    r = await twin((p) => ['restart', '-t', '1', `${p}run1`]);
    assert.equal(r.stdout, 'brun1\n');
    r = await twin((p) => ['stop', '-t', '1', `${p}run1`, `${p}run2`, 'nosuch']);
    assert.equal(r.stdout, 'brun1\nbrun2\n');
    r = await twin((p) => ['wait', `${p}run1`, `${p}run2`]);
    assert.equal(r.stdout, '137\n137\n');
    r = await twin((p) => ['rm', '-f', `${p}run1`, 'nosuch', `${p}run2`]);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, 'Error response from daemon: No such container: nosuch\n');
  });

  it('rename, update, top, port, commit, diff', async () => {
    await ctr(['create', '--name', 'ren1', 'busybox']);
    let r = await berth(['rename', 'ren1', 'ren2']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, '', '']);
    assert.equal(await ctr(['inspect', '-f', '{{.Name}}', 'ren2']), '/ren2');

    r = await berth(['update', '-m', '30m', '--cpus', '1.5', '--restart', 'on-failure:2', 'up1', 'ren2']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'up1\nren2\n', '']);
    assert.equal(
      await ctr(['inspect', '-f', '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}} {{.HostConfig.RestartPolicy.Name}}', 'up1']),
      '31457280 1500000000 on-failure',
    );

    await same(['top', 'up1']);
    await same(['top', 'up1', '-o', 'pid,comm']);

    await same(['diff', 'done']);
    r = await berth(['diff', 'done']);
    assert.match(r.stdout, /^A \/data$/m);

    r = await berth(['commit', '-c', 'ENV A=1', '-m', 'msg', '-a', 'me', 'done', 'img:v1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/);
    const img = (await d.api('GET', '/images/img:v1/json')).body as {
      Id: string;
      Author: string;
      Comment: string;
      Config: { Env: string[] };
    };
    assert.equal(img.Id, r.stdout.trim());
    assert.equal(img.Author, 'me');
    assert.equal(img.Comment, 'msg');
    assert.ok(img.Config.Env.includes('A=1'));
  });

  it('export: to a file or a pipe, never to a terminal', async () => {
    const b = join(work, 'b.tar');
    const k = join(work, 'k.tar');
    assert.equal((await berth(['export', '-o', b, 'done'])).code, 0);
    assert.equal((await docker(['export', '-o', k, 'done'])).code, 0);
    const list = async (f: string) => (await runCommand(['tar', '-tf', f])).stdout.split('\n').sort().join('\n');
    assert.equal(await list(b), await list(k));
    assert.match(await list(b), /^data\/a$/m);
    const piped = await runCommand(['sh', '-c', `node ${BIN} export done | tar -tf - | grep -c .`], { env: env() });
    assert.equal(piped.stdout.trim(), String((await list(b)).split('\n').filter(Boolean).length));
    const tty = await inTty(`node ${BIN} export done`);
    assert.match(tty.stdout, /cowardly refusing to save to a terminal\. Use the -o flag or redirect/);
  });

  it('cp from a container: the local result is the one docker gives', async () => {
    const cases = [
      ['done:/data', '{}/'],
      ['done:/data', '{}/newname'],
      ['done:/data/.', '{}/dotcopy'],
      ['done:/data/a', '{}/afile'],
      ['done:/data/lnk', '{}/lnk1'],
      ['-L', 'done:/data/lnk', '{}/lnk2'],
      ['done:/data/a', '{}/nonexist/'],
      ['done:/data', '{}/afile'],
    ];
    const bd = join(work, 'from-b');
    const kd = join(work, 'from-k');
    mkdirSync(bd);
    mkdirSync(kd);
    for (const c of cases) {
      const [b, k] = await Promise.all([
        berth(['cp', ...c.map((a) => a.replace('{}', bd))]),
        docker(['cp', ...c.map((a) => a.replace('{}', kd))]),
      ]);
      assert.equal(b.stderr.replaceAll(bd, '{}'), k.stderr.replaceAll(kd, '{}'), c.join(' '));
      assert.equal(b.code, k.code, c.join(' '));
    }
    assert.equal((await berth(['cp', 'done:/data', join(bd, 'again')])).code, 0);
    const tree = async (dir: string) => (await runCommand(['sh', '-c', `cd ${dir} && find . -printf '%p %y %m %s %l\\n' | sort`])).stdout;
    assert.equal((await docker(['cp', 'done:/data', join(kd, 'again')])).code, 0);
    assert.equal(await tree(bd), await tree(kd));
    assert.equal(readFileSync(join(bd, 'newname', 'sub', 'b'), 'utf8'), 'y\n');
    // the v28 line, on stderr, only when stdout is a terminal
    const tty = await inTty(`node ${BIN} cp done:/data/a ${join(work, 'tty-a')}`);
    assert.equal(tty.stdout, `Successfully copied 2.05kB to ${join(work, 'tty-a')}\r\n`);
    const tar = await runCommand(['sh', '-c', `node ${BIN} cp done:/data/a - | tar -tvf -`], { env: env() });
    assert.match(tar.stdout, /^-rw-r--r-- 0\/0 +3 .* a$/m);
  });

  it('cp into a container: the container side is the one docker gives', async () => {
    const src = join(work, 'src');
    mkdirSync(join(src, 'tree', 'sub'), { recursive: true });
    writeFileSync(join(src, 'tree', 'f'), '1\n');
    writeFileSync(join(src, 'tree', 'sub', 'g'), '2\n');
    symlinkSync('f', join(src, 'tree', 'l'));
    linkSync(join(src, 'tree', 'f'), join(src, 'tree', 'hl'));
    writeFileSync(join(src, 'file'), '3\n');
    await ctr(['run', '-d', '--name', 'sink', 'busybox', 'sh', '-c', 'mkdir /bb /kk; sleep 1000']);
    const cases = [
      ['{src}/tree', 'sink:/{d}/'],
      ['{src}/tree', 'sink:/{d}/t2'],
      ['{src}/tree/.', 'sink:/{d}/t3'],
      ['{src}/file', 'sink:/{d}/'],
      ['{src}/file', 'sink:/{d}/f2'],
      ['{src}/file', 'sink:/{d}/nodir/'],
      ['{src}/tree', 'sink:/{d}/f2'],
      ['-L', '{src}/tree/l', 'sink:/{d}/l2'],
    ];
    for (const c of cases) {
      const [b, k] = await Promise.all([
        berth(['cp', ...c.map((a) => a.replace('{src}', src).replace('{d}', 'bb'))]),
        docker(['cp', ...c.map((a) => a.replace('{src}', src).replace('{d}', 'kk'))]),
      ]);
      // docker's own log lines (a race in its tar writer) are not part of the answer
      const quiet = (t: string) => t.replace(/^time=".*\n/gm, '');
      assert.equal(b.stderr.replaceAll('/bb', '/d'), quiet(k.stderr).replaceAll('/kk', '/d'), c.join(' '));
      assert.equal(b.code, k.code, c.join(' '));
    }
    const tarball = join(work, 'in.tar');
    await runCommand(['tar', '-C', src, '-cf', tarball, 'file']);
    for (const [cli, dir] of [
      [`node ${BIN}`, 'bb'],
      ['/usr/local/bin/docker', 'kk'],
    ] as const) {
      const r = await runCommand(['sh', '-c', `${cli} cp - sink:/${dir}/t3 < ${tarball}`], { env: env() });
      assert.equal(r.code, 0, r.stderr);
    }
    const listing = async (dir: string) =>
      (
        await runCommand(
          [
            'sh',
            '-c',
            `/usr/local/bin/docker cp sink:/${dir} - | tar -tvf - --numeric-owner | awk '{print $1,$2,$3,$6,$7,$8}' | sed 's#${dir}#D#' | sort`,
          ],
          {
            env: env(),
          },
        )
      ).stdout;
    const bl = await listing('bb');
    assert.equal(bl, await listing('kk'));
    assert.match(bl, /^hrw-r--r-- 0\/0 0 D\/tree\/hl link to$/m);
    assert.match(bl, /^-rw-r--r-- 0\/0 2 D\/t3\/file/m);
    const tty = await inTty(`node ${BIN} cp ${join(src, 'file')} sink:/tmp/`);
    assert.equal(tty.stdout, 'Successfully copied 2.05kB to sink:/tmp/\r\n');
  });

  it('container prune: the prompt, a refusal, then the removal', async () => {
    const id = await ctr(['create', '--name', 'prunable', 'busybox']);
    const no = await berth(['container', 'prune'], { input: 'n\n' });
    assert.deepEqual(
      [no.code, no.stdout, no.stderr],
      [0, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ', ''],
    );
    assert.equal(await ctr(['inspect', '-f', '{{.Name}}', 'prunable']), '/prunable');
    const yes = await berth(['container', 'prune', '--filter', 'label=nosuch'], { input: 'y\n' });
    assert.equal(
      yes.stdout,
      'WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] Total reclaimed space: 0B\n',
    );
    const r = await berth(['container', 'prune', '-f']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^Deleted Containers:\\n(?:[0-9a-f]{64}\\n)*${id}\\n(?:[0-9a-f]{64}\\n)*\\nTotal reclaimed space: \\S+\\n$`),
    );
    assert.equal((await d.api('GET', '/containers/prunable/json')).status, 404);
  });

  it('stats: one table as docker prints it, templates, a plain stream, a redraw on a terminal', async () => {
    const idOf = (await ctr(['inspect', '-f', '{{.Id}}', 'up1'])).slice(0, 12);
    // figures move between two samples: compare their shape, and the fixed columns exactly
    const shape = (s: string) => s.replace(/\d+(\.\d+)?(%|[kKMG]?i?B)/g, 'N$2').replace(/ +/g, ' ');
    const [one] = await Promise.all([
      same(['stats', '--no-stream', 'up1'], { map: shape }),
      same(['stats', '--no-stream', '--format', '{{.Container}} {{.Name}} {{.ID}} {{.PIDs}}', 'up1', idOf]),
      same(['stats', '--no-stream', '--format', 'json', 'up1'], { map: shape }),
      same(['stats', '--no-stream', '--no-trunc', '--format', 'table {{.ID}}\t{{.Name}}', 'up1']),
    ]);
    assert.match(one.stdout, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n/);
    assert.match(one.stdout, new RegExp(`^${idOf} +up1 +\\d+\\.\\d\\d% +[\\d.]+[KMG]?i?B / [23]0MiB +\\d+\\.\\d\\d% +`, 'm'));
    // streaming without a terminal: whole tables one after the other, no escapes
    const [plain, tty] = await Promise.all([
      runCommand(['sh', '-c', `timeout -s INT 1.8 node ${BIN} stats up1; true`], { env: env() }),
      inTty(`timeout -s INT 1.8 node ${BIN} stats up1`),
    ]);
    assert.ok((plain.stdout.match(/^CONTAINER ID/gm) ?? []).length >= 2, plain.stdout);
    assert.ok(!plain.stdout.includes('\x1b'), 'no escape sequences');
    assert.ok(tty.stdout.includes('\x1b[HCONTAINER ID'), tty.stdout);
    assert.ok(tty.stdout.includes('PIDS\x1b[K\r\n'), 'lines erased to their end');
    assert.ok(tty.stdout.includes('\x1b[J'), 'the rest of the screen cleared');
  });
});
