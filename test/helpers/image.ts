/**
 * A test image built without a registry: the busybox test rootfs (rootfs.ts) as one
 * uncompressed layer, written as a docker-archive tar (`docker save`'s format: manifest.json,
 * <config>.json, <layer>/layer.tar). `docker load` and `ctr image import` both read it.
 *
 *   const tar = buildImageArchive(dir, { tag: 'berth-test/busybox:latest' });
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedRootfs } from './rootfs.js';
import { hostSync } from './runtime.js';

/** GNU tar arguments that archive `dir` into `out` byte-for-byte reproducibly (owners 0, mtimes 0, sorted, PAX). */
export function reproducibleTarArgs(dir: string, out: string): string[] {
  return [
    '--create',
    '--file',
    out,
    '--directory',
    dir,
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '--sort=name',
    '--mtime=@0',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '.',
  ];
}

export interface ImageOptions {
  /** The repo:tag recorded in the archive (e.g. `berth-test/busybox:latest`). */
  tag: string;
  /** The image's default command (default `['sh']`). */
  cmd?: string[];
}

export interface ImageArchive {
  /** The tar file to load or import. */
  tar: string;
  /** `sha256:<hex>` of the image config (docker's image id). */
  configDigest: string;
  /** `sha256:<hex>` of the uncompressed layer (the rootfs diff id). */
  diffId: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

function tar(args: string[]): void {
  const r = hostSync(['tar', ...args]);
  if (r.code !== 0) throw new Error(`tar ${args.join(' ')}: ${r.stderr.trim()}`);
}

/**
 * Writes `<dir>/image.tar` (working files under `<dir>/image/`, removed afterwards). Files in the
 * layer belong to root, with fixed timestamps, so the digests do not depend on the host.
 */
export function buildImageArchive(dir: string, opts: ImageOptions): ImageArchive {
  const { dir: rootfs } = sharedRootfs();
  const work = join(dir, 'image');
  mkdirSync(work, { recursive: true });
  const layerTar = join(work, 'layer.tar');
  tar(reproducibleTarArgs(rootfs, layerTar));
  const diffHex = sha256(readFileSync(layerTar));
  const config = {
    architecture: process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch,
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: opts.cmd ?? ['sh'],
      WorkingDir: '/',
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffHex}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'berth test/helpers/image.ts: busybox rootfs' }],
  };
  const configText = JSON.stringify(config);
  const configHex = sha256(configText);
  mkdirSync(join(work, diffHex));
  renameSync(layerTar, join(work, diffHex, 'layer.tar'));
  writeFileSync(join(work, diffHex, 'VERSION'), '1.0');
  writeFileSync(join(work, `${configHex}.json`), configText);
  writeFileSync(
    join(work, 'manifest.json'),
    JSON.stringify([{ Config: `${configHex}.json`, RepoTags: [opts.tag], Layers: [`${diffHex}/layer.tar`] }]),
  );
  const [repo, tag] = splitTag(opts.tag);
  writeFileSync(join(work, 'repositories'), JSON.stringify({ [repo]: { [tag]: diffHex } }));
  const out = join(dir, 'image.tar');
  // Entries named without a leading './', as `docker save` writes them.
  const entries = ['manifest.json', 'repositories', `${configHex}.json`, diffHex, `${diffHex}/VERSION`, `${diffHex}/layer.tar`];
  tar(['--create', '--file', out, '--directory', work, '--numeric-owner', '--owner=0', '--group=0', '--no-recursion', ...entries]);
  rmSync(work, { recursive: true, force: true });
  return { tar: out, configDigest: `sha256:${configHex}`, diffId: `sha256:${diffHex}` };
}

function splitTag(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}
