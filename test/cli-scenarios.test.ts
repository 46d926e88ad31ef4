/**
 * The three-way scenario suite of the `berth` CLI: each scenario runs, in the same test run,
 *
 *   (a) `berth`  against berthd          — berth's CLI, our engine
 *   (b) `docker` (v28) against berthd    — the reference CLI on the same engine
 *   (c) `berth`  against Debian's dockerd 20.10 (started here, private roots)
 *
 * and (a) and (c) are compared with (b): the same exit codes and the same output once what
 * differs by nature is normalised (ids, times, sizes, the program's name, the side's own names).
 * Every remaining difference is listed in ALLOWED with its reason; the test fails on an unlisted
 * difference and on a listed one that is gone. A scenario whose `berth` command is not written
 * yet is skipped with "command not implemented yet", so the suite runs at every stage.
 *
 * The sides (a) and (b) share one berthd and run at the same time: every name a scenario makes
 * carries the side's tag (`-sa`, `-sb`, `-sc`, normalised to `-S`), and every listing is filtered
 * to the scenario's own objects.
 *
 *   node --import tsx --test --test-concurrency=1 test/cli-scenarios.test.ts
 *   CLI_SHOW=1 …   prints every observation of every side
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Berthd, berthdUnavailable, DOCKER_V28 } from './helpers/berthd.js';
import {
  berth,
  berthCliUnavailable,
  berthCommands,
  bundleIsFresh,
  type CliOptions,
  type CliResult,
  docker,
  type RunningCli,
  start,
} from './helpers/cli.js';
import { Dockerd, dockerdUnavailable } from './helpers/dockerd.js';
import { busyboxTar, imageOf, putImage, tarWithFile } from './helpers/images.js';
import { registryMissing, startRegistry, type TestRegistry } from './helpers/registry.js';
import { REPO_ROOT } from './helpers/runtime.js';

// ------------------------------------------------------------------ the allowed differences

type Match = string | RegExp;
type Edit = [RegExp, string];
type SideName = 'berth→berthd' | 'docker→berthd' | 'berth→dockerd';
/** The sides compared with the reference, docker→berthd. */
type Compared = Exclude<SideName, 'docker→berthd'>;

interface Allowed {
  /** `<scenario> › <field>` */
  key: string;
  /** Which compared side differs. */
  side: Compared;
  reason: string;
  /** What the side and the reference give (normalised), exactly or by pattern… */
  got?: Match;
  ref?: Match;
  /** …or the edits that turn the side's text into the reference's. */
  edits?: Edit[];
}

/** runc's start-error wording, rewritten to berthd's (crun-like) one: the cause is the same. */
const RUNC_START_ERR: Edit = [
  /failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "([^"]+)": (?:stat \S+: )?(.*?): unknown/,
  "exec '$1': $2",
];

/**
 * Every difference that remains, and why. Differences of the engine (berth→dockerd) are the ones
 * test/differential-engine.test.ts lists between berthd and dockerd, seen through the CLI.
 */
const ALLOWED: Allowed[] = [
  ...(['berth→berthd', 'berth→dockerd'] as const).map(
    (side): Allowed => ({
      key: 'the daemon not running › info.stdout',
      side,
      reason: "the Client section is each CLI's own: its version",
      edits: [[/^ Version: {4}\S+$/m, ' Version:    28.2.2']],
    }),
  ),
  ...(['berth→berthd', 'berth→dockerd'] as const).map(
    (side): Allowed => ({
      key: 'too many arguments › stderr',
      side,
      reason:
        "docker v28 ends cobra's arity message with \"SRun '… --help'\" (a stray S in its RequiresMaxArgs hint); berth says \"See '… --help'\"",
      edits: [[/\n\nSee '/, "\n\nSRun '"]],
    }),
  ),
  ...['run a missing command (127)', 'run a directory (126)'].map(
    (s): Allowed => ({
      key: `${s} › stderr`,
      side: 'berth→dockerd',
      reason: "the engine's start-error wording: runc's chain of wrappers vs berthd's crun-like `exec 'cmd': cause`; same cause, same code",
      edits: [RUNC_START_ERR],
    }),
  ),
  {
    key: 'exec › missing.stdout',
    side: 'berth→dockerd',
    reason:
      "the cause inside dockerd's exec-error wrapper: runc's `exec: \"cmd\": stat cmd: cause` vs berth-nsinit's `exec 'cmd': cause`; both on stdout with \\r\\n and exit code 126",
    edits: [
      [
        /unable to start container process: exec: "([^"]+)": (?:stat \S+: )?(.*?): unknown/,
        "unable to start container process: exec '$1': $2: unknown",
      ],
    ],
  },
  ...(['berth→berthd', 'berth→dockerd'] as const).flatMap((side): Allowed[] => [
    {
      key: 'system prune -f › yes.code',
      side,
      reason:
        'berthd has no networks and no builder: it answers /networks/prune and /build/prune 404 "page not found"; docker stops there, berth takes it as nothing to prune and goes on',
      got: '0',
      ref: '1',
    },
    {
      key: 'system prune -f › yes.stdout',
      side,
      reason: 'as yes.code: docker stops after the containers, berth goes on to its total',
      edits: [[/Total reclaimed space: <size>\n$/, '']],
    },
    { key: 'system prune -f › yes.stderr', side, reason: 'as yes.code', got: '', ref: 'Error response from daemon: page not found\n' },
  ]),
  {
    key: 'info --format › server.stdout',
    side: 'berth→dockerd',
    reason: 'a different engine: dockerd 20.10 with the vfs driver vs berthd (overlay2)',
    got: /^20\.10\.\S+ vfs linux\n$/,
    ref: /^\S+ overlay2 linux\n$/,
  },
  {
    key: 'events › stdout',
    side: 'berth→dockerd',
    reason: 'dockerd sends a container `attach` event before `start` for an attached run; berthd does not (nothing in the CLI uses it)',
    edits: [[/^attach\n/m, '']],
  },
];

