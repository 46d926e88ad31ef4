/**
 * The image endpoints of the Engine API over the image library (engine-api.md §A4, §A5.8–A5.14,
 * §D): pull and import (`POST /images/create`), list, inspect, history, tag, delete, prune,
 * search (refused: no index to search) and `POST /auth`. The Docker shapes, orders and words
 * are computed by the pure modules in ../images/; this file gathers facts and performs effects.
 */
import { BerthError, invalid, isKind } from '../../common/errors.js';
import { authFromRegistryAuthHeader, DOCKER_HUB_KEY, keyHostname, staticCredentials } from '../../distribution/credentials.js';
import { parsePlatform } from '../../distribution/platform.js';
import {
  DOCKER_HUB,
  familiar,
  familiarName,
  formatReference,
  normalizeReference,
  parseReference,
  repositoryName,
} from '../../distribution/reference.js';
import { isLoopbackHost } from '../../distribution/registry.js';
import type { AuthConfig, Reference } from '../../distribution/types.js';
import type { EventBus } from '../../engine/events.js';
import { layerSize as layerSizeOf } from '../../engine/image-size.js';
import { hostPlatform } from '../../images/manifest.js';
import { anonymousName, isAnonymousName, type LocalImage, localImages, repoNames } from '../../images/resolve-local.js';
import type { ImageService } from '../../images/service.js';
import type { ProgressEvent } from '../../images/types.js';
import type { Platform } from '../../oci/image.js';
import { type DeleteRecord, type DeleteRef, planDelete } from '../images/delete.js';
import { pullError } from '../images/errors.js';
import { PullProgress } from '../images/progress.js';
import { createdUnix, history, type ImageFacts, inspectImage, listItem } from '../images/shapes.js';
import type { ApiRequest, ApiResponse, ProgressStream, Route, RouteFactory } from '../types.js';

export interface ImageRouteDeps {
  images: ImageService;
  events: EventBus;
  /** the containers (ids) using an image (`sha256:…`); the engine provides */
  imageUsers(imageId: string): string[];
  /** whether a container is running, for rmi's "(cannot be forced)" conflict; default: not running */
  isRunning?(containerId: string): boolean;
}

/** A row label: when `docker tag` last pointed this name at its image (inspect's Metadata.LastTagTime). */
export const TAG_TIME_LABEL = 'berth.image.tag-time';

const DIGEST_TAG = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/**
 * `fromImage` and `tag` as dockerd's PullImage combines them (a tag may be a digest). With
 * neither a tag nor a digest dockerd pulls every tag (the route does); this gives `latest`.
 */
export function pullReference(fromImage: string, tag: string): Reference {
  const image = fromImage.replace(/:$/, '');
  const ref = parseReference(image);
  if (tag) {
    if (DIGEST_TAG.test(tag)) return parseReference(`${repositoryName(ref)}@${tag}`);
    return parseReference(`${repositoryName(ref)}:${tag}`);
  }
  return normalizeReference(image);
}

function platformOf(req: ApiRequest): Platform | undefined {
  const p = req.query.get('platform');
  return p ? parsePlatform(p, hostPlatform()) : undefined;
}

/** X-Registry-Auth: a missing, empty or broken header is anonymous, as dockerd treats it. */
export function registryAuth(req: Pick<ApiRequest, 'headers'>): AuthConfig | undefined {
  const h = req.headers['x-registry-auth'];
  const value = Array.isArray(h) ? h[0] : h;
  try {
    return authFromRegistryAuthHeader(value).auth;
  } catch {
    return undefined;
  }
}

/** Docker Hub's aliases in `serveraddress` (the CLI sends https://index.docker.io/v1/). */
function loginHost(server: string): string {
  const host = keyHostname(server.trim() || DOCKER_HUB_KEY);
  return ['index.docker.io', 'registry-1.docker.io', DOCKER_HUB].includes(host) ? DOCKER_HUB : host;
}

