/**
 * OCI runtimes under test, driven through the runc command line.
 *
 * A `Runtime` is a description (name, argv prefix, its own temporary `--root`
 * directory) plus `run(args)`, so every runtime is driven by the same call
 * shapes: `rt.run(['create', '--bundle', dir, '--pid-file', f, id])`.
 *
 * Which runtimes: env `BERTH_CONFORMANCE_RUNTIMES` (comma-separated, default
 * `berth,runc`). Binaries: env `BERTH_RUNTIME_BIN` (default: package.json's
 * `bin['berth-runtime']`, e.g. dist/berth-runtime.cjs, run with this Node) and
 * `BERTH_RUNC_BIN` (default `runc` on PATH, e.g. /usr/sbin/runc).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type RuntimeName = 'berth' | 'runc';
export const ALL_RUNTIMES: readonly RuntimeName[] = ['berth', 'runc'];

export interface RunResult {
  /** Exit code, or null when killed by a signal (see `signal`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The full command line, for messages. */
  command: string;
  /** True when the guard timeout fired and the process was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  /** Data for stdin (default: stdin is /dev/null). */
  input?: string;
  /**
   * Send the process's stdout/stderr to these files instead of pipes. Needed
   * for verbs that leave a process behind holding their stdio (`create`,
   * `run --detach`): with pipes the output would never end.
   */
  stdoutFile?: string;
  stderrFile?: string;
  cwd?: string;
  /** Extra environment (merged over process.env). */
  env?: Record<string, string | undefined>;
  /**
   * A shell snippet run just before exec'ing the runtime (`/bin/sh -c
   * '<prelude>; exec "$@"'`), e.g. `umask 027` or `echo 5 > /proc/self/oom_score_adj`,
   * to give the runtime a particular inherited process state.
   */
  prelude?: string;
  /** Hang guard: the process is killed after this long (default 120 s). Not an assertion. */
  guardMs?: number;
}

export interface Runtime extends AsyncDisposable {
  readonly name: RuntimeName;
  /** Command prefix; `--root <rootDir>` and the verb follow it. */
  readonly argv: readonly string[];
  /** This runtime's private state directory (`--root`), created on first use. */
  readonly rootDir: string;
  /** undefined when runnable; otherwise why not (used as a skip reason). */
  readonly unavailable: string | undefined;
  run(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

function which(cmd: string): string | undefined {
  if (isAbsolute(cmd)) return isExecutable(cmd) ? cmd : undefined;
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/local/sbin', '/usr/sbin', '/sbin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, cmd);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where berth-runtime is expected: `BERTH_RUNTIME_BIN`, else package.json's
 * `bin['berth-runtime']`, else the first of dist/berth-runtime.{cjs,mjs,js} that exists.
 */
export function berthRuntimePath(): string {
  if (process.env.BERTH_RUNTIME_BIN !== undefined) return process.env.BERTH_RUNTIME_BIN;
  try {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin?: Record<string, string> | string };
    const bin = typeof pkg.bin === 'object' ? pkg.bin['berth-runtime'] : undefined;
    if (bin !== undefined) return join(REPO_ROOT, bin);
  } catch {
    /* no package.json: fall through */
  }
  const candidates = ['cjs', 'mjs', 'js'].map((ext) => join(REPO_ROOT, 'dist', `berth-runtime.${ext}`));
  return candidates.find((p) => existsSync(p)) ?? candidates[0] ?? join(REPO_ROOT, 'dist', 'berth-runtime.cjs');
}

function resolveRuntime(name: RuntimeName): { argv: string[]; unavailable: string | undefined; env: Record<string, string | undefined> } {
  if (name === 'runc') {
    const bin = which(process.env.BERTH_RUNC_BIN ?? 'runc');
    if (bin === undefined) return { argv: ['runc'], unavailable: 'runc is not installed (no runc on PATH; set BERTH_RUNC_BIN)', env: {} };
    return { argv: [bin], unavailable: undefined, env: {} };
  }
  const bin = berthRuntimePath();
  if (!existsSync(bin)) {
    return {
      argv: [process.execPath, bin],
      unavailable: `berth-runtime is not built (${bin} is missing; run npm run build)`,
      env: {},
    };
  }
  // A .cjs/.mjs/.js bundle is run with this Node; anything else (a wrapper script) is executed directly.
  const argv = /\.(c|m)?js$/.test(bin) ? [process.execPath, bin] : [bin];
  // NODE_EXTRA_CA_CERTS costs ~100 ms per Node start and is irrelevant to a runtime.
  return { argv, unavailable: undefined, env: { NODE_EXTRA_CA_CERTS: undefined } };
}

class CliRuntime implements Runtime {
  readonly name: RuntimeName;
  readonly argv: readonly string[];
  readonly unavailable: string | undefined;
  readonly #env: Record<string, string | undefined>;
  #rootDir: string | undefined;
  readonly #children = new Set<number>();

