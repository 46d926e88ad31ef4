/**
 * The OCI runtime spec dockerd hands its runtime for a container (moby's oci/defaults.go and
 * daemon/oci_linux.go, as Debian's dockerd 20.10 produces it, checked field by field by
 * test/engine-spec.test.ts). Pure: every host fact (paths, devices, kernel, capabilities, the
 * container's /etc/passwd and /etc/group contents) comes in as data.
 */
import { BerthError } from '../../common/errors.js';
import {
  type Device,
  type DeviceCgroup,
  type Mount,
  type Namespace,
  OCI_VERSION,
  type Process,
  type Resources,
  type Spec,
} from '../../oci/spec.js';
import type { TargetArch } from '../../runtime/seccomp/arch.js';
import { type DockerSeccompProfile, dockerProfileToOci } from '../../runtime/seccomp/docker-profile.js';
import { knownCapabilities, tweakCapabilities } from './caps.js';
import { type CreateConfig, type HostConfig, type ThrottleDevice, ULIMIT_NAMES } from './create-config.js';
import { containerEnv, processOf } from './merge.js';
import { dockerDefaultSeccompProfile } from './seccomp-default.js';
import { resolveUser } from './user.js';

/** Docker's default /dev/shm size (config.DefaultShmSize). */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** moby oci/defaults.go maskedPaths, plus /sys/devices/virtual/powercap (moby ≥ 25, CVE-2020-8694). */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** The device cgroup rules of moby's DefaultLinuxSpec (runc creates the default nodes itself). */
export function defaultDeviceRules(): DeviceCgroup[] {
  const allow = (major: number, minor: number): DeviceCgroup => ({ allow: true, type: 'c', major, minor, access: 'rwm' });
  return [
    { allow: false, access: 'rwm' },
    allow(1, 5), // /dev/zero
    allow(1, 3), // /dev/null
    allow(1, 9), // /dev/urandom
    allow(1, 8), // /dev/random
    allow(5, 0), // /dev/tty
    allow(5, 1), // /dev/console
    { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' }, // /dev/fuse, denied explicitly
  ];
}

/** moby's DefaultLinuxSpec mounts, before /dev/shm and the container's files. */
export function defaultMounts(): Mount[] {
  return [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  ];
}

/** What a host device node is (stat'ed by the engine). */
export interface HostDevice {
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export interface SpecInput {
  id: string;
  /** The merged Config (merge.ts). */
  config: CreateConfig;
  hostConfig: HostConfig;
  /** Host paths. */
  rootfs: string;
  hostsPath: string;
  hostnamePath: string;
  resolvConfPath: string;
  /** The container's /etc/passwd and /etc/group contents (undefined: absent). */
  passwd?: string;
  group?: string;
  host: {
    arch: TargetArch;
    /** `uname -r`, for the seccomp profile's minKernel and the default sysctls. */
    kernel: string;
    /** /proc/sys/kernel/cap_last_cap (default: every capability Berth knows). */
    lastCap?: number;
    /** Every device node under the host's /dev, for --privileged (moby's devices.HostDevices). */
    devices?: { path: string; device: HostDevice }[];
    /** stat of --device paths, keyed by host path. */
    deviceInfo?: Record<string, HostDevice>;
    /** 'cgroupfs' (default) or 'systemd'. */
    cgroupDriver?: 'cgroupfs' | 'systemd';
    /** Default cgroup parent: '/berth' for cgroupfs, 'system.slice' for systemd. */
    cgroupParent?: string;
    /** The name in systemd scope names ("<prefix>-<id>.scope"); 'berth' by default. */
    cgroupScopePrefix?: string;
    /** cgroup v2 with a private cgroup namespace by default (dockerd on cgroup v2). */
    cgroupnsPrivateByDefault?: boolean;
    /** Daemon-wide ulimits (dockerd's --default-ulimit), by name. */
    defaultUlimits?: Record<string, { soft: number; hard: number }>;
    /** The daemon's --seccomp-profile, replacing Docker's default. */
    seccompProfile?: DockerSeccompProfile;
    /** false: the host cannot weigh block I/O and the weight is discarded, as dockerd does. */
    blkioWeight?: boolean;
    /** major:minor of the block devices the blkio options name, keyed by path (engine/host.ts blockDeviceNumbers). */
    blockDevices?: Record<string, { major: number; minor: number }>;
    /** AppArmor enabled on the host: the default profile's name (dockerd: "docker-default"). */
    apparmorProfile?: string;
  };
  /**
   * For `container:<ref>` namespace modes: /proc/<pid>/ns/<type> of the other container (the
   * engine resolves the reference and checks it is running).
   */
  namespacePath?: (ref: string, type: 'network' | 'ipc' | 'pid') => string;
  /** The /dev/shm to bind for `--ipc container:<ref>` or `shareable`. */
  shmPath?: (ref: string | undefined) => string;
  /** Further mounts (volumes, binds, tmpfs), sorted with the container's files by depth. */
  extraMounts?: Mount[];
}

const bad = (field: string, message: string) => new BerthError('invalid-argument', message, { object: field });

/** The security options dockerd understands (daemon.parseSecurityOpt), with its error texts. */
export interface SecurityOptions {
  noNewPrivileges: boolean;
  seccomp?: string;
  apparmor?: string;
  label: string[];
}

export function parseSecurityOpt(opts: readonly string[]): SecurityOptions {
  const out: SecurityOptions = { noNewPrivileges: false, label: [] };
  for (const opt of opts) {
    if (opt === 'no-new-privileges') {
      out.noNewPrivileges = true;
      continue;
    }
    if (opt === 'disable') {
      out.label.push('disable');
      continue;
    }
    const sep = opt.includes('=') ? '=' : opt.includes(':') ? ':' : undefined;
    if (sep === undefined) throw bad('SecurityOpt', `invalid --security-opt 1: "${opt}"`);
    const i = opt.indexOf(sep);
    const [key, value] = [opt.slice(0, i), opt.slice(i + 1)];
    switch (key) {
      case 'label':
        out.label.push(value);
        break;
      case 'apparmor':
        out.apparmor = value;
        break;
      case 'seccomp':
        out.seccomp = value;
        break;
      case 'no-new-privileges': {
        // Go's strconv.ParseBool
        if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) out.noNewPrivileges = true;
        else if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) out.noNewPrivileges = false;
        else throw bad('SecurityOpt', `invalid --security-opt 2: "${opt}"`);
        break;
      }
      default:
        throw bad('SecurityOpt', `invalid --security-opt 2: "${opt}"`);
    }
  }
  return out;
}

