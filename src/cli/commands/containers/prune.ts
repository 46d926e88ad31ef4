/**
 * `berth container prune`: remove all stopped containers, after docker's confirmation prompt
 * (unless `-f`), with the filters given and the config.json `pruneFilters`; prints the ids
 * removed and "Total reclaimed space: …". A declined prompt ends quietly with status 0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type FilterArgs, filtersQuery, parseFilters } from '../../filters.js';
import { humanSize } from '../../format/index.js';
import { confirm } from '../../prompt.js';
import type { CliContext, CommandSpec } from '../../types.js';

const WARNING = 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?';

/** command.PruneFilters: config.json's `pruneFilters` (label, label!, until) join the user's. */
export function withConfigPruneFilters(args: FilterArgs, configFilters: unknown): FilterArgs {
  if (!Array.isArray(configFilters)) return args;
  for (const f of configFilters) {
    if (typeof f !== 'string') continue;
    const eq = f.indexOf('=');
    if (eq < 0) continue;
    const key = f.slice(0, eq).trim().toLowerCase();
    const value = f.slice(eq + 1).trim();
    if (key === 'until' && args.until) continue;
    if (key !== 'label' && key !== 'label!' && key !== 'until') continue;
    args[key] ??= {};
    args[key][value] = true;
  }
  return args;
}

export function readConfigJson(configDir: string): Record<string, unknown> {
  try {
    const v = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export const pruneCommand: CommandSpec = {
  name: 'prune',
  usage: 'prune [OPTIONS]',
  short: 'Remove all stopped containers',
  flags: [
    { name: 'filter', kind: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
  ],
  args: { max: 0 },
  async run(ctx, inv) {
    const filters = withConfigPruneFilters(parseFilters(inv.flags.list('filter'), '--filter'), readConfigJson(ctx.configDir).pruneFilters);
    if (!inv.flags.bool('force') && !(await confirm(ctx, WARNING))) return 0;
    const client = await ctx.client();
    const res = await client.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', {
      query: { filters: filtersQuery(filters) },
    });
    const deleted = res.body?.ContainersDeleted ?? [];
    let out = '';
    let reclaimed = 0;
    if (deleted.length > 0) {
      out += `Deleted Containers:\n${deleted.map((id) => `${id}\n`).join('')}\n`;
      reclaimed = res.body?.SpaceReclaimed ?? 0;
    }
    ctx.stdout.write(`${out}Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
