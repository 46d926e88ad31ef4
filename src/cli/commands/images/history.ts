/** `berth history` / `berth image history`: GET /images/{name}/history, laid out by Docker's history formatter (src/cli/format). */
import { formatHistory, type HistoryItem } from '../../format/index.js';
import { CliError, type CommandSpec } from '../../types.js';

export const history: CommandSpec = {
  name: 'history',
  usage: 'history [OPTIONS] IMAGE',
  short: 'Show the history of an image',
  topLevel: 'history',
  args: { min: 1, max: 1 },
  flags: [
    {
      name: 'format',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    { name: 'human', short: 'H', kind: 'bool', default: true, usage: 'Print sizes and dates in human readable format' },
    { name: 'no-trunc', kind: 'bool', usage: "Don't truncate output" },
    {
      name: 'platform',
      kind: 'string',
      usage: 'Show history for the given platform. Formatted as "os[/arch[/variant]]" (e.g., "linux/amd64")',
    },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only show image IDs' },
  ],
  async run(ctx, inv) {
    const client = await ctx.client();
    if (inv.flags.string('platform'))
      throw new CliError(`"platform" requires API version 1.48, but the Docker daemon API version is ${client.version}`);
    const res = await client.json<HistoryItem[]>('GET', `/images/${inv.args[0]}/history`);
    ctx.stdout.write(
      formatHistory(res.body ?? [], {
        format: inv.flags.string('format'),
        quiet: inv.flags.bool('quiet'),
        noTrunc: inv.flags.bool('no-trunc'),
        human: inv.flags.bool('human'),
      }),
    );
    return 0;
  },
};
