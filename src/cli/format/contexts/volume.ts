/** `docker volume ls` output: the v28 CLI's volumeContext (cli/command/formatter/volume.go). */
import { FormatContext, type Header, RAW_FORMAT, TABLE_FORMAT, writeFormatted } from '../formatter.js';
import { humanSize } from '../units.js';

/** A volume as GET /volumes lists it (the fields volume ls reads). */
export interface VolumeSummary {
  Name: string;
  Driver?: string;
  Mountpoint?: string;
  Labels?: Record<string, string> | null;
  Scope?: string;
  UsageData?: { Size: number; RefCount: number } | null;
  ClusterVolume?: unknown;
}

export const defaultVolumeTableFormat = 'table {{.Driver}}\t{{.Name}}';

export const volumeHeader: Header = {
  ID: 'ID',
  Name: 'VOLUME NAME',
  Group: 'GROUP',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Availability: 'AVAILABILITY',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Status: 'STATUS',
};

/** NewVolumeFormat. */
export function volumeFormat(source: string, quiet: boolean): string {
  switch (source) {
    case TABLE_FORMAT:
    case '':
      return quiet ? '{{.Name}}' : defaultVolumeTableFormat;
    case RAW_FORMAT:
      return quiet ? 'name: {{.Name}}' : 'name: {{.Name}}\\ndriver: {{.Driver}}\\n';
  }
  return source;
}

export class VolumeContext extends FormatContext {
  static goType = '*formatter.volumeContext';
  Header: Header = volumeHeader;
  readonly #v: VolumeSummary;

  constructor(v: VolumeSummary) {
    super();
    this.#v = v;
  }
  FullHeader(): Header {
    return this.Header;
  }
  Name(): string {
    return this.#v.Name;
  }
  Driver(): string {
    return this.#v.Driver ?? '';
  }
  Scope(): string {
    return this.#v.Scope ?? '';
  }
  Mountpoint(): string {
    return this.#v.Mountpoint ?? '';
  }
  Labels(): string {
    const labels = this.#v.Labels;
    if (!labels) return '';
    // Docker ranges over a Go map; sorted reads the same every time.
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
  }
  Label(name: string): string {
    const labels = this.#v.Labels;
    return labels && Object.hasOwn(labels, name) ? (labels[name] as string) : '';
  }
  Links(): string {
    const u = this.#v.UsageData;
    return u ? String(u.RefCount) : 'N/A';
  }
  Size(): string {
    const u = this.#v.UsageData;
    return u ? humanSize(u.Size) : 'N/A';
  }
  // Cluster (Swarm CSI) volumes do not exist here.
  Group(): string {
    return 'N/A';
  }
  Availability(): string {
    return 'N/A';
  }
  Status(): string {
    return 'N/A';
  }
}

export interface VolumeFormatOptions {
  format?: string;
  quiet?: boolean;
}

/** docker volume ls output for GET /volumes' Volumes. */
export function formatVolumes(list: readonly VolumeSummary[], opts: VolumeFormatOptions = {}): string {
  const format = volumeFormat(opts.format ?? '', opts.quiet ?? false);
  return writeFormatted(
    format,
    list.map((v) => new VolumeContext(v)),
    volumeHeader,
  );
}
