/**
 * `GET /system/df` (docker system df): images, containers, volumes, build cache and the layers'
 * total size. The container part is complete (each one's writable layer from its snapshot's
 * usage); the image part comes from the image store (sizes are the layers' blob sizes, as the
 * image service knows them); volumes from the volume store, each with its size and the number of
 * containers that use it (UsageData); the build cache is an empty list (no builder here).
 */
import { resolveImage } from '../images/resolve.js';
import { listItem } from './containers/inspect.js';
import { volumeUsers } from './containers/remove.js';
import { writableSize } from './containers/size.js';
import type { Engine } from './engine.js';
import { layerSize } from './image-size.js';
import { toApiVolume } from './volumes/index.js';

export async function systemDf(engine: Engine): Promise<Record<string, unknown>> {
  const svc = engine.images;
  const containers = engine.containers.all();
  const layerSizes = new Map<string, number>();
  const byId = new Map<
    string,
    {
      Id: string;
      RepoTags: string[];
      RepoDigests: string[];
      Created: number;
      Size: number;
      layers: string[];
      Labels: Record<string, string>;
    }
  >();
  for (const img of svc.images.list()) {
    let r: Awaited<ReturnType<typeof resolveImage>>;
    try {
      r = await resolveImage(svc.content, img.target, img.name);
    } catch {
      continue;
    }
    const layers = r.layers.map((l) => l.desc.digest);
    for (const l of r.layers) layerSizes.set(l.desc.digest, await layerSize(svc.snapshotter, l.chainId, l.desc.size));
    const e = byId.get(r.id) ?? {
      Id: r.id,
      RepoTags: [],
      RepoDigests: [],
      Created: Math.floor(Date.parse(r.config.created ?? '') / 1000) || 0,
      Size: r.layers.reduce((a, l) => a + (layerSizes.get(l.desc.digest) ?? 0), 0),
      layers,
      Labels: r.config.config?.Labels ?? {},
    };
    // unnamed images (import-…@digest, commit-…@digest) show as <none>
    if (!img.name.includes('@')) e.RepoTags.push(img.name.replace(/^docker\.io\/(library\/)?/, ''));
    byId.set(r.id, e);
  }
  const layerUse = new Map<string, number>();
  for (const e of byId.values()) for (const l of new Set(e.layers)) layerUse.set(l, (layerUse.get(l) ?? 0) + 1);
  const Images = [...byId.values()].map((e) => ({
    Id: e.Id,
    ParentId: '',
    RepoTags: e.RepoTags.length ? e.RepoTags : ['<none>:<none>'],
    RepoDigests: e.RepoDigests,
    Created: e.Created,
    Size: e.Size,
    SharedSize: [...new Set(e.layers)].filter((l) => (layerUse.get(l) ?? 0) > 1).reduce((a, l) => a + (layerSizes.get(l) ?? 0), 0),
    VirtualSize: e.Size,
    Labels: e.Labels,
    Containers: containers.filter((c) => c.Image === e.Id).length,
  }));
  const now = Date.now();
  const Containers = await Promise.all(
    containers.map(async (c) => {
      const rw = await writableSize(svc.snapshotter, c.SnapshotKey);
      const image = byId.get(c.Image);
      return { ...listItem(c, now), SizeRw: rw, SizeRootFs: rw + (image?.Size ?? 0) };
    }),
  );
  const store = engine.volumes;
  const Volumes = store
    ? await Promise.all(
        store.list().map(async (v) => ({
          ...toApiVolume(v),
          UsageData: { Size: await store.size(v.name).catch(() => -1), RefCount: volumeUsers(engine, v.name).length },
        })),
      )
    : [];
  return {
    LayersSize: [...layerSizes.values()].reduce((a, b) => a + b, 0),
    Images,
    Containers,
    Volumes,
    BuildCache: [],
  };
}
