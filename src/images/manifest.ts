/**
 * Reading manifests, indexes and configs from their raw bytes, with the checks every consumer
 * needs (shape, digests, layer count against diff_ids), and the labels that tell GC what a blob
 * refers to (containerd's `containerd.io/gc.ref.*`). Pure: bytes in, data out. The bytes stay
 * the caller's; nothing here is ever re-serialized into a blob.
 */
import { BerthError, invalid } from '../common/errors.js';
import { hostPlatform as hostPlatformOf, selectManifest as selectPlatform } from '../distribution/platform.js';
import {
  assertDigest,
  type Compression,
  chainIds,
  type Descriptor,
  type ImageConfig,
  type Index,
  isConfigType,
  isIndexType,
  isManifestType,
  layerCompression,
  type Manifest,
  MediaType,
  type Platform,
  sha256Digest,
} from '../oci/image.js';

/** Manifests and configs are small; a bigger one is hostile (containerd's importer uses 20 MiB too). */
export const MAX_JSON_BLOB = 20 << 20;

function parseJson(bytes: Buffer, what: string): Record<string, unknown> {
  if (bytes.length > MAX_JSON_BLOB) throw invalid(`${what}: ${bytes.length} bytes is more than ${MAX_JSON_BLOB}`, what);
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`${what}: invalid JSON: ${(err as Error).message}`, what);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(`${what}: not a JSON object`, what);
  return v as Record<string, unknown>;
}

/** Verifies that `bytes` hash to `digest` (every blob read from outside is checked). */
export function verifyBytes(bytes: Buffer, digest: string, what: string): void {
  const got = sha256Digest(bytes);
  if (got !== digest) throw invalid(`${what}: content digest ${got} does not match ${digest}`, digest);
}

export function checkDescriptor(d: unknown, what: string): Descriptor {
  if (!d || typeof d !== 'object') throw invalid(`${what}: not a descriptor`, what);
  const desc = d as Descriptor;
  if (typeof desc.mediaType !== 'string' || desc.mediaType === '') throw invalid(`${what}: descriptor has no mediaType`, what);
  if (typeof desc.digest !== 'string') throw invalid(`${what}: descriptor has no digest`, what);
  assertDigest(desc.digest, `${what}: digest`);
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) throw invalid(`${what}: descriptor size ${String(desc.size)} is invalid`, what);
  return desc;
}

/** The media type a manifest-ish blob declares: the response type, else the body's `mediaType`. */
export function manifestKind(bytes: Buffer, mediaType: string | undefined, what: string): 'index' | 'manifest' {
  const body = parseJson(bytes, what);
  const mt = (typeof body.mediaType === 'string' && body.mediaType) || mediaType;
  if (mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Signed || body.schemaVersion === 1) {
    throw invalid(`${what}: Docker schema 1 manifests are not supported`, what);
  }
  if (isIndexType(mt) || (mt === undefined && Array.isArray(body.manifests))) return 'index';
  if (isManifestType(mt) || (mt === undefined && body.config !== undefined)) return 'manifest';
  throw invalid(`${what}: unsupported media type '${mt}'`, what);
}

export function parseManifest(bytes: Buffer, what: string): Manifest {
  const m = parseJson(bytes, what);
  if (m.schemaVersion !== 2) throw invalid(`${what}: schemaVersion ${String(m.schemaVersion)} is not 2`, what);
  const config = checkDescriptor(m.config, `${what}: config`);
  if (!Array.isArray(m.layers)) throw invalid(`${what}: layers is not an array`, what);
  m.layers.forEach((l, i) => {
    checkDescriptor(l, `${what}: layer ${i}`);
  });
  return m as unknown as Manifest & { config: typeof config };
}

export function parseIndex(bytes: Buffer, what: string): Index {
  const x = parseJson(bytes, what);
  if (x.schemaVersion !== 2) throw invalid(`${what}: schemaVersion ${String(x.schemaVersion)} is not 2`, what);
  if (!Array.isArray(x.manifests)) throw invalid(`${what}: manifests is not an array`, what);
  x.manifests.forEach((d, i) => {
    checkDescriptor(d, `${what}: manifest ${i}`);
  });
  return x as unknown as Index;
}

