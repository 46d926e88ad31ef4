/**
 * `docker save` and `docker load` archives.
 *
 * save writes Docker 25's shape, which every loader since 20.10 and containerd's importer
 * accept: an OCI layout (oci-layout, index.json with `io.containerd.image.name` and
 * `org.opencontainers.image.ref.name`, blobs/sha256/…) plus `manifest.json` and `repositories`.
 * Layers stay the stored (compressed) registry blobs, manifests and configs their exact bytes,
 * so image IDs and repo digests survive the round trip. Every blob is re-hashed as it is written.
 * Entries are written in a fixed order with mtime 0: saving twice gives the same bytes.
 *
 * load takes the three shapes in the wild: the legacy one (manifest.json, `<id>.json`,
 * `<v1id>/layer.tar`, shared layers as symlinks), Docker 25's, and OCI-only (index.json). Every
 * regular file goes straight into the content store as it streams past (no temp directory);
 * symlinks and hardlinks are resolved inside the archive only (`..` stops at its root, absolute
 * targets start from it). Layers may be compressed; diff_ids are checked.
 */
import type { Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { BerthError, invalid } from '../common/errors.js';
import { uniqueName } from '../common/fs.js';
import type { ContentStore } from '../content/types.js';
import { type Descriptor, type Index, isIndexType, isManifestType, type Manifest, MediaType, type Platform } from '../oci/image.js';
import { blobPath, storeStream, verified } from './copy.js';
import { contentResource, type ImageDeps, ingestResource } from './deps.js';
import { type ActiveLease, withLease } from './lease.js';
import {
  configRefLabels,
  indexRefLabels,
  Labels,
  MAX_JSON_BLOB,
  manifestKind,
  manifestRefLabels,
  parseConfig,
  parseIndex,
  parseManifest,
  sniffCompression,
} from './manifest.js';
import { familiarRepository, familiarTagged, normalizeName, parseName } from './names.js';
import { entryName, IMAGE_NAME, LAYOUT_VERSION, REF_NAME } from './oci-layout.js';
import { imageBlobs, readBlob, resolveImage } from './resolve.js';
import type { ImageStore } from './store.js';
import type { Image, ProgressSink } from './types.js';
import { unpackResolved, wrap } from './unpack.js';

// ---------------------------------------------------------------- save

export interface SaveOptions {
  platform?: Platform;
}

/** Writes the images `names` as one archive to `out`. */
export async function save(
  deps: { content: ContentStore; images: ImageStore },
  names: string[],
  out: Writable,
  options: SaveOptions = {},
): Promise<void> {
  if (names.length === 0) throw invalid('save: no images given');
  const blobs = new Map<string, Descriptor>();
  const indexEntries: Descriptor[] = [];
  const manifests = new Map<string, { Config: string; RepoTags: string[]; Layers: string[] }>();
  const repositories: Record<string, Record<string, string>> = {};
  for (const n of names) {
    const image = deps.images.get(n);
    const {
      top,
      blobs: bs,
      resolved,
    } = await imageBlobs(deps.content, image.target, image.name, options.platform).catch((err) =>
      Promise.reject(wrap(`save '${image.name}'`, err)),
    );
    for (const b of bs) blobs.set(b.digest, b);
    const ref = parseName(image.name);
    const annotations: Record<string, string> = { [IMAGE_NAME]: image.name };
    if (ref.tag) annotations[REF_NAME] = ref.tag;
    indexEntries.push({ mediaType: top.mediaType, digest: top.digest, size: top.size, annotations });
    let entry = manifests.get(resolved.manifestDesc.digest);
    if (!entry) {
      entry = {
        Config: blobPath(resolved.manifest.config.digest),
        RepoTags: [],
        Layers: resolved.manifest.layers.map((l) => blobPath(l.digest)),
      };
      manifests.set(resolved.manifestDesc.digest, entry);
    }
    const tagged = familiarTagged(image.name);
    if (tagged && !entry.RepoTags.includes(tagged)) entry.RepoTags.push(tagged);
    const topLayer = resolved.manifest.layers.at(-1);
    if (ref.tag && topLayer) {
      const repo = familiarRepository(ref);
      repositories[repo] = { ...repositories[repo], [ref.tag]: topLayer.digest.slice(7) };
    }
  }

  const pack = tar.pack();
  const writing = new Promise<void>((resolve, reject) => {
    out.once('finish', resolve);
    out.once('error', reject);
    pack.once('error', reject);
  });
  pack.pipe(out);
  const epoch = new Date(0);
  const add = (name: string, data: string, mode = 0o644) =>
    new Promise<void>((resolve, reject) =>
      pack.entry({ name, mode, mtime: epoch, uid: 0, gid: 0 }, data, (e) => (e ? reject(e) : resolve())),
    );
  try {
    await new Promise<void>((res, rej) =>
      pack.entry({ name: 'blobs/', type: 'directory', mode: 0o755, mtime: epoch }, (e) => (e ? rej(e) : res())),
    );
    await new Promise<void>((res, rej) =>
      pack.entry({ name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime: epoch }, (e) => (e ? rej(e) : res())),
    );
    for (const d of [...blobs.values()].sort((a, b) => (a.digest < b.digest ? -1 : 1))) {
      let done!: (err?: Error | null) => void;
      const written = new Promise<void>((res, rej) => {
        done = (err) => (err ? rej(err) : res());
      });
      const sink = pack.entry({ name: blobPath(d.digest), size: d.size, mode: 0o444, mtime: epoch, uid: 0, gid: 0 }, done);
      for await (const chunk of verified(deps.content.reader(d.digest), d)) {
        if (!sink.write(chunk)) await new Promise<void>((r) => sink.once('drain', () => r()));
      }
      (sink as unknown as { end(): void }).end();
      await written;
    }
    const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: indexEntries };
    await add('index.json', JSON.stringify(index));
    await add('manifest.json', JSON.stringify([...manifests.values()]));
    await add('oci-layout', JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }), 0o444);
    await add('repositories', JSON.stringify(repositories));
    pack.finalize();
  } catch (err) {
    pack.destroy(err as Error);
    await writing.catch(() => {});
    throw wrap('save', err);
  }
  await writing;
}

