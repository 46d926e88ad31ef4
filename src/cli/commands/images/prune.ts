/** `berth image prune`: a confirmation (unless -f), POST /images/prune, the deleted list and the reclaimed space. */

import { filtersQuery, parseFilters } from '../../filters.js';
import { humanSize } from '../../format/index.js';
import { confirm } from '../../prompt.js';
import type { CommandSpec } from '../../types.js';

const DANGLING_WARNING = 'WARNING! This will remove all dangling images.\nAre you sure you want to continue?';
const ALL_WARNING =
  'WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?';

interface PruneReport {
  ImagesDeleted?: { Untagged?: string; Deleted?: string }[] | null;
  SpaceReclaimed?: number;
}

export const prune: CommandSpec = {
  name: 'prune',
  usage: 'prune [OPTIONS]',
  short: 'Remove unused images',
  args: { max: 0 },
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Remove all unused images, not just dangling ones' },
    { name: 'filter', kind: 'list', valueName: 'filter', usage: 'Provide filter values (e.g. "until=<timestamp>")' },
    { name: 'force', short: 'f', kind: 'bool', usage: 'Do not prompt for confirmation' },
  ],
  async run(ctx, inv) {
    const all = inv.flags.bool('all');
    const filters = parseFilters(inv.flags.list('filter'), '--filter');
    parseFilters([`dangling=${!all}`], undefined, filters);
    // A refusal ends quietly with status 0, as docker's cancelled prune does.
    if (!inv.flags.bool('force') && !(await confirm(ctx, all ? ALL_WARNING : DANGLING_WARNING))) return 0;
    const client = await ctx.client();
    const res = await client.json<PruneReport>('POST', '/images/prune', { query: { filters: filtersQuery(filters) } });
    const deleted = res.body?.ImagesDeleted ?? [];
    if (deleted.length) {
      let text = 'Deleted Images:\n';
      for (const d of deleted) text += d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted ?? ''}\n`;
      ctx.stdout.write(`${text}\n`);
    }
    ctx.stdout.write(`Total reclaimed space: ${humanSize(res.body?.SpaceReclaimed ?? 0)}\n`);
    return 0;
  },
};
