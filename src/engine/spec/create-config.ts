/**
 * The body of `POST /containers/create` (Config + HostConfig, as the Engine API sends them) and
 * its validation with dockerd's error texts. Pure.
 *
 * Decoding follows Go's encoding/json as dockerd applies it: unknown fields are ignored, null is
 * the zero value, a wrong JSON type is refused with Go's own sentence ("json: cannot unmarshal
 * string into Go struct field Config.Cmd of type []string"), and Cmd/Entrypoint/CapAdd/CapDrop
 * accept a bare string (moby's strslice). Every refusal is a BerthError 'invalid-argument' (a 400)
 * naming the field; hostile JSON (deep nesting, prototype keys, huge numbers) never throws
 * anything else.
 */
import { BerthError } from '../../common/errors.js';
import type { ContainerConfig } from '../../oci/image.js';

export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/** The container part of the body (moby api/types/container.Config). */
export interface CreateConfig {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Healthcheck?: HealthConfig | null;
  ArgsEscaped?: boolean;
  Image?: string;
  Volumes?: Record<string, object> | null;
  WorkingDir?: string;
  Entrypoint?: string[] | null;
  NetworkDisabled?: boolean;
  MacAddress?: string;
  OnBuild?: string[] | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  StopTimeout?: number | null;
  Shell?: string[] | null;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

export interface RestartPolicy {
  Name?: string;
  MaximumRetryCount?: number;
}

export interface MountSpec {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: Record<string, unknown> | null;
  VolumeOptions?: Record<string, unknown> | null;
  TmpfsOptions?: Record<string, unknown> | null;
}

/** moby api/types/container.HostConfig with its embedded Resources, as far as Berth reads it. */
/** A --device-read-bps/--device-write-bps/--device-read-iops/--device-write-iops entry (moby's blkiodev.ThrottleDevice). */
export interface ThrottleDevice {
  Path?: string;
  Rate?: number;
}

export interface HostConfig {
  Binds?: string[] | null;
  ContainerIDFile?: string;
  LogConfig?: { Type?: string; Config?: Record<string, string> | null } | null;
  NetworkMode?: string;
  PortBindings?: Record<string, unknown> | null;
  RestartPolicy?: RestartPolicy | null;
  AutoRemove?: boolean;
  VolumeDriver?: string;
  VolumesFrom?: string[] | null;
  ConsoleSize?: number[] | null;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  CgroupnsMode?: string;
  Dns?: string[] | null;
  DnsOptions?: string[] | null;
  DnsSearch?: string[] | null;
  ExtraHosts?: string[] | null;
  GroupAdd?: string[] | null;
  IpcMode?: string;
  Cgroup?: string;
  Links?: string[] | null;
  OomScoreAdj?: number;
  PidMode?: string;
  Privileged?: boolean;
  PublishAllPorts?: boolean;
  ReadonlyRootfs?: boolean;
  SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null;
  Tmpfs?: Record<string, string> | null;
  UTSMode?: string;
  UsernsMode?: string;
  ShmSize?: number;
  Sysctls?: Record<string, string> | null;
  Runtime?: string;
  Isolation?: string;
  // Resources
  CpuShares?: number;
  Memory?: number;
  NanoCpus?: number;
  CgroupParent?: string;
  BlkioWeight?: number;
  BlkioWeightDevice?: { Path?: string; Weight?: number }[] | null;
  BlkioDeviceReadBps?: ThrottleDevice[] | null;
  BlkioDeviceWriteBps?: ThrottleDevice[] | null;
  BlkioDeviceReadIOps?: ThrottleDevice[] | null;
  BlkioDeviceWriteIOps?: ThrottleDevice[] | null;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpuRealtimePeriod?: number;
  CpuRealtimeRuntime?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  Devices?: DeviceMapping[] | null;
  DeviceCgroupRules?: string[] | null;
  KernelMemory?: number;
  MemoryReservation?: number;
  MemorySwap?: number;
  MemorySwappiness?: number | null;
  OomKillDisable?: boolean | null;
  PidsLimit?: number | null;
  Ulimits?: Ulimit[] | null;
  Init?: boolean | null;
  Mounts?: MountSpec[] | null;
  MaskedPaths?: string[] | null;
  ReadonlyPaths?: string[] | null;
}

export interface CreateRequest {
  config: CreateConfig;
  hostConfig: HostConfig;
  /** NetworkingConfig is kept as sent; networking is another issue's. */
  networkingConfig?: unknown;
}

// ---- decoding (Go encoding/json semantics) ----

type Kind =
  | 'string'
  | 'bool'
  | 'int'
  | 'uint16'
  | 'uint64'
  | 'strings'
  | 'strslice'
  | 'map-string'
  | 'set'
  | 'any'
  | 'bool?'
  | 'int?'
  | { struct: string; fields: Fields }
  | { list: string; fields: Fields };
type Fields = Record<string, Kind>;

const GO_TYPE: Record<string, string> = {
  string: 'string',
  bool: 'bool',
  int: 'int64',
  uint16: 'uint16',
  uint64: 'uint64',
  strings: '[]string',
  strslice: 'strslice.StrSlice',
  'map-string': 'map[string]string',
  set: 'map[string]struct {}',
  'bool?': 'bool',
  'int?': 'int64',
};

const HEALTH: Fields = { Test: 'strings', Interval: 'int', Timeout: 'int', StartPeriod: 'int', Retries: 'int' };

const CONFIG_FIELDS: Fields = {
  Hostname: 'string',
  Domainname: 'string',
  User: 'string',
  AttachStdin: 'bool',
  AttachStdout: 'bool',
  AttachStderr: 'bool',
  ExposedPorts: 'set',
  Tty: 'bool',
  OpenStdin: 'bool',
  StdinOnce: 'bool',
  Env: 'strings',
  Cmd: 'strslice',
  Healthcheck: { struct: 'HealthConfig', fields: HEALTH },
  ArgsEscaped: 'bool',
  Image: 'string',
  Volumes: 'set',
  WorkingDir: 'string',
  Entrypoint: 'strslice',
  NetworkDisabled: 'bool',
  MacAddress: 'string',
  OnBuild: 'strings',
  Labels: 'map-string',
  StopSignal: 'string',
  StopTimeout: 'int?',
  Shell: 'strslice',
};

const THROTTLE_DEVICES: Kind = { list: 'ThrottleDevice', fields: { Path: 'string', Rate: 'uint64' } };

const HOST_FIELDS: Fields = {
  Binds: 'strings',
  ContainerIDFile: 'string',
  LogConfig: { struct: 'LogConfig', fields: { Type: 'string', Config: 'map-string' } },
  NetworkMode: 'string',
  PortBindings: 'any',
  RestartPolicy: { struct: 'RestartPolicy', fields: { Name: 'string', MaximumRetryCount: 'int' } },
  AutoRemove: 'bool',
  VolumeDriver: 'string',
  VolumesFrom: 'strings',
  ConsoleSize: 'any',
  CapAdd: 'strslice',
  CapDrop: 'strslice',
  CgroupnsMode: 'string',
  Dns: 'strings',
  DnsOptions: 'strings',
  DnsSearch: 'strings',
  ExtraHosts: 'strings',
  GroupAdd: 'strings',
  IpcMode: 'string',
  Cgroup: 'string',
  Links: 'strings',
  OomScoreAdj: 'int',
  PidMode: 'string',
  Privileged: 'bool',
  PublishAllPorts: 'bool',
  ReadonlyRootfs: 'bool',
  SecurityOpt: 'strings',
  StorageOpt: 'map-string',
  Tmpfs: 'map-string',
  UTSMode: 'string',
  UsernsMode: 'string',
  ShmSize: 'int',
  Sysctls: 'map-string',
  Runtime: 'string',
  Isolation: 'string',
  CpuShares: 'int',
  Memory: 'int',
  NanoCpus: 'int',
  CgroupParent: 'string',
  BlkioWeight: 'uint16',
  BlkioWeightDevice: { list: 'WeightDevice', fields: { Path: 'string', Weight: 'uint16' } },
  BlkioDeviceReadBps: THROTTLE_DEVICES,
  BlkioDeviceWriteBps: THROTTLE_DEVICES,
  BlkioDeviceReadIOps: THROTTLE_DEVICES,
  BlkioDeviceWriteIOps: THROTTLE_DEVICES,
  CpuPeriod: 'int',
  CpuQuota: 'int',
  CpuRealtimePeriod: 'int',
  CpuRealtimeRuntime: 'int',
  CpusetCpus: 'string',
  CpusetMems: 'string',
  Devices: { list: 'DeviceMapping', fields: { PathOnHost: 'string', PathInContainer: 'string', CgroupPermissions: 'string' } },
  DeviceCgroupRules: 'strings',
  KernelMemory: 'int',
  MemoryReservation: 'int',
  MemorySwap: 'int',
  MemorySwappiness: 'int?',
  OomKillDisable: 'bool?',
  PidsLimit: 'int?',
  Ulimits: { list: 'Ulimit', fields: { Name: 'string', Soft: 'int', Hard: 'int' } },
  Init: 'bool?',
  Mounts: {
    list: 'Mount',
    fields: {
      Type: 'string',
      Source: 'string',
      Target: 'string',
      ReadOnly: 'bool',
      Consistency: 'string',
      BindOptions: 'any',
      VolumeOptions: 'any',
      TmpfsOptions: 'any',
    },
  },
  MaskedPaths: 'strings',
  ReadonlyPaths: 'strings',
};

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object') return 'object';
  if (typeof v === 'number') return `number ${v}`;
  return typeof v; // string, boolean
}

