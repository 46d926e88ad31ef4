/**
 * A container as the engine keeps it: one JSON record per container in metadata.db (store.ts),
 * in the shape `docker inspect` shows, plus what the engine needs to find the container's parts
 * again after a restart (its snapshot key, its shim state dir, its runtime). Pure.
 *
 * The state machine (Docker's): created → running ⇄ paused; running → restarting → running;
 * running → exited; any → removing → (gone); `dead` when removal failed half-way.
 */
import type { CreateConfig, HostConfig } from '../spec/create-config.js';
import type { InspectMount, VolumeMount } from '../volumes/index.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface HealthLog {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy' | 'none';
  FailingStreak: number;
  Log: HealthLog[];
}

export interface ContainerState {
  Status: ContainerStatus;
  Pid: number;
  ExitCode: number;
  Error: string;
  OOMKilled: boolean;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

/** One entry of inspect's `Mounts` (src/engine/volumes/ computes them). */
export type MountInfo = InspectMount;

export interface ContainerRecord {
  Id: string;
  /** Without the leading '/'. */
  Name: string;
  /** RFC3339Nano. */
  Created: string;
  Path: string;
  Args: string[];
  /** sha256:<config digest> */
  Image: string;
  /** The reference the client gave (`Config.Image` too). */
  ImageRef: string;
  Config: CreateConfig;
  HostConfig: HostConfig;
  State: ContainerState;
  RestartCount: number;
  /** The restart policy's manager stopped it on purpose (`docker stop`): no restart, and not at daemon start. */
  ManualStop: boolean;
  Mounts: MountInfo[];
  /** The resolved -v/--mount/image VOLUME mounts (src/engine/volumes/), for start, stop and `rm -v`. */
  VolumeMounts?: VolumeMount[];
  /** The OCI runtime: 'berth' (berth-nsinit through the shim) or a registered runtime's name. */
  Runtime: string;
  /** The rootfs snapshot's key in the image service's snapshotter. */
  SnapshotKey: string;
  /** Network settings are another issue's; kept as sent for inspect. */
  NetworkingConfig?: unknown;
  /** Incremented by each start: the shim state dir of one run is `<exec-root>/containers/<id>`. */
  Generation: number;
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** Go's time.RFC3339Nano of `ms` (+ optional extra nanoseconds), UTC. */
export function rfc3339Nano(date: Date = new Date(), extraNs = 0): string {
  const iso = date.toISOString(); // 2026-12-06T05:00:00.123Z
  const ns = (date.getUTCMilliseconds() * 1_000_000 + extraNs).toString().padStart(9, '0').replace(/0+$/, '');
  return `${iso.slice(0, 19)}${ns ? `.${ns}` : ''}Z`;
}

/** Docker's `Status` column: `Up 3 seconds`, `Exited (0) 2 minutes ago`, `Created`. */
export function humanStatus(s: ContainerState, now = Date.now()): string {
  switch (s.Status) {
    case 'created':
      return 'Created';
    case 'running':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${healthSuffix(s)}`;
    case 'paused':
      return `Up ${humanDuration(now - Date.parse(s.StartedAt))} (Paused)`;
    case 'restarting':
      return `Restarting (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'exited':
      return s.FinishedAt === ZERO_TIME ? 'Created' : `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
  }
}

function healthSuffix(s: ContainerState): string {
  const h = s.Health?.Status;
  if (!h || h === 'none') return '';
  return h === 'starting' ? ' (health: starting)' : ` (${h})`;
}

/** go-units HumanDuration, as the docker CLI prints it. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(seconds / 3600);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

export const isActive = (s: ContainerStatus) => s === 'running' || s === 'paused' || s === 'restarting';
