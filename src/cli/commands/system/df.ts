/**
 * `berth system df [-v] [--format]`: GET /system/df, summarised per type (images, containers,
 * local volumes, build cache) as Docker's disk-usage formatter computes it, or item by item
 * with `-v`. `summary` and `verboseText` are pure.
 */

import { tabwrite } from '../../format/index.js';
import { CliError, type CommandSpec } from '../../types.js';
import { volumeContext } from '../volumes/ls.js';
import { goStruct, parseTemplate, writeList } from './render.js';
import { humanDuration, humanSize, humanSize3, LIST_FORMAT_USAGE } from './shared.js';

interface DfImage {
  Id: string;
  RepoTags: string[] | null;
  RepoDigests: string[] | null;
  Created: number;
  Size: number;
  SharedSize: number;
  VirtualSize?: number;
  Containers: number;
}
interface DfContainer {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  Created: number;
  State: string;
  Status: string;
  SizeRw?: number;
  Mounts?: { Type?: string; Name?: string }[];
}
interface DfVolume {
  Name: string;
  Driver: string;
  Mountpoint: string;
  Scope: string;
  Labels?: Record<string, string> | null;
  UsageData?: { Size: number; RefCount: number } | null;
}
interface DfBuildCache {
  ID: string;
  Type: string;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string | null;
  UsageCount: number;
  InUse: boolean;
  Shared: boolean;
}
export interface DiskUsage {
  LayersSize: number;
  Images: DfImage[] | null;
  Containers: DfContainer[] | null;
  Volumes: DfVolume[] | null;
  BuildCache: DfBuildCache[] | null;
}

/** `3.113MB (100%)`: reclaimable with its integer share of the total, when there is a total. */
const withShare = (reclaimable: number, total: number) =>
  total > 0 ? `${humanSize(reclaimable)} (${Math.floor((reclaimable * 100) / total)}%)` : humanSize(reclaimable);

const CONTEXT_TYPES: Record<string, string> = {
  Images: 'Images',
  Containers: 'Containers',
  'Local Volumes': 'Volumes',
  'Build Cache': 'Builder',
};

/** The four summary rows (each a disk-usage context, its keys in Go's JSON order). */
export function summary(du: DiskUsage): Record<string, string>[] {
  const images = du.Images ?? [];
  let imagesUsed = 0;
  for (const i of images) if (i.Containers > 0 && i.Size !== -1 && i.SharedSize !== -1) imagesUsed += i.Size - i.SharedSize;
  const containers = du.Containers ?? [];
  const active = (c: DfContainer) => c.State === 'running' || c.State === 'paused';
  let cSize = 0;
  let cFree = 0;
  for (const c of containers)
    if ((c.SizeRw ?? -1) !== -1) {
      cSize += c.SizeRw!;
      if (!active(c)) cFree += c.SizeRw!;
    }
  const volumes = du.Volumes ?? [];
  let vSize = 0;
  let vFree = 0;
  for (const v of volumes)
    if (v.UsageData && v.UsageData.Size !== -1) {
      vSize += v.UsageData.Size;
      if (v.UsageData.RefCount === 0) vFree += v.UsageData.Size;
    }
  const cache = du.BuildCache ?? [];
  let bSize = 0;
  let bFree = 0;
  for (const b of cache)
    if (!b.Shared) {
      bSize += b.Size;
      if (!b.InUse) bFree += b.Size;
    }
  const row = (Type: string, total: number, act: number, size: number, reclaimable: string) =>
    goStruct(`*formatter.diskUsage${CONTEXT_TYPES[Type]}Context`, {
      Active: String(act),
      Reclaimable: reclaimable,
      Size: humanSize(size),
      TotalCount: String(total),
      Type,
    });
  return [
    row(
      'Images',
      images.length,
      images.filter((i) => i.Containers > 0).length,
      du.LayersSize,
      withShare(du.LayersSize - imagesUsed, du.LayersSize),
    ),
    row('Containers', containers.length, containers.filter(active).length, cSize, withShare(cFree, cSize)),
    row('Local Volumes', volumes.length, volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, vSize, withShare(vFree, vSize)),
    row('Build Cache', cache.length, cache.filter((b) => b.InUse).length, bSize, withShare(bFree, bSize)),
  ];
}

