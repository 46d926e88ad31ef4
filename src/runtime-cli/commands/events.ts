import type { Command } from 'commander';
import { statsJson } from '../../runtime/cgroups/stats.js';
import { containerEvents, containerStats } from '../../runtime/container/events.js';
import { type Context, usageError } from '../context.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("5s", "1m30s", "250ms", "0"), in milliseconds; undefined if it does not parse. Pure. */
export function parseDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * (UNITS[m[2] ?? ''] ?? Number.NaN);
    s = s.slice(m[0].length);
  }
  return sign * total;
}

export function register(program: Command, ctx: Context): void {
  program
    .command('events')
    .description('display container events such as OOM notifications, cpu, memory, and IO usage statistics')
    .argument('<container-id>')
    .option('--interval <duration>', 'set the stats collection interval', '5s')
    .option('--stats', "display the container's stats then exit")
    .action(async (id: string, flags: { interval: string; stats?: boolean }) => {
      const interval = parseDuration(flags.interval);
      if (interval === undefined) throw usageError(`invalid value "${flags.interval}" for flag -interval: parse error`);
      if (!(interval > 0)) throw usageError('duration interval must be greater than 0');
      if (flags.stats) {
        const data = await containerStats(ctx.root(), id);
        process.stdout.write(`${statsJson({ type: 'stats', id, data })}\n`);
        return;
      }
      for await (const e of containerEvents(ctx.root(), id, interval)) process.stdout.write(`${statsJson(e)}\n`);
    });
}
