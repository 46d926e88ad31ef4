/**
 * `POST /commit` (docker commit): the container's changes as a new image — its rootfs snapshot's
 * overlay upperdir read by the layer differ (src/archive/diff.ts: whiteouts, opaque dirs) into a
 * gzip layer on top of its image's layers, the config the container's Config with the `--change`
 * instructions applied, a history entry; stored like an import (blobs under a lease, the GC
 * labels, the layers unpacked, then the image row as the commit point). The container is frozen
 * while its upperdir is read (`pause`, default true), as dockerd does.
 */
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { createGzip } from 'node:zlib';
import { diffLayer } from '../../archive/diff.js';
import { BerthError } from '../../common/errors.js';
import { uniqueName } from '../../common/fs.js';
import { applyChanges } from '../../images/changes.js';
import { storeStream } from '../../images/copy.js';
import { contentResource, ingestResource } from '../../images/deps.js';
import { withLease } from '../../images/lease.js';
import { configRefLabels, Labels, manifestRefLabels } from '../../images/manifest.js';
import { normalizeName } from '../../images/names.js';
import { resolveImage } from '../../images/resolve.js';
import { unpackResolved } from '../../images/unpack.js';
import { type ContainerConfig, type Manifest, MediaType } from '../../oci/image.js';
import { pause, resume } from '../../runtime/index.js';
import type { Engine } from '../engine.js';
import { lookupImage } from '../image-lookup.js';
import type { ContainerRecord } from './record.js';

export interface CommitOptions {
  /** `repo[:tag]`; none: an image known by its ID only */
  reference?: string;
  comment?: string;
  author?: string;
  changes?: string[];
  pause?: boolean;
}

/** The overlay's upper and lower directories from the snapshot's mount options. */
export function overlayDirs(mounts: { type: string; options?: string[] }[]): { upper: string; lowers: string[] } | undefined {
  const m = mounts.find((x) => x.type === 'overlay');
  if (!m) return undefined;
  const opt = (k: string) => m.options?.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const upper = opt('upperdir');
  if (!upper) return undefined;
  return { upper, lowers: (opt('lowerdir') ?? '').split(':').filter(Boolean) };
}

/** The image config's `config` from the container's (dockerd keeps the container's fields) with the changes. */
export function commitConfig(rec: ContainerRecord, changes: string[]): ContainerConfig {
  return applyChanges(changes, structuredClone(rec.Config) as ContainerConfig);
}

/** The history's created_by: the container's command, as dockerd writes it. */
function createdBy(rec: ContainerRecord): string {
  return [rec.Path, ...rec.Args].join(' ');
}

export async function commitContainer(engine: Engine, ref: string, o: CommitOptions): Promise<string> {
  const rec = engine.containers.get(ref);
  const name = o.reference ? normalizeName(o.reference) : undefined;
  const changes = o.changes ?? [];
  // the changes are checked before anything is written (an unknown instruction is a 400)
  const newConfig = commitConfig(rec, changes);
  const svc = engine.images;
  const deps = svc.deps;
  const base = await lookupImage(svc, rec.Image);
  const dirs = overlayDirs(await svc.snapshotter.mounts(rec.SnapshotKey));
  if (!dirs)
    throw new BerthError('not-implemented', `commit '${rec.Id}': the ${svc.snapshotter.name} snapshotter has no upper directory to diff`, {
      object: rec.Id,
    });
  const freeze = o.pause !== false && rec.State.Status === 'running';
  const id = await withLease(deps.leases, 'commit', async (lease) => {
    const protect = (d: string) => lease.add(contentResource(d));
    const ingest = `commit-${uniqueName()}`;
    await lease.add(ingestResource(ingest));
    // the layer: the upperdir's tar, hashed uncompressed (its diff_id) and stored gzip'd
    let diffId = '';
    let layer: { digest: string; size: number };
    if (freeze) await pause(engine.runtimeRoot, rec.Id);
    try {
      const tar = diffLayer(dirs.upper, { lowers: dirs.lowers, mode: 'overlay' });
      const h = createHash('sha256');
      const tee = new PassThrough();
      tar.on('data', (c: Buffer) => h.update(c));
      tar.on('end', () => {
        diffId = `sha256:${h.digest('hex')}`;
      });
      tar.on('error', (err) => tee.destroy(err));
      const zip = createGzip();
      zip.on('error', (err) => tee.destroy(err));
      const gz = tar.pipe(zip).pipe(tee);
      layer = await storeStream(deps.content, gz, { ref: ingest, protect });
    } finally {
      if (freeze) await resume(engine.runtimeRoot, rec.Id).catch(() => {});
    }
    await deps.content.update({ digest: layer.digest, labels: { [Labels.uncompressed]: diffId } }, [`labels.${Labels.uncompressed}`]);

    const created = new Date().toISOString();
    const baseCfg = JSON.parse(base.resolved.configBytes.toString()) as Record<string, unknown>;
    const history = [...((baseCfg.history as unknown[]) ?? [])];
    history.push({
      created,
      created_by: createdBy(rec),
      ...(o.author ? { author: o.author } : {}),
      ...(o.comment ? { comment: o.comment } : {}),
    });
    const rootfs = (baseCfg.rootfs as { diff_ids?: string[] } | undefined) ?? {};
    const config: Record<string, unknown> = {
      ...baseCfg,
      author: o.author ?? '',
      comment: o.comment ?? '',
      config: newConfig,
      container: rec.Id,
      container_config: rec.Config,
      created,
      history,
      rootfs: { type: 'layers', diff_ids: [...(rootfs.diff_ids ?? []), diffId] },
    };
    if (!o.author) delete config.author;
    if (!o.comment) delete config.comment;
    const docker = base.resolved.manifest.mediaType === MediaType.dockerManifest;
    const cfg = await storeStream(deps.content, [Buffer.from(JSON.stringify(config))], { ref: `commit-config-${uniqueName()}`, protect });
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.dockerManifest : MediaType.ociManifest,
      config: { mediaType: docker ? MediaType.dockerConfig : MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
      layers: [
        ...base.resolved.manifest.layers,
        { mediaType: docker ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip, digest: layer.digest, size: layer.size },
      ],
    };
    const m = await storeStream(deps.content, [Buffer.from(JSON.stringify(manifest))], {
      ref: `commit-manifest-${uniqueName()}`,
      labels: manifestRefLabels(manifest),
      protect,
    });
    const target = { mediaType: manifest.mediaType!, digest: m.digest, size: m.size };
    const img = await resolveImage(deps.content, target, name ?? cfg.digest);
    await unpackResolved(deps, img, name ?? cfg.digest, { lease });
    const labels = configRefLabels(deps.snapshotter.name, img.topChainId);
    await deps.content.update(
      { digest: cfg.digest, labels },
      Object.keys(labels).map((k) => `labels.${k}`),
    );
    // the commit point; an unnamed commit is kept under its digest (as an unnamed import is)
    deps.images.put({ name: name ?? `commit-${created.slice(0, 10)}@${m.digest}`, target });
    return cfg.digest;
  });
  engine.publish(rec, 'commit', { comment: o.comment ?? '', imageID: id, imageRef: name ?? '' });
  return id;
}
