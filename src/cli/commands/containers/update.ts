/**
 * `berth update`: change the resources (and the restart policy) of one or more containers with
 * `POST /containers/{id}/update`. Only the flags given go into the body: dockerd and berthd read
 * a zero as "unchanged", so this is the body docker sends, minus its zeros. The names updated
 * are printed, then the daemon's warnings; the containers are updated one after the other.
 */
import { ramInBytes } from '../../format/index.js';
import type { CommandSpec, FlagSpec, Flags } from '../../types.js';
import { CliError, UsageError } from '../../types.js';
import { containerPath, errorText } from './each.js';

const flags: FlagSpec[] = [
  {
    name: 'blkio-weight',
    kind: 'int',
    valueName: 'uint16',
    usage: 'Block IO (relative weight), between 10 and 1000, or 0 to disable (default 0)',
  },
  { name: 'cpu-period', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) period' },
  { name: 'cpu-quota', kind: 'int', usage: 'Limit CPU CFS (Completely Fair Scheduler) quota' },
  { name: 'cpu-rt-period', kind: 'int', usage: 'Limit the CPU real-time period in microseconds' },
  { name: 'cpu-rt-runtime', kind: 'int', usage: 'Limit the CPU real-time runtime in microseconds' },
  { name: 'cpu-shares', short: 'c', kind: 'int', usage: 'CPU shares (relative weight)' },
  { name: 'cpus', kind: 'string', valueName: 'decimal', usage: 'Number of CPUs' },
  { name: 'cpuset-cpus', kind: 'string', usage: 'CPUs in which to allow execution (0-3, 0,1)' },
  { name: 'cpuset-mems', kind: 'string', usage: 'MEMs in which to allow execution (0-3, 0,1)' },
  { name: 'kernel-memory', kind: 'string', valueName: 'bytes', usage: 'Kernel memory limit (deprecated)', hidden: true },
  { name: 'memory', short: 'm', kind: 'string', valueName: 'bytes', usage: 'Memory limit' },
  { name: 'memory-reservation', kind: 'string', valueName: 'bytes', usage: 'Memory soft limit' },
  { name: 'memory-swap', kind: 'string', valueName: 'bytes', usage: 'Swap limit equal to memory plus swap: -1 to enable unlimited swap' },
  { name: 'pids-limit', kind: 'int', usage: 'Tune container pids limit (set -1 for unlimited)' },
  { name: 'restart', kind: 'string', usage: 'Restart policy to apply when a container exits' },
];

/** pflag's message for a value its flag type refuses; exit 125 with the usage, as docker. */
function badValue(f: FlagSpec, value: string, why: string): UsageError {
  const name = f.short ? `-${f.short}, --${f.name}` : `--${f.name}`;
  return new UsageError(`invalid argument ${JSON.stringify(value)} for "${name}" flag: ${why}`, 125);
}

function spec(name: string): FlagSpec {
  return flags.find((f) => f.name === name)!;
}

/** opts.MemBytes / MemSwapBytes (go-units RAMInBytes; swap also takes -1). */
function bytesFlag(fl: Flags, name: string, allowMinusOne = false): number | undefined {
  if (!fl.changed(name)) return undefined;
  const v = fl.string(name);
  if (allowMinusOne && v === '-1') return -1;
  try {
    return ramInBytes(v);
  } catch (err) {
    throw badValue(spec(name), v, (err as Error).message);
  }
}