function typeError(value: unknown, where: string, goType: string): BerthError {
  return new BerthError('invalid-argument', `json: cannot unmarshal ${jsonType(value)} into Go struct field ${where} of type ${goType}`, {
    object: where,
  });
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function decodeValue(kind: Kind, value: unknown, where: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof kind === 'object') {
    if ('struct' in kind) {
      if (!isPlainObject(value)) throw typeError(value, where, `container.${kind.struct}`);
      return decodeStruct(kind.fields, value, kind.struct);
    }
    if (!Array.isArray(value)) throw typeError(value, where, `[]container.${kind.list}`);
    return value.map((item) => {
      if (!isPlainObject(item)) throw typeError(item, where, `container.${kind.list}`);
      return decodeStruct(kind.fields, item, kind.list);
    });
  }
  const goType = GO_TYPE[kind] ?? 'interface {}';
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') throw typeError(value, where, goType);
      return value;
    case 'bool':
    case 'bool?':
      if (typeof value !== 'boolean') throw typeError(value, where, goType);
      return value;
    case 'int':
    case 'int?':
    case 'uint16':
    case 'uint64':
      // JSON.parse has already rounded anything beyond 2^53: refuse rather than guess.
      if (
        typeof value !== 'number' ||
        !Number.isSafeInteger(value) ||
        (kind === 'uint16' && (value < 0 || value > 65535)) ||
        (kind === 'uint64' && value < 0)
      )
        throw typeError(value, where, goType);
      return value;
    case 'strslice':
      if (typeof value === 'string') return [value];
      if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) throw typeError(value, where, goType);
      return [...value];
    case 'strings':
      if (!Array.isArray(value)) throw typeError(value, where, goType);
      for (const s of value) if (typeof s !== 'string') throw typeError(s, where, 'string');
      return [...value];
    case 'map-string': {
      if (!isPlainObject(value)) throw typeError(value, where, goType);
      // A null-prototype copy: keys like __proto__ stay plain data.
      const out: Record<string, string> = Object.create(null);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw typeError(v, where, 'string');
        out[k] = v;
      }
      return out;
    }
    case 'set': {
      if (!isPlainObject(value)) throw typeError(value, where, goType);
      const out: Record<string, object> = Object.create(null);
      for (const k of Object.keys(value)) out[k] = {};
      return out;
    }
    default:
      return value;
  }
}

