/**
 * linux.resources → the list of cgroup file writes (and the v2 device program) for one
 * container, on whatever hierarchies the host gives it. Pure: the host is described by
 * `HostFacts` (which controllers the container's cgroups have, and a read-only view of their
 * files), so the whole mapping is unit-tested with fakes.
 *
 * Each group of settings goes to the v1 controller when one is mounted, else to the cgroup2
 * hierarchy when it has the controller — so one function serves the three drivers: v1 (no
 * cgroup2), v2 (cgroup2 only) and hybrid (v1 controllers plus cgroup2, e.g. hugetlb living in
 * cgroup2 while memory lives in v1). A limit asked for on a host without its controller is an
 * error naming the controller (as runc fails); network tagging is only warned about.
 */
import { invalid } from '../../common/errors.js';
import { deviceFilterProgram, encodeProgram } from './bpf.js';
import { containerDeviceRules, DeviceEmulator } from './devices.js';
import type { LinuxResources } from './resources.js';
import { rdmaWrites, v1Blkio, v1Cpu, v1Cpuset, v1Devices, v1Hugetlb, v1Memory, v1NetCls, v1NetPrio, v1Pids } from './v1.js';
import { V2, v2Cpu, v2Cpuset, v2Hugetlb, v2Io, v2Memory, v2Pids, v2Unified } from './v2.js';

/** One write: `where` is a v1 controller name ('memory', 'cpu', …) or 'cgroup2'. */
export interface CgroupWrite {
  where: string;
  file: string;
  value: string;
  /** Read the file back and fail if the kernel clamped the value (cpu.shares, as runc does). */
  readBack?: boolean;
  /** On EINVAL, retry once after the other writes of the same controller (cpu.cfs_period_us). */
  retryAfterEinval?: boolean;
}

/** Read-only access to the files of one of the container's cgroups. */
export interface FileView {
  exists(file: string): boolean;
  /** The file's content, or undefined if it cannot be read. */
  read(file: string): string | undefined;
}

export interface HostFacts {
  /** v1 controllers the container has a cgroup in. */
  v1: ReadonlySet<string>;
  /** Controllers of the container's cgroup2 cgroup (its cgroup.controllers); undefined without cgroup2. */
  v2: ReadonlySet<string> | undefined;
  view(where: string): FileView;
  /** Huge page sizes of the host in runc's spelling ('2MB', '1GB'). */
  hugepageSizes: readonly string[];
  /** Where the cgroup2 cgroup is, for messages. */
  v2Dir?: string;
}

export interface ApplyOptions {
  /** Leave the device rules alone (update does, as runc's). */
  skipDevices?: boolean;
  /** Paths of `linux.devices`: a default device rule with the same path is dropped (runc's dedup). */
  specDevicePaths?: readonly string[];
}

export interface ResourcePlan {
  writes: CgroupWrite[];
  /** The v2 device filter to attach to the cgroup2 cgroup, when devices go through BPF. */
  deviceProgram?: Uint8Array;
  warnings: string[];
}

type Group = 'memory' | 'cpu' | 'cpuset' | 'pids' | 'blkio' | 'hugetlb' | 'rdma';
const V2_NAME: Record<Group, string> = {
  memory: 'memory',
  cpu: 'cpu',
  cpuset: 'cpuset',
  pids: 'pids',
  blkio: 'io',
  hugetlb: 'hugetlb',
  rdma: 'rdma',
};

function wanted(r: LinuxResources, g: Group): boolean {
  const nz = (v: number | undefined | null) => v !== undefined && v !== null && v !== 0;
  const set = (v: unknown) => v !== undefined && v !== null;
  switch (g) {
    case 'memory': {
      const m = r.memory ?? {};
      return (
        [m.limit, m.reservation, m.swap, m.kernel, m.kernelTCP].some(nz) ||
        set(m.swappiness) ||
        m.disableOOMKiller === true ||
        set(m.useHierarchy)
      );
    }
    case 'cpu': {
      const c = r.cpu ?? {};
      return [c.shares, c.quota, c.period, c.realtimePeriod, c.realtimeRuntime].some(nz) || set(c.burst) || set(c.idle);
    }
    case 'cpuset':
      return Boolean(r.cpu?.cpus || r.cpu?.mems);
    case 'pids':
      return nz(r.pids?.limit);
    case 'blkio': {
      const b = r.blockIO ?? {};
      const lists = [
        b.weightDevice,
        b.throttleReadBpsDevice,
        b.throttleWriteBpsDevice,
        b.throttleReadIOPSDevice,
        b.throttleWriteIOPSDevice,
      ];
      return nz(b.weight) || nz(b.leafWeight) || lists.some((l) => (l?.length ?? 0) > 0);
    }
    case 'hugetlb':
      return (r.hugepageLimits?.length ?? 0) > 0;
    case 'rdma':
      return Object.keys(r.rdma ?? {}).length > 0;
  }
}

/** Which hierarchy serves a group: 'v1', 'v2', or undefined when neither has the controller. */
function route(facts: HostFacts, g: Group): 'v1' | 'v2' | undefined {
  if (facts.v1.has(g)) return 'v1';
  if (facts.v2?.has(V2_NAME[g])) return 'v2';
  return undefined;
}