/** opts.NanoCPUs: a decimal number of CPUs, as nano-CPUs (an exact integer, or "too precise"). */
export function parseNanoCpus(v: string): number | 'invalid' | 'too-precise' {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(v.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return 'invalid';
  const frac = m[3] ?? '';
  if (frac.replace(/0+$/, '').length > 9) return 'too-precise';
  const nano = BigInt(m[2] || '0') * 1_000_000_000n + BigInt((frac + '000000000').slice(0, 9));
  return Number(m[1] === '-' ? -nano : nano);
}

/** opts.ParseRestartPolicy: `name[:max-retries]`; the daemon judges the name. */
export function parseRestartPolicy(v: string): { Name: string; MaximumRetryCount: number } {
  const colon = v.indexOf(':');
  const name = colon < 0 ? v : v.slice(0, colon);
  if (colon >= 0) {
    if (!name) throw new CliError('invalid restart policy format: no policy provided before colon');
    const count = v.slice(colon + 1);
    if (!/^-?\d+$/.test(count)) throw new CliError('invalid restart policy format: maximum retry count must be an integer');
    return { Name: name, MaximumRetryCount: Number(count) };
  }
  return { Name: name, MaximumRetryCount: 0 };
}

/** The update body from the flags; `undefined` fields are left out (unchanged). */
export function updateBody(fl: Flags): Record<string, unknown> {
  const int = (name: string) => (fl.changed(name) ? fl.int(name) : undefined);
  const body: Record<string, unknown> = {};
  const blkio = int('blkio-weight');
  if (blkio !== undefined && (blkio < 0 || blkio > 65535 || !Number.isInteger(blkio))) {
    const why = blkio < 0 ? 'invalid syntax' : 'value out of range';
    throw badValue(spec('blkio-weight'), String(blkio), `strconv.ParseUint: parsing ${JSON.stringify(String(blkio))}: ${why}`);
  }
  let nano: number | undefined;
  if (fl.changed('cpus')) {
    const v = fl.string('cpus');
    const n = parseNanoCpus(v);
    if (n === 'invalid') throw badValue(spec('cpus'), v, `failed to parse ${v} as a rational number`);
    if (n === 'too-precise') throw badValue(spec('cpus'), v, 'value is too precise');
    nano = n;
  }
  const fields: Record<string, unknown> = {
    BlkioWeight: blkio,
    CpuPeriod: int('cpu-period'),
    CpuQuota: int('cpu-quota'),
    CpuRealtimePeriod: int('cpu-rt-period'),
    CpuRealtimeRuntime: int('cpu-rt-runtime'),
    CpuShares: int('cpu-shares'),
    CpusetCpus: fl.changed('cpuset-cpus') ? fl.string('cpuset-cpus') : undefined,
    CpusetMems: fl.changed('cpuset-mems') ? fl.string('cpuset-mems') : undefined,
    Memory: bytesFlag(fl, 'memory'),
    MemoryReservation: bytesFlag(fl, 'memory-reservation'),
    MemorySwap: bytesFlag(fl, 'memory-swap', true),
    NanoCpus: nano,
    // docker sends no PidsLimit for 0 (a nil pointer): 0 cannot mean "unlimited" here
    PidsLimit: int('pids-limit') || undefined,
  };
  bytesFlag(fl, 'kernel-memory');
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) body[k] = v;
  if (fl.string('restart')) body.RestartPolicy = parseRestartPolicy(fl.string('restart'));
  return body;
}

export const updateCommand: CommandSpec = {
  name: 'update',
  usage: 'update [OPTIONS] CONTAINER [CONTAINER...]',
  short: 'Update configuration of one or more containers',
  flags,
  args: { min: 1 },
  topLevel: 'update',
  async run(ctx, inv) {
    if (!flags.some((f) => inv.flags.changed(f.name))) throw new CliError('you must provide one or more flags when using this command');
    if (inv.flags.changed('kernel-memory'))
      ctx.stdout.write('Flag --kernel-memory has been deprecated, and no longer supported by the kernel\n');
    const body = updateBody(inv.flags);
    const client = await ctx.client();
    const warnings: string[] = [];
    const errors: string[] = [];
    for (const name of inv.args) {
      try {
        const res = await client.json<{ Warnings?: string[] | null }>('POST', containerPath(name, '/update'), { body });
        ctx.stdout.write(`${name}\n`);
        warnings.push(...(res.body?.Warnings ?? []));
      } catch (err) {
        errors.push(errorText(err));
      }
    }
    if (warnings.length > 0) ctx.stdout.write(`${warnings.join('\n')}\n`);
    if (errors.length > 0) throw new CliError(errors.join('\n'));
    return 0;
  },
};
