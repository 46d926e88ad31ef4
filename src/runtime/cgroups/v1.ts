/**
 * linux.resources → cgroup v1 file writes, one function per controller, following runc's
 * libcontainer/cgroups/fs (write order, value formats, the memory/swap ordering). Pure: what
 * must be known about the host comes through a `FileView` of the container's cgroup.
 */
import { invalid } from '../../common/errors.js';
import { containerDeviceRules, DeviceEmulator, v1DeviceWrites } from './devices.js';
import { formatInt, type LinuxResources } from './resources.js';
import type { CgroupWrite, FileView } from './writes.js';

type W = CgroupWrite;

function w(where: string, file: string, value: string, extra: Partial<CgroupWrite> = {}): W {
  return { where, file, value, ...extra };
}

export function v1Cpuset(r: LinuxResources): W[] {
  const out: W[] = [];
  if (r.cpu?.cpus) out.push(w('cpuset', 'cpuset.cpus', r.cpu.cpus));
  if (r.cpu?.mems) out.push(w('cpuset', 'cpuset.mems', r.cpu.mems));
  return out;
}

export function v1Devices(r: LinuxResources, view: FileView, specDevicePaths: readonly string[]): W[] {
  const target = DeviceEmulator.fromRules(containerDeviceRules(r.devices, specDevicePaths));
  const list = view.read('devices.list') ?? 'a *:* rwm\n';
  return v1DeviceWrites(list, target).map((d) => w('devices', d.file, d.value));
}

export function v1Memory(r: LinuxResources, view: FileView, warnings: string[]): W[] {
  const m = r.memory;
  if (!m) return [];
  const out: W[] = [];
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  const hasMemsw = view.exists('memory.memsw.limit_in_bytes');
  // Unlimited memory without a swap setting means unlimited memory+swap as well.
  if (limit === -1 && swap === 0 && hasMemsw) swap = -1;
  if (swap !== 0 && !hasMemsw)
    throw invalid(
      'cannot set memory swap limit: memory.memsw.limit_in_bytes does not exist (swap accounting is disabled in this kernel)',
      'memory.swap',
    );
  const setLimit = () => {
    if (limit !== 0) out.push(w('memory', 'memory.limit_in_bytes', formatInt(limit)));
  };
  const setSwap = () => {
    if (swap !== 0) out.push(w('memory', 'memory.memsw.limit_in_bytes', formatInt(swap)));
  };
  // The kernel keeps memsw >= memory at every step: raise memsw first when it grows past the
  // current memory limit, lower memory first otherwise.
  const current = Number(view.read('memory.limit_in_bytes')?.trim() ?? Number.NaN);
  if (limit !== 0 && swap !== 0 && (swap === -1 || current < swap)) {
    setSwap();
    setLimit();
  } else {
    setLimit();
    setSwap();
  }
  for (const [field, file] of [
    ['kernel', 'memory.kmem.limit_in_bytes'],
    ['kernelTCP', 'memory.kmem.tcp.limit_in_bytes'],
  ] as const) {
    const v = m[field];
    if (v === undefined || v === 0) continue;
    if (view.exists(file)) out.push(w('memory', file, formatInt(v)));
    else warnings.push(`memory.${field} ignored: this kernel has no ${file}`);
  }
  if (m.reservation !== undefined && m.reservation !== 0) out.push(w('memory', 'memory.soft_limit_in_bytes', formatInt(m.reservation)));
  if (m.disableOOMKiller) out.push(w('memory', 'memory.oom_control', '1'));
  if (m.swappiness !== undefined && m.swappiness !== null) out.push(w('memory', 'memory.swappiness', String(m.swappiness)));
  if (m.useHierarchy !== undefined) out.push(w('memory', 'memory.use_hierarchy', m.useHierarchy ? '1' : '0'));
  return out;
}