type Mode = { kind: 'private' } | { kind: 'host' } | { kind: 'none' } | { kind: 'shareable' } | { kind: 'container'; ref: string };

function parseMode(value: string | undefined, field: string, allowed: readonly string[]): Mode {
  const v = value ?? '';
  if (v.startsWith('container:')) {
    const ref = v.slice('container:'.length);
    if (!ref) throw bad(field, `invalid ${field}: ${v}`);
    return { kind: 'container', ref };
  }
  if (v === '' || v === 'private' || v === 'default' || v === 'bridge') return { kind: 'private' };
  if (!allowed.includes(v)) throw bad(field, `invalid ${field}: ${v}`);
  return { kind: v as 'host' | 'none' | 'shareable' };
}

/** Sysctls a container may set (runc's validateSysctl), given its namespaces. */
function checkSysctl(key: string, ns: { netHost: boolean; ipcHost: boolean; utsHost: boolean }): void {
  const ipc = [
    'kernel.msgmax',
    'kernel.msgmnb',
    'kernel.msgmni',
    'kernel.sem',
    'kernel.shmall',
    'kernel.shmmax',
    'kernel.shmmni',
    'kernel.shm_rmid_forced',
  ];
  if (ipc.includes(key) || key.startsWith('fs.mqueue.')) {
    if (ns.ipcHost) throw bad('Sysctls', `sysctl "${key}" not allowed in host IPC namespace`);
    return;
  }
  if (key.startsWith('net.')) {
    if (ns.netHost) throw bad('Sysctls', `sysctl "${key}" not allowed in host network namespace`);
    return;
  }
  if (key === 'kernel.domainname' || key === 'kernel.hostname') {
    if (ns.utsHost) throw bad('Sysctls', `sysctl "${key}" not allowed in host UTS namespace`);
    return;
  }
  throw bad('Sysctls', `sysctl "${key}" is not in a separate kernel namespace`);
}

function kernelAtLeast(kernel: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  if (!m) return false;
  return Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor);
}

