/**
 * OCI image-spec and Docker image types (manifests, indexes, configs, descriptors), media types,
 * digests and chain IDs. Pure: no fs, no network. Raw bytes of manifests and configs are kept by
 * the callers; these types describe what we read from them, never what we re-serialize.
 */
import { createHash } from 'node:crypto';
import { invalid } from '../common/errors.js';

export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  /** Docker schema 1: recognised only to refuse it by name. */
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
} as const;

export type Compression = 'none' | 'gzip' | 'zstd';

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerManifestList;
}
export function isManifestType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}
export function isConfigType(mediaType: string | undefined): boolean {
  return mediaType === MediaType.ociConfig || mediaType === MediaType.dockerConfig;
}

/** The compression a layer media type declares, or undefined when it is not a layer type. */
export function layerCompression(mediaType: string): Compression | undefined {
  switch (mediaType) {
    case MediaType.ociLayer:
    case MediaType.ociLayerNondistributable:
      return 'none';
    case MediaType.ociLayerGzip:
    case MediaType.ociLayerNondistributableGzip:
    case MediaType.dockerLayerGzip:
    case MediaType.dockerForeignLayerGzip:
      return 'gzip';
    case MediaType.ociLayerZstd:
    case MediaType.ociLayerNondistributableZstd:
      return 'zstd';
    default:
      return undefined;
  }
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface Manifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The runtime part of an image config (Docker's capitalised names, as on the wire). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, object>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, object>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };
  OnBuild?: string[] | null;
  Shell?: string[];
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  /** Docker extras, kept when present. */
  container?: string;
  container_config?: ContainerConfig;
  docker_version?: string;
}

// ---- digests ----

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
/** Algorithms we can verify. The spec registers sha512 too; refused by name until needed. */
export function assertDigest(digest: string, what = 'digest'): string {
  if (!DIGEST_RE.test(digest)) {
    if (/^sha512:[a-f0-9]{128}$/.test(digest)) throw invalid(`${what} '${digest}': sha512 digests are not supported`, digest);
    throw invalid(`${what} '${digest}': not a sha256 digest (sha256:<64 lower-case hex>)`, digest);
  }
  return digest;
}
export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}
export function digestHex(digest: string): string {
  return assertDigest(digest).slice('sha256:'.length);
}
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln)). */
export function chainIds(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  for (const diffId of diffIds) {
    assertDigest(diffId, 'diff_id');
    const prev = out.at(-1);
    out.push(prev === undefined ? diffId : sha256Digest(`${prev} ${diffId}`));
  }
  return out;
}