function unavailable(g: Group, facts: HostFacts): never {
  const where =
    facts.v2 === undefined
      ? 'it is not mounted as a cgroup v1 hierarchy'
      : facts.v1.size === 0
        ? `it is not enabled in the cgroup2 hierarchy${facts.v2Dir ? ` (${facts.v2Dir}/cgroup.controllers)` : ''}`
        : `neither a cgroup v1 hierarchy nor the cgroup2 hierarchy${facts.v2Dir ? ` (${facts.v2Dir})` : ''} has it`;
  throw invalid(`cannot set ${g} resources: the ${V2_NAME[g] === g ? g : `${g} (${V2_NAME[g]})`} controller is not available: ${where}`, g);
}

/** The writes for `r` on this host, in runc's order (v1: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma; v2 last: unified). */
export function planResources(r: LinuxResources, facts: HostFacts, opts: ApplyOptions = {}): ResourcePlan {
  const warnings: string[] = [];
  const writes: CgroupWrite[] = [];
  let deviceProgram: Uint8Array | undefined;
  const routes = new Map<Group, 'v1' | 'v2'>();
  for (const g of ['memory', 'cpu', 'cpuset', 'pids', 'blkio', 'hugetlb', 'rdma'] as const) {
    if (!wanted(r, g)) continue;
    const to = route(facts, g);
    if (!to) unavailable(g, facts);
    routes.set(g, to);
  }
  const v1 = (g: Group) => routes.get(g) === 'v1';
  const v2 = (g: Group) => routes.get(g) === 'v2';
  const view1 = (c: string) => facts.view(c);
  const view2 = () => facts.view(V2);

  // v1 controllers, in runc's subsystem order
  if (v1('cpuset')) writes.push(...v1Cpuset(r));
  // Devices are always set (runc's defaults apply even without rules in the spec); a
  // program that would allow everything is not attached.
  if (!opts.skipDevices) {
    if (facts.v1.has('devices')) writes.push(...v1Devices(r, view1('devices'), opts.specDevicePaths ?? []));
    else if (facts.v2 !== undefined) {
      const state = DeviceEmulator.fromRules(containerDeviceRules(r.devices, opts.specDevicePaths ?? []));
      if (!state.defaultAllow || state.exceptions.size > 0) deviceProgram = encodeProgram(deviceFilterProgram(state));
    } else if ((r.devices?.length ?? 0) > 0)
      throw invalid('cannot set device rules: no devices cgroup v1 hierarchy and no cgroup2 hierarchy', 'devices');
  }
  if (v1('memory')) writes.push(...v1Memory(r, view1('memory'), warnings));
  if (v1('cpu')) writes.push(...v1Cpu(r, view1('cpu'), warnings));
  if (v1('pids')) writes.push(...v1Pids(r));
  if (v1('blkio')) writes.push(...v1Blkio(r, view1('blkio')));
  if (v1('hugetlb')) writes.push(...v1Hugetlb(r, view1('hugetlb'), facts.hugepageSizes));
  if (r.network?.classID) {
    if (facts.v1.has('net_cls')) writes.push(...v1NetCls(r));
    else warnings.push('network.classID ignored: no net_cls cgroup v1 hierarchy on this host');
  }
  if ((r.network?.priorities?.length ?? 0) > 0) {
    if (facts.v1.has('net_prio')) writes.push(...v1NetPrio(r));
    else warnings.push('network.priorities ignored: no net_prio cgroup v1 hierarchy on this host');
  }
  if (v1('rdma')) writes.push(...rdmaWrites(r, 'rdma'));

  // cgroup2, in runc's fs2 order
  if (v2('pids')) writes.push(...v2Pids(r));
  if (v2('memory')) writes.push(...v2Memory(r, view2(), warnings));
  if (v2('blkio')) writes.push(...v2Io(r, view2(), warnings));
  if (v2('cpu')) writes.push(...v2Cpu(r, view2()));
  if (v2('cpuset')) writes.push(...v2Cpuset(r));
  if (v2('hugetlb')) writes.push(...v2Hugetlb(r, view2(), facts.hugepageSizes));
  if (v2('rdma')) writes.push(...rdmaWrites(r, V2));
  if (Object.keys(r.unified ?? {}).length > 0) {
    if (facts.v2 === undefined)
      throw invalid('unified resources are not supported on cgroup v1 (this host has no cgroup2 hierarchy)', 'unified');
    writes.push(...v2Unified(r, view2(), facts.v2, facts.v2Dir ?? 'cgroup2'));
  }
  return { writes, deviceProgram, warnings };
}

/** The v2 controllers a container needs enabled for `r` (hybrid hosts enable no more than that). */
export function v2ControllersNeeded(r: LinuxResources, v1: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const g of ['memory', 'cpu', 'cpuset', 'pids', 'blkio', 'hugetlb', 'rdma'] as const) {
    if (wanted(r, g) && !v1.has(g)) out.add(V2_NAME[g]);
  }
  for (const key of Object.keys(r.unified ?? {})) {
    const ctrl = key.split('.')[0] ?? '';
    if (ctrl && ctrl !== 'cgroup') out.add(ctrl);
  }
  return [...out];
}
