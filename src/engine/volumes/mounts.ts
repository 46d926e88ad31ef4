/**
 * The volume side of container creation: the mount points of `-v`/`--mount` (binds.ts) and the
 * image's VOLUMEs become volumes, OCI mounts and the `Mounts` of `docker inspect`, as dockerd's
 * registerMountPoints and createContainerOSSpecificSettings make them.
 *
 * Two moments, as in dockerd:
 * - resolveVolumeMounts, at create: named volumes are created if missing, every image VOLUME
 *   not covered by a mount point or a --tmpfs gets a new anonymous volume. The result is plain
 *   data (VolumeMount[]) that the engine keeps with the container record.
 * - attachVolumes / detachVolumes, at start / when the container stops: the volumes are held
 *   (a tmpfs volume is mounted on the host by its first user), copied up from the image when
 *   empty, and `mount` / `unmount` events are published.
 * prepareVolumeMounts does both for a caller that creates and starts at once.
 */
import { closeSync, constants, openSync } from 'node:fs';
import path from 'node:path';
import { BerthError, errnoCode } from '../../common/errors.js';
import { openat2, Resolve } from '../../native/addon.js';
import type { Mount as OciMount } from '../../oci/spec.js';
import type { EventBus } from '../events.js';
import { bindMount, type MountPoint, specMounts } from '../spec/binds.js';
import { cleanPath } from '../spec/merge.js';
import { copyUp, wantsCopy } from './copy-up.js';
import { LOCAL_DRIVER } from './names.js';
import type { VolumeStore } from './store.js';

/** One mount of a container, resolved: what the engine stores with the container. */
export interface VolumeMount {
  type: 'volume' | 'bind' | 'tmpfs';
  /** The volume's name ('' for binds and tmpfs). */
  name: string;
  /** Host path as inspect shows it: the volume's `_data`, the bind's source, '' for tmpfs. */
  source: string;
  destination: string;
  /** 'local' for volumes, '' otherwise. */
  driver: string;
  mode: string;
  rw: boolean;
  propagation: string;
  nonRecursive: boolean;
  /** Copy the image's content into the volume when it is empty (not `nocopy`). */
  copyData: boolean;
  /** Created for this container without a name (`-v /path`, image VOLUMEs): `rm -v` removes it. */
  anonymous: boolean;
  /** tmpfs mounts: the data options. */
  tmpfsData?: string;
}

