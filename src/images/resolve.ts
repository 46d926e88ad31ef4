/**
 * From an image's target (a manifest, or an index) to the platform manifest, its config and its
 * layers, reading the raw bytes from the content store. Every blob is re-hashed on the way in:
 * a store tampered with on disk fails here, naming the blob.
 */
import { isKind, notFound } from '../common/errors.js';
import type { Manager, Provider } from '../content/types.js';
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from '../oci/image.js';
import {
  hostPlatform,
  type LayerInfo,
  layersOf,
  manifestKind,
  parseConfig,
  parseIndex,
  parseManifest,
  selectManifest,
  verifyBytes,
} from './manifest.js';

export interface ResolvedImage {
  /** the platform manifest */
  manifestDesc: Descriptor;
  manifest: Manifest;
  manifestBytes: Buffer;
  configBytes: Buffer;
  config: ImageConfig;
  layers: LayerInfo[];
  /** the index, when the target is one */
  index?: { desc: Descriptor; index: Index; bytes: Buffer };
  /** sha256 of the config: Docker's image ID */
  id: string;
  /** the top layer's chain ID (undefined for an image with no layers) */
  topChainId: string | undefined;
}

export async function readBlob(content: Provider, desc: Descriptor, what: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await content.readAll(desc.digest);
  } catch (err) {
    if (isKind(err, 'not-found')) throw notFound(`${what}: blob '${desc.digest}' is not in the content store`, desc.digest);
    throw err;
  }
  verifyBytes(bytes, desc.digest, `${what}: blob '${desc.digest}'`);
  return bytes;
}

/**
 * Picks the platform manifest of `target`. With an index, the entries are tried best first and
 * the first one whose manifest is stored wins (a pull fetched only one platform).
 */
export async function has(content: Pick<Manager, 'info'>, digest: string): Promise<boolean> {
  try {
    await content.info(digest);
    return true;
  } catch (err) {
    if (isKind(err, 'not-found')) return false;
    throw err;
  }
}

export async function resolveImage(
  content: Provider & Pick<Manager, 'info'>,
  target: Descriptor,
  name: string,
  platform?: Platform,
): Promise<ResolvedImage> {
  const what = `image '${name}'`;
  const targetBytes = await readBlob(content, target, what);
  let manifestDesc = target;
  let manifestBytes = targetBytes;
  let index: ResolvedImage['index'];
  if (manifestKind(targetBytes, target.mediaType, what) === 'index') {
    const idx = parseIndex(targetBytes, `${what}: index '${target.digest}'`);
    index = { desc: target, index: idx, bytes: targetBytes };
    // a pull fetched one platform: choose among the manifests we hold
    const held: Descriptor[] = [];
    for (const d of idx.manifests) if (await has(content, d.digest)) held.push(d);
    manifestDesc = selectManifest({ ...idx, manifests: held }, platform ?? hostPlatform(), what);
    manifestBytes = await readBlob(content, manifestDesc, what);
  }
  const mwhat = `${what}: manifest '${manifestDesc.digest}'`;
  const manifest = parseManifest(manifestBytes, mwhat);
  const configBytes = await readBlob(content, manifest.config, what);
  const config = parseConfig(configBytes, `${what}: config '${manifest.config.digest}'`);
  const layers = layersOf(manifest, config, mwhat);
  const resolved: ResolvedImage = {
    manifestDesc,
    manifest,
    manifestBytes,
    configBytes,
    config,
    layers,
    id: manifest.config.digest,
    topChainId: layers.at(-1)?.chainId,
  };
  if (index) resolved.index = index;
  return resolved;
}

/**
 * The blobs of an image to copy elsewhere (push, export, save), children before parents: every
 * platform of an index when the store holds all of them (then `top` is the index), else the
 * one resolved platform (then `top` is its manifest).
 */
export async function imageBlobs(
  content: Provider & Pick<Manager, 'info'>,
  target: Descriptor,
  name: string,
  platform?: Platform,
): Promise<{ top: Descriptor; blobs: Descriptor[]; resolved: ResolvedImage; manifests: { desc: Descriptor; manifest: Manifest }[] }> {
  const resolved = await resolveImage(content, target, name, platform);
  const blobs: Descriptor[] = [];
  const seen = new Set<string>();
  const add = (d: Descriptor) => {
    if (!seen.has(d.digest)) {
      seen.add(d.digest);
      blobs.push(d);
    }
  };
  const manifests: { desc: Descriptor; manifest: Manifest }[] = [];
  let all = false;
  if (resolved.index) {
    const present = await Promise.all(resolved.index.index.manifests.map((d) => has(content, d.digest)));
    all = present.every(Boolean);
    if (all) {
      for (const d of resolved.index.index.manifests) {
        const bytes = d.digest === resolved.manifestDesc.digest ? resolved.manifestBytes : await readBlob(content, d, `image '${name}'`);
        manifests.push({ desc: d, manifest: parseManifest(bytes, `image '${name}': manifest '${d.digest}'`) });
      }
    }
  }
  if (!all) manifests.push({ desc: resolved.manifestDesc, manifest: resolved.manifest });
  for (const m of manifests) {
    for (const l of m.manifest.layers) add(l);
    add(m.manifest.config);
    add(m.desc);
  }
  const top = all && resolved.index ? resolved.index.desc : resolved.manifestDesc;
  add(top);
  return { top, blobs, resolved, manifests };
}
