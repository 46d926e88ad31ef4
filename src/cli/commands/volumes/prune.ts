/**
 * `berth volume prune`: POST /volumes/prune after Docker's confirmation. Before API 1.42 the
 * daemon removes named volumes too, so the warning says "all" there (as v28 does).
 */
import type { CliContext, CommandSpec } from '../../types.js';
import { CliError } from '../../types.js';
import { apiAtLeast, confirm, filterFlag, filtersJson, humanSize, requireApi, withFilter } from '../system/shared.js';

const UNUSED_WARNING =
  'WARNING! This will remove anonymous local volumes not used by at least one container.\nAre you sure you want to continue?';
const ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.\nAre you sure you want to continue?';

/** The prune itself (also `system prune --volumes`): the report's text and the space reclaimed. */
export async function pruneVolumes(ctx: CliContext, filters: string | undefined): Promise<{ output: string; reclaimed: number }> {
  const client = await ctx.client();
  const r = await client.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', {
    query: { filters },
  });
  const deleted = r.body.VolumesDeleted ?? [];
  if (deleted.length === 0) return { output: '', reclaimed: 0 };
  return { output: `Deleted Volumes:\n${deleted.map((d) => `${d}\n`).join('')}`, reclaimed: r.body.SpaceReclaimed ?? 0 };
}

export const pruneCommand: CommandSpec = {
  name: 'prune',
  usage: 'prune [OPTIONS]',
  short: 'Remove unused local volumes',
  args: { max: 0 },
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused volumes, not just anonymous ones' },
    filterFlag('Provide filter values (e.g. "label=<label>")'),
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
  ],
  async run(ctx, { flags }) {
    let filters = filtersJson(flags.list('filter'), '--filter');
    const client = await ctx.client();
    let warning = UNUSED_WARNING;
    if (flags.changed('all')) requireApi('all', '1.42', client.version);
    if (!apiAtLeast(client.version, '1.42')) warning = ALL_WARNING;
    else if (flags.bool('all')) {
      if (filters && 'all' in JSON.parse(filters)) throw new CliError('conflicting options: cannot specify both --all and --filter all=1');
      filters = withFilter(filters, 'all', 'true');
      warning = ALL_WARNING;
    }
    // Declined: nothing is said and the status is 0, as with docker.
    if (!flags.bool('force') && !(await confirm(ctx, warning))) return 0;
    const { output, reclaimed } = await pruneVolumes(ctx, filters);
    if (output) ctx.stdout.write(`${output}\n`);
    ctx.stdout.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    return 0;
  },
};
