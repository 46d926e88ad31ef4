/**
 * The registry client: a Resolver (with its Fetcher and Pusher) over HTTP(S), per the OCI
 * distribution spec and as dockerd drives registry 2.8 (engine-api.md §B):
 *
 *   - per registry host, one `/v2/` ping decides the scheme (https first; plain http only for
 *     loopback and configured insecure registries) and records the auth challenge, so later
 *     requests carry a token from the start instead of collecting a 401 each;
 *   - a 401 re-reads the challenge, fetches a fresh token and retries once;
 *   - 429 (and 502/503/504) are retried after `Retry-After`, a bounded number of times;
 *   - redirects (S3/CDN blob storage) are followed, dropping `Authorization` on another host;
 *   - docker.io is reached at registry-1.docker.io, after the configured mirrors for pulls.
 *
 * Manifests are always read as exact bytes and hashed; blob bodies are counted (short reads and
 * overlong bodies fail) and the caller hashes them into the content store, or uses `verifying`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { BerthError } from '../common/errors.js';
import { type Descriptor, isIndexType, isManifestType, MediaType, sha256Digest } from '../oci/image.js';
import { basicAuthorization, type Challenge, parseWwwAuthenticate, pullScope, pushScopes, TokenCache } from './auth.js';
import { registryError } from './errors.js';
import { discard, type HttpRequest, header, IDLE_TIMEOUT_MS, NodeTransport, readBody, type Transport } from './http.js';
import { DOCKER_HUB, formatReference, manifestReference, repositoryName } from './reference.js';
import type { AuthConfig, Fetcher, FetchOptions, Pusher, PushOutcome, Reference, RegistryOptions, Resolver, SocketBody } from './types.js';

/** Docker Hub's API host. */
export const DOCKER_HUB_API = 'registry-1.docker.io';

/** The manifest types we read, sent on every manifest HEAD and GET (never schema 1). */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociIndex,
  MediaType.ociManifest,
];

/** Larger manifests are refused: they are JSON describing a few blobs (containerd uses 4 MiB too). */
export const MANIFEST_LIMIT = 4 << 20;
const ERROR_BODY_LIMIT = 64 << 10;
const MAX_REDIRECTS = 10;

export interface ClientOptions extends RegistryOptions {
  transport?: Transport;
  /** blobs up to this size are uploaded in one PUT; bigger ones in PATCH chunks (default 32 MiB) */
  monolithicMax?: number;
  /** the size of an upload chunk (default 32 MiB) */
  chunkSize?: number;
  /** attempts for 429/502/503/504 answers (default 4) */
  retries?: number;
  /** the longest Retry-After honoured, in ms; a longer one fails at once (default 30 s) */
  maxRetryWait?: number;
}

/** One API endpoint: the registry itself, or a mirror of docker.io. */
interface Endpoint {
  /** host[:port] the requests go to */
  apiHost: string;
  /** a scheme forced by a mirror URL */
  scheme?: 'http' | 'https';
  mirror: boolean;
}

/** What the ping learned about an endpoint. */
interface EndpointState {
  base: URL;
  insecureTls: boolean;
  challenge?: Challenge;
}

/** A request's context: what it is for, for auth scopes and error messages. */
interface Ctx {
  /** the registry (reference domain) whose credentials apply */
  host: string;
  /** the reference, named in errors */
  object: string;
  scopes: string[];
  signal?: AbortSignal;
}

export function isLoopbackHost(hostPort: string): boolean {
  const host = stripPort(hostPort);
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function stripPort(hostPort: string): string {
  if (hostPort.startsWith('[')) return hostPort.slice(1, hostPort.indexOf(']'));
  const colon = hostPort.lastIndexOf(':');
  return colon >= 0 && hostPort.indexOf(':') === colon ? hostPort.slice(0, colon) : hostPort;
}

/** `Content-Type` without parameters, lower-cased. */
function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

const isSchema1 = (mt: string) => mt === MediaType.dockerSchema1 || mt === MediaType.dockerSchema1Signed;

function schema1Refused(object: string, mt: string): BerthError {
  return new BerthError(
    'not-implemented',
    `resolve '${object}': Docker schema 1 manifests (${mt}) are not supported; push the image again with a newer client`,
    { object },
  );
}

/** What a manifest's body says it is, when the Content-Type does not (absent or application/json). */
function sniffMediaType(object: string, bytes: Buffer): string {
  let j: { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown; config?: unknown; layers?: unknown };
  try {
    j = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new BerthError('invalid-argument', `resolve '${object}': manifest is not JSON`, { object, cause: err });
  }
  if (j === null || typeof j !== 'object')
    throw new BerthError('invalid-argument', `resolve '${object}': manifest is not a JSON object`, { object });
  if (j.schemaVersion === 1) throw schema1Refused(object, MediaType.dockerSchema1);
  if (typeof j.mediaType === 'string' && j.mediaType) return j.mediaType;
  if (Array.isArray(j.manifests)) return MediaType.ociIndex;
  if (j.config !== undefined && Array.isArray(j.layers)) return MediaType.ociManifest;
  throw new BerthError('invalid-argument', `resolve '${object}': cannot tell what kind of manifest this is`, { object });
}

/** Resolves an opaque upload `Location` against the request URL and adds `digest=` to its query. */
export function uploadUrl(location: string, requestUrl: URL, digest?: string): URL {
  const url = new URL(location, requestUrl);
  if (digest !== undefined) {
    // Append to the query as a string: re-serializing it (URLSearchParams) could re-encode the
    // registry's opaque `_state` token.
    const d = `digest=${encodeURIComponent(digest)}`;
    url.search = url.search.length > 1 ? `${url.search}&${d}` : `?${d}`;
  }
  return url;
}

/** `Range: 0-1064728` (registry 2.8) or `bytes=0-1064728`: the end offset, or undefined. */
export function parseRangeEnd(value: string | undefined): number | undefined {
  const m = /^(?:bytes=)?(\d+)-(\d+)$/.exec((value ?? '').trim());
  return m ? Number(m[2]) : undefined;
}

/** `Retry-After` as ms: delay-seconds or an HTTP date. */
export function retryAfterMs(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * A pass-through that hashes and counts a blob and fails at the end when it is not `desc`
 * (or at once when it grows past `desc.size`). For callers that do not hash themselves.
 */
export function verifying(desc: Descriptor, object = desc.digest): Transform {
  const hash = createHash('sha256');
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      n += chunk.length;
      if (n > desc.size)
        return cb(new BerthError('invalid-argument', `verify '${object}': more than the ${desc.size} bytes expected`, { object }));
      hash.update(chunk);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (n !== desc.size) return cb(new BerthError('unavailable', `verify '${object}': ${n} bytes of ${desc.size}`, { object }));
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== desc.digest) return cb(new BerthError('invalid-argument', `verify '${object}': digest mismatch: got ${got}`, { object }));
      cb();
    },
  });
}

