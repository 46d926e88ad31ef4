/**
 * The runtime's Launcher through berth-shim: the library's prepare + launch work unchanged, but
 * berth-nsinit runs as the shim's child, and the shim stays as the container's parent, holding
 * its stdio and log, after the caller is gone. The launcher relays nsinit's sync messages
 * (docs/plan-format.md) over the shim's socket (docs/shim-protocol.md, `launch` and `send`).
 */
import { BerthError, invalid } from '../../common/errors.js';
import type { Launcher, LaunchMessage, LaunchOptions, LaunchSession } from '../../runtime/launcher/launcher.js';
import { MessageQueue } from '../../runtime/launcher/messages.js';
import { nsinitError, nsinitPath, parseErrorLine } from '../../runtime/launcher/nsinit.js';
import { encodePlan } from '../../runtime/plan/encode.js';
import type { LaunchPlan } from '../../runtime/plan/plan.js';
import { ShimClient, type ShimEvent } from './client.js';
import type { ShimRequest } from './protocol.js';
import { type StartedShim, shimPath, startShim } from './spawn.js';

export interface ShimLaunchOptions {
  /** The shim's state dir (shim.json, exit.json, shim.log, its socket unless `socket` says). */
  stateDir: string;
  socket?: string;
  log?: { path: string; maxSize?: number; maxFile?: number };
  /** Initial terminal size (the plan says whether there is a terminal). */
  size?: { rows: number; cols: number };
  /** Give the container a stdin pipe. */
  stdin?: boolean;
  /** The container's cgroup v2 directory. */
  cgroup?: string;
  /** cgroup.procs files the shim joins at start (cgroups.ts). */
  shimCgroups?: string[];
  oomScoreAdj?: number;
  shim?: string;
  nsinit?: string;
  /**
   * The process starts once created, before `start` is asked for (the shim's `start` field):
   * for a caller that starts right after the launch with nothing to do in between.
   */
  startOnCreated?: boolean;
  /** Starts the shim instead of startShim (spawner.ts); it also puts the shim in its cgroup. */
  spawner?: { spawn(req: ShimRequest, plan?: string): Promise<StartedShim> };
}

/** A launcher for ONE container: its shim's options are the container's. */
export function shimLauncher(opts: ShimLaunchOptions): Launcher {
  return { launch: (plan, lo) => new ShimSession(plan, lo, { kind: 'container', opts }) };
}

export interface ShimExecOptions {
  /** The control socket of the container's shim. */
  socket: string;
  /** The exec's id (unique among the shim's execs). */
  execId: string;
  stdin?: boolean;
  size?: { rows: number; cols: number };
}

/**
 * A launcher for one exec process hosted by the container's shim: berth-nsinit with the join
 * plan runs as the shim's child, with `wait 1` (the runtime's `exec` with `detach: false`): its
 * parent stage stays, since an exec'd process orphaned in the container's pid namespace goes to
 * the container's init, never to the shim, and its status is the exec's exit status.
 */
export function shimExecLauncher(opts: ShimExecOptions): Launcher {
  return { launch: (plan, lo) => new ShimSession(plan, lo, { kind: 'exec', opts }) };
}

type Target = { kind: 'container'; opts: ShimLaunchOptions } | { kind: 'exec'; opts: ShimExecOptions };

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

export class ShimSession implements LaunchSession {
  readonly exited: Promise<number>;
  /** The shim's connection once the helper runs; rejects if the shim could not be started or refused. */
  readonly ready: Promise<{ shim: StartedShim; client: ShimClient }>;
  private resolveExit!: (n: number) => void;
  private readonly messages = new MessageQueue(async (type) => {
    const code = await this.exited;
    if (this.startError) throw this.startError;
    throw new BerthError('internal', `container init exited with status ${code} before '${type}'`);
  });
  private helperExited = false;
  private startError: BerthError | undefined;
  private client: ShimClient | undefined;
  /** Whether `launch` (or `exec`) went out: lines sent later follow it on the connection. */
  private claimed = false;
  /** Lines sent before that: they go right behind the claim, without waiting for its answer. */
  private readonly queued: string[] = [];
  private readonly execId: string | undefined;

  constructor(plan: LaunchPlan, lo: LaunchOptions, target: Target) {
    const io = lo.stdio;
    if ((io.preserveFds?.length ?? 0) > 0 || [io.stdin, io.stdout, io.stderr].some((s) => s !== undefined && s !== 'ignore'))
      throw invalid("launch through a shim: the shim holds the process's stdio; the caller's fds cannot cross it", 'stdio');
    if (target.kind === 'container' && plan.wait)
      throw invalid('launch through a shim: a foreground run waits on the shim, not on berth-nsinit (plan wait 1)', 'wait');
    if (target.kind === 'exec' && !plan.wait)
      throw invalid(
        'exec through a shim: the exec must be launched with detach false (plan wait 1), so that its status reaches the shim',
        'wait',
      );
    if (plan.terminal && !plan.consoleSocket && target.kind === 'container')
      throw invalid('launch through a shim: a terminal needs a console socket', 'console-socket');
    this.exited = new Promise((r) => {
      this.resolveExit = r;
    });
    this.execId = target.kind === 'exec' ? target.opts.execId : undefined;
    this.ready = target.kind === 'container' ? this.bootContainer(plan, target.opts) : this.bootExec(plan, target.opts);
    this.ready.catch((err: BerthError) => {
      this.startError = err;
      this.push({ type: 'eof' });
      this.resolveExit(127);
    });
  }

