/**
 * OCI image layout directories (image-spec image-layout.md), as skopeo and umoci read and write
 * them: `oci-layout` ({"imageLayoutVersion":"1.0.0"}), `index.json` whose entries carry the tag
 * in `org.opencontainers.image.ref.name` (and containerd's full name in
 * `io.containerd.image.name`), and `blobs/sha256/<hex>`. Every blob is hashed while it is copied,
 * in both directions.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, fromErrno, isKind } from '../common/errors.js';
import { uniqueName } from '../common/fs.js';
import type { ContentStore } from '../content/types.js';
import { type Descriptor, type Index, MediaType, type Platform } from '../oci/image.js';
import { blobPath, copyBlobToFile, openInside, storeStream } from './copy.js';
import { contentResource, type ImageDeps } from './deps.js';
import { type ActiveLease, withLease } from './lease.js';
import { indexRefLabels, manifestKind, manifestRefLabels, parseIndex, parseManifest, verifyBytes } from './manifest.js';
import { normalizeName, parseName } from './names.js';
import { imageBlobs, resolveImage } from './resolve.js';
import type { Image, ProgressSink } from './types.js';
import { unpackResolved, wrap } from './unpack.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';
export const IMAGE_NAME = 'io.containerd.image.name';
export const LAYOUT_VERSION = '1.0.0';

export interface ExportOptions {
  platform?: Platform;
  /** the tag written as ref.name (default: the image's own tag) */
  refName?: string;
}

/**
 * Writes images into layout `dir` (created when missing; blobs already there are kept, an
 * existing index.json is extended, entries with the same ref.name replaced).
 */
export async function exportOciLayout(
  deps: { content: ContentStore; images: ImageDeps['images'] },
  dir: string,
  names: string[],
  options: ExportOptions = {},
): Promise<Descriptor[]> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  const existing = await readIndexIfAny(dir);
  const entries: Descriptor[] = existing?.manifests ?? [];
  const added: Descriptor[] = [];
  for (const n of names) {
    const image = deps.images.get(n);
    const { top, blobs } = await imageBlobs(deps.content, image.target, image.name, options.platform);
    for (const b of blobs) {
      const file = path.join(dir, blobPath(b.digest));
      try {
        await copyBlobToFile(deps.content, b, file);
      } catch (err) {
        throw wrap(`export '${image.name}'`, err);
      }
    }
    const ref = parseName(image.name);
    const refName = options.refName ?? ref.tag ?? ref.digest;
    const entry: Descriptor = {
      mediaType: top.mediaType,
      digest: top.digest,
      size: top.size,
      annotations: { [IMAGE_NAME]: image.name, ...(refName ? { [REF_NAME]: refName } : {}) },
    };
    const at = entries.findIndex((e) => refName !== undefined && e.annotations?.[REF_NAME] === refName);
    if (at >= 0) entries[at] = entry;
    else entries.push(entry);
    added.push(entry);
  }
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: entries };
  await writeFile(path.join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION }));
  await atomicWrite(path.join(dir, 'index.json'), JSON.stringify(index));
  return added;
}

async function atomicWrite(file: string, data: string): Promise<void> {
  const tmp = `${file}.${uniqueName()}.tmp`;
  await writeFile(tmp, data);
  const { rename } = await import('node:fs/promises');
  await rename(tmp, file);
}

