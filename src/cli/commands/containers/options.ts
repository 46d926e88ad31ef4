/**
 * `docker run`/`docker create` flags → the body of `POST /containers/create`, as the v28 docker
 * CLI builds it for API 1.41 (cli/command/container/opts.go parse(), create.go, run.go). Pure:
 * the files `--env-file`, `--label-file` and `--security-opt seccomp=<file>` name are read
 * through the injected reader, the environment and the working directory are passed in.
 *
 * The body carries every field the Go structs marshal (zero values included, `omitempty` ones
 * left out when empty), in Go's field order, so it equals what the real client sends; the golden
 * test (test/cli-runopts.test.ts) records the real client's body and compares.
 *
 * Errors, as the CLI reports them:
 *  - a bad flag value (Docker checks those while parsing flags) → UsageError, exit 125:
 *    `invalid argument "x" for "-m, --memory" flag: invalid size: 'x'` (main adds the usage);
 *  - anything parse() refuses → ContainerOptionsError, exit 125, whose message is already
 *    `berth: <reason>\n\nRun 'berth create --help' for more information`;
 *  - a flag the negotiated API version is too old for → CliError, exit 1.
 */
import { posix } from 'node:path';
import type { FlagSpec, Flags } from '../../types.js';
import { CliError, UsageError } from '../../types.js';
import { containerFlags, runOnlyFlags } from './options-flags.js';
import { type MountBody, parseMount } from './options-mount.js';
import {
  canonicalIP,
  goQuote,
  isMAC,
  parseCPUs,
  parseGoDuration,
  parseGoInt,
  parsePortRange,
  parsePortSpec,
  parseUlimit,
  parseVolumeSpec,
  ramInBytes,
  readCsvRecord,
  setKey,
  splitProtoPort,
} from './options-values.js';

export {
  containerFlags,
  createFlags,
  createPullFlag,
  runFlags,
  runOnlyFlags,
  runPullFlag,
} from './options-flags.js';

export type PullPolicy = 'missing' | 'always' | 'never';

/** The selected `proxies` entry of config.json (ParseProxyConfig's input). */
export interface ProxyConfig {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
  ftpProxy?: string;
  allProxy?: string;
}

export interface ContainerOptionsContext {
  /** Reads a file named on the command line (--env-file, --label-file, seccomp profiles). */
  readFile(path: string): string | Buffer;
  /** The CLI's environment: bare `-e FOO` and env-file lines take FOO from here. */
  env: Record<string, string | undefined>;
  /** Relative bind sources (`-v ./x:/y`, `--mount src=./x`) resolve against it (default "/"). */
  cwd?: string;
  /** `run` or `create`: `run` also reads -d, and errors name the command (default create). */
  command?: 'run' | 'create';
  /** The program's name in error texts (default berth). */
  prog?: string;
  /** The negotiated API version (default 1.41): flags newer than it are refused as Docker does. */
  apiVersion?: string;
  /** config.json's proxies for this daemon: added to Env unless -e sets them. */
  proxy?: ProxyConfig;
  /** The daemon's unix socket, bind-mounted by --use-api-socket. */
  apiSocket?: string;
}

export type EndpointSettings = {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  Links: string[] | null;
  Aliases: string[] | null;
  MacAddress: string;
  DriverOpts: Record<string, string> | null;
  GwPriority: number;
  NetworkID: string;
  EndpointID: string;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  IPv6Gateway: string;
  GlobalIPv6Address: string;
  GlobalIPv6PrefixLen: number;
  DNSNames: string[] | null;
};