function decodeStruct(fields: Fields, body: Record<string, unknown>, structName: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(fields)) {
    // Go matches field names case-insensitively; the CLI and SDKs send the exact case.
    const key = Object.hasOwn(body, name) ? name : Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase());
    if (key === undefined) continue;
    const v = decodeValue(kind, body[key], `${structName}.${name}`);
    if (v !== null) out[name] = v;
  }
  return out;
}

/**
 * Decodes a create body (already JSON-parsed). The Config fields sit at the top level, beside
 * HostConfig and NetworkingConfig (moby's ContainerConfigWrapper).
 */
export function decodeCreateBody(body: unknown): CreateRequest {
  if (!isPlainObject(body))
    throw new BerthError(
      'invalid-argument',
      `json: cannot unmarshal ${jsonType(body)} into Go value of type container.ContainerConfigWrapper`,
    );
  const config = decodeStruct(CONFIG_FIELDS, body, 'ContainerConfigWrapper') as CreateConfig;
  const host = body.HostConfig;
  if (host !== undefined && host !== null && !isPlainObject(host))
    throw typeError(host, 'ContainerConfigWrapper.HostConfig', 'container.HostConfig');
  const hostConfig = (host ? decodeStruct(HOST_FIELDS, host, 'HostConfig') : {}) as HostConfig;
  const req: CreateRequest = { config, hostConfig };
  if (body.NetworkingConfig !== undefined && body.NetworkingConfig !== null) req.networkingConfig = body.NetworkingConfig;
  return req;
}