/** One entry of `docker inspect`'s `Mounts` (types.MountPoint, in its key order). */
export interface InspectMount {
  Type: 'volume' | 'bind' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ResolveInput {
  /** From mountPoints(HostConfig.Binds, HostConfig.Mounts, …). */
  points: readonly MountPoint[];
  /** Config.Volumes after the merge with the image's (mergeConfig). */
  volumes?: Readonly<Record<string, unknown>> | null;
  /** HostConfig.Tmpfs: a --tmpfs destination takes the place of an image VOLUME. */
  tmpfs?: Readonly<Record<string, string>> | null;
  /** HostConfig.VolumeDriver ('' is local). */
  volumeDriver?: string;
  /** A host view of the container's rootfs, to refuse a VOLUME over a file (optional). */
  rootfs?: string;
}

/**
 * A host view of the container's rootfs for copy-up: a directory, or a function that mounts
 * one for the duration of `use` (called only when some volume needs copying).
 */
export type RootfsView = string | ((use: (dir: string) => Promise<void>) => Promise<void>);

const depth = (p: string) => (p === '/' ? 0 : p.split('/').length);
/** Parents before children (dockerd's sortMounts), then by path for a stable order. */
function byDepth(a: { destination: string }, b: { destination: string }): number {
  return depth(a.destination) - depth(b.destination) || (a.destination < b.destination ? -1 : a.destination > b.destination ? 1 : 0);
}

/** The kind of `<rootfs>/<dest>` resolved inside the rootfs: 'dir', 'other' or 'absent'. */
function kindInRoot(rootfs: string, dest: string): 'dir' | 'other' | 'absent' {
  const rootFd = openSync(rootfs, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    closeSync(
      openat2(rootFd, dest.replace(/^\/+/, '') || '.', constants.O_RDONLY | constants.O_DIRECTORY, Resolve.IN_ROOT | Resolve.NO_MAGICLINKS),
    );
    return 'dir';
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return 'absent';
    if (errnoCode(err) === 'ENOTDIR') return 'other';
    throw err;
  } finally {
    closeSync(rootFd);
  }
}

/**
 * Creates the volumes a new container needs and returns its mounts as data. On failure, the
 * anonymous volumes this call created are removed again.
 */
export function resolveVolumeMounts(store: VolumeStore, input: ResolveInput): VolumeMount[] {
  const out: VolumeMount[] = [];
  const driver = input.volumeDriver || LOCAL_DRIVER;
  const created: string[] = [];
  const make = (name: string): string => {
    const r = store.create({ name, driver });
    if (r.created && !name) created.push(r.volume.name);
    return r.volume.name;
  };
  try {
    for (const mp of input.points) {
      if (mp.type === 'volume') {
        const name = make(mp.source);
        out.push({
          type: 'volume',
          name,
          source: store.dataPath(name),
          destination: mp.destination,
          driver,
          // dockerd's setBindModeIfNull: a local volume given by -v or --mount shows "z"
          mode: mp.mode || 'z',
          rw: !mp.readOnly,
          propagation: '',
          nonRecursive: mp.nonRecursive,
          copyData: !mp.noCopy,
          anonymous: mp.source === '',
        });
      } else {
        out.push({
          type: mp.type,
          name: '',
          source: mp.source,
          destination: mp.destination,
          driver: '',
          mode: mp.mode,
          rw: !mp.readOnly,
          propagation: mp.propagation,
          nonRecursive: mp.nonRecursive,
          copyData: false,
          anonymous: false,
          ...(mp.tmpfsData !== undefined ? { tmpfsData: mp.tmpfsData } : {}),
        });
      }
    }
    const taken = new Set([...out.map((m) => m.destination), ...Object.keys(input.tmpfs ?? {}).map(cleanPath)]);
    for (const spec of Object.keys(input.volumes ?? {}).sort()) {
      const destination = cleanPath(spec);
      if (taken.has(destination)) continue;
      taken.add(destination);
      if (input.rootfs && kindInRoot(input.rootfs, destination) === 'other') {
        throw new BerthError(
          'invalid-argument',
          `cannot mount volume over existing file, file exists ${path.join(input.rootfs, destination)}`,
          { object: destination },
        );
      }
      const name = make('');
      out.push({
        type: 'volume',
        name,
        source: store.dataPath(name),
        destination,
        driver,
        mode: '',
        rw: true,
        propagation: '',
        nonRecursive: false,
        copyData: true,
        anonymous: true,
      });
    }
  } catch (err) {
    for (const name of created) void store.remove(name, { force: true }).catch(() => {});
    throw err;
  }
  return out.sort(byDepth);
}

/** `docker inspect`'s Mounts. */
export function inspectMounts(mounts: readonly VolumeMount[]): InspectMount[] {
  return mounts.map((m) =>
    m.type === 'volume'
      ? {
          Type: m.type,
          Name: m.name,
          Source: m.source,
          Destination: m.destination,
          Driver: m.driver,
          Mode: m.mode,
          RW: m.rw,
          Propagation: m.propagation,
        }
      : { Type: m.type, Source: m.source, Destination: m.destination, Mode: m.mode, RW: m.rw, Propagation: m.propagation },
  );
}

/** The OCI mounts (for buildSpec's extraMounts), parents first. */
export function ociMounts(store: VolumeStore, mounts: readonly VolumeMount[]): OciMount[] {
  return mounts.map((m) => {
    const mp: MountPoint = {
      type: m.type,
      source: m.source,
      destination: m.destination,
      readOnly: !m.rw,
      propagation: m.propagation,
      nonRecursive: m.nonRecursive,
      mode: m.mode,
      noCopy: !m.copyData,
      ...(m.tmpfsData !== undefined ? { tmpfsData: m.tmpfsData } : {}),
    };
    if (m.type !== 'volume') return specMounts([mp], () => m.source)[0]!;
    const src = store.source(m.name);
    return bindMount({ ...mp, readOnly: mp.readOnly || src.readOnly, nonRecursive: mp.nonRecursive || !src.recursive }, src.path);
  });
}

async function withRootfs(view: RootfsView, use: (dir: string) => Promise<void>): Promise<void> {
  if (typeof view === 'string') await use(view);
  else await view(use);
}

/**
 * Container `containerId` starts: holds its volumes (a tmpfs volume's first user mounts it),
 * copies the image's content into empty ones, publishes `mount` events. On failure, what it
 * held is released.
 */
export async function attachVolumes(
  store: VolumeStore,
  events: EventBus | undefined,
  containerId: string,
  mounts: readonly VolumeMount[],
  rootfs?: RootfsView,
): Promise<void> {
  const volumes = mounts.filter((m) => m.type === 'volume');
  const held: string[] = [];
  try {
    const copies: { m: VolumeMount; target: string }[] = [];
    for (const m of volumes) {
      const src = store.acquire(m.name, containerId);
      held.push(m.name);
      if (m.copyData && rootfs !== undefined && wantsCopy(src.path, store.copyMarker(m.name))) copies.push({ m, target: src.path });
    }
    if (copies.length > 0) {
      await withRootfs(rootfs!, async (dir) => {
        for (const { m, target } of copies) await copyUp(dir, m.destination, target, store.copyMarker(m.name));
      });
    }
  } catch (err) {
    for (const name of held) store.release(name, containerId);
    throw err;
  }
  for (const m of volumes) {
    events?.publish('volume', 'mount', m.name, {
      container: containerId,
      destination: m.destination,
      driver: m.driver,
      propagation: m.propagation,
      'read/write': String(m.rw),
    });
  }
}

/** Container `containerId` stopped: releases its volumes (the last user unmounts a tmpfs one). */
export function detachVolumes(store: VolumeStore, events: EventBus | undefined, containerId: string, mounts: readonly VolumeMount[]): void {
  for (const m of mounts) {
    if (m.type !== 'volume') continue;
    store.release(m.name, containerId);
    events?.publish('volume', 'unmount', m.name, { container: containerId, driver: m.driver });
  }
}

export interface PreparedMounts {
  /** Keep with the container record (for start, stop, inspect and `rm -v`). */
  mounts: VolumeMount[];
  /** OCI mounts for the spec. */
  spec: OciMount[];
  /** docker inspect's Mounts. */
  inspect: InspectMount[];
}

/**
 * resolveVolumeMounts then attachVolumes: the volumes are created, held by `containerId` and
 * copied up from `rootfs`; the OCI mounts and inspect Mounts come back with the resolved list.
 */
export async function prepareVolumeMounts(
  store: VolumeStore,
  events: EventBus | undefined,
  input: ResolveInput & { containerId: string; rootfsView?: RootfsView },
): Promise<PreparedMounts> {
  const mounts = resolveVolumeMounts(store, input);
  await attachVolumes(store, events, input.containerId, mounts, input.rootfsView ?? input.rootfs);
  return { mounts, spec: ociMounts(store, mounts), inspect: inspectMounts(mounts) };
}

/**
 * `docker rm -v`: removes the anonymous volumes of a removed container (never named ones), as
 * dockerd's removeMountPoints; one still used by another container is kept silently. `users`
 * are the engine's users of a volume (the removed container excluded). Returns the errors.
 */
export async function removeAnonymousVolumes(
  store: VolumeStore,
  mounts: readonly VolumeMount[],
  users: (name: string) => readonly string[],
): Promise<string[]> {
  const errors: string[] = [];
  for (const m of mounts) {
    if (m.type !== 'volume' || !m.anonymous) continue;
    try {
      await store.remove(m.name, { force: true, users: users(m.name) });
    } catch (err) {
      if (!(err instanceof BerthError && err.kind === 'failed-precondition')) errors.push((err as Error).message);
    }
  }
  return errors;
}