export const imageRoutes: RouteFactory<ImageRouteDeps> = (deps) => {
  const svc = deps.images;
  const local = localImages({ images: svc.images, content: svc.content });
  const graphDriver = { Name: svc.snapshotter.name === 'overlayfs' ? 'overlay2' : 'vfs', Data: null };

  const layerSize = (chainId: string, blobSize: number) => layerSizeOf(svc.snapshotter, chainId, blobSize);

  const sourcesOf = async (img: LocalImage): Promise<Map<string, Record<string, string>>> => {
    const out = new Map<string, Record<string, string>>();
    for (const r of img.rows) {
      if (out.has(r.target.digest)) continue;
      try {
        out.set(r.target.digest, (await svc.content.info(r.target.digest)).labels);
      } catch (err) {
        if (!isKind(err, 'not-found')) throw err;
      }
    }
    return out;
  };

  const facts = async (img: LocalImage): Promise<ImageFacts> => {
    const names = repoNames(img.rows, await sourcesOf(img));
    const layerSizes: number[] = [];
    for (const l of img.resolved.layers) layerSizes.push(await layerSize(l.chainId, l.desc.size));
    let lastTagTime: Date | undefined;
    for (const r of img.rows) {
      const t = r.labels[TAG_TIME_LABEL] ? new Date(r.labels[TAG_TIME_LABEL]) : undefined;
      if (t && !Number.isNaN(t.getTime()) && (!lastTagTime || t > lastTagTime)) lastTagTime = t;
    }
    const f: ImageFacts = {
      id: img.id,
      config: img.resolved.config,
      repoTags: names.tags,
      repoDigests: names.digests,
      layerSizes,
      graphDriver,
    };
    if (lastTagTime) f.lastTagTime = lastTagTime;
    return f;
  };

  /** Docker's references of an image, for rmi and prune. */
  const refsOf = async (img: LocalImage): Promise<DeleteRef[]> => {
    const refs: DeleteRef[] = [];
    const sources = await sourcesOf(img);
    const rowOf = new Map<string, string>();
    for (const r of img.rows) {
      if (isAnonymousName(r.name)) continue;
      rowOf.set(familiar(parseReference(r.name)), r.name);
    }
    const names = repoNames(img.rows, sources);
    for (const t of names.tags) refs.push({ text: t, repo: familiarName(parseReference(t)), canonical: false, row: rowOf.get(t)! });
    for (const d of names.digests) {
      const ref: DeleteRef = { text: d, repo: familiarName(parseReference(d)), canonical: true };
      const row = rowOf.get(d);
      if (row) ref.row = row;
      refs.push(ref);
    }
    return refs;
  };

  /** The chain IDs only `img` uses (what deleting it frees), top first, as dockerd lists them. */
  const freedLayers = (img: LocalImage, others: LocalImage[]): string[] => {
    const kept = new Set<string>();
    for (const o of others) if (o.id !== img.id) for (const l of o.resolved.layers) kept.add(l.chainId);
    return img.resolved.layers
      .map((l) => l.chainId)
      .filter((c) => !kept.has(c))
      .reverse();
  };

  const usersOf = (id: string) => deps.imageUsers(id).map((c) => ({ id: c, running: deps.isRunning?.(c) ?? false }));

  const publish = (action: string, id: string, name: string, img?: LocalImage) => {
    deps.events.publish('image', action, id, { ...(img?.resolved.config.config?.Labels ?? {}), name });
  };

  // ------------------------------------------------------------------ create: pull and import
  /**
   * Before `name` moves to another image (a pull of a newer image, a tag, a named import): the
   * image it leaves, when a container uses it and nothing else names it. dockerd keeps such an
   * image as `<none>:<none>`; we keep it (unnamed) only for its containers, so `inspect` of
   * their image still answers, and let GC take the others.
   */
  const leaving = async (name: string): Promise<LocalImage | undefined> => {
    const row = svc.images.find(name);
    if (!row) return undefined;
    const img = (await local.all()).find((i) => i.rows.some((r) => r.name === row.name));
    if (!img || img.rows.length > 1 || deps.imageUsers(img.id).length === 0) return undefined;
    return img;
  };
  const keepIfLeft = (img: LocalImage | undefined, name: string) => {
    if (!img) return;
    const now = svc.images.find(name);
    if (now && now.target.digest !== img.rows[0]!.target.digest) {
      svc.images.put({ name: anonymousName(img.rows[0]!.target.digest), target: img.rows[0]!.target });
    }
  };

  /**
   * One reference pulled, with dockerd's lines, into the response's progress stream (opened at
   * the first line, kept in `out`). `quiet`: without its "Status:" line (a pull of every tag
   * says one at the end). Returns whether it was up to date, or, once the stream exists, the
   * error to end it with (before that, throws: a plain error response).
   */
  const pullOne = async (
    req: ApiRequest,
    ref: Reference,
    res: ApiResponse,
    out: { stream?: ProgressStream },
    client: ReturnType<ImageService['registryClient']> | undefined,
    quiet: boolean,
  ): Promise<{ upToDate: boolean } | { failed: string }> => {
    const platform = platformOf(req);
    const progress = new PullProgress((m) => {
      out.stream ??= res.progress();
      out.stream.write(m);
    });
    // the puller names the image in full; dockerd's Status line uses the familiar form
    const full = formatReference(ref);
    const shown = familiar(ref);
    let upToDate = false;
    const onProgress = (e: ProgressEvent) => {
      if (e.status.startsWith('Status: ')) {
        upToDate = e.status.startsWith('Status: Image is up to date');
        if (quiet) return;
      }
      progress.event(
        e.status.startsWith('Status: ') && e.status.endsWith(` ${full}`)
          ? { ...e, status: `${e.status.slice(0, -full.length)}${shown}` }
          : e,
      );
    };
    const before = await leaving(full);
    // dockerd lists no layers when the pulled image's ID was already here (see PullProgress)
    const idsBefore = new Set((await local.all()).map((i) => i.id));
    try {
      const result = await svc.pull(full, {
        onProgress,
        signal: req.signal,
        ...(platform ? { platform } : {}),
        ...(client ? { resolver: client } : {}),
      });
      progress.finish(idsBefore.has(result.id));
    } catch (err) {
      const e = pullError(err, ref);
      if (!out.stream) throw e;
      return { failed: e.message };
    }
    keepIfLeft(before, full);
    if (!quiet) publish('pull', shown, familiarName(ref), await local.resolve(full).catch(() => undefined));
    return { upToDate };
  };

  const pull = async (req: ApiRequest, res: ApiResponse, fromImage: string): Promise<void> => {
    const tag = req.query.get('tag') ?? '';
    let ref: Reference;
    let named: Reference;
    try {
      ref = pullReference(fromImage, tag);
      named = parseReference(fromImage.replace(/:$/, ''));
    } catch (err) {
      throw invalid(`invalid reference format: ${(err as Error).message.replace(/^parse reference '.*?': /, '')}`, fromImage);
    }
    const auth = registryAuth(req);
    const client = auth ? svc.registryClient(staticCredentials(auth, ref.domain)) : undefined;
    const out: { stream?: ProgressStream } = {};
    try {
      // dockerd pulls every tag of a name given without a tag or digest (`docker pull -a`; an
      // API client that sends no tag gets the same)
      if (!tag && named.tag === undefined && named.digest === undefined) {
        const lister = client ?? svc.registryClient();
        let tags: string[];
        try {
          tags = await lister.tags(ref);
        } catch (err) {
          throw pullError(err, ref);
        } finally {
          if (lister !== client) lister.close();
        }
        let downloaded = false;
        for (const t of tags) {
          const r = await pullOne(req, { domain: ref.domain, path: ref.path, tag: t }, res, out, client, true);
          if ('failed' in r) return out.stream!.fail(r.failed);
          downloaded ||= !r.upToDate;
        }
        const shown = familiarName(ref);
        const stream = out.stream ?? res.progress();
        stream.write({ status: downloaded ? `Status: Downloaded newer image for ${shown}` : `Status: Image is up to date for ${shown}` });
        publish('pull', shown, shown, undefined);
        return stream.end();
      }
      const r = await pullOne(req, ref, res, out, client, false);
      if ('failed' in r) return out.stream!.fail(r.failed);
      // a pull that found everything still says Digest and Status: the stream exists
      (out.stream ?? res.progress()).end();
    } finally {
      client?.close();
    }
  };

  const importImage = async (req: ApiRequest, res: ApiResponse, fromSrc: string): Promise<void> => {
    if (fromSrc !== '-') {
      throw new BerthError(
        'not-implemented',
        `import '${fromSrc}': only a tarball in the request body (fromSrc=-) can be imported; this engine fetches no URLs`,
      );
    }
    const repo = req.query.get('repo') ?? '';
    const tag = req.query.get('tag') ?? '';
    let reference: string | undefined;
    if (repo) {
      let ref: Reference;
      try {
        ref = tag ? parseReference(`${repositoryName(parseReference(repo))}:${tag}`) : parseReference(repo);
      } catch (err) {
        throw invalid(`invalid reference format: ${(err as Error).message.replace(/^parse reference '.*?': /, '')}`, repo);
      }
      if (ref.digest !== undefined) throw invalid('cannot import digest reference', repo);
      reference = formatReference(ref);
    }
    const platform = platformOf(req);
    const message = req.query.get('message') ?? '';
    const before = reference ? await leaving(reference) : undefined;
    const result = await svc.importRootfs(req.raw, {
      source: '-',
      changes: req.query.getAll('changes'),
      ...(reference ? { reference } : {}),
      ...(message ? { message } : {}),
      ...(platform ? { platform } : {}),
    });
    if (reference) keepIfLeft(before, reference);
    publish('import', result.id, result.id);
    const stream = res.progress();
    stream.write({ status: result.id });
    stream.end();
  };

  // ------------------------------------------------------------------ list

  const FILTERS = new Set(['dangling', 'label', 'before', 'since', 'reference']);

  const list = async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    const filters = req.filters();
    for (const k of filters.keys()) if (!FILTERS.has(k)) throw invalid(`Invalid filter '${k}'`);
    let dangling: boolean | undefined;
    for (const v of filters.get('dangling') ?? []) {
      const b = ({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[v.toLowerCase()];
      if (b === undefined) throw invalid(`Invalid filter 'dangling=${v}'`);
      dangling = b;
    }
    const createdOf = async (term: string) => createdUnix((await local.resolve(term)).resolved.config);
    const before = filters.get('before')?.[0];
    const since = filters.get('since')?.[0];
    const beforeT = before === undefined ? undefined : await createdOf(before);
    const sinceT = since === undefined ? undefined : await createdOf(since);
    const labels = filters.get('label') ?? [];
    const patterns = filters.get('reference') ?? [];
    const items: Record<string, unknown>[] = [];
    for (const img of await local.all()) {
      const f = await facts(img);
      const created = createdUnix(f.config);
      if (beforeT !== undefined && created >= beforeT) continue;
      if (sinceT !== undefined && created <= sinceT) continue;
      const imgLabels = f.config.config?.Labels ?? {};
      if (!labels.every((l) => matchLabel(imgLabels, l))) continue;
      if (patterns.length) {
        const keep = (n: string) => patterns.some((p) => familiarMatch(p, n));
        f.repoTags = f.repoTags.filter(keep);
        f.repoDigests = f.repoDigests.filter(keep);
        if (f.repoTags.length === 0 && f.repoDigests.length === 0) continue;
      }
      const isDangling = f.repoTags.length === 0;
      if (dangling === true && !isDangling) continue;
      if (dangling === false && isDangling && f.repoDigests.length === 0) continue;
      items.push(listItem(f));
    }
    items.sort((a, b) => (b.Created as number) - (a.Created as number));
    res.json(items);
  };

  // ------------------------------------------------------------------ delete and prune

  const remove = async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    const term = req.params.name!;
    const img = await local.resolve(term);
    const refs = await refsOf(img);
    let named: DeleteRef | undefined;
    if (img.named) {
      const asked = familiar(normalizeReference(term));
      named = refs.find((r) => r.text === asked) ?? refs.find((r) => r.row === img.named!.name);
    }
    const all = await local.all();
    const plan = planDelete({
      term,
      imageId: img.id,
      refs,
      ...(named ? { named } : {}),
      force: req.bool('force'),
      users: usersOf(img.id),
      freedLayers: freedLayers(img, all),
    });
    // a deleted image loses every row, the unnamed ones (an unnamed import, a kept dangling image) too
    await carryOut(img, plan.deleted ? img.rows.map((r) => r.name) : plan.rows, plan.keepUnnamed);
    report(img, plan.records);
    res.json(plan.records);
  };

  const carryOut = async (img: LocalImage, rows: string[], keepUnnamed: boolean) => {
    // the unnamed row first: no moment where nothing names the image (GC could take it)
    if (keepUnnamed) svc.images.put({ name: anonymousName(img.rows[0]!.target.digest), target: img.rows[0]!.target });
    const names = rows.filter((n) => svc.images.find(n) !== undefined);
    svc.remove(names);
  };

  const report = (img: LocalImage, records: DeleteRecord[]) => {
    for (const r of records) {
      if ('Untagged' in r) publish('untag', img.id, img.id, img);
      else if (r.Deleted === img.id) publish('delete', img.id, img.id, img);
    }
  };

  const prune = async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    const filters = req.filters();
    for (const k of filters.keys()) if (!['dangling', 'label', 'label!', 'until'].includes(k)) throw invalid(`Invalid filter '${k}'`);
    let danglingOnly = true;
    for (const v of filters.get('dangling') ?? []) {
      const b = ({ true: true, '1': true, false: false, '0': false } as Record<string, boolean>)[v.toLowerCase()];
      if (b === undefined) throw invalid(`Invalid filter 'dangling=${v}'`);
      danglingOnly = b;
    }
    const until = filters.get('until')?.[0];
    const untilT = until === undefined ? undefined : parseUntil(until);
    const all = await local.all();
    let remaining = [...all];
    const records: DeleteRecord[] = [];
    let reclaimed = 0;
    for (const img of all) {
      const f = await facts(img);
      if (danglingOnly && f.repoTags.length > 0) continue;
      if (untilT !== undefined && createdUnix(f.config) >= untilT) continue;
      const imgLabels = f.config.config?.Labels ?? {};
      if (!(filters.get('label') ?? []).every((l) => matchLabel(imgLabels, l))) continue;
      if ((filters.get('label!') ?? []).some((l) => matchLabel(imgLabels, l))) continue;
      if (deps.imageUsers(img.id).length > 0) continue;
      const refs = await refsOf(img);
      remaining = remaining.filter((o) => o.id !== img.id);
      const freed = freedLayers(img, remaining);
      for (const l of img.resolved.layers) if (freed.includes(l.chainId)) reclaimed += await layerSize(l.chainId, l.desc.size);
      const mine: DeleteRecord[] = [...refs.map((r) => ({ Untagged: r.text })), { Deleted: img.id }, ...freed.map((d) => ({ Deleted: d }))];
      await carryOut(
        img,
        img.rows.map((r) => r.name),
        false,
      );
      report(img, mine);
      records.push(...mine);
    }
    deps.events.publish('image', 'prune', '', { reclaimed: String(reclaimed) });
    res.json({ ImagesDeleted: records.length ? records : null, SpaceReclaimed: reclaimed });
  };

  // ------------------------------------------------------------------ auth

  const login = async (req: ApiRequest, res: ApiResponse): Promise<void> => {
    const body = await req.json<Record<string, unknown>>();
    const str = (k: string) => (typeof body?.[k] === 'string' ? (body[k] as string) : '');
    const host = loginHost(str('serveraddress'));
    const auth: AuthConfig = {};
    if (str('username')) auth.username = str('username');
    if (str('password')) auth.password = str('password');
    if (str('identitytoken')) auth.identityToken = str('identitytoken');
    const client = svc.registryClient(staticCredentials(auth, host));
    try {
      const r = await client.login(host, auth, req.signal);
      res.json({ IdentityToken: r.identityToken ?? '', Status: 'Login Succeeded' });
    } catch (err) {
      const message = (err as Error).message;
      // moby: a token server's refusal is "unauthorized" (401), worded as Go's url.Error of the
      // /v2/ request (`Get "https://host/v2/": unauthorized: incorrect username or password`);
      // a /v2/ that still refuses the token is unclassified (500)
      if (message.startsWith('login attempt to')) res.json({ message }, 500);
      else if (isKind(err, 'permission-denied')) {
        const why = /^fetch token for '.*?' from '.*?': (.*)$/s.exec(message)?.[1] ?? message;
        const apiHost = host === DOCKER_HUB ? 'registry-1.docker.io' : host;
        res.json({ message: `Get "${isLoopbackHost(apiHost) ? 'http' : 'https'}://${apiHost}/v2/": ${why}` }, 401);
      } else throw err;
    } finally {
      client.close();
    }
  };

  const routes: Route[] = [
    {
      method: 'POST',
      path: '/images/create',
      handler: async (req, res) => {
        const fromImage = req.query.get('fromImage');
        const fromSrc = req.query.get('fromSrc');
        if (fromImage) return pull(req, res, fromImage);
        if (fromSrc) return importImage(req, res, fromSrc);
        throw invalid('either fromImage or fromSrc is required');
      },
    },
    { method: 'GET', path: '/images/json', handler: list },
    {
      method: 'GET',
      path: '/images/search',
      handler: () => {
        throw new BerthError(
          'not-implemented',
          'search is not supported: this engine has no registry index to search (no internet access)',
        );
      },
    },
    { method: 'POST', path: '/images/prune', handler: prune },
    {
      method: 'GET',
      path: '/images/{name:.*}/json',
      handler: async (req, res) => res.json(inspectImage(await facts(await local.resolve(req.params.name!)))),
    },
    {
      method: 'GET',
      path: '/images/{name:.*}/history',
      handler: async (req, res) => res.json(history(await facts(await local.resolve(req.params.name!)))),
    },
    {
      method: 'POST',
      path: '/images/{name:.*}/tag',
      handler: async (req, res) => {
        const img = await local.resolve(req.params.name!);
        const repo = req.query.get('repo') ?? '';
        const tag = req.query.get('tag') ?? '';
        if (!repo) throw invalid('repository name must have at least one component');
        let ref: Reference;
        try {
          ref = parseReference(repo);
          if (ref.digest !== undefined) throw invalid('refusing to create a tag with a digest reference', repo);
          ref = tag ? parseReference(`${repositoryName(ref)}:${tag}`) : normalizeReference(repo);
        } catch (err) {
          if (err instanceof BerthError && err.message.startsWith('refusing')) throw err;
          throw invalid(`invalid reference format: ${(err as Error).message.replace(/^parse reference '.*?': /, '')}`, repo);
        }
        const target = (img.named ?? img.rows[0]!).target;
        const name = formatReference(ref);
        const labels = { ...(svc.images.find(name)?.labels ?? {}), [TAG_TIME_LABEL]: new Date().toISOString() };
        const before = await leaving(name);
        svc.images.put({ name, target, labels });
        keepIfLeft(before, name);
        publish('tag', img.id, familiar(ref), img);
        res.empty(201);
      },
    },
    { method: 'DELETE', path: '/images/{name:.*}', handler: remove },
    { method: 'POST', path: '/auth', handler: login },
  ];
  return routes;
};

