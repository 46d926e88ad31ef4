/**
 * What `docker stats` shows, computed from the API's stats object exactly as the docker CLI does
 * (cli/command/container/stats_helpers.go): CPU % from the two samples the object carries
 * (cpu_stats and precpu_stats), memory without the inactive file cache, block and network I/O
 * summed: the StatsEntry the format helper's stats context prints.
 */
import type { StatsEntry } from '../../format/index.js';

export type { StatsEntry };

/** The parts of the Engine API's stats object used here. */
export interface ApiStats {
  read?: string;
  name?: string;
  id?: string;
  pids_stats?: { current?: number };
  blkio_stats?: { io_service_bytes_recursive?: { op?: string; value?: number }[] | null };
  cpu_stats?: CpuStats;
  precpu_stats?: CpuStats;
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }> | null;
}

export interface CpuStats {
  cpu_usage?: { total_usage?: number; percpu_usage?: number[] | null };
  system_cpu_usage?: number;
  online_cpus?: number;
}

/** (Δ container CPU / Δ system CPU) × CPUs × 100, from one stats object's two samples. */
export function cpuPercent(pre: CpuStats | undefined, cur: CpuStats | undefined): number {
  const cpuDelta = (cur?.cpu_usage?.total_usage ?? 0) - (pre?.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cur?.system_cpu_usage ?? 0) - (pre?.system_cpu_usage ?? 0);
  let cpus = cur?.online_cpus ?? 0;
  if (cpus === 0) cpus = cur?.cpu_usage?.percpu_usage?.length ?? 0;
  return systemDelta > 0 && cpuDelta > 0 ? (cpuDelta / systemDelta) * cpus * 100 : 0;
}

/** Usage without the inactive file cache: `total_inactive_file` on cgroup v1, `inactive_file` on v2. */
export function memUsageNoCache(mem: ApiStats['memory_stats']): number {
  const usage = mem?.usage ?? 0;
  const v1 = mem?.stats?.total_inactive_file;
  if (v1 !== undefined && v1 < usage) return usage - v1;
  const v2 = mem?.stats?.inactive_file ?? 0;
  if (v2 < usage) return usage - v2;
  return usage;
}

export function blockIO(b: ApiStats['blkio_stats']): [number, number] {
  let read = 0;
  let write = 0;
  for (const e of b?.io_service_bytes_recursive ?? []) {
    const c = e.op?.[0];
    if (c === 'r' || c === 'R') read += e.value ?? 0;
    else if (c === 'w' || c === 'W') write += e.value ?? 0;
  }
  return [read, write];
}

export function networkIO(n: ApiStats['networks']): [number, number] {
  let rx = 0;
  let tx = 0;
  for (const v of Object.values(n ?? {})) {
    rx += v.rx_bytes ?? 0;
    tx += v.tx_bytes ?? 0;
  }
  return [rx, tx];
}

export function emptyEntry(container: string): StatsEntry {
  return {
    Container: container,
    Name: '',
    ID: '',
    CPUPercentage: 0,
    Memory: 0,
    MemoryLimit: 0,
    MemoryPercentage: 0,
    NetworkRx: 0,
    NetworkTx: 0,
    BlockRead: 0,
    BlockWrite: 0,
    PidsCurrent: 0,
    IsInvalid: false,
  };
}

export function statsEntry(container: string, v: ApiStats): StatsEntry {
  const memory = memUsageNoCache(v.memory_stats);
  const limit = v.memory_stats?.limit ?? 0;
  const [NetworkRx, NetworkTx] = networkIO(v.networks);
  const [BlockRead, BlockWrite] = blockIO(v.blkio_stats);
  return {
    Container: container,
    Name: v.name ?? '',
    ID: v.id ?? '',
    CPUPercentage: cpuPercent(v.precpu_stats, v.cpu_stats),
    Memory: memory,
    MemoryLimit: limit,
    MemoryPercentage: limit !== 0 ? (memory / limit) * 100 : 0,
    NetworkRx,
    NetworkTx,
    BlockRead,
    BlockWrite,
    PidsCurrent: v.pids_stats?.current ?? 0,
    IsInvalid: false,
  };
}