export interface HealthcheckBody {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

/** moby container.Config + HostConfig + NetworkingConfig, as the v28 client marshals them. */
export interface CreateBody {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, Record<string, never>>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[] | null;
  Cmd: string[] | null;
  Healthcheck?: HealthcheckBody;
  Image: string;
  Volumes: Record<string, Record<string, never>>;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: null;
  Labels: Record<string, string>;
  StopSignal?: string;
  StopTimeout?: number;
  HostConfig: Record<string, unknown> & {
    Binds: string[] | null;
    NetworkMode: string;
    AutoRemove: boolean;
    ConsoleSize: [number, number];
    Mounts?: MountBody[];
  };
  NetworkingConfig: { EndpointsConfig: Record<string, EndpointSettings> };
}

export interface ContainerCreateRequest {
  /** The `name` query parameter (--name), when given. */
  name?: string;
  /** The `platform` query parameter, normalized as containerd's platforms.Format does. */
  platform?: string;
  pull: PullPolicy;
  body: CreateBody;
}

/** A refusal of parse(): printed as is, exit 125. `reason` is Docker's sentence alone. */
export class ContainerOptionsError extends CliError {
  constructor(
    readonly reason: string,
    prog: string,
    command: string,
  ) {
    super(`${prog}: ${reason}\n\nRun '${prog} ${command} --help' for more information`, 125);
  }
}

const ALL_FLAGS = new Map<string, FlagSpec>([...containerFlags, ...runOnlyFlags].map((f) => [f.name, f]));

/** pflag's name for a flag in messages: `-m, --memory` or `--cpus`. */
function flagTitle(name: string): string {
  const spec = ALL_FLAGS.get(name);
  return spec?.short ? `-${spec.short}, --${name}` : `--${name}`;
}

function badValue(name: string, value: string, err: unknown): UsageError {
  const reason = err instanceof Error ? err.message : String(err);
  return new UsageError(`invalid argument ${goQuote(value)} for "${flagTitle(name)}" flag: ${reason}`, 125);
}

/** Applies a flag's validator to each value, as pflag's Set does, with its error. */
function eachValue<T>(flags: Flags, name: string, fn: (v: string) => T): T[] {
  return flags.list(name).map((v) => {
    try {
      return fn(v);
    } catch (err) {
      throw badValue(name, v, err);
    }
  });
}

function scalar<T>(flags: Flags, name: string, fn: (v: string) => T, dflt: T): T {
  if (!flags.changed(name)) return dflt;
  const v = flags.string(name);
  try {
    return fn(v);
  } catch (err) {
    throw badValue(name, v, err);
  }
}

function versionLess(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

function readError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  const texts: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
  };
  if (code === 'EISDIR') return `read ${path}: is a directory`;
  if (code && texts[code]) return `open ${path}: ${texts[code]}`;
  return `open ${path}: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * docker/cli's kvfile parsing (--env-file, --label-file): `#` comments and blank lines skipped,
 * leading whitespace trimmed, a UTF-8 BOM dropped from the first line, a bare `NAME` taken from
 * `lookup` (and dropped when unset there, or when there is no lookup).
 */
export function parseKeyValueFile(content: string | Buffer, lookup?: (name: string) => string | undefined): string[] {
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const lines: string[] = [];
  const raw = buf.toString('latin1').split('\n');
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  let offset = 0;
  for (let n = 0; n < raw.length; n++) {
    const bytesLine = buf.subarray(offset, offset + (raw[n] as string).length);
    offset += (raw[n] as string).length + 1;
    let lineBuf = bytesLine;
    if (lineBuf.length > 0 && lineBuf[lineBuf.length - 1] === 0x0d) {
      lineBuf = lineBuf.subarray(0, -1);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(lineBuf);
    } catch {
      throw new Error(`invalid utf8 bytes at line ${n + 1}: ${goBytes(lineBuf)}`);
    }
    if (n === 0 && text.startsWith('\ufeff')) text = text.slice(1);
    const line = text.replace(GO_LEADING_SPACE, '');
    if (line.length === 0 || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const variable = (eq < 0 ? line : line.slice(0, eq)).replace(/^[ \t]+/, '');
    if (/[ \t]/.test(variable)) {
      throw new Error(`variable '${variable}' contains whitespaces`);
    }
    if (variable.length === 0) throw new Error(`no variable name on line '${line}'`);
    if (eq >= 0) {
      lines.push(`${variable}=${line.slice(eq + 1)}`);
      continue;
    }
    const value = lookup?.(variable);
    if (value !== undefined) lines.push(`${variable}=${value}`);
  }
  return lines;
}

/** unicode.IsSpace, which (unlike JS \\s) does not count U+FEFF. */
const GO_LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;

function goBytes(b: Buffer): string {
  return `[${[...b].join(' ')}]`;
}

/** The keys of ValidateSysctl. */
const SYSCTL_KEYS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

function validateSysctl(val: string): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? '' : val.slice(0, eq);
  if (eq < 0 || k === '') throw new Error(`sysctl '${val}' is not allowed`);
  if (SYSCTL_KEYS.has(k) || k.startsWith('net.') || k.startsWith('fs.mqueue.')) return val;
  throw new Error(`sysctl '${val}' is not allowed`);
}

function validateLabel(value: string): string {
  const eq = value.indexOf('=');
  const key = (eq < 0 ? value : value.slice(0, eq)).replace(/^[ \t]+/, '');
  if (key === '') throw new Error(`invalid label '${value}': empty name`);
  if (/[ \t]/.test(key)) throw new Error(`label '${key}' contains whitespaces`);
  return value;
}

function validateExtraHost(val: string): string {
  let sep = val.indexOf('=');
  if (sep < 0) sep = val.indexOf(':');
  const k = sep < 0 ? val : val.slice(0, sep);
  let v = sep < 0 ? '' : val.slice(sep + 1);
  if (sep < 0 || k === '' || k.includes(':')) {
    throw new Error(`bad format for add-host: ${goQuote(val)}`);
  }
  if (v !== 'host-gateway') {
    if (v.length > 2 && v[0] === '[' && v[v.length - 1] === ']') v = v.slice(1, -1);
    if (canonicalIP(v.trim()) === undefined) {
      throw new Error(`invalid IP address in add-host: ${goQuote(v)}`);
    }
  }
  return `${k}:${v}`;
}

function validateIPAddress(val: string): string {
  const ip = canonicalIP(val.trim());
  if (ip === undefined) throw new Error(`IP address is not correctly formatted: ${val}`);
  return ip;
}

const DOMAIN_RE =
  /^(:?(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))(:?\.(:?[a-zA-Z0-9]|(:?[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])))*)\.?\s*$/;

function validateDNSSearch(val: string): string {
  const v = val.replace(/^ +| +$/g, '');
  if (v === '.') return v;
  if (!/[a-zA-Z]/.test(v)) throw new Error(`${v} is not a valid domain`);
  const m = DOMAIN_RE.exec(v);
  if (m && (m[1] as string).length < 255) return m[1] as string;
  throw new Error(`${v} is not a valid domain`);
}

function validateLink(val: string): string {
  if (val === '') throw new Error('empty string specified for links');
  if (val.split(':').length > 2) throw new Error(`bad format for links: ${val}`);
  return val;
}

function validateAttach(val: string): string {
  const s = val.toLowerCase();
  if (s === 'stdin' || s === 'stdout' || s === 'stderr') return s;
  throw new Error('valid streams are STDIN, STDOUT and STDERR');
}

function validateEnv(val: string, env: ContainerOptionsContext['env']): string {
  const eq = val.indexOf('=');
  const k = eq < 0 ? val : val.slice(0, eq);
  if (k === '') throw new Error(`invalid environment variable: ${val}`);
  if (eq >= 0) return val;
  const v = env[k];
  return v === undefined ? val : `${k}=${v}`;
}

const DEVICE_CGROUP_RULE = /^[acb] ([0-9]+|\*):([0-9]+|\*) [rwm]{1,3}$/;

