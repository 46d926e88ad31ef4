/**
 * The engine's side of berth-shim's control socket (docs/shim-protocol.md): requests and answers,
 * events, attach streams. One ShimClient is one connection; closing it is a detach, never a
 * change to the container.
 */
import { EventEmitter } from 'node:events';
import { closeSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BerthError } from '../../common/errors.js';
import { nativeIfLoadable } from '../../native/addon.js';
import {
  type ExitRecord,
  encodeData,
  encodeFrame,
  FrameDecoder,
  Kind,
  PROTOCOL_VERSION,
  type ShimInfo,
  type ShimState,
} from './protocol.js';

type Answer = Record<string, unknown> & { id: number; ok: boolean };
export type ShimEvent = Record<string, unknown> & { event: string; seq: number };

const KINDS: Record<string, BerthError['kind']> = {
  ENOENT: 'not-found',
  ESRCH: 'not-found',
  EINVAL: 'invalid-argument',
  ENOTTY: 'failed-precondition',
  ESTATE: 'failed-precondition',
  EALREADY: 'already-exists',
  EBUSY: 'unavailable',
  ENOSYS: 'not-implemented',
  EPROTONOSUPPORT: 'not-implemented',
};

export interface ShimClientEvents {
  event: [ShimEvent];
  stdout: [Buffer];
  stderr: [Buffer];
  /** One of the attached output streams ended. */
  end: ['stdout' | 'stderr'];
  close: [];
}

export class ShimClient extends EventEmitter<ShimClientEvents> implements AsyncDisposable, Disposable {
  private readonly pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private readonly decoder = new FrameDecoder();
  private closedErr: BerthError | undefined;
  readonly closed: Promise<void>;
  /** The shim's hello answer. */
  shimVersion = '';
  shimPid = 0;

  private constructor(
    private readonly sock: net.Socket,
    readonly socketPath: string,
  ) {
    super();
    this.closed = new Promise((resolve) => sock.once('close', () => resolve()));
    sock.on('data', (chunk: Buffer) => {
      let frames: ReturnType<FrameDecoder['push']>;
      try {
        frames = this.decoder.push(chunk);
      } catch (err) {
        this.fail(err as BerthError);
        return;
      }
      for (const f of frames) this.onFrame(f.kind, f.payload);
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      this.fail(new BerthError('unavailable', `shim '${socketPath}': connection closed`, { object: socketPath }));
      this.emit('close');
    });
  }