  constructor(name: RuntimeName) {
    const d = resolveRuntime(name);
    this.name = name;
    this.argv = d.argv;
    this.unavailable = d.unavailable;
    this.#env = d.env;
  }

  get rootDir(): string {
    this.#rootDir ??= mkdtempSync(join(tmpdir(), `berth-conformance-${this.name}-root-`));
    return this.#rootDir;
  }

  run(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (this.unavailable !== undefined) throw new Error(`runtime ${this.name} unavailable: ${this.unavailable}`);
    const full = [...this.argv, '--root', this.rootDir, ...args];
    return runCommand(full, { ...opts, env: { ...this.#env, ...opts.env } }, this.#children);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Stop only what we started and is still alive (hung runtime invocations).
    for (const pid of this.#children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (this.#rootDir === undefined) return;
    if (this.unavailable === undefined) {
      // Delete containers a failed test may have left behind.
      const list = await this.run(['list', '--format', 'json'], { guardMs: 30_000 }).catch(() => undefined);
      if (list !== undefined && list.code === 0) {
        let ids: string[] = [];
        try {
          const parsed: unknown = JSON.parse(list.stdout || 'null');
          if (Array.isArray(parsed)) ids = parsed.map((c: { id?: unknown }) => String(c.id));
        } catch {
          /* not JSON: nothing we can do */
        }
        for (const id of ids) await this.run(['delete', '--force', id], { guardMs: 30_000 }).catch(() => undefined);
      }
    }
    rmSync(this.#rootDir, { recursive: true, force: true });
    this.#rootDir = undefined;
  }
}

/** Runs one command; never rejects for a non-zero exit. */
export function runCommand(argv: readonly string[], opts: RunOptions = {}, track?: Set<number>): Promise<RunResult> {
  let cmd = argv;
  if (opts.prelude !== undefined) cmd = ['/bin/sh', '-c', `${opts.prelude}\nexec "$@"`, 'sh', ...argv];
  const [file, ...rest] = cmd;
  if (file === undefined) throw new Error('empty command');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const outFd = opts.stdoutFile !== undefined ? openSync(opts.stdoutFile, 'a') : undefined;
  const errFd = opts.stderrFile !== undefined ? openSync(opts.stderrFile, 'a') : undefined;
  const command = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
  return new Promise<RunResult>((resolvePromise, reject) => {
    const child = spawn(file, rest, {
      cwd: opts.cwd,
      env,
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', outFd ?? 'pipe', errFd ?? 'pipe'],
    });
    if (outFd !== undefined) closeSync(outFd);
    if (errFd !== undefined) closeSync(errFd);
    const pid = child.pid;
    if (pid !== undefined) track?.add(pid);
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    child.stdin?.on('error', () => undefined);
    let timedOut = false;
    const guard = setTimeout(() => {
      timedOut = true;
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }, opts.guardMs ?? 120_000);
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const finish = () => {
      if (settled || exit === undefined) return;
      settled = true;
      clearTimeout(guard);
      clearTimeout(grace);
      if (pid !== undefined) track?.delete(pid);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolvePromise({ ...exit, stdout, stderr, command, timedOut });
    };
    let grace: NodeJS.Timeout | undefined;
    child.on('error', (err) => {
      clearTimeout(guard);
      if (pid !== undefined) track?.delete(pid);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      // Pipes end when every holder closes them; a process left behind by the
      // runtime (a detached container) may hold them: do not wait for it forever.
      if (child.stdout === null && child.stderr === null) finish();
      else grace = setTimeout(finish, 2_000);
    });
    child.on('close', () => finish());
  });
}

/** The runtimes selected for this run (unavailable ones included: their checks skip). */
export function selectedRuntimeNames(): RuntimeName[] {
  const raw = process.env.BERTH_CONFORMANCE_RUNTIMES ?? ALL_RUNTIMES.join(',');
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const n of names) {
    if (!ALL_RUNTIMES.includes(n as RuntimeName)) {
      throw new Error(`BERTH_CONFORMANCE_RUNTIMES: unknown runtime '${n}' (known: ${ALL_RUNTIMES.join(', ')})`);
    }
  }
  return [...new Set(names)] as RuntimeName[];
}

export function createRuntime(name: RuntimeName): Runtime {
  return new CliRuntime(name);
}

/** A runtime's failure message: its stderr (or stdout), trimmed, for assertion messages. */
export function describeResult(r: RunResult): string {
  const out = (r.stderr.trim() || r.stdout.trim()).slice(0, 2000);
  const how = r.timedOut ? 'timed out (guard)' : r.code !== null ? `exit ${r.code}` : `signal ${r.signal}`;
  return `${r.command}: ${how}${out ? `\n${out}` : ''}`;
}

/** Synchronous check that a binary exists (for requires). */
export function findBinary(cmd: string): string | undefined {
  return which(cmd);
}

/** Reads a file, or undefined if it does not exist. */
export async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Runs a host command synchronously (small helpers: mount, unshare …). */
export function hostSync(argv: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const [file, ...rest] = argv;
  if (file === undefined) throw new Error('empty command');
  const r = spawnSync(file, rest, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? (r.error ? String(r.error) : '') };
}

/** A process running in the background, its output collected as it comes. */
export interface Background {
  readonly child: ChildProcess;
  /** Exit code, or null when killed by a signal. */
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
  /** SIGKILL if still running (for cleanup). */
  kill(): void;
}

/**
 * Starts `argv` in the background with stdout and stderr collected; `fds` become fds 3, 4, …
 * of the child (for tests of what does and does not reach a container).
 */
export function background(
  argv: readonly string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; fds?: number[] } = {},
): Background {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('background: empty argv');
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe', ...(opts.fds ?? [])],
    env: { ...process.env, ...opts.env },
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    exited,
    stdout: () => out,
    stderr: () => err,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** The runtime in the background: `rt.argv --root <root> ARGS`, with NODE_EXTRA_CA_CERTS unset. */
export function backgroundRuntime(
  rt: Runtime,
  args: readonly string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; fds?: number[] } = {},
): Background {
  return background([...rt.argv, '--root', rt.rootDir, ...args], { ...opts, env: { NODE_EXTRA_CA_CERTS: undefined, ...opts.env } });
}

/**
 * The receiving end of `--console-socket` (native/build/berth-recvtty) listening on `socket`;
 * resolves once it listens. Its stdout is what the container wrote on the terminal; `input` is
 * typed into the terminal once the pty master arrives.
 */
export async function consoleReceiver(socket: string, input?: string): Promise<Background> {
  const bg = background([join(REPO_ROOT, 'native/build/berth-recvtty'), ...(input === undefined ? [] : ['--input', input]), socket]);
  for (let i = 0; !bg.stderr().includes('listening'); i++) {
    if (i > 3000 || bg.child.exitCode !== null) throw new Error(`berth-recvtty did not listen on ${socket}: ${bg.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return bg;
}
