/**
 * `GET /containers/{id}/stats`: the container's cgroup counters (read by the runtime library's
 * cgroup manager, v1, v2 or hybrid, from the cgroups its record names) in the JSON shape dockerd
 * answers (types.StatsJSON), with the host's CPU time beside them, since the CLI's CPU % is
 * Δcontainer / Δhost × online CPUs. `toDockerStats` is pure; `sampleStats` reads.
 *
 * Like dockerd: a sample every second while streaming, `precpu_stats` from the previous sample;
 * `stream=0` waits for a second sample so the CPU % is not zero, unless `one-shot=1`; a container
 * that is not running gets one empty object (name and id only).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { managerFor } from '../../runtime/cgroups/manager.js';
import type { Stats, U64 } from '../../runtime/cgroups/stats.js';
import { containerStats } from '../../runtime/index.js';
import type { Engine } from '../engine.js';
import { isOciRuntime, runtimeCgroups } from './oci-runtime.js';
import { rfc3339Nano, ZERO_TIME } from './record.js';

export interface HostCpu {
  /** Σ of /proc/stat's first cpu line, nanoseconds (dockerd's getSystemCPUUsage). */
  systemUsage: number;
  onlineCpus: number;
  memTotal: number;
}

export interface Sample {
  read: string;
  stats: Stats | undefined;
  host: HostCpu;
}

const n = (v: U64 | undefined): number => (v === undefined ? 0 : Number(v));

/** USER_HZ: /proc/stat counts in these ticks. */
const CLOCK_TICKS = 100;

export function parseProcStat(text: string): number {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  // user nice system idle iowait irq softirq: the seven dockerd sums
  const f = line.trim().split(/\s+/).slice(1, 8).map(Number);
  return f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0) * (1e9 / CLOCK_TICKS);
}

export function hostCpu(): HostCpu {
  let systemUsage = 0;
  try {
    systemUsage = parseProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    // no /proc/stat: zeros are allowed
  }
  return { systemUsage, onlineCpus: os.availableParallelism(), memTotal: os.totalmem() };
}

export async function sampleStats(engine: Engine, id: string): Promise<Sample> {
  let stats: Stats | undefined;
  try {
    const rec = engine.containers.find(id);
    if (rec && isOciRuntime(rec)) {
      // another OCI runtime: the cgroups it made, read by the same manager
      const dirs = runtimeCgroups(engine.containerDir(id));
      if (dirs.length) stats = managerFor(dirs).stats();
    } else stats = await containerStats(engine.runtimeRoot, id);
  } catch {
    // stopped meanwhile: an empty sample
  }
  return { read: rfc3339Nano(), stats, host: hostCpu() };
}

type Json = Record<string, unknown>;

function cpuStats(s: Stats | undefined, host: HostCpu): Json {
  if (!s) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: throttling() };
  const u = s.cpu.usage;
  return {
    cpu_usage: {
      total_usage: n(u.total),
      ...(u.percpu ? { percpu_usage: u.percpu.map(n) } : {}),
      usage_in_kernelmode: n(u.kernel),
      usage_in_usermode: n(u.user),
    },
    system_cpu_usage: host.systemUsage,
    online_cpus: host.onlineCpus,
    throttling_data: throttling(s),
  };
}

function throttling(s?: Stats): Json {
  const t = s?.cpu.throttling ?? {};
  return { periods: n(t.periods), throttled_periods: n(t.throttledPeriods), throttled_time: n(t.throttledTime) };
}

function blkio(s: Stats | undefined): Json {
  const map = (e: Stats['blkio']['ioServiceBytesRecursive']) =>
    e ? e.map((x) => ({ major: x.major ?? 0, minor: x.minor ?? 0, op: x.op ?? '', value: n(x.value) })) : null;
  const b = s?.blkio ?? {};
  return {
    io_service_bytes_recursive: map(b.ioServiceBytesRecursive),
    io_serviced_recursive: map(b.ioServicedRecursive),
    io_queue_recursive: map(b.ioQueueRecursive),
    io_service_time_recursive: map(b.ioServiceTimeRecursive),
    io_wait_time_recursive: map(b.ioWaitTimeRecursive),
    io_merged_recursive: map(b.ioMergedRecursive),
    io_time_recursive: map(b.ioTimeRecursive),
    sectors_recursive: map(b.sectorsRecursive),
  };
}

function memory(s: Stats | undefined, host: HostCpu): Json {
  if (!s) return {};
  const m = s.memory;
  const raw = Object.fromEntries(Object.entries(m.raw ?? {}).map(([k, v]) => [k, n(v)]));
  // An unlimited cgroup reports a huge limit (v1: 2^63 rounded to pages, v2: max): dockerd
  // shows the machine's memory instead, as `docker stats` prints it.
  const limit = Math.min(n(m.usage.limit) || host.memTotal, host.memTotal);
  const v1 = 'total_inactive_file' in raw || 'hierarchical_memory_limit' in raw;
  return v1
    ? { usage: n(m.usage.usage), max_usage: n(m.usage.max), stats: raw, failcnt: n(m.usage.failcnt), limit }
    : { usage: n(m.usage.usage), stats: raw, limit };
}

/** One StatsJSON object from this sample and the one before (or none). */
export function toDockerStats(rec: { Id: string; Name: string }, cur: Sample, prev: Sample | undefined): Json {
  const s = cur.stats;
  return {
    read: s ? cur.read : ZERO_TIME,
    preread: prev?.stats ? prev.read : ZERO_TIME,
    pids_stats: s ? { current: n(s.pids.current), ...(s.pids.limit !== undefined ? { limit: n(s.pids.limit) } : {}) } : {},
    blkio_stats: blkio(s),
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(s, cur.host),
    precpu_stats: prev?.stats ? cpuStats(prev.stats, prev.host) : cpuStats(undefined, cur.host),
    memory_stats: memory(s, cur.host),
    name: `/${rec.Name}`,
    id: rec.Id,
  };
}
