/**
 * `POST /containers/create`: decode and check the body (dockerd's texts), merge it with the
 * image's config, take a rootfs snapshot on the image's layers, write the container's files,
 * then insert the record — the commit point. A failure before the insert removes what was made;
 * a crash before it leaves a snapshot and a directory no record names, which the start-up sweep
 * (restore.ts) removes.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { BerthError, fromErrno } from '../../common/errors.js';
import { secureRandomHex } from '../../common/fs.js';
import { GC_ROOT_LABEL } from '../../images/gc.js';
import { warmOwnCgroupLock } from '../../runtime/cgroups/warm.js';
import { crashPoint } from '../crash.js';
import type { Engine } from '../engine.js';
import { lookupImage } from '../image-lookup.js';
import {
  type CreateRequest,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  decodeCreateBody,
  mergeConfig,
  mountPoints,
  processOf,
  validateCreate,
} from '../spec/index.js';
import { inspectMounts, removeAnonymousVolumes, resolveVolumeMounts, type VolumeMount } from '../volumes/index.js';
import { hostnameFile, hostsFile, resolvConf } from './files.js';
import { generateName, validateName } from './names.js';
import { type ContainerRecord, type MountInfo, rfc3339Nano, ZERO_TIME } from './record.js';

export interface CreateResult {
  Id: string;
  Warnings: string[];
}

export const SNAPSHOT_PREFIX = 'container-';

export async function createContainer(engine: Engine, body: unknown, name?: string): Promise<CreateResult> {
  const req = decodeCreateBody(body);
  const id = secureRandomHex(32);
  // The name is taken at once (synchronously), not at the insert: two creates racing for one
  // name — or two generated names colliding — must not both get past this line.
  const finalName = name ? validateName(name) : generateName((n) => engine.containers.nameOwner(n) !== undefined);
  const releaseName = engine.containers.reserveName(finalName, id);
  try {
    return await createWithName(engine, req, id, finalName);
  } finally {
    releaseName();
  }
}

async function createWithName(engine: Engine, req: CreateRequest, id: string, finalName: string): Promise<CreateResult> {
  const imageRef = req.config.Image ?? '';
  if (!imageRef) throw new BerthError('invalid-argument', 'Config cannot be empty in order to create a container', { object: 'Image' });
  const warnings = validateCreate(req, engine.host.facts);
  checkEngineSupport(engine, req);
  const { image, resolved } = await lookupImage(engine.images, imageRef);
  // `docker run` starts it next: the kernel's cgroup lock is warm by then (runtime/cgroups/warm.ts),
  // and the shim spawner's warm child with its berth-nsinit is ready (shim/spawner.ts)
  warmOwnCgroupLock(engine.cgroupLayout());
  engine.shimSpawner().warm();

  const config = mergeConfig({ image: resolved.config.config, request: req.config, id });
  config.Image = imageRef;
  // dockerd shows an empty Volumes (the CLI always sends `{}`) as null
  if (config.Volumes && Object.keys(config.Volumes).length === 0) config.Volumes = null;
  const { path: procPath, args } = processOf(config);

  const dir = engine.containerDir(id);
  const key = `${SNAPSHOT_PREFIX}${id}`;
  let snapshotMade = false;
  let resolved_: { mounts: VolumeMount[]; inspect: MountInfo[] } | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o710 });
    mkdirSync(`${dir}/rootfs`, { mode: 0o755 });
    // A GC root from its first moment: the record (what the daemon's GC roots list) is inserted
    // only later, and a collection started meanwhile by another container's removal would
    // otherwise delete this snapshot under the container being created (found by
    // test/berthd-load.test.ts: `start` then failed with "mount overlay …: no such file or
    // directory"). A crash before the insert leaves it to the start-up sweep (restore.ts).
    // The snapshot's directory fsync runs on the thread pool while the files are written here.
    const snapshot = engine.images
      .rootfs(image.name, key, { labels: { 'berth.container': id, [GC_ROOT_LABEL]: 'container' }, resolved })
      .then(() => {
        snapshotMade = true;
      });
    try {
      writeContainerFiles(engine, dir, config.Hostname ?? id.slice(0, 12), req);
      resolved_ = resolveMounts(engine, req, config.Volumes);
      // (a kill here leaves the snapshot half made: the start-up sweep's)
      crashPoint('create:files');
    } finally {
      // settled, made or not, before the clean-up below looks at it
      await snapshot.catch(() => {});
    }
    await snapshot;
    crashPoint('create:snapshot');
    const rec: ContainerRecord = {
      Id: id,
      Name: finalName,
      Created: rfc3339Nano(),
      Path: procPath,
      Args: args,
      Image: resolved.id,
      ImageRef: imageRef,
      Config: config,
      HostConfig: normalizeHostConfig(engine, req),
      State: { Status: 'created', Pid: 0, ExitCode: 0, Error: '', OOMKilled: false, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME },
      RestartCount: 0,
      ManualStop: false,
      Mounts: resolved_.inspect,
      VolumeMounts: resolved_.mounts,
      Runtime: req.hostConfig.Runtime || engine.options.defaultRuntime,
      SnapshotKey: key,
      Generation: 0,
    };
    if (req.networkingConfig !== undefined) rec.NetworkingConfig = req.networkingConfig;
    if (config.Healthcheck?.Test?.length && config.Healthcheck.Test[0] !== 'NONE')
      rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    engine.containers.insert(rec);
    crashPoint('create:inserted');
    engine.publish(rec, 'create');
    return { Id: id, Warnings: warnings };
  } catch (err) {
    if (snapshotMade) await engine.images.snapshotter.remove(key).catch(() => {});
    if (resolved_ && engine.volumes) await removeAnonymousVolumes(engine.volumes, resolved_.mounts, () => []).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** What the engine cannot do yet, refused before anything is made (networking is another issue's). */
