/**
 * berthd's shim spawner: one `berth-shim --spawner` process, started on the first container
 * start and kept, that forks the shims (docs/shim-protocol.md, "The spawner"). Without it each
 * start forks berthd — a 60 MB Node process, ~2 ms of its main thread — and execs the shim,
 * which then moves itself into the shims' cgroup; the spawner is small, already in that cgroup,
 * and needs no exec.
 *
 * The spawner dies with berthd (PDEATHSIG) and at EOF on its stdin. If it is gone (killed, or
 * failed to start) a start falls back to startShim, the direct way, and the next start tries a
 * new spawner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { BerthError } from '../../common/errors.js';
import { frameSize, Kind, MAX_JSON_FRAME, MAX_PLAN_FRAME, putFrame, type ShimRequest } from './protocol.js';
import { type StartedShim, startShim } from './spawn.js';

interface Pending {
  resolve: (s: StartedShim) => void;
  reject: (e: Error) => void;
  req: ShimRequest;
  plan: string | undefined;
}

/** Writes a spawn request: [u32 id][u32 length][the shim's stdin frames], big-endian. */
export function encodeSpawnRequest(id: number, req: ShimRequest, plan?: string): Buffer {
  const json = JSON.stringify(req);
  const size = frameSize(Kind.json, json) + (plan === undefined ? 0 : frameSize(Kind.plan, plan));
  if (size > MAX_JSON_FRAME + MAX_PLAN_FRAME) throw new BerthError('invalid-argument', `shim request of ${size} bytes`);
  const out = Buffer.allocUnsafe(8 + size);
  out.writeUInt32BE(id, 0);
  out.writeUInt32BE(size, 4);
  const end = putFrame(out, 8, Kind.json, json);
  if (plan !== undefined) putFrame(out, end, Kind.plan, plan);
  return out;
}

/** One answer line: `<id> <json>` or `<id> error: <text>`. */
export function parseSpawnAnswer(line: string): { id: number; shim?: StartedShim; error?: string } | undefined {
  const m = /^(\d+) (.*)$/.exec(line);
  if (!m) return undefined;
  const id = Number(m[1]);
  const text = m[2] as string;
  if (text.startsWith('error: '))
    return {
      id,
      error: text
        .slice('error: '.length)
        .replace(/^berth-shim: /, '')
        .trim(),
    };
  try {
    return { id, shim: JSON.parse(text) as StartedShim };
  } catch {
    return { id, error: `unexpected answer: ${text.slice(0, 200)}` };
  }
}

export class ShimSpawner {
  private child: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buf = '';
  private closed = false;
  /** The binary has no spawner mode (it refused `--spawner` before answering): direct starts only. */
  private unsupported = false;

  /**
   * `cgroups`: the cgroup.procs files the spawner joins (its shims are born there). `nsinit`: the
   * berth-nsinit the requests name; the spawner keeps one sealed copy of it in memory, which its
   * shims execute (berth-nsinit would otherwise copy itself at every launch: CVE-2019-5736).
   */
  constructor(
    private readonly binary: string,
    private readonly cgroups: () => string[],
    private readonly log?: (msg: string) => void,
    private readonly nsinit?: string,
    /** How long the spawner waits idle before it forks a warm child unasked (tests: long). */
    private readonly warmIdleMs?: number,
  ) {}

  /**
   * A hint that a start is coming (berthd sends it at a container's create): the spawner forks
   * its warm child, with berth-nsinit started ahead, now if it has none (docs/shim-protocol.md,
   * "The spawner"), while the create is answered. Starts the spawner if it is not running.
   */
  warm(): void {
    const child = this.closed || this.unsupported ? undefined : this.running();
    // id 0 with no bytes: never a request (ids start at 1), and never answered
    if (child?.stdin?.writable) child.stdin.write(Buffer.alloc(8));
  }

