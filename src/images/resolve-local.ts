/**
 * Docker's view of the image store: images are known by ID (the config digest) and carry the
 * names (rows) that point at them; a term names one as dockerd's GetImage resolves it:
 *
 *   1. `sha256:<64 hex>` or `<64 hex>`: the image with that ID;
 *   2. `name[:tag]` (normalized, `latest` by default): the row of that name;
 *      `name@digest`: that row, else a row of the same repository whose target is the digest
 *      (a pull by tag records the manifest digest, Docker's RepoDigests);
 *   3. otherwise a hex string (with or without `sha256:`) is an ID prefix, of any length, as
 *      dockerd's digest set does: unique or not found.
 *
 * Rows whose blobs are gone (a crash between a GC and a delete) are skipped, not fatal.
 */
import { BerthError, isKind, notFound } from '../common/errors.js';
import type { Manager, Provider } from '../content/types.js';
import { familiar, familiarName, normalizeReference, parseReference, repositoryName } from '../distribution/reference.js';
import type { Reference } from '../distribution/types.js';
import { sourceLabelKey } from './manifest.js';
import { type ResolvedImage, resolveImage } from './resolve.js';
import type { ImageStore } from './store.js';
import type { Image } from './types.js';

export interface LocalImage {
  /** Docker's image ID: `sha256:` + the config digest's hex */
  id: string;
  /** every row naming this image, sorted by name */
  rows: Image[];
  /** the row the term named; undefined when the term was an ID or ID prefix */
  named?: Image;
  resolved: ResolvedImage;
}

export interface LocalImageDeps {
  images: ImageStore;
  content: Provider & Pick<Manager, 'info'>;
}

const FULL_ID = /^(?:sha256:)?([a-f0-9]{64})$/;
const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;
/** The names importRootfs gives an unnamed import (`import-2026-12-06@sha256:…`): no name for Docker. */
const ANONYMOUS = /^docker\.io\/library\/import-\d{4}-\d{2}-\d{2}@sha256:[a-f0-9]{64}$/;

/** A row that gives its image no repository name (Docker's `<none>:<none>`). */
export function isAnonymousName(name: string): boolean {
  return ANONYMOUS.test(name);
}

/** The row name that keeps an image without giving it a name (as an unnamed import). */
export function anonymousName(targetDigest: string, now = new Date()): string {
  return `import-${now.toISOString().slice(0, 10)}@${targetDigest}`;
}

/** dockerd's ErrImageDoesNotExist: `No such image: busybox:latest`, familiar and tagged. */
export function noSuchImage(term: string, ref?: Reference): BerthError {
  return notFound(`No such image: ${ref ? familiar(ref) : term}`, term);
}

/** Docker's RepoTags and RepoDigests of an image from its rows (familiar forms). */
export function repoNames(rows: Image[], sources: Map<string, Record<string, string>> = new Map()): { tags: string[]; digests: string[] } {
  const tags: string[] = [];
  const digests = new Set<string>();
  for (const r of rows) {
    if (isAnonymousName(r.name)) continue;
    const ref = parseReference(r.name);
    if (ref.digest !== undefined) digests.add(`${familiarName(ref)}@${ref.digest}`);
    else if (ref.tag !== undefined) tags.push(familiar(ref));
    // a pulled row's target came from its repository: Docker records `repo@digest` for it
    const labels = sources.get(r.target.digest);
    if (ref.digest === undefined && labels) {
      const repos = (labels[sourceLabelKey(ref.domain)] ?? '').split(',');
      if (repos.includes(ref.path)) digests.add(`${familiarName(ref)}@${r.target.digest}`);
    }
  }
  return { tags, digests: [...digests].sort() };
}