function checkEngineSupport(engine: Engine, req: CreateRequest): void {
  const h = req.hostConfig;
  const ports = Object.keys(h.PortBindings ?? {}).length > 0 || h.PublishAllPorts;
  if (ports)
    throw new BerthError(
      'invalid-argument',
      'publishing ports (-p, -P) needs container networking, which this Berth does not have yet: use --network host, or none',
      { object: 'PortBindings' },
    );
  const mode = h.NetworkMode ?? '';
  if (mode !== '' && mode !== 'default' && mode !== 'none' && mode !== 'host' && mode !== 'bridge' && !mode.startsWith('container:'))
    throw new BerthError('not-found', `network ${mode} not found`, { object: mode });
  const runtime = h.Runtime || engine.options.defaultRuntime;
  if (runtime !== 'berth' && !engine.options.runtimes[runtime])
    throw new BerthError('invalid-argument', `Unknown runtime specified ${runtime}`, { object: 'Runtime' });
  const driver = h.LogConfig?.Type ?? '';
  if (driver !== '' && driver !== 'json-file' && driver !== 'none')
    throw new BerthError('invalid-argument', `logger: no log driver named '${driver}' is registered`, { object: 'LogConfig' });
}

/** What inspect shows for HostConfig: the request's, with dockerd's defaults filled in. */
function normalizeHostConfig(engine: Engine, req: CreateRequest) {
  const h = { ...req.hostConfig };
  h.NetworkMode ||= 'default';
  h.Runtime ||= engine.options.defaultRuntime;
  h.LogConfig = {
    Type: h.LogConfig?.Type || engine.options.log.driver,
    Config: h.LogConfig?.Config ?? {},
  };
  h.RestartPolicy = { Name: h.RestartPolicy?.Name ?? '', MaximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0 };
  h.ShmSize ||= 64 * 1024 * 1024;
  // daemon_unix.go adaptContainerSettings: swap defaults to twice the memory limit
  if ((h.Memory ?? 0) > 0 && !h.MemorySwap) h.MemorySwap = (h.Memory ?? 0) * 2;
  // verifyPlatformContainerResources: a limit of 0 or less is "unlimited", stored as null
  if (h.PidsLimit !== undefined && h.PidsLimit !== null && h.PidsLimit <= 0) h.PidsLimit = null;
  // -1 (what the CLI sends) means "the kernel's default", stored as null
  if (h.MemorySwappiness === -1) h.MemorySwappiness = null;
  // create.go / daemon_unix.go: the daemon's defaults are written into the record, so inspect
  // shows the modes and paths in effect (the spec code reads the same values)
  h.IpcMode ||= 'private';
  // the mode start.ts gives (no private cgroup namespace unless asked; dockerd's on cgroup v1)
  h.CgroupnsMode ||= 'host';
  if (!h.Privileged) {
    h.MaskedPaths ??= [...DEFAULT_MASKED_PATHS];
    h.ReadonlyPaths ??= [...DEFAULT_READONLY_PATHS];
  }
  return h;
}

/**
 * -v, --mount and the image's VOLUMEs as moby resolves them: named and anonymous volumes are
 * created now (src/engine/volumes/), binds and tmpfs kept as data; inspect's Mounts from them.
 */
function resolveMounts(
  engine: Engine,
  req: CreateRequest,
  volumes: Record<string, object> | null | undefined,
): { mounts: VolumeMount[]; inspect: MountInfo[] } {
  const points = mountPoints(req.hostConfig.Binds ?? [], req.hostConfig.Mounts ?? [], (p) => existsSync(p));
  const store = engine.volumes;
  if (!store) {
    if (points.some((p) => p.type === 'volume') || Object.keys(volumes ?? {}).length)
      throw new BerthError('not-implemented', 'volumes are not available in this engine', { object: 'Volumes' });
    return { mounts: [], inspect: [] };
  }
  const mounts = resolveVolumeMounts(store, {
    points,
    volumes: volumes ?? null,
    tmpfs: req.hostConfig.Tmpfs ?? null,
    volumeDriver: req.hostConfig.VolumeDriver ?? '',
  });
  return { mounts, inspect: inspectMounts(mounts) };
}

function writeContainerFiles(engine: Engine, dir: string, hostname: string, req: CreateRequest): void {
  const h = req.hostConfig;
  const hostNetwork = h.NetworkMode === 'host';
  const readHost = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  // Written in place, not through a temporary name: the directory is this create's own (made
  // just now), and a create that dies here leaves no row, so nothing ever reads a torn file.
  const write = (name: string, text: string) => writeFileSync(`${dir}/${name}`, text, { flag: 'wx', mode: 0o644 });
  try {
    write('hostname', hostnameFile(hostNetwork ? readHost('/etc/hostname').trim() || hostname : hostname));
    // the host's /etc/hosts only for the host's network (else ours: files.ts)
    write(
      'hosts',
      hostsFile({ extraHosts: h.ExtraHosts ?? [], hostNetwork, ...(hostNetwork ? { hostHosts: readHost('/etc/hosts') } : {}) }),
    );
    write(
      'resolv.conf',
      resolvConf(readHost('/etc/resolv.conf'), { dns: h.Dns ?? [], search: h.DnsSearch ?? [], options: h.DnsOptions ?? [], hostNetwork }),
    );
  } catch (err) {
    throw fromErrno('write container files', dir, err);
  }
  void engine;
}