/** "c 1:3 rwm", "a *:* m" (moby AppendDevicePermissionsFromCgroupRules). */
export function parseDeviceCgroupRule(rule: string): DeviceCgroup {
  const m = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/.exec(rule);
  if (!m) throw bad('DeviceCgroupRules', `invalid device cgroup format '${rule}'`);
  // A wildcard is -1, as dockerd writes it (runc reads -1 as "any").
  const num = (s: string) => (s === '*' ? -1 : Number(s));
  return { allow: true, type: m[1]!, major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
}

/** Mount flags by name, and the bit that makes two of them collide (moby's mount flags table). */
const FLAG_KEYS: Record<string, string> = {
  ro: 'rdonly',
  rw: 'rdonly',
  suid: 'nosuid',
  nosuid: 'nosuid',
  dev: 'nodev',
  nodev: 'nodev',
  exec: 'noexec',
  noexec: 'noexec',
  sync: 'sync',
  async: 'sync',
  dirsync: 'dirsync',
  remount: 'remount',
  mand: 'mand',
  nomand: 'mand',
  atime: 'noatime',
  noatime: 'noatime',
  diratime: 'nodiratime',
  nodiratime: 'nodiratime',
  bind: 'bind',
  rbind: 'rbind',
  relatime: 'relatime',
  norelatime: 'relatime',
  strictatime: 'strictatime',
  nostrictatime: 'strictatime',
  // one propagation mode only
  private: 'propagation',
  rprivate: 'propagation',
  shared: 'propagation',
  rshared: 'propagation',
  slave: 'propagation',
  rslave: 'propagation',
  unbindable: 'propagation',
  runbindable: 'propagation',
};
const TMPFS_DATA = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol']);

/**
 * moby's MergeTmpfsOptions: read from the end, the last of colliding flags or data keys wins and
 * keeps its place; "defaults" is dropped; anything else is refused.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const o = options[i]!;
    if (o === 'defaults') continue;
    const key = Object.hasOwn(FLAG_KEYS, o) ? FLAG_KEYS[o] : undefined;
    if (key !== undefined) {
      if (!seenFlags.has(key)) out.unshift(o);
      seenFlags.add(key);
      continue;
    }
    const eq = o.indexOf('=');
    const name = eq < 0 ? o : o.slice(0, eq);
    if (eq < 0 || !TMPFS_DATA.has(name)) throw bad('Tmpfs', `Invalid tmpfs option ["${eq < 0 ? o : `${name}" "${o.slice(eq + 1)}`}"]`);
    if (!seenData.has(name)) out.unshift(o);
    seenData.add(name);
  }
  return out;
}

/** --tmpfs DEST[:OPTIONS] (HostConfig.Tmpfs): noexec, nosuid, nodev, rprivate, then the user's. */
export function tmpfsMounts(tmpfs: Record<string, string>): Mount[] {
  return Object.entries(tmpfs).map(([destination, data]) => {
    if (!destination.startsWith('/')) throw bad('Tmpfs', `invalid mount path: '${destination}' mount path must be absolute`);
    const options = ['noexec', 'nosuid', 'nodev', 'rprivate', ...(data ? data.split(',') : [])];
    return { destination, type: 'tmpfs', source: 'tmpfs', options: mergeTmpfsOptions(options) };
  });
}

function ociDevice(path: string, d: HostDevice): Device {
  return { path, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid };
}

function memoryResources(h: HostConfig): Record<string, unknown> {
  const memory = h.Memory ?? 0;
  // adaptContainerSettings: swap defaults to twice the limit.
  const swap = memory > 0 && !h.MemorySwap ? memory * 2 : (h.MemorySwap ?? 0);
  const out: Record<string, unknown> = {};
  if (memory > 0) out.limit = memory;
  if ((h.MemoryReservation ?? 0) > 0) out.reservation = h.MemoryReservation;
  if (swap > 0) out.swap = swap;
  if (h.KernelMemory) out.kernel = h.KernelMemory;
  if (h.MemorySwappiness !== undefined && h.MemorySwappiness !== null && h.MemorySwappiness >= 0) out.swappiness = h.MemorySwappiness;
  out.disableOOMKiller = h.OomKillDisable ?? false;
  return out;
}

function cpuResources(h: HostConfig): Record<string, unknown> {
  if ((h.CpuShares ?? 0) < 0) throw bad('CpuShares', 'shares: invalid argument');
  const out: Record<string, unknown> = { shares: h.CpuShares ?? 0 };
  if (h.CpusetCpus) out.cpus = h.CpusetCpus;
  if (h.CpusetMems) out.mems = h.CpusetMems;
  if ((h.NanoCpus ?? 0) > 0) {
    const period = 100_000; // 100ms in µs (sched-bwc.txt)
    out.quota = Math.floor((h.NanoCpus! * period) / 1e9);
    out.period = period;
  }
  if (h.CpuPeriod) out.period = h.CpuPeriod;
  if (h.CpuQuota) out.quota = h.CpuQuota;
  if (h.CpuRealtimePeriod) out.realtimePeriod = h.CpuRealtimePeriod;
  if (h.CpuRealtimeRuntime) out.realtimeRuntime = h.CpuRealtimeRuntime;
  return out;
}

/** Builds the spec. Throws BerthError 'invalid-argument' with dockerd's texts on bad settings. */
export function buildSpec(input: SpecInput): Spec {
  const { id, config: c, hostConfig: h, host } = input;
  const privileged = h.Privileged === true;
  const sec = parseSecurityOpt(h.SecurityOpt ?? []);

  // ---- namespaces (defaults order: mount, network, uts, pid, ipc; then cgroup) ----
  const net = parseMode(h.NetworkMode, 'NetworkMode', ['host', 'none']);
  const ipc = parseMode(h.IpcMode, 'IpcMode', ['host', 'none', 'shareable']);
  const pid = parseMode(h.PidMode, 'PidMode', ['host']);
  const uts = parseMode(h.UTSMode, 'UTSMode', ['host']);
  if (uts.kind === 'container') throw bad('UTSMode', `invalid UTSMode: ${h.UTSMode}`);
  const cgroupns = h.CgroupnsMode === 'private' || (!h.CgroupnsMode && host.cgroupnsPrivateByDefault === true);
  if (h.CgroupnsMode && h.CgroupnsMode !== 'private' && h.CgroupnsMode !== 'host')
    throw bad('CgroupnsMode', `invalid cgroup namespace mode: ${h.CgroupnsMode}`);
  const join = (type: 'network' | 'ipc' | 'pid', mode: Mode): Namespace | undefined => {
    if (mode.kind === 'host') return undefined;
    if (mode.kind === 'container') {
      if (!input.namespacePath) throw bad(type, `cannot join the ${type} namespace of container ${mode.ref}`);
      return { type, path: input.namespacePath(mode.ref, type) };
    }
    return { type };
  };
  const namespaces: Namespace[] = [{ type: 'mount' }];
  for (const ns of [join('network', net), uts.kind === 'host' ? undefined : { type: 'uts' as const }, join('pid', pid), join('ipc', ipc)])
    if (ns) namespaces.push(ns);
  if (cgroupns) namespaces.push({ type: 'cgroup' });

  // ---- user, capabilities, process ----
  const { user } = resolveUser(c.User ?? '', h.GroupAdd ?? [], input.passwd, input.group);
  const caps = tweakCapabilities(h.CapAdd ?? [], h.CapDrop ?? [], privileged, knownCapabilities(host.lastCap));
  const { path, args, cwd } = processOf(c);
  const proc: Process = {
    user,
    args: [path, ...args],
    env: containerEnv(c),
    cwd,
    // As execve would for a non-root user: no effective or permitted set (moby oci.SetCapabilities).
    capabilities: user.uid === 0 ? { bounding: caps, effective: [...caps], permitted: [...caps] } : { bounding: caps },
  };
  if (c.Tty) proc.terminal = true;
  const ulimits = [...(h.Ulimits ?? [])];
  for (const [name, l] of Object.entries(host.defaultUlimits ?? {}))
    if (!ulimits.some((u) => u.Name === name)) ulimits.push({ Name: name, Soft: l.soft, Hard: l.hard });
  if (ulimits.length > 0) {
    // The API may repeat a name (the CLI cannot): the last wins, as when runc applies them in turn.
    const byName = new Map<string, { type: string; hard: number; soft: number }>();
    for (const u of ulimits) {
      if (!(ULIMIT_NAMES as readonly string[]).includes(u.Name)) throw bad('Ulimits', `invalid ulimit type: ${u.Name}`);
      byName.set(u.Name, { type: `RLIMIT_${u.Name.toUpperCase()}`, hard: u.Hard, soft: u.Soft });
    }
    proc.rlimits = [...byName.values()];
  }
  if (sec.noNewPrivileges) proc.noNewPrivileges = true;
  if (host.apparmorProfile !== undefined) proc.apparmorProfile = sec.apparmor ?? (privileged ? 'unconfined' : host.apparmorProfile);
  proc.oomScoreAdj = h.OomScoreAdj ?? 0;

  // ---- mounts ----
  const mounts = defaultMounts();
  if (privileged) {
    // moby clears "ro" from /sys and the cgroup mount for privileged containers.
    for (const m of mounts)
      if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = m.options?.filter((o) => o !== 'ro');
  }
  const shmSize = h.ShmSize || DEFAULT_SHM_SIZE;
  if (ipc.kind === 'private') {
    mounts.push({
      destination: '/dev/shm',
      type: 'tmpfs',
      source: 'shm',
      options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`],
    });
  }
  // The container's files are writable unless the rootfs is read-only (moby NetworkMounts).
  const fileOpts = h.ReadonlyRootfs ? ['rbind', 'ro', 'rprivate'] : ['rbind', 'rprivate'];
  const containerMounts: Mount[] = [
    ...(input.extraMounts ?? []),
    { destination: '/etc/resolv.conf', type: 'bind', source: input.resolvConfPath, options: [...fileOpts] },
    { destination: '/etc/hostname', type: 'bind', source: input.hostnamePath, options: [...fileOpts] },
    { destination: '/etc/hosts', type: 'bind', source: input.hostsPath, options: [...fileOpts] },
  ];
  // A shared /dev/shm is one of the container's mounts (moby IpcMounts), after its files.
  if (ipc.kind === 'host') {
    containerMounts.push({ destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'rprivate'] });
  } else if (ipc.kind === 'shareable' || ipc.kind === 'container') {
    if (!input.shmPath) throw bad('IpcMode', `no shared /dev/shm for IpcMode ${h.IpcMode}`);
    const source = input.shmPath(ipc.kind === 'container' ? ipc.ref : undefined);
    containerMounts.push({ destination: '/dev/shm', type: 'bind', source, options: ['rbind', 'rprivate'] });
  }
  containerMounts.push(...tmpfsMounts(h.Tmpfs ?? {}));
  // moby sorts the container's mounts by depth (path components), so a parent is mounted before
  // what is mounted inside it; Array.prototype.sort is stable, as Go's sort is for so few.
  const depth = (m: Mount) => m.destination.split('/').filter(Boolean).length;
  mounts.push(...containerMounts.sort((a, b) => depth(a) - depth(b)));

  // ---- devices ----
  const devices: Device[] = [];
  let rules: DeviceCgroup[];
  const info = (p: string): HostDevice => {
    const d = host.deviceInfo?.[p];
    if (!d) throw bad('Devices', `error gathering device information while adding custom device "${p}": not a device node`);
    return d;
  };
  if (privileged) {
    for (const d of host.devices ?? []) devices.push(ociDevice(d.path, d.device));
    for (const m of h.Devices ?? []) {
      const inContainer = m.PathInContainer || m.PathOnHost;
      if (inContainer === m.PathOnHost) continue; // already there from the host's /dev
      devices.push(ociDevice(inContainer, info(m.PathOnHost)));
    }
    rules = [{ allow: true, access: 'rwm' }];
  } else {
    rules = defaultDeviceRules();
    for (const m of h.Devices ?? []) {
      const d = info(m.PathOnHost);
      devices.push(ociDevice(m.PathInContainer || m.PathOnHost, d));
      rules.push({ allow: true, type: d.type, major: d.major, minor: d.minor, access: m.CgroupPermissions || 'rwm' });
    }
    for (const r of h.DeviceCgroupRules ?? []) rules.push(parseDeviceCgroupRule(r));
  }

  // ---- sysctls ----
  const sysctl: Record<string, string> = {};
  if (c.Domainname) sysctl['kernel.domainname'] = c.Domainname; // 20.10: no OCI field then, a sysctl does it
  const nsFlags = { netHost: net.kind === 'host', ipcHost: ipc.kind === 'host', utsHost: uts.kind === 'host' };
  for (const [k, v] of Object.entries(h.Sysctls ?? {})) {
    checkSysctl(k, nsFlags);
    sysctl[k] = v;
  }
  // Unprivileged ping and low ports in a private network namespace (dockerd ≥ 20.10, kernel ≥ 4.11).
  if (net.kind !== 'host' && net.kind !== 'container' && kernelAtLeast(host.kernel, 4, 11)) {
    sysctl['net.ipv4.ip_unprivileged_port_start'] ??= '0';
    sysctl['net.ipv4.ping_group_range'] ??= '0 2147483647';
  }

  // ---- resources ----
  const resources: Resources = {
    devices: rules,
    memory: memoryResources(h),
    cpu: cpuResources(h),
    blockIO: blockIO(h, host),
  };
  // 0 and negative mean unlimited, and dockerd then writes no pids limit at all.
  if (h.PidsLimit !== undefined && h.PidsLimit !== null && h.PidsLimit > 0) resources.pids = { limit: h.PidsLimit };

  // ---- cgroups path ----
  const driver = host.cgroupDriver ?? 'cgroupfs';
  const prefix = host.cgroupScopePrefix ?? 'berth';
  const cgroupsPath =
    driver === 'systemd'
      ? `${h.CgroupParent || host.cgroupParent || 'system.slice'}:${prefix}:${id}`
      : `${(h.CgroupParent || host.cgroupParent || `/${prefix}`).replace(/\/+$/, '')}/${id}`;

  // ---- seccomp ----
  let seccomp: unknown;
  if (!privileged && sec.seccomp !== 'unconfined') {
    let profile = host.seccompProfile ?? dockerDefaultSeccompProfile;
    if (sec.seccomp !== undefined) {
      try {
        profile = JSON.parse(sec.seccomp) as DockerSeccompProfile;
      } catch (err) {
        throw new BerthError('invalid-argument', `Decoding seccomp profile failed: ${(err as Error).message}`, { object: 'SecurityOpt' });
      }
      if (typeof profile !== 'object' || profile === null || Array.isArray(profile))
        throw bad('SecurityOpt', 'Decoding seccomp profile failed: not a JSON object');
    }
    seccomp = dockerProfileToOci(profile, { arch: host.arch, capabilities: caps, kernel: host.kernel });
  }

  const linux: NonNullable<Spec['linux']> = { sysctl, resources, cgroupsPath, namespaces };
  if (devices.length > 0) linux.devices = devices;
  if (seccomp !== undefined) linux.seccomp = seccomp;
  if (!privileged) {
    const masked = h.MaskedPaths ?? DEFAULT_MASKED_PATHS;
    const ro = h.ReadonlyPaths ?? DEFAULT_READONLY_PATHS;
    if (masked.length > 0) linux.maskedPaths = [...masked];
    if (ro.length > 0) linux.readonlyPaths = [...ro];
  }

  const spec: Spec = {
    ociVersion: OCI_VERSION,
    process: proc,
    root: h.ReadonlyRootfs ? { path: input.rootfs, readonly: true } : { path: input.rootfs },
    hostname: uts.kind === 'host' ? '' : (c.Hostname ?? ''),
    mounts,
    linux,
  };
  if (spec.hostname === '') delete spec.hostname;
  return spec;
}

/** The block device paths the blkio options name (the engine stats them: `host.blockDevices`). */
export function blkioDevicePaths(h: HostConfig): string[] {
  return [h.BlkioWeightDevice, h.BlkioDeviceReadBps, h.BlkioDeviceWriteBps, h.BlkioDeviceReadIOps, h.BlkioDeviceWriteIOps].flatMap((l) =>
    (l ?? []).map((d) => d.Path ?? ''),
  );
}

/** blkio: the weight, and the per-device weights and throttles of --blkio-weight-device and --device-{read,write}-{bps,iops}. */
function blockIO(h: HostConfig, host: { blkioWeight?: boolean; blockDevices?: Record<string, { major: number; minor: number }> }) {
  const numbers = (p: string | undefined) => {
    const d = p === undefined ? undefined : host.blockDevices?.[p];
    if (!d) throw bad('HostConfig', `no device number for block device '${p ?? ''}'`);
    return d;
  };
  const throttle = (list: ThrottleDevice[] | null | undefined) => (list ?? []).map((t) => ({ ...numbers(t.Path), rate: t.Rate ?? 0 }));
  const out: NonNullable<Resources['blockIO']> = { weight: host.blkioWeight === false ? 0 : (h.BlkioWeight ?? 0) };
  // discarded with a warning at create where the host cannot weigh (create-config.ts), as dockerd
  const weightDevice =
    host.blkioWeight === false ? [] : (h.BlkioWeightDevice ?? []).map((d) => ({ ...numbers(d.Path), weight: d.Weight ?? 0 }));
  if (weightDevice.length) out.weightDevice = weightDevice;
  for (const [key, list] of [
    ['throttleReadBpsDevice', h.BlkioDeviceReadBps],
    ['throttleWriteBpsDevice', h.BlkioDeviceWriteBps],
    ['throttleReadIOPSDevice', h.BlkioDeviceReadIOps],
    ['throttleWriteIOPSDevice', h.BlkioDeviceWriteIOps],
  ] as const) {
    const devices = throttle(list);
    if (devices.length) out[key] = devices;
  }
  return out;
}
