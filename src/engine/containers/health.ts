/**
 * Healthchecks (moby daemon/health.go): for each running container whose Config has a
 * Healthcheck (from the image's HEALTHCHECK or `--health-*`; `--no-healthcheck` is Test
 * ["NONE"]), a probe every Interval — after the interval, not at once — run as an exec in the
 * container through its shim (exec.ts: the same machinery and the same exec_* events as
 * dockerd's), its output (stdout and stderr together) kept up to 4 KiB. The result goes into
 * State.Health: the last 5 probes, the failing streak, the status (`starting` until the first
 * success or until `Retries` failures after the start period; `healthy`; `unhealthy`) and a
 * `health_status: <status>` event when the status changes.
 *
 * The scheduler follows the container's start events (a start, a policy restart), stops when the
 * run it was started for ends (its generation changes, the record goes), and `resumeAll` picks
 * running containers up again after a berthd restart. `applyProbe` is pure.
 */
import { Duplex } from 'node:stream';
import type { Engine } from '../engine.js';
import { ShimClient } from '../shim/client.js';
import type { HealthConfig } from '../spec/create-config.js';
import { createExec, ExecStore, startExec } from './exec.js';
import type { HealthLog, HealthState } from './record.js';
import { rfc3339Nano } from './record.js';

/** moby's defaults (api/types/container: 30 s interval and timeout, 3 retries). */
const DEFAULT_INTERVAL_NS = 30e9;
const DEFAULT_TIMEOUT_NS = 30e9;
const DEFAULT_RETRIES = 3;
const MAX_OUTPUT = 4096;
const MAX_LOG = 5;

export interface ProbeResult extends HealthLog {}

/** The probe's argv: CMD as is, CMD-SHELL through /bin/sh -c; none for NONE or an empty Test. */
export function probeCommand(hc: HealthConfig | null | undefined): string[] | undefined {
  const t = hc?.Test ?? [];
  switch (t[0]) {
    case 'CMD':
      return t.length > 1 ? t.slice(1) : undefined;
    case 'CMD-SHELL':
      return t.length > 1 ? ['/bin/sh', '-c', t.slice(1).join(' ')] : undefined;
    default:
      return undefined;
  }
}

/** The next Health after one probe (moby handleProbeResult). */
export function applyProbe(prev: HealthState | undefined, result: ProbeResult, hc: HealthConfig, startedAt: string): HealthState {
  const h: HealthState = prev ? { ...prev, Log: [...prev.Log] } : { Status: 'starting', FailingStreak: 0, Log: [] };
  h.Log.push(result);
  if (h.Log.length > MAX_LOG) h.Log.splice(0, h.Log.length - MAX_LOG);
  if (result.ExitCode === 0) {
    h.FailingStreak = 0;
    h.Status = 'healthy';
    return h;
  }
  // Failures during the start period do not count while the container has not been healthy yet.
  const inStartPeriod =
    h.Status === 'starting' && (hc.StartPeriod ?? 0) > 0 && Date.parse(result.Start) - Date.parse(startedAt) < (hc.StartPeriod ?? 0) / 1e6;
  if (inStartPeriod) return h;
  h.FailingStreak++;
  if (h.FailingStreak >= (hc.Retries || DEFAULT_RETRIES)) h.Status = 'unhealthy';
  return h;
}

