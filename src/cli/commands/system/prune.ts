/**
 * `berth system prune`: containers, networks, (anonymous volumes,) images and build cache, each
 * through its own prune endpoint, after Docker's warning. An engine without networks or a
 * builder (berthd) answers those two routes 404 "page not found": there is nothing of the kind
 * to prune, so berth goes on where docker stops.
 */
import { ApiError } from '../../../client/types.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { pruneVolumes } from '../volumes/prune.js';
import { confirm, filterFlag, filtersJson, humanSize, withFilter } from './shared.js';

/** Docker's confirmation text for these options. */
export function pruneWarning(o: { all: boolean; volumes: boolean; filters: string[] }): string {
  const w = ['all stopped containers', 'all networks not used by at least one container'];
  if (o.volumes) w.push('all anonymous volumes not used by at least one container');
  w.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images');
  w.push(o.all ? 'all build cache' : 'unused build cache');
  let t = `WARNING! This will remove:\n${w.map((x) => `  - ${x}\n`).join('')}`;
  const shown = o.filters.filter((f) => /^(label|label!|until)=/.test(f)).sort(naturalLess);
  if (shown.length > 0) t += `\n  Items to be pruned will be filtered with:\n${shown.map((f) => `  - ${f}\n`).join('')}`;
  return `${t}\nAre you sure you want to continue?`;
}

/** sortorder.NaturalLess: digit runs compare by value, the rest byte by byte. */
function naturalLess(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    if (/^\d/.test(x) && /^\d/.test(y)) return Number(x) - Number(y) || x.length - y.length;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

const absent = (err: unknown) => err instanceof ApiError && err.status === 404 && /page not found/i.test(err.message);

async function post<T>(ctx: CliContext, path: string, query: Record<string, string | undefined>): Promise<T | undefined> {
  const client = await ctx.client();
  try {
    return (await client.json<T>('POST', path, { query })).body;
  } catch (err) {
    if (absent(err)) return undefined;
    throw err;
  }
}

export const pruneCommand: CommandSpec = {
  name: 'prune',
  usage: 'prune [OPTIONS]',
  short: 'Remove unused data',
  args: { max: 0 },
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused images not just dangling ones' },
    filterFlag('Provide filter values (e.g. "label=<key>=<value>")'),
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
    { name: 'volumes', kind: 'bool', usage: 'Prune anonymous volumes' },
  ],
  async run(ctx, { flags }) {
    const all = flags.bool('all');
    const volumes = flags.bool('volumes');
    const given = flags.list('filter');
    const filters = filtersJson(given, '--filter');
    if (volumes && given.some((f) => f.startsWith('until=')))
      throw new CliError('ERROR: The "until" filter is not supported with "--volumes"');
    if (!flags.bool('force') && !(await confirm(ctx, pruneWarning({ all, volumes, filters: given })))) return 0;

    let reclaimed = 0;
    const say = (s: string) => ctx.stdout.write(`${s}\n`);
    const c = await post<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>(ctx, '/containers/prune', { filters });
    if (c?.ContainersDeleted?.length) {
      say(`Deleted Containers:\n${c.ContainersDeleted.map((x) => `${x}\n`).join('')}`);
      reclaimed += c.SpaceReclaimed ?? 0;
    }
    const n = await post<{ NetworksDeleted: string[] | null }>(ctx, '/networks/prune', { filters });
    if (n?.NetworksDeleted?.length) say(`Deleted Networks:\n${n.NetworksDeleted.map((x) => `${x}\n`).join('')}`);
    if (volumes) {
      const v = await pruneVolumes(ctx, filters);
      if (v.output) say(v.output);
      reclaimed += v.reclaimed;
    }
    const i = await post<{ ImagesDeleted: { Untagged?: string; Deleted?: string }[] | null; SpaceReclaimed: number }>(
      ctx,
      '/images/prune',
      {
        filters: withFilter(filters, 'dangling', String(!all)),
      },
    );
    if (i?.ImagesDeleted?.length) {
      let out = 'Deleted Images:\n';
      for (const d of i.ImagesDeleted) {
        if (d.Untagged) out += `untagged: ${d.Untagged}\n`;
        if (d.Deleted) out += `deleted: ${d.Deleted}\n`;
      }
      say(out);
      reclaimed += i.SpaceReclaimed ?? 0;
    }
    const b = await post<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>(ctx, '/build/prune', {
      all: all ? '1' : undefined,
      filters,
    });
    if (b?.CachesDeleted?.length) {
      say(`Deleted build cache objects:\n${b.CachesDeleted.map((x) => `${x}\n`).join('')}`);
      reclaimed += b.SpaceReclaimed ?? 0;
    }
    say(`Total reclaimed space: ${humanSize(reclaimed)}`);
    return 0;
  },
};