/** Each object's context in `-v` mode (what `-v --format json` prints). */
export function verboseContexts(du: DiskUsage, now = Date.now()) {
  const ago = (secs: number) => `${humanDuration(now - secs * 1000)} ago`;
  const images: Record<string, string>[] = [];
  for (const i of du.Images ?? []) {
    const tags = i.RepoTags?.length ? i.RepoTags : ['<none>:<none>'];
    for (const t of tags) {
      const colon = t.lastIndexOf(':');
      images.push({
        Containers: String(i.Containers),
        CreatedAt: new Date(i.Created * 1000)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' +0000 UTC'),
        CreatedSince: ago(i.Created),
        Digest: '',
        ID: i.Id,
        Repository: t.slice(0, colon),
        SharedSize: humanSize(i.SharedSize),
        Size: humanSize3(i.Size),
        Tag: t.slice(colon + 1),
        UniqueSize: humanSize(i.Size - i.SharedSize),
        VirtualSize: humanSize(i.VirtualSize ?? i.Size),
      });
    }
  }
  const containers = (du.Containers ?? []).map((c) => ({
    ID: c.Id.slice(0, 12),
    Image: c.Image,
    Command: JSON.stringify(c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command),
    LocalVolumes: String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length),
    Size: humanSize(c.SizeRw ?? 0),
    CreatedSince: ago(c.Created),
    Status: c.Status,
    Names: (c.Names[0] ?? '').replace(/^\//, ''),
  }));
  const volumes = (du.Volumes ?? []).map((v) => volumeContext(v, humanSize(v.UsageData?.Size ?? 0), String(v.UsageData?.RefCount ?? 0)));
  const buildCache = (du.BuildCache ?? []).map((b) => ({
    ID: b.ID.slice(0, 12),
    CacheType: b.Type,
    Size: humanSize(b.Size),
    CreatedSince: ago(Date.parse(b.CreatedAt) / 1000),
    LastUsedSince: b.LastUsedAt ? ago(Date.parse(b.LastUsedAt) / 1000) : '',
    UsageCount: String(b.UsageCount),
    Shared: String(b.Shared),
  }));
  return { Images: images, Containers: containers, Volumes: volumes, BuildCache: buildCache };
}

/** `docker system df -v`'s text. */
export function verboseText(du: DiskUsage, now = Date.now()): string {
  const v = verboseContexts(du, now);
  const table = (head: string[], rows: string[][]) => tabwrite([head, ...rows].map((r) => `${r.join('\t')}\n`).join(''));
  let t = 'Images space usage:\n\n';
  t += table(
    ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE', 'SHARED SIZE', 'UNIQUE SIZE', 'CONTAINERS'],
    v.Images.map((i) => [
      i.Repository!,
      i.Tag!,
      i.ID!.replace(/^sha256:/, '').slice(0, 12),
      i.CreatedSince!,
      i.Size!,
      i.SharedSize!,
      i.UniqueSize!,
      i.Containers!,
    ]),
  );
  t += '\nContainers space usage:\n\n';
  t += table(
    ['CONTAINER ID', 'IMAGE', 'COMMAND', 'LOCAL VOLUMES', 'SIZE', 'CREATED', 'STATUS', 'NAMES'],
    v.Containers.map((c) => [c.ID, c.Image, c.Command, c.LocalVolumes, c.Size, c.CreatedSince, c.Status, c.Names]),
  );
  t += '\nLocal Volumes space usage:\n\n';
  t += table(
    ['VOLUME NAME', 'LINKS', 'SIZE'],
    v.Volumes.map((x) => [String(x.Name), String(x.Links), String(x.Size)]),
  );
  const cacheSize = (du.BuildCache ?? []).reduce((n, b) => n + (b.Shared ? 0 : b.Size), 0);
  t += `\nBuild cache usage: ${humanSize(cacheSize)}\n\n`;
  t += table(
    ['CACHE ID', 'CACHE TYPE', 'SIZE', 'CREATED', 'LAST USED', 'USAGE', 'SHARED'],
    v.BuildCache.map((b) => [b.ID, b.CacheType, b.Size, b.CreatedSince, b.LastUsedSince, b.UsageCount, b.Shared]),
  );
  return t;
}

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
    const format = flags.string('format');
    const client = await ctx.client();
    const du = (await client.json<DiskUsage>('GET', '/system/df')).body;
    if (!flags.bool('verbose')) {
      writeList(ctx.stdout, format, summary(du), {
        defaultTable: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
        headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
        context: (r) => r,
      });
      return 0;
    }
    if (format === '' || format === 'table') {
      ctx.stdout.write(verboseText(du));
      return 0;
    }
    const render = parseTemplate(format === 'json' ? '{{json .}}' : format.replace(/^table\s*/, ''));
    try {
      ctx.stdout.write(render(goStruct('*formatter.diskUsageContext', verboseContexts(du), false)));
    } catch (err) {
      // -v prints the execution error as Go gives it, without the parsing prefix.
      if (err instanceof CliError) throw new CliError(err.message.replace(/^template parsing error: /, ''));
      throw err;
    }
    return 0;
  },
};