// ---- validation (dockerd's verifyContainerSettings and verifyPlatformContainerResources) ----

export interface HostFacts {
  /** Online CPUs, for the --cpus range check. */
  ncpu: number;
  /** The host's online CPUs and memory nodes ("0-1"), for --cpuset-cpus/--cpuset-mems. */
  cpus?: string;
  mems?: string;
  /** The host can weigh block I/O (blkio.weight or io.weight); dockerd discards the weight otherwise. */
  blkioWeight?: boolean;
}

/** Docker's minimum memory limit (daemon/daemon_unix.go linuxMinMemory). */
export const MIN_MEMORY = 6 * 1024 * 1024;

const bad = (field: string, message: string) => new BerthError('invalid-argument', message, { object: field });

const RESTART_POLICIES = new Set(['', 'no', 'always', 'unless-stopped', 'on-failure']);

/**
 * The checks dockerd makes before it creates anything. Returns the warnings dockerd would return
 * (for the create answer's `Warnings`); throws the first error.
 */
export function validateCreate(req: CreateRequest, host: HostFacts): string[] {
  const c = req.config;
  const h = req.hostConfig;
  const warnings: string[] = [];

  if (c.WorkingDir && !c.WorkingDir.startsWith('/'))
    throw bad('WorkingDir', `the working directory '${c.WorkingDir}' is invalid, it needs to be an absolute path`);
  if (c.Hostname !== undefined && c.Hostname.length > 64)
    throw bad('Hostname', `invalid hostname '${c.Hostname.slice(0, 80)}': longer than 64 bytes`);
  for (const e of c.Env ?? []) if (e === '' || e.startsWith('=')) throw bad('Env', `invalid environment variable: ${e}`);

  const hc = c.Healthcheck;
  if (hc) {
    const min = 1_000_000; // 1ms in ns (container.MinimumDuration)
    if (hc.Interval && hc.Interval < min) throw bad('Healthcheck.Interval', 'Interval in Healthcheck cannot be less than 1ms');
    if (hc.Timeout && hc.Timeout < min) throw bad('Healthcheck.Timeout', 'Timeout in Healthcheck cannot be less than 1ms');
    if ((hc.Retries ?? 0) < 0) throw bad('Healthcheck.Retries', 'Retries in Healthcheck cannot be negative');
    if (hc.StartPeriod && hc.StartPeriod < min) throw bad('Healthcheck.StartPeriod', 'StartPeriod in Healthcheck cannot be less than 1ms');
  }

  const rp = h.RestartPolicy;
  if (rp) {
    const name = rp.Name ?? '';
    if (!RESTART_POLICIES.has(name)) throw bad('RestartPolicy.Name', `invalid restart policy '${name}'`);
    const n = rp.MaximumRetryCount ?? 0;
    if (n < 0) throw bad('RestartPolicy.MaximumRetryCount', 'maximum retry count cannot be negative');
    if (n > 0 && name !== 'on-failure')
      throw bad('RestartPolicy.MaximumRetryCount', `maximum retry count cannot be used with restart policy '${name}'`);
    if (h.AutoRemove && name !== '' && name !== 'no') throw bad('RestartPolicy', "can't create 'AutoRemove' container with restart policy");
  }

  if ((h.OomScoreAdj ?? 0) < -1000 || (h.OomScoreAdj ?? 0) > 1000)
    throw bad('OomScoreAdj', `Invalid value ${h.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  if ((h.ShmSize ?? 0) < 0) throw bad('ShmSize', 'SHM size can not be less than 0');
  // moby linuxParser.ValidateTmpfsMountDestination: absolute, and not the root
  for (const dest of Object.keys(h.Tmpfs ?? {})) {
    if (!dest.startsWith('/')) throw bad('Tmpfs', `invalid mount path: '${dest}' mount path must be absolute`);
    if (dest.split('/').every((s) => s === '' || s === '.')) throw bad('Tmpfs', "invalid specification: destination can't be '/'");
  }

  const memory = h.Memory ?? 0;
  const swap = h.MemorySwap ?? 0;
  const reservation = h.MemoryReservation ?? 0;
  if (memory !== 0 && memory < MIN_MEMORY) throw bad('Memory', 'Minimum memory limit allowed is 6MB');
  if (memory < 0) throw bad('Memory', 'Minimum memory limit allowed is 6MB');
  if (memory === 0 && swap > 0) throw bad('MemorySwap', 'You should always set the Memory limit when using Memoryswap limit, see usage');
  if (swap > 0 && swap < memory) throw bad('MemorySwap', 'Minimum memoryswap limit should be larger than memory limit, see usage');
  if (reservation < 0) throw bad('MemoryReservation', 'Minimum memory reservation allowed is 6MB');
  if (reservation !== 0 && reservation < MIN_MEMORY) throw bad('MemoryReservation', 'Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation)
    throw bad('MemoryReservation', 'Minimum memory limit can not be less than memory reservation limit, see usage');
  const swappiness = h.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && (swappiness < -1 || swappiness > 100))
    throw bad('MemorySwappiness', `Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  if (h.KernelMemory) warnings.push('Kernel memory limit is deprecated and ignored');

  const nano = h.NanoCpus ?? 0;
  if (nano > 0 && (h.CpuPeriod ?? 0) > 0) throw bad('NanoCpus', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (h.CpuQuota ?? 0) > 0) throw bad('NanoCpus', 'Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (nano < 0 || (nano > 0 && (nano < 1e7 || nano > host.ncpu * 1e9)))
    throw bad('NanoCpus', `Range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
  const period = h.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1_000_000))
    throw bad('CpuPeriod', 'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if ((h.CpuQuota ?? 0) > 0 && (h.CpuQuota ?? 0) < 1000) throw bad('CpuQuota', 'CPU cfs quota can not be less than 1ms (i.e. 1000)');
  // Negative CpuShares pass here as in dockerd, and buildSpec refuses them ("shares: invalid argument").
  checkCpuset(h.CpusetCpus, host.cpus, 'CpusetCpus', 'cpus', 'CPUs');
  checkCpuset(h.CpusetMems, host.mems, 'CpusetMems', 'mems', 'memory nodes');
  if ((h.BlkioWeight ?? 0) > 0 && ((h.BlkioWeight ?? 0) < 10 || (h.BlkioWeight ?? 0) > 1000))
    throw bad('BlkioWeight', 'Range of blkio weight is from 10 to 1000');

  if ((h.BlkioWeight ?? 0) > 0 && host.blkioWeight === false)
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
  if ((h.BlkioWeightDevice ?? []).length > 0 && host.blkioWeight === false)
    warnings.push('Your kernel does not support Block I/O weight_device or the cgroup is not mounted. Weight-device discarded.');
  for (const u of h.Ulimits ?? []) validateUlimit(u);
  for (const d of h.Devices ?? []) {
    if (!d.PathOnHost) throw bad('Devices', 'invalid device mapping: PathOnHost is empty');
    if (d.PathInContainer && !d.PathInContainer.startsWith('/')) throw bad('Devices', `${d.PathInContainer} is not an absolute path`);
    if (d.CgroupPermissions && !/^[rwm]{1,3}$/.test(d.CgroupPermissions))
      throw bad('Devices', `invalid device cgroup permissions '${d.CgroupPermissions}' for ${d.PathOnHost}`);
  }
  return warnings;
}

/** moby's parsers.ParseUintList: "0-3,5" → the set; undefined when malformed. */
function parseUintList(s: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 1 << 16) return undefined;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}

/** dockerd's sysinfo.IsCpusetCpusAvailable / IsCpusetMemsAvailable, with its texts. */
function checkCpuset(value: string | undefined, available: string | undefined, field: string, what: string, plural: string): void {
  if (value === undefined || value === '') return;
  const want = parseUintList(value);
  if (!want) throw bad(field, `Invalid value ${value} for cpuset ${what}: invalid format: ${value}`);
  if (available === undefined) return;
  const have = parseUintList(available) ?? new Set<number>();
  if ([...want].some((n) => !have.has(n)))
    throw bad(field, `Requested ${plural} are not available - requested ${value}, available: ${available}`);
}

/** The names go-units knows (`--ulimit nofile=…`), each an RLIMIT_<NAME>. */
export const ULIMIT_NAMES = [
  'as',
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
] as const;

function validateUlimit(u: Ulimit): void {
  if (!(ULIMIT_NAMES as readonly string[]).includes(u.Name)) throw bad('Ulimits', `invalid ulimit type: ${u.Name}`);
  if (u.Soft > u.Hard) throw bad('Ulimits', `ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
}

/** The image's config, as the merge reads it (re-exported so callers need one import). */
export type ImageRuntimeConfig = ContainerConfig;
