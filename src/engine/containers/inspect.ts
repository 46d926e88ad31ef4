/**
 * What `GET /containers/{id}/json` and `GET /containers/json` answer, from a record. Pure.
 * Shapes as dockerd 20.10 sends them (engine-api.md §A5.7, §A5.14): clients read `Config.Tty`
 * to choose how to read streams, `State.Running`, `Name` with its '/', times in RFC3339Nano.
 */
import type { ContainerRecord } from './record.js';
import { humanStatus, ZERO_TIME } from './record.js';

export interface InspectContext {
  logPath: string;
  hostnamePath: string;
  hostsPath: string;
  resolvConfPath: string;
  /** The rootfs snapshot's directories, for GraphDriver.Data. */
  graphData?: Record<string, string>;
  driver: string;
  sizeRw?: number;
  sizeRootFs?: number;
}

export function inspectContainer(rec: ContainerRecord, ctx: InspectContext): Record<string, unknown> {
  const s = rec.State;
  const out: Record<string, unknown> = {
    Id: rec.Id,
    Created: rec.Created,
    Path: rec.Path,
    Args: rec.Args,
    State: {
      Status: s.Status,
      Running: s.Status === 'running' || s.Status === 'paused' || s.Status === 'restarting',
      Paused: s.Status === 'paused',
      Restarting: s.Status === 'restarting',
      OOMKilled: s.OOMKilled,
      Dead: s.Status === 'dead',
      Pid: s.Pid,
      ExitCode: s.ExitCode,
      Error: s.Error,
      StartedAt: s.StartedAt,
      FinishedAt: s.FinishedAt,
      ...(s.Health ? { Health: s.Health } : {}),
    },
    Image: rec.Image,
    ResolvConfPath: ctx.resolvConfPath,
    HostnamePath: ctx.hostnamePath,
    HostsPath: ctx.hostsPath,
    LogPath: rec.HostConfig.LogConfig?.Type === 'none' ? '' : ctx.logPath,
    Name: `/${rec.Name}`,
    RestartCount: rec.RestartCount,
    Driver: ctx.driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: rec.HostConfig,
    GraphDriver: { Name: ctx.driver, Data: ctx.graphData ?? null },
    // where dockerd's ContainerJSONBase has them (size=1 only): `docker inspect -s` shows the order
    ...(ctx.sizeRw !== undefined ? { SizeRw: ctx.sizeRw } : {}),
    ...(ctx.sizeRootFs !== undefined ? { SizeRootFs: ctx.sizeRootFs } : {}),
    Mounts: rec.Mounts,
    Config: {
      ...rec.Config,
      AttachStdin: rec.Config.AttachStdin ?? false,
      Tty: rec.Config.Tty ?? false,
      OpenStdin: rec.Config.OpenStdin ?? false,
    },
    NetworkSettings: networkSettings(rec),
  };
  return out;
}

function networkSettings(rec: ContainerRecord): Record<string, unknown> {
  const mode = rec.HostConfig.NetworkMode ?? 'default';
  const name = mode === 'default' ? 'none' : mode;
  return {
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: {},
    SandboxKey: rec.State.Pid ? `/proc/${rec.State.Pid}/ns/net` : '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: '',
    Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    MacAddress: '',
    Networks: {
      [name]: {
        IPAMConfig: null,
        Links: null,
        Aliases: null,
        NetworkID: '',
        EndpointID: '',
        Gateway: '',
        IPAddress: '',
        IPPrefixLen: 0,
        IPv6Gateway: '',
        GlobalIPv6Address: '',
        GlobalIPv6PrefixLen: 0,
        MacAddress: '',
        DriverOpts: null,
      },
    },
  };
}

/** One item of `GET /containers/json`. */
export function listItem(rec: ContainerRecord, now = Date.now()): Record<string, unknown> {
  // moby daemon/list.go: an argument with a space is put in single quotes (nothing else is escaped)
  const cmd = [rec.Path, ...rec.Args.map((a) => (a.includes(' ') ? `'${a}'` : a))].join(' ');
  const mode = rec.HostConfig.NetworkMode ?? 'default';
  return {
    Id: rec.Id,
    Names: [`/${rec.Name}`],
    Image: rec.ImageRef,
    ImageID: rec.Image,
    Command: cmd,
    Created: Math.floor(Date.parse(rec.Created) / 1000),
    Ports: [],
    Labels: rec.Config.Labels ?? {},
    State: rec.State.Status,
    Status: humanStatus(rec.State, now),
    HostConfig: { NetworkMode: mode },
    NetworkSettings: { Networks: (networkSettings(rec).Networks as Record<string, unknown>) ?? {} },
    Mounts: rec.Mounts.map((m) => ({ ...m })),
  };
}

export { ZERO_TIME };
