/**
 * The image side's test harness: an ImageService on a temporary root (removed afterwards),
 * images built from tars in memory and put into a registry, a store check (every blob re-hashes
 * to its name, every row has its file), and an OCI bundle made from an image's rootfs mounts.
 *
 *   const svc = await testService(t);
 *   const img = imageOf([await packTar([{ name: 'a', data: 'x' }])]);
 *   await putImage(reg, 'app', 'v1', img);
 *   await svc.pull(`${reg.host}/app:v1`);
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { gzipSync } from 'node:zlib';
import { staticCredentials } from '../../src/distribution/credentials.js';
import { createResolver } from '../../src/distribution/registry.js';
import { type ImageService, type ImageServiceOptions, openImageService } from '../../src/images/service.js';
import { MediaType } from '../../src/oci/image.js';
import { withMounted } from '../../src/snapshots/mount.js';
import { reproducibleTarArgs } from './image.js';
import { type Blob, blobOf, type TestImage, type TestRegistry, tarOf } from './registry.js';
import { sharedRootfs } from './rootfs.js';
import { hostSync } from './runtime.js';

export const HOST_ARCH = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch;

/** An ImageService on a fresh temporary root, closed and removed after the test. */
export async function testService(t: TestContext, options: Partial<ImageServiceOptions> = {}): Promise<ImageService> {
  const root = mkdtempSync(join(tmpdir(), 'berth-images-'));
  const svc = await openImageService({ root, ...options });
  t.after(async () => {
    await svc[Symbol.asyncDispose]();
    rmSync(root, { recursive: true, force: true });
  });
  return svc;
}

/** Registry options for a test registry: its users' credentials, plain HTTP on loopback. */
export function registryOptions(reg: TestRegistry) {
  const [username, password] = Object.entries(reg.users)[0] ?? [];
  return username === undefined ? {} : { credentials: staticCredentials({ username, password: password! }) };
}

const desc = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.size });

type LayerCompression = 'gzip' | 'zstd' | 'none';

function compress(tar: Buffer, c: LayerCompression): Buffer {
  if (c === 'gzip') return gzipSync(tar);
  if (c === 'none') return tar;
  const r = spawnSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`zstd: ${r.stderr}`);
  return r.stdout;
}

/** An OCI image of the given layer tars (gzip-compressed unless told; one compression, or one per layer), with a config the test may extend. */
export function imageOf(
  tars: Buffer[],
  opts: {
    compression?: LayerCompression | LayerCompression[];
    config?: Record<string, unknown>;
    architecture?: string;
    docker?: boolean;
  } = {},
): TestImage {
  const comp = (i: number): LayerCompression =>
    Array.isArray(opts.compression) ? (opts.compression[i] ?? 'gzip') : (opts.compression ?? 'gzip');
  const layerType = (c: LayerCompression) =>
    opts.docker
      ? MediaType.dockerLayerGzip
      : c === 'gzip'
        ? MediaType.ociLayerGzip
        : c === 'zstd'
          ? MediaType.ociLayerZstd
          : MediaType.ociLayer;
  const layers = tars.map((t, i) => blobOf(layerType(comp(i)), compress(t, comp(i))));
  const diffIds = tars.map((t) => `sha256:${createHash('sha256').update(t).digest('hex')}`);
  const config = blobOf(
    opts.docker ? MediaType.dockerConfig : MediaType.ociConfig,
    Buffer.from(
      JSON.stringify({
        architecture: opts.architecture ?? HOST_ARCH,
        os: 'linux',
        config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
        rootfs: { type: 'layers', diff_ids: diffIds },
        history: diffIds.map(() => ({ created_by: 'berth test' })),
        ...opts.config,
      }),
    ),
  );
  const mediaType = opts.docker ? MediaType.dockerManifest : MediaType.ociManifest;
  const manifest = blobOf(
    mediaType,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, config: desc(config), layers: layers.map(desc) })),
  );
  return { manifest, config, layers };
}

/** An index of `images` (each entry's platform from its config). */
export function indexOf(images: TestImage[]): Blob {
  const manifests = images.map((i) => {
    const c = JSON.parse(i.config.bytes.toString()) as { architecture: string; os: string; variant?: string };
    return { ...desc(i.manifest), platform: { architecture: c.architecture, os: c.os, ...(c.variant ? { variant: c.variant } : {}) } };
  });
  return blobOf(MediaType.ociIndex, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })));
}

