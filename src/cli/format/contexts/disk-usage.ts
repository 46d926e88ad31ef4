/**
 * `docker system df` output (v28 cli/command/formatter/disk_usage.go) over GET /system/df: one
 * row per kind (Images, Containers, Local Volumes, Build Cache) with totals and what a prune
 * would reclaim, or with -v a table per kind.
 */
import { familiarName, parseReference } from '../../../distribution/reference.js';
import { CliError } from '../../types.js';
import { FormatContext, finalFormat, type Header, RAW_FORMAT, TABLE_FORMAT, truncateID, writeFormatted } from '../formatter.js';
import { Template } from '../template/index.js';
import { humanSize, timeAgo } from '../units.js';
import { ContainerContext, type ContainerSummary, containerHeader } from './container.js';
import { ImageContext, type ImageSummary, imageHeader } from './image.js';
import { VolumeContext, type VolumeSummary, volumeHeader } from './volume.js';

/** A build cache record of /system/df (berthd has none; Docker's shape). */
export interface BuildCacheRecord {
  ID: string;
  Parent?: string;
  Parents?: string[] | null;
  Type: string;
  Description?: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt?: string | null;
  UsageCount: number;
}

/** GET /system/df's answer (the fields df reads). */
export interface DiskUsage {
  LayersSize?: number;
  Images?: ImageSummary[] | null;
  Containers?: ContainerSummary[] | null;
  Volumes?: VolumeSummary[] | null;
  BuildCache?: BuildCacheRecord[] | null;
  /** Deprecated by Docker, still sent by API 1.41 daemons. */
  BuilderSize?: number;
}

export const defaultDiskUsageTableFormat = 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}';
const imageTable =
  'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}';
const containerTable = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}';
const volumeTable = 'table {{.Name}}\t{{.Links}}\t{{.Size}}';
const buildCacheTable = 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}';

export const diskUsageHeader: Header = {
  Type: 'TYPE',
  TotalCount: 'TOTAL',
  Active: 'ACTIVE',
  Size: 'SIZE',
  Reclaimable: 'RECLAIMABLE',
};

export const buildCacheHeader: Header = {
  ID: 'CACHE ID',
  CacheType: 'CACHE TYPE',
  Size: 'SIZE',
  CreatedSince: 'CREATED',
  LastUsedSince: 'LAST USED',
  UsageCount: 'USAGE',
  Shared: 'SHARED',
};

/** "1.2GB (50%)": the share is an integer division, as Go's int64 arithmetic. */
function reclaimable(amount: number, total: number): string {
  return total > 0 ? `${humanSize(amount)} (${Math.trunc((amount * 100) / total)}%)` : humanSize(amount);
}

abstract class KindContext extends FormatContext {
  abstract Type(): string;
  abstract TotalCount(): string;
  abstract Active(): string;
  abstract Size(): string;
  abstract Reclaimable(): string;
}

class ImagesUsage extends KindContext {
  static goType = '*formatter.diskUsageImagesContext';
  constructor(
    readonly total: number,
    readonly images: ImageSummary[],
  ) {
    super();
  }
  Type() {
    return 'Images';
  }
  TotalCount() {
    return String(this.images.length);
  }
  Active() {
    return String(this.images.filter((i) => (i.Containers ?? 0) > 0).length);
  }
  Size() {
    return humanSize(this.total);
  }
  Reclaimable() {
    let used = 0;
    for (const i of this.images) {
      if ((i.Containers ?? 0) === 0) continue;
      const size = i.Size ?? -1;
      const shared = i.SharedSize ?? -1;
      if (size === -1 || shared === -1) continue;
      used += size - shared;
    }
    return reclaimable(this.total - used, this.total);
  }
}

const isActive = (c: ContainerSummary) => /running|paused|restarting/.test(c.State ?? '');

class ContainersUsage extends KindContext {
  static goType = '*formatter.diskUsageContainersContext';
  constructor(readonly containers: ContainerSummary[]) {
    super();
  }
  Type() {
    return 'Containers';
  }
  TotalCount() {
    return String(this.containers.length);
  }
  Active() {
    return String(this.containers.filter(isActive).length);
  }
  Size() {
    return humanSize(this.containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0));
  }
  Reclaimable() {
    const total = this.containers.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
    const free = this.containers.filter((c) => !isActive(c)).reduce((n, c) => n + (c.SizeRw ?? 0), 0);
    return reclaimable(free, total);
  }
}

