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

export interface FetchOptions {
  offset?: number;
  signal?: AbortSignal;
}

/**
 * A blob's body left on its connection, for a reader that takes the connection itself
 * (berth-ingest, through pidfd_getfd: src/images/blob-sink.ts): a plain-HTTP response whose
 * headers Node read, with `remaining` bytes still unread in the socket behind `head`. The
 * connection is never reused: `release` closes it, after the reader is done with it.
 */
export interface SocketBody {
  readonly kind: 'socket-body';
  /** the body's first bytes, which Node's HTTP parser had read with the headers */
  readonly head: readonly Buffer[];
  /** the connection's descriptor in this process */
  readonly fd: number;
  /** the body's bytes after `head`, still in the socket */
  readonly remaining: number;
  /** what is fetched, for messages (`repo@digest`) */
  readonly object: string;
  /**
   * Node reads the rest itself after all (the reader could not take the connection): the bytes
   * after `head`, as `fetch`'s stream would give them (an error on a short read).
   */
  resume(): Readable;
  /** Closes the connection (a taken one too: it is never reused). Idempotent. */
  release(): void;
}

export function isSocketBody(x: unknown): x is SocketBody {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'socket-body';
}

export interface Fetcher {
  /** The blob or manifest bytes from `offset` (Range); the stream errors on a short read. */
  fetch(desc: Descriptor, options?: FetchOptions): Promise<Readable>;
  /**
   * The same, or — when `socketBody` is set and the body is a large blob on a plain-HTTP
   * connection with a Content-Length — the body left on its connection.
   */
  fetch(desc: Descriptor, options: FetchOptions & { socketBody: true }): Promise<Readable | SocketBody>;
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
