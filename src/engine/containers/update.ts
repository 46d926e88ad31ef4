/**
 * `POST /containers/{id}/update` (docker update): the resources asked for and the restart policy,
 * checked as dockerd checks them, written into the record's HostConfig for every container and,
 * for a running (or paused) one, into its cgroups through the runtime library's `update` (which
 * merges them into the run's recorded resources). `resourceChange` is pure; it maps the same
 * HostConfig fields as the spec builder's memory/cpu/pids parts (src/engine/spec/oci-spec.ts),
 * but only those the request names, since an update leaves the others as they are.
 */
import { BerthError } from '../../common/errors.js';
import type { LinuxResources } from '../../runtime/cgroups/resources.js';
import { update } from '../../runtime/index.js';
import type { Engine } from '../engine.js';
import type { HostConfig } from '../spec/create-config.js';
import { MIN_MEMORY } from '../spec/index.js';

/** moby container.UpdateConfig: Resources (flattened) and RestartPolicy. */
export type UpdateBody = Partial<
  Pick<
    HostConfig,
    | 'CpuShares'
    | 'Memory'
    | 'NanoCpus'
    | 'CpuPeriod'
    | 'CpuQuota'
    | 'CpusetCpus'
    | 'CpusetMems'
    | 'MemoryReservation'
    | 'MemorySwap'
    | 'KernelMemory'
    | 'PidsLimit'
    | 'BlkioWeight'
    | 'RestartPolicy'
  >
>;

const FIELDS = [
  'CpuShares',
  'Memory',
  'NanoCpus',
  'CpuPeriod',
  'CpuQuota',
  'CpusetCpus',
  'CpusetMems',
  'MemoryReservation',
  'MemorySwap',
  'KernelMemory',
  'PidsLimit',
  'BlkioWeight',
] as const;

const bad = (object: string, message: string) => new BerthError('invalid-argument', message, { object });

/** The HostConfig after the update (dockerd's rules and texts); throws on a refused change. */
export function updatedHostConfig(h: HostConfig, body: UpdateBody): HostConfig {
  const next: HostConfig = { ...h };
  for (const f of FIELDS) {
    const v = body[f];
    // zero and empty mean "not asked" in an update (the CLI sends every field)
    if (v !== undefined && v !== null && v !== 0 && v !== '') (next as Record<string, unknown>)[f] = v;
  }
  const memory = next.Memory ?? 0;
  if (body.Memory && body.Memory < MIN_MEMORY) throw bad('Memory', 'Minimum memory limit allowed is 6MB');
  const swap = next.MemorySwap ?? 0;
  if (body.Memory && !body.MemorySwap && swap > 0 && memory > swap)
    throw bad('Memory', 'Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  if (swap > 0 && swap < memory) throw bad('MemorySwap', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  if (body.NanoCpus && (body.CpuQuota || body.CpuPeriod))
    throw bad('NanoCpus', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (body.NanoCpus) {
    next.CpuQuota = 0;
    next.CpuPeriod = 0;
  }
  if ((body.CpuQuota || body.CpuPeriod) && h.NanoCpus) next.NanoCpus = 0;
  if (body.RestartPolicy?.Name !== undefined && body.RestartPolicy.Name !== '') {
    if (h.AutoRemove && body.RestartPolicy.Name !== 'no')
      throw bad('RestartPolicy', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
    if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(body.RestartPolicy.Name))
      throw bad('RestartPolicy', `invalid restart policy '${body.RestartPolicy.Name}'`);
    next.RestartPolicy = { Name: body.RestartPolicy.Name, MaximumRetryCount: body.RestartPolicy.MaximumRetryCount ?? 0 };
  }
  return next;
}

/** The cgroup change for the fields the request names. */
export function resourceChange(next: HostConfig, body: UpdateBody): LinuxResources {
  const r: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (body.Memory) {
    memory.limit = body.Memory;
    // the swap dockerd set at create (twice the limit, when not given) follows an explicit one only
    if (!body.MemorySwap && !next.MemorySwap) memory.swap = body.Memory * 2;
  }
  if (body.MemorySwap) memory.swap = body.MemorySwap;
  if (body.MemoryReservation) memory.reservation = body.MemoryReservation;
  if (Object.keys(memory).length) r.memory = memory;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (body.CpuShares) cpu.shares = body.CpuShares;
  if (body.NanoCpus) {
    cpu.period = 100_000;
    cpu.quota = Math.floor((body.NanoCpus * 100_000) / 1e9);
  }
  if (body.CpuPeriod) cpu.period = body.CpuPeriod;
  if (body.CpuQuota) cpu.quota = body.CpuQuota;
  if (body.CpusetCpus) cpu.cpus = body.CpusetCpus;
  if (body.CpusetMems) cpu.mems = body.CpusetMems;
  if (Object.keys(cpu).length) r.cpu = cpu;
  // -1 is unlimited (the runtime writes "max")
  if (body.PidsLimit) r.pids = { limit: body.PidsLimit };
  if (body.BlkioWeight) r.blockIO = { weight: body.BlkioWeight };
  return r;
}

export async function updateContainer(engine: Engine, ref: string, body: UpdateBody): Promise<string[]> {
  const rec0 = engine.containers.get(ref);
  return engine.withLock(rec0.Id, async () => {
    const rec = engine.containers.get(rec0.Id);
    if (rec.State.Status === 'removing' || rec.State.Status === 'dead')
      throw new BerthError('failed-precondition', `Container ${rec.Id} is marked for removal and cannot be "update"`, { object: rec.Id });
    // as dockerd's verifyPlatformContainerResources on update: a weight nothing can apply is dropped
    const warnings: string[] = [];
    if (body.BlkioWeight && engine.host.facts.blkioWeight === false) {
      warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
      body = { ...body, BlkioWeight: 0 };
    }
    const next = updatedHostConfig(rec.HostConfig, body);
    const change = resourceChange(next, body);
    if ((rec.State.Status === 'running' || rec.State.Status === 'paused') && Object.keys(change).length) {
      try {
        warnings.push(...(await update(engine.runtimeRoot, rec.Id, change)));
      } catch (err) {
        throw new BerthError('invalid-argument', `Cannot update container ${rec.Id}: ${(err as Error).message}`, {
          object: rec.Id,
          cause: err,
        });
      }
    }
    rec.HostConfig = next;
    engine.containers.save(rec);
    engine.publish(rec, 'update');
    return warnings;
  });
}