/** Uploads the blobs and manifest(s) with the registry client; `index` goes under the tag when given. */
export async function putImage(reg: TestRegistry, repo: string, tag: string, images: TestImage[], index?: Blob): Promise<void> {
  const resolver = createResolver(registryOptions(reg));
  const ref = { domain: reg.host, path: repo, tag };
  const pusher = resolver.pusher(ref);
  for (const img of images) {
    for (const b of [...img.layers, img.config]) await pusher.pushBlob(desc(b), (offset) => Readable.from([b.bytes.subarray(offset)]));
    await pusher.pushManifest(desc(img.manifest), img.manifest.bytes, index ? undefined : tag);
  }
  if (index) await pusher.pushManifest(desc(index), index.bytes, tag);
}

/**
 * `tar` with one more regular file at its end: the members are walked by their headers up to the
 * end-of-archive blocks, which the appended member's own replace. A layer of its own for each
 * image that must share nothing with another.
 */
export function tarWithFile(tar: Buffer, name: string, content: string): Buffer {
  let off = 0;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = Number.parseInt(h.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0', 8);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return Buffer.concat([tar.subarray(0, off), tarOf({ [name]: content })]);
}

/** A tar of the test rootfs (busybox with applet symlinks, the probe, /etc files), deterministic. */
export function busyboxTar(dir: string): Buffer {
  const { dir: rootfs } = sharedRootfs();
  const out = join(dir, 'rootfs.tar');
  const r = hostSync(['tar', ...reproducibleTarArgs(rootfs, out)]);
  if (r.code !== 0) throw new Error(`tar: ${r.stderr}`);
  const bytes = readFileSync(out);
  rmSync(out);
  return bytes;
}

export interface Fsck {
  blobs: number;
  /** blobs whose content does not hash to their name */
  corrupt: string[];
  /** content rows without a file */
  missing: string[];
  /** blob files without a row */
  orphanFiles: string[];
  /** snapshots (key kind) in the snapshotter */
  snapshots: string[];
  /** ingest directories */
  ingests: number;
  leases: number;
}

/** Re-hashes every blob and lists what is in the store. */
export async function fsck(svc: ImageService): Promise<Fsck> {
  const rows = svc.db.prepare('SELECT digest FROM content').pluck().all() as string[];
  const dir = svc.content.blobsDir;
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^[0-9a-f]{64}$/.test(f)) : [];
  const out: Fsck = { blobs: files.length, corrupt: [], missing: [], orphanFiles: [], snapshots: [], ingests: 0, leases: 0 };
  for (const f of files) {
    const h = createHash('sha256');
    for await (const c of createReadStream(join(dir, f))) h.update(c as Buffer);
    if (h.digest('hex') !== f) out.corrupt.push(f);
    if (!rows.includes(`sha256:${f}`)) out.orphanFiles.push(f);
  }
  for (const r of rows) if (!files.includes(r.slice(7))) out.missing.push(r);
  await svc.snapshotter.walk((i) => {
    out.snapshots.push(`${i.name} ${i.kind}`);
  });
  out.ingests = existsSync(svc.content.ingestDir) ? readdirSync(svc.content.ingestDir).length : 0;
  out.leases = svc.deps.leases.list().length;
  return out;
}

/**
 * An OCI bundle on `key`'s rootfs: the snapshot's mounts mounted on a private temp dir as
 * `<bundle>/rootfs` for the duration of `fn`, with `config` as config.json.
 */
export async function withBundle<T>(
  svc: ImageService,
  image: string,
  key: string,
  config: (rootfs: string) => object,
  fn: (bundle: string) => Promise<T>,
): Promise<T> {
  const mounts = await svc.rootfs(image, key);
  const bundle = mkdtempSync(join(tmpdir(), 'berth-bundle-'));
  try {
    return await withMounted(mounts, async (dir) => {
      mkdirSync(join(bundle, 'rootfs'));
      hostSync(['mount', '--bind', dir, join(bundle, 'rootfs')]);
      try {
        writeFileSync(join(bundle, 'config.json'), JSON.stringify(config(join(bundle, 'rootfs'))));
        return await fn(bundle);
      } finally {
        hostSync(['umount', join(bundle, 'rootfs')]);
      }
    });
  } finally {
    rmSync(bundle, { recursive: true, force: true });
    await svc.snapshotter.remove(key).catch(() => {});
  }
}
