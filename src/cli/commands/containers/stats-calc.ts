/**
 * What `docker stats` shows, computed from the API's stats object exactly as the docker CLI does
 * (cli/command/container/stats_helpers.go): CPU % from the two samples the object carries
 * (cpu_stats and precpu_stats), memory without the inactive file cache, block and network I/O
 * summed, and the row's fields as its template context sees them (strings, docker's units).
 */
import { bytesSize, humanSizeWithPrecision } from '../../format/index.js';

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

export interface StatsEntry {
  /** The key the row was asked for: the name or id as typed, or the short id. */
  container: string;
  name: string;
  id: string;
  cpuPercentage: number;
  memory: number;
  memoryLimit: number;
  memoryPercentage: number;
  networkRx: number;
  networkTx: number;
  blockRead: number;
  blockWrite: number;
  pidsCurrent: number;
  /** No (recent) sample: the row shows `--`. */
  invalid: boolean;
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
    container,
    name: '',
    id: '',
    cpuPercentage: 0,
    memory: 0,
    memoryLimit: 0,
    memoryPercentage: 0,
    networkRx: 0,
    networkTx: 0,
    blockRead: 0,
    blockWrite: 0,
    pidsCurrent: 0,
    invalid: false,
  };
}

export function statsEntry(container: string, v: ApiStats): StatsEntry {
  const memory = memUsageNoCache(v.memory_stats);
  const limit = v.memory_stats?.limit ?? 0;
  const [networkRx, networkTx] = networkIO(v.networks);
  const [blockRead, blockWrite] = blockIO(v.blkio_stats);
  return {
    container,
    name: v.name ?? '',
    id: v.id ?? '',
    cpuPercentage: cpuPercent(v.precpu_stats, v.cpu_stats),
    memory,
    memoryLimit: limit,
    memoryPercentage: limit !== 0 ? (memory / limit) * 100 : 0,
    networkRx,
    networkTx,
    blockRead,
    blockWrite,
    pidsCurrent: v.pids_stats?.current ?? 0,
    invalid: false,
  };
}

/** strconv.FormatFloat(v, 'f', 2, 64) + "%". */
function percent(v: number): string {
  return `${v.toFixed(2)}%`;
}

/** stringid.TruncateID. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  return (colon >= 0 ? id.slice(colon + 1) : id).slice(0, 12);
}

/** The row as the template sees it (docker's statsContext; keys in its JSON order). */
export interface StatsRow {
  BlockIO: string;
  CPUPerc: string;
  Container: string;
  ID: string;
  MemPerc: string;
  MemUsage: string;
  Name: string;
  NetIO: string;
  PIDs: string;
}

export function statsRow(s: StatsEntry, trunc: boolean): StatsRow {
  const io = (a: number, b: number) => `${humanSizeWithPrecision(a, 3)} / ${humanSizeWithPrecision(b, 3)}`;
  return {
    BlockIO: s.invalid ? '--' : io(s.blockRead, s.blockWrite),
    CPUPerc: s.invalid ? '--' : percent(s.cpuPercentage),
    Container: s.container,
    ID: trunc ? truncateId(s.id) : s.id,
    MemPerc: s.invalid ? '--' : percent(s.memoryPercentage),
    MemUsage: s.invalid ? '-- / --' : `${bytesSize(s.memory)} / ${bytesSize(s.memoryLimit)}`,
    Name: s.name.length > 1 ? s.name.slice(1) : '--',
    NetIO: s.invalid ? '--' : io(s.networkRx, s.networkTx),
    PIDs: s.invalid ? '--' : String(s.pidsCurrent),
  };
}

export const STATS_HEADER: StatsRow = {
  BlockIO: 'BLOCK I/O',
  CPUPerc: 'CPU %',
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  MemPerc: 'MEM %',
  MemUsage: 'MEM USAGE / LIMIT',
  Name: 'NAME',
  NetIO: 'NET I/O',
  PIDs: 'PIDS',
};

export const STATS_TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';
