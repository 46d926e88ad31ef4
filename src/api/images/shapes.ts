/**
 * The image answers of the Engine API, in dockerd 20.10's shapes (engine-api.md §A5.8, §A5.14):
 * `GET /images/json` items, `GET /images/{name}/json` and `/history`. Pure: the caller gathers
 * the image (rows and resolved config), its layer sizes and its names.
 */
import type { ContainerConfig, ImageConfig } from '../../oci/image.js';

/** Go's zero time, as dockerd prints a time it does not have. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
/** time.Time{}.Unix() */
export const ZERO_UNIX = -62135596800;

export interface ImageFacts {
  id: string;
  config: ImageConfig;
  repoTags: string[];
  repoDigests: string[];
  /** uncompressed size of each layer, bottom first */
  layerSizes: number[];
  /** the last `docker tag` onto this image, when there was one */
  lastTagTime?: Date;
  /** the storage driver's name and data for GraphDriver */
  graphDriver: { Name: string; Data: Record<string, string> | null };
}

export function createdUnix(config: ImageConfig): number {
  const t = config.created ? Date.parse(config.created) : Number.NaN;
  return Number.isNaN(t) ? ZERO_UNIX : Math.floor(t / 1000);
}

export const totalSize = (f: Pick<ImageFacts, 'layerSizes'>) => f.layerSizes.reduce((a, b) => a + b, 0);

/** One `GET /images/json` item (§A5.8); untagged images show as `<none>` like dockerd's. */
export function listItem(f: ImageFacts): Record<string, unknown> {
  const size = totalSize(f);
  const untagged = f.repoTags.length === 0 && f.repoDigests.length === 0;
  return {
    Containers: -1,
    Created: createdUnix(f.config),
    Id: f.id,
    Labels: f.config.config?.Labels ?? null,
    ParentId: '',
    RepoDigests: untagged ? ['<none>@<none>'] : f.repoDigests.length ? f.repoDigests : null,
    RepoTags: untagged ? ['<none>:<none>'] : f.repoTags.length ? f.repoTags : null,
    SharedSize: -1,
    Size: size,
    VirtualSize: size,
  };
}

/** A container config in Go's field order, every non-omitempty field present (docker inspect's Config). */
export function dockerContainerConfig(c: ContainerConfig | undefined, image = ''): Record<string, unknown> {
  const cfg = c ?? {};
  const out: Record<string, unknown> = {
    Hostname: '',
    Domainname: '',
    User: cfg.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
  };
  if (cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length) out.ExposedPorts = cfg.ExposedPorts;
  Object.assign(out, { Tty: false, OpenStdin: false, StdinOnce: false, Env: cfg.Env ?? null, Cmd: cfg.Cmd ?? null });
  if (cfg.Healthcheck) out.Healthcheck = cfg.Healthcheck;
  if (cfg.ArgsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: image,
    Volumes: cfg.Volumes ?? null,
    WorkingDir: cfg.WorkingDir ?? '',
    Entrypoint: cfg.Entrypoint ?? null,
    OnBuild: cfg.OnBuild ?? null,
    Labels: cfg.Labels ?? null,
  });
  if (cfg.StopSignal) out.StopSignal = cfg.StopSignal;
  if (cfg.Shell?.length) out.Shell = cfg.Shell;
  return out;
}

/** `GET /images/{name}/json` (§A5.14), keys in dockerd's order. */
export function inspectImage(f: ImageFacts): Record<string, unknown> {
  const c = f.config;
  const size = totalSize(f);
  const out: Record<string, unknown> = {
    Id: f.id,
    RepoTags: f.repoTags,
    RepoDigests: f.repoDigests,
    Parent: '',
    Comment: (c as { comment?: string }).comment ?? '',
    Created: c.created ?? ZERO_TIME,
    Container: c.container ?? '',
    ContainerConfig: dockerContainerConfig(c.container_config),
    DockerVersion: c.docker_version ?? '',
    Author: c.author ?? '',
    Config: c.config ? dockerContainerConfig(c.config) : null,
    Architecture: c.architecture,
  };
  if (c.variant) out.Variant = c.variant;
  out.Os = c.os;
  if (c['os.version']) out.OsVersion = c['os.version'];
  Object.assign(out, {
    Size: size,
    VirtualSize: size,
    GraphDriver: { Data: f.graphDriver.Data, Name: f.graphDriver.Name },
    RootFS: { Type: 'layers', Layers: c.rootfs.diff_ids },
    Metadata: { LastTagTime: f.lastTagTime ? f.lastTagTime.toISOString() : ZERO_TIME },
  });
  return out;
}

/**
 * `GET /images/{name}/history`: newest first; the top entry carries the image ID and its tags,
 * the others `<missing>` (dockerd has no IDs for the layers of a pulled image).
 */
export function history(f: ImageFacts): Record<string, unknown>[] {
  const entries = f.config.history ?? [];
  const out: Record<string, unknown>[] = [];
  let layer = 0;
  for (const h of entries) {
    const size = h.empty_layer ? 0 : (f.layerSizes[layer++] ?? 0);
    const t = h.created ? Date.parse(h.created) : Number.NaN;
    out.push({
      Comment: h.comment ?? '',
      Created: Number.isNaN(t) ? ZERO_UNIX : Math.floor(t / 1000),
      CreatedBy: h.created_by ?? '',
      Id: '<missing>',
      Size: size,
      Tags: null,
    });
  }
  if (out.length === 0) {
    out.push({ Comment: '', Created: createdUnix(f.config), CreatedBy: '', Id: '<missing>', Size: totalSize(f), Tags: null });
  }
  out.reverse();
  out[0]!.Id = f.id;
  out[0]!.Tags = f.repoTags.length ? f.repoTags : null;
  return out;
}
