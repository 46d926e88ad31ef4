/**
 * Push: the layers (bottom-up) and the config, each skipped when the registry has it ('Layer
 * already exists'), mounted from another repository of the same registry when the content
 * store recorded one as its source ('Mounted from <repo>'), else uploaded from the content
 * store; then the exact manifest bytes (and the index's, when every platform is held), so the
 * digest the registry reports is the one stored here. Every pushed blob records the target
 * repository as a source, so a later push elsewhere on the registry can mount it.
 */
import { BerthError, isKind } from '../common/errors.js';
import type { ContentStore } from '../content/types.js';
import type { Pusher, Resolver } from '../distribution/types.js';
import type { Descriptor, Platform } from '../oci/image.js';
import { addSource, parseManifest, shortId, sourceLabelKey } from './manifest.js';
import { familiarRepository, formatReference, parseName } from './names.js';
import { type ResolvedImage, readBlob, resolveImage } from './resolve.js';
import type { ImageStore } from './store.js';
import type { ProgressSink } from './types.js';
import { wrap } from './unpack.js';

export interface PushDeps {
  content: ContentStore;
  images: ImageStore;
  resolver: Resolver;
}

export interface PushOptions {
  platform?: Platform;
  /** blobs uploaded at once (Docker: 5; containerd: 3) */
  concurrency?: number;
  onProgress?: ProgressSink;
  signal?: AbortSignal;
}

export interface PushResult {
  /** the digest of what the tag now points at */
  digest: string;
  size: number;
}

export async function push(deps: PushDeps, text: string, options: PushOptions = {}): Promise<PushResult> {
  const ref = parseName(text);
  const name = formatReference(ref);
  try {
    return await pushImage(deps, ref, name, options);
  } catch (err) {
    throw wrap(`push '${name}'`, err);
  }
}

async function pushImage(deps: PushDeps, ref: ReturnType<typeof parseName>, name: string, options: PushOptions): Promise<PushResult> {
  const { content, images, resolver } = deps;
  const progress = options.onProgress ?? (() => {});
  const image = images.get(name);
  progress({ status: `The push refers to repository [${familiarRepository(ref)}]` });
  const pusher = resolver.pusher(ref);
  const sourceKey = sourceLabelKey(ref.domain);

  // what to push: every platform of an index when all of them are here, else the one we run
  const img = await resolveImage(content, image.target, name, options.platform);
  const manifests: { desc: Descriptor; bytes: Buffer; resolved?: ResolvedImage }[] = [];
  let pushIndex = false;
  if (img.index) {
    const children = img.index.index.manifests;
    const present = await Promise.all(children.map((d) => has(content, d.digest)));
    if (present.every(Boolean)) {
      pushIndex = true;
      for (const d of children) manifests.push({ desc: d, bytes: await readBlob(content, d, `image '${name}'`) });
    }
  }
  if (!pushIndex) manifests.push({ desc: img.manifestDesc, bytes: img.manifestBytes, resolved: img });

  // blobs: layers bottom-up then the config, per manifest, each once
  const blobs: { desc: Descriptor; id?: string }[] = [];
  const seen = new Set<string>();
  for (const m of manifests) {
    const manifest = m.resolved?.manifest ?? parseManifest(m.bytes, `manifest '${m.desc.digest}'`);
    const diffIds = m.resolved?.config.rootfs.diff_ids;
    manifest.layers.forEach((l, i) => {
      if (seen.has(l.digest)) return;
      seen.add(l.digest);
      // Docker names pushed layers by their diff_id; the layer digest when the config is not at hand
      blobs.push({ desc: l, id: shortId(diffIds?.[i] ?? l.digest) });
    });
    if (!seen.has(manifest.config.digest)) {
      seen.add(manifest.config.digest);
      blobs.push({ desc: manifest.config });
    }
  }
  for (const b of blobs) if (b.id) progress({ id: b.id, status: 'Preparing' });

  const limit = Math.max(1, options.concurrency ?? 3);
  let next = 0;
  const worker = async () => {
    while (next < blobs.length) {
      const b = blobs[next++]!;
      await pushBlob(content, pusher, b.desc, b.id, ref.path, sourceKey, options, progress);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, blobs.length) }, worker));

  const tag = ref.tag;
  let top: { desc: Descriptor; bytes: Buffer };
  if (pushIndex) {
    for (const m of manifests) await pusher.pushManifest(m.desc, m.bytes);
    top = { desc: image.target, bytes: img.index!.bytes };
  } else {
    top = manifests[0]!;
  }
  const digest = await pusher.pushManifest(top.desc, top.bytes, tag);
  if (digest !== top.desc.digest) {
    throw new BerthError('internal', `registry stored manifest '${top.desc.digest}' as '${digest}'`, { object: top.desc.digest });
  }
  for (const d of [top.desc, ...manifests.map((m) => m.desc)]) await recordSource(content, d.digest, sourceKey, ref.path);
  progress({ status: `${tag ?? 'latest'}: digest: ${digest} size: ${top.desc.size}` });
  return { digest, size: top.desc.size };
}

async function has(content: ContentStore, digest: string): Promise<boolean> {
  try {
    await content.info(digest);
    return true;
  } catch (err) {
    if (isKind(err, 'not-found')) return false;
    throw err;
  }
}

async function recordSource(content: ContentStore, digest: string, key: string, repo: string): Promise<void> {
  const info = await content.info(digest);
  const v = addSource(info.labels[key], repo);
  if (v !== info.labels[key]) await content.update({ digest, labels: { [key]: v } }, [`labels.${key}`]);
}

async function pushBlob(
  content: ContentStore,
  pusher: Pusher,
  desc: Descriptor,
  id: string | undefined,
  repo: string,
  sourceKey: string,
  options: PushOptions,
  progress: ProgressSink,
): Promise<void> {
  const info = await content.info(desc.digest).catch((err) => {
    if (isKind(err, 'not-found'))
      throw new BerthError('not-found', `blob '${desc.digest}' is not in the content store`, { object: desc.digest });
    throw err;
  });
  const mountFrom = (info.labels[sourceKey] ?? '').split(',').filter((r) => r && r !== repo);
  let sent = 0;
  let lastEmit = 0;
  const pushOpts: Parameters<Pusher['pushBlob']>[2] = {
    onProgress: (bytes) => {
      sent = bytes;
      const now = Date.now();
      if (id && (now - lastEmit > 100 || sent === desc.size)) {
        lastEmit = now;
        progress({ id, status: 'Pushing', current: sent, total: desc.size });
      }
    },
  };
  if (mountFrom.length) pushOpts.mountFrom = mountFrom;
  if (options.signal) pushOpts.signal = options.signal;
  const outcome = await pusher
    .pushBlob(desc, (offset) => content.reader(desc.digest, { offset }), pushOpts)
    .catch((err) => Promise.reject(wrap(`blob '${desc.digest}'`, err)));
  if (id) {
    const status = outcome === 'exists' ? 'Layer already exists' : outcome === 'mounted' ? `Mounted from ${mountFrom[0]}` : 'Pushed';
    progress({ id, status });
  }
  await recordSource(content, desc.digest, sourceKey, repo);
}
