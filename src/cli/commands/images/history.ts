/** `berth history` / `berth image history`: GET /images/{name}/history in Docker's history table or a --format. */
import { humanSizeWithPrecision, rfc3339, timeAgo } from '../../format/index.js';
import { CliError, type CommandSpec } from '../../types.js';
import { ellipsis, FormatContext, TABLE, truncateId, writeFormatted } from './formatter.js';

interface HistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags?: string[] | null;
  Size: number;
  Comment: string;
}

/** formatter's historyContext. */
export class HistoryContext extends FormatContext {
  static goType = '*image.historyContext';
  readonly ID: string;
  readonly CreatedSince: string;
  readonly CreatedAt: string;
  readonly CreatedBy: string;
  readonly Size: string;
  readonly Comment: string;

  constructor(h: HistoryItem, trunc: boolean, human: boolean, nowMs = Date.now()) {
    super();
    this.ID = trunc ? truncateId(h.Id) : h.Id;
    this.CreatedAt = rfc3339(h.Created);
    this.CreatedSince = human ? timeAgo(h.Created, nowMs) : this.CreatedAt;
    const by = (h.CreatedBy ?? '').replaceAll('\t', ' ');
    this.CreatedBy = trunc ? ellipsis(by, 45) : by;
    this.Size = human ? humanSizeWithPrecision(h.Size, 3) : String(h.Size);
    this.Comment = h.Comment ?? '';
  }
}

const HEADER: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

/** formatter.NewHistoryFormat. */
export function historyFormat(source: string, quiet: boolean, human: boolean): string {
  if (source !== TABLE) return source;
  if (quiet) return '{{.ID}}';
  return human
    ? 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}'
    : 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
}

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
    const human = inv.flags.bool('human');
    const format = historyFormat(inv.flags.string('format') || TABLE, inv.flags.bool('quiet'), human);
    const res = await client.json<HistoryItem[]>('GET', `/images/${inv.args[0]}/history`);
    const trunc = !inv.flags.bool('no-trunc');
    const rows = (res.body ?? []).map((h) => new HistoryContext(h, trunc, human));
    ctx.stdout.write(writeFormatted(format, rows, HEADER));
    return 0;
  },
};