export class RegistryClient implements Resolver {
  private readonly transport: Transport;
  private readonly ownsTransport: boolean;
  private readonly tokens: TokenCache;
  private readonly pings = new Map<string, Promise<EndpointState>>();
  private readonly creds = new Map<string, Promise<AuthConfig | undefined>>();
  private readonly insecure = new BlockList();
  private readonly insecureHosts = new Set<string>();
  private readonly mirrors: Endpoint[];
  readonly monolithicMax: number;
  readonly chunkSize: number;

  constructor(private readonly options: ClientOptions = {}) {
    this.transport = options.transport ?? new NodeTransport();
    this.ownsTransport = options.transport === undefined;
    this.tokens = new TokenCache(this.transport);
    this.monolithicMax = options.monolithicMax ?? 32 << 20;
    this.chunkSize = options.chunkSize ?? 32 << 20;
    for (const entry of options.insecureRegistries ?? []) {
      const [addr, bits] = entry.split('/');
      const family = addr ? isIP(addr) : 0;
      if (bits !== undefined && family) this.insecure.addSubnet(addr!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
      else if (family && bits === undefined) this.insecure.addAddress(addr!, family === 6 ? 'ipv6' : 'ipv4');
      else this.insecureHosts.add(entry.replace(/^https?:\/\//, '').replace(/\/+$/, ''));
    }
    this.mirrors = (options.mirrors ?? []).map((m) => {
      const match = /^(?:(https?):\/\/)?([^/]+)\/*$/.exec(m.trim());
      if (!match)
        throw new BerthError('invalid-argument', `registry mirror '${m}': not a URL of the form https://host[:port]`, { object: m });
      return { apiHost: match[2]!, scheme: match[1] as 'http' | 'https' | undefined, mirror: true };
    });
  }

  close(): void {
    if (this.ownsTransport) this.transport.close();
  }

  /** Plain http (and https without verification) allowed: loopback, or listed as insecure. */
  isInsecure(hostPort: string): boolean {
    if (isLoopbackHost(hostPort)) return true;
    if (this.insecureHosts.has(hostPort) || this.insecureHosts.has(stripPort(hostPort))) return true;
    const ip = stripPort(hostPort);
    const family = isIP(ip);
    return family !== 0 && this.insecure.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }

  private endpoints(ref: Reference, pull: boolean): Endpoint[] {
    if (ref.domain !== DOCKER_HUB) return [{ apiHost: ref.domain, mirror: false }];
    const hub: Endpoint = { apiHost: DOCKER_HUB_API, mirror: false };
    return pull ? [...this.mirrors, hub] : [hub];
  }

  /** Tries each endpoint in order (mirrors first); the last one's error is the one reported. */
  private async onEndpoints<T>(ref: Reference, pull: boolean, fn: (ep: EndpointState) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const eps = this.endpoints(ref, pull);
    let last: unknown;
    for (const ep of eps) {
      try {
        return await fn(await this.ping(ep, { host: ref.domain, object: formatReference(ref), scopes: [], signal }));
      } catch (err) {
        last = err;
        if (signal?.aborted || this.options.signal?.aborted) throw err;
      }
    }
    throw last;
  }

  // ---------------------------------------------------------------- ping and requests

  private ping(ep: Endpoint, ctx: Ctx): Promise<EndpointState> {
    const key = `${ep.scheme ?? ''}://${ep.apiHost}`;
    let p = this.pings.get(key);
    if (!p) {
      p = this.doPing(ep, ctx);
      this.pings.set(key, p);
      p.catch(() => this.pings.delete(key));
    }
    return p;
  }

  private async doPing(ep: Endpoint, ctx: Ctx): Promise<EndpointState> {
    const insecure = this.isInsecure(ep.apiHost);
    const schemes = ep.scheme ? [ep.scheme] : insecure ? (['https', 'http'] as const) : (['https'] as const);
    // Every scheme's ping goes out at once, and the answers are taken in order (https first, as
    // Docker): a plain-HTTP registry does not wait for the https attempt to fail first (a TLS
    // set-up, ~25 ms of a fresh process's first one here). An answer not taken is discarded.
    const sent = schemes.map((scheme) => {
      const base = new URL(`${scheme}://${ep.apiHost}`);
      const res = this.transport.send({
        method: 'GET',
        url: new URL('/v2/', base),
        headers: this.ua(),
        // The ping is shared by every request to the host: one caller's abort must not fail the others.
        signal: this.options.signal,
        insecureTls: insecure,
      });
      res.catch(() => {});
      return { base, res };
    });
    const discardRest = (from: number) => {
      for (const s of sent.slice(from)) s.res.then(discard, () => {});
    };
    let last: unknown;
    for (const [i, { base, res: pending }] of sent.entries()) {
      const state: EndpointState = { base, insecureTls: insecure };
      let res: IncomingMessage;
      try {
        res = await pending;
      } catch (err) {
        last = new BerthError('unavailable', `ping '${ep.apiHost}': ${networkText(err)}`, { object: ep.apiHost, cause: err });
        if (this.options.signal?.aborted) {
          discardRest(i + 1);
          throw last;
        }
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status === 200) {
        discard(res);
        discardRest(i + 1);
        return state;
      }
      if (status === 401) {
        discard(res);
        discardRest(i + 1);
        state.challenge = pickChallenge(parseWwwAuthenticate(res.headers['www-authenticate']));
        return state;
      }
      const body = await readBody(res, ERROR_BODY_LIMIT, ep.apiHost).catch(() => undefined);
      last = registryError('ping', ep.apiHost, status, body);
    }
    throw last;
  }

  private signal(ctx: Ctx): AbortSignal | undefined {
    const signals = [ctx.signal, this.options.signal].filter((s): s is AbortSignal => s !== undefined);
    return signals.length <= 1 ? signals[0] : AbortSignal.any(signals);
  }

  private ua(): Record<string, string> {
    return this.options.userAgent ? { 'User-Agent': this.options.userAgent } : {};
  }

  private credentials(host: string): Promise<AuthConfig | undefined> {
    const src = this.options.credentials;
    if (!src) return Promise.resolve(undefined);
    let p = this.creds.get(host);
    if (!p) {
      p = src.get(host);
      this.creds.set(host, p);
      p.catch(() => this.creds.delete(host));
    }
    return p;
  }

  /** The Authorization header for a request, per the endpoint's challenge. */
  private async authorization(ctx: Ctx, st: EndpointState, fresh = false, extraScopes: string[] = []): Promise<string | undefined> {
    const auth = await this.credentials(ctx.host);
    if (auth?.registryToken) return `Bearer ${auth.registryToken}`;
    const ch = st.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return auth ? basicAuthorization(auth) : undefined;
    if (ch.scheme !== 'bearer') return undefined;
    const realm = ch.params.realm;
    if (!realm)
      throw new BerthError('invalid-argument', `authenticate '${ctx.object}': bearer challenge without a realm`, { object: ctx.object });
    const tok = await this.tokens.get(
      {
        realm,
        service: ch.params.service,
        scopes: [...new Set([...ctx.scopes, ...extraScopes])],
        auth,
        object: ctx.object,
        userAgent: this.options.userAgent,
        signal: this.signal(ctx),
      },
      { fresh },
    );
    return `Bearer ${tok.token}`;
  }

  /**
   * One registry request with auth, redirects and rate-limit retries. Returns the final answer,
   * whatever its status; the caller decides what is a success.
   */
  private async request(
    ctx: Ctx,
    st: EndpointState,
    method: string,
    target: string | URL,
    headers: Record<string, string | string[]> = {},
    body?: HttpRequest['body'],
    verb = method.toLowerCase(),
  ): Promise<IncomingMessage> {
    let url = typeof target === 'string' ? new URL(target, st.base) : target;
    let authorization = await this.authorization(ctx, st);
    let authRetried = false;
    let attempts = 0;
    let redirects = 0;
    let staleRetried = false;
    const retries = this.options.retries ?? 4;
    for (;;) {
      const h: Record<string, string | string[]> = { ...this.ua(), ...headers };
      // Credentials go to the registry only, never to a CDN it redirects to.
      if (authorization && url.host === st.base.host) h.Authorization = authorization;
      let res: IncomingMessage;
      try {
        res = await this.transport.send({
          method,
          url,
          headers: h,
          body,
          signal: this.signal(ctx),
          // a CDN the registry redirects to gets normal certificate checks
          insecureTls: st.insecureTls && url.host === st.base.host,
        });
      } catch (err) {
        if (err instanceof BerthError) throw err;
        // A kept-alive connection the server closed while idle fails the next request at once;
        // an idempotent request is sent again, once, on a new connection.
        const code = (err as NodeJS.ErrnoException).code;
        if (
          !staleRetried &&
          (method === 'GET' || method === 'HEAD') &&
          (code === 'ECONNRESET' || code === 'EPIPE') &&
          !this.signal(ctx)?.aborted
        ) {
          staleRetried = true;
          continue;
        }
        throw new BerthError('unavailable', `${verb} '${ctx.object}': ${method} ${url.origin}${url.pathname}: ${networkText(err)}`, {
          object: ctx.object,
          cause: err,
        });
      }
      const status = res.statusCode ?? 0;
      if (status === 401 && !authRetried && url.host === st.base.host) {
        const challenge = pickChallenge(parseWwwAuthenticate(res.headers['www-authenticate']));
        if (challenge) {
          st.challenge = challenge;
          const extra = challenge.params.scope ? challenge.params.scope.split(' ') : [];
          const next = await this.authorization(ctx, st, true, extra);
          if (next !== undefined) {
            discard(res);
            authRetried = true;
            authorization = next;
            continue;
          }
        }
        return res;
      }
      if ((status === 429 || status === 502 || status === 503 || status === 504) && ++attempts < retries) {
        const wait = retryAfterMs(header(res, 'retry-after')) ?? 500 * 2 ** (attempts - 1);
        if (wait <= (this.options.maxRetryWait ?? 30_000)) {
          discard(res);
          await sleep(wait, this.signal(ctx));
          continue;
        }
      }
      if ([301, 302, 303, 307, 308].includes(status) && (method === 'GET' || method === 'HEAD')) {
        const loc = header(res, 'location');
        if (loc && ++redirects <= MAX_REDIRECTS) {
          discard(res);
          url = parseUrl(loc, url, verb, ctx.object);
          continue;
        }
      }
      return res;
    }
  }

  private async fail(verb: string, ctx: Ctx, res: IncomingMessage): Promise<never> {
    const body = await readBody(res, ERROR_BODY_LIMIT, ctx.object).catch(() => undefined);
    throw registryError(verb, ctx.object, res.statusCode ?? 0, body);
  }

  /**
   * dockerd's `/auth` (registry `loginV2`): ping `/v2/`, get a token with the credentials (asking
   * for a refresh token: offline_token=true&client_id=docker, no scope) or use Basic, and check
   * that `/v2/` accepts it. A registry without auth accepts every login, as Docker's does.
   */
  async login(host: string, auth: AuthConfig, signal?: AbortSignal): Promise<LoginResult> {
    const ep: Endpoint = { apiHost: host === DOCKER_HUB ? DOCKER_HUB_API : host, mirror: false };
    const ctx: Ctx = { host, object: host, scopes: [], signal };
    const st = await this.ping(ep, ctx);
    const url = new URL('/v2/', st.base);
    const ch = st.challenge;
    if (!ch) return {};
    let authorization: string | undefined;
    let identityToken: string | undefined;
    if (ch.scheme === 'basic') authorization = basicAuthorization(auth);
    else if (ch.scheme === 'bearer' && ch.params.realm) {
      const tok = await this.tokens.get(
        {
          realm: ch.params.realm,
          service: ch.params.service,
          scopes: [],
          auth,
          object: host,
          userAgent: this.options.userAgent,
          signal,
          offline: true,
        },
        { fresh: true },
      );
      authorization = `Bearer ${tok.token}`;
      identityToken = tok.refreshToken;
    }
    const res = await this.transport.send({
      method: 'GET',
      url,
      headers: { ...this.ua(), ...(authorization ? { Authorization: authorization } : {}) },
      signal: this.signal(ctx),
      insecureTls: st.insecureTls,
    });
    discard(res);
    if (res.statusCode !== 200) {
      const kind = res.statusCode === 401 || res.statusCode === 403 ? 'permission-denied' : 'unavailable';
      throw new BerthError(kind, `login attempt to ${url.href} failed with status: ${res.statusCode} ${res.statusMessage ?? ''}`.trim(), {
        object: host,
      });
    }
    return identityToken ? { identityToken } : {};
  }

  // ---------------------------------------------------------------- resolve

  async resolve(ref: Reference): Promise<Descriptor> {
    const object = formatReference(ref);
    const ctx: Ctx = { host: ref.domain, object, scopes: [pullScope(ref.path)] };
    const which = manifestReference(ref);
    const path = `/v2/${ref.path}/manifests/${which}`;
    return this.onEndpoints(ref, true, async (st) => {
      const head = await this.request(ctx, st, 'HEAD', path, { Accept: [...MANIFEST_ACCEPT] }, undefined, 'resolve');
      discard(head);
      if (head.statusCode === 200) {
        const mt = mediaTypeOf(header(head, 'content-type'));
        if (isSchema1(mt)) throw schema1Refused(object, mt);
        const digest = ref.digest ?? header(head, 'docker-content-digest');
        const size = Number(header(head, 'content-length'));
        if (
          digest &&
          /^sha256:[a-f0-9]{64}$/.test(digest) &&
          (isManifestType(mt) || isIndexType(mt)) &&
          Number.isSafeInteger(size) &&
          size > 0
        ) {
          return { mediaType: mt, digest, size };
        }
      }
      // No usable HEAD (no digest or type, or an error without a body): GET tells all.
      const { bytes, mediaType, reported } = await this.getManifest(ctx, st, path);
      const digest = sha256Digest(bytes);
      const expected = ref.digest ?? (reported && /^sha256:/.test(reported) ? reported : undefined);
      if (expected !== undefined && expected !== digest) {
        throw new BerthError('invalid-argument', `resolve '${object}': manifest digest mismatch: got ${digest}, expected ${expected}`, {
          object,
        });
      }
      return { mediaType, digest, size: bytes.length };
    });
  }

  /** GET a manifest: its exact bytes, its media type (Content-Type, else the body), the digest the registry reports. */
  private async getManifest(ctx: Ctx, st: EndpointState, path: string, accept: readonly string[] = MANIFEST_ACCEPT, verb = 'resolve') {
    const res = await this.request(ctx, st, 'GET', path, { Accept: [...accept] }, undefined, verb);
    if (res.statusCode !== 200) await this.fail(verb, ctx, res);
    const bytes = await readBody(res, MANIFEST_LIMIT, ctx.object);
    let mediaType = mediaTypeOf(header(res, 'content-type'));
    if (isSchema1(mediaType)) throw schema1Refused(ctx.object, mediaType);
    if (!isManifestType(mediaType) && !isIndexType(mediaType)) mediaType = sniffMediaType(ctx.object, bytes);
    if (isSchema1(mediaType)) throw schema1Refused(ctx.object, mediaType);
    return { bytes, mediaType, reported: header(res, 'docker-content-digest') };
  }

  // ---------------------------------------------------------------- fetch

  fetcher(ref: Reference): Fetcher {
    const ctx: Ctx = { host: ref.domain, object: formatReference(ref), scopes: [pullScope(ref.path)] };
    const fetch = (desc: Descriptor, options: FetchOptions & { socketBody?: boolean } = {}) =>
      this.onEndpoints(
        ref,
        true,
        (st) => this.fetchOne(ref, { ...ctx, signal: options.signal }, st, desc, options.offset ?? 0, options.socketBody === true),
        options.signal,
      );
    return { fetch } as Fetcher;
  }

  private async fetchOne(
    ref: Reference,
    ctx: Ctx,
    st: EndpointState,
    desc: Descriptor,
    offset: number,
    socketBody = false,
  ): Promise<Readable | SocketBody> {
    const object = `${repositoryName(ref)}@${desc.digest}`;
    if (!/^sha256:[a-f0-9]{64}$/.test(desc.digest)) {
      throw new BerthError('invalid-argument', `fetch '${object}': not a sha256 digest`, { object });
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > desc.size) {
      throw new BerthError('invalid-argument', `fetch '${object}': offset ${offset} outside 0..${desc.size}`, { object });
    }
    const c = { ...ctx, object };
    if (isManifestType(desc.mediaType) || isIndexType(desc.mediaType) || isSchema1(desc.mediaType)) {
      // Manifests are small: read whole, and check the exact bytes against the digest we asked for.
      const accept = MANIFEST_ACCEPT.includes(desc.mediaType) ? MANIFEST_ACCEPT : [desc.mediaType, ...MANIFEST_ACCEPT];
      const { bytes } = await this.getManifest(c, st, `/v2/${ref.path}/manifests/${desc.digest}`, accept, 'fetch');
      const got = sha256Digest(bytes);
      if (got !== desc.digest) throw new BerthError('invalid-argument', `fetch '${object}': digest mismatch: got ${got}`, { object });
      if (bytes.length !== desc.size)
        throw new BerthError('invalid-argument', `fetch '${object}': size ${bytes.length}, descriptor says ${desc.size}`, { object });
      return Readable.from([bytes.subarray(offset)], { objectMode: false });
    }
    const headers: Record<string, string> = {};
    if (offset > 0) headers.Range = `bytes=${offset}-`;
    const res = await this.request(c, st, 'GET', `/v2/${ref.path}/blobs/${desc.digest}`, headers, undefined, 'fetch');
    const status = res.statusCode ?? 0;
    let skip = 0;
    if (status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(res, 'content-range') ?? '');
      if (!m || Number(m[1]) !== offset) {
        discard(res);
        throw new BerthError('unavailable', `fetch '${object}': asked for bytes ${offset}-, got '${header(res, 'content-range') ?? ''}'`, {
          object,
        });
      }
    } else if (status === 200) {
      // The server ignored Range: drop what we already have.
      skip = offset;
    } else if (status === 416 && offset === desc.size) {
      discard(res);
      return Readable.from([], { objectMode: false });
    } else {
      await this.fail('fetch', c, res);
    }
    if (socketBody && skip === 0) {
      const body = await socketBodyOf(res, object, desc.size - offset);
      if (body) return body;
    }
    return res.pipe(counted(res, object, desc.size - offset, skip));
  }

  /**
   * The repository's tags (`docker pull --all-tags`), following `Link: <…>; rel="next"` pages.
   * At most `limit` tags, so a hostile registry cannot page forever; `pageSize` asks for pages (`n=`).
   */
  async tags(ref: Reference, options: { limit?: number; pageSize?: number } = {}): Promise<string[]> {
    const limit = options.limit ?? 100_000;
    const object = repositoryName(ref);
    const ctx: Ctx = { host: ref.domain, object, scopes: [pullScope(ref.path)] };
    return this.onEndpoints(ref, true, async (st) => {
      const out: string[] = [];
      let url: URL | undefined = new URL(`/v2/${ref.path}/tags/list${options.pageSize ? `?n=${options.pageSize}` : ''}`, st.base);
      while (url && out.length < limit) {
        const res = await this.request(ctx, st, 'GET', url, { Accept: 'application/json' }, undefined, 'list tags');
        if (res.statusCode !== 200) await this.fail('list tags', ctx, res);
        const body = await readBody(res, MANIFEST_LIMIT, object);
        let page: { tags?: unknown };
        try {
          page = JSON.parse(body.toString('utf8'));
        } catch (err) {
          throw new BerthError('invalid-argument', `list tags '${object}': answer is not JSON`, { object, cause: err });
        }
        if (Array.isArray(page?.tags)) for (const t of page.tags) if (typeof t === 'string') out.push(t);
        const next = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(header(res, 'link') ?? '');
        const nextUrl: URL | undefined = next ? parseUrl(next[1]!, url, 'list tags', object) : undefined;
        // pages stay on the registry: a Link elsewhere would carry our token away
        url = nextUrl && nextUrl.host === st.base.host ? nextUrl : undefined;
      }
      return out.slice(0, limit);
    });
  }

  // ---------------------------------------------------------------- push

  pusher(ref: Reference): Pusher {
    const object = formatReference(ref);
    const base: Ctx = { host: ref.domain, object, scopes: pushScopes(ref.path) };
    const onPrimary = <T>(fn: (st: EndpointState) => Promise<T>, signal?: AbortSignal) => this.onEndpoints(ref, false, fn, signal);
    return {
      exists: (desc) => onPrimary((st) => this.exists(ref, base, st, desc)),
      pushBlob: (desc, open, options = {}) =>
        onPrimary(
          (st) =>
            this.pushBlob(
              ref,
              { ...base, scopes: pushScopes(ref.path, options.mountFrom), signal: options.signal },
              st,
              desc,
              open,
              options,
            ),
          options.signal,
        ),
      pushManifest: (desc, bytes, tag) => onPrimary((st) => this.pushManifest(ref, base, st, desc, bytes, tag)),
    };
  }

  private async exists(ref: Reference, ctx: Ctx, st: EndpointState, desc: Descriptor): Promise<boolean> {
    const kind = isManifestType(desc.mediaType) || isIndexType(desc.mediaType) ? 'manifests' : 'blobs';
    const headers = kind === 'manifests' ? { Accept: [...MANIFEST_ACCEPT] } : undefined;
    const res = await this.request(ctx, st, 'HEAD', `/v2/${ref.path}/${kind}/${desc.digest}`, headers, undefined, 'check');
    discard(res);
    if (res.statusCode === 200) return true;
    if (res.statusCode === 404) return false;
    return this.fail('check', { ...ctx, object: `${repositoryName(ref)}@${desc.digest}` }, res);
  }

  private async pushBlob(
    ref: Reference,
    ctx: Ctx,
    st: EndpointState,
    desc: Descriptor,
    open: (offset: number) => Readable,
    options: { mountFrom?: string[]; onProgress?: (bytes: number) => void },
  ): Promise<PushOutcome> {
    const object = `${repositoryName(ref)}@${desc.digest}`;
    const c = { ...ctx, object };
    if (await this.exists(ref, c, st, desc)) return 'exists';
    const uploads = `/v2/${ref.path}/blobs/uploads/`;
    let location: URL | undefined;
    for (const from of options.mountFrom ?? []) {
      if (from === ref.path) continue;
      const url = new URL(`${uploads}?mount=${encodeURIComponent(desc.digest)}&from=${encodeURIComponent(from)}`, st.base);
      const res = await this.request(c, st, 'POST', url, { 'Content-Length': '0' }, undefined, 'mount');
      if (res.statusCode === 201) {
        discard(res);
        return 'mounted';
      }
      // 202: the registry could not mount and opened a normal upload session instead.
      if (res.statusCode === 202) {
        location = this.location(c, res, url);
        discard(res);
        break;
      }
      await this.fail('mount', c, res);
    }
    if (!location) {
      const url = new URL(uploads, st.base);
      const res = await this.request(c, st, 'POST', url, { 'Content-Length': '0' }, undefined, 'push');
      // 201 would mean "done" only for a POST carrying the blob; ours carries none, so 202 it is.
      if (res.statusCode !== 202) await this.fail('push', c, res);
      location = this.location(c, res, url);
      discard(res);
    }
    try {
      return await this.upload(c, st, location, desc, open, options.onProgress);
    } catch (err) {
      // Cancel the session (as dockerd does), so the registry can drop what it holds; best effort.
      await this.request(c, st, 'DELETE', location, {}, undefined, 'cancel').then(discard, () => {});
      throw err;
    }
  }

  private async upload(
    c: Ctx,
    st: EndpointState,
    location: URL,
    desc: Descriptor,
    open: (offset: number) => Readable,
    progress?: (bytes: number) => void,
  ): Promise<PushOutcome> {
    const object = c.object;
    let done: IncomingMessage;
    if (desc.size <= this.monolithicMax) {
      const put = uploadUrl(location.href, location, desc.digest);
      done = await this.request(
        c,
        st,
        'PUT',
        put,
        { 'Content-Type': 'application/octet-stream', 'Content-Length': String(desc.size) },
        () => {
          const source = open(0);
          const counter = uploadCounter(object, desc.size, progress);
          // pipe() does not forward errors: a failing source must fail the upload, not stall it
          source.on('error', (err) => counter.destroy(err));
          return source.pipe(counter);
        },
        'push',
      );
    } else {
      location = await this.patchChunks(c, st, location, desc, open, progress);
      done = await this.request(
        c,
        st,
        'PUT',
        uploadUrl(location.href, location, desc.digest),
        { 'Content-Length': '0' },
        undefined,
        'push',
      );
    }
    if (done.statusCode !== 201 && done.statusCode !== 204) await this.fail('push', c, done);
    discard(done);
    const reported = header(done, 'docker-content-digest');
    if (reported && reported !== desc.digest) {
      throw new BerthError('invalid-argument', `push '${object}': the registry stored ${reported}`, { object });
    }
    return 'pushed';
  }

  private location(ctx: Ctx, res: IncomingMessage, requestUrl: URL): URL {
    const loc = header(res, 'location');
    if (!loc) throw new BerthError('invalid-argument', `push '${ctx.object}': upload answer without a Location`, { object: ctx.object });
    try {
      return uploadUrl(loc, requestUrl);
    } catch (err) {
      throw new BerthError('invalid-argument', `push '${ctx.object}': bad upload Location '${loc}'`, { object: ctx.object, cause: err });
    }
  }

  /**
   * Uploads in PATCH chunks of `chunkSize` (Content-Range `start-end`, Content-Length). A chunk
   * that fails on the network is resumed from the offset the registry reports for the session.
   */
  private async patchChunks(
    ctx: Ctx,
    st: EndpointState,
    location: URL,
    desc: Descriptor,
    open: (offset: number) => Readable,
    progress?: (bytes: number) => void,
  ): Promise<URL> {
    let offset = 0;
    let resumes = 0;
    while (offset < desc.size) {
      const source = open(offset);
      try {
        for await (const chunk of chunksOf(source, this.chunkSize)) {
          const end = offset + chunk.length - 1;
          const res = await this.request(
            ctx,
            st,
            'PATCH',
            location,
            { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end}` },
            chunk,
            'push',
          );
          if (res.statusCode !== 202) await this.fail('push', ctx, res);
          location = this.location(ctx, res, location);
          discard(res);
          const got = parseRangeEnd(header(res, 'range'));
          if (got !== undefined && got !== end) {
            throw new BerthError('unavailable', `push '${ctx.object}': registry has bytes 0-${got}, expected 0-${end}`, {
              object: ctx.object,
            });
          }
          offset = end + 1;
          progress?.(offset);
          if (offset > desc.size)
            throw new BerthError('invalid-argument', `push '${ctx.object}': more than ${desc.size} bytes to upload`, {
              object: ctx.object,
            });
        }
        source.destroy();
        if (offset !== desc.size)
          throw new BerthError('invalid-argument', `push '${ctx.object}': only ${offset} of ${desc.size} bytes to upload`, {
            object: ctx.object,
          });
      } catch (err) {
        source.destroy();
        if (!(err instanceof BerthError && err.kind === 'unavailable') || ++resumes > 3) throw err;
        // Ask the session how much it holds, and go on from there.
        const res = await this.request(ctx, st, 'GET', location, {}, undefined, 'push');
        if (res.statusCode !== 204) await this.fail('push', ctx, res);
        discard(res);
        location = this.location(ctx, res, location);
        const end = parseRangeEnd(header(res, 'range'));
        offset = end === undefined ? 0 : end + 1;
      }
    }
    return location;
  }

  private async pushManifest(ref: Reference, ctx: Ctx, st: EndpointState, desc: Descriptor, bytes: Buffer, tag?: string): Promise<string> {
    const object = tag ? `${repositoryName(ref)}:${tag}` : `${repositoryName(ref)}@${desc.digest}`;
    const c = { ...ctx, object };
    const digest = sha256Digest(bytes);
    if (digest !== desc.digest || bytes.length !== desc.size) {
      throw new BerthError(
        'invalid-argument',
        `push '${object}': manifest bytes are ${digest} (${bytes.length} bytes), descriptor says ${desc.digest} (${desc.size})`,
        {
          object,
        },
      );
    }
    const res = await this.request(
      c,
      st,
      'PUT',
      `/v2/${ref.path}/manifests/${tag ?? desc.digest}`,
      { 'Content-Type': desc.mediaType },
      bytes,
      'push',
    );
    if (res.statusCode !== 201 && res.statusCode !== 200) await this.fail('push', c, res);
    discard(res);
    const reported = header(res, 'docker-content-digest');
    if (reported && reported !== digest)
      throw new BerthError('invalid-argument', `push '${object}': the registry stored ${reported}`, { object });
    return digest;
  }
}

export interface LoginResult {
  /** a refresh token to keep instead of the password (Docker's IdentityToken), when the token server gave one */
  identityToken?: string;
}

export function createResolver(options: ClientOptions = {}): RegistryClient {
  return new RegistryClient(options);
}

// ---------------------------------------------------------------- helpers

/** A URL from a registry header (Location, Link), resolved against the request's; a BerthError when malformed. */
function parseUrl(value: string, base: URL, verb: string, object: string): URL {
  try {
    return new URL(value, base);
  } catch (err) {
    throw new BerthError('invalid-argument', `${verb} '${object}': the registry sent a malformed URL '${value.slice(0, 200)}'`, {
      object,
      cause: err,
    });
  }
}

function pickChallenge(chs: Challenge[]): Challenge | undefined {
  return chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic');
}

function networkText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.name === 'AbortError') return 'aborted';
  const msg = String(e?.message ?? err);
  return e?.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Smaller bodies are read by Node: handing a connection over costs more than it saves. */
const SOCKET_BODY_MIN = 1 << 20;

/** What socketBodyOf uses of Node's socket handle (a TCPWrap): its descriptor, and stopping its reads. */
interface RawHandle {
  fd?: number;
  readStop?: () => number;
  readStart?: () => number;
}

/**
 * The body of `res` left on its connection (types.ts SocketBody), when it can be: a plain-HTTP
 * connection (TLS lives in Node), a Content-Length of `expected` bytes, no transfer or content
 * encoding, at least SOCKET_BODY_MIN bytes. Node stops reading the socket; the body bytes its
 * HTTP parser had already read become the head. Otherwise undefined, and nothing is changed.
 */
export async function socketBodyOf(res: IncomingMessage, object: string, expected: number): Promise<SocketBody | undefined> {
  const socket = res.socket as (Socket & { encrypted?: boolean; _handle?: RawHandle | null }) | null;
  if (!socket || socket.encrypted || expected < SOCKET_BODY_MIN) return undefined;
  if (header(res, 'content-length') !== String(expected)) return undefined;
  if (res.headers['transfer-encoding'] !== undefined || res.headers['content-encoding'] !== undefined) return undefined;
  // The read that carried the headers may carry body bytes too, which the parser pushes into
  // res after the 'response' event: one turn of the event loop later they are all in res.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const handle = socket._handle;
  const fd = handle?.fd;
  if (!handle || typeof handle.readStop !== 'function' || typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) return undefined;
  // at least the first 4 bytes in Node, for apply's check of the compression (ApplyTee.sniff)
  if (res.complete || res.destroyed || socket.destroyed || res.readableLength < 4) return undefined;
  handle.readStop();
  // Bytes the socket read but did not hand to the parser (it pauses the socket while res is
  // full) are in the socket's own buffer: a read() gives them to the parser ('data'), which
  // pushes them into res.
  for (let i = 0; i < 1024 && socket.readableLength > 0; i++) socket.read();
  const head: Buffer[] = [];
  let n = 0;
  for (let c: Buffer | null = res.read(); c !== null; c = res.read()) {
    head.push(c);
    n += c.length;
  }
  // reading res may have asked for more: the socket stays stopped (libuv reads only in its poll phase)
  handle.readStop();
  if (socket.readableLength > 0 || n > expected) {
    // not every byte Node read is in the head: Node reads this body itself
    if (n > 0) res.unshift(Buffer.concat(head, n));
    handle.readStart?.();
    return undefined;
  }
  // Node's idle timer (http.ts) would destroy the request while another process reads it
  socket.setTimeout(0);
  // a connection destroyed with its response unfinished makes res emit 'aborted' and an error
  res.on('error', () => {});
  let released = false;
  return {
    kind: 'socket-body',
    head,
    fd,
    remaining: expected - n,
    object,
    resume: () => {
      // Node reads again, under the request's idle timer again
      socket.setTimeout(IDLE_TIMEOUT_MS);
      handle.readStart?.();
      return res.pipe(counted(res, object, expected - n, 0));
    },
    release: () => {
      if (released) return;
      released = true;
      socket.destroy();
    },
  };
}

/**
 * Counts a blob body: drops `skip` leading bytes (a server that ignored Range), fails on more
 * than `expected` bytes, and on fewer when the connection ends early (so the caller can resume).
 */
function counted(res: IncomingMessage, object: string, expected: number, skip: number): Transform {
  let n = 0;
  let toSkip = skip;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (toSkip > 0) {
        const drop = Math.min(toSkip, chunk.length);
        toSkip -= drop;
        chunk = chunk.subarray(drop);
        if (chunk.length === 0) return cb();
      }
      n += chunk.length;
      if (n > expected)
        return cb(new BerthError('invalid-argument', `fetch '${object}': more than the ${expected} bytes expected`, { object }));
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (n !== expected)
        return cb(new BerthError('unavailable', `fetch '${object}': connection ended after ${n} of ${expected} bytes`, { object }));
      cb();
    },
  });
  // An aborted response ends without 'end': turn it into the same short-read error.
  res.on('error', (err) =>
    t.destroy(
      new BerthError('unavailable', `fetch '${object}': connection lost after ${n} of ${expected} bytes: ${networkText(err)}`, {
        object,
        cause: err,
      }),
    ),
  );
  res.on('aborted', () =>
    t.destroy(new BerthError('unavailable', `fetch '${object}': connection lost after ${n} of ${expected} bytes`, { object })),
  );
  t.on('close', () => {
    if (!res.complete) res.destroy();
  });
  return t;
}

/**
 * Counts upload bytes for progress, and holds the source to the size the request announced: a
 * short or long source fails the request instead of leaving the registry waiting for bytes.
 */
function uploadCounter(object: string, expected: number, onProgress?: (bytes: number) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      n += chunk.length;
      if (n > expected)
        return cb(new BerthError('invalid-argument', `push '${object}': the source has more than ${expected} bytes`, { object }));
      onProgress?.(n);
      cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (n !== expected)
        return cb(new BerthError('invalid-argument', `push '${object}': the source ended after ${n} of ${expected} bytes`, { object }));
      cb();
    },
  });
}

/** Re-chunks a stream into buffers of `size` bytes (the last one shorter). */
async function* chunksOf(source: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let n = 0;
  for await (const c of source) {
    let buf = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    while (n + buf.length >= size) {
      const take = size - n;
      parts.push(buf.subarray(0, take));
      yield Buffer.concat(parts);
      parts = [];
      n = 0;
      buf = buf.subarray(take);
    }
    if (buf.length) {
      parts.push(buf);
      n += buf.length;
    }
  }
  if (n > 0) yield Buffer.concat(parts);
}
