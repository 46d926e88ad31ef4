/**
 * Running the `berth` CLI (and the docker CLIs, for comparison) as a user would: a process with
 * its own environment — DOCKER_HOST, DOCKER_CONFIG, BERTH_NO_AUTOSTART=1 (a test never has a
 * daemon started behind its back), no NODE_EXTRA_CA_CERTS (a user's machine has none) — stdin
 * from a string or /dev/null, and the result as {code, stdout, stderr}.
 *
 * Which `berth`: `BERTH_CLI=dist` (the bundle, dist/berth.cjs), `BERTH_CLI=tsx` (the sources,
 * `node --import tsx src/bin/berth.ts`), or by default the bundle when it exists and is newer
 * than every source file, the sources otherwise (a stale bundle would test old code).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DOCKER_V28 } from './berthd.js';
import { REPO_ROOT, type RunResult, runCommand } from './runtime.js';

export const BERTH_ENTRY = join(REPO_ROOT, 'src', 'bin', 'berth.ts');
export const BERTH_BUNDLE = join(REPO_ROOT, 'dist', 'berth.cjs');

export interface CliResult {
  /** Exit status; a process killed by a signal gives 128 + the signal's number, as a shell says. */
  code: number;
  stdout: string;
  stderr: string;
  /** The command line, for messages. */
  command: string;
}

export interface CliOptions {
  /** DOCKER_HOST (`unix:///…/berth.sock`). */
  host: string;
  /** DOCKER_CONFIG: the directory of config.json. */
  config: string;
  /** stdin's content; /dev/null when absent. */
  input?: string;
  /** More environment (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Hang guard (default 60 s): the process is killed after this long. */
  guardMs?: number;
}

/** Why the `berth` CLI cannot run here, or undefined. */
export function berthCliUnavailable(): string | undefined {
  if (!existsSync(BERTH_ENTRY) && !existsSync(BERTH_BUNDLE)) return 'the berth CLI is not there yet (src/bin/berth.ts)';
  return undefined;
}

let chosen: string[] | undefined;

/** The argv that starts `berth`. */
export function berthArgv(): string[] {
  if (chosen) return chosen;
  const want = process.env.BERTH_CLI;
  const bundle = [process.execPath, BERTH_BUNDLE];
  // tsx by its path: a test may run berth in another working directory.
  const sources = [process.execPath, '--import', pathToFileURL(createRequire(BERTH_ENTRY).resolve('tsx')).href, BERTH_ENTRY];
  if (want === 'dist') chosen = bundle;
  else if (want === 'tsx') chosen = sources;
  else chosen = bundleIsFresh() ? bundle : sources;
  return chosen;
}

/** The bundle exists and is newer than every source file. */
export function bundleIsFresh(): boolean {
  return existsSync(BERTH_BUNDLE) && statSync(BERTH_BUNDLE).mtimeMs >= newestSource(join(REPO_ROOT, 'src'));
}

/** True when `berthArgv()` runs the bundle (fast starts) rather than the sources through tsx. */
export function berthIsBundle(): boolean {
  return berthArgv()[1] === BERTH_BUNDLE;
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function cliEnv(o: CliOptions): Record<string, string | undefined> {
  return {
    DOCKER_HOST: o.host,
    DOCKER_CONFIG: o.config,
    DOCKER_CONTEXT: undefined,
    DOCKER_API_VERSION: undefined,
    DOCKER_BUILDKIT: '0',
    BERTH_NO_AUTOSTART: '1',
    NODE_EXTRA_CA_CERTS: undefined,
    NO_COLOR: '1',
    ...o.env,
  };
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

function toResult(r: RunResult): CliResult {
  const code = r.code ?? 128 + (SIGNALS[r.signal ?? ''] ?? 0);
  return { code, stdout: r.stdout, stderr: r.stderr, command: r.command };
}

async function run(argv: string[], o: CliOptions): Promise<CliResult> {
  const r = await runCommand(argv, {
    env: cliEnv(o),
    ...(o.input !== undefined ? { input: o.input } : {}),
    ...(o.cwd !== undefined ? { cwd: o.cwd } : {}),
    guardMs: o.guardMs ?? 60_000,
  });
  return toResult(r);
}

/** A CLI left running (`events`, `logs -f`): its output so far, a signal to send, its end. */
export interface RunningCli {
  stdout(): string;
  signal(sig: NodeJS.Signals): void;
  done: Promise<CliResult>;
}

/** Starts `berth` (or, with `cli`, another program such as the docker CLI) and leaves it running. */
export function start(args: string[], o: CliOptions & { cli?: string }): RunningCli {
  const argv = o.cli ? [o.cli, ...args] : [...berthArgv(), ...args];
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(cliEnv(o))) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], ...(o.cwd ? { cwd: o.cwd } : {}) });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), o.guardMs ?? 60_000);
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code, sig) => {
      clearTimeout(guard);
      resolve({ code: code ?? 128 + (SIGNALS[sig ?? ''] ?? 0), stdout: out, stderr: err, command: argv.join(' ') });
    }),
  );
  return { stdout: () => out, signal: (sig) => child.kill(sig), done };
}

/** `berth <args>` against `o.host`. */
export function berth(args: string[], o: CliOptions): Promise<CliResult> {
  return run([...berthArgv(), ...args], o);
}

/** `docker <args>` (the v28 CLI unless `cli` says otherwise) against `o.host`. */
export function docker(args: string[], o: CliOptions & { cli?: string }): Promise<CliResult> {
  return run([o.cli ?? DOCKER_V28, ...args], o);
}

/**
 * The commands `berth` has, as typed: `run`, `container run`, `volume ls`, `info`, … (the verbs
 * of each group with their aliases, the top-level shortcuts, the top-level-only commands). Read
 * from the command indexes, so a scenario whose command is not written yet can be skipped.
 */
export async function berthCommands(): Promise<Set<string>> {
  const out = new Set<string>();
  const groups = await Promise.all([
    import('../../src/cli/commands/containers/index.js').then((m) => m.containerGroup),
    import('../../src/cli/commands/images/index.js').then((m) => m.imageGroup),
    import('../../src/cli/commands/volumes/index.js').then((m) => m.volumeGroup),
    import('../../src/cli/commands/system/index.js').then((m) => m.systemGroup),
  ]);
  for (const g of groups)
    for (const c of g.commands) {
      for (const n of [c.name, ...(c.aliases ?? [])]) out.add(`${g.name} ${n}`);
      if (c.topLevel) out.add(c.topLevel);
    }
  const { topCommands } = await import('../../src/cli/commands/top/index.js');
  for (const c of topCommands) for (const n of [c.name, ...(c.aliases ?? [])]) out.add(n);
  return out;
}
