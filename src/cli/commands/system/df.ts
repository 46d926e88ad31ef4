/**
 * `berth system df [-v] [--format]`: GET /system/df, summarised per type (images, containers,
 * local volumes, build cache) or item by item with `-v`, through the format helper's
 * disk-usage contexts.
 */
import { type DiskUsage, formatDiskUsage } from '../../format/index.js';
import type { CommandSpec } from '../../types.js';
import { LIST_FORMAT_USAGE } from './shared.js';

export const dfCommand: CommandSpec = {
  name: 'df',
  usage: 'df [OPTIONS]',
  short: 'Show docker disk usage',
  args: { max: 0 },
  flags: [
    { name: 'format', kind: 'string', default: '', usage: LIST_FORMAT_USAGE },
    { name: 'verbose', short: 'v', kind: 'bool', usage: 'Show detailed information on space usage' },
  ],
  async run(ctx, { flags }) {
    const client = await ctx.client();
    const du = (await client.json<DiskUsage>('GET', '/system/df')).body;
    ctx.stdout.write(formatDiskUsage(du, { format: flags.string('format'), verbose: flags.bool('verbose') }));
    return 0;
  },
};
