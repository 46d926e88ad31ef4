/**
 * `docker import`: a plain rootfs tarball (gzip, zstd, bzip2, xz or none) as a one-layer image.
 * gzip and zstd bodies are stored as they came (containerd's import does the same); bzip2 and
 * xz ones are decompressed first (no registry takes them as layers). The config carries
 * Docker's fields: platform, `created`, `comment` (the message, else `Imported from <src>`),
 * `config` from the `--change` instructions, one diff_id and one history entry.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BerthError, invalid } from '../common/errors.js';
import { uniqueName } from '../common/fs.js';
import type { ContentStore } from '../content/types.js';
import { type Compression, type Manifest, MediaType, type Platform } from '../oci/image.js';
import { applyChanges } from './changes.js';
import { storeStream } from './copy.js';
import { contentResource, type ImageDeps, ingestResource } from './deps.js';
import { withLease } from './lease.js';
import { configRefLabels, hostPlatform, Labels, manifestRefLabels, sniffCompression } from './manifest.js';
import { normalizeName } from './names.js';
import { resolveImage } from './resolve.js';
import type { Image } from './types.js';
import { unpackResolved, wrap } from './unpack.js';

export interface ImportOptions {
  /** `repo[:tag]` to name the image; none: the image is known by its ID only */
  reference?: string;
  message?: string;
  changes?: string[];
  platform?: Platform;
  /** where the tarball came from, for the default comment (`-` for the request body) */
  source?: string;
  unpack?: boolean;
  /** the creation time (default now) */
  created?: Date;
}

export interface ImportResult {
  /** the image ID (config digest) */
  id: string;
  image: Image;
}

/** bzip2 `BZh`, xz `FD 37 7A 58 5A 00`: decompressed by the system tools. */
function externalCodec(head: Uint8Array): 'bzip2' | 'xz' | undefined {
  if (head.length >= 3 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (
    head.length >= 6 &&
    head[0] === 0xfd &&
    head[1] === 0x37 &&
    head[2] === 0x7a &&
    head[3] === 0x58 &&
    head[4] === 0x5a &&
    head[5] === 0
  ) {
    return 'xz';
  }
  return undefined;
}

/** Runs `cmd` as a filter from `input` to the returned stream, which errors when the tool fails. */
export function filterThrough(cmd: string, args: string[], input: AsyncIterable<Uint8Array>): Readable {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const out = new Readable({ read() {} });
  child.stdout.on('data', (d: Buffer) => {
    if (!out.push(d)) child.stdout.pause();
  });
  out._read = () => child.stdout.resume();
  child.on('error', (err) => out.destroy(new BerthError('unavailable', `${cmd}: ${err.message}`, { cause: err })));
  child.on('close', (code) => {
    if (code === 0) out.push(null);
    else out.destroy(new BerthError('invalid-argument', `${cmd} ${args.join(' ')}: exit ${code}: ${stderr.trim()}`));
  });
  child.stdin.on('error', () => {}); // EPIPE when the tool stops early: reported by its exit status
  (async () => {
    for await (const c of input) if (!child.stdin.write(c)) await new Promise((r) => child.stdin.once('drain', r));
    child.stdin.end();
  })().catch((err) => {
    child.kill();
    out.destroy(err as Error);
  });
  return out;
}

/** The uncompressed stream of a stored blob. */
export function decompressed(content: ContentStore, digest: string, c: Compression): Readable {
  const r = content.reader(digest);
  if (c === 'none') return r;
  if (c === 'gzip') return r.pipe(createGunzip());
  return filterThrough('zstd', ['-dcq'], r);
}

async function sha256Of(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const h = createHash('sha256');
  for await (const c of stream) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

/** Prepends `head` to the rest of an iterator. */
async function* prepend(head: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield head;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

export async function importRootfs(deps: ImageDeps, input: Readable, options: ImportOptions = {}): Promise<ImportResult> {
  const name = options.reference === undefined ? undefined : normalizeName(options.reference);
  try {
    return await withLease(deps.leases, 'import', async (lease) => {
      const it = (input as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
      let head = Buffer.alloc(0);
      // enough bytes to recognise every codec (xz's magic is 6)
      while (head.length < 6) {
        const r = await it.next();
        if (r.done) break;
        head = Buffer.concat([head, r.value]);
      }
      if (head.length === 0) throw invalid('import: the tarball is empty');
      let body: AsyncIterable<Uint8Array> = prepend(head, it);
      const codec = externalCodec(head);
      if (codec) body = filterThrough(codec, ['-dc'], body);
      const compression = codec ? 'none' : sniffCompression(head);
      const ref = `import-${uniqueName()}`;
      await lease.add(ingestResource(ref));
      const protect = (d: string) => lease.add(contentResource(d));
      const layer = await storeStream(deps.content, body, { ref, protect });
      const diffId = compression === 'none' ? layer.digest : await sha256Of(decompressed(deps.content, layer.digest, compression));
      await deps.content.update({ digest: layer.digest, labels: { [Labels.uncompressed]: diffId } }, [`labels.${Labels.uncompressed}`]);

      const platform = options.platform ?? hostPlatform();
      const created = (options.created ?? new Date()).toISOString();
      const comment = options.message || `Imported from ${options.source ?? '-'}`;
      const config: Record<string, unknown> = { architecture: platform.architecture };
      if (platform.variant) config.variant = platform.variant;
      Object.assign(config, {
        comment,
        config: applyChanges(options.changes ?? []),
        created,
        history: [{ created, comment }],
        os: platform.os,
        rootfs: { type: 'layers', diff_ids: [diffId] },
      });
      const configBytes = Buffer.from(JSON.stringify(config));
      const cfg = await storeStream(deps.content, [configBytes], { ref: `import-config-${uniqueName()}`, protect });
      const layerType =
        compression === 'gzip' ? MediaType.ociLayerGzip : compression === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayer;
      const manifest: Manifest = {
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config: { mediaType: MediaType.ociConfig, digest: cfg.digest, size: cfg.size },
        layers: [{ mediaType: layerType, digest: layer.digest, size: layer.size }],
      };
      const manifestBytes = Buffer.from(JSON.stringify(manifest));
      const m = await storeStream(deps.content, [manifestBytes], {
        ref: `import-manifest-${uniqueName()}`,
        labels: manifestRefLabels(manifest),
        protect,
      });
      const target = { mediaType: MediaType.ociManifest, digest: m.digest, size: m.size };
      const img = await resolveImage(deps.content, target, name ?? cfg.digest, platform);
      if (options.unpack ?? true) await unpackResolved(deps, img, name ?? cfg.digest, { lease });
      const labels = configRefLabels(deps.snapshotter.name, img.topChainId);
      await deps.content.update(
        { digest: cfg.digest, labels },
        Object.keys(labels).map((k) => `labels.${k}`),
      );
      // the commit point; an unnamed import is kept under its digest, as containerd's `import-<date>@…`
      const image = deps.images.put({ name: name ?? `import-${created.slice(0, 10)}@${m.digest}`, target });
      return { id: cfg.digest, image };
    });
  } catch (err) {
    throw wrap(`import${name ? ` '${name}'` : ''}`, err);
  }
}
