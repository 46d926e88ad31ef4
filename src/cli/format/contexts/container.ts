/**
 * `docker ps` output: the ContainerContext of the v28 CLI (cli/command/formatter/container.go)
 * over the Engine's container list entries, and the formats ps chooses from --format, --quiet,
 * --size and --no-trunc.
 */
import { familiar, parseReference } from '../../../distribution/reference.js';
import { CliError } from '../../types.js';
import { ellipsis } from '../display.js';
import { DEFAULT_QUIET_FORMAT, FormatContext, type Header, RAW_FORMAT, TABLE_FORMAT, truncateID, writeFormatted } from '../formatter.js';
import { quote, Template } from '../template/index.js';
import { goTimeString, humanSizeWithPrecision, timeAgo } from '../units.js';

/** An entry of GET /containers/json, as the Engine sends it (the fields ps reads). */
export interface ContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  ImageID?: string;
  Command?: string;
  Created?: number;
  Ports?: PortSummary[] | null;
  SizeRw?: number;
  SizeRootFs?: number;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  Mounts?: { Name?: string; Source?: string; Driver?: string }[] | null;
  NetworkSettings?: { Networks?: Record<string, unknown> | null } | null;
  ImageManifestDescriptor?: { platform?: OciPlatform | null } | null;
}

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

export interface OciPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export const defaultContainerTableFormat = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

export const containerHeader: Header = {
  ID: 'CONTAINER ID',
  Names: 'NAMES',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  LocalVolumes: 'LOCAL VOLUMES',
  Networks: 'NETWORKS',
  Platform: 'PLATFORM',
};

/** NewContainerFormat: what a ps --format value (after chooseFormat) renders with. */
export function containerFormat(source: string, quiet: boolean, size: boolean): string {
  switch (source) {
    case TABLE_FORMAT:
    case '':
      if (quiet) return DEFAULT_QUIET_FORMAT;
      return size ? `${defaultContainerTableFormat}\\t{{.Size}}` : defaultContainerTableFormat;
    case RAW_FORMAT: {
      if (quiet) return 'container_id: {{.ID}}';
      let f =
        'container_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\n' +
        'state: {{- pad .State 1 0}}\nstatus: {{- pad .Status 1 0}}\nnames: {{.Names}}\n' +
        'labels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\n';
      if (size) f += 'size: {{.Size}}\\n';
      return f;
    }
    default:
      return quiet ? DEFAULT_QUIET_FORMAT : source;
  }
}

/** platforms.FormatAll, printed through its String method. */
export class Platform {
  static goType = '*formatter.Platform';
  constructor(readonly p: OciPlatform) {}
  String(): string {
    let s = `${this.p.os}/${this.p.architecture}`;
    if (this.p.variant) s += `/${this.p.variant}`;
    return s;
  }
  toJSON(): OciPlatform {
    return this.p;
  }
}

export class ContainerContext extends FormatContext {
  static goType = '*formatter.ContainerContext';
  /** Exported struct fields Docker's context has (templates may read them). */
  Header: Header = containerHeader;
  FieldsUsed: Record<string, unknown> | null = null;
  readonly #c: ContainerSummary;
  readonly #trunc: boolean;
  readonly #now: number;

  constructor(c: ContainerSummary, trunc = true, now = Date.now()) {
    super();
    this.#c = c;
    this.#trunc = trunc;
    this.#now = now;
  }

  FullHeader(): Header {
    return this.Header;
  }

  ID(): string {
    return this.#trunc ? truncateID(this.#c.Id) : this.#c.Id;
  }