/** `key` or `key=value` against an image's labels. */
export function matchLabel(labels: Record<string, string>, filter: string): boolean {
  const eq = filter.indexOf('=');
  if (eq < 0) return Object.hasOwn(labels, filter);
  const k = filter.slice(0, eq);
  return Object.hasOwn(labels, k) && labels[k] === filter.slice(eq + 1);
}

/** Go's path.Match, for `reference` filters (`*` and `?` stop at `/`). */
export function pathMatch(pattern: string, name: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) return false;
      let cls = pattern.slice(i + 1, end).replace(/\\/g, '\\\\');
      if (cls.startsWith('^')) cls = `^${cls.slice(1)}`;
      re += `[${cls}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(`${re}$`).test(name);
  } catch {
    return false;
  }
}

/** reference.FamiliarMatch: the pattern against the familiar string and the familiar name. */
export function familiarMatch(pattern: string, name: string): boolean {
  if (pathMatch(pattern, name)) return true;
  const ref = parseReference(name);
  return pathMatch(pattern, familiarName(ref));
}

/** `until`: unix seconds (fractions allowed), an RFC 3339 time, or a Go duration ago (`24h`, `10m`). */
export function parseUntil(value: string, now = Date.now()): number {
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(value);
  if (dur) {
    const ms = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[dur[2] as 'h'] * Number(dur[1]);
    return Math.floor((now - ms) / 1000);
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw invalid(`invalid filter 'until=${value}'`);
  return Math.floor(t / 1000);
}
