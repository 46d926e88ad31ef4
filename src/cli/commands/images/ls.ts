/**
 * `berth images` / `berth image ls`: GET /images/json, one row per repository and tag (and per
 * digest with --digests) as Docker's formatter.ImageWrite lays them out.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { familiarName, parseReference } from '../../../distribution/reference.js';
import { goTimeString, humanSize, humanSizeWithPrecision, timeAgo } from '../../format/index.js';
import { CliError, type CommandSpec } from '../../types.js';
import { filtersQuery, parseFilters } from './filters.js';
import { FormatContext, TABLE, truncateId, writeFormatted } from './formatter.js';

export interface ImageSummary {
  Id: string;
  ParentId?: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: number;
  Size: number;
  SharedSize?: number;
  VirtualSize?: number;
  Labels?: Record<string, string> | null;
  Containers?: number;
}

/** Go's zero time.Time as a Unix time: images without a creation date (N/A). */
const GO_ZERO_TIME = -62135596800;

/** formatter.imageContext: the fields a `--format` template sees, and `{{json .}}`'s object. */
export class ImageContext extends FormatContext {
  static goType = '*formatter.imageContext';
  readonly ID: string;
  readonly Repository: string;
  readonly Tag: string;
  readonly Digest: string;
  readonly CreatedSince: string;
  readonly CreatedAt: string;
  readonly Size: string;
  readonly Containers: string;
  readonly VirtualSize: string;
  readonly SharedSize: string;
  readonly UniqueSize: string;

  constructor(img: ImageSummary, trunc: boolean, repo: string, tag: string, digest: string, nowMs = Date.now()) {
    super();
    this.ID = trunc ? truncateId(img.Id) : img.Id;
    this.Repository = repo;
    this.Tag = tag;
    this.Digest = digest;
    // empty for no date: the default table shows N/A in its place
    this.CreatedSince = img.Created <= GO_ZERO_TIME ? '' : timeAgo(img.Created, nowMs);
    this.CreatedAt = img.Created <= GO_ZERO_TIME ? '0001-01-01 00:00:00 +0000 UTC' : goTimeString(img.Created);
    this.Size = humanSizeWithPrecision(img.Size, 3);
    const containers = img.Containers ?? -1;
    this.Containers = containers === -1 ? 'N/A' : String(containers);
    this.VirtualSize = humanSize(img.Size);
    const shared = img.SharedSize ?? -1;
    this.SharedSize = shared === -1 ? 'N/A' : humanSize(shared);
    this.UniqueSize = img.Size === -1 || shared === -1 ? 'N/A' : humanSize(img.Size - shared);
  }
}

export const IMAGE_HEADER: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

const DEFAULT_TABLE = 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
const DEFAULT_TABLE_DIGEST =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

/** formatter.NewImageFormat. */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  if (source === TABLE) return quiet ? '{{.ID}}' : digest ? DEFAULT_TABLE_DIGEST : DEFAULT_TABLE;
  if (source === 'raw') {
    if (quiet) return 'image_id: {{.ID}}';
    return `repository: {{ .Repository }}\ntag: {{.Tag}}\n${digest ? 'digest: {{.Digest}}\n' : ''}image_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n`;
  }
  if (source.startsWith(TABLE) && digest && !source.includes('{{.Digest}}')) return `${source}\t{{.Digest}}`;
  return source;
}

/** The rows of one image: per repository its tags (× digests when shown), then digest-only repositories. */
export function imageRows(img: ImageSummary, o: { trunc: boolean; digests: boolean; needDigest: boolean; nowMs?: number }): ImageContext[] {
  const row = (repo: string, tag: string, digest: string) => new ImageContext(img, o.trunc, repo, tag, digest, o.nowMs);
  const tags = (img.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
  const digestRefs = (img.RepoDigests ?? []).filter((d) => d !== '<none>@<none>');
  if (!tags.length && !digestRefs.length) return [row('<none>', '<none>', '<none>')];
  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const s of tags) {
    try {
      const ref = parseReference(s);
      if (ref.tag === undefined) continue;
      const name = familiarName(ref);
      repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
    } catch {
      /* not a reference: Docker skips it */
    }
  }
  for (const s of digestRefs) {
    try {
      const ref = parseReference(s);
      if (ref.digest === undefined) continue;
      const name = familiarName(ref);
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
    } catch {
      /* skipped */
    }
  }
  const out: ImageContext[] = [];
  // Docker walks Go maps (random order); sorted here so the output is stable.
  for (const repo of [...repoTags.keys()].sort()) {
    const digests = o.needDigest ? (repoDigests.get(repo) ?? []) : [];
    repoDigests.delete(repo);
    for (const tag of repoTags.get(repo)!) {
      if (!digests.length) out.push(row(repo, tag, '<none>'));
      for (const d of digests) out.push(row(repo, tag, d));
    }
  }
  for (const repo of [...repoDigests.keys()].sort()) {
    if (o.digests) for (const d of repoDigests.get(repo)!) out.push(row(repo, '<none>', d));
    else out.push(row(repo, '<none>', ''));
  }
  return out;
}

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
    const filters = parseFilters(inv.flags.list('filter'), {}, '-f, --filter');
    if (inv.args[0]) parseFilters([`reference=${inv.args[0]}`], filters);
    const client = await ctx.client();
    if (inv.flags.bool('tree'))
      throw new CliError(`"--tree" requires API version 1.47, but the Docker daemon API version is ${client.version}`);
    let source = inv.flags.string('format');
    if (!source) source = (!quiet && configFormat(ctx.configDir, 'imagesFormat')) || TABLE;
    const format = imageFormat(source, quiet, digests);
    const query: Record<string, string> = {};
    if (inv.flags.bool('all')) query.all = '1';
    const f = filtersQuery(filters);
    if (f) query.filters = f;
    const res = await client.json<ImageSummary[]>('GET', '/images/json', { query });
    const o = { trunc: !inv.flags.bool('no-trunc'), digests, needDigest: digests || format.includes('{{.Digest}}') };
    const rows = (res.body ?? []).flatMap((img) => imageRows(img, o));
    ctx.stdout.write(writeFormatted(format, rows, IMAGE_HEADER));
    return 0;
  },
};