function validDeviceMode(mode: string): boolean {
  if (mode === '') return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!'rwm'.includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

/** validateLinuxPath + parseLinuxDevice: `/dev/x[:/dev/y][:rwm]`. */
function parseDevice(val: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  if ((val.match(/:/g)?.length ?? 0) > 2) throw new Error(`bad format for path: ${val}`);
  const split = val.split(':');
  if (split[0] === '') throw new Error(`bad format for path: ${val}`);
  let containerPath: string;
  let validated: string;
  if (split.length === 1) {
    containerPath = split[0] as string;
    validated = posix.normalize(containerPath);
  } else if (split.length === 2) {
    if (validDeviceMode(split[1] as string)) {
      containerPath = split[0] as string;
      validated = `${posix.normalize(containerPath)}:${split[1]}`;
    } else {
      containerPath = split[1] as string;
      validated = `${split[0]}:${posix.normalize(containerPath)}`;
    }
  } else {
    containerPath = split[1] as string;
    if (!validDeviceMode(split[2] as string)) throw new Error(`bad mode specified: ${split[2]}`);
    validated = val;
  }
  if (!containerPath.startsWith('/')) throw new Error(`${containerPath} is not an absolute path`);
  const arr = validated.split(':');
  let permissions = 'rwm';
  let dst = '';
  if (arr.length === 3) permissions = arr[2] as string;
  if (arr.length >= 2) {
    if (validDeviceMode(arr[1] as string)) permissions = arr[1] as string;
    else dst = arr[1] as string;
  }
  const src = arr[0] as string;
  return { PathOnHost: src, PathInContainer: dst || src, CgroupPermissions: permissions };
}

/** A CDI device name, `vendor.com/class=name` (tags.cncf.io/container-device-interface). */
function isCDIName(device: string): boolean {
  return /^[A-Za-z](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\/[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?=[A-Za-z0-9](?:[A-Za-z0-9_.:-]*[A-Za-z0-9])?$/.test(
    device,
  );
}

const THROTTLE_BPS_HELP =
  'The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb';

function throttleDevice(val: string, iops: boolean): { Path: string; Rate: number } {
  const c = val.indexOf(':');
  const k = c < 0 ? val : val.slice(0, c);
  const v = c < 0 ? '' : val.slice(c + 1);
  if (c < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  let rate: number;
  try {
    rate = iops ? parseGoInt(v, 'ParseUint', 64, true) : ramInBytes(v);
  } catch {
    throw new Error(
      iops
        ? `invalid rate for device: ${val}. The correct format is <device-path>:<number>. Number must be a positive integer`
        : `invalid rate for device: ${val}. ${THROTTLE_BPS_HELP}`,
    );
  }
  return { Path: k, Rate: rate };
}

function weightDevice(val: string): { Path: string; Weight: number } {
  const c = val.indexOf(':');
  const k = c < 0 ? val : val.slice(0, c);
  const v = c < 0 ? '' : val.slice(c + 1);
  if (c < 0 || k === '') throw new Error(`bad format: ${val}`);
  if (!k.startsWith('/dev/')) throw new Error(`bad format for device path: ${val}`);
  let w: number;
  try {
    w = parseGoInt(v, 'ParseUint', 16, true);
  } catch {
    throw new Error(`invalid weight for device: ${val}`);
  }
  if (w > 0 && (w < 10 || w > 1000)) throw new Error(`invalid weight for device: ${val}`);
  return { Path: k, Weight: w };
}

interface DeviceRequest {
  Driver: string;
  Count: number;
  DeviceIDs: string[] | null;
  Capabilities: string[][] | null;
  Options: Record<string, string> | null;
}

/** opts.GpuOpts.Set: `all`, `count=2`, `device=0,1`, `driver=nvidia`, `capabilities=…`. */
function parseGpus(value: string): DeviceRequest {
  const fields = readCsvRecord(value);
  const req: DeviceRequest = { Driver: '', Count: 0, DeviceIDs: null, Capabilities: null, Options: null };
  const seen = new Set<string>();
  const count = (s: string): number => {
    if (s === 'all') return -1;
    if (!/^[+-]?\d+$/.test(s)) {
      throw new Error(`invalid count (${s}): value must be either "all" or an integer: invalid syntax`);
    }
    return parseGoInt(s, 'Atoi');
  };
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (seen.has(key)) throw new Error(`gpu request key '${key}' can be specified only once`);
    seen.add(key);
    if (eq < 0) {
      seen.add('count');
      req.Count = count(key);
      continue;
    }
    switch (key) {
      case 'driver':
        req.Driver = val;
        break;
      case 'count':
        req.Count = count(val);
        break;
      case 'device':
        req.DeviceIDs = val.split(',');
        break;
      case 'capabilities':
        req.Capabilities = [[...val.split(','), 'gpu']];
        break;
      case 'options': {
        const o: Record<string, string> = {};
        for (const kv of readCsvRecord(val)) {
          const e = kv.indexOf('=');
          setKey(o, e < 0 ? kv : kv.slice(0, e), e < 0 ? '' : kv.slice(e + 1));
        }
        req.Options = o;
        break;
      }
      default:
        throw new Error(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!seen.has('count') && req.DeviceIDs === null) req.Count = 1;
  req.Options ??= {};
  if (!req.Capabilities?.some((caps) => caps.includes('gpu'))) {
    req.Capabilities = [...(req.Capabilities ?? []), ['gpu']];
  }
  return req;
}

interface NetworkAttachment {
  target: string;
  aliases: string[];
  driverOpts?: Record<string, string>;
  links: string[];
  ipv4: string;
  ipv6: string;
  linkLocalIPs: string[];
  mac: string;
  gwPriority: number;
}

/** opts.NetworkOpt.Set: a name, or `name=n,alias=a,ip=…,driver-opt=k=v,…`. */
function parseNetwork(value: string): NetworkAttachment {
  const n: NetworkAttachment = {
    target: value,
    aliases: [],
    links: [],
    ipv4: '',
    ipv6: '',
    linkLocalIPs: [],
    mac: '',
    gwPriority: 0,
  };
  if (!/\w+=\w+(,\w+=\w+)*/.test(value)) return n;
  n.target = '';
  for (const field of readCsvRecord(value)) {
    const eq = field.indexOf('=');
    if (eq <= 0) throw new Error(`invalid field ${field}`);
    const key = field.slice(0, eq).trim();
    const val = field.slice(eq + 1).trim();
    switch (key) {
      case 'name':
        n.target = val;
        break;
      case 'alias':
        n.aliases.push(val);
        break;
      case 'ip':
        n.ipv4 = val;
        break;
      case 'ip6':
        n.ipv6 = val;
        break;
      case 'mac-address':
        n.mac = val;
        break;
      case 'link-local-ip':
        n.linkLocalIPs.push(val);
        break;
      case 'driver-opt': {
        const e = val.indexOf('=');
        if (e <= 0) throw new Error('invalid key value pair format in driver options');
        n.driverOpts ??= {};
        setKey(n.driverOpts, val.slice(0, e).trim(), val.slice(e + 1).trim());
        break;
      }
      case 'gw-priority':
        n.gwPriority = parseGoInt(val, 'Atoi');
        break;
      default:
        throw new Error(`invalid field key ${key}`);
    }
  }
  if (n.target.length === 0) throw new Error('network name/id is not specified');
  return n;
}

/** container.NetworkMode(x).IsUserDefined(). */
function isUserDefined(mode: string): boolean {
  return !['default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

function emptyEndpoint(): EndpointSettings {
  return {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    GwPriority: 0,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
}

/** containerd platforms.Parse + Format: `linux/amd64`, `arm64` (→ linux/arm64), `linux/arm` (→ v7). */
export function normalizePlatform(spec: string, hostArch = 'amd64'): string {
  const fail = (why: string): never => {
    throw new Error(`error parsing specified platform: ${goQuote(spec)}: ${why}: invalid argument`);
  };
  const parts = spec.split('/');
  if (parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    fail('is an invalid component of');
  }
  const OSES = new Set([
    'aix',
    'android',
    'darwin',
    'dragonfly',
    'freebsd',
    'hurd',
    'illumos',
    'ios',
    'js',
    'linux',
    'nacl',
    'netbsd',
    'openbsd',
    'plan9',
    'solaris',
    'windows',
    'zos',
    'macos',
  ]);
  const ARCHES = new Set([
    '386',
    'amd64',
    'amd64p32',
    'arm',
    'armbe',
    'arm64',
    'arm64be',
    'ppc64',
    'ppc64le',
    'loong64',
    'mips',
    'mipsle',
    'mips64',
    'mips64le',
    'mips64p32',
    'mips64p32le',
    'ppc',
    'riscv',
    'riscv64',
    's390',
    's390x',
    'sparc',
    'sparc64',
    'wasm',
    'i386',
    'x86_64',
    'x86-64',
    'aarch64',
    'armhf',
    'armel',
  ]);
  let os = 'linux';
  let arch = hostArch;
  let variant = '';
  const osOf = (s: string) => {
    const l = s.toLowerCase();
    return l === 'macos' ? 'darwin' : l;
  };
  if (parts.length === 1) {
    const p = (parts[0] as string).toLowerCase();
    if (OSES.has(p)) os = osOf(p);
    else if (ARCHES.has(p)) arch = p;
    else fail('unknown operating system or architecture');
  } else if (parts.length === 2 || parts.length === 3) {
    os = osOf(parts[0] as string);
    if (!OSES.has(os)) fail('unknown operating system');
    arch = (parts[1] as string).toLowerCase();
    variant = (parts[2] ?? '').toLowerCase();
  } else {
    fail('cannot parse platform specifier');
  }
  switch (arch) {
    case 'i386':
      arch = '386';
      variant = '';
      break;
    case 'x86_64':
    case 'x86-64':
    case 'amd64':
      arch = 'amd64';
      if (variant === 'v1') variant = '';
      break;
    case 'aarch64':
    case 'arm64':
      arch = 'arm64';
      if (variant === '8' || variant === 'v8.0') variant = 'v8';
      break;
    case 'armhf':
      arch = 'arm';
      variant = 'v7';
      break;
    case 'armel':
      arch = 'arm';
      variant = 'v6';
      break;
    case 'arm':
      if (['5', '6', '7', '8'].includes(variant)) variant = `v${variant}`;
      break;
  }
  return [os, arch, variant].filter((x) => x !== '').join('/');
}

/**
 * The API client's normalizeCapabilities (and the CLI's sort): upper-cased, CAP_-prefixed except
 * ALL, duplicates dropped, sorted. No precedence between add and drop is applied client-side.
 */
function normalizeCaps(caps: string[]): string[] | null {
  const norm = (c: string) => {
    const u = c.trim().toUpperCase();
    return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
  };
  const out = [...new Set(caps.map(norm))].sort();
  return out.length > 0 ? out : null;
}

/**
 * The flags and arguments of `run`/`create` → the create request. `args[0]` is the image,
 * the rest the command.
 */
export function containerCreateRequest(flags: Flags, args: string[], ctx: ContainerOptionsContext): ContainerCreateRequest {
  const prog = ctx.prog ?? 'berth';
  const command = ctx.command ?? 'create';
  const apiVersion = ctx.apiVersion ?? '1.41';
  const fail = (reason: string): never => {
    throw new ContainerOptionsError(reason, prog, command);
  };
  const cwd = ctx.cwd ?? '/';
  const abs = (p: string) => posix.resolve(cwd, p);

  // Flag-time validation (pflag Set): the first bad value aborts, with Docker's message.
  const attach = eachValue(flags, 'attach', validateAttach);
  const envFlags = eachValue(flags, 'env', (v) => validateEnv(v, ctx.env));
  const labels = eachValue(flags, 'label', validateLabel);
  const extraHosts = eachValue(flags, 'add-host', validateExtraHost);
  const dns = eachValue(flags, 'dns', validateIPAddress);
  const dnsSearch = eachValue(flags, 'dns-search', validateDNSSearch);
  const links = eachValue(flags, 'link', validateLink);
  const sysctlList = eachValue(flags, 'sysctl', validateSysctl);
  const ulimitList = eachValue(flags, 'ulimit', parseUlimit);
  const deviceCgroupRules = eachValue(flags, 'device-cgroup-rule', (v) => {
    if (!DEVICE_CGROUP_RULE.test(v)) throw new Error(`invalid device cgroup format '${v}'`);
    return v;
  });
  const blkioWeightDevice = eachValue(flags, 'blkio-weight-device', weightDevice);
  const readBps = eachValue(flags, 'device-read-bps', (v) => throttleDevice(v, false));
  const writeBps = eachValue(flags, 'device-write-bps', (v) => throttleDevice(v, false));
  const readIOps = eachValue(flags, 'device-read-iops', (v) => throttleDevice(v, true));
  const writeIOps = eachValue(flags, 'device-write-iops', (v) => throttleDevice(v, true));
  const mounts = eachValue(flags, 'mount', (v) => parseMount(v, abs));
  const gpus = eachValue(flags, 'gpus', parseGpus);
  const networks = [...eachValue(flags, 'network', parseNetwork), ...eachValue(flags, 'net', parseNetwork)];
  const annotations = flags.list('annotation');
  const memory = scalar(flags, 'memory', ramInBytes, 0);
  const memoryReservation = scalar(flags, 'memory-reservation', ramInBytes, 0);
  const memorySwap = scalar(flags, 'memory-swap', (v) => (v === '-1' ? -1 : ramInBytes(v)), 0);
  const kernelMemory = scalar(flags, 'kernel-memory', ramInBytes, 0);
  const shmSize = scalar(flags, 'shm-size', ramInBytes, 0);
  const ioMaxBandwidth = scalar(flags, 'io-maxbandwidth', ramInBytes, 0);
  const nanoCpus = scalar(flags, 'cpus', parseCPUs, 0);
  const healthInterval = scalar(flags, 'health-interval', parseGoDuration, 0);
  const healthTimeout = scalar(flags, 'health-timeout', parseGoDuration, 0);
  const healthStartPeriod = scalar(flags, 'health-start-period', parseGoDuration, 0);
  const healthStartInterval = scalar(flags, 'health-start-interval', parseGoDuration, 0);
  const blkioWeight = flags.int('blkio-weight');
  if (blkioWeight < 0 || blkioWeight > 65535) {
    const v = String(blkioWeight);
    throw badValue(
      'blkio-weight',
      v,
      new Error(`strconv.ParseUint: parsing ${goQuote(v)}: ${blkioWeight < 0 ? 'invalid syntax' : 'value out of range'}`),
    );
  }
  const ioMaxIOps = flags.int('io-maxiops');
  if (ioMaxIOps < 0) {
    const v = String(ioMaxIOps);
    throw badValue('io-maxiops', v, new Error(`strconv.ParseUint: parsing ${goQuote(v)}: invalid syntax`));
  }

  // Flags the negotiated API is too old for (cobra's version annotations), exit 1.
  const requires = (what: string, version: string) => {
    if (versionLess(apiVersion, version)) {
      throw new CliError(`${what} requires API version ${version}, but the Docker daemon API version is ${apiVersion}`, 1);
    }
  };
  if (flags.changed('annotation')) requires('"--annotation"', '1.43');
  if (flags.changed('health-start-interval')) requires('"--health-start-interval"', '1.44');

  // create.go/run.go before parse(): --pull, and the proxy variables merged into -e.
  const pull = flags.string('pull') as PullPolicy | '';
  if (!['always', 'missing', 'never', ''].includes(pull)) {
    fail(`invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  }
  // The CLI runs -e through a map here (ConvertKVStringsToMapWithNil): duplicates collapse to
  // the last value; its order is Go's random map order, so any order is as faithful.
  const envMap = new Map<string, string | undefined>();
  for (const e of envFlags) {
    const eq = e.indexOf('=');
    const k = eq < 0 ? e : e.slice(0, eq);
    envMap.set(k, eq < 0 ? undefined : e.slice(eq + 1));
  }
  const proxies: [string, string | undefined][] = [
    ['HTTP_PROXY', ctx.proxy?.httpProxy],
    ['HTTPS_PROXY', ctx.proxy?.httpsProxy],
    ['NO_PROXY', ctx.proxy?.noProxy],
    ['FTP_PROXY', ctx.proxy?.ftpProxy],
    ['ALL_PROXY', ctx.proxy?.allProxy],
  ];
  for (const [k, v] of proxies) {
    if (!v) continue;
    if (!envMap.has(k)) envMap.set(k, v);
    if (!envMap.has(k.toLowerCase())) envMap.set(k.toLowerCase(), v);
  }
  const envOverrides = [...envMap].map(([k, v]) => (v === undefined ? k : `${k}=${v}`));

  // parse()
  const [image = '', ...cmd] = args;
  const macAddress = flags.string('mac-address');
  if (macAddress !== '' && !isMAC(macAddress.trim())) fail(`${macAddress} is not a valid mac address`);
  const stdin = flags.bool('interactive');
  const attachStdin = attach.includes('stdin') || stdin;
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  if (attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
  }
  const swappiness = flags.int('memory-swappiness');
  if (swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    fail(`invalid value: ${swappiness}. Valid memory swappiness range is 0-100`);
  }

  // -v: binds (with a source) go to HostConfig.Binds, the rest are anonymous volumes.
  let binds: string[] | null = null;
  const volumes: Record<string, Record<string, never>> = {};
  for (const v of new Set(flags.list('volume'))) {
    let parsed: ReturnType<typeof parseVolumeSpec>;
    try {
      parsed = parseVolumeSpec(v);
    } catch (err) {
      return fail((err as Error).message);
    }
    if (parsed.source === '') {
      setKey(volumes, v, {});
      continue;
    }
    let toBind = v;
    const colon = v.indexOf(':');
    if (parsed.type === 'bind' && colon >= 0) {
      let host = v.slice(0, colon);
      if (!host.startsWith('/') && host.startsWith('.')) host = abs(host);
      toBind = `${host}:${v.slice(colon + 1)}`;
    }
    binds ??= [];
    binds.push(toBind);
  }

  const tmpfs: Record<string, string> = {};
  for (const t of flags.list('tmpfs')) {
    const c = t.indexOf(':');
    setKey(tmpfs, c < 0 ? t : t.slice(0, c), c < 0 ? '' : t.slice(c + 1));
  }

  let entrypoint: string[] | null = null;
  const ep = flags.string('entrypoint');
  if (ep !== '') entrypoint = [ep];
  else if (flags.changed('entrypoint')) entrypoint = [''];

  // -p (with the long syntax converted), -P, --expose.
  const published: string[] = [];
  for (const p of flags.list('publish')) {
    if (!p.includes('=')) {
      published.push(p);
      continue;
    }
    const params: Record<string, string> = { protocol: 'tcp' };
    for (const param of p.split(',')) {
      const e = param.indexOf('=');
      if (e <= 0) {
        fail(`invalid publish opts format (should be name=value but got '${param}')`);
      }
      setKey(params, param.slice(0, e), param.slice(e + 1));
    }
    published.push(`${params.published ?? ''}:${params.target ?? ''}/${params.protocol}`);
  }
  const exposed = new Set<string>();
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const raw of published) {
    let mappings: ReturnType<typeof parsePortSpec>;
    try {
      mappings = parsePortSpec(raw);
    } catch (err) {
      return fail((err as Error).message);
    }
    for (const m of mappings) {
      exposed.add(m.port);
      portBindings[m.port] ??= [];
      portBindings[m.port]?.push({ HostIp: m.hostIp, HostPort: m.hostPort });
    }
  }
  for (const e of flags.list('expose')) {
    if (e.includes(':')) fail(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let range: [number, number];
    try {
      range = parsePortRange(port);
    } catch (err) {
      return fail(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`);
    }
    for (let i = range[0]; i <= range[1]; i++) exposed.add(`${i}/${proto}`);
  }

  // --device: CDI names become a device request, the rest device mappings.
  const devices: ReturnType<typeof parseDevice>[] = [];
  const cdi: string[] = [];
  for (const d of flags.list('device')) {
    if (isCDIName(d)) {
      cdi.push(d);
      continue;
    }
    try {
      devices.push(parseDevice(d));
    } catch (err) {
      fail((err as Error).message);
    }
  }

  // Env: the env files first, then -e (which may override them).
  const envFiles: string[] = [];
  for (const f of flags.list('env-file')) {
    envFiles.push(...readKV(f, (k) => ctx.env[k]));
  }
  const envAll = [...envFiles, ...envOverrides];
  const labelFiles: string[] = [];
  for (const f of flags.list('label-file')) labelFiles.push(...readKV(f));
  const labelMap: Record<string, string> = {};
  for (const l of [...labelFiles, ...labels]) {
    const e = l.indexOf('=');
    setKey(labelMap, e < 0 ? l : l.slice(0, e), e < 0 ? '' : l.slice(e + 1));
  }
  function readKV(file: string, lookup?: (k: string) => string | undefined): string[] {
    let content: string | Buffer;
    try {
      content = ctx.readFile(file);
    } catch (err) {
      // Opening fails plainly; a read failure (a directory) happens while scanning, inside
      // the env-file parser's wrapping, as for every parse error (label files included).
      if ((err as NodeJS.ErrnoException)?.code === 'EISDIR') {
        return fail(`invalid env file (${file}): ${readError(file, err)}`);
      }
      return fail(readError(file, err));
    }
    try {
      return parseKeyValueFile(content, lookup);
    } catch (err) {
      return fail(`invalid env file (${file}): ${(err as Error).message}`);
    }
  }

  const pidMode = flags.string('pid');
  if (!(pidMode === '' || pidMode === 'host' || /^container:.+/.test(pidMode))) {
    fail('--pid: invalid PID mode');
  }
  const utsMode = flags.string('uts');
  if (!(utsMode === '' || utsMode === 'host')) fail('--uts: invalid UTS mode');
  const usernsMode = flags.string('userns');
  if (!(usernsMode === '' || usernsMode === 'host')) fail('--userns: invalid USER mode');
  const cgroupnsMode = flags.string('cgroupns');
  if (!['', 'host', 'private'].includes(cgroupnsMode)) fail('--cgroupns: invalid CGROUP mode');

  const restart = flags.string('restart');
  const restartPolicy = { Name: '', MaximumRetryCount: 0 };
  if (restart !== '') {
    const c = restart.indexOf(':');
    const k = c < 0 ? restart : restart.slice(0, c);
    const v = c < 0 ? '' : restart.slice(c + 1);
    if (c >= 0 && k === '') fail('invalid restart policy format: no policy provided before colon');
    if (v !== '') {
      try {
        restartPolicy.MaximumRetryCount = parseGoInt(v, 'Atoi');
      } catch {
        fail('invalid restart policy format: maximum retry count must be an integer');
      }
    }
    restartPolicy.Name = k;
  }

  const logDriver = flags.string('log-driver');
  const logOptsList = flags.list('log-opt');
  if (logDriver === 'none' && logOptsList.length > 0) {
    fail(`invalid logging opts for driver ${logDriver}`);
  }
  const logOpts: Record<string, string> = {};
  for (const o of logOptsList) {
    const e = o.indexOf('=');
    setKey(logOpts, e < 0 ? o : o.slice(0, e), e < 0 ? '' : o.slice(e + 1));
  }

  // --security-opt: seccomp profiles are read and sent compacted; systempaths=unconfined is
  // the client's own switch (empty MaskedPaths/ReadonlyPaths), not sent as an option.
  const secOptsIn = flags.list('security-opt');
  const secOpts: string[] = [];
  let maskedPaths: string[] | null = null;
  let readonlyPaths: string[] | null = null;
  for (let opt of secOptsIn) {
    let sep = opt.indexOf('=');
    let k = sep < 0 ? opt : opt.slice(0, sep);
    if (sep < 0 && k !== 'no-new-privileges') {
      sep = opt.indexOf(':');
      k = sep < 0 ? opt : opt.slice(0, sep);
    }
    const v = sep < 0 ? '' : opt.slice(sep + 1);
    if ((sep < 0 || v === '') && k !== 'no-new-privileges') {
      fail(`Invalid --security-opt: ${goQuote(opt)}`);
    }
    if (k === 'seccomp' && v !== 'builtin' && v !== 'unconfined') {
      let content: string | Buffer;
      try {
        content = ctx.readFile(v);
      } catch (err) {
        return fail(`opening seccomp profile (${v}) failed: ${readError(v, err)}`);
      }
      try {
        opt = `seccomp=${JSON.stringify(JSON.parse(content.toString()))}`;
      } catch (err) {
        return fail(`compacting json for seccomp profile (${v}) failed: ${(err as Error).message}`);
      }
    }
    if (opt === 'systempaths=unconfined') {
      maskedPaths = [];
      readonlyPaths = [];
    } else secOpts.push(opt);
  }

  const storageOpt: Record<string, string> = {};
  for (const o of flags.list('storage-opt')) {
    const e = o.indexOf('=');
    if (e < 0) fail('invalid storage option');
    setKey(storageOpt, o.slice(0, e), o.slice(e + 1));
  }

  // Healthcheck
  const healthCmd = flags.string('health-cmd');
  const healthRetries = flags.int('health-retries');
  let healthcheck: HealthcheckBody | undefined;
  const haveHealth =
    healthCmd !== '' ||
    healthInterval !== 0 ||
    healthTimeout !== 0 ||
    healthStartPeriod !== 0 ||
    healthRetries !== 0 ||
    healthStartInterval !== 0;
  if (flags.bool('no-healthcheck')) {
    if (haveHealth) fail('--no-healthcheck conflicts with --health-* options');
    healthcheck = { Test: ['NONE'] };
  } else if (haveHealth) {
    if (healthInterval < 0) fail('--health-interval cannot be negative');
    if (healthTimeout < 0) fail('--health-timeout cannot be negative');
    if (healthRetries < 0) fail('--health-retries cannot be negative');
    if (healthStartPeriod < 0) fail('--health-start-period cannot be negative');
    if (healthStartInterval < 0) fail('--health-start-interval cannot be negative');
    healthcheck = {};
    if (healthCmd !== '') healthcheck.Test = ['CMD-SHELL', healthCmd];
    if (healthInterval) healthcheck.Interval = healthInterval;
    if (healthTimeout) healthcheck.Timeout = healthTimeout;
    if (healthStartPeriod) healthcheck.StartPeriod = healthStartPeriod;
    if (healthStartInterval) healthcheck.StartInterval = healthStartInterval;
    if (healthRetries) healthcheck.Retries = healthRetries;
  }

  const deviceRequests: DeviceRequest[] = [...gpus];
  if (cdi.length > 0) {
    deviceRequests.push({ Driver: 'cdi', Count: 0, DeviceIDs: cdi, Capabilities: null, Options: null });
  }

  const ulimitMap = new Map<string, { Name: string; Hard: number; Soft: number }>();
  for (const u of ulimitList) ulimitMap.set(u.Name, u);
  const ulimits = [...ulimitMap.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));

  const sysctls: Record<string, string> = {};
  for (const s of sysctlList) {
    const e = s.indexOf('=');
    setKey(sysctls, s.slice(0, e), s.slice(e + 1));
  }
  const annotationMap: Record<string, string> = {};
  for (const a of annotations) {
    const e = a.indexOf('=');
    setKey(annotationMap, e < 0 ? a : a.slice(0, e), e < 0 ? '' : a.slice(e + 1));
  }

  const exposedPorts: Record<string, Record<string, never>> = {};
  for (const p of exposed) exposedPorts[p] = {};
  const capAdd = normalizeCaps(flags.list('cap-add'));
  const capDrop = normalizeCaps(flags.list('cap-drop'));
  const autoRemove = flags.bool('rm');
  const networkMode = networks.length > 0 ? (networks[0] as NetworkAttachment).target : 'default';

  const config: CreateBody = {
    Hostname: flags.string('hostname'),
    Domainname: flags.string('domainname'),
    User: flags.string('user'),
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ...(exposed.size > 0 ? { ExposedPorts: exposedPorts } : {}),
    Tty: flags.bool('tty'),
    OpenStdin: stdin,
    StdinOnce: false,
    Env: envAll.length > 0 ? envAll : null,
    Cmd: cmd.length > 0 ? cmd : null,
    ...(healthcheck ? { Healthcheck: healthcheck } : {}),
    Image: image,
    Volumes: volumes,
    WorkingDir: flags.string('workdir'),
    Entrypoint: entrypoint,
    OnBuild: null,
    Labels: labelMap,
    ...(flags.string('stop-signal') !== '' ? { StopSignal: flags.string('stop-signal') } : {}),
    ...(flags.changed('stop-timeout') ? { StopTimeout: flags.int('stop-timeout') } : {}),
    HostConfig: {
      Binds: binds,
      ContainerIDFile: flags.string('cidfile'),
      LogConfig: { Type: logDriver, Config: logOpts },
      NetworkMode: networkMode,
      PortBindings: portBindings,
      RestartPolicy: restartPolicy,
      AutoRemove: autoRemove,
      VolumeDriver: flags.string('volume-driver'),
      VolumesFrom: nullIfEmpty(flags.list('volumes-from')),
      ConsoleSize: [0, 0],
      ...(annotations.length > 0 ? { Annotations: annotationMap } : {}),
      CapAdd: capAdd,
      CapDrop: capDrop,
      CgroupnsMode: cgroupnsMode,
      Dns: dns,
      // --dns-opt and --dns-option share one list in Docker, in command-line order; Flags keeps
      // them apart, so the recommended spelling comes first.
      DnsOptions: [...flags.list('dns-option'), ...flags.list('dns-opt')],
      DnsSearch: dnsSearch,
      ExtraHosts: nullIfEmpty(extraHosts),
      GroupAdd: nullIfEmpty(flags.list('group-add')),
      IpcMode: flags.string('ipc'),
      Cgroup: '',
      Links: nullIfEmpty(links),
      OomScoreAdj: flags.int('oom-score-adj'),
      PidMode: pidMode,
      Privileged: flags.bool('privileged'),
      PublishAllPorts: flags.bool('publish-all'),
      ReadonlyRootfs: flags.bool('read-only'),
      SecurityOpt: secOptsIn.length > 0 ? secOpts : null,
      ...(Object.keys(storageOpt).length > 0 ? { StorageOpt: storageOpt } : {}),
      ...(Object.keys(tmpfs).length > 0 ? { Tmpfs: tmpfs } : {}),
      UTSMode: utsMode,
      UsernsMode: usernsMode,
      ShmSize: shmSize,
      ...(Object.keys(sysctls).length > 0 ? { Sysctls: sysctls } : {}),
      ...(flags.string('runtime') !== '' ? { Runtime: flags.string('runtime') } : {}),
      Isolation: flags.string('isolation'),
      CpuShares: flags.int('cpu-shares'),
      Memory: memory,
      NanoCpus: nanoCpus,
      CgroupParent: flags.string('cgroup-parent'),
      BlkioWeight: blkioWeight,
      BlkioWeightDevice: blkioWeightDevice,
      BlkioDeviceReadBps: readBps,
      BlkioDeviceWriteBps: writeBps,
      BlkioDeviceReadIOps: readIOps,
      BlkioDeviceWriteIOps: writeIOps,
      CpuPeriod: flags.int('cpu-period'),
      CpuQuota: flags.int('cpu-quota'),
      CpuRealtimePeriod: flags.int('cpu-rt-period'),
      CpuRealtimeRuntime: flags.int('cpu-rt-runtime'),
      CpusetCpus: flags.string('cpuset-cpus'),
      CpusetMems: flags.string('cpuset-mems'),
      Devices: devices,
      DeviceCgroupRules: nullIfEmpty(deviceCgroupRules),
      DeviceRequests: deviceRequests.length > 0 ? deviceRequests : null,
      ...(kernelMemory !== 0 ? { KernelMemory: kernelMemory } : {}),
      MemoryReservation: memoryReservation,
      MemorySwap: memorySwap,
      MemorySwappiness: swappiness,
      OomKillDisable: flags.bool('oom-kill-disable'),
      PidsLimit: flags.int('pids-limit'),
      Ulimits: ulimits,
      CpuCount: flags.int('cpu-count'),
      CpuPercent: flags.int('cpu-percent'),
      IOMaximumIOps: ioMaxIOps,
      IOMaximumBandwidth: ioMaxBandwidth,
      ...(mounts.length > 0 ? { Mounts: mounts } : {}),
      MaskedPaths: maskedPaths,
      ReadonlyPaths: readonlyPaths,
      ...(flags.changed('init') ? { Init: flags.bool('init') } : {}),
    },
    NetworkingConfig: { EndpointsConfig: {} },
  };

  if (autoRemove && !(restartPolicy.Name === 'no' || restartPolicy.Name === '')) {
    fail('conflicting options: cannot specify both --restart and --rm');
  }
  if (config.OpenStdin && config.AttachStdin) config.StdinOnce = true;

  config.NetworkingConfig.EndpointsConfig = endpoints();
  function endpoints(): Record<string, EndpointSettings> {
    const out: Record<string, EndpointSettings> = {};
    const aliases = [...flags.list('network-alias'), ...flags.list('net-alias')];
    const ipv4 = flags.string('ip');
    const ipv6 = flags.string('ip6');
    const linkLocal = flags.list('link-local-ip');
    const apply = (n: NetworkAttachment) => {
      const conflict = (what: string) => fail(`conflicting options: cannot specify both ${what}`);
      if (n.aliases.length > 0 && aliases.length > 0) conflict('--network-alias and per-network alias');
      if (n.links.length > 0 && links.length > 0) conflict('--link and per-network links');
      if (n.ipv4 !== '' && ipv4 !== '') conflict('--ip and per-network IPv4 address');
      if (n.ipv6 !== '' && ipv6 !== '') conflict('--ip6 and per-network IPv6 address');
      if (n.mac !== '' && macAddress !== '') conflict('--mac-address and per-network MAC address');
      if (n.linkLocalIPs.length > 0 && linkLocal.length > 0) {
        conflict('--link-local-ip and per-network link-local IP addresses');
      }
      if (aliases.length > 0) n.aliases = [...aliases];
      // On a user-defined network --link is an endpoint option; on the default bridge a legacy link.
      if (isUserDefined(n.target) && links.length > 0) n.links = [...links];
      if (ipv4 !== '') n.ipv4 = ipv4;
      if (ipv6 !== '') n.ipv6 = ipv6;
      if (macAddress !== '') n.mac = macAddress;
      if (linkLocal.length > 0) n.linkLocalIPs = [...linkLocal];
    };
    const toEndpoint = (n: NetworkAttachment): EndpointSettings => {
      if (n.target.trim() === '') fail('no name set for network');
      if (!isUserDefined(n.target)) {
        if (n.aliases.length > 0) fail('network-scoped aliases are only supported for user-defined networks');
        if (n.links.length > 0) fail('links are only supported for user-defined networks');
      }
      const e = emptyEndpoint();
      e.GwPriority = n.gwPriority;
      if (n.aliases.length > 0) e.Aliases = [...n.aliases];
      if (n.driverOpts && Object.keys(n.driverOpts).length > 0) e.DriverOpts = n.driverOpts;
      if (n.links.length > 0) e.Links = n.links;
      if (n.ipv4 !== '' || n.ipv6 !== '' || n.linkLocalIPs.length > 0) {
        e.IPAMConfig = {};
        if (n.ipv4 !== '') e.IPAMConfig.IPv4Address = n.ipv4;
        if (n.ipv6 !== '') e.IPAMConfig.IPv6Address = n.ipv6;
        if (n.linkLocalIPs.length > 0) e.IPAMConfig.LinkLocalIPs = n.linkLocalIPs;
      }
      if (n.mac !== '') {
        if (!isMAC(n.mac.trim())) fail(`${n.mac} is not a valid mac address`);
        e.MacAddress = n.mac;
      }
      return e;
    };
    if (networks.length === 0) {
      const n = parseNetwork('default');
      apply(n);
      out.default = toEndpoint(n);
    }
    let userDefined = false;
    let nonUserDefined = false;
    networks.forEach((n, i) => {
      if (isUserDefined(n.target)) userDefined = true;
      else nonUserDefined = true;
      if (i === 0) apply(n);
      const e = toEndpoint(n);
      if (Object.hasOwn(out, n.target)) {
        fail(`network ${goQuote(n.target)} is specified multiple times`);
      }
      // One network without options: the endpoint is left out (the daemon makes it).
      if (i === 0 && networks.length === 1 && JSON.stringify(e) === JSON.stringify(emptyEndpoint())) {
        return;
      }
      setKey(out, n.target, e);
    });
    if (userDefined && nonUserDefined) {
      fail('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    }
    return out;
  }

  // create.go: per-endpoint MAC addresses need API 1.44.
  if (versionLess(apiVersion, '1.44')) {
    for (const e of Object.values(config.NetworkingConfig.EndpointsConfig)) {
      if (e.MacAddress !== '') requires('"specify mac-address per network"', '1.44');
    }
  }

  // The API client: a recursively read-only bind needs API 1.44 (it drops nothing else).
  if (versionLess(apiVersion, '1.44')) {
    for (const m of config.HostConfig.Mounts ?? []) {
      if (m.BindOptions?.ReadOnlyForceRecursive) {
        throw new CliError('bind-recursive=readonly requires API v1.44 or later', 1);
      }
    }
  }

  // run.go: a detached container attaches nothing.
  if (command === 'run' && flags.bool('detach')) {
    if (attach.length > 0) throw new CliError('conflicting options: cannot specify both --attach and --detach', 1);
    config.AttachStdin = false;
    config.AttachStdout = false;
    config.AttachStderr = false;
    config.StdinOnce = false;
  }

  // create.go: --use-api-socket bind-mounts the daemon's socket.
  if (flags.bool('use-api-socket')) {
    if (!ctx.apiSocket) {
      throw new CliError('flag --use-api-socket needs the Engine API on a unix socket', 1);
    }
    config.HostConfig.Mounts = [
      ...(config.HostConfig.Mounts ?? []),
      { Type: 'bind', Source: ctx.apiSocket, Target: '/var/run/docker.sock', BindOptions: {} },
    ];
  }

  let platform = flags.changed('platform') ? flags.string('platform') : (ctx.env.DOCKER_DEFAULT_PLATFORM ?? flags.string('platform'));
  if (platform !== '') {
    try {
      platform = normalizePlatform(platform);
    } catch (err) {
      throw new CliError((err as Error).message, 1);
    }
  }

  const name = flags.string('name');
  return {
    ...(name !== '' ? { name } : {}),
    ...(platform !== '' ? { platform } : {}),
    pull: pull === '' ? 'missing' : pull,
    body: config,
  };
}

function nullIfEmpty<T>(a: T[]): T[] | null {
  return a.length > 0 ? a : null;
}

/** create.go localhostDNSWarning: the warning the CLI adds when --dns names a loopback address. */
export function localhostDNSWarning(body: CreateBody): string | undefined {
  const dns = (body.HostConfig.Dns as string[] | undefined) ?? [];
  for (const ip of dns) {
    if (/^127\./.test(ip) || ip === '::1') return `Localhost DNS (${ip}) may fail in containers.`;
  }
  return undefined;
}
