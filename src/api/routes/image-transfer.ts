/**
 * The image endpoints that move images in and out of the engine (engine-api.md §A4, §A5.9):
 * `POST /images/{name}/push` (the JSON progress stream of dockerd's push, X-Registry-Auth),
 * `GET /images/{name}/get` and `GET /images/get?names=…` (docker save archives), and
 * `POST /images/load` (docker load: "Loaded image: …" stream lines). The archive formats and
 * the registry protocol are the image library's (src/images/archive.ts, push.ts); this file
 * chooses names as dockerd does, words the stream and publishes the events.
 */
import { PassThrough } from 'node:stream';
import { BerthError, invalid, isKind } from '../../common/errors.js';
import { staticCredentials } from '../../distribution/credentials.js';
import { registryErrorInfo } from '../../distribution/errors.js';
import { familiar, familiarName, formatReference, parseReference, repositoryName } from '../../distribution/reference.js';
import { isLoopbackHost } from '../../distribution/registry.js';
import type { AuthConfig, Reference } from '../../distribution/types.js';
import type { EventBus } from '../../engine/events.js';
import { push } from '../../images/push.js';
import { isAnonymousName, type LocalImage, localImages, noSuchImage } from '../../images/resolve-local.js';
import type { ImageService } from '../../images/service.js';
import type { ProgressEvent } from '../../images/types.js';
import { pullError } from '../images/errors.js';
import { toJsonMessage } from '../images/progress.js';
import type { ApiRequest, ApiResponse, JsonMessage, Route, RouteFactory } from '../types.js';
import { registryAuth } from './images.js';

export interface ImageTransferDeps {
  images: ImageService;
  events: EventBus;
}

/** dockerd's words for a push of something not here (said inside the stream, after "The push refers to"). */
const LOCAL_MISS = /^(?:An image does not exist locally with the tag: |tag does not exist: )/;
const DIGEST_TAG = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** `{name}` and `?tag=` as dockerd's postImagesPush combines them; no tag: every tag of the repository. */
export function pushReference(name: string, tag: string): Reference {
  let ref: Reference;
  try {
    ref = parseReference(name);
    if (tag) ref = parseReference(DIGEST_TAG.test(tag) ? `${repositoryName(ref)}@${tag}` : `${repositoryName(ref)}:${tag}`);
  } catch (err) {
    throw invalid(`invalid reference format: ${(err as Error).message.replace(/^parse reference '.*?': /, '')}`, name);
  }
  return ref;
}

/** A push failure as dockerd words it inside the stream: dial errors as Go's, registry errors as `code: message`. */
export function pushErrorText(err: unknown, ref: Reference): string {
  const dial = pullError(err, ref);
  if (dial.message.startsWith('Get "')) return dial.message;
  const info = registryErrorInfo(err);
  if (info?.code === 'UNAUTHORIZED' || info?.status === 401) return `unauthorized: ${info.message ?? 'authentication required'}`;
  if (info?.code === 'DENIED' || info?.status === 403) return `denied: ${info.message ?? 'requested access to the resource is denied'}`;
  if (info?.code) return `${info.code.toLowerCase().replace(/_/g, ' ')}: ${info.message ?? ''}`.trim();
  // the library's "push 'name': blob '…': cause" without its verbs
  return String((err as Error)?.message ?? err).replace(/^(?:push|blob|manifest) '[^']*': /g, '');
}

/**
 * dockerd's words when a registry refuses a push without credentials (seen with docker-registry
 * 2.8): `no basic auth credentials` behind a Basic challenge, the token server's pull-only grant
 * worded `denied: …` behind a Bearer one. The challenge is read again from `/v2/` (one request,
 * on this failure path only); undefined when it cannot be.
 */
async function anonymousRefusal(host: string, signal: AbortSignal): Promise<string | undefined> {
  if (!isLoopbackHost(host)) return undefined; // https with certificates: left to the registry's own words
  try {
    const res = await fetch(`http://${host}/v2/`, { signal: AbortSignal.any([signal, AbortSignal.timeout(5000)]) });
    const scheme = (res.headers.get('www-authenticate') ?? '').split(' ')[0]?.toLowerCase();
    if (scheme === 'basic') return 'no basic auth credentials';
    if (scheme === 'bearer') return 'denied: requested access to the resource is denied';
  } catch {
    // the registry is gone too: keep the first error
  }
  return undefined;
}