// ------------------------------------------------------------------ normalising

const TAG = /-s[abc]\b/g;

/** What differs by nature between the sides: ids, times, durations, sizes, the program's name, the side's tag. */
export function normalise(s: string, registry = ''): string {
  let out = s
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id12>')
    .replace(/\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?( ?(Z|[+-]\d\d:?\d\d)( [A-Z]+)?)?/g, '<time>')
    .replace(/(\d+|About an?|Less than a) (second|minute|hour|day|week|month|year)s?( ago)?/g, '<dur>')
    .replace(/\b\d+(\.\d+)?\s?([kKMGT]i?)?B\b/g, '<size>')
    .replace(/(^|[\s'"(])(berth|docker)(?=[\s'":])/gm, '$1<prog>')
    .replace(TAG, '-S')
    // layer progress the daemon sends or not depending on timing (a small blob read in one go)
    .replace(/^<id12>: (Verifying Checksum|Download complete|Waiting)\n/gm, '')
    // the docker CLI's own log lines (`cp` still writing its tar when the daemon has said 404): a client-side race
    .replace(/^time="<time>" level=\w+ msg=.*\n/gm, '');
  if (registry) out = out.split(registry).join('<registry>');
  return out;
}

/** A table's columns are as wide as their widest cell: once cells are normalised, only the column order counts. */
const collapse = (s: string) => s.replace(/ {2,}/g, '  ').replace(/ +$/gm, '');

// ------------------------------------------------------------------ scenarios

type Cli = (args: string[], o?: { input?: string; env?: Record<string, string>; guardMs?: number }) => Promise<CliResult>;
type Obs = Record<string, string>;
interface Side {
  name: SideName;
  cli: Cli;
  /** The same CLI, left running until told (streams). */
  start: (args: string[]) => RunningCli;
  /** The v28 docker CLI on this side's daemon: for outputs that depend on the engine as a whole (info, df -v). */
  docker: Cli;
  /** `-sa`, `-sb`, `-sc`: appended to every name the scenario makes. */
  tag: string;
  registry: TestRegistry | undefined;
  dir: string;
}
interface Scenario {
  name: string;
  /** The berth commands it runs, as typed (`run`, `volume ls`): skipped while one is missing. */
  needs: string[];
  /** Needs the registry. */
  registry?: boolean;
  /** Looks at the daemon as a whole (df, info): runs alone, one side after the other. */
  exclusive?: boolean;
  run: (s: Side) => Promise<Obs>;
}

const NONE = ['--network', 'none'];
const run = (flags: string[], cmd: string[] = []): string[] => ['run', ...NONE, ...flags, 'busybox', ...cmd];

/** code, stdout and stderr of one command as three observations (prefixed); `table` collapses column padding. */
function res(r: CliResult, prefix = '', o: { table?: boolean } = {}): Obs {
  const p = prefix ? `${prefix}.` : '';
  const t = o.table ? collapse : (s: string) => s;
  return { [`${p}code`]: String(r.code), [`${p}stdout`]: t(r.stdout), [`${p}stderr`]: t(r.stderr) };
}

/** Waits (bounded) until the container's log has `text`. */
async function untilLogged(cli: Cli, name: string, text: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await cli(['logs', name]);
    if (r.stdout.includes(text) || r.stderr.includes(text)) return;
    await sleep(50);
  }
}

const SCENARIOS: Scenario[] = [
  { name: 'run echo', needs: ['run'], run: async (s) => res(await s.cli(run(['--rm'], ['echo', 'hello', 'world']))) },
  { name: 'run exit 0', needs: ['run'], run: async (s) => res(await s.cli(run(['--rm'], ['true']))) },
  { name: 'run exit 3', needs: ['run'], run: async (s) => res(await s.cli(run(['--rm'], ['sh', '-c', 'exit 3']))) },
  { name: 'run a missing command (127)', needs: ['run'], run: async (s) => res(await s.cli(run(['--rm'], ['/no/such/cmd']))) },
  { name: 'run a directory (126)', needs: ['run'], run: async (s) => res(await s.cli(run(['--rm'], ['/etc']))) },
  {
    name: 'run with a bad flag value (125)',
    needs: ['run'],
    run: async (s) => res(await s.cli(run(['--rm', '--memory', 'lots'], ['true']))),
  },
  {
    name: 'run stdout and stderr',
    needs: ['run'],
    run: async (s) => res(await s.cli(run(['--rm'], ['sh', '-c', 'echo out; echo err >&2']))),
  },
  {
    name: 'run -e',
    needs: ['run'],
    run: async (s) =>
      res(await s.cli(run(['--rm', '-e', 'A=1', '-e', 'FROM_CLIENT', '-e', 'EMPTY='], ['sh', '-c', 'echo "$A/$FROM_CLIENT/$EMPTY/"']))),
  },
  { name: 'run -w', needs: ['run'], run: async (s) => res(await s.cli(run(['--rm', '-w', '/tmp/new'], ['pwd']))) },
  { name: 'run -u', needs: ['run'], run: async (s) => res(await s.cli(run(['--rm', '-u', '1000:1000'], ['id']))) },
  {
    name: 'run -i with stdin',
    needs: ['run'],
    run: async (s) => res(await s.cli(run(['--rm', '-i'], ['sh', '-c', 'cat; echo done']), { input: 'piped line\n' })),
  },
  {
    name: 'run --rm leaves no container',
    needs: ['run', 'ps'],
    run: async (s) => {
      const obs = res(await s.cli(run(['--rm', '--name', `gone${s.tag}`], ['true'])), 'run');
      return { ...obs, ...res(await s.cli(['ps', '-a', '-q', '--filter', `name=gone${s.tag}`]), 'ps') };
    },
  },
  {
    name: 'run -d, logs, stop, rm',
    needs: ['run', 'logs', 'stop', 'rm'],
    run: async (s) => {
      const n = `bg${s.tag}`;
      const obs = res(await s.cli(run(['-d', '--name', n], ['sh', '-c', 'echo started; sleep 0.2; echo warn >&2; exec sleep 100'])), 'run');
      await untilLogged(s.cli, n, 'warn');
      Object.assign(obs, res(await s.cli(['logs', n]), 'logs'));
      Object.assign(obs, res(await s.cli(['logs', '--tail', '1', n]), 'logs-tail'));
      Object.assign(obs, res(await s.cli(['rm', n]), 'rm-running'));
      Object.assign(obs, res(await s.cli(['stop', '-t', '1', n]), 'stop'));
      Object.assign(obs, res(await s.cli(['rm', n]), 'rm'));
      Object.assign(obs, res(await s.cli(['rm', n]), 'rm-again'));
      return obs;
    },
  },
  {
    name: 'ps -a --format',
    needs: ['create', 'ps', 'rm'],
    run: async (s) => {
      await s.cli(['create', ...NONE, '--name', `psa${s.tag}`, 'busybox', 'echo', 'a']);
      await s.cli(['create', ...NONE, '--name', `psb${s.tag}`, '--label', 'k=v', 'busybox']);
      const f = ['--filter', `name=ps[ab]${s.tag}`];
      const obs = res(await s.cli(['ps', '-a', ...f, '--format', '{{.Names}} {{.Status}} {{.Command}} {{.Image}} {{.Labels}}']), 'format');
      Object.assign(obs, res(await s.cli(['ps', '-a', ...f, '--format', 'table {{.Names}}\t{{.Status}}']), 'table', { table: true }));
      Object.assign(obs, res(await s.cli(['ps', '-a', ...f, '--format', '{{json .Names}}']), 'json'));
      Object.assign(obs, res(await s.cli(['ps', '-a', '--filter', `name=psb${s.tag}`]), 'default', { table: true }));
      Object.assign(obs, res(await s.cli(['ps', '-a', '--filter', 'label=k=v', '--filter', `name=ps[ab]${s.tag}`, '-q']), 'quiet'));
      await s.cli(['rm', `psa${s.tag}`, `psb${s.tag}`]);
      return obs;
    },
  },
  {
    name: 'inspect -f',
    needs: ['create', 'inspect', 'rm'],
    run: async (s) => {
      const n = `insp${s.tag}`;
      await s.cli(['create', ...NONE, '--name', n, '-e', 'X=1', 'busybox', 'echo', 'hi']);
      const obs = res(await s.cli(['inspect', '-f', '{{.State.Status}} {{.Config.Image}} {{json .Config.Cmd}} {{.Name}}', n]), 'f');
      Object.assign(
        obs,
        res(await s.cli(['inspect', '--format', '{{range .Config.Env}}{{if eq . "X=1"}}{{.}}{{end}}{{end}}', n]), 'range'),
      );
      Object.assign(obs, res(await s.cli(['container', 'inspect', '-f', '{{index .Config.Cmd 0}} {{upper .State.Status}}', n]), 'index'));
      Object.assign(obs, res(await s.cli(['inspect', '-f', '{{.State.Status', n]), 'bad-template'));
      Object.assign(obs, res(await s.cli(['inspect', '-f', '{{.NoSuchField}}', n]), 'bad-field'));
      Object.assign(obs, res(await s.cli(['inspect', 'nosuch-obj']), 'nosuch'));
      await s.cli(['rm', n]);
      return obs;
    },
  },
  {
    name: 'exec',
    needs: ['run', 'exec', 'rm'],
    run: async (s) => {
      const n = `ex${s.tag}`;
      await s.cli(run(['-d', '--name', n], ['sleep', '100']));
      const obs = res(await s.cli(['exec', n, 'sh', '-c', 'echo in; echo err >&2; exit 4']), 'code4');
      Object.assign(obs, res(await s.cli(['exec', '-e', 'V=2', '-w', '/etc', '-u', '1', n, 'sh', '-c', 'echo $V; pwd; id -u']), 'opts'));
      Object.assign(obs, res(await s.cli(['exec', '-i', n, 'cat'], { input: 'to exec\n' }), 'stdin'));
      Object.assign(obs, res(await s.cli(['exec', n, '/no/such']), 'missing'));
      Object.assign(obs, res(await s.cli(['exec', 'nosuch-ctr', 'true']), 'nosuch'));
      await s.cli(['rm', '-f', n]);
      return obs;
    },
  },
  {
    name: 'cp',
    needs: ['run', 'cp', 'exec', 'rm'],
    run: async (s) => {
      const n = `cp${s.tag}`;
      const src = join(s.dir, `in${s.tag}.txt`);
      writeFileSync(src, 'from the host\n');
      const out = join(s.dir, `out${s.tag}`);
      mkdirSync(out, { recursive: true });
      await s.cli(run(['-d', '--name', n], ['sleep', '100']));
      const obs = res(await s.cli(['cp', src, `${n}:/tmp/in.txt`]), 'in');
      Object.assign(obs, res(await s.cli(['exec', n, 'cat', '/tmp/in.txt']), 'cat'));
      Object.assign(obs, res(await s.cli(['cp', `${n}:/etc/passwd`, out]), 'out'));
      obs['out.file'] = readFileSync(join(out, 'passwd'), 'utf8').split('\n')[0] ?? '';
      Object.assign(obs, res(await s.cli(['cp', `${n}:/no/such`, out]), 'missing'));
      Object.assign(obs, res(await s.cli(['cp', src, 'nosuch-ctr:/tmp/']), 'nosuch'));
      await s.cli(['rm', '-f', n]);
      return obs;
    },
  },
  {
    name: 'wait and start -a',
    needs: ['create', 'start', 'wait', 'rm'],
    run: async (s) => {
      const n = `wt${s.tag}`;
      await s.cli(['create', ...NONE, '--name', n, 'busybox', 'sh', '-c', 'echo ran; exit 5']);
      const obs = res(await s.cli(['start', '-a', n]), 'start');
      Object.assign(obs, res(await s.cli(['wait', n]), 'wait'));
      Object.assign(obs, res(await s.cli(['start', 'nosuch-ctr']), 'nosuch'));
      await s.cli(['rm', n]);
      return obs;
    },
  },
  {
    name: 'volumes',
    needs: ['volume create', 'volume ls', 'volume inspect', 'volume rm', 'run', 'rm'],
    run: async (s) => {
      const v = `vol${s.tag}`;
      const obs = res(await s.cli(['volume', 'create', '--label', `side=${s.tag}`, '--label', 'k=v', v]), 'create');
      Object.assign(obs, res(await s.cli(['volume', 'ls', '--filter', `name=${v}`]), 'ls', { table: true }));
      Object.assign(obs, res(await s.cli(['volume', 'ls', '-q', '--filter', `label=side=${s.tag}`]), 'ls-q'));
      Object.assign(
        obs,
        // Not {{.Labels}}: docker joins a volume's labels in Go's (random) map order.
        res(
          await s.cli(['volume', 'ls', '--filter', 'label=k=v', '--filter', `name=${v}`, '--format', '{{.Name}} {{.Driver}} {{.Scope}}']),
          'ls-f',
        ),
      );
      Object.assign(obs, res(await s.cli(['volume', 'inspect', '-f', '{{.Name}} {{.Driver}} {{.Scope}} {{json .Labels}}', v]), 'inspect'));
      Object.assign(obs, res(await s.cli(run(['--rm', '-v', `${v}:/data`], ['sh', '-c', 'echo kept > /data/f'])), 'write'));
      Object.assign(obs, res(await s.cli(run(['--name', `vu${s.tag}`, '-v', `${v}:/data:ro`], ['cat', '/data/f'])), 'read'));
      Object.assign(obs, res(await s.cli(['volume', 'rm', v]), 'rm-in-use'));
      await s.cli(['rm', `vu${s.tag}`]);
      Object.assign(obs, res(await s.cli(['volume', 'rm', v, `nosuch${s.tag}`]), 'rm'));
      Object.assign(obs, res(await s.cli(['volume', 'rm', '-f', `nosuch${s.tag}`]), 'rm-f'));
      Object.assign(obs, res(await s.cli(['volume', 'inspect', `nosuch${s.tag}`]), 'inspect-nosuch'));
      Object.assign(obs, res(await s.cli(['volume', 'ls', '--filter', 'nosuchfilter=1']), 'bad-filter'));
      return obs;
    },
  },
  {
    name: 'volume prune',
    needs: ['volume create', 'volume prune', 'volume ls'],
    run: async (s) => {
      await s.cli(['volume', 'create', '--label', `prune=${s.tag}`]);
      await s.cli(['volume', 'create', '--label', `prune=${s.tag}`, `named${s.tag}`]);
      const f = ['--filter', `label=prune=${s.tag}`];
      const obs = res(await s.cli(['volume', 'prune', ...f], { input: 'n\n' }), 'no');
      // The daemon's order of the deleted names means nothing: sorted.
      const pruned = await s.cli(['volume', 'prune', '-f', ...f]);
      pruned.stdout = pruned.stdout.replace(/(?<=Deleted Volumes:\n)[\s\S]*?(?=\n\n)/, (l) => l.split('\n').sort().join('\n'));
      Object.assign(obs, res(pruned, 'anonymous'));
      Object.assign(obs, res(await s.cli(['volume', 'ls', '-q', ...f]), 'left'));
      Object.assign(obs, res(await s.cli(['volume', 'rm', `named${s.tag}`]), 'rm'));
      return obs;
    },
  },
  {
    name: 'images, tag, rmi',
    needs: ['images', 'tag', 'rmi', 'image inspect'],
    run: async (s) => {
      const r = `img${s.tag}`;
      const obs = res(await s.cli(['tag', 'busybox', `${r}:1`]), 'tag');
      await s.cli(['tag', 'busybox', `${r}:2`]);
      Object.assign(obs, res(await s.cli(['images', r]), 'images', { table: true }));
      Object.assign(obs, res(await s.cli(['images', '--format', '{{.Repository}}:{{.Tag}}', r]), 'format'));
      Object.assign(
        obs,
        res(await s.cli(['image', 'inspect', '-f', '{{json .Config.Cmd}} {{.Os}} {{.Architecture}}', `${r}:1`]), 'inspect'),
      );
      Object.assign(obs, res(await s.cli(['rmi', `${r}:1`, `${r}:2`]), 'rmi'));
      Object.assign(obs, res(await s.cli(['rmi', `${r}:1`]), 'rmi-again'));
      Object.assign(obs, res(await s.cli(['tag', `nosuch${s.tag}`, `${r}:3`]), 'tag-nosuch'));
      Object.assign(obs, res(await s.cli(['images', '--format', '{{.Nope', r]), 'bad-template'));
      return obs;
    },
  },
  {
    name: 'pull from a registry, run, rmi',
    needs: ['pull', 'run', 'rmi'],
    registry: true,
    run: async (s) => {
      const ref = `${s.registry!.host}/pulled${s.tag}:1`;
      const obs = res(await s.cli(['pull', ref]), 'pull');
      Object.assign(obs, res(await s.cli(['pull', '-q', ref]), 'pull-again'));
      Object.assign(obs, res(await s.cli(['run', '--rm', ...NONE, ref, 'echo', 'pulled image runs']), 'run'));
      Object.assign(obs, res(await s.cli(['rmi', ref]), 'rmi'));
      return obs;
    },
  },
  {
    name: 'run pulls a missing image, or says it is missing',
    needs: ['run'],
    registry: true,
    run: async (s) => {
      const reg = s.registry!.host;
      const pulled = await s.cli(['run', '--rm', ...NONE, `${reg}/onrun${s.tag}:1`, 'echo', 'ran after pull']);
      // berth run's pull display shows the per-layer lines or not depending on timing (h-run's
      // run.ts; `berth pull` always does): only the lines around them are compared here.
      pulled.stderr = pulled.stderr.replace(/^[0-9a-f]{12}: .*\n/gm, '');
      const obs = res(pulled, 'pulled');
      Object.assign(obs, res(await s.cli(['run', '--rm', ...NONE, `${reg}/nosuch${s.tag}:1`]), 'missing'));
      Object.assign(obs, res(await s.cli(['run', '--rm', ...NONE, '--pull', 'never', `nosuch${s.tag}:1`]), 'never'));
      await s.cli(['rmi', `${reg}/onrun${s.tag}:1`]);
      return obs;
    },
  },
  { name: 'unknown command', needs: [], run: async (s) => res(await s.cli([`nosuchcmd${s.tag}`])) },
  { name: 'unknown flag', needs: ['run'], run: async (s) => res(await s.cli(['run', '--nosuchflag', 'busybox'])) },
  { name: 'unknown shorthand flag', needs: ['ps'], run: async (s) => res(await s.cli(['ps', '-Z'])) },
  { name: 'missing argument', needs: ['rm'], run: async (s) => res(await s.cli(['rm'])) },
  { name: 'too many arguments', needs: ['volume create'], run: async (s) => res(await s.cli(['volume', 'create', 'a', 'b'])) },
  {
    name: 'bad template',
    needs: ['ps', 'info'],
    run: async (s) => {
      const obs = res(await s.cli(['ps', '--format', '{{.Names']), 'unclosed');
      Object.assign(obs, res(await s.cli(['ps', '--format', '{{nosuchfn .Names}}']), 'function'));
      Object.assign(obs, res(await s.cli(['info', '--format', '{{.Nope}}']), 'field'));
      return obs;
    },
  },
  {
    name: 'info --format',
    needs: ['info', 'system info'],
    run: async (s) => {
      const obs = res(await s.cli(['info', '--format', '{{.ServerVersion}} {{.Driver}} {{.OSType}}']), 'server');
      Object.assign(obs, res(await s.cli(['system', 'info', '--format', '{{.Swarm.LocalNodeState}} {{.Architecture}}']), 'system'));
      Object.assign(obs, res(await s.cli(['info', '--format', '{{json .Plugins.Volume}}']), 'json'));
      return obs;
    },
  },
  {
    name: 'system df',
    needs: ['system df'],
    run: async (s) => {
      const obs = res(await s.cli(['system', 'df', '--format', '{{.Type}}']), 'types');
      Object.assign(obs, res(await s.cli(['system', 'df', '--format', 'table {{.Type}}']), 'table', { table: true }));
      return obs;
    },
  },
  {
    name: 'events',
    needs: ['events', 'run', 'rm'],
    run: async (s) => {
      const n = `ev${s.tag}`;
      const since = Math.floor(Date.now() / 1000) - 1;
      await s.cli(run(['--name', n], ['true']));
      await s.cli(['rm', n]);
      const until = Math.floor(Date.now() / 1000) + 1;
      const f = ['--since', String(since), '--until', String(until), '--filter', `container=${n}`, '--filter', 'type=container'];
      const obs = res(await s.cli(['events', ...f, '--format', '{{.Status}}']), '');
      Object.assign(
        obs,
        res(
          await s.cli(['events', ...f, '--filter', 'event=destroy', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}']),
          'destroy',
        ),
      );
      Object.assign(
        obs,
        res(await s.cli(['system', 'events', '--since', String(since), '--until', String(until), '--filter', 'type=nosuch']), 'bad-filter'),
      );
      return obs;
    },
  },
  {
    name: 'info as docker prints it on the same daemon',
    exclusive: true,
    needs: ['info'],
    run: async (s) => {
      // Counts move while the other side works on the same daemon; the Client section is each CLI's own.
      const tidy = (t: string) =>
        t
          .replace(/^( Containers| {2}Running| {2}Paused| {2}Stopped| Images): \d+$/gm, '$1: N')
          .replace(/^ Version: +\S+$/m, ' Version: V')
          .replace(/^ Runtimes: .*$/m, (l) => ` Runtimes: ${l.slice(11).split(' ').sort().join(' ')}`);
      const [mine, ref] = await Promise.all([s.cli(['info']), s.docker(['info'])]);
      return {
        code: String(mine.code),
        same: String(tidy(mine.stdout) === tidy(ref.stdout)),
        stdout: tidy(mine.stdout).split('Server:')[0]!,
        stderr: mine.stderr,
      };
    },
  },
  {
    name: 'system df -v as docker prints it on the same daemon',
    exclusive: true,
    needs: ['system df', 'volume create', 'volume rm'],
    run: async (s) => {
      await s.cli(['volume', 'create', `df${s.tag}`]);
      const [mine, ref] = await Promise.all([s.cli(['system', 'df', '-v']), s.docker(['system', 'df', '-v'])]);
      const [mineJ, refJ] = await Promise.all([
        s.cli(['system', 'df', '--format', 'json']),
        s.docker(['system', 'df', '--format', 'json']),
      ]);
      await s.cli(['volume', 'rm', `df${s.tag}`]);
      return {
        code: String(mine.code),
        // Two calls a moment apart: "9 seconds ago" may become "10 seconds ago" in between.
        same: String(collapse(normalise(mine.stdout)) === collapse(normalise(ref.stdout))),
        json: String(normalise(mineJ.stdout) === normalise(refJ.stdout)),
      };
    },
  },
  {
    name: 'events as docker prints them on the same daemon',
    needs: ['events', 'volume create', 'volume rm'],
    run: async (s) => {
      const since = String(Math.floor(Date.now() / 1000) - 1);
      await s.cli(['volume', 'create', `ev${s.tag}`]);
      await s.cli(['volume', 'rm', `ev${s.tag}`]);
      const until = String(Math.floor(Date.now() / 1000) + 1);
      const obs: Obs = {};
      for (const [k, extra] of [
        ['default', []],
        ['json', ['--format', 'json']],
        ['template', ['--format', '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes}} {{.Scope}}']],
      ] as const) {
        const args = ['events', '--since', since, '--until', until, '--filter', `volume=ev${s.tag}`, ...extra];
        const [mine, ref] = await Promise.all([s.cli(args), s.docker(args)]);
        obs[k] = mine.stdout === ref.stdout ? 'same' : `${mine.stdout}\n≠\n${ref.stdout}`;
      }
      return obs;
    },
  },
  {
    name: 'system prune -f',
    needs: ['system prune', 'create'],
    run: async (s) => {
      await s.cli(['create', ...NONE, '--label', `sp=${s.tag}`, '--name', `sp${s.tag}`, 'busybox', 'true']);
      const obs = res(await s.cli(['system', 'prune', '--filter', `label=sp=${s.tag}`], { input: 'n\n' }), 'no');
      Object.assign(obs, res(await s.cli(['system', 'prune', '-f', '--filter', `label=sp=${s.tag}`]), 'yes'));
      Object.assign(obs, res(await s.cli(['system', 'prune', '-f', '--volumes', '--filter', 'until=1h']), 'until'));
      await s.cli(['rm', '-f', `sp${s.tag}`]);
      return obs;
    },
  },
  {
    name: 'the daemon not running',
    needs: ['info', 'volume ls'],
    run: async (s) => {
      const env = { DOCKER_HOST: 'unix:///nonexistent/berth-cli-test.sock' };
      const obs = res(await s.cli(['info'], { env }), 'info');
      Object.assign(obs, res(await s.cli(['volume', 'ls'], { env }), 'volume-ls'));
      return obs;
    },
  },
  {
    name: 'events stream until interrupted',
    needs: ['events', 'volume create', 'volume rm'],
    run: async (s) => {
      const v = `evs${s.tag}`;
      // --since replays what happened before the stream was up, then it goes on live.
      const since = String(Math.floor(Date.now() / 1000) - 1);
      await s.cli(['volume', 'create', v]);
      const ev = s.start(['events', '--since', since, '--filter', `volume=${v}`, '--format', '{{.Type}} {{.Action}} {{.Actor.ID}}']);
      for (let i = 0; i < 200 && !ev.stdout().includes('create'); i++) await sleep(50);
      await s.cli(['volume', 'rm', v]);
      for (let i = 0; i < 200 && !ev.stdout().includes('destroy'); i++) await sleep(50);
      const seen = ev.stdout();
      ev.signal('SIGINT');
      const r = await ev.done;
      return { 'live.stdout': seen, 'after.stdout': r.stdout.slice(seen.length), stderr: r.stderr, code: String(r.code) };
    },
  },
  {
    name: 'system prune --help',
    needs: ['system prune'],
    run: async (s) => res(await s.cli(['system', 'prune', '--help']), '', { table: true }),
  },
];

// ------------------------------------------------------------------ the test

/** Runs `fn` over `items`, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Builds the bundle when it is missing or older than the sources: a CLI started through tsx costs ~1 s a call. */
function freshBundle(): void {
  if (process.env.BERTH_CLI || bundleIsFresh()) return;
  const bundler = readFileSync(join(REPO_ROOT, 'scripts', 'bundle.mjs'), 'utf8');
  if (!bundler.includes('src/bin/berth.ts')) return;
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'bundle.mjs')], { cwd: REPO_ROOT, stdio: 'ignore' });
}

