/**
 * `linux.resources` of the runtime spec: typed, validated (naming the field that is wrong), and
 * the conversions from v1-style values to cgroup v2 values that runc and crun use. Pure.
 *
 * The shape is the OCI one (LinuxResources), so the same parser serves config.json and
 * `update --resources`. Integers may exceed 2^53 (a limit of 2^63-1 is common); they are kept
 * as JS numbers and written with `formatInt`, which prints every integral double exactly.
 */
import { invalid } from '../../common/errors.js';
import { arrayOf, bool, type Check, int, mapOf, nullable, obj, str, uint, uintBelow } from '../../oci/check.js';

export interface DeviceCgroupRule {
  allow: boolean;
  type?: string;
  major?: number | null;
  minor?: number | null;
  access?: string;
}

export interface MemoryResources {
  limit?: number;
  reservation?: number;
  swap?: number;
  kernel?: number;
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

export interface CpuResources {
  shares?: number;
  quota?: number;
  burst?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
  idle?: number;
}

export interface WeightDevice {
  major: number;
  minor: number;
  weight?: number;
  leafWeight?: number;
}

export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

export interface BlockIOResources {
  weight?: number;
  leafWeight?: number;
  weightDevice?: WeightDevice[];
  throttleReadBpsDevice?: ThrottleDevice[];
  throttleWriteBpsDevice?: ThrottleDevice[];
  throttleReadIOPSDevice?: ThrottleDevice[];
  throttleWriteIOPSDevice?: ThrottleDevice[];
}

export interface HugepageLimit {
  pageSize: string;
  limit: number;
}

export interface NetworkResources {
  classID?: number;
  priorities?: { name: string; priority: number }[];
}

export interface RdmaLimit {
  hcaHandles?: number;
  hcaObjects?: number;
}

export interface LinuxResources {
  devices?: DeviceCgroupRule[];
  memory?: MemoryResources;
  cpu?: CpuResources;
  pids?: { limit: number };
  blockIO?: BlockIOResources;
  hugepageLimits?: HugepageLimit[];
  network?: NetworkResources;
  rdma?: Record<string, RdmaLimit>;
  unified?: Record<string, string>;
}

// ------------------------------------------------------------------------------- validation

const uint16 = uintBelow(0x10000);
const uint32 = uintBelow(0x100000000);

const access: Check = (v, at) => {
  str(v, at);
  if (!/^[rwm]*$/.test(v as string)) throw invalid(`${at}: invalid device access '${String(v)}' (expected letters of 'rwm')`, at);
};
const deviceType: Check = (v, at) => {
  str(v, at);
  if (!['a', 'b', 'c', ''].includes(v as string)) throw invalid(`${at}: invalid device type '${String(v)}' (expected a, b or c)`, at);
};
const throttle = arrayOf(obj({ major: int, minor: int, rate: uint }, ['major', 'minor', 'rate']));

const resources = obj({
  devices: arrayOf(obj({ allow: bool, type: deviceType, major: nullable(int), minor: nullable(int), access }, ['allow'])),
  memory: obj({
    limit: int,
    reservation: int,
    swap: int,
    kernel: int,
    kernelTCP: int,
    swappiness: nullable(uint),
    disableOOMKiller: bool,
    useHierarchy: bool,
    checkBeforeUpdate: bool,
  }),
  cpu: obj({
    shares: uint,
    quota: int,
    burst: uint,
    period: uint,
    realtimeRuntime: int,
    realtimePeriod: uint,
    cpus: str,
    mems: str,
    idle: int,
  }),
  pids: obj({ limit: int }, ['limit']),
  blockIO: obj({
    weight: uint16,
    leafWeight: uint16,
    weightDevice: arrayOf(obj({ major: int, minor: int, weight: uint16, leafWeight: uint16 }, ['major', 'minor'])),
    throttleReadBpsDevice: throttle,
    throttleWriteBpsDevice: throttle,
    throttleReadIOPSDevice: throttle,
    throttleWriteIOPSDevice: throttle,
  }),
  hugepageLimits: arrayOf(obj({ pageSize: str, limit: uint }, ['pageSize', 'limit'])),
  network: obj({ classID: uint32, priorities: arrayOf(obj({ name: str, priority: uint32 }, ['name', 'priority'])) }),
  rdma: mapOf(obj({ hcaHandles: uint32, hcaObjects: uint32 })),
  unified: mapOf(str),
});

/**
 * Validates a LinuxResources object. `at` prefixes the field names in errors:
 * `config.json: linux.resources.memory.limit: expected integer, got string`.
 */
export function parseResources(value: unknown, at = 'config.json: linux.resources'): LinuxResources {
  if (value === undefined || value === null) return {};
  resources(value, at);
  const r = value as LinuxResources;
  for (const key of Object.keys(r.unified ?? {})) {
    if (key === '' || key.includes('/') || key === '.' || key === '..')
      throw invalid(`${at}.unified: invalid key '${key}' (expected a cgroup file name such as 'memory.high')`, key);
  }
  for (const [i, h] of (r.hugepageLimits ?? []).entries()) {
    if (!/^\d+[KMGTP]?B$/.test(h.pageSize))
      throw invalid(`${at}.hugepageLimits[${i}].pageSize: invalid page size '${h.pageSize}' (expected e.g. '2MB', '1GB')`, h.pageSize);
  }
  if (r.memory?.swappiness !== undefined && r.memory.swappiness !== null && r.memory.swappiness > 100)
    throw invalid(`${at}.memory.swappiness: invalid value ${r.memory.swappiness} (valid range is 0-100)`, 'swappiness');
  return r;
}

// ------------------------------------------------------------------------------- conversions

/** Prints an integral number exactly (no exponent, no rounding to 17 digits). */
export function formatInt(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/**
 * cpu.shares (2..262144, default 1024) → cpu.weight (1..10000, default 100): the quadratic
 * fit of log2(shares) that runc (since 1.3, opencontainers/cgroups) and crun (since 1.23) use,
 * which maps min, default and max onto each other. 0 means unset.
 */
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  const exponent = (l * l + 125 * l) / 612 - 7 / 34;
  return Math.ceil(10 ** exponent);
}

/** The linear mapping of runc ≤ 1.2 and crun < 1.23 (1024 → 39), for reference and comparison. */
export function sharesToWeightLinear(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio.weight (10..1000) → io.weight (1..10000), as runc converts it. 0 means unset. */
export function blkioWeightToIoWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * The OCI swap value is memory+swap (v1's memsw); v2's memory.swap.max is the swap alone.
 * Returns the v2 value: -1 for "max", 0 for unset (or "no swap" when swap == limit > 0; the
 * caller tells the two apart), else swap - limit. Throws on combinations v2 cannot express.
 */
export function swapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1; // "unlimited memory" implies unlimited swap, as on v1
  if (swap === -1 || swap === 0) return swap;
  if (limit === 0 || limit === -1) throw invalid('unable to set swap limit without memory limit', 'memory.swap');
  if (limit < 0) throw invalid(`invalid memory value: ${limit}`, 'memory.limit');
  if (swap < limit) throw invalid('memory+swap limit should be >= memory limit', 'memory.swap');
  return swap - limit;
}

/** v2's number files: -1 is "max", 0 is "leave alone" (undefined). */
export function v2Number(n: number | undefined): string | undefined {
  if (n === undefined || n === 0) return undefined;
  if (n === -1) return 'max';
  return formatInt(n);
}

/** "2MB" → 2097152 bytes. */
export function pageSizeBytes(pageSize: string): number {
  const m = /^(\d+)([KMGTP]?)B$/.exec(pageSize);
  if (!m) return Number.NaN;
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4, P: 1024 ** 5 }[m[2] as 'K'] ?? 1;
  return Number(m[1]) * mult;
}

/** The kernel's hugepage directory name (`hugepages-2048kB`) → runc's page size name (`2MB`). */
export function hugepageDirToSize(dir: string): string | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(dir);
  if (!m) return undefined;
  let n = Number(m[1]);
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let u = 0;
  while (n >= 1024 && n % 1024 === 0 && u < units.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n}${units[u]}`;
}

/**
 * docker/go-units' RAMInBytes, as runc's `update` flags parse sizes: "64m", "1.5g", "512KiB",
 * "100" (bytes); binary multiples. Returns undefined when it does not parse.
 */
export function ramInBytes(s: string): number | undefined {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 1;
  return Math.trunc(n * mult);
}

/**
 * `update`: the container's resources with the requested changes, as runc merges them — a
 * field given replaces the old value, a field left out keeps it (0 and "" count as left out,
 * as runc's flags do); memory -1 without a swap setting also makes swap unlimited; unified
 * keys are merged. Device rules are never changed by an update.
 */
export function mergeResources(current: LinuxResources, change: LinuxResources): LinuxResources {
  const out: LinuxResources = structuredClone(current);
  const given = (v: unknown) => v !== undefined && v !== null;
  if (change.memory) {
    const m = { ...out.memory };
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP'] as const) {
      const v = change.memory[k];
      if (given(v) && v !== 0) m[k] = v;
    }
    if (change.memory.limit === -1 && !given(change.memory.swap)) m.swap = -1;
    if (given(change.memory.swappiness)) m.swappiness = change.memory.swappiness;
    if (given(change.memory.checkBeforeUpdate)) m.checkBeforeUpdate = change.memory.checkBeforeUpdate;
    out.memory = m;
  }
  if (change.cpu) {
    const c = { ...out.cpu };
    for (const k of ['shares', 'quota', 'period', 'realtimeRuntime', 'realtimePeriod'] as const) {
      const v = change.cpu[k];
      if (given(v) && v !== 0) c[k] = v;
    }
    if (given(change.cpu.burst)) c.burst = change.cpu.burst;
    if (given(change.cpu.idle)) c.idle = change.cpu.idle;
    if (change.cpu.cpus) c.cpus = change.cpu.cpus;
    if (change.cpu.mems) c.mems = change.cpu.mems;
    out.cpu = c;
  }
  if (change.pids && change.pids.limit !== 0) out.pids = { limit: change.pids.limit };
  if (change.blockIO) {
    const b = { ...out.blockIO };
    for (const [k, v] of Object.entries(change.blockIO) as [keyof BlockIOResources, unknown][]) {
      if (given(v) && v !== 0) (b as Record<string, unknown>)[k] = v;
    }
    out.blockIO = b;
  }
  if (change.hugepageLimits) out.hugepageLimits = change.hugepageLimits;
  if (change.network) out.network = { ...out.network, ...change.network };
  if (change.rdma) out.rdma = { ...out.rdma, ...change.rdma };
  if (change.unified) out.unified = { ...out.unified, ...change.unified };
  return out;
}