/** Go's time.Duration String for the timeout message: 1s, 500ms, 1m30s. */
function goDuration(ns: number): string {
  const ms = ns / 1e6;
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : '0s'}`;
}

/** A connection that only collects what the exec writes (stdcopy frames), up to a limit. */
class Collector extends Duplex {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  constructor() {
    super();
    // output relayed after the exec's end (a late frame) must not become an uncaught error
    this.on('error', () => {});
  }
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.size < MAX_OUTPUT * 4) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    cb();
  }
  /** The frames' payloads, stdout and stderr in their order, cut at 4 KiB. */
  output(): string {
    const all = Buffer.concat(this.chunks);
    const parts: Buffer[] = [];
    for (let off = 0; off + 8 <= all.length; ) {
      const len = all.readUInt32BE(off + 4);
      parts.push(all.subarray(off + 8, off + 8 + len));
      off += 8 + len;
    }
    return Buffer.concat(parts).subarray(0, MAX_OUTPUT).toString('utf8');
  }
}

export class HealthMonitor {
  /** Container id → the generation its loop follows. */
  private readonly loops = new Map<string, { gen: number; timer?: NodeJS.Timeout }>();
  private readonly execs = new ExecStore();
  private readonly unsubscribe: () => void;

  constructor(private readonly engine: Engine) {
    this.unsubscribe = engine.events.subscribe((e) => {
      if (e.Type !== 'container') return;
      if (e.Action === 'start') this.follow(e.Actor.ID);
      else if (e.Action === 'destroy') this.stop(e.Actor.ID);
    });
  }

  /** After restore: the running containers with a healthcheck. */
  resumeAll(): void {
    for (const r of this.engine.containers.all()) if (r.State.Status === 'running' || r.State.Status === 'paused') this.follow(r.Id);
  }

  close(): void {
    this.unsubscribe();
    for (const id of [...this.loops.keys()]) this.stop(id);
  }

  stop(id: string): void {
    const l = this.loops.get(id);
    if (l?.timer) clearTimeout(l.timer);
    this.loops.delete(id);
  }

  private follow(id: string): void {
    const rec = this.engine.containers.find(id);
    if (!rec || !probeCommand(rec.Config.Healthcheck)) return;
    this.stop(id);
    const loop: { gen: number; timer?: NodeJS.Timeout } = { gen: rec.Generation };
    this.loops.set(id, loop);
    this.schedule(id, loop);
  }

  private current(id: string, gen: number) {
    const rec = this.engine.containers.find(id);
    if (!rec || rec.Generation !== gen) return undefined;
    return rec;
  }

  private schedule(id: string, loop: { gen: number; timer?: NodeJS.Timeout }): void {
    const rec = this.current(id, loop.gen);
    if (!rec || this.loops.get(id) !== loop) return;
    const interval = (rec.Config.Healthcheck?.Interval || DEFAULT_INTERVAL_NS) / 1e6;
    loop.timer = setTimeout(() => {
      void this.tick(id, loop).finally(() => this.schedule(id, loop));
    }, interval);
    loop.timer.unref();
  }

  private async tick(id: string, loop: { gen: number }): Promise<void> {
    const rec = this.current(id, loop.gen);
    if (!rec) {
      this.loops.delete(id);
      return;
    }
    // a paused container is not probed (its processes cannot answer); stopped: the loop ends
    if (rec.State.Status === 'paused') return;
    if (rec.State.Status !== 'running') {
      this.loops.delete(id);
      return;
    }
    const hc = rec.Config.Healthcheck ?? {};
    const cmd = probeCommand(hc);
    if (!cmd) return;
    const result = await this.probe(id, cmd, hc.Timeout || DEFAULT_TIMEOUT_NS);
    await this.engine.withLock(id, async () => {
      const r = this.current(id, loop.gen);
      if (!r || r.State.Status !== 'running' || this.loops.get(id) !== loop) return;
      const before = r.State.Health?.Status;
      r.State.Health = applyProbe(r.State.Health, result, hc, r.State.StartedAt);
      this.engine.containers.save(r);
      if (r.State.Health.Status !== before) this.engine.publish(r, `health_status: ${r.State.Health.Status}`);
    });
  }

  private async probe(id: string, cmd: string[], timeoutNs: number): Promise<ProbeResult> {
    const start = rfc3339Nano();
    const conn = new Collector();
    let execId: string;
    try {
      execId = createExec(this.engine, this.execs, id, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    } catch (err) {
      return { Start: start, End: rfc3339Nano(), ExitCode: -1, Output: (err as Error).message };
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutNs / 1e6);
    });
    try {
      const run = startExec(this.engine, this.execs, execId, conn).then(() => 'done' as const);
      const how = await Promise.race([run, timedOut]);
      if (how === 'timeout') {
        // the probe's process is killed, as dockerd does; its result is the timeout
        await this.killExec(id, execId);
        await Promise.race([run.catch(() => {}), new Promise((r) => setTimeout(r, 2000).unref())]);
        return { Start: start, End: rfc3339Nano(), ExitCode: -1, Output: `Health check exceeded timeout (${goDuration(timeoutNs)})` };
      }
      const e = this.execs.get(execId);
      return { Start: start, End: rfc3339Nano(), ExitCode: e.ExitCode ?? -1, Output: conn.output() };
    } catch (err) {
      return { Start: start, End: rfc3339Nano(), ExitCode: -1, Output: (err as Error).message };
    } finally {
      clearTimeout(timer);
      this.execs.dropContainer(id);
    }
  }

  private async killExec(id: string, execId: string): Promise<void> {
    try {
      await using c = await ShimClient.connect(this.engine.shimSocket(id));
      await c.request('kill', { exec: execId, signal: 9 });
    } catch {
      // it ended meanwhile
    }
  }
}
