/**
 * `berth logs` (`container logs`): inspect (for the container's id and whether it has a tty),
 * then `GET /containers/{id}/logs`, written raw (tty) or split back into stdout and stderr.
 * `--since`/`--until` take what docker takes: a Go duration before now, an RFC 3339 time or
 * date, or a unix timestamp.
 */
import { copyOutput } from '../../../client/streams.js';
import { CliError, type CommandSpec } from '../../types.js';
import { seg } from './attached.js';
import { inspectContainer } from './start.js';

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration, in nanoseconds; undefined when `s` is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (m === null) return s === '0' ? 0 : undefined;
  let total = 0;
  for (const part of (m[2] as string).matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNIT_NS[part[2] as string] as number);
  }
  return m[1] === '-' ? -total : total;
}

/**
 * The API's `since`/`until` value for a CLI value (docker's timetypes.GetTimestamp):
 * `seconds.nanoseconds` for a duration or a time, a unix timestamp as given.
 */
export function apiTimestamp(value: string, nowMs: number = Date.now()): string {
  const d = parseGoDuration(value);
  if (value !== '0' && d !== undefined) return String(Math.floor(nowMs / 1000 - d / 1e9));
  if (/^\d+(\.\d{1,9})?$/.test(value)) return value;
  if (value.includes('-') || value.includes('T')) {
    const frac = /\.(\d{1,9})/.exec(value);
    const ms = Date.parse(frac === null ? value : value.replace(/\.\d+/, ''));
    if (!Number.isNaN(ms)) {
      const nanos = (frac?.[1] ?? '').padEnd(9, '0');
      return `${Math.floor(ms / 1000)}.${nanos}`;
    }
    throw new Error(`parsing time "${value}": cannot parse as RFC 3339 time`);
  }
  throw new Error(`failed to parse value as time or duration: "${value}"`);
}

export const logs: CommandSpec = {
  name: 'logs',
  usage: 'logs [OPTIONS] CONTAINER',
  short: 'Fetch the logs of a container',
  flags: [
    { name: 'details', kind: 'bool', usage: 'Show extra details provided to logs' },
    { name: 'follow', short: 'f', kind: 'bool', usage: 'Follow log output' },
    {
      name: 'since',
      kind: 'string',
      usage: 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
    { name: 'tail', short: 'n', kind: 'string', default: 'all', usage: 'Number of lines to show from the end of the logs' },
    { name: 'timestamps', short: 't', kind: 'bool', usage: 'Show timestamps' },
    {
      name: 'until',
      kind: 'string',
      usage: 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)',
    },
  ],
  args: { min: 1, max: 1 },
  topLevel: 'logs',
  async run(ctx, inv) {
    const f = inv.flags;
    const client = await ctx.client();
    const c = await inspectContainer(client, inv.args[0] as string);
    const time = (flag: 'since' | 'until'): string | undefined => {
      const v = f.string(flag);
      if (v === '') return undefined;
      try {
        return apiTimestamp(v);
      } catch (err) {
        throw new CliError(`invalid value for "${flag}": ${(err as Error).message}`, 1);
      }
    };
    const since = time('since');
    const until = time('until');
    const res = await client.stream('GET', `/containers/${seg(c.Id)}/logs`, {
      query: {
        details: f.bool('details') || undefined,
        follow: f.bool('follow') || undefined,
        since,
        stderr: true,
        stdout: true,
        tail: f.string('tail'),
        timestamps: f.bool('timestamps') || undefined,
        until,
      },
    });
    await copyOutput(res, { tty: c.Config.Tty === true, stdout: ctx.stdout, stderr: ctx.stderr });
    return 0;
  },
};
