/** `berth context ls`: the contexts, the current one starred, as `docker context ls` lists them. */
import { tabwrite } from '../../format/index.js';
import { parseTemplate, runTemplate } from '../../templates.js';
import type { CommandSpec } from '../../types.js';
import { allContexts, current, goJson, HOST_WARNING, lookup } from './common.js';

const DEFAULT_TABLE = '{{.Name}}\t{{.Description}}\t{{.DockerEndpoint}}\t{{.Error}}';
/** What a table's header row shows for each field. */
const HEADERS = { Name: 'NAME', Description: 'DESCRIPTION', DockerEndpoint: 'DOCKER ENDPOINT', Error: 'ERROR', Current: 'CURRENT' };

/** docker's formatter.Ellipsis: at most `n` characters, the last one `…` when cut. */
function ellipsis(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join('')}…`;
}

export const lsCommand: CommandSpec = {
  name: 'ls',
  aliases: ['list'],
  usage: 'ls [OPTIONS]',
  short: 'List contexts',
  flags: [
    {
      name: 'format',
      kind: 'string',
      usage:
        "Format output using a custom template:\n'table':            Print output in table format with column headers (default)\n'table TEMPLATE':   Print output in table format using the given Go template\n'json':             Print in JSON format\n'TEMPLATE':         Print output using the given Go template.\nRefer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates",
    },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only show context names' },
  ],
  args: { max: 0 },
  async run(ctx, inv) {
    const cur = current(ctx);
    const contexts = allContexts(ctx);
    const rows = contexts.map((c) => ({
      Name: c.Name,
      Description: c.Name === 'default' ? 'Current DOCKER_HOST based configuration' : (c.Metadata?.Description ?? ''),
      DockerEndpoint: c.Endpoints.docker?.Host ?? '',
      Current: c.Name === cur,
      Error: '',
    }));
    // a current context that cannot be read is listed with its error, as docker lists it
    if (!contexts.some((c) => c.Name === cur)) {
      let error = '';
      try {
        lookup(ctx, cur);
      } catch (err) {
        error = (err as Error).message;
      }
      rows.push({ Name: cur, Description: '', DockerEndpoint: '', Current: true, Error: error });
    }
    const format = inv.flags.string('format');
    if (inv.flags.bool('quiet')) {
      for (const r of rows) ctx.stdout.write(`${r.Name}\n`);
    } else if (format === 'json') {
      // docker marshals each row as a map: its keys sorted
      for (const r of rows) {
        const sorted = { Current: r.Current, Description: r.Description, DockerEndpoint: r.DockerEndpoint, Error: r.Error, Name: r.Name };
        ctx.stdout.write(`${goJson(sorted, '')}\n`);
      }
    } else {
      const table = format === '' || format.startsWith('table');
      const text = format === '' || format === 'table' ? DEFAULT_TABLE : table ? format.slice('table'.length).trim() : format;
      const t = parseTemplate(text);
      let out = table ? `${runTemplate(t, HEADERS)}\n` : '';
      for (const r of rows) {
        const name = format === '' || format === 'table' ? `${r.Name}${r.Current ? ' *' : ''}` : r.Name;
        out += `${runTemplate(t, { ...r, Name: name, Error: table ? ellipsis(r.Error, 45) : r.Error })}\n`;
      }
      ctx.stdout.write(table ? tabwrite(out, { minwidth: 10, padding: 3 }) : out);
    }
    if (ctx.env.DOCKER_HOST && !inv.flags.bool('quiet')) ctx.stderr.write(`${HOST_WARNING}\n`);
    return 0;
  },
};
