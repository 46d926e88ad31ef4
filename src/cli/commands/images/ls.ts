/** `berth images` / `berth image ls`: GET /images/json, laid out by Docker's image formatter (src/cli/format). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filtersQuery, parseFilters } from '../../filters.js';
import { formatImages, type ImageSummary } from '../../format/index.js';
import { CliError, type CommandSpec } from '../../types.js';

/** config.json's `imagesFormat`, if any. */
function configFormat(configDir: string, key: string): string {
  try {
    const v = (JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}

export const ls: CommandSpec = {
  name: 'ls',
  aliases: ['list'],
  usage: 'ls [OPTIONS] [REPOSITORY[:TAG]]',
  short: 'List images',
  topLevel: 'images',
  args: { max: 1 },
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Show all images (default hides intermediate images)' },
    { name: 'digests', kind: 'bool', usage: 'Show digests' },
    { name: 'filter', short: 'f', kind: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided' },
    {
      name: 'format',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only show image IDs' },
    { name: 'tree', kind: 'bool', usage: 'List multi-platform images as a tree (EXPERIMENTAL)' },
  ],
  async run(ctx, inv) {
    const quiet = inv.flags.bool('quiet');
    const digests = inv.flags.bool('digests');
    const filters = parseFilters(inv.flags.list('filter'), '-f, --filter');
    if (inv.args[0]) parseFilters([`reference=${inv.args[0]}`], undefined, filters);
    const client = await ctx.client();
    if (inv.flags.bool('tree'))
      throw new CliError(`"--tree" requires API version 1.47, but the Docker daemon API version is ${client.version}`);
    let source = inv.flags.string('format');
    if (!source) source = (!quiet && configFormat(ctx.configDir, 'imagesFormat')) || 'table';
    const query: Record<string, string> = {};
    if (inv.flags.bool('all')) query.all = '1';
    const f = filtersQuery(filters);
    if (f) query.filters = f;
    const res = await client.json<ImageSummary[]>('GET', '/images/json', { query });
    ctx.stdout.write(formatImages(res.body ?? [], { format: source, quiet, digests, noTrunc: inv.flags.bool('no-trunc') }));
    return 0;
  },
};
