/**
 * What a blob references, read by its media type: an index its manifests, a manifest its config
 * and layers, a config its layers' chain IDs (the names of their committed snapshots). GC marks
 * through this. Pure: bytes in, references out.
 *
 * Unknown media types have no children (artifacts, layers, foreign things). A blob whose media
 * type is unknown to the caller (a lease or a caller root names a digest only) is sniffed: JSON
 * with a `mediaType` we know, or the shape of an index or manifest.
 */
import { invalid } from '../common/errors.js';
import { chainIds, isConfigType, isDigest, isIndexType, isManifestType } from '../oci/image.js';

export interface BlobRef {
  digest: string;
  mediaType?: string;
}

export interface Children {
  content: BlobRef[];
  /** chain IDs of the image's layers (from a config) */
  chainIds: string[];
  /** entries that could not be followed (bad digests), for the caller's warnings */
  skipped: string[];
}

/** Blobs larger than this are never parsed for references (no manifest or config is this big). */
export const MAX_PARSED_BLOB = 64 << 20;
/** Blobs of unknown type larger than this are not read to find out (they are layers). */
export const SNIFF_LIMIT = 4 << 20;

/** Whether blobs of `mediaType` can reference others (and so are worth reading). */
export function hasChildren(mediaType: string): boolean {
  return isIndexType(mediaType) || isManifestType(mediaType) || isConfigType(mediaType);
}

function parseJson(data: Uint8Array, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (err) {
    throw invalid(`parse ${what}: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw invalid(`parse ${what}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** The media type of a JSON blob nobody told us the type of, or undefined (not one we follow). */
export function sniffMediaType(data: Uint8Array): string | undefined {
  if (data.length === 0 || data.length > MAX_PARSED_BLOB || data[0] !== 0x7b /* { */) return undefined;
  let v: Record<string, unknown>;
  try {
    v = parseJson(data, 'blob');
  } catch {
    return undefined;
  }
  if (typeof v.mediaType === 'string' && (isIndexType(v.mediaType) || isManifestType(v.mediaType))) return v.mediaType;
  if (Array.isArray(v.manifests)) return 'application/vnd.oci.image.index.v1+json';
  if (v.config && typeof v.config === 'object' && Array.isArray(v.layers)) return 'application/vnd.oci.image.manifest.v1+json';
  const rootfs = v.rootfs as { diff_ids?: unknown } | undefined;
  if (rootfs && Array.isArray(rootfs.diff_ids)) return 'application/vnd.oci.image.config.v1+json';
  return undefined;
}

function descriptorRef(d: unknown, skipped: string[], where: string): BlobRef | undefined {
  if (!d || typeof d !== 'object') {
    skipped.push(`${where}: not a descriptor`);
    return undefined;
  }
  const { digest, mediaType } = d as { digest?: unknown; mediaType?: unknown };
  if (typeof digest !== 'string' || !isDigest(digest)) {
    skipped.push(`${where}: digest '${String(digest).slice(0, 80)}' is not a sha256 digest`);
    return undefined;
  }
  return typeof mediaType === 'string' ? { digest, mediaType } : { digest };
}

/** The references of a blob of `mediaType`; invalid-argument when a known type does not parse. */
export function blobChildren(mediaType: string | undefined, data: Uint8Array, digest = 'blob'): Children {
  const out: Children = { content: [], chainIds: [], skipped: [] };
  const type = mediaType ?? sniffMediaType(data);
  if (!type || data.length > MAX_PARSED_BLOB) return out;
  if (isIndexType(type)) {
    const v = parseJson(data, `index '${digest}'`);
    const manifests = Array.isArray(v.manifests) ? v.manifests : [];
    manifests.forEach((m, i) => {
      const r = descriptorRef(m, out.skipped, `index '${digest}' manifests[${i}]`);
      if (r) out.content.push(r);
    });
  } else if (isManifestType(type)) {
    const v = parseJson(data, `manifest '${digest}'`);
    const config = descriptorRef(v.config, out.skipped, `manifest '${digest}' config`);
    if (config) out.content.push(config);
    const layers = Array.isArray(v.layers) ? v.layers : [];
    layers.forEach((l, i) => {
      const r = descriptorRef(l, out.skipped, `manifest '${digest}' layers[${i}]`);
      // a layer is a leaf: its media type says so, whatever it is
      if (r) out.content.push({ digest: r.digest, mediaType: r.mediaType ?? 'application/octet-stream' });
    });
  } else if (isConfigType(type)) {
    const v = parseJson(data, `config '${digest}'`);
    const diffIds = (v.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids;
    if (Array.isArray(diffIds) && diffIds.every((d) => typeof d === 'string' && isDigest(d))) {
      out.chainIds = chainIds(diffIds as string[]);
    } else if (diffIds !== undefined) {
      out.skipped.push(`config '${digest}': rootfs.diff_ids are not sha256 digests`);
    }
  }
  return out;
}
