/**
 * `docker exec`: an exec record (create), then the process in the container (start) through the
 * container's shim, which hosts it (src/engine/shim/launcher.ts shimExecLauncher). The client's
 * connection is attached to the exec on a shim connection of our own before the process is let
 * go (`start` on nsinit's sync channel), so no early output is lost; the exit code is recorded
 * before the stream ends, as `docker exec` reads it right after.
 */

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { BerthError } from '../../common/errors.js';
import { secureRandomHex } from '../../common/fs.js';
import type { Process } from '../../oci/spec.js';
import { warmOwnCgroupLock } from '../../runtime/cgroups/warm.js';
import { Container, exec } from '../../runtime/index.js';
import type { Launcher, LaunchSession } from '../../runtime/launcher/launcher.js';
import type { Engine } from '../engine.js';
import { ShimClient } from '../shim/client.js';
import { shimExecLauncher } from '../shim/launcher.js';
import { ALL_CAPABILITIES, replaceOrAppendEnv, resolveUser } from '../spec/index.js';
import { stdFrame } from './attach.js';
import { readRootfsFile } from './rootfs.js';

export interface ExecConfig {
  User?: string;
  Privileged?: boolean;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Detach?: boolean;
  DetachKeys?: string;
  Env?: string[] | null;
  WorkingDir?: string;
  Cmd?: string[] | null;
  ConsoleSize?: number[] | null;
}

export interface ExecRecord {
  ID: string;
  ContainerID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  config: ExecConfig;
  started: boolean;
  size?: { rows: number; cols: number };
  /** The shim's exec id while it runs (resize, signals). */
  socket?: string;
}

/** Exec records live in memory, as dockerd's do (they do not survive a restart there either). */
export class ExecStore {
  private readonly execs = new Map<string, ExecRecord>();
  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new BerthError('not-found', `No such exec instance: ${id}`, { object: id });
    return e;
  }
  add(e: ExecRecord): void {
    this.execs.set(e.ID, e);
    // bounded: dockerd drops exec records with their container; we also cap them
    if (this.execs.size > 10_000) {
      for (const [k, v] of this.execs) if (!v.Running) this.execs.delete(k);
    }
  }
  dropContainer(containerId: string): void {
    for (const [k, v] of this.execs) if (v.ContainerID === containerId) this.execs.delete(k);
  }
  forContainer(containerId: string): string[] {
    return [...this.execs.values()].filter((e) => e.ContainerID === containerId).map((e) => e.ID);
  }
}

export function createExec(engine: Engine, execs: ExecStore, ref: string, body: ExecConfig): string {
  const rec = engine.containers.get(ref);
  if (rec.State.Status === 'paused')
    throw new BerthError('failed-precondition', `Container ${rec.Id} is paused, unpause the container before exec`, { object: rec.Id });
  if (rec.State.Status !== 'running') throw new BerthError('failed-precondition', `Container ${rec.Id} is not running`, { object: rec.Id });
  if (!body.Cmd || body.Cmd.length === 0) throw new BerthError('invalid-argument', 'No exec command specified', { object: 'Cmd' });
  const id = secureRandomHex(32);
  const e: ExecRecord = { ID: id, ContainerID: rec.Id, Running: false, ExitCode: null, Pid: 0, config: body, started: false };
  const cs = body.ConsoleSize;
  if (cs && cs[0] && cs[1]) e.size = { rows: cs[0], cols: cs[1] };
  execs.add(e);
  engine.publish(rec, `exec_create: ${body.Cmd.join(' ')}`, { execID: id });
  return id;
}

/**
 * Runs the exec; with `conn`, its stdio is that connection's. Resolves once the exit is recorded.
 * `onStart` is told once whether the process started: a detached exec answers with it, as
 * dockerd does (`docker exec -d` reports a start failure).
 */
