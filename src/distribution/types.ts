/**
 * The registry client's roles, after containerd's remotes: a Resolver turns a reference into a
 * descriptor and hands out a Fetcher and a Pusher scoped to one repository. They move bytes and
 * authenticate; they verify nothing themselves about content (the caller hashes what it reads
 * into the content store), except that manifests fetched by digest are checked on the spot.
 */
import type { Readable } from 'node:stream';
import type { Descriptor } from '../oci/image.js';

/** A parsed, normalized image reference: docker.io/library/busybox:latest, host:5000/a/b@sha256:… */
export interface Reference {
  /** registry host[:port], `docker.io` for Docker Hub */
  domain: string;
  /** repository path, `library/busybox` for Docker Hub official images */
  path: string;
  tag?: string;
  digest?: string;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  /** an OAuth refresh token (Docker's identitytoken) */
  identityToken?: string;
  /** a bearer token to send as is (Docker's registrytoken) */
  registryToken?: string;
}

/** Where credentials for a registry host come from (config.json, a helper, X-Registry-Auth). */
export interface CredentialSource {
  get(host: string): Promise<AuthConfig | undefined>;
}

export interface RegistryOptions {
  /** hosts (host[:port]) or CIDRs where plain HTTP is allowed; loopback always is, as Docker's */
  insecureRegistries?: string[];
  /** mirrors for docker.io, tried in order before registry-1.docker.io */
  mirrors?: string[];
  credentials?: CredentialSource;
  userAgent?: string;
  signal?: AbortSignal;
}

export interface Fetcher {
  /** The blob or manifest bytes from `offset` (Range); the stream errors on a short read. */
  fetch(desc: Descriptor, options?: { offset?: number; signal?: AbortSignal }): Promise<Readable>;
}

export type PushOutcome = 'pushed' | 'exists' | 'mounted';

export interface Pusher {
  /** HEAD: does the repository already have this blob? */
  exists(desc: Descriptor): Promise<boolean>;
  /**
   * Uploads a blob: existence check, then a cross-repository mount when `mountFrom` (a
   * repository path on the same registry) is given, else an upload session (monolithic, or
   * chunked for big blobs). `open` gives the bytes (from `offset` for a resumed upload).
   */
  pushBlob(
    desc: Descriptor,
    open: (offset: number) => Readable,
    options?: { mountFrom?: string[]; signal?: AbortSignal; onProgress?: (bytes: number) => void },
  ): Promise<PushOutcome>;
  /** PUT the exact manifest bytes under `tag` (or by digest when no tag). Returns the digest. */
  pushManifest(desc: Descriptor, bytes: Buffer, tag?: string): Promise<string>;
}

export interface Resolver {
  /** HEAD (then GET when needed) the manifest: its descriptor, with the digest the registry reports or the one given. */
  resolve(ref: Reference): Promise<Descriptor>;
  fetcher(ref: Reference): Fetcher;
  pusher(ref: Reference): Pusher;
}
