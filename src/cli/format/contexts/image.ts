/**
 * `docker images` output: the v28 CLI's imageContext (cli/command/formatter/image.go): one row
 * per repository and tag (and per digest with --digests), `<none>` for dangling images.
 */
import { familiarName, parseReference } from '../../../distribution/reference.js';
import { DEFAULT_QUIET_FORMAT, FormatContext, type Header, RAW_FORMAT, TABLE_FORMAT, truncateID, writeFormatted } from '../formatter.js';
import { goTimeString, humanSize, humanSizeWithPrecision, timeAgo } from '../units.js';

/** An entry of GET /images/json (the fields images reads). */
export interface ImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created?: number;
  Size?: number;
  SharedSize?: number;
  Containers?: number;
}

export const defaultImageTableFormat =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';
export const defaultImageTableFormatWithDigest =
  'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}';

export const imageHeader: Header = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/** NewImageFormat. */
export function imageFormat(source: string, quiet: boolean, digest: boolean): string {
  switch (source) {
    case TABLE_FORMAT:
    case '':
      if (quiet) return DEFAULT_QUIET_FORMAT;
      return digest ? defaultImageTableFormatWithDigest : defaultImageTableFormat;
    case RAW_FORMAT:
      if (quiet) return 'image_id: {{.ID}}';
      return digest
        ? 'repository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n'
        : 'repository: {{ .Repository }}\ntag: {{.Tag}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n';
  }
  // A custom format wins over --quiet here (Docker's images does not replace it).
  if (source.startsWith(TABLE_FORMAT) && digest && !source.includes('{{.Digest}}')) return `${source}\t{{.Digest}}`;
  return source;
}

export class ImageContext extends FormatContext {
  static goType = '*formatter.imageContext';
  Header: Header = imageHeader;
  readonly #i: ImageSummary;
  readonly #trunc: boolean;
  readonly #repo: string;
  readonly #tag: string;
  readonly #digest: string;
  readonly #now: number;

  constructor(i: ImageSummary, row: { repo: string; tag: string; digest: string }, trunc = true, now = Date.now()) {
    super();
    this.#i = i;
    this.#repo = row.repo;
    this.#tag = row.tag;
    this.#digest = row.digest;
    this.#trunc = trunc;
    this.#now = now;
  }

  FullHeader(): Header {
    return this.Header;
  }
  ID(): string {
    return this.#trunc ? truncateID(this.#i.Id) : this.#i.Id;
  }
  Repository(): string {
    return this.#repo;
  }
  Tag(): string {
    return this.#tag;
  }
  Digest(): string {
    return this.#digest;
  }
  CreatedSince(): string {
    // Go's zero time is never a Unix time, so this is never empty in practice.
    return timeAgo(this.#i.Created ?? 0, this.#now);
  }
  CreatedAt(): string {
    return goTimeString(this.#i.Created ?? 0);
  }
  Size(): string {
    return humanSizeWithPrecision(this.#i.Size ?? 0, 3);
  }
  Containers(): string {
    const n = this.#i.Containers ?? -1;
    return n === -1 ? 'N/A' : String(n);
  }
  VirtualSize(): string {
    return humanSize(this.#i.Size ?? 0);
  }
  SharedSize(): string {
    const n = this.#i.SharedSize ?? -1;
    return n === -1 ? 'N/A' : humanSize(n);
  }
  UniqueSize(): string {
    const size = this.#i.Size ?? -1;
    const shared = this.#i.SharedSize ?? -1;
    return size === -1 || shared === -1 ? 'N/A' : humanSize(size - shared);
  }
}

function isDangling(img: ImageSummary): boolean {
  const tags = img.RepoTags ?? [];
  const digests = img.RepoDigests ?? [];
  if (tags.length === 0 && digests.length === 0) return true;
  return tags.length === 1 && tags[0] === '<none>:<none>' && digests.length === 1 && digests[0] === '<none>@<none>';
}

/** The rows of one image: per repository and tag; digests per tag when asked for. */
export function imageRows(
  img: ImageSummary,
  opts: { digest: boolean; needDigest: boolean },
): { repo: string; tag: string; digest: string }[] {
  if (isDangling(img)) return [{ repo: '<none>', tag: '<none>', digest: '<none>' }];
  const repoTags = new Map<string, string[]>();
  const repoDigests = new Map<string, string[]>();
  for (const s of img.RepoTags ?? []) {
    try {
      const ref = parseReference(s);
      if (ref.tag === undefined || ref.digest !== undefined) continue;
      const name = familiarName(ref);
      repoTags.set(name, [...(repoTags.get(name) ?? []), ref.tag]);
    } catch {}
  }
  for (const s of img.RepoDigests ?? []) {
    try {
      const ref = parseReference(s);
      if (ref.digest === undefined) continue;
      const name = familiarName(ref);
      repoDigests.set(name, [...(repoDigests.get(name) ?? []), ref.digest]);
    } catch {}
  }
  const rows: { repo: string; tag: string; digest: string }[] = [];
  for (const [repo, tags] of repoTags) {
    let digests = repoDigests.get(repo) ?? [];
    repoDigests.delete(repo);
    if (!opts.needDigest) digests = [];
    for (const tag of tags) {
      if (digests.length === 0) rows.push({ repo, tag, digest: '<none>' });
      else for (const digest of digests) rows.push({ repo, tag, digest });
    }
  }
  for (const [repo, digests] of repoDigests) {
    if (opts.digest) for (const digest of digests) rows.push({ repo, tag: '<none>', digest });
    else rows.push({ repo, tag: '<none>', digest: '' });
  }
  return rows;
}

export interface ImageFormatOptions {
  format?: string;
  quiet?: boolean;
  noTrunc?: boolean;
  /** --digests */
  digests?: boolean;
  now?: number;
}

/** docker images output for a list from GET /images/json. */
export function formatImages(list: readonly ImageSummary[], opts: ImageFormatOptions = {}): string {
  const digest = opts.digests ?? false;
  const format = imageFormat(opts.format ?? '', opts.quiet ?? false, digest);
  const needDigest = digest || format.includes('{{.Digest}}');
  const trunc = !opts.noTrunc;
  const now = opts.now ?? Date.now();
  const contexts = list.flatMap((img) => imageRows(img, { digest, needDigest }).map((row) => new ImageContext(img, row, trunc, now)));
  return writeFormatted(format, contexts, imageHeader);
}