  /** Connects and says hello; a shim speaking another major version is refused. */
  static async connect(socketPath: string, client = 'berthd'): Promise<ShimClient> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(socketPath);
      s.once('connect', () => resolve(s));
      s.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new BerthError('unavailable', `connect shim '${socketPath}': ${err.code ?? err.message}`, { cause: err, object: socketPath }),
        ),
      );
    });
    const c = new ShimClient(sock, socketPath);
    try {
      const a = await c.request('hello', { v: PROTOCOL_VERSION, client });
      c.shimVersion = String(a.shim);
      c.shimPid = Number(a.pid);
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  private fail(err: BerthError): void {
    if (this.closedErr) return;
    this.closedErr = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.sock.destroy();
  }

  private onFrame(kind: number, payload: Buffer): void {
    if (kind === Kind.json) {
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(payload.toString('utf8'));
      } catch {
        this.fail(new BerthError('internal', `shim '${this.socketPath}': malformed JSON frame`));
        return;
      }
      if (typeof m.event === 'string') this.emit('event', m as ShimEvent);
      else if (typeof m.id === 'number') {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        p?.resolve(m as Answer);
      }
    } else if (kind === Kind.stdout) this.emit('stdout', payload);
    else if (kind === Kind.stderr) this.emit('stderr', payload);
    else if (kind === Kind.eof) this.emit('end', payload[0] === Kind.stderr ? 'stderr' : 'stdout');
  }

  /** One request; an `ok:false` answer becomes a BerthError with the shim's message. */
  async request(op: string, fields: Record<string, unknown> = {}): Promise<Answer> {
    if (this.closedErr) throw this.closedErr;
    const id = this.nextId++;
    const answer = new Promise<Answer>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.sock.write(encodeFrame(Kind.json, JSON.stringify({ ...fields, op, id })));
    const a = await answer;
    if (!a.ok) {
      const code = String(a.error ?? '');
      throw new BerthError(KINDS[code] ?? 'failed-precondition', `shim ${op}: ${String(a.message ?? code)}`, { object: this.socketPath });
    }
    return a;
  }

  state(): Promise<ShimState> {
    return this.request('state') as unknown as Promise<ShimState>;
  }

  /** Resolves with the exit record once the container has exited (at once if it has). */
  async wait(): Promise<ExitRecord> {
    const a = await this.request('wait');
    const { id: _id, ok: _ok, ...rec } = a;
    return rec as unknown as ExitRecord;
  }

  /** Events (`started`, `exited`, `log_rotated`, `log_error`) on this connection from now on. */
  async subscribe(): Promise<number> {
    return Number((await this.request('subscribe')).seq);
  }

  /** Resolves once the process runs: its pid and start time (a shim before 0.1.1 answers neither). */
  async start(): Promise<{ pid?: number; started_at?: string }> {
    const a = await this.request('start');
    return {
      ...(typeof a.pid === 'number' ? { pid: a.pid } : {}),
      ...(typeof a.started_at === 'string' ? { started_at: a.started_at } : {}),
    };
  }

  async kill(signal: number, all = false): Promise<void> {
    await this.request('kill', { signal, all });
  }

  async resize(rows: number, cols: number): Promise<void> {
    await this.request('resize', { rows, cols });
  }

  /** This connection then carries the container's output ('stdout'/'stderr' events) and takes stdin. */
  async attach(streams: { stdin?: boolean; stdout?: boolean; stderr?: boolean }): Promise<void> {
    await this.request('attach', { stdin: streams.stdin ?? false, stdout: streams.stdout ?? true, stderr: streams.stderr ?? true });
  }

  /** The plan of the next `exec` on this connection (a plan frame, at most 1 MiB). */
  sendPlan(plan: string): void {
    if (this.closedErr) throw this.closedErr;
    this.sock.write(encodeFrame(Kind.plan, plan));
  }

  writeStdin(data: Buffer | string): void {
    if (this.closedErr) throw this.closedErr;
    for (const f of encodeData(Kind.stdin, typeof data === 'string' ? Buffer.from(data) : data)) this.sock.write(f);
  }

  async closeStdin(): Promise<void> {
    await this.request('close_stdin');
  }

  /** The shim may exit once the exit record is durable (it does after 30 s without clients anyway). */
  async release(): Promise<void> {
    await this.request('release');
  }

  close(): void {
    this.sock.destroy();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.closed;
  }
}

/** shim.json of a state dir, or undefined. */
export function readShimInfo(stateDir: string): ShimInfo | undefined {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, 'shim.json'), 'utf8')) as ShimInfo;
  } catch {
    return undefined;
  }
}

export function readExitRecord(stateDir: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, 'exit.json'), 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/<pid>/stat, or undefined if the process is gone (or a zombie). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie is dead too (its parent, maybe an init that does not reap, just has not looked).
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

/** Is the shim of shim.json still that process (pid and start time: a reused pid is not it)? */
export function shimAlive(info: ShimInfo): boolean {
  const t = processStartTime(info.pid);
  return t !== undefined && t === info.start_time;
}

/**
 * Resolves true once the shim of `info` has exited (at once if it is gone), false after
 * `timeoutMs`. Followed on a pidfd where the addon loads, else looked at every 2 ms.
 */