  /** Names without their slash; truncated: the first that is not a legacy link. */
  Names(): string {
    const names = (this.#c.Names ?? []).map((n) => (n.startsWith('/') ? n.slice(1) : n));
    if (this.#trunc) return names.find((n) => !n.includes('/')) ?? '';
    return names.join(',');
  }

  Image(): string {
    const image = this.#c.Image ?? '';
    if (image === '') return '<no image>';
    if (!this.#trunc) return image;
    const t = truncateID(this.#c.ImageID ?? '');
    if (t === truncateID(image)) return t;
    try {
      const ref = parseReference(image);
      // A digest is dropped, a tag kept: `busybox:1.36` for `busybox:1.36@sha256:…`.
      return ref.digest !== undefined ? familiar({ domain: ref.domain, path: ref.path, tag: ref.tag }) : familiar(ref);
    } catch {
      return image;
    }
  }

  Command(): string {
    const command = this.#c.Command ?? '';
    return quote(this.#trunc ? ellipsis(command, 20) : command);
  }

  CreatedAt(): string {
    return goTimeString(this.#c.Created ?? 0);
  }

  RunningFor(): string {
    return timeAgo(this.#c.Created ?? 0, this.#now);
  }

  Ports(): string {
    return displayablePorts(this.#c.Ports ?? []);
  }

  State(): string {
    return this.#c.State ?? '';
  }

  Status(): string {
    return this.#c.Status ?? '';
  }

  Size(): string {
    if (this.FieldsUsed === null) this.FieldsUsed = {};
    this.FieldsUsed.Size = {};
    const srw = humanSizeWithPrecision(this.#c.SizeRw ?? 0, 3);
    const rootfs = this.#c.SizeRootFs ?? 0;
    return rootfs > 0 ? `${srw} (virtual ${humanSizeWithPrecision(rootfs, 3)})` : srw;
  }

  Labels(): string {
    const labels = this.#c.Labels;
    if (!labels) return '';
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
  }

  Label(name: string): string {
    const labels = this.#c.Labels;
    return labels && Object.hasOwn(labels, name) ? (labels[name] as string) : '';
  }

  Mounts(): string {
    return (this.#c.Mounts ?? [])
      .map((m) => {
        const name = m.Name ? m.Name : (m.Source ?? '');
        return this.#trunc ? ellipsis(name, 15) : name;
      })
      .join(',');
  }

  LocalVolumes(): string {
    return String((this.#c.Mounts ?? []).filter((m) => m.Driver === 'local').length);
  }

  Networks(): string {
    const nets = this.#c.NetworkSettings?.Networks;
    // Docker ranges over a Go map (random order); sorted reads the same every time.
    return nets ? Object.keys(nets).sort().join(',') : '';
  }

  Platform(): Platform | null {
    const p = this.#c.ImageManifestDescriptor?.platform;
    return p ? new Platform(p) : null;
  }
}

/** net.JoinHostPort: IPv6 hosts in brackets. */
const joinHostPort = (host: string, port: string) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

function comparePorts(i: PortSummary, j: PortSummary): number {
  if (i.PrivatePort !== j.PrivatePort) return i.PrivatePort - j.PrivatePort;
  const ii = i.IP ?? '';
  const ji = j.IP ?? '';
  if (ii !== ji) return ii < ji ? -1 : 1;
  const ip = i.PublicPort ?? 0;
  const jp = j.PublicPort ?? 0;
  if (ip !== jp) return ip - jp;
  return i.Type < j.Type ? -1 : i.Type > j.Type ? 1 : 0;
}

function formGroup(key: string, start: number, last: number): string {
  const parts = key.split('/');
  let type = parts[0] as string;
  let ip = '';
  if (parts.length > 1) {
    ip = parts[0] as string;
    type = parts[1] as string;
  }
  let group = String(start);
  if (start !== last) group = `${group}-${last}`;
  if (ip !== '') group = `${joinHostPort(ip, group)}->${group}`;
  return `${group}/${type}`;
}

/** DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9002/tcp", consecutive ports grouped. */
export function displayablePorts(ports: readonly PortSummary[]): string {
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  for (const port of [...ports].sort(comparePorts)) {
    const current = port.PrivatePort;
    let key = port.Type;
    if (port.IP) {
      if ((port.PublicPort ?? 0) !== current) {
        hostMappings.push(`${joinHostPort(port.IP, String(port.PublicPort ?? 0))}->${port.PrivatePort}/${port.Type}`);
        continue;
      }
      key = `${port.IP}/${port.Type}`;
    }
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { first: current, last: current });
      continue;
    }
    if (current === group.last + 1) {
      group.last = current;
      continue;
    }
    result.push(formGroup(key, group.first, group.last));
    // Docker replaces the group but keeps the key's first position in its list of keys.
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

export interface ContainerFormatOptions {
  /** The --format value after chooseFormat ("table", "json", "raw", a template); "" is the table. */
  format?: string;
  quiet?: boolean;
  noTrunc?: boolean;
  size?: boolean;
  /** The clock for "3 hours ago" (tests). */
  now?: number;
}

/** docker ps output for a list from GET /containers/json. */
export function formatContainers(list: readonly ContainerSummary[], opts: ContainerFormatOptions = {}): string {
  const format = containerFormat(opts.format ?? '', opts.quiet ?? false, opts.size ?? false);
  const trunc = !opts.noTrunc;
  const now = opts.now ?? Date.now();
  return writeFormatted(
    format,
    list.map((c) => new ContainerContext(c, trunc, now)),
    containerHeader,
  );
}

/**
 * ps's check of a --format value before listing (v28): the template runs once over an empty
 * context, so a bad template fails before the daemon is asked, and one that reads .Size asks
 * for sizes (unless --size was given either way). Throws CliError "failed to parse template: …"
 * or "failed to execute template: …", Docker's texts. "" (no --format) is not checked.
 */
export function containerTemplateNeedsSize(format: string): boolean {
  if (format === '') return false;
  const ctx = new ContainerContext({ Id: '' });
  let tmpl: Template;
  try {
    tmpl = Template.parse(format);
  } catch (e) {
    throw new CliError(`failed to parse template: ${(e as Error).message}`);
  }
  try {
    tmpl.execute(ctx);
  } catch (e) {
    throw new CliError(`failed to execute template: ${(e as Error).message}`);
  }
  return ctx.FieldsUsed !== null && 'Size' in ctx.FieldsUsed;
}