const matches = (m: Match, s: string) => (typeof m === 'string' ? m === s : m.test(s));
const edit = (s: string, edits: Edit[] = []) => edits.reduce((acc, [re, to]) => acc.replace(re, to), s);
const skip = berthdUnavailable() ?? dockerdUnavailable();

describe('berth and docker give the same answers (berth→berthd, docker→berthd, berth→dockerd)', { skip, timeout: 240_000 }, () => {
  let berthd: Berthd | undefined;
  let dockerd: Dockerd | undefined;
  let registry: TestRegistry | undefined;
  let dir: string;
  const results = new Map<string, Record<SideName, Obs>>();
  const skipped = new Map<string, string>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cli-'));
    freshBundle();
    const t0 = Date.now();
    const [b, d, r] = await Promise.allSettled([
      Berthd.start(),
      Dockerd.start(),
      registryMissing() ? Promise.resolve(undefined) : startRegistry({ mode: 'anonymous' }),
    ]);
    if (b.status === 'fulfilled') berthd = b.value;
    if (d.status === 'fulfilled') dockerd = d.value;
    if (r.status === 'fulfilled') registry = r.value;
    for (const x of [b, d, r]) if (x.status === 'rejected') throw x.reason;
    if (registry) {
      // An image and a layer of its own per repository, so that one rmi never meets another's
      // image, and no pull finds a layer another side pulled ("Already exists") before GC, which
      // follows an rmi shortly, has collected it.
      const tar = busyboxTar(dir);
      for (const t of ['sa', 'sb', 'sc'])
        for (const repo of [`pulled-${t}`, `onrun-${t}`]) {
          const layer = tarWithFile(tar, 'etc/berth-test-repo', `${repo}\n`);
          const img = imageOf([layer], { docker: true, config: { config: { Cmd: ['sh'], Labels: { repo } } } });
          await putImage(registry, repo, '1', [img]);
        }
    }
    const t1 = Date.now();

    const noCli = berthCliUnavailable();
    const have = noCli ? new Set<string>() : await berthCommands();
    const clientEnv = { FROM_CLIENT: 'c1' };
    const sideOf = (name: SideName, tag: string, o: CliOptions, prog: typeof berth | typeof docker): Side => ({
      name,
      tag,
      registry,
      dir,
      cli: (args, x = {}) => prog(args, { ...o, ...x, env: { ...clientEnv, ...x.env } }),
      docker: (args, x = {}) => docker(args, { ...o, ...x, env: { ...clientEnv, ...x.env } }),
      start: (args) => start(args, { ...o, env: clientEnv, ...(prog === docker ? { cli: DOCKER_V28 } : {}) }),
    });
    const bo = { host: berthd!.host, config: berthd!.dockerConfig };
    const sides: Side[] = [
      sideOf('berth→berthd', '-sa', bo, berth),
      sideOf('docker→berthd', '-sb', bo, docker),
      sideOf('berth→dockerd', '-sc', { host: dockerd!.host, config: dockerd!.dockerConfig }, berth),
    ];
    const todo: Scenario[] = [];
    for (const s of SCENARIOS) {
      const missing = s.needs.filter((c) => !have.has(c));
      if (noCli) skipped.set(s.name, `command not implemented yet (${noCli})`);
      else if (missing.length > 0) skipped.set(s.name, `command not implemented yet: berth ${missing.join(', berth ')}`);
      else if (s.registry && !registry) skipped.set(s.name, registryMissing()!);
      else todo.push(s);
    }
    const runOne = async (s: Scenario) => {
      const t = Date.now();
      const safe = (side: Side) => s.run(side).catch((err: Error): Obs => ({ thrown: String(err.stack ?? err) }));
      const obs: Obs[] = [];
      if (s.exclusive) for (const side of sides) obs.push(await safe(side));
      else obs.push(...(await Promise.all(sides.map(safe))));
      results.set(s.name, { 'berth→berthd': obs[0]!, 'docker→berthd': obs[1]!, 'berth→dockerd': obs[2]! });
      if (process.env.CLI_SHOW) process.stderr.write(`${s.name}: ${Date.now() - t} ms\n`);
    };
    for (const s of todo.filter((x) => x.exclusive)) await runOne(s);
    // Mostly waiting on the daemons: four at a time.
    await pool(
      todo.filter((x) => !x.exclusive),
      4,
      runOne,
    );
    if (process.env.CLI_SHOW) process.stderr.write(`daemons up in ${t1 - t0} ms, scenarios in ${Date.now() - t1} ms\n`);
  });

  after(async () => {
    const problems = (await dockerd?.stop()) ?? [];
    await berthd?.stop();
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(problems, [], 'the reference dockerd left nothing behind');
  });

  for (const s of SCENARIOS) {
    test(s.name, (t) => {
      const why = skipped.get(s.name);
      if (why) return t.skip(why);
      const r = results.get(s.name);
      assert.ok(r, 'the scenario ran');
      const reg = registry?.host ?? '';
      const ref = r['docker→berthd'];
      const unlisted: string[] = [];
      for (const side of ['berth→berthd', 'berth→dockerd'] as const) {
        const got: Obs = r[side];
        for (const k of [...new Set<string>([...Object.keys(ref), ...Object.keys(got)])]) {
          const key: string = `${s.name} › ${k}`;
          const g = normalise(got[k] ?? '<absent>', reg);
          const want = normalise(ref[k] ?? '<absent>', reg);
          if (process.env.CLI_SHOW)
            process.stderr.write(
              `${g === want ? '=' : '≠'} ${key} [${side}]\n  got: ${JSON.stringify(g)}\n  ref: ${JSON.stringify(want)}\n`,
            );
          const allowed: Allowed | undefined = ALLOWED.find((a) => a.key === key && a.side === side);
          if (g === want) {
            assert.equal(
              allowed,
              undefined,
              `${key} [${side}]: listed as a difference but both give ${JSON.stringify(g)}: remove it from ALLOWED`,
            );
            continue;
          }
          if (!allowed) {
            unlisted.push(`${key} [${side}]\n    got: ${JSON.stringify(g)}\n    ref: ${JSON.stringify(want)}`);
            continue;
          }
          if (allowed.got !== undefined)
            assert.ok(matches(allowed.got, g), `${key} [${side}]: gives ${JSON.stringify(g)}, the table says ${allowed.got}`);
          if (allowed.ref !== undefined)
            assert.ok(matches(allowed.ref, want), `${key}: the reference gives ${JSON.stringify(want)}, the table says ${allowed.ref}`);
          if (allowed.edits) assert.equal(edit(g, allowed.edits), want, `${key} [${side}]: the listed edits do not explain the difference`);
        }
      }
      assert.deepEqual(unlisted, [], `differences not in ALLOWED:\n  ${unlisted.join('\n  ')}`);
    });
  }

  test('every ALLOWED entry names an observation of a scenario that ran', (t) => {
    if (results.size === 0) return t.skip('no scenario ran');
    const known = new Set<string>();
    for (const [name, r] of results) for (const o of Object.values(r)) for (const k of Object.keys(o)) known.add(`${name} › ${k}`);
    assert.deepEqual(
      ALLOWED.filter((a) => !known.has(a.key) && !skipped.has(a.key.split(' › ')[0]!)).map((a) => a.key),
      [],
    );
  });
});