export async function shimGone(info: ShimInfo, timeoutMs: number): Promise<boolean> {
  if (!shimAlive(info)) return true;
  const addon = nativeIfLoadable();
  let pidfd: number;
  try {
    if (!addon?.pidfdOpen) throw new Error('no addon');
    pidfd = addon.pidfdOpen(info.pid);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
    for (let waited = 0; shimAlive(info); waited += 2) {
      if (waited >= timeoutMs) return false;
      await sleep(2);
    }
    return true;
  }
  // the pidfd pins the process: if it is still the shim now, its exit is the one we see
  if (!shimAlive(info)) {
    closeSync(pidfd);
    return true;
  }
  return new Promise((resolve) => {
    let settled = false;
    const done = (gone: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      addon.unwatchFd(watch);
      closeSync(pidfd);
      resolve(gone);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    const watch = addon.watchFd(pidfd, () => done(true));
  });
}

/** The record of a container whose status is lost: exit code 255, as containerd reports it. */
export function lostExitRecord(message: string): ExitRecord {
  return {
    v: 1,
    pid: 0,
    exit_code: 255,
    signal: null,
    core_dumped: false,
    oom_killed: false,
    started_at: null,
    finished_at: new Date().toISOString(),
    reason: 'shim_lost',
    message,
  };
}

/**
 * The shim is dead: its exit.json if it wrote one, else the container's status is lost. Then
 * its processes may still run, orphaned: the cgroup is killed and waited for, and the record
 * is written as `shim_lost` with exit code 255 (what containerd reports when `shim delete`
 * gives nothing).
 */
export async function reconcileLostShim(stateDir: string, cgroup?: string, freezer?: string): Promise<ExitRecord> {
  const rec = readExitRecord(stateDir);
  if (rec) return rec;
  const killed = cgroup !== undefined && existsSync(path.join(cgroup, 'cgroup.kill')) ? cgroup : undefined;
  if (killed) await writeFile(path.join(killed, 'cgroup.kill'), '1').catch(() => {});
  // A paused container on the v1 freezer: its processes hold the SIGKILL (cgroup.kill's, or the
  // parent-death signal the shim's death sent) until thawed. Thawed only now, after the kill,
  // so that none of them runs again.
  if (freezer) await writeFile(path.join(freezer, 'freezer.state'), 'THAWED').catch(() => {});
  if (killed) {
    // Hang guard, not a timing: the kernel empties a killed cgroup within milliseconds.
    for (let i = 0; i < 200 && /populated 1/.test(readFileSync(path.join(killed, 'cgroup.events'), 'utf8')); i++) await sleep(10);
  }
  const lost = lostExitRecord('the shim died without an exit record');
  const tmp = path.join(stateDir, '.exit.json.tmp');
  writeFileSync(tmp, `${JSON.stringify(lost)}\n`);
  renameSync(tmp, path.join(stateDir, 'exit.json'));
  return lost;
}

/**
 * The container's exit, through its shim: `wait` on a connection; if the connection drops
 * and the shim is gone, the record it left or a `shim_lost` one (reconcileLostShim).
 */
export async function waitExit(
  stateDir: string,
  opts: { cgroup?: string; freezer?: string; client?: ShimClient } = {},
): Promise<ExitRecord> {
  for (;;) {
    const info = readShimInfo(stateDir);
    if (!info) throw new BerthError('not-found', `shim state '${stateDir}': no shim.json`, { object: stateDir });
    let c = opts.client;
    try {
      c ??= await ShimClient.connect(info.socket);
      return await c.wait();
    } catch (err) {
      if (!(err instanceof BerthError) || err.kind !== 'unavailable') throw err;
      // The shim may exit right after writing its record (release): that record is the truth.
      const rec = readExitRecord(stateDir);
      if (rec) return rec;
      if (!shimAlive(info)) return reconcileLostShim(stateDir, opts.cgroup, opts.freezer);
      opts = { ...opts, client: undefined };
      await sleep(50);
    } finally {
      if (c !== opts.client) c?.close();
    }
  }
}