/**
 * The X-Registry-Auth header; without it, dockerd 20.10 reads the (deprecated) auth config from
 * the body and refuses an empty or broken one with 400 `Bad parameters and missing X-Registry-Auth`.
 */
async function pushAuth(req: ApiRequest): Promise<AuthConfig | undefined> {
  if (req.headers['x-registry-auth']) return registryAuth(req);
  let body: Record<string, unknown> | undefined;
  try {
    const text = await new Promise<string>((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      req.raw.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 1 << 20) reject(new Error('too large'));
        else parts.push(c);
      });
      req.raw.once('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      req.raw.once('error', reject);
    });
    if (text.trim() === '') throw new Error('EOF');
    body = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw invalid(`Bad parameters and missing X-Registry-Auth: ${(err as Error).message}`);
  }
  const str = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : undefined);
  const auth: AuthConfig = {};
  if (str('username')) auth.username = str('username');
  if (str('password')) auth.password = str('password');
  if (str('identitytoken')) auth.identityToken = str('identitytoken');
  return Object.keys(auth).length ? auth : undefined;
}

export const imageTransferRoutes: RouteFactory<ImageTransferDeps> = (deps) => {
  const svc = deps.images;
  const local = localImages({ images: svc.images, content: svc.content });

  const labelsOf = (img: LocalImage | undefined) => ({ ...(img?.resolved.config.config?.Labels ?? {}) });

  /** The tags of a repository held here (row names, sorted), for a push or save without a tag. */
  const tagsOf = (ref: Reference): string[] => {
    const repo = repositoryName(ref);
    return svc.images
      .list()
      .map((r) => r.name)
      .filter((n) => !isAnonymousName(n))
      .filter((n) => {
        const r = parseReference(n);
        return r.tag !== undefined && r.digest === undefined && repositoryName(r) === repo;
      })
      .sort();
  };

  // ------------------------------------------------------------------ push

  const pushImage = async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    const ref = pushReference(req.params.name!, req.query.get('tag') ?? '');
    const auth = await pushAuth(req);
    const stream = res.progress();
    // dockerd names the repository in full here (Name.Name()), e.g. [docker.io/library/busybox]
    stream.write({ status: `The push refers to repository [${repositoryName(ref)}]` });
    const client = svc.registryClient(auth ? staticCredentials(auth, ref.domain) : undefined);
    try {
      let names: string[];
      if (ref.tag === undefined && ref.digest === undefined) {
        names = tagsOf(ref);
        if (names.length === 0) throw new BerthError('not-found', `An image does not exist locally with the tag: ${familiarName(ref)}`);
      } else {
        const full = formatReference(ref);
        if (!svc.images.find(full)) {
          throw new BerthError(
            'not-found',
            tagsOf(ref).length
              ? `tag does not exist: ${familiar(ref)}`
              : `An image does not exist locally with the tag: ${familiarName(ref)}`,
          );
        }
        names = [full];
      }
      for (const name of names) {
        const tagged = parseReference(name);
        const onProgress = (e: ProgressEvent) => {
          if (e.status.startsWith('The push refers to repository')) return;
          stream.write(toJsonMessage(e));
        };
        const r = await push({ ...svc.deps, resolver: client }, name, { onProgress, signal: req.signal });
        const aux: JsonMessage = { progressDetail: {}, aux: { Tag: tagged.tag ?? '', Digest: r.digest, Size: r.size } };
        stream.write(aux);
      }
      const img = await local.resolve(names[0]!).catch(() => undefined);
      const id = ref.tag !== undefined || ref.digest !== undefined ? familiar(ref) : familiarName(ref);
      deps.events.publish('image', 'push', id, { ...labelsOf(img), name: familiarName(ref) });
      stream.end();
    } catch (err) {
      let text = err instanceof BerthError && LOCAL_MISS.test(err.message) ? err.message : pushErrorText(err, ref);
      if (!auth && registryErrorInfo(err)?.status === 401) text = (await anonymousRefusal(ref.domain, req.signal)) ?? text;
      stream.fail(text);
    } finally {
      client.close();
    }
  };

  // ------------------------------------------------------------------ save

  /** The store rows `docker save <names>` writes, as dockerd's tarexport picks them (404 for a name not here). */
  const saveNames = async (terms: string[]): Promise<{ rows: string[]; ids: string[] }> => {
    const rows: string[] = [];
    const ids: string[] = [];
    const add = (row: string, id: string) => {
      if (!rows.includes(row)) rows.push(row);
      if (!ids.includes(id)) ids.push(id);
    };
    for (const term of terms) {
      let ref: Reference | undefined;
      try {
        ref = parseReference(term);
      } catch {
        ref = undefined;
      }
      // a repository without a tag: all its tags (dockerd: ReferencesByName)
      if (ref && ref.tag === undefined && ref.digest === undefined && !/^(?:sha256:)?[a-f0-9]{1,64}$/.test(term)) {
        const tags = tagsOf(ref);
        if (tags.length) {
          for (const t of tags) add(t, (await local.resolve(t)).id);
          continue;
        }
        // dockerd then searches IDs, and its miss names the term as given
        const img = await local.resolve(term).catch((err) => {
          throw isKind(err, 'not-found') ? noSuchImage(term) : err;
        });
        add((img.named ?? img.rows.find((r) => !isAnonymousName(r.name)) ?? img.rows[0]!).name, img.id);
        continue;
      }
      const img = await local.resolve(term);
      const row = img.named ?? img.rows.find((r) => !isAnonymousName(r.name)) ?? img.rows[0]!;
      add(row.name, img.id);
    }
    return { rows, ids };
  };

  const save = async (req: ApiRequest, res: ApiResponse, terms: string[]): Promise<void> => {
    if (terms.length === 0) throw invalid('no image names given');
    const { rows, ids } = await saveNames(terms);
    // The archive goes through a pipe so that a failure before its first byte is still an HTTP
    // error; after that, the only way to tell the client is to cut the connection.
    const pipe = new PassThrough();
    let out: NodeJS.WritableStream | undefined;
    pipe.once('readable', () => {
      out = res.stream('application/x-tar');
      pipe.pipe(out);
    });
    const abort = () => pipe.destroy(new Error('the client went away'));
    req.signal.addEventListener('abort', abort, { once: true });
    try {
      await svc.save(rows, pipe);
    } catch (err) {
      if (!out) throw err;
      req.raw.socket.destroy();
      return;
    } finally {
      req.signal.removeEventListener('abort', abort);
    }
    for (const id of ids) deps.events.publish('image', 'save', id, { name: id });
  };

  // ------------------------------------------------------------------ load

  const load = async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    const quiet = req.bool('quiet');
    const stream = res.progress();
    const before = new Map(svc.images.list().map((r) => [r.name, r.target.digest]));
    const oldIds = new Map<string, string>();
    for (const img of await local.all()) for (const r of img.rows) oldIds.set(r.target.digest, img.id);
    const layers = new Map<string, number>();
    const onProgress = (e: ProgressEvent) => {
      if (quiet || e.id === undefined) return;
      // the unpacker's steps, as dockerd's "Loading layer" bar of each layer
      if (e.status === 'Extracting') layers.set(e.id, e.total ?? 0);
      const total = layers.get(e.id) ?? 0;
      const current = e.status === 'Pull complete' ? total : (e.current ?? 0);
      stream.write(toJsonMessage({ id: e.id, status: 'Loading layer', current, total }));
    };
    let result: Awaited<ReturnType<ImageService['load']>>;
    try {
      result = await svc.load(req.raw, { onProgress });
    } catch (err) {
      stream.fail(String((err as Error).message ?? err).replace(/^load: /, ''));
      return;
    }
    for (const img of result.images) {
      const was = before.get(img.name);
      const oldId = was && was !== img.target.digest ? oldIds.get(was) : undefined;
      const shown = familiar(parseReference(img.name));
      if (oldId) stream.write({ stream: `The image ${shown} already exists, renaming the old one with ID ${oldId} to empty string\n` });
    }
    for (const m of result.messages) stream.write({ stream: `${m}\n` });
    const ids = new Set<string>();
    for (const img of result.images) {
      const id = await local
        .resolve(img.name)
        .then((i) => i.id)
        .catch(() => undefined);
      if (id) ids.add(id);
    }
    for (const id of ids) deps.events.publish('image', 'load', id, { name: id });
    stream.end();
  };

  const routes: Route[] = [
    { method: 'GET', path: '/images/get', handler: (req, res) => save(req, res, req.query.getAll('names')) },
    { method: 'GET', path: '/images/{name:.*}/get', handler: (req, res) => save(req, res, [req.params.name!]) },
    { method: 'POST', path: '/images/load', handler: load },
    { method: 'POST', path: '/images/{name:.*}/push', handler: pushImage },
  ];
  return routes;
};
