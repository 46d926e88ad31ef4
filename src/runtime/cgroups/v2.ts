/**
 * linux.resources → cgroup v2 file writes, following runc's libcontainer/cgroups/fs2 and its
 * v1→v2 conversions (shares → cpu.weight, memory+swap → memory.swap.max, blkio weight →
 * io.weight). Pure: the container's cgroup is seen through a `FileView`.
 */
import { invalid } from '../../common/errors.js';
import { blkioWeightToIoWeight, formatInt, type LinuxResources, sharesToWeight, swapToV2, v2Number } from './resources.js';
import type { CgroupWrite, FileView } from './writes.js';

export const V2 = 'cgroup2';

type W = CgroupWrite;

function w(file: string, value: string, extra: Partial<CgroupWrite> = {}): W {
  return { where: V2, file, value, ...extra };
}

export function v2Pids(r: LinuxResources): W[] {
  const limit = r.pids?.limit;
  if (limit === undefined || limit === 0) return [];
  return [w('pids.max', limit > 0 ? formatInt(limit) : 'max')];
}

export function v2Memory(r: LinuxResources, view: FileView, warnings: string[]): W[] {
  const m = r.memory;
  if (!m) return [];
  const out: W[] = [];
  const limit = m.limit ?? 0;
  const swap = m.swap ?? 0;
  const reservation = m.reservation ?? 0;
  if (limit !== 0 || swap !== 0 || reservation !== 0) {
    if (m.checkBeforeUpdate && limit > 0) {
      const usage = Number(view.read('memory.current')?.trim() ?? Number.NaN);
      if (usage >= limit)
        throw invalid(`rejecting memory limit ${formatInt(limit)} below current usage ${formatInt(usage)}`, 'memory.limit');
    }
    const swapV2 = swapToV2(swap, limit);
    // swap == limit > 0 means "no swap": 0, which v2Number would read as "unset"
    const swapStr = v2Number(swapV2) ?? (swapV2 === 0 && swap > 0 ? '0' : undefined);
    if (swapStr !== undefined) {
      if (!view.exists('memory.swap.max'))
        throw invalid(
          'cannot set memory swap limit: memory.swap.max does not exist (swap accounting is disabled in this kernel)',
          'memory.swap',
        );
      out.push(w('memory.swap.max', swapStr));
    }
    const max = v2Number(limit);
    if (max !== undefined) out.push(w('memory.max', max));
    const low = v2Number(reservation);
    if (low !== undefined) out.push(w('memory.low', low));
  }
  if (m.kernel) warnings.push('memory.kernel ignored: cgroup v2 has no kernel memory limit');
  if (m.kernelTCP) warnings.push('memory.kernelTCP ignored: cgroup v2 has no kernel TCP memory limit');
  if (m.swappiness !== undefined && m.swappiness !== null)
    warnings.push('memory.swappiness ignored: cgroup v2 has no per-cgroup swappiness');
  if (m.disableOOMKiller) warnings.push('memory.disableOOMKiller ignored: cgroup v2 cannot disable the OOM killer');
  return out;
}

export function v2Io(r: LinuxResources, view: FileView, warnings: string[]): W[] {
  const b = r.blockIO;
  if (!b) return [];
  const out: W[] = [];
  // With BFQ the v1 weight range applies as is; otherwise convert to io.weight's range.
  const bfq = view.exists('io.bfq.weight');
  if (b.weight) out.push(bfq ? w('io.bfq.weight', String(b.weight)) : w('io.weight', String(blkioWeightToIoWeight(b.weight))));
  for (const d of b.weightDevice ?? []) {
    if (!d.weight) continue;
    const dev = `${d.major}:${d.minor}`;
    out.push(bfq ? w('io.bfq.weight', `${dev} ${d.weight}`) : w('io.weight', `${dev} ${blkioWeightToIoWeight(d.weight)}`));
  }
  if (b.leafWeight || (b.weightDevice ?? []).some((d) => d.leafWeight))
    warnings.push('blockIO.leafWeight ignored: cgroup v2 has no leaf weights');
  for (const [list, key] of [
    [b.throttleReadBpsDevice, 'rbps'],
    [b.throttleWriteBpsDevice, 'wbps'],
    [b.throttleReadIOPSDevice, 'riops'],
    [b.throttleWriteIOPSDevice, 'wiops'],
  ] as const) {
    for (const d of list ?? []) out.push(w('io.max', `${d.major}:${d.minor} ${key}=${d.rate === 0 ? 'max' : formatInt(d.rate)}`));
  }
  return out;
}

export function v2Cpu(r: LinuxResources, view: FileView): W[] {
  const c = r.cpu;
  if (!c) return [];
  if (c.realtimePeriod || c.realtimeRuntime)
    throw invalid('cpu.realtimePeriod and cpu.realtimeRuntime are not supported on cgroup v2', 'cpu.realtimeRuntime');
  const out: W[] = [];
  if (c.shares) out.push(w('cpu.weight', String(sharesToWeight(c.shares))));
  if (c.quota || c.period) {
    const quota = c.quota && c.quota > 0 ? formatInt(c.quota) : 'max';
    out.push(w('cpu.max', `${quota} ${c.period || 100000}`));
  }
  if (c.burst !== undefined && c.burst !== null) {
    if (view.exists('cpu.max.burst')) out.push(w('cpu.max.burst', String(c.burst)));
    else if (c.burst !== 0) throw invalid('cannot set cpu.burst: this kernel has no cpu.max.burst', 'cpu.burst');
  }
  if (c.idle !== undefined && c.idle !== null) {
    if (view.exists('cpu.idle')) out.push(w('cpu.idle', String(c.idle)));
    else if (c.idle !== 0) throw invalid('cannot set cpu.idle: this kernel has no cpu.idle', 'cpu.idle');
  }
  return out;
}

export function v2Cpuset(r: LinuxResources): W[] {
  const out: W[] = [];
  if (r.cpu?.cpus) out.push(w('cpuset.cpus', r.cpu.cpus));
  if (r.cpu?.mems) out.push(w('cpuset.mems', r.cpu.mems));
  return out;
}

export function v2Hugetlb(r: LinuxResources, view: FileView, sizes: readonly string[]): W[] {
  const out: W[] = [];
  for (const h of r.hugepageLimits ?? []) {
    if (!sizes.includes(h.pageSize))
      throw invalid(`invalid hugepage size '${h.pageSize}' (this host has ${sizes.join(', ') || 'none'})`, h.pageSize);
    out.push(w(`hugetlb.${h.pageSize}.max`, formatInt(h.limit)));
    const rsvd = `hugetlb.${h.pageSize}.rsvd.max`;
    if (view.exists(rsvd)) out.push(w(rsvd, formatInt(h.limit)));
  }
  return out;
}

/**
 * `unified` keys are cgroup v2 file names, written as given, last (so they win over the
 * converted values, as in runc). A key of a controller the cgroup does not have is refused
 * with the reason.
 */
export function v2Unified(r: LinuxResources, view: FileView, controllers: ReadonlySet<string>, where: string): W[] {
  const out: W[] = [];
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    const ctrl = key.split('.')[0] ?? '';
    if (!view.exists(key)) {
      if (ctrl !== 'cgroup' && !controllers.has(ctrl))
        throw invalid(`unified resource '${key}': the '${ctrl}' controller is not available in the cgroup2 hierarchy (${where})`, key);
      throw invalid(`unified resource '${key}': no such cgroup file`, key);
    }
    out.push(w(key, value));
  }
  return out;
}
