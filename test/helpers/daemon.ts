/**
 * Real daemons (containerd, dockerd) started by a test with everything of theirs under one
 * temporary directory, and the cleanup of what they leave on the host.
 *
 * - `RuntimeWrapper`: an executable that clients take as their runc binary; it logs each call
 *   (one line of argv per call in `calls.log`) and execs berth-runtime with this Node.
 * - `startDaemon` / `Daemon.stop`: spawn, wait for the socket (bounded), stop by pid (SIGTERM,
 *   wait, SIGKILL).
 * - `HostTraces`: paths outside the temp dir that the daemons create at fixed places
 *   (`/run/containerd/s`, `/run/docker/plugins`, …); only those that did not exist before are
 *   removed, and only when empty.
 * - `killShims`, `removeCgroupTree`, `shimSocket`: the rest of a run's leftovers, found by
 *   what identifies them as ours (our containerd address, our unique cgroup name).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive, waitFor } from './container.js';
import { berthRuntimePath, describeResult, findBinary, runCommand } from './runtime.js';

// ------------------------------------------------------------------ wrapper

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** An executable runc stand-in that logs its argv and execs berth-runtime. */
export class RuntimeWrapper {
  readonly path: string;
  readonly callsLog: string;

  constructor(dir: string, name = 'berth-runtime') {
    this.path = join(dir, name);
    this.callsLog = join(dir, `${name}.calls.log`);
    const bin = berthRuntimePath();
    // A bundle is run with this Node (an absolute path: shims run with a minimal PATH).
    const exec = /\.(c|m)?js$/.test(bin) ? `${shQuote(process.execPath)} ${shQuote(bin)}` : shQuote(bin);
    writeFileSync(
      this.path,
      [
        '#!/bin/sh',
        '# berth test wrapper: log the call, then run berth-runtime in its place.',
        `printf '%s\\n' "$*" >> ${shQuote(this.callsLog)}`,
        // NODE_EXTRA_CA_CERTS makes every Node start slower and is irrelevant to a runtime.
        'unset NODE_EXTRA_CA_CERTS',
        `exec ${exec} "$@"`,
        '',
      ].join('\n'),
    );
    chmodSync(this.path, 0o755);
  }

