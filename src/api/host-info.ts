/**
 * The host's part of `/version` and `/info`: kernel, OS, CPUs, memory, cgroup layout, and the
 * capability booleans (each false one makes the 20.10 CLI print a `WARNING: No … support` line).
 * The engine adds its own facts (counts, root dir, driver) over these.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { API_VERSION, MIN_API_VERSION } from './types.js';
import { BERTH_COMMIT_STRING, BERTH_VERSION_STRING } from './version.js';

const GO_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** Go's GOARCH name for this machine (what `docker version` prints as Arch). */
export function goArch(nodeArch: string = os.arch()): string {
  return GO_ARCH[nodeArch] ?? nodeArch;
}

/** `/etc/os-release` as key/value pairs (quotes removed); empty when missing. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2] as string;
    if (/^(["']).*\1$/.test(v)) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    out[m[1] as string] = v;
  }
  return out;
}

function osRelease(): Record<string, string> {
  for (const f of ['/etc/os-release', '/usr/lib/os-release']) {
    try {
      return parseOsRelease(readFileSync(f, 'utf8'));
    } catch {}
  }
  return {};
}

/** `2` on a unified (pure v2) hierarchy, else `1` (v1 or hybrid, as dockerd reports it). */
export function cgroupVersion(root = '/sys/fs/cgroup'): '1' | '2' {
  return existsSync(`${root}/cgroup.controllers`) ? '2' : '1';
}

export function versionInfo(): Record<string, unknown> {
  const details = {
    ApiVersion: API_VERSION,
    Arch: goArch(),
    BuildTime: '',
    Experimental: 'false',
    GitCommit: BERTH_COMMIT_STRING,
    GoVersion: `node${process.versions.node}`,
    KernelVersion: os.release(),
    MinAPIVersion: MIN_API_VERSION,
    Os: 'linux',
  };
  return {
    Platform: { Name: 'Berth' },
    Components: [{ Name: 'Engine', Version: BERTH_VERSION_STRING, Details: details }],
    Version: BERTH_VERSION_STRING,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: BERTH_COMMIT_STRING,
    GoVersion: details.GoVersion,
    Os: 'linux',
    Arch: details.Arch,
    KernelVersion: details.KernelVersion,
    BuildTime: '',
  };
}

/** `/info` with the host's facts and neutral engine values; the engine overrides what it knows. */
export function hostInfo(): Record<string, unknown> {
  const rel = osRelease();
  const cgv = cgroupVersion();
  return {
    ID: '',
    Containers: 0,
    ContainersRunning: 0,
    ContainersPaused: 0,
    ContainersStopped: 0,
    Images: 0,
    Driver: 'overlay2',
    DriverStatus: [],
    Plugins: { Volume: ['local'], Network: ['host', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true,
    SwapLimit: true,
    KernelMemory: true,
    KernelMemoryTCP: true,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    IPv4Forwarding: true,
    BridgeNfIptables: true,
    BridgeNfIp6tables: true,
    Debug: false,
    NFd: 0,
    OomKillDisable: true,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'json-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgv,
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: rel.PRETTY_NAME ?? 'Linux',
    OSVersion: rel.VERSION_ID ?? '',
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      AllowNondistributableArtifactsCIDRs: [],
      AllowNondistributableArtifactsHostnames: [],
      InsecureRegistryCIDRs: ['127.0.0.0/8'],
      IndexConfigs: { 'docker.io': { Name: 'docker.io', Mirrors: [], Secure: true, Official: true } },
      Mirrors: [],
    },
    NCPU: os.availableParallelism(),
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: '/var/lib/berth',
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '',
    HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '',
    NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: os.hostname(),
    Labels: [],
    ExperimentalBuild: false,
    ServerVersion: BERTH_VERSION_STRING,
    Runtimes: { berth: { path: 'berth-runtime' } },
    DefaultRuntime: 'berth',
    Swarm: {
      NodeID: '',
      NodeAddr: '',
      LocalNodeState: 'inactive',
      ControlAvailable: false,
      Error: '',
      RemoteManagers: null,
    },
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: { ID: '', Expected: '' },
    RuncCommit: { ID: BERTH_COMMIT_STRING, Expected: BERTH_COMMIT_STRING },
    InitCommit: { ID: '', Expected: '' },
    SecurityOptions: ['name=seccomp,profile=default', ...(cgv === '2' ? ['name=cgroupns'] : [])],
    Warnings: null,
  };
}
