/**
 * Container statistics read from the cgroup files, in the JSON shape of runc's `events`
 * (runc/types/events.go, as runc 1.1 prints it), for v1, v2 and hybrid hosts. Pure: the files
 * come through `FileView`s. Counters can exceed 2^53 (an unlimited v2 limit is 2^64-1), so they
 * are bigints when they must be, and `statsJson` prints them exactly.
 */
import type { FileView } from './writes.js';

export type U64 = number | bigint;

export interface MemoryEntry {
  limit: U64;
  usage?: U64;
  max?: U64;
  failcnt: U64;
}

export interface BlkioEntry {
  major?: number;
  minor?: number;
  op?: string;
  value?: U64;
}

export interface Stats {
  cpu: {
    usage: { total?: U64; percpu?: U64[]; percpu_kernel?: U64[]; percpu_user?: U64[]; kernel: U64; user: U64 };
    throttling: { periods?: U64; throttledPeriods?: U64; throttledTime?: U64 };
  };
  cpuset: {
    cpus?: number[];
    cpu_exclusive: U64;
    mems?: number[];
    mem_hardwall: U64;
    mem_exclusive: U64;
    memory_migrate: U64;
    memory_spread_page: U64;
    memory_spread_slab: U64;
    memory_pressure: U64;
    sched_load_balance: U64;
    sched_relax_domain_level: number;
  };
  memory: {
    cache?: U64;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    kernelTCP: MemoryEntry;
    raw?: Record<string, U64>;
  };
  pids: { current?: U64; limit?: U64 };
  blkio: {
    ioServiceBytesRecursive?: BlkioEntry[];
    ioServicedRecursive?: BlkioEntry[];
    ioQueueRecursive?: BlkioEntry[];
    ioServiceTimeRecursive?: BlkioEntry[];
    ioWaitTimeRecursive?: BlkioEntry[];
    ioMergedRecursive?: BlkioEntry[];
    ioTimeRecursive?: BlkioEntry[];
    sectorsRecursive?: BlkioEntry[];
  };
  hugetlb: Record<string, { usage?: U64; max?: U64; failcnt: U64 }>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

const MAX_U64 = 18446744073709551615n;
/** USER_HZ: cpuacct.stat counts in these ticks. */
const CLOCK_TICKS = 100;

export function u64(text: string | undefined): U64 {
  const t = (text ?? '').trim();
  if (!/^\d+$/.test(t)) return 0;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : BigInt(t);
}

function nonzero(v: U64 | undefined): U64 | undefined {
  return v === undefined || v === 0 || v === 0n ? undefined : v;
}

function add(a: U64, b: U64): U64 {
  const s = BigInt(a) + BigInt(b);
  return s <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(s) : s;
}

function mul(a: U64, k: number): U64 {
  return add(BigInt(a) * BigInt(k), 0);
}

/** "key value" lines → map, keys sorted (Go's JSON encoder sorts map keys). */
export function parseFlatKeyed(text: string | undefined): Record<string, U64> {
  const pairs: [string, U64][] = [];
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) pairs.push([k, u64(v)]);
  }
  return Object.fromEntries(pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** "0-2,7" → [0, 1, 2, 7]. */
export function parseCpuList(text: string | undefined): number[] | undefined {
  const t = (text ?? '').trim();
  if (!t) return undefined;
  const out: number[] = [];
  for (const part of t.split(',')) {
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

export function emptyStats(): Stats {
  const entry = (): MemoryEntry => ({ limit: 0, failcnt: 0 });
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0,
      mem_hardwall: 0,
      mem_exclusive: 0,
      memory_migrate: 0,
      memory_spread_page: 0,
      memory_spread_slab: 0,
      memory_pressure: 0,
      sched_load_balance: 0,
      sched_relax_domain_level: 0,
    },
    memory: { usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry() },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

// ---------------------------------------------------------------------------- v1

export function v1CpuacctStats(s: Stats, view: FileView): void {
  const percpu = (view.read('cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(u64);
  const all = (view.read('cpuacct.usage_all') ?? '').trim().split('\n').slice(1);
  const user: U64[] = [];
  const kernel: U64[] = [];
  for (const line of all) {
    const [, u, k] = line.trim().split(/\s+/);
    user.push(u64(u));
    kernel.push(u64(k));
  }
  const stat = parseFlatKeyed(view.read('cpuacct.stat'));
  s.cpu.usage = {
    total: nonzero(u64(view.read('cpuacct.usage'))),
    percpu: percpu.length > 0 ? percpu : undefined,
    percpu_kernel: kernel.length > 0 ? kernel : undefined,
    percpu_user: user.length > 0 ? user : undefined,
    kernel: mul(stat.system ?? 0, 1e9 / CLOCK_TICKS),
    user: mul(stat.user ?? 0, 1e9 / CLOCK_TICKS),
  };
}

export function v1CpuStats(s: Stats, view: FileView): void {
  const st = parseFlatKeyed(view.read('cpu.stat'));
  s.cpu.throttling = {
    periods: nonzero(st.nr_periods),
    throttledPeriods: nonzero(st.nr_throttled),
    throttledTime: nonzero(st.throttled_time),
  };
}

export function v1CpusetStats(s: Stats, view: FileView): void {
  const n = (f: string) => u64(view.read(`cpuset.${f}`));
  s.cpuset = {
    cpus: parseCpuList(view.read('cpuset.cpus')),
    cpu_exclusive: n('cpu_exclusive'),
    mems: parseCpuList(view.read('cpuset.mems')),
    mem_hardwall: n('mem_hardwall'),
    mem_exclusive: n('mem_exclusive'),
    memory_migrate: n('memory_migrate'),
    memory_spread_page: n('memory_spread_page'),
    memory_spread_slab: n('memory_spread_slab'),
    memory_pressure: n('memory_pressure'),
    sched_load_balance: n('sched_load_balance'),
    sched_relax_domain_level: Number((view.read('cpuset.sched_relax_domain_level') ?? '0').trim()),
  };
}

function v1MemoryEntry(view: FileView, prefix: string): MemoryEntry {
  const usage = view.read(`${prefix}.usage_in_bytes`);
  if (usage === undefined) return { limit: 0, failcnt: 0 };
  return {
    limit: u64(view.read(`${prefix}.limit_in_bytes`)),
    usage: nonzero(u64(usage)),
    max: nonzero(u64(view.read(`${prefix}.max_usage_in_bytes`))),
    failcnt: u64(view.read(`${prefix}.failcnt`)),
  };
}

export function v1MemoryStats(s: Stats, view: FileView): void {
  const raw = parseFlatKeyed(view.read('memory.stat'));
  s.memory = {
    cache: nonzero(raw.cache),
    usage: v1MemoryEntry(view, 'memory'),
    swap: v1MemoryEntry(view, 'memory.memsw'),
    kernel: v1MemoryEntry(view, 'memory.kmem'),
    kernelTCP: v1MemoryEntry(view, 'memory.kmem.tcp'),
    raw: Object.keys(raw).length > 0 ? raw : undefined,
  };
}

export function pidsStats(s: Stats, view: FileView): void {
  const max = (view.read('pids.max') ?? '').trim();
  s.pids = { current: nonzero(u64(view.read('pids.current'))), limit: max === 'max' ? undefined : nonzero(u64(max)) };
}

/** blkio.* stat files: "8:0 Read 123" lines (and a "Total N" line). */
export function parseBlkioStat(text: string | undefined): BlkioEntry[] | undefined {
  if (text === undefined) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/[\s:]+/);
    if (f.length < 3) continue;
    const e: BlkioEntry = { major: Number(f[0]) || undefined, minor: Number(f[1]) || undefined };
    if (f.length === 4) e.op = f[2];
    e.value = nonzero(u64(f[f.length - 1]));
    out.push(e);
  }
  return out;
}

export function v1BlkioStats(s: Stats, view: FileView): void {
  type Key = keyof Stats['blkio'];
  // runc's order of preference: BFQ with debug stats, BFQ, CFQ, throttle recursive, throttle.
  const groups: [string, Key][][] = [
    [
      ['blkio.bfq.sectors_recursive', 'sectorsRecursive'],
      ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.sectors_recursive', 'sectorsRecursive'],
      ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
      ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'],
      ['blkio.io_merged_recursive', 'ioMergedRecursive'],
      ['blkio.io_queued_recursive', 'ioQueueRecursive'],
      ['blkio.time_recursive', 'ioTimeRecursive'],
      ['blkio.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive'],
    ],
    [
      ['blkio.throttle.io_serviced', 'ioServicedRecursive'],
      ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive'],
    ],
  ];
  for (const group of groups) {
    const first = group[0];
    if (!first || !view.exists(first[0])) continue;
    const b: Stats['blkio'] = {};
    for (const [file, k] of group) {
      const entries = parseBlkioStat(view.read(file));
      if (entries && entries.length > 0) b[k] = entries;
    }
    s.blkio = b;
    return;
  }
}

export function v1HugetlbStats(s: Stats, view: FileView, sizes: readonly string[]): void {
  for (const size of sizes) {
    s.hugetlb[size] = {
      usage: nonzero(u64(view.read(`hugetlb.${size}.usage_in_bytes`))),
      max: nonzero(u64(view.read(`hugetlb.${size}.max_usage_in_bytes`))),
      failcnt: u64(view.read(`hugetlb.${size}.failcnt`)),
    };
  }
}

// ---------------------------------------------------------------------------- v2

function v2Limit(text: string | undefined): U64 {
  const t = (text ?? '').trim();
  return t === 'max' ? MAX_U64 : u64(t);
}

export function v2CpuStats(s: Stats, view: FileView): void {
  const st = parseFlatKeyed(view.read('cpu.stat'));
  s.cpu.usage = {
    total: nonzero(mul(st.usage_usec ?? 0, 1000)),
    kernel: mul(st.system_usec ?? 0, 1000),
    user: mul(st.user_usec ?? 0, 1000),
  };
  s.cpu.throttling = {
    periods: nonzero(st.nr_periods),
    throttledPeriods: nonzero(st.nr_throttled),
    throttledTime: nonzero(mul(st.throttled_usec ?? 0, 1000)),
  };
}

export function v2CpusetStats(s: Stats, view: FileView): void {
  s.cpuset.cpus = parseCpuList(view.read('cpuset.cpus.effective'));
  s.cpuset.mems = parseCpuList(view.read('cpuset.mems.effective'));
}

export function v2MemoryStats(s: Stats, view: FileView): void {
  const raw = parseFlatKeyed(view.read('memory.stat'));
  const usage: MemoryEntry = { limit: v2Limit(view.read('memory.max')), usage: nonzero(u64(view.read('memory.current'))), failcnt: 0 };
  const peak = view.read('memory.peak');
  if (peak !== undefined) usage.max = nonzero(u64(peak));
  const events = parseFlatKeyed(view.read('memory.events'));
  usage.failcnt = events.max ?? 0;
  // v1 reports swap as memory+swap; so does runc on v2
  const swapCurrent = view.read('memory.swap.current');
  let swap: MemoryEntry = { limit: 0, failcnt: 0 };
  if (swapCurrent !== undefined) {
    const swapLimit = v2Limit(view.read('memory.swap.max'));
    swap = {
      limit: swapLimit === MAX_U64 || usage.limit === MAX_U64 ? MAX_U64 : add(swapLimit, usage.limit),
      usage: nonzero(add(u64(swapCurrent), usage.usage ?? 0)),
      failcnt: parseFlatKeyed(view.read('memory.swap.events')).max ?? 0,
    };
  }
  s.memory = {
    cache: nonzero(raw.file),
    usage,
    swap,
    kernel: { limit: 0, failcnt: 0 },
    kernelTCP: { limit: 0, failcnt: 0 },
    raw: Object.keys(raw).length > 0 ? raw : undefined,
  };
}

export function v2IoStats(s: Stats, view: FileView): void {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  const lines = (view.read('io.stat') ?? '').split('\n').filter((l) => l.trim());
  for (const line of lines.sort()) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const [major, minor] = (dev ?? '').split(':').map(Number);
    for (const kv of kvs) {
      const [k, v] = kv.split('=');
      const e = (op: string): BlkioEntry => ({ major: major || undefined, minor: minor || undefined, op, value: nonzero(u64(v)) });
      if (k === 'rbytes') bytes.push(e('Read'));
      else if (k === 'wbytes') bytes.push(e('Write'));
      else if (k === 'rios') ios.push(e('Read'));
      else if (k === 'wios') ios.push(e('Write'));
    }
  }
  s.blkio = {};
  if (bytes.length > 0) s.blkio.ioServiceBytesRecursive = bytes;
  if (ios.length > 0) s.blkio.ioServicedRecursive = ios;
}

export function v2HugetlbStats(s: Stats, view: FileView, sizes: readonly string[]): void {
  for (const size of sizes) {
    s.hugetlb[size] = {
      usage: nonzero(u64(view.read(`hugetlb.${size}.current`))),
      failcnt: parseFlatKeyed(view.read(`hugetlb.${size}.events`)).max ?? 0,
    };
  }
}

/** JSON text of stats (or any value holding bigints), numbers exact. */
export function statsJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `@@u64:${v.toString()}@@` : v)).replace(/"@@u64:(\d+)@@"/g, '$1');
}