  /** Starts a shim; resolves once it serves its socket (as startShim). */
  spawn(req: ShimRequest, plan?: string): Promise<StartedShim> {
    const child = this.closed || this.unsupported ? undefined : this.running();
    // no spawner: the direct way, with the move into the shims' cgroup done by the shim itself
    if (!child?.stdin?.writable) return startShim({ ...req, shim_cgroups: this.cgroups() }, plan, this.binary);
    const id = this.nextId++;
    const message = encodeSpawnRequest(id, { ...req, shim_cgroups: undefined }, plan);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, req, plan });
      this.holdLoop(true);
      child.stdin?.write(message);
    });
  }

  /** Stops the spawner (berthd's shutdown); shims it started live on. */
  close(): void {
    this.closed = true;
    const c = this.child;
    this.child = undefined;
    if (c?.pid !== undefined && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    this.failAll('berthd is shutting down');
  }

  private running(): ChildProcess | undefined {
    const c = this.child;
    if (c && c.exitCode === null && c.signalCode === null) return c;
    return this.startSpawner();
  }

  private startSpawner(): ChildProcess | undefined {
    let c: ChildProcess;
    try {
      // stderr: berthd's own (its log), where the spawner says what it could not do
      const args = [
        '--spawner',
        ...(this.warmIdleMs !== undefined ? [`--warm-idle-ms=${this.warmIdleMs}`] : []),
        ...(this.nsinit ? [`--nsinit=${this.nsinit}`] : []),
        ...this.cgroups(),
      ];
      c = spawn(this.binary, args, { stdio: ['pipe', 'pipe', 'inherit'], argv0: 'berth-shim' });
    } catch (err) {
      this.log?.(`shim spawner: ${(err as Error).message}`);
      return undefined;
    }
    this.child = c;
    this.buf = '';
    c.stdin?.on('error', () => {});
    c.stdout?.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    c.once('error', (err) => this.log?.(`shim spawner: ${err.message}`));
    let answered = false;
    c.stdout?.once('data', () => {
      answered = true;
    });
    c.once('exit', (code, signal) => {
      if (this.child === c) this.child = undefined;
      if (!answered && code === 2 && !this.closed) {
        // usage error: a shim binary without `--spawner` (an older or a test's one); it forked
        // nothing, so what waits is started the direct way, and so is every later start
        this.unsupported = true;
        this.log?.(`shim spawner: ${this.binary} has no spawner mode; starting shims directly`);
        for (const [id, p] of this.pending) {
          this.pending.delete(id);
          startShim({ ...p.req, shim_cgroups: this.cgroups() }, p.plan, this.binary).then(p.resolve, p.reject);
        }
        return;
      }
      if (!this.closed) this.log?.(`shim spawner exited (${signal ?? code}); the next start makes another`);
      // A request in flight may or may not have started its shim: the start fails, and its
      // clean-up (start.ts stopLeftovers) shuts down whatever answers on its socket.
      this.failAll('the shim spawner exited');
    });
    // idle, it must not keep its parent alive (berthd's shutdown, a test's end): only an
    // answer being waited for does (holdLoop)
    c.unref();
    handle(c.stdin)?.unref();
    handle(c.stdout)?.unref();
    return c;
  }

  private onData(d: string): void {
    this.buf += d;
    for (let nl = this.buf.indexOf('\n'); nl >= 0; nl = this.buf.indexOf('\n')) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      const a = parseSpawnAnswer(line);
      const p = a && this.pending.get(a.id);
      if (!a || !p) {
        this.log?.(`shim spawner: unexpected line '${line.slice(0, 200)}'`);
        continue;
      }
      this.pending.delete(a.id);
      if (this.pending.size === 0) this.holdLoop(false);
      if (a.shim) p.resolve(a.shim);
      else p.reject(new BerthError('failed-precondition', `start shim for '${p.req.id}': ${a.error}`, { object: p.req.id }));
    }
  }

  /** While answers are awaited the pipe from the spawner keeps the event loop alive. */
  private holdLoop(on: boolean): void {
    // the pipe for the answer; the process for its exit, which decides what happens to them
    for (const h of [handle(this.child?.stdout), this.child]) {
      if (on) h?.ref();
      else h?.unref();
    }
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new BerthError('unavailable', `start shim for '${p.req.id}': ${why}`, { object: p.req.id }));
    }
  }
}

/** The ref/unref of a child's pipe (a net.Socket underneath; not in the Readable/Writable types). */
function handle(stream: unknown): { ref(): void; unref(): void } | undefined {
  const s = stream as { ref?: () => void; unref?: () => void } | null | undefined;
  return s?.ref && s.unref ? { ref: () => s.ref?.(), unref: () => s.unref?.() } : undefined;
}
