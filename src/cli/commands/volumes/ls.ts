/** `berth volume ls`: GET /volumes, sorted by name, through the format helper's volume context (table, -q, JSON, templates). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseFormat } from '../../format/formatter.js';
import { formatVolumes, type VolumeSummary } from '../../format/index.js';
import type { CliContext, CommandSpec } from '../../types.js';
import { filterFlag, filtersJson, LIST_FORMAT_USAGE } from '../system/shared.js';

/** A key of the CLI's config.json (`volumesFormat`, `psFormat`…), or ''. */
export function configFormat(ctx: CliContext, key: string): string {
  try {
    const c = JSON.parse(readFileSync(join(ctx.configDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    return typeof c[key] === 'string' ? (c[key] as string) : '';
  } catch {
    return '';
  }
}

export const lsCommand: CommandSpec = {
  name: 'ls',
  aliases: ['list'],
  usage: 'ls [OPTIONS]',
  short: 'List volumes',
  args: { max: 0 },
  flags: [
    filterFlag('Provide filter values (e.g. "dangling=true")', 'f'),
    { name: 'format', kind: 'string', default: '', usage: LIST_FORMAT_USAGE },
    { name: 'quiet', short: 'q', kind: 'bool', usage: 'Only display volume names' },
  ],
  async run(ctx, { flags }) {
    const filters = filtersJson(flags.list('filter'));
    const quiet = flags.bool('quiet');
    const format = chooseFormat(flags.string('format'), configFormat(ctx, 'volumesFormat'), quiet);
    const client = await ctx.client();
    const r = await client.json<{ Volumes: VolumeSummary[] | null; Warnings?: string[] | null }>('GET', '/volumes', { query: { filters } });
    const vols = [...(r.body.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    ctx.stdout.write(formatVolumes(vols, { format, quiet }));
    for (const w of r.body.Warnings ?? []) ctx.stderr.write(`${w}\n`);
    return 0;
  },
};