export async function startExec(
  engine: Engine,
  execs: ExecStore,
  execId: string,
  conn: Duplex | undefined,
  size?: { rows: number; cols: number },
  onStart?: (err?: BerthError) => void,
): Promise<void> {
  const e = execs.get(execId);
  if (e.started) throw new BerthError('failed-precondition', `Error: Exec command ${execId} has already run`, { object: execId });
  const rec = engine.containers.get(e.ContainerID);
  if (rec.State.Status !== 'running') throw new BerthError('failed-precondition', `Container ${rec.Id} is not running`, { object: rec.Id });
  e.started = true;
  // the exec joins the container's cgroups: the kernel's wait for that overlaps what follows
  warmOwnCgroupLock(engine.cgroupLayout());
  const cfg = e.config;
  const tty = cfg.Tty === true;
  const stdin = cfg.AttachStdin === true && conn !== undefined;
  const c = await Container.load(engine.runtimeRoot, rec.Id);
  const base = c.record.config.process;
  if (!base) throw new BerthError('internal', `container ${rec.Id}: no process in its spec`, { object: rec.Id });
  const process = await execProcess(engine, rec.SnapshotKey, base, cfg, rec.Config.User ?? '');
  const socket = engine.shimSocket(rec.Id);
  e.socket = socket;
  const stateDir = engine.stateDir(rec.Id);
  const consoleSocket = tty ? execConsoleSocket(engine, stateDir, rec.Id, execId) : undefined;

  // The client is attached between the exec's creation in the shim and its `start`.
  let attached: ShimClient | undefined;
  let outputDone: Promise<void> = Promise.resolve();
  const wantOut = conn !== undefined && (cfg.AttachStdout !== false || cfg.AttachStderr !== false);
  const inner = shimExecLauncher({ socket, execId, stdin, ...((size ?? e.size) ? { size: size ?? e.size! } : {}) });
  const launcher: Launcher = {
    launch(plan, lo) {
      const s = inner.launch(plan, lo) as LaunchSession & { ready: Promise<unknown> };
      let gate: Promise<void> | undefined;
      const attach = async () => {
        await s.ready;
        if (!conn) return;
        attached = await ShimClient.connect(socket);
        await attached.request('attach', {
          exec: execId,
          stdin,
          stdout: cfg.AttachStdout !== false,
          stderr: cfg.AttachStderr !== false && !tty,
        });
        outputDone = pipeOutput(attached, conn, tty, stdin, wantOut, cfg.AttachStderr !== false && !tty, execId);
      };
      return new Proxy(s, {
        get(target, prop, receiver) {
          if (prop === 'send')
            return (line: string) => {
              if (line !== 'start') return target.send(line);
              gate ??= attach().catch(() => {});
              void gate.then(() => target.send(line));
            };
          const v = Reflect.get(target, prop, receiver);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
  };
  e.Running = true;
  engine.publish(rec, `exec_start: ${(cfg.Cmd ?? []).join(' ')}`, { execID: execId });
  let exitCode = 126;
  let reported = false;
  const report = (err?: BerthError) => {
    if (reported) return;
    reported = true;
    onStart?.(err);
  };
  try {
    // runc refuses this before it starts anything (libcontainer's validation), in its words
    if (!process.cwd.startsWith('/')) throw new RuntimeValidationError('Cwd must be an absolute path');
    const r = await exec({
      root: engine.runtimeRoot,
      id: rec.Id,
      process,
      detach: false,
      ...(consoleSocket ? { consoleSocket } : {}),
      launcher,
      cgroupLockWarmed: true,
      onStarted: (pid) => {
        e.Pid = pid;
        report();
      },
    });
    exitCode = r.exitCode;
  } catch (err) {
    const failed = execStartError(err, execId);
    report(failed);
    if (conn && !conn.writableEnded) {
      const text = Buffer.from(`${failed.message}\r\n`);
      conn.write(tty ? text : stdFrame(1, text));
    }
    // dockerd 20.10 (daemon/exec.go): "Exec runs into an error, set the exit code to 126",
    // whatever the cause — unlike `docker run`, a missing command is not 127 here
    exitCode = 126;
  }
  report();
  // the exit code is known before the client sees the stream end
  e.ExitCode = exitCode;
  e.Running = false;
  await Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000).unref())]);
  attached?.close();
  if (conn && !conn.writableEnded) conn.end();
  engine.publish(rec, 'exec_die', { execID: execId, exitCode: String(exitCode) });
}

