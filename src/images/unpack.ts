/**
 * Unpacking: layers into snapshots keyed by chain ID, each applied into an active snapshot
 * prepared on its parent and committed under its chain ID only after the diff_id checked out.
 * Used by pull (fed from the network) and by load/import/unpack (fed from the content store).
 * Also the way to a container's rootfs: an active snapshot on the image's top chain ID.
 */
import { Readable } from 'node:stream';
import { checkLookups } from '../archive/apply.js';
import type { ApplyInput, ApplyLayer, ApplyResult } from '../archive/types.js';
import { BerthError, isKind } from '../common/errors.js';
import { uniqueName } from '../common/fs.js';
import type { Provider } from '../content/types.js';
import type { Platform } from '../oci/image.js';
import type { Mount, Snapshotter } from '../snapshots/types.js';
import { type ImageDeps, snapshotResource } from './deps.js';
import { type ActiveLease, withLease } from './lease.js';
import type { LayerInfo } from './manifest.js';
import { type ResolvedImage, resolveImage } from './resolve.js';
import type { ProgressSink } from './types.js';

export async function snapshotExists(snapshotter: Snapshotter, key: string): Promise<boolean> {
  try {
    const info = await snapshotter.stat(key);
    return info.kind === 'committed';
  } catch (err) {
    if (isKind(err, 'not-found')) return false;
    throw err;
  }
}

/** Prefixed with error context, keeping the kind and the cause (the entry named by apply survives). */
export function wrap(prefix: string, err: unknown): BerthError {
  if (err instanceof BerthError) return new BerthError(err.kind, `${prefix}: ${err.message}`, { cause: err, object: err.object });
  const e = err as Error;
  return new BerthError('internal', `${prefix}: ${e?.message ?? String(err)}`, { cause: err });
}

export interface LayerApply {
  snapshotter: Snapshotter;
  apply: ApplyLayer;
  lease?: ActiveLease | undefined;
  layer: LayerInfo;
  signal?: AbortSignal | undefined;
}

/**
 * Applies one layer: prepare an active snapshot on the parent chain, apply `input` into it
 * (decompression, containment and the diff_id check are apply's), commit it as the chain ID.
 * On any failure the active snapshot is removed; a concurrent commit of the same chain ID
 * (another process unpacking the same layer) counts as success.
 */
export async function applyLayerSnapshot(a: LayerApply, input: ApplyInput): Promise<ApplyResult | undefined> {
  const { snapshotter, layer } = a;
  const key = `extract-${uniqueName()}-${layer.chainId}`;
  await a.lease?.add(snapshotResource(snapshotter, key));
  await a.lease?.add(snapshotResource(snapshotter, layer.chainId));
  try {
    await snapshotter.prepare(key, layer.parent, { labels: { 'containerd.io/snapshot.ref': layer.chainId } });
  } catch (err) {
    if (input instanceof Readable) input.destroy();
    throw err;
  }
  let result: ApplyResult;
  try {
    const target = await snapshotter.applyTarget(key);
    const options: Parameters<ApplyLayer>[1] = {
      compression: layer.compression,
      target,
      layer: layer.desc.digest,
      expectedDiffId: layer.diffId,
    };
    if (a.signal) options.signal = a.signal;
    result = await a.apply(input, options);
    if (result.diffId !== layer.diffId) {
      // apply checks it when told; checked again here because it is the one thing a pull must not get wrong
      throw new BerthError(
        'invalid-argument',
        `apply layer '${layer.desc.digest}': wrong diff id ${result.diffId}, expected ${layer.diffId}`,
        {
          object: layer.desc.digest,
        },
      );
    }
  } catch (err) {
    if (input instanceof Readable) input.destroy();
    await snapshotter.remove(key).catch(() => {});
    throw err;
  }
  try {
    await snapshotter.commit(layer.chainId, key, { labels: { 'containerd.io/uncompressed': layer.diffId } });
  } catch (err) {
    await snapshotter.remove(key).catch(() => {});
    if (isKind(err, 'already-exists')) return undefined;
    throw err;
  }
  return result;
}

/** A layer applied before its parent was committed, waiting for `finishSpeculative`. */
export interface Speculative {
  /** the parentless active snapshot holding the layer */
  key: string;
  result: ApplyResult;
}

/** Can this snapshotter take a layer applied ahead of its parent (overlayfs)? */
export function canSpeculate(snapshotter: Snapshotter): boolean {
  return typeof snapshotter.adopt === 'function';
}

/**
 * Applies a layer whose parent is not committed yet into a parentless active snapshot,
 * recording every question the apply would have asked the lower layers (see
 * `ApplyOptions.recordLookups`). Nothing is committed: `finishSpeculative` does that once the
 * parent is. On failure the snapshot is removed.
 */
export async function applySpeculative(a: LayerApply, input: ApplyInput): Promise<Speculative> {
  const { snapshotter, layer } = a;
  const key = `speculate-${uniqueName()}-${layer.chainId}`;
  await a.lease?.add(snapshotResource(snapshotter, key));
  try {
    await snapshotter.prepare(key, undefined, { labels: { 'containerd.io/snapshot.ref': layer.chainId } });
  } catch (err) {
    if (input instanceof Readable) input.destroy();
    throw err;
  }
  try {
    const target = await snapshotter.applyTarget(key);
    const options: Parameters<ApplyLayer>[1] = {
      compression: layer.compression,
      target,
      layer: layer.desc.digest,
      expectedDiffId: layer.diffId,
      recordLookups: true,
    };
    if (a.signal) options.signal = a.signal;
    const result = await a.apply(input, options);
    if (result.diffId !== layer.diffId || result.lookups === undefined) {
      throw new BerthError(
        'invalid-argument',
        `apply layer '${layer.desc.digest}': wrong diff id ${result.diffId}, expected ${layer.diffId}`,
        {
          object: layer.desc.digest,
        },
      );
    }
    return { key, result };
  } catch (err) {
    if (input instanceof Readable) input.destroy();
    await snapshotter.remove(key).catch(() => {});
    throw err;
  }
}