class VolumesUsage extends KindContext {
  static goType = '*formatter.diskUsageVolumesContext';
  constructor(readonly volumes: VolumeSummary[]) {
    super();
  }
  Type() {
    return 'Local Volumes';
  }
  TotalCount() {
    return String(this.volumes.length);
  }
  Active() {
    return String(this.volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length);
  }
  #sizes(unusedOnly: boolean): number {
    let n = 0;
    for (const v of this.volumes) {
      const size = v.UsageData?.Size ?? -1;
      if (size === -1) continue;
      if (unusedOnly && (v.UsageData?.RefCount ?? 0) !== 0) continue;
      n += size;
    }
    return n;
  }
  Size() {
    return humanSize(this.#sizes(false));
  }
  Reclaimable() {
    return reclaimable(this.#sizes(true), this.#sizes(false));
  }
}

class BuildCacheUsage extends KindContext {
  static goType = '*formatter.diskUsageBuilderContext';
  constructor(
    readonly size: number,
    readonly records: BuildCacheRecord[],
  ) {
    super();
  }
  Type() {
    return 'Build Cache';
  }
  TotalCount() {
    return String(this.records.length);
  }
  Active() {
    return String(this.records.filter((r) => r.InUse).length);
  }
  Size() {
    return humanSize(this.size);
  }
  Reclaimable() {
    const inUse = this.records.filter((r) => r.InUse && !r.Shared).reduce((n, r) => n + r.Size, 0);
    return humanSize(this.size - inUse);
  }
}

export class BuildCacheContext extends FormatContext {
  static goType = '*formatter.buildCacheContext';
  Header: Header = buildCacheHeader;
  readonly #r: BuildCacheRecord;
  readonly #trunc: boolean;
  readonly #now: number;
  constructor(r: BuildCacheRecord, trunc = true, now = Date.now()) {
    super();
    this.#r = r;
    this.#trunc = trunc;
    this.#now = now;
  }
  ID() {
    return this.#trunc ? truncateID(this.#r.ID) + (this.#r.InUse ? '*' : '') : this.#r.ID;
  }
  Parent() {
    const p = this.#r.Parents?.[0] ?? this.#r.Parent ?? '';
    return this.#trunc ? truncateID(p) : p;
  }
  CacheType() {
    return this.#r.Type;
  }
  Description() {
    return this.#r.Description ?? '';
  }
  Size() {
    return humanSize(this.#r.Size);
  }
  CreatedSince() {
    return timeAgo(Date.parse(this.#r.CreatedAt) / 1000, this.#now);
  }
  LastUsedSince() {
    return this.#r.LastUsedAt ? timeAgo(Date.parse(this.#r.LastUsedAt) / 1000, this.#now) : '';
  }
  UsageCount() {
    return String(this.#r.UsageCount);
  }
  InUse() {
    return String(this.#r.InUse);
  }
  Shared() {
    return String(this.#r.Shared);
  }
}

/** NewDiskUsageFormat (without -v: the summary; raw lists each kind). */
export function diskUsageFormat(source: string, verbose: boolean): string {
  if (!verbose && source === TABLE_FORMAT) return defaultDiskUsageTableFormat;
  if (!verbose && source === RAW_FORMAT) {
    return 'type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n';
  }
  return source;
}

export interface DiskUsageFormatOptions {
  /** --format; "" is the table. */
  format?: string;
  verbose?: boolean;
  now?: number;
}

/** docker system df output. */
export function formatDiskUsage(du: DiskUsage, opts: DiskUsageFormatOptions = {}): string {
  const source = opts.format || TABLE_FORMAT;
  const now = opts.now ?? Date.now();
  const images = du.Images ?? [];
  const containers = du.Containers ?? [];
  const volumes = du.Volumes ?? [];
  const cache = du.BuildCache ?? [];
  const builderSize = du.BuilderSize ?? cache.reduce((n, r) => n + r.Size, 0);
  if (!opts.verbose) {
    return writeFormatted(
      diskUsageFormat(source, false),
      [
        new ImagesUsage(du.LayersSize ?? 0, images),
        new ContainersUsage(containers),
        new VolumesUsage(volumes),
        new BuildCacheUsage(builderSize, cache),
      ],
      diskUsageHeader,
    );
  }
  if (source !== TABLE_FORMAT) {
    // A verbose custom format is one template over the lists of contexts (Docker's diskUsageContext).
    // Run once, without a header or a newline of its own, as Docker's verboseWrite does.
    const data = new VerboseLists(images, containers, volumes, cache, source.startsWith(TABLE_FORMAT), now);
    let tmpl: Template;
    try {
      tmpl = Template.parse(finalFormat(source));
    } catch (e) {
      throw new CliError(`template parsing error: ${(e as Error).message}`);
    }
    try {
      return tmpl.execute(data);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const imageCtxs = images.map((i) => new ImageContext(i, firstTag(i), true, now));
  const containerCtxs = containers.map((c) => new ContainerContext({ ...c, SizeRootFs: 0 }, true, now));
  return (
    'Images space usage:\n\n' +
    writeFormatted(imageTable, imageCtxs, imageHeader) +
    '\nContainers space usage:\n\n' +
    writeFormatted(containerTable, containerCtxs, containerHeader) +
    '\nLocal Volumes space usage:\n\n' +
    writeFormatted(
      volumeTable,
      volumes.map((v) => new VolumeContext(v)),
      volumeHeader,
    ) +
    `\nBuild cache usage: ${humanSize(builderSize)}\n\n` +
    writeFormatted(
      buildCacheTable,
      cache.map((r) => new BuildCacheContext(r, true, now)),
      buildCacheHeader,
    )
  );
}

/** -v shows an image under its first tag only. */
function firstTag(i: ImageSummary): { repo: string; tag: string; digest: string } {
  const tags = i.RepoTags ?? [];
  if (tags.length > 0 && tags[0] !== '<none>:<none>') {
    try {
      const ref = parseReference(tags[0] as string);
      if (ref.tag !== undefined) return { repo: familiarName(ref), tag: ref.tag, digest: '' };
    } catch {}
  }
  return { repo: '<none>', tag: '<none>', digest: '' };
}

class VerboseLists {
  static goType = '*formatter.diskUsageContext';
  Images: ImageContext[];
  Containers: ContainerContext[];
  Volumes: VolumeContext[];
  BuildCache: BuildCacheContext[];
  constructor(
    images: ImageSummary[],
    containers: ContainerSummary[],
    volumes: VolumeSummary[],
    cache: BuildCacheRecord[],
    trunc: boolean,
    now: number,
  ) {
    this.Images = images.map((i) => new ImageContext(i, firstTag(i), trunc, now));
    this.Containers = containers.map((c) => new ContainerContext({ ...c, SizeRootFs: 0 }, trunc, now));
    this.Volumes = volumes.map((v) => new VolumeContext(v));
    this.BuildCache = cache.map((r) => new BuildCacheContext(r, trunc, now));
  }
}
