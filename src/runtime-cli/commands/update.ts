import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BerthError, fromErrno } from '../../common/errors.js';
import { type LinuxResources, parseResources, ramInBytes } from '../../runtime/cgroups/resources.js';
import { update } from '../../runtime/container/update.js';
import { type Context, usageError, warn } from '../context.js';

export interface UpdateFlags {
  resources?: string;
  blkioWeight?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpuBurst?: string;
  cpuShare?: string;
  cpuShares?: string;
  cpuRtPeriod?: string;
  cpuRtRuntime?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  cpuIdle?: string;
  kernelMemory?: string;
  kernelMemoryTcp?: string;
  memory?: string;
  memoryReservation?: string;
  memorySwap?: string;
  pidsLimit?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
}

function int(flag: string, raw: string, unsigned: boolean): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || (unsigned && n < 0)) throw usageError(`invalid value for --${flag}: '${raw}'`);
  return n;
}

/** runc's flags → the resources they change (only the flags given). Pure. */
export function resourcesFromFlags(f: UpdateFlags): LinuxResources {
  if (f.l3CacheSchema) throw new BerthError('not-implemented', 'Intel RDT/CAT: l3 cache schema is not supported by berth-runtime');
  if (f.memBwSchema) throw new BerthError('not-implemented', 'Intel RDT/MBA: memory bandwidth schema is not supported by berth-runtime');
  const r: LinuxResources = {};
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (f.blkioWeight !== undefined) {
    const w = int('blkio-weight', f.blkioWeight, true);
    if (w !== 0) r.blockIO = { weight: w };
  }
  if (f.cpusetCpus) cpu.cpus = f.cpusetCpus;
  if (f.cpusetMems) cpu.mems = f.cpusetMems;
  if (f.cpuIdle) cpu.idle = int('cpu-idle', f.cpuIdle, false);
  if (f.cpuBurst) cpu.burst = int('cpu-burst', f.cpuBurst, true);
  if (f.cpuPeriod) cpu.period = int('cpu-period', f.cpuPeriod, true);
  if (f.cpuRtPeriod) cpu.realtimePeriod = int('cpu-rt-period', f.cpuRtPeriod, true);
  const shares = f.cpuShare ?? f.cpuShares;
  if (shares) cpu.shares = int('cpu-share', shares, true);
  if (f.cpuQuota) cpu.quota = int('cpu-quota', f.cpuQuota, false);
  if (f.cpuRtRuntime) cpu.realtimeRuntime = int('cpu-rt-runtime', f.cpuRtRuntime, false);
  for (const [flag, raw, key] of [
    ['memory', f.memory, 'limit'],
    ['memory-swap', f.memorySwap, 'swap'],
    ['memory-reservation', f.memoryReservation, 'reservation'],
    ['kernel-memory', f.kernelMemory, 'kernel'],
    ['kernel-memory-tcp', f.kernelMemoryTcp, 'kernelTCP'],
  ] as const) {
    if (!raw) continue;
    const v = raw === '-1' ? -1 : ramInBytes(raw);
    if (v === undefined) throw usageError(`invalid value for --${flag}: '${raw}'`);
    memory[key] = v;
  }
  if (Object.keys(cpu).length > 0) r.cpu = cpu;
  if (Object.keys(memory).length > 0) r.memory = memory;
  if (f.pidsLimit !== undefined) {
    const limit = int('pids-limit', f.pidsLimit, false);
    if (limit !== 0) r.pids = { limit };
  }
  return r;
}

function readResources(file: string): LinuxResources {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw fromErrno('read', file === '-' ? 'stdin' : file, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw usageError(`parse '${file === '-' ? 'stdin' : file}': ${(err as Error).message}`);
  }
  return parseResources(value, 'resources');
}

export function register(program: Command, ctx: Context): void {
  program
    .command('update')
    .description('update container resource constraints')
    .argument('<container-id>')
    .option(
      '-r, --resources <file>',
      "path to a file with the resources to update (LinuxResources JSON), or '-' for stdin; other flags are then ignored",
    )
    .option('--blkio-weight <n>', 'per cgroup block IO weight, 10 to 1000')
    .option('--cpu-period <usecs>', 'CPU CFS period (0: system default)')
    .option('--cpu-quota <usecs>', 'CPU CFS hard cap per period')
    .option('--cpu-burst <usecs>', 'CPU CFS burst above the quota')
    .option('--cpu-share <n>', 'CPU shares (relative weight)')
    .option('--cpu-shares <n>', 'same as --cpu-share')
    .option('--cpu-rt-period <usecs>', 'CPU realtime period')
    .option('--cpu-rt-runtime <usecs>', 'CPU realtime runtime per period')
    .option('--cpuset-cpus <list>', 'CPUs to use')
    .option('--cpuset-mems <list>', 'memory nodes to use')
    .option('--cpu-idle <0|1>', 'SCHED_IDLE for the cgroup')
    .option('--kernel-memory <bytes>', 'kernel memory limit (where the kernel still has it)')
    .option('--kernel-memory-tcp <bytes>', 'kernel TCP buffer memory limit (where the kernel still has it)')
    .option('--memory <bytes>', 'memory limit (e.g. 64m)')
    .option('--memory-reservation <bytes>', 'memory reservation (soft limit)')
    .option('--memory-swap <bytes>', "memory plus swap limit; '-1' for unlimited swap")
    .option('--pids-limit <n>', 'maximum number of pids')
    .option('--l3-cache-schema <schema>', 'Intel RDT/CAT L3 cache schema (not supported)')
    .option('--mem-bw-schema <schema>', 'Intel RDT/MBA memory bandwidth schema (not supported)')
    .action(async (id: string, flags: UpdateFlags) => {
      const change = flags.resources !== undefined ? readResources(flags.resources) : resourcesFromFlags(flags);
      warn(await update(ctx.root(), id, change));
    });
}