// ---------------------------------------------------------------- load

export interface LoadOptions {
  /** unpack into snapshots (default true); false keeps the blobs only */
  unpack?: boolean;
  platform?: Platform;
  onProgress?: ProgressSink;
}

export interface LoadResult {
  images: Image[];
  /** Docker's lines: `Loaded image: busybox:latest` / `Loaded image ID: sha256:…` */
  messages: string[];
}

interface ArchiveIndex {
  files: Map<string, { digest: string; size: number }>;
  links: Map<string, string>;
  hardlinks: Map<string, string>;
}

/** An archive path cleaned and made relative to the archive root (`..` stops at the root). */
export function cleanArchivePath(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** Follows symlinks (and hardlinks) inside the archive; undefined when the path is not a regular file in it. */
export function resolveArchivePath(ix: Pick<ArchiveIndex, 'links' | 'hardlinks'>, p: string): string {
  let hops = 0;
  const walk = (path: string): string[] => {
    const cur: string[] = [];
    for (const part of path.split('/')) {
      if (part === '' || part === '.') continue;
      if (part === '..') {
        cur.pop();
        continue;
      }
      const candidate = [...cur, part].join('/');
      const link = ix.links.get(candidate);
      const hard = ix.hardlinks.get(candidate);
      if (link !== undefined || hard !== undefined) {
        if (++hops > 255) throw invalid(`archive path '${p}': too many levels of symbolic links`, p);
        const next = link !== undefined ? (link.startsWith('/') ? link : [...cur, link].join('/')) : hard!;
        cur.splice(0, cur.length, ...walk(next));
        continue;
      }
      cur.push(part);
    }
    return cur;
  };
  return walk(p).join('/');
}

async function readArchive(content: ContentStore, lease: ActiveLease, input: Readable): Promise<ArchiveIndex> {
  const ix: ArchiveIndex = { files: new Map(), links: new Map(), hardlinks: new Map() };
  const extract = tar.extract();
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);
  let n = 0;
  for await (const e of extract) {
    const entry = e as typeof e & AsyncIterable<Uint8Array>;
    const h = entry.header;
    const name = cleanArchivePath(h.name);
    if ((h.type === 'file' || h.type === 'contiguous-file') && name !== '') {
      const ref = `load-${uniqueName()}-${n++}`;
      await lease.add(ingestResource(ref));
      const stored = await storeStream(content, entry, { ref, protect: (d) => lease.add(contentResource(d)) });
      ix.files.set(name, stored);
      ix.links.delete(name);
      ix.hardlinks.delete(name);
      continue;
    }
    if (h.type === 'symlink' && name !== '') {
      ix.links.set(name, h.linkname ?? '');
      ix.files.delete(name);
    } else if (h.type === 'link' && name !== '') {
      ix.hardlinks.set(name, cleanArchivePath(h.linkname ?? ''));
      ix.files.delete(name);
    }
    for await (const _ of entry) {
      // skip the data of entries that are not files
    }
  }
  return ix;
}