/** The name of the row a normalized reference names exactly. */
function rowName(ref: Reference): string {
  return `${repositoryName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

export class LocalImages {
  /** resolved manifests by target digest (blobs never change; an index is re-read, as the platforms held may) */
  readonly #cache = new Map<string, ResolvedImage>();

  constructor(private readonly deps: LocalImageDeps) {}

  async #resolve(row: Image): Promise<ResolvedImage | undefined> {
    const hit = this.#cache.get(row.target.digest);
    if (hit) return hit;
    try {
      const r = await resolveImage(this.deps.content, row.target, row.name);
      if (!r.index) {
        if (this.#cache.size > 1024) this.#cache.clear();
        this.#cache.set(row.target.digest, r);
      }
      return r;
    } catch (err) {
      if (isKind(err, 'not-found')) return undefined;
      throw err;
    }
  }

  /** Every image, rows grouped by ID, in the store's name order of their first row. */
  async all(): Promise<LocalImage[]> {
    const byId = new Map<string, LocalImage>();
    for (const row of this.deps.images.list()) {
      const resolved = await this.#resolve(row);
      if (!resolved) continue;
      const img = byId.get(resolved.id);
      if (img) img.rows.push(row);
      else byId.set(resolved.id, { id: resolved.id, rows: [row], resolved });
    }
    return [...byId.values()];
  }

  /**
   * A row the term names and its image, as `resolve` finds them, without listing every image
   * when the term is a name with a row of its own (a container create: one lookup, not a cost
   * that grows with the images). Other terms (ids, prefixes, `repo@digest` of a tag) go through
   * `resolve`.
   */
  async named(term: string): Promise<{ row: Image | undefined; resolved: ResolvedImage }> {
    if (!FULL_ID.test(term)) {
      let ref: Reference | undefined;
      try {
        ref = normalizeReference(term);
      } catch {
        // resolve says what is wrong with it
      }
      const row = ref === undefined ? undefined : this.deps.images.find(rowName(ref));
      const resolved = row && (await this.#resolve(row));
      if (row && resolved) return { row, resolved };
    }
    const img = await this.resolve(term);
    return { row: img.named ?? img.rows[0], resolved: img.resolved };
  }

  /** The image a term names (see the file comment); not-found with dockerd's text. */
  async resolve(term: string): Promise<LocalImage> {
    const full = FULL_ID.exec(term);
    if (full) {
      const id = `sha256:${full[1]}`;
      const img = (await this.all()).find((i) => i.id === id);
      if (!img) throw noSuchImage(term.startsWith('sha256:') ? term : id);
      return img;
    }
    let ref: Reference;
    try {
      ref = parseReference(term);
    } catch (err) {
      // dockerd answers 400 to what parses neither as a name nor as a digest
      throw new BerthError(
        'invalid-argument',
        `invalid reference format: ${(err as Error).message.replace(/^parse reference '.*?': /, '')}`,
        {
          object: term,
          cause: err,
        },
      );
    }
    const normalized = normalizeReference(term);
    const all = await this.all();
    const row = this.#byName(normalized, all);
    if (row) {
      const img = all.find((i) => i.rows.some((r) => r.name === row.name));
      if (img) return { ...img, named: row };
    }
    const prefix = ID_PREFIX.exec(term);
    if (prefix) {
      const hits = all.filter((i) => i.id.startsWith(`sha256:${prefix[1]}`));
      if (hits.length === 1) return hits[0]!;
      if (hits.length > 1) {
        throw notFound(`No such image: ${term} (the ID prefix matches ${hits.length} images; give more of the ID)`, term);
      }
    }
    throw noSuchImage(term, ref.tag === undefined && ref.digest === undefined ? normalized : ref);
  }

  #byName(ref: Reference, all: LocalImage[]): Image | undefined {
    const exact = this.deps.images.find(rowName(ref));
    if (exact) return exact;
    if (ref.digest === undefined || ref.tag !== undefined) return undefined;
    // `repo@digest` of an image pulled by tag: a row of that repository whose target is the digest
    const repo = repositoryName(ref);
    for (const img of all) {
      for (const r of img.rows) {
        if (r.target.digest !== ref.digest && img.resolved.manifestDesc.digest !== ref.digest) continue;
        if (isAnonymousName(r.name)) continue;
        if (repositoryName(parseReference(r.name)) === repo) return r;
      }
    }
    return undefined;
  }
}

/** One LocalImages (and its cache of parsed manifests) per image store. */
const shared = new WeakMap<ImageStore, LocalImages>();

/**
 * The image `term` names (the engine's container create, the image routes): see
 * LocalImages.resolve. Parsed manifests are cached per image store, so repeated calls read no blob twice.
 */
export function resolveLocalImage(deps: LocalImageDeps, term: string): Promise<LocalImage> {
  return localImages(deps).resolve(term);
}

/** The shared LocalImages of an image store. */
export function localImages(deps: LocalImageDeps): LocalImages {
  let l = shared.get(deps.images);
  if (!l) {
    l = new LocalImages(deps);
    shared.set(deps.images, l);
  }
  return l;
}