async function readIndexIfAny(dir: string): Promise<Index | undefined> {
  try {
    return parseIndex(await readFile(path.join(dir, 'index.json')), `layout '${dir}': index.json`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface ImportOptions {
  /** the repository for entries that carry only a tag in ref.name (`localhost:5000/app`) */
  repository?: string;
  /** import only the entry whose ref.name is this */
  refName?: string;
  /** unpack the layers into snapshots (default true) */
  unpack?: boolean;
  platform?: Platform;
  onProgress?: ProgressSink;
}

/** The image name an index entry asks for, or undefined when it has none we can use. */
export function entryName(entry: Descriptor, repository?: string): string | undefined {
  const full = entry.annotations?.[IMAGE_NAME];
  if (full) return normalizeName(full);
  const ref = entry.annotations?.[REF_NAME];
  if (!ref) return undefined;
  // ref.name may be a bare tag (skopeo, umoci) or a full reference (some exporters)
  if (/^[\w][\w.-]{0,127}$/.test(ref)) return repository ? normalizeName(`${repository}:${ref}`) : undefined;
  try {
    return normalizeName(ref);
  } catch {
    return undefined;
  }
}

/**
 * Reads a layout `dir` into the store: each index entry's blobs are copied (verified), then
 * unpacked, then named (the commit point), under one lease.
 */
export async function importOciLayout(deps: ImageDeps, dir: string, options: ImportOptions = {}): Promise<Image[]> {
  const what = `layout '${dir}'`;
  let version: unknown;
  try {
    version = (JSON.parse(await readFile(path.join(dir, 'oci-layout'), 'utf8')) as { imageLayoutVersion?: unknown }).imageLayoutVersion;
  } catch (err) {
    throw new BerthError('invalid-argument', `${what}: oci-layout: ${(err as Error).message}`, { cause: err, object: dir });
  }
  if (version !== LAYOUT_VERSION)
    throw new BerthError('invalid-argument', `${what}: unsupported layout version '${String(version)}'`, { object: dir });
  let indexBytes: Buffer;
  try {
    indexBytes = await readFile(path.join(dir, 'index.json'));
  } catch (err) {
    throw fromErrno('read', path.join(dir, 'index.json'), err);
  }
  const index = parseIndex(indexBytes, `${what}: index.json`);
  const entries = index.manifests.filter((e) => options.refName === undefined || e.annotations?.[REF_NAME] === options.refName);
  if (options.refName !== undefined && entries.length === 0) {
    throw new BerthError('not-found', `${what}: no image with ref.name '${options.refName}'`, { object: dir });
  }
  const open = (d: Descriptor) => openInside(dir, blobPath(d.digest));
  return withLease(deps.leases, `import ${dir}`, async (lease) => {
    const out: { name: string; target: Descriptor }[] = [];
    for (const e of entries) {
      const target: Descriptor = { mediaType: e.mediaType, digest: e.digest, size: e.size };
      await copyTree(deps.content, lease, target, open, what, options.platform);
      if (options.unpack ?? true) {
        const img = await resolveImage(deps.content, target, what, options.platform);
        await unpackResolved(deps, img, what, { lease, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
      }
      const name = entryName(e, options.repository) ?? `import-${new Date().toISOString().slice(0, 10)}@${e.digest}`;
      out.push({ name, target });
    }
    return out.map((o) => deps.images.put(o));
  }).catch((err) => Promise.reject(wrap(`import ${what}`, err)));
}

/**
 * Copies `desc` and what it references from `open` into the content store, children first
 * (an index's platforms we cannot find are skipped when not needed), with GC labels.
 */
export async function copyTree(
  content: ContentStore,
  lease: ActiveLease,
  desc: Descriptor,
  open: (d: Descriptor) => Promise<AsyncIterable<Uint8Array>>,
  what: string,
  platform?: Platform,
): Promise<void> {
  const copy = async (d: Descriptor, labels?: Record<string, string>) => {
    await lease.add(contentResource(d.digest));
    await storeStream(content, await open(d), {
      ref: `import-${d.digest}`,
      expected: d.digest,
      size: d.size,
      ...(labels ? { labels } : {}),
    }).catch((err) => Promise.reject(wrap(`blob '${d.digest}'`, err)));
  };
  const readJson = async (d: Descriptor) => {
    const chunks: Buffer[] = [];
    for await (const c of await open(d)) chunks.push(Buffer.from(c));
    const bytes = Buffer.concat(chunks);
    verifyBytes(bytes, d.digest, `${what}: blob '${d.digest}'`);
    return bytes;
  };
  const copyManifest = async (d: Descriptor, bytes: Buffer) => {
    const m = parseManifest(bytes, `${what}: manifest '${d.digest}'`);
    for (const l of m.layers) await copy(l);
    await copy(m.config);
    await copy(d, manifestRefLabels(m));
  };
  const bytes = await readJson(desc);
  if (manifestKind(bytes, desc.mediaType, `${what}: blob '${desc.digest}'`) === 'manifest') return copyManifest(desc, bytes);
  const idx = parseIndex(bytes, `${what}: index '${desc.digest}'`);
  const held: Descriptor[] = [];
  for (const child of idx.manifests) {
    let childBytes: Buffer;
    try {
      childBytes = await readJson(child);
    } catch (err) {
      // a layout may hold one platform of a multi-platform index (skopeo without --all)
      if (isKind(err, 'not-found')) continue;
      throw err;
    }
    if (manifestKind(childBytes, child.mediaType, `${what}: blob '${child.digest}'`) !== 'manifest') continue;
    await copyManifest(child, childBytes);
    held.push(child);
  }
  if (held.length === 0)
    throw new BerthError('not-found', `${what}: index '${desc.digest}' has none of its manifests`, { object: desc.digest });
  void platform;
  await copy(desc, indexRefLabels(held));
}