export function parseConfig(bytes: Buffer, what: string): ImageConfig {
  const c = parseJson(bytes, what);
  const rootfs = c.rootfs as { type?: unknown; diff_ids?: unknown } | undefined;
  if (!rootfs || typeof rootfs !== 'object') throw invalid(`${what}: no rootfs`, what);
  if (rootfs.type !== 'layers') throw invalid(`${what}: rootfs type '${String(rootfs.type)}' is not 'layers'`, what);
  if (!Array.isArray(rootfs.diff_ids)) throw invalid(`${what}: rootfs.diff_ids is not an array`, what);
  rootfs.diff_ids.forEach((d, i) => {
    if (typeof d !== 'string') throw invalid(`${what}: diff_id ${i} is not a string`, what);
    assertDigest(d, `${what}: diff_id ${i}`);
  });
  if (typeof c.os !== 'string' || typeof c.architecture !== 'string') throw invalid(`${what}: os and architecture are required`, what);
  return c as unknown as ImageConfig;
}

/** The layers' compression, refusing what we cannot apply (naming the layer). */
export function compressionOf(layer: Descriptor, what: string): Compression {
  const c = layerCompression(layer.mediaType);
  if (c === undefined) throw invalid(`${what}: layer '${layer.digest}': unsupported media type '${layer.mediaType}'`, layer.digest);
  return c;
}

/** One layer of an image, with what apply and the snapshotter need. */
export interface LayerInfo {
  index: number;
  desc: Descriptor;
  diffId: string;
  chainId: string;
  /** the committed snapshot this one sits on */
  parent?: string;
  compression: Compression;
}

export function layersOf(manifest: Manifest, config: ImageConfig, what: string): LayerInfo[] {
  if (!isConfigType(manifest.config.mediaType)) {
    throw invalid(`${what}: config media type '${manifest.config.mediaType}' is not an image config`, what);
  }
  const diffIds = config.rootfs.diff_ids;
  if (diffIds.length !== manifest.layers.length) {
    throw invalid(`${what}: invalid manifest, layers length mismatch: expected ${diffIds.length}, got ${manifest.layers.length}`, what);
  }
  const chains = chainIds(diffIds);
  return manifest.layers.map((desc, index) => {
    const info: LayerInfo = { index, desc, diffId: diffIds[index]!, chainId: chains[index]!, compression: compressionOf(desc, what) };
    if (index > 0) info.parent = chains[index - 1]!;
    return info;
  });
}

// ---- platforms (the registry client's rules: src/distribution/platform.ts) ----

export function hostPlatform(): Platform {
  return hostPlatformOf(process.arch);
}

/** The index entry for `platform` (attestations skipped), failing with Docker's text after `what`. */
export function selectManifest(index: Index, platform: Platform, what: string): Descriptor {
  try {
    return selectPlatform(index, platform);
  } catch (err) {
    if (err instanceof BerthError) throw new BerthError(err.kind, `${what}: ${err.message}`, { cause: err, object: err.object });
    throw err;
  }
}

// ---- GC labels (containerd's names, so the collector walks blobs like containerd's does) ----

export const Labels = {
  uncompressed: 'containerd.io/uncompressed',
  gcContent: 'containerd.io/gc.ref.content',
  gcSnapshot: 'containerd.io/gc.ref.snapshot',
  distributionSource: 'containerd.io/distribution.source',
} as const;

/** Labels for a manifest blob: its config and every layer. */
export function manifestRefLabels(m: Manifest): Record<string, string> {
  const labels: Record<string, string> = { [`${Labels.gcContent}.config`]: m.config.digest };
  m.layers.forEach((l, i) => {
    labels[`${Labels.gcContent}.l.${i}`] = l.digest;
  });
  return labels;
}

/** Labels for an index blob: the children we hold (others were never fetched). */
export function indexRefLabels(children: Descriptor[]): Record<string, string> {
  const labels: Record<string, string> = {};
  children.forEach((d, i) => {
    labels[`${Labels.gcContent}.m.${i}`] = d.digest;
  });
  return labels;
}

/** Label for a config blob: the top unpacked snapshot of the image in `snapshotter`. */
export function configRefLabels(snapshotter: string, topChainId: string | undefined): Record<string, string> {
  return topChainId === undefined ? {} : { [`${Labels.gcSnapshot}.${snapshotter}`]: topChainId };
}

/** `containerd.io/distribution.source.<host>` = comma-separated repositories the blob exists in. */
export function sourceLabelKey(domain: string): string {
  return `${Labels.distributionSource}.${domain}`;
}

export function addSource(current: string | undefined, repo: string): string {
  const repos = (current ?? '').split(',').filter(Boolean);
  if (!repos.includes(repo)) repos.push(repo);
  return repos.join(',');
}

/** First bytes → compression: gzip 1f 8b, zstd 28 b5 2f fd, else none (a plain tar). */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** Docker's 12-hex short id of a digest (progress ids, image ids in listings). */
export function shortId(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
}