  private async bootContainer(plan: LaunchPlan, opts: ShimLaunchOptions) {
    const req: ShimRequest = {
      v: 1,
      id: plan.id ?? 'container',
      state_dir: opts.stateDir,
      socket: opts.socket,
      nsinit: opts.nsinit ?? nsinitPath(),
      log_path: opts.log?.path,
      log_max_size: opts.log?.maxSize,
      log_max_file: opts.log?.maxFile,
      tty: plan.terminal,
      console_socket: plan.consoleSocket,
      rows: opts.size?.rows,
      cols: opts.size?.cols,
      stdin: opts.stdin,
      cgroup: opts.cgroup,
      oom_score_adj: opts.oomScoreAdj,
      ...(opts.shimCgroups?.length && !opts.spawner ? { shim_cgroups: opts.shimCgroups } : {}),
      // nsinit starts while we hear the shim is ready and connect; `launch` below claims it
      launch: true,
      ...(opts.startOnCreated && !plan.terminal ? { start: true } : {}),
    };
    const shim = opts.spawner
      ? await opts.spawner.spawn(req, encodePlan(plan))
      : await startShim(req, encodePlan(plan), opts.shim ?? shimPath());
    const client = await this.connect(shim.socket);
    const claim = client.request('launch');
    this.flushQueued(client);
    await claim;
    return { shim, client };
  }

  private async bootExec(plan: LaunchPlan, opts: ShimExecOptions) {
    const client = await this.connect(opts.socket);
    client.sendPlan(encodePlan(plan));
    const claim = client.request('exec', {
      exec: opts.execId,
      stdin: opts.stdin ?? false,
      tty: plan.terminal,
      console_socket: plan.consoleSocket,
      rows: opts.size?.rows,
      cols: opts.size?.cols,
    });
    this.flushQueued(client);
    await claim;
    return { shim: { pid: client.shimPid, start_time: '', socket: opts.socket }, client };
  }

  private async connect(socket: string): Promise<ShimClient> {
    const client = await ShimClient.connect(socket);
    this.client = client;
    client.on('event', this.onClientEvent);
    client.on('close', this.onClientClose);
    return client;
  }
  private readonly onClientEvent = (e: ShimEvent): void => {
    if (e.exec === this.execId) this.onEvent(e);
  };
  private readonly onClientClose = (): void => {
    this.push({ type: 'eof' });
    // The shim went away before nsinit's exit reached us: it was killed, or shut down.
    if (!this.helperExited) this.resolveExit(137);
  };
  private onEvent(e: ShimEvent): void {
    if (e.event === 'sync') {
      const line = String(e.line);
      const [name, ...fields] = line.split(' ');
      if (name === 'pid') this.push({ type: 'pid', pid: Number(fields[0]) });
      else if (name === 'hooks') this.push({ type: 'hooks' });
      else if (name === 'created') this.push({ type: 'created' });
      else if (name === 'error') this.push({ type: 'error', ...parseErrorLine(line) });
      else this.push({ type: 'error', errno: 0, message: `nsinit: unexpected message '${line}'` });
    } else if (e.event === 'sync_eof') this.push({ type: 'eof' });
    else if (e.event === 'helper_exited') {
      this.helperExited = true;
      this.resolveExit(Number(e.status));
    }
  }

  private push(m: LaunchMessage): void {
    this.messages.push(m);
  }

  next(): Promise<LaunchMessage> {
    return this.messages.next();
  }

  expect<T extends LaunchMessage['type']>(type: T): Promise<Extract<LaunchMessage, { type: T }>> {
    return this.messages.expect(type);
  }

  /**
   * A line for the helper's sync channel. Before the claim it waits for it, and then follows it
   * on the connection at once: the shim takes requests in order, so no round trip is waited for.
   */
  send(line: string): void {
    if (this.claimed && this.client) this.sendNow(this.client, line);
    else this.queued.push(line);
  }

  private sendNow(client: ShimClient, line: string): void {
    client.request('send', { line, exec: this.execId }).catch(() => {});
  }

  private flushQueued(client: ShimClient): void {
    this.claimed = true;
    for (const line of this.queued.splice(0)) this.sendNow(client, line);
  }

  signal(sig: NodeJS.Signals): void {
    this.client?.request('kill', { signal: SIGNALS[sig] ?? 15, exec: this.execId }).catch(() => {});
  }

  detach(): void {
    this.client?.close();
  }

  /**
   * Ends the session but keeps its connection, which becomes the caller's to use and close: the
   * engine's monitor waits for the exit on it (one connect and hello less per start). Relay
   * events still arriving on it (nsinit's exit) are the new owner's to ignore.
   */
  handOver(): ShimClient | undefined {
    const c = this.client;
    this.client = undefined;
    c?.off('event', this.onClientEvent);
    c?.off('close', this.onClientClose);
    return c;
  }

  /**
   * Before the container exists (nsinit still running), the shim and all it made go; after, only
   * the connection. An exec's connection just closes: the exec runs on under the shim.
   */
  [Symbol.dispose](): void {
    const c = this.client;
    if (c && !this.helperExited)
      c.request('shutdown', { force: true })
        .finally(() => c.close())
        .catch(() => {});
    else c?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    const c = this.client ?? (await this.ready.then((r) => r.client).catch(() => undefined));
    if (c && !this.helperExited && !this.execId) await c.request('shutdown', { force: true }).catch(() => {});
    c?.close();
    await this.exited;
  }
}
