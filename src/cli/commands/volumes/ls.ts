/** `berth volume ls`: GET /volumes, sorted by name, as a table, names (-q), JSON or a template. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliContext, CommandSpec } from '../../types.js';
import { goStruct, type ListFormat, writeList } from '../system/render.js';
import { filterFlag, filtersJson, LIST_FORMAT_USAGE } from '../system/shared.js';

export interface Volume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  CreatedAt?: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}

/** Docker's volume format context: the fields a `--format` template sees. */
export function volumeContext(v: Volume, size = 'N/A', links = 'N/A'): Record<string, unknown> {
  return goStruct('*formatter.volumeContext', {
    Name: v.Name,
    Driver: v.Driver,
    Scope: v.Scope,
    Mountpoint: v.Mountpoint,
    Labels: Object.entries(v.Labels ?? {})
      .map(([k, val]) => `${k}=${val}`)
      .join(','),
    Links: links,
    Size: size,
    Group: 'N/A',
    Availability: 'N/A',
    Status: 'N/A',
  });
}

export const volumeFormat: ListFormat<Volume> = {
  defaultTable: 'table {{.Driver}}\t{{.Name}}',
  headers: {
    Name: 'VOLUME NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    Mountpoint: 'MOUNTPOINT',
    Labels: 'LABELS',
    Links: 'LINKS',
    Size: 'SIZE',
    Group: 'GROUP',
    Availability: 'AVAILABILITY',
    Status: 'STATUS',
  },
  context: (v) => volumeContext(v),
};

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
    let format = flags.string('format');
    if (format === '') format = (!quiet && configFormat(ctx, 'volumesFormat')) || 'table';
    if (quiet && format === 'table') format = '{{.Name}}';
    const client = await ctx.client();
    const r = await client.json<{ Volumes: Volume[] | null; Warnings?: string[] | null }>('GET', '/volumes', { query: { filters } });
    const vols = [...(r.body.Volumes ?? [])].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
    writeList(ctx.stdout, format, vols, volumeFormat);
    for (const w of r.body.Warnings ?? []) ctx.stderr.write(`${w}\n`);
    return 0;
  },
};