export function v1Cpu(r: LinuxResources, view: FileView, warnings: string[]): W[] {
  const c = r.cpu;
  if (!c) return [];
  const out: W[] = [];
  if (c.shares) out.push(w('cpu', 'cpu.shares', String(c.shares), { readBack: true }));
  // A shorter period can be refused (EINVAL) while the old quota/new period would exceed the
  // parent's; runc then retries it after the quota, and so do we.
  if (c.period) out.push(w('cpu', 'cpu.cfs_period_us', String(c.period), { retryAfterEinval: true }));
  if (c.quota) out.push(w('cpu', 'cpu.cfs_quota_us', formatInt(c.quota)));
  if (c.burst !== undefined && c.burst !== null) {
    if (view.exists('cpu.cfs_burst_us')) out.push(w('cpu', 'cpu.cfs_burst_us', String(c.burst)));
    else if (c.burst !== 0) warnings.push('cpu.burst ignored: this kernel has no cpu.cfs_burst_us');
  }
  if (c.realtimePeriod) out.push(w('cpu', 'cpu.rt_period_us', String(c.realtimePeriod)));
  if (c.realtimeRuntime) out.push(w('cpu', 'cpu.rt_runtime_us', formatInt(c.realtimeRuntime)));
  if (c.idle !== undefined && c.idle !== null) {
    if (view.exists('cpu.idle')) out.push(w('cpu', 'cpu.idle', String(c.idle)));
    else if (c.idle !== 0) throw invalid('cannot set cpu.idle: this kernel has no cpu.idle', 'cpu.idle');
  }
  return out;
}

export function v1Pids(r: LinuxResources): W[] {
  const limit = r.pids?.limit;
  if (limit === undefined || limit === 0) return [];
  return [w('pids', 'pids.max', limit > 0 ? formatInt(limit) : 'max')];
}

export function v1Blkio(r: LinuxResources, view: FileView): W[] {
  const b = r.blockIO;
  if (!b) return [];
  const out: W[] = [];
  // CFQ's blkio.weight is gone from current kernels; BFQ offers blkio.bfq.weight instead.
  const cfq = view.exists('blkio.weight');
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (b.weight) out.push(w('blkio', weightFile, String(b.weight)));
  if (b.leafWeight) out.push(w('blkio', 'blkio.leaf_weight', String(b.leafWeight)));
  for (const d of b.weightDevice ?? []) {
    if (d.weight) out.push(w('blkio', weightDeviceFile, `${d.major}:${d.minor} ${d.weight}`));
    if (d.leafWeight) out.push(w('blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`));
  }
  for (const [list, file] of [
    [b.throttleReadBpsDevice, 'blkio.throttle.read_bps_device'],
    [b.throttleWriteBpsDevice, 'blkio.throttle.write_bps_device'],
    [b.throttleReadIOPSDevice, 'blkio.throttle.read_iops_device'],
    [b.throttleWriteIOPSDevice, 'blkio.throttle.write_iops_device'],
  ] as const) {
    for (const d of list ?? []) out.push(w('blkio', file, `${d.major}:${d.minor} ${formatInt(d.rate)}`));
  }
  return out;
}

export function v1Hugetlb(r: LinuxResources, view: FileView, sizes: readonly string[]): W[] {
  const out: W[] = [];
  for (const h of r.hugepageLimits ?? []) {
    if (!sizes.includes(h.pageSize))
      throw invalid(`invalid hugepage size '${h.pageSize}' (this host has ${sizes.join(', ') || 'none'})`, h.pageSize);
    out.push(w('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, formatInt(h.limit)));
    const rsvd = `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`;
    if (view.exists(rsvd)) out.push(w('hugetlb', rsvd, formatInt(h.limit)));
  }
  return out;
}

export function v1NetCls(r: LinuxResources): W[] {
  const id = r.network?.classID;
  return id ? [w('net_cls', 'net_cls.classid', String(id))] : [];
}

export function v1NetPrio(r: LinuxResources): W[] {
  return (r.network?.priorities ?? []).map((p) => w('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`));
}

export function rdmaWrites(r: LinuxResources, where: string): W[] {
  return Object.entries(r.rdma ?? {}).map(([dev, l]) => {
    let s = dev;
    if (l.hcaHandles !== undefined) s += ` hca_handle=${l.hcaHandles}`;
    if (l.hcaObjects !== undefined) s += ` hca_object=${l.hcaObjects}`;
    return w(where, 'rdma.max', s);
  });
}
