/**
 * `berth ps` / `berth container ls`: `GET /containers/json` with docker's query (all, limit,
 * size, filters), printed through the format helper's container context (the table, `-q`,
 * `--format` templates, `json`, config.json's psFormat). As v28: a `--format` is checked before
 * the daemon is asked, and a template that reads `.Size` asks for sizes unless `--size` was
 * given either way.
 */

import { filtersQuery, parseFilters } from '../../filters.js';
import { containerTemplateNeedsSize, formatContainers } from '../../format/index.js';
import type { CommandSpec } from '../../types.js';
import { readConfigJson } from './prune.js';

export const psCommand: CommandSpec = {
  name: 'ls',
  aliases: ['list', 'ps'],
  usage: 'ls [OPTIONS]',
  short: 'List containers',
  flags: [
    { name: 'all', short: 'a', kind: 'bool', usage: 'Show all containers (default shows just running)' },
    { name: 'filter', short: 'f', kind: 'list', valueName: 'filter', usage: 'Filter output based on conditions provided' },
    {
      name: 'format',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    { name: 'last', short: 'n', kind: 'int', default: -1, usage: 'Show n last created containers (includes all states)' },
    { name: 'latest', short: 'l', kind: 'bool', usage: 'Show the latest created container (includes all states)' },
    { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display container IDs' },
    { name: 'size', short: 's', kind: 'bool', usage: 'Display total file sizes' },
  ],
  args: { max: 0 },
  topLevel: 'ps',
  async run(ctx, inv) {
    const f = inv.flags;
    const quiet = f.bool('quiet');
    let format = f.string('format');
    if (format === '') {
      const fromConfig = readConfigJson(ctx.configDir).psFormat;
      format = typeof fromConfig === 'string' ? fromConfig : '';
    } else if (quiet) ctx.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
    const filters = parseFilters(f.list('filter'));
    let size = f.bool('size');
    let limit = f.int('last');
    if (f.bool('latest') && limit === -1) limit = 1;
    // v28 checks a --format (and sees whether it reads .Size) before asking the daemon
    if (format !== '' && containerTemplateNeedsSize(format) && !quiet && !size && !f.changed('size')) size = true;
    const client = await ctx.client();
    const res = await client.json<unknown[]>('GET', '/containers/json', {
      query: {
        all: f.bool('all') ? '1' : undefined,
        limit: limit > 0 ? limit : undefined,
        size: size ? '1' : undefined,
        filters: filtersQuery(filters),
      },
    });
    const list = (Array.isArray(res.body) ? res.body : []) as Parameters<typeof formatContainers>[0];
    ctx.stdout.write(formatContainers(list, { format, quiet, noTrunc: f.bool('no-trunc'), size }));
    return 0;
  },
};