export async function load(deps: ImageDeps, input: Readable, options: LoadOptions = {}): Promise<LoadResult> {
  try {
    return await withLease(deps.leases, 'load', (lease) => loadWithLease(deps, input, lease, options));
  } catch (err) {
    throw wrap('load', err);
  }
}

async function loadWithLease(deps: ImageDeps, input: Readable, lease: ActiveLease, options: LoadOptions): Promise<LoadResult> {
  const { content } = deps;
  const ix = await readArchive(content, lease, input);
  const file = (p: string) => ix.files.get(resolveArchivePath(ix, p));
  const readFile = async (p: string, what: string): Promise<Buffer> => {
    const f = file(p);
    if (!f) throw invalid(`invalid archive: ${what} '${p}' not found in the archive`, p);
    if (f.size > MAX_JSON_BLOB) throw invalid(`invalid archive: ${what} '${p}' is too big`, p);
    return content.readAll(f.digest);
  };

  const found: { names: string[]; target: Descriptor }[] = [];
  const legacy = file('manifest.json') ? await readLegacyManifest(await readFile('manifest.json', 'manifest.json')) : undefined;
  if (file('oci-layout')) {
    let version: unknown;
    try {
      version = (JSON.parse((await readFile('oci-layout', 'oci-layout')).toString()) as { imageLayoutVersion?: unknown })
        .imageLayoutVersion;
    } catch (err) {
      throw invalid(`invalid archive: oci-layout: ${(err as Error).message}`);
    }
    if (version !== LAYOUT_VERSION) throw invalid(`invalid archive: unsupported OCI layout version '${String(version)}'`);
    const index = parseIndex(await readFile('index.json', 'index.json'), 'index.json');
    for (const e of index.manifests) {
      const target: Descriptor = { mediaType: e.mediaType, digest: e.digest, size: e.size };
      await checkOciTree(deps.content, ix, target);
      const names: string[] = [];
      const n = entryName(e);
      if (n) names.push(n);
      else if (legacy) {
        // an OCI entry with only a tag: manifest.json knows the repository (Docker 25 writes both)
        const img = await resolveImage(content, target, e.digest, options.platform);
        for (const l of legacy) if (file(l.Config)?.digest === img.id) names.push(...l.RepoTags.map(normalizeName));
      }
      found.push({ names, target });
    }
  } else if (legacy) {
    for (const [i, l] of legacy.entries()) {
      const target = await legacyManifest(content, lease, l, i, file);
      found.push({ names: l.RepoTags.map((t) => normalizeTag(t)), target });
    }
  } else {
    throw invalid('invalid archive: does not contain a manifest.json');
  }

  const messages: string[] = [];
  const rows: { name: string; target: Descriptor }[] = [];
  for (const f of found) {
    const img = await resolveImage(content, f.target, f.names[0] ?? f.target.digest, options.platform);
    if (img.config.os !== 'linux') throw invalid(`cannot load ${img.config.os} image on linux`);
    for (const [i, l] of img.layers.entries()) {
      if (l.compression === 'none' && l.desc.digest !== l.diffId) {
        throw invalid(`invalid diffID for layer ${i}: expected "${l.diffId}", got "${l.desc.digest}"`, l.desc.digest);
      }
    }
    if (options.unpack ?? true) {
      await unpackResolved(deps, img, f.names[0] ?? img.id, {
        lease,
        ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      });
    }
    const labels = configRefLabels(deps.snapshotter.name, img.topChainId);
    if (Object.keys(labels).length)
      await content.update(
        { digest: img.id, labels },
        Object.keys(labels).map((k) => `labels.${k}`),
      );
    if (f.names.length === 0) {
      rows.push({ name: `import-${new Date().toISOString().slice(0, 10)}@${f.target.digest}`, target: f.target });
      messages.push(`Loaded image ID: ${img.id}`);
    }
    for (const name of f.names) {
      rows.push({ name, target: f.target });
      messages.push(`Loaded image: ${familiarTagged(name) ?? name}`);
    }
  }
  // the commit point: every row at once
  const images = rows.map((r) => deps.images.put(r));
  for (const m of messages) options.onProgress?.({ status: m });
  return { images, messages };
}

function normalizeTag(t: string): string {
  const ref = parseName(t);
  if (ref.digest !== undefined || !/:[^/]+$/.test(t)) throw invalid(`invalid tag '${t}' in manifest.json: expected name:tag`, t);
  return normalizeName(t);
}

interface LegacyEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