/** In the state dir when the path fits sun_path (107 bytes; a long --exec-root may not), else a short one. */
function execConsoleSocket(engine: Engine, stateDir: string, id: string, execId: string): string {
  const p = path.join(stateDir, `x-${execId.slice(0, 12)}.sock`);
  if (Buffer.byteLength(p) <= 107) return p;
  const dir = path.join(engine.options.execRoot, 's');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return path.join(dir, `${id.slice(0, 24)}.x${execId.slice(0, 12)}`);
}

/** A process runc's libcontainer refuses before starting it (no "unable to start container process"). */
class RuntimeValidationError extends Error {}

/**
 * A failed exec as dockerd 20.10 words it: containerd's shim wraps the runtime's error ("OCI
 * runtime exec failed: exec failed: unable to start container process: <cause>: unknown",
 * the last word the gRPC code) and moby's translateContainerdStartErr adds a hint to ENOTDIR and
 * answers 400 for the causes it recognises (a missing file, EACCES, ENOTDIR), else 500. The
 * cause is berth-nsinit's own text (runc's for a missing cwd, crun-like otherwise).
 */
export function execStartError(err: unknown, object: string): BerthError {
  const cause = err instanceof Error ? err.message : String(err);
  const what = err instanceof RuntimeValidationError ? cause : `unable to start container process: ${cause}`;
  let message = `OCI runtime exec failed: exec failed: ${what}: unknown`;
  const lower = message.toLowerCase();
  const known = /executable file not found|no such file or directory|permission denied|not a directory/.test(lower);
  if (lower.includes('not a directory'))
    message +=
      ': Are you trying to mount a directory onto a file (or vice-versa)? Check if the specified host path exists and is the expected type';
  return new BerthError(known ? 'invalid-argument' : 'internal', message, { object, cause: err });
}

function pipeOutput(
  c: ShimClient,
  conn: Duplex,
  tty: boolean,
  stdin: boolean,
  wantOut: boolean,
  wantErr: boolean,
  _execId: string,
): Promise<void> {
  return new Promise((resolve) => {
    let open = (wantOut ? 1 : 0) + (wantErr ? 1 : 0);
    if (open === 0) resolve();
    c.on('stdout', (b) => conn.write(tty ? b : stdFrame(1, b)));
    c.on('stderr', (b) => conn.write(stdFrame(2, b)));
    c.on('end', () => {
      if (--open <= 0) resolve();
    });
    c.on('close', () => resolve());
    if (stdin) {
      conn.on('data', (d: Buffer) => {
        try {
          c.writeStdin(d);
        } catch {}
      });
      conn.on('end', () => {
        c.request('close_stdin', { exec: _execId }).catch(() => {});
      });
    }
  });
}

async function execProcess(engine: Engine, snapshotKey: string, base: Process, cfg: ExecConfig, containerUser: string): Promise<Process> {
  const p: Process = { ...base, args: [...(cfg.Cmd ?? [])], terminal: cfg.Tty === true };
  delete p.consoleSize;
  if (cfg.Env?.length) p.env = replaceOrAppendEnv(base.env ?? [], cfg.Env);
  if (cfg.WorkingDir) p.cwd = cfg.WorkingDir;
  const userSpec = cfg.User || containerUser;
  if (cfg.User) {
    const mounts = await engine.images.snapshotter.mounts(snapshotKey);
    const { user } = resolveUser(userSpec, [], readRootfsFile(mounts, '/etc/passwd'), readRootfsFile(mounts, '/etc/group'));
    p.user = user;
    if (user.uid !== 0 && p.capabilities) p.capabilities = { bounding: p.capabilities.bounding ?? [] };
  }
  if (cfg.Privileged) {
    const all = [...ALL_CAPABILITIES];
    p.capabilities = { bounding: all, effective: all, permitted: all };
  }
  return p;
}