/**
 * Once the parent is committed: when the parent chain answers none of the speculative apply's
 * lookups, its upperdir becomes the layer's snapshot (prepared on the parent, adopted, committed
 * as the chain ID) — the same tree an apply on the parent writes. Otherwise the speculative
 * snapshot is dropped and the layer applied again from `fallback` (the stored blob).
 */
export async function finishSpeculative(
  a: LayerApply,
  spec: Speculative,
  fallback: () => ApplyInput,
): Promise<'adopted' | 'reapplied' | 'exists'> {
  const { snapshotter, layer } = a;
  if (await snapshotExists(snapshotter, layer.chainId)) {
    await snapshotter.remove(spec.key).catch(() => {});
    return 'exists';
  }
  const key = `extract-${uniqueName()}-${layer.chainId}`;
  await a.lease?.add(snapshotResource(snapshotter, key));
  await a.lease?.add(snapshotResource(snapshotter, layer.chainId));
  let adopted = false;
  try {
    await snapshotter.prepare(key, layer.parent, { labels: { 'containerd.io/snapshot.ref': layer.chainId } });
    try {
      const target = await snapshotter.applyTarget(key);
      if (await checkLookups(spec.result.lookups ?? [], target.parents)) {
        await snapshotter.adopt!(key, spec.key);
        adopted = true;
      }
    } catch (err) {
      await snapshotter.remove(key).catch(() => {});
      throw err;
    }
    if (!adopted) await snapshotter.remove(key);
  } finally {
    if (!adopted) await snapshotter.remove(spec.key).catch(() => {});
  }
  if (!adopted) {
    await applyLayerSnapshot(a, fallback());
    return 'reapplied';
  }
  try {
    await snapshotter.commit(layer.chainId, key, { labels: { 'containerd.io/uncompressed': layer.diffId } });
  } catch (err) {
    await snapshotter.remove(key).catch(() => {});
    if (isKind(err, 'already-exists')) return 'exists';
    throw err;
  }
  return 'adopted';
}

/**
 * A committed layer blob as apply's input: the file itself, read by the decompressor (or the
 * helper) without a copy through Node and without hashing the compressed bytes again. That is
 * safe because what gets applied is checked anyway: apply hashes every uncompressed byte and
 * the result must equal the diff_id of the (digest-verified) config, so a blob that changed on
 * disk since its verified commit fails the apply instead of going in.
 */
export function storedLayer(content: Provider, digest: string): ApplyInput {
  return { file: content.path(digest) };
}

export interface UnpackOptions {
  onProgress?: ProgressSink;
  lease?: ActiveLease;
  signal?: AbortSignal;
}

/** Unpacks every layer of an already-stored image whose chain-ID snapshot is missing; returns the top chain ID. */
export async function unpackResolved(
  deps: { content: Provider; snapshotter: Snapshotter; apply: ApplyLayer },
  img: ResolvedImage,
  name: string,
  options: UnpackOptions = {},
): Promise<string | undefined> {
  const progress = options.onProgress ?? (() => {});
  for (const layer of img.layers) {
    const id = layer.desc.digest.slice(7, 19);
    if (await snapshotExists(deps.snapshotter, layer.chainId)) continue;
    progress({ id, status: 'Extracting', current: 0, total: layer.desc.size });
    try {
      await applyLayerSnapshot(
        { snapshotter: deps.snapshotter, apply: deps.apply, lease: options.lease, layer, signal: options.signal },
        storedLayer(deps.content, layer.desc.digest),
      );
    } catch (err) {
      throw wrap(`unpack '${name}'`, err);
    }
    progress({ id, status: 'Pull complete' });
  }
  return img.topChainId;
}

/** Unpacks the image named `name` (from the image store), under a lease of its own. */
export async function unpack(
  deps: ImageDeps,
  name: string,
  options: UnpackOptions & { platform?: Platform } = {},
): Promise<string | undefined> {
  const image = deps.images.get(name);
  const img = await resolveImage(deps.content, image.target, image.name, options.platform);
  if (options.lease) return unpackResolved(deps, img, image.name, options);
  return withLease(deps.leases, `unpack ${image.name}`, (lease) => unpackResolved(deps, img, image.name, { ...options, lease }));
}

/**
 * A container's rootfs: an active snapshot `key` on the image's top chain ID (unpacking first
 * when a layer is missing), returned as mounts (data: the caller mounts them where it wants).
 */
export async function prepareRootfs(
  deps: ImageDeps,
  name: string,
  key: string,
  options: { readonly?: boolean; labels?: Record<string, string>; resolved?: ResolvedImage } = {},
): Promise<Mount[]> {
  // `resolved`: the caller's resolution of this very image (the engine's create has one): its
  // manifest and config are not read and parsed again
  const image = deps.images.get(name);
  const img = options.resolved ?? (await resolveImage(deps.content, image.target, image.name));
  if (img.topChainId !== undefined && !(await snapshotExists(deps.snapshotter, img.topChainId))) {
    await withLease(deps.leases, `unpack ${image.name}`, (lease) => unpackResolved(deps, img, image.name, { lease }));
  }
  const opts = options.labels ? { labels: options.labels } : undefined;
  return options.readonly ? deps.snapshotter.view(key, img.topChainId, opts) : deps.snapshotter.prepare(key, img.topChainId, opts);
}