async function readLegacyManifest(bytes: Buffer): Promise<LegacyEntry[]> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid(`invalid archive: manifest.json: ${(err as Error).message}`);
  }
  if (!Array.isArray(v)) throw invalid('invalid archive: manifest.json is not a JSON array');
  return v.map((e, i) => {
    const x = e as Partial<LegacyEntry>;
    if (!x || typeof x.Config !== 'string' || !Array.isArray(x.Layers) || !x.Layers.every((l) => typeof l === 'string')) {
      throw invalid(`invalid archive: manifest.json entry ${i}: Config and Layers are required`);
    }
    const tags = x.RepoTags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string'))
      throw invalid(`invalid archive: manifest.json entry ${i}: bad RepoTags`);
    return { Config: x.Config, Layers: x.Layers, RepoTags: tags };
  });
}

/** The OCI manifest (raw bytes of our own making) for a legacy manifest.json entry; config bytes unchanged, so the image ID is kept. */
async function legacyManifest(
  content: ContentStore,
  lease: ActiveLease,
  l: LegacyEntry,
  i: number,
  file: (p: string) => { digest: string; size: number } | undefined,
): Promise<Descriptor> {
  const cfgFile = file(l.Config);
  if (!cfgFile) throw invalid(`invalid archive: manifest.json entry ${i}: config '${l.Config}' not found`, l.Config);
  const configBytes = await content.readAll(cfgFile.digest);
  const config = parseConfig(configBytes, `config '${l.Config}'`);
  if (config.rootfs.diff_ids.length !== l.Layers.length) {
    throw invalid(`invalid manifest, layers length mismatch: expected ${config.rootfs.diff_ids.length}, got ${l.Layers.length}`);
  }
  const layers: Descriptor[] = [];
  for (const [j, p] of l.Layers.entries()) {
    const f = file(p);
    if (!f) throw invalid(`invalid archive: layer '${p}' not found`, p);
    const head = await firstBytes(content, f.digest);
    const c = sniffCompression(head);
    const mediaType = c === 'gzip' ? MediaType.ociLayerGzip : c === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
    layers.push({ mediaType, digest: f.digest, size: f.size });
    const diffId = config.rootfs.diff_ids[j]!;
    await content.update({ digest: f.digest, labels: { [Labels.uncompressed]: diffId } }, [`labels.${Labels.uncompressed}`]);
  }
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cfgFile.digest, size: cfgFile.size },
    layers,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const { digest } = await storeStream(content, [bytes], {
    ref: `load-manifest-${uniqueName()}`,
    labels: manifestRefLabels(manifest),
    protect: (d) => lease.add(contentResource(d)),
  });
  return { mediaType: MediaType.ociManifest, digest, size: bytes.length };
}

async function firstBytes(content: ContentStore, digest: string): Promise<Buffer> {
  const r = content.reader(digest);
  for await (const c of r as AsyncIterable<Buffer>) {
    r.destroy();
    return c;
  }
  return Buffer.alloc(0);
}

/** Checks an OCI entry's blobs are in the archive under their digests, and labels the tree for GC. */
async function checkOciTree(content: ContentStore, ix: ArchiveIndex, d: Descriptor): Promise<void> {
  const stored = ix.files.get(resolveArchivePath(ix, blobPath(d.digest)));
  if (!stored) throw new BerthError('not-found', `invalid archive: blob '${d.digest}' not found`, { object: d.digest });
  if (stored.digest !== d.digest) {
    throw invalid(`invalid archive: blob '${blobPath(d.digest)}' has content digest ${stored.digest}`, d.digest);
  }
  if (stored.size !== d.size) throw invalid(`invalid archive: blob '${d.digest}' is ${stored.size} bytes, not ${d.size}`, d.digest);
  if (isIndexType(d.mediaType) || isManifestType(d.mediaType)) {
    const bytes = await readBlob(content, d, 'archive');
    if (manifestKind(bytes, d.mediaType, `blob '${d.digest}'`) === 'index') {
      const idx = parseIndex(bytes, `index '${d.digest}'`);
      const held: Descriptor[] = [];
      for (const c of idx.manifests) {
        if (!ix.files.has(resolveArchivePath(ix, blobPath(c.digest)))) continue;
        await checkOciTree(content, ix, c);
        held.push(c);
      }
      await label(content, d.digest, indexRefLabels(held));
    } else {
      const m = parseManifest(bytes, `manifest '${d.digest}'`);
      await checkOciTree(content, ix, m.config);
      for (const l of m.layers) await checkOciTree(content, ix, l);
      await label(content, d.digest, manifestRefLabels(m));
    }
  }
}

async function label(content: ContentStore, digest: string, labels: Record<string, string>): Promise<void> {
  const keys = Object.keys(labels);
  if (keys.length)
    await content.update(
      { digest, labels },
      keys.map((k) => `labels.${k}`),
    );
}