  /** The calls so far, one argv string each. */
  calls(): string[] {
    try {
      return readFileSync(this.callsLog, 'utf8').split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  /** Calls whose verb (the first word after the global flags) is `verb`. */
  callsOf(verb: string): string[] {
    return this.calls().filter((c) => verbOf(c) === verb);
  }

  /** Container ids and `--root` values of every `create` call (to find leftovers). */
  created(): { root: string | undefined; id: string }[] {
    return this.callsOf('create').map((c) => {
      const words = c.split(' ');
      const i = words.indexOf('--root');
      return { root: i >= 0 ? words[i + 1] : undefined, id: words.at(-1) ?? '' };
    });
  }
}

/** `berth-runtime --root <root> state <id>`, parsed: berth-runtime's own view of a container a client made. */
export async function berthState(root: string, id: string): Promise<{ status: string; pid: number }> {
  const bin = berthRuntimePath();
  const argv = /\.(c|m)?js$/.test(bin) ? [process.execPath, bin] : [bin];
  const r = await runCommand([...argv, '--root', root, 'state', id], { env: { NODE_EXTRA_CA_CERTS: undefined } });
  if (r.code !== 0) throw new Error(`state failed: ${describeResult(r)}`);
  return JSON.parse(r.stdout) as { status: string; pid: number };
}

/** runc's global flags that take a value (the verb follows them). */
const GLOBAL_WITH_VALUE = new Set(['--root', '--log', '--log-format', '--criu', '--rootless']);

export function verbOf(call: string): string | undefined {
  const words = call.split(' ');
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    if (GLOBAL_WITH_VALUE.has(w)) i++;
    else if (!w.startsWith('-')) return w;
  }
  return undefined;
}

// ------------------------------------------------------------------ daemons

export interface DaemonOptions {
  /** The unix socket that says the daemon is ready once it accepts a connection. */
  socket: string;
  /** stdout and stderr of the daemon go here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Hang guard for the start (not a timing assertion). */
  guardMs?: number;
}

const started = new Set<number>();
process.on('exit', () => {
  // Last resort if a test process ends without its `after` (a crash): do not leave daemons.
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export class Daemon {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly #child: ChildProcess;
  #exit: Promise<void>;

  private constructor(name: string, child: ChildProcess, logFile: string) {
    this.name = name;
    this.#child = child;
    this.pid = child.pid ?? 0;
    this.logFile = logFile;
    this.#exit = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get exited(): boolean {
    return this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  /** The last lines of the daemon's log (for failure messages). */
  logTail(lines = 30): string {
    return tail(this.logFile, lines);
  }

  static async start(argv: readonly string[], opts: DaemonOptions): Promise<Daemon> {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error('empty daemon command');
    const fd = openSync(opts.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(file, args, { stdio: ['ignore', fd, fd], env: opts.env ?? process.env });
    } finally {
      closeSync(fd);
    }
    if (child.pid === undefined) throw new Error(`could not start ${file}`);
    started.add(child.pid);
    const d = new Daemon(file.split('/').at(-1) ?? file, child, opts.logFile);
    try {
      await waitFor(
        () => `${d.name} to listen on ${opts.socket}`,
        async () => {
          if (d.exited) throw new Error(`${d.name} exited during start:\n${d.logTail()}`);
          return existsSync(opts.socket) && (await canConnect(opts.socket)) ? true : undefined;
        },
        opts.guardMs ?? 60_000,
      );
    } catch (e) {
      await d.stop();
      throw e;
    }
    return d;
  }

  /** SIGTERM, wait (guard `graceMs`), then SIGKILL; resolves once the process is gone. */
  async stop(graceMs = 20_000): Promise<void> {
    if (!this.exited) {
      try {
        process.kill(this.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timedOut = await Promise.race([this.#exit.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        try {
          process.kill(this.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
        await this.#exit;
      }
    }
    started.delete(this.pid);
  }
}

/**
 * A containerd config of our own: root, state and sockets under `dir`, no CRI plugin, no opt
 * plugin (it would create /opt/containerd), none of the snapshotters we do not use.
 */
export function writeContainerdConfig(dir: string): { config: string; address: string } {
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'containerd.toml');
  writeFileSync(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(join(dir, 'containerd-root'))}`,
      `state = ${JSON.stringify(join(dir, 'containerd-state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs",',
      '  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]',
      '[grpc]',
      `  address = ${JSON.stringify(address)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
      '[debug]',
      `  address = ${JSON.stringify(join(dir, 'containerd-debug.sock'))}`,
      '  level = "info"',
      '',
    ].join('\n'),
  );
  return { config, address };
}

/** Places containerd 1.6 uses whatever its config says (shim sockets, ctr's default fifos). */
export const CONTAINERD_FIXED_PATHS = ['/run/containerd', '/run/containerd/s', '/run/containerd/fifo'];

// ------------------------------------------------------------------ leftovers

/** Paths at fixed places that a daemon may create: remembers which did not exist yet. */
export class HostTraces {
  readonly #created: string[];

  constructor(paths: readonly string[]) {
    this.#created = paths.filter((p) => !existsSync(p));
  }

  /** Removes what did not exist before, deepest first; directories only when empty. */
  remove(): string[] {
    const left: string[] = [];
    for (const p of [...this.#created].sort((a, b) => b.length - a.length)) {
      if (!existsSync(p)) continue;
      try {
        if (statSync(p).isDirectory()) rmdirSync(p);
        else rmSync(p);
      } catch {
        left.push(p);
      }
    }
    return left;
  }
}

/** containerd 1.6's shim socket for a task: /run/containerd/s/sha256(<address>/<namespace>/<id>). */
export function shimSocket(address: string, namespace: string, id: string): string {
  return join(
    '/run/containerd/s',
    createHash('sha256')
      .update(join(address, namespace, id))
      .digest('hex'),
  );
}

function cmdlineOf(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

/** Shims serving the containerd at `address` (they outlive containerd). */
export function shimsOf(address: string): number[] {
  return pids().filter((pid) => {
    const argv = cmdlineOf(pid);
    const i = argv.indexOf('-address');
    return (argv[0] ?? '').includes('containerd-shim') && i >= 0 && argv[i + 1] === address;
  });
}

/**
 * Shims serving the containerd at `address` that still run after `graceMs` (a shim exits by
 * itself once its last task is deleted, a moment after the delete returns): SIGKILL, by pid.
 * Returns the pids it had to kill.
 */
export async function killShims(address: string, graceMs = 0): Promise<number[]> {
  if (graceMs > 0) await waitFor('shims to exit', () => (shimsOf(address).length === 0 ? true : undefined), graceMs).catch(() => undefined);
  const found = shimsOf(address);
  for (const pid of found) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const pid of found) await waitFor(`shim ${pid} to exit`, () => (pidAlive(pid) ? undefined : true), 10_000).catch(() => undefined);
  return found;
}

/** Mount points of every cgroup hierarchy (v1 controllers and cgroup2). */
export function cgroupMounts(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    const fstype = post?.split(' ')[0];
    const mp = pre?.split(' ')[4];
    if (mp !== undefined && (fstype === 'cgroup' || fstype === 'cgroup2')) out.push(mp);
  }
  return out;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

function procsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Cgroup directories below `rel` in every hierarchy (`rel` itself excluded): containers' cgroups left behind. */
export function cgroupsBelow(rel: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const s of subdirs(d)) {
      out.push(s);
      walk(s);
    }
  };
  for (const mp of cgroupMounts()) walk(join(mp, rel));
  return out;
}

/**
 * Removes the cgroup `rel` (a name unique to this test run, e.g. `/berth-test-1a2b`) and
 * everything under it in every hierarchy: thaws frozen groups, SIGKILLs processes still in
 * them (a container of ours that outlived its daemon), then rmdirs depth first. Returns the
 * directories that could not be removed.
 */
export async function removeCgroupTree(rel: string): Promise<string[]> {
  const roots = cgroupMounts()
    .map((mp) => join(mp, rel))
    .filter((d) => existsSync(d));
  const all: string[] = [];
  const walk = (d: string) => {
    all.push(d);
    for (const s of subdirs(d)) walk(s);
  };
  for (const r of roots) walk(r);
  for (const d of all) {
    for (const [file, value] of [
      ['freezer.state', 'THAWED'],
      ['cgroup.freeze', '0'],
    ] as const) {
      if (existsSync(join(d, file))) {
        try {
          writeFileSync(join(d, file), value);
        } catch {
          /* not freezable here */
        }
      }
    }
    for (const pid of procsIn(d)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await waitFor('processes in our cgroups to exit', () => (all.every((d) => procsIn(d).length === 0) ? true : undefined), 10_000).catch(
    () => undefined,
  );
  const left: string[] = [];
  for (const d of all.sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
    }
  }
  return left;
}

/** The path of cgroup `rel` for `controller` (v1), or in the unified hierarchy (v2). */
export function cgroupFile(controller: string | undefined, rel: string, file: string): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    const [fstype, , opts] = (post ?? '').split(' ');
    const mp = pre?.split(' ')[4];
    if (mp === undefined) continue;
    if (controller === undefined ? fstype === 'cgroup2' : fstype === 'cgroup' && (opts ?? '').split(',').includes(controller)) {
      const p = join(mp, rel, file);
      if (existsSync(p)) return p;
    }
  }
  return undefined;
}

/** Why a daemon test cannot run here (a skip reason), or undefined. */
export function needsBinaries(...names: string[]): string | undefined {
  for (const n of names) if (findBinary(n) === undefined) return `needs '${n}' (not found; bash scripts/install.sh installs it)`;
  return undefined;
}
